"""State of the emulated Google Docs API v1: documents, their revisions, and the Drive files that name them.

Documents are created blank (only the title is used), read back as the real
resource, and changed through atomic batchUpdate batches (see `edits.py` for the
requests). A document created here is registered in Drive, so it shows up in
`files.list`; Drive calls `create_document(..., file_id=...)` when `files.create`
makes a document, and `delete_document` when it deletes one.

Not implemented: headers, footers, footnotes, named ranges, inline images,
suggestions (every read is SUGGESTIONS_INLINE with none), comments, several tabs
(one tab, "t.0"), named-style definitions beyond font sizes, `targetRevisionId`
merging (accepted and applied as a plain edit).
"""

from __future__ import annotations

import hashlib
import random
import string
from dataclasses import dataclass, field
from typing import Any

from sandbox.core import SandboxServices
from sandbox.docs.document import Kind, Unit, blank_body, plain_text
from sandbox.docs.edits import TAB_ID, DocsError, Editor
from sandbox.docs.views import (
    DOCUMENT_STYLE,
    body_content,
    lists_json,
    named_styles,
    render_html,
)

DOCUMENT_MIME = "application/vnd.google-apps.document"
UNTITLED = "Untitled document"
SUGGESTIONS_VIEW_MODES = (
    "DEFAULT_FOR_CURRENT_ACCESS",
    "SUGGESTIONS_INLINE",
    "PREVIEW_SUGGESTIONS_ACCEPTED",
    "PREVIEW_WITHOUT_SUGGESTIONS",
)
_ID_ALPHABET = string.ascii_letters + string.digits + "-_"


class DocumentNotFound(DocsError):
    def __init__(self, document_id: str) -> None:
        super().__init__(404, "NOT_FOUND", "Requested entity was not found.")
        self.document_id = document_id


@dataclass
class StoredDocument:
    document_id: str
    title: str
    units: list[Unit] = field(default_factory=blank_body)
    lists: dict[str, dict[str, Any]] = field(default_factory=dict)
    revision: int = 1

    @property
    def revision_id(self) -> str:
        digest = hashlib.sha256(f"{self.document_id}:{self.revision}".encode()).hexdigest()
        return f"AL{digest[:38]}"


class Backend:
    """The documents of the sandbox's Docs service."""

    def __init__(self, ctx: SandboxServices) -> None:
        self.ctx = ctx
        self.reset()

    # -------------------------------------------------------------- state
    def reset(self) -> None:
        self._docs: dict[str, StoredDocument] = {}
        self._rng = random.Random(1367)  # seeded: the same run mints the same ids

    def snapshot(self) -> dict[str, Any]:
        return {"documents": [_dump(doc) for doc in self._docs.values()]}

    def restore(self, data: dict[str, Any]) -> None:
        self._docs = {}
        for raw in data.get("documents", []):
            doc = _load(raw)
            self._docs[doc.document_id] = doc

    # -------------------------------------------------------------- model API
    def create_document(
        self, title: str, parents: list[str] | None = None, file_id: str | None = None
    ) -> str:
        """Make a blank document. Drive passes its own `file_id`; otherwise Docs mints one and tells Drive."""
        document_id = file_id or self._new_document_id()
        if document_id in self._docs:
            raise ValueError(f"document {document_id} already exists")
        self._docs[document_id] = StoredDocument(document_id, title or UNTITLED)
        if file_id is None:
            self._register_in_drive(document_id, title or UNTITLED, parents)
        return document_id

    def copy_document(self, source_id: str, file_id: str | None, title: str) -> str:
        """A copy of a document's content under `file_id` (Drive's files.copy) or a new id."""
        source = self._doc(source_id)
        document_id = file_id or self._new_document_id()
        if document_id in self._docs:
            raise ValueError(f"document {document_id} already exists")
        self._docs[document_id] = StoredDocument(
            document_id, title or source.title, list(source.units), _copy_lists(source.lists)
        )
        return document_id

    def rename_document(self, document_id: str, title: str) -> None:
        self._doc(document_id).title = title

    def delete_document(self, document_id: str) -> None:
        self._docs.pop(document_id, None)

    def has_document(self, document_id: str) -> bool:
        return document_id in self._docs

    def list_documents(self) -> list[dict[str, str]]:
        return [
            {"documentId": d.document_id, "title": d.title, "revisionId": d.revision_id}
            for d in self._docs.values()
        ]

    def get_document(
        self,
        document_id: str,
        include_tabs: bool = False,
        suggestions_view_mode: str | None = None,
    ) -> dict[str, Any]:
        """The document resource as `documents.get` returns it."""
        doc = self._doc(document_id)
        mode = suggestions_view_mode or "SUGGESTIONS_INLINE"
        if mode not in SUGGESTIONS_VIEW_MODES:
            raise DocsError(
                400,
                "INVALID_ARGUMENT",
                f"Invalid value at 'suggestions_view_mode' "
                f'(type.googleapis.com/google.apps.docs.v1.SuggestionsViewMode), "{mode}"',
            )
        if mode == "DEFAULT_FOR_CURRENT_ACCESS":
            mode = "SUGGESTIONS_INLINE"
        content: dict[str, Any] = {
            "body": {"content": body_content(doc.units)},
            "documentStyle": dict(DOCUMENT_STYLE),
            "namedStyles": named_styles(),
        }
        lists = lists_json(doc.units, doc.lists)
        if lists:
            content["lists"] = lists
        resource: dict[str, Any] = {"title": doc.title}
        if include_tabs:
            tab = {"tabProperties": {"tabId": TAB_ID, "title": "Tab 1", "index": 0}}
            resource["tabs"] = [tab | {"documentTab": content}]
        else:
            resource |= content
        resource |= {
            "revisionId": doc.revision_id,
            "suggestionsViewMode": mode,
            "documentId": doc.document_id,
        }
        return resource

    def batch_update(
        self,
        document_id: str,
        requests: Any,
        write_control: dict[str, Any] | None = None,
    ) -> dict[str, Any]:
        """Apply every request in order, or none of them (the first failure raises DocsError)."""
        doc = self._doc(document_id)
        required = (write_control or {}).get("requiredRevisionId")
        if required and required != doc.revision_id:
            raise DocsError(
                400,
                "FAILED_PRECONDITION",
                f"The required revision ID {required!r} is not the latest revision of the document.",
            )
        editor = Editor(doc.units, doc.lists, self._new_id)
        replies = editor.apply(requests)
        doc.units, doc.lists = editor.units, editor.lists
        doc.revision += 1
        return {
            "replies": replies,
            "writeControl": {"requiredRevisionId": doc.revision_id},
            "documentId": doc.document_id,
        }

    def plain_text(self, document_id: str) -> str:
        """Every character of the body in order, table cells included, each paragraph ending in a newline."""
        return plain_text(self._doc(document_id).units)

    def render_html(self, document_id: str) -> str:
        doc = self._doc(document_id)
        return render_html(doc.units, doc.lists)

    # -------------------------------------------------------------- internals
    def _doc(self, document_id: str) -> StoredDocument:
        doc = self._docs.get(document_id)
        if doc is None:
            raise DocumentNotFound(document_id)
        return doc

    def _new_document_id(self) -> str:
        while True:
            candidate = "1" + "".join(self._rng.choices(_ID_ALPHABET, k=43))
            if candidate not in self._docs:
                return candidate

    def _new_id(self, prefix: str) -> str:
        return prefix + "".join(self._rng.choices(string.ascii_lowercase + string.digits, k=12))

    def _register_in_drive(self, document_id: str, title: str, parents: list[str] | None) -> None:
        drive = self.ctx.models.get("drive")
        register = getattr(drive, "register_file", None)
        # Drive's registry is another engineer's module; until it offers register_file,
        # documents simply exist only in Docs.
        if register is not None:
            register(document_id, title, DOCUMENT_MIME, parents)


def _copy_lists(lists: dict[str, dict[str, Any]]) -> dict[str, dict[str, Any]]:
    return {list_id: dict(spec) for list_id, spec in lists.items()}


# ------------------------------------------------------------------ persistence
def _dump(doc: StoredDocument) -> dict[str, Any]:
    """Units as compact runs: ["c", text, style] for text, ["n", style, para, bullet] for newlines."""
    runs: list[list[Any]] = []
    for unit in doc.units:
        if unit.kind is not Kind.CHAR:
            runs.append([unit.kind.value])
        elif unit.is_newline:
            runs.append(["n", unit.style, unit.para, unit.bullet])
        elif runs and runs[-1][0] == "c" and runs[-1][2] == unit.style:
            runs[-1][1] += unit.text
        else:
            runs.append(["c", unit.text, unit.style])
    return {
        "documentId": doc.document_id,
        "title": doc.title,
        "revision": doc.revision,
        "lists": doc.lists,
        "units": runs,
    }


def _load(raw: dict[str, Any]) -> StoredDocument:
    units: list[Unit] = []
    for run in raw["units"]:
        tag = run[0]
        if tag == "c":
            units.extend(Unit(Kind.CHAR, ch, run[2]) for ch in run[1])
        elif tag == "n":
            units.append(Unit(Kind.CHAR, "\n", run[1], run[2], run[3]))
        else:
            units.append(Unit(Kind(tag)))
    return StoredDocument(
        raw["documentId"], raw["title"], units, dict(raw.get("lists", {})), int(raw["revision"])
    )
