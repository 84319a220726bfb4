"""The slow half of `/coalition`: after the ack, check who is asking, do the work, answer only them.

`handle_command` runs on a worker thread with the slash command's form fields. Each
subcommand's answer goes through the command's response_url (ephemeral, only the
asker sees it) and every command is written to the audit trail: who, which
subcommand, on which id, allowed or not and why, never the text they typed.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from bot import commands, data, figures, modals
from bot.access import Actor, may, may_act_for, sees_personal_contact
from bot.commands import Command, quote
from bot.flowruns import FlowStartError, RunOutcome
from bot.runtime import BotRuntime, Reply
from coalition.ledger import utcnow
from coalition.summary.outcomes import partner_outcome, partner_rows
from coalition.summary.weeks import WeekError, resolve_week
from coalition.templating import slack_link

log = logging.getLogger("bot.answers")

SUMMARY_FLOW = "weekly-summary"


@dataclass
class Outcome:
    """What the audit trail keeps of one command: allowed or not, why, and the id it was about."""

    allowed: bool = True
    reason: str | None = None
    target: str | None = None


def handle_command(rt: BotRuntime, form: Mapping[str, Any]) -> None:
    """Answer one `/coalition ...` (form fields as Slack sent them)."""
    user = str(form.get("user_id") or "")
    channel = str(form.get("channel_id") or "") or None
    command = commands.parse(str(form.get("text") or ""), rt.runner.names)
    actor = rt.actor(user, channel, str(form.get("channel_name") or "") or None)
    reply = Reply(rt, str(form.get("response_url") or "") or None, channel, user)
    outcome = Outcome(reason=command.problem, target=command.audit_target)
    try:
        decision = may(actor, command.name)
        if not decision.allowed:
            outcome = Outcome(False, decision.reason, command.audit_target)
            reply.note(f":no_entry: {decision.words}")
            return
        found = HANDLERS[command.name](rt, command, actor, reply, form)
        if found is not None:
            outcome = found
    except Exception as exc:
        outcome = Outcome(outcome.allowed, f"error:{type(exc).__name__}", outcome.target)
        raise
    finally:
        rt.audit(actor, f"command:{command.name}", outcome.target, outcome.allowed, outcome.reason)


# ---------------------------------------------------------------- one handler per subcommand
Handler = Callable[[BotRuntime, Command, Actor, Reply, Mapping[str, Any]], Outcome | None]


def _help(rt: BotRuntime, command: Command, actor: Actor, reply: Reply, form: Mapping) -> None:
    reply.send(commands.render_help(actor, command.problem, rt.runner.names))


def _referral(
    rt: BotRuntime, command: Command, actor: Actor, reply: Reply, form: Mapping
) -> Outcome:
    referral_id = command.arg or ""
    view = data.referral_view(rt.ledger, referral_id, rt.partner_names())
    mine = view is not None and may_act_for(actor, "referral", view.partner_id).allowed
    if not mine:
        # The same words whether it does not exist or belongs to someone else: no probing.
        whose = "in the ledger" if actor.is_staff else "among your organization's referrals"
        reply.note(f"No referral *{quote(referral_id)}* {whose}.")
        if view is None:
            return Outcome(True, "unknown_referral", referral_id)
        return Outcome(False, "not_yours", referral_id)
    reply.send(commands.render_referral(view, rt.tz))
    return Outcome(target=referral_id)


def _intake(rt: BotRuntime, command: Command, actor: Actor, reply: Reply, form: Mapping) -> None:
    counts = data.intake_counts(rt.ledger, command.arg or "today", utcnow(), rt.tz)
    reply.send(commands.render_intake_counts(counts))


def _member(rt: BotRuntime, command: Command, actor: Actor, reply: Reply, form: Mapping) -> None:
    query = command.arg or ""
    members = rt.airtable.records("members", data.MEMBER_FIELDS)
    by_name = {str((m.get("fields") or {}).get("Name") or ""): m for m in members}
    names = data.match_members(by_name, query)
    if not names:
        reply.note(f"No member organization matches “{quote(query)}”.")
        return
    if len(names) > 1 and not _single_obvious(names, query):
        reply.send(commands.render_member_choices(query, names))
        return
    contacts = rt.airtable.records("contacts", data.CONTACT_FIELDS)
    card = data.member_card(by_name[names[0]], contacts, sees_personal_contact(actor))
    reply.send(commands.render_member(card, names[1:]), allow=[card.phone or ""])


def _single_obvious(names: list[str], query: str) -> bool:
    return names[0].casefold() == " ".join(query.split()).casefold()


def _bills(rt: BotRuntime, command: Command, actor: Actor, reply: Reply, form: Mapping) -> None:
    bills = data.bill_views(rt.airtable.records("bills", data.BILL_FIELDS))
    reply.send(commands.render_bills(bills))


def _bill(rt: BotRuntime, command: Command, actor: Actor, reply: Reply, form: Mapping) -> Outcome:
    bills = data.bill_views(rt.airtable.records("bills", data.BILL_FIELDS))
    found = data.match_bills(bills, command.arg or "")
    if not found:
        reply.note(
            f"No tracked bill “{quote(command.arg or '')}”. `/coalition bills` lists them all."
        )
        return Outcome(True, "unknown_bill")  # what was typed is not kept: it may be anything
    reply.send(commands.render_bills(found, single=True))
    return Outcome(target=found[0].bill[:80])


def _alert(rt: BotRuntime, command: Command, actor: Actor, reply: Reply, form: Mapping) -> None:
    channels, regions = campaign_choices(rt)
    here = (str(form.get("channel_id") or ""), str(form.get("channel_name") or ""))
    view = modals.alert_view(*here, channels, regions)
    try:
        rt.client.views_open(trigger_id=str(form.get("trigger_id") or ""), view=view)
    except Exception as exc:
        log.warning("could not open the campaign form: %s", type(exc).__name__)
        reply.note(
            "I could not open the campaign form in time; please try `/coalition alert` again."
        )


def campaign_choices(rt: BotRuntime) -> tuple[list[str], list[str]]:
    """Channels and regions a campaign draft may name (from config)."""
    core = rt.settings.services.slack.channels
    alerts = rt.settings.alerts
    channels = list(dict.fromkeys([core.organizing, core.policy, *alerts.region_channels.values()]))
    return channels, list(alerts.region_channels)


def _summary(
    rt: BotRuntime, command: Command, actor: Actor, reply: Reply, form: Mapping
) -> Outcome:
    try:  # the same rule as the flow: the last complete week by default, never a future one
        week = resolve_week(command.arg, utcnow(), rt.tz).label
    except WeekError:
        reply.note(f"Week *{command.arg}* has not begun yet; the summary reports on past weeks.")
        return Outcome(True, "future_week", command.arg)

    def done(outcome: RunOutcome) -> None:
        url = _summary_url(rt, week) if outcome.ok else None
        if url:
            doc = slack_link(url, "open the Doc")
            reply.note(f":page_facing_up: The weekly summary for *{week}* is ready: {doc}.")
        else:
            reply.note(
                f":warning: The weekly summary for *{week}* did not finish: {quote(outcome.state)}."
                + (f" {slack_link(outcome.url, 'See the run')}." if outcome.url else "")
            )

    _start(rt, SUMMARY_FLOW, {"week": week}, reply, done, f"the weekly summary for *{week}*")
    return Outcome(target=week)


def _summary_url(rt: BotRuntime, week: str) -> str | None:
    from coalition.ledger.summary_history import summary_url

    url = summary_url(rt.ledger, week)
    return url if url and url.startswith(("https://", "http://")) else None


def _status(rt: BotRuntime, command: Command, actor: Actor, reply: Reply, form: Mapping) -> None:
    rows, source = rt.runner.last_runs(rt.ledger)
    reply.send(commands.render_status(rows, source, rt.tz))


def _run(rt: BotRuntime, command: Command, actor: Actor, reply: Reply, form: Mapping) -> Outcome:
    flow = command.arg or ""

    def done(outcome: RunOutcome) -> None:
        mark = ":white_check_mark:" if outcome.ok else ":x:"
        lines = [f"{mark} *{flow}* finished: {quote(outcome.state)}."]
        lines += [quote(line, 200) for line in outcome.lines]
        if outcome.url:
            lines.append(slack_link(outcome.url, "See the run in Prefect"))
        reply.note(*lines)

    _start(rt, flow, {}, reply, done, f"*{flow}*")
    return Outcome(target=flow)


def _start(
    rt: BotRuntime,
    flow: str,
    params: dict[str, Any],
    reply: Reply,
    done: Callable[[RunOutcome], None],
    what: str,
) -> None:
    try:
        started = rt.runner.start(flow, params, done)
    except FlowStartError as exc:
        reply.note(f":warning: Could not start {what}: {quote(str(exc), 300)}")
        return
    if started.mode == "deployment":
        where = f" as Prefect run {slack_link(started.url, started.name)}" if started.url else ""
        reply.note(
            f":hourglass_flowing_sand: Started {what}{where}. I will tell you here when it ends."
        )
    else:
        reply.note(
            f":hourglass_flowing_sand: Started {what} on the bot's machine. I will tell you here when it ends."
        )


def _why(rt: BotRuntime, command: Command, actor: Actor, reply: Reply, form: Mapping) -> Outcome:
    from flows.referral_actions import explain_intake

    intake_id = command.arg or ""
    explanation = explain_intake(intake_id)
    if explanation is None:
        reply.note(f"No intake *{quote(intake_id)}* in the ledger.")
        # Not an Intake ID the bot made: what was typed (perhaps a phone) is not kept.
        return Outcome(True, "unknown_intake")
    reply.send(commands.render_why(explanation.lines()))
    return Outcome(target=intake_id)


OUTCOME_WEEKS = 12  # the Doc's per-partner span


def _needs(rt: BotRuntime, command: Command, actor: Actor, reply: Reply, form: Mapping) -> Outcome:
    today = utcnow().astimezone(rt.tz).date()
    month = figures.resolve_month(command.month, today)
    if month is None:
        reply.note(
            f"*{command.month}* has not begun yet; `needs` reports on this month or earlier."
        )
        return Outcome(True, "future_month", command.month)
    need = data.unmet_need_for(rt.ledger, month, rt.tz, rt.settings.summary.small_count_threshold)
    place = " ".join((command.arg or "").split())[:60] or None
    states = data.county_states(rt.ledger) if place else {}
    rows = figures.matching_rows(need.by_type_month, place, states)
    # The place typed is shown back to its typist only (the answer is ephemeral), never kept.
    reply.send(figures.render_needs(need, place, rows), allow=[place or ""])
    return Outcome(target=f"{month:%Y-%m}")


def _outcomes(
    rt: BotRuntime, command: Command, actor: Actor, reply: Reply, form: Mapping
) -> Outcome:
    now = utcnow()
    start = now - timedelta(weeks=OUTCOME_WEEKS)
    names = rt.partner_names()
    if command.arg:
        found = data.match_members(names.values(), command.arg)
        chosen = [pid for pid, name in names.items() if found and name == found[0]]
        if not chosen or not may_act_for(actor, "outcomes", chosen[0]).allowed:
            # The same words for an unknown partner and another organization's: no probing.
            whose = (
                ""
                if actor.is_staff
                else " among your organizations; `/coalition outcomes` shows your own"
            )
            reply.note(f"No partner “{quote(command.arg)}”{whose}.")
            return Outcome(
                not chosen or actor.is_staff, "unknown_partner" if not chosen else "not_yours"
            )
        partner_ids = chosen[:1]
    elif actor.is_staff:
        facts = data.outcome_facts(rt.ledger, start)
        tallies = {
            pid: partner_outcome(facts, pid, start, now) for pid in {f.partner_id for f in facts}
        }
        rows = partner_rows({k: t for k, t in tallies.items() if t.sent}, names)
        reply.send(figures.render_all_outcomes(rows, _day(rt, start), _day(rt, now), OUTCOME_WEEKS))
        return Outcome()
    else:
        partner_ids = sorted(actor.partner_ids)
    facts = data.outcome_facts(rt.ledger, start)
    for pid in partner_ids:
        tally = partner_outcome(facts, pid, start, now)
        reply.send(
            figures.render_outcomes(
                names.get(pid, pid), tally, _day(rt, start), _day(rt, now), OUTCOME_WEEKS
            )
        )
    return Outcome(target=",".join(partner_ids)[:80])


def _day(rt: BotRuntime, moment: datetime) -> date:
    return moment.astimezone(rt.tz).date()


HANDLERS: dict[str, Handler] = {
    "needs": _needs,
    "outcomes": _outcomes,
    "help": _help,
    "referral": _referral,
    "intake": _intake,
    "member": _member,
    "bill": _bill,
    "bills": _bills,
    "alert": _alert,
    "summary": _summary,
    "status": _status,
    "run": _run,
    "why": _why,
}

__all__ = ["HANDLERS", "campaign_choices", "handle_command"]
