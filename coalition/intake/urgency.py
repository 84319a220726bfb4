"""Urgency of a case: detained, a court date soon, the one-year asylum deadline near, SIJS age-out near."""

from __future__ import annotations

from datetime import date

from coalition.intake.models import Urgency

DETAINED = "detained"
COURT_SOON = "court_date_soon"
ASYLUM_DEADLINE = "asylum_deadline"
SIJS_AGE_OUT = "sijs_age_out"
SIJS_AGE_LIMIT = 21  # SIJS petitions must be filed before the 21st birthday

URGENCY_TEXT = {
    DETAINED: "detained",
    COURT_SOON: "court date soon",
    ASYLUM_DEADLINE: "asylum one-year deadline near",
    SIJS_AGE_OUT: "SIJS age-out near",
}


def _birthday(born: date, age: int) -> date:
    try:
        return born.replace(year=born.year + age)
    except ValueError:  # born on 29 February
        return date(born.year + age, 3, 1)


def one_year_deadline(last_entry: date) -> date:
    """Asylum must be filed within one year of the last arrival."""
    return _birthday(last_entry, 1)


def assess(
    *,
    today: date,
    case_types: tuple[str, ...],
    detained: bool,
    court_date: date | None,
    entry_date: date | None,
    birth_date: date | None,
    court_days: int,
    asylum_warning_days: int,
    sijs_warning_days: int,
) -> Urgency:
    """Reasons this case cannot wait, and days to the nearest deadline."""
    reasons: list[str] = []
    deadlines: list[int] = []
    if detained or "detained" in case_types:
        reasons.append(DETAINED)
        deadlines.append(0)
    if court_date is not None and 0 <= (court_date - today).days <= court_days:
        reasons.append(COURT_SOON)
        deadlines.append((court_date - today).days)
    if "asylum" in case_types and entry_date is not None and entry_date <= today:
        left = (one_year_deadline(entry_date) - today).days
        if 0 <= left <= asylum_warning_days:
            reasons.append(ASYLUM_DEADLINE)
            deadlines.append(left)
    if "SIJS" in case_types and birth_date is not None and birth_date <= today:
        left = (_birthday(birth_date, SIJS_AGE_LIMIT) - today).days
        if 0 <= left <= sijs_warning_days:
            reasons.append(SIJS_AGE_OUT)
            deadlines.append(left)
    if not reasons:
        return Urgency()
    return Urgency(urgent=True, reasons=tuple(reasons), days_left=min(deadlines))


def describe(reasons: tuple[str, ...]) -> str:
    """ "detained, court date soon" (no dates: a person's court date is personal)."""
    return ", ".join(URGENCY_TEXT.get(r, r) for r in reasons) or "not urgent"
