"""Which partners can serve a case (one rule code per exclusion), how well each fits, and why the winner won.

Rules, in the order they are checked (the order also names a waitlist's reason:
the rule that stopped the partner that got furthest):
inactive, no_referral_sheet, not_accepting, tried_before, service_not_offered,
outside_area, language_unsupported, accreditation_required, lsc_restricted,
over_income_limit, sheet_unreachable, no_capacity.
A partner whose sheet refused a case is not "tried": it fits again once its sheet works,
and it comes late in the order so a waitlist names the broken sheet, not a lesser fit.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

from coalition.intake import classify
from coalition.intake.models import Evaluation, IntakeCase, PartnerProfile
from coalition.intake.normalize import county_key, fold, normalize_languages, normalize_state
from coalition.settings import RoutingConfig

RULES: dict[str, str] = {
    "inactive": "is not an active member",
    "no_referral_sheet": "has no referral sheet or channel set up",
    "not_accepting": "is not accepting referrals",
    "tried_before": "already had this case (declined or did not answer)",
    "service_not_offered": "does not offer {category}",
    "outside_area": "does not serve {place}",
    "language_unsupported": "does not speak {language} and has no interpreter",
    "accreditation_required": "has no attorney or fully accredited representative for {category}",
    "lsc_restricted": "is LSC-funded and may not take {category}",
    "over_income_limit": "has an income limit below this household's income",
    "sheet_unreachable": "fits, but its referral sheet cannot take cases until staff fix it; the case goes to it then",
    "no_capacity": "has no capacity left this week",
}
RULE_ORDER = tuple(RULES)
WAITLIST_TEXT: dict[str, str] = {
    "no_partners": "no partner in the directory",
    "inactive": "no active partner",
    "no_referral_sheet": "no partner with a referral sheet set up",
    "not_accepting": "no partner accepting referrals",
    "tried_before": "every fitting partner already had this case",
    "service_not_offered": "no partner offers {category}",
    "outside_area": "no partner for {place}",
    "language_unsupported": "no partner for {category} in {language}",
    "accreditation_required": "no accredited partner for {category} in {place}",
    "lsc_restricted": "only LSC-funded partners fit, and they may not take {category}",
    "over_income_limit": "income above every fitting partner's limit",
    "sheet_unreachable": "the fitting partner's referral sheet cannot take cases yet (see #ops-alerts)",
    "no_capacity": "no capacity left this week for {category} in {place}",
}
QUALIFIED = {
    "attorney",
    "fully accredited",
    "accredited representative",
    "fully accredited representative",
}
ENGLISH = "English"


@dataclass(frozen=True)
class Ranked:
    """The eligible partners of a case, best first, and every evaluation (for explain)."""

    evaluations: tuple[Evaluation, ...]
    best: Evaluation | None

    @property
    def eligible(self) -> list[Evaluation]:
        return sorted((e for e in self.evaluations if e.eligible), key=rank_key)


def rank_key(evaluation: Evaluation) -> tuple[int, int, int, str]:
    """Best language fit, then best geography fit, then most capacity left; id breaks ties."""
    return (
        -evaluation.language_fit,
        -evaluation.geo_fit,
        -evaluation.capacity_left,
        evaluation.partner_id,
    )


# ------------------------------------------------------------------ partner directory
def _county_keys(values: Iterable[str]) -> frozenset[str]:
    keys = set()
    for value in values:
        name, _, state = str(value).partition(",")
        code = normalize_state(state) if state.strip() else None
        key = county_key(name)
        if key:
            keys.add(f"{key}|{code.lower()}" if code else key)
    return frozenset(keys)


def profile(
    row: Mapping[str, object], used_this_week: int = 0, aliases: Mapping[str, str] | None = None
) -> PartnerProfile:
    """A partner's profile from the directory (ledger `Partner` columns), services and places canonicalised."""

    def items(key: str) -> list[str]:
        value = row.get(key) or []
        if isinstance(value, str):
            value = [v for v in value.replace(";", ",").split(",")]
        return [str(v).strip() for v in value if str(v).strip()]

    services = {s for s in (classify.canonical_service(v) for v in items("services")) if s}
    states = {s for s in (normalize_state(v) for v in items("states")) if s}
    languages = {lang for v in items("languages") for lang in normalize_languages(v, aliases)}
    return PartnerProfile(
        member_id=str(row.get("member_id")),
        name=str(row.get("name") or row.get("member_id")),
        services=frozenset(services),
        counties=_county_keys(items("counties")),
        states=frozenset(states),
        languages=frozenset(languages),
        remote=bool(row.get("remote")),
        interpreter=bool(row.get("interpreter")),
        accepting=bool(row.get("accepting")),
        weekly_capacity=int(row.get("weekly_capacity") or 0),
        used_this_week=used_this_week,
        income_limit_percent=_int_or_none(row.get("income_limit_percent")),
        lsc_funded=bool(row.get("lsc_funded")),
        accreditation=fold(str(row.get("accreditation") or "none")),
        referral_channel=(str(row.get("referral_channel") or "").strip() or None),
        referral_sheet=(str(row.get("referral_sheet") or "").strip() or None),
        active=bool(row.get("active", True)),
    )


def _int_or_none(value: object) -> int | None:
    try:
        return int(value) if value not in (None, "") else None  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return None


# ------------------------------------------------------------------ fit measures
def language_fit(case: IntakeCase, partner: PartnerProfile) -> int:
    """3 speaks the person's first language, 2 another of theirs, 1 through an interpreter, 0 none."""
    spoken = set(partner.languages) | {ENGLISH}
    wanted = list(case.languages)
    if not wanted and "language_unrecognized" not in case.warnings:
        wanted = [ENGLISH]
    if wanted and wanted[0] in spoken:
        return 3
    if any(lang in spoken for lang in wanted[1:]):
        return 2
    return 1 if partner.interpreter else 0


def geo_fit(case: IntakeCase, partner: PartnerProfile) -> int:
    """3 the person's county is served, 2 the whole state (or county unknown), 1 remote, 0 outside.

    "Remote" widens a partner's reach to the rest of its own state(s) (to anywhere only
    when it lists no state): its attorneys are licensed, and its courts are, there.
    """
    state = (case.state or "").lower()
    county = county_key(case.county) if case.county else ""
    in_state = case.state in partner.states
    if county and (
        f"{county}|{state}" in partner.counties or (in_state and county in partner.counties)
    ):
        return 3
    state_counties = {c for c in partner.counties if "|" not in c or c.endswith(f"|{state}")}
    if in_state and (not state_counties or not county):
        return 2
    return 1 if partner.remote and (in_state or not partner.states) else 0


def income_limit(partner: PartnerProfile, rules: RoutingConfig) -> int:
    limit = partner.income_limit_percent or rules.default_income_limit_percent
    return min(limit, rules.lsc_income_limit_percent) if partner.lsc_funded else limit


# ------------------------------------------------------------------ evaluation
def evaluate(
    case: IntakeCase,
    partner: PartnerProfile,
    rules: RoutingConfig,
    tried: frozenset[str] = frozenset(),
    capacity_left: int | None = None,
) -> Evaluation:
    """Check every rule in order; the first that fails excludes the partner."""
    left = partner.capacity_left if capacity_left is None else capacity_left
    lang = language_fit(case, partner)
    geo = geo_fit(case, partner)

    def result(rule: str | None) -> Evaluation:
        return Evaluation(partner.member_id, rule, lang, geo, left)

    needs_attorney = bool(set(case.case_types) & set(rules.attorney_required_for)) or case.detained
    checks = (
        ("inactive", not partner.active),
        ("no_referral_sheet", not partner.referral_sheet or not partner.referral_channel),
        ("not_accepting", not partner.accepting),
        ("tried_before", partner.member_id in tried),
        ("service_not_offered", case.category not in partner.services),
        ("outside_area", geo == 0),
        ("language_unsupported", lang == 0),
        ("accreditation_required", needs_attorney and partner.accreditation not in QUALIFIED),
        (
            "lsc_restricted",
            partner.lsc_funded and case.category not in rules.lsc_allowed_case_types,
        ),
        (
            "over_income_limit",
            case.income_percent is not None and case.income_percent > income_limit(partner, rules),
        ),
        ("sheet_unreachable", partner.sheet_problem is not None),
        ("no_capacity", left <= 0),
    )
    for rule, failed in checks:
        if failed:
            return result(rule)
    return result(None)


def rank(
    case: IntakeCase,
    partners: Sequence[PartnerProfile],
    rules: RoutingConfig,
    tried: frozenset[str] = frozenset(),
    capacity_left: Mapping[str, int] | None = None,
) -> Ranked:
    """Evaluate every partner and pick the best fit."""
    evaluations = tuple(
        evaluate(case, p, rules, tried, (capacity_left or {}).get(p.member_id)) for p in partners
    )
    eligible = sorted((e for e in evaluations if e.eligible), key=rank_key)
    return Ranked(evaluations, eligible[0] if eligible else None)


# ------------------------------------------------------------------ words
def place(case: IntakeCase) -> str:
    return case.county or case.state or "unknown place"


def _fill(template: str, case: IntakeCase | None) -> str:
    if case is None:
        return template.format(
            category="this case type", place="this area", language="this language"
        )
    return template.format(
        category=classify.label(case.category),
        place=place(case),
        language=case.language or "an unrecognised language",
    )


def choice_reason(case: IntakeCase, chosen: Evaluation, partner: PartnerProfile) -> str:
    """Why the chosen partner: "asylum; Spanish; Harris County; 3 of 8 slots left" (no personal data)."""
    language = case.language or ENGLISH
    if chosen.language_fit == 1:
        language += " via interpreter"
    where = {3: place(case), 2: case.state or place(case), 1: "remote"}.get(
        chosen.geo_fit, place(case)
    )
    parts = [classify.label(case.category), language, where]
    parts.append(f"{chosen.capacity_left} of {partner.weekly_capacity} slots left")
    return "; ".join(parts)


def waitlist_code(evaluations: Sequence[Evaluation]) -> str:
    """The rule that stopped the partner that got furthest, or no_partners."""
    if not evaluations:
        return "no_partners"
    return max((e.excluded_by or "no_capacity" for e in evaluations), key=RULE_ORDER.index)


def waitlist_reason(code: str, case: IntakeCase | None) -> str:
    return _fill(WAITLIST_TEXT.get(code, code.replace("_", " ")), case)


def rule_text(code: str, case: IntakeCase | None) -> str:
    return _fill(RULES.get(code, code.replace("_", " ")), case)
