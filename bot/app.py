"""The Bolt app: `/coalition`, the referral, approval and campaign buttons, and their modals.

Every listener acknowledges Slack at once (Slack gives an app 3 seconds; these
answer in about a millisecond) and hands the work to a worker thread
(`BotRuntime.submit`), so nothing slow happens before `ack()`. Bolt runs with
`process_before_response=True`: a listener that only acks and hands over returns at
once, and Bolt answers as soon as it returns. (With `False`, Bolt runs the listener
on another thread and polls every 10 ms for the ack: 10 ms or more per request for
nothing, and a thread hop under the interpreter lock.) Only a modal submission does
a little checking first, because Slack shows input errors from the ack itself.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable, Mapping
from typing import Any

from slack_bolt import Ack, App
from slack_sdk import WebClient

from bot import actions, answers, modals
from bot.flowruns import FlowRunner
from bot.logs import install_secret_scrubbing
from bot.runtime import BotRuntime, Reply, app_token, signing_secret
from coalition.intake.actions import (
    INTAKE_APPROVE,
    INTAKE_APPROVE_ALL,
    INTAKE_CHOOSE_PARTNER,
    REFERRAL_ACCEPT,
    REFERRAL_DECIDE,
    REFERRAL_DECLINE,
)
from coalition.settings import Settings, settings

log = logging.getLogger("bot.app")

COMMAND = "/coalition"


def create_runtime(
    cfg: Settings | None = None,
    *,
    client: WebClient | None = None,
    runner: FlowRunner | None = None,
    workers: int = 8,
) -> BotRuntime:
    """Clients, ledger, poster and workers on the configured services (sandbox or live)."""
    from bot.data import Airtable
    from coalition.ledger import open_ledger
    from flows.posting import guarded_poster
    from integrations.clients import slack_client

    cfg = cfg or settings()
    client = client or slack_client(cfg)
    ledger = open_ledger(cfg.database_url)
    return BotRuntime(
        settings=cfg,
        client=client,
        ledger=ledger,
        poster=guarded_poster(client, ledger),
        runner=runner or FlowRunner(),
        airtable=Airtable(cfg),
        workers=workers,
    )


def create_app(runtime: BotRuntime) -> App:
    """The Bolt App with every listener registered."""
    secret = signing_secret(runtime.settings)
    install_secret_scrubbing([secret, runtime.client.token, app_token(runtime.settings)])
    app = App(
        client=runtime.client,
        signing_secret=secret,
        process_before_response=True,
        name="coalition",
    )
    app.command(COMMAND)(_handing_over(runtime, answers.handle_command))
    for action_id in (REFERRAL_ACCEPT, REFERRAL_DECLINE, REFERRAL_DECIDE):
        app.action(action_id)(_handing_over(runtime, actions.on_referral_click))
    for action_id in (INTAKE_APPROVE, INTAKE_APPROVE_ALL):
        app.action(action_id)(_handing_over(runtime, actions.on_intake_approve))
    app.action(INTAKE_CHOOSE_PARTNER)(_handing_over(runtime, actions.on_choose_partner))
    app.action(actions.CAMPAIGN_APPROVE)(_handing_over(runtime, actions.on_campaign_approve))
    # Link buttons of other messages also send a click; it needs an ack and nothing else.
    app.action(re.compile(r".*"))(_handing_over(runtime, _other_click))
    app.view(modals.DECLINE_CALLBACK)(_decline_submitted(runtime))
    app.view(modals.ALERT_CALLBACK)(_draft_submitted(runtime))
    app.view(modals.CHOOSE_CALLBACK)(_choice_submitted(runtime))
    # The app subscribes to no events (config/slack-manifest.yaml); one that arrives anyway
    # (a subscription added by hand) is acknowledged, or Slack would send it again and again.
    app.event(re.compile(r".*"))(_ignore_event)
    # What Slack would only send a differently configured app (another command, a view
    # this app did not open) is acknowledged and recorded, never left to Bolt's 404.
    app.command(re.compile(r".*"))(_other_command)
    app.view(re.compile(r".*"))(_other_view(runtime))
    return app


def _ignore_event(event: dict[str, Any]) -> None:
    log.debug("ignored a %s event", event.get("type"))  # its type only: events carry text


def _handing_over(
    runtime: BotRuntime, work: Callable[[BotRuntime, Mapping[str, Any]], None]
) -> Callable[..., None]:
    def listener(ack: Ack, body: dict[str, Any]) -> None:
        ack()
        runtime.submit(_apologising(work), runtime, body)

    listener.__name__ = f"ack_then_{getattr(work, '__name__', 'work')}"
    return listener


def _apologising(work: Callable[..., None]) -> Callable[..., None]:
    """`work`, telling the person when it fails instead of leaving them with silence."""

    def run(runtime: BotRuntime, body: Mapping[str, Any], *args: Any) -> None:
        try:
            work(runtime, body, *args)
        except Exception as exc:
            log.exception("%s failed: %s", getattr(work, "__name__", "work"), type(exc).__name__)
            apologise(runtime, body, exc)

    run.__name__ = getattr(work, "__name__", "work")
    return run


def apologise(runtime: BotRuntime, body: Mapping[str, Any], exc: Exception) -> None:
    """One short answer to the person whose command or click failed (the error's class only)."""
    from bot.commands import render_note

    user = str(body.get("user_id") or (body.get("user") or {}).get("id") or "")
    channel = body.get("channel_id") or (body.get("channel") or {}).get("id")
    if channel is None and isinstance(body.get("view"), dict):
        channel = modals.metadata(body["view"]).get("c")
    words = render_note(
        [
            f":warning: Something went wrong ({type(exc).__name__}); nothing more was done. "
            "Try again in a minute; if it keeps failing, tell the ops admins."
        ]
    )
    Reply(runtime, body.get("response_url"), channel, user).send(words)


@actions.handles()
def _other_click(it: actions.Interaction) -> None:
    it.audit(f"click:{it.pressed.action_id[:40]}", None, True, "no_handler")


def _other_command(ack: Ack, command: dict[str, Any]) -> None:
    log.warning("a command this app does not register arrived; check the app's manifest")
    ack(f"This app answers {COMMAND} only. Try `{COMMAND} help`.")


def _other_view(runtime: BotRuntime) -> Callable[..., None]:
    def listener(ack: Ack, body: dict[str, Any]) -> None:
        ack()  # closes the form; nothing else to do with a view this app did not open
        user = str((body.get("user") or {}).get("id") or "")
        runtime.submit(
            lambda: runtime.audit(
                runtime.actor(user, None, None), "submit:unknown_view", None, True, "no_handler"
            )
        )

    return listener


def _decline_submitted(runtime: BotRuntime) -> Callable[..., None]:
    def listener(ack: Ack, body: dict[str, Any], view: dict[str, Any]) -> None:
        reason, errors = modals.read_decline(view)
        if errors or reason is None:
            ack(response_action="errors", errors=errors)
            return
        ack()
        runtime.submit(_apologising(actions.on_decline_submit), runtime, body, reason)

    return listener


def _draft_submitted(runtime: BotRuntime) -> Callable[..., None]:
    def listener(ack: Ack, body: dict[str, Any], view: dict[str, Any]) -> None:
        channels, regions = answers.campaign_choices(runtime)
        draft, errors = modals.read_campaign(view, channels, regions)
        if errors or draft is None:
            ack(response_action="errors", errors=errors)
            return
        ack()
        runtime.submit(_apologising(actions.on_campaign_draft), runtime, body, draft)

    return listener


def _choice_submitted(runtime: BotRuntime) -> Callable[..., None]:
    def listener(ack: Ack, body: dict[str, Any], view: dict[str, Any]) -> None:
        cases = [str(c) for c in modals.metadata(view).get("cases") or []]
        # A quick ledger read: the partners that fit are checked again now, not trusted from the view.
        choice, errors = modals.read_choice(view, actions.fits_for(runtime, cases))
        if errors or choice is None:
            ack(response_action="errors", errors=errors)
            return
        ack()
        runtime.submit(_apologising(actions.on_choose_submit), runtime, body, *choice)

    return listener


__all__ = ["COMMAND", "create_app", "create_runtime"]
