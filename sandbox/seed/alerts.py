"""Demo campaigns and bills for the alert flows, and the Open States bills they match (pure).

Six campaigns cover every status (two Ready ones already due, one carrying `<!channel>`
and `<script>` in its text, one 5,000-character message); fifteen bills cover Support,
Oppose and Watch, hearings one and three days ahead and one already past. All bills are
invented; a few also exist in the emulated Open States with a newer action, so the
poller has a change to find.
"""

from __future__ import annotations

import random
import uuid
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

from sandbox.seed.places import STATE_NAMES

CAMPAIGN_STATUSES = ["Draft", "Ready", "Sent", "Cancelled"]
BILL_POSITIONS = ["Support", "Oppose", "Watch"]
HOSTILE_CAMPAIGN_TEXT = (
    "<!channel> Court watch tomorrow at 8:30 at the immigration court. "
    "<script>alert('campaign')</script> Bring water & wear green; no signs inside > 1 ft."
)
LONG_MESSAGE_LENGTH = 5000
_LONG_PARAGRAPH = (
    "This month our member organizations held know-your-rights sessions in twelve states, "
    "answered hundreds of hotline calls, and trained new volunteers to accompany neighbors "
    "to check-ins. Thank you to every organizer who made it happen.\n\n"
)


def _at(day: date, hour: int) -> str:
    """Airtable dateTime value (UTC, milliseconds, Z)."""
    moment = datetime.combine(day, time(hour, 0), tzinfo=UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.000Z")


def long_message() -> str:
    text = _LONG_PARAGRAPH * (LONG_MESSAGE_LENGTH // len(_LONG_PARAGRAPH) + 1)
    return text[:LONG_MESSAGE_LENGTH]


def build_campaigns(today: date) -> list[dict[str, object]]:
    """Draft, two Ready ones already due, one Ready for later, one Sent, one Cancelled."""
    yesterday, later, last_week = (today + timedelta(days=d) for d in (-1, 3, -9))
    return [
        {
            "Title": "Know your rights week: volunteer call",
            "Message": "We need volunteers to staff know-your-rights tables next week.",
            "Call to action": "Sign up for a shift",
            "Link": "https://example.org/campaigns/kyr-week",
            "Channels": ["organizing"],
            "Regions": ["Southwest"],
            "Status": "Draft",
        },
        {
            "Title": "Court watch: stand with detained neighbors",
            "Message": HOSTILE_CAMPAIGN_TEXT,
            "Call to action": "Join the court watch",
            "Link": "https://example.org/campaigns/court-watch",
            "Channels": ["organizing"],
            "Regions": ["Southeast", "Northeast"],
            "Status": "Ready",
            "Send at": _at(yesterday, 14),
            "Urgent": True,
        },
        {
            "Title": "Monthly organizing update",
            "Message": long_message(),
            "Call to action": "Read the full update",
            "Link": "https://example.org/updates/monthly",
            "Channels": ["organizing"],
            "Regions": ["Midwest", "West"],
            "Status": "Ready",
            "Send at": _at(yesterday, 16),
        },
        {
            "Title": "Citizenship day clinic",
            "Message": "Free naturalization screening with member attorneys. Bring your green card.",
            "Call to action": "Share with your community",
            "Link": "https://example.org/campaigns/citizenship-day",
            "Channels": ["organizing"],
            "Regions": ["West"],
            "Status": "Ready",
            "Send at": _at(later, 15),
            "Notify channel": True,
        },
        {
            "Title": "Phone bank against SB 412",
            "Message": "Call your state senator today and ask them to vote no on SB 412.",
            "Call to action": "Call now",
            "Link": "https://example.org/campaigns/sb412-phonebank",
            "Channels": ["policy", "organizing"],
            "Regions": ["Southwest"],
            "Status": "Sent",
            "Send at": _at(last_week, 15),
        },
        {
            "Title": "Candlelight vigil (moved online)",
            "Message": "The vigil is cancelled because of the storm; watch for a new date.",
            "Call to action": "",
            "Link": "",
            "Channels": ["organizing"],
            "Regions": ["Northeast"],
            "Status": "Cancelled",
            "Send at": _at(yesterday, 22),
        },
    ]


@dataclass(frozen=True)
class BillSpec:
    """An invented bill: where, what, our position, and the action history relative to today."""

    state: str  # "US" for Congress
    identifier: str
    title: str
    position: str
    status: str
    last_action: str
    action_days: int  # last action, days before today
    hearing_days: int | None = None  # next hearing, days from today
    channel: str = ""
    session: str = "2026"
    # Open States knows a newer action than the Airtable record: (description, days before today).
    newer_action: tuple[str, int] | None = None
    in_openstates: bool = False


BILLS: tuple[BillSpec, ...] = (
    BillSpec(
        "TX",
        "HB 2417",
        "Relating to protections against notario fraud in immigration services",
        "Support",
        "In committee",
        "Referred to State Affairs",
        20,
        hearing_days=1,
        session="89",
        in_openstates=True,
    ),
    BillSpec(
        "TX",
        "SB 412",
        "Relating to local enforcement of federal immigration detainers",
        "Oppose",
        "Passed Senate",
        "Reported favorably from committee",
        6,
        hearing_days=3,
        channel="organizing-southwest",
        session="89",
        newer_action=("Placed on House calendar", 1),
        in_openstates=True,
    ),
    BillSpec(
        "CA",
        "AB 1189",
        "Immigration legal services funding for rural counties",
        "Support",
        "In committee",
        "Hearing held in Assembly Judiciary",
        4,
        hearing_days=-4,
        channel="organizing-west",
        session="20252026",
        in_openstates=True,
    ),
    BillSpec(
        "FL",
        "HB 777",
        "Driver licenses; verification of immigration status",
        "Oppose",
        "Introduced",
        "Filed",
        35,
    ),
    BillSpec(
        "FL",
        "SB 1550",
        "Transport of persons without lawful status",
        "Oppose",
        "Passed House",
        "Passed House 71-44",
        9,
    ),
    BillSpec(
        "NY",
        "S 3318",
        "Access to representation in immigration proceedings",
        "Support",
        "In committee",
        "Referred to Judiciary",
        15,
        hearing_days=12,
        session="2025-2026",
        newer_action=("Reported to Finance", 2),
        in_openstates=True,
    ),
    BillSpec(
        "NY",
        "A 5102",
        "Protecting immigrant tenants from status-based harassment",
        "Support",
        "Passed Assembly",
        "Delivered to Senate",
        11,
        session="2025-2026",
    ),
    BillSpec(
        "IL",
        "HB 4021",
        "Immigrant family court navigator pilot program",
        "Support",
        "Signed",
        "Signed by the Governor",
        40,
        session="104th",
    ),
    BillSpec(
        "AZ",
        "SB 1210",
        "State authority over immigration enforcement",
        "Oppose",
        "Failed",
        "Failed third reading",
        25,
    ),
    BillSpec(
        "GA",
        "HB 916",
        "Jail reporting of detainee immigration status",
        "Watch",
        "Introduced",
        "First reader",
        18,
    ),
    BillSpec(
        "MA",
        "H 4470",
        "Safe communities act",
        "Support",
        "In committee",
        "Reported favorably by Public Safety committee",
        7,
        session="194th",
    ),
    BillSpec(
        "NJ",
        "A 2290",
        "Codifying the immigrant trust directive",
        "Support",
        "Second reading",
        "Reported out of committee, second reading",
        13,
    ),
    BillSpec(
        "WA",
        "HB 1470",
        "Qualified interpreters in courts for limited-English speakers",
        "Watch",
        "In committee",
        "Public hearing scheduled",
        3,
    ),
    BillSpec(
        "US",
        "H.R. 6120",
        "Asylum backlog reduction act",
        "Watch",
        "Introduced",
        "Referred to the House Judiciary committee",
        28,
        session="119",
    ),
    BillSpec(
        "CO",
        "SB 26-088",
        "Protections for immigrant workers' wage claims",
        "Watch",
        "Introduced",
        "Introduced in Senate, assigned to Business Affairs",
        16,
    ),
)


def jurisdiction_name(state: str) -> str:
    return "United States" if state == "US" else STATE_NAMES[state]


def source_url(spec: BillSpec) -> str:
    """The bill's Open States page, built the way Open States builds `openstates_url`."""
    compact = spec.identifier.replace(" ", "")
    return f"https://openstates.org/{spec.state.lower()}/bills/{spec.session}/{compact}/"


def build_bills(today: date) -> list[dict[str, object]]:
    """The Airtable `Bills` records."""
    records = []
    for spec in BILLS:
        record: dict[str, object] = {
            "Bill": spec.identifier,
            "Jurisdiction": jurisdiction_name(spec.state),
            "Title": spec.title,
            "Position": spec.position,
            "Status": spec.status,
            "Last action": spec.last_action,
            "Last action date": (today - timedelta(days=spec.action_days)).isoformat(),
            "Source URL": source_url(spec),
            "Channel": spec.channel,
        }
        if spec.hearing_days is not None:
            record["Next hearing"] = (today + timedelta(days=spec.hearing_days)).isoformat()
        records.append(record)
    return records


def _jurisdiction(state: str) -> dict[str, str]:
    if state == "US":
        return {
            "id": "ocd-jurisdiction/country:us/government",
            "name": "United States",
            "classification": "country",
        }
    return {
        "id": f"ocd-jurisdiction/country:us/state:{state.lower()}/government",
        "name": STATE_NAMES[state],
        "classification": "state",
    }


def build_openstates_bills(today: date, rng: random.Random) -> list[dict[str, object]]:
    """Open States v3 bill objects for the bills it tracks, some with a newer action."""
    bills = []
    for spec in BILLS:
        if not spec.in_openstates:
            continue
        first_day = today - timedelta(days=spec.action_days + 30)
        actions = [
            {
                "description": "Filed",
                "date": first_day.isoformat(),
                "order": 1,
                "classification": ["introduction"],
            },
            {
                "description": spec.last_action,
                "date": (today - timedelta(days=spec.action_days)).isoformat(),
                "order": 2,
                "classification": ["referral-committee"],
            },
        ]
        if spec.newer_action:
            description, days = spec.newer_action
            actions.append(
                {
                    "description": description,
                    "date": (today - timedelta(days=days)).isoformat(),
                    "order": 3,
                    "classification": [],
                }
            )
        latest = actions[-1]
        chamber = "upper" if spec.identifier.startswith(("S", "SB")) else "lower"
        bills.append(
            {
                "id": f"ocd-bill/{uuid.UUID(int=rng.getrandbits(128), version=4)}",
                "session": spec.session,
                "jurisdiction": _jurisdiction(spec.state),
                "from_organization": {
                    "name": "Senate" if chamber == "upper" else "House",
                    "classification": chamber,
                },
                "identifier": spec.identifier,
                "title": spec.title,
                "classification": ["bill"],
                "subject": ["Immigration"],
                "openstates_url": source_url(spec),
                "first_action_date": first_day.isoformat(),
                "latest_action_date": latest["date"],
                "latest_action_description": latest["description"],
                "created_at": f"{first_day.isoformat()}T12:00:00+00:00",
                "updated_at": f"{latest['date']}T18:00:00+00:00",
                "actions": actions,
            }
        )
    return bills
