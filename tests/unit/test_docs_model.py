"""The emulated Docs document: index arithmetic (UTF-16, tables), requests, atomicity, HTML, persistence."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sandbox.core import Clock, Journal, RateLimiter, SandboxServices
from sandbox.docs.document import utf16_len
from sandbox.docs.edits import DocsError
from sandbox.docs.models import DOCUMENT_MIME, Backend, DocumentNotFound


class FakeDrive:
    def __init__(self) -> None:
        self.registered: list[tuple[str, str, str, list[str] | None]] = []

    def register_file(self, file_id: str, name: str, mime: str, parents: list[str] | None) -> None:
        self.registered.append((file_id, name, mime, parents))


def make_backend(drive: Any = None) -> Backend:
    clock = Clock()
    ctx = SandboxServices(clock=clock, limiter=RateLimiter(clock), journal=Journal())
    if drive is not None:
        ctx.models["drive"] = drive
    return Backend(ctx)


@pytest.fixture
def docs() -> Backend:
    return make_backend()


def new_doc(docs: Backend, text: str = "") -> str:
    doc_id = docs.create_document("Test")
    if text:
        docs.batch_update(doc_id, [insert(1, text)])
    return doc_id


def insert(index: int, text: str) -> dict[str, Any]:
    return {"insertText": {"location": {"index": index}, "text": text}}


def table_at(index: int, rows: int, columns: int) -> dict[str, Any]:
    return {"insertTable": {"location": {"index": index}, "rows": rows, "columns": columns}}


def delete(start: int, end: int) -> dict[str, Any]:
    return {"deleteContentRange": {"range": {"startIndex": start, "endIndex": end}}}


def content(docs: Backend, doc_id: str) -> list[dict[str, Any]]:
    return docs.get_document(doc_id)["body"]["content"]


def spans(docs: Backend, doc_id: str) -> list[tuple[int | None, int, str]]:
    """(start, end, text or 'table') of each top-level element."""
    out = []
    for element in content(docs, doc_id):
        if "paragraph" in element:
            text = "".join(r["textRun"]["content"] for r in element["paragraph"]["elements"])
        else:
            text = "table" if "table" in element else "sectionBreak"
        out.append((element.get("startIndex"), element["endIndex"], text))
    return out


def rejects(docs: Backend, doc_id: str, requests: list[dict[str, Any]]) -> DocsError:
    with pytest.raises(DocsError) as caught:
        docs.batch_update(doc_id, requests)
    return caught.value


def check_layout(elements: list[dict[str, Any]], start: int) -> int:
    """Assert the real layout rules recursively; return the end index."""
    at = start
    for element in elements:
        if "sectionBreak" in element:
            assert "startIndex" not in element and element["endIndex"] == 1
            at = 1
            continue
        assert element["startIndex"] == at, element
        if "paragraph" in element:
            runs = element["paragraph"]["elements"]
            for run in runs:
                assert run["startIndex"] == at
                at += utf16_len(run["textRun"]["content"])
                assert run["endIndex"] == at
            assert runs[-1]["textRun"]["content"].endswith("\n")
        else:
            table = element["table"]
            at += 1  # the table's own start marker
            for row in table["tableRows"]:
                assert row["startIndex"] == at and len(row["tableCells"]) == table["columns"]
                at += 1
                for cell in row["tableCells"]:
                    assert cell["startIndex"] == at
                    at = check_layout(cell["content"], at + 1)
                    assert cell["endIndex"] == at
                assert row["endIndex"] == at
        assert element["endIndex"] == at
    return at


# ------------------------------------------------------------------ a new document
def test_new_document_body_ends_at_2_after_a_section_break(docs: Backend) -> None:
    doc = docs.get_document(docs.create_document("Weekly summary"))
    assert doc["title"] == "Weekly summary"
    assert doc["documentId"] and doc["revisionId"]
    first, second = doc["body"]["content"]
    assert first["endIndex"] == 1 and "startIndex" not in first and "sectionBreak" in first
    assert (second["startIndex"], second["endIndex"]) == (1, 2)
    assert second["paragraph"]["elements"][0]["textRun"]["content"] == "\n"
    assert second["paragraph"]["paragraphStyle"]["namedStyleType"] == "NORMAL_TEXT"
    assert "lists" not in doc


def test_untitled_document_and_unknown_id(docs: Backend) -> None:
    assert docs.get_document(docs.create_document(""))["title"] == "Untitled document"
    with pytest.raises(DocumentNotFound) as caught:
        docs.get_document("nope")
    assert (caught.value.code, caught.value.status) == (404, "NOT_FOUND")


# ------------------------------------------------------------------ insertText indices
@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Hello", [(1, 7, "Hello\n")]),
        ("a😀b", [(1, 6, "a😀b\n")]),  # the emoji takes two indices
        ("Title\nBody line\nLast", [(1, 7, "Title\n"), (7, 17, "Body line\n"), (17, 22, "Last\n")]),
        ("😀\n😀😀\n", [(1, 4, "😀\n"), (4, 9, "😀😀\n"), (9, 10, "\n")]),
        ("tab\there\x0bsoft", [(1, 15, "tab\there\x0bsoft\n")]),
    ],
)
def test_insert_text_indices(docs: Backend, text: str, expected: list[tuple]) -> None:
    doc_id = new_doc(docs, text)
    assert spans(docs, doc_id)[1:] == expected


def test_insert_after_an_emoji_and_inside_one(docs: Backend) -> None:
    doc_id = new_doc(docs, "a😀b")  # a=1, 😀=2..3, b=4, newline=5
    docs.batch_update(doc_id, [insert(4, "X")])
    assert spans(docs, doc_id)[1:] == [(1, 7, "a😀Xb\n")]
    error = rejects(docs, doc_id, [insert(3, "Y")])  # between the two halves of the emoji
    assert error.code == 400 and "surrogate" in error.message


def test_insert_strips_control_characters_like_docs(docs: Backend) -> None:
    doc_id = new_doc(docs, "a\r\x00b\ue000c")
    assert docs.plain_text(doc_id) == "abc\n"


def test_insert_past_the_end_is_refused_with_the_real_message(docs: Backend) -> None:
    doc_id = new_doc(docs)
    error = rejects(docs, doc_id, [insert(5, "x")])
    assert (error.code, error.status) == (400, "INVALID_ARGUMENT")
    assert error.message == (
        "Invalid requests[0].insertText: Index 5 must be less than the end index of the "
        "referenced segment, 2."
    )
    assert (
        "inside the bounds of an existing paragraph"
        in rejects(docs, doc_id, [insert(0, "x")]).message
    )


def test_end_of_segment_location_inserts_before_the_final_newline(docs: Backend) -> None:
    doc_id = new_doc(docs, "One\nTwo")
    docs.batch_update(doc_id, [{"insertText": {"endOfSegmentLocation": {}, "text": "!\nThree"}}])
    assert docs.plain_text(doc_id) == "One\nTwo!\nThree\n"
    assert spans(docs, doc_id)[-1] == (10, 16, "Three\n")


def test_requests_in_one_batch_see_each_others_indices(docs: Backend) -> None:
    doc_id = new_doc(docs)
    reply = docs.batch_update(doc_id, [insert(1, "World"), insert(1, "Hello ")])
    assert reply["replies"] == [{}, {}]
    assert docs.plain_text(doc_id) == "Hello World\n"


def test_new_paragraph_copies_style_and_inserted_text_copies_the_text_before(docs: Backend) -> None:
    doc_id = new_doc(docs, "Heading")
    docs.batch_update(
        doc_id,
        [
            {
                "updateParagraphStyle": {
                    "range": {"startIndex": 1, "endIndex": 8},
                    "paragraphStyle": {"namedStyleType": "HEADING_1"},
                    "fields": "namedStyleType",
                }
            },
            {
                "updateTextStyle": {
                    "range": {"startIndex": 1, "endIndex": 8},
                    "textStyle": {"bold": True},
                    "fields": "bold",
                }
            },
            insert(8, "\nNext"),
        ],
    )
    first, second = content(docs, doc_id)[1:]
    for paragraph in (first, second):
        assert paragraph["paragraph"]["paragraphStyle"]["namedStyleType"] == "HEADING_1"
        assert paragraph["paragraph"]["elements"][0]["textRun"]["textStyle"] == {"bold": True}
    heading_ids = {p["paragraph"]["paragraphStyle"]["headingId"] for p in (first, second)}
    assert len(heading_ids) == 2


# ------------------------------------------------------------------ tables
def test_insert_table_in_an_empty_document_follows_the_real_layout(docs: Backend) -> None:
    doc_id = new_doc(docs)
    docs.batch_update(doc_id, [table_at(1, 2, 2)])
    elements = content(docs, doc_id)
    assert spans(docs, doc_id)[1:] == [(1, 2, "\n"), (2, 13, "table"), (13, 14, "\n")]
    table = elements[2]["table"]
    assert (table["rows"], table["columns"]) == (2, 2)
    rows = [(r["startIndex"], r["endIndex"]) for r in table["tableRows"]]
    cells = [(c["startIndex"], c["endIndex"]) for r in table["tableRows"] for c in r["tableCells"]]
    assert rows == [(3, 8), (8, 13)]
    assert cells == [(4, 6), (6, 8), (9, 11), (11, 13)]
    first_cell = table["tableRows"][0]["tableCells"][0]["content"][0]
    assert (first_cell["startIndex"], first_cell["endIndex"]) == (5, 6)
    check_layout(elements, 0)


def test_three_by_three_table_cell_paragraphs_start_where_docs_puts_them(docs: Backend) -> None:
    doc_id = new_doc(docs)
    docs.batch_update(
        doc_id, [{"insertTable": {"endOfSegmentLocation": {}, "rows": 3, "columns": 3}}]
    )
    table = content(docs, doc_id)[2]["table"]
    starts = [c["content"][0]["startIndex"] for r in table["tableRows"] for c in r["tableCells"]]
    assert starts == [5, 7, 9, 12, 14, 16, 19, 21, 23]


def test_fill_table_cells_back_to_front(docs: Backend) -> None:
    doc_id = new_doc(docs)
    docs.batch_update(doc_id, [table_at(1, 2, 2)])
    # Filling from the last cell keeps the earlier cells' indices valid, as Docs users do.
    docs.batch_update(
        doc_id, [insert(12, "d"), insert(10, "c"), insert(7, "b😀"), insert(5, "Name")]
    )
    elements = content(docs, doc_id)
    table = elements[2]["table"]
    texts = [
        [c["content"][0]["paragraph"]["elements"][0]["textRun"]["content"] for c in r["tableCells"]]
        for r in table["tableRows"]
    ]
    assert texts == [["Name\n", "b😀\n"], ["c\n", "d\n"]]
    # 4 + 3 + 1 + 1 more units than the empty 2x2 table that ended at 13.
    assert elements[2]["endIndex"] == 22
    assert check_layout(elements, 0) == 23


def test_insert_table_inside_a_paragraph_splits_it(docs: Backend) -> None:
    doc_id = new_doc(docs, "abcdef")
    docs.batch_update(doc_id, [table_at(3, 1, 1)])  # before "c"
    assert spans(docs, doc_id)[1:] == [(1, 4, "ab\n"), (4, 8, "table"), (8, 13, "cdef\n")]
    check_layout(content(docs, doc_id), 0)


def test_text_cannot_go_at_a_table_row_or_cell_start(docs: Backend) -> None:
    doc_id = new_doc(docs)
    docs.batch_update(doc_id, [table_at(1, 1, 1)])  # table 2, row 3, cell 4, paragraph 5..6
    for index in (2, 3, 4):
        error = rejects(docs, doc_id, [insert(index, "x")])
        assert "inside the bounds of an existing paragraph" in error.message
    docs.batch_update(doc_id, [insert(5, "ok"), insert(1, "before")])
    assert docs.plain_text(doc_id) == "before\nok\n\n"


def test_nested_table_in_a_cell(docs: Backend) -> None:
    doc_id = new_doc(docs)
    docs.batch_update(doc_id, [table_at(1, 1, 1), table_at(5, 1, 2)])
    elements = content(docs, doc_id)
    cell = elements[2]["table"]["tableRows"][0]["tableCells"][0]
    assert [("table" in e) for e in cell["content"]] == [False, True, False]
    check_layout(elements, 0)


# ------------------------------------------------------------------ deleteContentRange
def test_delete_merges_paragraphs_keeping_the_first_style(docs: Backend) -> None:
    doc_id = new_doc(docs, "Head\nbody")
    docs.batch_update(
        doc_id,
        [
            {
                "updateParagraphStyle": {
                    "range": {"startIndex": 1, "endIndex": 2},
                    "paragraphStyle": {"namedStyleType": "HEADING_2"},
                    "fields": "namedStyleType",
                }
            },
            delete(3, 8),  # "ad\nbo"
        ],
    )
    (paragraph,) = content(docs, doc_id)[1:]
    assert paragraph["paragraph"]["elements"][0]["textRun"]["content"] == "Hedy\n"
    assert paragraph["paragraph"]["paragraphStyle"]["namedStyleType"] == "HEADING_2"


def test_delete_of_the_final_newline_is_refused(docs: Backend) -> None:
    doc_id = new_doc(docs, "abc")
    error = rejects(docs, doc_id, [delete(1, 5)])
    assert error.message == (
        "Invalid requests[0].deleteContentRange: The range cannot include the newline "
        "character at the end of the segment."
    )
    docs.batch_update(doc_id, [delete(1, 4)])
    assert docs.plain_text(doc_id) == "\n"


def test_delete_half_an_emoji_is_refused(docs: Backend) -> None:
    doc_id = new_doc(docs, "😀x")
    assert rejects(docs, doc_id, [delete(2, 3)]).code == 400
    docs.batch_update(doc_id, [delete(1, 3)])
    assert docs.plain_text(doc_id) == "x\n"


def test_delete_a_whole_table(docs: Backend) -> None:
    doc_id = new_doc(docs, "intro")
    docs.batch_update(
        doc_id, [{"insertTable": {"endOfSegmentLocation": {}, "rows": 2, "columns": 3}}]
    )
    table = content(docs, doc_id)[2]
    docs.batch_update(doc_id, [delete(table["startIndex"], table["endIndex"])])
    assert spans(docs, doc_id)[1:] == [(1, 7, "intro\n"), (7, 8, "\n")]


def test_delete_across_cells_or_part_of_a_table_is_refused(docs: Backend) -> None:
    doc_id = new_doc(docs)
    docs.batch_update(doc_id, [table_at(1, 2, 2), insert(7, "b"), insert(5, "a")])
    # Table 2..15: row 3..10 with cells 4..7 ("a\n" at 5) and 7..10 ("b\n" at 8), row 10..15.
    # Refused: across two cells, a cell's last newline, the table's start, the newline
    # before the table with its start, and from a cell to the table's end.
    for start, end in [(5, 9), (6, 7), (2, 6), (1, 3), (8, 15)]:
        error = rejects(docs, doc_id, [delete(start, end)])
        assert error.message.endswith("Invalid deletion range. Cannot delete the requested range.")
    docs.batch_update(doc_id, [delete(5, 6)])  # text inside one cell is fine
    assert docs.plain_text(doc_id) == "\n\nb\n\n\n\n"


def test_delete_newline_before_table_only_with_the_table(docs: Backend) -> None:
    doc_id = new_doc(docs, "abc")
    docs.batch_update(
        doc_id, [{"insertTable": {"endOfSegmentLocation": {}, "rows": 1, "columns": 1}}]
    )
    # "abc\n" is 1..5, the table 5..9, the final paragraph 9..10.
    assert rejects(docs, doc_id, [delete(4, 5)]).code == 400
    docs.batch_update(doc_id, [delete(4, 9)])
    assert spans(docs, doc_id)[1:] == [(1, 5, "abc\n")]


# ------------------------------------------------------------------ atomicity and replies
def test_a_failing_request_leaves_the_document_untouched(docs: Backend) -> None:
    doc_id = new_doc(docs, "keep")
    before = docs.get_document(doc_id)
    error = rejects(
        docs,
        doc_id,
        [
            insert(1, "lost "),
            {"replaceAllText": {"containsText": {"text": "keep"}, "replaceText": "x"}},
            insert(99, "!"),
        ],
    )
    assert error.message.startswith("Invalid requests[2].insertText: Index 99")
    assert docs.get_document(doc_id) == before


def test_write_control_required_revision(docs: Backend) -> None:
    doc_id = new_doc(docs)
    revision = docs.get_document(doc_id)["revisionId"]
    reply = docs.batch_update(doc_id, [insert(1, "a")], {"requiredRevisionId": revision})
    assert reply["writeControl"]["requiredRevisionId"] != revision
    assert reply["documentId"] == doc_id
    with pytest.raises(DocsError) as caught:
        docs.batch_update(doc_id, [insert(1, "b")], {"requiredRevisionId": revision})
    assert caught.value.code == 400
    assert docs.plain_text(doc_id) == "a\n"


@pytest.mark.parametrize(
    ("requests", "fragment"),
    [
        ([], "Must specify at least one request."),
        ([{"frobnicate": {}}], 'Unknown name "frobnicate"'),
        ([{"insertText": {"text": "x"}}], "Exactly one of location or endOfSegmentLocation"),
        (
            [{"insertText": {"location": {"index": 1, "segmentId": "kix.hdr"}, "text": "x"}}],
            "Segment ID",
        ),
        (
            [{"insertTable": {"location": {"index": 1}, "rows": 0, "columns": 2}}],
            "at least one row",
        ),
        (
            [
                {
                    "updateTextStyle": {
                        "range": {"startIndex": 1, "endIndex": 2},
                        "textStyle": {"bold": True},
                    }
                }
            ],
            "At least one field must be listed in 'fields'.",
        ),
        (
            [
                {
                    "updateTextStyle": {
                        "range": {"startIndex": 1, "endIndex": 2},
                        "textStyle": {},
                        "fields": "boldness",
                    }
                }
            ],
            "Invalid field: boldness",
        ),
        ([delete(1, 1)], "The range should not be empty."),
        ([delete(0, 1)], "first section break"),
        ([delete(1, 9)], "Index 8 must be less than the end index of the referenced segment, 2."),
        (
            [{"replaceAllText": {"containsText": {"text": ""}, "replaceText": "x"}}],
            "must not be empty",
        ),
        ([{"createParagraphBullets": {"range": {"startIndex": 1, "endIndex": 2}}}], "bulletPreset"),
    ],
)
def test_invalid_requests(docs: Backend, requests: list[dict[str, Any]], fragment: str) -> None:
    error = rejects(docs, new_doc(docs), requests)
    assert (error.code, error.status) == (400, "INVALID_ARGUMENT")
    assert fragment in error.message


def test_known_but_unimplemented_request_says_so(docs: Backend) -> None:
    error = rejects(docs, new_doc(docs), [{"insertPageBreak": {"location": {"index": 1}}}])
    assert (error.code, error.status) == (501, "UNIMPLEMENTED")


# ------------------------------------------------------------------ styles
def test_update_paragraph_style_needs_fields_and_a_real_named_style(docs: Backend) -> None:
    doc_id = new_doc(docs, "a\nb\nc")
    style = {
        "range": {"startIndex": 2, "endIndex": 4},
        "paragraphStyle": {"namedStyleType": "TITLE"},
    }
    error = rejects(docs, doc_id, [{"updateParagraphStyle": style}])
    assert "At least one field must be listed in 'fields'" in error.message
    bad = dict(style, paragraphStyle={"namedStyleType": "HEADING_9"}, fields="namedStyleType")
    assert "HEADING_9" in rejects(docs, doc_id, [{"updateParagraphStyle": bad}]).message
    docs.batch_update(doc_id, [{"updateParagraphStyle": dict(style, fields="namedStyleType")}])
    named = [e["paragraph"]["paragraphStyle"]["namedStyleType"] for e in content(docs, doc_id)[1:]]
    # [2, 4) touches "a\n" (its newline at 2) and "b\n": every overlapped paragraph changes.
    assert named == ["TITLE", "TITLE", "NORMAL_TEXT"]
    reset = dict(style, paragraphStyle={}, fields="namedStyleType")
    docs.batch_update(doc_id, [{"updateParagraphStyle": reset}])
    named = [e["paragraph"]["paragraphStyle"]["namedStyleType"] for e in content(docs, doc_id)[1:]]
    assert named == ["NORMAL_TEXT"] * 3


def test_update_text_style_splits_runs(docs: Backend) -> None:
    doc_id = new_doc(docs, "Hello world")
    docs.batch_update(
        doc_id,
        [
            {
                "updateTextStyle": {
                    "range": {"startIndex": 7, "endIndex": 12},
                    "textStyle": {"bold": True, "link": {"url": "https://example.org"}},
                    "fields": "bold,link",
                }
            }
        ],
    )
    runs = content(docs, doc_id)[1]["paragraph"]["elements"]
    assert [(r["startIndex"], r["endIndex"], r["textRun"]["content"]) for r in runs] == [
        (1, 7, "Hello "),
        (7, 12, "world"),
        (12, 13, "\n"),
    ]
    assert runs[1]["textRun"]["textStyle"] == {"bold": True, "link": {"url": "https://example.org"}}
    # A listed field left unset resets it; unlisted fields stay.
    docs.batch_update(
        doc_id,
        [
            {
                "updateTextStyle": {
                    "range": {"startIndex": 7, "endIndex": 9},
                    "textStyle": {},
                    "fields": "bold",
                }
            }
        ],
    )
    runs = content(docs, doc_id)[1]["paragraph"]["elements"]
    assert [r["textRun"]["textStyle"] for r in runs] == [
        {},
        {"link": {"url": "https://example.org"}},
        {"bold": True, "link": {"url": "https://example.org"}},
        {},
    ]


def test_bullets_take_nesting_from_leading_tabs_and_remove_them(docs: Backend) -> None:
    doc_id = new_doc(docs, "a\n\tb\n\t\tc\nplain")
    bullets = {
        "createParagraphBullets": {
            "range": {"startIndex": 1, "endIndex": 10},
            "bulletPreset": "BULLET_DISC_CIRCLE_SQUARE",
        }
    }
    docs.batch_update(doc_id, [bullets])
    doc = docs.get_document(doc_id)
    elements = doc["body"]["content"][1:]
    assert spans(docs, doc_id)[1:] == [
        (1, 3, "a\n"),
        (3, 5, "b\n"),
        (5, 7, "c\n"),
        (7, 13, "plain\n"),
    ]
    levels = [e["paragraph"].get("bullet", {}).get("nestingLevel", 0) for e in elements[:3]]
    assert levels == [0, 1, 2]
    assert "bullet" not in elements[3]["paragraph"]
    (list_id,) = doc["lists"]
    assert {e["paragraph"]["bullet"]["listId"] for e in elements[:3]} == {list_id}
    glyphs = [
        lvl["glyphSymbol"] for lvl in doc["lists"][list_id]["listProperties"]["nestingLevels"][:3]
    ]
    assert glyphs == ["●", "○", "■"]


def test_bullets_join_the_list_just_before_with_the_same_preset(docs: Backend) -> None:
    doc_id = new_doc(docs, "one\ntwo\nthree")

    def bullets(start: int, end: int, preset: str) -> dict[str, Any]:
        return {
            "createParagraphBullets": {
                "range": {"startIndex": start, "endIndex": end},
                "bulletPreset": preset,
            }
        }

    docs.batch_update(
        doc_id,
        [
            bullets(1, 2, "NUMBERED_DECIMAL_ALPHA_ROMAN"),
            bullets(5, 6, "NUMBERED_DECIMAL_ALPHA_ROMAN"),
        ],
    )
    docs.batch_update(doc_id, [bullets(9, 10, "BULLET_DISC_CIRCLE_SQUARE")])
    ids = [e["paragraph"]["bullet"]["listId"] for e in content(docs, doc_id)[1:]]
    assert ids[0] == ids[1] != ids[2]
    docs.batch_update(
        doc_id, [{"deleteParagraphBullets": {"range": {"startIndex": 1, "endIndex": 14}}}]
    )
    assert all("bullet" not in e["paragraph"] for e in content(docs, doc_id)[1:])
    assert "lists" not in docs.get_document(doc_id)


# ------------------------------------------------------------------ replaceAllText
def test_replace_all_text_counts_and_shifts_indices(docs: Backend) -> None:
    doc_id = new_doc(docs, "Hi {{NAME}}, and {{name}}\nbye {{name}}")
    reply = docs.batch_update(
        doc_id,
        [
            {
                "replaceAllText": {
                    "containsText": {"text": "{{name}}", "matchCase": True},
                    "replaceText": "😀",
                }
            },
            {"replaceAllText": {"containsText": {"text": "{{name}}"}, "replaceText": "Ana"}},
            {"replaceAllText": {"containsText": {"text": "absent"}, "replaceText": "x"}},
        ],
    )
    assert reply["replies"] == [
        {"replaceAllText": {"occurrencesChanged": 2}},
        {"replaceAllText": {"occurrencesChanged": 1}},
        {"replaceAllText": {}},  # proto3 JSON drops a zero count
    ]
    assert docs.plain_text(doc_id) == "Hi Ana, and 😀\nbye 😀\n"
    # "Hi Ana, and " is 12 units, the emoji 2, the newline 1.
    assert spans(docs, doc_id)[1:] == [(1, 16, "Hi Ana, and 😀\n"), (16, 23, "bye 😀\n")]


def test_replace_all_text_keeps_the_style_of_the_match_and_can_split_paragraphs(
    docs: Backend,
) -> None:
    doc_id = new_doc(docs, "x {{list}} y")
    docs.batch_update(
        doc_id,
        [
            {
                "updateTextStyle": {
                    "range": {"startIndex": 3, "endIndex": 11},
                    "textStyle": {"italic": True},
                    "fields": "italic",
                }
            },
            {"replaceAllText": {"containsText": {"text": "{{LIST}}"}, "replaceText": "one\ntwo"}},
        ],
    )
    assert docs.plain_text(doc_id) == "x one\ntwo y\n"
    second = content(docs, doc_id)[2]["paragraph"]["elements"]
    assert second[0]["textRun"] == {"content": "two", "textStyle": {"italic": True}}


def test_replace_all_text_by_regex(docs: Backend) -> None:
    doc_id = new_doc(docs, "A-12 and B-7")
    reply = docs.batch_update(
        doc_id,
        [
            {
                "replaceAllText": {
                    "containsText": {"text": r"[a-z]-\d+", "searchByRegex": True},
                    "replaceText": "#",
                }
            }
        ],
    )
    assert reply["replies"][0]["replaceAllText"]["occurrencesChanged"] == 2
    assert docs.plain_text(doc_id) == "# and #\n"


# ------------------------------------------------------------------ HTML, Drive, persistence
def test_render_html_escapes_text_and_keeps_structure(docs: Backend) -> None:
    # Paragraphs: heading 1..15, script 15..41, item 41..46, link 46..51, bad 51..55.
    doc_id = new_doc(docs, "Week <1> & co\n<script>alert(1)</script>\nitem\nlink\nbad")
    docs.batch_update(
        doc_id,
        [
            {
                "updateParagraphStyle": {
                    "range": {"startIndex": 1, "endIndex": 2},
                    "paragraphStyle": {"namedStyleType": "HEADING_1"},
                    "fields": "namedStyleType",
                }
            },
            {
                "createParagraphBullets": {
                    "range": {"startIndex": 42, "endIndex": 43},
                    "bulletPreset": "BULLET_DISC_CIRCLE_SQUARE",
                }
            },
            {
                "updateTextStyle": {
                    "range": {"startIndex": 46, "endIndex": 50},
                    "textStyle": {"link": {"url": 'https://x.org/?a=1&b="2"'}, "bold": True},
                    "fields": "link,bold",
                }
            },
            {
                "updateTextStyle": {
                    "range": {"startIndex": 51, "endIndex": 54},
                    "textStyle": {"link": {"url": "javascript:alert(1)"}},
                    "fields": "link",
                }
            },
            {"insertTable": {"endOfSegmentLocation": {}, "rows": 1, "columns": 1}},
        ],
    )
    page = docs.render_html(doc_id)
    assert "<h1>Week &lt;1&gt; &amp; co</h1>" in page
    assert "<p>&lt;script&gt;alert(1)&lt;/script&gt;</p>" in page
    assert "<ul>\n<li>item</li></ul>" in page
    assert (
        '<a href="https://x.org/?a=1&amp;b=&quot;2&quot;" rel="noopener noreferrer"><strong>link</strong></a>'
        in page
    )
    assert "javascript" not in page and "<p>bad</p>" in page
    assert "<table><tr><td><p></p></td></tr></table>" in page
    assert "<script>" not in page


def test_nested_bullets_render_as_nested_lists(docs: Backend) -> None:
    doc_id = new_doc(docs, "a\n\tb\nc")
    docs.batch_update(
        doc_id,
        [
            {
                "createParagraphBullets": {
                    "range": {"startIndex": 1, "endIndex": 7},
                    "bulletPreset": "NUMBERED_DECIMAL_NESTED",
                }
            }
        ],
    )
    assert docs.render_html(doc_id) == "<ol>\n<li>a\n<ol>\n<li>b</li></ol></li>\n<li>c</li></ol>"


def test_created_documents_are_registered_in_drive_unless_drive_made_them() -> None:
    drive = FakeDrive()
    docs = make_backend(drive)
    doc_id = docs.create_document("Weekly", parents=["folder1"])
    assert drive.registered == [(doc_id, "Weekly", DOCUMENT_MIME, ["folder1"])]
    assert docs.create_document("From Drive", file_id="drive-made-id") == "drive-made-id"
    assert len(drive.registered) == 1
    assert docs.get_document("drive-made-id")["title"] == "From Drive"
    docs.delete_document("drive-made-id")
    assert not docs.has_document("drive-made-id")


def test_snapshot_and_restore_round_trip(docs: Backend) -> None:
    doc_id = new_doc(docs, "Title\nitem 😀\nend")
    docs.batch_update(
        doc_id,
        [
            {
                "updateTextStyle": {
                    "range": {"startIndex": 1, "endIndex": 3},
                    "textStyle": {"bold": True},
                    "fields": "bold",
                }
            },
            {
                "createParagraphBullets": {
                    "range": {"startIndex": 7, "endIndex": 8},
                    "bulletPreset": "BULLET_CHECKBOX",
                }
            },
            {"insertTable": {"endOfSegmentLocation": {}, "rows": 2, "columns": 2}},
        ],
    )
    before = docs.get_document(doc_id)
    other = make_backend()
    other.restore(docs.snapshot())
    assert other.get_document(doc_id) == before
    assert other.copy_document(doc_id, "copy-id", "Copy") == "copy-id"
    assert other.plain_text("copy-id") == docs.plain_text(doc_id)
    assert other.get_document("copy-id")["title"] == "Copy"


# ------------------------------------------------------------------ properties
_TEXT = st.text(alphabet=st.sampled_from(list("ab \n😀é\t")), min_size=1, max_size=6)


@settings(max_examples=150, deadline=None)
@given(
    st.lists(st.tuples(st.booleans(), st.integers(0, 40), st.integers(0, 40), _TEXT), max_size=12)
)
def test_random_edits_match_a_utf16_string_model(ops: list[tuple[bool, int, int, str]]) -> None:
    docs = make_backend()
    doc_id = docs.create_document("prop")
    expected = "\n"
    for is_insert, a, b, text in ops:
        end = 1 + utf16_len(expected)
        offsets = {1 + utf16_len(expected[:i]): i for i in range(len(expected) + 1)}
        if is_insert:
            ok = 1 <= a < end and a in offsets
            request = insert(a, text)
        else:
            start, stop = sorted((a, b))
            ok = 1 <= start < stop < end and start in offsets and stop in offsets
            request = delete(start, stop)
        try:
            docs.batch_update(doc_id, [request])
        except DocsError:
            assert not ok, request
            continue
        assert ok, request
        if is_insert:
            expected = expected[: offsets[a]] + text + expected[offsets[a] :]
        else:
            expected = expected[: offsets[start]] + expected[offsets[stop] :]
        assert docs.plain_text(doc_id) == expected
        assert check_layout(content(docs, doc_id), 0) == 1 + utf16_len(expected)


@settings(max_examples=80, deadline=None)
@given(
    st.lists(
        st.tuples(
            st.sampled_from(["text", "table", "delete"]),
            st.integers(1, 60),
            st.integers(1, 8),
            _TEXT,
        ),
        max_size=10,
    )
)
def test_random_edits_with_tables_keep_a_valid_layout(ops: list[tuple[str, int, int, str]]) -> None:
    docs = make_backend()
    doc_id = docs.create_document("prop")
    for kind, index, size, text in ops:
        request = {
            "text": insert(index, text),
            "table": table_at(index, 1 + size % 2, 1 + size % 3),
            "delete": delete(index, index + size),
        }[kind]
        before = docs.get_document(doc_id)
        try:
            docs.batch_update(doc_id, [request])
        except DocsError as error:
            assert error.code == 400
            assert docs.get_document(doc_id) == before
        elements = content(docs, doc_id)
        assert check_layout(elements, 0) == elements[-1]["endIndex"]
