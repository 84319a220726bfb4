"""Flow runs from Slack: start one (a Prefect deployment run, or the flow itself in the background) and say how runs went.

With a Prefect API configured (PREFECT_API_URL), `/coalition run` and `summary` create
a run of the flow's deployment (`run_deployment`, named `<flow>/coalition` as
`coalition deploy` and `coalition serve` create them) and follow it until it ends;
`status` reads the last run of each flow from Prefect. Without one, the flow is
called in a background thread of the bot (Prefect then runs it on a temporary local
server), and `status` shows the runs this bot started plus each flow's health from
the ledger (the alert hooks of flows/health.py keep it).
"""

from __future__ import annotations

import logging
import os
import threading
import time
from collections.abc import Callable, Mapping
from concurrent.futures import Executor, ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

from bot.commands import FlowStatus
from coalition.ledger import Ledger, utcnow
from coalition.ledger.flow_health import health_states

log = logging.getLogger("bot.flowruns")

DEPLOYMENT_NAME = "coalition"  # flows/serve.py DEPLOYMENT_NAME
POLL_SECONDS = 5.0
WAIT_LIMIT = 3 * 3600.0  # give up following a deployment run after this long
NOT_FINAL = frozenset({"SCHEDULED", "PENDING"})


class FlowStartError(Exception):
    """A flow run could not be started (unknown flow, a flow that does not load, Prefect refused)."""


@dataclass(frozen=True)
class StartedRun:
    """A run that was just started: how, and where to watch it."""

    flow: str
    mode: Literal["deployment", "local"]
    name: str = ""
    url: str = ""


@dataclass(frozen=True)
class RunOutcome:
    """How a run ended; `lines` is the flow report's summary (reports carry no personal data)."""

    flow: str
    ok: bool
    state: str
    url: str = ""
    lines: tuple[str, ...] = ()
    result: Any = None


@dataclass
class _LocalRun:
    flow: str
    state: str
    started: datetime
    ended: datetime | None = None


def prefect_api_url() -> str | None:
    """The operator's Prefect API (a hand run's private local server has no deployments)."""
    from integrations.shared_budget import operator_prefect_api

    return operator_prefect_api()


def run_url(flow_run_id: Any, api_url: str | None = None) -> str:
    """The Prefect UI page of a flow run (PREFECT_UI_URL, or the API's host)."""
    ui = os.environ.get("PREFECT_UI_URL") or ""
    api = api_url or prefect_api_url() or ""
    base = ui.rstrip("/") or (api.rstrip("/").removesuffix("/api") if api else "")
    return f"{base}/runs/flow-run/{flow_run_id}" if base else ""


def report_lines(result: Any) -> tuple[str, ...]:
    """A flow result's summary lines (RunReport.summary_lines), if it has them."""
    lines = getattr(result, "summary_lines", None)
    if callable(lines):
        try:
            return tuple(str(line) for line in lines())[:10]
        except Exception:  # a report that cannot describe itself must not hide the outcome
            return ()
    return ()


class FlowRunner:
    """Starts flow runs and reports how they ended; one instance per Slack app."""

    def __init__(
        self,
        registry: Mapping[str, Any] | None = None,
        api_url: str | None = None,
        executor: Executor | None = None,
        poll_seconds: float = POLL_SECONDS,
        deployment: str = DEPLOYMENT_NAME,
    ) -> None:
        if registry is None:
            from flows.registry import FLOWS

            registry = FLOWS
        self.registry = registry
        self.api_url = api_url if api_url is not None else prefect_api_url()
        self.executor = executor or ThreadPoolExecutor(2, thread_name_prefix="bot-flow")
        self.poll_seconds = poll_seconds
        self.deployment = deployment
        self._local: dict[str, _LocalRun] = {}
        self._lock = threading.Lock()

    @property
    def names(self) -> list[str]:
        return list(self.registry)

    @property
    def uses_prefect_api(self) -> bool:
        return bool(self.api_url)

    # ------------------------------------------------------------ start
    def start(
        self, flow: str, params: Mapping[str, Any], on_done: Callable[[RunOutcome], None]
    ) -> StartedRun:
        """Start `flow` now; `on_done` is called (in a background thread) when it ends."""
        entry = self.registry.get(flow)
        if entry is None:
            raise FlowStartError(f"unknown flow {flow}")
        try:
            function = entry.load()
        except (ImportError, AttributeError):
            log.exception("the %s flow could not be loaded", flow)
            raise FlowStartError(
                f"the {flow} flow could not be loaded; ops: see the app's log"
            ) from None
        if self.api_url:
            return self._start_deployment(flow, function, dict(params), on_done)
        return self._start_local(flow, function, dict(params), on_done)

    def _start_local(
        self, flow: str, function: Any, params: dict[str, Any], on_done: Callable
    ) -> StartedRun:
        record = _LocalRun(flow, "Running", utcnow())
        with self._lock:
            self._local[flow] = record

        def run() -> None:
            try:
                result = function(**params)
            except Exception as exc:
                log.warning("local run of %s failed: %s", flow, type(exc).__name__)
                outcome = RunOutcome(flow, False, f"Failed ({type(exc).__name__})")
            else:
                outcome = RunOutcome(
                    flow, True, "Completed", lines=report_lines(result), result=result
                )
            record.state, record.ended = outcome.state, utcnow()
            on_done(outcome)

        self.executor.submit(run)
        return StartedRun(flow, "local")

    def _start_deployment(
        self, flow: str, function: Any, params: dict[str, Any], on_done: Callable
    ) -> StartedRun:
        from prefect.deployments import run_deployment

        name = f"{getattr(function, 'name', flow)}/{self.deployment}"
        try:
            flow_run = run_deployment(name, parameters=params, timeout=0, as_subflow=False)
        except Exception as exc:
            raise FlowStartError(
                f"Prefect could not start deployment {name} ({type(exc).__name__}); "
                "is it deployed (`coalition deploy`) and is a worker or `coalition serve` running?"
            ) from None
        url = run_url(flow_run.id, self.api_url)
        self.executor.submit(self._follow, flow, flow_run.id, url, on_done)
        return StartedRun(flow, "deployment", str(flow_run.name), url)

    def _follow(self, flow: str, flow_run_id: Any, url: str, on_done: Callable) -> None:
        from prefect.client.orchestration import get_client

        deadline = time.monotonic() + WAIT_LIMIT
        state_name = "Unknown"
        try:
            with get_client(sync_client=True) as client:
                while time.monotonic() < deadline:
                    state = client.read_flow_run(flow_run_id).state
                    state_name = state.name if state else "Unknown"
                    if state is not None and state.is_final():
                        on_done(RunOutcome(flow, state.is_completed(), state_name, url))
                        return
                    time.sleep(self.poll_seconds)
        except Exception as exc:
            log.warning("lost track of the %s run: %s", flow, type(exc).__name__)
        on_done(RunOutcome(flow, False, f"{state_name} (stopped following it)", url))

    # ------------------------------------------------------------ status
    def last_runs(self, ledger: Ledger | None = None) -> tuple[list[FlowStatus], str]:
        """The last run of each flow, and where that came from."""
        if self.api_url:
            try:
                return self._prefect_runs(), "Prefect"
            except Exception as exc:
                log.warning("Prefect did not answer for status: %s", type(exc).__name__)
                source = f"the ledger (Prefect did not answer: {type(exc).__name__})"
                return self._known_runs(ledger), source
        return self._known_runs(ledger), (
            "runs this bot started and each flow's health in the ledger "
            "(no Prefect API configured: set PREFECT_API_URL to see every run)"
        )

    def _prefect_runs(self) -> list[FlowStatus]:
        from prefect.client.orchestration import get_client
        from prefect.client.schemas.filters import (
            FlowFilter,
            FlowFilterName,
            FlowRunFilter,
            FlowRunFilterState,
            FlowRunFilterStateType,
        )
        from prefect.client.schemas.objects import StateType
        from prefect.client.schemas.sorting import FlowRunSort

        not_scheduled = FlowRunFilter(
            state=FlowRunFilterState(
                type=FlowRunFilterStateType(not_any_=[StateType.SCHEDULED, StateType.PENDING])
            )
        )
        rows = []
        with get_client(sync_client=True) as client:
            for flow in self.registry:
                runs = client.read_flow_runs(
                    flow_filter=FlowFilter(name=FlowFilterName(any_=[self._prefect_name(flow)])),
                    flow_run_filter=not_scheduled,
                    sort=FlowRunSort.EXPECTED_START_TIME_DESC,
                    limit=1,
                )
                if not runs:
                    rows.append(FlowStatus(flow, "no run yet"))
                    continue
                run = runs[0]
                when = run.end_time or run.start_time or run.expected_start_time
                state = run.state.name if run.state else "Unknown"
                rows.append(FlowStatus(flow, state, when, run_url(run.id, self.api_url)))
        return rows

    def _prefect_name(self, flow: str) -> str:
        try:
            return str(getattr(self.registry[flow].load(), "name", flow))
        except (ImportError, AttributeError):
            return flow

    def _known_runs(self, ledger: Ledger | None) -> list[FlowStatus]:
        health: dict[str, tuple[str, datetime | None]] = {}
        if ledger is not None:
            health = health_states(ledger)
        rows = []
        with self._lock:
            local = dict(self._local)
        for flow in self.registry:
            if flow in local:
                run = local[flow]
                rows.append(FlowStatus(flow, run.state, run.ended or run.started))
            elif flow in health:
                state, since = health[flow]
                words = "failing" if state == "failing" else "healthy"
                rows.append(FlowStatus(flow, f"{words} since", since))
            else:
                rows.append(FlowStatus(flow, "no run yet"))
        return rows

    def shutdown(self) -> None:
        self.executor.shutdown(wait=False, cancel_futures=True)


__all__ = [
    "FlowRunner",
    "FlowStartError",
    "RunOutcome",
    "StartedRun",
    "prefect_api_url",
    "report_lines",
    "run_url",
]
