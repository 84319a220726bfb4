"""Leak scan: after a full demo run, no personal value of the seed is in anything the bot wrote outside the sheets.

Scanned: every Slack message (posts, edits, replies, ephemerals), every log line
(Python logging, the process's stdout/stderr, and the Prefect API's run logs),
every Prefect artifact of the runs, every row of every ledger table, every Google
Doc, and every partner sheet (for the values of cases that are not that
partner's, and for contact details of cases without consent). The scanner is
`coalition.leakscan`; the second test plants a value in each kind of output and
proves the collection and the scan find it.
"""

from __future__ import annotations

import json
import logging
from collections import defaultdict
from collections.abc import Iterable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import MetaData, select

from coalition.intake.normalize import parse_yes_no
from coalition.leakscan import LeakScanner, report
from coalition.ledger import open_ledger
from coalition.ledger.tables.intake import Referral
from coalition.ledger.tables.roster import Partner
from coalition.settings import reload_settings, settings
from sandbox.seed.apply import personal_values
from sandbox.seed.demo import is_distinctive
from sandbox.seed.intake import PERSONAL_COLUMNS

pytestmark = pytest.mark.timeout(900)

DEMO_ORDER = ("roster-sync", "intake-routing", "alerts", "weekly-summary", "referral-follow-up")
CONTACT_COLUMNS = ("Full name", "Phone", "Email")
Texts = list[tuple[str, str]]


# ---------------------------------------------------------------- running the demo
def run_demo_flows() -> tuple[list[str], list[str], list[str]]:
    """Every flow of the demo, twice, as Prefect flow runs: (flow run ids, ran, failures)."""
    from flows.registry import FLOWS

    run_ids: list[str] = []
    ran: list[str] = []
    failures: list[str] = []
    for name in DEMO_ORDER:
        flow = FLOWS[name].load()
        for attempt in ("first run", "rerun"):
            state = flow(return_state=True)
            run_ids.append(str(state.state_details.flow_run_id))
            if not state.is_completed():
                failures.append(f"{name} {attempt}: {state.message}")
        ran.append(name)
    return run_ids, ran, failures


# ---------------------------------------------------------------- collecting every output
def slack_texts(handle: Any) -> Texts:
    out: Texts = []
    for message in handle.services["slack"].all_messages():
        shown = {k: message.get(k) for k in ("text", "blocks", "attachments", "metadata")}
        source = f"slack {message['kind']} {message['channel']}/{message['ts']}"
        out.append((source, json.dumps(shown, ensure_ascii=False)))
    return out


def prefect_texts(run_ids: Iterable[str]) -> Texts:
    """Artifacts and API log lines of these flow runs, read back from the Prefect API."""
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.filters import (
        ArtifactFilter,
        ArtifactFilterFlowRunId,
        LogFilter,
        LogFilterFlowRunId,
    )
    from prefect.logging.handlers import APILogWorker

    # Run logs reach the API in batches from a background worker: send what is queued first,
    # or a loaded machine reads the API before the lines arrive (and the scan misses them).
    APILogWorker.drain_all(timeout=30)
    ids = list(run_ids)
    out: Texts = []
    with get_client(sync_client=True) as client:
        artifacts = client.read_artifacts(
            artifact_filter=ArtifactFilter(flow_run_id=ArtifactFilterFlowRunId(any_=ids))
        )
        for artifact in artifacts:
            blob = json.dumps(
                [artifact.key, artifact.description, artifact.data], ensure_ascii=False, default=str
            )
            out.append((f"artifact {artifact.key or artifact.id}", blob))
        for log in client.read_logs(log_filter=LogFilter(flow_run_id=LogFilterFlowRunId(any_=ids))):
            out.append((f"prefect log {log.name}", log.message))
    return out


def ledger_texts() -> Texts:
    """Every row of every table, every column, as text."""
    ledger = open_ledger()
    meta = MetaData()
    meta.reflect(bind=ledger.engine)
    out: Texts = []
    with ledger.engine.connect() as conn:
        for table in meta.sorted_tables:
            for i, row in enumerate(conn.execute(select(table))):
                blob = json.dumps([str(v) for v in row], ensure_ascii=False)
                out.append((f"ledger {table.name} row {i}", blob))
    return out


def doc_texts(handle: Any) -> Texts:
    docs = handle.services["docs"]
    return [(f"doc {d['title']}", docs.plain_text(d["id"])) for d in _documents(docs)]


def _documents(docs: Any) -> list[dict[str, str]]:
    return [
        {"id": d.get("documentId") or d.get("id"), "title": d.get("title", "")}
        for d in docs.list_documents()
    ]


def log_texts(caplog: pytest.LogCaptureFixture, capfd: pytest.CaptureFixture[str]) -> Texts:
    captured = capfd.readouterr()
    lines = [(f"log {r.name}", r.getMessage()) for r in caplog.records]
    lines += [("stdout", captured.out), ("stderr", captured.err)]
    return lines


def public_values(handle: Any) -> set[str]:
    """Organization data anyone may see (members, campaigns, bills, activities), dates also as days.

    A personal value equal to one of these (a court date that is also a bill's hearing
    date) proves nothing when found, so the scanner counts it instead of searching it.
    """
    cfg = settings().services.airtable
    airtable = handle.services["airtable"]
    base = airtable.find_base(cfg.base)
    out: set[str] = set()
    for table in (
        cfg.tables.members,
        cfg.tables.campaigns,
        cfg.tables.bills,
        cfg.tables.activities,
    ):
        for record in airtable.records(base, table):
            for value in record["fields"].values():
                for item in value if isinstance(value, list) else [value]:
                    text = str(item)
                    out.add(text)
                    if len(text) > 10 and text[4:5] == "-" and text[:4].isdigit():
                        out.add(text[:10])
    return out


# ---------------------------------------------------------------- partner sheets
def intake_people(handle: Any) -> dict[str, dict[str, Any]]:
    """Intake ID -> the person's distinctive values and consent, from the Intake sheet."""
    names = settings().services.sheets
    model = handle.services["sheets"]
    header, *rows = model.get_values(model.find_by_title(names.intake), names.intake_tab)
    people: dict[str, dict[str, Any]] = {}
    for row in rows:
        cells = dict(zip(header, row + [""] * (len(header) - len(row)), strict=True))
        if not cells.get("Intake ID"):
            continue
        values = {cells[c].strip() for c in PERSONAL_COLUMNS if c in cells}
        contact = {cells[c].strip() for c in CONTACT_COLUMNS if c in cells}
        people[cells["Intake ID"]] = {
            "values": {v for v in values if is_distinctive(v)},
            "contact": {v for v in contact if is_distinctive(v)},
            "consent": parse_yes_no(cells.get("Consent to share", "")) is True,
        }
    return people


def partner_sheet_leaks(handle: Any, extra_forbidden: set[str]) -> tuple[list[str], int]:
    """Problems in partner sheets, and how many sheets were read."""
    people = intake_people(handle)
    model = handle.services["sheets"]
    with open_ledger().session() as session:
        partners = {
            p.member_id: p.referral_sheet
            for p in session.scalars(select(Partner))
            if p.referral_sheet
        }
        sent: dict[str, set[str]] = defaultdict(set)
        for referral in session.scalars(select(Referral)):
            sent[referral.partner_id].add(referral.intake_id)
    problems: list[str] = []
    read = 0
    for partner_id, sheet_id in partners.items():
        if not model.exists(sheet_id):
            continue
        read += 1
        tab = model.tabs(sheet_id)[0]
        header, *rows = model.get_values(sheet_id, tab) or [[]]
        mine = sent[partner_id]
        allowed = set().union(
            *(people[i]["values"] for i in mine if i in people and people[i]["consent"])
        )
        forbidden = (
            set().union(*(p["values"] for i, p in people.items() if i not in mine))
            | extra_forbidden
        )
        forbidden |= set().union(
            *(people[i]["contact"] for i in mine if i in people and not people[i]["consent"])
        )
        # The partner's own cases may share a city or a court date with others: not a leak.
        scanner = LeakScanner(forbidden, public=allowed)
        for n, row in enumerate(rows, start=2):
            cells = dict(zip(header, row, strict=False))
            intake_id = cells.get("Intake ID", "")
            if intake_id and intake_id not in mine:
                problems.append(
                    f"partner {partner_id} row {n}: an intake referred to another partner"
                )
            leaks = scanner.scan(
                f"partner {partner_id} row {n}", json.dumps(row, ensure_ascii=False)
            )
            problems += [str(leak) for leak in leaks]
    return problems, read


# ---------------------------------------------------------------- the tests
@pytest.fixture
def demo_env(demo, monkeypatch: pytest.MonkeyPatch):
    from integrations.slack import forget_channels

    monkeypatch.setenv("COALITION_TIME_SCALE", "50")
    reload_settings()
    forget_channels()
    return demo


def export_texts(folder: Path) -> Texts:
    """`coalition report needs` over the last 12 months, as CSV and as Markdown."""
    from ops.report_needs import write_needs_report

    today = datetime.now(UTC).date()
    first = (today - timedelta(days=365)).isoformat()
    out = []
    for name in ("needs.csv", "needs.md"):
        _, text = write_needs_report(first, today.isoformat(), folder / name)
        out.append((f"export {name}", text))
    return out


def all_outputs(
    handle: Any, run_ids: list[str], caplog: Any, capfd: Any, folder: Path
) -> dict[str, Texts]:
    return {
        "export": export_texts(folder),
        "slack": slack_texts(handle),
        "logs": log_texts(caplog, capfd)
        + [t for t in prefect_texts(run_ids) if t[0].startswith("prefect log")],
        "artifacts": [t for t in prefect_texts(run_ids) if t[0].startswith("artifact")],
        "ledger": ledger_texts(),
        "docs": doc_texts(handle),
    }


def test_a_full_demo_run_leaks_nothing(
    demo_env, caplog: pytest.LogCaptureFixture, capfd, tmp_path: Path
) -> None:
    caplog.set_level(logging.DEBUG)
    values = personal_values(demo_env.sandbox)
    assert len(values) > 1000  # names, phones, emails, cities, notes, dates, donors, contacts

    run_ids, ran, failures = run_demo_flows()

    outputs = all_outputs(demo_env, run_ids, caplog, capfd, tmp_path)
    scanner = LeakScanner(values, public=public_values(demo_env))
    leaks = [leak for texts in outputs.values() for leak in scanner.scan_all(texts)]
    assert not leaks, report(leaks)
    problems, sheets_read = partner_sheet_leaks(demo_env, extra_forbidden=set())
    assert not problems, "\n".join(problems[:40])

    # The scan looked at real output, not at nothing.
    assert set(ran) == set(DEMO_ORDER), ran
    assert len(outputs["slack"]) >= 10 and len(outputs["ledger"]) >= 100
    assert outputs["artifacts"], "no Prefect artifact was read"
    assert sheets_read >= 3
    if "weekly-summary" in ran and not any(f.startswith("weekly-summary") for f in failures):
        assert outputs["docs"], "the weekly summary left no document"
    print(
        f"\nleak scan: {scanner.size} forms of {len(values)} personal values "
        f"({len(scanner.skipped_public)} also public organization data, not searched); flows run {ran}; "
        "scanned "
        + ", ".join(f"{k} {len(v)}" for k, v in outputs.items())
        + f", partner sheets {sheets_read}"
    )
    # Scanned even so; but a demo whose flows fail is not a full demo run.
    assert not failures, failures


def test_a_planted_value_is_found_in_every_kind_of_output(
    demo_env, caplog, capfd, tmp_path: Path
) -> None:
    """Plant one seed value in each output the scan reads, and see every plant found where it was put."""
    from prefect import flow, get_run_logger
    from prefect.artifacts import create_markdown_artifact

    from coalition.ledger.tables.common import Watermark
    from sandbox.seed.apply import demo_data

    caplog.set_level(logging.DEBUG)
    data = demo_data(demo_env.sandbox)
    case = next(
        c for c in data.intake if all(is_distinctive(c.values.get(k, "")) for k in CONTACT_COLUMNS)
    )
    name, phone, email = (case.values[c] for c in CONTACT_COLUMNS)
    donor = next(str(g["Donor"]) for g in data.records["donations"] if g.get("Donor"))
    values = personal_values(demo_env.sandbox)
    assert {name, phone, email, donor} <= values

    @flow(name="planted-leak")
    def planted() -> None:
        get_run_logger().info("prefect run logger says %s", email)
        create_markdown_artifact(key="planted-leak", markdown=f"# oops\n{phone}")

    state = planted(return_state=True)
    logging.getLogger("flows.planted").warning("python logger says %s", name.upper())
    slack = demo_env.services["slack"]
    channel = slack.channel_by_name(settings().services.slack.channels.leadership)["id"]
    slack.post_message(channel, {"text": f"gift from {donor}", "user": slack.bot_user_id})
    with open_ledger().session() as session:
        session.merge(Watermark(key="planted", value=phone.replace(" ", "")))
    docs = demo_env.services["docs"]
    doc_id = docs.create_document(title="Planted week")
    insert = {"insertText": {"location": {"index": 1}, "text": f"Donor: {donor}\n"}}
    docs.batch_update(doc_id, [insert])

    # Six waitlisted cases whose county reads as a client's name: a row of the export.
    from coalition.ledger.tables.intake import IntakeRecord

    with open_ledger().session() as session:
        for n in range(6):
            session.add(
                IntakeRecord(
                    intake_id=f"INT-LEAK{n:06d}",
                    received_at=datetime.now(UTC) - timedelta(days=2),
                    status="waitlist",
                    category="asylum",
                    place=name,
                    language="Spanish",
                    reason_code="no_capacity",
                )
            )

    outputs = all_outputs(demo_env, [str(state.state_details.flow_run_id)], caplog, capfd, tmp_path)
    scanner = LeakScanner(values)
    found = {
        kind: {leak.value for leak in scanner.scan_all(texts)} for kind, texts in outputs.items()
    }
    assert email in found["logs"]  # through the Prefect API's run logs
    assert name in found["logs"]  # through Python logging, in capitals
    assert phone in found["artifacts"]
    assert donor in found["slack"]
    assert phone in found["ledger"]  # written without spaces: found by its digits
    assert donor in found["docs"]
    assert name in found["export"]

    # A partner sheet holding another partner's case, and contact details without consent.
    _plant_in_partner_sheet(demo_env)
    problems, _ = partner_sheet_leaks(demo_env, extra_forbidden=set())
    assert any("another partner" in p for p in problems)
    assert any("match of" in p for p in problems)


def _plant_in_partner_sheet(handle: Any) -> None:
    """Route the demo once, then copy a case that went elsewhere (with its name) into the first partner's sheet."""
    from flows.registry import FLOWS

    for name in ("roster-sync", "intake-routing"):
        FLOWS[name].load()()
    people = intake_people(handle)
    model = handle.services["sheets"]
    with open_ledger().session() as session:
        partners = [p for p in session.scalars(select(Partner)) if p.referral_sheet]
        sent = {r.intake_id: r.partner_id for r in session.scalars(select(Referral))}
    target = partners[0]
    other = next(
        i for i, p in sent.items() if p != target.member_id and people.get(i, {}).get("contact")
    )
    tab = model.tabs(target.referral_sheet)[0]
    values = model.get_values(target.referral_sheet, tab)
    header = values[0]
    row = ["" for _ in header]
    row[header.index("Intake ID")] = other
    row[header.index("Name")] = sorted(people[other]["contact"])[0]
    model.set_values(target.referral_sheet, tab, [*values, row])
