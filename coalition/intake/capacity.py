"""Partners' weekly capacity: which decided intakes fit, counted against the slots the ledger says are taken.

Pure: the claim (coalition/ledger/intakes.py) counts the slots taken inside its
transaction, under the claim lock, and asks this module which of its writes still
fit. A referral takes a slot, and so does a suggestion waiting for staff (its
partner is promised the case once approved); a partner staff chose themselves may
go past its capacity.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol, TypeVar

from coalition.intake.models import STAFF_CHOICE

# Intake statuses whose suggested partner holds a slot until staff decide.
SUGGESTION_STATUSES = ("suggested", "approved")


@dataclass(frozen=True)
class CapacityLimits:
    """Partners' weekly capacity, counted from `since` (the week's start), for claims to respect."""

    since: datetime
    weekly: Mapping[str, int]  # partner id -> referrals a week


class Slot(Protocol):
    """What capacity needs to know of a decided intake."""

    @property
    def intake_id(self) -> str: ...
    @property
    def status(self) -> str: ...
    @property
    def partner_id(self) -> str | None: ...
    @property
    def suggested_partner(self) -> str | None: ...
    @property
    def reason_code(self) -> str | None: ...


S = TypeVar("S", bound=Slot)


def slot_partner(write: Slot) -> str | None:
    """The partner whose slot a decision takes: the one routed to, or the one suggested to staff."""
    if write.partner_id:
        return write.partner_id
    return write.suggested_partner if write.status in SUGGESTION_STATUSES else None


def within_capacity(
    writes: Iterable[S], used: Mapping[str, int], limits: CapacityLimits
) -> tuple[list[S], list[str]]:
    """The writes that fit each partner's capacity given the slots `used`, and the intake ids held back.

    Writes are taken in order, each one using a slot of its partner; a partner past its
    weekly capacity takes no more, unless staff chose it.
    """
    taken = dict(used)
    kept: list[S] = []
    held: list[str] = []
    for write in writes:
        partner = slot_partner(write)
        limit = limits.weekly.get(partner) if partner else None
        full = limit is not None and taken.get(partner, 0) >= limit  # type: ignore[arg-type]
        if full and write.reason_code != STAFF_CHOICE:
            held.append(write.intake_id)
            continue
        if partner:
            taken[partner] = taken.get(partner, 0) + 1
        kept.append(write)
    return kept, held
