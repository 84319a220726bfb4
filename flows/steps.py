"""What every flow's steps share: task options, running a step in or outside a flow run, and kill points.

A kill point makes crash tests deterministic: with COALITION_KILL_AFTER set to
`<flow>:<task>` (e.g. `intake-routing:claim in ledger`), the process SIGKILLs
itself (and its process group, when it leads one) right after that task
completes, as a machine dying at that moment would. With COALITION_STEP_TRACE
set, every completed task prints `STEP <flow>:<task>` so the soak can list the
task boundaries of each flow. This is the one place that reads either variable.
A step may also name a point inside itself (`checkpoint`), where one task does
two things a crash may fall between (notices claimed, none sent yet).

It also ties a run's leases to its Prefect flow run: a run's lease owner is its
flow run id, so when Prefect marks a run Crashed (its `on_crashed` hook, or the
server's zombie automation after the run's heartbeats stop) the next run releases
that run's leases at its start instead of waiting for them to lapse.
"""

from __future__ import annotations

import logging
import os
import signal
import sys
import uuid
from collections.abc import Callable, Iterable
from datetime import timedelta
from typing import Any

from prefect.cache_policies import NO_CACHE
from prefect.context import FlowRunContext
from prefect.utilities.annotations import quote

from coalition.ledger import open_ledger, utcnow
from coalition.ledger.leases import Holder, LeaseStore

log = logging.getLogger("flows.steps")

KILL_ENV = "COALITION_KILL_AFTER"
TRACE_ENV = "COALITION_STEP_TRACE"


def boundary(task_name: str) -> str:
    """`<flow>:<task>` for a task completing now (the flow is the run's, '?' outside one)."""
    ctx = FlowRunContext.get()
    flow = ctx.flow.name if ctx is not None and ctx.flow is not None else "?"
    return f"{flow}:{task_name}"


def kill_point(task: Any, task_run: Any, state: Any) -> None:
    """on_completion hook of every task: trace the boundary, and die here if told to."""
    _reached(boundary(str(task.name)))


def checkpoint(name: str) -> None:
    """A kill point inside a step (`<flow>:<name>`), between two things a crash may separate."""
    _reached(boundary(name))


def _reached(where: str) -> None:
    if os.environ.get(TRACE_ENV):
        print(f"STEP {where}", file=sys.stdout, flush=True)
    if os.environ.get(KILL_ENV) == where:
        ctx = FlowRunContext.get()
        run = ctx.flow_run.id if ctx is not None and ctx.flow_run is not None else "?"
        print(f"KILLED after {where} run {run}", file=sys.stdout, flush=True)
        if os.getpgid(0) == os.getpid():
            os.killpg(0, signal.SIGKILL)  # Prefect's server subprocess dies with us
        os.kill(os.getpid(), signal.SIGKILL)


class _QuietKillPoint(logging.Filter):
    """Drop Prefect's two INFO lines per task about running `kill_point`: scaffolding, not news."""

    def filter(self, record: logging.LogRecord) -> bool:
        return "'kill_point'" not in record.getMessage()


def quiet_kill_point_hooks() -> None:
    """Keep the kill-point hook out of every task's log (idempotent)."""
    task_runs = logging.getLogger("prefect.task_runs")
    if not any(isinstance(f, _QuietKillPoint) for f in task_runs.filters):
        task_runs.addFilter(_QuietKillPoint())


quiet_kill_point_hooks()
HOOKS: dict[str, Any] = {"on_completion": [kill_point]}
# Personal data passes between steps in memory only: no result is persisted or cached.
TASK_OPTIONS: dict[str, Any] = {
    "cache_policy": NO_CACHE,
    "persist_result": False,
    "retries": 0,
    **HOOKS,
}
TRANSIENT_SLACK_ERRORS = {"ratelimited", "internal_error", "fatal_error", "service_unavailable", "request_timeout"}  # fmt: skip


def transient_failure(task: Any, task_run: Any, state: Any) -> bool:
    """Retry a step only for failures a later attempt may cure (429, 5xx, lost connections, a concurrent edit)."""
    from integrations import airtable, docs, sheets
    from integrations.slack import SlackPostError

    try:
        state.result()
    except Exception as exc:
        if isinstance(exc, SlackPostError):
            return exc.error in TRANSIENT_SLACK_ERRORS
        return airtable.is_transient(exc) or docs.is_transient(exc) or sheets.is_transient(exc)
    return False


def retrying(delays: list[float]) -> dict[str, Any]:
    """Task options of a step retried after each of `delays` seconds, for transient failures only."""
    return {
        **TASK_OPTIONS,
        "retries": len(delays),
        "retry_delay_seconds": delays,
        "retry_condition_fn": transient_failure,
    }


def run_step(step: Any, *args: Any, alive: Callable[[], None] | None = None) -> Any:
    """A step as a Prefect task inside a flow run, as a plain call outside one; then `alive()`.

    `alive` renews the run's leases: a run that got past a step is alive, so the
    work it holds stays its own for another lease length.
    """
    # quote(): Prefect would otherwise walk every argument (a sheet's rows, the run) looking
    # for futures, which cost more than the step itself (intake routing: 35 of 41 s).
    in_flow = FlowRunContext.get() is not None
    result = step(*[quote(a) for a in args]) if in_flow else step.fn(*args)
    if alive is not None:
        alive()
    return result


# ---------------------------------------------------------------- leases of crashed runs
DEAD_STATES = ("CRASHED", "CANCELLED")  # a run in either holds nothing: its process is gone


def run_holder(length: timedelta) -> Holder:
    """This run's lease holder, named by its flow run id; first frees the leases of crashed runs."""
    ctx = FlowRunContext.get()
    run_id = str(ctx.flow_run.id) if ctx is not None and ctx.flow_run is not None else None
    release_dead_runs()
    return Holder.new(length, run_id)


def release_dead_runs() -> int:
    """Let the leases of runs Prefect has marked Crashed or Cancelled lapse now; how many.

    Never stops the run: without Prefect's API the leases simply lapse as before.
    """
    if FlowRunContext.get() is None and not os.environ.get("PREFECT_API_URL"):
        return 0  # no Prefect server at hand (a Slack click on one machine): leases lapse
    leases = LeaseStore(open_ledger())
    runs = [owner for owner in leases.owners() if _is_run_id(owner)]
    if not runs:
        return 0
    try:
        dead = _dead_runs(runs)
    except Exception as exc:  # Prefect unreachable: the leases lapse on their own
        log.info("could not ask Prefect which runs crashed (%s)", type(exc).__name__)
        return 0
    freed = leases.lapse_owners(dead, utcnow())
    if freed:
        log.info("%d leases of %d crashed runs lapsed now", freed, len(dead))
    return freed


def release_on_crash(flow: Any, flow_run: Any, state: Any) -> None:
    """on_crashed hook: the run's leases lapse at once (the next run takes its work over)."""
    try:
        LeaseStore(open_ledger()).lapse_owners([str(flow_run.id)], utcnow())
    except Exception as exc:  # a hook must not mask the crash; the leases lapse anyway
        log.warning("could not release the leases of a crashed run: %s", type(exc).__name__)


def _is_run_id(owner: str) -> bool:
    try:
        uuid.UUID(owner)
    except ValueError:
        return False
    return True


def _dead_runs(run_ids: Iterable[str]) -> list[str]:
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.filters import (
        FlowRunFilter,
        FlowRunFilterId,
        FlowRunFilterState,
        FlowRunFilterStateType,
    )
    from prefect.client.schemas.objects import StateType

    ids = [uuid.UUID(r) for r in run_ids]
    wanted = FlowRunFilter(
        id=FlowRunFilterId(any_=ids),
        state=FlowRunFilterState(
            type=FlowRunFilterStateType(any_=[StateType(s) for s in DEAD_STATES])
        ),
    )
    with get_client(sync_client=True) as client:
        return [
            str(run.id) for run in client.read_flow_runs(flow_run_filter=wanted, limit=len(ids))
        ]
