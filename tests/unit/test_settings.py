"""Settings: the shipped config validates, and every mistake names the file, key, value and expectation."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from coalition.settings import PROJECT_ROOT, ConfigError, load_settings


@pytest.fixture
def config_copy(tmp_path: Path) -> Path:
    target = tmp_path / "config"
    shutil.copytree(PROJECT_ROOT / "config", target)
    return target


def test_shipped_config_is_valid() -> None:
    cfg = load_settings(PROJECT_ROOT / "config")
    assert cfg.routing.poverty_guidelines.year == 2026
    assert cfg.routing.poverty_guidelines.default.first == 15960
    assert cfg.routing.poverty_guidelines.line_for("AK").first == 19950
    assert cfg.services.slack.channels.ops_alerts == "ops-alerts"


@pytest.mark.parametrize(
    ("file", "text", "expected"),
    [
        (
            "routing.yaml",
            "mode: sometimes\n",
            ["routing.yaml", "'mode'", "'sometimes'", "'auto' or 'approve'"],
        ),
        (
            "routing.yaml",
            "court_date_urgent_days: soon\n",
            ["court_date_urgent_days", "'soon'", "integer"],
        ),
        ("services.yaml", "timezone: Mars/Olympus\n", ["services.yaml", "timezone", "IANA"]),
        ("services.yaml", "colour: blue\n", ["'colour' is not a known setting"]),
        (
            "services.yaml",
            "sheets: {share_with: [ana.example.org]}\n",
            ["services.yaml", "sheets.share_with", "ana.example.org"],
        ),
        (
            "services.yaml",
            "sheets: {intake: 'https://docs.google.com/document/d/1AbCdEfGhIjKlMnOpQrStUvWxYz0123456789/edit'}\n",
            ["services.yaml", "sheets.intake", "Google Doc", "spreadsheet"],
        ),
        (
            "services.yaml",
            "slack: {channels: {ops_alerts: 'ops alerts'}}\n",
            ["services.yaml", "slack.channels.ops_alerts", "Slack channel"],
        ),
        (
            "services.yaml",
            "airtable: {base: 'tblAAAAAAAAAAAAAA'}\n",
            ["services.yaml", "airtable.base", "not of a base"],
        ),
        ("schedules.yaml", "alerts: every now and then\n", ["schedules.yaml", "alerts", "cron"]),
        (
            "alerts.yaml",
            "quiet_hours: {start: '25:99'}\n",
            ["alerts.yaml", "quiet_hours.start", "'25:99'"],
        ),
    ],
)
def test_bad_values_are_named(config_copy: Path, file: str, text: str, expected: list[str]) -> None:
    (config_copy / file).write_text(text)
    with pytest.raises(ConfigError) as caught:
        load_settings(config_copy)
    message = str(caught.value)
    for part in expected:
        assert part in message
    assert "Traceback" not in message and "pydantic" not in message.lower()


def test_references_in_services_yaml_may_be_links(config_copy: Path) -> None:
    (config_copy / "services.yaml").write_text(
        "slack: {channels: {ops_alerts: 'https://coalition.slack.com/archives/C0123ABCDE', "
        "membership: '#Membership', leadership: '<#C0999ZZZZZ|leadership>'}}\n"
        "drive: {summary_folder: 'https://drive.google.com/drive/u/0/folders/1AbCdEfGhIjKlMnOpQrStUvWxYz012'}\n"
        "airtable: {base: 'https://airtable.com/appAAAAAAAAAAAAAA/tblBBBBBBBBBBBBBB/viwCCCCCCCCCCCCCC'}\n"
    )
    channels = load_settings(config_copy).services.slack.channels
    assert (channels.ops_alerts, channels.membership, channels.leadership) == (
        "C0123ABCDE",
        "membership",
        "C0999ZZZZZ",
    )


def test_malformed_yaml_names_the_line(config_copy: Path) -> None:
    (config_copy / "routing.yaml").write_text("mode: auto\n  bad: [unclosed\n")
    with pytest.raises(ConfigError, match=r"routing.yaml: is not valid YAML \(line \d+"):
        load_settings(config_copy)


def test_a_list_at_the_top_is_refused(config_copy: Path) -> None:
    (config_copy / "summary.yaml").write_text("- one\n- two\n")
    with pytest.raises(ConfigError, match="expected a mapping"):
        load_settings(config_copy)


def test_missing_folder_is_explained(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="COALITION_CONFIG_DIR"):
        load_settings(tmp_path / "nowhere")


def test_config_dir_from_environment(config_copy: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (config_copy / "routing.yaml").write_text("mode: approve\n")
    monkeypatch.setenv("COALITION_CONFIG_DIR", str(config_copy))
    assert load_settings().routing.mode == "approve"


def test_database_url_defaults_to_sqlite_under_var(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.delenv("COALITION_DATABASE_URL", raising=False)
    monkeypatch.setenv("COALITION_VAR_DIR", str(tmp_path))
    cfg = load_settings(PROJECT_ROOT / "config")
    assert cfg.database_url == f"sqlite:///{tmp_path / 'ledger.sqlite3'}"


def test_time_scale_applies_only_to_the_sandbox(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("COALITION_TIME_SCALE", "50")
    monkeypatch.delenv("COALITION_SANDBOX_URL", raising=False)
    assert load_settings(PROJECT_ROOT / "config").time_scale == 1.0
    monkeypatch.setenv("COALITION_SANDBOX_URL", "http://127.0.0.1:1")
    assert load_settings(PROJECT_ROOT / "config").time_scale == 50


def test_secrets_are_not_shown_in_repr(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SLACK_BOT_TOKEN", "xoxb-very-secret")
    cfg = load_settings(PROJECT_ROOT / "config")
    assert "xoxb-very-secret" not in repr(cfg)
    assert cfg.secrets.slack_bot_token.get_secret_value() == "xoxb-very-secret"
