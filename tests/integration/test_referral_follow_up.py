"""After routing: partners accept or decline, silent ones are reminded then passed over, staff approve suggestions.

Time passing is simulated by moving the ledger's timestamps back, as if the notices
had gone out days ago.
"""

from __future__ import annotations

import json
import shutil
from collections import Counter
from datetime import timedelta
from pathlib import Path

import pytest
from intake_helpers import intake_records, intake_values, seed_partner_directory
from sqlalchemy import select, update

from coalition.intake import actions
from coalition.ledger import open_ledger, utcnow
from coalition.ledger.tables.intake import IntakeRecord, Referral
from coalition.settings import PROJECT_ROOT, reload_settings, settings
from flows.intake_routing import run_routing
from flows.referral_actions import approve, decide_referral, explain_intake
from flows.referral_follow_up import referral_follow_up
from integrations.slack import forget_channels
from sandbox.seed.apply import personal_values


@pytest.fixture
def routed(demo, monkeypatch):
    """The demo coalition after one routing run (auto mode), Slack paced 50x faster."""
    monkeypatch.setenv("COALITION_TIME_SCALE", "50")
    reload_settings()
    forget_channels()
    demo.partners = seed_partner_directory(demo)
    run_routing(publish_report=False)
    return demo


@pytest.fixture
def approve_mode(demo, tmp_path: Path, monkeypatch):
    """The demo with routing.mode: approve, partner directory seeded, nothing routed yet."""
    config = tmp_path / "config"
    shutil.copytree(PROJECT_ROOT / "config", config)
    routing_yaml = config / "routing.yaml"
    routing_yaml.write_text(routing_yaml.read_text().replace("mode: auto", "mode: approve"))
    monkeypatch.setenv("COALITION_CONFIG_DIR", str(config))
    monkeypatch.setenv("COALITION_TIME_SCALE", "50")
    reload_settings()
    assert settings().routing.mode == "approve"
    forget_channels()
    demo.partners = seed_partner_directory(demo)
    return demo


def follow_up():
    return referral_follow_up.fn(dry_run=False)


def posts(handle, channel: str) -> list[dict]:
    slack = handle.services["slack"]
    found = slack.channel_by_name(channel)
    return slack.messages(found["id"]) if found else []


def all_posts(handle) -> list[dict]:
    return [m for m in handle.services["slack"].all_messages() if m.get("kind") == "message"]


def referrals() -> list[Referral]:
    with open_ledger().session() as session:
        return list(session.scalars(select(Referral).order_by(Referral.referral_id)))


def age_referrals(hours: float, **where) -> None:
    """Pretend the notices went out `hours` ago (and any reminder too)."""
    then = utcnow() - timedelta(hours=hours)
    with open_ledger().session() as session:
        query = update(Referral).where(Referral.state == "notified")
        for key, value in where.items():
            query = query.where(getattr(Referral, key) == value)
        session.execute(query.values(notified_at=then))
        session.execute(
            update(Referral).where(Referral.reminded_at.is_not(None)).values(reminded_at=then)
        )


def row_of(handle, intake_id: str) -> dict[str, str]:
    return next(r for r in intake_records(handle) if r["Intake ID"] == intake_id)


def partner_sheet_id(handle, partner_id: str) -> str:
    return handle.partners[partner_id]["referral_sheet"]


def partner_status(handle, referral) -> dict[str, str]:
    """Referral ID -> Partner status, in the sheet of the referral's partner."""
    values = handle.services["sheets"].get_values(
        partner_sheet_id(handle, referral.partner_id), "Referrals"
    )
    head = values[0]
    ref, status = head.index("Referral ID"), head.index("Partner status")
    return {row[ref]: (row[status] if status < len(row) else "") for row in values[1:]}


def type_partner_status(handle, referral, text: str) -> None:
    sheets = handle.services["sheets"]
    sheet = partner_sheet_id(handle, referral.partner_id)
    values = sheets.get_values(sheet, "Referrals")
    head = values[0]
    for row in values[1:]:
        if row[head.index("Referral ID")] == referral.referral_id:
            row += [""] * (len(head) - len(row))
            row[head.index("Partner status")] = text
    sheets.set_values(sheet, "Referrals", values)


def leaks(handle, blob: str) -> list[str]:
    return sorted(v for v in personal_values(handle.sandbox) if len(v) >= 6 and v in blob)


# ---------------------------------------------------------------- accept and decline
def test_accept_updates_ledger_and_sheet_and_a_double_click_changes_nothing(routed) -> None:
    referral = referrals()[0]
    result = decide_referral(referral.referral_id, True, "U0PARTNER1")
    assert result.recorded and result.state == "accepted"
    row = row_of(routed, referral.intake_id)
    assert row["Status"] == "Accepted" and row["Referral ID"] == referral.referral_id
    assert partner_status(routed, referral)[referral.referral_id] == "Accepted"
    again = decide_referral(referral.referral_id, False, "U0PARTNER1")
    assert not again.recorded and again.state == "accepted"
    assert row_of(routed, referral.intake_id)["Status"] == "Accepted"
    assert decide_referral("REF-NOPE", True, "U0PARTNER1").state is None


def test_decline_reroutes_to_the_next_fit_and_tells_staff(routed) -> None:
    # An asylum case in Harris County has more than one partner that could take it.
    candidates = [r for r in referrals() if r.category == "asylum"]
    referral = candidates[0]
    before_triage = len(posts(routed, "intake-triage"))
    result = decide_referral(referral.referral_id, False, "U0PARTNER1", reason="conflict")
    assert result.recorded and result.state == "declined"
    history = [r for r in referrals() if r.intake_id == referral.intake_id]
    assert [r.attempt for r in history] == [1, 2] or result.outcome.startswith("Waitlist")
    if len(history) == 2:
        assert history[1].partner_id != referral.partner_id and history[1].state == "notified"
        row = row_of(routed, referral.intake_id)
        assert row["Status"] == "Referred" and row["Referral ID"] == history[1].referral_id
    staff = posts(routed, "intake-triage")
    assert len(staff) == before_triage + 1
    assert referral.referral_id in staff[-1]["text"] and "declined" in staff[-1]["text"]
    assert leaks(routed, json.dumps(staff[-1], ensure_ascii=False)) == []


# ---------------------------------------------------------------- silent partners
def test_a_silent_partner_is_reminded_once_then_passed_over(routed) -> None:
    waiting = referrals()
    age_referrals(50)
    report = follow_up()
    assert report.counts["partner reminders"] == len(waiting)
    reminders = [m for m in all_posts(routed) if m["text"].startswith("Reminder")]
    partners_waiting = {r.partner_id for r in waiting}
    assert len(reminders) == len(partners_waiting)
    assert follow_up().counts.get("partner reminders", 0) == 0  # once only
    assert len([m for m in all_posts(routed) if m["text"].startswith("Reminder")]) == len(reminders)
    age_referrals(100)
    report = follow_up()
    assert report.counts["expired"] == len(waiting)
    states = Counter(r.state for r in referrals())
    assert states["expired"] == len(waiting)
    for r in referrals():
        if r.attempt == 2:
            first = next(x for x in referrals() if x.intake_id == r.intake_id and x.attempt == 1)
            assert r.partner_id != first.partner_id  # the silent partner is excluded
    staff = posts(routed, "intake-triage")[-1]
    assert "re-routed" in staff["text"] and "got no answer in time" in staff["text"]
    statuses = Counter(r["Status"] for r in intake_records(routed) if r["Intake ID"])
    assert statuses["Routing"] == 0
    assert leaks(routed, json.dumps(all_posts(routed), ensure_ascii=False)) == []
    silent = waiting[0]
    assert partner_status(routed, silent)[silent.referral_id].startswith("Expired")


def test_an_answer_typed_in_the_partner_sheet_counts_like_the_buttons(routed) -> None:
    first, second = referrals()[:2]
    type_partner_status(routed, first, "accepted ")
    type_partner_status(routed, second, "Declined - conflict")
    report = follow_up()
    assert report.counts["answered in partner sheets"] == 2
    states = {r.referral_id: r.state for r in referrals()}
    assert states[first.referral_id] == "accepted" and states[second.referral_id] == "declined"
    assert row_of(routed, first.intake_id)["Status"] == "Accepted"
    moved = row_of(routed, second.intake_id)
    assert moved["Referral ID"] != second.referral_id or moved["Status"] != "Referred"
    assert follow_up().counts.get("answered in partner sheets", 0) == 0


def test_follow_up_dry_run_plans_without_writing(routed) -> None:
    age_referrals(50)
    since = routed.sandbox.journal.last_seq
    report = referral_follow_up.fn(dry_run=True)
    assert routed.writes(since=since) == []
    assert report.plan[0].startswith(f"Referrals: remind {len(referrals())}")
    with open_ledger().session() as session:
        assert (
            session.scalar(select(Referral).where(Referral.reminded_at.is_not(None)).limit(1))
            is None
        )


# ---------------------------------------------------------------- suggest, then approve
def test_approve_mode_suggests_and_asks_staff_once(approve_mode) -> None:
    report = run_routing(publish_report=False)
    assert report.counts["suggested"] > 10
    records = [r for r in intake_records(approve_mode) if r["Status"] == "Suggested"]
    assert records and all(r["Partner"] and not r["Referral ID"] for r in records)
    for partner in approve_mode.partners.values():
        values = approve_mode.services["sheets"].get_values(partner["referral_sheet"], "Referrals")
        assert len(values) == 1  # nothing goes to partners before approval
    staff = posts(approve_mode, "intake-triage")
    requests = [m for m in staff if "to approve" in m["text"]]
    assert len(requests) == 1
    blocks = json.dumps(requests[0]["blocks"])
    assert actions.INTAKE_APPROVE in blocks and actions.INTAKE_APPROVE_ALL in blocks
    assert actions.INTAKE_CHOOSE_PARTNER in blocks
    assert leaks(approve_mode, json.dumps(requests[0], ensure_ascii=False)) == []
    run_routing(publish_report=False)
    assert len([m for m in posts(approve_mode, "intake-triage") if "to approve" in m["text"]]) == 1


def test_approval_sends_the_case_exactly_as_auto_mode_would(approve_mode) -> None:
    run_routing(publish_report=False)
    suggested = [r for r in intake_records(approve_mode) if r["Status"] == "Suggested"][:2]
    result = approve([r["Intake ID"] for r in suggested], "U0DEMOSTF01")
    assert result.approved == [r["Intake ID"] for r in suggested] and not result.refused
    for r in suggested:
        row = row_of(approve_mode, r["Intake ID"])
        assert row["Status"] == "Referred" and row["Partner"] == r["Partner"] and row["Referral ID"]
    again = approve([suggested[0]["Intake ID"]], "U0DEMOSTF01")
    assert again.approved == [] and "Referred" in again.refused[suggested[0]["Intake ID"]]
    assert approve(["garbage"], "U0DEMOSTF01").refused == {"garbage": "not an Intake ID"}


def test_staff_may_choose_another_partner(approve_mode) -> None:
    run_routing(publish_report=False)
    suggested = next(r for r in intake_records(approve_mode) if r["Status"] == "Suggested")
    other = next(
        p
        for p in approve_mode.partners.values()
        if p["name"] != suggested["Partner"] and p["accepting"]
    )
    result = approve([suggested["Intake ID"]], "U0DEMOSTF01", partner_id=other["member_id"])
    assert result.approved
    row = row_of(approve_mode, suggested["Intake ID"])
    assert row["Partner"] == other["name"] and row["Routing reason"].startswith("chosen by staff")
    assert approve([suggested["Intake ID"]], "U0DEMOSTF01", partner_id="recNOPE").refused


def test_typing_approved_in_the_status_cell_is_honoured_next_run(approve_mode) -> None:
    run_routing(publish_report=False)
    values = intake_values(approve_mode)
    head = values[0]
    status = head.index("Status")
    index = next(i for i, r in enumerate(values) if len(r) > status and r[status] == "Suggested")
    values[index][status] = "  approved "
    sheets = approve_mode.services["sheets"]
    names = settings().services.sheets
    sheets.set_values(sheets.find_by_title(names.intake), names.intake_tab, values)
    run_routing(publish_report=False)
    row = intake_records(approve_mode)[index - 1]
    assert row["Status"] == "Referred" and row["Referral ID"]
    with open_ledger().session() as session:
        record = session.get(IntakeRecord, row["Intake ID"])
        assert record.approved_by == "sheet"


def test_suggestions_waiting_too_long_are_reminded_once(approve_mode) -> None:
    run_routing(publish_report=False)
    with open_ledger().session() as session:
        session.execute(update(IntakeRecord).values(updated_at=utcnow() - timedelta(hours=30)))
    first = follow_up()
    assert first.counts["approval reminders"] > 0
    assert follow_up().counts.get("approval reminders", 0) == 0
    reminders = [
        m for m in posts(approve_mode, "intake-triage") if m["text"].startswith("Reminder")
    ]
    assert len(reminders) == 1


# ---------------------------------------------------------------- explain
def test_explain_names_each_partner_and_rule_without_personal_data(routed) -> None:
    referral = referrals()[0]
    explanation = explain_intake(referral.intake_id.lower())
    assert explanation is not None
    text = explanation.text()
    assert referral.intake_id in text and "was referred" in text
    chosen = [c for c in explanation.considered if "(chosen)" in c.why]
    assert len(chosen) == 1 and chosen[0].partner_id == referral.partner_id
    assert len(explanation.considered) == len(routed.partners)
    assert any(c.rule == "service_not_offered" for c in explanation.considered)
    assert explanation.winner_reason
    assert leaks(routed, text) == []
    assert explain_intake("INT-0000000000") is None and explain_intake("nonsense") is None
