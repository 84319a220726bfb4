"""`coalition setup airtable` and `coalition setup sheets` against the sandbox: create, then find everything in place."""

from __future__ import annotations

import io
import shutil
from pathlib import Path
from typing import Any

import pytest
import yaml
from rich.console import Console

from coalition.intake.fields import BOT_COLUMNS
from coalition.intake.sheet_rows import REFERRAL_COLUMNS
from coalition.settings import PROJECT_ROOT, ConfigError, reload_settings, settings
from coalition.setup_plan import AIRTABLE_DESIGN, INTAKE_FORM_COLUMNS
from ops.setup_tasks import setup_airtable, setup_sheets

STAFF = ["intake.lead@coalition.example", "ops.admin@coalition.example"]


def quiet() -> tuple[Console, io.StringIO]:
    out = io.StringIO()
    return Console(file=out, width=240, highlight=False), out


@pytest.fixture
def config_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The project's config with two staff to share sheets with."""
    folder = tmp_path / "config"
    shutil.copytree(PROJECT_ROOT / "config", folder)
    services = yaml.safe_load((folder / "services.yaml").read_text(encoding="utf-8"))
    services["sheets"]["share_with"] = STAFF
    (folder / "services.yaml").write_text(yaml.safe_dump(services), encoding="utf-8")
    monkeypatch.setenv("COALITION_CONFIG_DIR", str(folder))
    reload_settings()
    return folder


@pytest.fixture
def bare_base(sandbox: Any, config_dir: Path) -> str:
    """An existing, empty Airtable base named as config says."""
    return sandbox.services["airtable"].create_base(settings().services.airtable.base)


def schema(sandbox: Any, base_id: str) -> dict[str, dict[str, str]]:
    base = sandbox.services["airtable"].bases[base_id]
    return {t.name: {f.name: f.type for f in t.fields.values()} for t in base.tables.values()}


# ---------------------------------------------------------------- Airtable
def test_dry_run_on_a_bare_base_plans_every_table_and_writes_nothing(
    sandbox: Any, bare_base: str
) -> None:
    console, out = quiet()
    plan = setup_airtable(dry_run=True, console=console)
    assert [s.action for s in plan.steps] == ["create table"] * len(AIRTABLE_DESIGN)
    assert "would create table 'Members'" in out.getvalue()
    assert "Dry run: nothing changed." in out.getvalue()
    assert sandbox.writes() == []
    assert schema(sandbox, bare_base) == {}


def test_setup_creates_every_table_and_field_then_finds_them_in_place(
    sandbox: Any, bare_base: str
) -> None:
    setup_airtable(console=quiet()[0])
    tables = schema(sandbox, bare_base)
    names = settings().services.airtable.tables
    for key, specs in AIRTABLE_DESIGN.items():
        # Airtable adds the other side of each link (Members gets Contacts, Activities) itself.
        assert {s.name: s.type for s in specs}.items() <= tables[getattr(names, key)].items()
    contacts = next(
        t for t in sandbox.services["airtable"].bases[bare_base].tables.values()
        if t.name == names.contacts
    )  # fmt: skip
    organization = contacts.fields[contacts.by_name["Organization"]]
    members_id = next(
        t.id for t in sandbox.services["airtable"].bases[bare_base].tables.values()
        if t.name == names.members
    )  # fmt: skip
    assert organization.options["linkedTableId"] == members_id

    since = sandbox.sandbox.journal.last_seq
    console, out = quiet()
    again = setup_airtable(console=console)
    assert again.changes == []
    assert sandbox.writes(since=since) == []
    assert "every table and field is there" in out.getvalue()


def test_missing_fields_are_added_and_other_types_only_reported(
    sandbox: Any, bare_base: str
) -> None:
    airtable = sandbox.services["airtable"]
    airtable.create_table(
        bare_base,
        "Members",
        [
            {"name": "Name", "type": "singleLineText"},
            {"name": "Weekly capacity", "type": "checkbox"},
        ],
    )
    console, out = quiet()
    plan = setup_airtable(console=console)
    members = schema(sandbox, bare_base)["Members"]
    assert members["Weekly capacity"] == "checkbox"  # staff data is never retyped
    assert members["Services"] == "multipleSelects"
    assert "field 'Weekly capacity' of 'Members' is checkbox, the design says number" in (
        out.getvalue()
    )
    assert {s.action for s in plan.steps} == {"add field", "differs", "create table"}


def test_the_demo_base_already_matches_the_design(demo: Any) -> None:
    """The sandbox's demo base and the design agree on every table, field and type.

    The one addition is Contacts' optional Data issues field, which the demo leaves
    out and which the roster sync fills when a base has it.
    """
    plan = setup_airtable(dry_run=True, console=quiet()[0])
    assert [s.describe() for s in plan.steps] == [
        "add field 'Data issues' (multilineText) to 'Contacts'"
    ]


def test_a_base_that_does_not_exist_is_a_clear_error(sandbox: Any, config_dir: Path) -> None:
    with pytest.raises(ConfigError, match="Create the base in Airtable first"):
        setup_airtable(console=quiet()[0])


# ---------------------------------------------------------------- Sheets
def _partners(sandbox: Any, base_id: str) -> None:
    """Two legal-aid partners (one with a primary contact) and a community group."""
    from integrations.clients import airtable_api

    setup_airtable(console=quiet()[0])
    base = airtable_api().base(base_id)
    members = base.table("Members")
    legal = members.create({"Name": "Casa Legal", "Services": ["asylum"]})
    members.create({"Name": "Justice Now", "Services": ["DACA", "TPS"]})
    members.create({"Name": "Faith Circle", "Services": ["know your rights"]})
    members.create({"Name": "Gone Away", "Services": ["asylum"], "Membership status": "Inactive"})
    base.table("Contacts").create(
        {"Name": "Partner Lead", "Email": "lead@casalegal.example", "Organization": [legal["id"]],
         "Primary contact": True}
    )  # fmt: skip


def _drive_files(sandbox: Any) -> dict[str, Any]:
    return {f.name: f for f in sandbox.services["drive"].files.values() if not f.trashed}


def _header(sandbox: Any, file_id: str, tab: str) -> list[str]:
    from integrations.clients import sheets_client

    return sheets_client().open_by_key(file_id).worksheet(tab).row_values(1)


def _writers(sandbox: Any, file_id: str) -> set[str]:
    permissions = sandbox.services["drive"].files[file_id].permissions
    return {p.get("emailAddress") for p in permissions if p["role"] == "writer"}


def test_setup_sheets_creates_headers_shares_and_records_the_partner_sheets(
    sandbox: Any, bare_base: str
) -> None:
    _partners(sandbox, bare_base)
    cfg = settings()
    since = sandbox.sandbox.journal.last_seq
    console, out = quiet()
    setup_sheets(dry_run=True, console=console)
    assert sandbox.writes(since=since) == [], "a dry run writes nothing"
    assert "would create it" in out.getvalue()
    assert "Faith Circle" not in out.getvalue() and "Gone Away" not in out.getvalue()

    console, out = quiet()
    outcomes = setup_sheets(console=console)
    assert all(o.problem is None for o in outcomes), out.getvalue()
    files = _drive_files(sandbox)
    intake = files[cfg.services.sheets.intake]
    assert _header(sandbox, intake.id, cfg.services.sheets.intake_tab) == [
        *INTAKE_FORM_COLUMNS,
        *BOT_COLUMNS.values(),
    ]
    directory = files[cfg.services.sheets.member_directory]
    assert _header(sandbox, directory.id, cfg.services.sheets.member_directory_tab) == list(
        cfg.roster.directory_columns
    )
    folder = files[cfg.services.drive.referral_folder]
    casa = files["Referrals - Casa Legal"]
    assert casa.parents == [folder.id]
    assert _header(sandbox, casa.id, "Referrals") == list(REFERRAL_COLUMNS)
    assert "Referrals - Faith Circle" not in files and "Referrals - Gone Away" not in files
    assert _writers(sandbox, intake.id) == set(STAFF)
    assert _writers(sandbox, casa.id) == {*STAFF, "lead@casalegal.example"}
    text = out.getvalue()
    assert "lead@casalegal.example" not in text and STAFF[0] not in text  # counts, not people
    assert "share it with 3 people" in text

    from integrations.clients import airtable_api

    members = {
        r["fields"]["Name"]: r["fields"].get("Referral sheet")
        for r in airtable_api().base(bare_base).table("Members").all()
    }
    assert members["Casa Legal"] == casa.id
    assert members["Faith Circle"] is None

    since = sandbox.sandbox.journal.last_seq
    console, out = quiet()
    again = setup_sheets(console=console)
    assert sandbox.writes(since=since) == [], out.getvalue()
    assert all(not o.actions for o in again), out.getvalue()


def test_missing_bot_columns_are_added_after_what_staff_have(sandbox: Any, bare_base: str) -> None:
    from integrations.clients import sheets_client

    setup_airtable(console=quiet()[0])
    cfg = settings()
    client = sheets_client()
    sheet = client.create(cfg.services.sheets.intake)
    tab = sheet.sheet1
    tab.update_title(cfg.services.sheets.intake_tab)
    staff_header = ["Timestamp", "Full name", "Email", "", "Staff notes"]
    tab.update([staff_header, ["2026-11-20 10:00", "R. Example", "r@example.org"]], "A1")
    setup_sheets(console=quiet()[0])
    header = tab.row_values(1)
    assert header[:5] == [*staff_header[:3], "", "Staff notes"]
    added = header[5:]
    assert "Intake ID" in added and "Routing reason" in added and "Email" not in added
    assert tab.row_values(2) == ["2026-11-20 10:00", "R. Example", "r@example.org"]


def test_a_referral_sheet_the_bot_cannot_open_is_reported_not_recreated(
    sandbox: Any, bare_base: str
) -> None:
    from integrations.clients import airtable_api

    setup_airtable(console=quiet()[0])
    members = airtable_api().base(bare_base).table("Members")
    members.create(
        {"Name": "Lost Sheet Org", "Services": ["asylum"], "Referral sheet": "1" + "x" * 43}
    )
    console, out = quiet()
    outcomes = setup_sheets(console=console)
    [lost] = [o for o in outcomes if o.problem]
    assert "cannot open" in lost.problem
    assert "Lost Sheet Org" in out.getvalue()
    assert not any(name.startswith("Referrals - Lost") for name in _drive_files(sandbox))


def test_a_referral_sheet_named_by_title_is_recorded_by_its_id(
    sandbox: Any, bare_base: str
) -> None:
    """Staff typed a title in Referral sheet: the flows need the id, so setup writes it back."""
    from integrations.clients import airtable_api

    setup_airtable(console=quiet()[0])
    members = airtable_api().base(bare_base).table("Members")
    members.create(
        {"Name": "Titled Org", "Services": ["asylum"], "Referral sheet": "Titled referrals"}
    )
    setup_sheets(console=quiet()[0])
    files = _drive_files(sandbox)
    [record] = [r for r in members.all() if r["fields"]["Name"] == "Titled Org"]
    assert record["fields"]["Referral sheet"] == files["Titled referrals"].id


def test_a_pasted_link_is_the_partners_sheet_not_a_title_to_create(
    sandbox: Any, bare_base: str
) -> None:
    """The browser link staff paste names the existing sheet: dry run proposes no new sheet, the run adds the tab."""
    from integrations.clients import airtable_api

    setup_airtable(console=quiet()[0])
    sheets = sandbox.services["sheets"]
    theirs = sheets.create_spreadsheet("Casa intake", {"Sheet1": [["Client", "Hours"], ["A", "1"]]})
    link = f"https://docs.google.com/spreadsheets/d/{theirs}/edit?usp=sharing#gid=0"
    members = airtable_api().base(bare_base).table("Members")
    members.create({"Name": "Linked Org", "Services": ["asylum"], "Referral sheet": link})
    console, out = quiet()
    before = set(_drive_files(sandbox))
    setup_sheets(dry_run=True, console=console)
    plan = out.getvalue()
    [line] = [ln for ln in plan.splitlines() if "Linked Org" in ln]
    assert "docs.google.com" not in line and "create it" not in line, line
    assert "would add tab 'Referrals' with the referral header" in line
    assert set(_drive_files(sandbox)) == before
    setup_sheets(console=quiet()[0])
    titles = [s.title for s in sheets.spreadsheets[theirs].sheets]
    assert titles == ["Sheet1", "Referrals"]
    assert sheets.get_values(theirs, "Sheet1") == [["Client", "Hours"], ["A", "1"]]
    assert _header(sandbox, theirs, "Referrals") == list(REFERRAL_COLUMNS)
    [record] = [r for r in members.all() if r["fields"]["Name"] == "Linked Org"]
    assert record["fields"]["Referral sheet"] == link  # a link stays as staff typed it
