"""Secrets never reach the Slack app's logs: tokens, the signing secret, response URLs."""

from __future__ import annotations

import logging

import pytest

from bot.logs import (
    BODY_WITHHELD,
    MASK,
    install_secret_scrubbing,
    remember_secrets,
    scrub,
    without_body,
)


@pytest.mark.parametrize(
    ("text", "gone"),
    [
        ("Authorization: Bearer xoxb-1234-5678-abcdef", "xoxb-1234-5678-abcdef"),
        ("app token xapp-1-A0-123-abc", "xapp-1-A0-123-abc"),
        ("body: token=verif123&team_id=T1&text=help", "verif123"),
        ('{"token": "verif123", "type": "block_actions"}', "verif123"),
        ("posting to https://hooks.slack.com/commands/T1/123/abcSECRET", "abcSECRET"),
        ("response_url=https%3A%2F%2Fhooks.slack.com%2Fcommands%2FT1%2F1%2Fxyz", "xyz"),
        ("sandbox http://127.0.0.1:8787/hooks/commands/T0/1/tok", "T0/1/tok"),
    ],
)
def test_secret_shapes_are_masked(text: str, gone: str) -> None:
    scrubbed = scrub(text)
    assert gone not in scrubbed and MASK in scrubbed


def test_remembered_values_are_masked_and_ordinary_words_kept() -> None:
    remember_secrets(["s3cr3t-signing-value", "abc", None])
    assert scrub("secret is s3cr3t-signing-value here") == f"secret is {MASK} here"
    assert scrub("the abc of it") == "the abc of it"  # too short to be remembered


def test_records_of_slack_loggers_are_scrubbed_as_they_are_made(
    caplog: pytest.LogCaptureFixture,
) -> None:
    install_secret_scrubbing(["my-signing-secret-value"])
    caplog.set_level(logging.DEBUG)
    logging.getLogger("slack_bolt.App").debug("verifying with %s", "my-signing-secret-value")
    logging.getLogger("slack_sdk.web.base_client").debug(
        "headers: Authorization: Bearer xoxb-9-9-zz"
    )
    logging.getLogger("bot.runtime").warning(
        "posting to %s", "https://hooks.slack.com/commands/T/1/q"
    )
    logging.getLogger("elsewhere").info("my-signing-secret-value stays for loggers we do not own")
    text = "\n".join(r.getMessage() for r in caplog.records if r.name != "elsewhere")
    assert (
        "my-signing-secret-value" not in text and "xoxb-9-9-zz" not in text and "/1/q" not in text
    )
    # A refused request's body stays out, whatever level Bolt gives that logger when an App is made.
    verification = logging.getLogger("slack_bolt.RequestVerification")
    verification.setLevel(logging.DEBUG)
    verification.info("Invalid request signature detected (body: payload=secret-body)")
    assert "secret-body" not in caplog.text


@pytest.mark.parametrize(
    ("trace", "kept"),
    [
        (
            "on_message invoked: (message: {'payload': {'text': 'why 312-555-0142'}})",
            "on_message invoked",
        ),
        (
            "Sending a message (session id: s-1, message: {'payload': {'text': 'Maria Lopez'}})",
            "Sending a message (session id: s-1",
        ),
        (
            "Sending a request - url: http://x/api/chat.postEphemeral, query_params: {}, "
            "body_params: {}, files: {}, json_body: {'text': 'No member matches “Maria Lopez”'}, "
            "headers: {}",
            "Sending a request - url: http://x/api/chat.postEphemeral",
        ),
        (
            'Sending a request - url: http://x/hooks/commands/T/1/q, body: {"text": "Maria Lopez"}, '
            "headers: {}",
            "Sending a request - url: http://x/hooks/commands/T/1/q",
        ),
        (
            'Received the following response - status: 200, headers: {}, body: {"text": "Maria Lopez"}',
            "Received the following response - status: 200",
        ),
        (
            'Responding with status: 200 body: "{\\"errors\\": \\"Maria Lopez\\"}" (3 millis)',
            "Responding with status: 200",
        ),
    ],
)
def test_slack_request_and_response_traces_lose_their_bodies(trace: str, kept: str) -> None:
    """An answer may quote a client's name back to its typist; the DEBUG trace of it must not keep it."""
    assert without_body(trace) == kept + BODY_WITHHELD
    assert (
        without_body("an ordinary line about Maria Lopez") == "an ordinary line about Maria Lopez"
    )


def test_records_of_slack_traces_are_made_without_bodies(caplog: pytest.LogCaptureFixture) -> None:
    install_secret_scrubbing()
    caplog.set_level(logging.DEBUG)
    logging.getLogger("slack_sdk.webhook.client").debug(
        "Sending a request - url: %s, body: %s, headers: %s",
        "http://127.0.0.1:9/hooks/commands/T0/1/tok",
        '{"text": "No member organization matches “Maria Lopez”"}',
        {},
    )
    [record] = [r for r in caplog.records if r.name == "slack_sdk.webhook.client"]
    assert "Maria" not in record.getMessage() and "tok" not in record.getMessage()
    assert record.getMessage().endswith(BODY_WITHHELD)
