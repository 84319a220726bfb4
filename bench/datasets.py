"""Large deterministic datasets for the benchmarks, written into a sandbox through its model APIs (no HTTP).

Each builder starts from the demo seed (so every base, table, sheet, folder and
channel the flows expect exists) and adds records up to the benchmark's size. The
same arguments give the same data: names, phones and dates come from seeded
generators and offsets from the sandbox's "today", never from the wall clock.
Phones are drawn from the fictional 555-01xx range of many area codes, so no
two contacts share one unless a builder plants it.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from coalition.settings import settings
from sandbox.seed import roster as demo_roster
from sandbox.seed.apply import demo_data, demo_today, typed_on_their_day
from sandbox.seed.schema import SERVICES

AREA_CODES = [
    "201", "202", "203", "205", "206", "207", "208", "209", "210", "212", "213", "214", "215",
    "216", "217", "218", "219", "224", "225", "228", "229", "231", "234", "239", "240", "248",
    "251", "252", "253", "254", "256", "260", "262", "267", "269", "270", "276", "281", "301",
    "302", "303", "304", "305", "307", "308", "309", "310", "312", "313", "314", "315", "316",
    "317", "318", "319", "320", "321", "323", "325", "330", "334", "336", "337", "339", "347",
    "351", "352", "360", "361", "385", "386", "401", "402", "404", "405", "406", "407", "408",
    "409", "410", "412", "413", "414", "415", "417", "419", "423", "424", "425", "432", "434",
    "435", "440", "443", "469", "478", "479", "480", "484", "501", "502", "503", "504", "505",
    "507", "508", "509", "510", "512", "513", "515", "516", "517", "518", "520", "530",
]  # fmt: skip
FIRST = ["Ana", "Bao", "Carmen", "Dalia", "Emeka", "Farah", "Gustavo", "Hana", "Ilse", "Jamal",
         "Kiri", "Lucia", "Mateo", "Nadia", "Omar", "Paola", "Quang", "Rosa", "Samir", "Tomas",
         "Uma", "Vera", "Wen", "Ximena", "Yusuf", "Zora"]  # fmt: skip
LAST = ["Abernathy", "Bellweather", "Castellanos", "Drummond", "Esquivel", "Fairbrook",
        "Galloway", "Hollister", "Ibarrola", "Jessup", "Kettering", "Larkspur", "Montalvo",
        "Northcott", "Oyelaran", "Pemberton", "Quintanilla", "Rosewater", "Sandoval",
        "Thornbury", "Urquhart", "Valderrama", "Whitlock", "Yarborough", "Zamudio"]  # fmt: skip
ORG_A = ["Cedar", "Harbor", "Juniper", "Lantern", "Meadow", "Northstar", "Orchard", "Prairie",
         "Quarry", "Riverside", "Sagebrush", "Tamarack", "Upland", "Valley", "Willow", "Bayou",
         "Canyon", "Delta", "Ember", "Foothill"]  # fmt: skip
ORG_B = ["Bridge", "Commons", "Crossing", "Gate", "Grove", "Hollow", "Landing", "Mesa",
         "Point", "Ridge", "Springs", "Terrace", "Vista", "Wharf", "Arbor", "Bluff",
         "Cove", "Dunes", "Fields", "Glen"]  # fmt: skip
ORG_C = ["Legal Aid", "Worker Center", "Faith Network", "Community Alliance", "Immigrant Rights Project",
         "Labor Council", "Refugee Services", "Justice Collective"]  # fmt: skip
PARTNER_PLACES = [
    ("Harris", "TX"), ("Dallas", "TX"), ("Cook", "IL"), ("Los Angeles", "CA"), ("Maricopa", "AZ"),
    ("Miami-Dade", "FL"), ("King", "WA"), ("Queens", "NY"), ("Kings", "NY"), ("Bronx", "NY"),
    ("Fulton", "GA"), ("Clark", "NV"), ("Denver", "CO"), ("Hennepin", "MN"), ("Wayne", "MI"),
    ("Suffolk", "MA"), ("Philadelphia", "PA"), ("Mecklenburg", "NC"), ("Salt Lake", "UT"),
    ("Multnomah", "OR"),
]  # fmt: skip
INTAKE_HELP = ["asylum", "removal defense", "work permit", "DACA renewal", "TPS", "family petition",
               "naturalization"]  # fmt: skip


def phone(n: int) -> str:
    """The n-th fictional phone number: (area) 555-01xx over many area codes."""
    return f"({AREA_CODES[n // 100 % len(AREA_CODES)]}) 555-{100 + n % 100:04d}"


def person(n: int) -> str:
    return f"{FIRST[n % len(FIRST)]} {LAST[n // len(FIRST) % len(LAST)]}-{n}"


def fresh_demo(sandbox: Any) -> Any:
    """Reset the sandbox to the demo coalition; returns its DemoData."""
    sandbox.apply_seed("demo")
    sandbox.journal.clear()
    return demo_data(sandbox)


def _base(sandbox: Any) -> str:
    return sandbox.services["airtable"].find_base(settings().services.airtable.base)


def _today(sandbox: Any) -> date:
    return demo_today(sandbox.clock.utcnow(), settings())


# ---------------------------------------------------------------- roster
def org_name(n: int) -> str:
    """Distinct organization names: three word lists, so no two differ by a number only."""
    a, b, c = ORG_A[n % 20], ORG_B[n // 20 % 20], ORG_C[n // 400 % len(ORG_C)]
    return f"{a} {b} {c}"


def roster(sandbox: Any, members: int = 1000, contacts: int = 10_000) -> dict[str, int]:
    """The demo roster grown to `members` members and `contacts` contacts (about 10 a member)."""
    data = fresh_demo(sandbox)
    airtable = sandbox.services["airtable"]
    base = _base(sandbox)
    tables = settings().services.airtable.tables
    today = _today(sandbox)
    rng = random.Random("bench-roster")
    have_members = len(data.records["members"])
    have_contacts = len(data.records["contacts"])
    new_members = [_member(i, today, rng) for i in range(members - have_members)]
    created = airtable.create_records(base, tables.members, new_members, typecast=True)
    ids = [r["id"] for r in created]
    new_contacts = []
    for i in range(contacts - have_contacts):
        member_id = ids[i % len(ids)]
        new_contacts.append(
            {
                "Name": person(i),
                "Email": f"bench.contact{i}@example.org",
                "Phone": phone(i + 20_000),
                "Organization": [member_id],
                "Role": "Executive director" if i < len(ids) else "Staff attorney",
                "Primary contact": i < len(ids),
            }
        )
    airtable.create_records(base, tables.contacts, new_contacts, typecast=True)
    return {"members": members, "contacts": contacts}


def _member(i: int, today: date, rng: random.Random) -> dict[str, Any]:
    state = PARTNER_PLACES[i % len(PARTNER_PLACES)][1]
    return {
        "Name": org_name(i),
        "Type": demo_roster.COMMUNITY if i % 3 else demo_roster.LEGAL_AID,
        "State": state,
        "Counties": [],
        "Services": ["know your rights"],
        "Languages": ["English", "Spanish"],
        "Accepting referrals": False,
        "Membership status": "Active",
        "Dues paid through": (today + timedelta(days=30 + rng.randrange(300))).isoformat(),
        "Last verified": (today - timedelta(days=rng.randrange(200))).isoformat(),
    }


def change_members(sandbox: Any, count: int) -> list[str]:
    """Staff edit `count` members' capacity, as they would in the grid; returns their ids."""
    airtable = sandbox.services["airtable"]
    base = _base(sandbox)
    table = settings().services.airtable.tables.members
    records = airtable.records(base, table)[:count]
    for record in records:
        airtable.update_record_fields(base, table, record["id"], {"Weekly capacity": 12})
    return [r["id"] for r in records]


# ---------------------------------------------------------------- intake
@dataclass
class IntakeSet:
    partners: list[dict[str, Any]] = field(default_factory=list)
    rows: int = 0
    expected_triage: int = 0
    expected_review: int = 0


def intake(sandbox: Any, rows: int = 1000, partners: int = 20) -> IntakeSet:
    """`rows` new Intake rows across `partners` partners, each with its own sheet and channel.

    The partner directory rows are returned for the ledger (roster sync writes them
    in production); about 1 row in 23 has no consent (staff triage) and 1 in 50 no
    contact (needs review).
    """
    data = fresh_demo(sandbox)
    cfg = settings()
    sheets, slack = sandbox.services["sheets"], sandbox.services["slack"]
    folder = data.folders["referral"].file_id
    staff = tuple(data.staff_ids)
    out = IntakeSet(rows=rows)
    for i in range(partners):
        county, state = PARTNER_PLACES[i]
        name = f"{org_name(i + 500)} {i}"
        channel = f"ref-bench-{i:02d}"
        sheet_id = sheets.create_spreadsheet(
            f"Referrals - {name}",
            {demo_roster.REFERRAL_TAB: [list(demo_roster.REFERRAL_HEADER)]},
            parents=[folder],
        )
        slack.create_channel(channel, is_private=True, members=(slack.bot_user_id, *staff))
        out.partners.append(
            {
                "member_id": f"recBenchPartner{i:03d}",
                "name": name,
                "services": list(SERVICES),
                "counties": [county],
                "states": [state],
                "languages": ["English", "Spanish"],
                "remote": False,
                "interpreter": True,
                "accepting": True,
                "weekly_capacity": rows,
                "income_limit_percent": 200,
                "lsc_funded": False,
                "accreditation": "attorney",
                "referral_channel": channel,
                "referral_sheet": sheet_id,
                "slack_users": [],
                "active": True,
            }
        )
    tz = ZoneInfo(cfg.services.timezone)
    now = sandbox.clock.utcnow().astimezone(tz)
    header = sheets.get_values(
        sheets.find_by_title(cfg.services.sheets.intake), cfg.services.sheets.intake_tab
    )[0]
    table = [header]
    for i in range(rows):
        row = _intake_row(i, partners, now)
        if i % 23 == 11:
            row["Consent to share"] = "No"
            out.expected_triage += 1
        elif i % 50 == 3:
            row["Phone"] = row["Email"] = ""
            out.expected_review += 1
        table.append([row.get(h, "") for h in header])
    sheets.set_values(
        sheets.find_by_title(cfg.services.sheets.intake), cfg.services.sheets.intake_tab, table
    )
    return out


def _intake_row(i: int, partners: int, now: datetime) -> dict[str, str]:
    county, state = PARTNER_PLACES[i % partners]
    moment = now - timedelta(minutes=7 * (i + 1))
    return {
        "Timestamp": f"{moment.month}/{moment.day}/{moment.year} {moment:%H:%M:%S}",
        "Full name": person(i + 50_000),
        "Preferred language": "Spanish" if i % 3 else "English",
        "Phone": phone(i + 60_000),
        "Email": f"bench.intake{i}@example.org",
        "City": "Springfield",
        "County": county,
        "State": state,
        "Help needed": INTAKE_HELP[i % len(INTAKE_HELP)],
        "Detained": "No",
        "Household size": str(1 + i % 5),
        "Monthly income": str(900 + i % 7 * 150),
        "Consent to share": "Yes",
        "Notes": f"bench note {i}",
    }


# ---------------------------------------------------------------- bills
def bills(sandbox: Any, count: int = 200) -> int:
    """The demo's bills replaced by `count` tracked bills, all quiet (no hearing due)."""
    fresh_demo(sandbox)
    airtable = sandbox.services["airtable"]
    base = _base(sandbox)
    table = settings().services.airtable.tables.bills
    for record in airtable.records(base, table):
        airtable.delete_record(base, table, record["id"])
    today = _today(sandbox)
    from sandbox.seed.alerts import jurisdiction_name
    from sandbox.seed.places import STATE_NAMES

    states = sorted({s for _, s in PARTNER_PLACES} & set(STATE_NAMES))

    new = [
        {
            "Bill": f"{'HB' if i % 2 else 'SB'} {1000 + i}",
            "Jurisdiction": jurisdiction_name(states[i % len(states)]),
            "Title": f"Relating to immigrant access to public services, part {i}",
            "Position": ("Support", "Oppose", "Watch")[i % 3],
            "Status": "In committee",
            "Last action": "Referred to committee",
            "Last action date": (today - timedelta(days=20 + i % 30)).isoformat(),
        }
        for i in range(count)
    ]
    airtable.create_records(base, table, new, typecast=True)
    return count


def change_bills(sandbox: Any, count: int) -> list[str]:
    """A new action on `count` bills, as staff or the poller would record it."""
    airtable = sandbox.services["airtable"]
    base = _base(sandbox)
    table = settings().services.airtable.tables.bills
    today = _today(sandbox)
    changed = []
    for record in airtable.records(base, table)[:count]:
        airtable.update_record_fields(
            base,
            table,
            record["id"],
            {"Status": "Passed committee", "Last action": "Reported favorably",
             "Last action date": (today - timedelta(days=1)).isoformat()},
        )  # fmt: skip
        changed.append(record["id"])
    return changed


# ---------------------------------------------------------------- donations
def donations(sandbox: Any, count: int = 50_000, weeks: int = 52) -> dict[str, int]:
    """The demo's gifts grown to `count`, spread evenly over `weeks` weeks before today."""
    data = fresh_demo(sandbox)
    airtable = sandbox.services["airtable"]
    base = _base(sandbox)
    table = settings().services.airtable.tables.donations
    today = _today(sandbox)
    rng = random.Random("bench-donations")
    campaigns = ["General fund", "Legal defense fund", "Spring appeal", "Citizenship day"]
    extra = count - len(data.records["donations"])
    gifts = []
    for i in range(extra):
        donor = rng.randrange(count // 10)
        anonymous = donor % 17 == 0
        gifts.append(
            {
                "Donor": "" if anonymous else person(donor + 100_000),
                "Email": "" if anonymous else f"bench.donor{donor}@example.org",
                "Amount": f"{rng.choice([10, 20, 25, 50, 100, 250]):.2f}",
                "Date": (today - timedelta(days=1 + i * weeks * 7 // extra)).isoformat(),
                "Recurring": donor % 5 == 0,
                "Campaign": campaigns[donor % len(campaigns)],
                "Anonymous": anonymous,
                "Source": "Online",
            }
        )
    created = airtable.create_records(base, table, gifts, typecast=True)
    # A base of a year's gifts was typed in over that year, not a moment ago.
    airtable.backdate_records(base, table, typed_on_their_day(created))
    return {"donations": count, "weeks": weeks}
