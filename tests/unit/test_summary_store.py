"""The summary's ledger store on a SQLite file: the donor history, by keyed hash only."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime
from pathlib import Path

from sqlalchemy import func, select

from coalition.ledger import summary_history as store
from coalition.ledger.db import Ledger, upgrade
from coalition.ledger.tables.common import Watermark
from coalition.ledger.tables.summary import SummaryDonor
from coalition.summary.history import HistoryState


def _ledger(tmp_path: Path) -> Ledger:
    url = f"sqlite:///{tmp_path / 'ledger.sqlite3'}"
    upgrade(url)
    return Ledger(url)


STATE = HistoryState(
    date(2026, 11, 30), datetime(2026, 11, 30, 8, tzinfo=UTC), datetime(2026, 11, 1, tzinfo=UTC)
)


def test_the_history_keeps_first_gifts_as_keyed_hashes_only(tmp_path: Path) -> None:
    ledger = _ledger(tmp_path)
    with ledger.session() as session:
        assert store.history_state(session) == HistoryState()
        first = store.update_history(
            session, {"e:ana@x.org": date(2026, 11, 3), "n:cy": date(2026, 11, 9)}, True, STATE
        )
    assert first == {"e:ana@x.org": date(2026, 11, 3), "n:cy": date(2026, 11, 9)}
    with ledger.session() as session:
        later = store.update_history(session, {"e:ana@x.org": date(2026, 11, 20)}, False, STATE)
        earlier = store.update_history(session, {"n:cy": date(2026, 10, 1)}, False, STATE)
    assert later == {"e:ana@x.org": date(2026, 11, 3)}  # a later gift is not the first
    assert earlier == {"n:cy": date(2026, 10, 1)}  # an earlier one is
    with ledger.session() as session:
        rows = session.scalars(select(SummaryDonor)).all()
        secret = session.get(Watermark, store.HASH_KEY)
        assert store.history_state(session) == STATE
    stored = " ".join(r.donor_key for r in rows)
    assert "ana" not in stored and "cy" not in stored and all(len(r.donor_key) == 64 for r in rows)
    assert sorted(r.first_gift for r in rows) == [date(2026, 10, 1), date(2026, 11, 3)]
    assert secret is not None and len(secret.value) == 64


def test_a_rebuild_forgets_the_old_history(tmp_path: Path) -> None:
    ledger = _ledger(tmp_path)
    with ledger.session() as session:
        store.update_history(session, {"e:gone@x.org": date(2020, 1, 1)}, True, STATE)
    with ledger.session() as session:
        first = store.update_history(session, {"e:ana@x.org": date(2026, 1, 1)}, True, STATE)
        assert first == {"e:ana@x.org": date(2026, 1, 1)}
        assert session.scalar(select(func.count()).select_from(SummaryDonor)) == 1


def test_a_damaged_watermark_reads_as_no_history(tmp_path: Path) -> None:
    ledger = _ledger(tmp_path)
    with ledger.session() as session:
        session.add(Watermark(key=store.HISTORY_KEY, value='{"complete_before": "soon"}'))
    with ledger.session() as session:
        assert store.history_state(session) == HistoryState()


def test_the_doc_and_the_intake_command_count_the_same_week(tmp_path: Path) -> None:
    """Issue 17: undated intakes are in no week's figures, in the Doc and in `/coalition intake week`."""
    from zoneinfo import ZoneInfo

    from bot import commands
    from bot.data import intake_counts
    from coalition.ledger.tables.intake import IntakeRecord
    from coalition.summary.intake_metrics import intake_metrics
    from coalition.summary.weeks import IsoWeek

    ledger = _ledger(tmp_path)
    tz = ZoneInfo("America/New_York")
    now = datetime(2026, 12, 9, 15, tzinfo=UTC)  # a Wednesday
    with ledger.session() as session:
        for n in range(3):
            session.add(
                IntakeRecord(
                    intake_id=f"INT-D{n}", status="referred", category="asylum",
                    received_at=datetime(2026, 12, 8, 14, tzinfo=UTC), created_at=now,
                )
            )  # fmt: skip
        for n in range(4):  # no received time; the bot first saw them this week
            session.add(IntakeRecord(intake_id=f"INT-U{n}", status="review", created_at=now))
    week = IsoWeek.of(now.astimezone(tz).date())
    start, end = week.start(tz), week.end(tz)
    with ledger.session() as session:
        facts = store.ledger_facts(session, start, end)
    metrics = intake_metrics(facts.intakes, facts.referrals, week, tz)
    counts = intake_counts(ledger, "week", now, tz)
    assert (metrics.received, facts.undated_intakes) == (3, 4)
    assert (counts.total, counts.undated) == (3, 4)
    shown = json.dumps(commands.render_intake_counts(counts)[1])
    assert "Intake this week: 3 cases" in shown
    assert "4 intake requests with no received time are in no period" in shown
