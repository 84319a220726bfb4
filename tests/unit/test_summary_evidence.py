"""Referral outcomes, unmet need and the dashboard plan, from plain rows (pure)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

from coalition.summary import dashboard
from coalition.summary.need import NOT_STATED, PROTECTED_LABEL, unmet_need
from coalition.summary.outcomes import OTHER_PARTNERS, percentile, referral_outcomes
from coalition.summary.weeks import IsoWeek

NY = ZoneInfo("America/New_York")
W48 = IsoWeek(2026, 48)
MONDAY = datetime(2026, 11, 23, 14, tzinfo=UTC)


@dataclass
class Ref:
    referral_id: str
    intake_id: str
    partner_id: str
    attempt: int
    state: str
    sent_at: datetime | None
    decided_at: datetime | None
    decline_reason: str | None = None


@dataclass
class Intake:
    intake_id: str
    received_at: datetime | None
    status: str
    category: str | None = "asylum"
    place: str | None = "Harris County"
    language: str | None = "Spanish"
    reason_code: str | None = "no_capacity"


def test_percentile_is_nearest_rank() -> None:
    assert percentile([1, 2, 3, 4, 5, 6, 7, 8, 9, 10], 0.9) == 9
    assert percentile([5], 0.9) == 5 and percentile([], 0.9) is None


def test_outcomes_per_week_and_partner_with_small_partners_pooled() -> None:
    refs = [
        Ref(f"R{n}", f"I{n}", "big", 1, "accepted" if n < 4 else "declined", MONDAY,
            MONDAY + timedelta(hours=n + 1), None if n < 4 else "no_capacity")
        for n in range(6)
    ] + [
        Ref("S1", "I9", "small", 2, "expired", MONDAY, None),
        Ref("S2", "I10", "small", 1, "claimed", MONDAY, None),  # never sent
        Ref("OLD", "I11", "big", 1, "accepted", MONDAY - timedelta(days=70), MONDAY),
    ]  # fmt: skip
    intakes = [Intake(f"I{n}", MONDAY, "accepted") for n in range(6)]
    out = referral_outcomes(refs, intakes, W48, NY, MONDAY + timedelta(days=30), {"big": "Big Aid"})
    t = out.this.tally
    assert (t.sent, t.accepted, t.declined, t.expired, t.rerouted) == (7, 4, 2, 1, 1)
    assert t.median_hours == 3.5 and t.p90_hours == 6
    assert t.decline_reasons == {"no capacity right now": 2}
    assert out.this.placement.received == 6 and out.this.placement.placed == 4
    assert out.this.placement.final
    names = [p.name for p in out.partners]
    assert names == ["Big Aid", OTHER_PARTNERS]  # 6 referrals named, 1 pooled; OLD is 10 weeks back
    assert len(out.weeks) == 52 and out.weeks[0].week == W48.shift(-51)


def test_a_week_without_referrals_says_so() -> None:
    out = referral_outcomes([], [], W48, NY, MONDAY, {})
    assert out.empty and out.partners == []


def test_unmet_need_counts_not_stated_and_hides_small_cells() -> None:
    sunday = datetime(2026, 11, 29, 15, tzinfo=UTC)
    rows = [Intake(f"H{n}", sunday, "waitlist") for n in range(12)]
    rows += [Intake("X1", sunday, "waitlist", category="weird", place=None, language=None)]
    rows += [Intake("P1", sunday, "waitlist", category="protected")]
    rows += [Intake("Q1", sunday, "accepted")]  # placed: not unmet
    need = unmet_need(rows, date(2026, 11, 29), NY)
    table = need.by_type_month
    assert NOT_STATED in table.rows and NOT_STATED in table.columns
    assert PROTECTED_LABEL in table.columns
    i, j = table.rows.index(NOT_STATED), table.columns.index(NOT_STATED)
    assert table.value(i, j) is None  # a cell of 1
    assert (
        table.value(table.rows.index("Harris County"), table.columns.index(PROTECTED_LABEL)) is None
    )
    (gap,) = need.gaps
    assert gap.sentence("this month") == (
        "12 people in Harris County asked for asylum help in Spanish this month; no partner had capacity."
    )
    assert need.trend.columns[-1] == "Nov 2026" and len(need.trend.columns) == 12


def test_dashboard_plan_adds_then_updates_in_place() -> None:
    sunday = datetime(2026, 11, 29, 15, tzinfo=UTC)
    need = unmet_need(
        [Intake(f"H{n}", sunday, "waitlist") for n in range(6)], date(2026, 11, 29), NY
    )
    outcomes = referral_outcomes([], [], W48, NY, MONDAY, {})
    board = dashboard.build(W48, {}, outcomes, need, MONDAY, 5)
    first = dashboard.plan({"sheets": [{"properties": {"sheetId": 0, "title": "About"}}]}, board)
    kinds = [next(iter(r)) for r in first.requests]
    assert kinds.count("addSheet") == 7 and kinds.count("addChart") == 4
    # As if applied: every chart exists with the spec planned.
    sheets = [{"properties": {"sheetId": 0, "title": "About"}}]
    ids = {r["addSheet"]["properties"]["title"]: r["addSheet"]["properties"]["sheetId"]
           for r in first.requests if "addSheet" in r}  # fmt: skip
    charts = [{"chartId": 100 + k, "spec": r["addChart"]["chart"]["spec"]}
              for k, r in enumerate(x for x in first.requests if "addChart" in x)]  # fmt: skip
    sheets += [{"properties": {"sheetId": i, "title": t}} for t, i in ids.items()]
    sheets[1]["charts"] = charts
    again = dashboard.plan({"sheets": sheets}, board)
    assert again.requests == [] and again.counts["charts unchanged"] == 4
    charts[0]["spec"] = {"title": charts[0]["spec"]["title"], "basicChart": {"chartType": "LINE"}}
    charts.append({"chartId": 999, "spec": charts[1]["spec"]})
    third = dashboard.plan({"sheets": sheets}, board)
    assert {"updateChartSpec": {"chartId": 100, "spec": dashboard.chart_spec(board.charts[0], ids["Weekly giving"])}} in third.requests  # fmt: skip
    assert {"deleteEmbeddedObject": {"objectId": 999}} in third.requests
    assert not any("addChart" in r for r in third.requests)
