"""Normalize roster records (pure): NFC trimmed text, E.164 phones, checked emails, USPS states, canonical lists.

Every function takes whatever Airtable returned (a string, a number, a list, or
nothing) and never raises on bad input: it returns the clean value and, where the
input could not be understood, a `Finding` for the record's Data issues.
"""

from __future__ import annotations

import math
import re
import unicodedata
from collections.abc import Iterable, Mapping
from datetime import date, datetime
from typing import Any

import phonenumbers
from email_validator import EmailNotValidError, validate_email

from coalition.places import USPS_STATES
from coalition.references import (
    BadReference,
    ChannelRef,
    GoogleRef,
    parse_channel,
    parse_google,
)
from coalition.roster.models import (
    ACCREDITATIONS,
    CONTACT_FIELDS,
    MEMBER_FIELDS,
    Code,
    Contact,
    ContactFields,
    Finding,
    Member,
    MemberFields,
)

MAX_TEXT = 500  # longer values are cut: a 10,000-character paste is not a name
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f\u200b\u2028\u2029\ufeff]")
_RECORD_ID = re.compile(r"^rec[A-Za-z0-9]{14}$")

_STATE_ALIASES = {
    "washington dc": "DC", "washington d c": "DC", "d c": "DC", "virgin islands": "VI",
    "us virgin islands": "VI", "commonwealth of puerto rico": "PR",
}  # fmt: skip


# ---------------------------------------------------------------- text
def clean_text(value: Any, limit: int | None = MAX_TEXT) -> str:
    """NFC, trimmed, control characters dropped, inner whitespace kept; lists joined; cut at `limit`."""
    if value is None or value is False:
        return ""
    if isinstance(value, list | tuple):
        return ", ".join(t for t in (clean_text(v, limit) for v in value) if t)
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    text = unicodedata.normalize("NFC", str(value))
    text = _CONTROL.sub("", text).strip()
    if limit is not None and len(text) > limit:
        text = text[: limit - 1].rstrip() + "…"
    return text


def clean_name(value: Any) -> str:
    """A one-line name: clean text with runs of whitespace (newlines too) made one space."""
    return " ".join(clean_text(value).split())


def fold(text: str) -> str:
    """Comparison key: case-folded, accents removed, punctuation to spaces, whitespace collapsed."""
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    bare = "".join(c for c in decomposed if not unicodedata.combining(c))
    return " ".join(re.sub(r"[^\w]+", " ", bare).split())


def text_list(value: Any) -> list[str]:
    """A multi-select (or a comma/semicolon separated text) as a list of clean names."""
    if value is None or value == "":
        return []
    items = value if isinstance(value, list | tuple) else re.split(r"[;,\n]", str(value))
    seen: dict[str, str] = {}
    for item in items:
        text = clean_name(item)
        if text:
            seen.setdefault(fold(text), text)
    return list(seen.values())


# ---------------------------------------------------------------- phones, emails, states
def normalize_phone(value: Any, region: str = "US") -> tuple[str | None, bool]:
    """(E.164 or None, understood). Empty input is (None, True)."""
    text = clean_text(value, limit=60)
    if not text:
        return None, True
    try:
        number = phonenumbers.parse(text, region)
    except phonenumbers.NumberParseException:
        return None, False
    if not phonenumbers.is_valid_number(number):
        return None, False
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164), True


def normalize_email(value: Any) -> tuple[str | None, bool]:
    """(normalized address or None, understood). Empty input is (None, True)."""
    text = clean_text(value, limit=320)
    if not text:
        return None, True
    try:
        return validate_email(text, check_deliverability=False).normalized, True
    except EmailNotValidError:
        return None, False


def normalize_state(value: Any) -> tuple[str | None, bool]:
    """(USPS code or None, understood). Accepts codes and names in any case, with or without dots."""
    text = clean_name(value)
    if not text:
        return None, True
    key = fold(text)
    code = key.replace(" ", "").upper()
    if len(code) == 2 and code in USPS_STATES:
        return code, True
    by_name = {fold(name): c for c, name in USPS_STATES.items()}
    found = by_name.get(key) or _STATE_ALIASES.get(key)
    return (found, True) if found else (None, False)


# ---------------------------------------------------------------- canonical lists
def _key(text: str) -> str:
    return re.sub(r"[^\w]", "", fold(text))


def canonical_lookup(canonical: Iterable[str], aliases: Mapping[str, str]) -> dict[str, str]:
    """Comparison key -> canonical name, for the canonical names themselves and their aliases."""
    table = {_key(name): name for name in canonical}
    for alias, name in aliases.items():
        if _key(name) in table:
            table.setdefault(_key(alias), table[_key(name)])
    return table


def map_canonical(values: Any, lookup: Mapping[str, str]) -> tuple[list[str], list[str]]:
    """(canonical names in input order without repeats, values that matched nothing)."""
    matched: list[str] = []
    unknown: list[str] = []
    for text in text_list(values):
        name = lookup.get(_key(text))
        if name is None:
            unknown.append(text)
        elif name not in matched:
            matched.append(name)
    return matched, unknown


# ---------------------------------------------------------------- numbers, dates, booleans
def parse_int(value: Any) -> tuple[int | None, bool]:
    """(whole number or None, understood): 12, 12.0, "12", "200%", "1,000" all work."""
    if value is None or value == "" or value == []:
        return None, True
    if isinstance(value, bool):
        return None, False
    if isinstance(value, int):
        return value, True
    try:
        number = float(value if isinstance(value, float) else _number_text(value))
    except ValueError:
        return None, False
    if not math.isfinite(number):
        return None, False
    return round(number), True


def _number_text(value: Any) -> str:
    return clean_text(value, limit=40).replace(",", "").rstrip("%").strip()


def parse_date(value: Any) -> tuple[date | None, bool]:
    """(date or None, understood) from Airtable's ISO date or date-time text."""
    if value is None or value == "":
        return None, True
    if isinstance(value, datetime):
        return value.date(), True
    if isinstance(value, date):
        return value, True
    text = clean_text(value, limit=40)
    try:
        return date.fromisoformat(text[:10]), True
    except ValueError:
        pass
    try:
        from dateutil import parser

        return parser.parse(text, dayfirst=False).date(), True
    except (ValueError, OverflowError):
        return None, False


def parse_bool(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    if isinstance(value, int | float):
        return value != 0
    return fold(clean_text(value, limit=20)) in {"yes", "y", "true", "x", "1", "checked", "si"}


def linked_ids(value: Any) -> list[str]:
    """Record ids of a link field (anything else, e.g. a typed name, is dropped)."""
    items = value if isinstance(value, list) else [value] if value else []
    return list(dict.fromkeys(str(v) for v in items if isinstance(v, str) and _RECORD_ID.match(v)))


# ---------------------------------------------------------------- records
def member_from_record(
    record: Mapping[str, Any],
    services: Mapping[str, str],
    languages: Mapping[str, str],
    extra_fields: Iterable[str] = (),
    fields: MemberFields = MEMBER_FIELDS,
) -> Member:
    """A Members record as a normalized `Member`, with a finding for each value it could not use."""
    raw: Mapping[str, Any] = record.get("fields") or {}
    problems: list[Finding] = []
    name = clean_name(raw.get(fields.name))
    state, ok = normalize_state(raw.get(fields.state))
    if not ok:
        problems.append(_bad(Code.UNKNOWN_STATE, fields.state, raw.get(fields.state)))
    offered, unknown_services = map_canonical(raw.get(fields.services), services)
    for text in unknown_services:
        problems.append(Finding(Code.UNKNOWN_SERVICE, f"Service not in the canonical list: {text}"))
    spoken, unknown_languages = map_canonical(raw.get(fields.languages), languages)
    for text in unknown_languages:
        problems.append(
            Finding(Code.UNKNOWN_LANGUAGE, f"Language not in the canonical list: {text}")
        )
    capacity = _int_field(raw, fields.capacity, fields.capacity, problems)
    income = _int_field(raw, fields.income_limit, fields.income_limit, problems)
    dues = _date_field(raw, fields.dues, fields.dues, problems)
    verified = _date_field(raw, fields.verified, fields.verified, problems)
    accreditation = fold(clean_name(raw.get(fields.accreditation))) or "none"
    if accreditation not in ACCREDITATIONS:
        problems.append(
            _bad(Code.INVALID_VALUE, fields.accreditation, raw.get(fields.accreditation))
        )
        accreditation = "none"
    channel = _reference(
        parse_channel(raw.get(fields.referral_channel)), "Referral channel", problems
    )
    sheet = _reference(
        parse_google(raw.get(fields.referral_sheet), "spreadsheet"), "Referral sheet", problems
    )
    return Member(
        id=str(record["id"]),
        name=name,
        type=clean_name(raw.get(fields.type)),
        state=state,
        counties=text_list(raw.get(fields.counties)),
        services=offered,
        languages=spoken,
        accepting=parse_bool(raw.get(fields.accepting)),
        capacity=capacity,
        income_limit=income,
        lsc_funded=parse_bool(raw.get(fields.lsc_funded)),
        remote=parse_bool(raw.get(fields.remote)),
        interpreter=parse_bool(raw.get(fields.interpreter)),
        accreditation=accreditation,
        referral_channel=channel,
        referral_sheet=sheet,
        status=clean_name(raw.get(fields.status)),
        dues_paid_through=dues,
        last_verified=verified,
        data_issues=clean_text(raw.get(fields.data_issues), limit=None),
        extra={f: raw.get(f) for f in extra_fields},
        problems=problems,
    )


def contact_from_record(
    record: Mapping[str, Any],
    region: str = "US",
    fields: ContactFields = CONTACT_FIELDS,
    has_primary_field: bool = True,
) -> Contact:
    """A Contacts record as a normalized `Contact`, with a finding for each value it could not use.

    Airtable leaves an unchecked checkbox out of the record, so a base with a
    Primary contact field says "not primary" by silence; without the field, the
    role decides (one that mentions "primary").
    """
    raw: Mapping[str, Any] = record.get("fields") or {}
    problems: list[Finding] = []
    name = clean_name(raw.get(fields.name))
    email, ok = normalize_email(raw.get(fields.email))
    if not ok:
        problems.append(_bad(Code.INVALID_EMAIL, fields.email, raw.get(fields.email)))
    phone, ok = normalize_phone(raw.get(fields.phone), region)
    if not ok:
        problems.append(_bad(Code.INVALID_PHONE, fields.phone, raw.get(fields.phone)))
    slack = clean_name(raw.get(fields.slack_user)) or None
    if slack and not SLACK_USER_ID.fullmatch(slack.upper()):
        # A name or @handle typed here matches no one in Slack and must not reach the ledger.
        problems.append(
            _bad(Code.INVALID_VALUE, f"{fields.slack_user} (a member ID such as U0123ABCD)", slack)
        )
        slack = None
    elif slack:
        slack = slack.upper()
    return Contact(
        id=str(record["id"]),
        name=name,
        email=email,
        phone=phone,
        member_ids=linked_ids(raw.get(fields.organization)),
        role=clean_name(raw.get(fields.role)),
        slack_user=slack,
        primary=parse_bool(raw.get(fields.primary)) if has_primary_field else None,
        data_issues=clean_text(raw.get(fields.data_issues), limit=None),
        problems=problems,
    )


SLACK_USER_ID = re.compile(r"[UW][A-Z0-9]{8,}")


def _reference(
    ref: GoogleRef | ChannelRef | BadReference | None, label: str, problems: list[Finding]
) -> str | None:
    """The short form of a reference staff typed (link, id, name...); a finding when it is none of them."""
    if ref is None:
        return None
    if isinstance(ref, BadReference):
        problems.append(Finding(Code.INVALID_REFERENCE, ref.message(label)))
        return None
    return ref.canonical()


def _bad(code: str, label: str, value: Any) -> Finding:
    shown = clean_name(clean_text(value, limit=60))
    return Finding(
        code, f"{label} not understood: {shown}" if shown else f"{label} not understood."
    )


def _int_field(
    raw: Mapping[str, Any], name: str, label: str, problems: list[Finding]
) -> int | None:
    number, ok = parse_int(raw.get(name))
    if not ok or (number is not None and number < 0):
        problems.append(_bad(Code.INVALID_VALUE, label, raw.get(name)))
        return None
    return number


def _date_field(
    raw: Mapping[str, Any], name: str, label: str, problems: list[Finding]
) -> date | None:
    value, ok = parse_date(raw.get(name))
    if not ok:
        problems.append(_bad(Code.INVALID_VALUE, label, raw.get(name)))
    return value


def is_blank(record: Mapping[str, Any], ignore: Iterable[str] = ()) -> bool:
    """A record with nothing in it but `ignore`d fields: an empty row someone left in a grid."""
    skipped = set(ignore)
    fields = record.get("fields") or {}
    return not any(v not in (None, "", [], False) for k, v in fields.items() if k not in skipped)
