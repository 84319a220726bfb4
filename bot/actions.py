"""Buttons and modals: partners accept or decline referrals, staff approve routing suggestions and campaign drafts.

Each handler runs after the ack, on a worker thread, and starts the same way
(`handles`: who acted, where, may they, a refusal audited and answered once). It
checks who clicked (a partner acts only on its own organization's referrals;
approvals are for staff), acts at most
once however often the button is pressed (the ledger's conditional updates and claims
decide), edits the clicked message so everybody sees who acted and when, answers the
clicker alone, and writes the audit trail: who, which button, on which id, allowed or
not, and what came of it.
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from bot import data, edits, modals
from bot.access import Actor, Decision, may, may_act_for
from bot.commands import DECLINE_REASONS, local_time, mention, quote
from bot.runtime import BotRuntime, Reply, check_outgoing
from coalition.intake.actions import (
    INTAKE_APPROVE_ALL,
    parse_intake_ids,
    parse_referral_action,
)
from coalition.ledger import utcnow
from coalition.ledger.intakes import IntakeStore
from coalition.ledger.referrals import NOTIFIED, WRITTEN, ReferralState, ReferralStore
from coalition.privacy import PIIError, escape_mrkdwn
from coalition.templating import render_message

log = logging.getLogger("bot.actions")

OPEN_STATES = (WRITTEN, NOTIFIED)
CHOOSABLE = ("suggested", "waitlist", "triage")  # flows/referral_actions.py CHOOSABLE
CAMPAIGN_APPROVE = "campaign_approve"
SENT_STATUSES = ("routing", "referred", "accepted")
NOT_SENT = (
    "nothing was sent: its row is gone from the Intake sheet or was changed since the suggestion"
)


@dataclass(frozen=True)
class Click:
    """The parts of a block_actions payload the handlers use."""

    user: str
    channel: str
    channel_name: str | None
    ts: str
    action_id: str
    value: str
    response_url: str | None
    trigger_id: str
    blocks: list[dict[str, Any]]


def read_click(body: Mapping[str, Any]) -> Click:
    action = (body.get("actions") or [{}])[0]
    value = action.get("value")
    if value is None:
        value = (action.get("selected_option") or {}).get("value")
    channel = body.get("channel") or {}
    container = body.get("container") or {}
    return Click(
        user=str((body.get("user") or {}).get("id") or ""),
        channel=str(channel.get("id") or container.get("channel_id") or ""),
        channel_name=channel.get("name"),
        ts=str(container.get("message_ts") or (body.get("message") or {}).get("ts") or ""),
        action_id=str(action.get("action_id") or ""),
        value=str(value or ""),
        response_url=body.get("response_url"),
        trigger_id=str(body.get("trigger_id") or ""),
        blocks=list((body.get("message") or {}).get("blocks") or []),
    )


def _reply(rt: BotRuntime, click: Click) -> Reply:
    return Reply(rt, click.response_url, click.channel or None, click.user)


def _now(rt: BotRuntime) -> str:
    return local_time(utcnow(), rt.tz)


# ---------------------------------------------------------------- who acted, and the refusal
@dataclass(frozen=True)
class Interaction:
    """A button press or a modal submission after the ack: who acted, where, and how to answer them alone."""

    rt: BotRuntime
    actor: Actor
    user: str
    channel: str  # "" when Slack did not say
    reply: Reply
    click: Click | None = None  # a button press
    meta: Mapping[str, Any] = field(default_factory=dict)  # a submitted modal's private metadata

    @property
    def pressed(self) -> Click:
        """The button press (handlers of buttons only)."""
        if self.click is None:
            raise TypeError("not a button press")
        return self.click

    def audit(self, action: str, target: str | None, allowed: bool, reason: str | None) -> None:
        self.rt.audit(self.actor, action, target, allowed, reason)

    def note(self, *lines: str) -> bool:
        return self.reply.note(*lines)

    def refuse(
        self, action: str, target: str | None, decision: Decision, outcome: str = "Nothing changed."
    ) -> None:
        """Audit a refusal and tell the person why, in the access rules' own words."""
        self.audit(action, target, False, decision.reason)
        self.note(f":no_entry: {decision.words} {outcome}")


def interaction(rt: BotRuntime, body: Mapping[str, Any]) -> Interaction:
    """Who pressed a button (block_actions) or sent a modal (view_submission), in which channel."""
    if body.get("actions"):
        click = read_click(body)
        actor = rt.actor(click.user, click.channel or None, click.channel_name)
        return Interaction(rt, actor, click.user, click.channel, _reply(rt, click), click=click)
    meta = modals.metadata(body.get("view") or {})
    user = str((body.get("user") or {}).get("id") or "")
    channel = str(meta.get("c") or "")
    actor = rt.actor(user, channel or None, meta.get("n") or None)
    return Interaction(rt, actor, user, channel, Reply(rt, None, channel or None, user), meta=meta)


Handler = Callable[..., None]


def handles(
    permission: str | None = None,
    action: str | Callable[[Interaction], str] = "",
    target: Callable[..., str | None] = lambda it, *args: None,
    outcome: str = "Nothing changed.",
) -> Callable[[Handler], Handler]:
    """The start every button and modal handler shares: read who acted, check `permission`, refuse once.

    The wrapped handler is called as `(runtime, body, *args)` (what bot/app.py hands to a
    worker after the ack) and receives `(interaction, *args)`. A refusal is audited
    under `action` with `target` and answered with the access rules' words. This is a
    decorator, not a Bolt listener middleware, on purpose: Bolt's middleware runs before
    the ack, and telling who someone is may ask Slack who is in a channel.
    """

    def wrap(handler: Handler) -> Handler:
        @functools.wraps(handler)
        def run(rt: BotRuntime, body: Mapping[str, Any], *args: Any) -> None:
            it = interaction(rt, body)
            if permission is not None:
                decision = may(it.actor, permission)
                if not decision.allowed:
                    label = action(it) if callable(action) else action
                    it.refuse(label, target(it, *args), decision, outcome)
                    return
            handler(it, *args)

        return run

    return wrap


# ---------------------------------------------------------------- referrals: accept, decline
def _already(referral: ReferralState, rt: BotRuntime) -> str:
    """Why a referral can no longer be answered, in words for the clicker."""
    who = f" by {mention(referral.decided_by)}" if referral.decided_by else ""
    when = f" on {local_time(referral.decided_at, rt.tz)}" if referral.decided_at else ""
    rid = f"*{escape_mrkdwn(referral.referral_id)}*"
    if referral.state == "accepted":
        return f"{rid} was already accepted{who}{when}. Nothing changed."
    if referral.state == "declined":
        return f"{rid} was declined{who}{when} and the case was re-routed. Nothing changed."
    if referral.state == "expired":
        return f"{rid} expired without an answer{when} and the case was re-routed. Nothing changed."
    if referral.state == "failed":
        return f"{rid} could not be delivered and the case was re-routed. Nothing changed."
    return f"{rid} is not waiting for an answer yet. Nothing changed."


def _settled_line(referral: ReferralState, rt: BotRuntime) -> str:
    who = mention(referral.decided_by) if referral.decided_by else "someone"
    when = local_time(referral.decided_at, rt.tz)
    if referral.state == "accepted":
        return f":white_check_mark: *Accepted* by {who} · {when}"
    if referral.state == "declined":
        reason = DECLINE_REASONS.get(referral.decline_reason or "", "")
        because = f" ({escape_mrkdwn(reason)})" if reason else ""
        return f":x: *Declined* by {who} · {when}{because}. The case went back to routing."
    if referral.state in {"expired", "failed"}:
        return ":leftwards_arrow_with_hook: No longer open: the case was re-routed."
    return ""


@handles()
def on_referral_click(it: Interaction) -> None:
    """Accept (acts now) or Decline (asks for a reason first) on a referral notice or digest."""
    rt, click = it.rt, it.pressed
    parsed = parse_referral_action(click.action_id, click.value)
    if parsed is None:
        it.audit(f"click:{click.action_id[:40]}", None, False, "unknown_button")
        it.note("That button is not one I know.")
        return
    action = "referral_accept" if parsed.accepted else "referral_decline"
    referral = ReferralStore(rt.ledger).referral(parsed.referral_id)
    target = parsed.referral_id[:80]
    if referral is None:
        it.audit(f"click:{action}", target, False, "unknown_referral")
        it.note(f"No referral *{quote(parsed.referral_id)}* in the ledger. Nothing changed.")
        return
    decision = may_act_for(it.actor, action, referral.partner_id)
    if not decision.allowed:
        it.refuse(f"click:{action}", target, decision)
        return
    if referral.state not in OPEN_STATES:
        it.audit(f"click:{action}", target, True, f"already_{referral.state}")
        _show_settled(rt, click, referral)
        it.note(_already(referral, rt))
        return
    if parsed.accepted:
        _accept(it, referral)
        return
    view = modals.decline_view(
        referral.referral_id, click.channel, click.channel_name or "", click.ts
    )
    try:
        rt.client.views_open(trigger_id=click.trigger_id, view=view)
    except Exception as exc:
        log.warning("could not open the decline form: %s", type(exc).__name__)
        it.note("I could not open the decline form in time; please press Decline again.")
        it.audit("click:referral_decline", target, True, "form_not_opened")
        return
    it.audit("click:referral_decline", target, True, "asked_reason")


def _show_settled(rt: BotRuntime, click: Click, referral: ReferralState) -> None:
    """A notice still offering buttons for a closed referral is brought up to date."""
    line = _settled_line(referral, rt)
    if line and click.channel and click.ts:
        rt.edit_message(
            click.channel,
            click.ts,
            lambda blocks: edits.settle_referral(blocks, referral.referral_id, line, False),
        )


def _accept(it: Interaction, referral: ReferralState) -> None:
    from flows.referral_actions import decide_referral

    rt, click = it.rt, it.pressed
    result = decide_referral(referral.referral_id, True, it.actor.user_id)
    current = ReferralStore(rt.ledger).referral(referral.referral_id) or referral
    if not result.recorded:
        it.audit("click:referral_accept", referral.referral_id, True, f"already_{current.state}")
        it.note(_already(current, rt))
        return
    it.audit("click:referral_accept", referral.referral_id, True, "accepted")
    line = _settled_line(current, rt)
    rt.edit_message(
        click.channel,
        click.ts,
        lambda blocks: edits.settle_referral(blocks, referral.referral_id, line),
    )
    it.note(
        f":white_check_mark: You accepted *{escape_mrkdwn(referral.referral_id)}*. "
        "The person's details are in your organization's referral sheet; please reach out soon."
    )


@handles()
def on_decline_submit(it: Interaction, reason: str) -> None:
    """The decline modal was sent: record the decline once, re-route the case, show it on the notice."""
    from flows.referral_actions import decide_referral

    rt = it.rt
    referral_id, ts = str(it.meta.get("r") or ""), str(it.meta.get("ts") or "")
    store = ReferralStore(rt.ledger)
    referral = store.referral(referral_id)
    if referral is None:
        it.audit("submit:referral_decline", referral_id[:80], False, "unknown_referral")
        it.note(f"No referral *{quote(referral_id)}* in the ledger.")
        return
    decision = may_act_for(it.actor, "referral_decline", referral.partner_id)
    if not decision.allowed:
        it.refuse("submit:referral_decline", referral_id, decision)
        return
    result = decide_referral(referral_id, False, it.actor.user_id, reason)
    current = store.referral(referral_id) or referral
    if not result.recorded:
        it.audit("submit:referral_decline", referral_id, True, f"already_{current.state}")
        it.note(_already(current, rt))
        return
    it.audit("submit:referral_decline", referral_id, True, f"declined:{reason}")
    line = _settled_line(current, rt)
    if it.channel and ts:
        rt.edit_message(
            it.channel, ts, lambda blocks: edits.settle_referral(blocks, referral_id, line)
        )
    it.note(
        f":x: You declined *{escape_mrkdwn(referral_id)}*. The case goes back to routing for another partner."
    )


# ---------------------------------------------------------------- approvals (routing.mode: approve)
def _clicked_ids(click: Click) -> list[str]:
    ids = parse_intake_ids(click.value)
    if click.action_id == INTAKE_APPROVE_ALL or len(ids) > 1:
        still_open = set(edits.open_suggestions(click.blocks))
        has_suggestions = any(
            str(b.get("block_id", "")).startswith("suggestion:") for b in click.blocks
        )
        if has_suggestions:
            ids = [i for i in ids if i in still_open]
    return ids


def _clicked_target(it: Interaction, *_: Any) -> str | None:
    return ",".join(_clicked_ids(it.pressed))[:80] or None


@handles("intake_approve", lambda it: f"click:{it.pressed.action_id}", _clicked_target)
def on_intake_approve(it: Interaction) -> None:
    """Approve one suggestion (or every one still open in the message) and send the cases out."""
    from flows.referral_actions import approve

    rt, click = it.rt, it.pressed
    ids = _clicked_ids(click)
    if not ids:
        it.audit(f"click:{click.action_id}", None, True, "nothing_open")
        it.note("Every suggestion in this message has been answered already. Nothing changed.")
        return
    result = approve(ids, it.actor.user_id)
    sent = _sent(rt, result)
    _after_approval(rt, click.channel, click.ts, it.actor, result, sent)
    reason = "approved" if result.approved else "nothing_approved"
    it.audit(f"click:{click.action_id}", _clicked_target(it), True, reason)
    it.note(*_approval_lines(result, sent))


def _went(result: Any, intake_id: str, sent: set[str]) -> str:
    """Where an approved case went, or why nothing was sent (its row vanished or changed)."""
    if intake_id in sent:
        return escape_mrkdwn(result.outcome.get(intake_id, "sent to routing"))
    return NOT_SENT


def _sent(rt: BotRuntime, result: Any) -> set[str]:
    """The approved cases routing actually sent out (a referral exists for them now)."""
    states = IntakeStore(rt.ledger).intakes(list(result.approved))
    return {i for i, s in states.items() if s.status in SENT_STATUSES and s.current_referral}


def _after_approval(
    rt: BotRuntime, channel: str, ts: str, actor: Actor, result: Any, sent: set[str]
) -> None:
    """Settle each answered case in the approval request, saying who approved it and where it went."""
    if not channel or not ts:
        return
    when = _now(rt)
    acted = {
        i: f":white_check_mark: *Approved* by {mention(actor.user_id)} · {when} → {_went(result, i, sent)}"
        for i in result.approved
    }
    # A refused case is shown as it stands, unless its line is there already: a click that
    # acted at the same moment knows more (where the case went) and writes it itself.
    states = IntakeStore(rt.ledger).intakes(list(result.refused))
    stale = {i: _standing(states.get(i), why, rt) for i, why in result.refused.items()}
    if acted:
        rt.edit_message(channel, ts, lambda blocks: edits.settle_suggestions(blocks, acted))
    if stale:
        rt.edit_message(
            channel, ts, lambda blocks: edits.settle_suggestions(blocks, stale, replace=False)
        )


def _standing(state: Any, why: str, rt: BotRuntime) -> str:
    if state is not None and state.approved_by:
        who = mention(state.approved_by)
        return f":white_check_mark: *Approved* by {who} · {local_time(state.approved_at, rt.tz)}"
    return f":information_source: Not approved: {escape_mrkdwn(why)}"


def _approval_lines(result: Any, sent: set[str]) -> list[str]:
    out = []
    for intake_id in result.approved:
        mark = ":white_check_mark:" if intake_id in sent else ":warning:"
        out.append(
            f"{mark} *{escape_mrkdwn(intake_id)}* approved → {_went(result, intake_id, sent)}"
        )
    for intake_id, why in result.refused.items():
        out.append(
            f":information_source: *{quote(intake_id)}* not approved: it {escape_mrkdwn(why)}. Nothing was sent."
        )
    return out or ["Nothing to approve. Nothing changed."]


def choosable_cases(rt: BotRuntime, intake_ids: list[str]) -> list[modals.CaseChoices]:
    """For each case still waiting, the partners that fit it (other than the suggested one) and why."""
    from flows.referral_actions import explain_intake

    states = IntakeStore(rt.ledger).intakes(intake_ids)
    cases = []
    for intake_id in intake_ids:
        state = states.get(intake_id)
        if state is None or state.status not in CHOOSABLE:
            continue
        explanation = explain_intake(intake_id)
        if explanation is None:
            continue
        others = [
            c for c in explanation.considered if c.fits and c.partner_id != state.suggested_partner
        ]
        excluded = [c for c in explanation.considered if not c.fits]
        cases.append(
            modals.CaseChoices(
                intake_id=intake_id,
                summary=escape_mrkdwn(explanation.summary),
                fits=tuple(f"• {escape_mrkdwn(c.line())}" for c in others),
                excluded=tuple(f"• {escape_mrkdwn(c.line())}" for c in excluded[:8]),
                partners={c.partner_id: c.name for c in others},
            )
        )
    return cases


def fits_for(rt: BotRuntime, intake_ids: list[str]) -> dict[str, list[str]]:
    """Intake ID -> partner ids staff may choose (checked again when the modal is sent)."""
    return {c.intake_id: list(c.partners) for c in choosable_cases(rt, intake_ids)}


@handles("intake_choose_partner", "click:intake_choose_partner", _clicked_target)
def on_choose_partner(it: Interaction) -> None:
    """Open the modal listing, for each open case, the other partners that fit and why."""
    rt, click = it.rt, it.pressed
    target = _clicked_target(it)
    cases = [c for c in choosable_cases(rt, _clicked_ids(click)) if c.partners]
    if not cases:
        it.audit("click:intake_choose_partner", target, True, "no_other_fit")
        it.note(
            "No case here has another partner that fits (or none is waiting any more). Nothing changed."
        )
        return
    try:
        rt.client.views_open(
            trigger_id=click.trigger_id,
            view=modals.choose_partner_view(cases, click.channel, click.ts),
        )
    except Exception as exc:
        log.warning("could not open the partner choice: %s", type(exc).__name__)
        it.note("I could not open the form in time; please press the button again.")
        it.audit("click:intake_choose_partner", target, True, "form_not_opened")
        return
    it.audit("click:intake_choose_partner", target, True, "asked_partner")


@handles("intake_choose_partner", "submit:intake_choose_partner", lambda it, intake, _: intake)
def on_choose_submit(it: Interaction, intake_id: str, partner_id: str) -> None:
    """Staff picked another partner for a case: approve it to that partner, once."""
    from flows.referral_actions import approve

    rt = it.rt
    result = approve([intake_id], it.actor.user_id, partner_id=partner_id)
    sent = _sent(rt, result)
    _after_approval(rt, it.channel, str(it.meta.get("ts") or ""), it.actor, result, sent)
    it.audit(
        "submit:intake_choose_partner",
        f"{intake_id}:{partner_id}"[:80],
        True,
        "approved" if result.approved else "nothing_approved",
    )
    it.note(*_approval_lines(result, sent))


# ---------------------------------------------------------------- campaign drafts
def campaign_message(
    rt: BotRuntime, record_id: str, draft: modals.CampaignDraft, approved: str = ""
) -> tuple[str, list]:
    """The approval request for a draft; the message itself withheld if the guard finds personal data."""
    context = {
        "record_id": record_id,
        "title": draft.title,
        "message": draft.message,
        "withheld": False,
        "call_to_action": draft.call_to_action,
        "link": draft.link,
        "channels": list(draft.channels),
        "regions": list(draft.regions),
        "drafted_by": "a member in Slack",
        "approved": approved,
    }
    text, blocks = render_message("slack/bot_campaign_draft.json.j2", **context)
    try:
        check_outgoing(text, blocks)
    except PIIError:
        context.update(message="", withheld=True)
        text, blocks = render_message("slack/bot_campaign_draft.json.j2", **context)
    return text, blocks


@handles("alert", "submit:campaign_draft", outcome="Nothing was saved.")
def on_campaign_draft(it: Interaction, draft: modals.CampaignDraft) -> None:
    """A campaign draft was submitted: save it in Airtable as Draft and ask staff to approve it."""
    rt = it.rt
    record_id = rt.airtable.create("campaigns", draft.airtable_fields())
    it.audit("submit:campaign_draft", record_id, True, "draft_saved")
    approvals = rt.settings.services.slack.channels.organizing
    text, blocks = campaign_message(rt, record_id, draft)
    try:
        rt.poster.post(f"campaign-draft:{record_id}", approvals, text, blocks)
    except Exception as exc:
        log.error("could not post the draft for approval: %s", type(exc).__name__)
        it.note(
            f"Saved *{escape_mrkdwn(draft.title)}* as a Draft in Airtable, but I could not ask staff in #{escape_mrkdwn(approvals)}; tell them it is there."
        )
        return
    it.note(
        f":memo: Saved *{escape_mrkdwn(draft.title)}* as a Draft in Airtable. Staff approve it in #{escape_mrkdwn(approvals)} before it goes out."
    )


@handles("campaign_approve", "click:campaign_approve", lambda it: it.pressed.value[:40])
def on_campaign_approve(it: Interaction) -> None:
    """Staff approve a draft: its Status becomes Ready once, however often the button is pressed."""
    rt, click = it.rt, it.pressed
    record_id = click.value[:40]
    earlier = data.claim_once(rt.ledger, data.CAMPAIGN_CLAIM, record_id, it.actor.user_id, utcnow())
    if earlier is not None:
        on = f" on {local_time(earlier.since, rt.tz)}"
        it.audit("click:campaign_approve", record_id, True, "already_approved")
        it.note(
            f"This draft was already approved by {mention(earlier.owner)}{on}. Nothing changed."
        )
        return
    record = rt.airtable.record("campaigns", record_id, ["Title", "Status"])
    status = str(((record or {}).get("fields") or {}).get("Status") or "")
    if record is None or status != "Draft":
        data.release_claim(rt.ledger, data.CAMPAIGN_CLAIM, record_id)
        why = (
            "it is gone from Airtable"
            if record is None
            else f"it is {escape_mrkdwn(status or 'without a status')} in Airtable now"
        )
        it.audit("click:campaign_approve", record_id, True, "not_a_draft")
        it.note(f"I did not approve this draft: {why}. Nothing changed.")
        return
    rt.airtable.update("campaigns", record_id, {"Status": "Ready"})
    it.audit("click:campaign_approve", record_id, True, "approved")
    line = f":white_check_mark: *Approved* by {mention(it.actor.user_id)} · {_now(rt)}: Ready. The alerts flow posts it when it is due."
    rt.edit_message(click.channel, click.ts, lambda blocks: edits.strip_actions(blocks, line))
    it.note(
        ":white_check_mark: Approved: the campaign is Ready in Airtable and goes out when it is due."
    )


__all__ = [
    "CAMPAIGN_APPROVE",
    "Interaction",
    "campaign_message",
    "choosable_cases",
    "fits_for",
    "handles",
    "interaction",
    "on_campaign_approve",
    "on_campaign_draft",
    "on_choose_partner",
    "on_choose_submit",
    "on_decline_submit",
    "on_intake_approve",
    "on_referral_click",
    "read_click",
]
