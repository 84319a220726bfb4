"""config/fields.yaml: the design's names by default, the workspace's where given, mistakes named by file and key."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from coalition.settings import PROJECT_ROOT, ConfigError, FieldsConfig, load_settings


@pytest.fixture
def config_copy(tmp_path: Path) -> Path:
    target = tmp_path / "config"
    shutil.copytree(PROJECT_ROOT / "config", target)
    return target


def test_the_shipped_file_says_what_the_defaults_say() -> None:
    assert load_settings(PROJECT_ROOT / "config").fields == FieldsConfig()


def test_a_missing_file_means_the_design_names(config_copy: Path) -> None:
    (config_copy / "fields.yaml").unlink()
    cfg = load_settings(config_copy)
    assert cfg.fields.airtable.members.table == "Members"
    assert cfg.fields.airtable.members.fields.capacity == "Weekly capacity"
    assert cfg.fields.intake.form.name[0] == "Full name"
    assert cfg.fields.intake.bot.intake_id == "Intake ID"
    assert cfg.fields.directory["Member ID"] == "id"


def test_a_missing_key_means_its_default(config_copy: Path) -> None:
    (config_copy / "fields.yaml").write_text(
        "airtable:\n"
        "  members:\n"
        "    fields: {capacity: Cupos por semana}\n"
        "intake:\n"
        "  form:\n"
        '    name: ["¿Cuál es su nombre completo?"]\n'
        "    help: What do you need help with?\n"
    )
    cfg = load_settings(config_copy)
    members = cfg.fields.airtable.members
    assert members.table == "Members"
    assert members.fields.capacity == "Cupos por semana"
    assert members.fields.name == "Name"
    assert cfg.fields.intake.form.name == ["¿Cuál es su nombre completo?"]
    assert cfg.fields.intake.form.help == ["What do you need help with?"]
    assert cfg.fields.intake.form.county == ["County", "Condado"]


def test_old_homes_of_names_still_count_where_fields_yaml_is_silent(config_copy: Path) -> None:
    (config_copy / "fields.yaml").write_text("airtable:\n  bills: {table: Legislation}\n")
    (config_copy / "services.yaml").write_text(
        "airtable:\n  tables: {members: Organizations, bills: Legislation}\n"
    )
    (config_copy / "roster.yaml").write_text("directory_columns: {ID: id, Org: Name}\n")
    cfg = load_settings(config_copy)
    assert cfg.fields.airtable.members.table == "Organizations"  # services.yaml, fields.yaml silent
    assert cfg.fields.airtable.bills.table == "Legislation"  # fields.yaml wins
    assert cfg.fields.airtable.contacts.table == "Contacts"
    # Code that still reads the old keys sees the same names.
    assert cfg.services.airtable.tables.members == "Organizations"
    assert cfg.services.airtable.tables.bills == "Legislation"
    assert cfg.fields.directory == {"ID": "id", "Org": "Name"}
    assert cfg.roster.directory_columns == {"ID": "id", "Org": "Name"}


def test_two_homes_saying_different_names_is_an_error(config_copy: Path) -> None:
    (config_copy / "services.yaml").write_text("airtable:\n  tables: {members: Organizations}\n")
    with pytest.raises(ConfigError, match=r"airtable\.tables\.members says 'Organizations'"):
        load_settings(config_copy)  # the shipped fields.yaml says Members
    (config_copy / "services.yaml").write_text("airtable:\n  tables: {members: Members}\n")
    assert load_settings(config_copy).fields.airtable.members.table == "Members"
    (config_copy / "roster.yaml").write_text("directory_columns: {ID: id}\n")
    with pytest.raises(ConfigError, match=r"directory_columns and fields\.yaml directory differ"):
        load_settings(config_copy)


def test_directory_sources_may_be_member_keys(config_copy: Path) -> None:
    (config_copy / "fields.yaml").write_text(
        "airtable: {members: {fields: {name: Organización}}}\n"
        "directory: {Member ID: id, Organization: name, Notes: Staff notes}\n"
    )
    fields = load_settings(config_copy).fields
    assert fields.directory_fields() == {
        "Member ID": "id",
        "Organization": "Organización",
        "Notes": "Staff notes",
    }


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            "airtable: {members: {fields: {capacity: ''}}}\n",
            ["fields.yaml", "airtable.members.fields.capacity", "''", "non-empty"],
        ),
        (
            "airtable: {members: {fields: {capcity: Cupos}}}\n",
            ["airtable.members.fields.capcity", "not a known setting"],
        ),
        (
            "airtable: {members: {fields: {capacity: Name}}}\n",
            ["airtable.members.fields", "'Name'", "'name'", "'capacity'"],
        ),
        ("airtable: {members: {table: 12}}\n", ["airtable.members.table", "12"]),
        ("intake: {form: {name: []}}\n", ["intake.form", "'name'", "routing needs it"]),
        ("intake: {form: {phone: [], email: []}}\n", ["intake.form", "phone/email"]),
        ("intake: {form: {name: {a: b}}}\n", ["intake.form.name", "list of header spellings"]),
        (
            "intake: {form: {notes: [Notes, Status]}}\n",
            ["intake", "form.notes", "'Status'", "bot.status"],
        ),
        ("directory: {Organization: Name}\n", ["directory", "'id'"]),
        ("directory: [Name]\n", ["directory", "expected"]),
    ],
)
def test_bad_values_name_file_key_value_and_expectation(
    config_copy: Path, text: str, expected: list[str]
) -> None:
    (config_copy / "fields.yaml").write_text(text)
    with pytest.raises(ConfigError) as caught:
        load_settings(config_copy)
    message = str(caught.value)
    for needle in expected:
        assert needle in message, message


def test_setup_creates_the_configured_names(config_copy: Path) -> None:
    from coalition.setup_plan import coalition_sheets, missing_headers, plan_airtable

    (config_copy / "fields.yaml").write_text(
        "airtable:\n"
        "  members: {table: Organizaciones, fields: {capacity: Cupos semanales}}\n"
        "intake:\n"
        '  form: {name: ["Nombre completo", "Full name"]}\n'
        "  bot: {status: Estado del caso}\n"
    )
    cfg = load_settings(config_copy)
    [create] = [s for s in plan_airtable(cfg, {}).steps if s.key == "members"]
    assert create.table == "Organizaciones"
    names = [f.name for f in create.fields]
    assert "Cupos semanales" in names and "Weekly capacity" not in names
    contacts = next(s for s in plan_airtable(cfg, {}).steps if s.key == "contacts")
    assert [f.link for f in contacts.fields if f.name == "Organization"] == ["members"]
    have = {f.name: f.type for f in create.fields}
    assert not [s for s in plan_airtable(cfg, {"Organizaciones": have}).steps if s.key == "members"]

    intake = next(s for s in coalition_sheets(cfg) if s.role == "intake")
    assert intake.header[1] == "Nombre completo" and "Estado del caso" in intake.header
    assert "Full name" not in intake.header
    # A form that asks the question in another listed spelling has the column already.
    row = ["Timestamp", "Full name", "Estado del caso"]
    assert "Nombre completo" not in missing_headers(row, intake.header, intake.also)
    assert "Preferred language" in missing_headers(row, intake.header, intake.also)
