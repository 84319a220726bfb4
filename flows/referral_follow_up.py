"""Referral follow-up: remind silent partners once, then re-route their cases; remind staff of waiting suggestions.

A referral neither accepted nor declined `referral_reminder_hours` after its notice
gets one reminder in the partner's channel; after `referral_expire_hours` it expires
and the case goes to the next fitting partner (the silent one excluded), and staff
hear about it in #intake-triage. Suggestions (approve mode) not approved within
`approval_reminder_hours` are reminded once. Every message is owed in the ledger
first and sent once by its key, so a crash or a rerun never repeats one.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import timedelta

from prefect import flow, task

from coalition.intake import notices
from coalition.intake.models import Notice, PartnerProfile
from coalition.ledger.intakes import IntakeState
from coalition.ledger.referrals import NOTIFIED, WRITTEN, ReferralState
from coalition.privacy import PIIError
from flows.health import stops_on_name_errors
from flows.intake_routing import (
    TASK_OPTIONS,
    Run,
    close_in_partner_sheets,
    load_partner_directory,
    notify,
    read_partner_answers,
    report_held,
    run_routing,
    run_step,
    start_run,
)
from flows.reporting import measured, publish
from integrations.clients import sheets_client

FLOW_NAME = "referral-follow-up"


def _hours(run: Run, since) -> float:
    return (run.now - since).total_seconds() / 3600 if since else 0.0


def due(
    run: Run, referrals: Sequence[ReferralState]
) -> tuple[list[ReferralState], list[ReferralState]]:
    """(to remind, to expire) among notified referrals still waiting for an answer."""
    rules = run.rules
    remind = [
        r
        for r in referrals
        if r.reminded_at is None and _hours(run, r.notified_at) >= rules.referral_reminder_hours
    ]
    expire = [
        r
        for r in referrals
        if r.reminded_at is not None and _hours(run, r.notified_at) >= rules.referral_expire_hours
    ]
    return remind, expire


def _reminder_items(
    referrals: Sequence[ReferralState], states: dict[str, IntakeState]
) -> list[dict]:
    items = []
    for r in referrals:
        s = states.get(r.intake_id)
        items.append(
            notices.case_item(
                intake_id=r.intake_id,
                category=s.category if s else r.category,
                language=s.language if s else None,
                place=s.place if s else None,
                urgency_codes=tuple((s.urgency or "").split(",")) if s and s.urgency else (),
                urgent=r.urgent,
                referral_id=r.referral_id,
            )
        )
    return items


@task(name="remind silent partners", **TASK_OPTIONS)
def remind_partners(
    run: Run, partners: list[PartnerProfile], referrals: list[ReferralState]
) -> int:
    """One reminder message per partner listing its referrals still waiting, each referral reminded once."""
    directory = {p.member_id: p for p in partners}
    states = run.store.intakes.intakes([r.intake_id for r in referrals])
    by_partner: dict[str, list[ReferralState]] = {}
    for r in referrals:
        by_partner.setdefault(r.partner_id, []).append(r)
    reminded = 0
    for partner_id, group in sorted(by_partner.items()):
        partner = directory.get(partner_id)
        if partner is None or not partner.referral_channel or not partner.referral_sheet:
            run.error(
                partner_id, "partner left the directory; its referrals will expire and be re-routed"
            )
            owed: list[Notice] = []
        else:
            try:
                owed = [
                    notices.partner_reminder(
                        partner.member_id,
                        partner.name,
                        partner.referral_channel,
                        partner.referral_sheet,
                        _reminder_items(group, states),
                    )
                ]
            except PIIError as exc:  # not sent, not marked: the next run tries again
                run.error(
                    partner_id, f"{partner.name}: reminder refused by the privacy guard ({exc})"
                )
                continue
        reminded += len(
            run.store.referrals.mark_reminded([r.referral_id for r in group], run.now, owed)
        )
    run.count("partner reminders", reminded)
    return reminded


@task(name="read partner answers", **TASK_OPTIONS)
def read_partner_sheets(
    run: Run, partners: list[PartnerProfile], pending: list[ReferralState]
) -> list[ReferralState]:
    """Accept or Decline typed in a partner's own sheet counts like the Slack buttons (one read per partner)."""
    directory = {p.member_id: p for p in partners}
    by_partner: dict[str, list[ReferralState]] = {}
    for r in pending:
        by_partner.setdefault(r.partner_id, []).append(r)
    answered: list[ReferralState] = []
    client = sheets_client(run.cfg) if by_partner else None  # one client: one token
    for partner_id, group in sorted(by_partner.items()):
        partner = directory.get(partner_id)
        if partner is None or not partner.referral_sheet:
            continue
        answers = read_partner_answers(run, client, partner, [r.referral_id for r in group])
        for r in group:
            if r.referral_id in answers and run.store.referrals.decide(
                r.referral_id, answers[r.referral_id], "partner-sheet", None, run.now
            ):
                answered.append(r)
    run.count("answered in partner sheets", len(answered))
    return answered


@task(name="expire and re-route", **TASK_OPTIONS)
def expire_referrals(run: Run, referrals: list[ReferralState]) -> list[str]:
    """notified -> expired for referrals past the deadline; their intakes go back to routing."""
    expired = [r.intake_id for r in referrals if run.store.referrals.expire(r.referral_id, run.now)]
    run.count("expired", len(expired))
    return expired


@task(name="remind staff of suggestions", **TASK_OPTIONS)
def remind_approvals(run: Run, partners: list[PartnerProfile]) -> int:
    """One reminder in #intake-triage for suggestions waiting longer than approval_reminder_hours."""
    names = {p.member_id: p.name for p in partners}
    limit = timedelta(hours=run.rules.approval_reminder_hours)
    waiting = [
        s
        for s in run.store.intakes.intakes_in(["suggested"]).values()
        if s.approval_reminded_at is None and s.updated_at and run.now - s.updated_at >= limit
    ]
    if not waiting:
        return 0
    items = [
        notices.case_item(
            intake_id=s.intake_id,
            category=s.category,
            language=s.language,
            place=s.place,
            urgency_codes=tuple((s.urgency or "").split(",")) if s.urgency else (),
            urgent=s.urgent,
            partner_name=names.get(s.suggested_partner or "", "?"),
            reason=s.reason or "",
        )
        for s in sorted(waiting, key=lambda s: s.intake_id)
    ]
    channel = run.cfg.services.slack.channels.intake_triage
    try:
        owed = [
            notices.staff_notice(notices.APPROVAL_REMINDER, channel, items, "approval-reminder")
        ]
    except PIIError as exc:  # not sent, not marked: the next run tries again
        run.error("approval reminder", f"refused by the privacy guard ({exc})")
        return 0
    reminded = run.store.intakes.mark_approval_reminded(
        [s.intake_id for s in waiting], run.now, owed
    )
    run.count("approval reminders", len(reminded))
    return len(reminded)


def plan(run: Run, remind: Sequence[ReferralState], expire: Sequence[ReferralState]) -> list[str]:
    waiting = [
        s
        for s in run.store.intakes.intakes_in(["suggested"]).values()
        if s.approval_reminded_at is None
        and s.updated_at
        and run.now - s.updated_at >= timedelta(hours=run.rules.approval_reminder_hours)
    ]
    return [
        f"Referrals: remind {len(remind)}, expire and re-route {len(expire)}",
        f"Suggestions: remind staff of {len(waiting)}",
    ]


@flow(name=FLOW_NAME, log_prints=False, persist_result=False)
@stops_on_name_errors
def referral_follow_up(dry_run: bool = False):
    """Remind partners who have not answered, re-route what they let expire, and remind staff of suggestions."""
    run = start_run(dry_run)
    run.report.flow = FLOW_NAME
    with measured(run.report):
        partners = run_step(load_partner_directory, run)
        remind, expire = due(run, run.store.referrals.referrals_in([NOTIFIED]))
        if dry_run:
            run.report.plan = plan(run, remind, expire)
        else:
            try:
                waiting = run.store.referrals.referrals_in([WRITTEN, NOTIFIED])
                answered = run_step(read_partner_sheets, run, partners, waiting)
                done = {r.referral_id for r in answered}
                remind = [r for r in remind if r.referral_id not in done]
                expire = [r for r in expire if r.referral_id not in done]
                run_step(remind_partners, run, partners, remind)
                expired = run_step(expire_referrals, run, expire)
                run_step(remind_approvals, run, partners)
                run_step(notify, run, partners)
                report_held(run)
            finally:
                run.store.release()
            closed = [run.store.referrals.referral(r.referral_id) for r in expire]
            close_in_partner_sheets(run, partners, [r for r in closed if r is not None])
            again = sorted({*expired, *(r.intake_id for r in answered)})
            if again:
                rerouted = run_routing(only=again, publish_report=False)
                run.count("re-routed", rerouted.counts.get("routing", 0))
                run.report.errors += rerouted.errors
    publish(run.report)
    return run.report


__all__ = ["due", "referral_follow_up"]
