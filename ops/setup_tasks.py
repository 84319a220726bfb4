"""`coalition setup airtable` and `coalition setup sheets`: create what the design needs, idempotently, or just say what.

Both read first, plan with coalition/setup_plan.py, print the plan, and change
nothing with --dry-run. A second run finds everything in place and does nothing.
They add and never remove or retype: a field of another type, or a sheet the bot
cannot see, is reported for a person to decide. Output names tables, sheets and
organizations, never a person: who a sheet is shared with is given as a count.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from rich.console import Console
from rich.markup import escape

from coalition.references import BadReference, GoogleRef, parse_google
from coalition.roster.models import INACTIVE_STATUSES, NON_LEGAL_SERVICES
from coalition.settings import ConfigError, Settings, settings
from coalition.setup_plan import (
    AIRTABLE_DESIGN,
    AirtablePlan,
    SheetSpec,
    coalition_sheets,
    missing_headers,
    plan_airtable,
    referral_sheet,
)
from coalition.sheet_table import quote_tab

SPREADSHEET_MIME = "application/vnd.google-apps.spreadsheet"
FOLDER_MIME = "application/vnd.google-apps.folder"
WRITERS = {"writer", "owner", "organizer", "fileOrganizer"}


# ---------------------------------------------------------------- Airtable
def setup_airtable(dry_run: bool = False, console: Console | None = None) -> AirtablePlan:
    """Create the design's missing tables and fields in the configured (existing) base."""
    from integrations.airtable import AirtableNotFound, open_base
    from integrations.clients import airtable_api

    console = console or Console(highlight=False)
    cfg = settings()
    with _explained("check AIRTABLE_TOKEN and its access to the base (`coalition doctor`)"):
        try:
            base = open_base(airtable_api(cfg), cfg.services.airtable.base)
        except AirtableNotFound as exc:
            raise ConfigError(
                f"{exc}. Create the base in Airtable first (the API cannot create a base in "
                "your workspace), then run this again."
            ) from None
        tables = base.schema().tables
    existing = {t.name: {f.name: _type(f) for f in t.fields} for t in tables}
    plan = plan_airtable(cfg, existing)
    for step in plan.steps:
        would = "would " if dry_run and step.action != "differs" else ""
        console.print(would + escape(step.describe()))
    if not plan.changes:
        console.print(
            f"Airtable base '{escape(base.name or base.id)}': every table and field is there."
        )
        return plan
    if dry_run:
        console.print("Dry run: nothing changed.")
        return plan
    names = cfg.fields.airtable.tables()
    ids = {key: _table_id(tables, names[key].table) for key in AIRTABLE_DESIGN}
    for step in plan.changes:
        _apply(base, step, ids)
    console.print(f"Done: {len(plan.changes)} change(s) to base '{escape(base.name or base.id)}'.")
    return plan


def _type(field_schema: Any) -> str:
    """A field's type as the API spells it (pyairtable gives an enum)."""
    kind = field_schema.type
    return str(getattr(kind, "value", kind))


def _table_id(tables: list[Any], name: str) -> str | None:
    return next((t.id for t in tables if t.name == name), None)


def _apply(base: Any, step: Any, ids: dict[str, str | None]) -> None:
    try:
        if step.action == "create table":
            created = base.create_table(step.table, [f.body(ids) for f in step.fields])
            ids[step.key] = created.id
        else:
            spec = step.fields[0].body(ids)
            base.table(step.table).create_field(
                spec["name"], spec["type"], options=spec.get("options")
            )
    except Exception as exc:
        status = getattr(getattr(exc, "response", None), "status_code", None)
        raise ConfigError(
            f"Airtable refused to {step.describe()} (HTTP {status or type(exc).__name__}); the "
            "token needs the schema.bases:write scope on this base"
        ) from None


# ---------------------------------------------------------------- Google Sheets
@dataclass
class SheetOutcome:
    """What setup did (or would do) to one spreadsheet; `problem` when a person must step in."""

    spec: SheetSpec
    spreadsheet_id: str | None = None
    actions: list[str] = field(default_factory=list)
    problem: str | None = None

    def line(self, dry_run: bool) -> str:
        name = f"'{self.spec.title}' ({self.spec.role})"
        if self.problem:
            return f"{name}: {self.problem}"
        if not self.actions:
            return f"{name}: in place"
        return f"{name}: {'would ' if dry_run else ''}{'; '.join(self.actions)}"


@dataclass(frozen=True)
class Partner:
    """A member organization that takes referrals: its record, name, sheet reference, people to share with."""

    record_id: str
    name: str
    sheet: str  # the Referral sheet field as found: an id, a title, or ""
    emails: tuple[str, ...] = ()


def setup_sheets(dry_run: bool = False, console: Console | None = None) -> list[SheetOutcome]:
    """Create the Intake, Member Directory and partner referral sheets with headers, and share them."""
    from integrations.clients import drive_service, sheets_client

    console = console or Console(highlight=False)
    cfg = settings()
    staff = tuple(cfg.services.sheets.share_with)
    written_back: dict[str, str] = {}
    with _explained("share the sheets and the Drive folder with the bot's service account"):
        google = _Google(sheets_client(cfg), drive_service(cfg), dry_run)
        outcomes = [google.ensure(spec, staff) for spec in coalition_sheets(cfg)]
    with _explained("`coalition setup airtable` adds the fields the bot needs"):
        partners = partners_from_airtable(cfg)
    for partner in partners:
        with _explained(f"check the referral sheet of {partner.name}"):
            outcome = _partner_sheet(google, cfg, partner, staff)
        outcomes.append(outcome)
        # An empty field, or a title typed there: record the id (a link or id stays as typed).
        if outcome.spreadsheet_id and not dry_run and not _names_an_id(partner.sheet):
            written_back[partner.record_id] = outcome.spreadsheet_id
    if written_back:
        with _explained("the token needs data.records:write"):
            _write_back(cfg, written_back)
    for outcome in outcomes:
        console.print(escape(outcome.line(dry_run)))
    if dry_run:
        console.print("Dry run: nothing changed.")
    elif written_back:
        console.print(f"Recorded {len(written_back)} new referral sheet(s) in Airtable's Members.")
    return outcomes


def _partner_sheet(
    google: _Google, cfg: Settings, partner: Partner, staff: tuple[str, ...]
) -> SheetOutcome:
    """The partner's referral sheet as staff gave it (link, id or title), or a new one when blank."""
    people = staff + partner.emails
    ref = parse_google(partner.sheet, "spreadsheet")
    if isinstance(ref, BadReference):
        spec = referral_sheet(cfg, partner.name, title=f"Referral sheet of {partner.name}")
        return SheetOutcome(
            spec,
            problem=(
                f"its Referral sheet in Airtable is not understood ({ref.why}); put the "
                "sheet's link, id or title there, or clear the field to have one created"
            ),
        )
    if ref is not None and ref.id is not None:
        spec = referral_sheet(cfg, partner.name, title=f"Referral sheet of {partner.name}")
        if not google.exists(ref.id):
            return SheetOutcome(
                spec,
                problem=(
                    "its Referral sheet in Airtable points to a spreadsheet the bot cannot open; "
                    "share that sheet with the bot, or clear the field to have one created"
                ),
            )
        return google.referral_tab(spec, partner, cfg, people)
    title = ref.title if ref is not None else None
    return google.ensure(referral_sheet(cfg, partner.name, title=title), people)


def _names_an_id(text: str) -> bool:
    ref = parse_google(text, "spreadsheet")
    return isinstance(ref, GoogleRef) and ref.id is not None


def partners_from_airtable(cfg: Settings) -> list[Partner]:
    """Active members offering legal services, with their referral sheet and primary contacts' e-mails."""
    from integrations.airtable import all_records, open_base, open_table
    from integrations.clients import airtable_api

    M = cfg.fields.airtable.members.fields
    base = open_base(airtable_api(cfg), cfg.services.airtable.base)
    members = open_table(base, cfg.fields.airtable.members.table)
    members.require([M.name, M.services, M.referral_sheet], "to find the partners")
    wanted = [f for f in (M.name, M.services, M.status, M.referral_sheet) if f in members.fields]
    contacts = _primary_emails(base, cfg)
    partners = []
    for record in all_records(members, wanted):
        fields = record["fields"]
        services = [s for s in fields.get(M.services) or [] if s not in NON_LEGAL_SERVICES]
        status = str(fields.get(M.status) or "").casefold()
        name = str(fields.get(M.name) or "").strip()
        if not name or not services or status in INACTIVE_STATUSES:
            continue
        partners.append(
            Partner(
                record["id"],
                name,
                str(fields.get(M.referral_sheet) or "").strip(),
                tuple(contacts.get(record["id"], ())),
            )
        )
    return partners


def _primary_emails(base: Any, cfg: Settings) -> dict[str, list[str]]:
    """Member record id -> e-mails of its primary contacts (kept in memory, never printed)."""
    from integrations.airtable import all_records, open_table

    C = cfg.fields.airtable.contacts.fields
    contacts = open_table(base, cfg.fields.airtable.contacts.table)
    if contacts.missing([C.email, C.organization]) or C.primary not in contacts.fields:
        return {}
    emails: dict[str, list[str]] = {}
    for record in all_records(contacts, [C.email, C.organization, C.primary]):
        fields = record["fields"]
        email = str(fields.get(C.email) or "").strip()
        if not fields.get(C.primary) or "@" not in email:
            continue
        for member_id in fields.get(C.organization) or []:
            emails.setdefault(member_id, []).append(email)
    return emails


def _write_back(cfg: Settings, sheet_ids: dict[str, str]) -> None:
    from integrations.airtable import open_base, open_table, update_records
    from integrations.clients import airtable_api

    base = open_base(airtable_api(cfg), cfg.services.airtable.base)
    members = open_table(base, cfg.fields.airtable.members.table)
    field_name = cfg.fields.airtable.members.fields.referral_sheet
    update_records(
        members, [{"id": rid, "fields": {field_name: sid}} for rid, sid in sheet_ids.items()]
    )


class _Google:
    """The few Drive and Sheets calls setup needs, with dry runs deciding but never writing."""

    def __init__(self, sheets: Any, drive: Any, dry_run: bool) -> None:
        self.sheets = sheets
        self.drive = drive
        self.dry_run = dry_run
        self._folders: dict[str, str | None] = {}

    # ------------------------------------------------------------ one spreadsheet
    def ensure(
        self, spec: SheetSpec, people: Iterable[str], known_id: str | None = None
    ) -> SheetOutcome:
        outcome = SheetOutcome(spec, known_id or self._find(spec.title, SPREADSHEET_MIME))
        if outcome.spreadsheet_id is None:
            where = f" in folder '{spec.folder}'" if spec.folder else ""
            outcome.actions.append(f"create it{where} with tab '{spec.tab}' and its header")
            if self.dry_run:
                return self._plan_sharing(outcome, people, current=set())
            outcome.spreadsheet_id = self._create(spec)
        self._tab_and_header(outcome)
        return self._share(outcome, people)

    def referral_tab(
        self, spec: SheetSpec, partner: Partner, cfg: Settings, people: Iterable[str]
    ) -> SheetOutcome:
        """A partner's existing sheet: its referral tab chosen as delivery chooses it, never one holding other data."""
        from flows.partner_sheets import PartnerSheetProblem, open_referral_tab

        outcome = SheetOutcome(spec, parse_google(partner.sheet, "spreadsheet").id)  # type: ignore[union-attr]
        try:
            located = open_referral_tab(
                self.sheets,
                partner.sheet,
                f"referral sheet of {partner.name}",
                cfg.services.sheets.referral_tab,
                prepare=not self.dry_run,
            )
        except PartnerSheetProblem as exc:
            outcome.problem = f"its referral sheet cannot take referrals: {exc}"
            return outcome
        if located.needs_header and not self.dry_run:
            from integrations.sheets import write_ranges

            header = [
                {"range": f"{quote_tab(located.tab.title)}!A1", "values": [list(located.header)]}
            ]
            write_ranges(self.sheets, located.tab, header)
        if located.created or located.missing:
            outcome.actions.append(f"add tab '{located.tab.title}' with the referral header")
        elif located.columns_added:
            outcome.actions.append(f"add header columns: {', '.join(located.columns_added)}")
        elif located.needs_header:
            outcome.actions.append(
                f"referrals go to empty tab '{located.tab.title}' (header first)"
            )
        return self._share(outcome, people)

    def exists(self, file_id: str) -> bool:
        try:
            self.drive.files().get(fileId=file_id, fields="id,trashed").execute()
        except Exception:  # 404 or no access: the bot cannot use it either way
            return False
        return True

    # ------------------------------------------------------------ Drive
    def _find(self, name: str, mime: str, parent: str | None = None) -> str | None:
        clauses = [f"name = '{drive_quoted(name)}'", f"mimeType = '{mime}'", "trashed = false"]
        if parent:
            clauses.append(f"'{parent}' in parents")
        reply = self.drive.files().list(q=" and ".join(clauses), fields="files(id,name)").execute()
        found = [f for f in reply.get("files", []) if f.get("name") == name]
        return found[0]["id"] if found else None

    def _folder(self, name: str) -> str | None:
        if name not in self._folders:
            found = self._find(name, FOLDER_MIME)
            if found is None and not self.dry_run:
                body = {"name": name, "mimeType": FOLDER_MIME}
                found = self.drive.files().create(body=body, fields="id").execute()["id"]
            self._folders[name] = found
        return self._folders[name]

    def _create(self, spec: SheetSpec) -> str:
        body: dict[str, Any] = {"name": spec.title, "mimeType": SPREADSHEET_MIME}
        if spec.folder:
            body["parents"] = [self._folder(spec.folder)]
        return str(self.drive.files().create(body=body, fields="id").execute()["id"])

    # ------------------------------------------------------------ Sheets
    def _tab_and_header(self, outcome: SheetOutcome) -> None:
        spec, sheet_id = outcome.spec, str(outcome.spreadsheet_id)
        http = self.sheets.http_client
        tabs = [s["properties"] for s in http.fetch_sheet_metadata(sheet_id).get("sheets", [])]
        tab = next((t for t in tabs if t.get("title") == spec.tab), None)
        if tab is None:
            tab = self._add_tab(outcome, tabs)
            row: list[Any] = []
        else:
            from coalition.sheet_table import quote_tab

            reply = http.values_get(sheet_id, f"{quote_tab(spec.tab)}!1:1")
            row = (reply.get("values") or [[]])[0]
        missing = missing_headers(row, spec.header, spec.also)
        if not missing:
            return
        outcome.actions.append(
            f"{'write the header' if not row else 'add header columns'}: {', '.join(missing)}"
        )
        if not self.dry_run:
            self._write_header(sheet_id, spec.tab, tab, len(row), missing)

    def _add_tab(self, outcome: SheetOutcome, tabs: list[dict[str, Any]]) -> dict[str, Any]:
        spec = outcome.spec
        # A new spreadsheet comes with one empty "Sheet1": rename it rather than keep a stray tab.
        lone_default = len(tabs) == 1 and tabs[0].get("title") in {"Sheet1", "Hoja 1", "Feuille 1"}
        grid = {"rowCount": 1000, "columnCount": max(26, len(spec.header))}
        if lone_default and spec.tab not in {t.get("title") for t in tabs}:
            props = {"sheetId": tabs[0]["sheetId"], "title": spec.tab, "gridProperties": grid}
            request = {
                "updateSheetProperties": {
                    "properties": props,
                    "fields": "title,gridProperties.columnCount,gridProperties.rowCount",
                }
            }
            outcome.actions.append(f"name its tab '{spec.tab}'")
        else:
            props = {"title": spec.tab, "gridProperties": grid}
            request = {"addSheet": {"properties": props}}
            outcome.actions.append(f"add tab '{spec.tab}'")
        if self.dry_run:
            return {"title": spec.tab, "gridProperties": grid}
        reply = self.sheets.http_client.batch_update(
            str(outcome.spreadsheet_id), {"requests": [request]}
        )
        added = (reply.get("replies") or [{}])[0].get("addSheet", {}).get("properties")
        return added or props

    def _write_header(
        self, sheet_id: str, tab_title: str, tab: dict[str, Any], used: int, missing: list[str]
    ) -> None:
        from coalition.sheet_table import a1_range

        http = self.sheets.http_client
        needed = used + len(missing)
        columns = int((tab.get("gridProperties") or {}).get("columnCount") or 26)
        if needed > columns and "sheetId" in tab:
            http.batch_update(
                sheet_id,
                {
                    "requests": [
                        {
                            "appendDimension": {
                                "sheetId": tab["sheetId"],
                                "dimension": "COLUMNS",
                                "length": needed - columns,
                            }
                        }
                    ]
                },
            )
        http.values_update(
            sheet_id,
            a1_range(tab_title, 1, used, needed - 1),
            params={"valueInputOption": "RAW"},
            body={"values": [missing]},
        )

    # ------------------------------------------------------------ sharing
    def _share(self, outcome: SheetOutcome, people: Iterable[str]) -> SheetOutcome:
        reply = (
            self.drive.permissions()
            .list(fileId=outcome.spreadsheet_id, fields="permissions(emailAddress,role)")
            .execute()
        )
        current = {
            str(p.get("emailAddress", "")).casefold()
            for p in reply.get("permissions", [])
            if p.get("role") in WRITERS
        }
        return self._plan_sharing(outcome, people, current)

    def _plan_sharing(
        self, outcome: SheetOutcome, people: Iterable[str], current: set[str]
    ) -> SheetOutcome:
        todo = sorted({p.strip() for p in people if p.strip().casefold() not in current})
        if not todo:
            return outcome
        outcome.actions.append(
            f"share it with {len(todo)} {'person' if len(todo) == 1 else 'people'} (edit)"
        )
        if self.dry_run or outcome.spreadsheet_id is None:
            return outcome
        for email in todo:
            self.drive.permissions().create(
                fileId=outcome.spreadsheet_id,
                body={"type": "user", "role": "writer", "emailAddress": email},
            ).execute()
        return outcome


@contextmanager
def _explained(hint: str) -> Iterator[None]:
    """Turn a service's refusal into one ConfigError line with what to do (CLI exit code 2)."""
    import requests
    from googleapiclient.errors import HttpError
    from gspread.exceptions import APIError

    from integrations.airtable import AirtableError
    from integrations.sheets import SheetsError

    try:
        yield
    except (AirtableError, SheetsError) as exc:
        raise ConfigError(f"{exc}; {hint}") from None
    except (HttpError, APIError, requests.HTTPError) as exc:
        response = getattr(exc, "resp", None) or getattr(exc, "response", None)
        status = getattr(response, "status", None) or getattr(response, "status_code", None)
        raise ConfigError(f"a request was refused (HTTP {status}); {hint}") from None


def drive_quoted(text: str) -> str:
    """A value inside a Drive query's single quotes."""
    return text.replace("\\", "\\\\").replace("'", "\\'")


__all__ = ["Partner", "SheetOutcome", "partners_from_airtable", "setup_airtable", "setup_sheets"]
