"""Settings: secrets from the environment (or .env / Prefect Secret blocks), everything staff edit from config/*.yaml."""

from __future__ import annotations

import functools
import os
from collections.abc import Mapping
from datetime import datetime, time, timedelta
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import (
    BaseModel,
    ConfigDict,
    EmailStr,
    Field,
    SecretStr,
    ValidationError,
    field_validator,
    model_validator,
)
from pydantic_settings import BaseSettings, SettingsConfigDict

PROJECT_ROOT = Path(__file__).resolve().parent.parent


class ConfigError(Exception):
    """A configuration problem explained for a person: what, where, and what is expected."""


class WorkspaceNameError(ConfigError):
    """A name config gives (a table, field or column) that the workspace lacks.

    Its message holds config keys and names only, never a record's values, so it is safe
    to quote in #ops-alerts."""

    public = True


def config_file(directory: Path, name: str) -> str:
    """A config file as a person finds it: relative to the working folder when inside it."""
    path = Path(directory) / name
    try:
        return str(path.resolve().relative_to(Path.cwd().resolve()))
    except ValueError:
        return str(path)


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


# ---------------------------------------------------------------- services.yaml
def _reference(value: str, parse: Any, what: str) -> str:
    """A reference staff typed (link, id or name), refused when it is none of them."""
    parsed = parse(value)
    if parsed is None or hasattr(parsed, "why"):
        why = parsed.why if parsed is not None else "blank"
        expected = parsed.expected if parsed is not None else what
        raise ValueError(f"not understood ({why}); expected {expected}")
    return value


def _google(kind: Any) -> Any:
    from coalition.references import parse_google

    return lambda value: parse_google(value, kind)


def _airtable(kind: Any) -> Any:
    from coalition.references import parse_airtable

    return lambda value: parse_airtable(value, kind)


class AirtableTables(_Strict):
    members: str = "Members"
    contacts: str = "Contacts"
    campaigns: str = "Campaigns"
    bills: str = "Bills"
    donations: str = "Donations"
    activities: str = "Activities"

    @field_validator("*")
    @classmethod
    def _table(cls, value: str) -> str:
        return _reference(value, _airtable("table"), "an Airtable table")


class AirtableNames(_Strict):
    base: str = "Coalition"
    tables: AirtableTables = AirtableTables()

    @field_validator("base")
    @classmethod
    def _base(cls, value: str) -> str:
        return _reference(value, _airtable("base"), "an Airtable base")


class SheetNames(_Strict):
    intake: str = "Intake"
    intake_tab: str = "Form Responses"
    member_directory: str = "Member Directory"
    member_directory_tab: str = "Directory"
    # The tab of each partner's own sheet that takes its referrals (added when missing).
    referral_tab: str = "Referrals"
    # Aggregates and charts for leadership, kept current by the weekly summary.
    dashboard: str = "Coalition dashboard"
    # Staff e-mails `coalition setup sheets` gives edit access to every sheet it creates.
    share_with: list[EmailStr] = []  # a typo is a config error, not a Drive error later

    @field_validator("intake", "member_directory")
    @classmethod
    def _sheet(cls, value: str) -> str:
        return _reference(value, _google("spreadsheet"), "a spreadsheet")


class DriveNames(_Strict):
    summary_folder: str = "Weekly summaries"
    referral_folder: str = "Partner referrals"

    @field_validator("*")
    @classmethod
    def _folder(cls, value: str) -> str:
        return _reference(value, _google("folder"), "a Drive folder")


class SlackChannels(_Strict):
    membership: str = "membership"
    intake_triage: str = "intake-triage"
    leadership: str = "leadership"
    ops_alerts: str = "ops-alerts"
    policy: str = "policy"
    organizing: str = "organizing"

    @field_validator("*")
    @classmethod
    def _channel(cls, value: str) -> str:
        """#name, name, id, <#C…|name> or a link: kept as the id or the name."""
        from coalition.references import ChannelRef, parse_channel

        _reference(value, parse_channel, "a Slack channel")
        parsed = parse_channel(value)
        return parsed.canonical() if isinstance(parsed, ChannelRef) else value


class SlackNames(_Strict):
    channels: SlackChannels = SlackChannels()
    # The app's id (Basic Information > App Credentials, also in the app's URL): requests
    # naming another app are ignored. Not a secret. Unset: only the workspace is checked.
    app_id: str | None = None

    @field_validator("app_id")
    @classmethod
    def _app_id(cls, value: str | None) -> str | None:
        if value is None or not value.strip():
            return None
        value = value.strip()
        if not value.startswith("A") or not value.isalnum() or not value.isupper():
            raise ValueError("a Slack app id such as A0123ABCDEF (Basic Information > App ID)")
        return value


class OpenStatesConfig(_Strict):
    enabled: bool = False
    jurisdictions: list[str] = []
    queries: list[str] = []


class ServicesConfig(_Strict):
    timezone: str = "America/New_York"
    airtable: AirtableNames = AirtableNames()
    sheets: SheetNames = SheetNames()
    drive: DriveNames = DriveNames()
    slack: SlackNames = SlackNames()
    openstates: OpenStatesConfig = OpenStatesConfig()

    @field_validator("timezone")
    @classmethod
    def _known_timezone(cls, value: str) -> str:
        from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ValueError("an IANA time zone such as America/New_York") from exc
        return value


# ---------------------------------------------------------------- routing.yaml
class PovertyLine(_Strict):
    first: int = Field(gt=0)
    additional: int = Field(ge=0)


class PovertyGuidelines(_Strict):
    year: int
    default: PovertyLine
    AK: PovertyLine | None = None
    HI: PovertyLine | None = None

    def line_for(self, state: str | None) -> PovertyLine:
        if state == "AK" and self.AK:
            return self.AK
        if state == "HI" and self.HI:
            return self.HI
        return self.default


class RoutingConfig(_Strict):
    mode: Literal["auto", "approve"] = "auto"
    court_date_urgent_days: int = Field(21, ge=0)
    asylum_deadline_warning_days: int = Field(60, ge=0)
    sijs_age_out_warning_days: int = Field(180, ge=0)
    default_income_limit_percent: int = Field(200, gt=0)
    lsc_income_limit_percent: int = Field(125, gt=0)
    attorney_required_for: list[str] = ["removal defense", "detained"]
    # LSC-funded partners may not serve most undocumented clients; these case types are the exceptions.
    lsc_allowed_case_types: list[str] = ["VAWA", "U visa", "T visa", "naturalization"]
    referral_reminder_hours: float = Field(48, gt=0)
    referral_expire_hours: float = Field(96, gt=0)
    approval_reminder_hours: float = Field(24, gt=0)
    digest_threshold: int = Field(5, ge=1)
    duplicate_window_days: int = Field(7, ge=0)
    poverty_guidelines: PovertyGuidelines = PovertyGuidelines(
        year=2026,
        default=PovertyLine(first=15960, additional=5680),
        AK=PovertyLine(first=19950, additional=7100),
        HI=PovertyLine(first=18360, additional=6530),
    )


# ---------------------------------------------------------------- roster.yaml
class RosterConfig(_Strict):
    full_sync_every_hours: float = Field(24, gt=0)
    removed_members: Literal["remove", "mark"] = "remove"
    verify_every_months: int = Field(12, gt=0)
    directory_columns: dict[str, str] = {}
    canonical_services: list[str] = []
    canonical_languages: list[str] = []
    language_aliases: dict[str, str] = {}


# ---------------------------------------------------------------- alerts.yaml
class QuietHours(_Strict):
    start: time = time(21, 0)
    end: time = time(8, 0)


class AlertsConfig(_Strict):
    quiet_hours: QuietHours | None = QuietHours()
    hearing_reminder_days: list[int] = [3, 1]
    region_channels: dict[str, str] = {}
    default_bill_channel: str = "policy"


# ---------------------------------------------------------------- summary.yaml
class SummaryConfig(_Strict):
    show_top_donors: bool = False
    top_donors: int = Field(5, ge=1)
    small_count_threshold: int = Field(5, ge=1)
    # The donor history is read again from scratch this often, to forget deleted gifts.
    rebuild_donor_history_days: int = Field(90, ge=1)


# ---------------------------------------------------------------- access.yaml
class AccessConfig(_Strict):
    staff: list[str] = []
    admins: list[str] = []


# ---------------------------------------------------------------- schedules.yaml
class RetentionConfig(_Strict):
    ledger_days: int = Field(730, gt=0)
    intake_personal_fields_days: int = Field(365, gt=0)


class LeaseConfig(_Strict):
    """How long a run's claims last unless it renews them (it does at every step)."""

    # A run's deadline: a run killed mid-way blocks its work at most this long.
    minutes: float = Field(5.0, gt=0, le=60)


class SchedulesConfig(_Strict):
    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)

    roster_sync: str = Field("*/15 * * * *", alias="roster-sync")
    intake_routing: str = Field("*/5 * * * *", alias="intake-routing")
    alerts: str = Field("*/5 * * * *", alias="alerts")
    referral_follow_up: str = Field("0 * * * *", alias="referral-follow-up")
    weekly_summary: str = Field("0 8 * * 1", alias="weekly-summary")
    retention: RetentionConfig = RetentionConfig()
    leases: LeaseConfig = LeaseConfig()

    @field_validator(
        "roster_sync", "intake_routing", "alerts", "referral_follow_up", "weekly_summary"
    )
    @classmethod
    def _cron(cls, value: str) -> str:
        from croniter import croniter

        if not croniter.is_valid(value):
            raise ValueError("a cron expression such as '*/5 * * * *'")
        return value

    def for_flow(self, flow_name: str) -> str:
        return getattr(self, flow_name.replace("-", "_"))

    def longest_gap(self, flow_name: str, start: datetime, runs: int = 200) -> timedelta:
        """The longest wait between two scheduled runs of a flow over its next `runs` runs."""
        from croniter import croniter

        times = croniter(self.for_flow(flow_name), start)
        previous = times.get_next(datetime)
        gap = timedelta(0)
        for _ in range(runs):
            current = times.get_next(datetime)
            gap = max(gap, current - previous)
            previous = current
        return gap


# ---------------------------------------------------------------- fields.yaml
# The workspace's own names for every table, field and column the bot reads or writes.
# Keys are the bot's needs (snake_case); values default to DESIGN.md's names. A missing
# file or key means the default, so a workspace built from the design needs no file.


def _name(value: str) -> str:
    if not isinstance(value, str) or not value.strip():
        raise ValueError("a name as it appears in the workspace (non-empty text)")
    return value.strip()


class _Names(_Strict):
    """Key -> the workspace's name; two keys never name the same field."""

    @field_validator("*", mode="before")
    @classmethod
    def _text(cls, value: Any) -> Any:
        return _name(value)

    @model_validator(mode="after")
    def _distinct(self) -> _Names:
        seen: dict[str, str] = {}
        for key, value in self.items():
            other = seen.setdefault(value.casefold(), key)
            if other != key:
                raise ValueError(
                    f"distinct names: '{value}' is given to both '{other}' and '{key}'"
                )
        return self

    def items(self) -> list[tuple[str, str]]:
        return [(key, getattr(self, key)) for key in type(self).model_fields]

    def all(self) -> list[str]:
        return [value for _, value in self.items()]

    def key_of(self, name: str) -> str | None:
        return next((key for key, value in self.items() if value == name), None)

    def from_design(self, values: Mapping[str, Any]) -> dict[str, Any]:
        """Values keyed by the design's field names, keyed by this workspace's names instead
        (the pure core speaks DESIGN.md's vocabulary; Airtable gets the configured names)."""
        design = {name: key for key, name in type(self)().items()}
        return {
            (getattr(self, design[name]) if name in design else name): value
            for name, value in values.items()
        }

    def to_design(self, values: Mapping[str, Any]) -> dict[str, Any]:
        """The inverse of `from_design`: a record's fields as the pure core reads them."""
        design = type(self)()
        mine = {name: key for key, name in self.items()}
        return {
            (getattr(design, mine[name]) if name in mine else name): value
            for name, value in values.items()
        }


class MemberFields(_Names):
    name: str = "Name"
    type: str = "Type"
    state: str = "State"
    counties: str = "Counties"
    services: str = "Services"
    languages: str = "Languages"
    accepting: str = "Accepting referrals"
    capacity: str = "Weekly capacity"
    income_limit: str = "Income limit"
    lsc_funded: str = "LSC funded"
    accreditation: str = "Accreditation"
    referral_channel: str = "Referral channel"
    referral_sheet: str = "Referral sheet"
    status: str = "Membership status"
    dues: str = "Dues paid through"
    verified: str = "Last verified"
    remote: str = "Remote services"
    interpreter: str = "Interpreter available"
    data_issues: str = "Data issues"


class ContactFields(_Names):
    name: str = "Name"
    email: str = "Email"
    phone: str = "Phone"
    organization: str = "Organization"
    role: str = "Role"
    slack_user: str = "Slack user"
    primary: str = "Primary contact"
    data_issues: str = "Data issues"


class CampaignFields(_Names):
    title: str = "Title"
    message: str = "Message"
    call_to_action: str = "Call to action"
    link: str = "Link"
    channels: str = "Channels"
    regions: str = "Regions"
    status: str = "Status"
    send_at: str = "Send at"
    slack_messages: str = "Slack messages"
    notify_channel: str = "Notify channel"
    urgent: str = "Urgent"
    error: str = "Error"


class BillFields(_Names):
    bill: str = "Bill"
    jurisdiction: str = "Jurisdiction"
    title: str = "Title"
    position: str = "Position"
    status: str = "Status"
    last_action: str = "Last action"
    last_action_date: str = "Last action date"
    next_hearing: str = "Next hearing"
    source_url: str = "Source URL"
    channel: str = "Channel"
    error: str = "Error"


class DonationFields(_Names):
    donor: str = "Donor"
    email: str = "Email"
    amount: str = "Amount"
    date: str = "Date"
    recurring: str = "Recurring"
    campaign: str = "Campaign"
    anonymous: str = "Anonymous"
    source: str = "Source"


class ActivityFields(_Names):
    date: str = "Date"
    type: str = "Type"
    title: str = "Title"
    attendees: str = "Attendees"
    region: str = "Region"
    organization: str = "Organization"


class _Table(_Strict):
    table: str

    @field_validator("table", mode="before")
    @classmethod
    def _text(cls, value: Any) -> Any:
        return _name(value)


class MembersTable(_Table):
    table: str = "Members"
    fields: MemberFields = MemberFields()


class ContactsTable(_Table):
    table: str = "Contacts"
    fields: ContactFields = ContactFields()


class CampaignsTable(_Table):
    table: str = "Campaigns"
    fields: CampaignFields = CampaignFields()


class BillsTable(_Table):
    table: str = "Bills"
    fields: BillFields = BillFields()


class DonationsTable(_Table):
    table: str = "Donations"
    fields: DonationFields = DonationFields()


class ActivitiesTable(_Table):
    table: str = "Activities"
    fields: ActivityFields = ActivityFields()


class AirtableFields(_Strict):
    members: MembersTable = MembersTable()
    contacts: ContactsTable = ContactsTable()
    campaigns: CampaignsTable = CampaignsTable()
    bills: BillsTable = BillsTable()
    donations: DonationsTable = DonationsTable()
    activities: ActivitiesTable = ActivitiesTable()

    def tables(self) -> dict[str, _Table]:
        return {key: getattr(self, key) for key in type(self).model_fields}


def _spellings(value: Any) -> Any:
    if isinstance(value, str):
        value = [value]  # one spelling may be written without brackets
    if not isinstance(value, list | tuple):
        raise ValueError("a list of header spellings, e.g. [Full name, Nombre completo]")
    return [_name(v) for v in value]


# Fields intake routing cannot do without: a row read without one would go out blank.
# "contact" is met by either a phone or an email column.
REQUIRED_FORM_FIELDS: tuple[str, ...] = ("name", "contact", "language", "county", "help", "consent")
CONTACT_FORM_FIELDS: tuple[str, ...] = ("phone", "email")


class IntakeForm(_Strict):
    """The person's answers: field key -> header spellings, first match wins."""

    timestamp: list[str] = ["Timestamp", "Submitted at", "Marca temporal"]
    name: list[str] = ["Full name", "Name", "Nombre", "Nombre completo"]
    language: list[str] = ["Preferred language", "Language", "Idioma"]
    phone: list[str] = ["Phone", "Phone number", "Teléfono", "Telefono"]
    email: list[str] = ["Email", "E-mail", "Email address", "Correo"]
    city: list[str] = ["City", "Ciudad"]
    county: list[str] = ["County", "Condado"]
    state: list[str] = ["State", "Estado"]
    help: list[str] = ["Help needed", "What help do you need?", "Ayuda"]
    detained: list[str] = ["Detained", "Detained?", "Detenido"]
    court_date: list[str] = ["Next court date", "Court date"]
    entry_date: list[str] = ["Date of last entry", "Last entry date", "Date of entry"]
    birth_date: list[str] = ["Date of birth", "Birth date", "DOB"]
    household: list[str] = ["Household size", "Household"]
    income: list[str] = ["Monthly income", "Income"]
    consent: list[str] = ["Consent to share", "Consent"]
    notes: list[str] = ["Notes", "Anything else", "Notas"]

    @field_validator("*", mode="before")
    @classmethod
    def _lists(cls, value: Any) -> Any:
        return _spellings(value)

    @model_validator(mode="after")
    def _required_asked(self) -> IntakeForm:
        for key in REQUIRED_FORM_FIELDS:
            keys = CONTACT_FORM_FIELDS if key == "contact" else (key,)
            if not any(getattr(self, k) for k in keys):
                raise ValueError(
                    f"at least one header spelling for '{'/'.join(keys)}' (routing needs it)"
                )
        return self

    def columns(self) -> dict[str, tuple[str, ...]]:
        return {key: tuple(getattr(self, key)) for key in type(self).model_fields}


class IntakeBot(_Names):
    """The bot's own columns of the Intake sheet (the only ones it writes)."""

    intake_id: str = "Intake ID"
    status: str = "Status"
    partner: str = "Partner"
    referral_id: str = "Referral ID"
    routed_at: str = "Routed at"
    reason: str = "Routing reason"


class IntakeFields(_Strict):
    form: IntakeForm = IntakeForm()
    bot: IntakeBot = IntakeBot()

    @model_validator(mode="after")
    def _bot_apart(self) -> IntakeFields:
        bot = {name.casefold(): key for key, name in self.bot.items()}
        for key, spellings in self.form.columns().items():
            clash = next((s for s in spellings if s.casefold() in bot), None)
            if clash:
                raise ValueError(
                    f"form spellings apart from the bot's columns: form.{key} lists '{clash}', "
                    f"the bot's own column bot.{bot[clash.casefold()]}"
                )
        return self


# Directory sources that are not Airtable fields.
COMPUTED_SOURCES = frozenset({"id", "primary_contact", "data_issues"})
DEFAULT_DIRECTORY: dict[str, str] = {
    "Member ID": "id",
    "Organization": "Name",
    "Type": "Type",
    "State": "State",
    "Counties": "Counties",
    "Services": "Services",
    "Languages": "Languages",
    "Accepting referrals": "Accepting referrals",
    "Weekly capacity": "Weekly capacity",
    "Membership status": "Membership status",
    "Dues paid through": "Dues paid through",
    "Primary contact": "primary_contact",
    "Data issues": "data_issues",
}


class FieldsConfig(_Strict):
    """config/fields.yaml: every table, field and column name the bot uses, in the workspace's words."""

    airtable: AirtableFields = AirtableFields()
    intake: IntakeFields = IntakeFields()
    # Member Directory sheet header -> source: a computed value (id, primary_contact,
    # data_issues), a key of airtable.members.fields, or a Members field's own name.
    directory: dict[str, str] = DEFAULT_DIRECTORY

    @field_validator("directory")
    @classmethod
    def _directory(cls, value: dict[str, str]) -> dict[str, str]:
        if not value:
            raise ValueError("at least one column (header: source)")
        for header, source in value.items():
            _name(header)
            _name(source)
        if "id" not in value.values():
            raise ValueError("a column whose source is 'id' (the Member ID the bot owns)")
        return {h.strip(): s.strip() for h, s in value.items()}

    def directory_source(self, source: str) -> str:
        """The Members field a directory source names (keys resolve to the configured name)."""
        if source in COMPUTED_SOURCES:
            return source
        members = self.airtable.members.fields
        return getattr(members, source) if source in type(members).model_fields else source

    def directory_fields(self) -> dict[str, str]:
        """Directory header -> the Members field (or computed source) it shows."""
        return {h: self.directory_source(s) for h, s in self.directory.items()}


# ---------------------------------------------------------------- secrets (environment)
class Secrets(BaseSettings):
    """Secrets and machine settings. Never in YAML, never flow parameters, never logged."""

    model_config = SettingsConfigDict(
        env_file=".env", env_file_encoding="utf-8", extra="ignore", case_sensitive=False
    )

    airtable_token: SecretStr | None = None
    google_service_account: SecretStr | None = Field(
        None, description="Path to, or content of, a service-account JSON key"
    )
    slack_bot_token: SecretStr | None = None
    slack_signing_secret: SecretStr | None = None
    slack_app_token: SecretStr | None = None
    openstates_api_key: SecretStr | None = None
    coalition_sandbox_url: str | None = None
    coalition_database_url: str | None = None
    coalition_time_scale: float = Field(1.0, gt=0)
    # Overrides schedules.yaml's lease length on one machine (the soak's reruns shorten it).
    coalition_lease_seconds: float | None = Field(None, gt=0)
    coalition_var_dir: Path = PROJECT_ROOT / "var"
    coalition_public_url: str | None = None


CONFIG_FILES: dict[str, type[BaseModel]] = {
    "services": ServicesConfig,
    "routing": RoutingConfig,
    "roster": RosterConfig,
    "alerts": AlertsConfig,
    "summary": SummaryConfig,
    "access": AccessConfig,
    "schedules": SchedulesConfig,
    "fields": FieldsConfig,
}


class Settings(BaseModel):
    """Everything the bot is told: secrets plus every config file, validated."""

    model_config = ConfigDict(arbitrary_types_allowed=True, frozen=True)

    config_dir: Path
    secrets: Secrets
    services: ServicesConfig
    routing: RoutingConfig
    roster: RosterConfig
    alerts: AlertsConfig
    summary: SummaryConfig
    access: AccessConfig
    schedules: SchedulesConfig
    fields: FieldsConfig = FieldsConfig()

    @property
    def sandbox_url(self) -> str | None:
        url = self.secrets.coalition_sandbox_url
        return url.rstrip("/") if url else None

    @property
    def database_url(self) -> str:
        if self.secrets.coalition_database_url:
            return self.secrets.coalition_database_url
        var = Path(self.secrets.coalition_var_dir)
        return f"sqlite:///{var / 'ledger.sqlite3'}"

    @property
    def lease_length(self) -> timedelta:
        """How long a claim lasts before another run may take it over."""
        seconds = self.secrets.coalition_lease_seconds
        if seconds is None:
            seconds = self.schedules.leases.minutes * 60
        return timedelta(seconds=seconds)

    @property
    def time_scale(self) -> float:
        """How much faster than real time rate windows pass; only the sandbox may speed time up."""
        return self.secrets.coalition_time_scale if self.sandbox_url else 1.0


def config_dir() -> Path:
    return Path(os.environ.get("COALITION_CONFIG_DIR") or PROJECT_ROOT / "config")


def _describe(error: dict[str, Any]) -> str:
    where = ".".join(str(p) for p in error.get("loc", ())) or "(top level)"
    value = error.get("input")
    shown = repr(value) if not isinstance(value, dict) else "a mapping"
    if len(shown) > 80:
        shown = shown[:77] + "..."
    kind = error.get("type", "")
    if kind == "extra_forbidden":
        return f"key '{where}' is not a known setting (remove it or check its spelling)"
    if kind in {"model_type", "dict_type"}:
        return f"key '{where}' has {shown}; expected a mapping of keys (key: value lines)"
    if kind == "missing":
        return f"key '{where}' is missing"
    message = error.get("msg", "").removeprefix("Value error, ").removeprefix("Input should be ")
    return f"key '{where}' has {shown}; expected {message}"


def format_validation_error(source: str, exc: ValidationError) -> str:
    lines = [f"{source}: " + _describe(e) for e in exc.errors()]
    return "\n".join(lines)


def _load_yaml(path: Path) -> dict[str, Any]:
    if not path.exists():
        return {}
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" (line {mark.line + 1}, column {mark.column + 1})" if mark else ""
        # Form questions often end in "?" or hold ":", which YAML reads as syntax.
        hint = '; put text holding "?", ":" or "#" in quotes' if path.name == "fields.yaml" else ""
        raise ConfigError(f"{path}: is not valid YAML{where}{hint}") from None
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise ConfigError(
            f"{path}: expected a mapping of keys at the top, found {type(data).__name__}"
        )
    return data


def load_settings(directory: Path | None = None) -> Settings:
    """Read and validate every config file and the environment; raise ConfigError with a clear message."""
    directory = Path(directory) if directory else config_dir()
    if not directory.is_dir():
        raise ConfigError(
            f"config folder {directory} does not exist (set COALITION_CONFIG_DIR to a folder of YAML files)"
        )
    parts: dict[str, Any] = {}
    for name, model in CONFIG_FILES.items():
        path = directory / f"{name}.yaml"
        try:
            parts[name] = model.model_validate(_load_yaml(path))
        except ValidationError as exc:
            raise ConfigError(format_validation_error(str(path), exc)) from None
    parts.update(merge_names(parts["fields"], parts["services"], parts["roster"]))
    try:
        secrets = Secrets()
    except ValidationError as exc:
        raise ConfigError(format_validation_error("environment", exc)) from None
    return Settings(config_dir=directory, secrets=secrets, **parts)


def merge_names(
    fields: FieldsConfig, services: ServicesConfig, roster: RosterConfig
) -> dict[str, Any]:
    """fields.yaml first; the older homes of its names (services.yaml airtable.tables, roster.yaml
    directory_columns) still count where fields.yaml is silent; then both agree, so code reading
    either finds the same names."""
    old_tables = services.airtable.tables
    tables: dict[str, Any] = {}
    for key, table in fields.airtable.tables().items():
        old = getattr(old_tables, key) if key in old_tables.model_fields_set else None
        if old is not None and "table" in table.model_fields_set and old != table.table:
            raise ConfigError(
                f"services.yaml airtable.tables.{key} says '{old}' but fields.yaml "
                f"airtable.{key}.table says '{table.table}': keep the name in fields.yaml only"
            )
        tables[key] = table if old is None else table.model_copy(update={"table": old})
    directory = fields.directory
    old_directory = roster.directory_columns
    if old_directory and "directory" in fields.model_fields_set and old_directory != directory:
        raise ConfigError(
            "roster.yaml directory_columns and fields.yaml directory differ: keep the columns in "
            "fields.yaml directory only"
        )
    if old_directory:
        directory = dict(old_directory)
    merged = fields.model_copy(
        update={"airtable": AirtableFields(**tables), "directory": directory}
    )
    names = AirtableTables(**{key: t.table for key, t in tables.items()})
    airtable = services.airtable.model_copy(update={"tables": names})
    return {
        "fields": merged,
        "services": services.model_copy(update={"airtable": airtable}),
        "roster": roster.model_copy(update={"directory_columns": dict(directory)}),
    }


@functools.cache
def settings() -> Settings:
    """The process-wide settings, read once."""
    return load_settings()


def reload_settings() -> Settings:
    settings.cache_clear()
    return settings()
