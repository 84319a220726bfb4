"""Campaign decisions (pure): which campaigns are due, quiet hours, where each goes, what its message says.

A campaign (Airtable `Campaigns`) whose Status is Ready and whose `Send at` has passed
is posted to every channel named in its `Channels` plus every channel that
config/alerts.yaml `region_channels` maps its `Regions` to (both lists, deduplicated:
an organizer who picks "organizing" and "Southwest" means both). After posting, the
record turns Sent; editing a Sent campaign's title, message, call to action or link
edits the posted messages in place, and Cancelled turns them into a short
cancellation notice. A Sent or Cancelled campaign the bot never posted (sent by hand,
before the bot) is left alone.

Quiet hours (org time zone) hold the first post of a non-urgent campaign until they
end; edits and cancellations are never held, because an edit notifies nobody and a
stale call to action is worse than a late one.

Everything staff typed is escaped here (`&`, `<`, `>`), so `<!channel>` or `<@U123>` in
a message shows as text; the only real ping is the bot's own `<!channel>`, added when
the `Notify channel` box is ticked. Long messages are split into sections within
Slack's 3,000-character limit and cut, past a few sections, with a "more" link to
the campaign's Link, so a message never comes back `invalid_blocks`.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any, Literal
from zoneinfo import ZoneInfo

from coalition.privacy import escape_mrkdwn
from coalition.settings import CampaignFields, QuietHours
from coalition.templating import truncate

READY, SENT, CANCELLED, DRAFT = "Ready", "Sent", "Cancelled", "Draft"
DESIGN_NAMES = CampaignFields()  # config/fields.yaml airtable.campaigns.fields overrides them
FIELDS = tuple(DESIGN_NAMES.all())
SECTION_LIMIT = 3000  # Slack's section text limit
MAX_SECTIONS = 4  # about 12,000 characters: past that a message is an article, so "more" links it
URL_LIMIT = 3000  # Slack's button url limit
NOTIFY = "<!channel>"
_URL = re.compile(r"^https?://[^\s<>|]+$", re.IGNORECASE)

Kind = Literal["post", "sync", "cancel", "hold", "error", "skip"]


@dataclass(frozen=True)
class Campaign:
    """One `Campaigns` record, as typed by organizers (unescaped)."""

    record_id: str
    title: str = ""
    message: str = ""
    call_to_action: str = ""
    link: str = ""
    channels: tuple[str, ...] = ()
    regions: tuple[str, ...] = ()
    status: str = ""
    send_at: datetime | None = None
    send_at_text: str = ""
    notify_channel: bool = False
    urgent: bool = False
    slack_messages: str = ""
    error: str = ""


@dataclass(frozen=True)
class CampaignDecision:
    """What to do with a campaign this run, and why (a hold's or an error's reason)."""

    campaign: Campaign
    kind: Kind
    channels: tuple[str, ...] = ()
    reason: str = ""


@dataclass(frozen=True)
class CampaignContent:
    """A campaign message ready for the template: every string already escaped for Slack."""

    title: str
    sections: tuple[str, ...]
    call_to_action: str
    link: str | None
    notify: bool
    urgent: bool


# ---------------------------------------------------------------- reading records
def _text(fields: Mapping[str, Any], name: str) -> str:
    value = fields.get(name)
    return value.strip() if isinstance(value, str) else ""


def _names(fields: Mapping[str, Any], name: str) -> tuple[str, ...]:
    value = fields.get(name) or []
    if isinstance(value, str):
        value = [value]
    return tuple(str(v).strip() for v in value if str(v).strip())


def parse_datetime(value: Any) -> datetime | None:
    """An Airtable dateTime ("2026-11-27T14:00:00.000Z") as an aware datetime; None if it is not one."""
    if not isinstance(value, str) or not value.strip():
        return None
    try:
        moment = datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
    except ValueError:
        return None
    return moment if moment.tzinfo else None


def parse_campaign(record: Mapping[str, Any], names: CampaignFields = DESIGN_NAMES) -> Campaign:
    """A Campaign from an Airtable record ({"id", "fields"}) read under `names`; missing fields are empty."""
    fields = record.get("fields") or {}
    return Campaign(
        record_id=str(record["id"]),
        title=_text(fields, names.title),
        message=_text(fields, names.message),
        call_to_action=_text(fields, names.call_to_action),
        link=_text(fields, names.link),
        channels=tuple(c.lstrip("#") for c in _names(fields, names.channels)),
        regions=_names(fields, names.regions),
        status=_text(fields, names.status),
        send_at=parse_datetime(fields.get(names.send_at)),
        send_at_text=str(fields.get(names.send_at) or ""),
        notify_channel=bool(fields.get(names.notify_channel)),
        urgent=bool(fields.get(names.urgent)),
        slack_messages=_text(fields, names.slack_messages),
        error=_text(fields, names.error),
    )


# ---------------------------------------------------------------- where it goes
def campaign_channels(
    campaign: Campaign, region_channels: Mapping[str, str]
) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """(channel names, regions config does not know): its Channels, then its Regions' channels."""
    names = list(campaign.channels)
    unknown: list[str] = []
    for region in campaign.regions:
        channel = region_channels.get(region)
        if channel:
            names.append(channel.lstrip("#"))
        else:
            unknown.append(region)
    return tuple(dict.fromkeys(names)), tuple(unknown)


def message_key(record_id: str, channel_id: str) -> str:
    """The exactly-once key of a campaign's message in one channel."""
    return f"campaign:{record_id}:{channel_id}"


def key_prefix(record_id: str) -> str:
    return f"campaign:{record_id}:"


# ---------------------------------------------------------------- when it goes
def in_quiet_hours(moment: datetime, quiet: QuietHours | None, tz: ZoneInfo) -> bool:
    """True when `moment` falls in the quiet hours (which may span midnight) in the org's time zone."""
    if quiet is None or quiet.start == quiet.end:
        return False
    local = moment.astimezone(tz).time()
    if quiet.start < quiet.end:
        return quiet.start <= local < quiet.end
    return local >= quiet.start or local < quiet.end


def quiet_hours_end(moment: datetime, quiet: QuietHours, tz: ZoneInfo) -> datetime:
    """The first time quiet hours end after `moment` (org time zone, DST-aware)."""
    local = moment.astimezone(tz)
    day: date = local.date()
    for offset in range(2):
        candidate = datetime.combine(day + timedelta(days=offset), quiet.end, tzinfo=tz)
        if candidate > local:
            return candidate
    return datetime.combine(day + timedelta(days=2), quiet.end, tzinfo=tz)  # pragma: no cover


def _problems(
    campaign: Campaign, unknown_regions: tuple[str, ...], channels: tuple[str, ...]
) -> str:
    """Why a Ready campaign cannot go out, in words for the organizer; "" when it can."""
    problems: list[str] = []
    if campaign.send_at is None:
        problems.append(
            "Send at is empty: set when to send it"
            if not campaign.send_at_text
            else "Send at is not a date and time"
        )
    if not campaign.title:
        problems.append("Title is empty")
    if not campaign.message:
        problems.append("Message is empty")
    if campaign.link and not valid_link(campaign.link):
        problems.append("Link is not a web address (it must start with https://)")
    if unknown_regions:
        listed = ", ".join(unknown_regions)
        problems.append(f"no channel for region {listed} in config/alerts.yaml region_channels")
    if not channels and not unknown_regions:
        problems.append("no Channels or Regions: pick where to post it")
    return "; ".join(problems)


def valid_link(link: str) -> bool:
    return bool(_URL.match(link)) and len(link) <= URL_LIMIT


def decide(
    campaign: Campaign,
    now: datetime,
    posted: bool,
    region_channels: Mapping[str, str],
    quiet: QuietHours | None,
    tz: ZoneInfo,
) -> CampaignDecision:
    """What to do with one campaign; `posted` says whether the ledger holds any message of it."""
    status = campaign.status
    if status == SENT:
        return CampaignDecision(campaign, "sync" if posted else "skip")
    if status == CANCELLED:
        return CampaignDecision(campaign, "cancel" if posted else "skip")
    if status != READY:
        return CampaignDecision(campaign, "skip")
    channels, unknown = campaign_channels(campaign, region_channels)
    problem = _problems(campaign, unknown, channels)
    if problem:
        return CampaignDecision(campaign, "error", channels, problem)
    assert campaign.send_at is not None  # checked by _problems
    if campaign.send_at > now:
        return CampaignDecision(campaign, "skip", channels)
    # A campaign already partly posted (a crash mid-way) is finished now: half a campaign
    # in the morning would be worse than a whole one at night.
    if not campaign.urgent and not posted and in_quiet_hours(now, quiet, tz):
        assert quiet is not None
        until = quiet_hours_end(now, quiet, tz).strftime("%H:%M")
        return CampaignDecision(campaign, "hold", channels, f"quiet hours until {until}")
    return CampaignDecision(campaign, "post", channels)


# ---------------------------------------------------------------- what it says
def _cut_point(text: str, limit: int) -> int:
    """Where to end a part of at most `limit` characters: a paragraph, a line, a word, or hard."""
    for separator in ("\n\n", "\n", " "):
        at = text.rfind(separator, 0, limit + 1)
        if at > limit // 3:
            return at
    cut = limit
    amp = text.rfind("&", 0, cut)
    if amp != -1 and amp > text.rfind(";", 0, cut) and cut - amp < 5:
        cut = amp  # never split an escaped entity such as &amp;
    return cut


def split_for_blocks(
    text: str,
    limit: int = SECTION_LIMIT,
    max_parts: int = MAX_SECTIONS,
    more_url: str | None = None,
) -> list[str]:
    """Escaped mrkdwn cut into parts of at most `limit` characters; the last cut ends "… more"."""
    parts: list[str] = []
    rest = text.strip()
    while rest:
        if len(rest) <= limit:
            parts.append(rest)
            break
        if len(parts) == max_parts - 1:
            parts.append(truncate(rest, limit, more_url))
            break
        cut = _cut_point(rest, limit)
        parts.append(rest[:cut].rstrip())
        rest = rest[cut:].lstrip()
    return parts


def campaign_content(campaign: Campaign) -> CampaignContent:
    """The message of a campaign, escaped and within Block Kit limits."""
    link = campaign.link if valid_link(campaign.link) else None
    call = campaign.call_to_action or ("Open the link" if link else "")
    return CampaignContent(
        title=escape_mrkdwn(campaign.title),
        sections=tuple(split_for_blocks(escape_mrkdwn(campaign.message), more_url=link)),
        call_to_action=escape_mrkdwn(call),
        link=link,
        notify=campaign.notify_channel,
        urgent=campaign.urgent,
    )


def fingerprint(campaign: Campaign) -> str:
    """A hash of what people see of a campaign (to notice an edit made while it was being sent)."""
    shown = [
        campaign.title,
        campaign.message,
        campaign.call_to_action,
        campaign.link,
        campaign.notify_channel,
        campaign.urgent,
    ]
    return hashlib.sha256(json.dumps(shown, ensure_ascii=False).encode("utf-8")).hexdigest()


def slack_messages_text(links: Mapping[str, str]) -> str:
    """The bot-owned `Slack messages` cell: one "#channel: permalink" line per channel, sorted."""
    return "\n".join(f"#{name}: {url}" for name, url in sorted(links.items()))


def parse_slack_messages(text: str) -> dict[str, str]:
    """The inverse of `slack_messages_text` (lines that do not fit are ignored)."""
    links: dict[str, str] = {}
    for line in text.splitlines():
        name, sep, url = line.partition(": ")
        if sep and name.startswith("#") and url.strip():
            links[name[1:].strip()] = url.strip()
    return links


__all__ = [
    "CANCELLED",
    "DRAFT",
    "FIELDS",
    "READY",
    "SENT",
    "Campaign",
    "CampaignContent",
    "CampaignDecision",
    "campaign_channels",
    "campaign_content",
    "decide",
    "fingerprint",
    "in_quiet_hours",
    "message_key",
    "parse_campaign",
    "quiet_hours_end",
    "slack_messages_text",
    "split_for_blocks",
]
