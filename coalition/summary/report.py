"""The weekly summary assembled (pure): every section's figures, the data notes, and what the template needs.

`Summary` is the one object the document template reads. It holds figures only:
counts, sums, medians, category labels, public bill data and organization-level
activity types. Donor names appear in it only when config turns the top-donors list
on, and then only for donors who never gave anonymously.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime

from coalition.summary.community import Activities, Advocacy, Membership, group_counts
from coalition.summary.donations import PROBLEMS, Fundraising, RecordProblem
from coalition.summary.evidence import Evidence
from coalition.summary.intake_metrics import IntakeMetrics
from coalition.summary.weeks import IsoWeek

CONSEQUENCE = {
    "amount": "they are not counted",
    "date": "they are in no week's figures",
    "attendees": "their events are counted, their attendance is not",
    "no": "they count in every total, not as new or returning donors",
}


def title_for(week: IsoWeek) -> str:
    """'Weekly summary 2026-W48 (Nov 23 - Nov 29)': the Doc's title and file name."""
    return f"Weekly summary {week.label} ({week.range_label()})"


def title_prefix(week: IsoWeek) -> str:
    """What every title of this week starts with, to find the document again in Drive."""
    return f"Weekly summary {week.label} ("


@dataclass
class Summary:
    week: IsoWeek
    timezone: str
    generated: datetime  # in the org's time zone
    complete: bool
    fundraising: Fundraising
    intake: IntakeMetrics
    membership: Membership
    advocacy: Advocacy
    activities: Activities
    notes: list[str] = field(default_factory=list)
    threshold: int = 5
    evidence: Evidence | None = None  # Referrals and Unmet need (from the ledger)

    @property
    def title(self) -> str:
        return title_for(self.week)

    @property
    def generated_label(self) -> str:
        return f"{self.generated:%b} {self.generated.day}, {self.generated:%Y} at {self.generated:%H:%M}"

    @property
    def empty(self) -> bool:
        """Nothing at all happened in the week: no gift or refund, no intake, no event, no bill moved."""
        return (
            self.fundraising.this.empty
            and self.intake.empty
            and self.activities.events == 0
            and not self.advocacy.moved
            and self.advocacy.alerts_sent == 0
            and self.membership.joined == 0
        )

    def headline(self) -> dict[str, str]:
        """The few figures the Slack message repeats (counts and sums only)."""
        this = self.fundraising.this
        return {
            "raised": f"${this.raised:,.2f}",
            "gifts": f"{this.gifts:,}",
            "new_donors": f"{this.new_donors:,}",
            "intakes": f"{self.intake.received:,}",
            "events": f"{self.activities.events:,}",
        }


def data_notes(problems: Iterable[RecordProblem], notes: Sequence[str] = ()) -> list[str]:
    """One sentence per kind of problem, with its count (never a value, never a record's content)."""
    sentences = []
    for (table, problem), count in sorted(group_counts(problems).items()):
        what = PROBLEMS.get(problem, problem.replace("_", " "))
        record = "record" if count == 1 else "records"
        verb = "has" if count == 1 else "have"
        consequence = CONSEQUENCE.get(problem.split("_", 1)[0], "they are not counted")
        sentences.append(f"{count:,} {table} {record} {verb} {what}: {consequence}.")
    return sentences + list(notes)


def run_notes(money: Fundraising, undated_intakes: int = 0, notes: Sequence[str] = ()) -> list[str]:
    """Notes on how this week's figures were made: refunds, gifts naming nobody, checks not made."""
    out = list(notes)
    this = money.this
    if this.refunds:
        plural = this.refunds != 1
        out.append(
            f"{this.refunds:,} negative {'amounts were' if plural else 'amount was'} read as "
            f"{'refunds' if plural else 'a refund'} and shown apart from gifts."
        )
    if this.unidentified_gifts:
        out.append(
            f"{this.unidentified_gifts:,} of this week's gifts name no donor (no name, no e-mail): "
            "they count in every total, not as new or returning donors."
        )
    if undated_intakes:
        out.append(
            f"{undated_intakes:,} intake requests in the ledger have no received time and are in "
            "no week's intake figures."
        )
    return out


__all__ = ["Summary", "data_notes", "run_notes", "title_for", "title_prefix"]
