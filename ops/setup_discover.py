"""`coalition setup discover [--write]`: find every name the bot needs in the workspace, print it, write it.

Reads names only (integrations/workspace.py), matches them (coalition/discover_plan.py),
prints one table row per need (what the bot needs, found as, how, score) and one per
partner sheet, and with --write puts the names in `fields.yaml` and the tab and channel
names in `services.yaml` of the config folder, keeping the rest of services.yaml as it
was (comments too). Exit code: 0 when every needed name was found, 2 otherwise (the
unmapped needs keep their configured names and are listed).
"""

from __future__ import annotations

import io
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import yaml
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from coalition.discover_plan import Discovery, PartnerSheet, Workspace, discover
from coalition.name_match import DEFAULT_THRESHOLD
from coalition.settings import ConfigError, Settings, load_settings, settings

FIELDS_HEADER = """\
# config/fields.yaml: the workspace's own names for everything the bot reads and writes.
# Keys are what the bot needs; values are the names in your Airtable base and sheets.
# Written by `coalition setup discover --write` on {when}; edit freely, then run
# `coalition doctor`. Form columns: the header found first, other spellings after it.
"""


@contextmanager
def _explained() -> Iterator[None]:
    """A service's refusal (no such base, a bad token) as one line for a person, not a traceback."""
    from integrations.airtable import AirtableError
    from integrations.slack import SlackPostError

    try:
        yield
    except AirtableError as exc:
        raise ConfigError(
            f"Airtable: {exc} (check services.yaml airtable.base and AIRTABLE_TOKEN)"
        ) from None
    except SlackPostError as exc:
        raise ConfigError(f"Slack: {exc} (check SLACK_BOT_TOKEN and its scopes)") from None


def read_workspace(cfg: Settings) -> Workspace:
    """Names of the whole workspace except the partners' sheets (they need the partner table's names)."""
    from integrations.clients import airtable_api, sheets_client, slack_client
    from integrations.sheets import SheetsError
    from integrations.workspace import airtable_tables, channels, tab_headers

    problems: list[str] = []
    with _explained():
        tables = airtable_tables(airtable_api(cfg), cfg.services.airtable.base)
        names = channels(slack_client(cfg))
    client = sheets_client(cfg)
    tabs: list[dict[str, list[str]]] = []
    for title in (cfg.services.sheets.intake, cfg.services.sheets.member_directory):
        try:
            tabs.append(tab_headers(client, title))
        except SheetsError as exc:
            tabs.append({})
            problems.append(f"spreadsheet '{title}': {exc}")
    return Workspace(
        tables=tables,
        intake_tabs=tabs[0],
        directory_tabs=tabs[1],
        channels=names,
        problems=problems,
    )


def read_partners(cfg: Settings, found: Discovery) -> list[PartnerSheet]:
    """Each partner's referral sheet tabs and headers, read with the partner table's discovered names."""
    from integrations.clients import airtable_api, sheets_client
    from integrations.workspace import partner_sheets, tab_samples

    members = found.fields["airtable"]["members"]
    names = members["fields"]
    client = sheets_client(cfg)
    with _explained():
        return partner_sheets(
            airtable_api(cfg),
            cfg.services.airtable.base,
            members["table"],
            names["name"],
            names["referral_sheet"],
            names["referral_channel"],
            lambda ref: tab_samples(client, ref),
        )


def run_discover(
    write: bool = False,
    console: Console | None = None,
    threshold: float = DEFAULT_THRESHOLD,
) -> int:
    """Discover, print, optionally write; 0 when every needed name was found, else 2."""
    console = console or Console(highlight=False)
    cfg = settings()
    ws = read_workspace(cfg)
    first = _discover(cfg, ws, threshold)
    if first.found("airtable.members"):
        ws = Workspace(
            ws.tables,
            ws.intake_tabs,
            ws.directory_tabs,
            ws.channels,
            read_partners(cfg, first),
            ws.problems,
        )
    found = _discover(cfg, ws, threshold)
    print_discovery(console, found)
    if write:
        written = write_config(cfg.config_dir, found)
        console.print("Wrote " + ", ".join(escape(str(p)) for p in written) + ".")
    if found.unmapped:
        names = ", ".join(m.need.label for m in found.unmapped)
        console.print(
            f"[bold red]{len(found.unmapped)} needed name(s) not found:[/] {escape(names)}. "
            "Rename them in the workspace or set them in fields.yaml / services.yaml by hand, "
            "then run this again."
        )
        return 2
    console.print("Every name the bot needs was found.")
    return 0


def _discover(cfg: Settings, ws: Workspace, threshold: float) -> Discovery:
    return discover(cfg.fields, cfg.services, ws, threshold)


def print_discovery(console: Console, found: Discovery) -> None:
    """One row per need; then the partners; names of tables, fields, columns and orgs only."""
    table = Table(title="coalition setup discover")
    for column in ("what the bot needs", "found as", "how matched", "score"):
        table.add_column(column)
    for section in found.sections:
        table.add_section()
        for m in section.matches:
            if m.mapped:
                shown, how = escape(str(m.found)), m.how
            elif m.need.required:
                shown, how = "[red]not found[/]", "[red]unmapped[/]"
            else:
                shown, how = "[dim]not found (optional)[/]", "[dim]unmapped[/]"
            table.add_row(escape(m.need.label), shown, how, f"{m.score:.0f}")
    console.print(table)
    if found.partners:
        partners = Table(title="Partners' referral sheets and channels")
        for column in ("partner", "referral tab", "referral channel"):
            partners.add_column(column)
        for p in found.partners:
            partners.add_row(escape(p.name), escape(p.tab), escape(p.channel))
        console.print(partners)
    for problem in found.problems:
        console.print(f"[yellow]could not read[/] {escape(problem)}")


# ---------------------------------------------------------------- writing
def write_config(directory: Path, found: Discovery) -> list[Path]:
    """fields.yaml whole; services.yaml's tab and channel names only, the rest kept as it was."""
    fields_path = directory / "fields.yaml"
    services_path = directory / "services.yaml"
    fields_text = FIELDS_HEADER.format(when=datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"))
    fields_text += yaml.safe_dump(found.fields, sort_keys=False, allow_unicode=True, width=100)
    # Table names services.yaml still holds (its older home) must agree with fields.yaml.
    tables = {("airtable", "tables", k): t["table"] for k, t in found.fields["airtable"].items()}
    services_text = update_services(
        services_path.read_text(encoding="utf-8") if services_path.exists() else "",
        found.services,
        only_existing=tables,
    )
    # Both files must load before either replaces the old ones.
    _validate(directory, fields_text, services_text)
    fields_path.write_text(fields_text, encoding="utf-8")
    services_path.write_text(services_text, encoding="utf-8")
    return [fields_path, services_path]


def update_services(
    text: str,
    updates: dict[tuple[str, ...], str],
    only_existing: dict[tuple[str, ...], str] | None = None,
) -> str:
    """services.yaml with `updates` set and `only_existing` set where the file has them (comments, order and other keys kept)."""
    from ruamel.yaml import YAML

    rt = YAML()
    rt.preserve_quotes = True
    data: Any = rt.load(text) if text.strip() else None
    if data is None:
        from ruamel.yaml.comments import CommentedMap

        data = CommentedMap()
    for path, value in updates.items():
        node = data
        for key in path[:-1]:
            if key not in node or node[key] is None:
                node[key] = {}
            node = node[key]
        if node.get(path[-1]) != value:
            node[path[-1]] = value
    for path, value in (only_existing or {}).items():
        node = data
        for key in path[:-1]:
            node = node.get(key) if isinstance(node, dict) else None
        if isinstance(node, dict) and path[-1] in node and node[path[-1]] != value:
            node[path[-1]] = value
    out = io.StringIO()
    rt.dump(data, out)
    return out.getvalue()


def _validate(directory: Path, fields_text: str, services_text: str) -> None:
    import shutil
    import tempfile

    with tempfile.TemporaryDirectory() as tmp:
        trial = Path(tmp)
        for path in directory.glob("*.yaml"):
            shutil.copy(path, trial / path.name)
        (trial / "fields.yaml").write_text(fields_text, encoding="utf-8")
        (trial / "services.yaml").write_text(services_text, encoding="utf-8")
        try:
            load_settings(trial)
        except ConfigError as exc:
            raise ConfigError(
                f"discover found names the config cannot hold; nothing was written: {exc}"
            ) from None
