"""Block Kit validation in the Slack emulator: Slack's documented limits, at and past each edge."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from sandbox.slack.blocks import validate_blocks, validate_view


def mrkdwn(text: str) -> dict[str, Any]:
    return {"type": "mrkdwn", "text": text}


def plain(text: str) -> dict[str, Any]:
    return {"type": "plain_text", "text": text}


def section(text: str = "hello") -> dict[str, Any]:
    return {"type": "section", "text": mrkdwn(text)}


def button(text: str = "Accept", **extra: Any) -> dict[str, Any]:
    return {"type": "button", "text": plain(text), "action_id": "accept", **extra}


def actions(*elements: dict[str, Any]) -> dict[str, Any]:
    return {"type": "actions", "elements": list(elements)}


def modal(blocks: list[dict[str, Any]], **extra: Any) -> dict[str, Any]:
    return {"type": "modal", "title": plain("Referral"), "blocks": blocks, **extra}


TEXT_INPUT = {
    "type": "input",
    "block_id": "reason",
    "label": plain("Reason"),
    "element": {"type": "plain_text_input", "action_id": "reason"},
}

VALID_BLOCKS = [
    section(),
    {"type": "section", "fields": [mrkdwn("*Partner*"), mrkdwn("North")]},
    {"type": "section", "text": mrkdwn("Open"), "accessory": button(url="https://example.org")},
    {"type": "header", "text": plain("Weekly summary")},
    {"type": "divider"},
    {
        "type": "context",
        "elements": [
            mrkdwn("updated"),
            {"type": "image", "image_url": "https://x/y.png", "alt_text": "logo"},
        ],
    },
    actions(button(), button("Decline", action_id="decline", style="danger", value="r-1")),
    actions(
        {
            "type": "static_select",
            "action_id": "pick",
            "placeholder": plain("Pick"),
            "options": [{"text": plain("One"), "value": "1"}],
        }
    ),
    {"type": "image", "image_url": "https://example.org/a.png", "alt_text": "chart"},
    TEXT_INPUT,
    {
        "type": "rich_text",
        "elements": [{"type": "rich_text_section", "elements": [{"type": "text", "text": "hi"}]}],
    },
]


@pytest.mark.parametrize("block", VALID_BLOCKS, ids=lambda b: b["type"])
def test_every_known_block_type_is_accepted(block: dict[str, Any]) -> None:
    assert validate_blocks([block]) == []


# (blocks, the json-pointer Slack names, a word of its message)
REFUSED = [
    ([section("a" * 3001)], "/blocks/0/text/text", "less than 3001"),
    ([{"type": "header", "text": plain("h" * 151)}], "/blocks/0/text/text", "less than 151"),
    ([{"type": "header", "text": mrkdwn("*bold*")}], "/blocks/0/text/type", "plain_text"),
    ([{"type": "section", "fields": [mrkdwn("f")] * 11}], "/blocks/0/fields", "no more than 10"),
    (
        [{"type": "section", "fields": [mrkdwn("f" * 2001)]}],
        "/blocks/0/fields/0/text",
        "less than 2001",
    ),
    ([actions(button("b" * 76))], "/blocks/0/elements/0/text/text", "less than 76"),
    ([actions(button(action_id="a" * 256))], "/blocks/0/elements/0/action_id", "less than 256"),
    (
        [actions(button(url="https://x/" + "u" * 2991))],
        "/blocks/0/elements/0/url",
        "less than 3001",
    ),
    ([actions(button(style="purple"))], "/blocks/0/elements/0/style", "primary"),
    (
        [actions(*[button(action_id=f"b{i}") for i in range(26)])],
        "/blocks/0/elements",
        "no more than 25",
    ),
    ([actions()], "/blocks/0/elements", "at least 1"),
    (
        [{"type": "context", "elements": [mrkdwn("c")] * 11}],
        "/blocks/0/elements",
        "no more than 10",
    ),
    ([{"type": "paragraph", "text": "hi"}], "/blocks/0/type", "unsupported type: paragraph"),
    ([{"type": "section"}], "/blocks/0", "either text or fields"),
    (
        [{"type": "image", "image_url": "https://x/y.png"}],
        "/blocks/0/alt_text",
        "must provide a string",
    ),
    (
        [{"type": "section", "block_id": "x" * 256, "text": mrkdwn("a")}],
        "/blocks/0/block_id",
        "less than 256",
    ),
    (
        [{**section(), "block_id": "same"}, {**section(), "block_id": "same"}],
        "/blocks/1/block_id",
        "duplicate",
    ),
    ([section(), "not a block"], "/blocks/1", "must provide an object"),
    (
        [actions({"type": "plain_text_input", "action_id": "t"})],
        "/blocks/0/elements/0/type",
        "unsupported",
    ),
    ([{**TEXT_INPUT, "element": button()}], "/blocks/0/element/type", "unsupported"),
]


@pytest.mark.parametrize(("blocks", "pointer", "words"), REFUSED, ids=lambda v: str(v)[:40])
def test_limits_are_refused_with_the_offending_pointer(
    blocks: list[Any], pointer: str, words: str
) -> None:
    errors = validate_blocks(blocks)
    matching = [e for e in errors if e.endswith(f"[json-pointer:{pointer}]")]
    assert matching, errors
    assert any(words in e for e in matching), errors


def test_the_limits_themselves_are_allowed() -> None:
    at_the_edge = [
        section("a" * 3000),
        {"type": "header", "text": plain("h" * 150)},
        {"type": "section", "fields": [mrkdwn("f" * 2000)] * 10},
        actions(*[button("b" * 75, action_id=f"{i}" + "a" * 250) for i in range(25)]),
        {"type": "context", "elements": [mrkdwn("c")] * 10},
    ]
    assert validate_blocks(at_the_edge) == []


def test_a_message_holds_fifty_blocks_and_a_modal_a_hundred() -> None:
    assert validate_blocks([{"type": "divider"}] * 50) == []
    assert validate_blocks([{"type": "divider"}] * 51) == [
        "no more than 50 items allowed [json-pointer:/blocks]"
    ]
    assert validate_blocks([{"type": "divider"}] * 100, surface="view") == []
    assert validate_blocks([{"type": "divider"}] * 101, surface="view")


def test_blocks_must_be_an_array() -> None:
    assert validate_blocks({"type": "divider"}) == ["must provide an array [json-pointer:/blocks]"]


@given(st.integers(min_value=1, max_value=6000))
def test_section_text_is_valid_exactly_up_to_3000_characters(length: int) -> None:
    errors = validate_blocks([section("x" * length)])
    assert (errors == []) is (length <= 3000)


@given(st.lists(st.sampled_from(VALID_BLOCKS[:6]), min_size=0, max_size=80))
def test_any_mix_of_valid_blocks_fails_only_on_the_count(blocks: list[dict[str, Any]]) -> None:
    errors = validate_blocks(blocks)
    assert errors == (
        [] if len(blocks) <= 50 else ["no more than 50 items allowed [json-pointer:/blocks]"]
    )


# ------------------------------------------------------------------ views
def test_a_plain_modal_is_valid() -> None:
    assert validate_view(modal([section()], submit=plain("Send"), private_metadata="r-1")) == []


VIEW_REFUSALS = [
    (modal([section()], title=plain("t" * 25)), "/view/title/text"),
    (modal([TEXT_INPUT]), "/view/submit"),
    (modal([section()], submit=plain("s" * 25)), "/view/submit/text"),
    (modal([section()], private_metadata="m" * 3001), "/view/private_metadata"),
    (modal([section()], callback_id="c" * 256), "/view/callback_id"),
    (modal([{"type": "divider"}] * 101), "/view/blocks"),
    ({**modal([section()]), "type": "home"}, "/view/type"),
    ("not a view", "/view"),
]


@pytest.mark.parametrize(("view", "pointer"), VIEW_REFUSALS, ids=lambda v: str(v)[:40])
def test_views_are_refused_past_their_limits(view: Any, pointer: str) -> None:
    errors = validate_view(view)
    assert any(e.endswith(f"[json-pointer:{pointer}]") for e in errors), errors
