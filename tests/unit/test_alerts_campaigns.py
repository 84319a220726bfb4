"""Campaign decisions: due or not, quiet hours, channels, escaping, Block Kit limits (pure)."""

from __future__ import annotations

import re
from dataclasses import replace
from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from coalition.alerts.campaigns import (
    Campaign,
    campaign_channels,
    campaign_content,
    decide,
    fingerprint,
    in_quiet_hours,
    parse_campaign,
    parse_slack_messages,
    quiet_hours_end,
    slack_messages_text,
    split_for_blocks,
)
from coalition.outgoing import MentionError, check_mentions
from coalition.privacy import escape_mrkdwn, unescape_mrkdwn
from coalition.settings import QuietHours
from coalition.templating import SECTION_TEXT_LIMIT, render_message, validate_blocks
from sandbox.seed.alerts import HOSTILE_CAMPAIGN_TEXT, long_message

NY = ZoneInfo("America/New_York")
BROKEN_ENTITY = re.compile(r"&(?!amp;|lt;|gt;)")
QUIET = QuietHours(start=time(21, 0), end=time(8, 0))
REGIONS = {"Southwest": "organizing-southwest", "West": "organizing-west"}
NOON = datetime(2026, 11, 20, 12, 0, tzinfo=NY)


def campaign(**changes) -> Campaign:
    fields = {
        "record_id": "recCAMPAIGN000001",
        "title": "Court watch",
        "message": "Join us at the court at 8:30.",
        "call_to_action": "Sign up",
        "link": "https://example.org/court-watch",
        "channels": ("organizing",),
        "status": "Ready",
        "send_at": NOON - timedelta(hours=1),
        "send_at_text": "2026-11-20T16:00:00.000Z",
    }
    fields.update(changes)
    return Campaign(**fields)


def at(hour: int, minute: int = 0) -> datetime:
    return datetime(2026, 11, 20, hour, minute, tzinfo=NY)


# ---------------------------------------------------------------- reading a record
def test_parse_campaign_reads_airtable_fields_and_leaves_missing_ones_empty() -> None:
    record = {
        "id": "recABC",
        "fields": {
            "Title": " Rally ",
            "Message": "Come",
            "Channels": ["#organizing", "policy"],
            "Regions": ["West"],
            "Status": "Ready",
            "Send at": "2026-11-20T14:00:00.000Z",
            "Notify channel": True,
        },
    }
    parsed = parse_campaign(record)
    assert parsed.title == "Rally"
    assert parsed.channels == ("organizing", "policy")
    assert parsed.regions == ("West",)
    assert parsed.send_at == datetime(2026, 11, 20, 14, 0, tzinfo=UTC)
    assert parsed.notify_channel and not parsed.urgent
    assert parsed.link == "" and parsed.error == ""


def test_a_send_at_that_is_not_a_time_is_kept_as_text_for_the_error() -> None:
    parsed = parse_campaign({"id": "recA", "fields": {"Send at": "tomorrow"}})
    assert parsed.send_at is None and parsed.send_at_text == "tomorrow"


# ---------------------------------------------------------------- channels
def test_channels_are_its_channels_plus_its_regions_channels_deduplicated() -> None:
    c = campaign(channels=("organizing", "organizing-west"), regions=("West", "Southwest"))
    assert campaign_channels(c, REGIONS) == (
        ("organizing", "organizing-west", "organizing-southwest"),
        (),
    )


def test_a_region_config_does_not_know_is_reported() -> None:
    assert campaign_channels(campaign(regions=("Atlantis",)), REGIONS) == (
        ("organizing",),
        ("Atlantis",),
    )


# ---------------------------------------------------------------- decisions
@pytest.mark.parametrize(
    ("changes", "posted", "now", "kind", "reason"),
    [
        ({}, False, NOON, "post", ""),
        ({"send_at": NOON + timedelta(minutes=5)}, False, NOON, "skip", ""),
        ({"status": "Draft"}, False, NOON, "skip", ""),
        ({"status": "Sent"}, True, NOON, "sync", ""),
        ({"status": "Sent"}, False, NOON, "skip", ""),  # sent by hand, before the bot
        ({"status": "Cancelled"}, True, NOON, "cancel", ""),
        ({"status": "Cancelled"}, False, NOON, "skip", ""),
        ({"send_at": None, "send_at_text": ""}, False, NOON, "error", "Send at is empty"),
        ({"send_at": None, "send_at_text": "soon"}, False, NOON, "error", "not a date and time"),
        ({"title": ""}, False, NOON, "error", "Title is empty"),
        ({"message": ""}, False, NOON, "error", "Message is empty"),
        ({"link": "javascript:alert(1)"}, False, NOON, "error", "Link is not a web address"),
        ({"channels": (), "regions": ()}, False, NOON, "error", "no Channels or Regions"),
        ({"regions": ("Atlantis",)}, False, NOON, "error", "no channel for region Atlantis"),
        ({}, False, at(23), "hold", "quiet hours until 08:00"),
        ({"urgent": True}, False, at(23), "post", ""),
        ({}, True, at(23), "post", ""),  # partly posted before a crash: finish it
        ({"status": "Sent"}, True, at(23), "sync", ""),  # edits are never held
        ({"send_at": at(7)}, False, at(8, 0), "post", ""),
    ],
)
def test_decide(changes, posted, now, kind, reason) -> None:
    decision = decide(campaign(**changes), now, posted, REGIONS, QUIET, NY)
    assert decision.kind == kind
    assert reason in decision.reason
    if kind == "post":
        assert decision.channels == ("organizing",)


def test_without_quiet_hours_nothing_is_held() -> None:
    assert decide(campaign(), at(23), False, REGIONS, None, NY).kind == "post"


# ---------------------------------------------------------------- quiet hours
@pytest.mark.parametrize(
    ("hour", "minute", "quiet"),
    [(20, 59, False), (21, 0, True), (23, 30, True), (0, 0, True), (7, 59, True), (8, 0, False)],
)
def test_quiet_hours_span_midnight(hour: int, minute: int, quiet: bool) -> None:
    assert in_quiet_hours(at(hour, minute), QUIET, NY) is quiet


def test_quiet_hours_within_one_day_and_in_the_org_time_zone() -> None:
    siesta = QuietHours(start=time(13, 0), end=time(15, 0))
    assert in_quiet_hours(at(14), siesta, NY)
    assert not in_quiet_hours(at(12), siesta, NY)
    # 19:00 UTC is 14:00 in New York in November: quiet there, whatever the server's zone.
    assert in_quiet_hours(datetime(2026, 11, 20, 19, 0, tzinfo=UTC), siesta, NY)
    assert not in_quiet_hours(at(23), QuietHours(start=time(8), end=time(8)), NY)


def test_quiet_hours_end_is_the_next_morning_even_across_a_dst_change() -> None:
    assert quiet_hours_end(at(23), QUIET, NY) == datetime(2026, 11, 21, 8, 0, tzinfo=NY)
    assert quiet_hours_end(at(3), QUIET, NY) == datetime(2026, 11, 20, 8, 0, tzinfo=NY)
    # The night clocks go back (2026-11-01 in New York): still 08:00 local.
    night = datetime(2026, 10, 31, 22, 0, tzinfo=NY)
    assert quiet_hours_end(night, QUIET, NY).isoformat() == "2026-11-01T08:00:00-05:00"


# ---------------------------------------------------------------- content
def test_hostile_text_is_escaped_and_only_the_notify_box_pings() -> None:
    hostile = campaign(
        title="<!here> rally", message=HOSTILE_CAMPAIGN_TEXT, call_to_action="<@U123>"
    )
    text, blocks = render_message("slack/campaign.json.j2", c=campaign_content(hostile))
    check_mentions(text, blocks)  # nothing in it would ping anyone
    shown = unescape_mrkdwn(blocks[1]["text"]["text"])
    assert shown == HOSTILE_CAMPAIGN_TEXT  # people see exactly what was typed
    assert "<script>" not in blocks[1]["text"]["text"]

    notify = replace(hostile, notify_channel=True)
    text, blocks = render_message("slack/campaign.json.j2", c=campaign_content(notify))
    with pytest.raises(MentionError):
        check_mentions(text, blocks)
    everything = str(blocks) + text
    assert (
        everything.count("<!channel>") == 2
    )  # the bot's one section, echoed in the notification text
    assert blocks[1]["text"]["text"] == "<!channel>"


def test_button_links_to_the_campaign_and_carries_its_call_to_action() -> None:
    _, blocks = render_message("slack/campaign.json.j2", c=campaign_content(campaign()))
    [actions] = [b for b in blocks if b["type"] == "actions"]
    [button] = actions["elements"]
    assert button["url"] == "https://example.org/court-watch"
    assert button["text"]["text"] == "Sign up"


def test_without_a_link_the_call_to_action_is_text() -> None:
    _, blocks = render_message("slack/campaign.json.j2", c=campaign_content(campaign(link="")))
    assert not [b for b in blocks if b["type"] == "actions"]
    assert any(b.get("text", {}).get("text") == "*Sign up*" for b in blocks)


def test_a_5000_character_message_is_split_into_sections_within_the_limit() -> None:
    text, blocks = render_message(
        "slack/campaign.json.j2", c=campaign_content(campaign(message=long_message()))
    )
    sections = [b["text"]["text"] for b in blocks if b["type"] == "section"]
    assert len(sections) == 2
    assert all(len(s) <= SECTION_TEXT_LIMIT for s in sections)
    assert "".join(sections).replace("\n", "").replace(" ", "") == long_message().replace(
        "\n", ""
    ).replace(" ", "")  # split, nothing lost
    assert len(text) <= 3000


def test_a_huge_message_is_cut_with_a_more_link_to_the_campaign() -> None:
    c = campaign(message="word " * 20_000)
    _, blocks = render_message("slack/campaign.json.j2", c=campaign_content(c))
    sections = [b["text"]["text"] for b in blocks if b["type"] == "section"]
    assert len(sections) == 4
    assert sections[-1].endswith("… <https://example.org/court-watch|more>")
    validate_blocks(blocks)


@settings(max_examples=60, deadline=None)
@given(
    title=st.text(max_size=400),
    message=st.text(min_size=1, max_size=15_000).filter(str.strip),
    cta=st.text(max_size=120),
    notify=st.booleans(),
)
def test_any_campaign_text_renders_within_block_kit_limits_and_pings_nobody(
    title: str, message: str, cta: str, notify: bool
) -> None:
    c = campaign(title=title or "t", message=message, call_to_action=cta, notify_channel=notify)
    text, blocks = render_message("slack/campaign.json.j2", c=campaign_content(c))
    validate_blocks(blocks)  # raises over any limit
    if not notify:
        check_mentions(text, blocks)


@settings(max_examples=80, deadline=None)
@given(
    text=st.one_of(
        st.text(alphabet=st.sampled_from("ab &<>\n"), min_size=1, max_size=9000),
        st.text(alphabet=st.sampled_from("a&<>"), min_size=1, max_size=9000),  # hard cuts
    ).filter(str.strip),
    limit=st.integers(min_value=40, max_value=3000),
)
def test_split_parts_fit_and_never_break_an_escaped_entity(text: str, limit: int) -> None:
    escaped = escape_mrkdwn(text)
    parts = split_for_blocks(escaped, limit=limit, max_parts=4)
    assert all(0 < len(p) <= limit for p in parts)
    for part in parts:
        body = part.removesuffix("… more")
        assert not BROKEN_ENTITY.search(body), part[-20:]
    if not parts[-1].endswith("… more"):  # nothing cut: only whitespace between parts is lost
        assert "".join("".join(parts).split()) == "".join(escaped.split())


# ---------------------------------------------------------------- edits and bookkeeping
def test_fingerprint_changes_with_what_people_see_only() -> None:
    base = campaign()
    assert fingerprint(base) == fingerprint(campaign(status="Sent", error="old"))
    for changes in (
        {"title": "x"},
        {"message": "y"},
        {"link": "https://e.org"},
        {"notify_channel": True},
    ):
        assert fingerprint(campaign(**changes)) != fingerprint(base)


def test_slack_messages_cell_round_trips() -> None:
    links = {"organizing": "https://coalition.slack.com/archives/C1/p1", "policy": "https://x/p2"}
    text = slack_messages_text(links)
    assert text.splitlines()[0].startswith("#organizing: ")
    assert parse_slack_messages(text) == links
    assert parse_slack_messages("garbage\n#: \n") == {}
