"""Partner sheets as partners have them, through the real intake-routing flow against the sandbox.

Every partner's referral sheet is replaced by one shaped a given way (a `Referrals`
tab, `Sheet1` with a partial header and a staff column, `Sheet1` empty, `Sheet1`
holding other data) and referenced a given way (browser link, link with `#gid`, id,
title). Every case still reaches its partner, under the right header, and nothing
else in the partner's sheet changes. Then: a partner added on day 2 whose sheet is
broken, fixed later, receives its waiting cases.
"""

from __future__ import annotations

import pytest
from intake_helpers import member_id, seed_partner_directory
from sqlalchemy import select, update
from test_intake_routing import channel_posts, intake_records, referrals_by_state

from coalition.intake.explain import explain
from coalition.intake.sheet_rows import REFERRAL_COLUMNS
from coalition.ledger import open_ledger
from coalition.ledger.tables.intake import IntakeRecord, Referral
from coalition.ledger.tables.roster import Partner
from coalition.settings import reload_settings, settings
from flows.intake_routing import run_routing
from integrations.slack import forget_channels
from sandbox.seed import roster

OTHER_DATA = [["Client", "Hours"], ["ACME tenants", "3"]]
STAFF_NOTES = [["Our notes"], ["call the board Monday"]]

SHAPES = {
    "referrals": {"Notes": STAFF_NOTES, "Referrals": [list(REFERRAL_COLUMNS)]},
    # Staff's own column first and only part of the header: the rest is added at the right.
    "sheet1_header": {"Sheet1": [["Our column", *REFERRAL_COLUMNS[:5]]]},
    "sheet1_empty": {"Sheet1": []},
    "sheet1_other": {"Sheet1": OTHER_DATA},
}


def reference(form: str, spreadsheet_id: str, gid: int, title: str) -> str:
    url = f"https://docs.google.com/spreadsheets/d/{spreadsheet_id}/edit?usp=sharing"
    return {
        "url": url,
        "url_gid": f"https://docs.google.com/spreadsheets/u/0/d/{spreadsheet_id}/edit#gid={gid}",
        "id": spreadsheet_id,
        "title": title,
    }[form]


def reshape_partner_sheets(handle, shape: str, form: str) -> dict[str, str]:
    """A new sheet of this shape for every partner, referenced this way; partner id -> sheet id."""
    sheets = handle.services["sheets"]
    made: dict[str, str] = {}
    with open_ledger().session() as session:
        for partner in session.scalars(select(Partner)):
            title = f"Casos de {partner.name}"
            sid = sheets.create_spreadsheet(
                title, {k: [list(r) for r in v] for k, v in SHAPES[shape].items()}
            )
            first = sheets.spreadsheets[sid].sheets[0].sheet_id
            partner.referral_sheet = reference(form, sid, first, title)
            made[partner.member_id] = sid
    return made


def tab_values(handle, spreadsheet_id: str) -> dict[str, list[list[str]]]:
    sheets = handle.services["sheets"]
    tabs = [s.title for s in sheets.spreadsheets[spreadsheet_id].sheets]
    return {t: sheets.get_values(spreadsheet_id, t) for t in tabs}


@pytest.fixture
def routing_demo(demo, monkeypatch):
    monkeypatch.setenv("COALITION_TIME_SCALE", "50")
    reload_settings()
    forget_channels()
    demo.partners = seed_partner_directory(demo)
    return demo


# (reference form, sheet shape, the tab that must take the referrals)
CASES = [
    ("url", "referrals", "Referrals"),
    ("url_gid", "sheet1_header", "Sheet1"),
    ("id", "sheet1_header", "Sheet1"),
    ("title", "sheet1_empty", "Referrals"),  # a new tab: nothing says to use the empty Sheet1
    ("url_gid", "sheet1_empty", "Sheet1"),  # the link names the empty tab: it gets the header
    ("id", "sheet1_other", "Referrals"),
    ("url_gid", "sheet1_other", "Referrals"),  # the link names a tab of other data: never written
    ("title", "referrals", "Referrals"),
]


@pytest.mark.parametrize(("form", "shape", "target"), CASES)
def test_partner_sheets_each_way_get_their_cases(routing_demo, form, shape, target) -> None:
    made = reshape_partner_sheets(routing_demo, shape, form)
    report = run_routing(publish_report=False)

    assert report.counts.get("partner sheet errors", 0) == 0, report.errors
    assert referrals_by_state().get("failed", 0) == 0
    assert report.counts["delivered"] > 20
    assert not [r for r in intake_records(routing_demo) if r["Status"] == "Routing"]
    delivered = 0
    added = 0
    for sid in made.values():
        tabs = tab_values(routing_demo, sid)
        rows = tabs.get(target, [])
        if len(rows) <= 1:
            continue  # this partner got no case
        head = rows[0]
        # Referral columns all present; staff's own column stays where it was.
        assert set(REFERRAL_COLUMNS) <= set(head)
        if shape == "sheet1_header":
            assert head[0] == "Our column" and head[1 : 1 + 5] == list(REFERRAL_COLUMNS[:5])
            assert all(r[0] == "" for r in rows[1:])  # the partner's column left blank
        col = head.index("Referral ID")
        assert all(r[col].startswith("REF-") for r in rows[1:]), rows[1:3]
        status = head.index("Partner status")
        assert all(len(r) > status and r[status] == "New" for r in rows[1:])
        delivered += len(rows) - 1
        # Nothing else in the partner's sheet changed.
        if shape == "sheet1_other":
            assert tabs["Sheet1"] == OTHER_DATA
        if shape == "referrals":
            assert tabs["Notes"] == STAFF_NOTES
        added += target not in SHAPES[shape]
    assert delivered == report.counts["delivered"]
    # A tab the bot added is told once to staff: in #ops-alerts and in the run report.
    ops = channel_posts(routing_demo, "ops-alerts")
    assert len([m for m in ops if "Referral tab added" in m["text"]]) == added
    assert len([n for n in report.notes if "added tab" in n]) == added
    # A second run adds nothing and sends nothing twice.
    again = run_routing(publish_report=False)
    assert "delivered" not in again.counts and not again.notes
    assert len(channel_posts(routing_demo, "ops-alerts")) == len(ops)


# ---------------------------------------------------------------- a partner added on day 2, broken, then fixed
def test_a_partner_added_broken_then_fixed_gets_its_waiting_cases(demo, monkeypatch) -> None:
    monkeypatch.setenv("COALITION_TIME_SCALE", "50")
    reload_settings()
    forget_channels()
    rows = seed_partner_directory(demo)
    chosen = max(
        roster.LEGAL_AID_MEMBERS,
        key=lambda s: (s.status == "Active" and s.accepting, len(s.counties), s.capacity or 0),
    )
    pid = member_id(chosen)
    real_sheet = rows[pid]["referral_sheet"]
    with open_ledger().session() as session:
        session.execute(update(Partner).values(active=False))

    # Day 1: no active partner; no case goes anywhere (an empty directory never says "no
    # partner": the verdicts are held until a partner appears).
    day1 = run_routing(publish_report=False)
    assert "referred" not in set(_statuses().values())
    assert any("held, not waitlisted" in note for note in day1.notes)

    # Day 2: the partner is added, its Referral sheet pasted as a link to a sheet that is gone.
    missing = "1" + "Z" * 43
    with open_ledger().session() as session:
        session.execute(
            update(Partner)
            .where(Partner.member_id == pid)
            .values(
                active=True,
                referral_sheet=f"https://docs.google.com/spreadsheets/d/{missing}/edit#gid=0",
            )
        )
    first = run_routing(publish_report=False)
    failed = _failed_for(pid)
    assert failed, first.errors
    assert first.counts.get("delivered", 0) == 0
    ops = channel_posts(demo, "ops-alerts")
    assert len(ops) == 1 and chosen.name in ops[0]["text"] and "not found" in ops[0]["text"]
    shown = {r["Intake ID"]: r for r in intake_records(demo)}
    assert all(shown[i]["Status"] != "Referred" for i in failed)

    # The next run: the partner is not "tried", its sheet still fails: the cases wait for it.
    second = run_routing(publish_report=False)
    assert second.counts.get("delivered", 0) == 0 and not _failed_for(pid) - failed
    why = _why(sorted(failed)[0])
    assert "already had this case" not in why and "referral sheet cannot take cases" in why
    assert len(channel_posts(demo, "ops-alerts")) == 1  # same cause, same day: one alert

    # Staff point it at a sheet whose Referrals tab holds other data: a new cause, a new alert.
    sheets = demo.services["sheets"]
    other = sheets.create_spreadsheet("Casa books", {"Referrals": OTHER_DATA})
    _set_sheet(pid, other)
    run_routing(publish_report=False)
    ops = channel_posts(demo, "ops-alerts")
    assert len(ops) == 2 and "holds other data" in ops[1]["text"]
    assert sheets.get_values(other, "Referrals") == OTHER_DATA

    # Fixed: the real sheet, by its link. The waiting cases go to the partner on the next run.
    _set_sheet(pid, f"https://docs.google.com/spreadsheets/d/{real_sheet}/edit?usp=sharing")
    fixed = run_routing(publish_report=False)
    assert fixed.counts.get("delivered", 0) >= len(failed)
    written = sheets.get_values(real_sheet, "Referrals")
    got = {r[1] for r in written[1:]}
    assert set(failed) <= got
    statuses = _statuses()
    assert all(statuses[i] == "referred" for i in failed)


def _why(intake_id: str) -> str:
    """What `/coalition why` answers for this intake."""
    with open_ledger().session() as session:
        record = session.get(IntakeRecord, intake_id)
        return explain(intake_id, record.status, record.reason, record.evaluation, {}).text()


def _statuses() -> dict[str, str]:
    with open_ledger().session() as session:
        return {r.intake_id: r.status for r in session.scalars(select(IntakeRecord))}


def _failed_for(partner_id: str) -> set[str]:
    with open_ledger().session() as session:
        return {
            r.intake_id
            for r in session.scalars(
                select(Referral).where(
                    Referral.partner_id == partner_id, Referral.state == "failed"
                )
            )
        }


def _set_sheet(partner_id: str, reference_text: str) -> None:
    with open_ledger().session() as session:
        session.execute(
            update(Partner)
            .where(Partner.member_id == partner_id)
            .values(referral_sheet=reference_text)
        )


# ---------------------------------------------------------------- roster sync checks each partner's sheet
def test_roster_sync_records_each_partner_sheet_problem_and_clears_it(demo, monkeypatch) -> None:
    from flows.roster_sync import roster_sync

    monkeypatch.setenv("COALITION_TIME_SCALE", "50")
    reload_settings()
    airtable, sheets = demo.services["airtable"], demo.services["sheets"]
    base = airtable.find_base(settings().services.airtable.base)
    legal = [
        r
        for r in airtable.records(base, "Members")
        if r["fields"].get("Referral sheet") and r["fields"].get("Membership status") == "Active"
    ]
    bad, books, unshared, linked = legal[:4]
    other = sheets.create_spreadsheet("Their books", {"Referrals": OTHER_DATA})
    url = f"https://docs.google.com/spreadsheets/d/{linked['fields']['Referral sheet']}/edit#gid=0"
    edits = {
        bad["id"]: "TBD",
        books["id"]: other,
        unshared["id"]: "https://docs.google.com/spreadsheets/d/1" + "Q" * 43 + "/edit",
        linked["id"]: url,
    }
    for record_id, value in edits.items():
        airtable.update_record_fields(base, "Members", record_id, {"Referral sheet": value})
    roster_sync(dry_run=False)

    issues = {
        r["id"]: r["fields"].get("Data issues", "") for r in airtable.records(base, "Members")
    }
    assert "Referral sheet not understood" in issues[bad["id"]]
    assert "the named tab holds other data" in issues[books["id"]]
    assert "was not found" in issues[unshared["id"]]
    assert "Referral sheet" not in issues[linked["id"]]  # a link is as good as an id
    with open_ledger().session() as session:
        stored = session.get(Partner, linked["id"])
        assert stored.referral_sheet == f"{linked['fields']['Referral sheet']}#gid=0"
    assert sheets.get_values(other, "Referrals") == OTHER_DATA  # looked at, never written

    # Staff rename the tab that held other data: the next (incremental) run clears the issue.
    _rename_tab(sheets, other, "Referrals", "Books")
    roster_sync(dry_run=False)
    after = {r["id"]: r["fields"].get("Data issues", "") for r in airtable.records(base, "Members")}
    assert "Referral sheet" not in after[books["id"]]
    assert "was not found" in after[unshared["id"]]


def _rename_tab(sheets, spreadsheet_id: str, old: str, new: str) -> None:
    tab = next(s for s in sheets.spreadsheets[spreadsheet_id].sheets if s.title == old)
    tab.title = new
