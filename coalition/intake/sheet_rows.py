"""What the bot writes to sheets: its own cells of an Intake row, and a row of a partner's referral sheet (pure).

The Intake row's cells are derived from the ledger alone, so every run can compare
them with the sheet and fix what differs; a partner row carries the person's details
(the partner's own sheet is the one place they may go), contact details only with consent.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, tzinfo

from coalition.intake import urgency
from coalition.intake.fields import BOT_COLUMNS
from coalition.intake.models import IntakeCase, Status
from coalition.intake.normalize import clean_text, fold

# Ledger status -> the Status cell staff read.
STATUS_TEXT: dict[str, str] = {
    "review": Status.REVIEW,
    "duplicate": Status.DUPLICATE,
    "triage": Status.TRIAGE,
    "waitlist": Status.WAITLIST,
    "suggested": Status.SUGGESTED,
    "approved": Status.APPROVED,
    "routing": Status.REFERRED,  # claimed: the partner sheet gets it in this run (or the next, after a crash)
    "reroute": Status.ROUTING,
    "referred": Status.REFERRED,
    "accepted": Status.ACCEPTED,
}
WITH_PARTNER = {"suggested", "approved", "routing", "referred", "accepted"}
WITH_REFERRAL = {"routing", "referred", "accepted"}

REFERRAL_TAB = "Referrals"
REFERRAL_COLUMNS = (
    "Referral ID",
    "Intake ID",
    "Received",
    "Category",
    "Urgency",
    "Language",
    "County",
    "State",
    "Name",
    "Phone",
    "Email",
    "Help needed",
    "Notes",
    "Partner status",
)
NEW_REFERRAL = "New"
# What the bot writes in a partner's "Partner status" cell when a referral closes.
PARTNER_STATUS = {
    "accepted": "Accepted",
    "declined": "Declined",
    "expired": "Expired: no answer, re-routed",
}
_ACCEPT_WORDS = {"accepted", "accept", "aceptado", "aceptada", "taken", "yes"}
_DECLINE_WORDS = {"declined", "decline", "rechazado", "rechazada", "conflict", "no"}


def local_time(moment: datetime | None, tz: tzinfo) -> str:
    """ "2026-03-02 10:15" in the org's time zone (how staff read times in a sheet)."""
    return moment.astimezone(tz).strftime("%Y-%m-%d %H:%M") if moment else ""


def is_approval(status_cell: object) -> bool:
    """Staff typed Approved in the Status cell (any case, spacing, or a trailing mark)."""
    return fold(str(status_cell or "")).strip(" .!✓✔") in {"approved", "approve", "aprobado"}


def partner_answer(cell: object) -> bool | None:
    """A partner's answer typed in its sheet's Partner status cell: True accepted, False declined, None none."""
    text = fold(str(cell or "")).strip(" .!✓✔")
    if text in _ACCEPT_WORDS:
        return True
    if text in _DECLINE_WORDS or text.startswith("declined"):
        return False
    return None


def intake_cells(
    *,
    intake_id: str,
    status: str,
    reason: str | None,
    partner_id: str | None,
    referral_id: str | None,
    routed_at: datetime | None,
    partner_names: Mapping[str, str],
    tz: tzinfo,
    columns: Mapping[str, str] = BOT_COLUMNS,
) -> dict[str, str]:
    """The bot's cells of one Intake row, by header (`columns`: bot column key -> its header)."""
    partner = (
        partner_names.get(partner_id or "", partner_id or "") if status in WITH_PARTNER else ""
    )
    text = reason or ""
    if status == "accepted":
        text = "accepted by the partner; " + text
    elif status == "reroute":
        text = "going to the next fitting partner"
    return {
        columns["intake_id"]: intake_id,
        columns["status"]: str(STATUS_TEXT.get(status, status)),
        columns["partner"]: partner,
        columns["referral_id"]: (referral_id or "") if status in WITH_REFERRAL else "",
        columns["routed_at"]: local_time(routed_at, tz) if status in WITH_REFERRAL else "",
        columns["reason"]: clean_text(text, 300),
    }


def referral_row(
    referral_id: str, case: IntakeCase, received: str, language: str | None = None
) -> list[str]:
    """One row for the partner's sheet, in REFERRAL_COLUMNS order (written RAW).

    `language` is what the partner reads (as given, "interpreter needed" when it lacks it).
    """
    level = urgency.describe(case.urgency.reasons) if case.urgency.urgent else "not urgent"
    if case.court_date:
        level += f"; next court date {case.court_date.isoformat()}"
    contact = case.consent
    values = {
        "Referral ID": referral_id,
        "Intake ID": case.intake_id,
        "Received": received,
        "Category": ", ".join(case.case_types) or "unclassified",
        "Urgency": level,
        "Language": language or ", ".join(case.languages_shown) or "not stated",
        "County": case.county or "",
        "State": case.state or "",
        "Name": case.name if contact else "",
        "Phone": (case.phone or "") if contact else "",
        "Email": (case.email or "") if contact else "",
        "Help needed": case.help_needed,
        "Notes": case.notes,
        "Partner status": NEW_REFERRAL,
    }
    return [values[column] for column in REFERRAL_COLUMNS]
