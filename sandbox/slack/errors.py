"""Slack's own error shape: a Web API refusal is HTTP 200 {"ok": false, "error": code, ...}."""

from __future__ import annotations

from typing import Any


class SlackError(Exception):
    """A Web API refusal: `error` is Slack's code, `extra` more top-level reply fields."""

    def __init__(self, error: str, **extra: Any) -> None:
        super().__init__(error)
        self.error = error
        self.extra = extra

    def body(self) -> dict[str, Any]:
        return {"ok": False, "error": self.error, **self.extra}


def blocks_error(errors: list[str]) -> SlackError:
    """invalid_blocks with Slack's two renderings of the same reasons."""
    return SlackError(
        "invalid_blocks",
        errors=errors,
        response_metadata={"messages": [f"[ERROR] {e}" for e in errors]},
    )


def arguments_error(errors: list[str]) -> SlackError:
    """invalid_arguments, as views.* refuse a malformed view."""
    return SlackError(
        "invalid_arguments", response_metadata={"messages": [f"[ERROR] {e}" for e in errors]}
    )
