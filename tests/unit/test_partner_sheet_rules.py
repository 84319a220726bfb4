"""Which tab of a partner's own sheet takes its referrals (pure): config, then the link's gid, then the header, else a new tab."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from coalition.intake.sheet_rows import REFERRAL_COLUMNS
from coalition.partner_sheets import TabSample, choose_tab, row_for_header

COLS = list(REFERRAL_COLUMNS)
OTHER = (("Client", "Hours"), ("ACME", "3"))


def tab(title: str, gid: int, *rows: tuple[str, ...]) -> TabSample:
    return TabSample(title, gid, tuple(rows))


def test_the_configured_tab_wins() -> None:
    tabs = [tab("Sheet1", 0, tuple(COLS)), tab("Referrals", 5, tuple(COLS))]
    choice = choose_tab(tabs, "Referrals", 0, COLS)
    assert (choice.title, choice.create, choice.add_columns) == ("Referrals", False, ())


def test_the_configured_tab_holding_other_data_is_never_written() -> None:
    choice = choose_tab([tab("Referrals", 0, *OTHER)], "Referrals", None, COLS)
    assert not choice.usable and choice.cause == "no_tab" and choice.title is None


def test_the_links_gid_names_the_tab() -> None:
    tabs = [tab("Resumen", 0, ("x",)), tab("Casos", 9)]
    choice = choose_tab(tabs, "Referrals", 9, COLS)
    assert choice.title == "Casos" and choice.write_header and choice.header == tuple(COLS)


def test_a_gid_on_other_data_falls_through_to_a_new_tab() -> None:
    choice = choose_tab([tab("Sheet1", 0, *OTHER)], "Referrals", 0, COLS)
    assert choice.create and choice.title == "Referrals" and choice.skipped == ("Sheet1",)


def test_first_tab_with_the_referral_header_and_missing_columns_at_the_right() -> None:
    head = ("Our column", *COLS[:3])
    tabs = [tab("Notas", 0, ("libre",)), tab("Hoja 1", 3, head, ("", "REF-1"))]
    choice = choose_tab(tabs, "Referrals", None, COLS)
    assert choice.title == "Hoja 1"
    assert choice.add_columns == tuple(COLS[3:])
    assert choice.header == (*head, *COLS[3:])


def test_an_empty_first_tab_without_a_link_gets_a_new_tab() -> None:
    choice = choose_tab([tab("Sheet1", 0)], "Referrals", None, COLS)
    assert choice.create and choice.title == "Referrals"


@given(st.permutations(["Our notes", *COLS]))
def test_rows_go_under_their_headers_wherever_the_columns_are(header: list[str]) -> None:
    values = {c: f"v-{c}" for c in COLS}
    row = row_for_header(values, header)
    for i, h in enumerate(header):
        cell = row[i] if i < len(row) else ""
        assert cell == values.get(h, "")
