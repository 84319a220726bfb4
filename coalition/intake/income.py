"""Income as a percent of the HHS poverty guideline for the household size (dated table in routing.yaml)."""

from __future__ import annotations

from coalition.settings import PovertyGuidelines


def guideline(household_size: int, state: str | None, table: PovertyGuidelines) -> int:
    """Yearly poverty guideline for a household in a state (Alaska and Hawaii have their own)."""
    line = table.line_for(state)
    return line.first + line.additional * (max(household_size, 1) - 1)


def percent_of_guideline(
    monthly_income: float | None,
    household_size: int | None,
    state: str | None,
    table: PovertyGuidelines,
) -> int | None:
    """Yearly income over the guideline, in whole percent (rounded up); None when income is not stated."""
    if monthly_income is None:
        return None
    yearly = monthly_income * 12
    line = guideline(household_size or 1, state, table)
    # Rounding up keeps a household just over a limit from slipping under it.
    return int(-(-yearly * 100 // line))
