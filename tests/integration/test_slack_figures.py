"""`/coalition needs` and `/coalition outcomes` through the sandbox's Slack side, over HTTP, as people use them.

The waitlist is planted in the ledger beside the demo's routed cases: Harris County
asylum cases this month, and one case that would form a cell of 1 (in an earlier
month, so only subtracting this month's figures from the 12 months' could show it).
The answers must show the weekly Doc's figures cell for cell, and that one case must
be neither seen nor derivable from them.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from typing import Any

import test_slack_app
from test_slack_app import STAFF, Bot, leaks, route

from coalition.ledger import open_ledger
from coalition.ledger.evidence_store import EvidenceStore
from coalition.ledger.tables.intake import IntakeRecord, Referral
from coalition.settings import settings
from coalition.summary.need import unmet_need

TRIAGE = "intake-triage"
bot = test_slack_app.bot  # the running app, as test_slack_app serves it


def plant_waitlist(now: datetime) -> None:
    """Waitlisted cases: 6 asylum in Harris this month, 9 work permit in Dallas; one work permit in Harris months ago."""
    this_month = now.replace(day=1, hour=15, minute=0, second=0, microsecond=0)
    earlier = this_month - timedelta(days=95)
    rows = [("Harris County", "asylum", this_month)] * 6
    rows += [("Dallas County", "work permit", this_month)] * 9
    rows += [("Dallas County", "work permit", earlier)] * 7
    rows += [("Harris County", "work permit", earlier)]  # the planted case: a cell of 1
    with open_ledger().session() as session:
        for n, (place, category, received) in enumerate(rows):
            session.add(
                IntakeRecord(
                    intake_id=f"INT-PLANT{n:05d}",
                    received_at=received,
                    status="waitlist",
                    category=category,
                    place=place,
                    language="Spanish",
                    reason_code="no_capacity",
                )
            )


def line_of(answer: str, county: str) -> str:
    return next(line for line in answer.splitlines() if line.startswith(f"*{county}*"))


def test_needs_shows_the_docs_figures_and_the_planted_case_cannot_be_derived(bot: Bot) -> None:
    route(bot)
    now = datetime.now(UTC)
    plant_waitlist(now)
    bot.slash("needs")
    answer = bot.last_answer(STAFF, TRIAGE)
    assert "Unmet need, " in answer and "withheld" in answer
    harris = line_of(answer, "Harris County")
    # This month's 6 asylum cases are shown; the 12 months' total of Harris (7) is not,
    # or 7 - 6 would give the earlier work-permit case away.
    assert "asylum 6" in harris and "(7 in 12 months)" not in harris
    assert not re.search(r"work permit 1(\D|$)", harris)
    assert re.search(r"6 this month \(withheld in 12 months\)|withheld this month", harris)
    # Cell for cell what the weekly Doc's computation gives for the month.
    facts = EvidenceStore(open_ledger()).need_facts(now - timedelta(days=400))
    tz = bot.runtime.tz
    need = unmet_need(
        facts, now.astimezone(tz).date(), tz, settings().summary.small_count_threshold
    )
    i = need.by_type_month.rows.index("Harris County")
    width = len(need.by_type_month.columns)
    assert f"*Harris County*: {need.by_type_month.text(i, width)} this month" in harris
    assert need.by_type_year.value(i, width) is None
    assert leaks(bot, answer) == []


def test_needs_for_a_county_or_a_state_lists_only_its_rows(bot: Bot) -> None:
    route(bot)
    plant_waitlist(datetime.now(UTC))
    bot.slash("needs harris")
    county = bot.last_answer(STAFF, TRIAGE)
    assert "*Harris County*" in county and "*Dallas County*" not in county
    assert "All counties" not in county  # no subtotal the Doc does not show
    bot.slash("needs Texas")  # both counties are Texas partners' counties in the demo
    state = bot.last_answer(STAFF, TRIAGE)
    assert "*Harris County*" in state and "*Dallas County*" in state
    bot.slash("needs Nowhere County")
    assert "No row for “Nowhere County”" in bot.last_answer(STAFF, TRIAGE)
    bot.slash("needs harris 2099-01")
    assert "has not begun yet" in bot.last_answer(STAFF, TRIAGE)
    bot.slash("needs harris 2026-13")
    assert "takes a month such as 2026-11" in bot.last_answer(STAFF, TRIAGE)
    partner = bot.partner_users["riverbend"][0]
    bot.slash("needs", user=partner, channel="ref-riverbend")
    assert "Only coalition staff" in bot.last_answer(partner, "ref-riverbend")


def referrals_by_partner() -> dict[str, list[Referral]]:
    out: dict[str, list[Referral]] = {}
    with open_ledger().session() as session:
        from sqlalchemy import select

        for ref in session.scalars(select(Referral)):
            out.setdefault(ref.partner_id, []).append(ref)
    return out


def test_outcomes_a_partner_sees_its_own_and_staff_see_any(bot: Bot) -> None:
    route(bot)
    by_partner = referrals_by_partner()
    slug_of: dict[str, Any] = {
        pid: row["referral_channel"].removeprefix("ref-") for pid, row in bot.partners.items()
    }
    mine = next(pid for pid in by_partner if bot.partner_users.get(slug_of[pid]))
    other = next(pid for pid in by_partner if pid != mine)
    name, other_name = bot.partners[mine]["name"], bot.partners[other]["name"]
    user, channel = bot.partner_users[slug_of[mine]][0], bot.partners[mine]["referral_channel"]

    bot.slash("outcomes", user=user, channel=channel)
    own = bot.last_answer(user, channel)
    assert f"Referral outcomes: {name}" in own
    assert f"Referrals sent*\n{len(by_partner[mine])}" in own
    assert other_name not in own
    bot.slash(f"outcomes {other_name}", user=user, channel=channel)
    refused = bot.last_answer(user, channel)
    assert "No partner" in refused and "Referral outcomes" not in refused

    bot.slash("outcomes")
    every = bot.last_answer(STAFF, TRIAGE)
    assert "Referral outcomes by partner" in every
    bot.slash(f"outcomes {other_name}")
    named = bot.last_answer(STAFF, TRIAGE)
    assert f"Referral outcomes: {other_name}" in named
    assert f"Referrals sent*\n{len(by_partner[other])}" in named
    for answer in (own, every, named):
        assert leaks(bot, answer) == [] and "INT-" not in answer and "REF-" not in answer
