"""The Slack messages intake routing owes, as PII-free payloads with stable keys, and their rendering.

A payload holds ids, category labels (survivor types already "protected category"),
language, county, urgency words and partner names: nothing that identifies a person.
Keys are stable, so a notice recorded twice is one row and posted once.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping, Sequence
from typing import Any
from urllib.parse import quote

from coalition.intake import classify, urgency
from coalition.intake.models import Notice as NoticeState
from coalition.intake.sheet_rows import STATUS_TEXT
from coalition.privacy import guard
from coalition.references import GoogleRef, parse_google
from coalition.templating import Templates, fallback_text

REFERRAL_NOTICE = "referral_notice"
REFERRAL_DIGEST = "referral_digest"
REFERRAL_REMINDER = "referral_reminder"
TRIAGE_ALERT = "triage_alert"
APPROVAL_REQUEST = "approval_request"
APPROVAL_REMINDER = "approval_reminder"
REROUTE_NOTICE = "reroute_notice"
PARTNER_SHEET_ERROR = "partner_sheet_error"
PARTNER_TAB_ADDED = "partner_tab_added"
MAX_LINES = 40  # list lines per message, leaving room for header, context and actions in 50 blocks

TEMPLATES = {
    REFERRAL_NOTICE: "slack/referral_notice.json.j2",
    REFERRAL_DIGEST: "slack/referral_digest.json.j2",
    REFERRAL_REMINDER: "slack/referral_digest.json.j2",
    TRIAGE_ALERT: "slack/triage_alert.json.j2",
    APPROVAL_REQUEST: "slack/approval_request.json.j2",
    APPROVAL_REMINDER: "slack/approval_request.json.j2",
    REROUTE_NOTICE: "slack/reroute_notice.json.j2",
    PARTNER_SHEET_ERROR: "slack/partner_sheet_error.json.j2",
    PARTNER_TAB_ADDED: "slack/partner_tab_added.json.j2",
}
# What staff do about each cause of a partner sheet the bot cannot use.
SHEET_FIXES = {
    "bad_reference": "Put the sheet's link, id or exact title in the partner's Referral sheet field in Airtable (roster sync carries it over).",
    "not_found": "Check the Referral sheet field in Airtable, and share the sheet with the bot's account as Editor.",
    "not_shared": "Share the sheet with the bot's account as Editor.",
    "no_tab": "Rename the tab that holds other data, or name another tab in services.yaml sheets.referral_tab.",
    "refused_write": "Check the sheet's protections and the bot's Editor access.",
}


def checked(notice: NoticeState) -> NoticeState:
    """The notice, after the privacy guard found nothing personal in its payload (PIIError otherwise).

    Payloads are kept in the ledger until sent, so they are checked before they are kept.
    """
    guard.check_text(json.dumps(notice.payload, ensure_ascii=False), f"notice {notice.kind}")
    return notice


def sheet_url(reference: str) -> str:
    """The browser link of a spreadsheet given by id, canonical `id#gid=N`, link or title."""
    ref = parse_google(reference, "spreadsheet")
    if isinstance(ref, GoogleRef) and ref.id is not None:
        tail = f"#gid={ref.gid}" if ref.gid is not None else ""
        return f"https://docs.google.com/spreadsheets/d/{ref.id}/edit{tail}"
    title = ref.title if isinstance(ref, GoogleRef) else reference
    return "https://drive.google.com/drive/search?q=" + quote(f'title:"{title}"')


def group_key(prefix: str, ids: Iterable[str]) -> str:
    """A stable key for a message about a set of ids."""
    digest = hashlib.sha256("\n".join(sorted(set(ids))).encode()).hexdigest()[:16]
    return f"{prefix}:{digest}"


def case_item(
    *,
    intake_id: str,
    category: str | None,
    language: str | None,
    place: str | None,
    urgency_codes: Sequence[str] = (),
    urgent: bool = False,
    **extra: Any,
) -> dict[str, Any]:
    """One case as any message may show it."""
    return {
        "intake_id": intake_id,
        "category": classify.label(category),
        "language": language or "not stated",
        "place": place or "not stated",
        "urgent": urgent,
        "urgency": urgency.describe(tuple(urgency_codes)) if urgent else "not urgent",
        **extra,
    }


def partner_notices(
    partner_id: str,
    partner_name: str,
    channel: str,
    spreadsheet_id: str,
    items: Sequence[Mapping[str, Any]],
    threshold: int,
) -> list[NoticeState]:
    """One notice per referral, or one digest when there are more than `threshold`."""
    base = {
        "partner_id": partner_id,
        "partner_name": partner_name,
        "sheet_url": sheet_url(spreadsheet_id),
    }
    if len(items) > threshold:
        key = group_key(f"referral-digest:{partner_id}", [i["referral_id"] for i in items])
        payload = {**base, "items": [dict(i) for i in items]}
        return [checked(NoticeState(key, REFERRAL_DIGEST, channel, payload))]
    return [
        checked(
            NoticeState(
                f"referral:{item['referral_id']}",
                REFERRAL_NOTICE,
                channel,
                {**base, "item": dict(item)},
            )
        )
        for item in items
    ]


def partner_reminder(
    partner_id: str,
    partner_name: str,
    channel: str,
    spreadsheet_id: str,
    items: Sequence[Mapping[str, Any]],
) -> NoticeState:
    key = group_key(f"referral-reminder:{partner_id}", [i["referral_id"] for i in items])
    payload = {
        "partner_id": partner_id,
        "partner_name": partner_name,
        "sheet_url": sheet_url(spreadsheet_id),
        "items": [dict(i) for i in items],
    }
    return checked(NoticeState(key, REFERRAL_REMINDER, channel, payload))


def staff_notice(
    kind: str, channel: str, items: Sequence[Mapping[str, Any]], prefix: str
) -> NoticeState:
    """A list message to staff (triage alert, approval request or reminder, re-routes)."""
    key = group_key(prefix, [i["intake_id"] + ":" + str(i.get("attempt", "")) for i in items])
    return checked(NoticeState(key, kind, channel, {"items": [dict(i) for i in items]}))


WHY_CLOSED = {
    "declined": "declined",
    "expired": "got no answer in time",
    "failed": "could not be written to the partner sheet",
}
CLOSED = ("declined", "expired", "failed")
ROUTED = ("routing", "referred", "accepted")


def state_item(state: Any, **extra: Any) -> dict[str, Any]:
    """A case from its ledger record (an IntakeState), as staff messages show it."""
    return case_item(
        intake_id=state.intake_id,
        category=state.category,
        language=state.language,
        place=state.place,
        urgency_codes=tuple(state.urgency.split(",")) if state.urgency else (),
        urgent=state.urgent,
        **extra,
    )


def reroute_item(state: Any, partners: Mapping[str, str], history: Sequence[Any]) -> dict[str, Any]:
    """One re-routed case: the referral that closed, why, and where the case went next."""
    closed = [r for r in history if r.state in CLOSED]
    last = closed[-1] if closed else None
    if state.status in ROUTED:
        partner = partners.get(state.current_partner or "", state.current_partner)
        outcome = f"{state.current_referral} to {partner}"
    else:
        outcome = f"{STATUS_TEXT.get(state.status, state.status)}: {state.reason or ''}"
    return {
        "intake_id": state.intake_id,
        "attempt": len(history),
        "old_referral": last.referral_id if last else "previous referral",
        "old_partner": partners.get(last.partner_id, last.partner_id)
        if last
        else "unknown partner",
        "why": WHY_CLOSED.get(last.state, last.state) if last else "was closed",
        "outcome": outcome,
    }


def staff_notices(
    kind: str,
    states: Sequence[Any],
    channel: str,
    partners: Mapping[str, str],
    referrals: Mapping[str, Sequence[Any]],
) -> list[NoticeState]:
    """Pending staff messages of one kind as one grouped notice (IntakeStates in, no personal data out)."""
    if kind == TRIAGE_ALERT:
        items = [
            state_item(s, status=str(STATUS_TEXT[s.status]), reason=s.reason or "")
            for s in states
            if s.status in {"waitlist", "triage"}
        ]
        prefix = "triage-alert"
    elif kind == APPROVAL_REQUEST:
        items = [
            state_item(
                s, partner_name=partners.get(s.suggested_partner or "", "?"), reason=s.reason or ""
            )
            for s in states
            if s.status == "suggested"
        ]
        prefix = "approval-request"
    elif kind == REROUTE_NOTICE:
        items = [reroute_item(s, partners, referrals.get(s.intake_id, ())) for s in states]
        prefix = "reroutes"
    else:
        return []
    return [staff_notice(kind, channel, items, prefix)] if items else []


def partner_sheet_error(
    channel: str,
    partner_id: str,
    partner_name: str,
    error: str,
    count: int,
    day: str,
    cause: str = "refused_write",
) -> NoticeState:
    """One ops alert per partner, cause and day: a new one follows when the cause changes."""
    payload = {
        "partner_id": partner_id,
        "partner_name": partner_name,
        "error": error,
        "count": count,
        "fix": SHEET_FIXES.get(cause, SHEET_FIXES["refused_write"]),
    }
    return checked(
        NoticeState(
            f"ops:partner-sheet:{partner_id}:{cause}:{day}", PARTNER_SHEET_ERROR, channel, payload
        )
    )


def partner_tab_added(
    channel: str, partner_id: str, partner_name: str, tab: str, spreadsheet_id: str
) -> NoticeState:
    """Told once per partner sheet: the bot added its referral tab there."""
    payload = {
        "partner_id": partner_id,
        "partner_name": partner_name,
        "tab": tab,
        "url": sheet_url(spreadsheet_id),
    }
    return checked(
        NoticeState(
            f"ops:partner-tab:{partner_id}:{spreadsheet_id}", PARTNER_TAB_ADDED, channel, payload
        )
    )


def render(
    notice: NoticeState, templates: Templates | None = None
) -> tuple[str, list[dict[str, Any]]]:
    """(fallback text, blocks) of a notice."""
    templates = templates or Templates()
    payload = dict(notice.payload)
    context: dict[str, Any] = dict(payload)
    items = payload.get("items")
    if items is not None:
        context.update(shown=MAX_LINES, hidden=max(len(items) - MAX_LINES, 0))
    context["reminder"] = notice.kind in {REFERRAL_REMINDER, APPROVAL_REMINDER}
    if notice.kind in {APPROVAL_REQUEST, APPROVAL_REMINDER}:
        context["all_ids"] = ",".join(i["intake_id"] for i in items[:MAX_LINES])
    blocks = templates.render_blocks(TEMPLATES[notice.kind], **context)
    return fallback_text(blocks), blocks
