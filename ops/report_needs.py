"""`coalition report needs`: unmet legal need over a span of days, as a CSV or Markdown file for publication.

The same suppressed aggregates as the weekly Doc's Unmet need section
(coalition/summary/need.py), read from the ledger only (ids, statuses, labels,
times), with the definitions and the suppression rule written into the file, so a
research brief or testimony can quote it as it stands. Before anything is written,
the text passes the same privacy check as the Doc.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from coalition.privacy import PIIError, find_pii
from coalition.summary.evidence import cross_rows, series_rows
from coalition.summary.need import PeriodNeed, need_between
from coalition.summary.suppression import PROTECTED_THRESHOLD, Table
from coalition.summary.weeks import local_midnight

FORMATS = (".csv", ".md")


class ReportError(ValueError):
    """A request the export cannot serve, said for a person (exit code 2)."""


def definitions(need: PeriodNeed, timezone: str) -> list[tuple[str, str]]:
    """What each figure means, and the suppression rule, in the words of the weekly Doc."""
    return [
        ("Waitlisted", "Intake requests received in the period that are on the waitlist now "
         "because routing found no partner for them, by the day the request was received in "
         f"{timezone} time; a case later placed leaves the count."),
        ("Reasons", "No partner serves the county; none speaks the language or has an "
         "interpreter; none offers the case type (or has the accreditation it needs, or may "
         "take it under LSC rules); the household's income is over every fitting partner's "
         "limit; every fitting partner was out of capacity for the week."),
        ("County", "The county the person gave (or the state when no county was given); 'not "
         "stated' when neither was, or the case type could not be recognised. Only the 10 "
         "largest counties, 6 case types and 6 languages are listed; the rest are counted "
         "under 'other'."),
        ("Protected categories", "Survivor-based cases are never named by their type: they "
         "are only ever counted together under this label."),
        ("Withheld", f"To protect the people who asked for help, a count under {need.threshold} "
         f"is withheld, and so is any count of protected categories under {PROTECTED_THRESHOLD}, "
         "zero included; then enough other cells are withheld that no withheld count can be "
         "worked out from the totals or from another table of this file. Every withheld cell "
         "reads 'withheld', whatever the reason."),
        ("Source", "The coalition bot's ledger: ids, statuses, reason codes, labels and times; "
         "never a person's details."),
    ]  # fmt: skip


@dataclass(frozen=True)
class Section:
    title: str
    header: list[str]
    rows: list[list[str]]


def sections(need: PeriodNeed) -> list[Section]:
    def cross(title: str, table: Table) -> Section:
        return Section(title, ["County", *table.columns, "All"], cross_rows(table))

    return [
        cross("By county and case type", need.by_type),
        cross("By county and language", need.by_language),
        Section(
            "Month by month", ["Month", "People waitlisted"], series_rows(need.trend, "Period")
        ),
        Section(
            "Why no partner could take the case",
            ["Reason", "People"],
            series_rows(need.reasons, "All reasons"),
        ),
    ]


def period_label(need: PeriodNeed) -> str:
    return f"{need.first.isoformat()} to {need.last.isoformat()}"


def as_markdown(need: PeriodNeed, timezone: str) -> str:
    lines = [
        f"# Unmet legal need, {period_label(need)}",
        "",
        "People who asked the coalition for legal help and whom no partner could take.",
        "",
    ]
    for s in sections(need):
        lines += [f"## {s.title}", "", _md_row(s.header), _md_row(["---"] * len(s.header))]
        lines += [_md_row(r) for r in s.rows]
        lines.append("")
    lines += ["## How these figures are counted", ""]
    lines += [f"- **{term}**: {text}" for term, text in definitions(need, timezone)]
    return "\n".join(lines) + "\n"


def _md_row(cells: list[str]) -> str:
    return "| " + " | ".join(c.replace("|", "\\|") for c in cells) + " |"


def as_csv(need: PeriodNeed, timezone: str) -> str:
    """Long form, one figure a line: table, row, column, count ('withheld' when withheld)."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(["table", "row", "column", "count", "period"])
    for s in sections(need):
        for row in s.rows:
            for column, value in zip(s.header[1:], row[1:], strict=True):
                writer.writerow(
                    [s.title, row[0], column, value.replace(",", ""), period_label(need)]
                )
    for term, text in definitions(need, timezone):
        writer.writerow(["definition", term, "", text, period_label(need)])
    return out.getvalue()


def parse_day(text: str, option: str) -> date:
    try:
        return date.fromisoformat(text.strip())
    except ValueError:
        raise ReportError(f"{option}: {text!r} is not a date; expected YYYY-MM-DD") from None


def write_needs_report(first_text: str, last_text: str, out: Path) -> tuple[PeriodNeed, str]:
    """Read the ledger, suppress, check, write `out`; the figures and the text written."""
    from coalition.ledger import open_ledger
    from coalition.ledger.evidence_store import EvidenceStore
    from coalition.settings import settings

    first, last = parse_day(first_text, "--from"), parse_day(last_text, "--to")
    if last < first:
        raise ReportError(f"--to {last} is before --from {first}")
    if out.suffix.lower() not in FORMATS:
        raise ReportError(f"--out: {out.name!r} must end in .csv or .md")
    cfg = settings()
    tz = ZoneInfo(cfg.services.timezone)
    rows = EvidenceStore(open_ledger()).need_facts(
        local_midnight(first, tz), local_midnight(last + timedelta(days=1), tz)
    )
    need = need_between(rows, first, last, tz, cfg.summary.small_count_threshold)
    render = as_csv if out.suffix.lower() == ".csv" else as_markdown
    text = render(need, cfg.services.timezone)
    if find_pii(text):
        raise PIIError({"export"}, [str(out.name)])
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(text, encoding="utf-8")
    return need, text


__all__ = ["ReportError", "as_csv", "as_markdown", "definitions", "write_needs_report"]
