"""`coalition purge`: forget ledger history past the configured retention, and (when asked) blank old intake answers.

Retention comes from config/schedules.yaml (`retention.ledger_days`,
`retention.intake_personal_fields_days`). The ledger loses what is only history:
audit entries, referral events, closed referrals, sent notices, deleted or ops
messages, old weekly summary pointers, members long removed; old intakes keep
their id and status (so a row is never routed twice) but lose the keyed hashes of
their phone and e-mail. With `intake_personal_fields`, the Intake sheet's personal
answers of closed rows (Accepted, Duplicate, or marked Closed by staff) older than
N days are blanked, in one write; ids, status, county, state and language stay
for the counts. A dry run (the default) counts what would go and changes nothing.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from rich.console import Console
from rich.table import Table

from coalition.intake.fields import DEFAULT_NAMES, resolve_columns
from coalition.intake.normalize import fold, parse_timestamp
from coalition.ledger import utcnow
from coalition.ledger.retention import history_counts, purge_history
from coalition.settings import IntakeFields, Settings, settings
from coalition.sheet_table import a1_cell

# Intake form answers that identify or describe a person (DESIGN.md, client data protection).
PERSONAL_FIELDS = (
    "name", "phone", "email", "city", "help", "detained", "court_date", "entry_date",
    "birth_date", "household", "income", "notes",
)  # fmt: skip
CLOSED_STATUSES = frozenset({"accepted", "duplicate", "closed"})


# ---------------------------------------------------------------- the Intake sheet (pure)
@dataclass
class BlankPlan:
    """The cells to blank in the Intake sheet, and the Intake IDs of their rows."""

    cells: list[str] = field(default_factory=list)  # A1 references
    intake_ids: list[str] = field(default_factory=list)
    skipped_undated: int = 0


def plan_blanking(
    values: Sequence[Sequence[Any]],
    tab: str,
    now: datetime,
    days: int,
    timezone: str,
    names: IntakeFields = DEFAULT_NAMES,
) -> BlankPlan:
    """Personal cells of closed rows whose form Timestamp is more than `days` old (row 1 is the header)."""
    plan = BlankPlan()
    if not values:
        return plan
    header = [str(cell) for cell in values[0]]
    columns = resolve_columns(header, names)
    position = {name: index for index, name in enumerate(header)}
    status_col = position.get(columns.get("status", names.bot.status))
    stamp_col = position.get(columns.get("timestamp", ""))
    personal = [position[columns[key]] for key in PERSONAL_FIELDS if key in columns]
    id_col = position.get(columns.get("intake_id", names.bot.intake_id))
    if status_col is None or stamp_col is None or not personal:
        return plan
    cutoff = now.astimezone(ZoneInfo(timezone)).replace(tzinfo=None) - timedelta(days=days)
    for number, row in enumerate(values[1:], start=2):
        status = fold(_cell(row, status_col)).strip(" .!")
        if status not in CLOSED_STATUSES:
            continue
        received = parse_timestamp(_cell(row, stamp_col))
        if received is None:
            plan.skipped_undated += 1
            continue
        if received >= cutoff:
            continue
        filled = [col for col in personal if _cell(row, col).strip()]
        if filled:
            plan.cells.extend(a1_cell(tab, number, col) for col in filled)
            plan.intake_ids.append(_cell(row, id_col) if id_col is not None else f"row {number}")
    return plan


def _cell(row: Sequence[Any], index: int) -> str:
    return str(row[index]) if index < len(row) else ""


# ---------------------------------------------------------------- the command
@dataclass
class PurgeReport:
    cutoff: datetime
    ledger: dict[str, int]
    sheet: BlankPlan | None = None
    dry_run: bool = True


def purge(
    dry_run: bool = True, intake_personal_fields: bool = False, console: Console | None = None
) -> PurgeReport:
    """Count (dry run) or remove ledger history past retention; optionally blank old intake answers."""
    from coalition.ledger import open_ledger

    console = console or Console(highlight=False)
    cfg = settings()
    now = utcnow()
    cutoff = now - timedelta(days=cfg.schedules.retention.ledger_days)
    ledger = open_ledger()
    counts = history_counts(ledger, cutoff) if dry_run else purge_history(ledger, cutoff)
    report = PurgeReport(cutoff, counts, dry_run=dry_run)
    if intake_personal_fields:
        report.sheet = _blank_intake(cfg, now, dry_run)
    _print(console, report, cfg)
    return report


def _blank_intake(cfg: Settings, now: datetime, dry_run: bool) -> BlankPlan:
    from integrations.clients import sheets_client
    from integrations.sheets import read_tab_as_shown, tab_by_name, write_ranges

    client = sheets_client(cfg)
    names = cfg.services.sheets
    tab = tab_by_name(client, names.intake, names.intake_tab)
    values = read_tab_as_shown(client, tab)
    days = cfg.schedules.retention.intake_personal_fields_days
    plan = plan_blanking(
        values, names.intake_tab, now, days, cfg.services.timezone, cfg.fields.intake
    )
    if plan.cells and not dry_run:
        write_ranges(client, tab, [{"range": cell, "values": [[""]]} for cell in plan.cells])
    return plan


def _print(console: Console, report: PurgeReport, cfg: Settings) -> None:
    verb = "would remove" if report.dry_run else "removed"
    table = Table(title=f"Ledger history before {report.cutoff:%Y-%m-%d} ({verb})")
    table.add_column("what")
    table.add_column("rows", justify="right")
    for label, count in report.ledger.items():
        table.add_row(label, str(count))
    console.print(table)
    if report.sheet is not None:
        days = cfg.schedules.retention.intake_personal_fields_days
        rows = len(report.sheet.intake_ids)
        console.print(
            f"Intake sheet: {'would blank' if report.dry_run else 'blanked'} {len(report.sheet.cells)} "
            f"personal cells in {rows} closed row{'' if rows == 1 else 's'} older than {days} days"
            + (
                f" ({', '.join(report.sheet.intake_ids[:20])}{' ...' if rows > 20 else ''})"
                if rows
                else ""
            )
        )
        if report.sheet.skipped_undated:
            console.print(
                f"{report.sheet.skipped_undated} closed rows have no readable Timestamp and were left alone."
            )
    if report.dry_run:
        console.print("Dry run: nothing changed. Run `coalition purge --apply` to do it.")


__all__ = [
    "BlankPlan",
    "PurgeReport",
    "plan_blanking",
    "purge",
]
