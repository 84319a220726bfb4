"""Pure HTML rendering for the viewer: Slack mrkdwn and Block Kit, Airtable values, sheet cells.

Every piece of text is escaped here and returned as `Markup`, so the templates can
insert it without a second thought. Slack text is shown as a person in Slack would see
it: `&lt;` decoded back to `<` (then escaped for HTML), real mentions and pings shown as
badges (an unescaped `<!channel>` from user text stands out), links clickable only for
http(s) and mailto.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from typing import Any

from markupsafe import Markup, escape

Lookup = Mapping[str, str]
_TOKEN = re.compile(r"<([^<>\n]+)>")
_SAFE_URL = re.compile(r"^(https?://|mailto:)", re.IGNORECASE)
_PINGS = {"channel", "here", "everyone"}


def slack_unescape(text: str) -> str:
    """Slack's three escapes back to characters, `&amp;` last so `&amp;lt;` stays `&lt;`."""
    return text.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")


def safe_href(url: str) -> str | None:
    """The URL if it is safe to link (http, https, mailto), else None."""
    return url if _SAFE_URL.match(url.strip()) else None


def _link(url: str, label: str) -> Markup:
    href = safe_href(url)
    if href is None:
        return Markup("{}").format(label or url)
    return Markup('<a href="{}" rel="noopener noreferrer">{}</a>').format(href, label or url)


def _token(inner: str, users: Lookup, channels: Lookup) -> Markup:
    target, _, label = inner.partition("|")
    if target.startswith("@"):
        name = users.get(target[1:], target[1:])
        return Markup('<span class="mention">@{}</span>').format(label or name)
    if target.startswith("#"):
        name = channels.get(target[1:], target[1:])
        return Markup('<span class="mention">#{}</span>').format(label or name)
    if target.startswith("!"):
        word = target[1:]
        if word in _PINGS:
            return Markup('<span class="mention ping" title="notifies everyone">@{}</span>').format(
                word
            )
        if word.startswith("subteam^"):
            return Markup('<span class="mention">@{}</span>').format(label or word[8:])
        return Markup('<span class="mention">{}</span>').format(label or word)
    url = slack_unescape(target)
    if safe_href(url) is None:  # not a token Slack renders: show it exactly as typed
        return escape(slack_unescape(f"<{inner}>"))
    return _link(url, slack_unescape(label))


# Slack's emphasis marks, applied to text that is already escaped (so no tag can sneak in).
_STYLES = [
    (re.compile(r"(?<![\w`])`([^`\n]+)`(?![\w`])"), "code"),
    (re.compile(r"(?<![\w*])\*(?=\S)([^*\n]+?)(?<=\S)\*(?![\w*])"), "strong"),
    (re.compile(r"(?<![\w_])_(?=\S)([^_\n]+?)(?<=\S)_(?![\w_])"), "em"),
    (re.compile(r"(?<![\w~])~(?=\S)([^~\n]+?)(?<=\S)~(?![\w~])"), "del"),
]


def _styled(text: str) -> Markup:
    html = str(escape(slack_unescape(text)))
    for pattern, tag in _STYLES:
        html = pattern.sub(rf"<{tag}>\1</{tag}>", html)
    return Markup(html)


def mrkdwn(text: str, users: Lookup | None = None, channels: Lookup | None = None) -> Markup:
    """Slack message text as HTML: mentions, links and emphasis rendered, everything else escaped."""
    users, channels = users or {}, channels or {}
    out: list[Markup] = []
    position = 0
    for match in _TOKEN.finditer(text):
        out.append(_styled(text[position : match.start()]))
        out.append(_token(match.group(1), users, channels))
        position = match.end()
    out.append(_styled(text[position:]))
    return Markup("").join(out)


def text_object(obj: Any, users: Lookup, channels: Lookup) -> Markup:
    """A Block Kit text object: mrkdwn rendered, plain_text shown as typed."""
    if not isinstance(obj, dict):
        return Markup("")
    text = str(obj.get("text", ""))
    if obj.get("type") == "mrkdwn":
        return mrkdwn(text, users, channels)
    return escape(text)


class BlockRenderer:
    """Turns a message's blocks into HTML, with the workspace's names for mentions."""

    def __init__(self, users: Lookup, channels: Lookup) -> None:
        self.users = users
        self.channels = channels
        self._blocks: dict[str, Callable[[dict[str, Any]], Markup]] = {
            "section": self.section,
            "header": self.header,
            "context": self.context,
            "actions": self.actions,
            "divider": lambda _: Markup('<hr class="divider">'),
            "image": self.image,
            "rich_text": self.rich_text,
            "input": self.input,
        }

    def text(self, obj: Any) -> Markup:
        return text_object(obj, self.users, self.channels)

    def blocks(self, blocks: list[Any]) -> Markup:
        return Markup("").join(self.block(b) for b in blocks if isinstance(b, dict))

    def block(self, block: dict[str, Any]) -> Markup:
        render = self._blocks.get(str(block.get("type")))
        if render is None:
            return Markup('<div class="block unknown">[{} block]</div>').format(block.get("type"))
        return render(block)

    def section(self, block: dict[str, Any]) -> Markup:
        parts = [Markup('<div class="section-text">{}</div>').format(self.text(block.get("text")))]
        fields = block.get("fields") or []
        if fields:
            cells = Markup("").join(
                Markup('<div class="field">{}</div>').format(self.text(f)) for f in fields
            )
            parts.append(Markup('<div class="fields">{}</div>').format(cells))
        accessory = block.get("accessory")
        if isinstance(accessory, dict):
            parts.append(Markup('<div class="accessory">{}</div>').format(self.element(accessory)))
        return Markup('<div class="block section">{}</div>').format(Markup("").join(parts))

    def header(self, block: dict[str, Any]) -> Markup:
        return Markup('<div class="block header">{}</div>').format(self.text(block.get("text")))

    def context(self, block: dict[str, Any]) -> Markup:
        pieces = []
        for element in block.get("elements") or []:
            if isinstance(element, dict) and element.get("type") == "image":
                pieces.append(Markup("[image: {}]").format(element.get("alt_text", "")))
            else:
                pieces.append(self.text(element))
        joined = Markup(" &middot; ").join(pieces)
        return Markup('<div class="block context">{}</div>').format(joined)

    def actions(self, block: dict[str, Any]) -> Markup:
        elements = Markup(" ").join(
            self.element(e) for e in block.get("elements") or [] if isinstance(e, dict)
        )
        return Markup('<div class="block actions">{}</div>').format(elements)

    def image(self, block: dict[str, Any]) -> Markup:
        return Markup('<div class="block image">[image: {}]</div>').format(
            block.get("alt_text", "")
        )

    def input(self, block: dict[str, Any]) -> Markup:
        label = self.text(block.get("label"))
        element = block.get("element") or {}
        return Markup('<div class="block input">{}: [{}]</div>').format(label, element.get("type"))

    def rich_text(self, block: dict[str, Any]) -> Markup:
        return Markup('<div class="block rich-text">{}</div>').format(
            self._rich(block.get("elements") or [])
        )

    def _rich(self, elements: list[Any]) -> Markup:
        out: list[Markup] = []
        for element in elements:
            if not isinstance(element, dict):
                continue
            kind = element.get("type")
            if kind == "text":
                out.append(escape(element.get("text", "")))
            elif kind == "link":
                out.append(_link(str(element.get("url", "")), str(element.get("text", ""))))
            elif kind == "user":
                name = self.users.get(element.get("user_id", ""), element.get("user_id", ""))
                out.append(Markup('<span class="mention">@{}</span>').format(name))
            elif kind == "broadcast":
                out.append(
                    Markup('<span class="mention ping">@{}</span>').format(element.get("range"))
                )
            elif kind == "emoji":
                out.append(Markup(":{}:").format(element.get("name", "")))
            elif "elements" in element:
                out.append(self._rich(element["elements"]))
                if kind in {"rich_text_section", "rich_text_preformatted", "rich_text_quote"}:
                    out.append(Markup("<br>"))
        return Markup("").join(out)

    def element(self, element: dict[str, Any]) -> Markup:
        """An interactive element as an inert control: people see it, nobody can press it."""
        kind = str(element.get("type", ""))
        if kind == "button":
            style = element.get("style") if element.get("style") in {"primary", "danger"} else ""
            url = safe_href(str(element.get("url", ""))) or ""
            return Markup(
                '<button type="button" class="button {}" disabled title="{}">{}</button>'
            ).format(style, url or element.get("action_id", ""), self.text(element.get("text")))
        if kind == "image":
            return Markup("[image: {}]").format(element.get("alt_text", ""))
        if kind == "overflow":
            return Markup('<button type="button" class="button" disabled>&hellip;</button>')
        if kind.endswith("_select"):
            placeholder = self.text(element.get("placeholder")) or kind
            return Markup("<select disabled><option>{}</option></select>").format(placeholder)
        return Markup('<span class="control">[{}]</span>').format(kind)


# ---------------------------------------------------------------- Airtable and Sheets values
def airtable_value(value: Any, link_names: Lookup) -> Markup:
    """A record's field value as a person reads it in the grid."""
    if value is None:
        return Markup("")
    if value is True:
        return Markup('<span class="check" title="checked">&#10003;</span>')
    if isinstance(value, list):
        items = [link_names.get(v, v) if isinstance(v, str) else v for v in value]
        return Markup("").join(Markup('<span class="chip">{}</span>').format(i) for i in items)
    if isinstance(value, dict):  # e.g. a button or attachment object: show its name
        return escape(value.get("label") or value.get("name") or value.get("url") or "")
    return escape(value)


def column_letter(index: int) -> str:
    """0 -> A, 25 -> Z, 26 -> AA."""
    letters = ""
    index += 1
    while index:
        index, rest = divmod(index - 1, 26)
        letters = chr(65 + rest) + letters
    return letters
