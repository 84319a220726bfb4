"""What staff and partners do from Slack: approve suggestions, accept or decline referrals, ask why.

The Slack app calls these (after checking who may do what):
- `approve(intake_ids, approver, partner_id=None)`: staff approve routing suggestions
  (approve mode), optionally choosing another partner; the cases then go out exactly
  as in auto mode.
- `decide_referral(referral_id, accepted, actor, reason=None)`: a partner's Accept or
  Decline; the ledger and the Intake sheet follow, and a decline re-routes the case.
- `explain_intake(intake_id)`: `/coalition why INTAKE-ID`, without personal data.
Each is safe to call twice (a double click changes nothing the second time).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from coalition.intake import ids
from coalition.intake.explain import Explanation, explain
from coalition.intake.sheet_rows import STATUS_TEXT
from coalition.ledger import open_ledger, utcnow
from coalition.ledger.routing import RoutingLedger
from flows.intake_routing import (
    close_in_partner_sheets,
    load_partner_directory,
    run_routing,
    start_run,
)
from flows.reporting import RunReport

APPROVABLE = ("suggested",)
# With a partner chosen by staff, waitlisted and unclear cases may be sent too
# (never one without consent: decide() keeps those with staff).
CHOOSABLE = ("suggested", "waitlist", "triage")


@dataclass
class ApprovalResult:
    """Which cases were approved, which were refused and why, and where the approved ones went."""

    approved: list[str] = field(default_factory=list)
    refused: dict[str, str] = field(default_factory=dict)
    outcome: dict[str, str] = field(default_factory=dict)  # intake id -> status words after routing
    report: RunReport | None = None


@dataclass
class ReferralDecision:
    """What a partner's answer did."""

    referral_id: str
    recorded: bool  # False: already answered (or never sent); nothing changed
    state: str | None
    intake_id: str | None = None
    outcome: str | None = None  # for a decline: where the case went next
    report: RunReport | None = None


def _store() -> RoutingLedger:
    return RoutingLedger(open_ledger())


def _partner_ids(store: RoutingLedger) -> dict[str, str]:
    return {str(p["member_id"]): str(p["name"]) for p in store.directory.partners()}


def approve(
    intake_ids: Iterable[str], approver: str, partner_id: str | None = None
) -> ApprovalResult:
    """Approve routing suggestions (or route to the partner staff chose) and send the cases out now."""
    store = _store()
    now = utcnow()
    result = ApprovalResult()
    partners = _partner_ids(store)
    if partner_id is not None and partner_id not in partners:
        result.refused = {str(i): f"unknown partner {partner_id}" for i in intake_ids}
        return result
    for raw in intake_ids:
        intake_id = ids.normalize_intake_id(raw)
        if intake_id is None:
            result.refused[str(raw)[:40]] = "not an Intake ID"
            continue
        state = store.intakes.intakes([intake_id]).get(intake_id)
        if state is None:
            result.refused[intake_id] = "unknown Intake ID"
            continue
        allowed = CHOOSABLE if partner_id else APPROVABLE
        if store.intakes.approve(intake_id, approver, partner_id, now, allowed):
            result.approved.append(intake_id)
        else:
            shown = STATUS_TEXT.get(state.status, state.status)
            result.refused[intake_id] = f"is {shown}, not waiting for approval"
    if result.approved:
        result.report = run_routing(only=result.approved, publish_report=False)
        after = store.intakes.intakes(result.approved)
        result.outcome = {
            i: _outcome(s.status, s.current_referral, s.reason) for i, s in after.items()
        }
    return result


def decide_referral(
    referral_id: str, accepted: bool, actor: str, reason: str | None = None
) -> ReferralDecision:
    """Record a partner's Accept or Decline; update the Intake sheet; re-route a declined case."""
    store = _store()
    referral = store.referrals.referral(referral_id.strip())
    if referral is None:
        return ReferralDecision(referral_id, False, None)
    recorded = store.referrals.decide(referral.referral_id, accepted, actor, reason, utcnow())
    current = store.referrals.referral(referral.referral_id)
    decision = ReferralDecision(
        referral.referral_id, recorded, current.state if current else None, referral.intake_id
    )
    if not recorded:
        return decision
    # One small run for this intake: writes the Intake row and, after a decline, re-routes it.
    decision.report = run_routing(only=[referral.intake_id], publish_report=False)
    if current is not None:
        run = start_run(dry_run=False, only=[referral.intake_id])
        close_in_partner_sheets(run, load_partner_directory.fn(run), [current])
        decision.report.errors += run.report.errors
    state = store.intakes.intakes([referral.intake_id]).get(referral.intake_id)
    if state is not None:
        decision.outcome = _outcome(state.status, state.current_referral, state.reason)
    return decision


def explain_intake(intake_id: str) -> Explanation | None:
    """Which partners were considered for an intake, which rule excluded each, and why the chosen one won."""
    canonical = ids.normalize_intake_id(intake_id)
    if canonical is None:
        return None
    store = _store()
    state = store.intakes.intakes([canonical]).get(canonical)
    if state is None:
        return None
    history = [
        {"referral_id": r.referral_id, "partner_id": r.partner_id, "state": r.state}
        for r in store.referrals.referrals_of([canonical]).get(canonical, [])
    ]
    return explain(
        canonical, state.status, state.reason, state.evaluation, _partner_ids(store), history
    )


def _outcome(status: str, referral_id: str | None, reason: str | None) -> str:
    shown = STATUS_TEXT.get(status, status)
    if status in {"routing", "referred", "accepted"} and referral_id:
        return f"{shown} ({referral_id})"
    return f"{shown}: {reason}" if reason else str(shown)


__all__ = ["ApprovalResult", "ReferralDecision", "approve", "decide_referral", "explain_intake"]
