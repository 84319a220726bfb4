"""The soak's invariant checks are zero on a clean routing run and count every planted loss or duplicate."""

from __future__ import annotations

import pytest

from bench import soak_common as soak
from coalition.settings import reload_settings

pytestmark = pytest.mark.timeout(300)


def test_clean_run_counts_zero_and_every_plant_is_counted(demo, monkeypatch) -> None:
    from intake_helpers import seed_partner_directory

    from flows.intake_routing import run_routing
    from integrations.slack import forget_channels

    monkeypatch.setenv("COALITION_TIME_SCALE", "50")
    reload_settings()
    forget_channels()
    partners = seed_partner_directory(demo)
    before = soak.mark_staff_cells(demo.sandbox)
    run_routing(publish_report=False)
    assert set(soak.check_invariants(demo.sandbox, before).values()) == {0}

    sheets = demo.services["sheets"]
    # A row lost: its Status cleared. A staff cell overwritten: its note changed.
    header, rows = soak.intake_table(demo.sandbox)
    rows[0][header.index("Status")] = ""
    rows[1][header.index("Full name")] = "someone else"
    intake_id = sheets.find_by_title("Intake")
    sheets.set_values(intake_id, sheets.tabs(intake_id)[0], [header, *rows])
    # A referral written twice into its partner's sheet.
    sheet = next(
        p["referral_sheet"]
        for p in partners.values()
        if len(sheets.get_values(p["referral_sheet"], "Referrals")) > 1
    )
    values = sheets.get_values(sheet, "Referrals")
    sheets.set_values(sheet, "Referrals", [*values, values[1]])
    # A Slack message posted twice; a weekly document made twice.
    slack = demo.services["slack"]
    channel = slack.channel_by_name("leadership")["id"]
    for _ in range(2):
        slack.post_message(channel, {"text": "Weekly summary 2026-W09", "user": slack.bot_user_id})
    docs = demo.services["docs"]
    for _ in range(2):
        docs.create_document(title="Weekly summary 2026-W09")

    counts = soak.check_invariants(demo.sandbox, before)
    assert counts == {
        "intake rows lost": 1,
        "referrals duplicated": 2,  # by its referral id, and by its intake beyond its referrals
        "Slack messages duplicated": 1,
        "documents duplicated": 1,
        "sheet cells overwritten that the bot does not own": 1,
    }
