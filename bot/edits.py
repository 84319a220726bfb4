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


def _context(line: str, block_id: str | None = None) -> dict[str, Any]:
    block: dict[str, Any] = {"type": "context", "elements": [{"type": "mrkdwn", "text": line}]}
    if block_id:
        block["block_id"] = block_id
    return block


def _settled_section(block: dict[str, Any], line: str) -> dict[str, Any]:
    settled = {k: v for k, v in block.items() if k != "accessory"}
    text = dict(settled.get("text") or {"type": "mrkdwn", "text": ""})
    body = text.get("text", "")
    # Keep within Slack's 3,000 characters: the original text is what gets cut.
    room = 3000 - len(line) - 1
    text["text"] = (body[:room] + "\n" + line) if body else line
    settled["text"] = text
    return settled


def settle(blocks: Blocks, block_id: str, line: str) -> tuple[Blocks, bool]:
    """The blocks with `block_id`'s buttons replaced by `line`; and whether the block was there."""
    out: Blocks = []
    found = False
    for block in copy.deepcopy(blocks or []):
        if block.get("block_id") != block_id:
            out.append(block)
            continue
        found = True
        if block.get("type") == "actions":
            out.append(_context(line, f"{block_id}:done"))
        elif block.get("type") == "section" and block.get("accessory"):
            out.append(_settled_section(block, line))
        else:
            out.append(block)  # already settled: one line per answer, however many clicks
    return out, found


def settle_referral(
    blocks: Blocks, referral_id: str, line: str, append_if_missing: bool = True
) -> Blocks:
    """A referral notice or digest after the partner answered `referral_id`."""
    settled, found = settle(blocks, f"referral:{referral_id}", line)
    if not found and append_if_missing:
        settled.append(_context(line))
    return settled


def settle_suggestions(blocks: Blocks, lines: dict[str, str]) -> Blocks:
    """An approval request after some of its cases were approved (intake id -> line)."""
    settled = copy.deepcopy(blocks or [])
    for intake_id, line in lines.items():
        settled, found = settle(settled, f"suggestion:{intake_id}", line)
        if not found:
            settled.append(_context(line))
    if not open_suggestions(settled):
        settled = [
            _context("Every suggestion here has been answered.", "suggestions:done")
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
    return [*kept, _context(line)]


__all__ = ["open_suggestions", "settle", "settle_referral", "settle_suggestions", "strip_actions"]
