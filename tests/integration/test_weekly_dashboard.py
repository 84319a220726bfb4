"""The weekly run's evidence against the demo sandbox over HTTP: Referrals and Unmet need in the Doc, the dashboard.

What leadership would check: the Doc's two new sections with their definitions and a
link to the dashboard; the `Coalition dashboard` spreadsheet with one tab per measure
and four native charts; a rerun with the same figures sends no write; a rerun with new
figures updates the charts in place (same chartIds, never a second chart) in three
Sheets requests; a case alone in its county and case type cannot be seen; nobody's
details anywhere in the spreadsheet.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from coalition.ledger import open_ledger
from coalition.ledger.tables.intake import IntakeRecord, Referral
from coalition.ledger.tables.roster import Partner
from coalition.settings import reload_settings, settings
from coalition.summary.weeks import last_complete_week
from flows.weekly_summary import weekly_summary
from sandbox.seed import personal_values

pytestmark = pytest.mark.timeout(600)
DOC_MIME = "application/vnd.google-apps.document"


@pytest.fixture(autouse=True)
def quick_pacing(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("COALITION_TIME_SCALE", "50")
    reload_settings()


def _week(now: datetime | None = None) -> Any:
    return last_complete_week(now or datetime.now(UTC), ZoneInfo(settings().services.timezone))


def _plant(partners: int, per_partner: int, lonely: bool = True, prefix: str = "T") -> None:
    """Referrals in the last complete week (some accepted after 5 hours) and waitlisted cases."""
    tz = ZoneInfo(settings().services.timezone)
    monday = _week().start(tz)
    with open_ledger().session() as session:
        for p in range(partners):
            session.merge(
                Partner(member_id=f"recPARTNER{prefix}{p}", name=f"Legal Aid {prefix}{p}")
            )
            for n in range(per_partner):
                iid = f"INT-{prefix}{p}-{n:03d}"
                session.add(IntakeRecord(intake_id=iid, status="accepted", category="asylum",
                                         received_at=monday + timedelta(hours=n)))  # fmt: skip
                session.flush()
                session.add(
                    Referral(
                        referral_id=f"R-{prefix}{p}-{n:03d}",
                        intake_id=iid,
                        partner_id=f"recPARTNER{prefix}{p}",
                        state="accepted" if n % 2 == 0 else "declined",
                        decline_reason=None if n % 2 == 0 else "no_capacity",
                        created_at=monday + timedelta(hours=n),
                        written_at=monday + timedelta(hours=n),
                        decided_at=monday + timedelta(hours=n + 5),
                    )
                )
        for n in range(12):  # a gap big enough to be named
            session.add(IntakeRecord(intake_id=f"INT-{prefix}W-{n:03d}", status="waitlist",
                                     category="asylum", place="Harris County", language="Spanish",
                                     reason_code="no_capacity",
                                     received_at=monday + timedelta(days=6, hours=2 + n)))  # fmt: skip
        if lonely:  # one person, alone in their county and case type: must not be seen
            session.add(IntakeRecord(intake_id=f"INT-{prefix}L-001", status="waitlist",
                                     category="TPS", place="Lonely County", language="Tagalog",
                                     reason_code="outside_area",
                                     received_at=monday + timedelta(days=6, hours=3)))  # fmt: skip


def _spreadsheet(box: Any) -> tuple[Any, str]:
    sheets = box.services["sheets"]
    spreadsheet_id = sheets.find_by_title(settings().services.sheets.dashboard)
    assert spreadsheet_id
    return sheets, spreadsheet_id


def _charts(sheets: Any, spreadsheet_id: str) -> list[dict[str, Any]]:
    meta = sheets.metadata(spreadsheet_id)
    return [c for s in meta["sheets"] for c in s.get("charts", [])]


def test_the_doc_and_the_dashboard_show_outcomes_and_unmet_need(demo: Any) -> None:
    box = demo
    _plant(partners=2, per_partner=6)
    report = weekly_summary()
    week = _week()
    docs = box.services["docs"]
    (doc,) = [f for f in box.services["drive"].list_files() if f["mimeType"] == DOC_MIME and week.label in f["name"]]  # fmt: skip
    text = docs.plain_text(doc["id"])
    for heading in ("Referrals", "Unmet need", "How these figures are counted"):
        assert heading in text
    assert "12 people in Harris County asked for asylum help in Spanish this month; no partner had capacity." in text  # fmt: skip
    assert "Placed within 7 days" in text and "90th percentile hours to answer" in text
    assert "Legal Aid T0" in text and "Legal Aid T1" in text
    assert "Lonely County" in text  # the county is listed, its count is not
    # The Doc links to the dashboard.
    sheets, spreadsheet_id = _spreadsheet(box)
    assert f"https://docs.google.com/spreadsheets/d/{spreadsheet_id}/edit" in str(
        docs.get_document(doc["id"])
    )
    # One tab per measure, four native charts.
    assert sheets.tabs(spreadsheet_id) == [
        "About", "Weekly giving", "Referral outcomes", "Time to answer", "Unmet need by county",
        "Unmet need trend", "Unmet need by case type", "Unmet need by language",
    ]  # fmt: skip
    charts = _charts(sheets, spreadsheet_id)
    assert sorted(c["spec"]["basicChart"]["chartType"] for c in charts) == ["BAR", "BAR", "COLUMN", "LINE"]  # fmt: skip
    outcomes = sheets.get_values(spreadsheet_id, "Referral outcomes")
    assert outcomes[0][:3] == ["Week", "Accepted", "Declined"] and len(outcomes) == 53
    assert outcomes[-1][0] == week.label and outcomes[-1][1:3] == ["6", "6"]
    answer = sheets.get_values(spreadsheet_id, "Time to answer")
    assert ["Legal Aid T0", "5", "5", "6", "6"] in answer
    # The lonely case: its county's counts are withheld everywhere, never a 1.
    by_county = {r[0]: r[1:] for r in sheets.get_values(spreadsheet_id, "Unmet need by county")}
    assert by_county["Lonely County"] == ["", "withheld"]
    for tab in ("Unmet need by case type", "Unmet need by language"):
        rows = {r[0]: r[1:] for r in sheets.get_values(spreadsheet_id, tab)}
        assert "1" not in rows["Lonely County"] and "withheld" in rows["Lonely County"]
    assert "Tagalog" not in text or "Lonely County" in text
    # Three Sheets requests: the read, the batch of tabs and charts, the values.
    sent = [e for e in box.journal("sheets") if spreadsheet_id in e["path"]]
    assert len(sent) == 3 and report.counts["dashboard sheets requests"] == 3
    # Nobody's details anywhere in the spreadsheet.
    everything = " ".join(
        " ".join(" ".join(r) for r in sheets.get_values(spreadsheet_id, t))
        for t in sheets.tabs(spreadsheet_id)
    ).lower()
    everything += str(charts).lower()
    assert [v for v in personal_values(box.sandbox) if v.lower() in everything] == []


def test_a_rerun_updates_the_charts_in_place_and_never_adds_a_second(demo: Any) -> None:
    box = demo
    _plant(partners=2, per_partner=6)
    weekly_summary()
    sheets, spreadsheet_id = _spreadsheet(box)
    first = {c["spec"]["title"]: c["chartId"] for c in _charts(sheets, spreadsheet_id)}
    assert len(first) == 4
    # Same figures: nothing is written, to the dashboard or anywhere.
    before = box.sandbox.journal.last_seq
    again = weekly_summary()
    assert box.writes(before) == []
    assert again.counts["dashboard sheets requests"] == 1  # the read
    # A third partner with answers: the time-to-answer chart grows, in place.
    _plant(partners=1, per_partner=6, lonely=False, prefix="U")
    before = box.sandbox.journal.last_seq
    third = weekly_summary()
    after = {c["spec"]["title"]: c["chartId"] for c in _charts(sheets, spreadsheet_id)}
    assert after == first
    batches = [e for e in box.journal("sheets", before) if e["path"].endswith(":batchUpdate") and "values" not in e["path"]]  # fmt: skip
    assert len(batches) == 1
    assert (
        third.counts["dashboard charts updated"] >= 1
        and third.counts["dashboard charts added"] == 0
    )
    assert third.counts["dashboard sheets requests"] == 3
    answer = sheets.get_values(spreadsheet_id, "Time to answer")
    assert any(r[0] == "Legal Aid U0" for r in answer)


def test_a_second_copy_of_a_bot_chart_is_removed(demo: Any) -> None:
    box = demo
    _plant(partners=1, per_partner=6, lonely=False)
    weekly_summary()
    sheets, spreadsheet_id = _spreadsheet(box)
    (giving,) = [c for c in _charts(sheets, spreadsheet_id) if c["spec"]["basicChart"]["chartType"] == "LINE"]  # fmt: skip
    copy_request = {"addChart": {"chart": {"spec": giving["spec"], "position": giving["position"]}}}
    sheets.batch_update(spreadsheet_id, {"requests": [copy_request]})
    assert len(_charts(sheets, spreadsheet_id)) == 5
    report = weekly_summary()
    assert report.counts["dashboard charts deleted"] == 1
    assert giving["chartId"] in [c["chartId"] for c in _charts(sheets, spreadsheet_id)]
    assert len(_charts(sheets, spreadsheet_id)) == 4


def test_without_a_dashboard_the_run_says_so_and_writes_the_doc(demo: Any) -> None:
    box = demo
    _, spreadsheet_id = _spreadsheet(box)
    box.services["drive"].delete_file(spreadsheet_id)
    report = weekly_summary()
    assert report.counts["dashboard found"] == 0
    docs = [f for f in box.services["drive"].list_files() if f["mimeType"] == DOC_MIME and not f["trashed"]]  # fmt: skip
    assert any("coalition setup sheets" in box.services["docs"].plain_text(d["id"]) for d in docs)
