"""Block Kit validation as Slack does it: known types, documented limits, json-pointer error messages.

Pure functions over dicts; the routes turn a non-empty error list into `invalid_blocks`
(messages) or `invalid_arguments` (views), with each error as Slack words it:
"must be less than 3001 characters [json-pointer:/blocks/0/text/text]".

Not implemented: the `file`, `video`, `markdown` and `call` blocks (rejected as
unsupported), `workflow_button`, `slack_file` image sources, the inner structure of
rich_text elements beyond their types, `dispatch_action_config`, the combined
character budget behind `msg_blocks_too_long`, and surface-specific element rules
(e.g. which elements Slack allows in a Home tab).
"""

from __future__ import annotations

import re
from typing import Any

MESSAGE_MAX_BLOCKS = 50
VIEW_MAX_BLOCKS = 100

BLOCK_TYPES = frozenset(
    {"section", "header", "divider", "context", "actions", "image", "input", "rich_text"}
)
SELECT_TYPES = frozenset(
    {
        f"{prefix}{kind}_select"
        for prefix in ("", "multi_")
        for kind in ("static", "external", "users", "conversations", "channels")
    }
)
ACTIONS_ELEMENTS = SELECT_TYPES | {
    "button",
    "checkboxes",
    "datepicker",
    "datetimepicker",
    "overflow",
    "radio_buttons",
    "timepicker",
}
SECTION_ACCESSORIES = (ACTIONS_ELEMENTS - {"datetimepicker"}) | {"image"}
INPUT_ELEMENTS = SELECT_TYPES | {
    "checkboxes",
    "datepicker",
    "datetimepicker",
    "email_text_input",
    "file_input",
    "number_input",
    "plain_text_input",
    "radio_buttons",
    "rich_text_input",
    "timepicker",
    "url_text_input",
}
RICH_TEXT_ELEMENTS = frozenset(
    {"rich_text_section", "rich_text_list", "rich_text_preformatted", "rich_text_quote"}
)
_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_TIME = re.compile(r"^\d{2}:\d{2}$")


class _Errors:
    """Collects Slack-worded errors, each pointing at the offending JSON."""

    def __init__(self) -> None:
        self.items: list[str] = []

    def add(self, pointer: str, message: str) -> None:
        self.items.append(f"{message} [json-pointer:{pointer}]")


def validate_blocks(
    blocks: Any, *, surface: str = "message", pointer: str = "/blocks"
) -> list[str]:
    """Every reason Slack would refuse these blocks; empty when they are valid."""
    errors = _Errors()
    limit = MESSAGE_MAX_BLOCKS if surface == "message" else VIEW_MAX_BLOCKS
    if not isinstance(blocks, list):
        errors.add(pointer, "must provide an array")
        return errors.items
    if len(blocks) > limit:
        errors.add(pointer, f"no more than {limit} items allowed")
    seen: set[str] = set()
    for index, block in enumerate(blocks):
        _block(errors, block, f"{pointer}/{index}", seen)
    return errors.items


def validate_view(view: Any, *, types: tuple[str, ...] = ("modal",)) -> list[str]:
    """Every reason Slack would refuse this view (modal limits: title 24, 100 blocks...)."""
    errors = _Errors()
    if not isinstance(view, dict):
        errors.add("/view", "must provide an object")
        return errors.items
    if view.get("type") not in types:
        errors.add("/view/type", f"must be one of {', '.join(types)}")
        return errors.items
    if view["type"] == "modal":
        _text(errors, view.get("title"), "/view/title", 24, plain=True)
        for key in ("submit", "close"):
            _text(errors, view.get(key), f"/view/{key}", 24, plain=True, required=False)
    _string(errors, view.get("private_metadata"), "/view/private_metadata", 3000)
    _string(errors, view.get("callback_id"), "/view/callback_id", 255)
    _string(errors, view.get("external_id"), "/view/external_id", 255)
    blocks = view.get("blocks")
    errors.items.extend(validate_blocks(blocks, surface="view", pointer="/view/blocks"))
    has_input = isinstance(blocks, list) and any(
        isinstance(b, dict) and b.get("type") == "input" for b in blocks
    )
    if view["type"] == "modal" and has_input and not view.get("submit"):
        errors.add("/view/submit", "must provide submit when an input block is present")
    return errors.items


# ------------------------------------------------------------------ blocks
def _block(errors: _Errors, block: Any, ptr: str, seen: set[str]) -> None:
    if not isinstance(block, dict):
        errors.add(ptr, "must provide an object")
        return
    kind = block.get("type")
    if kind not in BLOCK_TYPES:
        errors.add(f"{ptr}/type", f"unsupported type: {kind}")
        return
    block_id = block.get("block_id")
    if block_id is not None:
        _string(errors, block_id, f"{ptr}/block_id", 255, min_len=1)
        if isinstance(block_id, str):
            if block_id in seen:
                errors.add(f"{ptr}/block_id", f"duplicate block_id: {block_id}")
            seen.add(block_id)
    _BLOCK_CHECKS[kind](errors, block, ptr)


def _section(errors: _Errors, block: dict, ptr: str) -> None:
    text, fields = block.get("text"), block.get("fields")
    if text is None and fields is None:
        errors.add(ptr, "must provide either text or fields")
    if text is not None:
        _text(errors, text, f"{ptr}/text", 3000)
    if fields is not None and _array(errors, fields, f"{ptr}/fields", 10):
        for i, field in enumerate(fields):
            _text(errors, field, f"{ptr}/fields/{i}", 2000)
    if block.get("accessory") is not None:
        _element(errors, block["accessory"], f"{ptr}/accessory", SECTION_ACCESSORIES)


def _header(errors: _Errors, block: dict, ptr: str) -> None:
    _text(errors, block.get("text"), f"{ptr}/text", 150, plain=True)


def _divider(errors: _Errors, block: dict, ptr: str) -> None:
    return None


def _context(errors: _Errors, block: dict, ptr: str) -> None:
    elements = block.get("elements")
    if not _array(errors, elements, f"{ptr}/elements", 10, min_items=1):
        return
    for i, element in enumerate(elements):
        where = f"{ptr}/elements/{i}"
        if isinstance(element, dict) and element.get("type") == "image":
            _image_element(errors, element, where)
        else:
            _text(errors, element, where, 3000)


def _actions(errors: _Errors, block: dict, ptr: str) -> None:
    elements = block.get("elements")
    if not _array(errors, elements, f"{ptr}/elements", 25, min_items=1):
        return
    for i, element in enumerate(elements):
        _element(errors, element, f"{ptr}/elements/{i}", ACTIONS_ELEMENTS)


def _image_block(errors: _Errors, block: dict, ptr: str) -> None:
    _string(errors, block.get("image_url"), f"{ptr}/image_url", 3000, required=True, min_len=1)
    _string(errors, block.get("alt_text"), f"{ptr}/alt_text", 2000, required=True, min_len=1)
    _text(errors, block.get("title"), f"{ptr}/title", 2000, plain=True, required=False)


def _input(errors: _Errors, block: dict, ptr: str) -> None:
    _text(errors, block.get("label"), f"{ptr}/label", 2000, plain=True)
    _text(errors, block.get("hint"), f"{ptr}/hint", 2000, plain=True, required=False)
    if block.get("element") is None:
        errors.add(f"{ptr}/element", "must provide an object")
    else:
        _element(errors, block["element"], f"{ptr}/element", INPUT_ELEMENTS)
    for flag in ("optional", "dispatch_action"):
        if flag in block and not isinstance(block[flag], bool):
            errors.add(f"{ptr}/{flag}", "must be a boolean")


def _rich_text(errors: _Errors, block: dict, ptr: str) -> None:
    elements = block.get("elements")
    if not _array(errors, elements, f"{ptr}/elements", 1000):
        return
    for i, element in enumerate(elements):
        if not isinstance(element, dict) or element.get("type") not in RICH_TEXT_ELEMENTS:
            errors.add(f"{ptr}/elements/{i}", "must be a rich text element")


_BLOCK_CHECKS = {
    "section": _section,
    "header": _header,
    "divider": _divider,
    "context": _context,
    "actions": _actions,
    "image": _image_block,
    "input": _input,
    "rich_text": _rich_text,
}


# ------------------------------------------------------------------ elements
def _element(errors: _Errors, element: Any, ptr: str, allowed: frozenset[str] | set[str]) -> None:
    if not isinstance(element, dict):
        errors.add(ptr, "must provide an object")
        return
    kind = element.get("type")
    if kind not in allowed:
        errors.add(f"{ptr}/type", f"unsupported type: {kind}")
        return
    _string(errors, element.get("action_id"), f"{ptr}/action_id", 255, min_len=1)
    if element.get("confirm") is not None:
        _confirm(errors, element["confirm"], f"{ptr}/confirm")
    if kind == "image":
        _image_element(errors, element, ptr)
    elif kind == "button":
        _button(errors, element, ptr)
    elif kind in SELECT_TYPES:
        _select(errors, element, ptr)
    elif kind in {"overflow", "checkboxes", "radio_buttons"}:
        most = 5 if kind == "overflow" else 10
        _options(errors, element.get("options"), f"{ptr}/options", most, required=True)
    elif kind == "datepicker":
        _pattern(errors, element.get("initial_date"), f"{ptr}/initial_date", _DATE, "YYYY-MM-DD")
    elif kind == "timepicker":
        _pattern(errors, element.get("initial_time"), f"{ptr}/initial_time", _TIME, "HH:mm")
    elif kind == "plain_text_input":
        _plain_text_input(errors, element, ptr)
    if kind != "button" and "placeholder" in element:
        _text(errors, element.get("placeholder"), f"{ptr}/placeholder", 150, plain=True)


def _button(errors: _Errors, element: dict, ptr: str) -> None:
    _text(errors, element.get("text"), f"{ptr}/text", 75, plain=True)
    _string(errors, element.get("url"), f"{ptr}/url", 3000, min_len=1)
    _string(errors, element.get("value"), f"{ptr}/value", 2000)
    _string(errors, element.get("accessibility_label"), f"{ptr}/accessibility_label", 75)
    style = element.get("style")
    if style is not None and style not in {"primary", "danger"}:
        errors.add(f"{ptr}/style", "must be one of primary, danger")


def _select(errors: _Errors, element: dict, ptr: str) -> None:
    if not element["type"].endswith("static_select"):
        return
    if element.get("option_groups") is not None:
        groups = element["option_groups"]
        if _array(errors, groups, f"{ptr}/option_groups", 100, min_items=1):
            for i, group in enumerate(groups):
                where = f"{ptr}/option_groups/{i}"
                group = group if isinstance(group, dict) else {}
                _text(errors, group.get("label"), f"{where}/label", 75, plain=True)
                _options(errors, group.get("options"), f"{where}/options", 100, required=True)
        return
    _options(errors, element.get("options"), f"{ptr}/options", 100, required=True)


def _plain_text_input(errors: _Errors, element: dict, ptr: str) -> None:
    for key, low in (("min_length", 0), ("max_length", 1)):
        value = element.get(key)
        if value is not None and (not isinstance(value, int) or not low <= value <= 3000):
            errors.add(f"{ptr}/{key}", f"must be an integer from {low} to 3000")
    _string(errors, element.get("initial_value"), f"{ptr}/initial_value", 3000)


def _image_element(errors: _Errors, element: dict, ptr: str) -> None:
    _string(errors, element.get("image_url"), f"{ptr}/image_url", 3000, required=True, min_len=1)
    _string(errors, element.get("alt_text"), f"{ptr}/alt_text", 2000, required=True, min_len=1)


def _options(errors: _Errors, options: Any, ptr: str, most: int, *, required: bool) -> None:
    if options is None and not required:
        return
    if not _array(errors, options, ptr, most, min_items=1):
        return
    for i, option in enumerate(options):
        where = f"{ptr}/{i}"
        if not isinstance(option, dict):
            errors.add(where, "must provide an object")
            continue
        _text(errors, option.get("text"), f"{where}/text", 75)
        _string(errors, option.get("value"), f"{where}/value", 150, required=True, min_len=1)
        _text(errors, option.get("description"), f"{where}/description", 75, required=False)
        _string(errors, option.get("url"), f"{where}/url", 3000, min_len=1)


def _confirm(errors: _Errors, confirm: Any, ptr: str) -> None:
    if not isinstance(confirm, dict):
        errors.add(ptr, "must provide an object")
        return
    _text(errors, confirm.get("title"), f"{ptr}/title", 100, plain=True)
    _text(errors, confirm.get("text"), f"{ptr}/text", 300)
    _text(errors, confirm.get("confirm"), f"{ptr}/confirm", 30, plain=True)
    _text(errors, confirm.get("deny"), f"{ptr}/deny", 30, plain=True)


# ------------------------------------------------------------------ primitives
def _text(
    errors: _Errors,
    value: Any,
    ptr: str,
    most: int,
    *,
    plain: bool = False,
    required: bool = True,
) -> None:
    """A composition text object: plain_text (or mrkdwn where allowed), 1..most characters."""
    if value is None:
        if required:
            errors.add(ptr, "must provide an object")
        return
    if not isinstance(value, dict):
        errors.add(ptr, "must provide an object")
        return
    allowed = ("plain_text",) if plain else ("plain_text", "mrkdwn")
    if value.get("type") not in allowed:
        errors.add(f"{ptr}/type", f"must be one of {', '.join(allowed)}")
    _string(errors, value.get("text"), f"{ptr}/text", most, required=True, min_len=1)


def _string(
    errors: _Errors,
    value: Any,
    ptr: str,
    most: int,
    *,
    required: bool = False,
    min_len: int = 0,
) -> None:
    if value is None:
        if required:
            errors.add(ptr, "must provide a string")
        return
    if not isinstance(value, str):
        errors.add(ptr, "must provide a string")
    elif len(value) > most:
        errors.add(ptr, f"must be less than {most + 1} characters")
    elif len(value) < min_len:
        errors.add(ptr, f"must be more than {min_len - 1} characters")


def _array(errors: _Errors, value: Any, ptr: str, most: int, *, min_items: int = 0) -> bool:
    """Check an array's size; False when it is no array at all (nothing further to check)."""
    if not isinstance(value, list):
        errors.add(ptr, "must provide an array")
        return False
    if len(value) > most:
        errors.add(ptr, f"no more than {most} items allowed")
    if len(value) < min_items:
        errors.add(ptr, f"must provide at least {min_items} items")
    return True


def _pattern(errors: _Errors, value: Any, ptr: str, pattern: re.Pattern[str], shape: str) -> None:
    if value is not None and (not isinstance(value, str) or not pattern.match(value)):
        errors.add(ptr, f"must match the format {shape}")
