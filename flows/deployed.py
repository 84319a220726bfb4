"""What deployments run: every flow of the registry, alert hooks attached, by module path (`flows.deployed.roster_sync`).

Workers and `coalition serve` load a flow from its deployment's entrypoint, not
from the process that created the deployment, so the hooks of flows/health.py must
come with the object the entrypoint names. Attributes are resolved lazily, so a
flow still being written does not stop the others from loading.

A process worker runs each flow in a temporary folder; the project folder is made
the working directory so a `.env` kept there is read as it is by `coalition run`.
"""

from __future__ import annotations

import os
from typing import Any

from coalition.settings import PROJECT_ROOT
from flows.registry import FLOWS

os.chdir(PROJECT_ROOT)

_BY_ATTRIBUTE = {entry.attribute: entry for entry in FLOWS.values()}


def __getattr__(name: str) -> Any:
    entry = _BY_ATTRIBUTE.get(name)
    if entry is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return entry.load()


def __dir__() -> list[str]:
    return sorted(_BY_ATTRIBUTE)
