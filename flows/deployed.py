"""What deployments run: every flow of the registry, alert hooks attached, by module path (`flows.deployed.roster_sync`).

Workers and `coalition serve` load a flow from its deployment's entrypoint, not
from the process that created the deployment, so the hooks of flows/health.py must
come with the object the entrypoint names. Attributes are resolved lazily, so a
flow still being written does not stop the others from loading.

Every deployment's one pull step is `enter_project`: a worker would otherwise run
the flow in a temporary folder (and, without any pull step, copy the folder the
deployment was made from into it). Working from this host's checkout means its
`.env` and `var/` are used exactly as by `coalition run`.
"""

from __future__ import annotations

import logging
import os
from collections import deque
from typing import Any

from coalition.settings import PROJECT_ROOT
from flows.registry import FLOWS

PULL_STEP = {"flows.deployed.enter_project": {}}

_BY_ATTRIBUTE = {entry.attribute: entry for entry in FLOWS.values()}

# Prefect logs a failed run's exception with its traceback where it was raised (the task
# run), again when the flow fails, and again as its engine exits: the dashboard and
# `coalition serve` showed each traceback two or three times. The first keeps it; the
# others keep their words and point to it.
ENGINE_EXIT = ("Execution of flow run", "Engine execution exited")
ENGINE_LOGGERS = ("prefect.engine", "prefect.flow_runs", "prefect.task_runs")
_shown: deque[BaseException] = deque(maxlen=32)  # exceptions whose traceback was logged


def _chain(exc: BaseException | None) -> list[BaseException]:
    seen: list[BaseException] = []
    while exc is not None and exc not in seen:
        seen.append(exc)
        exc = exc.__cause__ or exc.__context__
    return seen


def traceback_once(record: logging.LogRecord) -> bool:
    """Filter for the engine's loggers: a traceback already logged keeps its words, not its traceback again."""
    if not record.exc_info:
        return True
    chain = _chain(record.exc_info[1])
    if str(record.msg).startswith(ENGINE_EXIT) or any(e in _shown for e in chain):
        record.msg = f"{record.msg} (traceback above)"
        record.exc_info = None
        record.exc_text = None
    else:
        _shown.extend(chain)
    return True


for _name in ENGINE_LOGGERS:
    if traceback_once not in logging.getLogger(_name).filters:
        logging.getLogger(_name).addFilter(traceback_once)


def enter_project() -> dict[str, str]:
    """Pull step: work from the project folder of the host the run lands on."""
    os.chdir(PROJECT_ROOT)
    return {"directory": str(PROJECT_ROOT)}


def __getattr__(name: str) -> Any:
    entry = _BY_ATTRIBUTE.get(name)
    if entry is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return entry.load()


def __dir__() -> list[str]:
    return sorted([*_BY_ATTRIBUTE, "PULL_STEP", "enter_project"])
