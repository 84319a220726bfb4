"""The weekly document as a model (pure): parsed from the template's markup, rendered as Docs requests, HTML or Markdown.

The template writes a small Markdown-like markup, one block per line or group of lines:

    # Title                      the document's TITLE paragraph
    ## Heading / ### Sub         HEADING_1 / HEADING_2 (#### HEADING_3)
    - item                       a bullet; consecutive items make one list
    | a | b |                    a table row; a |---|---| line under the first row makes it a header
    text                         a paragraph (consecutive lines join with a space)

Inline: **bold** and [label](https://...). A backslash makes the next character
literal; values the template interpolates are escaped automatically (see
templates.py), so a campaign called "*Spring* | 2026" stays text.

`docs_requests` turns the model into one batchUpdate that replaces a document's body
whole: delete the old body (1..end-1), reset the one paragraph that survives, insert
every paragraph's text, insert each table where the text before it ends (insertTable
supplies the newline before a table) and fill its cells from the last to the first,
then style: named styles, bullets, bold, links. Every index is computed up front in
UTF-16 code units (an emoji counts 2), so the batch is applied all or nothing.
"""

from __future__ import annotations

import html
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

NORMAL, TITLE = "NORMAL_TEXT", "TITLE"
HEADINGS = {2: "HEADING_1", 3: "HEADING_2", 4: "HEADING_3"}
BULLET_PRESET = "BULLET_DISC_CIRCLE_SQUARE"
LINK_SCHEMES = ("https://", "http://", "mailto:")
ESCAPABLE = "\\*[]()|#-_`"
# Docs drops C0 controls (but tab/newline/VT) and BMP private-use characters; the model never
# carries them, nor line breaks inside a paragraph, so its lengths are the document's.
_UNSAFE = re.compile("[\x00-\x1f\x7f-\x9f\ue000-\uf8ff\ud800-\udfff\ufeff]")
_BREAKS = re.compile(r"[\t\n\r\v\f\u2028\u2029\x85]+")
_SEPARATOR = re.compile(r"^\|?\s*:?-{3,}:?\s*(\|\s*:?-{3,}:?\s*)*\|?$")


class MarkupError(ValueError):
    """The template produced markup the renderer refuses (a loud failure in tests, not a broken Doc)."""


# ---------------------------------------------------------------- the model
def clean(text: str) -> str:
    """Text safe for one paragraph: line breaks and tabs become spaces, invisible controls go."""
    return _UNSAFE.sub("", _BREAKS.sub(" ", text))


def u16(text: str) -> int:
    """Length in UTF-16 code units, the unit of every Docs index."""
    return len(text.encode("utf-16-le")) // 2


@dataclass(frozen=True)
class Span:
    text: str
    bold: bool = False
    link: str | None = None


Inline = tuple[Span, ...]


def inline_text(spans: Inline) -> str:
    return "".join(s.text for s in spans)


@dataclass(frozen=True)
class Paragraph:
    spans: Inline
    style: str = NORMAL

    @property
    def text(self) -> str:
        return inline_text(self.spans)


@dataclass(frozen=True)
class BulletList:
    items: tuple[Inline, ...]


@dataclass(frozen=True)
class Table:
    rows: tuple[tuple[Inline, ...], ...]
    header: bool = True

    @property
    def columns(self) -> int:
        return len(self.rows[0]) if self.rows else 0


Block = Paragraph | BulletList | Table


@dataclass(frozen=True)
class Document:
    blocks: tuple[Block, ...] = field(default_factory=tuple)

    @property
    def title(self) -> str:
        return next(
            (b.text for b in self.blocks if isinstance(b, Paragraph) and b.style == TITLE), ""
        )

    @property
    def sections(self) -> int:
        """How many top-level sections (HEADING_1) the document has."""
        return sum(isinstance(b, Paragraph) and b.style == HEADINGS[2] for b in self.blocks)

    def texts(self) -> Iterator[str]:
        """Every paragraph's and cell's text, in order."""
        for block in self.blocks:
            if isinstance(block, Paragraph):
                yield block.text
            elif isinstance(block, BulletList):
                yield from (inline_text(item) for item in block.items)
            else:
                yield from (inline_text(cell) for row in block.rows for cell in row)

    def plain_text(self) -> str:
        return "\n".join(self.texts())

    def links(self) -> list[str]:
        return [s.link for spans in self._inlines() for s in spans if s.link]

    def _inlines(self) -> Iterator[Inline]:
        for block in self.blocks:
            if isinstance(block, Paragraph):
                yield block.spans
            elif isinstance(block, BulletList):
                yield from block.items
            else:
                yield from (cell for row in block.rows for cell in row)


# ---------------------------------------------------------------- markup
def escape(value: Any) -> str:
    """A value made literal inside markup (the template environment applies it to every {{ }})."""
    text = clean(str(value))
    return "".join("\\" + ch if ch in ESCAPABLE else ch for ch in text)


def parse_markup(text: str) -> Document:
    """The document the markup describes; MarkupError names the line that is wrong."""
    blocks: list[Block] = []
    lines: list[str] = []  # a paragraph's lines
    items: list[Inline] = []
    rows: list[list[Inline]] = []
    header = False

    def close(number: int) -> None:
        nonlocal header
        if lines:
            blocks.append(Paragraph(parse_inline(" ".join(lines), number)))
            lines.clear()
        if items:
            blocks.append(BulletList(tuple(items)))
            items.clear()
        if rows:
            blocks.append(Table(tuple(tuple(r) for r in rows), header))
            rows.clear()
            header = False

    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.strip()
        if not line:
            close(number)
            continue
        heading = re.match(r"^(#{1,4})\s+(.*)$", line)
        if heading:
            close(number)
            level = len(heading.group(1))
            style = TITLE if level == 1 else HEADINGS[level]
            blocks.append(Paragraph(parse_inline(heading.group(2), number), style))
        elif line.startswith("- "):
            if lines or rows:
                close(number)
            items.append(parse_inline(line[2:], number))
        elif line.startswith("|"):
            if lines or items:
                close(number)
            if _SEPARATOR.match(line):
                if len(rows) != 1:
                    raise MarkupError(
                        f"line {number}: a |---| line must follow a table's first row"
                    )
                header = True
                continue
            cells = [parse_inline(c, number) for c in _cells(line, number)]
            if rows and len(cells) != len(rows[0]):
                raise MarkupError(
                    f"line {number}: {len(cells)} cells where the table has {len(rows[0])}"
                )
            rows.append(cells)
        else:
            if items or rows:
                close(number)
            lines.append(line)
    close(len(text.splitlines()) + 1)
    return Document(tuple(blocks))


def _cells(line: str, number: int) -> list[str]:
    """Split a table row on unescaped pipes (escapes stay for the inline parser)."""
    body = line[1:]
    if not body.endswith("|") or body.endswith("\\|"):
        raise MarkupError(f"line {number}: a table row must end with |")
    body = body[:-1]
    cells, current, k = [], [], 0
    while k < len(body):
        ch = body[k]
        if ch == "\\" and k + 1 < len(body):
            current.append(body[k : k + 2])
            k += 2
            continue
        if ch == "|":
            cells.append("".join(current).strip())
            current = []
        else:
            current.append(ch)
        k += 1
    cells.append("".join(current).strip())
    return cells


def parse_inline(text: str, number: int = 0) -> Inline:
    """Spans of one paragraph or cell: **bold**, [label](url), backslash escapes."""
    spans: list[Span] = []
    bold = False
    buffer: list[str] = []

    def emit(link: str | None = None, label: str | None = None) -> None:
        content = label if label is not None else "".join(buffer)
        if content:
            spans.append(Span(clean(content), bold, link))
        if label is None:
            buffer.clear()

    k = 0
    while k < len(text):
        ch = text[k]
        if ch == "\\" and k + 1 < len(text):
            buffer.append(text[k + 1])
            k += 2
        elif text.startswith("**", k):
            emit()
            bold = not bold
            k += 2
        elif ch == "[":
            found = _link_at(text, k)
            if found is None:
                raise MarkupError(f"line {number}: '[' starts no [label](url) link; escape it")
            label, url, k = found
            emit()
            emit(url, label)
        elif ch in "]*|":
            raise MarkupError(f"line {number}: a bare {ch!r} in text; escape it")
        else:
            buffer.append(ch)
            k += 1
    if bold:
        raise MarkupError(f"line {number}: ** opened and never closed")
    emit()
    return _merged(spans)


def _link_at(text: str, start: int) -> tuple[str, str, int] | None:
    """(label, url, index after the link) for a [label](url) at `start`."""
    label, k = _until(text, start + 1, "]")
    if k is None or not text.startswith("(", k + 1):
        return None
    url, end = _until(text, k + 2, ")")
    if end is None:
        return None
    url = url.strip()
    if not url.startswith(LINK_SCHEMES) or re.search(r"\s", url):
        raise MarkupError(f"link {url!r} is not an http(s) or mailto address")
    return label, url, end + 1


def _until(text: str, k: int, stop: str) -> tuple[str, int | None]:
    out: list[str] = []
    while k < len(text):
        if text[k] == "\\" and k + 1 < len(text):
            out.append(text[k + 1])
            k += 2
        elif text[k] == stop:
            return "".join(out), k
        else:
            out.append(text[k])
            k += 1
    return "".join(out), None


def _merged(spans: list[Span]) -> Inline:
    merged: list[Span] = []
    for span in spans:
        if merged and (merged[-1].bold, merged[-1].link) == (span.bold, span.link):
            merged[-1] = Span(merged[-1].text + span.text, span.bold, span.link)
        else:
            merged.append(span)
    return tuple(merged)


# ---------------------------------------------------------------- Google Docs
def _range(start: int, end: int) -> dict[str, int]:
    return {"startIndex": start, "endIndex": end}


def _insert(index: int, text: str) -> dict[str, Any]:
    return {"insertText": {"location": {"index": index}, "text": text}}


@dataclass
class _Layout:
    """Requests in the order they apply, and the styles to add once every index is final."""

    inserts: list[dict[str, Any]] = field(default_factory=list)
    styles: list[dict[str, Any]] = field(default_factory=list)
    pending: list[str] = field(default_factory=list)  # text not yet inserted
    pending_at: int = 1
    cursor: int = 1  # where the next character lands
    open_paragraph: bool = False  # the pending text ends with a paragraph's newline

    def flush(self) -> None:
        text = "".join(self.pending)
        if text:
            self.inserts.append(_insert(self.pending_at, text))
        self.pending.clear()
        self.pending_at = self.cursor

    def spans(self, spans: Inline, start: int, header: bool = False) -> int:
        """Style ranges of `spans` laid out from `start`; returns the index after them."""
        at = start
        for span in spans:
            width = u16(span.text)
            if width and (span.bold or header):
                self.styles.append(
                    {
                        "updateTextStyle": {
                            "range": _range(at, at + width),
                            "textStyle": {"bold": True},
                            "fields": "bold",
                        }
                    }
                )
            if width and span.link:
                self.styles.append(
                    {
                        "updateTextStyle": {
                            "range": _range(at, at + width),
                            "textStyle": {"link": {"url": span.link}},
                            "fields": "link",
                        }
                    }
                )
            at += width
        return at

    def paragraph(self, spans: Inline, style: str) -> tuple[int, int]:
        start = self.cursor
        end = self.spans(spans, start)
        self.pending.append(inline_text(spans) + "\n")
        self.cursor = end + 1
        self.open_paragraph = True
        if style != NORMAL:
            self.styles.append(
                {
                    "updateParagraphStyle": {
                        "range": _range(start, self.cursor),
                        "paragraphStyle": {"namedStyleType": style},
                        "fields": "namedStyleType",
                    }
                }
            )
        return start, self.cursor

    def table(self, table: Table) -> None:
        if self.open_paragraph:
            # The newline that ends the paragraph before the table is the one insertTable adds.
            self.pending[-1] = self.pending[-1][:-1]
            self.flush()
            at = self.cursor - 1
        else:
            self.flush()
            at = self.cursor
            self.cursor += 1  # insertTable's newline makes an empty paragraph here
        self.inserts.append(
            {
                "insertTable": {
                    "rows": len(table.rows),
                    "columns": table.columns,
                    "location": {"index": at},
                }
            }
        )
        start = self.cursor  # the table's own start index
        empty = start + 1  # walk the empty table: row, then (cell, its paragraph) per column
        final = start + 1
        fills: list[dict[str, Any]] = []
        for r, row in enumerate(table.rows):
            empty += 1
            final += 1
            for cell in row:
                empty += 1
                final += 1
                text = inline_text(cell)
                if text:
                    fills.append(_insert(empty, text))
                final = self.spans(cell, final, header=table.header and r == 0) + 1
                empty += 1
        # Filling from the last cell back keeps every earlier cell's index as computed.
        self.inserts.extend(reversed(fills))
        self.cursor = final
        self.pending_at = final
        self.open_paragraph = False


def docs_requests(document: Document, body_end: int) -> list[dict[str, Any]]:
    """One batchUpdate's requests that make a body ending at `body_end` hold exactly `document`."""
    requests: list[dict[str, Any]] = []
    if body_end > 2:
        requests.append({"deleteContentRange": {"range": _range(1, body_end - 1)}})
    # The body's last paragraph survives any delete; new text inherits its styles, so reset them.
    requests += [
        {
            "updateParagraphStyle": {
                "range": _range(1, 2),
                "paragraphStyle": {"namedStyleType": NORMAL},
                "fields": "namedStyleType",
            }
        },
        {"deleteParagraphBullets": {"range": _range(1, 2)}},
        {
            "updateTextStyle": {
                "range": _range(1, 2),
                "textStyle": {},
                "fields": "bold,italic,underline,strikethrough,link",
            }
        },
    ]
    layout = _Layout()
    blocks = [b for b in document.blocks if not (isinstance(b, Table) and not b.rows)]
    for number, block in enumerate(blocks):
        last = number == len(blocks) - 1
        if isinstance(block, Paragraph):
            layout.paragraph(block.spans, block.style)
        elif isinstance(block, BulletList):
            first = layout.cursor
            for item in block.items:
                layout.paragraph(item, NORMAL)
            layout.styles.append(
                {
                    "createParagraphBullets": {
                        "range": _range(first, layout.cursor),
                        "bulletPreset": BULLET_PRESET,
                    }
                }
            )
        else:
            layout.table(block)
        if last and layout.open_paragraph:
            # The last paragraph ends with the body's own final newline: no empty line after it.
            layout.pending[-1] = layout.pending[-1][:-1]
    layout.flush()
    return requests + layout.inserts + layout.styles


def body_end_index(document: dict[str, Any]) -> int:
    """The end index of a Docs resource's body (2 for a blank document)."""
    content = (document.get("body") or {}).get("content") or []
    return max((int(e.get("endIndex", 0)) for e in content), default=2) or 2


# ---------------------------------------------------------------- HTML
_HTML_TAGS = {TITLE: "h1", "HEADING_1": "h2", "HEADING_2": "h3", "HEADING_3": "h4", NORMAL: "p"}
_CSS = """
body { font: 15px/1.5 -apple-system, 'Segoe UI', Roboto, Arial, sans-serif; color: #202124;
       background: #f1f3f4; margin: 0; }
main { max-width: 820px; margin: 24px auto; background: #fff; padding: 48px 64px;
       box-shadow: 0 1px 3px rgba(0,0,0,.2); }
h1.title { font-size: 26px; margin-top: 0; }
h2 { font-size: 20px; margin-top: 32px; border-bottom: 1px solid #dadce0; }
h3 { font-size: 16px; margin-top: 20px; }
table { border-collapse: collapse; margin: 8px 0 16px; }
th, td { border: 1px solid #dadce0; padding: 4px 10px; text-align: left; vertical-align: top; }
th { background: #f8f9fa; }
.preview { font-size: 12px; color: #5f6368; text-align: center; }
"""


def _html_inline(spans: Inline) -> str:
    out = []
    for span in spans:
        piece = html.escape(span.text)
        if span.bold:
            piece = f"<strong>{piece}</strong>"
        if span.link:
            piece = f'<a href="{html.escape(span.link, quote=True)}">{piece}</a>'
        out.append(piece)
    return "".join(out)


def to_html(document: Document, note: str = "") -> str:
    """A standalone page that reads like the Doc (for review before anything is written)."""
    body: list[str] = []
    for block in document.blocks:
        if isinstance(block, Paragraph):
            tag = _HTML_TAGS.get(block.style, "p")
            css = ' class="title"' if block.style == TITLE else ""
            body.append(f"<{tag}{css}>{_html_inline(block.spans)}</{tag}>")
        elif isinstance(block, BulletList):
            items = "".join(f"<li>{_html_inline(i)}</li>" for i in block.items)
            body.append(f"<ul>{items}</ul>")
        elif block.rows:
            body.append(_html_table(block))
    banner = f'<p class="preview">{html.escape(note)}</p>\n' if note else ""
    return (
        '<!doctype html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n'
        f"<title>{html.escape(document.title)}</title>\n<style>{_CSS}</style>\n</head>\n"
        f"<body>\n{banner}<main>\n" + "\n".join(body) + "\n</main>\n</body>\n</html>\n"
    )


def _html_table(table: Table) -> str:
    rows = list(table.rows)
    head = ""
    if table.header:
        head = (
            "<thead><tr>"
            + "".join(f"<th>{_html_inline(c)}</th>" for c in rows[0])
            + "</tr></thead>"
        )
        rows = rows[1:]
    body = "".join(
        "<tr>" + "".join(f"<td>{_html_inline(c)}</td>" for c in row) + "</tr>" for row in rows
    )
    return f"<table>{head}<tbody>{body}</tbody></table>"


# ---------------------------------------------------------------- Markdown
_MD_PREFIX = {TITLE: "# ", "HEADING_1": "## ", "HEADING_2": "### ", "HEADING_3": "#### "}


_MD_SPECIAL = re.compile(r"([\\*_\[\]|`])")


def _md_text(text: str, line_start: bool) -> str:
    """Text escaped for Markdown (and for `parse_markup`): emphasis, links, pipes, a leading marker."""
    text = _MD_SPECIAL.sub(r"\\\1", text)
    if line_start and text and text[0] in "#->+":
        text = "\\" + text
    return text


def _md_inline(spans: Inline) -> str:
    out = []
    for n, span in enumerate(spans):
        piece = _md_text(span.text, n == 0)
        if span.link:
            target = span.link.replace("\\", "\\\\").replace(")", "\\)")
            piece = f"[{piece}]({target})"
        if span.bold:  # outside the link: parse_markup reads a link's label as plain text
            piece = f"**{piece}**"
        out.append(piece)
    return "".join(out)


def to_markdown(document: Document) -> str:
    """GitHub-flavoured Markdown of the document (also valid markup for `parse_markup`)."""
    parts: list[str] = []
    for block in document.blocks:
        if isinstance(block, Paragraph):
            parts.append(_MD_PREFIX.get(block.style, "") + _md_inline(block.spans))
        elif isinstance(block, BulletList):
            parts.append("\n".join(f"- {_md_inline(i)}" for i in block.items))
        elif block.rows:
            lines = ["| " + " | ".join(_md_inline(c) for c in row) + " |" for row in block.rows]
            if block.header:
                lines.insert(1, "|" + "---|" * block.columns)
            parts.append("\n".join(lines))
    return "\n\n".join(parts) + "\n"


__all__ = [
    "BulletList",
    "Document",
    "MarkupError",
    "Paragraph",
    "Span",
    "Table",
    "body_end_index",
    "clean",
    "docs_requests",
    "escape",
    "parse_markup",
    "to_html",
    "to_markdown",
    "u16",
]
