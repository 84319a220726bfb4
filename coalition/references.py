"""References as staff type them (pure): a sheet, doc, folder, Slack channel or Airtable base/table/view from a URL, an id or a name.

Staff paste whatever their browser shows: `https://docs.google.com/spreadsheets/d/ID/edit?usp=sharing#gid=7`,
`#referrals`, `<#C0123ABCD|referrals>`, `https://coalition.slack.com/archives/C0123ABCD`,
`https://airtable.com/appX/tblY/viwZ`. Every reader of such a value goes through one
function here and gets a typed reference, or a `BadReference` that says what was
expected; the caller turns that into a data-quality finding naming the record and
field. Nothing here guesses: an ambiguous value (a Doc link where a spreadsheet is
expected, a channel name with spaces) is bad, not silently rewritten.

`canonical()` gives the short form the bot stores (an id, `id#gid=N`, a name), and
parsing a canonical form gives the same reference back.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from typing import Literal
from urllib.parse import parse_qs, unquote, urlsplit

GoogleKind = Literal["spreadsheet", "document", "folder"]
AirtableKind = Literal["base", "table", "view"]

MAX_NAME = 300
# Drive ids are 44 characters for files and 33 for folders (older files: fewer), of
# [A-Za-z0-9_-]. A title of that shape with no space and a digit is taken as an id.
_GOOGLE_ID = re.compile(r"[A-Za-z0-9_-]{25,128}")
_GID = re.compile(r"(?:^|[&#?])gid=(\d{1,10})(?:$|[&#])")
_CANONICAL_GID = re.compile(r"^(?P<id>[A-Za-z0-9_-]{25,128})#gid=(?P<gid>\d{1,10})$")
_CONTROL = re.compile(r"[\x00-\x09\x0b\x0c\x0e-\x1f\x7f\u200b-\u200f\u2028\u2029\ufeff]")
_URL = re.compile(r"^[a-z][a-z0-9+.-]*://", re.IGNORECASE)
_BARE_HOST = re.compile(
    r"^(?:www\.)?(?:docs|drive)\.google\.com/|^[a-z0-9-]+\.slack\.com/|^airtable\.com/",
    re.IGNORECASE,
)
_GOOGLE_HOSTS = {"docs.google.com", "drive.google.com"}
_KIND_PATH = {"spreadsheet": "spreadsheets", "document": "document"}
_KIND_LABEL = {
    "spreadsheet": "a Google spreadsheet (its link, id or title)",
    "document": "a Google Doc (its link, id or title)",
    "folder": "a Google Drive folder (its link, id or name)",
}
_PLACEHOLDERS = {"n/a", "na", "none", "tbd", "todo", "-", "--", "?", "null", "pending", "unknown"}

_CHANNEL_ID = re.compile(r"[CG][A-Z0-9]{8,}")
_CHANNEL_NAME = re.compile(r"[^\W_][\w.-]{0,79}")  # Slack: no spaces, at most 80
_CHANNEL_MENTION = re.compile(r"^<#([CG][A-Z0-9]{8,})(?:\|([^>]*))?>$")
_SLACK_ARCHIVES = re.compile(r"^/archives/([CG][A-Z0-9]{8,})(?:/p\d+)?/?$")
_SLACK_CLIENT = re.compile(r"^/client/T[A-Z0-9]{8,}/([CG][A-Z0-9]{8,})(?:/.*)?$")

_AIRTABLE_PREFIX = {"base": "app", "table": "tbl", "view": "viw"}
_AIRTABLE_ID = re.compile(r"(app|tbl|viw)[A-Za-z0-9]{14}")


@dataclass(frozen=True)
class BadReference:
    """A value that is none of the forms a reference may take; `expected` says what would be."""

    value: str
    expected: str
    why: str

    def message(self, field: str) -> str:
        """One line for a record's Data issues: the field, what it holds, what it should hold."""
        shown = self.value if len(self.value) <= 80 else self.value[:79] + "…"
        return f"{field} not understood ({self.why}): {shown}. Expected {self.expected}."


@dataclass(frozen=True)
class GoogleRef:
    """A spreadsheet, Doc or Drive folder: by id (from a link or typed) or by title; `gid` picks a tab."""

    kind: GoogleKind
    id: str | None = None
    title: str | None = None
    gid: int | None = None

    def canonical(self) -> str:
        if self.id is None:
            return str(self.title)
        return f"{self.id}#gid={self.gid}" if self.gid is not None else self.id

    def describe(self) -> str:
        if self.id is None:
            return f"titled '{self.title}'"
        return f"id {self.id}" + (f" (tab gid {self.gid})" if self.gid is not None else "")


@dataclass(frozen=True)
class ChannelRef:
    """A Slack channel by id (from a mention, a link or typed) or by name without the '#'."""

    id: str | None = None
    name: str | None = None

    def canonical(self) -> str:
        return str(self.id or self.name)


@dataclass(frozen=True)
class AirtableRef:
    """An Airtable base, table or view by id or name; a link also gives the ids around it."""

    kind: AirtableKind
    id: str | None = None
    name: str | None = None
    base_id: str | None = None
    table_id: str | None = None

    def canonical(self) -> str:
        return str(self.id or self.name)


def _clean(value: object) -> str:
    """NFC, invisible characters dropped, trimmed, surrounding quotes and <> unwrapped."""
    if value is None:
        return ""
    text = _CONTROL.sub("", unicodedata.normalize("NFC", str(value))).strip()
    for left, right in (('"', '"'), ("'", "'"), ("“", "”"), ("‘", "’")):
        if len(text) >= 2 and text.startswith(left) and text.endswith(right):
            text = text[1:-1].strip()
    if text.startswith("<") and text.endswith(">") and not text.startswith("<#"):
        text = text[1:-1].strip()  # Slack and e-mail clients wrap pasted links in <...>
    if "|" in text and _URL.match(text) and not text.startswith("<"):
        text = text.split("|", 1)[0]  # Slack's <url|label>, unwrapped above
    return text


def _split_url(text: str) -> tuple[str, str, str, str] | None:
    """(host, path, query, fragment) of something that is a link, else None."""
    if not _URL.match(text):
        if not _BARE_HOST.match(text):
            return None
        text = "https://" + text
    try:
        parts = urlsplit(text)
    except ValueError:
        return ("", "", "", "")
    host = (parts.hostname or "").lower()
    return host, unquote(parts.path), parts.query, parts.fragment


def _bad_text(text: str) -> str | None:
    """Why `text` cannot be a name at all, or None."""
    if len(text) > MAX_NAME:
        return f"longer than {MAX_NAME} characters"
    if text.casefold() in _PLACEHOLDERS:
        return "a placeholder, not a name"
    if "\n" in text or "\r" in text:
        return "more than one line"
    if "@" in text and " " not in text:
        return "an e-mail address"
    return None


# ---------------------------------------------------------------- Google
def parse_google(value: object, kind: GoogleKind) -> GoogleRef | BadReference | None:
    """A spreadsheet, Doc or folder from a browser link, a bare id or a title; None when blank."""
    text = _clean(value)
    if not text:
        return None
    expected = _KIND_LABEL[kind]
    url = _split_url(text)
    if url is not None:
        return _google_url(text, url, kind, expected)
    canonical = _CANONICAL_GID.match(text)
    if canonical and kind == "spreadsheet":
        return GoogleRef(kind, id=canonical["id"], gid=int(canonical["gid"]))
    if _GOOGLE_ID.fullmatch(text) and any(c.isdigit() for c in text):
        return GoogleRef(kind, id=text)
    why = _bad_text(text)
    if why:
        return BadReference(text, expected, why)
    return GoogleRef(kind, title=text)


def _google_url(
    text: str, url: tuple[str, str, str, str], kind: GoogleKind, expected: str
) -> GoogleRef | BadReference:
    host, path, query, fragment = url
    if host.removeprefix("www.") not in _GOOGLE_HOSTS:
        return BadReference(text, expected, f"a link to {host or 'an unknown site'}")
    segments = [s for s in path.split("/") if s]
    # /u/0/ (the signed-in account) may come before or after the kind: drop it.
    cleaned: list[str] = []
    skip = False
    for i, seg in enumerate(segments):
        if skip:
            skip = False
            continue
        if seg == "u" and i + 1 < len(segments) and segments[i + 1].isdigit():
            skip = True
            continue
        cleaned.append(seg)
    found_kind, file_id = _google_path(cleaned, query)
    if file_id is None or not _GOOGLE_ID.fullmatch(file_id):
        return BadReference(text, expected, "a Google link without a file id")
    if found_kind is not None and found_kind != kind:
        return BadReference(text, expected, f"a link to a {_plain(found_kind)}")
    gid = None
    if kind == "spreadsheet":
        match = _GID.search("#" + fragment) or _GID.search("?" + query)
        gid = int(match.group(1)) if match else None
    return GoogleRef(kind, id=file_id, gid=gid)


def _google_path(segments: list[str], query: str) -> tuple[str | None, str | None]:
    """(kind the link names or None if it does not say, file id) from a link's path."""
    if len(segments) >= 3 and segments[1] == "d":
        named = {"spreadsheets": "spreadsheet", "document": "document", "file": None}
        if segments[0] in named:
            return named[segments[0]], segments[2]
        return segments[0], None
    if len(segments) >= 3 and segments[0] == "drive" and segments[1] == "folders":
        return "folder", segments[2]
    if segments in (["open"], ["drive", "open"]) or segments[:1] == ["open"]:
        ids = parse_qs(query).get("id")
        return None, ids[0] if ids else None
    return "page", None


def _plain(kind: str) -> str:
    return {"spreadsheet": "spreadsheet", "document": "Google Doc", "folder": "Drive folder"}.get(
        kind, kind
    )


# ---------------------------------------------------------------- Slack
def parse_channel(value: object) -> ChannelRef | BadReference | None:
    """A channel from `#name`, `name`, its id, a `<#C123|name>` mention or an archives link; None when blank."""
    text = _clean(value)
    if not text:
        return None
    expected = "a Slack channel: #name, its id (C…), or its link"
    mention = _CHANNEL_MENTION.match(text)
    if mention:
        name = (mention.group(2) or "").strip().lstrip("#") or None
        return ChannelRef(id=mention.group(1), name=name)
    url = _split_url(text)
    if url is not None:
        host, path, _, _ = url
        if not (host == "slack.com" or host.endswith(".slack.com")):
            return BadReference(text, expected, f"a link to {host or 'an unknown site'}")
        match = _SLACK_ARCHIVES.match(path) or _SLACK_CLIENT.match(path)
        if not match:
            return BadReference(text, expected, "a Slack link that names no channel")
        return ChannelRef(id=match.group(1))
    if _CHANNEL_ID.fullmatch(text):
        return ChannelRef(id=text)
    # Slack keeps channel names in lower case, so "#Referrals" can only be "#referrals".
    name = (text[1:].strip() if text.startswith("#") else text).lower()
    if _CHANNEL_NAME.fullmatch(name):
        return ChannelRef(name=name)
    why = _bad_text(text) or ("Slack channel names have no spaces" if name else "only a '#'")
    return BadReference(text, expected, why)


# ---------------------------------------------------------------- Airtable
def parse_airtable(value: object, kind: AirtableKind) -> AirtableRef | BadReference | None:
    """A base, table or view from its name, its id (app…/tbl…/viw…) or an airtable.com link; None when blank."""
    text = _clean(value)
    if not text:
        return None
    prefix = _AIRTABLE_PREFIX[kind]
    expected = f"an Airtable {kind}: its name, its id ({prefix}…) or its link"
    url = _split_url(text)
    if url is not None:
        host, path, _, _ = url
        if host.removeprefix("www.") != "airtable.com":
            return BadReference(text, expected, f"a link to {host or 'an unknown site'}")
        ids = {p[:3]: p for p in path.split("/") if _AIRTABLE_ID.fullmatch(p)}
        if prefix not in ids:
            return BadReference(text, expected, f"an Airtable link without a {kind} id")
        return AirtableRef(kind, id=ids[prefix], base_id=ids.get("app"), table_id=ids.get("tbl"))
    match = _AIRTABLE_ID.fullmatch(text)
    if match:
        if match.group(1) != prefix:
            other = {v: k for k, v in _AIRTABLE_PREFIX.items()}[match.group(1)]
            return BadReference(text, expected, f"the id of a {other}, not of a {kind}")
        return AirtableRef(kind, id=text)
    why = _bad_text(text)
    if why:
        return BadReference(text, expected, why)
    return AirtableRef(kind, name=text)


__all__ = [
    "AirtableRef",
    "BadReference",
    "ChannelRef",
    "GoogleRef",
    "parse_airtable",
    "parse_channel",
    "parse_google",
]
