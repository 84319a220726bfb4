"""Seeds for the sandbox: `empty` (a bare workspace) and `demo` (a fictional coalition)."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from sandbox.app import Sandbox


def apply_seed(sandbox: Sandbox, name: str) -> None:
    if name not in {"empty", "demo"}:
        raise ValueError(f"unknown seed {name!r}; expected 'empty' or 'demo'")
