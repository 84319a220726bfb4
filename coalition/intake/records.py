"""What the ledger keeps of each decision (pure): the record, whether it changes anything, the staff message owed.

A record holds ids, keyed hashes, codes, the broad category, county, language and a
reason sentence: never the person's details. `evaluation` is what `explain` reads later.
"""

from __future__ import annotations

from typing import Any

from coalition.intake import ids, notices
from coalition.intake.models import Action, Decision, IntakeCase
from coalition.intake.normalize import clean_text
from coalition.ledger.intakes import IntakeState, IntakeWrite

STATUS_OF: dict[Action, str] = {
    Action.ROUTE: "routing",
    Action.SUGGEST: "suggested",
    Action.WAITLIST: "waitlist",
    Action.TRIAGE: "triage",
    Action.REVIEW: "review",
    Action.DUPLICATE: "duplicate",
}
# Statuses that always move on when decided again (an approval or a re-route is an event).
ALWAYS_WRITTEN = ("approved", "reroute", "suggested")


def changes_something(decision: Decision, state: IntakeState | None) -> bool:
    """A re-evaluated row whose decision is what the ledger already holds needs no write."""
    if state is None or state.status in ALWAYS_WRITTEN:
        return True
    return (STATUS_OF[decision.action], decision.reason_code, decision.reason) != (
        state.status,
        state.reason_code,
        state.reason,
    )


def evaluation(decision: Decision, mode: str) -> dict[str, Any]:
    """What `explain` needs later: partners weighed and rule codes (ids and codes only)."""
    return {
        "mode": mode,
        "action": decision.action.value,
        "reason_code": decision.reason_code,
        "chosen": decision.partner_id,
        "considered": [e.as_record() for e in decision.evaluations],
        "category": decision.category,
        "place": decision.place,
        "language": decision.language,
        "capacity": list(decision.capacity) if decision.capacity else None,
    }


def staff_notice_for(decision: Decision, state: IntakeState | None) -> str | None:
    """The staff message a decision calls for: a re-route, a suggestion, an urgent case with no partner."""
    if state is not None and state.status == "reroute":
        return notices.REROUTE_NOTICE
    if decision.action is Action.SUGGEST:
        return notices.APPROVAL_REQUEST
    if decision.urgent and decision.action in {Action.WAITLIST, Action.TRIAGE}:
        return notices.TRIAGE_ALERT
    return None


def intake_write(
    decision: Decision,
    case: IntakeCase | None,
    *,
    fingerprint: str,
    salt: str,
    state: IntakeState | None,
    last_attempt: int,
    mode: str,
) -> IntakeWrite:
    """The ledger record of one decision; a known intake may only move on from the status it had."""
    routed = decision.action is Action.ROUTE and bool(decision.partner_id)
    attempt = last_attempt + 1 if routed else 0
    return IntakeWrite(
        intake_id=decision.intake_id,
        status=STATUS_OF[decision.action],
        row_hash=fingerprint,
        phone_key=ids.phone_key(salt, case.phone) if case else None,
        email_key=ids.email_key(salt, case.email) if case else None,
        received_at=case.received_at if case else None,
        category=decision.category,
        urgent=decision.urgent,
        urgency=",".join(decision.urgency_reasons) or None,
        place=decision.place,
        language=decision.language,
        reason_code=decision.reason_code,
        reason=clean_text(decision.reason, 300),
        duplicate_of=decision.duplicate_of,
        suggested_partner=decision.partner_id if decision.action is Action.SUGGEST else None,
        evaluation=evaluation(decision, mode),
        pending_notice=staff_notice_for(decision, state),
        referral_id=ids.referral_id(decision.intake_id, attempt) if routed else None,
        partner_id=decision.partner_id if routed else None,
        attempt=attempt,
        expected_status=expected_status(state),
    )


def expected_status(state: IntakeState | None) -> tuple[str, ...]:
    """The statuses a known intake may move on from (none: a new intake, inserted)."""
    if state is None:
        return ()
    # A suggestion may have been approved meanwhile (Slack or the sheet): either is fine.
    return ("suggested", "approved") if state.status == "suggested" else (state.status,)
