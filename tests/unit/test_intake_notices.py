"""Slack messages of intake routing (PII-free, keyed, within Block Kit limits), sheet rows, ids, explain."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from intake_factories import NOW, RULES, case, partner, urgent

from coalition.intake import actions, ids, notices, records, sheet_rows
from coalition.intake.decide import decide
from coalition.intake.explain import explain
from coalition.intake.models import ParsedRow
from coalition.ledger.intakes import IntakeState
from coalition.ledger.referrals import ReferralState
from coalition.privacy import PrivacyGuard, find_pii
from coalition.templating import MAX_BLOCKS

TZ = ZoneInfo("America/New_York")


SHEET = "1AbCdEfGhIjKlMnOpQrStUvWxYz0123456789-_AbCd"


def item(n: int = 1, **extra):
    return notices.case_item(
        intake_id=f"INT-00000000{n:02d}",
        category=extra.pop("category", "asylum"),
        language="Spanish",
        place="Harris County",
        urgency_codes=("detained",),
        urgent=True,
        referral_id=f"REF-00000000{n:02d}-1",
        **extra,
    )


# ---------------------------------------------------------------- partner notices
def test_up_to_the_threshold_each_referral_gets_its_own_notice_with_buttons() -> None:
    owed = notices.partner_notices("recA", "Partner A", "ref-a", SHEET, [item(1), item(2)], 5)
    assert [n.key for n in owed] == ["referral:REF-0000000001-1", "referral:REF-0000000002-1"]
    text, blocks = notices.render(owed[0])
    elements = next(b for b in blocks if b["type"] == "actions")["elements"]
    assert [(e["action_id"], e["value"]) for e in elements] == [
        (actions.REFERRAL_ACCEPT, "REF-0000000001-1"),
        (actions.REFERRAL_DECLINE, "REF-0000000001-1"),
    ]
    assert "Urgent referral REF-0000000001-1" in text
    assert f"https://docs.google.com/spreadsheets/d/{SHEET}/edit" in json.dumps(blocks)


def test_more_than_the_threshold_is_one_digest_with_a_menu_per_referral() -> None:
    items = [item(n) for n in range(1, 8)]
    [digest] = notices.partner_notices("recA", "Partner A", "ref-a", SHEET, items, 5)
    assert digest.kind == notices.REFERRAL_DIGEST
    _, blocks = notices.render(digest)
    menus = [b["accessory"] for b in blocks if b.get("accessory")]
    assert len(menus) == 7 and menus[0]["action_id"] == actions.REFERRAL_DECIDE
    assert [o["value"] for o in menus[0]["options"]] == [
        "accept:REF-0000000001-1",
        "decline:REF-0000000001-1",
    ]
    again = notices.partner_notices("recA", "Partner A", "ref-a", SHEET, list(reversed(items)), 5)
    assert again[0].key == digest.key  # the same referrals, the same message


def test_a_huge_digest_stays_within_slack_limits() -> None:
    items = [item(n % 100, category="VAWA") for n in range(300)]
    [digest] = notices.partner_notices("recA", "Partner A", "ref-a", SHEET, items, 5)
    _, blocks = notices.render(digest)
    assert len(blocks) <= MAX_BLOCKS
    assert "260 more referrals" in json.dumps(blocks)


def test_survivor_categories_never_appear_in_any_message() -> None:
    for kind in ("VAWA", "U visa", "T visa"):
        owed = notices.partner_notices("recA", "P", "c", "s", [item(1, category=kind)], 5)
        text, blocks = notices.render(owed[0])
        blob = text + json.dumps(blocks)
        assert kind not in blob and "protected category" in blob


@pytest.mark.parametrize(
    "kind", [notices.TRIAGE_ALERT, notices.APPROVAL_REQUEST, notices.APPROVAL_REMINDER]
)
def test_staff_messages_render(kind: str) -> None:
    extra = {
        "status": "Waitlist",
        "reason": "no partner offers asylum in Dallas County",
        "partner_name": "Partner A",
    }
    owed = notices.staff_notice(
        kind, "intake-triage", [item(n, **extra) for n in range(1, 4)], kind
    )
    text, blocks = notices.render(owed)
    assert "INT-0000000001" in text
    if kind != notices.TRIAGE_ALERT:
        ids_value = next(b for b in blocks if b["type"] == "actions")["elements"][0]["value"]
        assert actions.parse_intake_ids(ids_value) == [
            "INT-0000000001",
            "INT-0000000002",
            "INT-0000000003",
        ]


def test_user_text_in_a_payload_cannot_ping_anyone() -> None:
    owed = notices.staff_notice(
        notices.TRIAGE_ALERT, "t", [item(1, status="Waitlist", reason="<!channel> & <@U1>")], "x"
    )
    text, blocks = notices.render(owed)
    assert "<!channel>" not in text + json.dumps(blocks) and "&lt;!channel&gt;" in text


def test_ops_alert_is_keyed_by_partner_cause_and_day() -> None:
    a = notices.partner_sheet_error(
        "ops-alerts", "recA", "Partner A", "sheet not found", 3, "2026-03-02", cause="not_found"
    )
    b = notices.partner_sheet_error(
        "ops-alerts", "recA", "Partner A", "sheet not found", 5, "2026-03-02", cause="not_found"
    )
    c = notices.partner_sheet_error(
        "ops-alerts", "recA", "Partner A", "tab holds other data", 5, "2026-03-02", cause="no_tab"
    )
    assert a.key == b.key == "ops:partner-sheet:recA:not_found:2026-03-02"
    assert c.key != a.key  # a new cause is a new message
    text = notices.render(a)[0]
    assert "Partner A" in text and "sheet not found" in text
    assert "share the sheet with the bot" in json.dumps(notices.render(a)[1])
    assert "services.yaml sheets.referral_tab" in json.dumps(notices.render(c)[1])


@pytest.mark.parametrize(
    ("reference", "url"),
    [
        (SHEET, f"https://docs.google.com/spreadsheets/d/{SHEET}/edit"),
        (f"{SHEET}#gid=7", f"https://docs.google.com/spreadsheets/d/{SHEET}/edit#gid=7"),
        (
            f"https://docs.google.com/spreadsheets/u/0/d/{SHEET}/edit?usp=sharing",
            f"https://docs.google.com/spreadsheets/d/{SHEET}/edit",
        ),
    ],
)
def test_sheet_links_from_any_reference(reference: str, url: str) -> None:
    assert notices.sheet_url(reference) == url


@settings(max_examples=100, deadline=None)
@given(st.text(max_size=300), st.text(max_size=100))
def test_messages_carry_no_personal_data_whatever_the_labels(place: str, language: str) -> None:
    """Even if a county or language held junk, the guard sees nothing of a person's in the message."""
    c = case(
        name="Zebulon Quarterfield",
        phone="+17135550142",
        email="zq@example.org",
        notes="lives at 12 Elm",
    )
    guard = PrivacyGuard()
    guard.add_values(["Zebulon Quarterfield", "+17135550142", "zq@example.org", "lives at 12 Elm"])
    it = notices.case_item(
        intake_id=c.intake_id,
        category=c.category,
        language=language,
        place=place,
        referral_id="REF-0000000001-1",
    )
    owed = notices.partner_notices("recA", "Partner A", "c", SHEET, [it], 5)
    text, blocks = notices.render(owed[0])
    if not find_pii(place + language):
        guard.check_slack_message(text, blocks)


# ---------------------------------------------------------------- the sheet rows
def test_intake_cells_follow_the_ledger_status() -> None:
    names = {"recA": "Partner A"}
    routed = datetime(2026, 3, 2, 15, 30, tzinfo=UTC)
    cells = sheet_rows.intake_cells(
        intake_id="INT-1", status="referred", reason="asylum; Spanish", partner_id="recA",
        referral_id="REF-1-1", routed_at=routed, partner_names=names, tz=TZ,
    )  # fmt: skip
    assert cells == {
        "Intake ID": "INT-1",
        "Status": "Referred",
        "Partner": "Partner A",
        "Referral ID": "REF-1-1",
        "Routed at": "2026-03-02 10:30",
        "Routing reason": "asylum; Spanish",
    }
    waiting = sheet_rows.intake_cells(
        intake_id="INT-1", status="waitlist", reason="no partner offers asylum in Dallas County", partner_id=None,
        referral_id=None, routed_at=None, partner_names=names, tz=TZ,
    )  # fmt: skip
    assert (
        waiting["Status"] == "Waitlist"
        and waiting["Partner"] == ""
        and waiting["Referral ID"] == ""
    )


@pytest.mark.parametrize(
    "typed", ["Approved", "approved", "  APPROVED ", "Approved.", "aprobado", "approve ✓"]
)
def test_staff_may_type_approved_however_they_like(typed: str) -> None:
    assert sheet_rows.is_approval(typed)


@pytest.mark.parametrize("typed", ["", "Suggested", "not approved", "Approved by Ana?"])
def test_other_status_text_is_not_an_approval(typed: str) -> None:
    assert not sheet_rows.is_approval(typed)


def test_partner_row_has_contact_only_with_consent_and_the_full_category() -> None:
    c = case(
        case_types=("VAWA",),
        court_date=date(2026, 3, 9),
        urgency=urgent(7, "court_date_soon"),
        notes="n",
    )
    row = dict(
        zip(
            sheet_rows.REFERRAL_COLUMNS,
            sheet_rows.referral_row("REF-1-1", c, "2026-03-02 10:30"),
            strict=True,
        )
    )
    assert (
        row["Category"] == "VAWA"
        and row["Name"] == "Maria Example"
        and row["Phone"] == "+17135550142"
    )
    assert row["Urgency"] == "court date soon; next court date 2026-03-09"
    assert row["Partner status"] == "New"
    hidden = dict(
        zip(
            sheet_rows.REFERRAL_COLUMNS,
            sheet_rows.referral_row("REF-1-1", replace(c, consent=False), ""),
            strict=True,
        )
    )
    assert hidden["Name"] == hidden["Phone"] == hidden["Email"] == ""
    given = replace(c, languages=("Chinese",), languages_given=("Cantonese",))
    row = dict(
        zip(
            sheet_rows.REFERRAL_COLUMNS,
            sheet_rows.referral_row("REF-1-1", given, "", "Cantonese (interpreter needed)"),
            strict=True,
        )
    )
    assert row["Language"] == "Cantonese (interpreter needed)"
    assert (
        sheet_rows.referral_row("REF-1-1", given, "")[sheet_rows.REFERRAL_COLUMNS.index("Language")]
        == "Cantonese"
    )


# ---------------------------------------------------------------- ids
def test_ids_are_stable_keyed_and_readable() -> None:
    answers = {"name": "Maria", "phone": "713", "help": "asylum"}
    fp = ids.row_fingerprint("salt", answers)
    assert fp == ids.row_fingerprint("salt", dict(reversed(list(answers.items()))))
    assert fp != ids.row_fingerprint("other salt", answers)
    first = ids.intake_id(fp)
    assert ids.INTAKE_ID_PATTERN.match(first) and first != ids.intake_id(fp, 1)
    assert ids.referral_id(first, 2) == first.replace("INT-", "REF-") + "-2"
    assert ids.normalize_intake_id(first.lower().replace("-", " ")) == first
    assert ids.normalize_intake_id("INT-123") is None
    keys = ids.contact_keys("salt", "+17135550142", "Maria@Example.org")
    assert len(keys) == 2 and "+17135550142" not in "".join(keys)
    assert ids.contact_keys("salt", None, "maria@example.org")[0] == keys[1]


@settings(max_examples=200, deadline=None)
@given(st.dictionaries(st.text(max_size=10), st.text(max_size=50), max_size=6))
def test_any_answers_give_a_valid_id(answers: dict[str, str]) -> None:
    assert ids.INTAKE_ID_PATTERN.match(ids.intake_id(ids.row_fingerprint("s", answers)))


# ---------------------------------------------------------------- actions contract
def test_button_values_parse_back() -> None:
    assert actions.parse_referral_action(
        actions.REFERRAL_ACCEPT, "REF-1-1"
    ) == actions.ReferralAction("REF-1-1", True)
    assert actions.parse_referral_action(
        actions.REFERRAL_DECIDE, "decline:REF-1-1"
    ) == actions.ReferralAction("REF-1-1", False)
    assert actions.parse_referral_action(actions.REFERRAL_DECIDE, "maybe:REF-1-1") is None
    assert actions.parse_referral_action("other", "REF-1-1") is None
    assert actions.parse_intake_ids(" INT-1, INT-2 ,") == ["INT-1", "INT-2"]


# ---------------------------------------------------------------- explain
def _evaluation(decision) -> dict:
    return {
        "action": decision.action.value, "reason_code": decision.reason_code, "chosen": decision.partner_id,
        "considered": [e.as_record() for e in decision.evaluations], "category": decision.category,
        "place": decision.place, "language": decision.language,
    }  # fmt: skip


def test_explain_says_who_was_considered_what_excluded_each_and_why_the_winner_won() -> None:
    partners = [
        partner("recA", name="Near Speaker", used_this_week=2),
        partner("recB", name="Far Interpreter", languages=frozenset({"English"}), interpreter=True),
        partner("recC", name="No Asylum", services=frozenset({"DACA"})),
    ]
    [d] = decide([ParsedRow("INT-1", case("INT-1"))], partners, RULES, now=NOW)
    result = explain(
        "INT-1", "referred", d.reason, _evaluation(d), {p.member_id: p.name for p in partners}
    )
    text = result.text()
    assert (
        "INT-1 was referred: asylum; Spanish; Harris County; 6 of 8 slots left at routing" in text
    )
    assert result.winner_reason == "the best language fit among the partners that fit"
    lines = {c.partner_id: c for c in result.considered}
    assert lines["recA"].fits and "(chosen)" in lines["recA"].why
    assert lines["recB"].fits and "through an interpreter" in lines["recB"].why
    assert (
        lines["recC"].rule == "service_not_offered" and "does not offer asylum" in lines["recC"].why
    )


def test_explain_a_waitlisted_survivor_case_without_naming_the_category() -> None:
    c = case("INT-2", case_types=("U visa",), county="Dallas County")
    [d] = decide([ParsedRow("INT-2", c)], [partner(services=frozenset({"U visa"}))], RULES, now=NOW)
    result = explain("INT-2", "waitlist", d.reason, _evaluation(d), {"recA": "Partner A"})
    text = result.text()
    assert text == (
        "INT-2 is on the waitlist: no partner offers cases in a protected category in Dallas County\n"
        "Partners considered (1), closest first:\n"
        "- Partner A: excluded: does not serve Dallas County"
    )
    assert "U visa" not in text and "rule" not in text and "recA" not in text


def test_explain_lists_partners_closest_first_in_words_without_ids() -> None:
    """Issue 17: sorted by how close each came, every reason in words, no record ids or rule codes."""
    c = case("INT-3", county="Dallas County", languages=("Arabic",))
    partners = [
        partner("recA", name="Far And Silent"),  # outside the area, no Arabic
        partner("recB", name="Far Interpreter", interpreter=True),  # outside the area only
        partner("recC", name="Nothing Fits", services=frozenset({"DACA"}), accepting=False),
    ]
    [d] = decide([ParsedRow("INT-3", c)], partners, RULES, now=NOW)
    names = {p.member_id: p.name for p in partners}
    names.pop("recC")  # left the directory since
    history = [{"referral_id": "REF-3-1", "partner_id": "recB", "state": "written"}]
    text = explain("INT-3", "waitlist", d.reason, _evaluation(d), names, history).text()
    assert text == (
        "INT-3 is on the waitlist: no partner offers asylum in Dallas County\n"
        "Partners considered (3), closest first:\n"
        "- Far Interpreter: excluded: does not serve Dallas County\n"
        "- Far And Silent: excluded: does not serve Dallas County;"
        " does not speak Arabic and has no interpreter\n"
        "- a partner no longer in the directory: excluded: is not accepting referrals;"
        " does not offer asylum; does not serve Dallas County;"
        " does not speak Arabic and has no interpreter\n"
        "History: REF-3-1 to Far Interpreter: in the partner's sheet"
    )


# ---------------------------------------------------------------- ledger records of decisions
def _state(**kw) -> IntakeState:
    base = {
        "intake_id": "INT-1",
        "status": "waitlist",
        "reason_code": "outside_area",
        "reason": "no partner offers asylum in Dallas County",
    }
    return IntakeState(**{**base, **kw})


def test_a_record_holds_codes_and_hashes_never_the_person() -> None:
    c = case("INT-1", urgency=urgent())
    [d] = decide([ParsedRow("INT-1", c)], [partner()], RULES, now=NOW)
    write = records.intake_write(
        d, c, fingerprint="f", salt="s", state=None, last_attempt=0, mode="auto"
    )
    assert (
        write.status == "routing" and write.referral_id == "REF-1-1" and write.partner_id == "recA"
    )
    assert write.phone_key == ids.phone_key("s", c.phone) and write.expected_status == ()
    blob = json.dumps(vars(write), default=str)
    assert "Maria" not in blob and "+1713" not in blob and "maria@" not in blob
    assert (
        write.evaluation["chosen"] == "recA"
        and write.evaluation["considered"][0]["partner"] == "recA"
    )


def test_known_intakes_move_only_from_their_status_and_count_attempts() -> None:
    c = case("INT-1")
    [d] = decide([ParsedRow("INT-1", c)], [partner()], RULES, now=NOW)
    rerouted = records.intake_write(
        d, c, fingerprint="f", salt="s", state=_state(status="reroute"), last_attempt=2, mode="auto"
    )
    assert rerouted.expected_status == ("reroute",) and rerouted.referral_id == "REF-1-3"
    assert rerouted.pending_notice == notices.REROUTE_NOTICE
    suggested = records.intake_write(
        d,
        c,
        fingerprint="f",
        salt="s",
        state=_state(status="suggested"),
        last_attempt=0,
        mode="auto",
    )
    assert suggested.expected_status == ("suggested", "approved")


def test_an_unchanged_decision_writes_nothing() -> None:
    c = case("INT-1", county="Dallas County")
    [d] = decide([ParsedRow("INT-1", c)], [partner()], RULES, now=NOW)
    assert not records.changes_something(d, _state())
    assert records.changes_something(d, _state(reason="something else"))
    assert records.changes_something(d, None) and records.changes_something(
        d, _state(status="reroute")
    )


def test_urgent_cases_without_a_partner_owe_staff_an_alert() -> None:
    c = case("INT-1", county="Dallas County", urgency=urgent())
    [d] = decide([ParsedRow("INT-1", c)], [partner()], RULES, now=NOW)
    assert records.staff_notice_for(d, None) == notices.TRIAGE_ALERT
    [calm] = decide(
        [ParsedRow("INT-2", case("INT-2", county="Dallas County"))], [partner()], RULES, now=NOW
    )
    assert records.staff_notice_for(calm, None) is None


def test_staff_notices_group_each_kind_and_skip_cases_that_moved_on() -> None:
    states = [
        _state(
            intake_id="INT-1",
            urgent=True,
            urgency="detained",
            place="Dallas County",
            language="Spanish",
        ),
        _state(intake_id="INT-2", status="referred"),  # routed meanwhile: no alert
    ]
    [alert] = notices.staff_notices(notices.TRIAGE_ALERT, states, "intake-triage", {}, {})
    assert [i["intake_id"] for i in alert.payload["items"]] == ["INT-1"]
    assert alert.payload["items"][0]["urgency"] == "detained"


def test_a_reroute_says_what_closed_and_where_the_case_went() -> None:
    state = _state(status="referred", current_referral="REF-1-2", current_partner="recB")
    history = [
        ReferralState("REF-1-1", "INT-1", 1, "recA", "declined"),
        ReferralState("REF-1-2", "INT-1", 2, "recB", "notified"),
    ]
    item = notices.reroute_item(state, {"recA": "Partner A", "recB": "Partner B"}, history)
    assert item == {
        "intake_id": "INT-1", "attempt": 2, "old_referral": "REF-1-1", "old_partner": "Partner A",
        "why": "declined", "outcome": "REF-1-2 to Partner B",
    }  # fmt: skip
    waiting = notices.reroute_item(
        _state(), {}, [ReferralState("REF-1-1", "INT-1", 1, "recA", "expired")]
    )
    assert waiting["why"] == "got no answer in time" and waiting["outcome"].startswith("Waitlist: ")
