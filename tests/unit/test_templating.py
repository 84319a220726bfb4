"""Templates fail loudly: missing values raise, JSON is checked, text is clipped to Slack's limits."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st
from jinja2 import UndefinedError

from coalition.templating import (
    HEADER_TEXT_LIMIT,
    SECTION_TEXT_LIMIT,
    TEMPLATES_DIR,
    TemplateError,
    Templates,
    fallback_text,
    make_environment,
    money,
    plural,
    slack_link,
    truncate,
    validate_blocks,
)


@pytest.fixture
def templates(tmp_path: Path) -> Templates:
    """Test templates in a temporary folder, with the shared partials of templates/ behind them."""
    files = {
        "slack/hello.txt.j2": "Hello {{ who | mrkdwn }}, {{ count | plural('referral') }} today.\n",
        "slack/raw.txt.j2": "{{ a }} & {{ b }}",
        "slack/notice.json.j2": '[{"type": "section", "text": {"type": "mrkdwn", "text": {{ ("Case " ~ n) | tojson }}}}]',
        "slack/notice.txt.j2": "Notice for case {{ n }}",
        "slack/embed.json.j2": '[{"type": "section", "text": {"type": "mrkdwn", "text": {{ value | tojson }}}}]',
        "slack/broken.json.j2": '[{"type": "section", "text": {{ value }}}]',
        "slack/not_a_list.json.j2": '{"type": "divider"}',
        "slack/too_many.json.j2": '[{% for i in range(n) %}{"type": "divider"}{{ \',\' if not loop.last }}{% endfor %}]',
        "slack/long_header.json.j2": '[{"type": "header", "text": {"type": "plain_text", "text": {{ title | tojson }}}}]',
        "slack/card.json.j2": (
            '{% import "slack/_blocks.json.j2" as b %}\n'
            "[\n"
            "  {{ b.header('Referral ' ~ referral_id) }},\n"
            "  {{ b.section('*Help:* ' ~ (help | mrkdwn), more_url=url) }},\n"
            "  {{ b.fields([('Language', language), ('County', county)]) }},\n"
            "  {{ b.context(['Intake ' ~ intake_id, link(url, 'Open the sheet')]) }},\n"
            "  {{ b.divider() }},\n"
            "  {{ b.actions([b.button('Accept', 'referral_accept', referral_id, style='primary'),"
            " b.button('Open', 'open_sheet', url=url)], block_id='referral') }}\n"
            "]\n"
        ),
    }
    for name, body in files.items():
        path = tmp_path / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(body, encoding="utf-8")
    return Templates(make_environment(tmp_path, TEMPLATES_DIR))


# ---------------------------------------------------------------- strictness
def test_text_template_renders_and_escapes_user_text(templates: Templates) -> None:
    text = templates.render_text("slack/hello.txt.j2", who="<!channel> & co", count=3)
    assert text == "Hello &lt;!channel&gt; &amp; co, 3 referrals today."


def test_a_missing_variable_raises_in_text_and_blocks(templates: Templates) -> None:
    with pytest.raises(UndefinedError, match="count"):
        templates.render_text("slack/hello.txt.j2", who="x")
    with pytest.raises(UndefinedError, match="value"):
        templates.render_blocks("slack/embed.json.j2")
    with pytest.raises(UndefinedError, match="intake_id"):
        templates.render_blocks(
            "slack/card.json.j2",
            referral_id="R-2026-000001",
            help="asylum",
            url="https://x.test",
            language="Spanish",
            county="Cook",
        )


def test_nothing_is_html_autoescaped(templates: Templates) -> None:
    assert templates.render_text("slack/raw.txt.j2", a="<b>", b='"q"') == '<b> & "q"'


@given(st.text())
def test_tojson_embeds_any_string_safely(value: str) -> None:
    env = make_environment(TEMPLATES_DIR)
    rendered = env.from_string('[{"text": {{ value | tojson }}}]').render(value=value)
    assert json.loads(rendered) == [{"text": value}]


def test_invalid_json_fails_loudly_without_echoing_values(templates: Templates) -> None:
    with pytest.raises(
        TemplateError, match=r"broken\.json\.j2: rendered invalid JSON at line 1"
    ) as caught:
        templates.render_blocks("slack/broken.json.j2", value="Rosa Martínez")
    assert "Rosa" not in str(caught.value)


def test_blocks_must_be_an_array(templates: Templates) -> None:
    with pytest.raises(TemplateError, match="expected a JSON array"):
        templates.render_blocks("slack/not_a_list.json.j2")


def test_block_kit_limits_are_enforced(templates: Templates) -> None:
    assert len(templates.render_blocks("slack/too_many.json.j2", n=50)) == 50
    with pytest.raises(TemplateError, match="51 blocks"):
        templates.render_blocks("slack/too_many.json.j2", n=51)
    with pytest.raises(TemplateError, match="header text is over 150"):
        templates.render_blocks("slack/long_header.json.j2", title="x" * 151)


@pytest.mark.parametrize(
    ("blocks", "problem"),
    [
        ([{"text": "no type"}], "has no type"),
        ([{"type": "section", "text": {"type": "mrkdwn", "text": "x" * 3001}}], "over 3000"),
        ([{"type": "section"}], "needs text or fields"),
        (
            [{"type": "section", "fields": [{"type": "mrkdwn", "text": "x"}] * 11}],
            "more than 10 fields",
        ),
        (
            [{"type": "actions", "elements": [{"type": "button", "text": {"text": "x" * 76}}]}],
            "over 75",
        ),
        (["divider"], "is not an object"),
    ],
)
def test_validate_blocks_names_the_problem(blocks: list, problem: str) -> None:
    with pytest.raises(TemplateError, match=problem):
        validate_blocks(blocks)


# ---------------------------------------------------------------- shared partials
def test_shared_macros_build_a_valid_card(templates: Templates) -> None:
    blocks = templates.render_blocks(
        "slack/card.json.j2",
        referral_id="R-2026-000001",
        intake_id="IN-000001",
        help='removal <defense> & "quotes"\nsecond line',
        url="https://docs.google.com/spreadsheets/d/abc/edit?a=1&b=2",
        language="Spanish",
        county="<!here> County",
    )
    assert [b["type"] for b in blocks] == [
        "header",
        "section",
        "section",
        "context",
        "divider",
        "actions",
    ]
    assert blocks[0]["text"]["text"] == "Referral R-2026-000001"
    assert (
        blocks[1]["text"]["text"] == '*Help:* removal &lt;defense&gt; &amp; "quotes"\nsecond line'
    )
    assert blocks[2]["fields"][1]["text"] == "*County*\n&lt;!here&gt; County"
    assert blocks[3]["elements"][1]["text"] == (
        "<https://docs.google.com/spreadsheets/d/abc/edit?a=1&b=2|Open the sheet>"
    )
    accept, open_sheet = blocks[5]["elements"]
    assert accept == {
        "type": "button",
        "text": {"type": "plain_text", "text": "Accept", "emoji": True},
        "action_id": "referral_accept",
        "value": "R-2026-000001",
        "style": "primary",
    }
    assert open_sheet["url"].startswith("https://docs.google.com/")
    assert "value" not in open_sheet


def test_shared_macros_clip_long_values_to_the_limits(templates: Templates) -> None:
    blocks = templates.render_blocks(
        "slack/card.json.j2",
        referral_id="R-" + "9" * 400,
        intake_id="IN-000001",
        help="word " * 2000,
        url="https://docs.google.com/d/1",
        language="Spanish",
        county="Cook",
    )
    assert len(blocks[0]["text"]["text"]) <= HEADER_TEXT_LIMIT
    section = blocks[1]["text"]["text"]
    assert len(section) <= SECTION_TEXT_LIMIT
    assert section.endswith("… <https://docs.google.com/d/1|more>")


# ---------------------------------------------------------------- truncate
@pytest.mark.parametrize(
    ("text", "limit", "url", "expected"),
    [
        ("short text", 20, None, "short text"),
        ("exactly twenty chars", 20, None, "exactly twenty chars"),
        ("the quick brown fox jumps over", 20, None, "the quick… more"),
        ("the quick brown fox jumps over", 22, None, "the quick brown… more"),
        ("abcdefghijklmnopqrstuvwxyz", 12, None, "abcdef… more"),
        ("see <https://x.test/long|the link> now", 24, None, "see… more"),
        ("fishy&amp;chips and more words", 14, None, "fishy… more"),
        ("one two three four five six", 30, "https://x.test/d", "one two three four five six"),
        (
            "one two three four five six seven",
            30,
            "https://x.test/d",
            "one… <https://x.test/d|more>",
        ),
    ],
)
def test_truncate_table(text: str, limit: int, url: str | None, expected: str) -> None:
    assert truncate(text, limit, url) == expected
    assert len(truncate(text, limit, url)) <= limit


@given(st.text(max_size=500), st.integers(min_value=12, max_value=400))
def test_truncate_never_exceeds_the_limit_and_keeps_a_prefix(text: str, limit: int) -> None:
    result = truncate(text, limit)
    assert len(result) <= limit
    if len(text) <= limit:
        assert result == text
    else:
        assert result.endswith("… more")
        assert text.startswith(result.removesuffix("… more"))


def test_slack_link_escapes_the_label_and_protects_the_url() -> None:
    assert slack_link("https://x.test/a b|c>", "<!channel> & you") == (
        "<https://x.test/a%20b%7Cc%3E|&lt;!channel&gt; &amp; you>"
    )
    assert slack_link("https://x.test") == "<https://x.test>"


def test_number_helpers() -> None:
    assert money(12345.6) == "$12,346"
    assert money("12345.6", cents=True) == "$12,345.60"
    assert money(-5) == "-$5"
    assert plural(1, "gift") == "1 gift"
    assert plural(1200, "gift") == "1,200 gifts"
    assert plural(2, "person", "people") == "2 people"


def test_fallback_text_from_blocks() -> None:
    blocks = [
        {"type": "header", "text": {"type": "plain_text", "text": "New referral"}},
        {"type": "divider"},
        {"type": "section", "text": {"type": "mrkdwn", "text": "Case *asylum*"}},
    ]
    assert fallback_text(blocks) == "New referral\nCase *asylum*"


def test_render_message_pairs_text_and_blocks(templates: Templates) -> None:
    text, blocks = templates.render_message("slack/notice.json.j2", n=7)
    assert text == "Notice for case 7"
    assert blocks[0]["text"]["text"] == "Case 7"
    text, blocks = templates.render_message("slack/embed.json.j2", value="Fallback from blocks")
    assert text == "Fallback from blocks"


def test_fallback_text_keeps_texts_escaped_once() -> None:
    from coalition.templating import fallback_text, render_message

    blocks = [
        {"type": "header", "text": {"type": "plain_text", "text": "Rally2 &lt;!here&gt; now"}},
        {
            "type": "section",
            "text": {"type": "mrkdwn", "text": "already &lt;escaped&gt; &amp; more"},
        },
    ]
    assert fallback_text(blocks) == "Rally2 &lt;!here&gt; now\nalready &lt;escaped&gt; &amp; more"
    # Headers of real templates get user text escaped once, by the template.
    text, blocks = render_message(
        "slack/referral_digest.json.j2",
        partner_name="Smith & <!here> Legal",
        sheet_url="https://docs.google.com/spreadsheets/d/x",
        reminder=False,
        items=[],
        shown=0,
        hidden=0,
    )
    assert blocks[0]["text"]["text"] == "0 new referrals for Smith &amp; &lt;!here&gt; Legal"
    assert text.startswith("0 new referrals for Smith &amp; &lt;!here&gt; Legal\n")
