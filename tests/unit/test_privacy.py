"""The privacy guard: every detector catches a planted leak, and what the bot legitimately posts passes."""

from __future__ import annotations

import io
import logging
import threading
import unicodedata
from datetime import date

import phonenumbers
import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from coalition.privacy import (
    Finding,
    PIIError,
    PrivacyGuard,
    RedactingFilter,
    escape_mrkdwn,
    find_pii,
    guard,
    install_log_redaction,
    is_ignorable,
    redact,
    unescape_mrkdwn,
)

# ---------------------------------------------------------------- planted leaks, one table per kind
LEAKS = [
    # (text, the personal part, kind)
    ("Contact maria.lopez@example.org for details", "maria.lopez@example.org", "email"),
    ("email: JOSE+intake@Mail.Example.COM.", "JOSE+intake@Mail.Example.COM", "email"),
    ("<mailto:ana.r@example.org|write>", "ana.r@example.org", "email"),
    ("see https://forms.example.org/?email=ana%40example.org", "ana%40example.org", "email"),
    ("correo: señora.núñez@ejemplo.mx", "señora.núñez@ejemplo.mx", "email"),
    ("Call 555-123-4567 today", "555-123-4567", "phone"),
    ("Tel (555) 123-4567", "(555) 123-4567", "phone"),
    ("cell 555.123.4567", "555.123.4567", "phone"),
    ("phone 5551234567", "5551234567", "phone"),
    ("phone 1-555-123-4567", "1-555-123-4567", "phone"),
    ("phone +1 (202) 555-0143", "+1 (202) 555-0143", "phone"),
    ("local 555-0143 only", "555-0143", "phone"),
    ("Mexico +52 55 1234 5678", "+52 55 1234 5678", "phone"),
    ("Mexico old mobile +52 1 55 1234 5678", "+52 1 55 1234 5678", "phone"),
    ("E.164 +5215512345678", "+5215512345678", "phone"),
    ("El Salvador +503 7123 4567", "+503 7123 4567", "phone"),
    ("UK +44 20 7946 0958", "+44 20 7946 0958", "phone"),
    ("Guatemala +50221234567.", "+50221234567", "phone"),
    ("A-number 123456789", "123456789", "a_number"),
    ("A-Number: 123-456-789", "123-456-789", "a_number"),
    ("his A# is A 123 456 789", "A 123 456 789", "a_number"),
    ("A12345678 on the notice", "A12345678", "a_number"),
    ("A-123-456-789", "A-123-456-789", "a_number"),
    ("alien registration number 098765432", "098765432", "a_number"),
    ("número A: 12345678", "12345678", "a_number"),
    ("SSN 123-45-6789", "123-45-6789", "ssn"),
    ("ssn: 123456789", "123456789", "ssn"),
    ("social security number 123 45 6789", "123 45 6789", "ssn"),
    ("seguro social 123-45-6789", "123-45-6789", "ssn"),
    ("receipt IOE1234567890", "IOE1234567890", "receipt_number"),
    ("case EAC-2112345678 pending", "EAC-2112345678", "receipt_number"),
    ("wac 2190012345", "wac 2190012345", "receipt_number"),
    ("MSC2290123456.", "MSC2290123456", "receipt_number"),
    ("DOB 01/02/1990", "01/02/1990", "date_of_birth"),
    ("D.O.B.: 1990-03-04", "1990-03-04", "date_of_birth"),
    ("born on March 3, 1990", "March 3, 1990", "date_of_birth"),
    ("born in 1990", "1990", "date_of_birth"),
    ("date of birth 3 Mar 1990", "3 Mar 1990", "date_of_birth"),
    ("fecha de nacimiento: 3 de marzo de 1990", "3 de marzo de 1990", "date_of_birth"),
    ("nació el 12/31/85 en Oaxaca", "12/31/85", "date_of_birth"),
    ("1990-03-04 (birthday)", "1990-03-04", "date_of_birth"),
]


@pytest.mark.parametrize(("text", "secret", "kind"), LEAKS)
def test_each_detector_catches_a_planted_leak(text: str, secret: str, kind: str) -> None:
    findings = find_pii(text)
    start = text.index(secret)
    covering = [f for f in findings if f.start <= start and f.end >= start + len(secret)]
    assert covering, f"{kind} not found in {text!r}: {findings}"
    assert covering[0].kind == kind
    redacted = redact(text)
    assert secret not in redacted
    assert f"[redacted {kind}]" in redacted


@pytest.mark.parametrize(("text", "secret", "kind"), LEAKS)
def test_the_guard_refuses_and_never_repeats_the_value(text: str, secret: str, kind: str) -> None:
    with pytest.raises(PIIError) as caught:
        PrivacyGuard().check_text(text)
    assert kind in caught.value.kinds
    assert secret not in str(caught.value)


# ---------------------------------------------------------------- what the bot legitimately posts
LEGITIMATE = [
    "Slack ts 1764370000.000100",
    "thread_ts=1764370000.000100 and 1764370123.456789",
    "bare unix time 1764370000",
    "Referral R-2026-000123 sent to Casa Legal",
    "Referrals R-2026-000123, R-2026-999999 and R-2025-100200",
    "Intake IN-000123 routed; IN-123456 to triage",
    "Weekly summary 2026-W48",
    "Week of 2026-11-23 to 2026-11-29",
    "Week of Nov 23, 2026 – Nov 29, 2026",
    "Monday 2026-11-23, Tuesday 11/24/2026",
    "Raised $12,345.67 from 87 gifts (avg $141.90), +12% vs last week",
    "Total raised this year: $1,234,567.00; gifts 1,234,567",
    "312 intakes, 41 urgent, 1,204 referrals, 97 partners in 2026",
    "Capacity 25/week, 3 of 25 used",
    "https://docs.google.com/document/d/1AbCdE2026000123456789xyz_-Q/edit",
    "<https://docs.google.com/spreadsheets/d/1x2026000123456789/edit#gid=0|Open the sheet>",
    "https://drive.google.com/drive/folders/1b2026000123456789",
    "https://coalition.slack.com/archives/C0123456789/p1764370000000100",
    "http://127.0.0.1:8787/v4/spreadsheets/5551234567",
    "Channel <#C0123ABCDE|intake-triage> and <@U0123ABCDE>",
    "Bill HB 1234 moved; SB 2026-117 hearing on 2026-12-01",
    "Position: Oppose · Next hearing Dec 1, 2026 at 10:00",
    "Version 1.2.3 on 127.0.0.1:8787",
    "2025-2026 fiscal year",
    "Attendees: 120 (2026-11-20), 45 (2026-11-21)",
    "Birth certificate translation clinic on Dec 5, 2026",
    "Birthright citizenship hearing 2026-12-01",
    "Accepted by <@U0123ABCDE> at 2026-11-24 10:00 (R-2026-000123)",
]


@pytest.mark.parametrize("text", LEGITIMATE)
def test_no_false_positive_on_what_the_bot_posts(text: str) -> None:
    assert find_pii(text) == []
    PrivacyGuard().check_text(text)


_years = st.integers(2020, 2030)
_days = st.dates(date(2020, 1, 1), date(2030, 12, 31))
_bot_fragments = st.one_of(
    st.builds(lambda y, n: f"R-{y}-{n:06d}", _years, st.integers(0, 999_999)),
    st.builds(lambda n: f"IN-{n:06d}", st.integers(0, 999_999)),
    st.builds(lambda y, w: f"{y}-W{w:02d}", _years, st.integers(1, 53)),
    st.builds(lambda d: d.isoformat(), _days),
    st.builds(lambda d: f"{d:%b} {d.day}, {d.year}", _days),
    st.builds(lambda d: f"{d.month}/{d.day}/{d.year}", _days),
    st.builds(lambda a: f"${a:,.2f}", st.decimals(0, 10**8, places=2)),
    st.builds(lambda a: f"${a:,}", st.integers(0, 10**9)),
    st.builds(lambda n: f"{n:,}", st.integers(0, 10**9)),
    st.builds(str, st.integers(0, 10**5)),
    st.builds(lambda p: f"{p:+.1f}%", st.floats(-1000, 1000)),
    st.builds(
        lambda e, m: f"{e}.{m:06d}",
        st.integers(1_600_000_000, 1_999_999_999),
        st.integers(0, 999_999),
    ),
    st.builds(
        lambda c: f"<#C{c}>", st.text("ABCDEFGHJKLMNPQRSTUVWXYZ23456789", min_size=9, max_size=10)
    ),
    st.builds(
        lambda c: f"https://docs.google.com/document/d/{c}/edit",
        st.text(
            "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-",
            min_size=44,
            max_size=44,
        ),
    ),
)
_joiners = st.sampled_from(
    [" gifts ", " · ", ", ", "; ", " to ", " (", ") ", " — ", "\n• ", " raised "]
)


@settings(max_examples=300)
@given(st.lists(st.tuples(_bot_fragments, _joiners), min_size=1, max_size=12))
def test_generated_summary_lines_have_no_false_positives(parts: list[tuple[str, str]]) -> None:
    text = "".join(fragment + joiner for fragment, joiner in parts)
    assert find_pii(text) == []


# ---------------------------------------------------------------- known values of the batch
def test_known_values_match_whole_words_case_and_form_blind() -> None:
    name = "María José Núñez"
    decomposed = unicodedata.normalize("NFD", name).upper()
    text = f"Ref for {decomposed} today"
    findings = find_pii(text, [name])
    assert [f.kind for f in findings] == ["known_value"]
    assert text[findings[0].start : findings[0].end] == decomposed
    assert find_pii("Joseph went home", ["Jose"]) == []  # not inside another word


def test_known_values_ignore_filler_and_short_values() -> None:
    values = ["N/A", "no", "Sí", "ninguno", "Ana", "4", "2500", "$1,200"]
    assert all(is_ignorable(v) for v in values)
    text = "No partner yet; N/A; 4 cases; $2500 raised by Ana's team; ninguno"
    assert find_pii(text, values) == []


def test_a_known_phone_matches_in_any_layout() -> None:
    found = find_pii("numbers 555 123 4567 and 555-123-45678", ["(555) 123-4567"])
    assert [f.kind for f in found if f.kind == "known_value"] == ["known_value"]


def test_whitespace_in_known_values_is_collapsed() -> None:
    assert find_pii("see Maria  Lopez", ["maria lopez"])[0].kind == "known_value"
    assert find_pii("see Maria Lopez", ["  Maria\tLopez "])[0].kind == "known_value"


def test_redact_merges_overlaps_and_keeps_the_rest() -> None:
    text = "Call Maria Lopez at 555-123-4567 or maria@example.org."
    assert redact(text, ["Maria Lopez", "maria@example.org"]) == (
        "Call [redacted known_value] at [redacted phone] or [redacted email]."
    )


# ---------------------------------------------------------------- hypothesis: open-ended input
_filler = st.text(
    alphabet=st.characters(whitelist_categories=("Lu", "Ll", "Zs"), max_codepoint=0x2FF),
    max_size=40,
)


def _covered(findings: list[Finding], start: int, end: int, kind: str) -> bool:
    return any(f.kind == kind and f.start <= start and f.end >= end for f in findings)


@settings(max_examples=150, suppress_health_check=[HealthCheck.too_slow])
@given(prefix=_filler, email=st.emails(), suffix=_filler)
def test_generated_emails_are_always_found(prefix: str, email: str, suffix: str) -> None:
    text = f"{prefix} {email} {suffix}"
    start = len(prefix) + 1
    assert _covered(find_pii(text), start, start + len(email), "email")
    assert email not in redact(text)


_us_numbers = st.tuples(st.integers(200, 999), st.integers(100, 999), st.integers(0, 9999)).map(
    lambda t: (f"{t[0]:03d}", f"{t[1]:03d}", f"{t[2]:04d}")
)
_us_formats = st.sampled_from(
    ["({}) {}-{}", "{}-{}-{}", "{}.{}.{}", "{}{}{}", "{} {} {}", "+1 {} {} {}", "1-{}-{}-{}"]
)
_regions = st.sampled_from(["MX", "GT", "SV", "HN", "NI", "CO", "VE", "HT", "BR", "IN", "CN", "NG"])


@settings(max_examples=150)
@given(prefix=_filler, parts=_us_numbers, layout=_us_formats, suffix=_filler)
def test_generated_us_phones_are_always_found(prefix, parts, layout, suffix) -> None:
    phone = layout.format(*parts)
    text = f"{prefix} {phone} {suffix}"
    start = len(prefix) + 1
    assert _covered(find_pii(text), start, start + len(phone), "phone"), phone


@settings(max_examples=100)
@given(
    prefix=_filler,
    region=_regions,
    kind=st.sampled_from(
        [phonenumbers.PhoneNumberType.MOBILE, phonenumbers.PhoneNumberType.FIXED_LINE]
    ),
    layout=st.sampled_from(
        [phonenumbers.PhoneNumberFormat.E164, phonenumbers.PhoneNumberFormat.INTERNATIONAL]
    ),
    suffix=_filler,
)
def test_generated_international_phones_are_always_found(
    prefix, region, kind, layout, suffix
) -> None:
    example = phonenumbers.example_number_for_type(region, kind)
    assume(example is not None)
    phone = phonenumbers.format_number(example, layout)
    text = f"{prefix} {phone} {suffix}"
    start = len(prefix) + 1
    assert _covered(find_pii(text), start, start + len(phone), "phone"), phone


@given(st.text())
def test_escape_mrkdwn_leaves_no_brackets_and_round_trips(text: str) -> None:
    escaped = escape_mrkdwn(text)
    assert "<" not in escaped and ">" not in escaped
    assert unescape_mrkdwn(escaped) == text
    # Every & left is the start of one of the three entities Slack decodes.
    rest = escaped.replace("&amp;", "").replace("&lt;", "").replace("&gt;", "")
    assert "&" not in rest


@pytest.mark.parametrize(
    ("raw", "escaped"),
    [
        ("<!channel> hi", "&lt;!channel&gt; hi"),
        ("<!here|here>", "&lt;!here|here&gt;"),
        ("<@U123> & <#C1>", "&lt;@U123&gt; &amp; &lt;#C1&gt;"),
        ("&lt; already", "&amp;lt; already"),
    ],
)
def test_escape_mrkdwn_table(raw: str, escaped: str) -> None:
    assert escape_mrkdwn(raw) == escaped


_latin_words = st.text(
    alphabet=st.characters(whitelist_categories=("Lu", "Ll"), max_codepoint=0x24F),
    min_size=4,
    max_size=12,
)


@settings(max_examples=150)
@given(
    first=_latin_words,
    last=_latin_words,
    prefix=_filler,
    suffix=_filler,
    form=st.sampled_from(["NFC", "NFD"]),
    case=st.sampled_from(["upper", "lower", "title", "same"]),
)
def test_generated_known_values_are_found_in_any_case_or_form(
    first, last, prefix, suffix, form, case
) -> None:
    value = f"{first} {last}"
    shown = value if case == "same" else getattr(value, case)()
    shown = unicodedata.normalize(form, shown)
    # Case maps that are not caseless-equal (Turkish dotless i) are outside "case-blind".
    assume(
        unicodedata.normalize("NFC", shown.casefold())
        == unicodedata.normalize("NFC", value.casefold())
    )
    assume(not is_ignorable(value))
    text = f"{prefix} {shown} {suffix}"
    start = len(prefix) + 1
    assert _covered(find_pii(text, [value]), start, start + len(shown), "known_value")


# ---------------------------------------------------------------- the guard object
def test_guard_batches_add_and_remove_only_their_own_values() -> None:
    privacy = PrivacyGuard()
    privacy.add_values(["Rosa Martínez", None, "", 5551234567])
    with privacy.batch(["Pedro Páramo", "Rosa Martínez"]):
        assert {"Pedro Páramo", "Rosa Martínez", "5551234567"} <= privacy.known_values
        with pytest.raises(PIIError):
            privacy.check_text("Pedro Páramo asked for help")
    assert "Pedro Páramo" not in privacy.known_values
    assert "Rosa Martínez" in privacy.known_values  # still held by the first add
    privacy.clear()
    assert privacy.known_values == frozenset()
    privacy.check_text("Rosa Martínez")  # forgotten: no longer refused


def test_check_slack_message_walks_nested_blocks_and_names_the_place() -> None:
    privacy = PrivacyGuard()
    privacy.add_values(["Lucía Hernández"])
    blocks = [
        {"type": "header", "text": {"type": "plain_text", "text": "New referral R-2026-000123"}},
        {
            "type": "section",
            "fields": [
                {"type": "mrkdwn", "text": "*Case:* removal defense"},
                {"type": "mrkdwn", "text": "*Client:* LUCÍA HERNÁNDEZ"},
            ],
        },
        {
            "type": "actions",
            "elements": [{"type": "button", "value": "R-2026-000123", "action_id": "accept"}],
        },
    ]
    with pytest.raises(PIIError) as caught:
        privacy.check_slack_message("New referral", blocks)
    assert caught.value.kinds == ["known_value"]
    assert caught.value.where == ["blocks[1].fields[1].text"]
    assert "Lucía" not in str(caught.value) and "LUCÍA" not in str(caught.value)

    with pytest.raises(PIIError, match=r"phone.*in text"):
        privacy.check_slack_message("call 555-123-4567", None)
    blocks[1]["fields"].pop()
    privacy.check_slack_message("New referral R-2026-000123", blocks)


def test_guard_is_safe_across_threads() -> None:
    privacy = PrivacyGuard()
    errors: list[BaseException] = []

    def work(n: int) -> None:
        try:
            for i in range(30):
                value = f"Person{n}x{i} Surname"
                with privacy.batch([value]), pytest.raises(PIIError):
                    privacy.check_text(f"hello {value}")
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(n,)) for n in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert privacy.known_values == frozenset()


# ---------------------------------------------------------------- logs
def _capture(logger: logging.Logger) -> tuple[io.StringIO, logging.Handler]:
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(logging.Formatter("%(name)s %(message)s"))
    logger.addHandler(handler)
    return stream, handler


def test_redacting_filter_on_a_handler_scrubs_message_args_and_exceptions() -> None:
    logger = logging.getLogger("tests.privacy.plain")  # not one of ours: only the filter acts
    logger.propagate = False
    logger.setLevel(logging.INFO)
    stream, handler = _capture(logger)
    handler.addFilter(RedactingFilter())
    try:
        logger.info("row 7: phone %s, email %s", "555-123-4567", "rosa@example.org")
        try:
            raise ValueError("could not parse A-number A123456789")
        except ValueError:
            logger.exception("parse failed for %s", "+52 55 1234 5678")
    finally:
        logger.removeHandler(handler)
    output = stream.getvalue()
    for secret in ("555-123-4567", "rosa@example.org", "A123456789", "+52 55 1234 5678"):
        assert secret not in output
    assert "[redacted phone]" in output and "[redacted a_number]" in output
    assert "Traceback" in output  # the exception is still shown, scrubbed


def test_redacting_filter_uses_the_batch_values() -> None:
    logger = logging.getLogger("tests.privacy.batch")
    logger.propagate = False
    stream, handler = _capture(logger)
    handler.addFilter(RedactingFilter())
    logger.setLevel(logging.INFO)
    try:
        with guard.batch(["Esperanza Villalobos"]):
            logger.info("routing %s", "Esperanza Villalobos")
        logger.info("after the batch: %s", "Esperanza Villalobos")
    finally:
        logger.removeHandler(handler)
    first, second = stream.getvalue().splitlines()
    assert "Esperanza" not in first and "[redacted known_value]" in first
    assert "Esperanza Villalobos" in second  # values are only guarded while their batch runs


@pytest.mark.parametrize(
    "name",
    ["coalition", "coalition.flows.x", "flows.intake", "prefect.flow_runs", "prefect.task_runs"],
)
def test_install_log_redaction_covers_our_and_prefect_loggers(name: str) -> None:
    install_log_redaction()
    install_log_redaction()  # idempotent
    for logger_name in ("coalition", "prefect", "prefect.flow_runs", "prefect.task_runs"):
        filters = logging.getLogger(logger_name).filters
        assert sum(isinstance(f, RedactingFilter) for f in filters) == 1
    logger = logging.getLogger(name)
    # A handler attached after installation (as Prefect's API handler may be) still sees
    # only redacted records.
    stream, handler = _capture(logger)
    old_level = logger.level
    logger.setLevel(logging.INFO)
    try:
        logger.info("intake from %s, SSN %s", "555-123-4567", "123-45-6789")
    finally:
        logger.removeHandler(handler)
        logger.setLevel(old_level)
    output = stream.getvalue()
    assert "555-123-4567" not in output and "123-45-6789" not in output
    assert "[redacted phone]" in output and "[redacted ssn]" in output


def test_installed_filter_sits_on_existing_handlers() -> None:
    logger = logging.getLogger("prefect.flow_runs")
    handler = logging.StreamHandler(io.StringIO())
    logger.addHandler(handler)
    try:
        install_log_redaction()
        assert any(isinstance(f, RedactingFilter) for f in handler.filters)
    finally:
        logger.removeHandler(handler)


def test_a_bad_format_string_does_not_leak_its_arguments() -> None:
    record = logging.LogRecord(
        "x", logging.INFO, __file__, 1, "phone %s %s", ("555-123-4567",), None
    )
    RedactingFilter().filter(record)
    assert "555-123-4567" not in record.getMessage()
