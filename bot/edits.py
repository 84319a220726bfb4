"""Edits of the bot's own messages after a click (pure): the clicked case shows who acted and when.

Referral notices carry their buttons in a block whose block_id is `referral:REF-...`
(an actions block in a single notice, a section's overflow in a digest); approval
requests carry one `suggestion:INT-...` section per case and a `suggestions` actions
block. Settling a case removes its buttons and writes a line in their place, so nobody
can click it again and everybody sees the answer; other cases keep their buttons.
"""

from __future__ import annotations

import copy
from collections.abc import Iterable
from typing import Any

Blocks = list[dict[str, Any]]
SECTION_LIMIT = 3000
MESSAGE_BLOCKS = 50


def _context(line: str, block_id: str | None = None) -> dict[str, Any]:
    block: dict[str, Any] = {"type": "context", "elements": [{"type": "mrkdwn", "text": line}]}
    if block_id:
        block["block_id"] = block_id
    return block


def _done(block_id: str) -> str:
    return f"{block_id}:done"


def _with_line(section: dict[str, Any], line: str, block_id: str, replace_last: bool) -> dict:
    """The section with its button gone and `line` as its last line (block count unchanged)."""
    settled = {k: v for k, v in section.items() if k != "accessory"}
    text = dict(settled.get("text") or {"type": "mrkdwn", "text": ""})
    body = text.get("text", "")
    if replace_last:
        body = body.rpartition("\n")[0]
    # Slack's 3,000 characters per section: the case's own text is what gets cut.
    room = SECTION_LIMIT - len(line) - 1
    text["text"] = f"{body[:room]}\n{line}" if body else line
    settled["text"] = text
    settled["block_id"] = _done(block_id)
    return settled


def settle(blocks: Blocks, block_id: str, line: str, replace: bool = False) -> tuple[Blocks, bool]:
    """The blocks with `block_id`'s buttons replaced by `line`; and whether the case was there.

    An actions block becomes a context block holding the line; a section loses its
    button and gains the line as its last line. Either way its block_id becomes
    `<block_id>:done`, and a case already settled keeps its line unless `replace` (the
    click that acted knows more than a concurrent click that only saw the case taken).
    """
    out: Blocks = []
    found = False
    for block in copy.deepcopy(blocks or []):
        current = block.get("block_id")
        kind = block.get("type")
        if current not in (block_id, _done(block_id)):
            out.append(block)
            continue
        found = True
        if current == _done(block_id) and not replace:
            out.append(block)
        elif kind in {"actions", "context"}:
            out.append(_context(line, _done(block_id)))
        elif kind == "section":
            out.append(_with_line(block, line, block_id, current == _done(block_id)))
        else:
            out.append(block)
    return out, found


def settle_referral(blocks: Blocks, referral_id: str, line: str, replace: bool = True) -> Blocks:
    """A referral notice or digest after the partner answered `referral_id`."""
    settled, found = settle(blocks, f"referral:{referral_id}", line, replace)
    if not found and replace and len(settled) < MESSAGE_BLOCKS:
        settled.append(_context(line, _done(f"referral:{referral_id}")))
    return settled


def settle_suggestions(blocks: Blocks, lines: dict[str, str], replace: bool = True) -> Blocks:
    """An approval request after some of its cases were answered (intake id -> line)."""
    settled = copy.deepcopy(blocks or [])
    for intake_id, line in lines.items():
        settled, _found = settle(settled, f"suggestion:{intake_id}", line, replace)
    if not open_suggestions(settled):
        settled = [
            _context("Every suggestion here has been answered.", _done("suggestions"))
            if b.get("block_id") == "suggestions"
            else b
            for b in settled
        ]
    return settled


def open_suggestions(blocks: Iterable[dict[str, Any]]) -> list[str]:
    """Intake IDs of this approval request that still have an Approve button."""
    return [
        str(b["block_id"]).removeprefix("suggestion:")
        for b in blocks
        if str(b.get("block_id", "")).startswith("suggestion:") and b.get("accessory")
    ]


def strip_actions(blocks: Blocks, line: str) -> Blocks:
    """Every button removed (a campaign draft once approved), `line` at the end."""
    kept = [copy.deepcopy(b) for b in blocks or [] if b.get("type") != "actions"]
    for block in kept:
        block.pop("accessory", None)
    return [*kept[: MESSAGE_BLOCKS - 1], _context(line)]


__all__ = ["open_suggestions", "settle", "settle_referral", "settle_suggestions", "strip_actions"]
