"""The app's secrets and its last check before anything is shown: signing secret, app token, outgoing guard."""

from __future__ import annotations

import pytest

from bot.runtime import SANDBOX_SIGNING_SECRET, app_token, check_outgoing, signing_secret
from coalition.outgoing import MentionError
from coalition.privacy import PIIError
from coalition.settings import ConfigError, load_settings


@pytest.fixture
def clean_env(monkeypatch: pytest.MonkeyPatch) -> pytest.MonkeyPatch:
    for name in (
        "SLACK_SIGNING_SECRET",
        "SLACK_APP_TOKEN",
        "COALITION_SANDBOX_URL",
        "PREFECT_API_URL",
    ):
        monkeypatch.delenv(name, raising=False)
    return monkeypatch


def test_the_sandbox_signing_secret_is_the_default_in_sandbox_mode(
    clean_env: pytest.MonkeyPatch,
) -> None:
    clean_env.setenv("COALITION_SANDBOX_URL", "http://127.0.0.1:8787")
    assert signing_secret(load_settings()) == SANDBOX_SIGNING_SECRET
    clean_env.setenv("SLACK_SIGNING_SECRET", "from-the-environment")
    assert signing_secret(load_settings()) == "from-the-environment"


def test_live_mode_without_a_signing_secret_is_a_clear_config_error(
    clean_env: pytest.MonkeyPatch,
) -> None:
    with pytest.raises(ConfigError, match="SLACK_SIGNING_SECRET is not set"):
        signing_secret(load_settings())


def test_the_app_token_must_be_an_app_level_token(clean_env: pytest.MonkeyPatch) -> None:
    assert app_token(load_settings()) is None
    clean_env.setenv("SLACK_APP_TOKEN", "xoxb-not-an-app-token")
    with pytest.raises(ConfigError, match="xapp-"):
        app_token(load_settings())
    clean_env.setenv("SLACK_APP_TOKEN", "xapp-1-A0-1-abc")
    assert app_token(load_settings()) == "xapp-1-A0-1-abc"


def section(text: str) -> list[dict]:
    return [{"type": "section", "text": {"type": "mrkdwn", "text": text}}]


@pytest.mark.parametrize("ping", ["<!channel>", "<!here>", "<!everyone>", "<!subteam^S123>"])
def test_crowd_pings_are_always_refused(ping: str) -> None:
    with pytest.raises(MentionError):
        check_outgoing("hello", section(f"Accepted by <@U0ABC> {ping}"))


def test_saying_who_acted_is_allowed() -> None:
    check_outgoing("Accepted by <@U0ABC123>", section("Approved by <@W0XYZ>"))


def test_personal_data_is_refused_unless_shown_on_purpose() -> None:
    with pytest.raises(PIIError):
        check_outgoing("call (214) 555-0199", [])
    check_outgoing("Contact phone (staff only): (214) 555-0199", [], allow=["(214) 555-0199"])
    with pytest.raises(PIIError):  # another number in the same answer is still caught
        check_outgoing("(214) 555-0199 or jane@example.org", [], allow=["(214) 555-0199"])
