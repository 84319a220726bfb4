"""Settings: secrets from the environment (or .env / Prefect Secret blocks), everything staff edit from config/*.yaml."""

from __future__ import annotations

import functools
import os
from datetime import time, timedelta
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
)
from pydantic_settings import BaseSettings, SettingsConfigDict

PROJECT_ROOT = Path(__file__).resolve().parent.parent


class ConfigError(Exception):
    """A configuration problem explained for a person: what, where, and what is expected."""


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


# ---------------------------------------------------------------- services.yaml
class AirtableTables(_Strict):
    members: str = "Members"
    contacts: str = "Contacts"
    campaigns: str = "Campaigns"
    bills: str = "Bills"
    donations: str = "Donations"
    activities: str = "Activities"


class AirtableNames(_Strict):
    base: str = "Coalition"
    tables: AirtableTables = AirtableTables()


class SheetNames(_Strict):
    intake: str = "Intake"
    intake_tab: str = "Form Responses"
    member_directory: str = "Member Directory"
    member_directory_tab: str = "Directory"
    # Staff e-mails `coalition setup sheets` gives edit access to every sheet it creates.
    share_with: list[EmailStr] = []  # a typo is a config error, not a Drive error later


class DriveNames(_Strict):
    summary_folder: str = "Weekly summaries"
    referral_folder: str = "Partner referrals"


class SlackChannels(_Strict):
    membership: str = "membership"
    intake_triage: str = "intake-triage"
    leadership: str = "leadership"
    ops_alerts: str = "ops-alerts"
    policy: str = "policy"
    organizing: str = "organizing"

    @field_validator("*")
    @classmethod
    def _no_hash(cls, value: str) -> str:
        return value.lstrip("#")


class SlackNames(_Strict):
    channels: SlackChannels = SlackChannels()


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
        raise ConfigError(f"{path}: is not valid YAML{where}") from None
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
    try:
        secrets = Secrets()
    except ValidationError as exc:
        raise ConfigError(format_validation_error("environment", exc)) from None
    return Settings(config_dir=directory, secrets=secrets, **parts)


@functools.cache
def settings() -> Settings:
    """The process-wide settings, read once."""
    return load_settings()


def reload_settings() -> Settings:
    settings.cache_clear()
    return settings()
