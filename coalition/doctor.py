"""`coalition doctor`: check settings and reach every configured service, one row per check with what to fix."""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass

from coalition.settings import ConfigError, Settings, reload_settings


@dataclass
class Check:
    name: str
    ok: bool
    detail: str
    fix: str | None = None


def _attempt(name: str, probe: Callable[[], str], fix: str) -> Check:
    try:
        return Check(name, True, probe())
    except ConfigError as exc:
        return Check(name, False, str(exc).splitlines()[0], fix)
    except Exception as exc:
        return Check(name, False, f"{type(exc).__name__}: {str(exc)[:160]}", fix)


def run_checks() -> list[Check]:
    try:
        cfg = reload_settings()
    except ConfigError as exc:
        return [Check("settings", False, str(exc), "fix the file and key named above")]
    mode = f"sandbox at {cfg.sandbox_url}" if cfg.sandbox_url else "live services"
    checks = [Check("settings", True, f"config {cfg.config_dir}; {mode}")]
    checks.append(
        _attempt(
            "ledger",
            lambda: _ledger(cfg),
            "check COALITION_DATABASE_URL and that the database accepts connections",
        )
    )
    checks.append(
        _attempt(
            "airtable",
            lambda: _airtable(cfg),
            "check AIRTABLE_TOKEN (scopes data.records:read/write, schema.bases:read/write) and the base name in config/services.yaml",
        )
    )
    checks.append(
        _attempt(
            "google sheets",
            lambda: _sheets(cfg),
            "share the sheets with the service account (Editor) and check their names in config/services.yaml; `coalition setup sheets` creates them",
        )
    )
    checks.append(
        _attempt(
            "google drive/docs",
            lambda: _drive(cfg),
            "share the Drive folders with the service account; check GOOGLE_SERVICE_ACCOUNT",
        )
    )
    checks.append(
        _attempt(
            "slack",
            lambda: _slack(cfg),
            "check SLACK_BOT_TOKEN, invite the bot to each channel in config/services.yaml",
        )
    )
    if os.environ.get("PREFECT_API_URL"):
        checks.append(
            _attempt(
                "prefect",
                _prefect,
                "check PREFECT_API_URL and that `prefect server start` is running",
            )
        )
    return checks


def _ledger(cfg: Settings) -> str:
    from sqlalchemy import text

    from coalition.ledger import open_ledger

    ledger = open_ledger(cfg.database_url)
    with ledger.session() as session:
        session.execute(text("SELECT 1"))
    return ledger.engine.url.render_as_string(hide_password=True)


def _airtable(cfg: Settings) -> str:
    from integrations.clients import airtable_api

    api = airtable_api(cfg)
    bases = {b.name: b for b in api.bases()}
    base = bases.get(cfg.services.airtable.base)
    if base is None:
        raise LookupError(
            f"no base named {cfg.services.airtable.base!r} (found: {', '.join(bases) or 'none'})"
        )
    tables = {t.name for t in base.tables()}
    wanted = set(cfg.services.airtable.tables.model_dump().values())
    missing = sorted(wanted - tables)
    if missing:
        raise LookupError(f"base {base.name!r} lacks tables: {', '.join(missing)}")
    return f"base {base.name!r} with {len(tables)} tables"


def _sheets(cfg: Settings) -> str:
    from integrations.clients import sheets_client

    client = sheets_client(cfg)
    found = []
    for title in (cfg.services.sheets.intake, cfg.services.sheets.member_directory):
        sheet = client.open(title)
        found.append(f"{title!r} ({len(sheet.worksheets())} tabs)")
    return ", ".join(found)


def _drive(cfg: Settings) -> str:
    from integrations.clients import drive_service

    drive = drive_service(cfg)
    reply = (
        drive.files()
        .list(q="mimeType = 'application/vnd.google-apps.folder' and trashed = false", pageSize=100)
        .execute()
    )
    names = {f["name"] for f in reply.get("files", [])}
    wanted = {cfg.services.drive.summary_folder, cfg.services.drive.referral_folder}
    missing = wanted - names
    return f"{len(names)} folders" + (
        f"; will create: {', '.join(sorted(missing))}" if missing else ""
    )


def _slack(cfg: Settings) -> str:
    from integrations.clients import slack_client

    client = slack_client(cfg)
    auth = client.auth_test()
    channels: dict[str, bool] = {}
    cursor = None
    while True:
        reply = client.conversations_list(
            limit=200, cursor=cursor, types="public_channel,private_channel"
        )
        for channel in reply["channels"]:
            channels[channel["name"]] = bool(channel.get("is_member"))
        cursor = reply.get("response_metadata", {}).get("next_cursor")
        if not cursor:
            break
    wanted = cfg.services.slack.channels.model_dump().values()
    missing = [c for c in wanted if c not in channels]
    outside = [c for c in wanted if c in channels and not channels[c]]
    if missing or outside:
        raise LookupError(
            "; ".join(
                filter(
                    None,
                    [
                        f"missing channels: {', '.join(missing)}" if missing else "",
                        f"bot not in: {', '.join(outside)}" if outside else "",
                    ],
                )
            )
        )
    return f"bot {auth.get('user')} in all {len(list(wanted))} channels"


def _prefect() -> str:
    from prefect.client.orchestration import get_client

    with get_client(sync_client=True) as client:
        client.api_healthcheck()
    return os.environ["PREFECT_API_URL"]
