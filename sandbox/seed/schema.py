"""Airtable field definitions of the demo `Coalition` base, in the Web API's field-type vocabulary.

Fields and order follow DESIGN.md, plus the fields the bot writes (`Data issues`,
`Slack messages`, `Error`) and the flags staff set. A link field names the table it
points to by its key in `TABLE_ORDER`; the wiring turns that into `linkedTableId`.
"""

from __future__ import annotations

from typing import Any

from sandbox.seed.alerts import BILL_POSITIONS, CAMPAIGN_STATUSES
from sandbox.seed.giving import ACTIVITY_TYPES, DONATION_CAMPAIGNS, DONATION_SOURCES
from sandbox.seed.places import REGION_OF_STATE, STATE_NAMES
from sandbox.seed.roster import (
    ACCREDITATIONS,
    CONTACT_ROLES,
    MEMBER_TYPES,
    MEMBERS,
    MEMBERSHIP_STATUSES,
)

# Logical table keys (as in services.yaml `airtable.tables`), in creation order:
# link targets come before the tables linking to them.
TABLE_ORDER = ["members", "contacts", "campaigns", "bills", "donations", "activities"]
LINK = "multipleRecordLinks"

SERVICES = [
    "asylum",
    "removal defense",
    "detained",
    "DACA",
    "TPS",
    "U visa",
    "T visa",
    "VAWA",
    "SIJS",
    "naturalization",
    "family petition",
    "work permit",
    "know your rights",
]
REGIONS = sorted(set(REGION_OF_STATE.values()))


def _choices(names: list[str]) -> dict[str, Any]:
    return {"choices": [{"name": name} for name in names]}


def _field(name: str, type_: str, options: dict[str, Any] | None = None) -> dict[str, Any]:
    spec: dict[str, Any] = {"name": name, "type": type_}
    if options is not None:
        spec["options"] = options
    return spec


_DATE = {"dateFormat": {"name": "iso", "format": "YYYY-MM-DD"}}
_DATETIME = {
    "dateFormat": {"name": "iso", "format": "YYYY-MM-DD"},
    "timeFormat": {"name": "24hour", "format": "HH:mm"},
    "timeZone": "utc",
}
_CHECK = {"icon": "check", "color": "greenBright"}


def _counties() -> list[str]:
    return sorted({county for member in MEMBERS for county in member.counties})


def _languages() -> list[str]:
    return sorted({language for member in MEMBERS for language in member.languages})


def table_fields(region_channels: list[str]) -> dict[str, list[dict[str, Any]]]:
    """Field definitions per logical table; `Organization` links carry {"table": "members"}."""
    channels = ["organizing", "policy", *region_channels]
    return {
        "members": [
            _field("Name", "singleLineText"),
            _field("Type", "singleSelect", _choices(MEMBER_TYPES)),
            _field("State", "singleSelect", _choices(sorted(STATE_NAMES))),
            _field("Counties", "multipleSelects", _choices(_counties())),
            _field("Services", "multipleSelects", _choices(SERVICES)),
            _field("Languages", "multipleSelects", _choices(_languages())),
            _field("Accepting referrals", "checkbox", _CHECK),
            _field("Weekly capacity", "number", {"precision": 0}),
            # Percent of the poverty guideline as a whole number (200 means 200%).
            _field("Income limit", "number", {"precision": 0}),
            _field("LSC funded", "checkbox", _CHECK),
            _field("Accreditation", "singleSelect", _choices(ACCREDITATIONS)),
            _field("Referral channel", "singleLineText"),
            _field("Referral sheet", "singleLineText"),
            _field("Membership status", "singleSelect", _choices(MEMBERSHIP_STATUSES)),
            _field("Dues paid through", "date", _DATE),
            _field("Last verified", "date", _DATE),
            _field("Remote services", "checkbox", _CHECK),
            _field("Interpreter available", "checkbox", _CHECK),
            _field("Data issues", "multilineText"),
        ],
        "contacts": [
            _field("Name", "singleLineText"),
            _field("Email", "email"),
            _field("Phone", "phoneNumber"),
            _field("Organization", LINK, {"table": "members"}),
            _field("Role", "singleSelect", _choices(CONTACT_ROLES)),
            _field("Slack user", "singleLineText"),
            _field("Primary contact", "checkbox", _CHECK),
        ],
        "campaigns": [
            _field("Title", "singleLineText"),
            _field("Message", "multilineText"),
            _field("Call to action", "singleLineText"),
            _field("Link", "url"),
            _field("Channels", "multipleSelects", _choices(channels)),
            _field("Regions", "multipleSelects", _choices(REGIONS)),
            _field("Status", "singleSelect", _choices(CAMPAIGN_STATUSES)),
            _field("Send at", "dateTime", _DATETIME),
            _field("Slack messages", "multilineText"),
            _field("Notify channel", "checkbox", _CHECK),
            _field("Urgent", "checkbox", _CHECK),
            _field("Error", "multilineText"),
        ],
        "bills": [
            _field("Bill", "singleLineText"),
            _field(
                "Jurisdiction",
                "singleSelect",
                _choices(["United States", *sorted(STATE_NAMES.values())]),
            ),
            _field("Title", "singleLineText"),
            _field("Position", "singleSelect", _choices(BILL_POSITIONS)),
            _field("Status", "singleLineText"),
            _field("Last action", "singleLineText"),
            _field("Last action date", "date", _DATE),
            _field("Next hearing", "date", _DATE),
            _field("Source URL", "url"),
            _field("Channel", "singleLineText"),
            _field("Error", "multilineText"),
        ],
        "donations": [
            _field("Donor", "singleLineText"),
            _field("Email", "email"),
            # Text, as imported from the payment processor's CSV (see giving.py).
            _field("Amount", "singleLineText"),
            _field("Date", "date", _DATE),
            _field("Recurring", "checkbox", _CHECK),
            _field("Campaign", "singleSelect", _choices(DONATION_CAMPAIGNS)),
            _field("Anonymous", "checkbox", _CHECK),
            _field("Source", "singleSelect", _choices(DONATION_SOURCES)),
        ],
        "activities": [
            _field("Date", "date", _DATE),
            _field("Type", "singleSelect", _choices(ACTIVITY_TYPES)),
            _field("Title", "singleLineText"),
            _field("Attendees", "number", {"precision": 0}),
            _field("Region", "singleSelect", _choices(REGIONS)),
            _field("Organization", LINK, {"table": "members"}),
        ],
    }
