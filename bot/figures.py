"""`/coalition needs` and `/coalition outcomes` answers (pure): the weekly Doc's figures, cut for one question.

`needs` shows rows of the unmet-need tables exactly as the weekly Doc computes and
withholds them for that month (coalition/summary/need.py): asking for a county or a
state selects rows, and never adds a subtotal the Doc does not show, so nothing can
be learnt here that the Doc's tables do not already say. `outcomes` shows one
partner's own referral figures, or, to staff, every partner with the small ones
pooled as in the Doc.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date

from bot.commands import Message
from coalition.intake.normalize import county_key
from coalition.places import USPS_STATES
from coalition.summary.evidence import hours_text
from coalition.summary.need import UnmetNeed
from coalition.summary.outcomes import PartnerOutcome, Tally
from coalition.summary.suppression import PROTECTED_THRESHOLD, Table
from coalition.templating import render_message

MAX_ROWS = 14  # 10 counties, "other counties", "not stated", a state's few more: one message


def resolve_month(month: str | None, today: date) -> date | None:
    """The first day of the month asked for ("0000-11": the latest November); None if it has not begun."""
    if month is None:
        return today.replace(day=1)
    year, number = (int(p) for p in month.split("-"))
    if year == 0:
        year = today.year if number <= today.month else today.year - 1
    first = date(year, number, 1)
    return None if first > today else first


def state_code(text: str) -> str | None:
    """'TX', 'tx' or 'Texas' -> 'TX'; None for anything else."""
    wanted = " ".join(text.split()).casefold()
    for code, name in USPS_STATES.items():
        if wanted in {code.casefold(), name.casefold()}:
            return code
    return None


def matching_rows(
    table: Table, place: str | None, county_states: Mapping[str, frozenset[str]]
) -> list[int]:
    """Indexes of the table's rows a county or state names (all rows, totals included, for none).

    A county is in a state when the partner directory says so (a partner of that state
    lists it); an intake that gave only a state is counted under the state's name.
    """
    if not place:
        return list(range(len(table.rows) + 1))
    code = state_code(place)
    key = county_key(place)
    found = []
    for i, label in enumerate(table.rows):
        if code is not None:
            named = state_code(label) == code or code in county_states.get(county_key(label), ())
        else:
            named = bool(key) and county_key(label) == key
        if named:
            found.append(i)
    return found


@dataclass(frozen=True)
class NeedRow:
    label: str
    total: str
    year_total: str
    cells: tuple[tuple[str, str], ...]  # (case type, count as shown), zeros left out


def need_rows(need: UnmetNeed, indexes: Sequence[int]) -> list[NeedRow]:
    """The month's county x case type rows as the Doc shows them, with their 12-month totals."""
    month, year = need.by_type_month, need.by_type_year
    rows = []
    for i in indexes[:MAX_ROWS]:
        label = month.rows[i] if i < len(month.rows) else "All counties"
        cells = tuple(
            (column, month.text(i, j))
            for j, column in enumerate(month.columns)
            if month.value(i, j) != 0
        )
        width = len(month.columns)
        rows.append(NeedRow(label, month.text(i, width), year.text(i, width), cells))
    return rows


def render_needs(need: UnmetNeed, place: str | None, indexes: Sequence[int]) -> Message:
    """The unmet-need rows asked for, the month's top gaps when nothing narrower was asked."""
    return render_message(
        "slack/bot_needs.json.j2",
        month=need.month_label,
        months=f"{need.months[0]:%b %Y} to {need.months[-1]:%b %Y}",
        place=place or "",
        rows=need_rows(need, indexes),
        hidden=max(len(indexes) - MAX_ROWS, 0),
        gaps=[] if place else [g.sentence("this month") for g in need.gaps],
        empty=need.empty_month,
        threshold=need.threshold,
        protected_threshold=PROTECTED_THRESHOLD,
        counties=list(need.by_type_month.rows)[:MAX_ROWS],
    )


def tally_pairs(tally: Tally) -> list[tuple[str, str]]:
    return [
        ("Referrals sent", f"{tally.sent:,}"),
        ("Accepted", f"{tally.accepted:,}"),
        ("Declined", f"{tally.declined:,}"),
        ("Expired (no answer in time)", f"{tally.expired:,}"),
        ("Still awaiting an answer", f"{tally.awaiting:,}"),
        ("Re-routed to this partner", f"{tally.rerouted:,}"),
        ("Median hours to answer", hours_text(tally.median_hours)),
        ("90th percentile hours", hours_text(tally.p90_hours)),
    ]


def render_outcomes(name: str, tally: Tally, since: date, until: date, weeks: int) -> Message:
    """One partner's own figures over the last `weeks` weeks."""
    reasons = sorted(tally.decline_reasons.items(), key=lambda kv: (-kv[1], kv[0]))
    return render_message(
        "slack/bot_outcomes.json.j2",
        partner=name,
        pairs=tally_pairs(tally),
        reasons=[(r, f"{n:,}") for r, n in reasons],
        since=since.isoformat(),
        until=until.isoformat(),
        weeks=weeks,
        partners=[],
    )


def render_all_outcomes(
    partners: Sequence[PartnerOutcome], since: date, until: date, weeks: int
) -> Message:
    """Every partner over the last `weeks` weeks, those under 5 referrals pooled (staff only)."""
    lines = [
        (
            p.name if p.partners == 1 else f"{p.name} ({p.partners:,})",
            f"sent {p.tally.sent:,} · accepted {p.tally.accepted:,} · declined {p.tally.declined:,}"
            f" · expired {p.tally.expired:,} · median {hours_text(p.tally.median_hours)} h",
        )
        for p in partners
    ]
    return render_message(
        "slack/bot_outcomes.json.j2",
        partner="",
        pairs=[],
        reasons=[],
        since=since.isoformat(),
        until=until.isoformat(),
        weeks=weeks,
        partners=lines[:20],
    )


__all__ = [
    "matching_rows",
    "need_rows",
    "render_all_outcomes",
    "render_needs",
    "render_outcomes",
    "resolve_month",
    "state_code",
]
