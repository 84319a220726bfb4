"""Who may do what: roles from config and the partner directory, and partners kept to their own cases."""

from __future__ import annotations

import pytest

from bot.access import PERMISSIONS, Actor, PartnerRef, may, may_act_for, partner_refs, resolve

STAFF = ["U0STAFF"]
ADMINS = ["U0ADMIN"]
PARTNERS = [
    PartnerRef("recA", "Alpha Legal", frozenset({"U0ALPHA"}), "ref-alpha"),
    PartnerRef("recB", "Beta Legal", frozenset({"U0BETA"}), "ref-beta"),
]


@pytest.mark.parametrize(
    ("user", "channel_id", "channel_name", "role", "partners"),
    [
        ("U0ADMIN", "C1", "general", "admin", set()),
        ("U0STAFF", "C1", "ref-alpha", "staff", set()),  # staff stay staff in a partner channel
        ("U0ALPHA", "C1", "general", "partner", {"recA"}),
        ("U0ALPHA", "C2", "ref-beta", "partner", {"recA"}),  # listed users never borrow a channel
        (
            "U0SHARED",
            "C3",
            "ref-beta",
            "partner",
            {"recB"},
        ),  # an unlisted user in B's shared channel
        ("U0SHARED", "ref-alpha", None, "partner", {"recA"}),  # channel given by id in config
        ("U0NOBODY", "C1", "general", "guest", set()),
        ("U0OUTSIDER", "C3", "ref-beta", "guest", set()),  # names B's channel, is not in it
    ],
)
def test_resolve(
    user: str, channel_id: str, channel_name: str | None, role: str, partners: set[str]
) -> None:
    in_channel = {"U0SHARED", "U0ALPHA", "U0BETA"}
    actor = resolve(
        user, channel_id, channel_name, STAFF, ADMINS, PARTNERS, members=lambda: in_channel
    )
    assert (actor.role, set(actor.partner_ids)) == (role, partners)


def test_a_channel_gives_no_role_when_its_members_are_unknown() -> None:
    asked: list[str] = []

    def unknown() -> None:
        asked.append("members")
        return None

    assert resolve("U0SHARED", "C3", "ref-beta", STAFF, ADMINS, PARTNERS, unknown).role == "guest"
    assert asked == ["members"]
    # Members are asked for only when the channel alone would decide.
    resolve("U0ALPHA", "C3", "ref-beta", STAFF, ADMINS, PARTNERS, unknown)
    resolve("U0STAFF", "C3", "ref-beta", STAFF, ADMINS, PARTNERS, unknown)
    assert asked == ["members"]


def test_partner_refs_skip_inactive_partners_and_clean_channels() -> None:
    rows = [
        {
            "member_id": "recA",
            "name": "A",
            "slack_users": ["U1", " ", "U2"],
            "referral_channel": "#ref-a",
            "active": True,
        },
        {
            "member_id": "recB",
            "name": "B",
            "slack_users": ["U3"],
            "referral_channel": "ref-b",
            "active": False,
        },
    ]
    [only] = partner_refs(rows)
    assert (only.member_id, only.slack_users, only.channel) == (
        "recA",
        frozenset({"U1", "U2"}),
        "ref-a",
    )


@pytest.mark.parametrize(
    ("role", "action", "allowed", "reason"),
    [
        ("guest", "help", True, None),
        ("guest", "bills", False, "member"),
        ("partner", "referral", True, None),
        ("partner", "intake", False, "staff"),
        ("partner", "why", False, "staff"),
        ("partner", "intake_approve", False, "staff"),
        ("partner", "campaign_approve", False, "staff"),
        ("staff", "run", False, "admin"),
        ("admin", "run", True, None),
        ("staff", "intake_approve", True, None),
        ("admin", "something_new", True, None),
        ("staff", "something_new", False, "admin"),  # unknown actions are admin-only
    ],
)
def test_may(role: str, action: str, allowed: bool, reason: str | None) -> None:
    decision = may(
        Actor("U1", role, frozenset({"recA"}) if role == "partner" else frozenset()), action
    )  # type: ignore[arg-type]
    assert (decision.allowed, decision.reason) == (allowed, reason)
    assert bool(decision.words) == (not allowed)


def test_a_partner_acts_only_on_its_own_referrals() -> None:
    alpha = Actor("U0ALPHA", "partner", frozenset({"recA"}))
    assert may_act_for(alpha, "referral_accept", "recA").allowed
    refused = may_act_for(alpha, "referral_accept", "recB")
    assert (refused.allowed, refused.reason) == (False, "not_yours")
    assert may_act_for(Actor("U0STAFF", "staff"), "referral_decline", "recB").allowed
    assert not may_act_for(Actor("U0X", "guest"), "referral_accept", "recA").allowed
    assert not may_act_for(alpha, "referral_accept", None).allowed


def test_every_subcommand_has_a_rule() -> None:
    from bot.commands import COMMANDS

    assert {name for name, _, _ in COMMANDS} <= set(PERMISSIONS)
