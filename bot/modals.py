"""Modals of the Slack app (pure): build the views, read what people submitted, find what is wrong.

Three modals: drafting a campaign (`/coalition alert`), the reason for declining a
referral, and staff's "Choose another partner". What a view needs to remember (the
referral, the message to edit) rides in `private_metadata` as JSON of ids only.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from bot.commands import DECLINE_REASONS
from coalition.templating import render_blocks

ALERT_CALLBACK = "campaign_draft"
DECLINE_CALLBACK = "referral_decline_reason"
CHOOSE_CALLBACK = "intake_choose_partner"
_URL = re.compile(r"^https?://[^\s<>|]+$", re.IGNORECASE)
_MAX_METADATA = 3000  # Slack's private_metadata limit


def _view(callback_id: str, title: str, submit: str, blocks: list, metadata: Mapping) -> dict:
    private = json.dumps(dict(metadata), separators=(",", ":"))
    if len(private) > _MAX_METADATA:
        raise ValueError("private_metadata over Slack's 3,000 characters")
    return {
        "type": "modal",
        "callback_id": callback_id,
        "title": {"type": "plain_text", "text": title[:24]},
        "submit": {"type": "plain_text", "text": submit[:24]},
        "close": {"type": "plain_text", "text": "Cancel"},
        "private_metadata": private,
        "blocks": blocks,
    }


def metadata(view: Mapping[str, Any]) -> dict[str, Any]:
    """A submitted view's private_metadata (an empty dict if it is not ours)."""
    try:
        data = json.loads(view.get("private_metadata") or "{}")
    except ValueError:
        return {}
    return data if isinstance(data, dict) else {}


def value_of(view: Mapping[str, Any], block_id: str) -> Any:
    """What the person chose or typed in one input block (`action_id` "value")."""
    state = ((view.get("state") or {}).get("values") or {}).get(block_id) or {}
    element = state.get("value") or {}
    if "selected_option" in element:
        option = element.get("selected_option") or {}
        return option.get("value")
    if "selected_options" in element:
        return [o.get("value") for o in element.get("selected_options") or [] if o]
    return element.get("value")


# ---------------------------------------------------------------- campaign draft
@dataclass(frozen=True)
class CampaignDraft:
    """What an organizer typed in the alert modal (unescaped; escaped wherever it is shown)."""

    title: str
    message: str
    call_to_action: str = ""
    link: str = ""
    channels: tuple[str, ...] = ()
    regions: tuple[str, ...] = ()

    def airtable_fields(self) -> dict[str, Any]:
        fields: dict[str, Any] = {"Title": self.title, "Message": self.message, "Status": "Draft"}
        if self.call_to_action:
            fields["Call to action"] = self.call_to_action
        if self.link:
            fields["Link"] = self.link
        if self.channels:
            fields["Channels"] = list(self.channels)
        if self.regions:
            fields["Regions"] = list(self.regions)
        return fields


def alert_view(
    channel_id: str, channel_name: str, channels: Sequence[str], regions: Sequence[str]
) -> dict:
    blocks = render_blocks(
        "slack/bot_modal_alert.json.j2", channels=list(channels), regions=list(regions)
    )
    meta = {"c": channel_id, "n": channel_name[:80]}
    return _view(ALERT_CALLBACK, "Draft a campaign", "Save draft", blocks, meta)


def read_campaign(
    view: Mapping[str, Any], channels: Sequence[str], regions: Sequence[str]
) -> tuple[CampaignDraft | None, dict[str, str]]:
    """The draft, or the errors to show next to each input (Slack's response_action errors)."""
    title = " ".join(str(value_of(view, "title") or "").split())
    message = str(value_of(view, "message") or "").strip()
    cta = " ".join(str(value_of(view, "call_to_action") or "").split())
    link = str(value_of(view, "link") or "").strip()
    picked_channels = tuple(c for c in value_of(view, "channels") or [] if c in channels)
    picked_regions = tuple(r for r in value_of(view, "regions") or [] if r in regions)
    errors: dict[str, str] = {}
    if not title:
        errors["title"] = "A campaign needs a title."
    if not message:
        errors["message"] = "A campaign needs a message."
    if link and not _URL.match(link):
        errors["link"] = "Use a full link starting with https://"
    if errors:
        return None, errors
    return CampaignDraft(title, message, cta, link, picked_channels, picked_regions), {}


# ---------------------------------------------------------------- decline reason
def decline_view(referral_id: str, channel_id: str, channel_name: str, message_ts: str) -> dict:
    blocks = render_blocks(
        "slack/bot_modal_decline.json.j2",
        referral_id=referral_id,
        reasons=list(DECLINE_REASONS.items()),
    )
    meta = {"r": referral_id, "c": channel_id, "n": channel_name[:80], "ts": message_ts}
    return _view(DECLINE_CALLBACK, "Decline referral", "Decline", blocks, meta)


def read_decline(view: Mapping[str, Any]) -> tuple[str | None, dict[str, str]]:
    """The reason code chosen, or the error to show."""
    reason = value_of(view, "reason")
    if reason not in DECLINE_REASONS:
        return None, {"reason": "Choose a reason."}
    return str(reason), {}


# ---------------------------------------------------------------- choose another partner
@dataclass(frozen=True)
class CaseChoices:
    """One case of an approval request: its explanation and the partners staff may pick."""

    intake_id: str
    summary: str  # escaped
    fits: tuple[str, ...] = ()  # escaped lines
    excluded: tuple[str, ...] = ()
    partners: Mapping[str, str] = field(default_factory=dict)  # member id -> name (fitting ones)


def choose_partner_view(cases: Sequence[CaseChoices], channel_id: str, message_ts: str) -> dict:
    options: dict[str, str] = {}
    for case in cases:
        options.update(case.partners)
    blocks = render_blocks(
        "slack/bot_modal_choose_partner.json.j2",
        cases=[vars(c) for c in cases],
        case_options=[c.intake_id for c in cases],
        partner_options=sorted(options.items(), key=lambda kv: kv[1]),
    )
    meta = {"c": channel_id, "ts": message_ts, "cases": [c.intake_id for c in cases]}
    return _view(CHOOSE_CALLBACK, "Choose a partner", "Send it there", blocks, meta)


def read_choice(
    view: Mapping[str, Any], fits: Mapping[str, Sequence[str]]
) -> tuple[tuple[str, str] | None, dict[str, str]]:
    """(intake id, partner id) picked, checked against the partners that fit that case."""
    cases = [str(c) for c in metadata(view).get("cases") or []]
    intake_id = cases[0] if len(cases) == 1 else value_of(view, "case")
    partner_id = value_of(view, "partner")
    if intake_id not in cases:
        return None, {"case": "Choose one of the cases listed."}
    if not partner_id:
        return None, {"partner": "Choose a partner."}
    if partner_id not in (fits.get(intake_id) or ()):
        block = "partner"
        return None, {block: f"That partner does not fit {intake_id}; pick one listed for it."}
    return (str(intake_id), str(partner_id)), {}


__all__ = [
    "ALERT_CALLBACK",
    "CHOOSE_CALLBACK",
    "DECLINE_CALLBACK",
    "CampaignDraft",
    "CaseChoices",
    "alert_view",
    "choose_partner_view",
    "decline_view",
    "metadata",
    "read_campaign",
    "read_choice",
    "read_decline",
    "value_of",
]
