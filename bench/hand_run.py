"""`coalition run FLOW` by hand: what it adds to the flow's own time, on the warm local Prefect server and on a temporary one.

Each run is the real command in a child process against the bench's sandbox, in its
own var dir (so its warm server is its own, started cold here). The flow's own time
is the report's duration (the flow body); the rest of the wall is what a person waits
for besides the flow: Python and the bot's imports, settings, reaching Prefect, the
flow run's bookkeeping. The imports alone are timed too, so the Prefect part shows.
"""

from __future__ import annotations

import json
import os
import re
import statistics
import subprocess
import sys
import time
import urllib.request
from pathlib import Path
from typing import Any

from ops.prefect_server import read_state, stop_server

FLOW = "referral-follow-up"
WARM_RUNS = 3
COALITION = str(Path(sys.executable).with_name("coalition"))
ROOT = Path(__file__).resolve().parents[1]
FLOW_SECONDS = re.compile(r"^requests: .*; ([0-9.]+) s$", re.MULTILINE)


def measure(sandbox_url: str, var: Path, flow: str = FLOW) -> dict[str, Any]:
    """Walls of a temporary-server run, the cold start of the warm server, and warm runs."""
    var.mkdir(parents=True, exist_ok=True)
    home = var / "prefect"
    stop_server(home)
    env = _child_env(sandbox_url, var)
    imports = _wall([sys.executable, "-c", _IMPORTS.format(flow=flow)], env)
    try:  # the old way; on a loaded machine its server may not start in time at all
        temporary = _run(flow, {**env, "COALITION_PREFECT_IDLE_MINUTES": "0"})
    except RuntimeError as exc:
        temporary = {"status": f"failed: {str(exc)[-200:]}", "extra_seconds": None}
    cold = _run(flow, env)
    state = read_state(home) or {}
    before = _flow_runs(state.get("api_url", ""))
    warm = [_run(flow, env) for _ in range(WARM_RUNS)]
    after = _flow_runs(state.get("api_url", ""))
    stop_server(home)
    extra = statistics.median(r["extra_seconds"] for r in warm)
    return {
        "status": "ok",
        "flow": flow,
        "imports_seconds": round(imports, 2),
        "temporary_server": temporary,
        "warm_server_cold_start": cold,
        "warm_runs": warm,
        "extra_seconds": round(extra, 2),
        "prefect_extra_seconds": round(extra - imports, 2),
        "runs_shown_on_warm_server": (after - before) if before is not None and after else None,
        "prefect_extra_at_most_3_s": extra - imports <= 3.0,
    }


_IMPORTS = "import ops.cli, flows.registry as r; r.FLOWS[{flow!r}].load()"  # what every run imports


def _child_env(sandbox_url: str, var: Path) -> dict[str, str]:
    keep = {"PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS"}  # a patient machine's own
    env = {
        k: v
        for k, v in os.environ.items()
        if k in keep or not k.startswith(("PREFECT_", "COALITION_"))
    }
    env.update(
        {
            "COALITION_SANDBOX_URL": sandbox_url,
            "COALITION_VAR_DIR": str(var),
            "COALITION_DATABASE_URL": f"sqlite:///{var / 'ledger.sqlite3'}",
            "COALITION_PREFECT_IDLE_MINUTES": "5",
        }
    )
    return env


def _run(flow: str, env: dict[str, str]) -> dict[str, Any]:
    started = time.perf_counter()
    result = subprocess.run(
        [COALITION, "run", flow], capture_output=True, text=True, env=env, cwd=ROOT, timeout=600
    )
    wall = time.perf_counter() - started
    if result.returncode != 0:
        raise RuntimeError(
            f"coalition run {flow} exited {result.returncode}: {result.stderr[-500:]}"
        )
    found = FLOW_SECONDS.search(result.stdout)
    flow_seconds = float(found.group(1)) if found else 0.0
    return {
        "wall_seconds": round(wall, 2),
        "flow_seconds": flow_seconds,
        "extra_seconds": round(wall - flow_seconds, 2),
    }


def _wall(args: list[str], env: dict[str, str]) -> float:
    started = time.perf_counter()
    subprocess.run(args, check=True, env=env, cwd=ROOT, timeout=600, capture_output=True)
    return time.perf_counter() - started


def _flow_runs(api_url: str) -> int | None:
    """How many flow runs the server holds (what its dashboard lists), or None."""
    if not api_url:
        return None
    request = urllib.request.Request(
        f"{api_url}/flow_runs/count", data=b"{}", headers={"Content-Type": "application/json"}
    )
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return int(json.loads(response.read()))
    except (OSError, ValueError):
        return None
