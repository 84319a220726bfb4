"""Row validation and the routing decision for a batch: review, duplicates, triage, routing, waitlist."""

from __future__ import annotations

from dataclasses import replace
from datetime import date, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from intake_factories import NOW, RULES, case, partner, urgent

from coalition.intake import fields
from coalition.intake.decide import History, decide, plan_summary
from coalition.intake.models import Action, ParsedRow, RowProblem
from coalition.intake.normalize import language_aliases
from coalition.settings import RoutingConfig

CTX = fields.ParseContext(
    today=date(2026, 3, 2), rules=RULES, language_aliases=language_aliases(), salt="s"
)
GOOD = {
    "timestamp": "3/1/2026 10:22:01",
    "name": "Maria Example",
    "language": "Español",
    "phone": "(713) 555-0142",
    "email": "",
    "county": "Harris",
    "state": "TX",
    "help": "Necesito asilo",
    "detained": "No",
    "court_date": "",
    "entry_date": "4/20/2025",
    "household": "3",
    "income": "$1,800/mo",
    "consent": "Sí",
    "notes": "",
}


def parse(**changes: str):
    return fields.parse_row("INT-0000000001", {**GOOD, **changes}, CTX)


# ---------------------------------------------------------------- fields
def test_columns_are_found_by_header_whatever_the_order_and_spelling() -> None:
    header = [
        "Staff notes",
        "Routing reason",
        "E-mail",
        "full NAME",
        "Intake ID",
        "State ",
        "Help needed",
    ]
    columns = fields.resolve_columns(header)
    assert columns["email"] == "E-mail" and columns["name"] == "full NAME"
    assert columns["intake_id"] == "Intake ID" and columns["state"] == "State "
    assert "phone" not in columns
    assert fields.missing_bot_columns(columns) == ["Status", "Partner", "Referral ID", "Routed at"]


def test_a_good_row_is_normalised() -> None:
    c, problems = parse()
    assert problems == [] and c is not None
    assert (c.phone, c.state, c.county, c.languages) == (
        "+17135550142",
        "TX",
        "Harris County",
        ("Spanish",),
    )
    assert c.case_types == ("asylum",) and c.consent and c.household_size == 3
    assert c.income_percent == 80  # 21,600 a year against 27,320 for three
    assert c.urgency.reasons == ("asylum_deadline",)
    assert c.contact_keys and "+17135550142" not in repr(c) and "Maria" not in repr(c)


@pytest.mark.parametrize(
    ("changes", "codes"),
    [
        ({"phone": "", "email": ""}, ["contact_missing"]),
        ({"phone": "12", "email": "nope"}, ["contact_missing"]),
        ({"help": ""}, ["help_missing"]),
        ({"state": ""}, ["state_invalid"]),
        ({"state": "Jalisco"}, ["state_invalid"]),
        ({"court_date": "2/30/2026"}, ["court_date_invalid"]),
        ({"entry_date": "2027-01-01"}, ["entry_date_future"]),
        ({"household": "0"}, ["household_invalid"]),
        ({"household": "999"}, ["household_invalid"]),
        (
            {"phone": "", "email": "", "help": "", "state": "", "name": "Only A Name"},
            ["contact_missing", "help_missing", "state_invalid"],
        ),
    ],
)
def test_invalid_rows_get_problems_that_name_no_value(changes: dict, codes: list[str]) -> None:
    c, problems = parse(**changes)
    assert c is None
    assert [p.code for p in problems] == codes
    for p in problems:
        for value in changes.values():
            if len(value) >= 4:
                assert value not in p.message


def test_soft_problems_are_warnings_not_blocks() -> None:
    c, problems = parse(
        email="not-an-email", language="Wolof", income="depends", court_date="1/5/2026"
    )
    assert not problems and c is not None
    assert {
        "email_invalid",
        "language_unrecognized",
        "income_unreadable",
        "court_date_past",
    } <= set(c.warnings)


def test_hostile_text_is_kept_as_text() -> None:
    c, _ = parse(
        notes='=IMPORTXML("http://x", "//a")',
        name="<!channel> \u202eevil",
        help="<!channel> mi hermano está detenido 🙏",
        county="<!channel>",
    )
    assert c is not None and c.notes.startswith("=IMPORTXML")
    assert "\u202e" not in c.name
    assert c.detained and c.category == "detained" and c.urgency.urgent
    assert c.county is None and "county_unreadable" in c.warnings


def test_a_blank_row_is_not_an_intake() -> None:
    assert fields.is_blank({"timestamp": "3/1/2026 10:00:00", "name": " "})
    assert not fields.is_blank({"name": "Only A Name"})


@settings(max_examples=150, deadline=None)
@given(st.dictionaries(st.sampled_from(list(GOOD)), st.text(max_size=200)))
def test_any_row_either_parses_or_names_its_problems(changes: dict) -> None:
    c, problems = parse(**changes)
    assert (c is None) == bool(problems)


# ---------------------------------------------------------------- decide
def rows(*cases) -> list[ParsedRow]:
    return [ParsedRow(c.intake_id, c) for c in cases]


def test_routes_to_the_best_fit_and_explains_why() -> None:
    [d] = decide(
        rows(case()),
        [partner("recA", used_this_week=5), partner("recB", used_this_week=1)],
        RULES,
        now=NOW,
    )
    assert d.action is Action.ROUTE and d.partner_id == "recB"
    assert d.reason == "asylum; Spanish; Harris County; 7 of 8 slots left at routing"
    assert {e.partner_id for e in d.evaluations} == {"recA", "recB"}


def test_invalid_rows_go_to_review_with_the_reason() -> None:
    row = ParsedRow("INT-1", None, (RowProblem("help_missing", "Help needed is empty"),))
    [d] = decide([row], [partner()], RULES, now=NOW)
    assert (
        d.action is Action.REVIEW
        and d.reason == "Help needed is empty"
        and d.status == "Needs review"
    )


def test_no_consent_goes_to_staff_triage_even_when_a_partner_fits() -> None:
    [d] = decide(rows(case(consent=False)), [partner()], RULES, now=NOW)
    assert d.action is Action.TRIAGE and d.reason_code == "no_consent" and d.partner_id is None


def test_unclear_case_type_goes_to_staff_triage() -> None:
    [d] = decide(rows(case(case_types=())), [partner()], RULES, now=NOW)
    assert d.action is Action.TRIAGE and d.reason_code == "case_type_unclear"


def test_no_fit_is_waitlisted_with_a_reason_code() -> None:
    [d] = decide(rows(case(county="Dallas County")), [partner()], RULES, now=NOW)
    assert d.action is Action.WAITLIST and d.reason_code == "outside_area"
    assert d.reason == "no partner offers asylum in Dallas County"
    [d] = decide(rows(case()), [], RULES, now=NOW)
    assert d.reason_code == "no_partners"


def test_the_same_person_twice_in_a_week_is_routed_once() -> None:
    first = case("INT-1", received_at=NOW - timedelta(days=3), contact_keys=("k",))
    again = case("INT-2", received_at=NOW, contact_keys=("k",))
    later = case("INT-3", received_at=NOW + timedelta(days=9), contact_keys=("k",))
    decisions = decide(rows(again, first, later), [partner()], RULES, now=NOW)
    assert [d.action for d in decisions] == [Action.DUPLICATE, Action.ROUTE, Action.ROUTE]
    assert decisions[0].duplicate_of == "INT-1"


def test_duplicates_of_earlier_runs_come_from_history() -> None:
    history = History(contacts={"k": [("INT-OLD", NOW - timedelta(days=2))]})
    [d] = decide(
        rows(case("INT-2", contact_keys=("k",))), [partner()], RULES, now=NOW, history=history
    )
    assert d.action is Action.DUPLICATE and d.duplicate_of == "INT-OLD"


def test_urgent_cases_take_the_last_slots_first() -> None:
    calm = case("INT-1", received_at=NOW - timedelta(days=5))
    detained = case("INT-2", received_at=NOW, urgency=urgent())
    decisions = decide(rows(calm, detained), [partner(used_this_week=7)], RULES, now=NOW)
    assert [d.action for d in decisions] == [Action.WAITLIST, Action.ROUTE]
    assert decisions[0].reason_code == "no_capacity"
    assert decisions[1].urgent and decisions[1].urgency_reasons == ("detained",)


def test_capacity_is_spent_within_the_batch() -> None:
    cases = [case(f"INT-{i}", received_at=NOW + timedelta(minutes=i)) for i in range(5)]
    decisions = decide(
        rows(*cases),
        [partner("recA", weekly_capacity=2), partner("recB", weekly_capacity=2)],
        RULES,
        now=NOW,
    )
    assert [d.partner_id for d in decisions] == ["recA", "recB", "recA", "recB", None]


def test_approve_mode_suggests_and_approved_cases_route() -> None:
    rules = RoutingConfig(mode="approve")
    [d] = decide(rows(case("INT-1")), [partner()], rules, now=NOW)
    assert d.action is Action.SUGGEST and d.status == "Suggested" and d.partner_id == "recA"
    history = History(approved=frozenset({"INT-1"}), preferred={"INT-1": "recB"})
    [d] = decide(
        rows(case("INT-1")),
        [partner("recA"), partner("recB", used_this_week=7)],
        rules,
        now=NOW,
        history=history,
    )
    assert d.action is Action.ROUTE and d.partner_id == "recB"


def test_an_approved_partner_that_no_longer_fits_gives_way_to_the_best_fit() -> None:
    history = History(approved=frozenset({"INT-1"}), preferred={"INT-1": "recB"})
    [d] = decide(
        rows(case("INT-1")),
        [partner("recA"), partner("recB", accepting=False)],
        RULES,
        now=NOW,
        history=history,
    )
    assert d.partner_id == "recA"


def test_staff_choice_wins_unless_the_partner_cannot_receive_referrals() -> None:
    history = History(forced={"INT-1": "recB"})
    partners = [partner("recA"), partner("recB", used_this_week=8)]
    [d] = decide(rows(case("INT-1")), partners, RULES, now=NOW, history=history)
    assert d.partner_id == "recB" and d.reason.startswith("chosen by staff; ")
    partners = [partner("recA"), partner("recB", referral_sheet=None)]
    [d] = decide(rows(case("INT-1")), partners, RULES, now=NOW, history=history)
    assert d.partner_id == "recA"


def test_re_routing_skips_partners_that_already_had_the_case() -> None:
    history = History(tried={"INT-1": frozenset({"recA"})})
    [d] = decide(
        rows(case("INT-1")),
        [partner("recA"), partner("recB", used_this_week=6)],
        RULES,
        now=NOW,
        history=history,
    )
    assert d.partner_id == "recB" and d.reason.endswith("; re-routed")


def test_survivor_categories_are_broad_in_decisions() -> None:
    [d] = decide(
        rows(case(case_types=("VAWA",))), [partner(services=frozenset({"VAWA"}))], RULES, now=NOW
    )
    assert d.category == "protected" and "VAWA" not in d.reason


def test_decide_is_deterministic() -> None:
    batch = rows(*[case(f"INT-{i}", contact_keys=(f"k{i % 3}",)) for i in range(12)])
    partners = [partner("recA", weekly_capacity=3), partner("recB", weekly_capacity=4)]
    assert decide(batch, partners, RULES, now=NOW) == decide(batch, partners, RULES, now=NOW)


def test_plan_summary_has_counts_and_no_personal_data() -> None:
    batch = rows(
        case("INT-1"), case("INT-2", county="Dallas County"), case("INT-3", consent=False),
        replace(case("INT-4"), contact_keys=("key-INT-1",)),
    )  # fmt: skip
    review = ParsedRow("INT-5", None, (RowProblem("help_missing", "Help needed is empty"),))
    decisions = decide([*batch, review], [partner("recA", name="Partner A")], RULES, now=NOW)
    line = plan_summary(decisions, {"recA": "Partner A"})
    assert line == (
        "5 rows -> 1 routed (Partner A 1), 1 waitlisted (no partner offers asylum in Dallas County), "
        "1 to staff triage, 1 duplicates, 1 need review"
    )
    assert "Maria" not in line and "+1713" not in line
