"""The demo coalition's members, contacts and Slack people (pure: data from a seed and a date).

Forty invented organizations in twelve states: eighteen legal-aid providers (services,
languages, counties, capacity, accreditation, income limits; some not accepting, exactly
one LSC-funded) and community, faith and labor groups without legal services; a couple
with lapsed dues or a stale `Last verified`, and one duplicate-looking pair.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

from coalition.intake import sheet_rows
from sandbox.seed.people import People, Person, ascii_handle, format_phone, random_id

LEGAL_AID = "Legal aid"
COMMUNITY = "Community group"
FAITH = "Faith"
LABOR = "Labor"
MEMBER_TYPES = [LEGAL_AID, COMMUNITY, FAITH, LABOR]
ACCREDITATIONS = ["attorney", "fully accredited", "partially accredited", "none"]
MEMBERSHIP_STATUSES = ["Active", "Pending", "Lapsed"]
CONTACT_ROLES = [
    "Executive director",
    "Intake coordinator",
    "Staff attorney",
    "Organizer",
    "Pastor",
    "Union steward",
    "Board member",
    "Volunteer",
]
# Partner sheets in the demo look exactly as `coalition setup sheets` creates them.
REFERRAL_HEADER = list(sheet_rows.REFERRAL_COLUMNS)
REFERRAL_TAB = sheet_rows.REFERRAL_TAB


@dataclass(frozen=True)
class MemberSpec:
    """One member organization as the seed describes it, before dates are anchored."""

    name: str
    type: str
    state: str
    counties: tuple[str, ...] = ()
    services: tuple[str, ...] = ()
    languages: tuple[str, ...] = ("English",)
    capacity: int | None = None
    accreditation: str = "none"
    income_limit: int | None = None
    accepting: bool = False
    lsc: bool = False
    remote: bool = False
    interpreter: bool = False
    status: str = "Active"
    dues_days: int = 200  # dues paid through, days from demo-today (negative: lapsed)
    verified_days: int = -90  # last verified, days from demo-today
    slug: str = ""  # referral channel suffix for legal-aid partners

    @property
    def is_legal_aid(self) -> bool:
        return self.type == LEGAL_AID

    @property
    def referral_channel(self) -> str:
        return f"ref-{self.slug}" if self.is_legal_aid else ""

    @property
    def referral_sheet_title(self) -> str:
        return f"Referrals - {self.name}"


def _legal(
    name: str,
    slug: str,
    state: str,
    counties: tuple[str, ...],
    services: tuple[str, ...],
    languages: tuple[str, ...],
    capacity: int,
    accreditation: str,
    **kw: Any,
) -> MemberSpec:
    kw.setdefault("income_limit", 200)
    kw.setdefault("accepting", True)
    return MemberSpec(
        name,
        LEGAL_AID,
        state,
        counties,
        services,
        languages,
        capacity,
        accreditation,
        slug=slug,
        **kw,
    )


LEGAL_AID_MEMBERS: tuple[MemberSpec, ...] = (
    _legal(
        "Riverbend Immigrant Legal Aid",
        "riverbend",
        "TX",
        ("Harris", "Fort Bend"),
        ("asylum", "removal defense", "detained", "work permit"),
        ("English", "Spanish"),
        8,
        "attorney",
        remote=True,
        interpreter=True,
        verified_days=-40,
    ),
    _legal(
        "Mesquite Hollow Legal Collective",
        "mesquite-hollow",
        "TX",
        ("Dallas", "Tarrant"),
        ("removal defense", "DACA", "TPS", "family petition", "naturalization"),
        ("English", "Spanish", "Vietnamese"),
        6,
        "fully accredited",
        verified_days=-120,
    ),
    _legal(
        "Desert Marigold Legal Aid",
        "desert-marigold",
        "TX",
        ("El Paso", "Hidalgo"),
        ("detained", "removal defense", "asylum", "SIJS"),
        ("Spanish", "English"),
        4,
        "attorney",
        interpreter=True,
        verified_days=-30,
    ),
    _legal(
        "Sierra Arroyo Legal Services",
        "sierra-arroyo",
        "CA",
        ("Fresno", "Tulare"),
        ("VAWA", "U visa", "T visa", "family petition", "naturalization"),
        ("English", "Spanish"),
        10,
        "attorney",
        income_limit=125,
        lsc=True,
        verified_days=-60,
    ),
    _legal(
        "Pacific Lantern Immigration Clinic",
        "pacific-lantern",
        "CA",
        ("Los Angeles",),
        ("asylum", "removal defense", "detained", "SIJS", "U visa", "VAWA"),
        ("English", "Spanish", "Chinese", "Vietnamese"),
        12,
        "attorney",
        remote=True,
        interpreter=True,
        verified_days=-15,
    ),
    _legal(
        "Tidepool Refugee Legal Project",
        "tidepool",
        "CA",
        ("San Diego",),
        ("asylum", "removal defense", "TPS", "work permit"),
        ("English", "Spanish", "Arabic", "Haitian Creole"),
        5,
        "attorney",
        verified_days=-200,
    ),
    _legal(
        "Coral Reef Immigrant Justice Center",
        "coral-reef",
        "FL",
        ("Miami-Dade", "Broward"),
        ("asylum", "removal defense", "detained", "TPS", "work permit"),
        ("English", "Spanish", "Haitian Creole"),
        10,
        "attorney",
        interpreter=True,
        verified_days=-75,
    ),
    _legal(
        "Sunpath Haitian Legal Network",
        "sunpath",
        "FL",
        ("Miami-Dade", "Palm Beach"),
        ("TPS", "asylum", "family petition", "work permit", "naturalization"),
        ("Haitian Creole", "French", "English"),
        6,
        "fully accredited",
        verified_days=-100,
    ),
    _legal(
        "Orchard Street Legal Clinic",
        "orchard-street",
        "NY",
        ("Kings", "Queens", "New York"),
        ("asylum", "removal defense", "SIJS", "U visa", "T visa", "VAWA"),
        ("English", "Spanish", "Chinese", "Arabic"),
        9,
        "attorney",
        remote=True,
        verified_days=-50,
    ),
    _legal(
        "Harborlight Immigrant Services",
        "harborlight",
        "NY",
        ("Westchester", "New York"),
        ("DACA", "naturalization", "family petition", "know your rights"),
        ("English", "Spanish"),
        7,
        "partially accredited",
        accepting=False,
        verified_days=-140,
    ),
    _legal(
        "Jade Terrace Legal Aid",
        "jade-terrace",
        "NY",
        ("Queens", "Kings"),
        ("naturalization", "family petition", "asylum"),
        ("Chinese", "English"),
        5,
        "fully accredited",
        verified_days=-80,
    ),
    _legal(
        "Prairie Wind Legal Aid",
        "prairie-wind",
        "IL",
        ("Cook", "DuPage"),
        ("asylum", "removal defense", "detained", "DACA", "U visa"),
        ("English", "Spanish", "Arabic", "Ukrainian"),
        8,
        "attorney",
        remote=True,
        verified_days=-25,
    ),
    _legal(
        "Saguaro Bridge Legal Defense",
        "saguaro-bridge",
        "AZ",
        ("Maricopa", "Pima"),
        ("removal defense", "detained", "asylum", "SIJS"),
        ("English", "Spanish", "K'iche'"),
        7,
        "attorney",
        interpreter=True,
        verified_days=-35,
    ),
    _legal(
        "Peachleaf Immigrant Law Project",
        "peachleaf",
        "GA",
        ("Fulton", "DeKalb", "Gwinnett"),
        ("asylum", "removal defense", "VAWA", "U visa", "naturalization"),
        ("English", "Spanish", "Vietnamese"),
        5,
        "attorney",
        verified_days=-160,
    ),
    _legal(
        "Lanternwick Refugee Legal Center",
        "lanternwick",
        "MA",
        ("Suffolk", "Middlesex"),
        ("asylum", "family petition", "naturalization", "TPS"),
        ("English", "Haitian Creole", "Portuguese", "Arabic"),
        6,
        "fully accredited",
        verified_days=-90,
    ),
    _legal(
        "Palisade Immigrant Defense",
        "palisade",
        "NJ",
        ("Hudson", "Essex"),
        ("removal defense", "detained", "asylum"),
        ("English", "Spanish", "Arabic"),
        6,
        "attorney",
        verified_days=-45,
    ),
    _legal(
        "Evergreen Crossing Legal Aid",
        "evergreen-crossing",
        "WA",
        ("King", "Yakima"),
        ("asylum", "DACA", "TPS", "work permit", "U visa"),
        ("English", "Spanish", "Vietnamese", "Chinese", "Somali"),
        8,
        "attorney",
        accepting=False,
        verified_days=-110,
    ),
    _legal(
        "Magnolia Delta Legal Services",
        "magnolia-delta",
        "NC",
        ("Mecklenburg", "Wake"),
        ("asylum", "family petition", "DACA"),
        ("English", "Spanish"),
        4,
        "partially accredited",
        status="Lapsed",
        dues_days=-95,
        verified_days=-430,
    ),
)


def _group(
    name: str, type_: str, state: str, languages: tuple[str, ...] = ("English",), **kw: Any
) -> MemberSpec:
    return MemberSpec(name, type_, state, languages=languages, **kw)


OTHER_MEMBERS: tuple[MemberSpec, ...] = (
    _group(
        "Casa Girasol Community Center",
        COMMUNITY,
        "TX",
        ("Spanish", "English"),
        counties=("Harris",),
    ),
    # The duplicate-looking pair: same group entered twice, spelled differently.
    _group(
        "Casa Girasol Community Ctr.",
        COMMUNITY,
        "TX",
        ("Spanish",),
        counties=("Harris",),
        status="Pending",
        dues_days=-400,
        verified_days=-20,
    ),
    _group("Iglesia Luz del Valle", FAITH, "TX", ("Spanish",), counties=("Hidalgo",)),
    _group(
        "Amanecer Day Laborers Network",
        LABOR,
        "CA",
        ("Spanish", "English"),
        counties=("Los Angeles",),
    ),
    _group("Copperline Rideshare Drivers Guild", LABOR, "AZ", ("English", "Spanish", "Arabic")),
    _group(
        "Desert Bloom Youth Collective",
        COMMUNITY,
        "AZ",
        ("English", "Spanish"),
        counties=("Maricopa",),
    ),
    _group("Haitian Unity House of Palmera", COMMUNITY, "FL", ("Haitian Creole", "French")),
    _group("Seagrape Tenants Union", LABOR, "FL", ("Spanish", "English")),
    _group("Harbor Tenants & Immigrant Alliance", COMMUNITY, "NY", ("English", "Spanish")),
    _group(
        "Jade Harbor Chinese Families Association",
        COMMUNITY,
        "NY",
        ("Chinese", "English"),
        verified_days=-520,
    ),
    _group("Rainwood Islamic Community Council", FAITH, "IL", ("Arabic", "English")),
    _group("St. Veridian Parish Immigrant Ministry", FAITH, "IL", ("Spanish", "English")),
    _group("Southern Crossing Farmworker Union", LABOR, "GA", ("Spanish", "English")),
    _group("Oakhaven Teachers for Immigrant Students", LABOR, "GA"),
    _group("First Lantern Congregational Church", FAITH, "MA"),
    _group(
        "Seabreeze Dominican Women's Circle",
        COMMUNITY,
        "MA",
        ("Spanish",),
        status="Lapsed",
        dues_days=-210,
    ),
    _group("Pinebarren Harvest Workers Association", LABOR, "NJ", ("Spanish", "English")),
    _group("Bamboo Bridge Vietnamese Association", COMMUNITY, "WA", ("Vietnamese", "English")),
    _group("Northwind Somali Youth Council", COMMUNITY, "WA", ("Somali", "English")),
    _group("Carolina Pines Worker Center", LABOR, "NC", ("Spanish", "English")),
    _group("Cedar Ridge Interfaith Sanctuary Network", FAITH, "CO"),
    _group("Front Range Immigrant Families Alliance", COMMUNITY, "CO", ("Spanish", "English")),
)
MEMBERS: tuple[MemberSpec, ...] = LEGAL_AID_MEMBERS + OTHER_MEMBERS
NO_PRIMARY_CONTACT = "Pinebarren Harvest Workers Association"
UNLINKED_CONTACT_ROLE = "Volunteer"


@dataclass(frozen=True)
class SlackPerson:
    """A human Slack user of the demo workspace."""

    user_id: str
    name: str
    real_name: str
    email: str | None = None
    is_admin: bool = False
    title: str = ""


# Fixed ids: config/access.yaml lists these very ids as staff and admins.
STAFF: tuple[SlackPerson, ...] = (
    SlackPerson(
        "U0DEMOSTF01",
        "odalys.brennwater",
        "Odalys Brennwater",
        "odalys.brennwater@example.org",
        title="Intake coordinator",
    ),
    SlackPerson(
        "U0DEMOSTF02",
        "tobiah.quillfeather",
        "Tobiah Quillfeather",
        "tobiah.quillfeather@example.org",
        title="Policy director",
    ),
    SlackPerson(
        "U0DEMOSTF03",
        "perrin.larkspurr",
        "Perrin Larkspurr",
        "perrin.larkspurr@example.org",
        title="Membership and development",
    ),
)
ADMINS: tuple[SlackPerson, ...] = (
    SlackPerson(
        "U0DEMOADM01",
        "caedmon.ravensmere",
        "Caedmon Ravensmere",
        "caedmon.ravensmere@example.org",
        is_admin=True,
        title="Operations admin",
    ),
)


@dataclass
class Roster:
    """Members and contacts as Airtable fields, and the partner Slack users they point to.

    Links are by organization name here; the wiring resolves them to record ids.
    """

    members: list[dict[str, object]] = field(default_factory=list)
    contacts: list[dict[str, object]] = field(default_factory=list)
    partner_users: list[SlackPerson] = field(default_factory=list)
    # Slack user ids of each organization's users, for channel membership.
    users_by_org: dict[str, list[str]] = field(default_factory=dict)


def member_fields(spec: MemberSpec, today: date, referral_sheet_id: str) -> dict[str, object]:
    """A member's Airtable fields, its dates anchored on demo-today."""
    fields: dict[str, object] = {
        "Name": spec.name,
        "Type": spec.type,
        "State": spec.state,
        "Counties": list(spec.counties),
        "Services": list(spec.services),
        "Languages": list(spec.languages),
        "Accepting referrals": spec.accepting,
        "Weekly capacity": spec.capacity,
        "Income limit": spec.income_limit,
        "LSC funded": spec.lsc,
        "Accreditation": spec.accreditation if spec.is_legal_aid else "none",
        "Referral channel": spec.referral_channel,
        "Referral sheet": referral_sheet_id if spec.is_legal_aid else "",
        "Membership status": spec.status,
        "Dues paid through": (today + timedelta(days=spec.dues_days)).isoformat(),
        "Last verified": (today + timedelta(days=spec.verified_days)).isoformat(),
        "Remote services": spec.remote,
        "Interpreter available": spec.interpreter,
    }
    return fields


_GROUP_OF_LANGUAGE = {
    "Spanish": "es",
    "Arabic": "ar",
    "Haitian Creole": "ht",
    "Vietnamese": "vi",
    "Chinese": "zh",
}


def _contact_group(spec: MemberSpec, rng: random.Random) -> str:
    groups = [_GROUP_OF_LANGUAGE[lang] for lang in spec.languages if lang in _GROUP_OF_LANGUAGE]
    return rng.choice([*groups, "en"]) if groups else "en"


# Broken contact details the roster sync must flag, by (organization, contact index).
_BAD_PHONES = {
    ("Mesquite Hollow Legal Collective", 1): "555-01",
    ("Coral Reef Immigrant Justice Center", 0): "(305) 555-01999",
    ("Iglesia Luz del Valle", 0): "call the parish office",
    ("Rainwood Islamic Community Council", 1): "+1 (312) 555-0100 ext",
}
_BAD_EMAILS = {
    ("Sunpath Haitian Legal Network", 1): "{handle} at example.org",
    ("Palisade Immigrant Defense", 0): "{handle}@example",
    ("Front Range Immigrant Families Alliance", 0): "{handle}@@example.com",
}
_NO_EMAIL = {("Amanecer Day Laborers Network", 1)}


def _roles(spec: MemberSpec) -> list[str]:
    if spec.is_legal_aid:
        return ["Intake coordinator", "Executive director"]
    lead = {FAITH: "Pastor", LABOR: "Union steward"}.get(spec.type, "Executive director")
    return [lead, "Organizer"]


def build_roster(
    today: date, people: People, rng: random.Random, referral_sheet_ids: dict[str, str]
) -> Roster:
    """Members and 80 contacts: two per organization, one org without a primary, one unlinked."""
    roster = Roster()
    for spec in MEMBERS:
        roster.members.append(member_fields(spec, today, referral_sheet_ids.get(spec.name, "")))
        roster.users_by_org[spec.name] = []
        roles = _roles(spec)
        if spec.name == NO_PRIMARY_CONTACT:
            roles = ["Organizer"]
        for index, role in enumerate(roles):
            person = people.person(_contact_group(spec, rng))
            contact = _contact(spec, index, role, person, people)
            contact["Primary contact"] = index == 0 and spec.name != NO_PRIMARY_CONTACT
            # Intake coordinators of legal-aid partners and community organizers use Slack.
            if role in {"Intake coordinator", "Organizer"}:
                user = SlackPerson(
                    random_id(rng, "U0", 9),
                    person.handle[:80],
                    person.name,
                    f"{person.handle}@example.org",
                    title=role,
                )
                roster.partner_users.append(user)
                roster.users_by_org[spec.name].append(user.user_id)
                contact["Slack user"] = user.user_id
            roster.contacts.append(contact)
    loner = people.person("en")
    roster.contacts.append(
        {
            "Name": loner.name,
            "Email": people.email(loner),
            "Phone": people.phone("NY"),
            "Organization": [],
            "Role": UNLINKED_CONTACT_ROLE,
            "Primary contact": False,
        }
    )
    return roster


def _contact(
    spec: MemberSpec, index: int, role: str, person: Person, people: People
) -> dict[str, object]:
    key = (spec.name, index)
    area, last = people.phone_digits(spec.state)
    phone = _BAD_PHONES.get(key) or format_phone(area, last, "paren")
    email = people.email(person)
    if key in _BAD_EMAILS:
        email = _BAD_EMAILS[key].format(handle=ascii_handle(person.roman_name))
    if key in _NO_EMAIL:
        email = ""
    return {
        "Name": person.name,
        "Email": email,
        "Phone": phone,
        "Organization": [spec.name],
        "Role": role,
    }
