"""Helpers for the intake routing integration tests: the demo's partner directory, sheets and Slack as people see them."""

from __future__ import annotations

import os
from datetime import UTC, datetime
from typing import Any

import pytest
from sqlalchemy import create_engine, text

from coalition.ledger import open_ledger
from coalition.ledger.tables.roster import Partner
from coalition.settings import settings
from sandbox.seed import roster
from sandbox.seed.apply import demo_data


def empty_test_postgres() -> str:
    """COALITION_TEST_DATABASE_URL with an empty public schema (the test is skipped without it)."""
    url = os.environ.get("COALITION_TEST_DATABASE_URL", "")
    if not url:
        pytest.skip("PostgreSQL needs COALITION_TEST_DATABASE_URL (CI sets it)")
    engine = create_engine(url)
    with engine.begin() as conn:
        conn.execute(text("DROP SCHEMA public CASCADE"))
        conn.execute(text("CREATE SCHEMA public"))
    engine.dispose()
    return url


def member_id(spec: roster.MemberSpec) -> str:
    return "rec" + spec.slug.replace("-", "")[:14].ljust(14, "x")


def seed_partner_directory(handle: Any, **overrides: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """Write the demo's legal-aid members into the ledger's partner directory, as roster sync would."""
    data = demo_data(handle.sandbox)
    sheets = {m["Name"]: m.get("Referral sheet", "") for m in data.records["members"]}
    rows: dict[str, dict[str, Any]] = {}
    for spec in roster.LEGAL_AID_MEMBERS:
        row = {
            "member_id": member_id(spec),
            "name": spec.name,
            "services": list(spec.services),
            "counties": list(spec.counties),
            "states": [spec.state],
            "languages": list(spec.languages),
            "remote": spec.remote,
            "interpreter": spec.interpreter,
            "accepting": spec.accepting,
            "weekly_capacity": spec.capacity or 0,
            "income_limit_percent": spec.income_limit,
            "lsc_funded": spec.lsc,
            "accreditation": spec.accreditation,
            "referral_channel": spec.referral_channel,
            "referral_sheet": sheets[spec.name],
            "slack_users": [],
            "active": spec.status == "Active",
        }
        row.update(overrides.get(spec.slug, {}))
        rows[row["member_id"]] = row
    ledger = open_ledger()
    with ledger.session() as session:
        for row in rows.values():
            session.merge(Partner(**row))
        mark_directory_built(session, datetime.now(UTC))
    return rows


def mark_directory_built(session: Any, at: datetime | None) -> None:
    """Move the watermark a completed roster sync moves (None: as if no sync ever completed)."""
    from coalition.ledger.roster_store import SINCE
    from coalition.ledger.tables.common import Watermark

    row = session.get(Watermark, SINCE)
    if at is None:
        if row is not None:
            session.delete(row)
    elif row is None:
        session.add(Watermark(key=SINCE, value=at.isoformat()))
    else:
        row.value = at.isoformat()


def intake_values(handle: Any) -> list[list[str]]:
    names = settings().services.sheets
    model = handle.services["sheets"]
    return model.get_values(model.find_by_title(names.intake), names.intake_tab)


def intake_records(handle: Any) -> list[dict[str, str]]:
    values = intake_values(handle)
    header = values[0]
    return [
        {h: (row[i] if i < len(row) else "") for i, h in enumerate(header)} for row in values[1:]
    ]


def referral_rows(handle: Any, spreadsheet_id: str) -> list[dict[str, str]]:
    values = handle.services["sheets"].get_values(spreadsheet_id, roster.REFERRAL_TAB)
    header = values[0]
    return [
        {h: (row[i] if i < len(row) else "") for i, h in enumerate(header)} for row in values[1:]
    ]
