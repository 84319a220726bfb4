"""What discover proposes from a workspace's names (pure): the foreign seed's names found, the unfindable listed."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest
import yaml

from coalition.discover_plan import PartnerSheet, Workspace, discover
from coalition.intake.sheet_rows import REFERRAL_COLUMNS
from coalition.partner_sheets import TabSample
from coalition.settings import FieldsConfig, load_settings
from ops.setup_discover import update_services
from sandbox.seed import foreign
from sandbox.seed.demo import DemoData

TODAY = date(2026, 12, 7)


def _foreign() -> DemoData:
    return foreign.build_foreign(TODAY, load_settings())


def _workspace(data: DemoData, drop_form: set[str] = frozenset()) -> Workspace:
    """The names a reader would see in the foreign workspace (headers only)."""
    cfg = load_settings()
    tables = {
        data.table_names[key]: [spec["name"] for spec in specs]
        for key, specs in data.fields.items()
    }
    intake_sheet = data.sheet(cfg.services.sheets.intake)
    directory = data.sheet(cfg.services.sheets.member_directory)
    return Workspace(
        tables=tables,
        intake_tabs={
            t: [h for h in rows[0] if h not in drop_form] for t, rows in intake_sheet.tabs.items()
        },
        directory_tabs={t: rows[0] if rows else [] for t, rows in directory.tabs.items()},
        channels={c.name: c.channel_id for c in data.channels},
        partners=[
            PartnerSheet("Riverbend", "https://docs.google.com/spreadsheets/d/x/edit", "#ref-riverbend",
                         [TabSample("Sheet1", 0, ((*REFERRAL_COLUMNS, "Assigned attorney"),))]),
            PartnerSheet("Tidepool", "Tidepool sheet", "https://x.slack.com/archives/C0NOSUCH1",
                         [TabSample("Hoja 1", 0)]),
            PartnerSheet("Palisade", "https://docs.google.com/spreadsheets/d/y/edit#gid=7", "#ref-palisade",
                         [TabSample("Sheet1", 0, (("Client", "Notes"),)), TabSample("Intake", 7)], gid=7),
            PartnerSheet("Jade", "junk", "#ref-jade", problem="the spreadsheet was not found"),
        ],
    )  # fmt: skip


def test_every_foreign_name_is_found_where_the_seed_put_it() -> None:
    data = _foreign()
    cfg = load_settings()
    found = discover(cfg.fields, cfg.services, _workspace(data), referral_columns=REFERRAL_COLUMNS)
    assert found.unmapped == []
    tables = found.fields["airtable"]
    assert {key: t["table"] for key, t in tables.items()} == foreign.TABLES
    design = FieldsConfig().airtable
    for key, renamed in foreign.FIELDS.items():
        defaults = getattr(design, key).fields
        for fkey, name in defaults.items():
            if name in {spec["name"] for spec in data.fields[key]} or name in renamed:
                assert tables[key]["fields"][fkey] == renamed.get(name, name), (key, fkey)
    form = found.fields["intake"]["form"]
    for design_header, own in foreign.FORM.items():
        key = next(
            k for k, v in FieldsConfig().intake.form.columns().items() if v[0] == design_header
        )
        assert form[key][0] == own, key
    assert found.services[("sheets", "intake_tab")] == foreign.INTAKE_TAB
    assert found.services[("sheets", "member_directory_tab")] == foreign.DIRECTORY_TAB
    assert found.fields["directory"]["Organization name"] == "name"
    # The result loads as fields.yaml.
    FieldsConfig.model_validate(yaml.safe_load(yaml.safe_dump(found.fields)))


def test_partners_say_which_tab_and_channel_the_bot_will_use() -> None:
    cfg = load_settings()
    found = discover(
        cfg.fields, cfg.services, _workspace(_foreign()), referral_columns=REFERRAL_COLUMNS
    )
    by_name = {p.name: p for p in found.partners}
    assert by_name["Riverbend"].tab == "'Sheet1' (tab with the referral header)"
    assert by_name["Riverbend"].channel == "#ref-riverbend" and by_name["Riverbend"].ok
    # An empty first tab is not taken unless a link points at it: a new tab is added.
    assert by_name["Tidepool"].tab == "a new tab 'Referrals' (no tab holds the referral header)"
    assert not by_name["Tidepool"].ok and "not found" in by_name["Tidepool"].channel
    assert by_name["Palisade"].tab == "'Intake' (tab of the link), empty: the header goes in row 1"
    assert by_name["Jade"].tab.startswith("cannot use: the spreadsheet was not found")
    assert not by_name["Jade"].ok


def test_a_question_the_form_lacks_is_unmapped_not_guessed() -> None:
    cfg = load_settings()
    ws = _workspace(_foreign(), drop_form={foreign.FORM["Full name"]})
    found = discover(cfg.fields, cfg.services, ws, referral_columns=REFERRAL_COLUMNS)
    assert [m.need.key for m in found.unmapped] == ["intake.form.name"]
    # Nothing else was given the name's place, and the configured spellings stay.
    assert found.fields["intake"]["form"]["name"] == list(cfg.fields.intake.form.name)


def test_a_missing_table_leaves_its_fields_unmapped() -> None:
    cfg = load_settings()
    data = _foreign()
    ws = _workspace(data)
    tables = {k: v for k, v in ws.tables.items() if k != foreign.TABLES["bills"]}
    ws = Workspace(tables, ws.intake_tabs, ws.directory_tabs, ws.channels)
    found = discover(cfg.fields, cfg.services, ws)
    keys = {m.need.key for m in found.unmapped}
    assert "airtable.bills" in keys and "airtable.bills.bill" in keys
    assert not any(k.startswith("airtable.members") for k in keys)


def test_services_yaml_keeps_its_comments_and_other_keys() -> None:
    text = (
        "# Names of things\ntimezone: America/Chicago\nsheets:\n  intake: Intake   # the form's sheet\n"
        "  intake_tab: Form Responses\n  share_with: [a@example.org]\nslack:\n  channels:\n"
        "    ops_alerts: ops-alerts\n"
    )
    out = update_services(
        text,
        {
            ("sheets", "intake_tab"): "Form Responses 1",
            ("slack", "channels", "policy"): "policy-team",
        },
    )
    assert "# Names of things" in out and "# the form's sheet" in out
    data = yaml.safe_load(out)
    assert data["timezone"] == "America/Chicago"
    assert data["sheets"]["intake_tab"] == "Form Responses 1"
    assert data["sheets"]["share_with"] == ["a@example.org"]
    assert data["slack"]["channels"] == {"ops_alerts": "ops-alerts", "policy": "policy-team"}
    # The older home of table names is kept in step where it is used, never added.
    older = "airtable:\n  base: Coalition\n  tables:\n    members: Members  # ours\n"
    tables = {
        ("airtable", "tables", "members"): "Organizations",
        ("airtable", "tables", "bills"): "Legislation",
    }
    out = update_services(older, {}, only_existing=tables)
    assert (
        yaml.safe_load(out)["airtable"]["tables"] == {"members": "Organizations"}
        and "# ours" in out
    )
    assert (
        "tables"
        not in yaml.safe_load(update_services("airtable:\n  base: X\n", {}, only_existing=tables))[
            "airtable"
        ]
    )


def test_a_tab_is_chosen_for_its_header_only_when_it_holds_half_the_columns() -> None:
    cfg = load_settings()
    data = _foreign()
    ws = _workspace(data)
    form_header = ws.intake_tabs[foreign.INTAKE_TAB]
    tabs = {"Sheet3": form_header[:3], "Respuestas": form_header}
    found = discover(
        cfg.fields, cfg.services, Workspace(ws.tables, tabs, ws.directory_tabs, ws.channels)
    )
    assert found.found("sheets.intake_tab") == "Respuestas"
    few = {"Sheet3": form_header[:3]}
    found = discover(
        cfg.fields, cfg.services, Workspace(ws.tables, few, ws.directory_tabs, ws.channels)
    )
    assert found.found("sheets.intake_tab") is None
    assert "sheets.intake_tab" in {m.need.key for m in found.unmapped}


def test_names_the_config_cannot_hold_are_not_written(tmp_path: Path) -> None:
    import shutil

    from coalition.settings import PROJECT_ROOT, ConfigError
    from ops.setup_discover import write_config

    config = tmp_path / "config"
    shutil.copytree(PROJECT_ROOT / "config", config)
    before = {p.name: p.read_text() for p in config.glob("*.yaml")}
    cfg = load_settings()
    found = discover(cfg.fields, cfg.services, _workspace(_foreign()))
    # Two needs of one table given one name: fields.yaml's loader refuses it, so must discover.
    found.fields["airtable"]["members"]["fields"]["type"] = "Organization name"
    with pytest.raises(ConfigError, match="nothing was written"):
        write_config(config, found)
    assert {p.name: p.read_text() for p in config.glob("*.yaml")} == before


def test_channels_given_by_link_are_looked_up_by_id_and_names_matched() -> None:
    cfg = load_settings()
    data = _foreign()
    ws = _workspace(data)
    ops_id = ws.channels["ops-alerts"]
    channels = cfg.services.slack.channels.model_copy(
        update={
            "ops_alerts": f"https://x.slack.com/archives/{ops_id}",
            "intake_triage": "Intake_Triage",
        }
    )
    services = cfg.services.model_copy(
        update={"slack": cfg.services.slack.model_copy(update={"channels": channels})}
    )
    found = discover(cfg.fields, services, ws)
    assert found.found("slack.channels.ops_alerts") == "ops-alerts"
    assert found.found("slack.channels.intake_triage") == "intake-triage"
    assert ("slack", "channels", "ops_alerts") not in found.services  # the link stays as given
    assert found.services[("slack", "channels", "intake_triage")] == "intake-triage"
    gone = cfg.services.slack.channels.model_copy(update={"policy": "C0NOSUCH99"})
    services = cfg.services.model_copy(
        update={"slack": cfg.services.slack.model_copy(update={"channels": gone})}
    )
    assert "slack.channels.policy" in {
        m.need.key for m in discover(cfg.fields, services, ws).unmapped
    }
