"""A partner's referral sheet as the partner has it: find it from what staff typed, pick its tab, make it ready.

Shared by intake routing (delivery), referral follow-up (answers, closing), roster
sync (the check behind a partner's Data issues) and doctor. The rules of which tab
are in coalition/partner_sheets.py; this module only reads and, when asked, adds
the tab or the missing header cells. Requests: one values:batchGet when the
configured tab exists; otherwise one metadata read and one batchGet of every tab,
plus one batchUpdate to add a tab or one values:batchUpdate to add header cells.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from coalition.intake.sheet_rows import REFERRAL_COLUMNS
from coalition.partner_sheets import CAUSES, UNREACHABLE_PREFIX, TabChoice, TabSample, choose_tab
from coalition.references import GoogleRef, parse_google
from coalition.sheet_table import quote_tab
from integrations.sheets import (
    SheetsError,
    Tab,
    add_tab,
    find_spreadsheet,
    sample_tabs,
    write_ranges,
)


class PartnerSheetProblem(Exception):
    """The partner's sheet cannot take referrals; `cause` is a CAUSES code, `detail` says more."""

    def __init__(self, cause: str, detail: str = "") -> None:
        super().__init__(f"{CAUSES[cause]}" + (f" ({detail})" if detail else ""))
        self.cause = cause
        self.detail = detail


@dataclass(frozen=True)
class ReferralTab:
    """Where a partner's referrals go and the header they are written under."""

    tab: Tab
    header: tuple[str, ...]
    needs_header: bool = False  # an empty tab: write the header with the first rows
    created: bool = False  # this call added the tab
    missing: bool = False  # the tab is still to be added (asked not to prepare)
    columns_added: tuple[str, ...] = ()
    how: str = ""


def sheet_cause(exc: BaseException) -> str:
    """The CAUSES code of a refusal by a partner's sheet."""
    if isinstance(exc, PartnerSheetProblem):
        return exc.cause
    status = getattr(exc, "status", None)
    if status == 404:
        return "not_found"
    if status in (401, 403):
        return "not_shared"
    return "refused_write"


def parse_reference(reference: str | None) -> GoogleRef:
    ref = parse_google(reference, "spreadsheet")
    if not isinstance(ref, GoogleRef):
        detail = ref.why if ref is not None else "blank"
        raise PartnerSheetProblem("bad_reference", detail)
    return ref


def open_referral_tab(
    client: Any, reference: str | None, label: str, configured: str, prepare: bool = True
) -> ReferralTab:
    """The tab that takes `label`'s referrals; with `prepare`, add the tab or header cells it lacks.

    Raises PartnerSheetProblem for a cause staff must fix, SheetsError (transient)
    for one a later run may not see.
    """
    ref = parse_reference(reference)
    try:
        spreadsheet_id = find_spreadsheet(client, ref)
        choice, samples = _choose(client, spreadsheet_id, ref.gid, configured)
        if not choice.usable:
            raise PartnerSheetProblem(str(choice.cause), f"tab '{configured}' holds other data")
        title = str(choice.title)
        created = False
        gid = next((s.sheet_id for s in samples if s.title == title), 0)
        if choice.create and prepare:
            gid = add_tab(client, spreadsheet_id, title)
            created = True
        tab = Tab(spreadsheet_id, label, gid, title)
        if choice.add_columns and prepare:
            _add_header_cells(client, tab, choice)
    except SheetsError as exc:
        if exc.transient:
            raise
        raise PartnerSheetProblem(sheet_cause(exc), str(exc)[:200]) from None
    return ReferralTab(
        tab,
        choice.header,
        needs_header=choice.write_header or choice.create,
        created=created,
        missing=choice.create and not prepare,
        columns_added=choice.add_columns,
        how=choice.how,
    )


def _choose(
    client: Any, spreadsheet_id: str, gid: int | None, configured: str
) -> tuple[TabChoice, list[TabSample]]:
    """The common case in one request (the configured tab exists); else every tab is looked at."""
    if gid is None:
        try:
            _, samples = sample_tabs(client, spreadsheet_id, [configured])
        except SheetsError as exc:
            if exc.status != 400:  # 400: no tab of that name
                raise
        else:
            return choose_tab(samples, configured, None, REFERRAL_COLUMNS), samples
    _, samples = sample_tabs(client, spreadsheet_id)
    return choose_tab(samples, configured, gid, REFERRAL_COLUMNS), samples


def _add_header_cells(client: Any, tab: Tab, choice: TabChoice) -> None:
    start = len(choice.header) - len(choice.add_columns)
    first = _column(start)
    last = _column(len(choice.header) - 1)
    write_ranges(
        client,
        tab,
        [
            {
                "range": f"{quote_tab(tab.title)}!{first}1:{last}1",
                "values": [list(choice.add_columns)],
            }
        ],
    )


def _column(index: int) -> str:
    """0 -> A, 25 -> Z, 26 -> AA."""
    name = ""
    index += 1
    while index:
        index, rest = divmod(index - 1, 26)
        name = chr(65 + rest) + name
    return name


__all__ = [
    "UNREACHABLE_PREFIX",
    "PartnerSheetProblem",
    "ReferralTab",
    "open_referral_tab",
    "parse_reference",
    "sheet_cause",
]
