"""Eligibility rules (one code per exclusion), ranking, the reason sentence and the waitlist reason."""

from __future__ import annotations

from dataclasses import replace

import pytest
from intake_factories import RULES, case, partner

from coalition.intake import matching
from coalition.intake.models import Evaluation, IntakeCase


@pytest.mark.parametrize(
    ("case_changes", "partner_changes", "rule"),
    [
        ({}, {}, None),
        ({}, {"active": False}, "inactive"),
        ({}, {"referral_sheet": None}, "no_referral_sheet"),
        ({}, {"referral_channel": None}, "no_referral_sheet"),
        ({}, {"accepting": False}, "not_accepting"),
        ({"case_types": ("DACA",)}, {}, "service_not_offered"),
        ({"county": "Dallas County"}, {}, "outside_area"),
        ({"state": "CA", "county": "Harris County"}, {}, "outside_area"),
        ({"county": "Dallas County"}, {"remote": True}, None),
        ({"county": "Polk County", "state": "IA"}, {"remote": True}, "outside_area"),
        ({"county": "Polk County", "state": "IA"}, {"remote": True, "states": frozenset()}, None),
        ({"languages": ("Arabic",)}, {}, "language_unsupported"),
        ({"languages": ("Arabic",)}, {"interpreter": True}, None),
        ({"languages": ("Arabic", "Spanish")}, {}, None),  # speaks their second language
        ({"languages": ()}, {"languages": frozenset()}, None),  # blank: English, which everyone speaks
        ({"languages": (), "warnings": ("language_unrecognized",)}, {}, "language_unsupported"),
        ({"case_types": ("removal defense",)}, {"accreditation": "partially accredited"}, "accreditation_required"),
        ({"case_types": ("asylum",), "detained": True}, {"accreditation": "none"}, "accreditation_required"),
        ({"case_types": ("removal defense",)}, {"accreditation": "fully accredited"}, None),
        ({"case_types": ("asylum",)}, {"lsc_funded": True}, "lsc_restricted"),
        ({"case_types": ("VAWA",), "income_percent": 120}, {"lsc_funded": True, "services": frozenset({"VAWA"})}, None),
        ({"case_types": ("VAWA",), "income_percent": 130}, {"lsc_funded": True, "services": frozenset({"VAWA"}), "income_limit_percent": 200}, "over_income_limit"),
        ({"income_percent": 201}, {}, "over_income_limit"),  # default limit 200%
        ({"income_percent": 250}, {"income_limit_percent": 300}, None),
        ({"income_percent": None}, {"income_limit_percent": 100}, None),  # not stated: the partner screens
        ({}, {"used_this_week": 8}, "no_capacity"),
        ({}, {"weekly_capacity": 0}, "no_capacity"),
    ],
)  # fmt: skip
def test_rules(case_changes: dict, partner_changes: dict, rule: str | None) -> None:
    result = matching.evaluate(case(**case_changes), partner(**partner_changes), RULES)
    assert result.excluded_by == rule


def test_a_partner_that_already_had_the_case_is_excluded() -> None:
    result = matching.evaluate(case(), partner("recA"), RULES, tried=frozenset({"recA"}))
    assert result.excluded_by == "tried_before"


@pytest.mark.parametrize(
    ("case_changes", "partner_changes", "fit"),
    [
        ({}, {}, 3),
        ({"county": None}, {}, 2),
        ({}, {"counties": frozenset()}, 2),  # serves the whole state
        ({}, {"counties": frozenset({"harris|tx"})}, 3),
        ({"county": "Dallas County"}, {"remote": True}, 1),
        ({"county": "Dallas County"}, {}, 0),
    ],
)
def test_geography_fit(case_changes: dict, partner_changes: dict, fit: int) -> None:
    assert matching.geo_fit(case(**case_changes), partner(**partner_changes)) == fit


def test_ranking_prefers_language_then_geography_then_capacity() -> None:
    c = case(county="Harris County")
    speaks_far = partner("recA", counties=frozenset({"dallas"}), remote=True, used_this_week=0)
    interpreter_near = partner("recB", languages=frozenset({"English"}), interpreter=True)
    speaks_near_busy = partner("recC", used_this_week=6)
    speaks_near_free = partner("recD", used_this_week=2)
    ranked = matching.rank(
        c, [speaks_far, interpreter_near, speaks_near_busy, speaks_near_free], RULES
    )
    assert [e.partner_id for e in ranked.eligible] == ["recD", "recC", "recA", "recB"]
    assert ranked.best.partner_id == "recD"


def test_ties_break_by_id_so_decisions_are_stable() -> None:
    ranked = matching.rank(case(), [partner("recZ"), partner("recB")], RULES)
    assert ranked.best.partner_id == "recB"


def test_reason_sentence_has_no_personal_data_and_hides_survivor_types() -> None:
    c = case()
    chosen = matching.evaluate(c, partner(used_this_week=5), RULES)
    assert (
        matching.choice_reason(c, chosen, partner())
        == "asylum; Spanish; Harris County; 3 of 8 slots left at routing"
    )
    survivor = case(case_types=("U visa",))
    p = partner(services=frozenset({"U visa"}))
    reason = matching.choice_reason(survivor, matching.evaluate(survivor, p, RULES), p)
    assert "U visa" not in reason and reason.startswith("protected category;")
    interp = case(languages=("Arabic",))
    q = partner(interpreter=True, counties=frozenset(), remote=True)
    assert "Arabic, interpreter needed; TX;" in matching.choice_reason(
        interp, matching.evaluate(interp, q, RULES), q
    )


def _reason(c, partners, **kw) -> str:
    ranked = matching.rank(c, partners, RULES, **kw)
    assert ranked.best is None
    return matching.waitlist_reason(matching.shortfall(ranked.evaluations), c)


COOK = {"county": "Cook County", "state": "IL"}
IN_COOK = {"counties": frozenset({"cook|il"}), "states": frozenset({"IL"})}


def test_waitlist_names_the_service_when_the_local_partner_lacks_it() -> None:
    """Issue 17: a Cook County partner without work permits is not "no partner for Cook County"."""
    c = case(case_types=("work permit",), **COOK)
    local = partner("recA", **IN_COOK)  # in Cook, no work permits
    elsewhere = partner("recB", services=frozenset({"work permit"}))  # work permits, in Texas
    short = matching.shortfall(matching.rank(c, [local, elsewhere], RULES).evaluations)
    assert short.code == "outside_area"
    assert _reason(c, [local, elsewhere]) == "no partner offers work permits in Cook County"
    assert _reason(c, [local]) == "no partner offers work permits"


def test_waitlist_says_the_fitting_partners_are_full_not_that_none_speaks_the_language() -> None:
    """Issue 17: 15 of 18 partners do not serve the county; the 2 that fit are full."""
    c = case(county="Suffolk County", state="MA")
    far = [partner(f"rec{i:02}") for i in range(15)]  # Harris County, TX
    suffolk = {"counties": frozenset({"suffolk|ma"}), "states": frozenset({"MA"})}
    full = [partner(f"recF{i}", used_this_week=8, **suffolk) for i in range(2)]
    no_spanish = partner("recE", languages=frozenset({"English"}), **suffolk)
    reason = _reason(c, [*far, *full, no_spanish])
    assert (
        reason == "the 2 partners for asylum in Suffolk County speaking Spanish are full this week"
    )
    assert (
        _reason(c, [*far, *full])
        == "the 2 partners for asylum in Suffolk County are full this week"
    )
    assert (
        _reason(c, [*far, full[0]])
        == "the only partner for asylum in Suffolk County is full this week"
    )
    shut = partner("recS", accepting=False, **suffolk)
    assert _reason(c, [*far, *full, shut]) == (
        "of the 3 partners for asylum in Suffolk County, 2 are full this week"
        " and 1 is not accepting referrals"
    )


@pytest.mark.parametrize(
    ("case_changes", "partners", "reason"),
    [
        ({}, [], "no partner in the directory"),
        ({}, [{"active": False}], "no active partner in the directory"),
        ({"case_types": ("DACA",)}, [{}], "no partner offers DACA"),
        ({"county": "Dallas County"}, [{}], "no partner offers asylum in Dallas County"),
        ({"languages": ("Arabic",)}, [{}], "no partner for asylum in Harris County speaks Arabic or has an interpreter"),
        ({"languages": (), "warnings": ("language_unrecognized",)}, [{}], "language not recognised, and no partner for asylum in Harris County has an interpreter"),
        ({"case_types": ("removal defense",)}, [{"accreditation": "none"}], "no partner for removal defense in Harris County has an attorney or fully accredited representative"),
        ({}, [{"lsc_funded": True}], "the only partner for asylum in Harris County is LSC-funded and may not take this case"),
        ({"income_percent": 250}, [{}, {"income_limit_percent": 150}], "the household's income is above the limits of the 2 partners for asylum in Harris County"),
        ({}, [{"referral_sheet": None}], "the only partner for asylum in Harris County has no referral sheet or channel set up"),
        ({"case_types": ("U visa",)}, [{}], "no partner offers cases in a protected category"),
    ],
)  # fmt: skip
def test_waitlist_reason_names_the_binding_constraint(
    case_changes: dict, partners: list[dict], reason: str
) -> None:
    ps = [partner(f"rec{i}", **p) for i, p in enumerate(partners)]
    assert _reason(case(**case_changes), ps) == reason


def test_waitlist_reason_for_partners_that_already_had_the_case() -> None:
    assert (
        _reason(case(), [partner("recA")], tried=frozenset({"recA"}))
        == "the only partner for asylum in Harris County already had this case"
    )


def test_waitlist_of_evaluations_made_elsewhere_uses_their_first_rule() -> None:
    evaluations = [Evaluation("a", "service_not_offered"), Evaluation("b", "outside_area")]
    # b offers the service (its first failure is the area), so the area is what binds.
    assert matching.waitlist_code(evaluations) == "outside_area"
    assert matching.waitlist_code(evaluations[:1]) == "service_not_offered"
    assert matching.waitlist_code([]) == "no_partners"


def test_profile_from_the_directory_canonicalises_services_places_and_languages() -> None:
    row = {
        "member_id": "recX", "name": "Riverbend", "services": ["Asylum", "Removal Defense", "U-visa"],
        "counties": ["Harris", "Fort Bend County", "Cook, IL"], "states": ["Texas"],
        "languages": ["Español", "English"], "remote": True, "interpreter": False, "accepting": True,
        "weekly_capacity": 8, "income_limit_percent": None, "lsc_funded": False,
        "accreditation": "Attorney", "referral_channel": "ref-riverbend", "referral_sheet": "sheet1",
        "active": True,
    }  # fmt: skip
    p = matching.profile(row, used_this_week=3)
    assert p.services == {"asylum", "removal defense", "U visa"}
    assert p.counties == {"harris", "fort bend", "cook|il"}
    assert p.states == {"TX"} and p.languages == {"Spanish", "English"}
    assert p.accreditation == "attorney" and p.capacity_left == 5


def test_capacity_override_is_used_when_given() -> None:
    c, p = case(), partner()
    assert matching.evaluate(c, p, RULES, capacity_left=0).excluded_by == "no_capacity"
    assert matching.evaluate(c, replace(p, used_this_week=8), RULES, capacity_left=1).eligible


# ---------------------------------------------------------------- the language a partner reads
def _parsed_language(raw: str) -> IntakeCase:
    from coalition.intake.normalize import languages_as_given, normalize_languages

    return case(languages=normalize_languages(raw), languages_given=languages_as_given(raw))


@pytest.mark.parametrize(
    ("raw", "partner_changes", "shown"),
    [
        ("Cantonese", {"languages": frozenset({"Chinese"})}, "Cantonese (interpreter needed)"),
        ("Mandarin, English", {"languages": frozenset({"English"})}, "Mandarin, English"),
        ("español", {}, "Español"),
        ("Spanish, call me after 5", {}, "Spanish"),
        ("Arabic", {"interpreter": True}, "Arabic (interpreter needed)"),
        ("", {}, "not stated"),
    ],
)
def test_partner_reads_the_language_as_given_and_whether_an_interpreter_is_needed(
    raw: str, partner_changes: dict, shown: str
) -> None:
    """Issue 17: a Cantonese speaker is not "Chinese" to the partner; the interpreter note travels."""
    assert matching.language_shown(_parsed_language(raw), partner(**partner_changes)) == shown


def test_the_intake_sheet_reason_names_the_language_as_given() -> None:
    c = _parsed_language("Cantonese")
    p = partner(languages=frozenset({"Chinese", "English"}))
    assert (
        matching.choice_reason(c, matching.evaluate(c, p, RULES), p)
        == "asylum; Cantonese, interpreter needed; Harris County; 8 of 8 slots left at routing"
    )
