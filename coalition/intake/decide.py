"""The routing decision for a batch of intake rows: pure, no I/O, the same answer for the same inputs.

Order of work: invalid rows go to review; repeat submissions by the same contact
within the window are duplicates; the rest are taken most urgent first (so urgent
cases get the week's capacity first), then oldest first. Each case goes to staff
triage (no consent, unclear case type), to the best-fitting partner, or to the
waitlist with a reason code.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from coalition.intake import classify, matching
from coalition.intake.fields import problems_text
from coalition.intake.models import (
    STAFF_CHOICE,
    Action,
    Decision,
    Evaluation,
    IntakeCase,
    ParsedRow,
    PartnerProfile,
)
from coalition.settings import RoutingConfig

_FAR = datetime.max.replace(tzinfo=UTC)


@dataclass(frozen=True)
class History:
    """What the ledger knows that a decision depends on (ids, hashes and times only)."""

    # contact key -> (intake id, received at) of earlier intakes that were not duplicates
    contacts: Mapping[str, Sequence[tuple[str, datetime | None]]] = field(default_factory=dict)
    # intake id -> partners that already had the case (declined, silent, unreachable)
    tried: Mapping[str, frozenset[str]] = field(default_factory=dict)
    # intake id -> partner approved by staff: used if it still fits, else the best fit
    preferred: Mapping[str, str] = field(default_factory=dict)
    # intake id -> partner chosen by staff: used unless it cannot receive referrals at all
    forced: Mapping[str, str] = field(default_factory=dict)
    # intake ids staff approved (routed even in approve mode)
    approved: frozenset[str] = frozenset()


def decide(
    rows: Sequence[ParsedRow],
    partners: Sequence[PartnerProfile],
    rules: RoutingConfig,
    *,
    now: datetime,
    mode: str | None = None,
    history: History | None = None,
) -> list[Decision]:
    """One decision per row, in the rows' order."""
    history = history or History()
    mode = mode or rules.mode
    decisions: dict[str, Decision] = {}
    for row in rows:
        if row.case is None:
            decisions[row.intake_id] = Decision(
                row.intake_id, Action.REVIEW, problems_text(row.problems), "invalid_row"
            )
    cases = [row.case for row in rows if row.case is not None]
    window = timedelta(days=rules.duplicate_window_days)
    seen: dict[str, list[tuple[str, datetime | None]]] = {
        k: list(v) for k, v in history.contacts.items()
    }
    for case in sorted(cases, key=lambda c: (c.received_at or _FAR, c.intake_id)):
        original = _duplicate_of(case, seen, window)
        if original:
            decisions[case.intake_id] = _duplicate(case, original)
            continue
        for key in case.contact_keys:
            seen.setdefault(key, []).append((case.intake_id, case.received_at))
    left = {p.member_id: p.capacity_left for p in partners}
    by_id = {p.member_id: p for p in partners}
    pending = [c for c in cases if c.intake_id not in decisions]
    for case in sorted(
        pending, key=lambda c: (c.urgency.sort_key, c.received_at or _FAR, c.intake_id)
    ):
        decision = _route(case, partners, by_id, left, rules, history, mode)
        if decision.action in {Action.ROUTE, Action.SUGGEST} and decision.partner_id:
            left[decision.partner_id] = left.get(decision.partner_id, 0) - 1
        decisions[case.intake_id] = decision
    return [decisions[row.intake_id] for row in rows]


def _duplicate_of(
    case: IntakeCase, seen: Mapping[str, Sequence[tuple[str, datetime | None]]], window: timedelta
) -> str | None:
    """The earlier intake with the same phone or email within the window, if any."""
    for key in case.contact_keys:
        for other, when in seen.get(key, ()):
            if other == case.intake_id:
                continue
            if when is None or case.received_at is None or abs(case.received_at - when) <= window:
                return other
    return None


def _duplicate(case: IntakeCase, original: str) -> Decision:
    return Decision(
        case.intake_id,
        Action.DUPLICATE,
        f"same contact as {original} within the duplicate window; routed once",
        "duplicate",
        category=classify.broad_category(case.category),
        urgent=case.urgency.urgent,
        urgency_reasons=case.urgency.reasons,
        duplicate_of=original,
        place=matching.place(case),
        language=case.language,
    )


def _route(
    case: IntakeCase,
    partners: Sequence[PartnerProfile],
    by_id: Mapping[str, PartnerProfile],
    left: Mapping[str, int],
    rules: RoutingConfig,
    history: History,
    mode: str,
) -> Decision:
    tried = history.tried.get(case.intake_id, frozenset())
    ranked = matching.rank(case, partners, rules, tried, left)
    base = {
        "category": classify.broad_category(case.category),
        "urgent": case.urgency.urgent,
        "urgency_reasons": case.urgency.reasons,
        "evaluations": ranked.evaluations,
        "place": matching.place(case),
        "language": case.language,
    }
    if not case.consent:
        return Decision(
            case.intake_id,
            Action.TRIAGE,
            "no consent to share contact details",
            "no_consent",
            **base,
        )
    if case.category is None and case.intake_id not in history.forced:
        return Decision(
            case.intake_id,
            Action.TRIAGE,
            "case type unclear from the answers",
            "case_type_unclear",
            **base,
        )
    chosen, prefix = _choose(case, ranked, by_id, history)
    if chosen is None:
        short = matching.shortfall(ranked.evaluations)
        return Decision(
            case.intake_id,
            Action.WAITLIST,
            matching.waitlist_reason(short, case),
            short.code,
            **base,
        )
    partner = by_id[chosen.partner_id]
    approved = case.intake_id in history.approved or case.intake_id in history.forced
    action = Action.SUGGEST if mode == "approve" and not approved else Action.ROUTE
    reason = prefix + matching.choice_reason(case, chosen, partner)
    if tried:
        reason += "; re-routed"
    return Decision(
        case.intake_id,
        action,
        reason,
        STAFF_CHOICE if prefix else "best_fit",
        partner_id=chosen.partner_id,
        capacity=(chosen.capacity_left, partner.weekly_capacity),
        **base,
    )


def _choose(
    case: IntakeCase, ranked: matching.Ranked, by_id: Mapping[str, PartnerProfile], history: History
) -> tuple[Evaluation | None, str]:
    """Staff's choice when it can receive referrals, an approved suggestion while it fits, else the best fit."""
    evaluations = {e.partner_id: e for e in ranked.evaluations}
    forced = history.forced.get(case.intake_id)
    if (
        forced
        and forced in evaluations
        and evaluations[forced].excluded_by
        not in {
            "inactive",
            "no_referral_sheet",
        }
    ):
        return evaluations[forced], "chosen by staff; "
    preferred = history.preferred.get(case.intake_id)
    if preferred and preferred in evaluations and evaluations[preferred].eligible:
        return evaluations[preferred], ""
    return ranked.best, ""


# Whether the partner directory can be trusted to say "no partner fits".
DIRECTORY_MISSING = "missing"  # no roster sync has completed: route nothing yet
DIRECTORY_EMPTY = "empty"  # built, but no active partner: hold the waitlist
DIRECTORY_STALE = "stale"  # the last sync is older than two of its intervals: hold the waitlist
DIRECTORY_FRESH = "fresh"


def directory_state(
    built_at: datetime | None, now: datetime, sync_gap: timedelta, active_partners: int
) -> str:
    """missing, empty, stale or fresh. One missed sync is tolerated: a sync runs beside routing."""
    if built_at is None:
        return DIRECTORY_MISSING
    if active_partners == 0:
        return DIRECTORY_EMPTY
    if now - built_at > 2 * sync_gap:
        return DIRECTORY_STALE
    return DIRECTORY_FRESH


def hold_waitlist(decisions: Sequence[Decision]) -> tuple[list[Decision], list[Decision]]:
    """(kept, held): a "no partner" verdict waits while the directory cannot be trusted."""
    kept = [d for d in decisions if d.action is not Action.WAITLIST]
    held = [d for d in decisions if d.action is Action.WAITLIST]
    return kept, held


def plan_summary(decisions: Sequence[Decision], partner_names: Mapping[str, str]) -> str:
    """One line without personal data: "14 rows -> 9 routed (A 4, B 5), 3 waitlisted (...), 2 need review"."""
    routed: dict[str, int] = {}
    waitlisted: dict[str, int] = {}
    counts: dict[Action, int] = {}
    for d in decisions:
        counts[d.action] = counts.get(d.action, 0) + 1
        if d.action in {Action.ROUTE, Action.SUGGEST} and d.partner_id:
            name = partner_names.get(d.partner_id, d.partner_id)
            routed[name] = routed.get(name, 0) + 1
        if d.action is Action.WAITLIST:
            waitlisted[d.reason] = waitlisted.get(d.reason, 0) + 1
    parts = []
    verb = "suggested" if counts.get(Action.SUGGEST) else "routed"
    n_routed = counts.get(Action.ROUTE, 0) + counts.get(Action.SUGGEST, 0)
    if n_routed:
        detail = ", ".join(f"{name} {n}" for name, n in sorted(routed.items()))
        parts.append(f"{n_routed} {verb} ({detail})")
    if waitlisted:
        detail = "; ".join(
            f"{reason}" + (f" x{n}" if n > 1 else "") for reason, n in sorted(waitlisted.items())
        )
        parts.append(f"{counts[Action.WAITLIST]} waitlisted ({detail})")
    for action, words in (
        (Action.TRIAGE, "to staff triage"),
        (Action.DUPLICATE, "duplicates"),
        (Action.REVIEW, "need review"),
    ):
        if counts.get(action):
            parts.append(f"{counts[action]} {words}")
    return f"{len(decisions)} rows -> " + (", ".join(parts) if parts else "nothing to do")
