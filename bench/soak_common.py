"""What both halves of `make soak` share: the child that runs the flows, its environment, and the checks of what people see.

`bench/soak.py` (random kills) and `bench/soak_points.py` (kill points) import
this module; neither imports the other.
"""

from __future__ import annotations

import json
import os
from collections import Counter
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
SEQUENCE = ("roster-sync", "intake-routing", "alerts", "weekly-summary", "referral-follow-up")
BOT_COLUMNS = ("Intake ID", "Status", "Partner", "Referral ID", "Routed at", "Routing reason")
STAFF_MARK = "Staff notes"
LEASE_SECONDS = 2.0  # the children's lease (schedules.yaml says 5 minutes for real runs)


# ---------------------------------------------------------------- the child: run the flows
def child(start: str | None = None, only: list[str] | None = None) -> int:
    """Run every built flow once, in order (from `start`, or just `only`), saying when each starts and how it ended."""
    from ops.prefect_env import configure_prefect

    configure_prefect(Path(os.environ["COALITION_VAR_DIR"]) / "prefect")
    from flows.registry import FLOWS

    failed = 0
    names = only or SEQUENCE[SEQUENCE.index(start) if start else 0 :]
    for name in names:
        entry = FLOWS[name]
        print(f"START {name}", flush=True)
        state = entry.load()(return_state=True)
        print(f"DONE {name} {state.type.value} {state.message or ''}"[:300], flush=True)
        if _stood_aside(state):
            print(f"STOOD ASIDE {name}", flush=True)  # another run held the flow's lease
        failed += 0 if state.is_completed() else 1
    return 1 if failed else 0


def _stood_aside(state: Any) -> bool:
    try:
        return bool(getattr(state.result(raise_on_failure=False), "stood_aside", False))
    except Exception:  # no result kept: it did not stand aside as far as we can tell
        return False


def soak_env(url: str, var: Path, scale: float, database_url: str | None = None) -> dict[str, str]:
    env = dict(os.environ)
    env.update(
        {
            "COALITION_SANDBOX_URL": url,
            "COALITION_VAR_DIR": str(var),
            "COALITION_DATABASE_URL": database_url or f"sqlite:///{var / 'ledger.sqlite3'}",
            "COALITION_TIME_SCALE": str(scale),
            # A killed run's claims lapse in seconds, so the reruns take its work over at once.
            "COALITION_LEASE_SECONDS": str(LEASE_SECONDS),
            "PREFECT_LOGGING_LEVEL": "WARNING",
            "PYTHONPATH": str(ROOT),
        }
    )
    return env


def own_budgets(env: dict[str, str]) -> dict[str, str]:
    """`env` with Airtable budgets kept per process, not shared through the Prefect server.

    The soak's jobs share one Prefect server but each has its own sandbox (with the same
    base id): sharing one global limit across them would make four independent jobs wait
    for one another's slots. Only runners against the same sandbox should share.
    """
    from integrations.shared_budget import LOCAL_PREFECT_API

    api = env.get("PREFECT_API_URL")
    return {**env, LOCAL_PREFECT_API: api} if api else env


# ---------------------------------------------------------------- reading what people see
def intake_table(sandbox: Any) -> tuple[list[str], list[list[str]]]:
    from coalition.settings import settings

    names = settings().services.sheets
    sheets = sandbox.services["sheets"]
    header, *rows = sheets.get_values(sheets.find_by_title(names.intake), names.intake_tab)
    return header, [row + [""] * (len(header) - len(row)) for row in rows]


def mark_staff_cells(sandbox: Any) -> dict[str, list[str]]:
    """Give every Intake row a unique staff note (to find it again) and return its non-bot cells."""
    from coalition.settings import settings

    names = settings().services.sheets
    sheets = sandbox.services["sheets"]
    header, rows = intake_table(sandbox)
    mark = header.index(STAFF_MARK)
    for i, row in enumerate(rows):
        row[mark] = f"soak-row-{i:04d}"
    sheets.set_values(sheets.find_by_title(names.intake), names.intake_tab, [header, *rows])
    return {row[mark]: _not_bot(header, row) for row in rows}


def _not_bot(header: list[str], row: list[str]) -> list[str]:
    return [cell for name, cell in zip(header, row, strict=True) if name not in BOT_COLUMNS]


def check_invariants(sandbox: Any, before: dict[str, list[str]]) -> dict[str, int]:
    header, rows = intake_table(sandbox)
    mark = header.index(STAFF_MARK)
    col = {name: header.index(name) for name in BOT_COLUMNS}
    seen = {row[mark]: row for row in rows if row[mark]}
    lost = len(set(before) ^ set(seen)) + (len(rows) - len(seen))
    overwritten = 0
    for key, cells in before.items():
        row = seen.get(key)
        if row is None:
            continue
        overwritten += sum(1 for a, b in zip(cells, _not_bot(header, row), strict=True) if a != b)
        answered = any(
            cell.strip()
            for name, cell in zip(header, row, strict=True)
            if name not in (*BOT_COLUMNS, STAFF_MARK, "Timestamp")
        )
        if answered and not (
            row[col["Intake ID"]] and row[col["Status"]] and row[col["Routing reason"]]
        ):
            lost += 1
    return {
        "intake rows lost": lost,
        "referrals duplicated": referral_duplicates(sandbox),
        "Slack messages duplicated": slack_duplicates(sandbox),
        "documents duplicated": document_duplicates(sandbox),
        "sheet cells overwritten that the bot does not own": overwritten,
    }


def referral_duplicates(sandbox: Any) -> int:
    """Partner-sheet rows beyond one per referral (by referral id and by intake per partner)."""
    from coalition.ledger import open_ledger
    from coalition.ledger.referrals import STATES, ReferralStore
    from coalition.ledger.roster_store import PartnerDirectory

    sheets = sandbox.services["sheets"]
    ledger = open_ledger()
    partner_sheets = {
        p["member_id"]: p["referral_sheet"]
        for p in PartnerDirectory(ledger).partners()
        if p["referral_sheet"]
    }
    attempts = Counter(
        (r.partner_id, r.intake_id) for r in ReferralStore(ledger).referrals_in(STATES)
    )
    extra = 0
    for partner_id, sheet_id in partner_sheets.items():
        if not sheets.exists(sheet_id):
            continue
        header, *rows = sheets.get_values(sheet_id, sheets.tabs(sheet_id)[0]) or [[]]
        if "Intake ID" not in header:
            continue
        ids = Counter(row[header.index("Referral ID")] for row in rows if row)
        extra += sum(n - 1 for n in ids.values() if n > 1)
        intakes = Counter(row[header.index("Intake ID")] for row in rows if len(row) > 1)
        extra += sum(
            max(n - attempts.get((partner_id, i), 0), 0) for i, n in intakes.items() if n > 1
        )
    return extra


def slack_duplicates(sandbox: Any) -> int:
    """The same content posted more than once in one channel (edits in place do not count)."""
    posts = Counter()
    for message in sandbox.services["slack"].all_messages():
        if message["kind"] != "message":
            continue
        body = json.dumps(
            [message.get("text"), message.get("blocks"), message.get("attachments")], sort_keys=True
        )
        posts[(message["channel"], body)] += 1
    return sum(n - 1 for n in posts.values() if n > 1)


def document_duplicates(sandbox: Any) -> int:
    titles = Counter(d.get("title") for d in sandbox.services["docs"].list_documents())
    return sum(n - 1 for n in titles.values() if n > 1)
