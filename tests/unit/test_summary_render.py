"""The weekly document's template: every section and definition, hostile values kept literal, no names unless asked."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from coalition.privacy import find_pii
from coalition.summary.community import activities, advocacy, membership
from coalition.summary.document import BulletList, Paragraph, Table
from coalition.summary.donations import ANONYMOUS_LABEL, fundraising, read_gifts
from coalition.summary.intake_metrics import intake_metrics
from coalition.summary.render import count, render_document, usd
from coalition.summary.report import Summary, data_notes, run_notes, title_for
from coalition.summary.weeks import IsoWeek, Window
from coalition.templating import render_message, validate_blocks

NY = ZoneInfo("America/New_York")
W48 = IsoWeek(2026, 48)
HOSTILE = "**Gala** | [click](https://evil.example) <script>"


@dataclass
class Row:
    intake_id: str
    received_at: datetime | None
    status: str
    category: str | None
    routed_at: datetime | None = None


def _summary(
    records: list[dict], top: int | None = None, intakes: list[Row] | None = None
) -> Summary:
    gifts, problems = read_gifts(records, NY)
    window = Window.ending(W48)
    bills = [
        {
            "fields": {
                "Bill": "HB 7",
                "Jurisdiction": "Texas",
                "Last action": "Filed",
                "Last action date": "2026-11-24",
                "Source URL": "https://capitol.example/bills/hb-7_(2026)",
            }
        }
    ]
    money = fundraising(gifts, window, top=top)
    acts, act_problems = activities(
        [{"id": "a1", "fields": {"Date": "2026-11-24", "Type": "Rally", "Attendees": 40}}], W48, NY
    )
    return Summary(
        week=W48,
        timezone="America/New_York",
        generated=datetime(2026, 11, 30, 8, tzinfo=NY),
        complete=True,
        fundraising=money,
        intake=intake_metrics(intakes or [], [], W48, NY),
        membership=membership([], W48, NY),
        advocacy=advocacy(bills, [], W48, NY),
        activities=acts,
        notes=data_notes([*problems, *act_problems], run_notes(money)),
    )


def _records() -> list[dict]:
    return [
        {
            "id": "r1",
            "fields": {
                "Donor": "Ana Ruiz",
                "Email": "ana@example.org",
                "Amount": "$1,200.50",
                "Date": "2026-11-24",
                "Campaign": HOSTILE,
            },
        },
        {
            "id": "r2",
            "fields": {
                "Donor": "Ben Cole",
                "Amount": "75",
                "Date": "2026-11-25",
                "Anonymous": True,
            },
        },
        {"id": "r3", "fields": {"Amount": "1.200", "Date": "2026-11-25"}},
        {"id": "r4", "fields": {"Amount": "-50.00", "Date": "2026-11-26", "Donor": "Ana Ruiz"}},
        {"id": "r5", "fields": {"Amount": "20", "Date": "2026-11-16", "Donor": "Cy"}},
    ]


def _text(summary: Summary) -> str:
    return render_document(summary).plain_text()


def test_every_section_is_there_with_its_definitions() -> None:
    doc = render_document(_summary(_records()))
    headings = [b.text for b in doc.blocks if isinstance(b, Paragraph) and b.style == "HEADING_1"]
    assert headings == [
        "At a glance",
        "Fundraising",
        "Intake and referrals",
        "Membership",
        "Advocacy",
        "Activities",
        "Data notes",
    ]
    assert doc.title == title_for(W48) == "Weekly summary 2026-W48 (Nov 23 - Nov 29)"
    text = doc.plain_text()
    for phrase in (
        "New donors: donors whose first gift ever",
        "Median time: hours",
        "4-week average is the mean",
    ):
        assert phrase in text
    assert any(isinstance(b, Table) for b in doc.blocks) and any(
        isinstance(b, BulletList) for b in doc.blocks
    )


def test_figures_and_notes_in_the_document() -> None:
    text = _text(_summary(_records()))
    assert "$1,275.50" in text  # 1,200.50 + 75, the anonymous gift included
    assert "1 Donations record has an ambiguous amount" in text
    assert "1 negative amount was read as a refund and shown apart from gifts." in text
    assert "HB 7" in text and "Rally" in text


def test_hostile_values_stay_text() -> None:
    doc = render_document(_summary(_records()))
    assert HOSTILE in doc.plain_text()
    # The campaign's [click](...) never became a link; the bill's page did.
    assert doc.links() == ["https://capitol.example/bills/hb-7_(2026)"]


def test_no_donor_is_named_unless_the_list_is_on() -> None:
    text = _text(_summary(_records()))
    assert not any(name in text for name in ("Ana Ruiz", "Ben Cole", "ana@example.org"))
    assert not find_pii(text, {"Ana Ruiz", "Ben Cole", "ana@example.org", "Cy Young"})
    listed = _text(_summary(_records(), top=5))
    assert "Top donors this week" in listed and "Ana Ruiz" in listed
    assert "Ben Cole" not in listed and ANONYMOUS_LABEL in listed


def test_an_empty_week_says_so_plainly() -> None:
    summary = _summary([])
    summary = replace(
        summary, advocacy=advocacy([], [], W48, NY), activities=activities([], W48, NY)[0]
    )
    text = _text(summary)
    assert "Nothing was recorded for this week" in text
    assert "No gifts were recorded this week" in text
    assert "No intake requests were received this week" in text
    assert "No events were recorded this week" in text
    assert "Every record read for this summary could be counted." in text


def test_protected_categories_never_named() -> None:
    monday = datetime(2026, 11, 23, 15, tzinfo=UTC)
    intakes = [
        Row(f"I{n}", monday + timedelta(hours=n), "referred", c)
        for n, c in enumerate(["VAWA", "T visa", "asylum"] * 3)
    ]
    text = _text(_summary(_records(), intakes=intakes))
    assert "Protected categories" in text and "fewer than 5" in text
    assert "VAWA" not in text.replace("(VAWA, U, T)", "") and "T visa" not in text


def test_a_partial_week_is_flagged() -> None:
    summary = replace(_summary(_records()), complete=False)
    assert "This week is not over yet" in _text(summary)


@pytest.mark.parametrize(
    ("value", "shown"), [(None, "—"), (0, "$0.00"), (1234.5, "$1,234.50"), (-50, "-$50.00")]
)
def test_usd(value: object, shown: str) -> None:
    assert usd(value) == shown  # type: ignore[arg-type]


def test_count() -> None:
    assert (count(1234), count(12.25), count(None)) == ("1,234", "12.2", "—")


def test_slack_message() -> None:
    summary = _summary(_records())
    text, blocks = render_message(
        "slack/summary_link.json.j2",
        title=summary.title,
        url="https://docs.google.com/document/d/abc/edit",
        headline=summary.headline(),
        partial=False,
    )
    validate_blocks(blocks)
    assert summary.title in text and "https://docs.google.com/document/d/abc/edit" in str(blocks)
    assert "$1,275.50" in str(blocks) and "Ana" not in str(blocks)
