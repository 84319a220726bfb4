"""The summary's ledger store on a SQLite file: the donor history, by keyed hash only."""

from __future__ import annotations

from datetime import UTC, date, datetime
from pathlib import Path

from sqlalchemy import func, select

from coalition.ledger.db import Ledger, upgrade
from coalition.ledger.tables.common import Watermark
from coalition.ledger.tables.summary import SummaryDonor
from coalition.summary import store
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
