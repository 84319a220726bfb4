"""`/coalition` text into commands, and answers into Slack messages (pure: no network, no ledger).

`parse` turns whatever a person typed into a `Command`; anything unknown, malformed or
oversized becomes `help` with a short reason, and nothing typed is ever echoed back
unescaped. The `render_*` functions turn plain data (filled by bot/data.py) into
(text, blocks) from the templates/slack/bot_*.json.j2 templates, every user-supplied
string escaped for mrkdwn there.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from bot.access import PERMISSIONS, Actor
from coalition.alerts.bills import Bill
from coalition.intake import classify
from coalition.intake.ids import normalize_intake_id
from coalition.privacy import escape_mrkdwn
from coalition.templating import render_message

Message = tuple[str, list[dict[str, Any]]]

MAX_TEXT = 300  # longer than any real command: treated as malformed, never parsed or echoed
MAX_ECHO = 60  # how much of a bad argument an answer quotes back (escaped)
MAX_NAME = 100
MAX_BILL_ID = 40
_REFERRAL_ID = re.compile(r"^REF-[0-9A-HJKMNP-TV-Z]{10}-\d{1,3}$")
_ISO_WEEK = re.compile(r"^(\d{4})-?W(\d{1,2})$")
_USER_ID = re.compile(r"^[UW][A-Z0-9]{2,20}$")

COMMANDS: tuple[tuple[str, str, str], ...] = (
    ("help", "help", "this list"),
    ("referral", "referral REF-…", "status and history of one referral"),
    ("intake", "intake [today|week]", "intake counts by status and category, no personal data"),
    ("member", "member NAME", "a member organization's roster entry"),
    ("bill", "bill ID", "one tracked bill and its status"),
    ("bills", "bills", "every tracked bill and its status"),
    ("alert", "alert", "draft a campaign; staff approve it before it goes out"),
    ("summary", "summary [WEEK]", "start the weekly summary (e.g. 2026-W48) and get its link"),
    ("status", "status", "the last run of each flow"),
    ("run", "run FLOW", "start a flow run now"),
    ("why", "why INTAKE-ID", "which partners were considered for an intake, and why"),
    (
        "needs",
        "needs [COUNTY|STATE] [MONTH]",
        "unmet need: the waitlist by county and case type (e.g. 2026-11)",
    ),
    ("outcomes", "outcomes [PARTNER]", "referral outcomes over 12 weeks; partners see their own"),
)
NO_ARGUMENT = {"help", "bills", "alert", "status"}


@dataclass(frozen=True)
class Command:
    """A parsed `/coalition` command; `problem` says why it fell back to help."""

    name: str
    arg: str | None = None
    problem: str | None = None
    month: str | None = None  # `needs`: YYYY-MM

    @property
    def audit_target(self) -> str | None:
        """What the ledger may keep of the argument: ids and names the bot owns, never free text.

        `member` and `bill` take free text (anyone may type anything there, a client's name
        too), and `why` reads an Intake ID out of any ten letters and digits (a phone
        typed as 312-555-0142, a name such as "Maria Lopez"): nothing of theirs is kept
        here. Their answers record the tracked bill's number, or the Intake ID, once the
        bot found it.
        """
        if self.name == "needs" and not self.problem:
            return self.month  # the place typed is free text: not kept
        if self.problem or self.arg is None:
            return None
        if self.name in {"referral", "run", "summary", "intake"}:
            return self.arg[:80]
        return None


def _help(problem: str) -> Command:
    return Command("help", problem=problem)


def quote(text: str, limit: int = MAX_ECHO) -> str:
    """User text made safe to show back: one line, clipped, mrkdwn-escaped, in backticks-free form."""
    flat = " ".join(text.split())
    if len(flat) > limit:
        flat = flat[: limit - 1] + "…"
    return escape_mrkdwn(flat.replace("`", "'"))


def normalize_referral_id(text: str) -> str | None:
    """REF-7K3M9Q2XPA-1 as typed in any case (also R-…), or None."""
    code = text.strip().upper()
    for prefix in ("REF-", "R-"):
        if code.startswith(prefix):
            # Crockford base 32 reads O as 0 and I, L as 1, as Intake IDs do.
            rest = code.removeprefix(prefix).translate(str.maketrans("OIL", "011"))
            candidate = "REF-" + rest
            return candidate if _REFERRAL_ID.match(candidate) else None
    return None


def normalize_week(text: str) -> str | None:
    """An ISO week like 2026-W48 (also 2026W48, 2026-w8), or None if it is not a real week."""
    match = _ISO_WEEK.match(text.strip().upper())
    if not match:
        return None
    year, week = int(match.group(1)), int(match.group(2))
    try:
        date.fromisocalendar(year, week, 1)
    except ValueError:
        return None
    return f"{year}-W{week:02d}"


def parse(text: str | None, flows: Iterable[str] = ()) -> Command:
    """The command in what a person typed after /coalition."""
    raw = text or ""
    if len(raw) > MAX_TEXT:
        return _help("too_long")
    words = raw.split()
    if not words:
        return Command("help")
    name, rest = words[0].lower(), " ".join(words[1:])
    if name in {"help", "?", "-h", "--help"}:
        return Command("help") if not rest else _help("unknown")
    if name not in PERMISSIONS or name.startswith(("referral_", "intake_", "campaign_")):
        return _help("unknown")
    if name in NO_ARGUMENT:
        return Command(name) if not rest else _help(f"{name}_takes_nothing")
    return _PARSERS[name](rest, tuple(flows))


def _referral(rest: str, _flows: tuple[str, ...]) -> Command:
    found = normalize_referral_id(rest) if rest else None
    return Command("referral", found) if found else _help("referral_id")


def _intake(rest: str, _flows: tuple[str, ...]) -> Command:
    period = rest.lower() or "today"
    return Command("intake", period) if period in {"today", "week"} else _help("intake_period")


def _member(rest: str, _flows: tuple[str, ...]) -> Command:
    if not rest or len(rest) > MAX_NAME:
        return _help("member_name")
    return Command("member", rest)


def _bill(rest: str, _flows: tuple[str, ...]) -> Command:
    if not rest or len(rest) > MAX_BILL_ID:
        return _help("bill_id")
    return Command("bill", rest)


def _summary(rest: str, _flows: tuple[str, ...]) -> Command:
    if not rest:
        return Command("summary")
    week = normalize_week(rest)
    return Command("summary", week) if week else _help("week")


def _run(rest: str, flows: tuple[str, ...]) -> Command:
    name = rest.strip().lower()
    return Command("run", name) if name in flows else _help("flow")


def _why(rest: str, _flows: tuple[str, ...]) -> Command:
    found = normalize_intake_id(rest) if rest else None
    return Command("why", found) if found else _help("intake_id")


_YEAR_MONTH = re.compile(r"^(\d{4})-(\d{1,2})$")
_MONTHS = {
    name: n
    for n in range(1, 13)
    for name in (date(2000, n, 1).strftime("%B").lower(), date(2000, n, 1).strftime("%b").lower())
}


def _month_at_end(words: list[str]) -> tuple[list[str], str | None, bool]:
    """(the words before it, the month as YYYY-MM, whether a month was meant but is not real)."""
    if not words:
        return words, None, False
    match = _YEAR_MONTH.match(words[-1])
    if match:
        year, month = int(match.group(1)), int(match.group(2))
        if not 1 <= month <= 12 or year < 2000:
            return words, None, True
        return words[:-1], f"{year:04d}-{month:02d}", False
    if len(words) >= 2 and words[-1].isdigit() and words[-2].lower() in _MONTHS:
        return words[:-2], f"{int(words[-1]):04d}-{_MONTHS[words[-2].lower()]:02d}", False
    if words[-1].lower() in _MONTHS:  # a month name alone: the latest such month, said later
        return words[:-1], f"0000-{_MONTHS[words[-1].lower()]:02d}", False
    return words, None, False


def _needs(rest: str, _flows: tuple[str, ...]) -> Command:
    words, month, bad = _month_at_end(rest.split())
    if bad:
        return _help("needs_month")
    place = " ".join(words)
    if len(place) > MAX_NAME:
        return _help("needs_place")
    return Command("needs", place or None, month=month)


def _outcomes(rest: str, _flows: tuple[str, ...]) -> Command:
    if len(rest) > MAX_NAME:
        return _help("member_name")
    return Command("outcomes", rest or None)


_PARSERS = {
    "needs": _needs,
    "outcomes": _outcomes,
    "referral": _referral,
    "intake": _intake,
    "member": _member,
    "bill": _bill,
    "summary": _summary,
    "run": _run,
    "why": _why,
}

PROBLEMS = {
    "unknown": "I did not recognise that command.",
    "too_long": "That was far longer than any command, so I did not read it.",
    "referral_id": "`referral` needs a Referral ID such as REF-7K3M9Q2XPA-1.",
    "intake_period": "`intake` takes `today` or `week`.",
    "member_name": "`member` needs an organization's name (up to 100 characters).",
    "bill_id": "`bill` needs a bill number such as HB 1234.",
    "week": "`summary` takes an ISO week such as 2026-W48.",
    "flow": "`run` needs one of the flow names listed below.",
    "intake_id": "`why` needs an Intake ID such as INT-7K3M9Q2XPA.",
    "needs_month": "`needs` takes a month such as 2026-11 or November 2026.",
    "needs_place": "`needs` takes a county or state name (up to 100 characters).",
}


# ---------------------------------------------------------------- times
def local_time(moment: datetime | None, tz: ZoneInfo) -> str:
    """A time as staff read it: 'Mon 4 May 14:03 EDT', or 'never'."""
    if moment is None:
        return "never"
    here = moment.astimezone(tz)
    return f"{here:%a} {here.day} {here:%b %H:%M %Z}".strip()


def mention(user_id: str | None) -> str:
    """<@U123> for a real Slack user id; anything else (the bot, a sheet) as plain words."""
    if user_id and _USER_ID.match(user_id):
        return f"<@{user_id}>"
    return escape_mrkdwn(user_id or "someone")


# ---------------------------------------------------------------- help and short notes
def render_help(actor: Actor, problem: str | None = None, flows: Sequence[str] = ()) -> Message:
    """The commands this person may use, with the reason their text fell back to help."""
    usable = [
        {"usage": usage, "what": what}
        for name, usage, what in COMMANDS
        if actor.role in PERMISSIONS[name]
    ]
    show_flows = list(flows) if actor.is_admin else []
    return render_message(
        "slack/bot_help.json.j2",
        problem=PROBLEMS.get(problem or "", "") if problem else "",
        commands=usable,
        guest=actor.role == "guest",
        flows=show_flows,
    )


def render_note(lines: Sequence[str], title: str = "") -> Message:
    """A short answer: a title and mrkdwn lines (escape user text before passing it)."""
    return render_message("slack/bot_note.json.j2", title=title, lines=list(lines))


# ---------------------------------------------------------------- referral
@dataclass(frozen=True)
class ReferralView:
    """One referral as `/coalition referral` shows it: ids, codes, times, who acted."""

    referral_id: str
    intake_id: str
    partner_name: str
    state: str
    category: str | None = None
    urgent: bool = False
    created_at: datetime | None = None
    decided_at: datetime | None = None
    decided_by: str | None = None
    decline_reason: str | None = None
    intake_status: str | None = None
    current_referral: str | None = None
    events: tuple[tuple[datetime, str, str | None], ...] = ()
    partner_id: str = ""


STATE_WORDS = {
    "claimed": "being delivered to the partner",
    "written": "in the partner's sheet, waiting for the partner's answer",
    "notified": "waiting for the partner's answer",
    "accepted": "accepted",
    "declined": "declined",
    "expired": "expired without an answer",
    "failed": "could not be delivered (partner sheet unavailable)",
}


# What happened to a referral, as its history lists it; None: an internal step, not shown.
HISTORY_WORDS: dict[str, str | None] = {
    "claimed": None,
    "written": "added to the partner's referral sheet",
    "notified": "partner told in its Slack channel",
    "reminded": "partner reminded",
    "accepted": "accepted",
    "declined": "declined",
    "expired": "closed: no answer in time",
    "failed": "could not be delivered (partner sheet unavailable)",
}


def _who(actor: str | None) -> str:
    """A person who acted (a mention), or "someone" for the bot itself (not shown)."""
    return "someone" if actor in (None, "", "bot") else mention(actor)


def render_referral(view: ReferralView, tz: ZoneInfo) -> Message:
    """Status and history of one referral."""
    rerouted = view.current_referral not in (None, view.referral_id)
    history = [
        {"when": local_time(at, tz), "what": words, "who": _who(actor)}
        for at, event, actor in view.events
        if (words := HISTORY_WORDS.get(event, event.replace("_", " ")))  # internal steps: not shown
    ]
    return render_message(
        "slack/bot_referral.json.j2",
        referral_id=view.referral_id,
        intake_id=view.intake_id,
        partner=view.partner_name,
        state=STATE_WORDS.get(view.state, view.state),
        category=classify.label(view.category),
        urgent=view.urgent,
        created=local_time(view.created_at, tz),
        decided=local_time(view.decided_at, tz) if view.decided_at else "",
        decided_by=mention(view.decided_by) if view.decided_by else "",
        decline_reason=DECLINE_REASONS.get(view.decline_reason or "", view.decline_reason or ""),
        rerouted_to=view.current_referral if rerouted else "",
        history=history[-15:],
        hidden=max(len(history) - 15, 0),
    )


# ---------------------------------------------------------------- intake counts
@dataclass(frozen=True)
class IntakeCounts:
    """Intakes received in a period, counted by status and by broad category."""

    period: str  # "today" | "week"
    since: date
    by_status: Mapping[str, int] = field(default_factory=dict)
    by_category: Mapping[str, int] = field(default_factory=dict)
    urgent: int = 0
    undated: int = 0  # no received time: in no period's counts, here as in the weekly Doc

    @property
    def total(self) -> int:
        return sum(self.by_status.values())


STATUS_LABELS = {
    "review": "Needs review",
    "duplicate": "Duplicate",
    "triage": "Staff triage",
    "waitlist": "Waitlist",
    "suggested": "Waiting for approval",
    "approved": "Approved",
    "routing": "Routing",
    "reroute": "Re-routing",
    "referred": "Referred",
    "accepted": "Accepted",
}


def render_intake_counts(counts: IntakeCounts) -> Message:
    """Counts only: no Intake IDs, no places, nothing about a person."""
    statuses = sorted(counts.by_status.items(), key=lambda kv: (-kv[1], kv[0]))
    categories: dict[str, int] = {}
    for category, n in counts.by_category.items():
        label = classify.label(category or None)
        categories[label] = categories.get(label, 0) + n
    return render_message(
        "slack/bot_intake_counts.json.j2",
        period="today" if counts.period == "today" else "this week",
        since=counts.since.isoformat(),
        total=counts.total,
        urgent=counts.urgent,
        undated=counts.undated,
        statuses=[(STATUS_LABELS.get(s, s), str(n)) for s, n in statuses][:10],
        categories=[(c, str(n)) for c, n in sorted(categories.items(), key=lambda kv: -kv[1])][:10],
    )


# ---------------------------------------------------------------- member card
@dataclass(frozen=True)
class MemberCard:
    """An organization's roster entry; `phone` only filled for staff."""

    name: str
    type: str = ""
    state: str = ""
    counties: tuple[str, ...] = ()
    services: tuple[str, ...] = ()
    languages: tuple[str, ...] = ()
    accepting: bool | None = None
    capacity: int | None = None
    membership: str = ""
    contact_role: str = ""
    phone: str | None = None


def render_member(card: MemberCard, others: Sequence[str] = ()) -> Message:
    """One member's card (and other names that matched, when the match was not unique)."""

    def listed(values: Sequence[str]) -> str:
        return ", ".join(values) if values else "—"

    pairs = [
        ("Type", card.type or "—"),
        ("State", card.state or "—"),
        ("Counties", listed(card.counties)),
        ("Services", listed(card.services)),
        ("Languages", listed(card.languages)),
        ("Weekly capacity", "—" if card.capacity is None else str(card.capacity)),
        ("Accepting referrals", {True: "yes", False: "no", None: "—"}[card.accepting]),
        ("Membership", card.membership or "—"),
        ("Contact", card.contact_role or "no primary contact on file"),
    ]
    if card.phone:
        pairs.append(("Contact phone (staff only)", card.phone))
    return render_message(
        "slack/bot_member.json.j2", org=card.name, pairs=pairs, others=list(others)[:5]
    )


def render_member_choices(query: str, names: Sequence[str]) -> Message:
    """Several organizations match: ask which one."""
    lines = [f"Several members match “{quote(query)}”. Which one?"]
    lines += [f"• `/coalition member {escape_mrkdwn(n)}`" for n in names[:10]]
    return render_note(lines)


# ---------------------------------------------------------------- bills
def _bill_context(bill: Bill) -> dict[str, Any]:
    url = bill.source_url
    safe_url = url if url.lower().startswith(("https://", "http://")) else ""
    return {**vars(bill), "url": safe_url}


def render_bills(bills: Sequence[Bill], shown: int = 20, single: bool = False) -> Message:
    """Tracked bills, most recently moved first (at most `shown` listed)."""
    ordered = sorted(bills, key=lambda b: (b.last_action_date or "", b.bill), reverse=True)
    return render_message(
        "slack/bot_bills.json.j2",
        bills=[_bill_context(b) for b in ordered[:shown]],
        total=len(ordered),
        hidden=max(len(ordered) - shown, 0),
        single=single,
    )


def bill_key(text: str) -> str:
    """A bill number for matching: 'H.B. 1234', 'hb1234' and 'HB 1234' are the same bill."""
    return re.sub(r"[^0-9a-z]", "", text.casefold())


# ---------------------------------------------------------------- flows
@dataclass(frozen=True)
class FlowStatus:
    """The last run of one flow."""

    flow: str
    state: str
    when: datetime | None = None
    url: str = ""


def status_words(row: FlowStatus, tz: ZoneInfo) -> str:
    """'Completed, Mon 7 Dec 14:05 EST', 'healthy since Mon 7 Dec 14:05 EST', 'no run yet'."""
    if row.when is None:
        return row.state
    joint = " " if row.state.endswith(" since") else ", "
    return f"{row.state}{joint}{local_time(row.when, tz)}"


def render_status(rows: Sequence[FlowStatus], source: str, tz: ZoneInfo) -> Message:
    """Last run of each flow, and where that knowledge came from (Prefect or the bot's ledger)."""
    return render_message(
        "slack/bot_status.json.j2",
        rows=[{"flow": r.flow, "state": status_words(r, tz), "url": r.url} for r in rows],
        source=source,
    )


# ---------------------------------------------------------------- why
def render_why(lines: Sequence[str]) -> Message:
    """An intake's routing explanation (lines from coalition.intake.explain), escaped."""
    return render_message(
        "slack/bot_why.json.j2",
        summary=escape_mrkdwn(lines[0]) if lines else "",
        lines=[escape_mrkdwn(line) for line in lines[1:]],
    )


# ---------------------------------------------------------------- decline reasons
DECLINE_REASONS: dict[str, str] = {
    "no_capacity": "No capacity right now",
    "conflict": "Conflict of interest",
    "not_our_service": "Outside the services we offer",
    "not_our_area": "Outside the area we serve",
    "language": "We cannot serve this language",
    "eligibility": "Does not meet our eligibility rules",
    "other": "Another reason",
}


__all__ = [
    "COMMANDS",
    "DECLINE_REASONS",
    "Command",
    "FlowStatus",
    "IntakeCounts",
    "MemberCard",
    "ReferralView",
    "bill_key",
    "local_time",
    "mention",
    "normalize_referral_id",
    "normalize_week",
    "parse",
    "quote",
    "render_bills",
    "render_help",
    "render_intake_counts",
    "render_member",
    "render_member_choices",
    "render_note",
    "render_referral",
    "render_status",
    "render_why",
]
