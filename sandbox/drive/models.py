"""State and behaviour of the emulated drive service (no HTTP here)."""

from __future__ import annotations

from typing import Any

from sandbox.core import SandboxServices


class Backend:
    def __init__(self, ctx: SandboxServices) -> None:
        self.ctx = ctx
        self.reset()

    def reset(self) -> None:
        pass

    def snapshot(self) -> dict[str, Any]:
        return {}

    def restore(self, data: dict[str, Any]) -> None:
        pass
