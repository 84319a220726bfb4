"""The viewer's HTML pieces: Slack text and blocks shown as people see them, and always escaped."""

from __future__ import annotations

import re

import pytest
from hypothesis import given
from hypothesis import strategies as st

from sandbox.viewer.render import (
    BlockRenderer,
    airtable_value,
    column_letter,
    mrkdwn,
    slack_unescape,
)

USERS = {"U0DEMOSTF01": "Odalys Brennwater"}
CHANNELS = {"C0ABC": "policy"}
OUR_TAGS = re.compile(r"</?(span|a|div|button|select|option|hr|br|strong|em|del|code)(\s[^<>]*)?>")


@pytest.mark.parametrize(
    ("text", "html"),
    [
        ("plain", "plain"),
        ("&lt;!channel&gt; typed", "&lt;!channel&gt; typed"),
        (
            "<!channel> now",
            '<span class="mention ping" title="notifies everyone">@channel</span> now',
        ),
        ("<!here>", '<span class="mention ping" title="notifies everyone">@here</span>'),
        ("hi <@U0DEMOSTF01>", 'hi <span class="mention">@Odalys Brennwater</span>'),
        ("<@U999>", '<span class="mention">@U999</span>'),
        ("<#C0ABC>", '<span class="mention">#policy</span>'),
        ("<!subteam^S1|@legal>", '<span class="mention">@@legal</span>'),
        (
            "<https://example.org/a?b=1&amp;c=2|the form>",
            '<a href="https://example.org/a?b=1&amp;c=2" rel="noopener noreferrer">the form</a>',
        ),
        ("<javascript:alert(1)|click>", "&lt;javascript:alert(1)|click&gt;"),
        ("<script>alert(1)</script>", "&lt;script&gt;alert(1)&lt;/script&gt;"),
        ("a &amp;lt; b", "a &amp;lt; b"),
        ("*Category*\nasylum", "<strong>Category</strong>\nasylum"),
        ("_maybe_ and ~no~ `code`", "<em>maybe</em> and <del>no</del> <code>code</code>"),
        ("snake_case_name and 2*3*4", "snake_case_name and 2*3*4"),
        ("*x < y & z*", "<strong>x &lt; y &amp; z</strong>"),
        ('=IMPORTXML("http://x")', "=IMPORTXML(&#34;http://x&#34;)"),
    ],
)
def test_mrkdwn_renders_what_slack_shows(text: str, html: str) -> None:
    assert str(mrkdwn(text, USERS, CHANNELS)) == html


@given(st.text(alphabet=st.sampled_from(list("<>&|@!#:/\"'abc U=")), max_size=60) | st.text())
def test_mrkdwn_output_never_carries_markup_from_the_text(text: str) -> None:
    html = str(mrkdwn(text, USERS, CHANNELS))
    assert "<" not in OUR_TAGS.sub("", html)
    assert 'href="javascript' not in html.lower()


def test_slack_unescape_decodes_amp_last() -> None:
    assert slack_unescape("&amp;lt;") == "&lt;"
    assert slack_unescape("&lt;b&gt; &amp;") == "<b> &"


def test_blocks_render_sections_headers_context_and_inert_buttons() -> None:
    renderer = BlockRenderer(USERS, CHANNELS)
    html = str(
        renderer.blocks(
            [
                {"type": "header", "text": {"type": "plain_text", "text": "<b>New</b> case"}},
                {
                    "type": "section",
                    "text": {"type": "mrkdwn", "text": "for <@U0DEMOSTF01>"},
                    "fields": [{"type": "plain_text", "text": "County"}],
                    "accessory": {
                        "type": "button",
                        "text": {"type": "plain_text", "text": "Open"},
                        "url": "javascript:alert(1)",
                    },
                },
                {
                    "type": "actions",
                    "elements": [
                        {
                            "type": "button",
                            "text": {"type": "plain_text", "text": "Accept"},
                            "style": "primary",
                            "action_id": "accept",
                        },
                        {
                            "type": "static_select",
                            "placeholder": {"type": "plain_text", "text": "Pick"},
                        },
                    ],
                },
                {"type": "context", "elements": [{"type": "mrkdwn", "text": "R-1"}]},
                {"type": "divider"},
                {"type": "video"},
            ]
        )
    )
    assert '<div class="block header">&lt;b&gt;New&lt;/b&gt; case</div>' in html
    assert '<span class="mention">@Odalys Brennwater</span>' in html
    assert '<div class="field">County</div>' in html
    assert "javascript" not in html
    assert 'class="button primary" disabled title="accept">Accept</button>' in html
    assert "<select disabled><option>Pick</option></select>" in html
    assert '<div class="block context">R-1</div>' in html
    assert '<hr class="divider">' in html and "[video block]" in html


def test_rich_text_blocks() -> None:
    block = {
        "type": "rich_text",
        "elements": [
            {
                "type": "rich_text_section",
                "elements": [
                    {"type": "text", "text": "<hi> "},
                    {"type": "user", "user_id": "U0DEMOSTF01"},
                    {"type": "broadcast", "range": "channel"},
                ],
            }
        ],
    }
    html = str(BlockRenderer(USERS, CHANNELS).block(block))
    assert "&lt;hi&gt;" in html and "@Odalys Brennwater" in html and "mention ping" in html


def test_airtable_values() -> None:
    assert str(airtable_value(True, {})).startswith('<span class="check"')
    assert str(airtable_value(None, {})) == ""
    assert str(airtable_value(["recA", "x<y"], {"recA": "Riverbend"})) == (
        '<span class="chip">Riverbend</span><span class="chip">x&lt;y</span>'
    )
    assert str(airtable_value(12.5, {})) == "12.5"
    assert str(airtable_value("<script>", {})) == "&lt;script&gt;"


@pytest.mark.parametrize(
    ("index", "letters"), [(0, "A"), (25, "Z"), (26, "AA"), (51, "AZ"), (702, "AAA")]
)
def test_column_letters(index: int, letters: str) -> None:
    assert column_letter(index) == letters
