"""Weekly summary against the demo sandbox over HTTP: the Doc in its folder, the link in #leadership, the journal.

What a person would check: one document per week in "Weekly summaries", titled for the
week, reading as the figures of the seed data recounted here independently; one message
in #leadership, edited when a rerun changes the figures; no personal value anywhere;
a 429 in the middle of the write still leaves a whole document; a preview and a dry
run that write nothing.
"""

from __future__ import annotations

import re
from collections import defaultdict
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import delete, select

from coalition.ledger import open_ledger
from coalition.ledger.tables.intake import IntakeRecord, Referral
from coalition.ledger.tables.summary import SummaryDocument
from coalition.privacy import PIIError
from coalition.settings import ConfigError, reload_settings, settings
from coalition.summary.document import parse_markup
from coalition.summary.weeks import IsoWeek, last_complete_week
from flows.weekly_summary import weekly_summary
from sandbox.seed import demo_data, personal_values

pytestmark = pytest.mark.timeout(600)

DOC_MIME = "application/vnd.google-apps.document"
FOLDER_MIME = "application/vnd.google-apps.folder"


@pytest.fixture(autouse=True)
def quick_pacing(monkeypatch: pytest.MonkeyPatch) -> None:
    """Budgets pace at 50x real time (the sandbox's limiter is off unless a test turns it on)."""
    monkeypatch.setenv("COALITION_TIME_SCALE", "50")
    reload_settings()


# ---------------------------------------------------------------- what a person sees
class Workspace:
    def __init__(self, box: Any) -> None:
        self.box = box
        self.docs = box.services["docs"]
        self.drive = box.services["drive"]
        self.slack = box.services["slack"]
        self.airtable = box.services["airtable"]
        self.base = self.airtable.find_base(settings().services.airtable.base)
        self.tz = ZoneInfo(settings().services.timezone)
        self.week = last_complete_week(datetime.now(UTC), self.tz)

    def folders(self) -> list[dict]:
        name = settings().services.drive.summary_folder
        return [
            f
            for f in self.drive.list_files()
            if f["mimeType"] == FOLDER_MIME and f["name"] == name and not f["trashed"]
        ]

    def documents(self) -> list[dict]:
        """Every Google Doc in the summary folder."""
        (folder,) = self.folders()
        return [
            f
            for f in self.drive.list_files()
            if f["mimeType"] == DOC_MIME and folder["id"] in f["parents"] and not f["trashed"]
        ]

    def text(self, document_id: str) -> str:
        return self.docs.plain_text(document_id)

    def leadership(self) -> list[dict]:
        channel = self.slack.channel_by_name(settings().services.slack.channels.leadership)
        return self.slack.messages(channel["id"])

    def add_donation(self, **fields: Any) -> None:
        self.airtable.create_records(self.base, "Donations", [fields], typecast=True)

    def journal(self, service: str, since: int = 0) -> list[dict]:
        return self.box.journal(service, since)

    @property
    def seq(self) -> int:
        return self.box.sandbox.journal.last_seq


@pytest.fixture
def ws(demo: Any) -> Workspace:
    return Workspace(demo)


def batch_updates(ws: Workspace, since: int = 0) -> list[dict]:
    return [
        e
        for e in ws.journal("docs", since)
        if e["path"].endswith(":batchUpdate") and e["status"] == 200
    ]


def message_text(message: dict) -> str:
    import json

    return message.get("text", "") + json.dumps(message.get("blocks", []), ensure_ascii=False)


# ---------------------------------------------------------------- an independent recount of the seed
def _amount(text: str) -> Decimal:
    return Decimal(text.replace("$", "").replace(",", ""))


def recount(records: list[dict], week: IsoWeek) -> dict[str, Any]:
    """The week's figures straight from the seed's rows (dates are the org's calendar dates)."""
    first: dict[str, date] = {}
    for r in sorted(records, key=lambda r: r["Date"]):
        who = (r.get("Email") or r.get("Donor") or "").strip().lower()
        if who and _amount(str(r["Amount"])) > 0:
            first.setdefault(who, date.fromisoformat(r["Date"]))
    raised, gifts, refunds = Decimal(0), 0, 0
    donors: dict[str, bool] = {}
    campaigns: dict[str, Decimal] = defaultdict(Decimal)
    for r in records:
        day = date.fromisoformat(r["Date"])
        if not week.monday <= day <= week.sunday:
            continue
        amount = _amount(str(r["Amount"]))
        if amount < 0:
            refunds += 1
            continue
        raised += amount
        gifts += 1
        campaigns[r.get("Campaign") or "(no campaign)"] += amount
        who = (r.get("Email") or r.get("Donor") or "").strip().lower()
        if who:
            donors[who] = first[who] >= week.monday
    new = sum(donors.values())
    return {
        "raised": raised,
        "gifts": gifts,
        "refunds": refunds,
        "new": new,
        "returning": len(donors) - new,
        "campaigns": dict(campaigns),
    }


def _row(text: str, label: str) -> list[str]:
    """The cells after a table row's label in the emulator's text (one cell per line)."""
    lines = text.splitlines()
    for at, line in enumerate(lines[:-1]):
        if line == label and re.match(r"^[$\d—-]", lines[at + 1]):
            return lines[at + 1 : at + 4]
    raise AssertionError(f"no table row {label!r} in the document")


# ---------------------------------------------------------------- tests
def test_first_run_writes_the_weeks_document_in_the_folder_and_links_it(ws: Workspace) -> None:
    report = weekly_summary()
    (doc,) = ws.documents()
    assert doc["name"] == f"Weekly summary {ws.week.label} ({ws.week.range_label()})"
    text = ws.text(doc["id"])
    assert text.splitlines()[0] == doc["name"]
    for heading in ("At a glance", "Fundraising", "Intake and referrals", "Membership", "Advocacy", "Activities", "Data notes"):  # fmt: skip
        assert text.splitlines().count(heading) == 1
    assert len(batch_updates(ws)) == 1  # the whole document in one request
    (message,) = ws.leadership()
    assert doc["id"] in message_text(message) and doc["name"] in message_text(message)
    assert report.counts["document created"] == 1 and report.counts["docs batchUpdates"] == 1
    with open_ledger().session() as session:
        row = session.get(SummaryDocument, ws.week.label)
        assert row is not None and row.document_id == doc["id"] and row.slack_ts == message["ts"]


def test_figures_match_an_independent_recount_of_the_seed(ws: Workspace) -> None:
    report = weekly_summary()
    expected = recount(demo_data(ws.box.sandbox).records["donations"], ws.week)
    (doc,) = ws.documents()
    text = ws.text(doc["id"])
    assert _row(text, "Total raised")[0] == f"${expected['raised']:,.2f}"
    assert _row(text, "Gifts")[0] == f"{expected['gifts']:,}"
    assert _row(text, "New donors")[0] == f"{expected['new']:,}"
    assert _row(text, "Returning donors")[0] == f"{expected['returning']:,}"
    assert _row(text, "Refunds")[0] == f"{expected['refunds']:,}"
    for campaign, amount in expected["campaigns"].items():
        assert _row(text, campaign)[0] == f"${amount:,.2f}"
    assert report.counts["gifts this week"] == expected["gifts"]
    # The first run reads the donor history once; the next reads the five weeks only.
    assert report.counts["donor history rebuilt"] == 1
    seq = ws.seq
    again = weekly_summary()
    total = len(ws.airtable.records(ws.base, "Donations"))
    assert again.counts["donor history rebuilt"] == 0
    assert again.counts["donations read outside the five weeks"] == 0
    assert again.counts["donations read"] < total
    assert again.counts["donation pages read"] == again.counts["donation pages needed"]
    listings = [e for e in ws.journal("airtable", seq) if e["path"].endswith("/Donations")]
    assert listings and all("pageSize=100" in e["query"] for e in listings)


def test_a_rerun_rewrites_the_same_document_and_edits_the_message(ws: Workspace) -> None:
    weekly_summary()
    (doc,) = ws.documents()
    (first,) = ws.leadership()
    # Unchanged figures: the rerun reads, and writes nothing at all.
    before = ws.seq
    again = weekly_summary()
    assert ws.box.writes(before) == []
    assert again.counts["document unchanged"] == 1
    # A gift arrives for the week: same document rewritten, same message edited.
    ws.add_donation(
        Donor="Late Giver", Amount="$4,321.00", Date=str(ws.week.monday + timedelta(days=2))
    )
    before = ws.seq
    third = weekly_summary()
    assert [d["id"] for d in ws.documents()] == [doc["id"]]
    assert third.counts["document rewritten"] == 1 and len(batch_updates(ws, before)) == 1
    (message,) = ws.leadership()
    assert message["ts"] == first["ts"] and message_text(message) != message_text(first)
    assert [e["path"] for e in ws.journal("slack", before) if "chat." in e["path"]] == [
        "/api/chat.update"
    ]
    text = ws.text(doc["id"])
    assert text.count(doc["name"]) == 1 and "Late Giver" not in text


def test_the_document_is_found_in_the_folder_when_the_ledger_forgets_it(ws: Workspace) -> None:
    weekly_summary()
    (doc,) = ws.documents()
    with open_ledger().session() as session:
        session.execute(delete(SummaryDocument))
    weekly_summary()
    assert [d["id"] for d in ws.documents()] == [doc["id"]]
    assert len(ws.leadership()) == 1


def test_a_docs_429_in_the_middle_of_the_write_still_leaves_a_whole_document(
    ws: Workspace, tmp_path: Path
) -> None:
    ws.box.sandbox.faults.add(kind="429", service="docs", path=r":batchUpdate$", count=1)
    weekly_summary()
    (doc,) = ws.documents()
    refused = [
        e for e in ws.journal("docs") if e["path"].endswith(":batchUpdate") and e["status"] == 429
    ]
    assert len(refused) == 1 and len(batch_updates(ws)) == 1
    preview = tmp_path / "same.md"
    weekly_summary(out=str(preview))
    expected = parse_markup(preview.read_text(encoding="utf-8")).plain_text()
    # The two runs may straddle a minute; only the "generated at HH:MM" stamp may differ.
    stamp = re.compile(r"at \d\d:\d\d")
    assert stamp.sub("at HH:MM", ws.text(doc["id"])) == stamp.sub("at HH:MM", expected + "\n")


def test_a_docs_429_on_any_request_is_waited_out(ws: Workspace) -> None:
    ws.box.sandbox.faults.add(kind="429", service="docs", count=1)
    ws.box.sandbox.faults.add(kind="5xx", service="docs", path=r":batchUpdate$", count=1)
    weekly_summary()
    (doc,) = ws.documents()
    assert ws.text(doc["id"]).splitlines()[-1].strip() != ""
    assert len(ws.leadership()) == 1


def test_preview_renders_locally_without_any_google_or_slack_request(
    ws: Workspace, tmp_path: Path
) -> None:
    html, md = tmp_path / "week.html", tmp_path / "week.md"
    report = weekly_summary(out=str(html))
    weekly_summary(out=str(md))
    title = f"Weekly summary {ws.week.label} ({ws.week.range_label()})"
    page = html.read_text(encoding="utf-8")
    assert f"<title>{title}</title>" in page and "<table>" in page and "Data notes" in page
    assert md.read_text(encoding="utf-8").startswith(f"# Weekly summary {ws.week.label}")
    for service in ("docs", "drive", "slack"):
        assert ws.journal(service) == []
    assert ws.box.writes() == [] and report.dry_run
    with open_ledger().session() as session:
        assert session.scalars(select(SummaryDocument)).all() == []
    with pytest.raises(ConfigError, match=r"must end with \.html or \.md"):
        weekly_summary(out=str(tmp_path / "week.pdf"))


def test_dry_run_plans_and_sends_no_write(ws: Workspace) -> None:
    report = weekly_summary(dry_run=True)
    assert ws.box.writes() == []
    plan, board = report.plan
    assert board.startswith("Dashboard 'Coalition dashboard': would rewrite 8 of 8 tabs of figures")
    assert "tabs added 7" in board and "charts added 4" in board
    assert plan.startswith(
        f"Weekly summary {ws.week}: document would be created in folder 'Weekly summaries'"
    )
    assert plan.endswith("#leadership: message would be posted")
    assert (
        ws.leadership() == []
        and [
            f for f in ws.drive.list_files() if f["mimeType"] == DOC_MIME and "Weekly" in f["name"]
        ]
        == []
    )
    with open_ledger().session() as session:
        assert session.scalars(select(SummaryDocument)).all() == []
    weekly_summary()
    ws.add_donation(Donor="Another", Amount="10", Date=str(ws.week.monday))
    before = ws.seq
    plan, board = weekly_summary(dry_run=True).plan
    assert ws.box.writes(before) == []
    assert board == (
        "Dashboard 'Coalition dashboard': would rewrite 1 of 8 tabs of figures; "
        "no tab or chart to add or change"
    )
    assert "document would be rewritten (9 sections)" in plan and plan.endswith(
        "message would be edited"
    )


def test_no_personal_value_reaches_the_document_or_the_message(ws: Workspace) -> None:
    monday = ws.week.start(ws.tz)
    with open_ledger().session() as session:
        for n, category in enumerate(["protected", "asylum", "asylum", "protected", "removal defense", "asylum"] * 2):  # fmt: skip
            intake_id = f"INT-TEST-{n:03d}"
            session.add(
                IntakeRecord(
                    intake_id=intake_id,
                    status="referred",
                    category=category,
                    received_at=monday + timedelta(hours=10 + n),
                    routed_at=monday + timedelta(hours=20 + n),
                )
            )
            session.flush()
            session.add(
                Referral(
                    referral_id=f"R-TEST-{n:03d}",
                    intake_id=intake_id,
                    partner_id="recP",
                    state="accepted" if n % 2 else "notified",
                    decided_at=monday + timedelta(hours=30 + n),
                )
            )
    report = weekly_summary()
    (doc,) = ws.documents()
    text = ws.text(doc["id"]).lower()
    leaked = [v for v in personal_values(ws.box.sandbox) if v.lower() in text]
    assert leaked == []
    message = message_text(ws.leadership()[0]).lower()
    assert [v for v in personal_values(ws.box.sandbox) if v.lower() in message] == []
    assert "protected categories" in text and "vawa" not in text.replace("(vawa, u, t)", "")
    assert _row(ws.text(doc["id"]), "Received")[0] == "12"
    assert _row(ws.text(doc["id"]), "Accepted by a partner")[0] == "6"
    assert not any(v.lower() in report.markdown().lower() for v in personal_values(ws.box.sandbox))


def test_bad_records_are_counted_in_the_data_notes(ws: Workspace) -> None:
    day = str(ws.week.monday + timedelta(days=1))
    ws.add_donation(Donor="Ines Typo", Amount="1.200", Date=day)
    ws.add_donation(Donor="Omar Typo", Amount="fifty", Date=day)
    ws.add_donation(Donor="Lena Undated", Amount="40.00")
    ws.add_donation(Donor="Euro Style", Amount="1.200,50", Date=day)
    ws.add_donation(Donor="Rita Refund", Amount="-25.00", Date=day)
    ws.airtable.create_records(
        ws.base, "Activities", [{"Date": day, "Type": "Rally", "Attendees": -4}]
    )
    report = weekly_summary()
    (doc,) = ws.documents()
    text = ws.text(doc["id"])
    notes = text[text.index("Data notes") :]
    assert "1 Donations record has an ambiguous amount" in notes
    assert "1 Donations record has an amount that is not a number" in notes
    assert "1 Donations record has no date" in notes
    assert "1 Activities record has an attendance that is not a whole number" in notes
    assert "negative" in notes
    assert "Typo" not in text and "Euro Style" not in text
    assert {e.error for e in report.errors} >= {
        "amount ambiguous",
        "amount unreadable",
        "date missing",
    }


def test_an_empty_week_says_so(ws: Workspace) -> None:
    week = IsoWeek(2019, 10)
    report = weekly_summary(week=week.label)
    (doc,) = ws.documents()
    assert doc["name"] == "Weekly summary 2019-W10 (Mar 4 - Mar 10)"
    assert "Nothing was recorded for this week" in ws.text(doc["id"])
    assert report.counts["gifts this week"] == 0


def test_a_bad_week_is_refused_before_anything_is_read(ws: Workspace) -> None:
    with pytest.raises(ConfigError, match="2025 has 52 ISO weeks"):
        weekly_summary(week="2025-W53")
    future = last_complete_week(datetime.now(UTC), ws.tz).shift(3)
    with pytest.raises(ConfigError, match="has not begun"):
        weekly_summary(week=future.label)
    assert ws.box.journal() == []


def test_a_donor_name_planted_in_the_document_stops_the_write(ws: Workspace) -> None:
    """The privacy check reads the whole document: a campaign named after a donor never reaches Docs."""
    day = str(ws.week.monday + timedelta(days=1))
    ws.add_donation(Donor="Zora Planted", Email="zora@example.org", Amount="10", Date=day)
    ws.add_donation(
        Donor="Someone Else", Amount="10", Date=day, Campaign="In memory of Zora Planted"
    )
    with pytest.raises(PIIError):
        weekly_summary()
    assert ws.box.writes() == [] and ws.leadership() == []


def test_a_document_thrown_in_the_trash_is_replaced_not_written_to(ws: Workspace) -> None:
    weekly_summary()
    (old,) = ws.documents()
    ws.drive.update(old["id"], {"trashed": True})
    report = weekly_summary()
    (new,) = ws.documents()
    assert new["id"] != old["id"] and report.counts["document created"] == 1
    (message,) = ws.leadership()
    assert new["id"] in message_text(message)


def test_requests_stay_at_the_floor(ws: Workspace) -> None:
    for run in (weekly_summary(), weekly_summary()):  # the history read from scratch, then kept
        assert run.requests["airtable"] == run.counts["airtable requests needed"]
        assert run.counts["donation pages read"] == run.counts["donation pages needed"]
    assert run.requests["docs"] == run.counts["docs requests needed"] == 1


def test_the_folder_is_created_when_missing(ws: Workspace) -> None:
    for folder in ws.folders():
        ws.drive.delete_file(folder["id"])
    report = weekly_summary()
    (folder,) = ws.folders()
    (doc,) = ws.documents()
    assert report.counts["folder created"] == 1 and folder["id"] in doc["parents"]


def test_two_runs_creating_the_document_at_once_keep_one(
    ws: Workspace, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Another run made the week's document between this run's search and its create: the older stays."""
    import flows.weekly_summary as module
    from integrations import docs as google_docs

    (folder,) = ws.folders()
    title = f"Weekly summary {ws.week.label} ({ws.week.range_label()})"
    other = ws.drive.create(
        {
            "name": title,
            "mimeType": DOC_MIME,
            "parents": [folder["id"]],
            "properties": {module.WEEK_PROPERTY: ws.week.label},
        }
    )["id"]
    real = google_docs.find_documents
    calls = []

    def late_view(*args: Any) -> list:
        calls.append(1)
        return [] if len(calls) == 1 else real(*args)  # the first search misses the other run's doc

    monkeypatch.setattr(module.docs, "find_documents", late_view)
    weekly_summary()
    assert [d["id"] for d in ws.documents()] == [other]
    assert "Fundraising" in ws.text(other)


# ---------------------------------------------------------------- the donor history
def _new_donor_of_the_week(ws: Workspace) -> dict[str, Any]:
    """A seed gift of the week by a donor giving for the first time (the recount's reading)."""
    records = demo_data(ws.box.sandbox).records["donations"]
    first: dict[str, date] = {}
    for r in sorted(records, key=lambda r: r["Date"]):
        who = (r.get("Email") or r.get("Donor") or "").strip().lower()
        if who and _amount(str(r["Amount"])) > 0:
            first.setdefault(who, date.fromisoformat(r["Date"]))
    for r in records:
        who = (r.get("Email") or r.get("Donor") or "").strip().lower()
        if who and ws.week.contains(first[who]) and r["Date"] == first[who].isoformat():
            return r
    raise AssertionError("the seed has no new donor this week")


def _new_donors(ws: Workspace) -> int:
    (doc,) = ws.documents()
    return int(_row(ws.text(doc["id"]), "New donors")[0])


def test_a_gift_typed_in_late_for_an_old_date_makes_a_new_donor_returning(ws: Workspace) -> None:
    weekly_summary()
    before = _new_donors(ws)
    gift = _new_donor_of_the_week(ws)
    long_ago = (ws.week.monday - timedelta(days=200)).isoformat()
    ws.add_donation(
        Donor=gift.get("Donor", ""), Email=gift.get("Email", ""), Amount="25.00", Date=long_ago
    )
    report = weekly_summary()
    assert report.counts["donor history rebuilt"] == 0
    assert report.counts["donations read outside the five weeks"] == 1  # only the late gift
    assert _new_donors(ws) == before - 1


def test_an_earlier_date_corrected_later_is_read_again(ws: Workspace) -> None:
    """A gift moved from inside the history to an older day: the history takes the older day."""
    weekly_summary()
    before = _new_donors(ws)
    gift = _new_donor_of_the_week(ws)
    (record,) = [
        r
        for r in ws.airtable.records(ws.base, "Donations")
        if r["fields"].get("Email", "") == gift.get("Email", "")
        and r["fields"].get("Donor", "") == gift.get("Donor", "")
        and r["fields"]["Date"] == gift["Date"]
    ]
    moved = (ws.week.monday - timedelta(days=90)).isoformat()
    ws.airtable.update_record_fields(ws.base, "Donations", record["id"], {"Date": moved})
    ws.add_donation(
        Donor=gift.get("Donor", ""), Email=gift.get("Email", ""), Amount="30.00", Date=gift["Date"]
    )
    weekly_summary()
    assert _new_donors(ws) == before - 1  # the week's gift now follows the moved one


def test_the_history_is_read_from_scratch_when_due(ws: Workspace) -> None:
    import json

    from coalition.ledger.summary_history import HISTORY_KEY
    from coalition.ledger.tables.common import Watermark

    weekly_summary()
    days = settings().summary.rebuild_donor_history_days
    with open_ledger().session() as session:
        row = session.get(Watermark, HISTORY_KEY)
        assert row is not None
        saved = json.loads(row.value)
        built = datetime.fromisoformat(saved["built_at"]) - timedelta(days=days)
        row.value = json.dumps({**saved, "built_at": built.isoformat()})
    report = weekly_summary()
    assert report.counts["donor history rebuilt"] == 1


def test_a_damaged_history_watermark_is_rebuilt_not_trusted(ws: Workspace) -> None:
    from coalition.ledger.summary_history import HISTORY_KEY
    from coalition.ledger.tables.common import Watermark

    weekly_summary()
    text = ws.text(ws.documents()[0]["id"])
    with open_ledger().session() as session:
        row = session.get(Watermark, HISTORY_KEY)
        assert row is not None
        row.value = "{not json"
    report = weekly_summary()
    assert report.counts["donor history rebuilt"] == 1
    assert report.counts["document unchanged"] == 1 and ws.text(ws.documents()[0]["id"]) == text
