"""Leak scan of the Slack app's answers: drive every `/coalition` subcommand and button on the demo, then scan.

test_leak_scan.py scans what the flows write; this module scans what the Slack app
(`bot/`) shows and keeps when people use it. After one real run of each demo flow,
the real app (served over HTTP in this process, with the real flow registry, so
`run` and `summary` start real flows in the bot's own threads, Prefect running them
locally) is driven only through the sandbox's Slack side:

- every subcommand of bot.commands.COMMANDS as staff, as an admin and as a partner's
  own user, with real arguments (a referral id from the ledger, an intake id, a
  member's name, a bill number from Airtable, a county, a state and a month for
  `needs`, a partner for `outcomes`), then with hostile ones: a client's
  full name, phone (also as bare digits) and e-mail typed after every subcommand;
- Accept on one referral notice and Decline (with the reason form sent) on another,
  each by the partner's own user; a click by another organization's user; a line of
  a digest when the demo has one; a campaign draft (its message carrying a client's
  phone and e-mail) with a refused submission, then its approval by staff;
- in approve mode (second test): staff approve one suggestion, choose another partner
  in its modal, approve all; a partner's click is refused; `why` on a waiting case.

Scanned with `coalition.leakscan` for the seed's personal values (organization data
anyone may see is counted, not searched, as in test_leak_scan.py): every Slack
message ever shown (posts, edits of notices, ephemerals, response_url answers,
command replies), every modal the app opened (as the sandbox keeps it, without the
person's own typing in `state`) and every error the app put in one, every log line
(Python logging at DEBUG, the process's stdout/stderr) and every ledger row (the
audit trail included).

Echoes, decided: an answer that quotes back what the asker typed ("No member
organization matches “…”", at most 60 characters, escaped) shows a client's name
only to the person who just typed it, ephemerally, in the answers to that very command.
That is allowed, and only that:
the same value in a non-ephemeral message, in an ephemeral shown to anyone else, in
a view, a log line or a ledger row (the audit trail keeps ids, never typed text) is
a leak. Likewise a member contact's phone is shown on purpose to staff alone, on the
member card ("Contact phone (staff only)"); anywhere else it is a leak. Because a
typed value can also be kept disguised (`why` reads "Maria Lopez" as the Intake ID
INT-MAR1A10PEZ, which no scan for the name finds), every audit target must moreover
be an id or name the bot owns (`foreign_audit_targets`).

The third test plants a personal value in each source this module adds (a view, a
modal's error, a response_url answer, a chat.postEphemeral answer, an edited
message) and in the places an echo must never reach (a log line, the audit trail,
a post, another person's ephemeral), and proves the collection and the scan find
each one, while the allowed echo stays allowed.
"""

from __future__ import annotations

import json
import logging
import re
import shutil
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from intake_helpers import intake_records
from sqlalchemy import select
from test_leak_scan import DEMO_ORDER, ledger_texts, log_texts, public_values
from test_slack_app import Bot, FlowCalls, buttons_of, message_text

from bot.app import create_runtime
from bot.commands import COMMANDS, parse
from bot.data import audit_entries
from bot.flowruns import FlowRunner
from bot.server import start_in_thread
from coalition.leakscan import Leak, LeakScanner, normalize, phone_digits, report
from coalition.ledger import open_ledger
from coalition.ledger.tables.intake import IntakeRecord, Referral
from coalition.ledger.tables.roster import Partner
from coalition.settings import reload_settings, settings
from integrations.slack import forget_channels
from sandbox.seed import roster
from sandbox.seed.apply import demo_data, personal_values
from sandbox.seed.demo import is_distinctive

pytestmark = pytest.mark.timeout(600)

STAFF = roster.STAFF[0].user_id  # the intake coordinator
ADMIN = roster.ADMINS[0].user_id
STAFF_USERS = frozenset(p.user_id for p in (*roster.STAFF, *roster.ADMINS))
TRIAGE = "intake-triage"
ORGANIZING = "organizing"
CONTACT_COLUMNS = ("Full name", "Phone", "Email")
STAFF_PHONE_LABEL = "Contact phone (staff only)"
SUBCOMMANDS = tuple(name for name, _, _ in COMMANDS)


# ---------------------------------------------------------------- the running app and the people using it
@dataclass
class Person:
    role: str  # "staff" | "admin" | "partner"
    user: str
    channel: str  # where they type


@dataclass
class Session:
    """The app, the people using it, what they typed and which subcommands answered whom."""

    bot: Bot
    people: dict[str, Person]
    # (user, answer ts) -> personal values typed in the very command that answer answers
    typed: dict[tuple[str, str], set[str]] = field(default_factory=dict)
    answered: dict[tuple[str, str], int] = field(default_factory=dict)  # (role, sub) -> answers
    sent: int = 0

    @property
    def slack(self) -> Any:
        return self.bot.slack

    def ask(self, who: str, text: str, typed: str | None = None) -> list[str]:
        """`/coalition text` as one person; the ephemeral answers it brought them."""
        person = self.people[who]
        before = len(self._ephemerals(person))
        views_before = len(self.slack.views)
        result = self.bot.slash(text, user=person.user, channel=person.channel)
        assert result.get("status") == 200, result
        self.sent += 1
        answers = self._ephemerals(person)[before:]
        if typed is not None:  # an echo is allowed in these answers, and nowhere else
            for answer in answers:
                self.typed.setdefault((person.user, answer["ts"]), set()).add(typed)
        new = [message_text(m) for m in answers]
        key = (person.role, parse(text, self.bot.runtime.runner.names).name)
        if new or len(self.slack.views) > views_before:  # `alert` answers with a modal
            self.answered[key] = self.answered.get(key, 0) + 1
        return new

    def _ephemerals(self, person: Person) -> list[dict[str, Any]]:
        shown = self.slack.messages(self.bot.channel_id(person.channel), include_ephemeral=True)
        return [m for m in shown if m.get("is_ephemeral") and m.get("visible_to") == person.user]

    def wait_for(self, who: str, words: str, seconds: float = 180) -> str:
        """The first answer to this person containing `words`, waiting for a flow run to end."""
        person = self.people[who]
        deadline = time.monotonic() + seconds
        while True:
            found = [a for a in self.bot.answers_to(person.user, person.channel) if words in a]
            if found:
                return found[0]
            assert time.monotonic() < deadline, f"no answer with {words!r} for the {who}"
            time.sleep(0.2)


@pytest.fixture
def launch(demo: Any, monkeypatch: pytest.MonkeyPatch) -> Iterator[Callable[[], Bot]]:
    """Start the real app (real flow registry, flows run locally) once the test has set the stage."""
    monkeypatch.setenv("COALITION_TIME_SCALE", "50")  # Slack's pacing and the flows', sped up
    monkeypatch.delenv("PREFECT_API_URL", raising=False)
    reload_settings()
    forget_channels()
    started: list[Bot] = []

    def start() -> Bot:
        runtime = create_runtime(settings(), runner=FlowRunner(api_url=""))
        running = start_in_thread(runtime)
        bot = Bot(demo, running, runtime, FlowCalls(), {}, {})
        started.append(bot)
        return bot

    yield start
    for bot in started:
        bot.runtime.wait_idle(60)
        bot.running.stop()


def run_flows(names: Iterable[str] = DEMO_ORDER) -> list[str]:
    """Each named flow once, as a Prefect flow run; the failures."""
    from flows.registry import FLOWS

    failures = []
    for name in names:
        state = FLOWS[name].load()(return_state=True)
        if not state.is_completed():
            failures.append(f"{name}: {state.message}")
    return failures


def partners_with_users(handle: Any) -> dict[str, tuple[str, str, list[str]]]:
    """member id -> (name, referral channel, the Slack users it lists who are in that channel)."""
    slack = handle.services["slack"]
    out = {}
    with open_ledger().session() as session:
        for partner in session.scalars(select(Partner)):
            if not partner.referral_channel:
                continue
            members = set(
                slack.channels[slack.resolve_channel(partner.referral_channel)]["members"]
            )
            users = sorted(u for u in partner.slack_users or [] if u in members)
            out[partner.member_id] = (partner.name, partner.referral_channel, users)
    return out


def referrals() -> list[Referral]:
    with open_ledger().session() as session:
        return list(session.scalars(select(Referral).order_by(Referral.referral_id)))


def referral(referral_id: str) -> Referral:
    with open_ledger().session() as session:
        return session.get(Referral, referral_id)


def client(handle: Any, prefer: Iterable[str] = ()) -> dict[str, str]:
    """An intake row whose name, phone and e-mail are all distinctive (one of `prefer` if it can)."""
    rows = [
        r
        for r in intake_records(handle)
        if all(is_distinctive(r.get(c, "")) for c in CONTACT_COLUMNS)
    ]
    wanted = set(prefer)
    return next((r for r in rows if r.get("Intake ID") in wanted), rows[0])


def airtable_records(handle: Any, table: str) -> list[dict[str, Any]]:
    model = handle.services["airtable"]
    return model.records(model.find_base(settings().services.airtable.base), table)


def hostile(session: Session, who: str, row: dict[str, str]) -> None:
    """A client's name, phone (also as bare digits) and e-mail typed after every subcommand.

    Ten digits or letters read as an Intake ID to `why`: the bare phone is that case.
    """
    values = [row[c] for c in CONTACT_COLUMNS] + [re.sub(r"\D", "", row["Phone"])]
    for value in values:
        for sub in SUBCOMMANDS:
            session.ask(who, f"{sub} {value}", typed=value)


def foreign_audit_targets(handle: Any, ledger: Any) -> list[str]:
    """Audit targets that are not ids or names the bot owns (a typed value disguised as one).

    The scan cannot see a name read as an Intake ID ("why Maria Lopez" is INT-MAR1A10PEZ);
    this can: a target must be a referral or intake the ledger knows, a partner, a
    campaign record, a tracked bill, a flow, a week, a month or a period, or the cut-off end of
    a list of those.
    """
    from flows.registry import FLOWS

    with open_ledger().session() as session:
        known = {r.referral_id for r in session.scalars(select(Referral))}
        known |= {i.intake_id for i in session.scalars(select(IntakeRecord))}
        known |= {p.member_id for p in session.scalars(select(Partner))}
    tables = settings().services.airtable.tables
    known |= {r["id"] for r in airtable_records(handle, tables.campaigns)}
    known |= {str(b["fields"].get("Bill")) for b in airtable_records(handle, tables.bills)}
    known |= set(FLOWS) | {"today", "week"}
    foreign = []
    for entry in audit_entries(ledger):
        pieces = [p for p in re.split(r"[,:]", entry.target or "") if p]
        for n, piece in enumerate(pieces):
            cut = n == len(pieces) - 1 and len(entry.target or "") == 80
            if piece in known or re.fullmatch(r"\d{4}-W\d{2}|\d{4}-\d{2}", piece):
                continue
            if cut and any(k.startswith(piece) for k in known):
                continue
            foreign.append(f"{entry.action} by a {entry.role}")
    return foreign


# ---------------------------------------------------------------- collecting and scanning what the app left
@dataclass(frozen=True)
class Shown:
    """One output: where it is, its text, and (for an ephemeral) the one person who sees it."""

    source: str
    text: str
    visible_to: str | None = None
    ts: str | None = None


def app_outputs(handle: Any, caplog: Any, capfd: Any) -> dict[str, list[Shown]]:
    slack = handle.services["slack"]
    messages = []
    for m in slack.all_messages():
        shown = {k: m.get(k) for k in ("text", "blocks", "attachments", "metadata")}
        to = f" to {m['visible_to']}" if m.get("visible_to") else ""
        where = f"slack {m['kind']} via {m['source']} {m['channel']}/{m['ts']}{to}"
        messages.append(
            Shown(where, json.dumps(shown, ensure_ascii=False), m.get("visible_to"), m.get("ts"))
        )
    views = [
        Shown(
            f"view {view_id} {view.get('callback_id')}",
            json.dumps({k: v for k, v in view.items() if k != "state"}, ensure_ascii=False),
        )
        for view_id, view in slack.views.items()
    ]
    views += [
        Shown(f"view errors {view_id}", json.dumps(errors, ensure_ascii=False))
        for view_id, errors in slack.view_errors.items()
    ]
    return {
        "messages": messages,
        "views": views,
        "logs": [Shown(s, t) for s, t in log_texts(caplog, capfd)],
        "ledger": [Shown(s, t) for s, t in ledger_texts()],
    }


def _typed_it(value: str, typed: Iterable[str]) -> bool:
    form, digits = normalize(value), phone_digits(value)
    return any(
        form in normalize(t) or (digits is not None and digits == phone_digits(t)) for t in typed
    )


@dataclass
class Scan:
    leaks: list[Leak]
    echoes: list[Leak]  # a value shown back, ephemerally, to the person who typed it
    staff_phones: list[Leak]  # a member contact's phone on a member card shown to staff
    counts: dict[str, int]


def scan_app(
    handle: Any,
    values: set[str],
    typed: dict[tuple[str, str], set[str]],
    outputs: dict[str, list[Shown]],
) -> Scan:
    contacts = (demo_data(handle.sandbox).records or {}).get("contacts") or []
    member_phones = {str(c.get("Phone") or "") for c in contacts} - {""}
    scanner = LeakScanner(values, public=public_values(handle))
    result = Scan([], [], [], {kind: len(items) for kind, items in outputs.items()})
    for kind, items in outputs.items():
        for shown in items:
            for leak in scanner.scan(shown.source, shown.text):
                reader = shown.visible_to if kind == "messages" else None
                if reader and _typed_it(leak.value, typed.get((reader, shown.ts or ""), ())):
                    result.echoes.append(leak)
                elif (
                    reader in STAFF_USERS
                    and leak.value in member_phones
                    and STAFF_PHONE_LABEL in shown.text
                ):
                    result.staff_phones.append(leak)
                else:
                    result.leaks.append(leak)
    return result


def ephemerals(outputs: dict[str, list[Shown]]) -> list[Shown]:
    return [s for s in outputs["messages"] if s.visible_to]


# ---------------------------------------------------------------- the tests
def test_every_answer_of_the_app_leaks_nothing(
    launch: Callable[[], Bot], demo: Any, caplog: pytest.LogCaptureFixture, capfd: Any
) -> None:
    caplog.set_level(logging.DEBUG)
    values = personal_values(demo.sandbox)
    assert len(values) > 1000
    assert not run_flows(), "a demo flow failed"
    bot = launch()
    partners = partners_with_users(demo)
    notices = sorted(  # referral ids are keyed hashes (a fresh salt each run): pick by partner
        (
            r
            for r in referrals()
            if r.state == "notified"
            and r.notice_key == f"referral:{r.referral_id}"
            and partners.get(r.partner_id, ("", "", []))[2]
        ),
        key=lambda r: (partners[r.partner_id][0], r.created_at),
    )
    assert len(notices) >= 2, "the demo announced fewer than two referrals on their own"
    # Accept one notice and decline another (the same partner's if it has two), each as its owner.
    accepted = notices[0]
    declined = next((r for r in notices[1:] if r.partner_id == accepted.partner_id), notices[1])
    name, channel, users = partners[accepted.partner_id]
    theirs = next(r for r in referrals() if r.partner_id != accepted.partner_id)
    people = {
        "staff": Person("staff", STAFF, TRIAGE),
        "admin": Person("admin", ADMIN, TRIAGE),
        "partner": Person("partner", users[0], channel),
    }
    s = Session(bot, people)
    bill = next(
        str(b["fields"]["Bill"])
        for b in airtable_records(demo, settings().services.airtable.tables.bills)
        if b["fields"].get("Bill")
    )
    covered: list[str] = []  # the optional paths the demo offered

    # -------- every subcommand, with real arguments, by each role
    for who in people:
        s.ask(who, "help")
        s.ask(who, f"referral {accepted.referral_id}")
        s.ask(who, f"referral {theirs.referral_id}")  # another organization's, for the partner
        s.ask(who, "intake today")
        s.ask(who, "intake week")
        s.ask(who, f"member {name}")
        s.ask(who, "member legal")  # several match: a list to pick from
        s.ask(who, f"bill {bill}")
        s.ask(who, "bills")
        s.ask(who, "alert")  # opens the campaign form
        s.ask(who, "status")
        s.ask(who, f"why {accepted.intake_id}")
        s.ask(who, "needs")
        s.ask(who, "needs Harris County")
        s.ask(who, "needs TX 2026-11")
        s.ask(who, "outcomes")
        s.ask(who, f"outcomes {name}")
        s.ask(who, f"outcomes {partners[theirs.partner_id][0]}")  # another organization's
    for who in ("staff", "partner"):
        s.ask(who, "run roster-sync")  # refused: admins only
    s.ask("partner", "summary")  # refused: staff only
    s.ask("admin", "summary 2099-W01")  # a week that has not begun: nothing starts
    s.ask("admin", "run roster-sync")  # a real flow run in the bot's thread
    assert "Completed" in s.wait_for("admin", "*roster-sync* finished")
    s.ask("staff", "summary")  # the real weekly summary of last week
    assert "is ready" in s.wait_for("staff", "The weekly summary for")
    s.ask("admin", "status")
    # Real arguments got real answers, and refusals where the role may not.
    staff_seen = "\n".join(s.bot.answers_to(STAFF, TRIAGE))
    partner_seen = "\n".join(s.bot.answers_to(users[0], channel))
    for words in (f"Referral {accepted.referral_id}", f"Referral {theirs.referral_id}"):
        assert words in staff_seen and words.split()[1] in partner_seen
    assert f"Referral {theirs.referral_id}" not in partner_seen  # not the partner's own
    assert name in staff_seen and name in partner_seen and "Partners considered" in staff_seen
    assert "Intake this week" in staff_seen and "Only coalition staff" in partner_seen
    assert "Unmet need, " in staff_seen and f"Referral outcomes: {name}" in partner_seen
    assert f"Referral outcomes: {partners[theirs.partner_id][0]}" not in partner_seen
    assert STAFF_PHONE_LABEL in staff_seen and STAFF_PHONE_LABEL not in partner_seen
    assert "Only coalition admins" in staff_seen and "Only coalition admins" in partner_seen

    # -------- hostile arguments: a client's name, phone and e-mail, as each role
    row = client(demo, prefer=[accepted.intake_id])
    for who in people:
        hostile(s, who, row)

    # -------- the buttons: Accept, Decline with its reason, another organization's click
    owner = users[0]
    decliner = partners[declined.partner_id][2][0]
    bot.click(owner, accepted.slack_channel, accepted.slack_ts, "referral_accept")
    bot.click(decliner, declined.slack_channel, declined.slack_ts, "referral_decline")
    decline_form = s.slack.top_view(decliner)
    assert decline_form is not None and decline_form["callback_id"] == "referral_decline_reason"
    sent = bot.submit(decline_form["id"], decliner, {"reason": {"value": "no_capacity"}})
    assert sent["outcome"] == "closed"
    still_open = next((r for r in notices if r not in (accepted, declined)), None)
    if still_open is not None:
        intruder = next(
            (u for pid, (_, _, us) in partners.items() if pid != still_open.partner_id for u in us),
            None,
        )
        if intruder:
            s.slack.add_member(still_open.slack_channel, intruder)
            bot.click(intruder, still_open.slack_channel, still_open.slack_ts, "referral_accept")
            assert referral(still_open.referral_id).state == "notified"
            covered.append("another organization's click")
    digest = next(
        (
            r
            for r in referrals()
            if r.state == "notified" and (r.notice_key or "").startswith("referral-digest:")
        ),
        None,
    )
    digest_users = partners.get(digest.partner_id, ("", "", []))[2] if digest else []
    if digest and digest_users:
        notice = next(
            m for m in s.slack.messages(digest.slack_channel) if m["ts"] == digest.slack_ts
        )
        first = next(
            str(b["block_id"]).removeprefix("referral:")
            for b in notice["blocks"]
            if str(b.get("block_id", "")).startswith("referral:")
        )
        bot.click(
            digest_users[0],
            digest.slack_channel,
            digest.slack_ts,
            "referral_decide",
            f"accept:{first}",
        )
        assert referral(first).state == "accepted"
        covered.append("a digest line accepted")

    # -------- a campaign draft: a refused submission, one carrying a client's phone and e-mail
    form = s.slack.top_view(STAFF)
    assert form is not None and form["callback_id"] == "campaign_draft"
    bad = bot.submit(
        form["id"],
        STAFF,
        {"title": {"value": "Rally"}, "message": {"value": "Join us"}, "link": {"value": "ftp:x"}},
    )
    assert bad["outcome"] == "errors"
    message = f"Call {row['Phone']} or write {row['Email']} to join the vigil."
    bot.submit(form["id"], STAFF, {"title": {"value": "Vigil"}, "message": {"value": message}})
    [draft] = [e for e in audit_entries(bot.runtime.ledger) if e.action == "submit:campaign_draft"]
    [request] = [m for m in bot.bot_messages(ORGANIZING) if draft.target in json.dumps(m)]
    bot.click(STAFF, ORGANIZING, request["ts"], "campaign_approve")
    bot.settle()

    # -------- the app was really exercised
    for who, person in people.items():
        unanswered = [sub for sub in SUBCOMMANDS if not s.answered.get((person.role, sub))]
        assert not unanswered, (who, unanswered)
    assert referral(accepted.referral_id).state == "accepted"
    assert referral(declined.referral_id).state == "declined"
    for ref, words in ((accepted, "Accepted* by"), (declined, "Declined* by")):
        notice = next(m for m in s.slack.messages(ref.slack_channel) if m["ts"] == ref.slack_ts)
        assert words in message_text(notice) and buttons_of(notice) == []
    assert "Ready" in message_text(
        next(m for m in bot.bot_messages(ORGANIZING) if m["ts"] == request["ts"])
    )
    assert "message is not shown here" in message_text(request)  # the guard withheld it

    outputs = app_outputs(demo, caplog, capfd)
    result = scan_app(demo, values, s.typed, outputs)
    assert not result.leaks, report(result.leaks)
    assert not foreign_audit_targets(demo, bot.runtime.ledger)
    answers = ephemerals(outputs)
    assert len(answers) >= s.sent, (len(answers), s.sent)
    assert len(outputs["views"]) >= 5  # three campaign forms, a decline form, an error
    assert len(audit_entries(bot.runtime.ledger)) >= s.sent
    assert result.echoes, "no typed value was ever shown back: the echo rule was not exercised"
    print(
        f"\napp leak scan: {s.sent} commands, {len(answers)} ephemeral answers "
        f"({sum('response_url' in a.source for a in answers)} through response_url), "
        + ", ".join(f"{k} {v}" for k, v in result.counts.items())
        + f"; allowed: {len(result.echoes)} echoes to the typist, "
        f"{len(result.staff_phones)} member-contact phones on staff's member cards; "
        f"optional paths: {covered or 'none'}"
    )


@pytest.fixture
def approve_mode(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    folder = tmp_path / "config"
    shutil.copytree(settings().config_dir, folder)
    routing = folder / "routing.yaml"
    routing.write_text(routing.read_text().replace("mode: auto", "mode: approve"))
    monkeypatch.setenv("COALITION_CONFIG_DIR", str(folder))


def test_approving_and_choosing_partners_leaks_nothing(
    approve_mode: None,
    launch: Callable[[], Bot],
    demo: Any,
    caplog: pytest.LogCaptureFixture,
    capfd: Any,
) -> None:
    """routing.mode approve: the approval request's buttons and the Choose-another modal, then the scan."""
    caplog.set_level(logging.DEBUG)
    assert settings().routing.mode == "approve"
    values = personal_values(demo.sandbox)
    assert not run_flows(("roster-sync", "intake-routing"))
    bot = launch()
    request = next(
        m
        for m in bot.bot_messages(TRIAGE)
        if any(b.get("block_id") == "suggestions" for b in m.get("blocks") or [])
    )
    waiting = [
        str(b["block_id"]).removeprefix("suggestion:")
        for b in request["blocks"]
        if str(b.get("block_id", "")).startswith("suggestion:") and b.get("accessory")
    ]
    assert len(waiting) >= 3
    partners = partners_with_users(demo)
    _, channel, users = next(v for v in partners.values() if v[2])
    people = {
        "staff": Person("staff", STAFF, TRIAGE),
        "admin": Person("admin", ADMIN, TRIAGE),
        "partner": Person("partner", users[0], channel),
    }
    s = Session(bot, people)
    for who in people:
        s.ask(who, f"why {waiting[0]}")
    hostile(s, "staff", client(demo, prefer=waiting))

    s.slack.add_member(bot.channel_id(TRIAGE), users[0])
    bot.click(users[0], TRIAGE, request["ts"], "intake_approve")  # refused: staff only
    bot.click(STAFF, TRIAGE, request["ts"], "intake_approve")  # the first suggestion
    bot.click(STAFF, TRIAGE, request["ts"], "intake_choose_partner")
    form = s.slack.top_view(STAFF)
    chosen = False
    if form is not None and form["callback_id"] == "intake_choose_partner":
        inputs = {b.get("block_id"): b for b in form["blocks"]}
        cases = [
            o["value"] for o in (inputs.get("case") or {}).get("element", {}).get("options", [])
        ]
        partner_options = [o["value"] for o in inputs["partner"]["element"]["options"]]
        for case in cases or [None]:
            for option in partner_options:
                answer = {"partner": {"value": option}}
                if case is not None:
                    answer["case"] = {"value": case}
                if bot.submit(form["id"], STAFF, answer)["outcome"] == "closed":
                    chosen = True
                    break
            if chosen:
                break
    bot.click(STAFF, TRIAGE, request["ts"], "intake_approve_all")
    bot.settle()

    with open_ledger().session() as session:
        approved = {
            r.intake_id for r in session.scalars(select(IntakeRecord)) if r.approved_by == STAFF
        }
    assert waiting[0] in approved and len(approved) >= len(waiting) - 1
    assert form is not None and chosen, "the Choose-another modal was not used"
    outputs = app_outputs(demo, caplog, capfd)
    result = scan_app(demo, values, s.typed, outputs)
    assert not result.leaks, report(result.leaks)
    assert not foreign_audit_targets(demo, bot.runtime.ledger)
    assert outputs["views"] and len(ephemerals(outputs)) >= s.sent + 3
    print(
        f"\napp leak scan (approve mode): {s.sent} commands, {len(ephemerals(outputs))} ephemerals, "
        + ", ".join(f"{k} {v}" for k, v in result.counts.items())
    )


def test_a_value_planted_in_each_app_output_is_found(
    launch: Callable[[], Bot],
    demo: Any,
    caplog: pytest.LogCaptureFixture,
    capfd: Any,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Plant a client's name in each new source, and where an echo must never go; the scan finds each."""
    import bot.commands as commands_module
    import bot.modals as modals_module
    from bot.access import Actor

    caplog.set_level(logging.DEBUG)
    values = personal_values(demo.sandbox)
    row = client(demo)
    email = row["Email"]
    names = list(
        dict.fromkeys(
            [row["Full name"]]
            + [r["Full name"] for r in intake_records(demo) if is_distinctive(r["Full name"])]
        )
    )
    echoed, in_help, in_view, in_error, in_ephemeral, in_edit = names[:6]
    assert {email, *names[:6]} <= values
    bot = launch()
    s = Session(
        bot, {"staff": Person("staff", STAFF, TRIAGE), "admin": Person("admin", ADMIN, TRIAGE)}
    )

    def section(text: str) -> dict[str, Any]:
        return {"type": "section", "text": {"type": "mrkdwn", "text": text}}

    def with_block(build: Callable[..., Any], text: str) -> Callable[..., Any]:
        def planted(*args: Any, **kwargs: Any) -> Any:
            built = build(*args, **kwargs)
            if isinstance(built, dict):  # a view
                return {**built, "blocks": [*built["blocks"], section(text)]}
            words, blocks = built  # a message
            return words, [*blocks, section(text)]

        return planted

    # A response_url answer (the help), a modal (the campaign form) and a modal's error.
    monkeypatch.setattr(
        commands_module, "render_help", with_block(commands_module.render_help, in_help)
    )
    s.ask("staff", "help")
    monkeypatch.setattr(modals_module, "alert_view", with_block(modals_module.alert_view, in_view))
    s.ask("staff", "alert")
    monkeypatch.setattr(
        modals_module, "read_campaign", lambda *a, **k: (None, {"title": f"not {in_error}"})
    )
    form = s.slack.top_view(STAFF)
    submitted = bot.submit(form["id"], STAFF, {"title": {"value": "x"}, "message": {"value": "y"}})
    assert submitted["outcome"] == "errors"
    # A chat.postEphemeral answer (as after a modal), and an edit of one of the bot's messages.
    triage = bot.channel_id(TRIAGE)
    assert bot.runtime.tell(triage, ADMIN, commands_module.render_note([f"about {email}"]))
    assert bot.runtime.tell(triage, ADMIN, commands_module.render_note([f"about {in_ephemeral}"]))
    posted = bot.runtime.client.chat_postMessage(
        channel=triage, text="A notice", blocks=[section("A notice")]
    )
    assert bot.runtime.edit_message(
        triage, posted["ts"], lambda blocks: [*blocks, section(in_edit)]
    )
    # An echo to its typist (allowed), then the same typed value where it must never go.
    s.ask("staff", f"member {echoed}", typed=echoed)
    bot.runtime.ephemeral(triage, ADMIN, f"someone asked for {echoed}")  # another person's eyes
    bot.runtime.client.chat_postMessage(channel=triage, text=f"asked for {echoed}")  # a post
    logging.getLogger("bot.answers").info("typed: %s", echoed)  # a log line
    bot.runtime.audit(Actor(STAFF, "staff"), "command:member", echoed, True)  # the audit trail
    assert not foreign_audit_targets(demo, bot.runtime.ledger)[1:]  # only that one so far
    # A member contact's phone on staff's member card (allowed), and the same phone elsewhere.
    contact = next(
        c
        for c in demo_data(demo.sandbox).records["contacts"]
        if c.get("Primary contact") and str(c.get("Phone") or "") in values
    )
    s.ask("staff", f"member {contact['Organization'][0]}")
    bot.runtime.ephemeral(triage, ADMIN, f"call {contact['Phone']}")  # not a member card
    # A name read as an Intake ID, which no scan for the name can see.
    disguised = commands_module.parse("why Maria Lopez").arg
    bot.runtime.audit(Actor(STAFF, "staff"), "command:why", disguised, True)
    bot.settle()

    outputs = app_outputs(demo, caplog, capfd)
    result = scan_app(demo, values, s.typed, outputs)
    found: dict[str, set[str]] = {}
    for leak in result.leaks:
        found.setdefault(leak.value, set()).add(leak.source)

    def where(value: str) -> list[str]:
        return sorted(found.get(value, ()))

    assert any("via response_url" in w and w.endswith(STAFF) for w in where(in_help)), where(
        in_help
    )
    assert any(w.startswith("view ") and "campaign_draft" in w for w in where(in_view))
    assert any(w.startswith("view errors") for w in where(in_error))
    assert any("via chat.postEphemeral" in w for w in where(in_ephemeral))
    assert any(w.startswith("slack edit") for w in where(in_edit))
    # The e-mail never left: the app's guard withheld that answer.
    assert email not in found
    # The echo to its typist is allowed; the same value anywhere else is found every time.
    assert any(e.value == echoed and e.source.endswith(STAFF) for e in result.echoes)
    assert any(w.endswith(f"to {ADMIN}") for w in where(echoed)), where(echoed)
    assert any(w.startswith("slack message") for w in where(echoed))
    assert any(w.startswith("log bot.answers") for w in where(echoed))
    assert any(w.startswith("ledger audit") for w in where(echoed))
    assert [p.source.endswith(STAFF) for p in result.staff_phones] == [True]
    assert any(w.endswith(f"to {ADMIN}") for w in where(contact["Phone"]))
    assert foreign_audit_targets(demo, bot.runtime.ledger) == [
        "command:member by a staff",
        "command:why by a staff",
    ]
