"""Builders of intake cases and partner profiles for the intake unit tests."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime
from typing import Any

from coalition.intake import classify
from coalition.intake.models import IntakeCase, PartnerProfile, Urgency
from coalition.settings import RoutingConfig

RULES = RoutingConfig()
NOW = datetime(2026, 3, 2, 15, 0, tzinfo=UTC)


def case(intake_id: str = "INT-0000000001", **changes: Any) -> IntakeCase:
    """A routable asylum case in Harris County, Texas, in Spanish, with consent."""
    types = changes.pop("case_types", ("asylum",))
    base = IntakeCase(
        intake_id=intake_id,
        received_at=changes.pop("received_at", NOW),
        case_types=types,
        category=changes.pop("category", classify.primary(types)),
        languages=("Spanish",),
        county="Harris County",
        state="TX",
        consent=True,
        urgency=Urgency(),
        income_percent=100,
        name="Maria Example",
        phone="+17135550142",
        email="maria@example.org",
        contact_keys=(f"key-{intake_id}",),
    )
    return replace(base, **changes)


def urgent(days_left: int = 0, reason: str = "detained") -> Urgency:
    return Urgency(True, (reason,), days_left)


def partner(member_id: str = "recA", **changes: Any) -> PartnerProfile:
    """An accepting attorney partner in Harris County offering asylum and removal defense, in Spanish."""
    base = PartnerProfile(
        member_id=member_id,
        name=changes.pop("name", f"Partner {member_id}"),
        services=frozenset({"asylum", "removal defense", "detained"}),
        counties=frozenset({"harris"}),
        states=frozenset({"TX"}),
        languages=frozenset({"English", "Spanish"}),
        accepting=True,
        weekly_capacity=8,
        accreditation="attorney",
        referral_channel=f"ref-{member_id.lower()}",
        referral_sheet=f"sheet-{member_id}",
    )
    return replace(base, **changes)
