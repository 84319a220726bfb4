"""Fundraising figures from Airtable `Donations` records (pure): amounts as typed, gifts, donors, weekly figures.

Amounts arrive as text from a payment processor's CSV or typed by hand: "$1,200.50",
"1.200,50", "1 200,50", "-50.00", "(50.00)". `parse_amount` reads them exactly
(Decimal, never float) and refuses what it cannot read for sure: "1.200" could be
1,200 or 1.20, so it is reported, not guessed. A negative amount is a refund, shown
apart from gifts. Records that cannot be counted (no amount, no date, an impossible
date) become `RecordProblem`s for the document's data notes.

Donors are matched by e-mail when the record has one, else by name, both lower-cased
and trimmed. A donor is new in the week of their first gift ever and returning
after it; the first gift comes from the donor history the ledger keeps (history.py),
which a `Listing` feeds as it sorts the records read. Anonymous gifts count in every
figure; their donors are never named, not even in the optional top list.
"""

from __future__ import annotations

import re
import statistics
from collections import defaultdict
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta, tzinfo
from decimal import Decimal, InvalidOperation
from typing import Any

from coalition.summary.weeks import DateProblem, IsoWeek, Window, local_date

CENT = Decimal("0.01")
ZERO = Decimal(0)
NO_CAMPAIGN = "(no campaign)"
NO_SOURCE = "(no source)"
ANONYMOUS_LABEL = "Anonymous donor"
UNNAMED_LABEL = "Donor without a name"
NEAR_WINDOW = timedelta(
    days=2
)  # queries.MARGIN for a date field of unknown type, plus a day of time zone


class Fields:
    """Field names of the Donations table as this module reads them: DESIGN.md's. The flow
    hands records over under these names whatever the workspace calls them (config/fields.yaml)."""

    donor = "Donor"
    email = "Email"
    amount = "Amount"
    date = "Date"
    recurring = "Recurring"
    campaign = "Campaign"
    anonymous = "Anonymous"
    source = "Source"

    required = (amount, date)
    optional = (donor, email, recurring, campaign, anonymous, source)


# ---------------------------------------------------------------- amounts
class AmountProblem(ValueError):
    """An amount that cannot be read for sure: `reason` is "missing", "unreadable" or "ambiguous"."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


_CURRENCY = re.compile(r"(?i)\s*(?:us\$|usd|\$)\s*")
_SPACES = re.compile(r"[\s\u00a0\u2007\u202f]+")
_MINUS = ("-", "\u2212", "\u2013")


def parse_amount(value: Any) -> Decimal:
    """Dollars as a Decimal with at most 2 places; negative for a refund. AmountProblem otherwise."""
    if value is None or isinstance(value, bool):
        raise AmountProblem("missing")
    if isinstance(value, int | float):
        return _exact(Decimal(str(value)))
    if isinstance(value, Decimal):
        return _exact(value)
    if not isinstance(value, str) or not value.strip():
        raise AmountProblem("missing" if not str(value or "").strip() else "unreadable")
    text, negative = _sign(value.strip())
    digits = _SPACES.sub("", _CURRENCY.sub("", text))
    if digits.startswith(_MINUS):  # "$-50" as well as "-$50"
        if negative:
            raise AmountProblem("unreadable")
        negative, digits = True, digits[1:]
    amount = _number(digits)
    return -amount if negative else amount


def _sign(text: str) -> tuple[str, bool]:
    if text.startswith("(") and text.endswith(")"):
        return text[1:-1].strip(), True
    if text.startswith(_MINUS):
        return text[1:].strip(), True
    return text, False


def _number(text: str) -> Decimal:
    """Digits with '.', ',' or an apostrophe between groups: which one is the decimal point?"""
    if not text.isascii() or not re.fullmatch(r"[\d.,']+", text) or not re.search(r"\d", text):
        raise AmountProblem("unreadable")
    if "'" in text:  # the Swiss thousands mark: 1'200.50
        if not re.fullmatch(r"\d{1,3}(?:'\d{3})+(?:[.,]\d{1,2})?", text):
            raise AmountProblem("unreadable")
        text = text.replace("'", "")
    dots, commas = text.count("."), text.count(",")
    if dots and commas:
        decimal_mark = "." if text.rfind(".") > text.rfind(",") else ","
        thousands = "," if decimal_mark == "." else "."
        return _grouped(text, thousands, decimal_mark)
    mark = "." if dots else "," if commas else None
    if mark is None:
        return _exact(Decimal(text))
    if text.count(mark) > 1:
        return _grouped(text, mark, None)
    head, tail = text.split(mark)
    if len(tail) in (1, 2):
        return _exact(Decimal(f"{head or '0'}.{tail}"))
    if len(tail) == 3 and head and len(head) <= 3 and head[0] != "0":
        if mark == ",":
            return _exact(Decimal(head + tail))  # the US convention: 1,200 is twelve hundred
        raise AmountProblem("ambiguous")  # 1.200: 1,200 in Europe, 1.20 with a stray zero in the US
    raise AmountProblem("unreadable")


def _grouped(text: str, thousands: str, decimal_mark: str | None) -> Decimal:
    t, d = re.escape(thousands), re.escape(decimal_mark or "")
    pattern = rf"\d{{1,3}}(?:{t}\d{{3}})+" + (rf"{d}\d{{1,2}}" if decimal_mark else "")
    if not re.fullmatch(pattern, text) or text.startswith("0"):
        raise AmountProblem("unreadable")
    whole, _, cents = text.partition(decimal_mark) if decimal_mark else (text, "", "")
    return _exact(Decimal(whole.replace(thousands, "") + (f".{cents}" if cents else "")))


def _exact(amount: Decimal) -> Decimal:
    try:
        if not amount.is_finite() or amount != amount.quantize(CENT):
            raise AmountProblem("unreadable")
        return amount.quantize(CENT)
    except InvalidOperation:
        raise AmountProblem("unreadable") from None


# ---------------------------------------------------------------- records
@dataclass(frozen=True)
class DonorRef:
    """Who gave, as far as matching needs: the keys (lower-cased), and the name as written."""

    email: str
    name: str
    display: str  # personal: only the optional top-donors list may show it

    @property
    def key(self) -> str:
        return f"e:{self.email}" if self.email else f"n:{self.name}"


def norm(value: Any) -> str:
    """Lower-cased and trimmed, as LOWER(TRIM(...)) does in an Airtable formula."""
    if isinstance(value, list):
        value = ", ".join(str(v) for v in value)
    return str(value or "").strip().lower()


def donor_ref(fields: Mapping[str, Any]) -> DonorRef | None:
    email, name = norm(fields.get(Fields.email)), norm(fields.get(Fields.donor))
    if not email and not name:
        return None
    return DonorRef(email, name, str(fields.get(Fields.donor) or "").strip())


@dataclass(frozen=True)
class Gift:
    """One Donations record that can be counted: a gift (amount > 0) or a refund (amount < 0)."""

    record_id: str
    day: date
    amount: Decimal
    recurring: bool = False
    anonymous: bool = False
    campaign: str = NO_CAMPAIGN
    source: str = NO_SOURCE
    donor: DonorRef | None = None

    @property
    def is_refund(self) -> bool:
        return self.amount < 0


@dataclass(frozen=True)
class RecordProblem:
    """A record left out of the figures, and why (a code from PROBLEMS). No field values."""

    table: str
    record_id: str
    problem: str


PROBLEMS = {
    "amount_missing": "no amount",
    "amount_unreadable": "an amount that is not a number",
    "amount_ambiguous": "an ambiguous amount such as 1.200 (1,200 or 1.20?)",
    "amount_zero": "an amount of zero",
    "date_missing": "no date",
    "date_impossible": "an impossible or unreadable date",
    "attendees_unreadable": "an attendance that is not a whole number of people",
    "no_donor": "no donor name or e-mail",
}


def _label(value: Any, blank: str) -> str:
    if isinstance(value, list):
        value = ", ".join(str(v) for v in value)
    text = " ".join(str(value or "").split())
    return text or blank


def gift_from_record(
    record: Mapping[str, Any], tz: tzinfo, table: str = "Donations"
) -> Gift | RecordProblem:
    """A Gift, or the reason the record cannot be counted."""
    fields = record.get("fields") or {}
    rid = str(record.get("id", ""))
    try:
        amount = parse_amount(fields.get(Fields.amount))
    except AmountProblem as exc:
        return RecordProblem(table, rid, f"amount_{exc.reason}")
    if amount == 0:
        return RecordProblem(table, rid, "amount_zero")
    try:
        day = local_date(fields.get(Fields.date), tz)
    except DateProblem as exc:
        return RecordProblem(table, rid, f"date_{exc.reason}")
    return Gift(
        record_id=rid,
        day=day,
        amount=amount,
        recurring=fields.get(Fields.recurring) is True,
        anonymous=fields.get(Fields.anonymous) is True,
        campaign=_label(fields.get(Fields.campaign), NO_CAMPAIGN),
        source=_label(fields.get(Fields.source), NO_SOURCE),
        donor=donor_ref(fields),
    )


def each_record_once(
    records: Iterable[Mapping[str, Any]],
) -> Iterator[tuple[str, Mapping[str, Any]]]:
    """(id, record) for each record, a repeated id skipped: a page read twice counts once."""
    seen: set[str] = set()
    for record in records:
        rid = str(record.get("id", ""))
        if rid not in seen:
            seen.add(rid)
            yield rid, record


def read_gifts(
    records: Iterable[Mapping[str, Any]], tz: tzinfo, table: str = "Donations"
) -> tuple[list[Gift], list[RecordProblem]]:
    gifts: list[Gift] = []
    problems: list[RecordProblem] = []
    for _rid, record in each_record_once(records):
        found = gift_from_record(record, tz, table)
        (gifts if isinstance(found, Gift) else problems).append(found)  # type: ignore[arg-type]
    return gifts, problems


def personal_values(gifts: Iterable[Gift]) -> list[str]:
    """Donor names and e-mails as written: the privacy guard keeps them out of logs."""
    values: set[str] = set()
    for gift in gifts:
        if gift.donor:
            values.update(v for v in (gift.donor.display, gift.donor.email) if v)
    return sorted(values)


def distinctive(values: Iterable[str]) -> list[str]:
    """E-mails and names of two words or more: what can be searched for without matching plain words."""
    return [v for v in values if "@" in v or len(re.findall(r"\w{2,}", v)) >= 2]


# ---------------------------------------------------------------- one listing, sorted
@dataclass
class Listing:
    """A donations listing sorted as it is read: the window's gifts, the problems to report, first-gift days.

    The listing holds the window, records without a usable date, and the earlier
    gifts the donor history lacks. Every dated gift read counts towards its donor's
    first gift; only the window's gifts count in the figures, and only the problems
    of records dated in the window or not dated at all are reported (a bad record of
    another week belongs to that week's notes). Records are kept as they come, so a
    50,000-gift first run holds gifts, not raw records.
    """

    window: Window
    tz: tzinfo
    table: str = "Donations"
    gifts: list[Gift] = field(default_factory=list)
    problems: list[RecordProblem] = field(default_factory=list)
    first_days: dict[str, date] = field(default_factory=dict)
    records: int = 0  # records read, once each
    outside: int = 0  # records read for the history: dated more than NEAR_WINDOW from the window
    # Gifts (not refunds) by week over everything read: whole weeks only when the listing
    # read the whole history (a rebuild), so the dashboard's 52 weeks cost no extra page.
    weekly: dict[IsoWeek, Tally] = field(default_factory=dict)
    _seen: set[str] = field(default_factory=set, repr=False)

    def add(self, records: Iterable[Mapping[str, Any]]) -> None:
        for record in records:
            rid = str(record.get("id", ""))
            if rid in self._seen:
                continue
            self._seen.add(rid)
            self.records += 1
            self._sort(record, gift_from_record(record, self.tz, self.table))

    def _sort(self, record: Mapping[str, Any], found: Gift | RecordProblem) -> None:
        if isinstance(found, Gift):
            if self.window.week_of(found.day) is not None:
                self.gifts.append(found)
            elif not self._near_window(found.day):
                self.outside += 1
            _note_first_gift(self.first_days, found)
            if not found.is_refund:
                self.weekly.setdefault(IsoWeek.of(found.day), Tally()).add(found.amount)
        elif found.problem.startswith("date_") or self._dated_in_window(record):
            self.problems.append(found)
        else:
            self.outside += 1

    def _near_window(self, day: date) -> bool:
        """Within the days the window's UTC bounds may reach past it (read for the window, not the history)."""
        return (
            self.window.first.monday - NEAR_WINDOW <= day <= self.window.target.sunday + NEAR_WINDOW
        )

    def _dated_in_window(self, record: Mapping[str, Any]) -> bool:
        try:
            day = local_date((record.get("fields") or {}).get(Fields.date), self.tz)
        except DateProblem:
            return True
        return self.window.week_of(day) is not None


def _note_first_gift(first: dict[str, date], gift: Gift) -> None:
    if gift.donor is None or gift.is_refund:
        return
    key = gift.donor.key
    if key not in first or gift.day < first[key]:
        first[key] = gift.day


def merge_first_days(*sources: Mapping[str, date]) -> dict[str, date]:
    """Per donor, the earliest of the dates the sources know."""
    merged: dict[str, date] = {}
    for source in sources:
        for key, day in source.items():
            if key not in merged or day < merged[key]:
                merged[key] = day
    return merged


def first_gift_days(gifts: Iterable[Gift]) -> dict[str, date]:
    """Each donor's earliest gift among `gifts` (a refund is not a gift; anonymous gifts without a donor have no key)."""
    first: dict[str, date] = {}
    for gift in gifts:
        _note_first_gift(first, gift)
    return first


# ---------------------------------------------------------------- figures
@dataclass
class Tally:
    amount: Decimal = ZERO
    gifts: int = 0

    def add(self, amount: Decimal) -> None:
        self.amount += amount
        self.gifts += 1


@dataclass
class WeekFigures:
    """One week's fundraising figures."""

    week: IsoWeek
    raised: Decimal = ZERO
    gifts: int = 0
    average: Decimal | None = None
    median: Decimal | None = None
    new_donors: int = 0
    returning_donors: int = 0
    unidentified_gifts: int = 0
    anonymous_gifts: int = 0
    recurring_gifts: int = 0
    recurring_raised: Decimal = ZERO
    refunds: int = 0
    refunded: Decimal = ZERO  # a positive sum of the refunds' amounts
    by_campaign: dict[str, Tally] = field(default_factory=dict)
    by_source: dict[str, Tally] = field(default_factory=dict)

    @property
    def net(self) -> Decimal:
        return self.raised - self.refunded

    @property
    def empty(self) -> bool:
        return self.gifts == 0 and self.refunds == 0


def week_figures(gifts: Sequence[Gift], week: IsoWeek, first: Mapping[str, date]) -> WeekFigures:
    figures = WeekFigures(week)
    amounts: list[Decimal] = []
    donors: dict[str, bool] = {}  # key -> new this week
    campaigns: dict[str, Tally] = defaultdict(Tally)
    sources: dict[str, Tally] = defaultdict(Tally)
    for gift in gifts:
        if not week.contains(gift.day):
            continue
        if gift.is_refund:
            figures.refunds += 1
            figures.refunded += -gift.amount
            continue
        amounts.append(gift.amount)
        campaigns[gift.campaign].add(gift.amount)
        sources[gift.source].add(gift.amount)
        figures.anonymous_gifts += gift.anonymous
        if gift.recurring:
            figures.recurring_gifts += 1
            figures.recurring_raised += gift.amount
        if gift.donor is None:
            figures.unidentified_gifts += 1
        else:
            key = gift.donor.key
            donors[key] = week.contains(first.get(key, gift.day))
    figures.gifts = len(amounts)
    figures.raised = sum(amounts, ZERO)
    if amounts:
        figures.average = (figures.raised / len(amounts)).quantize(CENT)
        figures.median = Decimal(statistics.median(amounts)).quantize(CENT)
    figures.new_donors = sum(donors.values())
    figures.returning_donors = len(donors) - figures.new_donors
    figures.by_campaign, figures.by_source = dict(campaigns), dict(sources)
    return figures


@dataclass
class Averages:
    """The mean week over several weeks; average and median gift over all their gifts pooled."""

    weeks: int
    raised: Decimal = ZERO
    gifts: Decimal = ZERO
    average: Decimal | None = None
    median: Decimal | None = None
    new_donors: Decimal = ZERO
    returning_donors: Decimal = ZERO
    recurring_gifts: Decimal = ZERO
    recurring_raised: Decimal = ZERO
    refunds: Decimal = ZERO
    refunded: Decimal = ZERO
    by_campaign: dict[str, Tally] = field(default_factory=dict)
    by_source: dict[str, Tally] = field(default_factory=dict)

    @property
    def net(self) -> Decimal:
        return self.raised - self.refunded


def averages(weeks: Sequence[WeekFigures], gifts: Sequence[Gift]) -> Averages:
    n = len(weeks)
    result = Averages(n)
    if not n:
        return result

    def mean(values: Iterable[Decimal | int]) -> Decimal:
        return (sum((Decimal(v) for v in values), ZERO) / n).quantize(CENT)

    for name in ("raised", "gifts", "new_donors", "returning_donors", "recurring_gifts"):
        setattr(result, name, mean(getattr(w, name) for w in weeks))
    for name in ("recurring_raised", "refunds", "refunded"):
        setattr(result, name, mean(getattr(w, name) for w in weeks))
    pooled = [
        g.amount for g in gifts if not g.is_refund and any(w.week.contains(g.day) for w in weeks)
    ]
    if pooled:
        result.average = (sum(pooled, ZERO) / len(pooled)).quantize(CENT)
        result.median = Decimal(statistics.median(pooled)).quantize(CENT)
    result.by_campaign = _mean_tallies([w.by_campaign for w in weeks], n)
    result.by_source = _mean_tallies([w.by_source for w in weeks], n)
    return result


def _mean_tallies(tallies: Sequence[Mapping[str, Tally]], n: int) -> dict[str, Tally]:
    sums: dict[str, list[Decimal]] = defaultdict(lambda: [ZERO, ZERO])
    for week in tallies:
        for name, tally in week.items():
            sums[name][0] += tally.amount
            sums[name][1] += tally.gifts
    return {
        name: Tally((amount / n).quantize(CENT), (count / n).quantize(CENT))  # type: ignore[arg-type]
        for name, (amount, count) in sums.items()
    }


@dataclass(frozen=True)
class BreakdownRow:
    """A campaign or a source: this week, the previous week, the 4-week average."""

    name: str
    this: Tally
    previous: Tally
    average: Tally


def breakdown(
    this: Mapping[str, Tally], previous: Mapping[str, Tally], average: Mapping[str, Tally]
) -> list[BreakdownRow]:
    """Every name seen in any of the weeks, largest this week first ("(no ...)" rows last)."""
    names = set(this) | set(previous) | set(average)
    rows = [
        BreakdownRow(n, this.get(n, Tally()), previous.get(n, Tally()), average.get(n, Tally()))
        for n in names
    ]
    return sorted(
        rows, key=lambda r: (r.name.startswith("("), -r.this.amount, -r.average.amount, r.name)
    )


@dataclass(frozen=True)
class TopDonor:
    label: str  # the donor's name, or ANONYMOUS_LABEL / UNNAMED_LABEL
    amount: Decimal
    gifts: int


def top_donors(gifts: Sequence[Gift], week: IsoWeek, limit: int) -> list[TopDonor]:
    """The week's largest donors; anyone who ever gave anonymously in the records read stays unnamed."""
    anonymous = {g.donor.key for g in gifts if g.anonymous and g.donor}
    totals: dict[str, Tally] = defaultdict(Tally)
    labels: dict[str, str] = {}
    for index, gift in enumerate(gifts):
        if gift.is_refund or not week.contains(gift.day):
            continue
        key = gift.donor.key if gift.donor else f"unknown:{index}"
        totals[key].add(gift.amount)
        if gift.anonymous or key in anonymous:
            labels[key] = ANONYMOUS_LABEL
        elif gift.donor and gift.donor.display:
            labels.setdefault(key, gift.donor.display)
        else:
            labels.setdefault(key, UNNAMED_LABEL)
    ranked = sorted(totals.items(), key=lambda kv: (-kv[1].amount, labels[kv[0]]))
    return [TopDonor(labels[k], t.amount, t.gifts) for k, t in ranked[:limit]]


@dataclass
class Fundraising:
    """Everything the Fundraising section shows."""

    this: WeekFigures
    previous: WeekFigures
    average: Averages
    campaigns: list[BreakdownRow]
    sources: list[BreakdownRow]
    top: list[TopDonor] | None = None  # None: the list is turned off in config


def fundraising(
    gifts: Sequence[Gift],
    window: Window,
    first_days: Mapping[str, date] | None = None,
    top: int | None = None,
) -> Fundraising:
    """The target week against the previous week and the average of the weeks before it.

    `first_days` is each donor's first gift from the donor history; without it, a
    donor's first gift is taken as their first in `gifts`.
    """
    first = merge_first_days(first_gift_days(gifts), first_days or {})
    per_week = {w: week_figures(gifts, w, first) for w in window.weeks}
    this = per_week[window.target]
    earlier = [per_week[w] for w in window.weeks[:-1]]
    previous = (
        per_week[window.target.shift(-1)] if earlier else WeekFigures(window.target.shift(-1))
    )
    mean = averages(earlier, gifts)
    return Fundraising(
        this=this,
        previous=previous,
        average=mean,
        campaigns=breakdown(this.by_campaign, previous.by_campaign, mean.by_campaign),
        sources=breakdown(this.by_source, previous.by_source, mean.by_source),
        top=top_donors(gifts, window.target, top) if top else None,
    )


__all__ = [
    "AmountProblem",
    "Fields",
    "Fundraising",
    "Gift",
    "Listing",
    "RecordProblem",
    "WeekFigures",
    "distinctive",
    "first_gift_days",
    "fundraising",
    "gift_from_record",
    "merge_first_days",
    "parse_amount",
    "read_gifts",
    "week_figures",
]
