"""Airtable's error shapes: `{"error": {"type": ..., "message": ...}}` with the documented statuses."""

from __future__ import annotations

from typing import Any

FORMULA_PREFIX = "The formula for filtering records is invalid: "


class AirtableError(Exception):
    """An error the API answers with; routes turn it into the JSON body and status."""

    def __init__(self, status: int, type_: str, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.type = type_
        self.message = message

    def body(self) -> dict[str, Any]:
        return {"error": {"type": self.type, "message": self.message}}


def url_too_long() -> AirtableError:
    """A URL of 16,000 characters or more (HTTP 414); airtable.js reports it in these words."""
    return AirtableError(414, "UNEXPECTED_ERROR", "An unexpected error occurred")


def authentication_required() -> AirtableError:
    return AirtableError(401, "AUTHENTICATION_REQUIRED", "Authentication required")


def model_not_found() -> AirtableError:
    """Unknown base or table: Airtable does not say which, nor whether it exists at all."""
    return AirtableError(
        403,
        "INVALID_PERMISSIONS_OR_MODEL_NOT_FOUND",
        "Invalid permissions, or the requested model was not found. Check that both your user"
        " and your token have the required permissions, and that the model names and/or ids"
        " are correct.",
    )


def record_not_found(record_id: str) -> AirtableError:
    return AirtableError(404, "NOT_FOUND", f"Could not find record {record_id}")


def row_does_not_exist(record_id: str) -> AirtableError:
    return AirtableError(
        422, "ROW_DOES_NOT_EXIST", f"Record ID {record_id} does not exist in this table"
    )


def unknown_field(name: str) -> AirtableError:
    return AirtableError(422, "UNKNOWN_FIELD_NAME", f'Unknown field name: "{name}"')


def invalid_value(field_name: str, detail: str = "") -> AirtableError:
    message = f'Field "{field_name}" cannot accept the provided value'
    return AirtableError(
        422, "INVALID_VALUE_FOR_COLUMN", f"{message}: {detail}" if detail else message
    )


def invalid_choice(field_name: str, option: str) -> AirtableError:
    return AirtableError(
        422,
        "INVALID_MULTIPLE_CHOICE_OPTIONS",
        f'Insufficient permissions to create new select option ""{option}"" in field "{field_name}"',
    )


def invalid_records(message: str) -> AirtableError:
    return AirtableError(422, "INVALID_RECORDS", message)


def invalid_request(message: str) -> AirtableError:
    return AirtableError(422, "INVALID_REQUEST_UNKNOWN", f"Invalid request: {message}")


def invalid_formula(detail: str) -> AirtableError:
    return AirtableError(422, "INVALID_FILTER_BY_FORMULA", FORMULA_PREFIX + detail)


def iterator_not_available() -> AirtableError:
    return AirtableError(
        422,
        "LIST_RECORDS_ITERATOR_NOT_AVAILABLE",
        "The iterator for this offset is no longer available; restart the listing from the first page",
    )


def invalid_offset(offset: str) -> AirtableError:
    return AirtableError(422, "INVALID_OFFSET_VALUE", f"The value of offset {offset} is invalid")


def rate_limited() -> AirtableError:
    return AirtableError(429, "RATE_LIMIT_REACHED", "Rate limit exceeded. Please try again later")


SERVER_ERROR_TYPES = {
    500: ("SERVER_ERROR", "Try again. If the problem persists, contact support."),
    502: ("BAD_GATEWAY", "The server could not process your request in time."),
    503: ("SERVICE_UNAVAILABLE", "The server is temporarily unavailable. Try again later."),
    504: ("GATEWAY_TIMEOUT", "The server did not respond in time. Try again later."),
}


def server_error(status: int) -> AirtableError:
    type_, message = SERVER_ERROR_TYPES.get(status, SERVER_ERROR_TYPES[500])
    return AirtableError(status, type_, message)
