"""Editing the bot's messages after a click: buttons give way to who acted, once, within Slack's limits."""

from __future__ import annotations

from bot import edits


def notice(referral_id: str = "REF-A-1") -> list[dict]:
    return [
        {"type": "header", "text": {"type": "plain_text", "text": "New referral"}},
        {
            "type": "actions",
            "block_id": f"referral:{referral_id}",
            "elements": [{"type": "button", "action_id": "referral_accept"}],
        },
    ]


def suggestion(intake_id: str) -> dict:
    return {
        "type": "section",
        "block_id": f"suggestion:{intake_id}",
        "text": {"type": "mrkdwn", "text": f"*{intake_id}* → Alpha"},
        "accessory": {"type": "button", "action_id": "intake_approve", "value": intake_id},
    }


def request(*intake_ids: str) -> list[dict]:
    return [
        {"type": "header", "text": {"type": "plain_text", "text": "To approve"}},
        *(suggestion(i) for i in intake_ids),
        {
            "type": "actions",
            "block_id": "suggestions",
            "elements": [{"type": "button", "action_id": "intake_approve_all"}],
        },
    ]


def test_a_notices_buttons_become_the_answer() -> None:
    settled = edits.settle_referral(notice(), "REF-A-1", "Accepted by <@U1>")
    assert len(settled) == 2 and settled[1]["type"] == "context"
    assert settled[1]["block_id"] == "referral:REF-A-1:done"
    assert settled[1]["elements"][0]["text"] == "Accepted by <@U1>"


def test_a_second_click_does_not_add_a_second_line_unless_it_acted() -> None:
    once = edits.settle_referral(notice(), "REF-A-1", "Accepted by <@U1>")
    assert edits.settle_referral(once, "REF-A-1", "already taken", replace=False) == once
    twice = edits.settle_referral(once, "REF-A-1", "Accepted by <@U1> · 10:00")
    assert len(twice) == 2 and twice[1]["elements"][0]["text"] == "Accepted by <@U1> · 10:00"


def test_a_digest_line_keeps_its_text_and_block_count() -> None:
    blocks = request("INT-A", "INT-B")
    settled = edits.settle_suggestions(blocks, {"INT-A": "Approved by <@U1>"})
    assert len(settled) == len(blocks)
    first = settled[1]
    assert first["block_id"] == "suggestion:INT-A:done" and "accessory" not in first
    assert first["text"]["text"] == "*INT-A* → Alpha\nApproved by <@U1>"
    assert edits.open_suggestions(settled) == ["INT-B"]
    again = edits.settle_suggestions(settled, {"INT-A": "Approved by <@U1> → REF-A-1"})
    assert again[1]["text"]["text"] == "*INT-A* → Alpha\nApproved by <@U1> → REF-A-1"
    kept = edits.settle_suggestions(settled, {"INT-A": "Not approved"}, replace=False)
    assert kept[1]["text"]["text"] == "*INT-A* → Alpha\nApproved by <@U1>"


def test_when_every_suggestion_is_answered_the_bulk_buttons_go() -> None:
    settled = edits.settle_suggestions(request("INT-A", "INT-B"), {"INT-A": "ok", "INT-B": "ok"})
    assert edits.open_suggestions(settled) == []
    assert (
        settled[-1]["type"] == "context"
        and "Every suggestion" in settled[-1]["elements"][0]["text"]
    )


def test_a_long_section_is_cut_to_fit_its_line() -> None:
    block = suggestion("INT-A")
    block["text"]["text"] = "x" * 3000
    [settled], _ = edits.settle([block], "suggestion:INT-A", "Approved by <@U1>")
    assert len(settled["text"]["text"]) <= 3000 and settled["text"]["text"].endswith(
        "Approved by <@U1>"
    )


def test_strip_actions_keeps_within_fifty_blocks() -> None:
    blocks = [{"type": "section", "text": {"type": "mrkdwn", "text": str(i)}} for i in range(49)]
    blocks.append({"type": "actions", "elements": []})
    stripped = edits.strip_actions(blocks, "Approved")
    assert len(stripped) == 50 and stripped[-1]["type"] == "context"
    assert all(b["type"] != "actions" for b in stripped)
