"""Failure and recovery alerts: Prefect state hooks that tell #ops-alerts once when a flow breaks and once when it mends.

Every flow the bot schedules carries these hooks (`with_health_hooks`, applied by
flows/registry.py). A failed or crashed run marks the flow failing in the ledger
(`FlowHealth`) and, if that failure streak has not been announced yet, posts one
message: the flow, a link to the run, the error's class and what to try. Later
failures of the same streak post nothing. The first completed run after it posts
one recovery message. The message never carries the exception's text, only its
class name, because an exception message may quote a record.
"""

from __future__ import annotations

import functools
import inspect
import logging
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

from coalition.ledger import Ledger
from coalition.ledger.flow_health import (
    mark_failing,
    mark_healthy,
    record_alert,
)

log = logging.getLogger("flows.health")

CRASHED = "Crashed"
_EXCEPTION_IN_MESSAGE = re.compile(r"exception: ([A-Za-z_][\w.]*)")

# Advice by error class (exact names first, then by how the name ends).
_SERVICE_DOWN = (
    "A service was down or kept rate-limiting past the bot's retries. The next scheduled run "
    "tries again on its own; if this repeats, check the service's status page and run "
    "`coalition doctor`."
)
_RENAMED = (
    "Something the bot needs is missing or was renamed (a base, table, field, sheet, tab or "
    "channel). Restore it or fix its name in config/, then run `coalition doctor`."
)
_CREDENTIALS = (
    "A service refused the bot's credentials. Check the token or service account and its "
    "scopes (README, Production), then run `coalition doctor`."
)
_PRIVACY = (
    "The privacy guard stopped an output that would have carried personal data; nothing was "
    "sent. Open the run's log in Prefect and tell the engineers."
)
ADVICE: dict[str, str] = {
    "ConfigError": (
        "A setting or secret is missing or wrong; the run's log names the file, key or variable. "
        "Fix it, then run `coalition doctor`."
    ),
    "ServiceUnavailable": _SERVICE_DOWN,
    "ConnectionError": _SERVICE_DOWN,
    "Timeout": _SERVICE_DOWN,
    "RetryError": _SERVICE_DOWN,
    "SheetsError": _SERVICE_DOWN,
    "PIIError": _PRIVACY,
    "MentionError": _PRIVACY,
    "SlackPostError": (
        "Slack refused a call; the run's log names Slack's error code. Run `coalition doctor` "
        "to check the token and that the bot is in every channel."
    ),
    "ScheduleError": "A schedule in config/schedules.yaml does not parse; fix it and redeploy.",
    "WorkspaceNameError": _RENAMED,
    "IntakeHeaderError": _RENAMED,
    CRASHED: (
        "The run's process died (out of memory, host restarted, or it lost the Prefect server). "
        "Check the worker's host; the next run carries on from what the ledger recorded."
    ),
}
_BY_SUFFIX = (
    ("Unavailable", _SERVICE_DOWN),
    ("NotFound", _RENAMED),
    ("FieldError", _RENAMED),
    ("AuthError", _CREDENTIALS),
    ("PermissionError", _CREDENTIALS),
)


def advice_for(error_class: str, flow: str) -> str:
    """What an ops admin should try for this class of error."""
    short = error_class.rsplit(".", 1)[-1]
    if short in ADVICE:
        return ADVICE[short]
    for suffix, advice in _BY_SUFFIX:
        if short.endswith(suffix):
            return advice
    return (
        f"Open the run in Prefect for its log, and try `coalition run {flow} --dry-run` "
        "to see what it would do."
    )


# ---------------------------------------------------------------- stopping on a name the workspace lacks
def stops_on_name_errors(fn: Callable[..., Any]) -> Callable[..., Any]:
    """Under @flow: a WorkspaceNameError (a configured name the workspace lacks, found before
    any write) ends the run Failed with its one-line message as the state's, so Prefect logs
    no traceback; the failure hook still alerts #ops-alerts once and the caller still gets
    the error (the CLI prints it and exits 2)."""
    from coalition.settings import WorkspaceNameError

    @functools.wraps(fn)
    def run(*args: Any, **kwargs: Any) -> Any:
        try:
            return fn(*args, **kwargs)
        except WorkspaceNameError as exc:
            from prefect.context import FlowRunContext
            from prefect.states import Failed

            if FlowRunContext.get() is None:
                raise  # called as a plain function (`flow.fn`): nothing to mark
            return Failed(message=str(exc), data=exc)

    return run


# ---------------------------------------------------------------- messages (pure)
@dataclass(frozen=True)
class RunRef:
    """Which run an alert is about: its flow, its Prefect name and a link, nothing else."""

    flow: str
    run_name: str
    link: str | None = None

    def mrkdwn(self) -> str:
        name = _plain(self.run_name)
        return f"<{self.link}|{name}>" if self.link else name


def _plain(text: str) -> str:
    return re.sub(r"[^\w .:-]", "", text)[:80]


def failure_text(run: RunRef, error_class: str, detail: str = "") -> str:
    """The one message a failure streak posts; `detail` only from an error that is safe to quote."""
    said = f"*What is wrong:* {_quoted(detail)}\n" if detail else ""
    return (
        f":red_circle: *{_plain(run.flow)}* failed (run {run.mrkdwn()}).\n"
        f"*Error:* `{_plain(error_class)}`\n{said}"
        f"*What to try:* {advice_for(error_class, run.flow)}"
    )


def failure_report(flow: str, error: str) -> str:
    """The markdown artifact a failed run ends with (its own report was never written)."""
    return "\n\n".join(
        [
            f"# {_plain(flow)} — failed",
            f"**Error:** `{_plain(error)}` (the run's log in Prefect has the details)",
            "## What it did\nIt stopped before it could write its report: the task runs above"
            " show which steps completed. Its writes are idempotent, so the next run finishes"
            " what this one started.",
            f"## What to try\n{advice_for(error, flow)}",
        ]
    )


def artifact_key(flow: str) -> str:
    """The key every run of a flow writes its report under (flows/reporting.py uses the same)."""
    return re.sub(r"[^a-z0-9-]", "-", flow.replace("_", "-").lower())


def publish_failure_report(flow: Any, flow_run: Any, error: str) -> None:
    """The failed run's report artifact and counts table, tied to the run (error class only)."""
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.actions import ArtifactCreate

    key = artifact_key(str(flow.name))
    markdown = failure_report(str(flow.name), error)
    table = [
        {"kind": "error", "name": "run", "value": _plain(error)},
        {"kind": "what to try", "name": "advice", "value": advice_for(error, str(flow.name))},
    ]
    with get_client(sync_client=True) as client:
        client.create_artifact(
            ArtifactCreate(
                key=f"{key}-report", type="markdown", data=markdown,
                description=f"{flow.name} run report (failed)", flow_run_id=flow_run.id,
            )
        )  # fmt: skip
        client.create_artifact(
            ArtifactCreate(
                key=f"{key}-counts", type="table", data=table,
                description=f"{flow.name} counts (failed)", flow_run_id=flow_run.id,
            )
        )  # fmt: skip


def _quoted(detail: str) -> str:
    from coalition.privacy import escape_mrkdwn

    return escape_mrkdwn(" ".join(detail.split())[:1500])


def recovery_text(run: RunRef, failing_since: datetime, timezone: str) -> str:
    """The one message that ends a failure streak."""
    since = failing_since.astimezone(ZoneInfo(timezone)).strftime("%Y-%m-%d %H:%M %Z")
    return (
        f":large_green_circle: *{_plain(run.flow)}* recovered (run {run.mrkdwn()} completed); "
        f"it had been failing since {since}."
    )


def held_text(flow: str, kind: str, count: int, since: datetime, timezone: str) -> str:
    """The one message for work a run has held past twice the lease (it is stuck, not dead)."""
    when = since.astimezone(ZoneInfo(timezone)).strftime("%Y-%m-%d %H:%M:%S %Z")
    what = f"{count} {_plain(kind)}{'' if count == 1 else 's'}"
    return (
        f":hourglass: *{_plain(flow)}*: {what} held by one run since {when}, more than twice "
        "the lease. That run is alive but not finishing; look at it in the Prefect dashboard "
        "and cancel it if it hangs, so the next run takes the work over."
    )


def held_key(flow: str, kind: str, since: datetime) -> str:
    return f"ops:{flow}:held:{kind}:{since.isoformat()}"


def alert_held(flow: str, held: Any) -> bool:
    """Tell #ops-alerts once (by key) about each kind of work held past twice the lease. Never raises."""
    from coalition.settings import settings

    told = False
    for h in held:
        if not h.overdue:
            continue
        try:
            text = held_text(flow, h.kind, h.count, h.since, settings().services.timezone)
            _post(held_key(flow, h.kind, h.since), text)
            told = True
        except Exception as exc:  # the run's report still says it; never fail the run for this
            log.warning("could not tell #ops-alerts about held work: %s", type(exc).__name__)
    return told


def failure_key(flow: str, since: datetime) -> str:
    return f"ops:{flow}:failing:{since.isoformat()}"


def recovery_key(flow: str, since: datetime) -> str:
    return f"ops:{flow}:recovered:{since.isoformat()}"


# ---------------------------------------------------------------- reading Prefect's state
def error_class(state: Any) -> str:
    """The class name of what ended the run (never its message), or "Crashed"."""
    if getattr(state, "is_crashed", lambda: False)():
        return CRASHED
    try:
        result = state.result(raise_on_failure=False)
    except Exception:  # a result we cannot load still leaves the message
        result = None
    if inspect.iscoroutine(result):
        result.close()
        result = None
    if isinstance(result, BaseException):
        return type(result).__name__
    match = _EXCEPTION_IN_MESSAGE.search(getattr(state, "message", None) or "")
    return match.group(1).rsplit(".", 1)[-1] if match else "unknown error"


def error_detail(state: Any) -> str:
    """The text of what ended the run when its class says it is safe to quote (names from
    config, never a record's values: WorkspaceNameError), else ""."""
    try:
        result = state.result(raise_on_failure=False)
    except Exception:  # no result, no detail
        return ""
    if inspect.iscoroutine(result):
        result.close()
        return ""
    if isinstance(result, BaseException) and getattr(result, "public", False) is True:
        return str(result)
    return ""


def run_ref(flow: Any, flow_run: Any) -> RunRef:
    """The flow's name, the run's name and its dashboard link (when a Prefect UI URL is known)."""
    link = None
    try:
        from prefect.utilities.urls import url_for

        link = url_for(flow_run)
    except Exception:  # an alert without a link beats no alert
        link = None
    return RunRef(str(flow.name), str(getattr(flow_run, "name", "") or flow_run.id), link)


# ---------------------------------------------------------------- the hooks
def _post(key: str, text: str) -> str | None:
    from coalition.settings import settings
    from flows.posting import slack_poster

    channel = settings().services.slack.channels.ops_alerts
    return slack_poster().post(key, channel, text).ts or None


def _ledger() -> Ledger:
    from coalition.ledger import open_ledger

    return open_ledger()


def notify_failure(flow: Any, flow_run: Any, state: Any) -> None:
    """on_failure / on_crashed hook: the run's report artifact, and one alert per failure streak. Never raises."""
    try:
        publish_failure_report(flow, flow_run, error_class(state))
    except Exception as exc:  # the alert below still matters
        log.warning("could not write the failure report of %s: %s", flow.name, type(exc).__name__)
    try:
        run = run_ref(flow, flow_run)
        ledger = _ledger()
        streak = mark_failing(ledger, run.flow)
        if streak is None:
            log.info("%s failed again; #ops-alerts was already told", run.flow)
            return
        text = failure_text(run, error_class(state), error_detail(state))
        ts = _post(failure_key(run.flow, streak.since), text)
        if ts:
            record_alert(ledger, run.flow, streak, ts)
    except Exception as exc:  # a hook must not mask the run's own failure
        log.warning("could not post the failure alert for %s: %s", flow.name, type(exc).__name__)


def notify_recovery(flow: Any, flow_run: Any, state: Any) -> None:
    """on_completion hook: one message when a flow that was failing completes again. Never raises."""
    try:
        from coalition.settings import settings

        if getattr(_result(state), "stood_aside", False):
            return  # did nothing: the run holding the lease reports the flow's health
        run = run_ref(flow, flow_run)
        streak = mark_healthy(_ledger(), run.flow)
        if streak is None:
            return
        text = recovery_text(run, streak.since, settings().services.timezone)
        _post(recovery_key(run.flow, streak.since), text)
    except Exception as exc:  # the run itself completed; say so in the log only
        log.warning("could not post the recovery note for %s: %s", flow.name, type(exc).__name__)


def _result(state: Any) -> Any:
    try:
        return state.result(raise_on_failure=False)
    except Exception:  # a result that cannot be read says nothing either way
        return None


def _run_namer(flow_name: str) -> Any:
    """Run names from the flow and the time: Prefect's random adjective-animal names can
    spell a person's details (a run called "...-phoenix" beside a client from Phoenix)."""

    def name() -> str:
        return f"{flow_name}-{datetime.now(UTC):%Y%m%d-%H%M%S}"

    return name


def with_health_hooks(flow: Any) -> Any:
    """The flow with the failure and recovery hooks attached (once, however often it is called)."""
    from flows.steps import release_on_crash

    if notify_failure in flow.on_failure_hooks:
        return flow
    return flow.with_options(
        flow_run_name=_run_namer(flow.name),
        on_failure=[*flow.on_failure_hooks, notify_failure],
        # A crashed run's leases go back first, so the next run takes its work over at once.
        on_crashed=[*flow.on_crashed_hooks, release_on_crash, notify_failure],
        on_completion=[*flow.on_completion_hooks, notify_recovery],
    )


__all__ = [
    "ADVICE",
    "RunRef",
    "advice_for",
    "error_class",
    "failure_text",
    "notify_failure",
    "notify_recovery",
    "recovery_text",
    "stops_on_name_errors",
    "with_health_hooks",
]
