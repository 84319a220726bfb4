"""State and behaviour of the emulated Google Drive API v3 (no HTTP here): the sandbox's file registry.

Every spreadsheet and document lives here as a file with a name, a MIME type,
parents and permissions; the Sheets and Docs models keep the contents and call
`register_file` when they create a file themselves. Creating a spreadsheet or a
document through Drive creates it in the Sheets or Docs model too, and deleting
it here deletes it there.

Modelled: folders and parents (a file without parents is in "My Drive", whose
id the alias 'root' names), the `q` language (see `query.py`), trash, copy,
rename and move, permissions (create/list/get/update/delete), multipart and
simple uploads (CSV uploaded as a spreadsheet is converted), paging and orderBy.

Not implemented: shared drives (the supportsAllDrives-style flags are accepted
and ignored), resumable uploads, revisions, comments, changes, exports and
downloads of Google files, shortcuts, labels, access checks (the one bot user
owns every file), the 750 GB/day upload quota.
"""

from __future__ import annotations

import csv
import hashlib
import io
import random
import re
import string
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sandbox.core import SandboxServices
from sandbox.drive import query
from sandbox.drive.exceptions import (
    DriveError,
    file_not_found,
    forbidden,
    invalid_value,
    permission_not_found,
    required,
)

FOLDER_MIME = "application/vnd.google-apps.folder"
DOCUMENT_MIME = "application/vnd.google-apps.document"
SPREADSHEET_MIME = "application/vnd.google-apps.spreadsheet"
GOOGLE_PREFIX = "application/vnd.google-apps."
EMULATED_GOOGLE_TYPES = {FOLDER_MIME, DOCUMENT_MIME, SPREADSHEET_MIME}
ROOT_ID = "0AEmulatedRootFolderUk9PVA"
BOT_EMAIL = "coalition-bot@coalition-sandbox.iam.gserviceaccount.com"
BOT_NAME = "Coalition bot"
ROLES = {"owner", "organizer", "fileOrganizer", "writer", "commenter", "reader"}
PERMISSION_TYPES = {"user", "group", "domain", "anyone"}
ORDER_KEYS = {
    "createdTime",
    "folder",
    "modifiedByMeTime",
    "modifiedTime",
    "name",
    "name_natural",
    "quotaBytesUsed",
    "recency",
    "sharedWithMeTime",
    "starred",
    "viewedByMeTime",
}
_ID_CHARS = string.ascii_letters + string.digits + "-_"


@dataclass
class DriveFile:
    id: str
    name: str
    mime_type: str
    parents: list[str]
    created: str
    modified: str
    trashed: bool = False
    explicitly_trashed: bool = False
    starred: bool = False
    description: str = ""
    content: bytes | None = None
    permissions: list[dict[str, Any]] = field(default_factory=list)
    properties: dict[str, str] = field(default_factory=dict)
    version: int = 1


class Backend:
    """The Drive of the one user the bot acts as: files by id, and the root folder."""

    def __init__(self, ctx: SandboxServices) -> None:
        self.ctx = ctx
        self.reset()

    # ------------------------------------------------------------ lifecycle
    def reset(self) -> None:
        self.files: dict[str, DriveFile] = {}
        self.rng = random.Random(20_240_101)

    def snapshot(self) -> dict[str, Any]:
        return {"files": [self._dump(f) for f in self.files.values()]}

    def restore(self, data: dict[str, Any]) -> None:
        self.files = {}
        for raw in data.get("files", []):
            content = raw.get("content")
            self.files[raw["id"]] = DriveFile(
                id=raw["id"],
                name=raw["name"],
                mime_type=raw["mimeType"],
                parents=list(raw.get("parents", [])),
                created=raw["createdTime"],
                modified=raw["modifiedTime"],
                trashed=bool(raw.get("trashed")),
                explicitly_trashed=bool(raw.get("explicitlyTrashed")),
                starred=bool(raw.get("starred")),
                description=raw.get("description", ""),
                content=content.encode("latin-1") if isinstance(content, str) else None,
                permissions=list(raw.get("permissions", [])),
                properties=dict(raw.get("properties", {})),
                version=int(raw.get("version", 1)),
            )
        self.rng = random.Random(20_240_101 + len(self.files))

    @staticmethod
    def _dump(f: DriveFile) -> dict[str, Any]:
        return {
            "id": f.id,
            "name": f.name,
            "mimeType": f.mime_type,
            "parents": f.parents,
            "createdTime": f.created,
            "modifiedTime": f.modified,
            "trashed": f.trashed,
            "explicitlyTrashed": f.explicitly_trashed,
            "starred": f.starred,
            "description": f.description,
            "content": f.content.decode("latin-1") if f.content is not None else None,
            "permissions": f.permissions,
            "properties": f.properties,
            "version": f.version,
        }

    # ------------------------------------------------------------ model API (Sheets, Docs, seed, tests)
    def new_id(self, mime_type: str = "") -> str:
        """A fresh id shaped like Google's: 33 characters for folders, 44 for editor files."""
        length = 33 if mime_type == FOLDER_MIME else 44
        while True:
            candidate = "1" + "".join(self.rng.choice(_ID_CHARS) for _ in range(length - 1))
            if candidate not in self.files:
                return candidate

    def create_file(
        self,
        name: str,
        mime_type: str,
        parents: list[str] | None = None,
        file_id: str | None = None,
        description: str = "",
        content: bytes | None = None,
    ) -> dict[str, Any]:
        """Create a file; a spreadsheet or document is created in the Sheets or Docs model too."""
        parents = self._checked_parents(parents)
        file_id = file_id or self.new_id(mime_type)
        if file_id in self.files:
            raise DriveError(
                409, "A file already exists with the provided ID.", "duplicate", "id", "other"
            )
        if mime_type == SPREADSHEET_MIME:
            self._sheets().create_spreadsheet(name, None, parents, spreadsheet_id=file_id)
        elif mime_type == DOCUMENT_MIME:
            docs = self.ctx.models.get("docs")
            if docs is not None and hasattr(docs, "create_document"):
                docs.create_document(name, parents, file_id=file_id)
        if file_id not in self.files:
            self.register_file(file_id, name, mime_type, parents)
        record = self.files[file_id]
        record.description = description
        record.content = content
        return self.resource(record)

    def register_file(
        self, file_id: str, name: str, mime_type: str, parents: list[str] | None = None
    ) -> dict[str, Any]:
        """Record a file another model created (idempotent: a second call renames and moves it)."""
        existing = self.files.get(file_id)
        if existing is not None:
            existing.name = name
            existing.mime_type = mime_type
            if parents:
                existing.parents = self._resolve_ids(parents)
            return self.resource(existing)
        now = self._now()
        record = DriveFile(
            id=file_id,
            name=name,
            mime_type=mime_type,
            parents=self._resolve_ids(parents) if parents else [ROOT_ID],
            created=now,
            modified=now,
            permissions=[self._owner_permission()],
        )
        self.files[file_id] = record
        return self.resource(record)

    def get_file(self, file_id: str) -> dict[str, Any]:
        """The full file resource; raises DriveError 404 for an unknown id."""
        return self.resource(self._file(file_id))

    def find_files(
        self,
        name: str | None = None,
        mime_type: str | None = None,
        parent: str | None = None,
        include_trashed: bool = False,
    ) -> list[dict[str, Any]]:
        """Files matching every given criterion exactly, oldest first."""
        parent_id = self._alias(parent) if parent else None
        found = [
            f
            for f in self.files.values()
            if (name is None or f.name == name)
            and (mime_type is None or f.mime_type == mime_type)
            and (parent_id is None or parent_id in f.parents)
            and (include_trashed or not f.trashed)
        ]
        return [self.resource(f) for f in found]

    def delete_file(self, file_id: str) -> None:
        """Delete for good (no trash): the file, its contents in Sheets or Docs, and a folder's children."""
        record = self._file(file_id)
        if record.id == ROOT_ID:
            raise forbidden(
                "The user does not have sufficient permissions for this file.",
                "insufficientFilePermissions",
            )
        for child in [f for f in self.files.values() if record.id in f.parents]:
            if len(child.parents) == 1:
                self.delete_file(child.id)
            else:
                child.parents.remove(record.id)
        del self.files[record.id]
        if record.mime_type == SPREADSHEET_MIME:
            self._sheets().delete_spreadsheet(record.id)
        elif record.mime_type == DOCUMENT_MIME:
            docs = self.ctx.models.get("docs")
            if docs is not None and hasattr(docs, "delete_document"):
                docs.delete_document(record.id)

    def list_files(self) -> list[dict[str, Any]]:
        """Every file but the root folder, oldest first (for the viewer)."""
        return [self.resource(f) for f in self.files.values() if f.id != ROOT_ID]

    def rename_quietly(self, file_id: str, name: str) -> None:
        """Follow a rename made in Sheets or Docs, without calling back into them."""
        record = self.files.get(file_id)
        if record is not None:
            record.name = name
            self._modified(record)

    def touch(self, file_id: str) -> None:
        """Contents changed in Sheets or Docs: bump modifiedTime and version."""
        record = self.files.get(file_id)
        if record is not None:
            self._modified(record)

    # ------------------------------------------------------------ files.* (HTTP-facing)
    def create(
        self, body: dict[str, Any], content: bytes | None = None, content_type: str = ""
    ) -> dict[str, Any]:
        """files.create, with the content of an upload if any (a CSV uploaded as a Sheet converts)."""
        name = str(body.get("name") or "Untitled")
        mime_type = str(body.get("mimeType") or content_type or "application/octet-stream")
        parents = body.get("parents")
        if parents is not None and not isinstance(parents, list):
            raise invalid_value("parents")
        if mime_type == SPREADSHEET_MIME and content is not None and "csv" in content_type:
            return self._import_csv(name, parents, content)
        google_type = mime_type.startswith(GOOGLE_PREFIX)
        if google_type and mime_type not in EMULATED_GOOGLE_TYPES:
            message = f"The sandbox does not emulate {mime_type} files."
            raise DriveError(400, message, "invalid", "mimeType", "other")
        resource = self.create_file(
            name,
            mime_type,
            parents,
            body.get("id"),
            str(body.get("description") or ""),
            None if google_type else content,
        )
        record = self.files[resource["id"]]
        record.starred = bool(body.get("starred", False))
        record.properties = {str(k): str(v) for k, v in (body.get("properties") or {}).items()}
        return self.resource(record)

    def update(
        self,
        file_id: str,
        body: dict[str, Any],
        add_parents: str | None = None,
        remove_parents: str | None = None,
    ) -> dict[str, Any]:
        """files.update: rename, describe, star, trash, move (addParents/removeParents)."""
        record = self._file(file_id)
        if "parents" in body:
            raise DriveError(
                403,
                "The parents field is not directly writable in update requests. Use the addParents and removeParents parameters instead.",
                "fieldNotWritable",
                None,
            )
        adds = self._resolve_ids(_split_ids(add_parents))
        for parent in adds:
            self._folder(parent, "addParents")
        removes = self._resolve_ids(_split_ids(remove_parents))
        if (
            "mimeType" in body
            and body["mimeType"] != record.mime_type
            and record.mime_type.startswith(GOOGLE_PREFIX)
        ):
            raise forbidden(
                "The MIME type of a Google Docs editors file cannot be changed.", "fieldNotWritable"
            )
        if "name" in body and body["name"] is not None:
            record.name = str(body["name"])
            self._propagate_rename(record)
        if "description" in body:
            record.description = str(body["description"] or "")
        if "starred" in body:
            record.starred = bool(body["starred"])
        if "trashed" in body:
            self._set_trashed(record, bool(body["trashed"]), explicit=True)
        if "properties" in body:
            for key, value in (body["properties"] or {}).items():
                if value is None:
                    record.properties.pop(str(key), None)
                else:
                    record.properties[str(key)] = str(value)
        parents = [p for p in record.parents if p not in removes]
        parents += [p for p in adds if p not in parents]
        record.parents = parents
        self._modified(record)
        return self.resource(record)

    def copy(self, file_id: str, body: dict[str, Any]) -> dict[str, Any]:
        source = self._file(file_id)
        if source.mime_type == FOLDER_MIME:
            raise forbidden("This file cannot be copied by the user.", "cannotCopyFile")
        name = str(body.get("name") or f"Copy of {source.name}")
        parents = self._checked_parents(body.get("parents") or list(source.parents))
        new_id = self.new_id(source.mime_type)
        if source.mime_type == SPREADSHEET_MIME:
            self._sheets().copy_spreadsheet(source.id, new_id, name)
        elif source.mime_type == DOCUMENT_MIME:
            docs = self.ctx.models.get("docs")
            if docs is not None and hasattr(docs, "copy_document"):
                docs.copy_document(source.id, new_id, name)
        self.register_file(new_id, name, source.mime_type, parents)
        record = self.files[new_id]
        record.parents = parents
        record.content = source.content
        record.description = str(body.get("description") or source.description)
        return self.resource(record)

    def search(
        self,
        q: str | None,
        order_by: str | None = None,
    ) -> list[dict[str, Any]]:
        """files.list before paging: every file the query matches, in the requested order."""
        predicate = self._predicate(q)
        matched = [f for f in self.files.values() if f.id != ROOT_ID and predicate(self._view(f))]
        for key, descending in reversed(_order_keys(order_by)):
            matched.sort(key=_ORDERINGS[key], reverse=descending)
        return [self.resource(f) for f in matched]

    # ------------------------------------------------------------ permissions.*
    def create_permission(
        self, file_id: str, body: dict[str, Any], transfer_ownership: bool = False
    ) -> dict[str, Any]:
        record = self._file(file_id)
        role, kind = body.get("role"), body.get("type")
        if not role:
            raise required("permission.role", "The permission role field is required.")
        if not kind:
            raise required("permission.type", "The permission type field is required.")
        if role not in ROLES:
            raise invalid_value("permission.role", "The provided role is invalid.")
        if kind not in PERMISSION_TYPES:
            raise invalid_value("permission.type", "The provided permission type is invalid.")
        if role == "owner" and not transfer_ownership:
            raise forbidden(
                'Bad Request. User message: "You cannot share this item because the ownership transfer '
                'requires the transferOwnership parameter to be set to true."',
                "consentRequiredForOwnershipTransfer",
            )
        email = body.get("emailAddress")
        domain = body.get("domain")
        if kind in {"user", "group"} and not email:
            raise required(
                "permission.emailAddress",
                "The permission emailAddress field is required for the user and group types.",
            )
        if kind == "domain" and not domain:
            raise required(
                "permission.domain", "The permission domain field is required for the domain type."
            )
        permission: dict[str, Any] = {
            "kind": "drive#permission",
            "id": _permission_id(kind, email or domain, body.get("allowFileDiscovery")),
            "type": kind,
            "role": role,
        }
        if email:
            permission["emailAddress"] = str(email)
            permission["displayName"] = str(email).split("@")[0]
        if domain:
            permission["domain"] = str(domain)
            permission["displayName"] = str(domain)
        if kind in {"anyone", "domain"}:
            permission["allowFileDiscovery"] = bool(body.get("allowFileDiscovery", False))
        permission["deleted"] = False
        permission["pendingOwner"] = False
        for existing in record.permissions:
            if existing["id"] == permission["id"]:
                existing.update(role=role)
                self._modified(record)
                return dict(existing)
        if role == "owner":
            for existing in record.permissions:
                if existing["role"] == "owner":
                    existing["role"] = "writer"
        record.permissions.append(permission)
        self._modified(record)
        return dict(permission)

    def list_permissions(self, file_id: str) -> list[dict[str, Any]]:
        return [dict(p) for p in self._file(file_id).permissions]

    def get_permission(self, file_id: str, permission_id: str) -> dict[str, Any]:
        return dict(self._permission(self._file(file_id), permission_id))

    def update_permission(
        self,
        file_id: str,
        permission_id: str,
        body: dict[str, Any],
        transfer_ownership: bool = False,
    ) -> dict[str, Any]:
        record = self._file(file_id)
        permission = self._permission(record, permission_id)
        role = body.get("role")
        if role is not None:
            if role not in ROLES:
                raise invalid_value("permission.role", "The provided role is invalid.")
            if role == "owner" and not transfer_ownership:
                raise forbidden(
                    "The transferOwnership parameter must be enabled when the permission role is 'owner'.",
                    "forbidden",
                )
            if role == "owner":
                for other in record.permissions:
                    if other["role"] == "owner":
                        other["role"] = "writer"
            permission["role"] = role
        self._modified(record)
        return dict(permission)

    def delete_permission(self, file_id: str, permission_id: str) -> None:
        record = self._file(file_id)
        permission = self._permission(record, permission_id)
        if permission["role"] == "owner":
            raise forbidden("The owner of a file cannot be removed.", "cannotRemoveOwner")
        record.permissions.remove(permission)
        self._modified(record)

    # ------------------------------------------------------------ output
    def resource(self, f: DriveFile) -> dict[str, Any]:
        """The full file resource (routes cut it down to `fields` or the method's defaults)."""
        resource: dict[str, Any] = {
            "kind": "drive#file",
            "id": f.id,
            "name": f.name,
            "mimeType": f.mime_type,
            "parents": list(f.parents),
            "starred": f.starred,
            "trashed": f.trashed,
            "explicitlyTrashed": f.explicitly_trashed,
            "version": str(f.version),
            "webViewLink": _web_view_link(f),
            "iconLink": f"https://drive-thirdparty.googleusercontent.com/16/type/{f.mime_type}",
            "createdTime": f.created,
            "modifiedTime": f.modified,
            "modifiedByMeTime": f.modified,
            "modifiedByMe": True,
            "viewedByMe": True,
            "viewedByMeTime": f.modified,
            "owners": [
                {
                    "kind": "drive#user",
                    "displayName": BOT_NAME,
                    "me": True,
                    "permissionId": _permission_id("user", BOT_EMAIL, None),
                    "emailAddress": BOT_EMAIL,
                }
            ],
            "ownedByMe": True,
            "shared": len(f.permissions) > 1,
            "permissions": [dict(p) for p in f.permissions],
            "permissionIds": [p["id"] for p in f.permissions],
            "spaces": ["drive"],
            "capabilities": {
                "canEdit": True,
                "canShare": True,
                "canCopy": f.mime_type != FOLDER_MIME,
                "canTrash": True,
                "canDelete": True,
                "canRename": True,
                "canAddChildren": f.mime_type == FOLDER_MIME,
            },
        }
        if f.description:
            resource["description"] = f.description
        if f.properties:
            resource["properties"] = dict(f.properties)
        if f.trashed:
            resource["trashedTime"] = f.modified
        if f.content is not None:
            resource["size"] = str(len(f.content))
            resource["md5Checksum"] = hashlib.md5(f.content).hexdigest()
            resource["webContentLink"] = f"https://drive.google.com/uc?id={f.id}&export=download"
        if f.id == ROOT_ID:
            resource.pop("parents")
        return resource

    def content_of(self, file_id: str) -> tuple[bytes, str]:
        record = self._file(file_id)
        if record.mime_type.startswith(GOOGLE_PREFIX) or record.content is None:
            raise forbidden(
                "Only files with binary content can be downloaded. Use Export with Docs Editors files.",
                "fileNotDownloadable",
            )
        return record.content, record.mime_type

    # ------------------------------------------------------------ internals
    def _file(self, file_id: str) -> DriveFile:
        if file_id == "root" and ROOT_ID not in self.files:
            self._ensure_root()
        record = self.files.get(self._alias(file_id))
        if record is None:
            raise file_not_found(file_id)
        return record

    def _ensure_root(self) -> None:
        now = self._now()
        self.files[ROOT_ID] = DriveFile(
            ROOT_ID, "My Drive", FOLDER_MIME, [], now, now, permissions=[self._owner_permission()]
        )

    def _alias(self, file_id: str) -> str:
        return ROOT_ID if file_id == "root" else file_id

    def _resolve_ids(self, ids: list[str]) -> list[str]:
        return [self._alias(i) for i in ids]

    def _checked_parents(self, parents: list[str] | None) -> list[str]:
        if not parents:
            return [ROOT_ID]
        resolved = self._resolve_ids([str(p) for p in parents])
        for parent in resolved:
            if parent != ROOT_ID:
                self._folder(parent, "parents")
        return resolved

    def _folder(self, folder_id: str, location: str) -> DriveFile:
        if folder_id == ROOT_ID:
            return self._file("root")
        record = self.files.get(folder_id)
        if record is None:
            raise file_not_found(folder_id, location)
        if record.mime_type != FOLDER_MIME:
            raise DriveError(
                403,
                "Increasing the number of parents is not allowed"
                if location == "addParents"
                else "The specified parent is not a folder.",
                "cannotAddParent",
                location,
            )
        return record

    def _permission(self, record: DriveFile, permission_id: str) -> dict[str, Any]:
        for permission in record.permissions:
            if permission["id"] == permission_id:
                return permission
        raise permission_not_found(permission_id)

    def _owner_permission(self) -> dict[str, Any]:
        return {
            "kind": "drive#permission",
            "id": _permission_id("user", BOT_EMAIL, None),
            "type": "user",
            "role": "owner",
            "emailAddress": BOT_EMAIL,
            "displayName": BOT_NAME,
            "deleted": False,
            "pendingOwner": False,
        }

    def _set_trashed(self, record: DriveFile, trashed: bool, explicit: bool) -> None:
        record.trashed = trashed
        record.explicitly_trashed = trashed and explicit
        if record.mime_type == FOLDER_MIME:
            for child in self.files.values():
                if record.id in child.parents and (trashed or not child.explicitly_trashed):
                    self._set_trashed(child, trashed, explicit=False)
                    self._modified(child)

    def _propagate_rename(self, record: DriveFile) -> None:
        if record.mime_type == SPREADSHEET_MIME:
            self._sheets().rename(record.id, record.name)
        elif record.mime_type == DOCUMENT_MIME:
            docs = self.ctx.models.get("docs")
            if docs is not None and hasattr(docs, "rename_document"):
                docs.rename_document(record.id, record.name)

    def _import_csv(self, name: str, parents: list[str] | None, content: bytes) -> dict[str, Any]:
        rows = list(csv.reader(io.StringIO(content.decode("utf-8-sig"))))
        parents = self._checked_parents(parents)
        file_id = self.new_id(SPREADSHEET_MIME)
        self._sheets().create_spreadsheet(name, {"Sheet1": rows}, parents, spreadsheet_id=file_id)
        return self.resource(self.files[file_id])

    def _predicate(self, q: str | None) -> query.Predicate:
        if not q:
            return lambda f: True
        try:
            return query.compile_query(q, aliases={"root": ROOT_ID, "me": BOT_EMAIL})
        except query.QueryError:
            raise invalid_value("q") from None

    def _view(self, f: DriveFile) -> query.FileView:
        emails = [p.get("emailAddress") or p.get("domain") or "anyone" for p in f.permissions]
        writers = [
            p.get("emailAddress") or ""
            for p in f.permissions
            if p["role"] in {"owner", "organizer", "fileOrganizer", "writer"}
        ]
        text = f.description
        if f.content is not None and len(f.content) < 1_000_000:
            text += "\n" + f.content.decode("utf-8", "ignore")
        return query.FileView(
            name=f.name,
            mime_type=f.mime_type,
            parents=f.parents,
            trashed=f.trashed,
            starred=f.starred,
            created=f.created,
            modified=f.modified,
            text=text,
            owners=[BOT_EMAIL],
            writers=writers,
            readers=emails,
        )

    def _modified(self, record: DriveFile) -> None:
        record.modified = self._now()
        record.version += 1

    def _now(self) -> str:
        now: datetime = self.ctx.clock.utcnow()
        return now.strftime("%Y-%m-%dT%H:%M:%S.") + f"{now.microsecond // 1000:03d}Z"

    def _sheets(self) -> Any:
        return self.ctx.models["sheets"]


def _split_ids(text: str | None) -> list[str]:
    return [part.strip() for part in (text or "").split(",") if part.strip()]


def _permission_id(kind: str, who: str | None, discoverable: Any) -> str:
    """Stable ids, as Drive gives one person the same permission id on every file."""
    if kind == "anyone":
        return "anyone" if discoverable else "anyoneWithLink"
    digest = hashlib.sha256(f"{kind}:{(who or '').casefold()}".encode()).hexdigest()
    return str(int(digest[:16], 16))[:20]


def _web_view_link(f: DriveFile) -> str:
    if f.mime_type == SPREADSHEET_MIME:
        return f"https://docs.google.com/spreadsheets/d/{f.id}/edit?usp=drivesdk"
    if f.mime_type == DOCUMENT_MIME:
        return f"https://docs.google.com/document/d/{f.id}/edit?usp=drivesdk"
    if f.mime_type == FOLDER_MIME:
        return f"https://drive.google.com/drive/folders/{f.id}"
    return f"https://drive.google.com/file/d/{f.id}/view?usp=drivesdk"


_ORDERINGS: dict[str, Callable[[DriveFile], Any]] = {
    "createdTime": lambda f: f.created,
    "folder": lambda f: f.mime_type != FOLDER_MIME,
    "modifiedByMeTime": lambda f: f.modified,
    "modifiedTime": lambda f: f.modified,
    "name": lambda f: f.name.casefold(),
    "name_natural": lambda f: _natural(f.name),
    "quotaBytesUsed": lambda f: len(f.content or b""),
    "recency": lambda f: f.modified,
    "sharedWithMeTime": lambda f: f.created,
    "starred": lambda f: not f.starred,
    "viewedByMeTime": lambda f: f.modified,
}


def _natural(name: str) -> list[Any]:
    return [int(part) if part.isdigit() else part.casefold() for part in re.split(r"(\d+)", name)]


def _order_keys(order_by: str | None) -> list[tuple[str, bool]]:
    """`"folder,name desc"` -> [("folder", False), ("name", True)]; unknown keys are a 400."""
    keys: list[tuple[str, bool]] = []
    for part in (order_by or "").split(","):
        words = part.split()
        if not words:
            continue
        if (
            words[0] not in ORDER_KEYS
            or len(words) > 2
            or (len(words) == 2 and words[1].lower() not in {"asc", "desc"})
        ):
            raise invalid_value("orderBy", "Invalid Value")
        keys.append((words[0], len(words) == 2 and words[1].lower() == "desc"))
    return keys
