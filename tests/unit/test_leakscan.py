"""The leak scanner finds planted personal values however an output path reformatted them, and nothing else."""

from __future__ import annotations

import json

import pytest
from hypothesis import given
from hypothesis import strategies as st

from coalition.leakscan import (
    LeakScanner,
    date_variants,
    mask,
    normalize,
    phone_digits,
    report,
    scan,
)

VALUES = [
    "Quennell Ashbury-Voss",
    "(713) 555-0142",
    "maria.calderuz@example.org",
    "Lữ Quang Duệ",
    "أحتاج تصريح عمل لأعيل أسرتي",
    "8/5/2026",
    "Raleigh",
]


@pytest.fixture(scope="module")
def scanner() -> LeakScanner:
    return LeakScanner(VALUES)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("New referral for Quennell Ashbury-Voss in Harris", "Quennell Ashbury-Voss"),
        ("QUENNELL ASHBURY-VOSS", "Quennell Ashbury-Voss"),
        ("Quennell   Ashbury-Voss", "Quennell Ashbury-Voss"),  # whitespace runs
        ("Quen\u200bnell Ashbury-Voss", "Quennell Ashbury-Voss"),  # zero-width space
        ("call 713-555-0142 today", "(713) 555-0142"),
        ("phone=+17135550142", "(713) 555-0142"),
        ("tel 713.555.0142", "(713) 555-0142"),
        (
            "<mailto:maria.calderuz@example.org|maria.calderuz@example.org>",
            "maria.calderuz@example.org",
        ),
        ('{"name": "L\\u1eef Quang Du\\u1ec7"}', "Lữ Quang Duệ"),  # JSON ensure_ascii
        ("Lu\u031b\u0303 Quang Duệ", "Lữ Quang Duệ"),  # decomposed accents (NFD)
        ("notes: أحتاج تصريح عمل لأعيل أسرتي", "أحتاج تصريح عمل لأعيل أسرتي"),
        ("court 2026-08-05 at 9am", "8/5/2026"),
        ("hearing 08/05/2026", "8/5/2026"),
        ("lives in raleigh", "Raleigh"),
        ("Tom &amp; Quennell Ashbury-Voss", "Quennell Ashbury-Voss"),  # HTML entities
    ],
)
def test_a_planted_value_is_found_in_any_spelling(
    scanner: LeakScanner, text: str, expected: str
) -> None:
    leaks = scanner.scan("slack:C1/1", text)
    assert [leak.value for leak in leaks] == [expected]
    assert leaks[0].source == "slack:C1/1"


@pytest.mark.parametrize(
    "text",
    [
        "Referral RF-7Q2K for a case in Harris County, Spanish",
        "Raleighton Street",  # a value only as part of a longer word
        "ts 1713555014.123456 thread",  # Slack timestamps are not phones
        "week of 2026-08-04",
        "18/5/2026 and 8/5/20261",
        "7135550142999",  # more digits than a phone
        "",
    ],
)
def test_clean_text_finds_nothing(scanner: LeakScanner, text: str) -> None:
    assert scanner.scan("log", text) == []


def test_short_and_small_number_values_are_ignored() -> None:
    scanner = LeakScanner(["Ana", "Yes", "2", "4512", ""])
    assert scanner.size == 0
    assert scanner.scan("doc", "Ana said Yes to 2 of 4512") == []


def test_each_value_reported_once_per_source_and_sources_kept_apart() -> None:
    texts = [("a", "Raleigh, Raleigh"), ("b", "RALEIGH"), ("c", "nothing")]
    leaks = scan(texts, ["Raleigh"])
    assert [leak.source for leak in leaks] == ["a", "b"]


def test_the_report_and_repr_never_show_the_value() -> None:
    (leak,) = scan([("slack:C9/2", "for Quennell Ashbury-Voss")], VALUES)
    assert "Quennell" not in repr(leak) and "Quennell" not in str(leak)
    message = report([leak])
    assert "Quennell" not in message and "slack:C9/2" in message and mask(leak.value) in message


def test_helpers() -> None:
    assert phone_digits("+1 (713) 555-0142") == "7135550142"
    assert phone_digits("555-0142") is None
    assert phone_digits("Route 66 7135550142") is None
    assert date_variants("8/5/2026") == ["2026-08-05", "08/05/2026"]
    assert date_variants("13/45/2026") == []
    assert normalize("  A\u00a0&amp;\tB ") == "a & b"


@given(
    prefix=st.text(alphabet=st.characters(blacklist_categories=("Cs",)), max_size=40),
    suffix=st.text(alphabet=st.characters(blacklist_categories=("Cs",)), max_size=40),
)
def test_a_value_between_any_separators_is_found(prefix: str, suffix: str) -> None:
    text = f"{prefix} maria.calderuz@example.org {suffix}"
    values = {leak.value for leak in scan([("x", text)], ["maria.calderuz@example.org"])}
    assert values == {"maria.calderuz@example.org"}


@given(
    name=st.text(
        alphabet=st.characters(whitelist_categories=("Lu", "Ll", "Lo")), min_size=4, max_size=20
    )
)
def test_any_name_in_any_script_is_found_inside_json(name: str) -> None:
    blob = json.dumps({"blocks": [{"text": f"case of {name}."}]}, ensure_ascii=True)
    assert [leak.value for leak in scan([("artifact", blob)], [name])] == [name]


def test_values_that_are_also_public_data_are_skipped_and_counted() -> None:
    scanner = LeakScanner(
        ["8/5/2026", "Quennell Ashbury-Voss"], public=["2026-08-05", "Harris County"]
    )
    assert scanner.scan("ledger bills", "hearing 2026-08-05 and 8/5/2026") == []
    assert scanner.skipped_public == {"8/5/2026"}
    assert [leak.value for leak in scanner.scan("x", "Quennell Ashbury-Voss")] == [
        "Quennell Ashbury-Voss"
    ]
