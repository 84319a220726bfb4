"""Every ledger table, one module per area; importing this registers them all on Base.metadata."""

from coalition.ledger.tables.alerts import BillState, PostedMessage
from coalition.ledger.tables.common import AuditEntry, FlowHealth, LeaseRecord, Watermark
from coalition.ledger.tables.intake import IntakeNotice, IntakeRecord, Referral, ReferralEvent
from coalition.ledger.tables.roster import ContactState, MemberState, Partner
from coalition.ledger.tables.summary import SummaryDocument, SummaryDonor, SummaryWeek

__all__ = [
    "AuditEntry",
    "BillState",
    "ContactState",
    "FlowHealth",
    "IntakeNotice",
    "IntakeRecord",
    "LeaseRecord",
    "MemberState",
    "Partner",
    "PostedMessage",
    "Referral",
    "ReferralEvent",
    "SummaryDocument",
    "SummaryDonor",
    "SummaryWeek",
    "Watermark",
]
