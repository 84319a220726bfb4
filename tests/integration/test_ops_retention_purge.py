"""`coalition purge`: ledger history past retention goes (dry run first), old closed intake answers are blanked."""

from __future__ import annotations

import io
import os
import shutil
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
import yaml
from ops_helpers import fresh_ledger
from rich.console import Console
from sqlalchemy import func, select

from coalition.ledger import Ledger, utcnow
from coalition.ledger.retention import count_history, purge_history
from coalition.ledger.tables import (
    AuditEntry,
    IntakeNotice,
    IntakeRecord,
    MemberState,
    PostedMessage,
    Referral,
    ReferralEvent,
    SummaryDocument,
)
from coalition.settings import PROJECT_ROOT, reload_settings, settings
from coalition.setup_plan import INTAKE_FORM_COLUMNS
from ops.retention import purge

PG_URL = os.environ.get("COALITION_TEST_DATABASE_URL")
NOW = utcnow()
OLD = NOW - timedelta(days=800)
RECENT = NOW - timedelta(days=10)
CUTOFF = NOW - timedelta(days=730)


@pytest.fixture(params=["sqlite", "postgresql"])
def ledger(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Ledger]:
    with fresh_ledger(request.param, tmp_path) as opened:
        yield opened


def seed(ledger: Ledger) -> None:
    """History old and new; everything old that is still in use must survive."""
    with ledger.session() as s:
        s.add_all(
            [
                IntakeRecord(intake_id="IN-OLD", status="accepted", received_at=OLD,
                             phone_key="p" * 64, email_key="e" * 64),
                IntakeRecord(intake_id="IN-NEW", status="referred", received_at=RECENT,
                             phone_key="q" * 64),
                AuditEntry(at=OLD, actor="U1", role="staff", action="accept", allowed=True),
                AuditEntry(at=RECENT, actor="U1", role="staff", action="accept", allowed=True),
                IntakeNotice(key="n-old", kind="triage_alert", channel="intake-triage",
                             created_at=OLD, posted_at=OLD),
                IntakeNotice(key="n-stale", kind="triage_alert", channel="intake-triage",
                             created_at=OLD),
                IntakeNotice(key="n-new", kind="triage_alert", channel="intake-triage",
                             created_at=RECENT, posted_at=RECENT),
                PostedMessage(key="campaign:recA:C1", channel="C1", state="deleted", updated_at=OLD),
                PostedMessage(key="ops:alerts:failing:x", channel="C2", updated_at=OLD),
                PostedMessage(key="campaign:recB:C1", channel="C1", updated_at=OLD),
                SummaryDocument(week="2024-W10", document_id="d1", url="u", updated_at=OLD),
                SummaryDocument(week="2026-W47", document_id="d2", url="u", updated_at=RECENT),
                MemberState(member_id="recGone", name="Gone Org", content_hash="h", removed_at=OLD),
                MemberState(member_id="recHere", name="Here Org", content_hash="h"),
            ]
        )  # fmt: skip
        s.flush()
        s.add_all(
            [
                Referral(referral_id="R-1", intake_id="IN-OLD", partner_id="recP",
                         state="accepted", updated_at=OLD),
                Referral(referral_id="R-2", intake_id="IN-OLD", attempt=2, partner_id="recQ",
                         state="notified", updated_at=OLD),
            ]
        )  # fmt: skip
        s.flush()
        s.add_all(
            [
                ReferralEvent(referral_id="R-1", at=OLD, event="written"),
                ReferralEvent(referral_id="R-1", at=OLD, event="accepted"),
                ReferralEvent(referral_id="R-2", at=RECENT, event="reminded"),
            ]
        )


EXPECTED = {
    "referral events": 2,
    "closed referrals": 1,
    "audit entries": 1,
    "sent or stale notices": 2,
    "deleted or ops Slack messages": 2,
    "weekly summary pointers": 1,
    "removed members": 1,
    "contact hashes of old intakes (cleared)": 1,
}


def test_counting_changes_nothing_and_purging_removes_exactly_the_history(ledger: Ledger) -> None:
    seed(ledger)
    with ledger.session() as s:
        assert count_history(s, CUTOFF) == EXPECTED
    with ledger.session() as s:
        assert s.scalar(select(func.count()).select_from(AuditEntry)) == 2

    assert purge_history(ledger, CUTOFF) == EXPECTED
    with ledger.session() as s:
        assert s.scalars(select(Referral.referral_id)).all() == ["R-2"]  # still pending: kept
        assert [e.event for e in s.scalars(select(ReferralEvent))] == ["reminded"]
        assert s.scalars(select(IntakeNotice.key)).all() == ["n-new"]
        assert s.scalars(select(PostedMessage.key)).all() == ["campaign:recB:C1"]  # still in use
        assert s.scalars(select(SummaryDocument.week)).all() == ["2026-W47"]
        assert s.scalars(select(MemberState.member_id)).all() == ["recHere"]
        old = s.get(IntakeRecord, "IN-OLD")
        assert (old.status, old.phone_key, old.email_key) == ("accepted", None, None)
        assert s.get(IntakeRecord, "IN-NEW").phone_key == "q" * 64

    assert set(purge_history(ledger, CUTOFF).values()) == {0}


# ---------------------------------------------------------------- the command and the sheet
@pytest.fixture
def short_retention(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    folder = tmp_path / "config"
    shutil.copytree(PROJECT_ROOT / "config", folder)
    schedules = yaml.safe_load((folder / "schedules.yaml").read_text(encoding="utf-8"))
    schedules["retention"]["intake_personal_fields_days"] = 30
    (folder / "schedules.yaml").write_text(yaml.safe_dump(schedules), encoding="utf-8")
    monkeypatch.setenv("COALITION_CONFIG_DIR", str(folder))
    reload_settings()


def _intake_sheet() -> Any:
    from integrations.clients import sheets_client

    cfg = settings()
    header = [*INTAKE_FORM_COLUMNS, "Intake ID", "Status", "Staff notes"]
    rows = {
        "IN-A": ("1/5/2025 09:00:00", "Accepted"),
        "IN-B": ("1/6/2025 09:00:00", "Referred"),
        "IN-C": (NOW.strftime("%m/%d/%Y 09:00:00"), "Accepted"),
    }
    values = [header]
    for intake_id, (stamp, status) in rows.items():
        answers = {c: f"{c} of {intake_id}" for c in INTAKE_FORM_COLUMNS}
        answers.update({"Timestamp": stamp, "County": "Pima", "State": "AZ"})
        values.append([*answers.values(), intake_id, status, "call back Tuesday"])
    sheet = sheets_client().create(cfg.services.sheets.intake)
    tab = sheet.sheet1
    tab.update_title(cfg.services.sheets.intake_tab)
    tab.update(values, "A1")
    return tab


def test_purge_blanks_old_closed_intake_answers_after_a_dry_run(
    sandbox: Any, short_retention: None
) -> None:
    tab = _intake_sheet()
    before = tab.get_all_values()
    out = io.StringIO()
    report = purge(dry_run=True, intake_personal_fields=True, console=Console(file=out, width=200))
    assert report.sheet is not None and report.sheet.intake_ids == ["IN-A"]
    assert tab.get_all_values() == before, "a dry run changes nothing"
    assert "would blank 11 personal cells in 1 closed row older than 30 days (IN-A)" in (
        out.getvalue()
    )
    assert "Full name of IN-A" not in out.getvalue()

    purge(dry_run=False, intake_personal_fields=True, console=Console(file=io.StringIO()))
    after = {row[len(INTAKE_FORM_COLUMNS)]: row for row in tab.get_all_values()[1:]}
    header = tab.row_values(1)
    old = dict(zip(header, after["IN-A"], strict=False))
    assert old["Full name"] == old["Phone"] == old["Notes"] == old["Monthly income"] == ""
    assert (old["Timestamp"], old["County"], old["State"], old["Status"]) == (
        "1/5/2025 09:00:00", "Pima", "AZ", "Accepted",
    )  # fmt: skip
    assert old["Staff notes"] == "call back Tuesday"
    assert after["IN-B"] == before[2] and after["IN-C"] == before[3]

    since = sandbox.sandbox.journal.last_seq
    again = purge(dry_run=False, intake_personal_fields=True, console=Console(file=io.StringIO()))
    assert again.sheet is not None and again.sheet.cells == []
    assert sandbox.writes(since=since) == []


def test_purge_without_the_sheet_option_never_reads_the_sheet(
    sandbox: Any, short_retention: None
) -> None:
    report = purge(dry_run=True, console=Console(file=io.StringIO()))
    assert report.sheet is None
    assert sandbox.journal("sheets") == []


def test_an_intake_without_a_readable_timestamp_ages_from_when_the_bot_saw_it(
    ledger: Ledger,
) -> None:
    with ledger.session() as s:
        s.add_all(
            [
                IntakeRecord(intake_id="IN-UNDATED-OLD", status="review", received_at=None,
                             created_at=OLD, phone_key="u" * 64),
                IntakeRecord(intake_id="IN-UNDATED-NEW", status="review", received_at=None,
                             created_at=RECENT, phone_key="v" * 64),
            ]
        )  # fmt: skip
    purge_history(ledger, CUTOFF)
    with ledger.session() as s:
        assert s.get(IntakeRecord, "IN-UNDATED-OLD").phone_key is None
        assert s.get(IntakeRecord, "IN-UNDATED-NEW").phone_key == "v" * 64
