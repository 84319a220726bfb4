"""The door of the Slack app: signature before anything, then the body, its shape, its workspace."""

from __future__ import annotations

import json
import time
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.inbound import (
    Installation,
    Refused,
    foreign,
    kind_of,
    media_type,
    origin,
    parse,
    safe_id,
    verify,
)
from sandbox.slack import app_side

SECRET = "unit-signing-secret"
NOW = 1_790_000_000
FORM = "application/x-www-form-urlencoded"
COMMAND = {
    "team_id": "T0COALITION",
    "channel_id": "C1",
    "user_id": "U1",
    "command": "/coalition",
    "text": "help",
    "api_app_id": "A0COALITION",
}
CLICK = {
    "type": "block_actions",
    "api_app_id": "A0COALITION",
    "team": {"id": "T0COALITION", "domain": "coalition"},
    "user": {"id": "U1", "team_id": "T0COALITION"},
    "channel": {"id": "C1", "name": "ref-a"},
    "container": {"type": "message", "message_ts": "1.2", "channel_id": "C1"},
    "message": {"ts": "1.2", "blocks": [{"type": "section", "block_id": "b"}]},
    "actions": [{"action_id": "referral_accept", "block_id": "b", "value": "REF-1"}],
}
INSTALLED = Installation("T0COALITION", "A0COALITION")


def headers(body: bytes, **signing: Any) -> dict[str, str]:
    return app_side.signed_headers(SECRET, body, timestamp=signing.pop("timestamp", NOW), **signing)


def refusal(call: Any) -> tuple[int, str]:
    with pytest.raises(Refused) as caught:
        call()
    return caught.value.status, caught.value.reason


# ---------------------------------------------------------------- the signature
def test_a_body_slack_signed_just_now_passes() -> None:
    body = app_side.encode_form(COMMAND)
    verify(SECRET, headers(body), body, NOW + 299)


@pytest.mark.parametrize(
    ("change", "reason"),
    [
        (lambda h: h.pop("X-Slack-Signature"), "unsigned"),
        (lambda h: h.pop("X-Slack-Request-Timestamp"), "unsigned"),
        (lambda h: h.update({"X-Slack-Request-Timestamp": "abc"}), "bad_timestamp"),
        (lambda h: h.update({"X-Slack-Request-Timestamp": "1e99"}), "bad_timestamp"),
        (lambda h: h.update({"X-Slack-Request-Timestamp": "-5"}), "bad_timestamp"),
        (lambda h: h.update({"X-Slack-Request-Timestamp": "９９"}), "bad_timestamp"),
        (lambda h: h.update({"X-Slack-Request-Timestamp": "9" * 400}), "bad_timestamp"),
        (lambda h: h.update({"X-Slack-Request-Timestamp": str(NOW - 301)}), "stale_timestamp"),
        (lambda h: h.update({"X-Slack-Request-Timestamp": str(NOW + 301)}), "stale_timestamp"),
        (lambda h: h.update({"X-Slack-Signature": "v1=" + "0" * 64}), "bad_signature"),
        (lambda h: h.update({"X-Slack-Signature": "v0=" + "0" * 64}), "bad_signature"),
        (lambda h: h.update({"X-Slack-Signature": "v0=zz"}), "bad_signature"),
    ],
)
def test_anything_unverifiable_is_401(change: Any, reason: str) -> None:
    body = app_side.encode_form(COMMAND)
    signed = headers(body)
    change(signed)
    assert refusal(lambda: verify(SECRET, signed, body, NOW)) == (401, reason)


def test_the_signature_covers_the_raw_bytes() -> None:
    body = app_side.encode_form(COMMAND)
    signed = headers(body)
    assert refusal(lambda: verify(SECRET, signed, body + b"&text=run", NOW))[0] == 401
    assert refusal(lambda: verify("another-secret", signed, body, NOW))[0] == 401
    # Not UTF-8 at all: still checked (and refused) on the bytes, never decoded first.
    raw = b"\xff\xfe\x00payload=\xc3"
    verify(SECRET, headers(raw), raw, NOW)
    assert refusal(lambda: verify(SECRET, headers(raw), raw + b"x", NOW))[0] == 401


@settings(max_examples=300)
@given(
    body=st.binary(max_size=300),
    stamp=st.one_of(st.none(), st.text(max_size=30), st.integers().map(str)),
    signature=st.one_of(st.none(), st.text(max_size=80), st.just("v0=" + "a" * 64)),
)
def test_verify_only_ever_refuses_with_401(
    body: bytes, stamp: str | None, signature: str | None
) -> None:
    forged = {"X-Slack-Request-Timestamp": stamp, "X-Slack-Signature": signature}
    forged = {k: v for k, v in forged.items() if v is not None}
    try:
        verify(SECRET, forged, body, NOW)
    except Refused as refused:
        assert refused.status == 401
    else:
        raise AssertionError("a forged request passed")


# ---------------------------------------------------------------- the body
def test_forms_payloads_and_json_objects_are_read() -> None:
    assert parse(FORM, app_side.encode_form(COMMAND))[1] == COMMAND
    assert parse(FORM, app_side.encode_payload(CLICK))[1] == CLICK
    assert parse("application/json", json.dumps(CLICK).encode())[1] == CLICK
    # Bolt reads any form containing the word "payload" as an interaction; the door does not.
    typed = {**COMMAND, "text": "member Payload Legal"}
    assert parse(FORM, app_side.encode_form(typed))[1]["text"] == "member Payload Legal"
    assert parse(FORM, b"")[1] == {}


@pytest.mark.parametrize(
    ("content_type", "body", "reason"),
    [
        ("application/json", app_side.encode_form(COMMAND), "not_a_json_object"),
        ("application/json", b"[1, 2]", "not_a_json_object"),
        (FORM, b"payload=null", "payload_not_a_json_object"),
        (FORM, b"payload=[]", "payload_not_a_json_object"),
        (FORM, b"payload={not-json", "payload_not_a_json_object"),
        (FORM, b"payload=" + b"%5B" * 5000, "payload_not_a_json_object"),
        (FORM, b"command=/coalition&text=\xff\xfe", "not_utf8"),
        (FORM, b"no equals sign", "not_a_form"),
        ("text/plain", b"command=/coalition", "unsupported_content_type"),
        ("", b"command=/coalition", "unsupported_content_type"),
    ],
)
def test_a_verified_body_that_cannot_be_read_is_400(
    content_type: str, body: bytes, reason: str
) -> None:
    assert refusal(lambda: parse(content_type, body)) == (400, reason)


def test_media_type_ignores_parameters_and_case() -> None:
    assert media_type({"content-type": "Application/JSON; charset=utf-8"}) == "application/json"
    assert media_type({}) == ""


# ---------------------------------------------------------------- the shape
def test_the_shapes_this_app_handles() -> None:
    submission = {
        **{k: v for k, v in CLICK.items() if k not in {"actions", "message", "container"}},
        "type": "view_submission",
        "view": {
            "type": "modal",
            "id": "V1",
            "callback_id": "x",
            "private_metadata": "{}",
            "state": {"values": {}},
        },
    }
    assert [kind_of(COMMAND), kind_of(CLICK), kind_of(submission)] == [
        "command",
        "block_actions",
        "view_submission",
    ]
    assert kind_of({"ssl_check": "1", "token": "t"}) == "ssl_check"


@pytest.mark.parametrize(
    "fields",
    [
        {},
        {"type": "event_callback", "event": {}},
        {"type": ["block_actions"]},
        {**CLICK, "actions": []},
        {**CLICK, "actions": [{"action_id": 5}]},
        {**CLICK, "user": 5},
        {**CLICK, "user": {"id": None}},
        {**CLICK, "team": "T0COALITION", "user": "U1"},
        {**CLICK, "channel": ["C1"]},
        {**CLICK, "message": {"blocks": [1]}},
        {**CLICK, "authorizations": "x"},
        {k: v for k, v in CLICK.items() if k != "api_app_id"},
        {**CLICK, "type": "view_submission", "view": {"private_metadata": 7}},
        {k: v for k, v in COMMAND.items() if k != "user_id"},
        {**COMMAND, "authorizations": "x"},
        {**COMMAND, "response_urls": "x"},
    ],
)
def test_other_shapes_are_400(fields: dict[str, Any]) -> None:
    status, reason = refusal(lambda: kind_of(fields))
    assert status == 400 and reason in {"unexpected_shape", "unsupported_type"}


# ---------------------------------------------------------------- the workspace and the app
def test_requests_from_another_team_or_app_are_foreign() -> None:
    assert foreign(COMMAND, INSTALLED) is None and foreign(CLICK, INSTALLED) is None
    other_team = foreign({**COMMAND, "team_id": "T0OTHER"}, INSTALLED)
    other_app = foreign({**CLICK, "api_app_id": "A0OTHER"}, INSTALLED)
    assert other_team is not None and other_team.reason == "other_team"
    assert other_app is not None and (other_app.reason, other_app.app_id) == (
        "other_app",
        "A0OTHER",
    )
    # No app id configured: only the workspace is compared.
    assert foreign({**CLICK, "api_app_id": "A0OTHER"}, Installation("T0COALITION")) is None
    # An org-wide install sends team: null; the person's team stands in.
    assert origin({**CLICK, "team": None}) == ("T0COALITION", "A0COALITION")
    assert foreign({**CLICK, "team": None, "user": {"id": "U1"}}, INSTALLED) is not None


def test_ids_in_log_lines_are_ids_or_a_question_mark() -> None:
    assert safe_id("T0OTHER") == "T0OTHER"
    assert safe_id("Jane Doe <jane@example.org>") == "?"


# ---------------------------------------------------------------- anything at all
json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=12), inner, max_size=4)
    ),
    max_leaves=20,
)


@settings(max_examples=300)
@given(
    content_type=st.sampled_from([FORM, "application/json", "text/plain", ""]),
    body=st.one_of(
        st.binary(max_size=200),
        json_values.map(lambda v: json.dumps(v).encode()),
        json_values.map(lambda v: app_side.encode_form({"payload": json.dumps(v)})),
        st.dictionaries(st.sampled_from([*CLICK, "view", "type"]), json_values).map(
            lambda d: app_side.encode_payload({**CLICK, **d})
        ),
        st.dictionaries(st.sampled_from([*COMMAND, "user", "authorizations"]), st.text()).map(
            lambda d: app_side.encode_form({**COMMAND, **d})
        ),
    ),
)
def test_reading_any_body_gives_a_kind_or_a_400(content_type: str, body: bytes) -> None:
    try:
        _, fields = parse(content_type, body)
        kind_of(fields)
    except Refused as refused:
        assert refused.status == 400


def test_now_is_seconds() -> None:
    # The door is given time.time(); a sanity check that the window is in seconds.
    body = b"command=/x"
    verify(SECRET, app_side.signed_headers(SECRET, body), body, time.time())
