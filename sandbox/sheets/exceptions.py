"""Errors of the emulated Sheets API, each carrying the HTTP code, gRPC status and message Google sends."""

from __future__ import annotations


class SheetsError(Exception):
    """An error reply: `{"error": {"code", "message", "status"}}`."""

    code = 400
    status = "INVALID_ARGUMENT"

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message

    def body(self) -> dict:
        return {"error": {"code": self.code, "message": self.message, "status": self.status}}


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


def unparsable(range_text: str) -> InvalidArgument:
    return InvalidArgument(f"Unable to parse range: {range_text}")


def exceeds_grid(range_text: str, rows: int, cols: int) -> InvalidArgument:
    return InvalidArgument(
        f"Range ({range_text}) exceeds grid limits. Max rows: {rows}, max columns: {cols}"
    )


def bad_request(index: int, kind: str, message: str) -> InvalidArgument:
    """A batchUpdate request that failed, named the way the API names it."""
    return InvalidArgument(f"Invalid requests[{index}].{kind}: {message}")
