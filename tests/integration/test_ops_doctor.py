"""`coalition doctor`'s scope and sharing checks: the demo workspace passes; a missing share or channel is named."""

from __future__ import annotations

from typing import Any

import pytest

from ops.doctor import (
    channel_problems,
    run_checks,
    scope_problems,
    sheet_problems,
)


# ---------------------------------------------------------------- the deciding parts
@pytest.mark.parametrize(
    ("granted", "missing"),
    [
        (None, []),  # not reported (an Airtable personal access token): nothing to say
        (["data.records:read", "data.records:write", "schema.bases:read"], []),
        (["data.records:read"], ["data.records:write", "schema.bases:read"]),
        ([" data.records:read", "data.records:write ", "schema.bases:read"], []),
    ],
)
def test_scope_problems(granted: list[str] | None, missing: list[str]) -> None:
    required = ("data.records:read", "data.records:write", "schema.bases:read")
    assert scope_problems(granted, required) == missing


def test_sheet_problems_name_missing_and_read_only_sheets() -> None:
    found = {
        "'Intake'": {"id": "1", "capabilities": {"canEdit": True}},
        "'Member Directory'": {"id": "2", "capabilities": {"canEdit": False}},
        "referral sheet of Casa Legal": None,
        "referral sheet of Justice Now": {"id": "3"},
    }
    assert sheet_problems(found) == [
        "'Member Directory': shared read-only",
        "referral sheet of Casa Legal: not found or not shared",
        "referral sheet of Justice Now: shared read-only",
    ]


def test_channel_problems_tell_missing_from_not_joined() -> None:
    visible = {"ops-alerts": True, "policy": False, "C0PARTNER1": True}
    assert channel_problems(["ops-alerts", "policy", "ref-gone", "C0PARTNER1"], visible) == [
        "not found (or private without the bot): ref-gone",
        "bot not in: policy",
    ]


# ---------------------------------------------------------------- against the sandbox
def _check(name: str) -> Any:
    return next(c for c in run_checks() if c.name == name)


def test_the_demo_workspace_passes_the_scope_and_sharing_checks(demo: Any) -> None:
    for name in ("airtable token scopes", "google sheets editable", "slack scopes and channels"):
        check = _check(name)
        assert check.ok, f"{name}: {check.detail}"
    assert "can edit all 2 sheets" in _check("google sheets editable").detail


def test_a_partner_sheet_the_bot_cannot_see_and_a_channel_without_the_bot_fail(
    demo: Any,
) -> None:
    from coalition.ledger import open_ledger
    from coalition.ledger.tables import Partner

    slack = demo.services["slack"]
    slack.create_channel("ref-new-partner", members=("U0DEMOSTF01",))
    with open_ledger().session() as session:
        session.add(
            Partner(
                member_id="recNEWPARTNER0001",
                name="New Partner",
                referral_sheet="1" + "z" * 43,
                referral_channel="ref-new-partner",
            )
        )
    sheets = _check("google sheets editable")
    assert not sheets.ok
    assert "referral sheet of New Partner: not found or not shared" in sheets.detail
    assert "Editor" in (sheets.fix or "")
    channels = _check("slack scopes and channels")
    assert not channels.ok and "ref-new-partner" in channels.detail


def test_doctor_names_partner_sheets_it_cannot_use_by_partner(demo: Any) -> None:
    """A pasted link is fine; a link to a missing sheet and a tab of other data are named by partner."""
    from coalition.ledger import open_ledger
    from coalition.ledger.tables import Partner

    sheets = demo.services["sheets"]
    good = sheets.create_spreadsheet("Linked partner sheet", {"Sheet1": []})
    books = sheets.create_spreadsheet("Books", {"Referrals": [["Client", "Hours"], ["A", "1"]]})
    rows = {
        "Linked Partner": f"https://docs.google.com/spreadsheets/u/0/d/{good}/edit?usp=sharing",
        "Gone Partner": "https://docs.google.com/spreadsheets/d/1" + "k" * 43 + "/edit#gid=0",
        "Books Partner": books,
    }
    with open_ledger().session() as session:
        for i, (name, sheet) in enumerate(rows.items()):
            session.add(Partner(member_id=f"recDOCTORPART000{i}", name=name, referral_sheet=sheet))
    check = _check("google sheets editable")
    assert not check.ok
    assert "referral sheet of Gone Partner: not found or not shared" in check.detail
    assert "referral sheet of Books Partner: no tab can take referrals" in check.detail
    assert "Linked Partner" not in check.detail
    assert sheets.get_values(books, "Referrals") == [["Client", "Hours"], ["A", "1"]]
