"""One routing run's ledger: its intakes, referrals and notice outbox, all claimed under one lease holder.

Intake routing, referral follow-up and the Slack buttons each work through the
store of the memory they touch; the run's leases (renewed at every step, handed
back at the end) are one holder's, whichever store took them.
"""

from __future__ import annotations

from datetime import datetime

from coalition.ledger.db import Ledger
from coalition.ledger.intakes import IntakeStore
from coalition.ledger.leases import HeldWork, Holder, LeaseStore
from coalition.ledger.outbox import NoticeOutbox
from coalition.ledger.referrals import ReferralStore
from coalition.ledger.roster_store import PartnerDirectory
from coalition.ledger.routing_rows import DEFAULT_LEASE, LEASED_KINDS


class RoutingLedger:
    """The stores of one run (or one Slack action), sharing its lease holder."""

    def __init__(self, ledger: Ledger, holder: Holder | None = None) -> None:
        self.holder = holder or Holder.new(DEFAULT_LEASE)
        self.intakes = IntakeStore(ledger, self.holder)
        self.referrals = ReferralStore(ledger, self.holder)
        self.outbox = NoticeOutbox(ledger, self.holder)
        self.directory = PartnerDirectory(ledger)
        self.leases = LeaseStore(ledger)

    @property
    def token(self) -> str:
        """This run's owner token on its leases."""
        return self.holder.owner

    def held(self, now: datetime) -> list[HeldWork]:
        """Intakes, referrals and notices in another (live or dead) run's hands, by kind."""
        return self.leases.held(LEASED_KINDS, self.holder, now, self.holder.length)

    def renew(self, now: datetime) -> None:
        """Push back the expiry of everything this run holds (a step boundary: the run is alive)."""
        self.leases.renew(self.holder, now)

    def release(self) -> None:
        """Hand back this run's claims so the next run need not wait for the lease."""
        self.leases.release(self.holder)
