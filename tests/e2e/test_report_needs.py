"""`coalition report needs` as a person runs it: a file of suppressed aggregates with its definitions.

The ledger is planted with a half year of waitlisted cases, among them one that would
form a cell of 1 (Harris County, work permit). The CLI writes CSV and Markdown; the
test reads the CSV back as an attacker would (every shown count of the table, the
monthly trend and the reasons as linear equations over the unknown cells) and checks
that the planted cell can be neither seen nor worked out.
"""

from __future__ import annotations

import csv
from datetime import UTC, datetime
from fractions import Fraction
from pathlib import Path

import pytest
from linear_attack import Attacker
from test_cli import cli

from coalition.leakscan import LeakScanner
from coalition.ledger import open_ledger
from coalition.ledger.tables.intake import IntakeRecord

TABLE = "By county and case type"


def plant(url: str) -> None:
    cases = [("Harris County", "asylum", 3)] * 6 + [("Dallas County", "work permit", 4)] * 9
    cases += [("Dallas County", "asylum", 2)] * 7 + [("Travis County", "asylum", 5)] * 8
    cases += [("Harris County", "work permit", 5)]  # the planted case: a cell of 1
    cases += [("", "asylum", 6)] * 5  # no county given: "not stated", never dropped
    cases += [("Travis County", "VAWA", 1)] * 3  # survivor cases: only "Protected categories"
    cases += [("Harris County", "asylum", 8)] * 4  # after the period: not counted
    with open_ledger(url).session() as session:
        for n, (place, category, month) in enumerate(cases):
            session.add(
                IntakeRecord(
                    intake_id=f"INT-E2E{n:07d}",
                    received_at=datetime(2026, month, 12, 16, tzinfo=UTC),
                    status="waitlist",
                    category=category,
                    place=place or None,
                    language="Spanish",
                    reason_code="no_capacity",
                )
            )


def shown_table(rows: list[dict[str, str]]) -> tuple[list[str], list[str], dict]:
    mine = [r for r in rows if r["table"] == TABLE]
    labels = list(dict.fromkeys(r["row"] for r in mine))
    columns = list(dict.fromkeys(r["column"] for r in mine))
    values = {(r["row"], r["column"]): r["count"] for r in mine}
    return labels, columns, values


def derivable(rows: list[dict[str, str]], target: tuple[str, str]) -> bool:
    """Whether the CSV's shown counts fix `target`'s cell (the period total from the trend too)."""
    labels, columns, values = shown_table(rows)
    inner_rows = [r for r in labels if r != "All"]
    inner_cols = [c for c in columns if c != "All"]
    attacker = Attacker()
    for r in labels:
        for c in columns:
            if values[(r, c)] == "withheld":
                continue
            rs = inner_rows if r == "All" else [r]
            cs = inner_cols if c == "All" else [c]
            attacker.learn({("cell", i, j): Fraction(1) for i in rs for j in cs})
    trend = {r["row"]: r["count"] for r in rows if r["table"] == "Month by month"}
    if trend.get("Period", "withheld") != "withheld":
        attacker.learn({("cell", i, j): Fraction(1) for i in inner_rows for j in inner_cols})
    return attacker.knows({("cell", *target): Fraction(1)})


@pytest.mark.timeout(300)
def test_report_needs_writes_suppressed_aggregates_with_definitions(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'ledger.sqlite3'}"
    plant(url)
    env = {"COALITION_DATABASE_URL": url, "COALITION_VAR_DIR": str(tmp_path / "var")}
    out_csv, out_md = tmp_path / "needs.csv", tmp_path / "needs.md"
    run = cli(
        "report",
        "needs",
        "--from",
        "2026-01-01",
        "--to",
        "2026-06-30",
        "--out",
        str(out_csv),
        env=env,
    )
    assert run.returncode == 0, run.stderr
    assert "Wrote" in run.stdout and "people waitlisted" in run.stdout
    rows = list(csv.DictReader(out_csv.open(encoding="utf-8")))
    labels, columns, values = shown_table(rows)
    assert "not stated" in labels and "Protected categories" in columns
    assert "VAWA" not in out_csv.read_text() and "INT-" not in out_csv.read_text()
    assert values[("Harris County", "asylum")] == "6"
    assert values[("Harris County", "work permit")] == "withheld"
    assert not derivable(rows, ("Harris County", "work permit"))
    assert values[("All", "All")] in {"39", "withheld"}  # the 4 August cases are outside
    terms = {r["row"] for r in rows if r["table"] == "definition"}
    assert {"Waitlisted", "Withheld", "County", "Protected categories"} <= terms

    run = cli(
        "report",
        "needs",
        "--from",
        "2026-01-01",
        "--to",
        "2026-06-30",
        "--out",
        str(out_md),
        env=env,
    )
    assert run.returncode == 0, run.stderr
    text = out_md.read_text(encoding="utf-8")
    assert text.startswith("# Unmet legal need, 2026-01-01 to 2026-06-30")
    assert "## How these figures are counted" in text and "withheld" in text
    assert "| Harris County | 6 |" in text
    # The leak scan over the files: nothing of a person (the ledger holds none; labels only).
    scanner = LeakScanner({"Harris County asylum 1", "INT-E2E0000021"})
    assert not scanner.scan("export", text) and not scanner.scan("export", out_csv.read_text())


@pytest.mark.parametrize(
    ("args", "words"),
    [
        (["--from", "2026-13-01", "--to", "2026-06-30", "--out", "x.csv"], "is not a date"),
        (["--from", "2026-06-30", "--to", "2026-01-01", "--out", "x.csv"], "is before"),
        (
            ["--from", "2026-01-01", "--to", "2026-06-30", "--out", "x.pdf"],
            "must end in .csv or .md",
        ),
    ],
)
def test_report_needs_refuses_what_it_cannot_do(
    tmp_path: Path, args: list[str], words: str
) -> None:
    env = {
        "COALITION_DATABASE_URL": f"sqlite:///{tmp_path / 'l.sqlite3'}",
        "COALITION_VAR_DIR": str(tmp_path / "var"),
    }
    run = cli(
        "report", "needs", *[str(tmp_path / a) if a.startswith("x.") else a for a in args], env=env
    )
    assert run.returncode == 2 and words in run.stderr
