"""What a document looks like from outside: the Docs API's JSON resource and a small safe HTML page."""

from __future__ import annotations

import copy
import html
from typing import Any
from urllib.parse import urlsplit

from sandbox.docs.document import Cell, Element, Indexer, Paragraph, Table, Unit, parse

PT = "PT"
NAMED_STYLE_TYPES = (
    "NORMAL_TEXT",
    "TITLE",
    "SUBTITLE",
    "HEADING_1",
    "HEADING_2",
    "HEADING_3",
    "HEADING_4",
    "HEADING_5",
    "HEADING_6",
)
_FONT_SIZES = {"NORMAL_TEXT": 11, "TITLE": 26, "SUBTITLE": 15, "HEADING_1": 20, "HEADING_2": 16}
_FONT_SIZES |= {"HEADING_3": 14, "HEADING_4": 12, "HEADING_5": 11, "HEADING_6": 11}

# Glyphs per nesting level (the cycle repeats) of each preset, as the Docs editor draws them.
BULLET_GLYPHS = {
    "BULLET_DISC_CIRCLE_SQUARE": ("●", "○", "■"),
    "BULLET_DIAMONDX_ARROW3D_SQUARE": ("❖", "➢", "■"),
    "BULLET_CHECKBOX": ("☐", "☐", "☐"),
    "BULLET_ARROW_DIAMOND_DISC": ("➔", "◆", "●"),
    "BULLET_STAR_CIRCLE_SQUARE": ("★", "○", "■"),
    "BULLET_ARROW3D_CIRCLE_SQUARE": ("➢", "○", "■"),
    "BULLET_LEFTTRIANGLE_DIAMOND_DISC": ("►", "◆", "●"),
    "BULLET_DIAMONDX_HOLLOWDIAMOND_SQUARE": ("❖", "◇", "■"),
    "BULLET_DIAMOND_CIRCLE_SQUARE": ("◆", "○", "■"),
}
NUMBERED_GLYPHS = {
    "NUMBERED_DECIMAL_ALPHA_ROMAN": (("DECIMAL", "ALPHA", "ROMAN"), "%{n}."),
    "NUMBERED_DECIMAL_ALPHA_ROMAN_PARENS": (("DECIMAL", "ALPHA", "ROMAN"), "%{n})"),
    "NUMBERED_DECIMAL_NESTED": (("DECIMAL", "DECIMAL", "DECIMAL"), "nested"),
    "NUMBERED_UPPERALPHA_ALPHA_ROMAN": (("UPPER_ALPHA", "ALPHA", "ROMAN"), "%{n}."),
    "NUMBERED_UPPERROMAN_UPPERALPHA_DECIMAL": (("UPPER_ROMAN", "UPPER_ALPHA", "DECIMAL"), "%{n}."),
    "NUMBERED_ZERODECIMAL_ALPHA_ROMAN": (("ZERO_DECIMAL", "ALPHA", "ROMAN"), "%{n}."),
}
BULLET_PRESETS = (*BULLET_GLYPHS, *NUMBERED_GLYPHS)
NESTING_LEVELS = 9


def _pt(magnitude: float) -> dict[str, Any]:
    return {"magnitude": magnitude, "unit": PT}


# ------------------------------------------------------------------ JSON resource
SECTION_BREAK = {
    "endIndex": 1,
    "sectionBreak": {
        "sectionStyle": {
            "columnSeparatorStyle": "NONE",
            "contentDirection": "LEFT_TO_RIGHT",
            "sectionType": "CONTINUOUS",
        }
    },
}
DOCUMENT_STYLE = {
    "background": {"color": {}},
    "pageNumberStart": 1,
    "marginTop": _pt(72),
    "marginBottom": _pt(72),
    "marginRight": _pt(72),
    "marginLeft": _pt(72),
    "pageSize": {"height": _pt(792), "width": _pt(612)},
    "marginHeader": _pt(36),
    "marginFooter": _pt(36),
    "useCustomHeaderFooterMargins": True,
}


def named_styles() -> dict[str, Any]:
    return {
        "styles": [
            {
                "namedStyleType": name,
                "textStyle": {"fontSize": _pt(size)},
                "paragraphStyle": {"namedStyleType": name, "direction": "LEFT_TO_RIGHT"},
            }
            for name, size in _FONT_SIZES.items()
        ]
    }


def body_content(units: list[Unit]) -> list[dict[str, Any]]:
    indexer = Indexer(units)
    return [copy.deepcopy(SECTION_BREAK)] + [
        _element(units, indexer, element) for element in parse(units)
    ]


def lists_json(units: list[Unit], lists: dict[str, dict[str, Any]]) -> dict[str, Any]:
    """The `lists` map, for the lists some paragraph still uses."""
    used = {u.bullet["listId"] for u in units if u.bullet}
    return {
        list_id: {"listProperties": {"nestingLevels": nesting_levels(spec["preset"])}}
        for list_id, spec in lists.items()
        if list_id in used
    }


def nesting_levels(preset: str) -> list[dict[str, Any]]:
    levels = []
    for level in range(NESTING_LEVELS):
        entry: dict[str, Any] = {
            "bulletAlignment": "START",
            "indentFirstLine": _pt(18 + 36 * level),
            "indentStart": _pt(36 + 36 * level),
            "textStyle": {"underline": False},
            "startNumber": 1,
        }
        if preset in BULLET_GLYPHS:
            entry["glyphSymbol"] = BULLET_GLYPHS[preset][level % 3]
            entry["glyphFormat"] = f"%{level}"
        else:
            types, pattern = NUMBERED_GLYPHS[preset]
            entry["glyphType"] = types[level % 3]
            entry["glyphFormat"] = (
                "".join(f"%{n}." for n in range(level + 1))
                if pattern == "nested"
                else pattern.format(n=level)
            )
        levels.append(entry)
    return levels


def _element(units: list[Unit], ix: Indexer, element: Element) -> dict[str, Any]:
    if isinstance(element, Paragraph):
        return _paragraph(units, ix, element)
    return _table(units, ix, element)


def _paragraph(units: list[Unit], ix: Indexer, p: Paragraph) -> dict[str, Any]:
    closing = units[p.end - 1]
    style = copy.deepcopy(closing.para or {})
    body: dict[str, Any] = {"elements": _text_runs(units, ix, p), "paragraphStyle": style}
    if closing.bullet:
        level = closing.bullet.get("nestingLevel", 0)
        style.setdefault("indentFirstLine", _pt(18 + 36 * level))
        style.setdefault("indentStart", _pt(36 + 36 * level))
        bullet: dict[str, Any] = {"listId": closing.bullet["listId"], "textStyle": {}}
        if level:
            bullet["nestingLevel"] = level
        body["bullet"] = bullet
    return {"startIndex": ix.index(p.start), "endIndex": ix.index(p.end), "paragraph": body}


def _text_runs(units: list[Unit], ix: Indexer, p: Paragraph) -> list[dict[str, Any]]:
    runs: list[dict[str, Any]] = []
    run_start = p.start
    for k in range(p.start + 1, p.end + 1):
        if k < p.end and units[k].style == units[run_start].style:
            continue
        runs.append(
            {
                "startIndex": ix.index(run_start),
                "endIndex": ix.index(k),
                "textRun": {
                    "content": "".join(u.text for u in units[run_start:k]),
                    "textStyle": copy.deepcopy(units[run_start].style),
                },
            }
        )
        run_start = k
    return runs


def _table(units: list[Unit], ix: Indexer, t: Table) -> dict[str, Any]:
    columns = len(t.rows[0].cells)
    rows = []
    for row in t.rows:
        cells = [_cell(units, ix, cell) for cell in row.cells]
        rows.append(
            {
                "startIndex": ix.index(row.start),
                "endIndex": ix.index(row.end),
                "tableCells": cells,
                "tableRowStyle": {"minRowHeight": {"unit": PT}},
            }
        )
    return {
        "startIndex": ix.index(t.start),
        "endIndex": ix.index(t.end),
        "table": {
            "rows": len(t.rows),
            "columns": columns,
            "tableRows": rows,
            "tableStyle": {
                "tableColumnProperties": [{"widthType": "EVENLY_DISTRIBUTED"}] * columns
            },
        },
    }


def _cell(units: list[Unit], ix: Indexer, cell: Cell) -> dict[str, Any]:
    padding = _pt(5)
    return {
        "startIndex": ix.index(cell.start),
        "endIndex": ix.index(cell.end),
        "content": [_element(units, ix, e) for e in cell.content],
        "tableCellStyle": {
            "rowSpan": 1,
            "columnSpan": 1,
            "backgroundColor": {},
            "paddingLeft": padding,
            "paddingRight": padding,
            "paddingTop": padding,
            "paddingBottom": padding,
            "contentAlignment": "TOP",
        },
    }


# ------------------------------------------------------------------ HTML
_HEADING_TAGS = {f"HEADING_{n}": f"h{n}" for n in range(1, 7)} | {"TITLE": "h1"}
_SAFE_SCHEMES = {"http", "https", "mailto"}


def render_html(units: list[Unit], lists: dict[str, dict[str, Any]]) -> str:
    """Headings, paragraphs, lists, tables, bold/italic and links; every piece of text escaped."""
    return _html_elements(units, parse(units), lists)


def _html_elements(units: list[Unit], elements: list[Element], lists: dict[str, Any]) -> str:
    out: list[str] = []
    # One entry per open nesting level: [list id, tag, whether its last <li> is still open].
    stack: list[list[Any]] = []

    def close_to(depth: int) -> None:
        while len(stack) > depth:
            _, tag, li_open = stack.pop()
            out[-1] += ("</li>" if li_open else "") + f"</{tag}>"

    for element in elements:
        bullet = units[element.end - 1].bullet if isinstance(element, Paragraph) else None
        if not bullet:
            close_to(0)
            out.append(
                _html_paragraph(units, element)
                if isinstance(element, Paragraph)
                else _html_table(units, element, lists)
            )
            continue
        list_id, level = bullet["listId"], bullet.get("nestingLevel", 0)
        if stack and stack[0][0] != list_id:
            close_to(0)
        close_to(level + 1)
        if len(stack) == level + 1 and stack[-1][2]:
            out[-1] += "</li>"
            stack[-1][2] = False
        tag = "ol" if lists.get(list_id, {}).get("preset", "").startswith("NUMBERED") else "ul"
        while len(stack) < level + 1:
            if stack and not stack[-1][2]:
                out.append("<li>")
                stack[-1][2] = True
            out.append(f"<{tag}>")
            stack.append([list_id, tag, False])
        out.append(f"<li>{_html_inline(units, element)}")
        stack[-1][2] = True
    close_to(0)
    return "\n".join(out)


def _html_paragraph(units: list[Unit], p: Paragraph) -> str:
    style = (units[p.end - 1].para or {}).get("namedStyleType", "NORMAL_TEXT")
    tag = _HEADING_TAGS.get(style, "p")
    css = (
        ' class="subtitle"' if style == "SUBTITLE" else ' class="title"' if style == "TITLE" else ""
    )
    return f"<{tag}{css}>{_html_inline(units, p)}</{tag}>"


def _html_inline(units: list[Unit], p: Paragraph) -> str:
    pieces: list[str] = []
    k = p.start
    while k < p.end - 1:
        style = units[k].style
        end = k
        while end < p.end - 1 and units[end].style == style:
            end += 1
        text = "".join(u.text for u in units[k:end])
        pieces.append(_styled(html.escape(text).replace("\x0b", "<br>"), style))
        k = end
    return "".join(pieces)


def _styled(text: str, style: dict[str, Any]) -> str:
    if style.get("bold"):
        text = f"<strong>{text}</strong>"
    if style.get("italic"):
        text = f"<em>{text}</em>"
    url = (style.get("link") or {}).get("url")
    if url and urlsplit(url).scheme.lower() in _SAFE_SCHEMES:
        text = f'<a href="{html.escape(url, quote=True)}" rel="noopener noreferrer">{text}</a>'
    return text


def _html_table(units: list[Unit], t: Table, lists: dict[str, Any]) -> str:
    rows = []
    for row in t.rows:
        cells = "".join(f"<td>{_html_elements(units, c.content, lists)}</td>" for c in row.cells)
        rows.append(f"<tr>{cells}</tr>")
    return "<table>" + "".join(rows) + "</table>"
