"""Google Docs and Drive, thin: find or create a folder and a document in it, read a document, replace its content.

google-api-python-client does the HTTP over the budgeted session from
integrations.clients (which paces to Docs' 60 writes a minute and waits out 429s).
What to write is decided elsewhere (coalition/summary/document.py builds the
requests); this module moves them, in one batchUpdate guarded by the revision it
was computed from, so a document is replaced whole or not at all.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import requests
from googleapiclient.errors import HttpError

from coalition.references import GoogleRef, parse_google
from integrations.http import ServiceUnavailable

FOLDER_MIME = "application/vnd.google-apps.folder"
DOCUMENT_MIME = "application/vnd.google-apps.document"
DOC_URL = "https://docs.google.com/document/d/{id}/edit"
FILE_FIELDS = "id, name, mimeType, parents, properties, createdTime"


class DocsError(Exception):
    """Docs or Drive refused or failed a request; `status` and `reason` are Google's own."""

    def __init__(self, message: str, status: int | None = None, reason: str | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.reason = reason

    @property
    def transient(self) -> bool:
        return self.status is None or self.status == 429 or self.status >= 500


class DocumentNotFound(DocsError):
    """The document (or folder) is gone, or the bot may not see it."""

    @property
    def transient(self) -> bool:
        return False


class RevisionChanged(DocsError):
    """Someone edited the document after it was read: read it again and recompute."""

    @property
    def transient(self) -> bool:
        return True


def is_transient(exc: BaseException) -> bool:
    """True for failures a retry may cure (429, 5xx, a concurrent edit, lost connections)."""
    if isinstance(exc, DocsError):
        return exc.transient
    return isinstance(exc, ServiceUnavailable | requests.ConnectionError | requests.Timeout)


def _typed(exc: Exception, where: str) -> Exception:
    if isinstance(exc, HttpError):
        status = exc.resp.status if exc.resp is not None else None
        reason = exc._get_reason() if hasattr(exc, "_get_reason") else str(exc)
        text = f"Google {where}: HTTP {status} {reason}".strip()
        if status == 404:
            return DocumentNotFound(text, status, reason)
        if status == 400 and "revision" in str(reason).lower():
            return RevisionChanged(text, status, reason)
        return DocsError(text, status, reason)
    if isinstance(exc, ServiceUnavailable | requests.ConnectionError | requests.Timeout):
        return DocsError(f"Google {where}: {exc}")
    return exc


def _run(request: Any, where: str) -> Any:
    try:
        return request.execute(num_retries=0)
    except Exception as exc:
        raise _typed(exc, where) from None


def document_url(document_id: str) -> str:
    return DOC_URL.format(id=document_id)


def _quoted(value: str) -> str:
    """A string literal of Drive's query language."""
    return "'" + value.replace("\\", "\\\\").replace("'", "\\'") + "'"


# ---------------------------------------------------------------- Drive
def find_folder(drive: Any, name: str) -> str | None:
    """The folder given by link or id (if the bot can see it), else the oldest of that name, or None."""
    ref = parse_google(name, "folder")
    if isinstance(ref, GoogleRef) and ref.id is not None:
        try:
            found = drive.files().get(fileId=ref.id, fields="id, mimeType, trashed").execute()
        except Exception:  # 404 or 403: the bot cannot use it
            return None
        usable = found.get("mimeType") == FOLDER_MIME and not found.get("trashed")
        return str(found["id"]) if usable else None
    query = f"name = {_quoted(name)} and mimeType = '{FOLDER_MIME}' and trashed = false"
    reply = _run(
        drive.files().list(
            q=query, fields="files(id, name, createdTime)", orderBy="createdTime", pageSize=10
        ),
        f"finding folder '{name}'",
    )
    files = reply.get("files") or []
    return files[0]["id"] if files else None


def create_folder(drive: Any, name: str) -> str:
    body = {"name": name, "mimeType": FOLDER_MIME}
    return _run(drive.files().create(body=body, fields="id"), f"creating folder '{name}'")["id"]


@dataclass(frozen=True)
class DriveFile:
    id: str
    name: str
    properties: dict[str, str]


def find_documents(drive: Any, folder_id: str, name_prefix: str) -> list[DriveFile]:
    """Documents in the folder whose name starts with `name_prefix` (oldest first), trash excluded."""
    query = (
        f"name contains {_quoted(name_prefix)} and {_quoted(folder_id)} in parents "
        f"and mimeType = '{DOCUMENT_MIME}' and trashed = false"
    )
    found: list[DriveFile] = []
    token = None
    while True:
        reply = _run(
            drive.files().list(
                q=query,
                fields=f"nextPageToken, files({FILE_FIELDS})",
                orderBy="createdTime",
                pageSize=100,
                pageToken=token,
            ),
            "finding documents",
        )
        for item in reply.get("files") or []:
            if str(item.get("name", "")).startswith(name_prefix):
                found.append(DriveFile(item["id"], item["name"], item.get("properties") or {}))
        token = reply.get("nextPageToken")
        if not token:
            return found


def create_document(drive: Any, folder_id: str, title: str, properties: dict[str, str]) -> str:
    """A blank Google Doc in the folder; `properties` mark it as the bot's (e.g. its week)."""
    body = {
        "name": title,
        "mimeType": DOCUMENT_MIME,
        "parents": [folder_id],
        "properties": properties,
    }
    return _run(drive.files().create(body=body, fields="id"), "creating the document")["id"]


def is_trashed(drive: Any, file_id: str) -> bool:
    """True when the file is in the trash or gone (a document staff threw away is not written to)."""
    try:
        reply = _run(
            drive.files().get(fileId=file_id, fields="id, trashed"), "checking the document"
        )
    except DocumentNotFound:
        return True
    return bool(reply.get("trashed"))


def trash(drive: Any, file_id: str) -> None:
    _run(
        drive.files().update(fileId=file_id, body={"trashed": True}, fields="id"),
        "moving a document to the trash",
    )


def rename(drive: Any, file_id: str, name: str) -> None:
    _run(
        drive.files().update(fileId=file_id, body={"name": name}, fields="id"),
        "renaming the document",
    )


# ---------------------------------------------------------------- Docs
def get_document(docs: Any, document_id: str) -> dict[str, Any]:
    """The document resource (title, body with indices, revisionId); DocumentNotFound if it is gone."""
    return _run(docs.documents().get(documentId=document_id), "reading the document")


def batch_update(
    docs: Any, document_id: str, requests_: list[dict[str, Any]], revision_id: str | None
) -> dict[str, Any]:
    """Apply every request or none; with `revision_id`, only if nobody edited since that revision."""
    body: dict[str, Any] = {"requests": requests_}
    if revision_id:
        body["writeControl"] = {"requiredRevisionId": revision_id}
    return _run(
        docs.documents().batchUpdate(documentId=document_id, body=body), "writing the document"
    )


def new_revision(reply: dict[str, Any]) -> str | None:
    return (reply.get("writeControl") or {}).get("requiredRevisionId")


__all__ = [
    "DocsError",
    "DocumentNotFound",
    "DriveFile",
    "RevisionChanged",
    "batch_update",
    "create_document",
    "create_folder",
    "document_url",
    "find_documents",
    "find_folder",
    "get_document",
    "is_transient",
    "is_trashed",
    "new_revision",
    "rename",
    "trash",
]
