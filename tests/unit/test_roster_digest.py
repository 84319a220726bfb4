"""The #membership digest: organization names and counts, escaped, cut to a readable length, and refused if personal."""

from __future__ import annotations

import json

import pytest

from coalition.outgoing import check_mentions
from coalition.privacy import PIIError, guard
from coalition.roster.plan import Digest
from coalition.templating import fallback_text, render_blocks


def render(digest: Digest, withheld: bool = False) -> list[dict]:
    return render_blocks(
        "slack/roster_digest.json.j2",
        **digest.context(),
        sheet_url="https://docs.google.com/spreadsheets/d/abc/edit#gid=0",
        names_withheld=withheld,
    )


def test_sections_only_for_what_changed() -> None:
    blocks = render(Digest(new_members=["Casa Esperanza"], lapsed=["Centro Legal"]))
    text = fallback_text(blocks)
    assert "1 new member*\nCasa Esperanza" in text
    assert "Dues lapsed: 1 member*\nCentro Legal" in text
    assert "gone from Airtable" not in text and "data issues" not in text.lower()


def test_org_names_cannot_ping_or_inject_markup() -> None:
    blocks = render(Digest(new_members=["<!channel> & <@U123> Org"]))
    dumped = json.dumps(blocks)
    assert "&lt;!channel&gt; &amp; &lt;@U123&gt; Org" in dumped
    check_mentions(fallback_text(blocks), blocks)  # raises if a ping got through


def test_long_lists_are_cut_with_a_count() -> None:
    names = [f"Org {i:03}" for i in range(40)]
    blocks = render(Digest(new_members=names))
    text = fallback_text(blocks)
    assert "Org 014" in text and "Org 015" not in text and "and 25 more" in text


def test_new_issues_line() -> None:
    text = fallback_text(render(Digest(new_issues=["A Org", "B Org"], new_issue_records=3)))
    assert "New data issues on 3 records* at 2 organizations\nA Org, B Org" in text


def test_withheld_names_show_counts_only() -> None:
    text = fallback_text(render(Digest(new_members=["Maria Lopez Law Office"]), withheld=True))
    assert "Maria" not in text and "1 new member" in text


def test_guard_refuses_a_contact_name_inside_an_org_name() -> None:
    blocks = render(Digest(new_members=["Law Office of Ana Ruiz"]))
    with guard.batch(["Ana Ruiz"]), pytest.raises(PIIError):
        guard.check_slack_message(fallback_text(blocks), blocks)


def test_empty_digest() -> None:
    assert Digest().empty
    assert not Digest(new_issue_records=1).empty


def test_flow_falls_back_to_counts_when_a_name_is_refused() -> None:
    from coalition.sheet_table import SheetTable
    from flows.roster_sync import DirectorySheet, _digest_message
    from integrations.sheets import Tab

    directory = DirectorySheet(
        Tab("abc", "Member Directory", 0, "Directory"), SheetTable("Directory", [], {}, "Member ID")
    )
    digest = Digest(new_members=["Law Office of Ana Ruiz", "Casa Esperanza"])
    text, _, withheld = _digest_message(digest, directory)
    assert not withheld and "Ana Ruiz" in text
    with guard.batch(["Ana Ruiz"]):
        text, blocks, withheld = _digest_message(digest, directory)
    assert withheld and "Ana Ruiz" not in json.dumps(blocks) and "2 new members" in text
