"""Roster normalization: text, phones, emails, states, canonical lists, and records that are not what they should be."""

from __future__ import annotations

import unicodedata
from datetime import date

import pytest
from hypothesis import given
from hypothesis import strategies as st

from coalition.roster.models import Code
from coalition.roster.normalize import (
    canonical_lookup,
    clean_name,
    clean_text,
    contact_from_record,
    linked_ids,
    map_canonical,
    member_from_record,
    normalize_email,
    normalize_phone,
    normalize_state,
    parse_bool,
    parse_date,
    parse_int,
)
from coalition.settings import RosterConfig, load_settings

ROSTER: RosterConfig = load_settings().roster
SERVICES = canonical_lookup(ROSTER.canonical_services, {})
LANGUAGES = canonical_lookup(ROSTER.canonical_languages, ROSTER.language_aliases)


# ---------------------------------------------------------------- text
def test_clean_text_is_nfc_and_trimmed() -> None:
    decomposed = "Jose\u0301 Marti\u0301"
    assert clean_text(f"  {decomposed}\t") == "José Martí"
    assert unicodedata.is_normalized("NFC", clean_text(decomposed))


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        (None, ""),
        (12345, "12345"),
        (12.0, "12"),
        (["a", " b ", ""], "a, b"),
        ("zero\u200bwidth", "zerowidth"),
        ("line\nbreak", "line\nbreak"),
        ("🌎 Casa 🌵", "🌎 Casa 🌵"),
        ("مركز العدالة", "مركز العدالة"),
    ],
)
def test_clean_text_cases(raw: object, expected: str) -> None:
    assert clean_text(raw) == expected


def test_long_text_is_cut() -> None:
    text = clean_text("x" * 10_000)
    assert len(text) == 500 and text.endswith("…")


def test_clean_name_is_one_line() -> None:
    assert clean_name("  Centro\n  Legal \r\n ") == "Centro Legal"


@given(st.text(max_size=300))
def test_clean_text_never_fails_and_is_stable(text: str) -> None:
    once = clean_text(text)
    assert clean_text(once) == once
    assert once == once.strip()


# ---------------------------------------------------------------- phones and emails
@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("(617) 555-0134", "+16175550134"),
        ("617.555.0134", "+16175550134"),
        ("+1 212 555 0199", "+12125550199"),
        (6175550134, "+16175550134"),
        ("+52 55 1234 5678", "+525512345678"),
    ],
)
def test_phones_become_e164(raw: object, expected: str) -> None:
    assert normalize_phone(raw) == (expected, True)


@pytest.mark.parametrize("raw", ["555-01", "12345", "call me", "+1 000 000 0000", "٠٠٠"])
def test_bad_phones_are_flagged(raw: str) -> None:
    assert normalize_phone(raw) == (None, False)


@pytest.mark.parametrize("raw", [None, "", "   "])
def test_empty_phone_is_not_a_problem(raw: object) -> None:
    assert normalize_phone(raw) == (None, True)


@given(st.text(max_size=40))
def test_phone_never_raises(raw: str) -> None:
    value, ok = normalize_phone(raw)
    assert value is None or (ok and value.startswith("+"))


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        (" Ana.Ruiz@Example.ORG ", "Ana.Ruiz@example.org"),
        ("ñandú@ejemplo.org", "ñandú@ejemplo.org"),
    ],
)
def test_emails_normalized(raw: str, expected: str) -> None:
    assert normalize_email(raw) == (expected, True)


@pytest.mark.parametrize("raw", ["a@b", "bad@@x.org", "no at sign", "x@exa mple.org"])
def test_bad_emails_flagged(raw: str) -> None:
    assert normalize_email(raw) == (None, False)


# ---------------------------------------------------------------- states and lists
@pytest.mark.parametrize(
    ("raw", "code"),
    [
        ("MA", "MA"),
        ("ma", "MA"),
        ("Massachusetts", "MA"),
        (" new  york ", "NY"),
        ("D.C.", "DC"),
        ("Washington, DC", "DC"),
        ("Puerto Rico", "PR"),
    ],
)
def test_states_to_usps(raw: str, code: str) -> None:
    assert normalize_state(raw) == (code, True)


@pytest.mark.parametrize("raw", ["Mass", "XX", "12", "Ontario"])
def test_unknown_states(raw: str) -> None:
    assert normalize_state(raw) == (None, False)


def test_languages_and_aliases() -> None:
    matched, unknown = map_canonical(
        ["español", "SPANISH", "Kreyòl", "العربية", "Klingon", "k'iche'"], LANGUAGES
    )
    assert matched == ["Spanish", "Haitian Creole", "Arabic", "K'iche'"]
    assert unknown == ["Klingon"]


def test_services_tolerate_case_and_punctuation() -> None:
    matched, unknown = map_canonical("Removal Defense; u-visa, DACA, legal advice", SERVICES)
    assert matched == ["removal defense", "U visa", "DACA"]
    assert unknown == ["legal advice"]


# ---------------------------------------------------------------- numbers, dates, links
@pytest.mark.parametrize(
    ("raw", "expected"),
    [(12, (12, True)), ("12", (12, True)), ("200%", (200, True)), ("1,000", (1000, True)),
     (None, (None, True)), ("ten", (None, False)), (True, (None, False)), ("nan", (None, False))],
)  # fmt: skip
def test_parse_int(raw: object, expected: tuple) -> None:
    assert parse_int(raw) == expected


def test_parse_date() -> None:
    assert parse_date("2026-03-01") == (date(2026, 3, 1), True)
    assert parse_date("2026-03-01T10:00:00.000Z") == (date(2026, 3, 1), True)
    assert parse_date("March 1, 2026") == (date(2026, 3, 1), True)
    assert parse_date("someday") == (None, False)


def test_parse_bool() -> None:
    assert parse_bool(True) and parse_bool("yes") and parse_bool(1)
    assert not parse_bool(None) and not parse_bool("no") and not parse_bool("")


def test_linked_ids_keep_record_ids_only() -> None:
    assert linked_ids(["recAAAAAAAAAAAAAA", "Some name", "recAAAAAAAAAAAAAA", 5]) == [
        "recAAAAAAAAAAAAAA"
    ]
    assert linked_ids(None) == []


# ---------------------------------------------------------------- records
def _member(fields: dict) -> object:
    return member_from_record({"id": "recM0000000000001", "fields": fields}, SERVICES, LANGUAGES)


def test_member_record_normalized() -> None:
    member = _member(
        {
            "Name": "  Centro Legal  ",
            "State": "Texas",
            "Services": ["asylum", "Know Your Rights"],
            "Languages": ["Español"],
            "Accepting referrals": True,
            "Weekly capacity": "6",
            "Income limit": 200,
            "Accreditation": "Fully Accredited",
            "Referral channel": "#partner-centro",
            "Dues paid through": "2026-12-31",
            "Data issues": "• old\n",
        }
    )
    assert member.name == "Centro Legal"
    assert member.state == "TX"
    assert member.services == ["asylum", "know your rights"]
    assert member.languages == ["Spanish"]
    assert member.capacity == 6 and member.income_limit == 200
    assert member.accreditation == "fully accredited"
    assert member.referral_channel == "partner-centro"
    assert member.dues_paid_through == date(2026, 12, 31)
    assert member.data_issues == "• old"
    assert member.offers_legal_services
    assert member.problems == []


SHEET_ID = "1AbCdEfGhIjKlMnOpQrStUvWxYz0123456789-_AbCd"


@pytest.mark.parametrize(
    ("sheet", "channel", "want_sheet", "want_channel"),
    [
        (
            f"https://docs.google.com/spreadsheets/d/{SHEET_ID}/edit?usp=sharing",
            "#casos",
            SHEET_ID,
            "casos",
        ),
        (
            f"https://docs.google.com/spreadsheets/u/0/d/{SHEET_ID}/edit#gid=42",
            "C0123ABCDE",
            f"{SHEET_ID}#gid=42",
            "C0123ABCDE",
        ),
        (SHEET_ID, "<#C0123ABCDE|casos>", SHEET_ID, "C0123ABCDE"),
        (
            "Casos de Centro Legal",
            "https://centro.slack.com/archives/C0123ABCDE",
            "Casos de Centro Legal",
            "C0123ABCDE",
        ),
    ],
)
def test_referral_references_as_staff_type_them(sheet, channel, want_sheet, want_channel) -> None:
    member = _member({"Name": "Centro", "Referral sheet": sheet, "Referral channel": channel})
    assert (member.referral_sheet, member.referral_channel) == (want_sheet, want_channel)
    assert member.problems == []


def test_a_reference_that_names_nothing_is_a_finding_naming_the_field() -> None:
    member = _member(
        {
            "Name": "Centro",
            "Referral sheet": "https://docs.google.com/document/d/" + SHEET_ID + "/edit",
            "Referral channel": "casos centro legal",
        }
    )
    assert member.referral_sheet is None and member.referral_channel is None
    texts = sorted(p.text for p in member.problems)
    assert [p.code for p in member.problems] == [Code.INVALID_REFERENCE] * 2
    assert texts[0].startswith("Referral channel not understood")
    assert texts[1].startswith("Referral sheet not understood (a link to a Google Doc)")


def test_member_with_bad_values_is_kept_and_flagged() -> None:
    member = _member(
        {
            "Name": 4242,
            "State": "Atlantis",
            "Weekly capacity": "lots",
            "Accreditation": "wizard",
            "Services": ["juggling"],
        }
    )
    codes = sorted(f.code for f in member.problems)
    assert member.name == "4242"
    assert codes == sorted(
        [Code.UNKNOWN_STATE, Code.INVALID_VALUE, Code.INVALID_VALUE, Code.UNKNOWN_SERVICE]
    )
    assert member.accreditation == "none" and member.capacity is None
    assert not member.offers_legal_services


def test_member_without_name() -> None:
    member = _member({"State": "MA"})
    assert member.name == ""
    assert member.problems == []  # a missing name is a quality finding, see test_roster_quality


def test_contact_record() -> None:
    contact = contact_from_record(
        {
            "id": "recC0000000000001",
            "fields": {
                "Name": "Ana Ruiz",
                "Email": "ANA@Example.org",
                "Phone": "617-555-0134",
                "Organization": ["recM0000000000001"],
                "Role": "Intake coordinator",
                "Primary contact": True,
            },
        }
    )
    assert contact.email == "ANA@example.org" and contact.phone == "+16175550134"
    assert contact.member_ids == ["recM0000000000001"]
    assert contact.is_primary and contact.problems == []


def test_primary_contact_checkbox_or_role() -> None:
    record = {"id": "recC0000000000003", "fields": {"Name": "B", "Role": "Primary contact"}}
    assert not contact_from_record(record).is_primary  # unchecked boxes are left out
    assert contact_from_record(record, has_primary_field=False).is_primary


def test_contact_with_bad_email_and_phone() -> None:
    contact = contact_from_record(
        {"id": "recC0000000000002", "fields": {"Email": "nope", "Phone": "12"}}
    )
    assert sorted(f.code for f in contact.problems) == sorted(
        [Code.INVALID_EMAIL, Code.INVALID_PHONE]
    )


@given(
    st.dictionaries(
        st.sampled_from(["Name", "State", "Services", "Languages", "Weekly capacity", "Dues paid through", "Accepting referrals"]),
        st.one_of(st.none(), st.text(max_size=30), st.integers(), st.floats(allow_nan=True), st.lists(st.text(max_size=10), max_size=4), st.booleans()),
    )
)  # fmt: skip
def test_any_member_record_normalizes_without_error(fields: dict) -> None:
    member = _member(fields)
    assert isinstance(member.name, str)


@pytest.mark.parametrize(
    ("typed", "kept"),
    [("U0DEMOPTN01", "U0DEMOPTN01"), (" w0123abcd9 ", "W0123ABCD9"), ("@ana.ruiz", None),
     ("Ana Ruiz", None), ("ana@example.org", None)],
)  # fmt: skip
def test_only_a_slack_member_id_is_kept_from_the_slack_user_field(
    typed: str, kept: str | None
) -> None:
    contact = contact_from_record(
        {"id": "recC0000000000002", "fields": {"Name": "Ana", "Slack user": typed}}
    )
    assert contact.slack_user == kept
    assert bool(contact.problems) is (kept is None)
