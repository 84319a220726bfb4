"""Which tab of a partner's own spreadsheet takes its referrals, and what must change there first (pure).

Partners have their sheets as they made them: a first tab "Sheet1" or "Hoja 1",
staff columns of their own, a link to one tab (`#gid=N`). The tab is, in order:
the tab config names (default `Referrals`); else the tab the link's gid names;
else the first tab whose header holds the Referral ID column; else a new tab with
the configured name and the referral header. A tab that holds anything else is
never written to. Referral columns a chosen tab lacks are added at the right end;
the partner's own columns stay where they are, and rows are written by header.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

# Causes of a partner sheet the bot cannot use, as staff read them in #ops-alerts
# and in the partner's Data issues. Codes are stable (they key alerts and findings).
CAUSES: dict[str, str] = {
    "bad_reference": "the Referral sheet field is not a link, id or title of a spreadsheet",
    "not_found": "the spreadsheet was not found (deleted, or not shared with the bot)",
    "not_shared": "the spreadsheet is not shared with the bot's account as Editor",
    "no_tab": "no tab can take referrals: the named tab holds other data",
    "refused_write": "the spreadsheet refused the bot's write",
}

# A referral the partner's sheet refused is failed with this prefix and the cause: the
# partner never had the case, so it is not "tried" and may get it once the sheet works.
UNREACHABLE_PREFIX = "sheet:"


@dataclass(frozen=True)
class TabSample:
    """One tab as its metadata and first rows show it."""

    title: str
    sheet_id: int
    rows: tuple[tuple[str, ...], ...] = ()

    @property
    def header(self) -> list[str]:
        return [str(c).strip() for c in self.rows[0]] if self.rows else []

    @property
    def empty(self) -> bool:
        return not any(str(c).strip() for row in self.rows for c in row)


@dataclass(frozen=True)
class TabChoice:
    """Where referrals go: an existing tab (`title`) or a new one (`create`), and the header it will have."""

    title: str | None
    header: tuple[str, ...] = ()
    create: bool = False
    add_columns: tuple[str, ...] = ()  # referral columns appended at the right end of row 1
    write_header: bool = False  # the tab is empty: the header goes in row 1 first
    how: str = ""
    cause: str | None = None  # a CAUSES code when no tab can be used
    skipped: tuple[str, ...] = field(default=())  # tabs passed over because they hold other data

    @property
    def usable(self) -> bool:
        return self.cause is None


def _fits(sample: TabSample, key_column: str) -> bool:
    return sample.empty or key_column in sample.header


def _use(sample: TabSample, columns: Sequence[str], how: str) -> TabChoice:
    if sample.empty:
        return TabChoice(sample.title, tuple(columns), write_header=True, how=how)
    header = sample.header
    missing = tuple(c for c in columns if c not in header)
    return TabChoice(sample.title, (*header, *missing), add_columns=missing, how=how)


def choose_tab(
    tabs: Sequence[TabSample], configured: str, gid: int | None, columns: Sequence[str]
) -> TabChoice:
    """The tab for referrals by the rules above; `columns[0]` is the column that marks a referral tab."""
    key = columns[0]
    skipped: list[str] = []
    named = next((t for t in tabs if t.title == configured), None)
    if named is not None:
        if _fits(named, key):
            return _use(named, columns, "configured tab")
        # The configured name is taken by other data: no new tab can have it either.
        return TabChoice(None, cause="no_tab", skipped=(named.title,), how="configured tab")
    if gid is not None:
        linked = next((t for t in tabs if t.sheet_id == gid), None)
        if linked is not None:
            if _fits(linked, key):
                return _use(linked, columns, "tab of the link")
            skipped.append(linked.title)
    for sample in tabs:
        if not sample.empty and key in sample.header:
            return _use(sample, columns, "tab with the referral header")
        if not sample.empty:
            skipped.append(sample.title)
    return TabChoice(
        configured,
        tuple(columns),
        create=True,
        how="new tab",
        skipped=tuple(dict.fromkeys(skipped)),
    )


def row_for_header(values: Mapping[str, Any], header: Sequence[str]) -> list[Any]:
    """A referral as one row of `header`: its values under their columns, partners' own columns blank."""
    row = [values.get(h, "") for h in header]
    while row and row[-1] == "":
        row.pop()
    return row


def cause_text(cause: str) -> str:
    return CAUSES.get(cause, cause)


__all__ = [
    "CAUSES",
    "UNREACHABLE_PREFIX",
    "TabChoice",
    "TabSample",
    "cause_text",
    "choose_tab",
    "row_for_header",
]
