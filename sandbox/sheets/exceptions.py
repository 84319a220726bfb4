"""Errors of the emulated Sheets API, each carrying the HTTP code, gRPC status and message Google sends."""

from __future__ import annotations


class SheetsError(Exception):
    """An error reply: `{"error": {"code", "message", "status"}}`, and `details` when Google sends them."""

    code = 400
    status = "INVALID_ARGUMENT"

    def __init__(self, message: str, details: list[dict] | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.details = details

    def body(self) -> dict:
        error = {"code": self.code, "message": self.message, "status": self.status}
        if self.details:
            error["details"] = self.details
        return {"error": error}


class InvalidArgument(SheetsError):
    code = 400
    status = "INVALID_ARGUMENT"


class NotFound(SheetsError):
    code = 404
    status = "NOT_FOUND"

    def __init__(self, message: str = "Requested entity was not found.") -> None:
        super().__init__(message)


class PermissionDenied(SheetsError):
    code = 403
    status = "PERMISSION_DENIED"


def invalid_payload(violations: list[tuple[str, str]]) -> InvalidArgument:
    """The JSON layer's 400 (unknown names, values of the wrong type or enum): every problem on
    its own line of the message, and each as a field violation of a `google.rpc.BadRequest` detail."""
    return InvalidArgument(
        "\n".join(text for _, text in violations),
        [
            {
                "@type": "type.googleapis.com/google.rpc.BadRequest",
                "fieldViolations": [{"field": f, "description": text} for f, text in violations],
            }
        ],
    )


def unknown_name(name: str, at: str) -> tuple[str, str]:
    """One field violation: a name the schema of the object at `at` does not have."""
    return (
        at,
        f"Invalid JSON payload received. Unknown name \"{name}\" at '{at}': Cannot find field.",
    )


def unparsable(range_text: str) -> InvalidArgument:
    return InvalidArgument(f"Unable to parse range: {range_text}")


def exceeds_grid(range_text: str, rows: int, cols: int) -> InvalidArgument:
    return InvalidArgument(
        f"Range ({range_text}) exceeds grid limits. Max rows: {rows}, max columns: {cols}"
    )


def bad_request(index: int, kind: str, message: str) -> InvalidArgument:
    """A batchUpdate request that failed, named the way the API names it."""
    return InvalidArgument(f"Invalid requests[{index}].{kind}: {message}")
