"""Who may do what in Slack (pure): a person's role from config/access.yaml and the partner directory.

Roles: `admin` (config `admins`), `staff` (config `staff`; admins are staff too),
`partner` (a Slack user listed by an organization in the partner directory, or, for
someone no organization lists, a member of an organization's shared referral channel
acting in it) and `guest` (anyone else in the workspace). A user an organization lists
always acts as that organization, even in another organization's channel, so a
partner cannot borrow a channel it was invited to; and a channel gives its
organization's role only to the people in it (Slack's `conversations.members`), so a
click that merely names the channel does not.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterable, Mapping
from dataclasses import dataclass
from typing import Any, Literal

from coalition.references import ChannelRef, parse_channel

Role = Literal["admin", "staff", "partner", "guest"]
ROLES: tuple[Role, ...] = ("admin", "staff", "partner", "guest")

# What each action needs. "own" means a partner may, but only for its own organization's cases.
EVERYONE: frozenset[Role] = frozenset(ROLES)
STAFF: frozenset[Role] = frozenset({"admin", "staff"})
ADMINS: frozenset[Role] = frozenset({"admin"})
MEMBERS: frozenset[Role] = frozenset({"admin", "staff", "partner"})

PERMISSIONS: dict[str, frozenset[Role]] = {
    "help": EVERYONE,
    "referral": MEMBERS,  # partners: their own referrals only
    "intake": STAFF,
    "member": MEMBERS,
    "bill": MEMBERS,
    "bills": MEMBERS,
    "alert": MEMBERS,  # a draft only; staff approve it
    "summary": STAFF,
    "status": STAFF,
    "run": ADMINS,
    "why": STAFF,
    "needs": STAFF,  # unmet need, suppressed as in the weekly Doc
    "outcomes": MEMBERS,  # partners: their own organization's figures only
    # clicks and modal submissions
    "referral_accept": MEMBERS,  # partners: their own referrals only
    "referral_decline": MEMBERS,
    "intake_approve": STAFF,
    "intake_choose_partner": STAFF,
    "campaign_approve": STAFF,
}

REFUSAL_WORDS: dict[str, str] = {
    "staff": "Only coalition staff may do this.",
    "admin": "Only coalition admins may do this.",
    "member": "Only coalition staff and member organizations may do this.",
    "not_yours": "This belongs to another organization; only it (or coalition staff) may act on it.",
}


@dataclass(frozen=True)
class PartnerRef:
    """The bits of a partner-directory row access needs: id, name, Slack users and shared channel."""

    member_id: str
    name: str
    slack_users: frozenset[str] = frozenset()
    channel: str | None = None  # referral channel, by name (as config has it) or id


@dataclass(frozen=True)
class Actor:
    """A person acting in Slack: user id, role, and the organizations they act for (partners)."""

    user_id: str
    role: Role
    partner_ids: frozenset[str] = frozenset()

    @property
    def is_staff(self) -> bool:
        return self.role in STAFF

    @property
    def is_admin(self) -> bool:
        return self.role == "admin"


@dataclass(frozen=True)
class Decision:
    """Whether an actor may do something, and why not (a code from REFUSAL_WORDS)."""

    allowed: bool
    reason: str | None = None

    @property
    def words(self) -> str:
        return REFUSAL_WORDS.get(self.reason or "", "") if not self.allowed else ""


ALLOW = Decision(True)


def partner_refs(rows: Iterable[Mapping[str, Any]]) -> list[PartnerRef]:
    """PartnerRefs from partner-directory rows (ledger `partners`), active ones only."""
    refs = []
    for row in rows:
        if not row.get("active", True):
            continue
        users = frozenset(str(u).strip() for u in row.get("slack_users") or [] if str(u).strip())
        # The directory holds the short form (id or name), but a row written before
        # references were parsed may still hold a link or a mention.
        parsed = parse_channel(row.get("referral_channel"))
        channel = parsed.canonical() if isinstance(parsed, ChannelRef) else None
        refs.append(PartnerRef(str(row["member_id"]), str(row.get("name") or ""), users, channel))
    return refs


def resolve(
    user_id: str,
    channel_id: str | None,
    channel_name: str | None,
    staff: Iterable[str],
    admins: Iterable[str],
    partners: Iterable[PartnerRef],
    members: Callable[[], Collection[str] | None] = lambda: None,
) -> Actor:
    """The actor a Slack user is, acting in this channel (id and name as Slack sent them).

    `members` gives the channel's members, asked only when the channel alone would make
    the user a partner; None (unknown) gives no partner role.
    """
    if user_id in set(admins):
        return Actor(user_id, "admin")
    if user_id in set(staff):
        return Actor(user_id, "staff")
    partners = list(partners)
    listed = frozenset(p.member_id for p in partners if user_id in p.slack_users)
    if listed:
        return Actor(user_id, "partner", listed)
    here = {c for c in (channel_id, channel_name) if c}
    by_channel = frozenset(p.member_id for p in partners if p.channel and p.channel in here)
    if by_channel and user_id in (members() or ()):
        return Actor(user_id, "partner", by_channel)
    return Actor(user_id, "guest")


def may(actor: Actor, action: str) -> Decision:
    """May this actor do `action` (a subcommand or a click) at all?"""
    allowed = PERMISSIONS.get(action, ADMINS)
    if actor.role in allowed:
        return ALLOW
    if allowed == ADMINS:
        return Decision(False, "admin")
    if allowed == STAFF:
        return Decision(False, "staff")
    return Decision(False, "member")


def may_act_for(actor: Actor, action: str, partner_id: str | None) -> Decision:
    """May this actor do `action` on a case that belongs to `partner_id`? Staff may; partners for their own."""
    first = may(actor, action)
    if not first.allowed or actor.is_staff:
        return first
    if partner_id is not None and partner_id in actor.partner_ids:
        return ALLOW
    return Decision(False, "not_yours")


def sees_personal_contact(actor: Actor) -> bool:
    """Only staff see a member contact's personal phone."""
    return actor.is_staff


__all__ = [
    "PERMISSIONS",
    "ROLES",
    "Actor",
    "Decision",
    "PartnerRef",
    "Role",
    "may",
    "may_act_for",
    "partner_refs",
    "resolve",
    "sees_personal_contact",
]
