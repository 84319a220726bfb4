"""Client factories: the real pyairtable, gspread, Google API and slack_sdk clients, live or sandbox.

This is the one place that chooses between the live APIs and the sandbox
(`COALITION_SANDBOX_URL`). Everything else asks for a client and never sees a token.
"""

from __future__ import annotations

import functools
import json
import logging
from pathlib import Path
from typing import Any

import gspread
from google.oauth2.credentials import Credentials as BearerCredentials
from googleapiclient.discovery import build
from pyairtable import Api
from slack_sdk import WebClient
from slack_sdk.http_retry.builtin_handlers import (
    ConnectionErrorRetryHandler,
    RateLimitErrorRetryHandler,
    ServerErrorRetryHandler,
)

from coalition.settings import ConfigError, Settings, settings
from integrations.budget import budgets
from integrations.http import RequestsHttp, budgeted_session
from integrations.shared_budget import operator_prefect_api, share_when_configured

log = logging.getLogger("coalition.integrations")

GOOGLE_SCOPES = [
    "https://www.googleapis.com/auth/spreadsheets",
    "https://www.googleapis.com/auth/drive",
    "https://www.googleapis.com/auth/documents",
]
SANDBOX_TOKEN = "sandbox-token"  # any bearer token is accepted by the sandbox


def _announce_sandbox(url: str) -> None:
    _announce_once(url)


@functools.cache
def _announce_once(url: str) -> None:
    log.warning("SANDBOX MODE: every service is the local emulator at %s, not production", url)


def _secret(cfg: Settings, name: str, what: str) -> str:
    value = getattr(cfg.secrets, name)
    if value is not None and not value.get_secret_value().strip():
        value = None  # an empty variable in .env means "not configured"
    if value is None:
        value = _secret_from_prefect_block(name)
    if value is None:
        raise ConfigError(
            f"environment: {name.upper()} is not set ({what}); put it in .env, the environment, "
            f"or a Prefect Secret block named '{name.replace('_', '-')}'"
        )
    return value.get_secret_value() if hasattr(value, "get_secret_value") else str(value)


def _secret_from_prefect_block(name: str) -> str | None:
    """Look for a Prefect Secret block named like the variable (airtable-token, ...) when a Prefect API is set."""
    if operator_prefect_api() is None:
        return None
    try:
        from prefect.blocks.system import Secret

        return Secret.load(name.replace("_", "-")).get()
    except Exception:
        return None


def _prepare(cfg: Settings) -> str | None:
    budgets.configure(cfg.time_scale)
    share_when_configured(budgets)
    if cfg.sandbox_url:
        _announce_sandbox(cfg.sandbox_url)
    return cfg.sandbox_url


# ------------------------------------------------------------------ Airtable
def airtable_api(cfg: Settings | None = None) -> Api:
    cfg = cfg or settings()
    sandbox = _prepare(cfg)
    if sandbox:
        api = Api(SANDBOX_TOKEN, retry_strategy=False, endpoint_url=sandbox, timeout=(5, 60))
    else:
        token = _secret(cfg, "airtable_token", "an Airtable personal access token")
        api = Api(token, retry_strategy=False, timeout=(10, 60))
    key = api.api_key
    api.session = budgeted_session(sandbox)
    api.api_key = key  # re-applies the Authorization header on the new session
    return api


# ------------------------------------------------------------------ Google
def google_credentials(cfg: Settings | None = None):
    cfg = cfg or settings()
    if cfg.sandbox_url:
        return BearerCredentials(SANDBOX_TOKEN)
    from google.oauth2 import service_account

    raw = _secret(
        cfg, "google_service_account", "a service-account JSON key, as a path or its content"
    )
    try:
        info: dict[str, Any] = (
            json.loads(raw) if raw.lstrip().startswith("{") else json.loads(Path(raw).read_text())
        )
    except (OSError, json.JSONDecodeError) as exc:
        raise ConfigError(
            f"environment: GOOGLE_SERVICE_ACCOUNT is neither a readable JSON key file nor JSON ({type(exc).__name__})"
        ) from None
    return service_account.Credentials.from_service_account_info(info, scopes=GOOGLE_SCOPES)


def sheets_client(cfg: Settings | None = None) -> gspread.Client:
    cfg = cfg or settings()
    sandbox = _prepare(cfg)
    creds = google_credentials(cfg)
    from google.auth.transport.requests import AuthorizedSession

    session = AuthorizedSession(creds)
    adapter = budgeted_session(sandbox).get_adapter("https://")
    session.mount("https://", adapter)
    session.mount("http://", adapter)
    return gspread.Client(auth=creds, session=session)


def _google_service(name: str, version: str, cfg: Settings | None, path: str) -> Any:
    cfg = cfg or settings()
    sandbox = _prepare(cfg)
    http = RequestsHttp(budgeted_session(sandbox), google_credentials(cfg))
    # api_endpoint replaces rootUrl + servicePath, so the service path is repeated here.
    options = {"api_endpoint": f"{sandbox}{path}"} if sandbox else None
    return build(
        name,
        version,
        http=http,
        client_options=options,
        cache_discovery=False,
        static_discovery=True,
    )


def docs_service(cfg: Settings | None = None) -> Any:
    return _google_service("docs", "v1", cfg, "/")


def drive_service(cfg: Settings | None = None) -> Any:
    return _google_service("drive", "v3", cfg, "/drive/v3/")


# ------------------------------------------------------------------ Slack
def slack_client(cfg: Settings | None = None) -> WebClient:
    cfg = cfg or settings()
    sandbox = _prepare(cfg)
    token = (
        SANDBOX_TOKEN
        if sandbox
        else _secret(cfg, "slack_bot_token", "the Slack bot token (xoxb-...)")
    )
    client = WebClient(
        token=token,
        base_url=f"{sandbox}/api/" if sandbox else "https://slack.com/api/",
        timeout=30,
        retry_handlers=[
            ConnectionErrorRetryHandler(max_retry_count=3),
            RateLimitErrorRetryHandler(max_retry_count=5),
            ServerErrorRetryHandler(max_retry_count=3),
        ],
    )
    return client


def openstates_base_url(cfg: Settings | None = None) -> str:
    cfg = cfg or settings()
    return f"{cfg.sandbox_url}/openstates" if cfg.sandbox_url else "https://v3.openstates.org"
