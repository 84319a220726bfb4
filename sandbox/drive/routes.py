"""HTTP translation of the emulated Drive API v3: /drive/v3/files..., /upload/drive/v3/files, /drive/v3/about.

Each handler parses the request, calls the model, and cuts the reply down to
`fields` (or the method's default fields, as Drive v3 does when none are asked
for). Rate limit: Drive's 12,000 queries a minute per user, keyed "drive".
"""

from __future__ import annotations

import base64
import email.parser
import email.policy
import hashlib
import json
from collections.abc import Awaitable, Callable
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

from sandbox.core import google_authorized
from sandbox.drive import fields as partial
from sandbox.drive.exceptions import DriveError, invalid_value
from sandbox.drive.models import BOT_EMAIL, BOT_NAME, Backend

QUERIES_PER_MINUTE = 12_000
FILE_DEFAULT: partial.Mask = {"kind": None, "id": None, "name": None, "mimeType": None}
LIST_DEFAULT: partial.Mask = {
    "kind": None,
    "incompleteSearch": None,
    "nextPageToken": None,
    "files": FILE_DEFAULT,
}
PERMISSION_DEFAULT: partial.Mask = {"kind": None, "id": None, "type": None, "role": None}
MAX_PAGE_SIZE = 1000
DEFAULT_PAGE_SIZE = 100

Handler = Callable[[Request], Awaitable[Response]]


def routes(backend: Backend) -> list[BaseRoute]:
    api = _DriveRoutes(backend)
    return [
        Route("/drive/v3/about", api.wrap(api.about), methods=["GET"]),
        Route("/drive/v3/files", api.wrap(api.list_files), methods=["GET"]),
        Route("/drive/v3/files", api.wrap(api.create), methods=["POST"]),
        Route("/drive/v3/files/trash", api.wrap(api.empty_trash), methods=["DELETE"]),
        Route("/drive/v3/files/generateIds", api.wrap(api.generate_ids), methods=["GET"]),
        Route("/drive/v3/files/{file_id}", api.wrap(api.get), methods=["GET"]),
        Route("/drive/v3/files/{file_id}", api.wrap(api.update), methods=["PATCH", "PUT"]),
        Route("/drive/v3/files/{file_id}", api.wrap(api.delete), methods=["DELETE"]),
        Route("/drive/v3/files/{file_id}/copy", api.wrap(api.copy), methods=["POST"]),
        Route(
            "/drive/v3/files/{file_id}/permissions", api.wrap(api.list_permissions), methods=["GET"]
        ),
        Route(
            "/drive/v3/files/{file_id}/permissions",
            api.wrap(api.create_permission),
            methods=["POST"],
        ),
        Route(
            "/drive/v3/files/{file_id}/permissions/{permission_id}",
            api.wrap(api.permission),
            methods=["GET", "PATCH", "DELETE"],
        ),
        Route("/upload/drive/v3/files", api.wrap(api.upload), methods=["POST"]),
        Route(
            "/upload/drive/v3/files/{file_id}",
            api.wrap(api.upload_update),
            methods=["PATCH", "PUT"],
        ),
        Route("/drive/v3/{rest:path}", api.wrap(api.unknown)),
        Route("/upload/drive/v3/{rest:path}", api.wrap(api.unknown)),
    ]


def is_authorized(path: str, headers: dict[str, str], query: str) -> bool:
    return google_authorized(headers, query)


def error_response(kind: str, status: int, retry_after: float | None) -> Response:
    """401, 429 and 5xx replies in Drive's shape."""
    if kind == "401":
        body = DriveError(
            401,
            "Request is missing required authentication credential. Expected OAuth 2 access token, "
            "login cookie or other valid authentication credential. See "
            "https://developers.google.com/identity/sign-in/web/devconsole-project.",
            "required",
            "Authorization",
            "header",
        ).body()
        body["error"]["errors"][0]["message"] = "Login Required."
        return JSONResponse(body, status_code=401)
    if kind == "429":
        error = DriveError(
            429, "Rate Limit Exceeded", "rateLimitExceeded", None, None, "usageLimits"
        )
        return JSONResponse(error.body(), status_code=429)
    if status == 503:
        error = DriveError(503, "The service is currently unavailable.", "backendError", None)
    else:
        error = DriveError(status, "Internal Error", "internalError", None)
    return JSONResponse(error.body(), status_code=status)


class _DriveRoutes:
    def __init__(self, backend: Backend) -> None:
        self.backend = backend

    def wrap(self, handler: Handler) -> Handler:
        async def endpoint(request: Request) -> Response:
            wait = self.backend.ctx.limiter.check("drive", QUERIES_PER_MINUTE, 60.0)
            if wait is not None:
                return error_response("429", 429, wait)
            try:
                return await handler(request)
            except DriveError as error:
                return JSONResponse(error.body(), status_code=error.code)
            except partial.FieldsError:
                return JSONResponse(invalid_value("fields").body(), status_code=400)

        return endpoint

    # ------------------------------------------------------------ files
    async def about(self, request: Request) -> Response:
        about = {
            "kind": "drive#about",
            "user": {
                "kind": "drive#user",
                "displayName": BOT_NAME,
                "me": True,
                "emailAddress": BOT_EMAIL,
            },
            "storageQuota": {"limit": "16106127360", "usage": "0"},
        }
        if not request.query_params.get("fields"):
            return _error(
                400, "The 'fields' parameter is required for this method.", "required", "fields"
            )
        return _json(partial.select(about, request.query_params.get("fields")))

    async def list_files(self, request: Request) -> Response:
        params = request.query_params
        q = params.get("q")
        order_by = params.get("orderBy")
        found = self.backend.search(q, order_by)
        size = _page_size(params.get("pageSize"))
        offset = _page_offset(params.get("pageToken"), q, order_by)
        page = found[offset : offset + size]
        reply: dict[str, Any] = {"kind": "drive#fileList", "incompleteSearch": False, "files": page}
        if offset + size < len(found):
            reply["nextPageToken"] = _page_token(offset + size, q, order_by)
        return _json(partial.select(reply, params.get("fields"), LIST_DEFAULT))

    async def create(self, request: Request) -> Response:
        body = await _body(request)
        resource = self.backend.create(body)
        return _json(partial.select(resource, request.query_params.get("fields"), FILE_DEFAULT))

    async def get(self, request: Request) -> Response:
        file_id = request.path_params["file_id"]
        if request.query_params.get("alt") == "media":
            content, mime_type = self.backend.content_of(file_id)
            return Response(content, media_type=mime_type)
        resource = self.backend.get_file(file_id)
        return _json(partial.select(resource, request.query_params.get("fields"), FILE_DEFAULT))

    async def update(self, request: Request) -> Response:
        params = request.query_params
        resource = self.backend.update(
            request.path_params["file_id"],
            await _body(request),
            params.get("addParents"),
            params.get("removeParents"),
        )
        return _json(partial.select(resource, params.get("fields"), FILE_DEFAULT))

    async def delete(self, request: Request) -> Response:
        self.backend.delete_file(request.path_params["file_id"])
        return Response(status_code=204)

    async def empty_trash(self, request: Request) -> Response:
        for resource in self.backend.search("trashed = true"):
            if resource["id"] in self.backend.files:
                self.backend.delete_file(resource["id"])
        return Response(status_code=204)

    async def generate_ids(self, request: Request) -> Response:
        count = _page_size(request.query_params.get("count") or "10")
        ids = [self.backend.new_id() for _ in range(min(count, 1000))]
        reply = {"kind": "drive#generatedIds", "space": "drive", "ids": ids}
        return _json(partial.select(reply, request.query_params.get("fields")))

    async def copy(self, request: Request) -> Response:
        resource = self.backend.copy(request.path_params["file_id"], await _body(request))
        return _json(partial.select(resource, request.query_params.get("fields"), FILE_DEFAULT))

    # ------------------------------------------------------------ uploads
    async def upload(self, request: Request) -> Response:
        metadata, content, content_type = await _upload_parts(request)
        resource = self.backend.create(metadata, content, content_type)
        return _json(partial.select(resource, request.query_params.get("fields"), FILE_DEFAULT))

    async def upload_update(self, request: Request) -> Response:
        file_id = request.path_params["file_id"]
        metadata, content, _ = await _upload_parts(request)
        params = request.query_params
        resource = self.backend.update(
            file_id, metadata, params.get("addParents"), params.get("removeParents")
        )
        record = self.backend.files[resource["id"]]
        if content is not None and not record.mime_type.startswith("application/vnd.google-apps."):
            record.content = content
        return _json(
            partial.select(self.backend.get_file(file_id), params.get("fields"), FILE_DEFAULT)
        )

    # ------------------------------------------------------------ permissions
    async def list_permissions(self, request: Request) -> Response:
        permissions = self.backend.list_permissions(request.path_params["file_id"])
        reply = {"kind": "drive#permissionList", "permissions": permissions}
        return _json(partial.select(reply, request.query_params.get("fields")))

    async def create_permission(self, request: Request) -> Response:
        params = request.query_params
        permission = self.backend.create_permission(
            request.path_params["file_id"],
            await _body(request),
            transfer_ownership=_flag(params.get("transferOwnership")),
        )
        return _json(partial.select(permission, params.get("fields"), PERMISSION_DEFAULT))

    async def permission(self, request: Request) -> Response:
        file_id = request.path_params["file_id"]
        permission_id = request.path_params["permission_id"]
        params = request.query_params
        if request.method == "DELETE":
            self.backend.delete_permission(file_id, permission_id)
            return Response(status_code=204)
        if request.method == "PATCH":
            permission = self.backend.update_permission(
                file_id,
                permission_id,
                await _body(request),
                transfer_ownership=_flag(params.get("transferOwnership")),
            )
        else:
            permission = self.backend.get_permission(file_id, permission_id)
        return _json(partial.select(permission, params.get("fields"), PERMISSION_DEFAULT))

    async def unknown(self, request: Request) -> Response:
        return _error(
            404, f"Method not found: {request.method} {request.url.path}", "notFound", None
        )


# ------------------------------------------------------------------ helpers
def _json(data: Any, status: int = 200) -> JSONResponse:
    return JSONResponse(data, status_code=status)


def _error(code: int, message: str, reason: str, location: str | None) -> JSONResponse:
    return _json(DriveError(code, message, reason, location).body(), code)


async def _body(request: Request) -> dict[str, Any]:
    raw = await request.body()
    if not raw.strip():
        return {}
    try:
        data = json.loads(raw)
    except (json.JSONDecodeError, UnicodeDecodeError):
        raise DriveError(400, "Parse Error", "parseError", None) from None
    if not isinstance(data, dict):
        raise DriveError(400, "Parse Error", "parseError", None)
    return data


async def _upload_parts(request: Request) -> tuple[dict[str, Any], bytes | None, str]:
    """(metadata, content, content type) of a multipart or simple (media) upload."""
    upload_type = request.query_params.get("uploadType", "media")
    raw = await request.body()
    content_type = request.headers.get("content-type", "")
    if upload_type == "media":
        return {}, raw, content_type.split(";")[0].strip()
    if upload_type != "multipart":
        raise invalid_value("uploadType", f"The sandbox does not emulate uploadType={upload_type}.")
    message = email.parser.BytesParser(policy=email.policy.HTTP).parsebytes(
        b"Content-Type: " + content_type.encode("latin-1") + b"\r\n\r\n" + raw
    )
    if not message.is_multipart():
        raise DriveError(400, "Malformed multipart body.", "badContent", None)
    parts = list(message.iter_parts())
    if not parts:
        raise DriveError(400, "Malformed multipart body.", "badContent", None)
    try:
        metadata = json.loads(parts[0].get_payload(decode=True) or b"{}")
    except json.JSONDecodeError:
        raise DriveError(400, "Parse Error", "parseError", None) from None
    if len(parts) < 2:
        return metadata, None, ""
    media = parts[1]
    return metadata, media.get_payload(decode=True) or b"", media.get_content_type()


def _page_size(text: str | None) -> int:
    if text is None:
        return DEFAULT_PAGE_SIZE
    try:
        size = int(text)
    except ValueError:
        raise invalid_value("pageSize") from None
    if size < 1:
        raise invalid_value("pageSize")
    return min(size, MAX_PAGE_SIZE)


def _query_key(q: str | None, order_by: str | None) -> str:
    return hashlib.sha1(f"{q}|{order_by}".encode()).hexdigest()[:10]


def _page_token(offset: int, q: str | None, order_by: str | None) -> str:
    raw = json.dumps({"o": offset, "k": _query_key(q, order_by)}).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _page_offset(token: str | None, q: str | None, order_by: str | None) -> int:
    """A token only works for the query that produced it, as Drive's do."""
    if not token:
        return 0
    try:
        data = json.loads(base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)))
        if data["k"] != _query_key(q, order_by):
            raise ValueError("token from another query")
        return int(data["o"])
    except (ValueError, KeyError, TypeError, json.JSONDecodeError):
        raise invalid_value("pageToken") from None


def _flag(value: str | None) -> bool:
    return (value or "").lower() == "true"
