"""Jinja2 rendering of Slack messages: strict templates, mrkdwn escaping, Block Kit JSON that fails loudly.

Templates live in templates/ (Slack ones in templates/slack/). A `.txt.j2` template
renders mrkdwn text; a `.json.j2` template renders a Block Kit blocks array, which is
parsed and checked against Slack's limits here, so a broken template fails in tests
rather than as `invalid_blocks` in front of a partner. Every variable must be given
(StrictUndefined). Nothing is autoescaped: user text goes through `| mrkdwn`, and
every string placed in JSON through `| tojson`. Shared macros for blocks are in
templates/slack/_blocks.json.j2.
"""

from __future__ import annotations

import functools
import json
import re
from collections.abc import Iterable
from decimal import Decimal
from pathlib import Path
from typing import Any
from urllib.parse import quote

from jinja2 import ChoiceLoader, Environment, FileSystemLoader, StrictUndefined, select_autoescape

from coalition.privacy import escape_mrkdwn
from coalition.settings import PROJECT_ROOT

TEMPLATES_DIR = PROJECT_ROOT / "templates"

# Slack's documented Block Kit limits.
MAX_BLOCKS = 50
SECTION_TEXT_LIMIT = 3000
SECTION_FIELD_LIMIT = 2000
SECTION_MAX_FIELDS = 10
HEADER_TEXT_LIMIT = 150
CONTEXT_MAX_ELEMENTS = 10
ACTIONS_MAX_ELEMENTS = 25
BUTTON_TEXT_LIMIT = 75
BUTTON_VALUE_LIMIT = 2000
MESSAGE_TEXT_LIMIT = 40000
ELLIPSIS = "…"


class TemplateError(Exception):
    """A template rendered something Slack would refuse (invalid JSON, a block over its limit)."""


# ---------------------------------------------------------------- helpers (also filters)
def truncate(text: str, limit: int, more_url: str | None = None) -> str:
    """`text` cut to at most `limit` characters at a word boundary, ending "… more" (a link if given)."""
    if len(text) <= limit:
        return text
    suffix = f"{ELLIPSIS} <{_link_url(more_url)}|more>" if more_url else f"{ELLIPSIS} more"
    room = limit - len(suffix)
    if room <= 0:
        return text[:limit]
    cut = text[: room + 1]
    space = max(cut.rfind(" "), cut.rfind("\n"), cut.rfind("\t"))
    # Prefer a word boundary unless that throws away more than half of the room.
    cut = cut[:space] if space > room // 2 else cut[:room]
    cut = _without_broken_markup(cut)
    return cut.rstrip() + suffix


def _without_broken_markup(text: str) -> str:
    """Drop a trailing half of a <link|label> or an &amp; entity that the cut split."""
    opened = text.rfind("<")
    if opened > text.rfind(">"):
        text = text[:opened]
    amp = text.rfind("&")
    if amp > text.rfind(";") and len(text) - amp <= 5:
        text = text[:amp]
    return text


def _link_url(url: str) -> str:
    # Inside <url|label> a raw >, | or space would end the URL early.
    return quote(url, safe=":/?#[]@!$&'()*+,;=%~-._")


def slack_link(url: str, label: str | None = None) -> str:
    """A mrkdwn link <url|label>, the label escaped."""
    if label is None:
        return f"<{_link_url(url)}>"
    return f"<{_link_url(url)}|{escape_mrkdwn(label)}>"


def to_json(value: Any) -> str:
    """JSON text for embedding a value (usually a string) in a Block Kit template."""
    return json.dumps(value, ensure_ascii=False, default=str)


def mrkdwn(value: Any) -> str:
    """User text made inert for mrkdwn: &, <, > escaped."""
    return escape_mrkdwn(str(value))


def money(value: Any, cents: bool = False) -> str:
    """$12,345 (or $12,345.67 with cents)."""
    amount = Decimal(str(value))
    sign = "-" if amount < 0 else ""
    return f"{sign}${abs(amount):,.2f}" if cents else f"{sign}${abs(amount):,.0f}"


def number(value: Any) -> str:
    """1,234 (thousands separated)."""
    return f"{value:,}"


def plural(count: int, singular: str, plural_form: str | None = None) -> str:
    """'1 referral', '3 referrals' (or the plural form given)."""
    word = singular if count == 1 else (plural_form or singular + "s")
    return f"{count:,} {word}"


# ---------------------------------------------------------------- environment
def make_environment(*directories: Path | str) -> Environment:
    """A strict environment over the given folders (default: templates/), first match wins."""
    folders = [Path(d) for d in directories] or [TEMPLATES_DIR]
    env = Environment(
        loader=ChoiceLoader([FileSystemLoader(str(folder)) for folder in folders]),
        undefined=StrictUndefined,
        # Slack text and Block Kit JSON are not HTML: escaping is explicit (| mrkdwn, | tojson).
        autoescape=select_autoescape(["html", "xml"], default_for_string=False, default=False),
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=False,
    )
    env.filters.update(
        mrkdwn=mrkdwn,
        tojson=to_json,
        clip=truncate,
        link=slack_link,
        money=money,
        number=number,
        plural=plural,
    )
    env.globals.update(
        link=slack_link,
        SECTION_TEXT_LIMIT=SECTION_TEXT_LIMIT,
        HEADER_TEXT_LIMIT=HEADER_TEXT_LIMIT,
        SECTION_FIELD_LIMIT=SECTION_FIELD_LIMIT,
    )
    return env


@functools.cache
def environment() -> Environment:
    """The process-wide environment over templates/."""
    return make_environment()


class Templates:
    """Renders text and Block Kit templates from one environment."""

    def __init__(self, env: Environment | None = None) -> None:
        self.env = env or environment()

    def render_text(self, name: str, **ctx: Any) -> str:
        return self.env.get_template(name).render(**ctx).strip()

    def render_blocks(self, name: str, **ctx: Any) -> list[dict[str, Any]]:
        rendered = self.env.get_template(name).render(**ctx)
        try:
            blocks = json.loads(rendered)
        except json.JSONDecodeError as exc:
            # Line and column only: the rendered text may carry values we must not log.
            raise TemplateError(
                f"{name}: rendered invalid JSON at line {exc.lineno}, column {exc.colno}: {exc.msg}"
            ) from None
        return validate_blocks(blocks, name)

    def render_message(self, name: str, **ctx: Any) -> tuple[str, list[dict[str, Any]]]:
        """(text, blocks) from `x.json.j2`; the text from `x.txt.j2` if it exists, else from the blocks."""
        blocks = self.render_blocks(name, **ctx)
        text_name = name.removesuffix(".json.j2") + ".txt.j2"
        if text_name != name and text_name in self.env.list_templates():
            return self.render_text(text_name, **ctx), blocks
        return fallback_text(blocks), blocks


def render_message(name: str, **ctx: Any) -> tuple[str, list[dict[str, Any]]]:
    """A Slack message's notification text and blocks from one Block Kit template (and its .txt.j2)."""
    return Templates().render_message(name, **ctx)


def render_text(name: str, **ctx: Any) -> str:
    """Render a mrkdwn text template from templates/ (a missing variable raises)."""
    return Templates().render_text(name, **ctx)


def render_blocks(name: str, **ctx: Any) -> list[dict[str, Any]]:
    """Render a Block Kit template to its blocks array; invalid JSON or a broken limit raises TemplateError."""
    return Templates().render_blocks(name, **ctx)


# ---------------------------------------------------------------- Block Kit limits
def _text_of(obj: Any) -> str:
    return obj.get("text", "") if isinstance(obj, dict) else ""


def _check_block(block: dict[str, Any], where: str) -> Iterable[str]:
    kind = block.get("type")
    if not isinstance(kind, str):
        yield f"{where} has no type"
        return
    if kind == "header" and len(_text_of(block.get("text"))) > HEADER_TEXT_LIMIT:
        yield f"{where} header text is over {HEADER_TEXT_LIMIT} characters"
    if kind == "section":
        if len(_text_of(block.get("text"))) > SECTION_TEXT_LIMIT:
            yield f"{where} section text is over {SECTION_TEXT_LIMIT} characters"
        fields = block.get("fields") or []
        if len(fields) > SECTION_MAX_FIELDS:
            yield f"{where} has more than {SECTION_MAX_FIELDS} fields"
        for i, field in enumerate(fields):
            if len(_text_of(field)) > SECTION_FIELD_LIMIT:
                yield f"{where}.fields[{i}] is over {SECTION_FIELD_LIMIT} characters"
        if "text" not in block and not fields:
            yield f"{where} section needs text or fields"
    if kind == "context" and len(block.get("elements") or []) > CONTEXT_MAX_ELEMENTS:
        yield f"{where} context has more than {CONTEXT_MAX_ELEMENTS} elements"
    if kind == "actions":
        elements = block.get("elements") or []
        if len(elements) > ACTIONS_MAX_ELEMENTS:
            yield f"{where} actions has more than {ACTIONS_MAX_ELEMENTS} elements"
        for i, element in enumerate(elements):
            if element.get("type") == "button":
                if len(_text_of(element.get("text"))) > BUTTON_TEXT_LIMIT:
                    yield f"{where}.elements[{i}] button text is over {BUTTON_TEXT_LIMIT} characters"
                if len(str(element.get("value", ""))) > BUTTON_VALUE_LIMIT:
                    yield f"{where}.elements[{i}] button value is over {BUTTON_VALUE_LIMIT} characters"


def validate_blocks(blocks: Any, name: str = "blocks") -> list[dict[str, Any]]:
    """The blocks, if they are a Block Kit array within Slack's limits; TemplateError says what is wrong."""
    if not isinstance(blocks, list):
        raise TemplateError(f"{name}: expected a JSON array of blocks, got {type(blocks).__name__}")
    problems: list[str] = []
    if len(blocks) > MAX_BLOCKS:
        problems.append(f"{len(blocks)} blocks (Slack allows {MAX_BLOCKS})")
    for index, block in enumerate(blocks):
        if not isinstance(block, dict):
            problems.append(f"blocks[{index}] is not an object")
            continue
        problems.extend(_check_block(block, f"blocks[{index}]"))
    if problems:
        raise TemplateError(f"{name}: " + "; ".join(problems))
    return blocks


_SPACES = re.compile(r"[ \t]+\n")


def fallback_text(blocks: list[dict[str, Any]], limit: int = 3000) -> str:
    """Plain notification text from blocks (header and section texts), for `text` beside `blocks`."""
    # Every text in our blocks, headers included, is escaped once where the message is
    # built (templates' `| mrkdwn`, coalition.alerts.campaigns); escaping a header again
    # here showed a title "a <!here> b" as "a &amp;lt;!here&amp;gt; b".
    parts = [
        _text_of(block.get("text"))
        for block in blocks
        if block.get("type") in {"header", "section"} and _text_of(block.get("text"))
    ]
    return truncate(_SPACES.sub("\n", "\n".join(parts)).strip(), limit)


__all__ = [
    "HEADER_TEXT_LIMIT",
    "MAX_BLOCKS",
    "SECTION_TEXT_LIMIT",
    "TemplateError",
    "Templates",
    "environment",
    "fallback_text",
    "make_environment",
    "render_blocks",
    "render_message",
    "render_text",
    "slack_link",
    "truncate",
    "validate_blocks",
]
