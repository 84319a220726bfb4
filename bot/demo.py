"""The Slack app's part of `coalition demo`: a short conversation through the sandbox's Slack side.

After the flows have run, the app is served on a free port and people of the demo
coalition use it as they would in Slack: staff ask for help, intake counts and why a
case went where it went; a partner accepts one referral and declines another (with a
reason, which re-routes the case); someone forges a request and is refused. Every
step goes through /_sandbox/slack/*, so the viewer shows the conversation: the
ephemeral answers, the notices edited to show who acted, the modal.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import httpx
from rich.console import Console
from rich.table import Table

from bot.app import create_runtime
from bot.server import start_in_thread
from coalition.ledger import open_ledger
from coalition.ledger.referrals import ReferralState, ReferralStore
from coalition.settings import settings


@dataclass
class Step:
    who: str
    what: str
    outcome: str


def _control(sandbox_url: str, endpoint: str, body: dict[str, Any]) -> dict[str, Any]:
    return httpx.post(f"{sandbox_url}/_sandbox/slack/{endpoint}", json=body, timeout=60).json()


def _open_notices() -> list[ReferralState]:
    """Referrals announced by their own notice and still waiting for the partner."""
    return ReferralStore(open_ledger()).announced_waiting()


def _partner_user(slack: Any, channel_id: str, staff: set[str]) -> str | None:
    members = slack.channels.get(channel_id, {}).get("members", [])
    return next((u for u in members if u not in staff and u != slack.bot_user_id), None)


def rehearse(sandbox: Any, sandbox_url: str, console: Console) -> bool:
    """Play the conversation against the running sandbox; print what people saw. False if a step failed."""
    cfg = settings()
    slack = sandbox.services["slack"]
    staff, admin = (cfg.access.staff or ["U0STAFF"])[0], (cfg.access.admins or ["U0ADMIN"])[0]
    everyone_staff = set(cfg.access.staff) | set(cfg.access.admins)
    triage = cfg.services.slack.channels.intake_triage
    runtime = create_runtime(cfg)
    running = start_in_thread(runtime)
    steps: list[Step] = []
    ok = True

    def last_answer(user: str, channel: str) -> str:
        shown = slack.messages(slack.resolve_channel(channel), include_ephemeral=True)
        mine = [m for m in shown if m.get("visible_to") == user]
        return (
            " ".join(str(mine[-1].get("text") or "").split())[:110] if mine else "(nothing shown)"
        )

    def step(
        who: str,
        what: str,
        act: Callable[[], dict[str, Any]],
        channel: str,
        user: str,
        expect: int = 200,
    ) -> None:
        nonlocal ok
        reply = act()
        runtime.wait_idle(120)
        status = reply.get("status")
        if status != 200:
            outcome = (
                f"HTTP {status}: refused, nothing done" if status == 401 else f"failed ({reply})"
            )
        else:
            outcome = last_answer(user, channel)
        ok = ok and status == expect  # a forged request answered 200 is a failure too
        steps.append(Step(who, what, outcome))

    def slash(user: str, text: str, channel: str = triage, **extra: Any) -> dict[str, Any]:
        body = {"app_url": running.url, "user": user, "channel": channel, "text": text, **extra}
        return _control(sandbox_url, "command", body)

    try:
        step("staff", "/coalition help", lambda: slash(staff, "help"), triage, staff)
        step("staff", "/coalition intake week", lambda: slash(staff, "intake week"), triage, staff)
        notices = _open_notices()
        accepted = declined = None
        for referral in notices:
            user = _partner_user(slack, referral.slack_channel or "", everyone_staff)
            if user is None:
                continue
            click = {
                "app_url": running.url,
                "user": user,
                "channel": referral.slack_channel,
                "message_ts": referral.slack_ts,
            }
            if accepted is None:
                accepted = referral
                step(
                    "partner",
                    f"Accept on {referral.referral_id}",
                    lambda c=click: _control(
                        sandbox_url, "action", {**c, "action_id": "referral_accept"}
                    ),
                    referral.slack_channel or "",
                    user,
                )
            elif declined is None and referral.partner_id != accepted.partner_id:
                declined = referral
                step(
                    "partner",
                    f"Decline on {referral.referral_id}",
                    lambda c=click: _control(
                        sandbox_url, "action", {**c, "action_id": "referral_decline"}
                    ),
                    referral.slack_channel or "",
                    user,
                )
                view = slack.top_view(user)
                if view is not None:
                    steps[
                        -1
                    ].outcome = "a form opened asking why (a reason from a list, no free text)"
                    body = {
                        "app_url": running.url,
                        "view_id": view["id"],
                        "user": user,
                        "values": {"reason": {"value": "no_capacity"}},
                    }
                    step(
                        "partner",
                        "Decline reason: no capacity",
                        lambda b=body: _control(sandbox_url, "submit", b),
                        referral.slack_channel or "",
                        user,
                    )
                break
        if declined is not None:
            step(
                "staff",
                f"/coalition referral {declined.referral_id}",
                lambda: slash(staff, f"referral {declined.referral_id}"),
                triage,
                staff,
            )
            step(
                "staff",
                f"/coalition why {declined.intake_id}",
                lambda: slash(staff, f"why {declined.intake_id}"),
                triage,
                staff,
            )
        step(
            "someone",
            "a forged /coalition intake week",
            lambda: slash(staff, "intake week", bad_signature=True),
            triage,
            staff,
            expect=401,
        )
        step(
            "someone",
            "a replayed request, 6 minutes old",
            lambda: slash(staff, "intake week", timestamp=int(time.time()) - 360),
            triage,
            staff,
            expect=401,
        )
        step("admin", "/coalition status", lambda: slash(admin, "status"), triage, admin)
    finally:
        runtime.wait_idle(60)
        running.stop()
    table = Table(title="Demo: people using the Slack app (answers only they see)")
    for column in ("who", "did", "what they saw"):
        table.add_column(column)
    for s in steps:
        table.add_row(s.who, s.what, s.outcome)
    console.print(table)
    return ok


__all__ = ["rehearse"]
