"""Intake routing against the sandbox over HTTP: what staff, partners and the ledger see, and what it costs.

Most tests call `run_routing` (the flow's body, steps as plain calls); one goes
through the real Prefect flow.
"""

from __future__ import annotations

import json
import random
import re
import threading
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from intake_helpers import (
    empty_test_postgres,
    intake_records,
    intake_values,
    mark_directory_built,
    member_id,
    referral_rows,
    seed_partner_directory,
)
from sqlalchemy import select, text, update

from coalition.intake import fields, ids
from coalition.ledger import open_ledger
from coalition.ledger.db import forget_ledgers
from coalition.ledger.outbox import NoticeOutbox
from coalition.ledger.posted_messages import PostedMessages
from coalition.ledger.referrals import ReferralStore
from coalition.ledger.tables.intake import IntakeNotice, IntakeRecord, Referral
from coalition.settings import reload_settings, settings
from flows import intake_routing as routing
from flows.intake_routing import run_routing
from integrations.slack import forget_channels
from sandbox.seed import roster
from sandbox.seed.apply import personal_values

BOT_HEADERS = ["Intake ID", "Status", "Partner", "Referral ID", "Routed at", "Routing reason"]


@pytest.fixture
def demo_routing(demo, monkeypatch):
    """The demo coalition, its partner directory in the ledger, Slack paced 50x faster."""
    monkeypatch.setenv("COALITION_TIME_SCALE", "50")
    reload_settings()
    forget_channels()
    partners = seed_partner_directory(demo)
    demo.partners = partners
    demo.journal_start = demo.sandbox.journal.last_seq
    return demo


def sheet_model(handle):
    return handle.services["sheets"]


def intake_sheet_id(handle) -> str:
    return sheet_model(handle).find_by_title(settings().services.sheets.intake)


def set_intake_values(handle, rows: list[list[str]]) -> None:
    sheet_model(handle).set_values(
        intake_sheet_id(handle), settings().services.sheets.intake_tab, rows
    )


def header(handle) -> list[str]:
    return intake_values(handle)[0]


def add_rows(handle, rows: list[dict[str, str]]) -> None:
    values = intake_values(handle)
    head = values[0]
    set_intake_values(handle, values + [[row.get(h, "") for h in head] for row in rows])


def slack_posts(handle) -> list[dict]:
    return [m for m in handle.services["slack"].all_messages() if m.get("kind") == "message"]


def channel_posts(handle, name: str) -> list[dict]:
    slack = handle.services["slack"]
    channel = slack.channel_by_name(name)
    return slack.messages(channel["id"]) if channel else []


def partner_sheet(handle, slug: str) -> str:
    spec = next(s for s in roster.LEGAL_AID_MEMBERS if s.slug == slug)
    return handle.partners[member_id(spec)]["referral_sheet"]


def ledger_dump() -> str:
    """Every row of every table of the ledger, as text (to look for personal data in it)."""
    ledger = open_ledger()
    out = []
    with ledger.engine.connect() as conn:
        tables = [
            r[0] for r in conn.execute(text("SELECT name FROM sqlite_master WHERE type='table'"))
        ]
        for table in tables:
            out += [
                json.dumps([str(v) for v in row], ensure_ascii=False)
                for row in conn.execute(text(f"SELECT * FROM {table}"))
            ]
    return "\n".join(out)


def leaks(handle, blob: str) -> list[str]:
    values = [v for v in personal_values(handle.sandbox) if len(v) >= 6]
    return sorted(v for v in values if v in blob)


def referrals_by_state() -> Counter:
    with open_ledger().session() as session:
        return Counter(session.scalars(select(Referral.state)))


# ---------------------------------------------------------------- the whole demo
def test_every_row_ends_with_a_status_and_partners_get_only_their_own_cases(demo_routing) -> None:
    report = run_routing(publish_report=False)
    records = [
        r
        for r in intake_records(demo_routing)
        if any(r.get(h) for h in ("Full name", "Phone", "Help needed", "Preferred language"))
    ]
    assert len(records) == 150
    for record in records:
        assert ids.INTAKE_ID_PATTERN.match(record["Intake ID"]), record["Intake ID"]
        assert record["Status"] in {
            "Referred",
            "Waitlist",
            "Staff triage",
            "Needs review",
            "Duplicate",
        }
        assert record["Routing reason"]
    statuses = Counter(r["Status"] for r in records)
    assert (
        statuses["Referred"] > 20 and statuses["Duplicate"] == 3 and statuses["Needs review"] >= 4
    )
    # Each partner sheet holds exactly the referrals the ledger gave that partner.
    with open_ledger().session() as session:
        given = {(r.referral_id, r.partner_id) for r in session.scalars(select(Referral))}
    referred = {r["Referral ID"]: r for r in records if r["Status"] == "Referred"}
    for partner in demo_routing.partners.values():
        rows = referral_rows(demo_routing, partner["referral_sheet"])
        mine = {ref for ref, p in given if p == partner["member_id"]}
        assert {r["Referral ID"] for r in rows} == mine
        for row in rows:
            assert referred[row["Referral ID"]]["Partner"] == partner["name"]
            assert (
                row["Name"] == referred[row["Referral ID"]]["Full name"]
            )  # consent: contact details go
    assert report.counts["delivered"] == statuses["Referred"]
    assert not report.errors


# ---------------------------------------------------------------- before the first roster sync (issue 17)
def test_routing_waits_for_the_first_roster_sync_and_says_so(demo) -> None:
    """A new install routes before roster sync ever completed: no "no partner", no triage alert."""
    forget_channels()
    report = run_routing(publish_report=False)
    assert report.counts["partners"] == 0 and report.counts["waiting"] == 150
    assert report.notes == [
        "waiting for the first roster sync: the partner directory has not been built yet,"
        " so no row was routed; the next run after it routes them"
    ]
    assert "## Notes\n- waiting for the first roster sync" in report.markdown()
    statuses = {r["Status"] for r in intake_records(demo) if r.get("Full name")}
    assert statuses == {""}
    assert slack_posts(demo) == []
    # Roster sync built it since: the next run routes every row.
    demo.partners = seed_partner_directory(demo)
    again = run_routing(publish_report=False)
    assert again.notes == [] and again.counts["partners"] > 0
    assert "Referred" in {r["Status"] for r in intake_records(demo)}


def test_a_stale_directory_never_tells_staff_no_partner(demo_routing) -> None:
    """The last sync is 3 hours old: fitting rows are routed, "no partner" verdicts wait."""
    with open_ledger().session() as session:
        mark_directory_built(session, datetime.now(UTC) - timedelta(hours=3, minutes=5))
    report = run_routing(publish_report=False)
    held = report.counts["held: partner directory not trusted"]
    assert held > 0
    assert report.notes == [
        f"{held} row(s) that no partner fits were held, not waitlisted: the partner directory"
        " is 3 h 5 min old (roster sync runs every 15 min); they are decided once it syncs"
    ]
    records = [r for r in intake_records(demo_routing) if r.get("Full name")]
    statuses = Counter(r["Status"] for r in records)
    assert statuses["Waitlist"] == 0 and statuses["Referred"] > 20 and statuses[""] == held
    posted = json.dumps(slack_posts(demo_routing), ensure_ascii=False)
    assert "Urgent, waiting for staff" in posted  # triage (no consent) still alerts
    assert "no partner" not in posted and "Waitlist" not in posted
    # Fresh again: the held rows get their verdict, with the reason in words.
    with open_ledger().session() as session:
        mark_directory_built(session, datetime.now(UTC))
    again = run_routing(publish_report=False)
    assert again.counts.get("held: partner directory not trusted", 0) == 0 and not again.notes
    waitlisted = [r for r in intake_records(demo_routing) if r["Status"] == "Waitlist"]
    assert len(waitlisted) == held
    assert all(r["Routing reason"] for r in waitlisted)


def test_nothing_personal_in_slack_ledger_or_report(demo_routing) -> None:
    report = run_routing(publish_report=False)
    posts = slack_posts(demo_routing)
    assert posts
    assert leaks(demo_routing, json.dumps(posts, ensure_ascii=False)) == []
    assert leaks(demo_routing, ledger_dump()) == []
    assert (
        leaks(demo_routing, json.dumps(report.model_dump(), ensure_ascii=False) + report.markdown())
        == []
    )
    blob = json.dumps(posts, ensure_ascii=False)
    for survivor in ("VAWA", "U visa", "T visa", "U-visa", "T-visa"):
        assert survivor not in blob
    assert "<!channel>" not in blob and "<!here>" not in blob and "=IMPORTXML" not in blob
    with open_ledger().session() as session:
        categories = set(session.scalars(select(IntakeRecord.category)))
    assert not categories & {"VAWA", "U visa", "T visa"} and "protected" in categories


def test_a_second_run_changes_nothing(demo_routing) -> None:
    run_routing(publish_report=False)
    before = demo_routing.sandbox.journal.last_seq
    posts = len(slack_posts(demo_routing))
    report = run_routing(publish_report=False)
    assert demo_routing.writes(since=before) == []
    assert len(slack_posts(demo_routing)) == posts
    assert "claimed" not in report.counts and not report.errors


def test_request_budget_three_sheets_requests_plus_two_per_partner(demo_routing) -> None:
    report = run_routing(publish_report=False)
    journal = demo_routing.journal(since=demo_routing.journal_start)
    sheets = [e for e in journal if e["service"] == "sheets"]
    appends = [e for e in sheets if e["path"].endswith(":append")]
    partners_with_cases = sum(
        1
        for p in demo_routing.partners.values()
        if referral_rows(demo_routing, p["referral_sheet"])
    )
    assert len(appends) == partners_with_cases
    # Read, read again just before writing (staff may have sorted), write; per partner its
    # referral tab's header (rows go under the partner's own columns) and one append.
    assert len(sheets) == 3 + 2 * partners_with_cases
    posts = [
        e for e in journal if e["service"] == "slack" and e["path"].endswith("chat.postMessage")
    ]
    notices = report.counts["slack messages"]
    assert len(posts) == notices
    # A partner with more than five new cases gets one digest; staff one alert for the urgent unrouted.
    for partner in demo_routing.partners.values():
        count = len(referral_rows(demo_routing, partner["referral_sheet"]))
        shown = channel_posts(demo_routing, partner["referral_channel"])
        assert len(shown) == (1 if count > 5 else count)
    assert len(channel_posts(demo_routing, "intake-triage")) == 1


def test_hostile_text_stays_text_and_never_pings(demo_routing) -> None:
    run_routing(publish_report=False)
    model = sheet_model(demo_routing)
    for partner in demo_routing.partners.values():
        values = model.get_values(partner["referral_sheet"], roster.REFERRAL_TAB)
        for r, row in enumerate(values[1:], start=2):
            for c, value in enumerate(row, start=1):
                if str(value).startswith("="):
                    assert (
                        model.cell(partner["referral_sheet"], roster.REFERRAL_TAB, r, c).formula
                        is None
                    )
    for post in slack_posts(demo_routing):
        assert "<!" not in json.dumps(post.get("blocks", []))


# ---------------------------------------------------------------- bad input
def test_bad_rows_are_kept_and_explained(demo_routing) -> None:
    head = header(demo_routing)
    set_intake_values(demo_routing, [head])  # only the rows below
    base = {
        "Timestamp": "11/20/2026 10:00:00", "Full name": "Quennell Ashbury-Voss", "Preferred language": "English",
        "Phone": "(713) 555-0199", "County": "Harris", "State": "TX", "Help needed": "asylum",
        "Consent to share": "Yes", "Household size": "2", "Monthly income": "1200",
    }  # fmt: skip
    rows = [
        {},  # empty: not an intake
        {"Full name": "Only Aname Here"},
        {**base, "Phone": "(713) 555-0101", "Notes": "x" * 50_000},
        {
            **base,
            "Phone": "(713) 555-0102",
            "Help needed": "Necesito asilo 🙏🙏 \u202eurgente\u202e",
        },
        {**base, "Phone": "(713) 555-0103", "Next court date": "2/30/2027"},
        {**base, "Phone": "(713) 555-0104", "Household size": "0"},
        {**base, "Phone": "(713) 555-0105", "Household size": "999"},
        {
            **base,
            "Phone": "(713) 555-0106",
            "Full name": '=IMPORTXML("http://x", "//a")',
            "County": "<!channel>",
        },
        {
            **base,
            "Phone": "(713) 555-0107",
            "Help needed": "<!channel> asilo por favor",
            "Notes": "<@U0DEMOSTF01>",
        },
    ]
    add_rows(demo_routing, rows)
    report = run_routing(publish_report=False)
    records = intake_records(demo_routing)
    by_phone = {r["Phone"]: r for r in records}
    assert len([r for r in records if r["Intake ID"]]) == 8  # the empty row is left alone
    only_name = next(r for r in records if r["Full name"] == "Only Aname Here")
    assert only_name["Status"] == "Needs review"
    assert (
        "phone or email" in only_name["Routing reason"] and "State" in only_name["Routing reason"]
    )
    assert by_phone["(713) 555-0101"]["Status"] == "Referred"
    assert by_phone["(713) 555-0102"]["Status"] == "Referred"
    assert by_phone["(713) 555-0103"]["Status"] == "Needs review"
    assert "Next court date" in by_phone["(713) 555-0103"]["Routing reason"]
    assert (
        by_phone["(713) 555-0104"]["Status"]
        == by_phone["(713) 555-0105"]["Status"]
        == "Needs review"
    )
    assert (
        by_phone["(713) 555-0106"]["Status"] == "Referred"
    )  # a county it cannot read: the whole state
    assert by_phone["(713) 555-0107"]["Status"] == "Referred"
    sheet = referral_rows(demo_routing, partner_sheet(demo_routing, "riverbend"))
    long_note = next(r for r in sheet if r["Phone"] == "+17135550101")
    assert 1000 < len(long_note["Notes"]) <= 5000
    assert next(r for r in sheet if r["Phone"] == "+17135550106")["Name"].startswith("=IMPORTXML")
    assert not report.errors
    blob = json.dumps(slack_posts(demo_routing), ensure_ascii=False)
    assert "Quennell" not in blob and "555-01" not in blob and "<!channel>" not in blob


def test_the_same_person_twice_in_a_week_is_flagged_and_routed_once(demo_routing) -> None:
    run_routing(publish_report=False)
    first = next(r for r in intake_records(demo_routing) if r["Status"] == "Referred")
    again = {k: v for k, v in first.items() if k not in BOT_HEADERS}
    again["Help needed"] = first["Help needed"] + " (sending again)"
    add_rows(demo_routing, [again])
    run_routing(publish_report=False)
    latest = intake_records(demo_routing)[-1]
    assert latest["Status"] == "Duplicate"
    assert first["Intake ID"] in latest["Routing reason"]
    refs = [
        r
        for r in referral_rows(demo_routing, _sheet_of(demo_routing, first["Partner"]))
        if r["Phone"]
    ]
    assert sum(1 for r in refs if r["Intake ID"] == latest["Intake ID"]) == 0


def _sheet_of(handle, name: str) -> str:
    return next(p["referral_sheet"] for p in handle.partners.values() if p["name"] == name)


def test_rows_sorted_deleted_and_columns_added_between_runs(demo_routing) -> None:
    run_routing(publish_report=False)
    values = intake_values(demo_routing)
    head, rows = values[0], values[1:]
    kept = rows[10:]  # ten rows deleted
    random.Random(7).shuffle(kept)
    # A staff column inserted at the front and the bot's columns moved to the end.
    moved = [h for h in head if h not in BOT_HEADERS]
    order = ["Follow-up", *moved, *BOT_HEADERS]

    def reshape(row: list[str]) -> list[str]:
        cells = dict(zip(head, row + [""] * (len(head) - len(row)), strict=False))
        cells["Follow-up"] = "call"
        return [cells.get(h, "") for h in order]

    set_intake_values(demo_routing, [order] + [reshape(r) for r in kept])
    before_state = {
        r["Intake ID"]: (r["Status"], r["Referral ID"], r["Full name"])
        for r in intake_records(demo_routing)
    }
    since = demo_routing.sandbox.journal.last_seq
    report = run_routing(publish_report=False)
    assert demo_routing.writes(since=since) == []
    after = {
        r["Intake ID"]: (r["Status"], r["Referral ID"], r["Full name"])
        for r in intake_records(demo_routing)
    }
    assert after == before_state
    assert all(r["Follow-up"] == "call" for r in intake_records(demo_routing))
    assert not report.errors


def test_staff_cells_are_never_touched_and_a_cleared_id_comes_back(demo_routing) -> None:
    run_routing(publish_report=False)
    values = intake_values(demo_routing)
    head = values[0]
    notes_col, id_col, status_col = (
        head.index("Staff notes"),
        head.index("Intake ID"),
        head.index("Status"),
    )
    row = values[5] + [""] * (len(head) - len(values[5]))
    original_id = row[id_col]
    row[notes_col] = "called, left message"
    row[id_col] = ""  # staff cleared the ID by mistake
    row[status_col] = "Whatever"
    values[5] = row
    set_intake_values(demo_routing, values)
    report = run_routing(publish_report=False)
    again = intake_values(demo_routing)[5]
    assert again[id_col] == original_id and again[notes_col] == "called, left message"
    assert again[status_col] != "Whatever"
    assert "claimed" not in report.counts


def test_a_copied_row_gets_its_own_id(demo_routing) -> None:
    run_routing(publish_report=False)
    values = intake_values(demo_routing)
    head = values[0]
    referred = next(
        i
        for i, r in enumerate(values)
        if len(r) > head.index("Status") and r[head.index("Status")] == "Referred"
    )
    copy = list(values[referred])
    copy[head.index("Phone")] = "(713) 555-0177"
    copy[head.index("Full name")] = "Another Person Entirely"
    set_intake_values(demo_routing, [*values, copy])
    run_routing(publish_report=False)
    records = intake_records(demo_routing)
    assert records[-1]["Intake ID"] != records[referred - 1]["Intake ID"]
    assert records[referred - 1]["Status"] == "Referred"


# ---------------------------------------------------------------- plan mode
def test_a_dry_run_writes_nothing_anywhere(demo_routing) -> None:
    since = demo_routing.sandbox.journal.last_seq
    report = run_routing(dry_run=True, publish_report=False)
    assert demo_routing.writes(since=since) == []
    assert slack_posts(demo_routing) == []
    with open_ledger().session() as session:
        assert session.scalar(select(IntakeRecord).limit(1)) is None
        # Only the roster sync's own watermark (the test's directory) is there: no salt written.
        mine = text("SELECT count(*) FROM watermarks WHERE key NOT LIKE 'roster-sync:%'")
        assert session.scalar(mine) == 0
    plan = report.plan[0]
    assert plan.startswith("Intake: 150 rows -> ") and "routed (" in plan and "waitlisted (" in plan
    assert "need review" in plan and leaks(demo_routing, "\n".join(report.plan)) == []
    assert any(line.startswith("Partner sheet ") for line in report.plan)
    assert report.plan[-1].startswith("Slack: ") and "triage_alert" in report.plan[-1]
    # What the plan promised is what a real run then does.
    real = run_routing(publish_report=False)
    promised = int(report.plan[-1].split()[1])
    assert real.counts["slack messages"] == promised + 1  # plus the staff alert


# ---------------------------------------------------------------- exactly once
@pytest.fixture
def no_lease(monkeypatch):
    """Claims of a crashed run lapse almost at once (instead of after the configured minutes)."""
    monkeypatch.setenv("COALITION_LEASE_SECONDS", "0.001")
    reload_settings()


def _crash_once(monkeypatch, target, name: str) -> None:
    original = getattr(target, name)
    state = {"crashed": False}

    def boom(*args, **kwargs):
        if not state["crashed"]:
            state["crashed"] = True
            raise RuntimeError("simulated crash")
        return original(*args, **kwargs)

    monkeypatch.setattr(target, name, boom)


def _assert_exactly_once(handle) -> None:
    """Each referral appears once in its partner sheet; each Slack notice was posted once."""
    with open_ledger().session() as session:
        referrals = list(session.scalars(select(Referral)))
        pending = session.scalar(
            select(IntakeNotice).where(IntakeNotice.posted_at.is_(None)).limit(1)
        )
    assert referrals and pending is None
    for partner in handle.partners.values():
        rows = referral_rows(handle, partner["referral_sheet"])
        counted = Counter(r["Referral ID"] for r in rows)
        assert all(n == 1 for n in counted.values()), counted.most_common(3)
        assert set(counted) == {
            r.referral_id
            for r in referrals
            if r.partner_id == partner["member_id"] and r.state != "failed"
        }
    keys = Counter(
        json.dumps(m.get("metadata", {}).get("event_payload", {}).get("key"))
        for m in handle.services["slack"].all_messages()
        if m.get("kind") == "message"
    )
    assert all(n == 1 for n in keys.values()), keys.most_common(3)
    assert {r.state for r in referrals} == {"notified"}
    statuses = Counter(r["Status"] for r in intake_records(handle) if r["Intake ID"])
    assert "Routing" not in statuses and sum(statuses.values()) == 150


@pytest.mark.parametrize(
    ("target", "name"),
    [
        (routing.deliver_to_partners, "fn"),  # after the claim, before any partner sheet
        (ReferralStore, "mark_written"),  # after an append, before the ledger knows
        (routing.write_intake_status, "fn"),  # partner sheets written, Intake sheet not
        (NoticeOutbox, "notice_posted"),  # a Slack post made, not yet recorded
        (NoticeOutbox, "collect_staff_notices"),  # before any Slack message
    ],
    ids=["before-deliver", "after-append", "before-intake-write", "after-post", "before-notify"],
)
def test_a_crash_between_steps_never_routes_or_posts_twice(
    demo_routing, monkeypatch, no_lease, target, name
) -> None:
    _crash_once(monkeypatch, target, name)
    with pytest.raises(RuntimeError, match="simulated crash"):
        run_routing(publish_report=False)
    forget_channels()
    run_routing(publish_report=False)
    _assert_exactly_once(demo_routing)
    before = demo_routing.sandbox.journal.last_seq
    run_routing(publish_report=False)
    assert demo_routing.writes(since=before) == []


def _slack_calls(handle, since: int) -> Counter:
    return Counter(e["path"].removeprefix("/api/") for e in handle.journal("slack", since=since))


def test_a_run_posts_each_notice_with_one_request_and_reads_no_history(demo_routing) -> None:
    since = demo_routing.sandbox.journal.last_seq
    report = run_routing(publish_report=False)
    called = _slack_calls(demo_routing, since)
    assert report.counts["slack messages"] > 1
    assert called["chat.postMessage"] == report.counts["slack messages"]
    assert called["conversations.history"] == 0 and called["conversations.replies"] == 0
    assert sum(called.values()) == called["chat.postMessage"] + called["conversations.list"]


def test_a_notice_whose_post_is_in_doubt_is_found_in_slack_not_posted_twice(
    demo_routing, monkeypatch, no_lease
) -> None:
    """The first partner notice reaches Slack, then its record fails: claimed, no ts (in doubt)."""
    original = PostedMessages.record
    crashed: list[str] = []

    def crash(self, key, channel, ts, thread_ts, digest, state) -> None:
        if state == "posted" and not crashed:
            crashed.append(key)
            raise RuntimeError("simulated crash between the post and its record")
        original(self, key, channel, ts, thread_ts, digest, state)

    monkeypatch.setattr(PostedMessages, "record", crash)
    run_routing(publish_report=False)  # the notice is reported unsent; the others go out
    [key] = crashed
    doubt = PostedMessages(open_ledger()).get(key)
    assert doubt is not None and (doubt.state, doubt.ts) == ("sending", None)

    forget_channels()
    since = demo_routing.sandbox.journal.last_seq
    run_routing(publish_report=False)
    called = _slack_calls(demo_routing, since)
    assert called["conversations.history"] == 1  # only for the notice in doubt
    assert called["chat.postMessage"] == 0  # found in Slack and adopted: not posted again
    assert PostedMessages(open_ledger()).get(key).state == "posted"
    _assert_exactly_once(demo_routing)


@pytest.fixture(params=["sqlite", "postgresql"])
def ledger_kind(request, demo_routing, monkeypatch):
    """The ledger on SQLite, and on PostgreSQL when COALITION_TEST_DATABASE_URL is set."""
    if request.param == "postgresql":
        monkeypatch.setenv("COALITION_DATABASE_URL", empty_test_postgres())
        forget_ledgers()
        reload_settings()
        demo_routing.partners = seed_partner_directory(demo_routing)
    return request.param


def test_two_runs_at_the_same_time_route_each_row_once(demo_routing, ledger_kind) -> None:
    errors: list[BaseException] = []

    def worker() -> None:
        try:
            run_routing(publish_report=False)
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=worker) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=240)
    assert not errors
    run_routing(publish_report=False)  # settles rows a racing run left to the other
    _assert_exactly_once(demo_routing)


def test_a_staff_sort_during_a_run_never_puts_a_status_on_another_persons_row(
    demo_routing, monkeypatch
) -> None:
    """Staff reverse the rows after the run decided: every row still gets its own Intake ID and outcome."""
    real = routing.claim_in_ledger

    class SortedMeanwhile:
        @staticmethod
        def fn(*args):
            claimed = real.fn(*args)
            values = intake_values(demo_routing)
            set_intake_values(demo_routing, [values[0], *reversed(values[1:])])
            return claimed

    monkeypatch.setattr(routing, "claim_in_ledger", SortedMeanwhile)
    run_routing(publish_report=False)
    values = intake_values(demo_routing)
    run = routing.start_run(dry_run=True)
    rows = routing._rows(values, fields.resolve_columns(values[0]), run.salt)
    named = [r for r in rows if r.id_cell]
    states = run.store.intakes.intakes([r.id_cell for r in named])
    assert len(named) > 100
    assert all(states[r.id_cell].row_hash == r.fingerprint for r in named)


# ---------------------------------------------------------------- a broken partner sheet
def test_a_deleted_partner_sheet_affects_only_that_partner(demo_routing) -> None:
    broken = partner_sheet(demo_routing, "pacific-lantern")
    demo_routing.services["drive"].delete_file(broken)
    report = run_routing(publish_report=False)
    partner = demo_routing.partners[
        member_id(next(s for s in roster.LEGAL_AID_MEMBERS if s.slug == "pacific-lantern"))
    ]
    assert any(e.item == partner["member_id"] and "not found" in e.error for e in report.errors)
    ops = channel_posts(demo_routing, "ops-alerts")
    assert len(ops) == 1 and "Pacific Lantern" in ops[0]["text"]
    assert report.counts["delivered"] > 10  # the others got theirs
    assert referrals_by_state()["failed"] >= 1
    with open_ledger().session() as session:
        lost = {
            r.intake_id for r in session.scalars(select(Referral).where(Referral.state == "failed"))
        }
    shown = {r["Intake ID"]: r for r in intake_records(demo_routing)}
    # Their rows never claimed a partner that did not get the case.
    assert all(shown[i]["Status"] != "Referred" and not shown[i]["Partner"] for i in lost)
    # The next run sends those cases to the next fitting partner, never back to the broken one.
    second = run_routing(publish_report=False)
    with open_ledger().session() as session:
        failed = list(session.scalars(select(Referral).where(Referral.state == "failed")))
        later = list(session.scalars(select(Referral).where(Referral.attempt == 2)))
        after = {i.intake_id: i.status for i in session.scalars(select(IntakeRecord))}
    assert all(r.partner_id != partner["member_id"] for r in later)
    assert {after[r.intake_id] for r in failed} <= {"referred", "waitlist", "triage"}
    assert sum(second.counts.get(k, 0) for k in ("routing", "waitlist", "triage")) == len(failed)
    moved = {r["Intake ID"]: r for r in intake_records(demo_routing)}
    assert all(moved[r.intake_id]["Partner"] != partner["name"] for r in failed)
    assert len(channel_posts(demo_routing, "ops-alerts")) == 1  # once a day, not once a run


# ---------------------------------------------------------------- through the real flow
def test_the_prefect_flow_routes_and_leaves_a_clean_report(demo_routing) -> None:
    from prefect.testing.utilities import prefect_test_harness

    # A private Prefect server; patient start-up, as the machine is shared.
    with prefect_test_harness(server_startup_timeout=240):
        report = routing.intake_routing(dry_run=False)
        artifacts = _artifacts("intake-routing-report")
    assert report.flow == "intake-routing" and report.counts["claimed"] == 150
    assert 3 <= report.requests.get("sheets", 0) <= 3 + 2 * 17
    assert len(artifacts) == 1 and "claimed" in artifacts[0]
    assert leaks(demo_routing, report.markdown() + artifacts[0]) == []


def _artifacts(key: str) -> list[str]:
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.filters import ArtifactFilter, ArtifactFilterKey

    with get_client(sync_client=True) as client:
        found = client.read_artifacts(
            artifact_filter=ArtifactFilter(key=ArtifactFilterKey(any_=[key]))
        )
    return [str(a.data) for a in found]


def test_it_is_in_the_registry_for_the_cli() -> None:
    from flows.registry import FLOWS

    assert FLOWS["intake-routing"].load().name == "intake-routing"
    assert FLOWS["referral-follow-up"].load().name == "referral-follow-up"
    assert Path(routing.__file__).name == "intake_routing.py"


def _set_referrals(**values) -> None:
    with open_ledger().session() as session:
        session.execute(update(Referral).values(**values))


# ---------------------------------------------------------------- scale
COUNTIES = [
    "Alder", "Birch", "Cedar", "Dogwood", "Elm", "Fir", "Ginkgo", "Hazel", "Ironwood", "Juniper",
    "Kapok", "Larch", "Maple", "Nutmeg", "Oak", "Pine", "Quince", "Rowan", "Spruce", "Tupelo",
]  # fmt: skip


def test_a_thousand_rows_across_twenty_partners_within_the_request_budget(
    sandbox, monkeypatch
) -> None:
    """1,000 new rows, 20 partners, rate limits on: 3 + 2 x 20 Sheets requests, one Slack message per partner."""
    monkeypatch.setenv("COALITION_TIME_SCALE", "50")
    reload_settings()
    forget_channels()
    sandbox.sandbox.clock.scale = 50
    names = settings().services.sheets
    sheets, slack = sandbox.services["sheets"], sandbox.services["slack"]
    head = [
        "Timestamp", "Full name", "Preferred language", "Phone", "Email", "City", "County", "State",
        "Help needed", "Detained", "Next court date", "Date of last entry", "Household size",
        "Monthly income", "Consent to share", "Notes", *BOT_HEADERS, "Staff notes",
    ]  # fmt: skip
    rows = [head]
    for i in range(1000):
        rows.append([
            f"11/{1 + i % 20}/2026 {8 + i % 10}:{i % 60:02d}:00", f"Person Number{i}", "Español",
            f"(713) {200 + i // 10000:03d}-{i % 10000:04d}", "", "Town", COUNTIES[i % 20], "TX",
            "Necesito asilo", "No", "", "", "3", "$1,500/mo", "Sí", "",
        ])  # fmt: skip
    sheets.create_spreadsheet(names.intake, {names.intake_tab: rows})
    for channel in ("intake-triage", "ops-alerts"):
        slack.create_channel(channel, is_private=False, members=(slack.bot_user_id,))
    with open_ledger().session() as session:
        from coalition.ledger.tables.roster import Partner

        for n, county in enumerate(COUNTIES):
            sheet = sheets.create_spreadsheet(
                f"Referrals {county}", {"Referrals": [list(roster.REFERRAL_HEADER)]}
            )
            slack.create_channel(
                f"ref-{county.lower()}", is_private=False, members=(slack.bot_user_id,)
            )
            session.add(
                Partner(
                    member_id=f"recPARTNER{n:05d}",
                    name=f"{county} Legal Aid",
                    services=["asylum"],
                    counties=[county],
                    states=["TX"],
                    languages=["Spanish", "English"],
                    accepting=True,
                    weekly_capacity=100,
                    accreditation="attorney",
                    referral_channel=f"ref-{county.lower()}",
                    referral_sheet=sheet,
                    active=True,
                )
            )
        mark_directory_built(session, datetime.now(UTC))
    sandbox.sandbox.limiter.enabled = True
    since = sandbox.sandbox.journal.last_seq
    report = run_routing(publish_report=False)
    journal = sandbox.journal(since=since)
    assert report.counts["delivered"] == 1000 and not report.errors
    assert len([e for e in journal if e["service"] == "sheets"]) == 3 + 2 * 20
    posts = [
        e for e in journal if e["service"] == "slack" and e["path"].endswith("chat.postMessage")
    ]
    assert len(posts) == 20
    assert all(e["status"] < 400 for e in journal)


# ---------------------------------------------------------------- the guard catches a planted leak
def test_a_name_planted_in_a_partner_notice_is_refused_and_retried_later(
    demo_routing, monkeypatch, caplog
) -> None:
    original = routing.partner_item

    def leaky(referral, case, partner):
        item = original(referral, case, partner)
        item["place"] = case.name  # a person's name where the county goes
        return item

    monkeypatch.setattr(routing, "partner_item", leaky)
    report = run_routing(publish_report=False)
    refused = [e for e in report.errors if "refused by the privacy guard" in e.error]
    assert refused and report.counts.get("delivered", 0) == 0  # in the sheets, not yet notified
    posted = json.dumps(slack_posts(demo_routing), ensure_ascii=False)
    assert leaks(demo_routing, posted) == []
    assert (
        leaks(demo_routing, caplog.text + json.dumps(report.model_dump(), ensure_ascii=False)) == []
    )
    assert leaks(demo_routing, ledger_dump()) == []  # refused before the outbox kept it
    assert channel_posts(demo_routing, "intake-triage")  # messages without the bug still go
    # The bug fixed, the next run notifies the partners once, without a second sheet row.
    monkeypatch.setattr(routing, "partner_item", original)
    again = run_routing(publish_report=False)
    assert again.counts["delivered"] >= len(refused) and not again.errors
    assert referrals_by_state()["claimed"] == 0
    _assert_exactly_once(demo_routing)


def test_the_demo_tables_show_what_staff_now_read(demo_routing) -> None:
    """Issue 17: `coalition demo`'s "what staff would now see" shows the messages' new wording."""
    import io

    from rich.console import Console

    from ops.demo import _print_workspace

    run_routing(publish_report=False)
    out = io.StringIO()
    _print_workspace(Console(file=out, width=250), demo_routing.sandbox)
    shown = out.getvalue()
    assert "latest message reads" in shown and "Urgent, waiting for staff" in shown
    assert "What the Intake sheet tells staff" in shown
    assert re.search(r"Waitlist +│ no partner offers asylum in Wake County", shown)
    assert leaks(demo_routing, shown) == []
