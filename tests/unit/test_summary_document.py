"""The document renderer: markup parsing, and Docs requests checked by applying them to the Docs emulator's model.

The emulator (sandbox/docs) keeps the body as UTF-16 units and validates structure like
the real service, so a request list that applies cleanly and reads back as the model is
a request list with the right indices.
"""

from __future__ import annotations

import itertools
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from coalition.summary.document import (
    BulletList,
    Document,
    MarkupError,
    Paragraph,
    Span,
    Table,
    body_end_index,
    clean,
    docs_requests,
    escape,
    parse_inline,
    parse_markup,
    to_html,
    to_markdown,
    u16,
)
from sandbox.docs import document as units_model
from sandbox.docs.edits import Editor
from sandbox.docs.views import body_content

MARKUP = """# Weekly summary 2026-W48 (Nov 23 - Nov 29)

Intro with **bold $1,234.50** and [a link](https://example.org/x).
A second line joins the paragraph.

## Fundraising

| Figure | This week |
|---|---|
| Total raised | **$10** |
| Gifts | 3 |

- one **bold** item and a **[bold link](https://example.org/b_\\(1\\))**
- two with an emoji 🎉 and é

### Sub

Last paragraph.
"""


# ---------------------------------------------------------------- markup
def test_parse_markup_blocks() -> None:
    doc = parse_markup(MARKUP)
    kinds = [type(b).__name__ for b in doc.blocks]
    assert kinds == [
        "Paragraph",
        "Paragraph",
        "Paragraph",
        "Table",
        "BulletList",
        "Paragraph",
        "Paragraph",
    ]
    assert doc.title == "Weekly summary 2026-W48 (Nov 23 - Nov 29)"
    assert doc.sections == 1
    intro = doc.blocks[1]
    assert isinstance(intro, Paragraph)
    assert intro.spans == (
        Span("Intro with "),
        Span("bold $1,234.50", bold=True),
        Span(" and "),
        Span("a link", link="https://example.org/x"),
        Span(". A second line joins the paragraph."),
    )
    table = doc.blocks[3]
    assert isinstance(table, Table) and table.header and table.columns == 2 and len(table.rows) == 3


@pytest.mark.parametrize(
    ("markup", "message"),
    [
        ("a **bold", "never closed"),
        ("a * star", "bare"),
        ("| a | b |\n| c |", "cells"),
        ("[x](javascript:alert(1))", "not an http"),
        ("[dangling", "starts no"),
        ("|---|\n| a |", "first row"),
    ],
)
def test_bad_markup_fails_loudly(markup: str, message: str) -> None:
    with pytest.raises(MarkupError, match=message):
        parse_markup(markup)


@given(st.text(max_size=60))
def test_escaped_values_stay_literal(text: str) -> None:
    """Whatever a value holds (asterisks, pipes, brackets, a leading '#'), it comes back as plain text."""
    spans = parse_inline(escape(text))
    assert "".join(s.text for s in spans) == clean(text)
    assert not any(s.bold or s.link for s in spans)
    doc = parse_markup(f"| {escape(text)} | x |\n\n{escape(text)} tail")
    cell = doc.blocks[0].rows[0][0]  # type: ignore[union-attr]
    assert "".join(s.text for s in cell) == clean(text).strip()
    assert doc.blocks[1].text == (clean(text) + " tail").strip()  # type: ignore[union-attr]


def test_markdown_round_trips() -> None:
    doc = parse_markup(MARKUP)
    assert doc.links() == ["https://example.org/x", "https://example.org/b_(1)"]
    assert parse_markup(to_markdown(doc)) == doc


def test_html_escapes_and_keeps_structure() -> None:
    doc = parse_markup(
        "# T <script>\n\n| a | b |\n|---|---|\n| <b> | [l](https://x.org/?a=1&b=2) |\n\n- i"
    )
    page = to_html(doc, note="Preview")
    assert "<script>" not in page and "&lt;script&gt;" in page
    assert '<a href="https://x.org/?a=1&amp;b=2">l</a>' in page
    assert "<th>a</th>" in page and "<td>&lt;b&gt;</td>" in page and "<ul><li>i</li></ul>" in page


# ---------------------------------------------------------------- Docs requests, checked against the emulator
def _apply(units: list[Any], lists: dict, requests: list[dict]) -> Editor:
    counter = itertools.count()
    editor = Editor(units, lists, lambda prefix: f"{prefix}{next(counter)}")
    editor.apply(requests)
    units_model.parse(editor.units)  # raises if the structure is one Docs could not hold
    return editor


def _runs(units: list[Any], start: int, end: int) -> tuple:
    runs: list[tuple[str, bool, str | None]] = []
    for unit in units[start:end]:
        if not unit.is_char or unit.is_newline:
            continue
        key = (bool(unit.style.get("bold")), (unit.style.get("link") or {}).get("url"))
        if runs and (runs[-1][1], runs[-1][2]) == key:
            runs[-1] = (runs[-1][0] + unit.text, *key)
        else:
            runs.append((unit.text, *key))
    return tuple(runs)


def structure_of(units: list[Any]) -> list[tuple]:
    """What a reader sees in the emulator: paragraphs (style, bullet, runs) and tables (cells' runs)."""
    out: list[tuple] = []
    for element in units_model.parse(units):
        if isinstance(element, units_model.Paragraph):
            closing = units[element.end - 1]
            style = (closing.para or {}).get("namedStyleType", "NORMAL_TEXT")
            out.append(("p", style, bool(closing.bullet), _runs(units, element.start, element.end)))
        else:
            rows = tuple(
                tuple(_runs(units, cell.start, cell.end) for cell in row.cells)
                for row in element.rows
            )
            out.append(("t", rows))
    return out


def _model_runs(spans: tuple[Span, ...], bold: bool = False) -> tuple:
    runs: list[tuple[str, bool, str | None]] = []
    for span in spans:
        key = (span.bold or bold, span.link)
        if not span.text:
            continue
        if runs and (runs[-1][1], runs[-1][2]) == key:
            runs[-1] = (runs[-1][0] + span.text, *key)
        else:
            runs.append((span.text, *key))
    return tuple(runs)


def expected_structure(doc: Document) -> list[tuple]:
    """The model as the emulator should show it: Docs keeps a paragraph around every table."""
    out: list[tuple] = []
    for block in doc.blocks:
        if isinstance(block, Paragraph):
            out.append(("p", block.style, False, _model_runs(block.spans)))
        elif isinstance(block, BulletList):
            out += [("p", "NORMAL_TEXT", True, _model_runs(item)) for item in block.items]
        elif block.rows:
            if not out or out[-1][0] == "t":
                out.append(("p", "NORMAL_TEXT", False, ()))
            rows = tuple(
                tuple(_model_runs(cell, block.header and r == 0) for cell in row)
                for r, row in enumerate(block.rows)
            )
            out.append(("t", rows))
    if not out or out[-1][0] == "t":
        out.append(("p", "NORMAL_TEXT", False, ()))
    return out


def _end(units: list[Any]) -> int:
    return body_end_index({"body": {"content": body_content(units)}})


def test_a_new_document_reads_back_as_the_model() -> None:
    doc = parse_markup(MARKUP)
    requests = docs_requests(doc, 2)
    assert not any(
        "deleteContentRange" in r for r in requests
    )  # a blank document has nothing to clear
    editor = _apply(units_model.blank_body(), {}, requests)
    assert structure_of(editor.units) == expected_structure(doc)
    text = units_model.plain_text(editor.units)
    assert text.startswith("Weekly summary 2026-W48 (Nov 23 - Nov 29)\n")
    assert text.endswith("Last paragraph.\n")  # no empty paragraph after the last one


def test_rewriting_replaces_everything_old_with_the_new_content() -> None:
    old = parse_markup(
        "# Old title\n\n| x | y |\n|---|---|\n| 1 | 2 |\n\n- **bold** item at the end"
    )
    first = _apply(units_model.blank_body(), {}, docs_requests(old, 2))
    new = parse_markup(MARKUP)
    requests = docs_requests(new, _end(first.units))
    assert "deleteContentRange" in requests[0]
    second = _apply(first.units, first.lists, requests)
    fresh = _apply(units_model.blank_body(), {}, docs_requests(new, 2))
    assert structure_of(second.units) == structure_of(fresh.units) == expected_structure(new)
    assert "Old title" not in units_model.plain_text(second.units)


def test_rewriting_the_same_content_gives_the_same_document() -> None:
    doc = parse_markup(MARKUP)
    first = _apply(units_model.blank_body(), {}, docs_requests(doc, 2))
    again = _apply(first.units, first.lists, docs_requests(doc, _end(first.units)))
    assert structure_of(again.units) == structure_of(first.units)


def test_tables_first_last_and_back_to_back() -> None:
    doc = parse_markup("| a | b |\n|---|---|\n| 1 | 2 |\n\n| c |\n| 3 |")
    editor = _apply(units_model.blank_body(), {}, docs_requests(doc, 2))
    assert structure_of(editor.units) == expected_structure(doc)


def test_indices_count_utf16_units() -> None:
    assert u16("🎉é") == 3
    doc = parse_markup("# 🎉🎉 **bold after emoji 🎉**\n\n| 🎉 | **é🎉** |")
    editor = _apply(units_model.blank_body(), {}, docs_requests(doc, 2))
    assert structure_of(editor.units) == expected_structure(doc)


def test_the_whole_document_is_one_batch() -> None:
    doc = parse_markup(MARKUP)
    requests = docs_requests(doc, 120)
    kinds = {next(iter(r)) for r in requests}
    assert kinds <= {
        "deleteContentRange",
        "insertText",
        "insertTable",
        "updateParagraphStyle",
        "updateTextStyle",
        "createParagraphBullets",
        "deleteParagraphBullets",
    }


# ---------------------------------------------------------------- any document
text_st = st.text(
    alphabet=st.characters(blacklist_categories=("Cs",), max_codepoint=0x1F9FF), max_size=12
)
span_st = st.builds(
    Span,
    text_st.map(clean),
    st.booleans(),
    st.sampled_from([None, None, "https://example.org/a"]),
)
inline_st = st.lists(span_st, max_size=3).map(tuple)
block_st = st.one_of(
    st.builds(
        Paragraph,
        inline_st,
        st.sampled_from(["NORMAL_TEXT", "TITLE", "HEADING_1", "HEADING_2"]),
    ),
    st.builds(BulletList, st.lists(inline_st, min_size=1, max_size=3).map(tuple)),
    st.integers(1, 3).flatmap(
        lambda cols: st.builds(
            Table,
            st.lists(
                st.lists(inline_st, min_size=cols, max_size=cols).map(tuple), min_size=1, max_size=3
            ).map(tuple),
            st.booleans(),
        )
    ),
)


@settings(max_examples=150, deadline=None)
@given(st.lists(block_st, max_size=6).map(tuple), st.lists(block_st, max_size=4).map(tuple))
def test_any_document_written_over_any_other_reads_back_exactly(new_blocks, old_blocks) -> None:
    old, new = Document(old_blocks), Document(new_blocks)
    first = _apply(units_model.blank_body(), {}, docs_requests(old, 2))
    second = _apply(first.units, first.lists, docs_requests(new, _end(first.units)))
    assert structure_of(second.units) == expected_structure(new)
