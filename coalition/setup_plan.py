"""What `coalition setup` must create (pure): the Airtable tables and fields of DESIGN.md, and the sheets' headers.

`plan_airtable` compares the design with a base's current schema and lists the
tables to create, the fields to add, and the fields whose type differs (reported,
never changed: staff data lives in them). `missing_headers` does the same for a
sheet's first row. Names come from config, so a renamed table or sheet is found.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any, Literal

from coalition.intake.fields import FORM_COLUMNS
from coalition.intake.sheet_rows import REFERRAL_COLUMNS, REFERRAL_TAB
from coalition.roster.models import CONTACT_FIELDS, MEMBER_FIELDS
from coalition.settings import Settings

LINK = "multipleRecordLinks"
SERVICES = (
    "asylum", "removal defense", "detained", "DACA", "TPS", "U visa", "T visa", "VAWA", "SIJS",
    "naturalization", "family petition", "work permit", "know your rights",
)  # fmt: skip
ACCREDITATIONS = ("attorney", "fully accredited", "partially accredited", "none")
CAMPAIGN_STATUSES = ("Draft", "Ready", "Sent", "Cancelled")
BILL_POSITIONS = ("Support", "Oppose", "Watch")
MEMBERSHIP_STATUSES = ("Active", "Pending", "Lapsed", "Inactive")
# The Intake columns a form writes (DESIGN.md), then the bot's own.
INTAKE_FORM_COLUMNS = (
    "Timestamp", "Full name", "Preferred language", "Phone", "Email", "City", "County", "State",
    "Help needed", "Detained", "Next court date", "Date of last entry", "Household size",
    "Monthly income", "Consent to share", "Notes",
)  # fmt: skip
REFERRAL_TITLE = "Referrals - {name}"

_DATE = {"dateFormat": {"name": "iso"}}
_DATETIME = {"dateFormat": {"name": "iso"}, "timeFormat": {"name": "24hour"}, "timeZone": "utc"}
_CHECK = {"icon": "check", "color": "greenBright"}
_WHOLE = {"precision": 0}


@dataclass(frozen=True)
class FieldSpec:
    """A field of the design; `link` names the logical table a link field points to."""

    name: str
    type: str
    options: Mapping[str, Any] | None = None
    link: str | None = None

    def body(self, table_ids: Mapping[str, str]) -> dict[str, Any]:
        """The Meta API's field object (a link needs the id of the table it points to)."""
        spec: dict[str, Any] = {"name": self.name, "type": self.type}
        options = dict(self.options or {})
        if self.link:
            options["linkedTableId"] = table_ids[self.link]
        if options:
            spec["options"] = options
        return spec


def _choices(names: Sequence[str]) -> dict[str, Any]:
    return {"choices": [{"name": name} for name in names]}


def _text(name: str) -> FieldSpec:
    return FieldSpec(name, "singleLineText")


def _long(name: str) -> FieldSpec:
    return FieldSpec(name, "multilineText")


def _check(name: str) -> FieldSpec:
    return FieldSpec(name, "checkbox", _CHECK)


def _date(name: str) -> FieldSpec:
    return FieldSpec(name, "date", _DATE)


def _select(name: str, choices: Sequence[str] = (), multiple: bool = False) -> FieldSpec:
    return FieldSpec(name, "multipleSelects" if multiple else "singleSelect", _choices(choices))


_M, _C = MEMBER_FIELDS, CONTACT_FIELDS
# Logical table key (as in config/fields.yaml airtable) -> its fields under the design's
# names (`configured_design` renames them as config says), the primary one first.
# Tables come in creation order: a link's target before the tables linking to it.
AIRTABLE_DESIGN: dict[str, tuple[FieldSpec, ...]] = {
    "members": (
        _text(_M.name), _select(_M.type), _select(_M.state), _select(_M.counties, multiple=True),
        _select(_M.services, SERVICES, multiple=True), _select(_M.languages, multiple=True),
        _check(_M.accepting), FieldSpec(_M.capacity, "number", _WHOLE),
        FieldSpec(_M.income_limit, "number", _WHOLE), _check(_M.lsc_funded),
        _select(_M.accreditation, ACCREDITATIONS), _text(_M.referral_channel),
        _text(_M.referral_sheet), _select(_M.status, MEMBERSHIP_STATUSES), _date(_M.dues), _date(_M.verified),
        _check(_M.remote), _check(_M.interpreter), _long(_M.data_issues),
    ),
    "contacts": (
        _text(_C.name), FieldSpec(_C.email, "email"), FieldSpec(_C.phone, "phoneNumber"),
        FieldSpec(_C.organization, LINK, link="members"), _select(_C.role),
        _text(_C.slack_user), _check(_C.primary), _long(_C.data_issues),
    ),
    "campaigns": (
        _text("Title"), _long("Message"), _text("Call to action"), FieldSpec("Link", "url"),
        _select("Channels", multiple=True), _select("Regions", multiple=True),
        _select("Status", CAMPAIGN_STATUSES), FieldSpec("Send at", "dateTime", _DATETIME),
        _long("Slack messages"), _check("Notify channel"), _check("Urgent"), _long("Error"),
    ),
    "bills": (
        _text("Bill"), _select("Jurisdiction"), _text("Title"), _select("Position", BILL_POSITIONS),
        _text("Status"), _text("Last action"), _date("Last action date"), _date("Next hearing"),
        FieldSpec("Source URL", "url"), _text("Channel"), _long("Error"),
    ),
    "donations": (
        _text("Donor"), FieldSpec("Email", "email"), _text("Amount"), _date("Date"),
        _check("Recurring"), _select("Campaign"), _check("Anonymous"), _select("Source"),
    ),
    "activities": (
        _date("Date"), _select("Type"), _text("Title"), FieldSpec("Attendees", "number", _WHOLE),
        _select("Region"), FieldSpec("Organization", LINK, link="members"),
    ),
}  # fmt: skip


# ---------------------------------------------------------------- Airtable plan
@dataclass(frozen=True)
class AirtableStep:
    """One thing `setup airtable` does (or, for `differs`, only reports)."""

    action: Literal["create table", "add field", "differs"]
    key: str  # logical table key
    table: str  # the table's name in this base
    fields: tuple[FieldSpec, ...] = ()
    have: str | None = None  # for `differs`: the type found

    def describe(self) -> str:
        if self.action == "create table":
            return f"create table '{self.table}' with {len(self.fields)} fields"
        spec = self.fields[0]
        if self.action == "add field":
            return f"add field '{spec.name}' ({spec.type}) to '{self.table}'"
        return (
            f"field '{spec.name}' of '{self.table}' is {self.have}, the design says {spec.type}: "
            "left as it is (change it in Airtable if the bot misreads it)"
        )


@dataclass
class AirtablePlan:
    steps: list[AirtableStep] = field(default_factory=list)

    @property
    def changes(self) -> list[AirtableStep]:
        return [s for s in self.steps if s.action != "differs"]


def configured_design(cfg: Settings) -> dict[str, tuple[FieldSpec, ...]]:
    """AIRTABLE_DESIGN with each field under the name config/fields.yaml gives it."""
    tables = cfg.fields.airtable.tables()
    return {
        key: tuple(
            replace(spec, name=next(iter(tables[key].fields.from_design({spec.name: None}))))
            for spec in specs
        )
        for key, specs in AIRTABLE_DESIGN.items()
    }


def plan_airtable(cfg: Settings, existing: Mapping[str, Mapping[str, str]]) -> AirtablePlan:
    """Steps to bring a base to the design (under the configured names); `existing` is table
    name -> field name -> type."""
    tables = cfg.fields.airtable.tables()
    plan = AirtablePlan()
    for key, specs in configured_design(cfg).items():
        table = tables[key].table
        have = existing.get(table)
        if have is None:
            plan.steps.append(AirtableStep("create table", key, table, specs))
            continue
        for spec in specs:
            found = have.get(spec.name)
            if found is None:
                plan.steps.append(AirtableStep("add field", key, table, (spec,)))
            elif found != spec.type and not _compatible(found, spec.type):
                plan.steps.append(AirtableStep("differs", key, table, (spec,), found))
    return plan


# Types the bot reads the same way (a long text where a short one was planned, and so on).
_READ_ALIKE = [
    {"singleLineText", "multilineText", "richText", "email", "url", "phoneNumber"},
    {"singleSelect", "singleLineText"},
    {"number", "currency", "percent"},
    {"date", "dateTime"},
]


def _compatible(have: str, want: str) -> bool:
    return any(have in group and want in group for group in _READ_ALIKE)


# ---------------------------------------------------------------- sheets
@dataclass(frozen=True)
class SheetSpec:
    """A spreadsheet the bot needs: its title, the tab it uses, that tab's header, its folder."""

    role: str  # intake, member directory, referrals
    title: str
    tab: str
    header: tuple[str, ...]
    folder: str | None = None
    # Header -> other spellings that count as that column (a form's own question titles).
    also: Mapping[str, tuple[str, ...]] = field(default_factory=dict)


def intake_header(cfg: Settings) -> tuple[tuple[str, ...], dict[str, tuple[str, ...]]]:
    """The Intake header setup writes: the design's form columns under the first spelling
    config/fields.yaml gives each, then the bot's columns; and every other spelling of each."""
    design = {spellings[0]: key for key, spellings in FORM_COLUMNS.items() if spellings}
    form = cfg.fields.intake.form.columns()
    header: list[str] = []
    also: dict[str, tuple[str, ...]] = {}
    for column in INTAKE_FORM_COLUMNS:
        spellings = form.get(design.get(column, ""), ()) or (column,)
        header.append(spellings[0])
        also[spellings[0]] = tuple(spellings[1:])
    header += [name for _, name in cfg.fields.intake.bot.items()]
    return tuple(header), also


DASHBOARD_TAB, DASHBOARD_TITLE = "About", "Coalition dashboard"


def coalition_sheets(cfg: Settings) -> list[SheetSpec]:
    """The Intake, Member Directory and dashboard spreadsheets, with headers from DESIGN.md and config."""
    names = cfg.services.sheets
    header, also = intake_header(cfg)
    return [
        SheetSpec("intake", names.intake, names.intake_tab, header, also=also),
        SheetSpec(
            "member directory",
            names.member_directory,
            names.member_directory_tab,
            tuple(cfg.fields.directory),
        ),
        # The weekly summary fills it (one tab per measure, charts); setup makes it and its About tab.
        SheetSpec("dashboard", names.dashboard, DASHBOARD_TAB, (DASHBOARD_TITLE,)),
    ]


def referral_sheet(cfg: Settings, organization: str, title: str | None = None) -> SheetSpec:
    """A partner's own referral sheet, in the Drive folder of referral sheets."""
    return SheetSpec(
        "referrals",
        title or REFERRAL_TITLE.format(name=organization),
        REFERRAL_TAB,
        REFERRAL_COLUMNS,
        cfg.services.drive.referral_folder,
    )


def _key(header: str) -> str:
    return " ".join(str(header).split()).casefold()


def missing_headers(
    row: Sequence[Any], wanted: Sequence[str], also: Mapping[str, Sequence[str]] | None = None
) -> list[str]:
    """Header cells `wanted` that the first row lacks (case and spacing ignored; any of a
    column's other spellings in `also` counts as it), in order."""
    present = {_key(cell) for cell in row if str(cell).strip()}
    others = also or {}
    return [
        name
        for name in wanted
        if not any(_key(n) in present for n in (name, *others.get(name, ())))
    ]


__all__ = [
    "AIRTABLE_DESIGN",
    "AirtablePlan",
    "AirtableStep",
    "FieldSpec",
    "SheetSpec",
    "coalition_sheets",
    "missing_headers",
    "plan_airtable",
    "referral_sheet",
]
