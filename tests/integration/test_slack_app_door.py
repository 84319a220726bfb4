"""The Slack app's door, served over HTTP against the sandbox: what it refuses, whom it serves, what it escapes.

- Unreadable requests (issue 16, finding 3): forged, replayed, garbled or mistyped
  requests get 401 (unverifiable) or 400 (Slack's, but unreadable), never 500 and
  never a traceback; a few hundred hypothesis-made ones too, signed and unsigned.
- Another workspace or app (finding 4): a correctly signed command or click naming
  another team or app id is answered without acting and logged as a warning.
- A partner's channel (finding 7): only its members act as the partner there.
- Escaping once (finding 6): a campaign titled `Rally2 <!here> now` is posted by the
  alerts flow as `Rally2 &lt;!here&gt; now`, and so on for the other user-text paths.
"""

from __future__ import annotations

import json
import logging
import time
from datetime import datetime
from datetime import time as clock_time
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from intake_helpers import seed_partner_directory
from test_slack_app import (  # the Slack app served against the demo sandbox
    STAFF,
    Bot,
    audit_entries,
    bot,
    buttons_of,
    message_text,
    notice,
    referral,
    route,
    single_notice,
    slug_of,
)

import flows.alerts as alerts_module
from bot.inbound import FOREIGN_WORDS
from bot.runtime import SANDBOX_APP_ID, SANDBOX_SIGNING_SECRET
from coalition.settings import settings as app_settings
from sandbox.slack import app_side
from sandbox.slack.models import APP_ID, TEAM_ID

FIXTURES = (bot,)  # test_slack_app.py's running app: every `bot` parameter below is it
SECRET = SANDBOX_SIGNING_SECRET
FORM = app_side.FORM


# ------------------------------------------------------------------ what the log must not hold
@pytest.fixture
def quiet(caplog: pytest.LogCaptureFixture) -> pytest.LogCaptureFixture:
    caplog.set_level(logging.INFO)
    return caplog


def troubles(caplog: pytest.LogCaptureFixture, capfd: pytest.CaptureFixture[str]) -> list[str]:
    """ERROR lines and tracebacks: in Python logging, and on stderr (uvicorn logs there)."""
    found = [
        f"{r.levelname} {r.name}: {r.getMessage()}"
        for r in caplog.records
        if r.levelno >= logging.ERROR or r.exc_info
    ]
    err = capfd.readouterr().err
    if "Traceback" in err or "Exception in ASGI application" in err:
        found.append(err[-2000:])
    return found


def fields_of(bot: Bot, text: str = "help", user: str = STAFF) -> dict[str, str]:
    """A slash command's form fields as the sandbox's Slack sends them."""
    channel = bot.channel_id("intake-triage")
    return app_side.slash_command_fields(
        team={"id": TEAM_ID, "domain": "coalition"},
        channel={"id": channel, "name": "intake-triage"},
        user={"id": user, "name": "staff"},
        command="/coalition",
        text=text,
        response_url=f"{bot.handle.url}/hooks/commands/none",
        trigger_id="1.2.fuzz",
        api_app_id=APP_ID,
        token="fuzz",
    )


def click_payload(bot: Bot) -> dict[str, Any]:
    channel = bot.channel_id("intake-triage")
    return app_side.block_actions_payload(
        team={"id": TEAM_ID, "domain": "coalition"},
        user={"id": STAFF, "name": "staff", "team_id": TEAM_ID},
        channel={"id": channel, "name": "intake-triage"},
        message={"ts": "1.000001", "blocks": [{"type": "section", "block_id": "b"}]},
        container={"type": "message", "message_ts": "1.000001", "channel_id": channel},
        actions=[{"action_id": "campaign_approve", "block_id": "b", "value": "recNONE"}],
        response_url=f"{bot.handle.url}/hooks/commands/none",
        trigger_id="1.2.fuzz",
        api_app_id=APP_ID,
        token="fuzz",
    )


def post(
    url: str,
    body: bytes,
    *,
    signed: bool = True,
    content_type: str = FORM,
    timestamp: str | None = None,
) -> int:
    headers = {"Content-Type": content_type}
    if signed:
        stamp = str(int(time.time())) if timestamp is None else timestamp
        headers.update(
            {
                "X-Slack-Request-Timestamp": stamp,
                "X-Slack-Signature": app_side.sign(SECRET, stamp, body),
            }
        )
    return httpx.post(url, content=body, headers=headers, timeout=10).status_code


# ------------------------------------------------------------------ finding 3: never a 500
def test_unreadable_requests_get_400_or_401_and_no_traceback(
    bot: Bot, quiet: pytest.LogCaptureFixture, capfd: pytest.CaptureFixture[str]
) -> None:
    form = app_side.encode_form(fields_of(bot))
    cases: list[tuple[str, bytes, dict[str, Any]]] = [
        ("JSON content type on a form", form, {"content_type": "application/json"}),
        ("payload=null", b"payload=null", {}),
        ("payload=[]", b"payload=%5B%5D", {}),
        ("payload={not-json", b"payload=%7Bnot-json", {}),
        ("payload=[] as JSON text", b"payload=[]", {}),
        ("invalid UTF-8", b"command=/coalition&text=\xff\xfe\xfd", {}),
        ("a JSON array", b"[1,2,3]", {"content_type": "application/json"}),
        (
            "an event callback",
            b'{"type":"event_callback","event":5}',
            {"content_type": "application/json"},
        ),
        (
            "a click without actions",
            app_side.encode_payload({**click_payload(bot), "actions": []}),
            {},
        ),
        (
            "a click with a numeric user",
            app_side.encode_payload({**click_payload(bot), "user": 7}),
            {},
        ),
        (
            "a command without a user",
            app_side.encode_form({k: v for k, v in fields_of(bot).items() if k != "user_id"}),
            {},
        ),
        ("authorizations in a form", form + b"&authorizations=x", {}),
        ("an empty body", b"", {}),
    ]
    for name, body, options in cases:
        unsigned = post(bot.url, body, signed=False, **options)
        signed = post(bot.url, body, **options)
        assert (name, unsigned, signed) == (name, 401, 400)
    for stamp in ("abc", "1e99", "-1", "", "9" * 40, str(int(time.time()) - 301)):
        assert post(bot.url, form, timestamp=stamp) == 401, stamp
    # Signed over other bytes (the body changed in flight) and a wrong secret.
    headers = app_side.signed_headers(SECRET, form)
    assert httpx.post(bot.url, content=form + b"x", headers=headers).status_code == 401
    forged = app_side.signed_headers("another-secret", form)
    assert httpx.post(bot.url, content=form, headers=forged).status_code == 401
    bot.settle()
    assert bot.answers_to(STAFF, "intake-triage") == []
    assert audit_entries(bot.runtime.ledger) == []
    assert troubles(quiet, capfd) == []
    # Each refusal is one warning with a reason code, never the body.
    refusals = [r.getMessage() for r in quiet.records if r.name == "bot.server"]
    assert refusals and all(m.startswith("refused a request: ") for m in refusals)
    assert not any("coalition" in m or "help" in m for m in refusals)
    # And the app still serves what Slack really sends.
    assert post(bot.url, form) == 200
    bot.settle()
    assert "Commands you can use" in bot.last_answer(STAFF, "intake-triage")


def test_a_command_whose_text_says_payload_is_read_as_a_command(bot: Bot) -> None:
    # Bolt's own parser reads any form containing "payload" as an empty interaction.
    result = bot.slash("member Payload Defenders Collective")
    assert result["status"] == 200
    assert "No member organization matches" in bot.last_answer(STAFF, "intake-triage")


json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=12),
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=10), inner, max_size=3)
    ),
    max_leaves=12,
)


def fuzzed_bodies(bot: Bot) -> st.SearchStrategy[tuple[bytes, str]]:
    """Bodies near what Slack sends (a command, a click, a submission) with parts replaced."""
    command, click = fields_of(bot), click_payload(bot)
    submission = {
        **{k: v for k, v in click.items() if k not in {"actions", "message", "container"}},
        "type": "view_submission",
        "view": {
            "type": "modal",
            "id": "V1",
            "callback_id": "referral_decline_reason",
            "private_metadata": "{}",
        },
    }
    mutated_command = st.dictionaries(
        st.sampled_from([*command, "payload", "user", "authorizations", "response_urls"]),
        st.text(max_size=20),
        max_size=3,
    ).map(lambda d: (app_side.encode_form({**command, **d}), FORM))
    mutated_click = st.dictionaries(
        st.sampled_from([*click, "view", "authorizations"]), json_values, max_size=3
    ).map(lambda d: (app_side.encode_payload({**click, **d}), FORM))
    mutated_submission = st.dictionaries(
        st.sampled_from([*submission, "response_urls"]), json_values, max_size=3
    ).map(lambda d: (app_side.encode_payload({**submission, **d}), FORM))
    views = st.fixed_dictionaries(
        {
            "type": st.just("modal"),
            "id": st.text(max_size=5),
            "callback_id": st.sampled_from(
                ["referral_decline_reason", "campaign_draft", "intake_choose_partner", "x"]
            ),
            "private_metadata": st.one_of(st.text(max_size=30), json_values.map(json.dumps)),
            "state": st.fixed_dictionaries(
                {
                    "values": st.dictionaries(
                        st.text(max_size=8),
                        st.dictionaries(
                            st.text(max_size=8),
                            st.dictionaries(st.text(max_size=15), json_values, max_size=3),
                            max_size=2,
                        ),
                        max_size=3,
                    )
                }
            ),
        }
    ).map(lambda v: (app_side.encode_payload({**submission, "view": v}), FORM))
    raw = st.tuples(
        st.binary(max_size=200), st.sampled_from([FORM, "application/json", "text/plain"])
    )
    as_json = json_values.map(lambda v: (json.dumps(v).encode(), "application/json"))
    return st.one_of(mutated_command, mutated_click, mutated_submission, views, raw, as_json)


def test_hundreds_of_generated_requests_get_200_400_or_401_and_no_traceback(
    bot: Bot, quiet: pytest.LogCaptureFixture, capfd: pytest.CaptureFixture[str]
) -> None:
    seen: dict[str, int] = {}
    client = httpx.Client(timeout=10)

    @settings(
        max_examples=300,
        deadline=None,
        database=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
    )
    @given(
        sample=fuzzed_bodies(bot),
        signing=st.sampled_from(["signed", "unsigned", "stale", "garbled", "wrong"]),
    )
    def send(sample: tuple[bytes, str], signing: str) -> None:
        body, content_type = sample
        stamp = {"stale": str(int(time.time()) - 400), "garbled": "1e99"}.get(
            signing, str(int(time.time()))
        )
        headers = {"Content-Type": content_type}
        if signing != "unsigned":
            secret = "not-the-secret" if signing == "wrong" else SECRET
            headers["X-Slack-Request-Timestamp"] = stamp
            headers["X-Slack-Signature"] = app_side.sign(secret, stamp, body)
        status = client.post(bot.url, content=body, headers=headers).status_code
        seen[f"{signing} {status}"] = seen.get(f"{signing} {status}", 0) + 1
        if signing == "signed":
            assert status in {200, 400}, status
        else:
            assert status == 401, (signing, status)

    try:
        send()
    finally:
        client.close()
    bot.settle()
    with capfd.disabled():
        print("door fuzz:", sorted(seen.items()))
    assert sum(seen.values()) >= 300
    assert seen.get("signed 200", 0) > 0 and seen.get("signed 400", 0) > 0
    assert troubles(quiet, capfd) == []


# ------------------------------------------------------------------ finding 4: another workspace or app
def test_a_signed_command_or_click_from_another_team_or_app_changes_nothing(
    bot: Bot, quiet: pytest.LogCaptureFixture
) -> None:
    assert SANDBOX_APP_ID == APP_ID  # the app expects the app id the sandbox sends
    refs = route(bot)
    ref = single_notice(bot, refs)
    user = bot.partner_users[slug_of(bot, ref.partner_id)][0]
    before = len(audit_entries(bot.runtime.ledger))
    other_team = bot.slash("intake week", team_id="T0ELSEWHERE")
    other_app = bot.slash("intake week", api_app_id="A0SOMEONEELSE")
    assert (other_team["status"], other_app["status"]) == (200, 200)
    answers = bot.answers_to(STAFF, "intake-triage")
    assert answers == [FOREIGN_WORDS, FOREIGN_WORDS]
    for forged in ({"team_id": "T0ELSEWHERE"}, {"api_app_id": "A0SOMEONEELSE"}):
        result = bot.click(user, ref.slack_channel, ref.slack_ts, "referral_accept", **forged)
        assert result["status"] == 200
    assert referral(ref.referral_id).state == "notified"
    assert "referral_accept" in buttons_of(notice(bot, ref))
    assert bot.answers_to(user, ref.slack_channel) == []
    assert len(audit_entries(bot.runtime.ledger)) == before
    warnings = [
        r.getMessage()
        for r in quiet.records
        if r.name == "bot.server" and r.levelno == logging.WARNING
    ]
    assert warnings == [
        "ignored a command from another workspace (team T0ELSEWHERE, app A0COALITION)",
        "ignored a command from another app (team T0COALITION, app A0SOMEONEELSE)",
        "ignored a block_actions from another workspace (team T0ELSEWHERE, app A0COALITION)",
        "ignored a block_actions from another app (team T0COALITION, app A0SOMEONEELSE)",
    ]
    assert not any(STAFF in w or user in w for w in warnings)  # no person in the log
    # The workspace itself is served as before, and it was asked once (auth.test).
    bot.click(user, ref.slack_channel, ref.slack_ts, "referral_accept")
    assert referral(ref.referral_id).state == "accepted"
    assert bot.runtime.installation().team_id == TEAM_ID
    calls = [e["path"] for e in bot.handle.journal("slack")]
    assert calls.count("/api/auth.test") <= 2  # Bolt's own check at start-up, and ours once


# ------------------------------------------------------------------ finding 7: a partner's channel
def test_only_members_of_a_partners_channel_act_as_that_partner(bot: Bot) -> None:
    refs = route(bot)
    ref = single_notice(bot, refs)
    slug = slug_of(bot, ref.partner_id)
    # The organization lists no Slack users: its channel alone says who acts for it.
    seed_partner_directory(
        bot.handle,
        **{s: {"slack_users": users} for s, users in bot.partner_users.items() if s != slug},
        **{slug: {"slack_users": []}},
    )
    bot.runtime.forget_directory()
    channel = bot.slack.channels[ref.slack_channel]
    listed = {u for users in bot.partner_users.values() for u in users}
    staff = {*app_settings().access.staff, *app_settings().access.admins}
    outsider = next(
        u
        for u, record in sorted(bot.slack.users.items())
        if u not in channel["members"]
        and u not in listed
        and u not in staff
        and not record.get("is_bot")
        and u != bot.slack.bot_user_id
    )
    for action in ("referral_accept", "referral_decline"):
        result = bot.click(outsider, ref.slack_channel, ref.slack_ts, action, outsider=True)
        assert result["status"] == 200
        assert "Only coalition staff and member organizations" in bot.last_answer(
            outsider, ref.slack_channel
        )
        assert "Nothing changed" in bot.last_answer(outsider, ref.slack_channel)
    assert referral(ref.referral_id).state == "notified"
    assert bot.slack.top_view(outsider) is None  # no decline form opened either
    assert "referral_accept" in buttons_of(notice(bot, ref))
    refused = [e for e in audit_entries(bot.runtime.ledger) if e.actor == outsider]
    assert [(e.role, e.allowed) for e in refused] == [("guest", False), ("guest", False)]
    # A member of the channel, listed by nobody, acts for the organization.
    member = bot.partner_users[slug][0]
    bot.click(member, ref.slack_channel, ref.slack_ts, "referral_accept")
    assert referral(ref.referral_id).state == "accepted"
    assert "You accepted" in bot.last_answer(member, ref.slack_channel)
    [accepted] = [e for e in audit_entries(bot.runtime.ledger) if e.actor == member]
    assert (accepted.role, accepted.allowed) == ("partner", True)


# ------------------------------------------------------------------ finding 6: escaped once
def test_a_campaign_title_is_posted_escaped_once_by_the_alerts_flow(
    demo: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    tz = ZoneInfo(app_settings().services.timezone)
    noon = datetime.combine(datetime.now(tz).date(), clock_time(12), tzinfo=tz)
    monkeypatch.setattr(alerts_module, "current_time", lambda: noon)
    airtable, slack = demo.services["airtable"], demo.services["slack"]
    base = airtable.find_base(app_settings().services.airtable.base)
    [record] = airtable.create_records(
        base,
        "Campaigns",
        [
            {
                "Title": "Rally2 <!here> now",
                "Message": "Meet at 5 & bring <@U0DEMOADM01> a sign",
                "Call to action": "RSVP <here>",
                "Channels": ["organizing"],
                "Status": "Ready",
                "Send at": "2026-01-01T15:00:00.000Z",
            }
        ],
        typecast=True,
    )
    alerts_module.alerts.fn()
    channel = slack.channel_by_name("organizing")["id"]
    [posted] = [
        m
        for m in slack.messages(channel)
        if m.get("bot_id") and "Rally2" in json.dumps(m.get("blocks"))
    ]
    assert posted["text"].startswith("Rally2 &lt;!here&gt; now\n")
    assert posted["blocks"][0]["text"]["text"] == "Rally2 &lt;!here&gt; now"
    assert "Meet at 5 &amp; bring &lt;@U0DEMOADM01&gt; a sign" in posted["text"]
    shown = json.dumps(posted)
    assert "&amp;lt;" not in shown and "&amp;amp;" not in shown and "&amp;gt;" not in shown
    assert "<!here>" not in shown and "<@U0DEMOADM01>" not in shown
    # Cancelled: the message edited in place keeps the title escaped once.
    airtable.update_record_fields(base, "Campaigns", record["id"], {"Status": "Cancelled"})
    alerts_module.alerts.fn()
    [cancelled] = [m for m in slack.messages(channel) if m["ts"] == posted["ts"]]
    assert cancelled["text"].startswith("Cancelled: Rally2 &lt;!here&gt; now\n")
    assert cancelled["blocks"][0]["text"]["text"] == "Cancelled: Rally2 &lt;!here&gt; now"
    assert "&amp;lt;" not in json.dumps(cancelled)


def test_a_bill_title_is_posted_escaped_once(demo: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    tz = ZoneInfo(app_settings().services.timezone)
    now = datetime.now(tz).replace(hour=12, minute=0, second=0, microsecond=0)
    monkeypatch.setattr(alerts_module, "current_time", lambda: now)
    airtable, slack = demo.services["airtable"], demo.services["slack"]
    base = airtable.find_base(app_settings().services.airtable.base)
    airtable.create_records(
        base,
        "Bills",
        [
            {
                "Bill": "HB 999",
                "Jurisdiction": "Texas & <Gulf>",
                "Title": "Health & <!here> Safety",
                "Position": "Oppose",
                "Status": "Passed House",
                "Last action": "Passed <House> & sent on",
                "Last action date": now.date().isoformat(),
                "Channel": "policy",
            }
        ],
        typecast=True,
    )
    alerts_module.alerts.fn()
    channel = slack.channel_by_name("policy")["id"]
    [posted] = [m for m in slack.messages(channel) if m.get("bot_id") and "HB 999" in json.dumps(m)]
    shown = json.dumps(posted)
    assert "&amp;lt;" not in shown and "&amp;amp;" not in shown and "&amp;gt;" not in shown
    assert "<!here>" not in shown and "<Gulf>" not in shown
    assert "Health &amp; &lt;!here&gt; Safety" in shown
    # The headline (a plain_text header) names the jurisdiction: escaped once, there and in `text`.
    assert "Texas &amp; &lt;Gulf&gt;" in posted["blocks"][0]["text"]["text"]
    assert "Texas &amp; &lt;Gulf&gt;" in posted["text"]


def test_the_slack_apps_answers_escape_typed_text_once(bot: Bot) -> None:
    bot.slash("member Smith & <!here> Legal")
    answer = bot.last_answer(STAFF, "intake-triage")
    assert "Smith &amp; &lt;!here&gt; Legal" in answer and "&amp;amp;" not in answer
    assert "&amp;lt;" not in answer
    sent = [m for m in bot.slack.messages(bot.channel_id("intake-triage"), include_ephemeral=True)]
    assert all("&amp;lt;" not in (m.get("text") or "") for m in sent)
    assert message_text(sent[-1]).count("&lt;!here&gt;") >= 1
