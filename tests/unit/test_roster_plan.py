"""The whole decision of a sync run, without a network: full and incremental passes converge and then write nothing."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from coalition.roster.directory import DirectoryPlan
from coalition.roster.models import Code, Contact, Member, RosterIndex
from coalition.roster.plan import (
    WATERMARK_OVERLAP,
    PlanOptions,
    Roster,
    SyncPlan,
    affected_records,
    choose_mode,
    decide,
    next_watermark,
)
from coalition.sheet_table import SheetTable, parse_a1

TODAY = date(2026, 6, 15)
NOW = datetime(2026, 6, 15, 12, tzinfo=UTC)
SECRET = "s"
COLUMNS = {
    "Member ID": "id",
    "Organization": "Name",
    "State": "State",
    "Membership status": "Membership status",
    "Primary contact": "primary_contact",
    "Data issues": "data_issues",
}
OPTIONS = PlanOptions(columns=COLUMNS, id_header="Member ID", contact_issues_writable=True)


# ---------------------------------------------------------------- a tiny sheet that applies plans
class FakeSheet:
    def __init__(self, header: list[str]) -> None:
        self.values: list[list] = [header]

    def table(self) -> SheetTable:
        return SheetTable.from_values("Directory", self.values, list(COLUMNS), "Member ID")

    def apply(self, plan: DirectoryPlan) -> None:
        for item in plan.value_ranges:
            where = parse_a1(item["range"])
            row = self.values[where.first_row - 1]
            for offset, value in enumerate(item["values"][0]):
                col = where.first_col + offset
                row.extend([""] * (col + 1 - len(row)))
                row[col] = value
        for number in sorted(plan.delete_rows, reverse=True):
            del self.values[number - 1]
        self.values.extend(list(r) for r in plan.appends)

    def column(self, header: str) -> list:
        col = self.values[0].index(header)
        return [r[col] if col < len(r) else "" for r in self.values[1:]]


def members() -> dict[str, Member]:
    people = [
        Member(id="recA", name="Casa Esperanza", state="MA", status="Active", dues_paid_through=date(2026, 12, 31), last_verified=date(2026, 1, 1)),
        Member(id="recB", name="Centro Legal", state="TX", status="Active", dues_paid_through=date(2026, 1, 31), last_verified=date(2026, 1, 1)),
        Member(id="recC", name="Faith Coalition", state="IL", status="Active", dues_paid_through=date(2026, 12, 31), last_verified=date(2026, 1, 1)),
    ]  # fmt: skip
    return {m.id: m for m in people}


def contacts() -> dict[str, Contact]:
    people = [
        Contact(id="recP1", name="Ana Ruiz", email="ana@example.org", member_ids=["recA"], role="Primary"),
        Contact(id="recP2", name="Bo Chen", email="bo@example.org", member_ids=["recB"], role="Primary"),
        Contact(id="recP3", name="Cy Diaz", email="cy@example.org", member_ids=["recC"]),
        Contact(id="recP4", name="Di Park", email="di@example.org", member_ids=["recC"]),
    ]  # fmt: skip
    return {c.id: c for c in people}


def apply_airtable(plan: SyncPlan, ms: dict[str, Member], cs: dict[str, Contact]) -> None:
    for update in plan.member_issues:
        ms[update["id"]].data_issues = update["fields"]["Data issues"]
    for update in plan.contact_issues:
        cs[update["id"]].data_issues = update["fields"]["Data issues"]


def full_run(
    sheet: FakeSheet, ms: dict, cs: dict, index: RosterIndex, partners: dict | None = None
) -> SyncPlan:
    plan = decide(
        Roster(True, ms, cs), index, sheet.table(), partners or {}, TODAY, SECRET, OPTIONS
    )
    sheet.apply(plan.directory)
    apply_airtable(plan, ms, cs)
    return plan


def nothing_to_write(plan: SyncPlan) -> bool:
    return (
        plan.directory.empty
        and not plan.member_issues
        and not plan.contact_issues
        and plan.partners.count == 0
        and plan.digest.empty
    )


# ---------------------------------------------------------------- mode
def test_choose_mode() -> None:
    day = timedelta(hours=24)
    assert choose_mode(None, None, None, NOW, 24).reason == "first run"
    assert choose_mode(True, NOW, NOW, NOW, 24).full
    assert choose_mode(None, NOW, NOW - day, NOW, 24).full
    inc = choose_mode(None, NOW, NOW - timedelta(hours=1), NOW, 24)
    assert not inc.full and inc.since == NOW  # the watermark as saved: no margin added
    assert not choose_mode(False, NOW, NOW - 2 * day, NOW, 24).full
    assert choose_mode(False, None, None, NOW, 24).full  # nothing to be incremental from


def test_the_next_watermark_is_airtable_s_time_or_our_start_less_the_skew_margin() -> None:
    airtable_now = NOW - timedelta(minutes=7)  # Airtable's clock, however far off ours
    assert next_watermark(airtable_now, NOW) == airtable_now
    assert next_watermark(None, NOW) == NOW - WATERMARK_OVERLAP


# ---------------------------------------------------------------- full passes
def test_first_full_run_fills_sheet_and_second_writes_nothing() -> None:
    sheet = FakeSheet(["Staff notes", *COLUMNS])
    ms, cs = members(), contacts()
    first = full_run(sheet, ms, cs, RosterIndex())
    assert len(first.directory.appends) == 3
    assert sorted(first.digest.new_members) == ["Casa Esperanza", "Centro Legal", "Faith Coalition"]
    assert first.digest.lapsed == ["Centro Legal"]
    assert first.digest.new_issues == ["Faith Coalition"]  # two contacts, none primary
    assert {u["id"] for u in first.member_issues} == {"recB", "recC"}
    assert sheet.column("Primary contact") == ["Ana Ruiz", "Centro Legal" and "Bo Chen", ""]
    second = full_run(sheet, members_with(ms), cs, first.index)
    assert nothing_to_write(second)


def members_with(ms: dict[str, Member]) -> dict[str, Member]:
    """The same records as Airtable would return them again (Data issues as last written)."""
    return {k: Member(**{**vars(v), "problems": list(v.problems)}) for k, v in ms.items()}


def test_staff_sort_and_notes_survive_and_nothing_is_rewritten() -> None:
    sheet = FakeSheet(["Staff notes", *COLUMNS])
    ms, cs = members(), contacts()
    first = full_run(sheet, ms, cs, RosterIndex())
    for r in sheet.values[1:]:
        r[0] = f"note for {r[1]}"
    sheet.values[1:] = sorted(sheet.values[1:], key=lambda r: r[3], reverse=True)
    assert sheet.column("Member ID") == ["recB", "recA", "recC"]
    ms["recA"].state = "NH"
    second = full_run(sheet, ms, cs, first.index)
    assert second.directory.value_ranges == [{"range": "Directory!D3", "values": [["NH"]]}]
    by_id = {r[1]: r for r in sheet.values[1:]}
    assert by_id["recA"][0] == "note for recA" and by_id["recA"][3] == "NH"
    assert all(r[0] == f"note for {r[1]}" for r in sheet.values[1:])


def test_deleted_member_removed_and_reported() -> None:
    sheet = FakeSheet(["Staff notes", *COLUMNS])
    ms, cs = members(), contacts()
    first = full_run(sheet, ms, cs, RosterIndex())
    del ms["recB"]
    del cs["recP2"]
    second = full_run(sheet, ms, cs, first.index)
    assert second.digest.removed_members == ["Centro Legal"]
    assert second.removed_ids == {"recB"}
    assert sheet.column("Member ID") == ["recA", "recC"]
    assert second.index.members["recB"].removed
    assert "recP2" not in second.index.contacts


def test_index_holds_no_contact_details() -> None:
    sheet = FakeSheet(["Staff notes", *COLUMNS])
    first = full_run(sheet, members(), contacts(), RosterIndex())
    dumped = repr(first.index)
    for secret in ("Ana Ruiz", "ana@example.org", "Bo Chen"):
        assert secret not in dumped


# ---------------------------------------------------------------- incremental passes
def test_incremental_contact_change_affects_both_orgs() -> None:
    sheet = FakeSheet(["Staff notes", *COLUMNS])
    ms, cs = members(), contacts()
    first = full_run(sheet, ms, cs, RosterIndex())
    moved = Contact(id="recP4", name="Di Park", email="di@example.org", member_ids=["recA"])
    found = affected_records(
        {}, {"recP4": moved}, first.index, sheet.table(), list(COLUMNS), TODAY, SECRET
    )
    assert found.members == {"recA", "recC"}
    assert found.contacts == {"recP1", "recP3", "recP4"}


def test_incremental_email_duplicate_reaches_the_other_contact() -> None:
    sheet = FakeSheet(["Staff notes", *COLUMNS])
    ms, cs = members(), contacts()
    first = full_run(sheet, ms, cs, RosterIndex())
    clash = Contact(id="recP3", name="Cy Diaz", email="ANA@example.org", member_ids=["recC"])
    found = affected_records(
        {}, {"recP3": clash}, first.index, sheet.table(), list(COLUMNS), TODAY, SECRET
    )
    assert "recP1" in found.contacts and "recA" in found.members


def test_incremental_nothing_changed_affects_nothing() -> None:
    sheet = FakeSheet(["Staff notes", *COLUMNS])
    first = full_run(sheet, members(), contacts(), RosterIndex())
    found = affected_records({}, {}, first.index, sheet.table(), list(COLUMNS), TODAY, SECRET)
    assert found.members == set() and found.contacts == set()


def test_incremental_notices_time_and_staff_edits() -> None:
    sheet = FakeSheet(["Staff notes", *COLUMNS])
    first = full_run(sheet, members(), contacts(), RosterIndex())
    later = date(2027, 1, 1)  # Casa's and Faith's dues lapse, verification is still fresh
    found = affected_records({}, {}, first.index, sheet.table(), list(COLUMNS), later, SECRET)
    assert found.members == {"recA", "recC"}
    assert sheet.column("Member ID") == ["recA", "recB", "recC"]
    sheet.values[1][2] = "Typo'd by a person"  # recA's Organization cell
    del sheet.values[3]  # recC's row
    found = affected_records({}, {}, first.index, sheet.table(), list(COLUMNS), TODAY, SECRET)
    assert found.members == {"recA", "recC"}


def test_incremental_run_converges_like_a_full_one() -> None:
    sheet = FakeSheet(["Staff notes", *COLUMNS])
    ms, cs = members(), contacts()
    first = full_run(sheet, ms, cs, RosterIndex())
    cs["recP3"].role = "Primary contact"  # Faith now has a primary contact
    found = affected_records(
        {}, {"recP3": cs["recP3"]}, first.index, sheet.table(), list(COLUMNS), TODAY, SECRET
    )
    roster = Roster(False, {k: ms[k] for k in found.members}, {k: cs[k] for k in found.contacts})
    plan = decide(roster, first.index, sheet.table(), {}, TODAY, SECRET, OPTIONS)
    assert [u["id"] for u in plan.member_issues] == ["recC"]
    assert plan.member_issues[0]["fields"]["Data issues"] == ""
    sheet.apply(plan.directory)
    apply_airtable(plan, ms, cs)
    assert sheet.column("Primary contact")[sheet.column("Member ID").index("recC")] == "Cy Diaz"
    assert plan.digest.empty  # an issue went away: nothing to announce
    again = full_run(sheet, members_with(ms), cs, plan.index)
    assert nothing_to_write(again)


def test_incremental_deleted_record_found_by_id() -> None:
    sheet = FakeSheet(["Staff notes", *COLUMNS])
    ms, cs = members(), contacts()
    first = full_run(sheet, ms, cs, RosterIndex())
    roster = Roster(False, {}, {}, deleted_members={"recB"}, deleted_contacts={"recP2"})
    plan = decide(roster, first.index, sheet.table(), {}, TODAY, SECRET, OPTIONS)
    assert plan.directory.delete_rows == [sheet.column("Member ID").index("recB") + 2]
    assert plan.digest.removed_members == ["Centro Legal"]


def test_new_issue_codes_reach_digest_without_contact_details() -> None:
    sheet = FakeSheet(["Staff notes", *COLUMNS])
    ms, cs = members(), contacts()
    first = full_run(sheet, ms, cs, RosterIndex())
    cs["recP1"].email = "bo@example.org"  # now clashes with Bo Chen
    second = full_run(sheet, members_with(ms), cs, first.index)
    assert second.digest.new_issue_records == 2
    assert second.digest.new_issues == ["Casa Esperanza", "Centro Legal"]
    text = repr(second.digest)
    assert "Ana" not in text and "bo@example.org" not in text
    assert Code.DUPLICATE_CONTACT in second.index.contacts["recP1"].finding_keys[0]


def test_unnamed_member_is_listed_and_flagged() -> None:
    sheet = FakeSheet(["Staff notes", *COLUMNS])
    ms = members()
    ms["recD"] = Member(id="recD", name="", status="Active")
    plan = full_run(sheet, ms, contacts(), RosterIndex())
    assert "an unnamed member (recD)" in plan.digest.new_members
    assert "No organization name" in plan.assessment.member_text["recD"]


def test_an_incremental_report_counts_what_changed_not_what_was_read_again() -> None:
    """Issue 17: one member and one contact added; the overlap re-read the other 120 records."""
    from types import SimpleNamespace

    from coalition.roster.models import ContactIndex, MemberIndex
    from coalition.roster.report import RosterReport, changed_records

    before = RosterIndex(
        {f"recM{i}": MemberIndex(f"recM{i}", f"Member {i}") for i in range(40)},
        {f"recC{i}": ContactIndex(f"recC{i}", (f"recM{i % 40}",)) for i in range(80)},
    )
    after = RosterIndex(
        {**before.members, "recNEW": MemberIndex("recNEW", "Nueva Esperanza")},
        {**before.contacts, "recCNEW": ContactIndex("recCNEW", ("recNEW",))},
    )
    listed = (list(after.members), list(after.contacts))  # all listed as modified (the overlap)
    plan = SimpleNamespace(index=after, partners=SimpleNamespace(upserts=[]))
    members, contacts = changed_records(*listed, plan, before)  # type: ignore[arg-type]
    assert (members, contacts) == ({"recNEW"}, {"recCNEW"})
    report = RosterReport(
        mode="incremental", reason="changes since the last run", dry_run=False,
        members_read=41, contacts_read=81, members_changed=1, contacts_changed=1,
        reread_unchanged=120,
    )  # fmt: skip
    assert report.summary_lines()[1] == (
        "read 41 members, 81 contacts; changed since the last run: 1 member, 1 contact"
        " (120 read again, unchanged)"
    )
    # A partner entry that changes (capacity, say) makes its member "changed" too.
    plan.partners.upserts = [SimpleNamespace(member_id="recM3")]
    assert changed_records(*listed, plan, before)[0] == {"recNEW", "recM3"}  # type: ignore[arg-type]
