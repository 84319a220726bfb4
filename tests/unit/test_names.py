"""Names the workspace lacks (pure): required or treated as empty, and one line naming file, key and name."""

from __future__ import annotations

import pytest

from coalition.intake.fields import IntakeHeaderError, check_header, resolve_columns
from coalition.names import missing_directory_sources, missing_fields, stop_if_required
from coalition.settings import FieldsConfig, IntakeFields, WorkspaceNameError

MEMBERS = set(FieldsConfig().airtable.members.fields.all())


def test_nothing_missing_on_the_design_names() -> None:
    assert missing_fields(FieldsConfig(), "members", MEMBERS, "fields.yaml") == []


def test_an_optional_field_is_treated_as_empty_a_required_one_stops() -> None:
    have = MEMBERS - {"Remote services", "Weekly capacity"}
    missing = missing_fields(FieldsConfig(), "members", have, "config/fields.yaml")
    assert {m.key: m.required for m in missing} == {
        "airtable.members.fields.capacity": True,
        "airtable.members.fields.remote": False,
    }
    with pytest.raises(WorkspaceNameError) as caught:
        stop_if_required(missing)
    assert str(caught.value).startswith(
        "config/fields.yaml airtable.members.fields.capacity: "
        "the Members table has no field 'Weekly capacity'. "
    )
    assert "Remote services" not in str(caught.value)


def test_a_name_config_gives_must_be_there_even_for_an_optional_field() -> None:
    names = FieldsConfig.model_validate(
        {"airtable": {"members": {"fields": {"remote": "Servicios remotos"}}}}
    )
    [missing] = missing_fields(names, "members", MEMBERS, "fields.yaml")
    assert missing.required and missing.name == "Servicios remotos"


def test_a_directory_column_without_its_field() -> None:
    names = FieldsConfig.model_validate({"directory": {"ID": "id", "Region": "Region"}})
    [missing] = missing_directory_sources(names, MEMBERS, "fields.yaml")
    assert missing.line() == "fields.yaml directory.Region: the Members table has no field 'Region'"


def test_a_renamed_required_question_names_the_key_and_the_spellings() -> None:
    header = ["Timestamp", "What is your full name?", "Phone", "Preferred language", "County"]
    header += ["Help needed", "Consent to share", *IntakeFields().bot.all()]
    columns = resolve_columns(header)
    with pytest.raises(IntakeHeaderError) as caught:
        check_header(columns, "'Intake' tab 'Form Responses'", "config/fields.yaml")
    message = str(caught.value)
    assert message.startswith("config/fields.yaml intake.form.name: 'Intake' tab")
    assert "'Full name', 'Name', 'Nombre', 'Nombre completo'" in message
    assert "\n" not in message
    # Given in config, the same header routes.
    names = IntakeFields.model_validate({"form": {"name": ["What is your full name?"]}})
    check_header(resolve_columns(header, names), "Intake", "fields.yaml", names)


def test_either_a_phone_or_an_email_column_is_enough() -> None:
    base = ["Full name", "Preferred language", "County", "Help needed", "Consent to share"]
    bot = IntakeFields().bot.all()
    check_header(resolve_columns([*base, "Email", *bot]), "Intake", "f")
    with pytest.raises(IntakeHeaderError, match=r"intake\.form\.phone / intake\.form\.email"):
        check_header(resolve_columns([*base, *bot]), "Intake", "f")
