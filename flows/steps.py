"""What every flow's steps share: task options, running a step in or outside a flow run, and kill points.

A kill point makes crash tests deterministic: with COALITION_KILL_AFTER set to
`<flow>:<task>` (e.g. `intake-routing:claim in ledger`), the process SIGKILLs
itself (and its process group, when it leads one) right after that task
completes, as a machine dying at that moment would. With COALITION_STEP_TRACE
set, every completed task prints `STEP <flow>:<task>` so the soak can list the
task boundaries of each flow. This is the one place that reads either variable.
"""

from __future__ import annotations

import os
import signal
import sys
from collections.abc import Callable
from typing import Any

from prefect.cache_policies import NO_CACHE
from prefect.context import FlowRunContext

KILL_ENV = "COALITION_KILL_AFTER"
TRACE_ENV = "COALITION_STEP_TRACE"


def boundary(task_name: str) -> str:
    """`<flow>:<task>` for a task completing now (the flow is the run's, '?' outside one)."""
    ctx = FlowRunContext.get()
    flow = ctx.flow.name if ctx is not None and ctx.flow is not None else "?"
    return f"{flow}:{task_name}"


def kill_point(task: Any, task_run: Any, state: Any) -> None:
    """on_completion hook of every task: trace the boundary, and die here if told to."""
    where = boundary(str(task.name))
    if os.environ.get(TRACE_ENV):
        print(f"STEP {where}", file=sys.stdout, flush=True)
    if os.environ.get(KILL_ENV) == where:
        print(f"KILLED after {where}", file=sys.stdout, flush=True)
        if os.getpgid(0) == os.getpid():
            os.killpg(0, signal.SIGKILL)  # Prefect's server subprocess dies with us
        os.kill(os.getpid(), signal.SIGKILL)


HOOKS: dict[str, Any] = {"on_completion": [kill_point]}
TASK_OPTIONS: dict[str, Any] = {
    "cache_policy": NO_CACHE,
    "persist_result": False,
    "retries": 0,
    **HOOKS,
}


def run_step(step: Any, *args: Any, alive: Callable[[], None] | None = None) -> Any:
    """A step as a Prefect task inside a flow run, as a plain call outside one; then `alive()`.

    `alive` renews the run's leases: a run that got past a step is alive, so the
    work it holds stays its own for another lease length.
    """
    result = step(*args) if FlowRunContext.get() is not None else step.fn(*args)
    if alive is not None:
        alive()
    return result
