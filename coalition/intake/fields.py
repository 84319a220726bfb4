"""The Intake sheet's columns and one row's validation: required fields, normalised values, problems for staff.

Columns are found by header (staff may rename lightly, reorder, or add their own);
the bot writes only its own columns. Every name comes from config/fields.yaml `intake`.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime

from coalition.intake import classify, income, urgency
from coalition.intake.ids import contact_keys
from coalition.intake.models import IntakeCase, RowProblem
from coalition.intake.normalize import (
    clean_text,
    fold,
    languages_as_given,
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
from coalition.settings import (
    CONTACT_FORM_FIELDS,
    REQUIRED_FORM_FIELDS,
    IntakeFields,
    RoutingConfig,
    WorkspaceNameError,
)

# The design's names (config/fields.yaml `intake` overrides them): field key -> the
# header the form writes, then other spellings staff use; and the only columns the bot writes.
DEFAULT_NAMES = IntakeFields()
FORM_COLUMNS: dict[str, tuple[str, ...]] = DEFAULT_NAMES.form.columns()
BOT_COLUMNS: dict[str, str] = dict(DEFAULT_NAMES.bot.items())
# What each required field is, in words for the message that stops a run.
REQUIRED_LABELS = {
    "name": "the person's name",
    "contact": "a phone or an email",
    "language": "the preferred language",
    "county": "the county",
    "help": "the help needed",
    "consent": "the consent to share",
}


class IntakeHeaderError(WorkspaceNameError):
    """The Intake header lacks a column routing needs, or one of the bot's own columns."""


def _header_key(text: str) -> str:
    return re.sub(r"[^\w]+", " ", fold(text)).strip()


def resolve_columns(header: Sequence[str], names: IntakeFields = DEFAULT_NAMES) -> dict[str, str]:
    """Field key -> the header text actually present (first match wins), for form and bot columns."""
    present = {_header_key(h): h for h in reversed(header) if str(h).strip()}
    found: dict[str, str] = {}
    for key, spellings in names.form.columns().items():
        for spelling in spellings:
            if _header_key(spelling) in present:
                found[key] = present[_header_key(spelling)]
                break
    for key, name in names.bot.items():
        if _header_key(name) in present:
            found[key] = present[_header_key(name)]
    return found


def missing_bot_columns(
    columns: Mapping[str, str], names: IntakeFields = DEFAULT_NAMES
) -> list[str]:
    return [name for key, name in names.bot.items() if key not in columns]


def missing_required(
    columns: Mapping[str, str], names: IntakeFields = DEFAULT_NAMES
) -> list[tuple[str, tuple[str, ...]]]:
    """(required field, the form keys that could hold it) for each one no header column holds."""
    missing: list[tuple[str, tuple[str, ...]]] = []
    for field_name in REQUIRED_FORM_FIELDS:
        keys = CONTACT_FORM_FIELDS if field_name == "contact" else (field_name,)
        if not any(k in columns for k in keys):
            missing.append((field_name, keys))
    return missing


def check_header(
    columns: Mapping[str, str], where: str, source: str, names: IntakeFields = DEFAULT_NAMES
) -> None:
    """Raise IntakeHeaderError, one line naming the config keys and the spellings looked for,
    when the header lacks a field routing needs or a bot column. `source` is fields.yaml's path."""
    problems: list[str] = []
    spellings = names.form.columns()
    for field_name, keys in missing_required(columns, names):
        looked = ", ".join(f"'{s}'" for k in keys for s in spellings[k])
        config_keys = " / ".join(f"intake.form.{k}" for k in keys)
        problems.append(
            f"{source} {config_keys}: {where} has no column for {REQUIRED_LABELS[field_name]} "
            f"(looked for {looked}); add the question's title there"
        )
    missing_bot = missing_bot_columns(columns, names)
    if missing_bot:
        keys = [k for k, name in names.bot.items() if name in missing_bot]
        listed = ", ".join(f"'{m}'" for m in missing_bot)
        problems.append(
            f"{source} {' / '.join(f'intake.bot.{k}' for k in keys)}: {where} lacks the bot's "
            f"columns {listed} in row 1; add them back"
        )
    if problems:
        raise IntakeHeaderError("; ".join(problems) + ". Nothing was written.")


def form_answers(row: Mapping[str, str], columns: Mapping[str, str]) -> dict[str, str]:
    """The person's answers by field key (bot and staff columns left out)."""
    return {key: str(row.get(columns[key], "") or "") for key in FORM_COLUMNS if key in columns}


def is_blank(answers: Mapping[str, str]) -> bool:
    """An empty row (or one with only a timestamp): not an intake, nothing to route."""
    return not any(str(v).strip() for k, v in answers.items() if k != "timestamp")


@dataclass(frozen=True)
class ParseContext:
    """What parsing needs besides the row: today, routing rules, language aliases, the hash salt."""

    today: date
    rules: RoutingConfig
    language_aliases: Mapping[str, str]
    salt: str


def _date_field(
    answers: Mapping[str, str], key: str, label: str, ctx: ParseContext, problems: list[RowProblem]
) -> date | None:
    raw = clean_text(answers.get(key, ""), 100)
    if not raw:
        return None
    value = parse_date(raw, ctx.today)
    if value is None:
        problems.append(RowProblem(f"{key}_invalid", f"{label} is not a date we can read"))
    return value


def parse_row(
    intake_id: str, answers: Mapping[str, str], ctx: ParseContext
) -> tuple[IntakeCase | None, list[RowProblem]]:
    """Validate and normalise one row: the case, or the problems that send it to review."""
    problems: list[RowProblem] = []
    warnings: list[str] = []
    raw_phone = clean_text(answers.get("phone", ""), 100)
    raw_email = clean_text(answers.get("email", ""), 320)
    phone = normalize_phone(raw_phone) if raw_phone else None
    email = normalize_email(raw_email) if raw_email else None
    if raw_phone and not phone:
        warnings.append("phone_invalid")
    if raw_email and not email:
        warnings.append("email_invalid")
    if not phone and not email:
        detail = "is not valid" if raw_phone or raw_email else "is missing"
        problems.append(RowProblem("contact_missing", f"a phone or email we can use {detail}"))
    help_needed = clean_text(answers.get("help", ""))
    if not help_needed:
        problems.append(RowProblem("help_missing", "Help needed is empty"))
    raw_state = clean_text(answers.get("state", ""), 100)
    state = normalize_state(raw_state)
    if not state:
        detail = "is not a US state" if raw_state else "is missing"
        problems.append(RowProblem("state_invalid", f"State {detail}"))
    raw_county = clean_text(answers.get("county", ""), 200)
    county = _county(raw_county)
    if raw_county and not county:
        warnings.append("county_unreadable")
    court_date = _date_field(answers, "court_date", "Next court date", ctx, problems)
    entry_date = _date_field(answers, "entry_date", "Date of last entry", ctx, problems)
    birth_date = _date_field(answers, "birth_date", "Date of birth", ctx, problems)
    if entry_date and entry_date > ctx.today:
        problems.append(RowProblem("entry_date_future", "Date of last entry is in the future"))
    if birth_date and birth_date > ctx.today:
        problems.append(RowProblem("birth_date_future", "Date of birth is in the future"))
    if court_date and court_date < ctx.today:
        warnings.append("court_date_past")
    raw_household = clean_text(answers.get("household", ""), 100)
    household = parse_household(raw_household) if raw_household else None
    if raw_household and household is None:
        problems.append(
            RowProblem("household_invalid", "Household size must be a number from 1 to 30")
        )
    monthly, income_warning = parse_income(answers.get("income", ""))
    if income_warning:
        warnings.append(income_warning)
    raw_language = clean_text(answers.get("language", ""), 200)
    languages = normalize_languages(raw_language, ctx.language_aliases)
    if raw_language and not languages:
        warnings.append("language_unrecognized")
    if problems:
        return None, problems
    notes = clean_text(answers.get("notes", ""))
    types = classify.case_types([help_needed, notes])
    detained_answer = parse_yes_no(answers.get("detained", ""))
    detained = bool(detained_answer) or "detained" in types
    if detained and "detained" not in types:
        types = tuple(k for k in classify.PRIORITY if k in {*types, "detained"})
    rules = ctx.rules
    level = urgency.assess(
        today=ctx.today,
        case_types=types,
        detained=detained,
        court_date=court_date,
        entry_date=entry_date,
        birth_date=birth_date,
        court_days=rules.court_date_urgent_days,
        asylum_warning_days=rules.asylum_deadline_warning_days,
        sijs_warning_days=rules.sijs_age_out_warning_days,
    )
    case = IntakeCase(
        intake_id=intake_id,
        received_at=parse_timestamp(answers.get("timestamp", "")),
        case_types=types,
        category=classify.primary(types),
        languages=languages,
        languages_given=languages_as_given(raw_language, ctx.language_aliases),
        county=county,
        state=state,
        consent=parse_yes_no(answers.get("consent", "")) is True,
        urgency=level,
        income_percent=income.percent_of_guideline(
            monthly, household, state, rules.poverty_guidelines
        ),
        detained=detained,
        name=clean_text(answers.get("name", ""), 300),
        phone=phone,
        email=email,
        city=clean_text(answers.get("city", ""), 200),
        help_needed=help_needed,
        notes=notes,
        court_date=court_date,
        entry_date=entry_date,
        birth_date=birth_date,
        household_size=household,
        monthly_income=monthly,
        contact_keys=contact_keys(ctx.salt, phone, email),
        warnings=tuple(warnings),
    )
    return case, []


def _county(raw: str) -> str | None:
    """A plausible county name (no digits, at most four words), or None."""
    if not raw or not re.fullmatch(r"[^\W\d_][\w\s.'’-]*", raw) or len(raw.split()) > 5:
        return None
    return normalize_county(raw)


def received(answers: Mapping[str, str]) -> datetime | None:
    return parse_timestamp(answers.get("timestamp", ""))


def problems_text(problems: Sequence[RowProblem]) -> str:
    """One line for the Routing reason cell: what staff should fix (never the value itself)."""
    return "; ".join(p.message for p in problems)
