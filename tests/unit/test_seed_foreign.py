"""The `foreign` seed holds the demo's very data under a real coalition's names (pure)."""

from __future__ import annotations

from datetime import date

from coalition.references import ChannelRef, GoogleRef, parse_channel, parse_google
from coalition.settings import load_settings
from sandbox.seed import foreign, intake
from sandbox.seed.demo import build_demo, personal_values

TODAY = date(2026, 12, 7)


def test_same_intake_rows_cell_for_cell_under_the_forms_own_questions() -> None:
    cfg = load_settings()
    demo, own = build_demo(TODAY, cfg), foreign.build_foreign(TODAY, cfg)
    demo_rows = demo.sheet("Intake").tabs[cfg.services.sheets.intake_tab]
    own_rows = own.sheet("Intake").tabs[foreign.INTAKE_TAB]
    assert len(own_rows) == len(demo_rows) == intake.ROW_COUNT + 1
    demo_header, own_header = demo_rows[0], own_rows[0]
    assert "Full name / Nombre completo" in own_header and "Full name" not in own_header
    for demo_row, own_row in zip(demo_rows[1:], own_rows[1:], strict=True):
        for column in (*intake.FORM_COLUMNS, "Staff notes"):
            at_demo, at_own = (
                demo_header.index(column),
                own_header.index(foreign.FORM.get(column, column)),
            )
            cell = lambda row, i: row[i] if i < len(row) else ""  # noqa: E731 - trailing cells dropped
            assert cell(own_row, at_own) == cell(demo_row, at_demo)


def test_same_organizations_and_people_under_renamed_tables_and_fields() -> None:
    cfg = load_settings()
    demo, own = build_demo(TODAY, cfg), foreign.build_foreign(TODAY, cfg)
    assert own.table_names["members"] == "Organizations"
    name = foreign.FIELDS["members"]["Name"]
    assert [m[name] for m in own.records["members"]] == [m["Name"] for m in demo.records["members"]]
    assert personal_values(own) == personal_values(demo)
    own_fields = {spec["name"] for spec in own.fields["members"]}
    assert "Languages spoken" in own_fields and "Languages" not in own_fields


def test_partners_references_are_typed_as_staff_paste_them() -> None:
    cfg = load_settings()
    demo, own = build_demo(TODAY, cfg), foreign.build_foreign(TODAY, cfg)
    sheet, channel = (
        foreign.FIELDS["members"]["Referral sheet"],
        foreign.FIELDS["members"]["Referral channel"],
    )
    ids = {c.name: c.channel_id for c in own.channels}
    links = hashes = 0
    for before, after in zip(demo.records["members"], own.records["members"], strict=True):
        if not before["Referral sheet"]:
            continue
        assert after[sheet].startswith("https://docs.google.com/spreadsheets/")
        ref = parse_google(after[sheet], "spreadsheet")
        assert isinstance(ref, GoogleRef) and ref.id == before["Referral sheet"]
        typed = parse_channel(after[channel])
        assert isinstance(typed, ChannelRef)
        assert (
            typed.name == before["Referral channel"] or typed.id == ids[before["Referral channel"]]
        )
        links += after[channel].startswith("https://")
        hashes += after[channel].startswith("#")
    assert links and hashes
    tabs = {
        title for s in own.spreadsheets if s.title.startswith("Referrals - ") for title in s.tabs
    }
    assert tabs == {"Sheet1", "Hoja 1"}
