"""The summary's ledger store on a SQLite file: donors remembered by keyed hash only, and the week's row."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from zoneinfo import ZoneInfo

from sqlalchemy import select

from coalition.ledger.db import Ledger, upgrade
from coalition.ledger.tables.common import Watermark
from coalition.ledger.tables.summary import SummaryDonor
from coalition.summary import store
from coalition.summary.donations import Candidates, known_before, read_gifts
from coalition.summary.weeks import IsoWeek, Window

NY = ZoneInfo("America/New_York")


def _ledger(tmp_path: Path) -> Ledger:
    url = f"sqlite:///{tmp_path / 'ledger.sqlite3'}"
    upgrade(url)
    return Ledger(url)


def test_donors_are_remembered_as_keyed_hashes_with_the_earliest_date(tmp_path: Path) -> None:
    ledger = _ledger(tmp_path)
    with ledger.session() as session:
        assert store.known_donors(session, ["e:ana@x.org"]) == {}  # no secret yet: nothing known
    with ledger.session() as session:
        written = store.remember_donors(
            session, {"e:ana@x.org": date(2026, 11, 3), "n:cy": date(2026, 11, 9)}
        )
    assert written == 2
    with ledger.session() as session:
        assert (
            store.remember_donors(session, {"e:ana@x.org": date(2026, 11, 20)}) == 0
        )  # later: kept
        assert (
            store.remember_donors(session, {"e:ana@x.org": date(2026, 10, 1)}) == 1
        )  # earlier: moved
    with ledger.session() as session:
        known = store.known_donors(session, ["e:ana@x.org", "n:cy", "n:nobody"])
        rows = session.scalars(select(SummaryDonor)).all()
        secret = session.get(Watermark, store.HASH_KEY)
    assert known == {"e:ana@x.org": date(2026, 10, 1), "n:cy": date(2026, 11, 9)}
    stored = " ".join(r.donor_key for r in rows)
    assert "ana" not in stored and "cy" not in stored and all(len(r.donor_key) == 64 for r in rows)
    assert secret is not None and len(secret.value) == 64


def test_remembered_dates_spare_the_lookup() -> None:
    window = Window.ending(IsoWeek(2026, 48))
    gifts, _ = read_gifts(
        [
            {"id": "r1", "fields": {"Email": "ana@x.org", "Amount": "5", "Date": "2026-11-24"}},
            {"id": "r2", "fields": {"Donor": "Cy", "Amount": "5", "Date": "2026-11-24"}},
            {"id": "r3", "fields": {"Email": "bo@x.org", "Amount": "5", "Date": "2026-11-24"}},
        ],
        NY,
    )
    remembered = {
        "e:ana@x.org": date(2026, 9, 1),
        "n:cy": date(2026, 8, 1),
        "e:bo@x.org": date(2026, 11, 2),
    }
    # bo's remembered gift is inside the window: it proves nothing about before it.
    assert known_before(gifts, window, remembered) == Candidates(
        frozenset({"ana@x.org"}), frozenset({"cy"})
    )
