"""Which partners can serve a case (one rule code per exclusion), how well each fits, and why the winner won.

Rules, in the order they are checked (a partner's `excluded_by` is the first it fails):
inactive, no_referral_sheet, not_accepting, tried_before, service_not_offered,
outside_area, language_unsupported, accreditation_required, lsc_restricted,
over_income_limit, sheet_unreachable, no_capacity.
A partner whose sheet refused a case is not "tried": it fits again once its sheet works,
and it comes late in the order so a waitlist names the broken sheet, not a lesser fit.

When no partner fits, `shortfall` finds the binding constraint as data: the active
partners are narrowed by what the case needs (service, place, language, accreditation,
LSC rules, income) until none is left; if some fit the case, the partner-side rules
that stopped them (no sheet, not accepting, already had it, full) are counted.
`waitlist_reason` turns that into the sentence staff read.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

from coalition.intake import classify
from coalition.intake.models import Evaluation, IntakeCase, PartnerProfile
from coalition.intake.normalize import (
    county_key,
    fold,
    is_variety,
    normalize_languages,
    normalize_state,
)
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
# What the case needs, in the order a coordinator narrows the field by hand.
CASE_RULES = (
    "service_not_offered",
    "outside_area",
    "language_unsupported",
    "accreditation_required",
    "lsc_restricted",
    "over_income_limit",
)
# Why partners that fit the case could not take it (singular, plural).
PARTNER_SIDE: dict[str, tuple[str, str]] = {
    "no_referral_sheet": (
        "has no referral sheet or channel set up",
        "have no referral sheet or channel set up",
    ),
    "not_accepting": ("is not accepting referrals", "are not accepting referrals"),
    "tried_before": ("already had this case", "already had this case"),
    "sheet_unreachable": (
        "fits, but its referral sheet cannot take cases yet (see #ops-alerts)",
        "fit, but their referral sheets cannot take cases yet (see #ops-alerts)",
    ),
    "no_capacity": ("is full this week", "are full this week"),
}
# How a narrowing rule qualifies the group of partners left after it.
QUALIFIERS = {
    "language_unsupported": " speaking {language}",
    "accreditation_required": " with an attorney or fully accredited representative",
    "lsc_restricted": " free of LSC restrictions",
    "over_income_limit": " whose income limit covers this household",
}
# A case type as the object of "offers" ("no partner offers work permits").
SERVICE_WORDS = {
    "work permit": "work permits",
    "family petition": "family petitions",
    "detained": "detained cases",
    "know your rights": "know-your-rights help",
    classify.PROTECTED_LABEL: "cases in a protected category",
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


def interpreter_needed(case: IntakeCase, partner: PartnerProfile) -> bool:
    """The partner does not speak the person's first language as they named it.

    Through its interpreter, or because the directory only knows the broader language
    (a partner listed as speaking Chinese, a person who speaks Cantonese).
    """
    if not case.languages:
        return False
    shown = case.languages_shown[0]
    return language_fit(case, partner) < 2 or (
        language_fit(case, partner) == 3 and is_variety(shown)
    )


def language_shown(case: IntakeCase, partner: PartnerProfile) -> str:
    """The person's languages as given, and "interpreter needed" when the partner lacks the first."""
    shown = ", ".join(case.languages_shown) or "not stated"
    return f"{shown} (interpreter needed)" if interpreter_needed(case, partner) else shown


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

    def result(failed: tuple[str, ...]) -> Evaluation:
        first = failed[0] if failed else None
        return Evaluation(partner.member_id, first, lang, geo, left, failed)

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
    return result(tuple(rule for rule, failed in checks if failed))


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
    """Why the chosen partner: "asylum; Spanish; Harris County; 3 of 8 slots left at routing" (no personal data)."""
    language = case.languages_shown[0] if case.languages else ENGLISH
    if interpreter_needed(case, partner):
        language += ", interpreter needed"
    where = {3: place(case), 2: case.state or place(case), 1: "remote"}.get(
        chosen.geo_fit, place(case)
    )
    parts = [classify.label(case.category), language, where]
    # Counted when routing decided; the partner's answers since then do not change this sentence.
    parts.append(f"{chosen.capacity_left} of {partner.weekly_capacity} slots left at routing")
    return "; ".join(parts)


@dataclass(frozen=True)
class Shortfall:
    """Why no partner fits, as data: the binding rule, the case rules that narrowed the field, who was left."""

    code: str  # a rule code, or "no_partners"
    narrowed: tuple[str, ...] = ()  # case rules that removed partners before the binding one
    group: int = 0  # partners left when the binding rule applied
    blocked: tuple[
        tuple[str, int], ...
    ] = ()  # partner-side rules and how many partners each stopped


def failures(evaluation: Evaluation) -> tuple[str, ...]:
    """Every rule a partner failed (only the first is known for evaluations made elsewhere)."""
    if evaluation.failed:
        return evaluation.failed
    return (evaluation.excluded_by,) if evaluation.excluded_by else ()


def shortfall(evaluations: Sequence[Evaluation]) -> Shortfall:
    """The binding constraint when no partner fits: what the case needs first, then what the partners lack."""
    if not evaluations:
        return Shortfall("no_partners")
    pool = [e for e in evaluations if "inactive" not in failures(e)]
    if not pool:
        return Shortfall("inactive")
    narrowed: list[str] = []
    for rule in CASE_RULES:
        kept = [e for e in pool if rule not in failures(e)]
        if not kept:
            return Shortfall(rule, tuple(narrowed), len(pool))
        if len(kept) < len(pool):
            narrowed.append(rule)
        pool = kept
    counts: dict[str, int] = {}
    for e in pool:
        # A partner that fits every rule yet was not chosen lost its last slot to an earlier case.
        rule = next((r for r in PARTNER_SIDE if r in failures(e)), "no_capacity")
        counts[rule] = counts.get(rule, 0) + 1
    order = list(PARTNER_SIDE)
    blocked = tuple(sorted(counts.items(), key=lambda item: (-item[1], order.index(item[0]))))
    return Shortfall(blocked[0][0], tuple(narrowed), len(pool), blocked)


def waitlist_code(evaluations: Sequence[Evaluation]) -> str:
    """The reason code of a waitlisted case: its binding rule, or no_partners."""
    return shortfall(evaluations).code


def service_words(case: IntakeCase | None) -> str:
    label = classify.label(case.category) if case else "this case type"
    return SERVICE_WORDS.get(label, label)


def _language(case: IntakeCase | None) -> str:
    if case is None:
        return "their language"
    return case.language or (
        "an unrecognised language" if "language_unrecognized" in case.warnings else ENGLISH
    )


def _group(short: Shortfall, case: IntakeCase | None) -> str:
    """ "partners for asylum in Suffolk County speaking Spanish": the field the binding rule emptied."""
    where = place(case) if case else "this area"
    words = f"for {service_words(case)} in {where}"
    for rule in short.narrowed:
        words += QUALIFIERS.get(rule, "").format(language=_language(case))
    return words


def waitlist_reason(short: Shortfall | str, case: IntakeCase | None) -> str:
    """The binding constraint in plain words: "no partner offers work permits in Cook County"."""
    if isinstance(short, str):
        short = Shortfall(short)
    group = _group(short, case)
    n = short.group
    the = "the only partner" if n == 1 else f"the {n} partners"
    code = short.code
    if code == "no_partners":
        return "no partner in the directory"
    if code == "inactive":
        return "no active partner in the directory"
    if code == "service_not_offered":
        return f"no partner offers {service_words(case)}"
    if code == "outside_area":
        return f"no partner offers {service_words(case)} in {place(case) if case else 'this area'}"
    if code == "language_unsupported":
        if case is not None and case.language is None:
            return f"language not recognised, and no partner {group} has an interpreter"
        return f"no partner {group} speaks {_language(case)} or has an interpreter"
    if code == "accreditation_required":
        return f"no partner {group} has an attorney or fully accredited representative"
    if code == "lsc_restricted":
        verb = "is" if n == 1 else "are"
        return f"{the} {group} {verb} LSC-funded and may not take this case"
    if code == "over_income_limit":
        limit = "limit" if n == 1 else "limits"
        return f"the household's income is above the {limit} of {the} {group}"
    blocked = short.blocked or ((code, n),)
    if len(blocked) == 1:
        singular, plural = PARTNER_SIDE.get(code, (code, code))
        return f"{the} {group} {singular if n == 1 else plural}"
    parts = [f"{k} {PARTNER_SIDE[rule][0 if k == 1 else 1]}" for rule, k in blocked]
    return f"of {the} {group}, " + ", ".join(parts[:-1]) + f" and {parts[-1]}"


def rule_text(code: str, case: IntakeCase | None) -> str:
    return _fill(RULES.get(code, code.replace("_", " ")), case)
