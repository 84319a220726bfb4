"""Demo donations and activities for the weekly summary: ten weeks before demo-today (pure).

About 400 gifts from returning and new donors, monthly recurring gifts, anonymous gifts
(named and unnamed), one refund as a negative amount and a couple of amounts typed by
hand ("$1,200.50"), plus 40 activities across the organizing regions.

`Amount` is a text field, as in a table imported from a payment processor's CSV: most
cells read like "50.00", the hand-typed ones keep their "$" and thousands separator.
(A currency field would typecast "$1,200.50" to 1200.5, and the summary would never
meet the text it must cope with.)
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import date, timedelta

from sandbox.seed.people import People
from sandbox.seed.places import REGION_OF_STATE
from sandbox.seed.roster import MEMBERS

DONATION_COUNT = 400
ACTIVITY_COUNT = 40
WEEKS = 10
DONATION_CAMPAIGNS = ["General fund", "Legal defense fund", "Spring appeal", "Citizenship day"]
DONATION_SOURCES = ["Online", "Check", "Event", "Bank transfer"]
TEXT_AMOUNTS = ["$1,200.50", "$75"]
REFUND_AMOUNT = "-50.00"
ACTIVITY_TYPES = [
    "Know your rights workshop",
    "Legal clinic",
    "Rally",
    "Lobby visit",
    "Training",
    "Community meeting",
    "Phone bank",
]
_TITLES = {
    "Know your rights workshop": ["Know your rights at {org}", "Workplace raids: know your rights"],
    "Legal clinic": [
        "DACA renewal clinic",
        "Citizenship screening clinic",
        "TPS re-registration night",
    ],
    "Rally": ["Rally for due process", "Families belong together march"],
    "Lobby visit": ["Lobby visit on HB 2417", "Meeting with the state senator's staff on SB 412"],
    "Training": ["Court accompaniment volunteer training", "Rapid response hotline training"],
    "Community meeting": ["Monthly members meeting at {org}", "Listening session with parents"],
    "Phone bank": ["Phone bank against SB 412", "Calls to members about the budget hearing"],
}
_GIFT_SIZES = [10, 20, 25, 35, 50, 75, 100, 150, 250, 500, 1000]
_GIFT_WEIGHTS = [10, 14, 16, 8, 18, 6, 12, 4, 6, 3, 1]


@dataclass(frozen=True)
class Donor:
    name: str
    email: str


def _donors(people: People, rng: random.Random, count: int) -> list[Donor]:
    donors = []
    for _ in range(count):
        group = rng.choices(["en", "es", "ar", "ht", "vi", "zh"], weights=[50, 30, 5, 5, 5, 5])[0]
        person = people.person(group)
        email = people.email(person, "example.com") if rng.random() < 0.9 else ""
        donors.append(Donor(person.name, email))
    return donors


def _gift(
    donor: Donor,
    amount: float | str,
    day: date,
    rng: random.Random,
    recurring: bool = False,
    anonymous: bool = False,
) -> dict[str, object]:
    return {
        "Donor": donor.name,
        "Email": donor.email,
        "Amount": amount if isinstance(amount, str) else f"{amount:.2f}",
        "Date": day.isoformat(),
        "Recurring": recurring,
        "Campaign": rng.choice([*DONATION_CAMPAIGNS, ""]),
        "Anonymous": anonymous,
        "Source": "Online" if recurring else rng.choice(DONATION_SOURCES),
    }


def build_donations(today: date, people: People, rng: random.Random) -> list[dict[str, object]]:
    """Exactly DONATION_COUNT gifts dated in the ten weeks before today, oldest first."""
    donors = _donors(people, rng, 150)
    first_day = today - timedelta(days=7 * WEEKS)
    gifts: list[dict[str, object]] = []
    # Monthly donors give on the same day of each month.
    for donor in donors[:18]:
        amount = float(rng.choice([10, 15, 25, 50, 100]))
        day_of_month = rng.randint(1, 28)
        day = first_day
        while day < today:
            if day.day == day_of_month:
                gifts.append(_gift(donor, amount, day, rng, recurring=True))
            day += timedelta(days=1)
    big = _gift(donors[20], 5000.0, today - timedelta(days=rng.randint(8, 14)), rng)
    big["Source"] = "Bank transfer"
    gifts.append(big)
    specials = 2 + len(TEXT_AMOUNTS) + 3  # refund, text amounts, unnamed anonymous
    while len(gifts) < DONATION_COUNT - specials:
        donor = rng.choice(donors[18:])
        amount = float(rng.choices(_GIFT_SIZES, weights=_GIFT_WEIGHTS)[0])
        if rng.random() < 0.15:
            amount += rng.choice([0.5, 0.25, 0.99])
        day = first_day + timedelta(days=rng.randrange(7 * WEEKS))
        gifts.append(_gift(donor, amount, day, rng, anonymous=rng.random() < 0.08))
    refunded = next(g for g in gifts if g["Amount"] == "50.00" and not g["Recurring"])
    refund = dict(refunded, Amount=REFUND_AMOUNT, Date=(today - timedelta(days=2)).isoformat())
    gifts.append(refund)
    for text in TEXT_AMOUNTS:
        day = today - timedelta(days=rng.randint(1, 12))
        gifts.append(_gift(rng.choice(donors), text, day, rng))
    for _ in range(3):
        day = today - timedelta(days=rng.randint(1, 60))
        amount = float(rng.choice([20, 100, 250]))
        gifts.append(_gift(Donor("", ""), amount, day, rng, anonymous=True))
    gifts.append(_gift(rng.choice(donors), 35.0, today - timedelta(days=1), rng))
    gifts.sort(key=lambda g: str(g["Date"]))
    return gifts


def build_activities(today: date, rng: random.Random) -> list[dict[str, object]]:
    """ACTIVITY_COUNT activities spread over the ten weeks, each run by one member organization."""
    activities = []
    for _ in range(ACTIVITY_COUNT):
        member = rng.choice(MEMBERS)
        kind = rng.choice(ACTIVITY_TYPES)
        title = rng.choice(_TITLES[kind]).format(org=member.name)
        day = today - timedelta(days=rng.randint(1, 7 * WEEKS))
        activities.append(
            {
                "Date": day.isoformat(),
                "Type": kind,
                "Title": title,
                "Attendees": rng.randint(5, 180) if kind != "Lobby visit" else rng.randint(2, 12),
                "Region": REGION_OF_STATE[member.state],
                "Organization": [member.name],
            }
        )
    activities.sort(key=lambda a: str(a["Date"]))
    return activities
