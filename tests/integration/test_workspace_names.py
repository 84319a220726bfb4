"""Airtable in the workspace's own names: fields.yaml maps renamed tables and fields, and a name
the base lacks is named by doctor (file, key, name) and stops each flow before its first write."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from coalition.ledger import open_ledger
from coalition.ledger.tables.roster import Partner
from coalition.settings import PROJECT_ROOT, WorkspaceNameError, reload_settings, settings
from flows.alerts import run_alerts
from flows.roster_sync import roster_sync
from ops.doctor import run_checks


def _config(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, fields_yaml: str) -> None:
    target = tmp_path / "config"
    shutil.copytree(PROJECT_ROOT / "config", target)
    (target / "fields.yaml").write_text(fields_yaml, encoding="utf-8")
    monkeypatch.setenv("COALITION_CONFIG_DIR", str(target))
    reload_settings()


def _airtable(handle: Any) -> tuple[Any, str]:
    model = handle.services["airtable"]
    return model, model.find_base(settings().services.airtable.base)


def _rename_field(handle: Any, table: str, old: str, new: str) -> None:
    model, base = _airtable(handle)
    _, found = model.table(base, table)
    model.update_field(base, table, found.by_name[old], {"name": new})


def _rename_table(handle: Any, old: str, new: str) -> None:
    model, base = _airtable(handle)
    model.update_table(base, old, {"name": new})


def _name_rows(ok: bool | None = None) -> list[Any]:
    return [c for c in run_checks() if c.name.startswith("names") and (ok is None or c.ok == ok)]


def test_the_demo_workspace_has_every_name(demo: Any) -> None:
    rows = _name_rows()
    assert rows and all(r.ok for r in rows), [r.detail for r in rows]


def test_a_field_the_base_lacks_is_named_by_doctor_and_stops_roster_sync_before_any_write(
    demo: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _config(
        tmp_path, monkeypatch, "airtable:\n  members:\n    fields: {capacity: Cupos semanales}\n"
    )
    [failed] = _name_rows(ok=False)
    assert failed.detail == (
        f"{tmp_path / 'config' / 'fields.yaml'} airtable.members.fields.capacity: "
        "the Members table has no field 'Cupos semanales'"
    )
    before = demo.sandbox.journal.last_seq
    with pytest.raises(WorkspaceNameError) as caught:
        roster_sync()
    message = str(caught.value)
    assert "airtable.members.fields.capacity" in message and "'Cupos semanales'" in message
    assert "\n" not in message and "Nothing was written" in message
    assert demo.writes(before) == []
    with open_ledger().session() as session:
        assert session.scalars(select(Partner)).all() == []  # the partner directory untouched


def test_renamed_fields_and_table_mapped_in_fields_yaml_sync_as_the_design_names_do(
    demo: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _rename_table(demo, "Members", "Organizaciones")
    _rename_field(demo, "Organizaciones", "Weekly capacity", "Cupos semanales")
    _rename_field(demo, "Organizaciones", "Name", "Nombre")
    _rename_field(demo, "Contacts", "Organization", "Organización")
    # Before the map: doctor names each, and the sync stops before writing anything.
    assert any("airtable.members.table" in r.detail for r in _name_rows(ok=False))
    before = demo.sandbox.journal.last_seq
    with pytest.raises(WorkspaceNameError, match=r"airtable\.members\.table"):
        roster_sync()
    assert demo.writes(before) == []

    _config(
        tmp_path,
        monkeypatch,
        "airtable:\n"
        "  members:\n"
        "    table: Organizaciones\n"
        "    fields: {name: Nombre, capacity: Cupos semanales}\n"
        "  contacts:\n"
        "    fields: {organization: Organización}\n"
        "directory: {Member ID: id, Organization: name, Weekly capacity: capacity, "
        "Primary contact: primary_contact, Data issues: data_issues}\n",
    )
    assert all(r.ok for r in _name_rows()), [r.detail for r in _name_rows()]
    roster_sync()
    model, base = _airtable(demo)
    members = {r["id"]: r["fields"] for r in model.records(base, "Organizaciones")}
    with open_ledger().session() as session:
        partners = {p.member_id: p for p in session.scalars(select(Partner))}
    assert partners, "the legal-aid members are in the partner directory"
    for member_id, partner in partners.items():
        assert partner.name == members[member_id]["Nombre"]
        assert (partner.weekly_capacity or 0) == (members[member_id].get("Cupos semanales") or 0)
    assert any(p.weekly_capacity for p in partners.values())


def test_a_bills_field_the_base_lacks_stops_alerts_before_any_write(
    demo: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _rename_field(demo, "Bills", "Last action date", "Fecha de la última acción")
    [failed] = _name_rows(ok=False)
    assert "airtable.bills.fields.last_action_date" in failed.detail
    assert "'Last action date'" in failed.detail
    before = demo.sandbox.journal.last_seq
    with pytest.raises(WorkspaceNameError, match=r"airtable\.bills\.fields\.last_action_date"):
        run_alerts(publish_report=False)
    assert demo.writes(before) == []

    _config(
        tmp_path,
        monkeypatch,
        "airtable:\n  bills:\n    fields: {last_action_date: Fecha de la última acción}\n",
    )
    report = run_alerts(publish_report=False)
    assert report.counts.get("bills read", 0) > 0
