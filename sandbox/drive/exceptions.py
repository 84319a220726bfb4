"""Errors of the emulated Drive API v3, in Google's shape with the legacy `errors` list Drive still sends."""

from __future__ import annotations

from typing import Any

_STATUS = {
    400: "INVALID_ARGUMENT",
    401: "UNAUTHENTICATED",
    403: "PERMISSION_DENIED",
    404: "NOT_FOUND",
    409: "ALREADY_EXISTS",
    429: "RESOURCE_EXHAUSTED",
    500: "INTERNAL",
    503: "UNAVAILABLE",
}


class DriveError(Exception):
    """An error reply: `{"error": {"code", "message", "errors": [...], "status"}}`."""

    def __init__(
        self,
        code: int,
        message: str,
        reason: str,
        location: str | None = None,
        location_type: str | None = "parameter",
        domain: str = "global",
    ) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.reason = reason
        self.location = location
        self.location_type = location_type
        self.domain = domain

    def body(self) -> dict[str, Any]:
        detail: dict[str, Any] = {
            "message": self.message,
            "domain": self.domain,
            "reason": self.reason,
        }
        if self.location:
            detail["location"] = self.location
            detail["locationType"] = self.location_type
        return {
            "error": {
                "code": self.code,
                "message": self.message,
                "errors": [detail],
                "status": _STATUS.get(self.code, "UNKNOWN"),
            }
        }


def file_not_found(file_id: str, location: str = "fileId") -> DriveError:
    return DriveError(404, f"File not found: {file_id}.", "notFound", location)


def invalid_value(location: str, message: str = "Invalid Value") -> DriveError:
    return DriveError(400, message, "invalid", location)


def required(location: str, message: str) -> DriveError:
    return DriveError(400, message, "required", location)


def permission_not_found(permission_id: str) -> DriveError:
    return DriveError(404, f"Permission not found: {permission_id}.", "notFound", "permissionId")


def forbidden(message: str, reason: str = "forbidden") -> DriveError:
    return DriveError(403, message, reason, None)
