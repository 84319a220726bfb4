"""`coalition doctor`: check settings and reach every configured service, one row per check with what to fix."""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass

from coalition.names import MissingName
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
    """Every check, with clients that give up on a dead service after 10 s instead of the usual minutes."""
    import integrations.http

    usual = integrations.http.GIVE_UP_AFTER
    integrations.http.GIVE_UP_AFTER = 10.0
    try:
        return _checks()
    finally:
        integrations.http.GIVE_UP_AFTER = usual


def _checks() -> list[Check]:
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
    checks.extend(name_checks(cfg))
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
    checks.extend(_sharing_checks(cfg))
    from integrations.shared_budget import operator_prefect_api

    if operator_prefect_api():
        checks.append(
            _attempt(
                "prefect",
                _prefect,
                "check PREFECT_API_URL and that `prefect server start` is running",
            )
        )
    return checks


def _ledger(cfg: Settings) -> str:
    from coalition.ledger import open_ledger

    return open_ledger(cfg.database_url).ping()


# ---------------------------------------------------------------- names (config/fields.yaml)
NAMES_FIX = (
    "put the workspace's name in the file and key named (or rename it in the workspace); "
    "`coalition setup discover` proposes them"
)


def name_checks(cfg: Settings) -> list[Check]:
    """Every name of config/fields.yaml the workspace lacks: one failing row per name a flow
    cannot do without, one row listing those treated as empty; Airtable, Intake, Directory."""
    found: list[MissingName] = []
    rows: list[Check] = []
    for label, probe in (
        ("names: airtable", _airtable_names),
        ("names: intake sheet", _intake_names),
        ("names: member directory", _directory_names),
    ):
        try:
            found += probe(cfg)
        except Exception as exc:  # the service's own check says why it cannot be read
            rows.append(Check(label, False, f"not checked: {type(exc).__name__}", NAMES_FIX))
    rows += [Check("names", False, m.line(), NAMES_FIX) for m in found if m.required]
    optional = [m for m in found if not m.required]
    if optional:
        listed = "; ".join(f"{m.key} '{m.name}'" for m in optional)
        rows.append(Check("names", True, f"not in the workspace, treated as empty: {listed}"))
    if not any(r.name.startswith("names") and not r.ok for r in rows):
        rows.insert(0, Check("names", True, "every table, field and column the flows need"))
    return rows


def _source(cfg: Settings) -> str:
    from coalition.settings import config_file

    return config_file(cfg.config_dir, "fields.yaml")


def _airtable_names(cfg: Settings) -> list[MissingName]:
    from coalition.names import missing_directory_sources, missing_fields, table_missing
    from integrations.airtable import open_base
    from integrations.clients import airtable_api

    base = open_base(airtable_api(cfg), cfg.services.airtable.base)
    schema = base.schema()
    source = _source(cfg)
    found: list[MissingName] = []
    for key, table in cfg.fields.airtable.tables().items():
        try:
            have = {f.name for f in schema.table(table.table).fields}
        except KeyError:
            found.append(table_missing(cfg.fields, key, cfg.services.airtable.base, source))
            continue
        found += missing_fields(cfg.fields, key, have, source)
        if key == "members":
            found += missing_directory_sources(cfg.fields, have, source)
    return found


def _intake_names(cfg: Settings) -> list[MissingName]:
    from coalition.intake.fields import (
        REQUIRED_LABELS,
        missing_bot_columns,
        missing_required,
        resolve_columns,
    )
    from integrations.clients import sheets_client
    from integrations.sheets import read_tab_as_shown, tab_by_name

    client = sheets_client(cfg)
    names = cfg.services.sheets
    tab = tab_by_name(client, names.intake, names.intake_tab)
    values = read_tab_as_shown(client, tab)
    intake = cfg.fields.intake
    columns = resolve_columns(values[0] if values else [], intake)
    source, where = _source(cfg), f"the Intake header ({tab.where})"
    spellings = intake.form.columns()
    found = [
        MissingName(
            source,
            " / ".join(f"intake.form.{k}" for k in keys),
            ", ".join(f"'{s}'" for k in keys for s in spellings[k]),
            where,
            True,
            f"column for {REQUIRED_LABELS[field]}",
        )
        for field, keys in missing_required(columns, intake)
    ]
    bot = {name: key for key, name in intake.bot.items()}
    found += [
        MissingName(source, f"intake.bot.{bot[n]}", n, where, True, "column")
        for n in missing_bot_columns(columns, intake)
    ]
    return found


def _directory_names(cfg: Settings) -> list[MissingName]:
    from integrations.clients import sheets_client
    from integrations.sheets import open_tab, read_tab

    client = sheets_client(cfg)
    names = cfg.services.sheets
    tab = open_tab(client, names.member_directory, names.member_directory_tab)
    values = read_tab(client, tab)
    header = {str(h).strip() for h in (values[0] if values else [])}
    source, where = _source(cfg), f"the Member Directory header ({tab.where})"
    return [
        MissingName(source, f"directory.{h}", h, where, True, "column")
        for h in cfg.fields.directory
        if h not in header
    ]


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
    return f"base {base.name!r} with {len(tables)} tables (their names: the names rows)"


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
    from coalition.references import GoogleRef, parse_google

    names = {f["name"] for f in reply.get("files", [])} | {f["id"] for f in reply.get("files", [])}
    wanted: set[str] = set()
    for folder in (cfg.services.drive.summary_folder, cfg.services.drive.referral_folder):
        ref = parse_google(folder, "folder")  # a link or an id is looked for by id
        wanted.add(ref.canonical() if isinstance(ref, GoogleRef) else folder)
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


# ---------------------------------------------------------------- scopes and sharing (issue 9)
AIRTABLE_SCOPES = ("data.records:read", "data.records:write", "schema.bases:read")
SETUP_SCOPE = "schema.bases:write"
SLACK_SCOPES = (
    "chat:write", "channels:read", "groups:read", "channels:history", "groups:history",
    "channels:join", "commands",
)  # fmt: skip


def _sharing_checks(cfg: Settings) -> list[Check]:
    return [
        _attempt(
            "airtable token scopes",
            lambda: _airtable_scopes(cfg),
            "give the token the scopes named (Airtable > Builder hub > Personal access tokens)",
        ),
        _attempt(
            "google sheets editable",
            lambda: _sheets_editable(cfg),
            "share each sheet named with the service account's e-mail as Editor; "
            "`coalition setup sheets` creates missing ones",
        ),
        _attempt(
            "slack scopes and channels",
            lambda: _slack_reach(cfg),
            "reinstall the app from config/slack-manifest.yaml for missing scopes; "
            "/invite the bot to each channel named",
        ),
    ]


def scope_problems(granted: list[str] | None, required: tuple[str, ...]) -> list[str]:
    """Required scopes a token lacks (none when the service does not report scopes)."""
    if granted is None:
        return []
    have = {s.strip() for s in granted}
    return [s for s in required if s not in have]


def _airtable_scopes(cfg: Settings) -> str:
    from integrations.clients import airtable_api

    reply = airtable_api(cfg).whoami()
    scopes = reply.get("scopes")
    missing = scope_problems(scopes, AIRTABLE_SCOPES)
    if missing:
        raise LookupError(f"the token lacks {', '.join(missing)}")
    if scopes is None:
        return "scopes not reported for this token; reading the base worked"
    setup = (
        ""
        if SETUP_SCOPE in scopes
        else f"; without {SETUP_SCOPE} `coalition setup airtable` cannot add fields"
    )
    return f"{len(scopes)} scopes, all the flows need{setup}"


def _partners(cfg: Settings) -> list[tuple[str, str | None, str | None]]:
    """Active partners the ledger knows (name, referral sheet, referral channel)."""
    from coalition.ledger import open_ledger
    from coalition.ledger.roster_store import PartnerDirectory

    rows = PartnerDirectory(open_ledger(cfg.database_url)).active()
    return [(p["name"], p["referral_sheet"], p["referral_channel"]) for p in rows]


def sheet_problems(found: dict[str, dict | None]) -> list[str]:
    """Sheets (label -> Drive file with capabilities, or None) the service account cannot edit."""
    problems = []
    for label, item in found.items():
        if item is None:
            problems.append(f"{label}: not found or not shared")
        elif not (item.get("capabilities") or {}).get("canEdit"):
            problems.append(f"{label}: shared read-only")
    return problems


def _sheets_editable(cfg: Settings) -> str:
    from integrations.clients import drive_service

    drive = drive_service(cfg)
    wanted: dict[str, str] = {
        f"'{cfg.services.sheets.intake}'": cfg.services.sheets.intake,
        f"'{cfg.services.sheets.member_directory}'": cfg.services.sheets.member_directory,
    }
    partners = [(name, sheet) for name, sheet, _channel in _partners(cfg) if sheet]
    for name, sheet in partners:
        wanted[f"referral sheet of {name}"] = sheet
    found = {label: _drive_file(drive, ref) for label, ref in wanted.items()}
    problems = sheet_problems(found)
    problems += _referral_tab_problems(
        cfg, [(n, s) for n, s in partners if found[f"referral sheet of {n}"]]
    )
    if problems:
        raise LookupError("; ".join(problems))
    return f"the service account can edit all {len(found)} sheets; every partner sheet can take referrals"


def _referral_tab_problems(cfg: Settings, partners: list[tuple[str, str]]) -> list[str]:
    """Partner sheets the bot opens but could not deliver into (their tab holds other data), by partner name."""
    from flows.partner_sheets import PartnerSheetProblem, open_referral_tab
    from integrations.clients import sheets_client
    from integrations.sheets import SheetsError

    client = sheets_client(cfg) if partners else None
    problems = []
    for name, sheet in partners:
        try:
            open_referral_tab(
                client,
                sheet,
                f"referral sheet of {name}",
                cfg.services.sheets.referral_tab,
                prepare=False,
            )
        except PartnerSheetProblem as exc:
            problems.append(f"referral sheet of {name}: {exc}")
        except SheetsError as exc:
            problems.append(f"referral sheet of {name}: did not answer ({exc.status})")
    return problems


def _drive_file(drive, ref: str) -> dict | None:
    """A spreadsheet by link, id or exact name, with its canEdit capability; None if the bot cannot see it."""
    from coalition.references import GoogleRef, parse_google
    from ops.setup_tasks import SPREADSHEET_MIME, drive_quoted

    fields = "id,name,capabilities(canEdit)"
    parsed = parse_google(ref, "spreadsheet")
    if not isinstance(parsed, GoogleRef):
        return None  # not a link, id or title: nothing the bot could open
    if parsed.id is not None:
        try:
            return drive.files().get(fileId=parsed.id, fields=fields).execute()
        except Exception:  # 404 or 403: not visible to the bot
            return None
    title = str(parsed.title)
    query = (
        f"name = '{drive_quoted(title)}' and mimeType = '{SPREADSHEET_MIME}' and trashed = false"
    )
    files = drive.files().list(q=query, fields=f"files({fields})").execute().get("files", [])
    return next((f for f in files if f.get("name") == title), None)


def channel_problems(wanted: list[str], visible: dict[str, bool]) -> list[str]:
    """Channels (by name) that do not exist for the bot, or that it is not a member of."""
    missing = sorted({c for c in wanted if c not in visible})
    outside = sorted({c for c in wanted if c in visible and not visible[c]})
    problems = []
    if missing:
        problems.append(f"not found (or private without the bot): {', '.join(missing)}")
    if outside:
        problems.append(f"bot not in: {', '.join(outside)}")
    return problems


def _channel_key(text: str) -> str:
    """A channel as typed (#name, id, mention, link) as the name or id Slack lists it by."""
    from coalition.references import ChannelRef, parse_channel

    parsed = parse_channel(text)
    return parsed.canonical() if isinstance(parsed, ChannelRef) else text


def _slack_reach(cfg: Settings) -> str:
    from integrations.clients import slack_client

    client = slack_client(cfg)
    auth = client.auth_test()
    header = (auth.headers or {}).get("x-oauth-scopes") or (auth.headers or {}).get(
        "X-OAuth-Scopes"
    )
    granted = header.split(",") if header else None
    lacking = scope_problems(granted, SLACK_SCOPES)
    problems = [f"missing scopes: {', '.join(lacking)}"] if lacking else []
    visible: dict[str, bool] = {}
    cursor = None
    while True:
        reply = client.conversations_list(
            limit=200, cursor=cursor, types="public_channel,private_channel"
        )
        for channel in reply["channels"]:
            # Partners' channels may be recorded by id as well as by name.
            visible[channel["name"]] = visible[channel["id"]] = bool(channel.get("is_member"))
        cursor = (reply.get("response_metadata") or {}).get("next_cursor")
        if not cursor:
            break
    wanted = [
        _channel_key(c)
        for c in [
            *cfg.services.slack.channels.model_dump().values(),
            *cfg.alerts.region_channels.values(),
            *[channel for _name, _sheet, channel in _partners(cfg) if channel],
        ]
    ]
    problems += channel_problems(wanted, visible)
    if problems:
        raise LookupError("; ".join(problems))
    scopes = "scopes ok" if granted else "scopes not reported"
    return f"{scopes}; bot in all {len(set(wanted))} channels (config, regions, partners)"
