"""The Intake form in the workspace's own words: spellings from config/fields.yaml, and a renamed
required question stops the run before any write, naming the field, with one #ops-alerts alert."""

from __future__ import annotations

import re
import shutil
from pathlib import Path
from typing import Any

import pytest
from intake_helpers import intake_records, intake_values, seed_partner_directory

from coalition.intake.fields import IntakeHeaderError
from coalition.ledger.db import forget_ledgers
from coalition.settings import PROJECT_ROOT, reload_settings, settings
from flows.intake_routing import run_routing
from integrations.slack import forget_channels

SPANISH_NAME = "¿Cuál es su nombre completo?"
SPANISH_HELP = "¿En qué necesita ayuda?"


@pytest.fixture
def demo_routing(demo: Any, monkeypatch: pytest.MonkeyPatch) -> Any:
    monkeypatch.setenv("COALITION_TIME_SCALE", "50")
    reload_settings()
    forget_channels()
    demo.partners = seed_partner_directory(demo)
    return demo


def _config(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, fields_yaml: str) -> None:
    target = tmp_path / "config"
    shutil.copytree(PROJECT_ROOT / "config", target)
    (target / "fields.yaml").write_text(fields_yaml, encoding="utf-8")
    monkeypatch.setenv("COALITION_CONFIG_DIR", str(target))
    reload_settings()


def _rename_headers(handle: Any, renames: dict[str, str]) -> None:
    values = intake_values(handle)
    values[0] = [renames.get(h, h) for h in values[0]]
    names = settings().services.sheets
    model = handle.services["sheets"]
    model.set_values(model.find_by_title(names.intake), names.intake_tab, values)


def _ops_alerts(handle: Any) -> list[dict[str, Any]]:
    slack = handle.services["slack"]
    channel = slack.channel_by_name("ops-alerts")
    return slack.messages(channel["id"]) if channel else []


def _outcomes(handle: Any) -> list[tuple[str, str, str]]:
    """Row by row, an Intake ID named by its row (IDs differ: each ledger has its own salt)."""
    records = intake_records(handle)
    rows = {r["Intake ID"]: f"row {n}" for n, r in enumerate(records, start=2)}

    def plain(reason: str) -> str:
        return re.sub(r"INT-[0-9A-Z]+", lambda m: rows.get(m.group(0), "?"), reason)

    return [(r["Status"], r["Partner"], plain(r["Routing reason"])) for r in records]


@pytest.mark.parametrize(
    ("renamed", "field_key", "spelling"),
    [
        ("Full name", "intake.form.name", "'Nombre completo'"),
        ("Help needed", "intake.form.help", "'What help do you need?'"),
    ],
)
def test_a_renamed_required_question_stops_the_run_before_any_write_and_alerts_once(
    demo_routing: Any, prefect_api: str, renamed: str, field_key: str, spelling: str
) -> None:
    from flows.registry import FLOWS

    new_title = SPANISH_NAME if renamed == "Full name" else ""  # renamed, or blanked
    _rename_headers(demo_routing, {renamed: new_title})
    before = demo_routing.sandbox.journal.last_seq
    flow = FLOWS["intake-routing"].load()  # with the failure hooks, as deployed

    state = flow(return_state=True)
    assert state.is_failed()
    error = state.result(raise_on_failure=False)
    assert isinstance(error, IntakeHeaderError)
    message = str(error)
    assert "\n" not in message
    assert field_key in message and spelling in message and "fields.yaml" in message
    assert "Nothing was written" in message
    # No write anywhere but the one alert (Slack), and no routed row.
    writes = [w for w in demo_routing.writes(before) if w["service"] != "slack"]
    assert writes == []
    assert all(r["Status"] == "" for r in intake_records(demo_routing))
    [alert] = _ops_alerts(demo_routing)
    assert "intake-routing" in alert["text"] and "IntakeHeaderError" in alert["text"]
    assert field_key in alert["text"]  # names the key to fix, not just the class

    assert flow(return_state=True).is_failed()
    assert len(_ops_alerts(demo_routing)) == 1, "a rerun does not alert twice"


def test_spellings_in_fields_yaml_route_exactly_as_the_design_names_do(
    demo_routing: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    baseline_report = run_routing(publish_report=False)
    baseline = _outcomes(demo_routing)
    assert baseline_report.counts.get("claimed") == len(baseline) == 150

    # The same coalition on a form whose questions are asked in Spanish.
    demo_routing.reset("demo")
    monkeypatch.setenv("COALITION_DATABASE_URL", f"sqlite:///{tmp_path / 'second.sqlite3'}")
    forget_ledgers()
    _config(
        tmp_path,
        monkeypatch,
        f'intake:\n  form:\n    name: ["{SPANISH_NAME}"]\n    help: ["{SPANISH_HELP}"]\n',
    )
    forget_channels()
    seed_partner_directory(demo_routing)
    _rename_headers(demo_routing, {"Full name": SPANISH_NAME, "Help needed": SPANISH_HELP})

    run_routing(publish_report=False)
    outcomes = _outcomes(demo_routing)
    assert outcomes == baseline
    assert sum(1 for status, partner, _ in outcomes if partner) > 30  # cases really went out
