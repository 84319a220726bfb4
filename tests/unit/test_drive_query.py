"""Drive's `q` language and partial-response `fields` masks, as the emulator understands them."""

from __future__ import annotations

import pytest

from sandbox.drive.fields import FieldsError, parse_fields, select
from sandbox.drive.query import FileView, QueryError, compile_query, name_contains

SHEET = "application/vnd.google-apps.spreadsheet"
FOLDER = "application/vnd.google-apps.folder"

FILES = {
    "intake": FileView("Intake", SHEET, ["root-id"], created="2026-01-05T10:00:00.000Z"),
    "old": FileView(
        "Intake (old)", SHEET, ["archive"], trashed=True, created="2025-01-01T00:00:00Z"
    ),
    "folder": FileView("Weekly summaries", FOLDER, ["root-id"], created="2026-02-01T00:00:00Z"),
    "doc": FileView(
        "Week 2026-W05 summary",
        "application/vnd.google-apps.document",
        ["folder-id"],
        created="2026-02-02T00:00:00Z",
        readers=["partner@example.org"],
    ),
    "it's": FileView("It's here", SHEET, ["root-id"]),
}


def matching(q: str) -> set[str]:
    predicate = compile_query(q, aliases={"root": "root-id"})
    return {key for key, view in FILES.items() if predicate(view)}


@pytest.mark.parametrize(
    ("q", "expected"),
    [
        ("name = 'Intake'", {"intake"}),
        ("name = 'intake'", {"intake"}),
        ("name != 'Intake'", {"old", "folder", "doc", "it's"}),
        ("name contains 'Intake'", {"intake", "old"}),
        ("name contains 'summ'", {"folder", "doc"}),
        ("name contains 'ntake'", set()),  # Drive matches prefixes of words only
        (r"name = 'It\'s here'", {"it's"}),
        (f"mimeType = '{SHEET}'", {"intake", "old", "it's"}),
        (f"mimeType != '{FOLDER}' and trashed = false", {"intake", "doc", "it's"}),
        ("trashed = true", {"old"}),
        ("'root' in parents", {"intake", "folder", "it's"}),
        ("'folder-id' in parents", {"doc"}),
        ('parents in "archive"', {"old"}),  # the form gspread sends
        (f'mimeType="{SHEET}" and name = "Intake"', {"intake"}),
        ("not name contains 'Intake' and trashed = false", {"folder", "doc", "it's"}),
        ("(name = 'Intake' or name = 'It\\'s here') and trashed = false", {"intake", "it's"}),
        ("name = 'Intake' or name = 'Weekly summaries' and trashed = true", {"intake"}),
        ("createdTime > '2026-01-31T00:00:00'", {"folder", "doc"}),
        ("fullText contains 'w05'", {"doc"}),
        ("'partner@example.org' in readers", {"doc"}),
        ("sharedWithMe", set()),
    ],
)
def test_queries(q: str, expected: set[str]) -> None:
    assert matching(q) == expected


@pytest.mark.parametrize(
    "q",
    [
        "name = ",
        "name == 'x'",
        "name = 'x' and",
        "(name = 'x'",
        "trashed = 'false'",
        "colour = 'red'",
        "'x' in colours",
        "name = 'unterminated",
        "properties has { key='a' and value='b' }",
    ],
)
def test_invalid_queries(q: str) -> None:
    with pytest.raises(QueryError):
        compile_query(q)


@pytest.mark.parametrize(
    ("name", "fragment", "hit"),
    [("HelloWorld", "Hello", True), ("HelloWorld", "World", False), ("Say Hello", "hello", True)],
)
def test_name_contains_matches_word_prefixes(name: str, fragment: str, hit: bool) -> None:
    assert name_contains(name, fragment) is hit


def test_fields_masks() -> None:
    reply = {
        "kind": "drive#fileList",
        "nextPageToken": "t",
        "files": [{"id": "1", "name": "a", "parents": ["p"], "owners": [{"me": True, "x": 1}]}],
    }
    assert select(reply, "files(id,name)") == {"files": [{"id": "1", "name": "a"}]}
    assert select(reply, "nextPageToken,files/id") == {"nextPageToken": "t", "files": [{"id": "1"}]}
    assert select(reply, "files(owners(me))") == {"files": [{"owners": [{"me": True}]}]}
    assert select(reply, "*") == reply
    assert select(reply, None, {"kind": None}) == {"kind": "drive#fileList"}
    assert parse_fields("sheets.properties,sheets.protectedRanges") == {
        "sheets": {"properties": None, "protectedRanges": None}
    }
    with pytest.raises(FieldsError):
        parse_fields("files(id")
