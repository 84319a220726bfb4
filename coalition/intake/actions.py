"""Slack interactivity contract of intake routing: action ids and button values the Slack app handles.

Partner notices carry Accept/Decline buttons (value: the Referral ID); a digest
carries one overflow menu per referral (value: "accept:REF-..." or "decline:REF-...").
Approval requests in #intake-triage carry an Approve button per case (value: the
Intake ID), "Approve all" (value: the Intake IDs, comma-separated) and "Choose
another partner" (value: the same list, for a modal to pick case and partner).
"""

from __future__ import annotations

from dataclasses import dataclass

REFERRAL_ACCEPT = "referral_accept"
REFERRAL_DECLINE = "referral_decline"
REFERRAL_DECIDE = "referral_decide"  # overflow menu in a digest
INTAKE_APPROVE = "intake_approve"
INTAKE_APPROVE_ALL = "intake_approve_all"
INTAKE_CHOOSE_PARTNER = "intake_choose_partner"
ALL_ACTIONS = (
    REFERRAL_ACCEPT,
    REFERRAL_DECLINE,
    REFERRAL_DECIDE,
    INTAKE_APPROVE,
    INTAKE_APPROVE_ALL,
    INTAKE_CHOOSE_PARTNER,
)


@dataclass(frozen=True)
class ReferralAction:
    """A partner's answer parsed from a button or overflow click."""

    referral_id: str
    accepted: bool


def parse_referral_action(action_id: str, value: str) -> ReferralAction | None:
    """The referral and the answer a click means, or None if it is not a referral action."""
    value = (value or "").strip()
    if action_id == REFERRAL_ACCEPT and value:
        return ReferralAction(value, True)
    if action_id == REFERRAL_DECLINE and value:
        return ReferralAction(value, False)
    if action_id == REFERRAL_DECIDE:
        verb, _, referral = value.partition(":")
        if verb in {"accept", "decline"} and referral:
            return ReferralAction(referral, verb == "accept")
    return None


def parse_intake_ids(value: str) -> list[str]:
    """Intake IDs from an approval button's value."""
    return [part.strip() for part in (value or "").split(",") if part.strip()]
