"""Fundraising figures: amounts as people type them, bad records, donors, and an independent recount."""

from __future__ import annotations

import random
import statistics
from collections import defaultdict
from datetime import date, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from coalition.summary.donations import (
    ANONYMOUS_LABEL,
    AmountProblem,
    Gift,
    Listing,
    RecordProblem,
    first_gift_days,
    fundraising,
    gift_from_record,
    merge_first_days,
    parse_amount,
    personal_values,
    read_gifts,
    top_donors,
)
from coalition.summary.weeks import IsoWeek, Window

NY = ZoneInfo("America/New_York")
W48 = IsoWeek(2026, 48)


# ---------------------------------------------------------------- amounts
@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("$1,200.50", "1200.50"),
        ("1.200,50", "1200.50"),
        ("1 200,50", "1200.50"),
        ("1\u00a0200,50", "1200.50"),
        ("1'200.50", "1200.50"),
        ("50.00", "50.00"),
        ("$75", "75.00"),
        ("1,200", "1200.00"),
        ("12,5", "12.50"),
        ("0.99", "0.99"),
        (".50", "0.50"),
        ("USD 1,000,000.00", "1000000.00"),
        ("1.234.567,89", "1234567.89"),
        ("-50.00", "-50.00"),
        ("(50.00)", "-50.00"),
        ("-$50", "-50.00"),
        ("$-50", "-50.00"),
        ("\u2212$50.00", "-50.00"),
        (5000.0, "5000.00"),
        (25, "25.00"),
    ],
)
def test_amounts_as_typed(text: object, expected: str) -> None:
    assert parse_amount(text) == Decimal(expected)


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("", "missing"),
        (None, "missing"),
        ("1.200", "ambiguous"),  # 1,200 in Europe; 1.20 with a stray zero in the US
        ("12.500", "ambiguous"),
        ("abc", "unreadable"),
        ("1.2.3", "unreadable"),
        ("12,34,567", "unreadable"),
        ("€5", "unreadable"),  # another currency is not dollars
        ("50.", "unreadable"),
        ("10.999", "ambiguous"),
        ("10.9999", "unreadable"),
        ("--5", "unreadable"),
        ("٣", "unreadable"),
        (True, "missing"),
        (float("nan"), "unreadable"),
    ],
)
def test_amounts_refused(text: object, reason: str) -> None:
    with pytest.raises(AmountProblem) as caught:
        parse_amount(text)
    assert caught.value.reason == reason


cents = st.integers(min_value=1, max_value=10**10).map(lambda c: Decimal(c) / 100)


def _us(amount: Decimal) -> str:
    return f"${amount:,.2f}"


def _eu(amount: Decimal) -> str:
    return f"{amount:,.2f}".replace(",", " ").replace(".", ",").replace(" ", ".")


def _spaced(amount: Decimal) -> str:
    return f"{amount:,.2f}".replace(",", " ").replace(".", ",")


@given(amount=cents, style=st.sampled_from([_us, _eu, _spaced, str]), negative=st.booleans())
def test_any_amount_written_in_any_style_reads_back_exactly(amount, style, negative) -> None:
    text = style(amount)
    if negative:
        text = "-" + text
    assert parse_amount(text) == (-amount if negative else amount)


@given(st.text(max_size=30))
def test_no_text_crashes_the_parser(text: str) -> None:
    try:
        value = parse_amount(text)
    except AmountProblem:
        return
    assert value == value.quantize(Decimal("0.01"))


# ---------------------------------------------------------------- records
def record(rid: str, **fields: object) -> dict:
    return {"id": rid, "createdTime": "2026-01-01T00:00:00.000Z", "fields": fields}


@pytest.mark.parametrize(
    ("fields", "problem"),
    [
        ({"Date": "2026-11-24"}, "amount_missing"),
        ({"Amount": "lots", "Date": "2026-11-24"}, "amount_unreadable"),
        ({"Amount": "1.200", "Date": "2026-11-24"}, "amount_ambiguous"),
        ({"Amount": "0.00", "Date": "2026-11-24"}, "amount_zero"),
        ({"Amount": "50"}, "date_missing"),
        ({"Amount": "50", "Date": "2026-02-30"}, "date_impossible"),
    ],
)
def test_records_that_cannot_be_counted_become_problems(fields: dict, problem: str) -> None:
    found = gift_from_record(record("recBAD", **fields), NY)
    assert found == RecordProblem("Donations", "recBAD", problem)


def test_a_record_read_twice_counts_once() -> None:
    gifts, problems = read_gifts(
        [record("rec1", Amount="5", Date="2026-11-24")] * 2 + [record("rec2", Date="x")], NY
    )
    assert [g.record_id for g in gifts] == ["rec1"] and len(problems) == 1


def test_gift_fields() -> None:
    gift = gift_from_record(
        record(
            "rec1",
            Donor=" Ana Ruiz ",
            Email="Ana@Example.org ",
            Amount="$1,200.50",
            Date="2026-11-30T04:30:00.000Z",
            Recurring=True,
            Campaign="Spring appeal",
            Anonymous=True,
            Source="Online",
        ),
        NY,
    )
    assert isinstance(gift, Gift)
    assert gift.day == date(2026, 11, 29) and gift.amount == Decimal("1200.50")
    assert gift.recurring and gift.anonymous and gift.campaign == "Spring appeal"
    assert gift.donor is not None and gift.donor.key == "e:ana@example.org"
    assert personal_values([gift]) == ["Ana Ruiz", "ana@example.org"]


# ---------------------------------------------------------------- one listing, sorted
def test_a_listing_keeps_the_windows_gifts_and_learns_first_gifts_from_every_record() -> None:
    window = Window.ending(W48)
    listing = Listing(window, NY)
    listing.add(
        [
            record("in", Email="a@x.org", Amount="5", Date="2026-11-24"),
            record("old", Email="a@x.org", Amount="7", Date="2025-03-01"),
            record("near", Email="b@x.org", Amount="9", Date="2026-12-01"),  # the bounds' margin
            record("refund", Email="c@x.org", Amount="-5", Date="2024-01-01"),
            record("bad-old", Email="d@x.org", Amount="1.200", Date="2025-01-01"),
            record("bad-in", Email="d@x.org", Amount="abc", Date="2026-11-25"),
            record("undated", Email="e@x.org", Amount="5", Date=""),
        ]
    )
    listing.add([record("in", Email="a@x.org", Amount="5", Date="2026-11-24")])  # a second page
    assert [g.record_id for g in listing.gifts] == ["in"]
    assert sorted(p.record_id for p in listing.problems) == ["bad-in", "undated"]
    assert listing.first_days == {"e:a@x.org": date(2025, 3, 1), "e:b@x.org": date(2026, 12, 1)}
    assert listing.records == 7 and listing.outside == 3  # old, refund, bad-old


def test_first_gifts_skip_refunds_and_gifts_naming_nobody() -> None:
    gifts, _ = read_gifts(
        [
            record("r1", Email="a@x.org", Amount="-5", Date="2026-01-01"),
            record("r2", Email="A@x.org ", Amount="5", Date="2026-03-01"),
            record("r3", Email="a@x.org", Amount="5", Date="2026-02-01"),
            record("r4", Amount="5", Date="2025-01-01"),
        ],
        NY,
    )
    assert first_gift_days(gifts) == {"e:a@x.org": date(2026, 2, 1)}
    assert merge_first_days(
        {"x": date(2026, 5, 1)}, {"x": date(2026, 4, 1), "y": date(2026, 1, 1)}
    ) == {
        "x": date(2026, 4, 1),
        "y": date(2026, 1, 1),
    }


# ---------------------------------------------------------------- figures vs an independent recount
DONORS = [(f"Donor {n}", f"donor{n}@example.org" if n % 3 else "") for n in range(40)]


def _generated(seed: int) -> list[dict]:
    """Records over 20 weeks before and during the window, amounts typed in several ways."""
    rng = random.Random(seed)
    first_day = W48.monday - timedelta(weeks=20)
    records = []
    for n in range(600):
        name, email = rng.choice(DONORS)
        cents = rng.choice([1000, 2500, 5000, 10050, 120050, 7599])
        amount = Decimal(cents) / 100
        if rng.random() < 0.05:
            amount = -amount
        text = rng.choice([f"{abs(amount):.2f}", _us(abs(amount)), _eu(abs(amount))])
        if amount < 0:
            text = "-" + text
        day = first_day + timedelta(days=rng.randrange(21 * 7))
        fields = {
            "Donor": name if rng.random() > 0.05 else "",
            "Email": email,
            "Amount": text,
            "Date": day.isoformat(),
            "Recurring": rng.random() < 0.2,
            "Campaign": rng.choice(["General fund", "Spring appeal", ""]),
            "Anonymous": rng.random() < 0.1,
            "Source": rng.choice(["Online", "Check"]),
        }
        records.append(record(f"rec{n:05d}", **fields))
    return records


def _recount(records: list[dict], week: IsoWeek) -> dict:
    """Straight from the records, without the module under test."""
    totals = {
        "raised": Decimal(0),
        "gifts": 0,
        "refunds": 0,
        "refunded": Decimal(0),
        "recurring": 0,
    }
    first: dict[str, date] = {}
    in_week: dict[str, bool] = {}
    amounts = []
    for r in sorted(records, key=lambda r: r["fields"]["Date"]):
        f = r["fields"]
        text = f["Amount"].replace("$", "").replace("-", "")
        if "," in text and text.rfind(",") > text.rfind("."):
            text = text.replace(".", "").replace(",", ".")
        amount = Decimal(text.replace(",", "")) * (-1 if f["Amount"].startswith("-") else 1)
        day = date.fromisoformat(f["Date"])
        who = (f["Email"] or f["Donor"]).lower()
        if amount > 0 and who:
            first.setdefault(who, day)
        if not week.monday <= day <= week.sunday:
            continue
        if amount < 0:
            totals["refunds"] += 1
            totals["refunded"] -= amount
            continue
        totals["raised"] += amount
        totals["gifts"] += 1
        totals["recurring"] += f["Recurring"]
        amounts.append(amount)
        if who:
            in_week[who] = first[who] >= week.monday
    totals["new"] = sum(in_week.values())
    totals["returning"] = len(in_week) - totals["new"]
    totals["median"] = statistics.median(amounts) if amounts else None
    return totals


@pytest.mark.parametrize("seed", [1, 2, 3, 4])
def test_figures_match_a_recount_when_the_history_comes_from_earlier_runs(seed: int) -> None:
    records = _generated(seed)
    window = Window.ending(W48)
    split = window.first.monday - timedelta(weeks=random.Random(seed).randrange(0, 12))
    # An earlier run kept the first gifts before `split`; this run lists the rest.
    kept = Listing(Window.ending(IsoWeek.of(split - timedelta(days=1))), NY)
    kept.add(r for r in records if r["fields"]["Date"] < split.isoformat())
    listing = Listing(window, NY)
    listing.add(r for r in records if r["fields"]["Date"] >= split.isoformat())
    assert not listing.problems
    gifts = listing.gifts
    result = fundraising(gifts, window, merge_first_days(kept.first_days, listing.first_days))
    for week, figures in ((W48, result.this), (W48.shift(-1), result.previous)):
        expected = _recount(records, week)
        assert figures.raised == expected["raised"]
        assert figures.gifts == expected["gifts"]
        assert figures.refunds == expected["refunds"] and figures.refunded == expected["refunded"]
        assert figures.recurring_gifts == expected["recurring"]
        assert figures.new_donors == expected["new"]
        assert figures.returning_donors == expected["returning"]
        assert figures.median == expected["median"]
    four = [_recount(records, W48.shift(-n)) for n in range(1, 5)]
    assert result.average.raised == (sum(w["raised"] for w in four) / 4).quantize(Decimal("0.01"))
    by_campaign = defaultdict(Decimal)
    for g in gifts:
        if W48.contains(g.day) and not g.is_refund:
            by_campaign[g.campaign] += g.amount
    assert {r.name: r.this.amount for r in result.campaigns if r.this.gifts} == dict(by_campaign)


def test_anonymous_gifts_count_everywhere_and_are_never_named() -> None:
    window = Window.ending(W48)
    gifts, _ = read_gifts(
        [
            record(
                "r1",
                Donor="Quiet Giver",
                Email="q@x.org",
                Amount="900",
                Date="2026-11-24",
                Anonymous=True,
            ),
            record("r2", Donor="Quiet Giver", Email="q@x.org", Amount="100", Date="2026-11-25"),
            record("r3", Donor="Open Giver", Email="o@x.org", Amount="50", Date="2026-11-25"),
            record("r4", Amount="20", Date="2026-11-26", Anonymous=True),
        ],
        NY,
    )
    result = fundraising(gifts, window, top=5)
    assert result.this.raised == Decimal("1070.00") and result.this.gifts == 4
    assert result.this.anonymous_gifts == 2 and result.this.unidentified_gifts == 1
    labels = [d.label for d in result.top or []]
    assert (
        "Quiet Giver" not in labels
    )  # gave anonymously once: never named, even for the other gift
    assert labels[0] == ANONYMOUS_LABEL and "Open Giver" in labels
    assert fundraising(gifts, window).top is None  # the list is off unless config turns it on


def test_refunds_are_apart_from_gifts() -> None:
    gifts, _ = read_gifts(
        [
            record("r1", Email="a@x.org", Amount="100", Date="2026-11-24"),
            record("r2", Email="a@x.org", Amount="-100.00", Date="2026-11-25"),
        ],
        NY,
    )
    figures = fundraising(gifts, Window.ending(W48)).this
    assert (figures.raised, figures.gifts, figures.refunds, figures.refunded) == (
        Decimal(100),
        1,
        1,
        Decimal(100),
    )
    assert figures.net == 0 and figures.average == Decimal("100.00")


def test_an_empty_week_has_zeros_and_no_average() -> None:
    figures = fundraising([], Window.ending(W48))
    assert figures.this.empty and figures.this.average is None and figures.this.median is None
    assert figures.average.raised == 0 and figures.campaigns == []


def test_a_gift_at_midnight_on_the_edge_belongs_to_the_week_of_its_local_date() -> None:
    gifts, _ = read_gifts(
        [
            record("late", Email="a@x.org", Amount="10", Date="2026-11-30T04:59:59.000Z"),
            record("early", Email="b@x.org", Amount="20", Date="2026-11-30T05:00:00.000Z"),
            record("before", Email="c@x.org", Amount="40", Date="2026-11-23T04:59:59.000Z"),
        ],
        NY,
    )
    result = fundraising(gifts, Window.ending(IsoWeek(2026, 49)))
    assert result.this.raised == Decimal(20) and result.previous.raised == Decimal(10)


def test_top_donors_sorted_by_amount() -> None:
    gifts, _ = read_gifts(
        [
            record("r1", Donor="B", Amount="10", Date="2026-11-24"),
            record("r2", Donor="A", Amount="30", Date="2026-11-24"),
            record("r3", Donor="B", Amount="25", Date="2026-11-25"),
            record("r4", Amount="99", Date="2026-11-25"),
        ],
        NY,
    )
    ranked = top_donors(gifts, W48, 2)
    assert [(d.label, d.amount, d.gifts) for d in ranked] == [
        ("Donor without a name", Decimal(99), 1),
        ("B", Decimal(35), 2),
    ]
