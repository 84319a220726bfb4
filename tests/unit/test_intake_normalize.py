"""Normalising what people type: phones, emails, dates, income, household, languages, places, yes/no."""

from __future__ import annotations

from datetime import date

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from coalition.intake.normalize import (
    clean_text,
    county_key,
    fold,
    normalize_county,
    normalize_email,
    normalize_languages,
    normalize_phone,
    normalize_state,
    parse_date,
    parse_household,
    parse_income,
    parse_timestamp,
    parse_yes_no,
)

TODAY = date(2026, 3, 1)


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("713-555-0142", "+17135550142"),
        ("(713) 555-0142", "+17135550142"),
        ("713.555.0142", "+17135550142"),
        ("+1 713 555 0142", "+17135550142"),
        ("1-713-555-0142", "+17135550142"),
        ("tel: 713 555 0142", "+17135550142"),
        ("٧١٣٥٥٥٠١٤٢", "+17135550142"),  # Arabic-Indic digits
        ("+52 55 1234 5678", "+525512345678"),
        ("0052 55 1234 5678", "+525512345678"),
        ("555-1234", None),  # no area code
        ("12", None),
        ("call me", None),
        ("", None),
        ("=IMPORTXML(1)", None),
        ("<!channel>", None),
    ],
)
def test_phones_become_e164_or_none(raw: str, expected: str | None) -> None:
    assert normalize_phone(raw) == expected


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("maria@Example.ORG", "maria@example.org"),
        (" mailto:ana@example.org ", "ana@example.org"),
        ("<ana@example.org>", "ana@example.org"),
        ("ana@", None),
        ("ana at example dot org", None),
        ("two@example.org three@example.org", None),
        ("", None),
    ],
)
def test_emails(raw: str, expected: str | None) -> None:
    assert normalize_email(raw) == expected


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("2026-03-14", date(2026, 3, 14)),
        ("03/14/2026", date(2026, 3, 14)),
        ("3/14/26", date(2026, 3, 14)),
        ("14/03/2026", date(2026, 3, 14)),  # day first when the first part cannot be a month
        ("03/04/2026", date(2026, 3, 4)),  # ambiguous: US forms write month first
        ("March 14, 2026", date(2026, 3, 14)),
        ("14 de marzo de 2026", date(2026, 3, 14)),
        ("14 mars 2026", date(2026, 3, 14)),
        ("١٤/٠٣/٢٠٢٦", date(2026, 3, 14)),
        ("2026-02-30", None),
        ("2/30/2026", None),
        ("13/13/2026", None),
        ("31/04/2026", None),
        ("0/0/0", None),
        ("next tuesday", None),
        ("99999999999", None),
        ("", None),
    ],
)
def test_dates_in_several_formats_and_impossible_ones(raw: str, expected: date | None) -> None:
    assert parse_date(raw, TODAY) == expected


@pytest.mark.parametrize(
    ("raw", "monthly", "warning"),
    [
        ("$1,800/mo", 1800.0, None),
        ("1800", 1800.0, None),
        ("about 2k", 2000.0, None),
        ("$2,000 per month", 2000.0, None),
        ("$24,000/year", 2000.0, None),
        ("24000 al año", 2000.0, None),
        ("500 a la semana", round(500 * 52 / 12, 2), None),
        ("$15/hr", 2600.0, None),
        ("1.800", 1800.0, None),
        ("1,800.50", 1800.5, None),
        ("1500-2000", 1750.0, None),
        ("none", 0.0, None),
        ("ninguno", 0.0, None),
        ("لا يوجد", 0.0, None),
        ("0", 0.0, None),
        ("30000", 2500.0, "income_assumed_yearly"),
        ("-500", None, "income_unreadable"),
        ("depends on the month", None, "income_unreadable"),
        ("", None, None),
    ],
)
def test_income_as_written(raw: str, monthly: float | None, warning: str | None) -> None:
    assert parse_income(raw) == (monthly, warning)


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("4", 4), ("4 people", 4), ("four", 4), ("cuatro", 4), ("solo yo", 1),
        ("me and 2 kids", 3), ("0", None), ("999", None), ("-3", 3), ("lots", None), ("", None),
    ],
)  # fmt: skip
def test_household_size(raw: str, expected: int | None) -> None:
    assert parse_household(raw) == expected


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("Español", ("Spanish",)),
        ("espanol", ("Spanish",)),
        ("arabic", ("Arabic",)),
        ("العربية", ("Arabic",)),
        ("عربي", ("Arabic",)),
        ("Kreyòl", ("Haitian Creole",)),
        ("kreyol", ("Haitian Creole",)),
        ("Tiếng Việt", ("Vietnamese",)),
        ("中文", ("Chinese",)),
        ("K’iche’", ("K'iche'",)),
        ("Spanish and English", ("Spanish", "English")),
        ("Español / English", ("Spanish", "English")),
        ("Wolof", ()),
        ("", ()),
    ],
)
def test_languages_as_people_write_them(raw: str, expected: tuple[str, ...]) -> None:
    assert normalize_languages(raw) == expected


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("TX", "TX"), ("tx.", "TX"), ("Texas", "TX"), ("Tejas", "TX"), ("new york", "NY"),
        ("Washington, D.C.", "DC"), ("Nueva York", "NY"), ("Mexico", None), ("", None), ("XX", None),
    ],
)  # fmt: skip
def test_states(raw: str, expected: str | None) -> None:
    assert normalize_state(raw) == expected


@pytest.mark.parametrize(
    ("raw", "name", "key"),
    [
        ("harris co.", "Harris County", "harris"),
        ("Harris County", "Harris County", "harris"),
        ("Condado de Harris", "Harris County", "harris"),
        ("Miami-Dade", "Miami-Dade County", "miami-dade"),
        ("Orleans Parish", "Orleans Parish", "orleans"),
        ("St. Louis", "Saint Louis County", "saint louis"),
    ],
)
def test_counties(raw: str, name: str, key: str) -> None:
    assert normalize_county(raw) == name
    assert county_key(raw) == key


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("Yes", True), ("Sí", True), ("si", True), ("wi", True), ("نعم", True), ("x", True),
        ("Sí, acepto", True), ("No", False), ("No, gracias", False), ("non", False), ("", None),
        ("maybe", None),
    ],
)  # fmt: skip
def test_yes_no(raw: str, expected: bool | None) -> None:
    assert parse_yes_no(raw) is expected


def test_clean_text_strips_invisible_and_control_characters_and_caps_length() -> None:
    assert clean_text("\u202eabc\u202e\x00 ") == "abc"
    long = clean_text("x" * 50_000)
    assert len(long) == 5_000 and long.endswith("…")


def test_timestamps() -> None:
    assert parse_timestamp("3/14/2026 10:22:01").isoformat() == "2026-03-14T10:22:01"
    assert parse_timestamp("not a time") is None


def test_fold_ignores_case_accents_and_arabic_diacritics() -> None:
    assert fold("ÉSPAÑOL") == "espanol"
    assert fold("أَحمد") == fold("احمد")


# ---------------------------------------------------------------- open-ended input never raises
any_text = st.text(max_size=300)


@settings(max_examples=300, deadline=None)
@given(any_text)
def test_parsers_are_total(text: str) -> None:
    phone = normalize_phone(text)
    assert phone is None or phone.startswith("+")
    assert normalize_email(text) is None or "@" in normalize_email(text)
    day = parse_date(text, TODAY)
    assert day is None or 1900 <= day.year <= TODAY.year + 30
    monthly, _ = parse_income(text)
    assert monthly is None or 0 <= monthly <= 1_000_000
    size = parse_household(text)
    assert size is None or 1 <= size <= 30
    assert normalize_state(text) is None or len(normalize_state(text)) == 2
    normalize_county(text)
    normalize_languages(text)
    parse_yes_no(text)
    parse_timestamp(text)


@settings(max_examples=200, deadline=None)
@given(st.from_regex(r"\(?[2-9][0-8][0-9]\)?[ .-]?[2-9][0-9]{2}[ .-]?[0-9]{4}", fullmatch=True))
def test_us_numbers_in_any_punctuation_normalise_to_the_same_digits(raw: str) -> None:
    phone = normalize_phone(raw)
    digits = "".join(c for c in raw if c.isdigit())
    assert phone is None or phone == "+1" + digits


@settings(max_examples=200, deadline=None)
@given(st.dates(min_value=date(1950, 1, 1), max_value=date(2035, 12, 31)))
def test_dates_round_trip_in_iso_and_us_forms(day: date) -> None:
    assert parse_date(day.isoformat(), TODAY) == day
    assert parse_date(f"{day.month}/{day.day}/{day.year}", TODAY) == day
    assert parse_date(day.strftime("%B %d, %Y"), TODAY) == day


@settings(max_examples=200, deadline=None)
@given(st.integers(min_value=0, max_value=14_999))
def test_income_figures_in_dollar_forms(amount: int) -> None:
    assert parse_income(f"${amount:,}")[0] == amount
    assert parse_income(f"{amount}/month")[0] == amount
    assert parse_income(f"{amount * 12} per year")[0] == pytest.approx(amount)


_WORDS = ["Cantonese", "español", "Mandarin", "KREYÒL", "English", "call me", "555 0142", "only"]


@given(
    st.lists(st.sampled_from(_WORDS) | st.text(max_size=12), max_size=5),
    st.sampled_from([", ", " / ", " and ", " "]),
)
def test_languages_as_given_align_with_matching_and_show_only_known_words(
    parts: list[str], sep: str
) -> None:
    """What a partner reads is one known language word per matched language, never other text."""
    from coalition.intake.normalize import fold, language_aliases, languages_as_given

    text = sep.join(parts)
    table = language_aliases()
    canonical = normalize_languages(text)
    given = languages_as_given(text)
    assert len(given) == len(canonical)
    for word, name in zip(given, canonical, strict=True):
        assert word == name or table.get(fold(word)) == name
