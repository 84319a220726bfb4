"""Why an intake went where it went: partners considered, closest first, what excluded each, why the winner won (pure).

Built from what the ledger keeps of a decision (partner ids, rule codes, fit scores,
the broad category, county and language), so it carries no personal data. What a
person reads names partners and reasons in words: no record ids, no rule codes.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from coalition.intake import classify
from coalition.intake.matching import RULES
from coalition.intake.models import STAFF_CHOICE

STATUS_WORDS = {
    "review": "needs review",
    "duplicate": "is a duplicate",
    "triage": "is with staff triage",
    "waitlist": "is on the waitlist",
    "suggested": "has a suggestion waiting for approval",
    "approved": "was approved and is being routed",
    "routing": "is being delivered",
    "reroute": "is being re-routed",
    "referred": "was referred",
    "accepted": "was accepted",
}
REFERRAL_WORDS = {
    "claimed": "being delivered",
    "written": "in the partner's sheet",
    "notified": "waiting for the partner's answer",
    "accepted": "accepted",
    "declined": "declined",
    "expired": "expired without an answer",
    "failed": "could not be delivered",
}
UNKNOWN_PARTNER = "a partner no longer in the directory"
LANGUAGE_FIT = {
    3: "speaks their language",
    2: "speaks another of their languages",
    1: "through an interpreter",
}
GEO_FIT = {
    3: "serves their county",
    2: "serves their whole state",
    1: "serves their state remotely",
}


@dataclass(frozen=True)
class Considered:
    """One partner weighed for the case."""

    partner_id: str  # kept for code and tests; never shown
    name: str
    fits: bool
    rule: str | None  # the rule code that excluded it; never shown
    why: str  # in words

    def line(self) -> str:
        mark = "fits" if self.fits else "excluded"
        return f"{self.name}: {mark}: {self.why}"


@dataclass(frozen=True)
class Explanation:
    """The answer to `/coalition why INTAKE-ID`."""

    intake_id: str
    status: str
    summary: str
    winner_reason: str | None = None
    considered: tuple[Considered, ...] = ()
    history: tuple[str, ...] = field(default_factory=tuple)

    def lines(self) -> list[str]:
        out = [self.summary]
        if self.winner_reason:
            out.append(f"Why this partner: {self.winner_reason}")
        if self.considered:
            out.append(f"Partners considered ({len(self.considered)}), closest first:")
            out += [f"- {c.line()}" for c in self.considered]
        out += [f"History: {h}" for h in self.history]
        return out

    def text(self) -> str:
        return "\n".join(self.lines())


def _context(evaluation: Mapping[str, Any]) -> dict[str, str]:
    return {
        "category": classify.label(evaluation.get("category")),
        "place": evaluation.get("place") or "this area",
        "language": evaluation.get("language") or "their language",
    }


def _fit_words(record: Mapping[str, Any]) -> str:
    parts = [
        LANGUAGE_FIT.get(int(record.get("language_fit") or 0), "no shared language"),
        GEO_FIT.get(int(record.get("geo_fit") or 0), "outside its area"),
        f"{record.get('capacity_left', 0)} slots left at routing",
    ]
    return ", ".join(parts)


def _rank(record: Mapping[str, Any]) -> tuple[int, int, int, str]:
    return (
        -int(record.get("language_fit") or 0),
        -int(record.get("geo_fit") or 0),
        -int(record.get("capacity_left") or 0),
        str(record.get("partner")),
    )


def _failed(record: Mapping[str, Any]) -> list[str]:
    rule = record.get("rule")
    return list(record.get("failed") or ([rule] if rule else []))


def _closeness(record: Mapping[str, Any], chosen: str | None) -> tuple:
    """The chosen partner, then the others that fit (ranked), then the excluded by fewest rules failed."""
    return (record.get("partner") != chosen, len(_failed(record)), _rank(record))


def _excluded_words(record: Mapping[str, Any], context: Mapping[str, str]) -> str:
    """Every rule the partner failed, in words: "does not serve Dallas County; does not offer DACA"."""
    return "; ".join(
        RULES.get(rule, str(rule).replace("_", " ")).format(**context) for rule in _failed(record)
    )


def why_winner(
    chosen: Mapping[str, Any], others: Sequence[Mapping[str, Any]], reason_code: str | None
) -> str:
    """Why the chosen partner beat the runner-up, in the ranking's own terms."""
    if reason_code == STAFF_CHOICE:
        return "chosen by staff"
    if not others:
        return "the only partner that fits"
    runner = sorted(others, key=_rank)[0]
    if chosen.get("language_fit", 0) > runner.get("language_fit", 0):
        return "the best language fit among the partners that fit"
    if chosen.get("geo_fit", 0) > runner.get("geo_fit", 0):
        return "the closest to the person among equally good language fits"
    if chosen.get("capacity_left", 0) > runner.get("capacity_left", 0):
        return "the most capacity left among equally good fits"
    if _rank(chosen) > _rank(runner):
        return "an approved suggestion that still fits"
    return "an exact tie with the next partner, broken by a fixed order"


def explain(
    intake_id: str,
    status: str,
    reason: str | None,
    evaluation: Mapping[str, Any] | None,
    partner_names: Mapping[str, str],
    referrals: Sequence[Mapping[str, Any]] = (),
) -> Explanation:
    """The explanation of one intake's routing, from its ledger record and referral history."""
    names = dict(partner_names)
    evaluation = evaluation or {}
    words = STATUS_WORDS.get(status, status)
    summary = f"{intake_id} {words}" + (f": {reason}" if reason else "")
    records = list(evaluation.get("considered") or [])
    context = _context(evaluation)
    chosen_id = evaluation.get("chosen")
    considered: list[Considered] = []
    for record in sorted(records, key=lambda r: _closeness(r, chosen_id)):
        partner = str(record.get("partner"))
        rule = record.get("rule")
        why = _excluded_words(record, context) if rule else _fit_words(record)
        if partner == chosen_id:
            why += " (chosen)"
        name = names.get(partner, UNKNOWN_PARTNER)
        considered.append(Considered(partner, name, rule is None, rule, why))
    winner_reason = None
    if chosen_id:
        chosen = next((r for r in records if r.get("partner") == chosen_id), None)
        fitting = [r for r in records if r.get("rule") is None and r.get("partner") != chosen_id]
        if chosen is not None:
            winner_reason = why_winner(chosen, fitting, evaluation.get("reason_code"))
    history = tuple(
        f"{r['referral_id']} to {names.get(r['partner_id'], UNKNOWN_PARTNER)}: "
        + REFERRAL_WORDS.get(r["state"], str(r["state"]).replace("_", " "))
        for r in referrals
    )
    return Explanation(intake_id, status, summary, winner_reason, tuple(considered), history)
