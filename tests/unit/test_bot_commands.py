"""`/coalition` text into commands, and answers into messages: malformed text is help, user text is inert."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot import commands
from bot.access import Actor
from bot.commands import (
    Command,
    FlowStatus,
    IntakeCounts,
    MemberCard,
    ReferralView,
    normalize_referral_id,
    normalize_week,
    parse,
    quote,
)
from coalition.alerts.bills import Bill
from coalition.outgoing import check_mentions

FLOWS = ("roster-sync", "intake-routing", "weekly-summary")
TZ = ZoneInfo("America/New_York")


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("", Command("help")),
        ("   ", Command("help")),
        ("help", Command("help")),
        ("HELP", Command("help")),
        ("help me please", Command("help", problem="unknown")),
        ("referral REF-7K3M9Q2XPA-1", Command("referral", "REF-7K3M9Q2XPA-1")),
        ("referral ref-7k3m9q2xpa-12", Command("referral", "REF-7K3M9Q2XPA-12")),
        ("referral R-7K3M9Q2XPA-1", Command("referral", "REF-7K3M9Q2XPA-1")),
        ("referral REF-7K3M9Q2XPO-1", Command("referral", "REF-7K3M9Q2XP0-1")),  # O read as 0
        ("referral", Command("help", problem="referral_id")),
        ("referral INT-7K3M9Q2XPA", Command("help", problem="referral_id")),
        ("intake", Command("intake", "today")),
        ("intake Week", Command("intake", "week")),
        ("intake month", Command("help", problem="intake_period")),
        ("member Riverbend Legal", Command("member", "Riverbend Legal")),
        ("member", Command("help", problem="member_name")),
        ("member " + "x" * 101, Command("help", problem="member_name")),
        ("bill HB 2417", Command("bill", "HB 2417")),
        ("bills", Command("bills")),
        ("bills HB 1", Command("help", problem="bills_takes_nothing")),
        ("alert", Command("alert")),
        ("summary", Command("summary")),
        ("summary 2026-w9", Command("summary", "2026-W09")),
        ("summary 2026W48", Command("summary", "2026-W48")),
        ("summary 2026-W54", Command("help", problem="week")),
        ("status", Command("status")),
        ("run roster-sync", Command("run", "roster-sync")),
        ("run Roster-Sync", Command("run", "roster-sync")),
        ("run everything", Command("help", problem="flow")),
        ("why int-7k3m 9q2xpa", Command("why", "INT-7K3M9Q2XPA")),
        ("why REF-7K3M9Q2XPA-1", Command("help", problem="intake_id")),
        ("frobnicate", Command("help", problem="unknown")),
        ("referral_accept REF-7K3M9Q2XPA-1", Command("help", problem="unknown")),
        ("x" * 301, Command("help", problem="too_long")),
    ],
)
def test_parse(text: str, expected: Command) -> None:
    assert parse(text, FLOWS) == expected


@given(st.text(max_size=400))
@settings(max_examples=300)
def test_any_text_parses_to_a_known_command(text: str) -> None:
    command = parse(text, FLOWS)
    assert command.name in commands.PROBLEMS or command.name in {n for n, _, _ in commands.COMMANDS}
    if len(text) > commands.MAX_TEXT:
        assert command == Command("help", problem="too_long")
    if command.name in {"member", "bill"}:
        assert command.arg and len(command.arg) <= commands.MAX_NAME


def test_audit_keeps_ids_and_never_free_text() -> None:
    assert parse("referral REF-7K3M9Q2XPA-1").audit_target == "REF-7K3M9Q2XPA-1"
    assert parse("member Some Person's Org").audit_target is None
    assert parse("frobnicate my notes").audit_target is None
    # `bill` takes free text too: a client's name or phone typed there is never kept.
    assert parse("bill Maria Lopez").audit_target is None
    assert parse("bill (713) 555-0142").audit_target is None
    # `why` reads ten letters or digits as an Intake ID: a phone or a name would be kept.
    assert parse("why 713-555-0142") == Command("why", "INT-7135550142")
    assert parse("why Maria Lopez") == Command("why", "INT-MAR1A10PEZ")
    assert parse("why 713-555-0142").audit_target is None
    assert parse("why INT-7K3M9Q2XPA").audit_target is None  # kept by the answer, once found


class _Airtable:
    def records(self, table: str, fields: object = None) -> list[dict]:
        return [{"id": "rec1", "fields": {"Bill": "HB 2417", "Jurisdiction": "Texas"}}]


class _Reply:
    def __init__(self) -> None:
        self.shown: list[object] = []

    def note(self, *lines: str) -> bool:
        self.shown.append(lines)
        return True

    def send(self, message: object, **_: object) -> bool:
        self.shown.append(message)
        return True


@pytest.mark.parametrize(
    ("typed", "target", "reason"),
    [("hb2417", "HB 2417", None), ("Maria Lopez", None, "unknown_bill")],
)
def test_the_bill_answer_audits_the_matched_bill_never_the_typed_text(
    typed: str, target: str | None, reason: str | None
) -> None:
    from types import SimpleNamespace

    from bot.answers import HANDLERS

    reply = _Reply()
    runtime = SimpleNamespace(airtable=_Airtable())
    outcome = HANDLERS["bill"](runtime, parse(f"bill {typed}"), Actor("U1", "staff"), reply, {})
    assert (outcome.target, outcome.reason) == (target, reason)
    assert reply.shown  # answered either way


@pytest.mark.parametrize(
    ("week", "expected"),
    [
        ("2026-W01", "2026-W01"),
        ("2020-W53", "2020-W53"),
        ("2021-W53", None),
        ("W12", None),
        ("2026-W00", None),
    ],
)
def test_normalize_week(week: str, expected: str | None) -> None:
    assert normalize_week(week) == expected


def test_normalize_referral_id_rejects_look_alikes() -> None:
    assert normalize_referral_id("REF-7K3M9Q2XPA") is None
    assert normalize_referral_id("REF-7K3M9Q2XPA-1234") is None
    assert normalize_referral_id("XREF-7K3M9Q2XPA-1") is None


@given(st.text(max_size=200))
def test_quote_is_inert_and_short(text: str) -> None:
    shown = quote(text)
    assert "<" not in shown and ">" not in shown and "`" not in shown
    assert len(shown) <= commands.MAX_ECHO * 5  # &amp; and friends may lengthen it


# ---------------------------------------------------------------- rendering
def everything(message: tuple[str, list]) -> str:
    return json.dumps(message, ensure_ascii=False)


@pytest.mark.parametrize(
    ("role", "sees", "hidden"),
    [
        ("admin", ["/coalition run FLOW", "/coalition why", "/coalition intake"], []),
        ("staff", ["/coalition why", "/coalition summary"], ["/coalition run"]),
        (
            "partner",
            ["/coalition referral", "/coalition member", "/coalition alert"],
            ["/coalition intake", "/coalition why", "/coalition run", "/coalition status"],
        ),
        (
            "guest",
            ["/coalition help"],
            ["/coalition referral", "/coalition member", "/coalition bills"],
        ),
    ],
)
def test_help_lists_only_what_the_role_may_do(
    role: str, sees: list[str], hidden: list[str]
) -> None:
    text = everything(commands.render_help(Actor("U1", role), flows=FLOWS))  # type: ignore[arg-type]
    assert all(s in text for s in sees)
    assert not any(h in text for h in hidden)


HOSTILE = "<!channel> & <@U0DEMOADM01> <https://evil.example|click>"


def test_member_card_escapes_what_people_typed_in_airtable() -> None:
    card = MemberCard(
        HOSTILE,
        "Legal aid",
        "TX",
        (HOSTILE,),
        ("asylum",),
        ("English",),
        True,
        5,
        "Active",
        "Intake coordinator",
    )
    text, blocks = commands.render_member(card, [HOSTILE])
    check_mentions(text, blocks)
    assert "&lt;!channel&gt;" in everything((text, blocks))
    assert "Contact phone" not in everything((text, blocks))


def test_member_card_shows_a_phone_only_when_given() -> None:
    card = MemberCard("Org", phone="(214) 555-0199")
    assert "(214) 555-0199" in everything(commands.render_member(card))


@given(st.text(min_size=1, max_size=300))
@settings(max_examples=100)
def test_no_typed_value_ever_pings(value: str) -> None:
    bill = Bill("recBILL", value, value, value, value, value, value, value, value, value)
    for message in (
        commands.render_bills([bill], single=True),
        commands.render_member(MemberCard(value, counties=(value,)), [value]),
        commands.render_note([quote(value)]),
    ):
        check_mentions(*message)


def test_bills_link_only_web_addresses() -> None:
    bad = Bill("rec1", "HB 1", source_url="javascript:alert(1)")
    good = Bill("rec2", "HB 2", source_url="https://capitol.example/hb2")
    shown = everything(commands.render_bills([bad, good]))
    assert "javascript" not in shown and "<https://capitol.example/hb2|Source>" in shown


def test_bills_are_capped_with_a_count_of_the_rest() -> None:
    bills = [
        Bill(f"rec{i}", f"HB {i}", last_action_date=f"2026-01-{i % 28 + 1:02d}") for i in range(30)
    ]
    text, blocks = commands.render_bills(bills)
    assert len(blocks) <= 50 and "10 more bills" in everything((text, blocks))


def test_referral_view_shows_ids_states_and_who_acted() -> None:
    at = datetime(2026, 5, 4, 18, 3, tzinfo=UTC)
    view = ReferralView(
        "REF-7K3M9Q2XPA-1",
        "INT-7K3M9Q2XPA",
        "Riverbend",
        "declined",
        "VAWA",
        True,
        at,
        at,
        "U0PARTNER1",
        "no_capacity",
        "routing",
        "REF-7K3M9Q2XPA-2",
        (
            (at, "claimed", "bot"),
            (at, "written", "bot"),
            (at, "notified", None),
            (at, "declined", "U0PARTNER1"),
        ),
    )
    shown = everything(commands.render_referral(view, TZ))
    # Issue 17: what happened, in words; no internal step ("claimed", "notice pending", "(bot)").
    assert (
        "Mon 4 May 14:03 EDT: added to the partner's referral sheet\\n"
        "• Mon 4 May 14:03 EDT: partner told in its Slack channel\\n"
        "• Mon 4 May 14:03 EDT: declined (<@U0PARTNER1>)"
    ) in shown
    assert "claimed" not in shown and "pending" not in shown and "(bot)" not in shown
    assert "protected category" in shown and "VAWA" not in shown  # survivor case types never named
    assert "<@U0PARTNER1>" in shown and "No capacity right now" in shown
    assert "REF-7K3M9Q2XPA-2" in shown and "Mon 4 May 14:03 EDT" in shown


def test_intake_counts_merge_protected_categories() -> None:
    counts = IntakeCounts(
        "week", date(2026, 5, 4), {"referred": 3}, {"VAWA": 1, "U visa": 1, "asylum": 1}, 1
    )
    shown = everything(commands.render_intake_counts(counts))
    assert "protected category *2*" in shown and "VAWA" not in shown and "3 cases" in shown


def test_status_lists_every_flow() -> None:
    rows = [
        FlowStatus(
            "roster-sync", "Completed", datetime(2026, 5, 4, 12, tzinfo=UTC), "http://p/runs/1"
        ),
        FlowStatus("alerts", "no run yet"),
    ]
    rows.append(FlowStatus("weekly-summary", "healthy since", datetime(2026, 5, 4, 13, tzinfo=UTC)))
    shown = everything(commands.render_status(rows, "Prefect", TZ))
    assert "From Prefect" in shown
    # Issue 17: no "healthy since, Mon..." and no "no run known, never".
    assert "*roster-sync*: Completed, Mon 4 May 08:00 EDT" in shown
    assert "*alerts*: no run yet" in shown and "never" not in shown
    assert "*weekly-summary*: healthy since Mon 4 May 09:00 EDT" in shown


def test_mention_only_for_real_user_ids() -> None:
    assert commands.mention("U0ABC123") == "<@U0ABC123>"
    assert commands.mention("bot") == "bot"
    assert commands.mention("<!channel>") == "&lt;!channel&gt;"


def test_why_about_an_unknown_intake_keeps_nothing_typed(monkeypatch: pytest.MonkeyPatch) -> None:
    """A phone typed after `why` reads as an Intake ID; unknown to the ledger, it is not audited."""
    import flows.referral_actions
    from bot.answers import HANDLERS

    monkeypatch.setattr(flows.referral_actions, "explain_intake", lambda intake_id: None)
    reply = _Reply()
    outcome = HANDLERS["why"](None, parse("why 713-555-0142"), Actor("U1", "staff"), reply, {})
    assert (outcome.target, outcome.reason) == (None, "unknown_intake")
    assert reply.shown
