"""The sandbox viewer in a real headless Chromium: what a person opening the demo would see."""

from __future__ import annotations

import shutil
import subprocess
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from html.parser import HTMLParser
from pathlib import Path
from typing import Any
from urllib.parse import quote
from zoneinfo import ZoneInfo

import pytest
from slack_sdk import WebClient

from coalition.ledger import open_ledger
from coalition.ledger.tables.intake import IntakeRecord, Referral
from coalition.ledger.tables.roster import Partner
from coalition.settings import settings
from coalition.summary.weeks import last_complete_week
from flows.weekly_summary import weekly_summary
from sandbox.app import Sandbox
from sandbox.runner import RunningSandbox, start_in_thread
from sandbox.seed.intake import HOSTILE_FORMULA

CHROMIUM = next(
    (
        found
        for name in ("chromium", "chromium-browser", "google-chrome", "/usr/bin/chromium")
        if (found := shutil.which(name))
    ),
    None,
)
pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(
        CHROMIUM is None,
        reason="no headless Chromium on PATH (install it with: apt-get install -y chromium)",
    ),
]
HOSTILE_CITY = "<script>alert('intake')</script>"


class _Parsed(HTMLParser):
    """Start tags with their attributes, and all text, of a dumped DOM."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: list[tuple[str, dict[str, str]]] = []
        self.chunks: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, {k: v or "" for k, v in attrs}))

    def handle_data(self, data: str) -> None:
        self.chunks.append(data)


class _Scoped(HTMLParser):
    """The text inside every element of one kind (and class), nested ones included."""

    def __init__(self, tag: str, css_class: str | None) -> None:
        super().__init__(convert_charrefs=True)
        self.tag, self.css_class = tag, css_class
        self.depth = 0
        self.found: list[tuple[dict[str, str], str]] = []

    def handle_starttag(self, name: str, attrs: list[tuple[str, str | None]]) -> None:
        values = {k: v or "" for k, v in attrs}
        if self.depth:
            self.depth += name == self.tag
        elif name == self.tag and (
            self.css_class is None or self.css_class in values.get("class", "").split()
        ):
            self.depth = 1
            self.found.append((values, ""))

    def handle_endtag(self, name: str) -> None:
        if self.depth and name == self.tag:
            self.depth -= 1

    def handle_data(self, data: str) -> None:
        if self.depth:
            attrs, text = self.found[-1]
            self.found[-1] = (attrs, text + data)


class Page:
    """A page as the browser built it: its elements and the text a person reads."""

    def __init__(self, dom: str) -> None:
        self.dom = dom
        parsed = _Parsed()
        parsed.feed(dom)
        self.tags = parsed.tags
        self.text = "".join(parsed.chunks)

    def elements(self, tag: str, css_class: str | None = None) -> list[tuple[dict[str, str], str]]:
        scoped = _Scoped(tag, css_class)
        scoped.feed(self.dom)
        return scoped.found

    def texts_of(self, tag: str, css_class: str | None = None) -> list[str]:
        return [text for _, text in self.elements(tag, css_class)]

    def link(self, text: str) -> str:
        return next(attrs["href"] for attrs, shown in self.elements("a") if shown == text)


def open_page(url: str, profile: Path) -> Page:
    """Load the URL in headless Chromium and parse the DOM it built."""
    assert CHROMIUM is not None
    try:
        result = subprocess.run(
            [
                CHROMIUM,
                "--headless",
                "--no-sandbox",
                "--disable-gpu",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
                "--no-first-run",
                f"--user-data-dir={profile}",
                "--dump-dom",
                url,
            ],
            capture_output=True,
            text=True,
            timeout=45,
            check=False,
        )
    except subprocess.TimeoutExpired:
        pytest.fail(f"{url} did not finish loading in 45 s (a script's alert() would block it)")
    assert result.returncode == 0 and "<html" in result.stdout, result.stderr[-2000:]
    return Page(result.stdout)


@pytest.fixture(scope="module")
def served() -> Iterator[RunningSandbox]:
    running = start_in_thread(Sandbox(seed="demo"))
    try:
        _post_slack_messages(running)
        _write_document(running.sandbox)
        yield running
    finally:
        running.stop()


@pytest.fixture
def profile(tmp_path: Path) -> Path:
    return tmp_path / "chromium-profile"


def _post_slack_messages(running: RunningSandbox) -> None:
    """What the bot posts (through the real Web API client) and a person's reply in the thread."""
    client = WebClient(token="sandbox-token", base_url=f"{running.url}/api/")
    channel = settings().services.slack.channels.intake_triage
    staff = settings().access.staff[0]
    posted = client.chat_postMessage(
        channel=channel,
        text="New case for triage: &lt;!channel&gt; typed by a person",
        blocks=[
            {"type": "header", "text": {"type": "plain_text", "text": "Case needs triage"}},
            {
                "type": "section",
                "text": {"type": "mrkdwn", "text": "Typed by a person: &lt;!channel&gt; &amp; more"},
                "fields": [{"type": "mrkdwn", "text": "*Language*\nSpanish"}],
            },
            {
                "type": "actions",
                "elements": [
                    {"type": "button", "text": {"type": "plain_text", "text": "Accept"},
                     "style": "primary", "action_id": "accept", "value": "R-1"},
                    {"type": "button", "text": {"type": "plain_text", "text": "Decline"},
                     "style": "danger", "action_id": "decline", "value": "R-1"},
                ],
            },
            {"type": "context", "elements": [{"type": "mrkdwn", "text": "Referral R-1"}]},
        ],
    )  # fmt: skip
    slack = running.sandbox.services["slack"]
    slack.post_message(channel, "Taking this one.", thread_ts=posted["ts"], user=staff)
    client.chat_postEphemeral(channel=channel, user=staff, text="Only you can see this hint.")
    client.chat_postMessage(channel=channel, text="<!channel> an unescaped ping")


def _write_document(sandbox: Sandbox) -> None:
    docs = sandbox.services["docs"]
    doc_id = docs.create_document("Weekly summary 2026-W10")
    docs.batch_update(
        doc_id,
        [{"insertText": {"location": {"index": 1}, "text": "Total raised <b>$4,210</b>\n"}}],
    )


def _formula_sheet(sandbox: Sandbox) -> str:
    """A sheet with one formula typed by a person (USER_ENTERED), next to plain values."""
    sheets = sandbox.services["sheets"]
    sheet_id = sheets.create_spreadsheet("Formula check", {"Sums": [["a", "b"]]})
    sheets.set_values(sheet_id, "Sums", [["2", "=1+2"]], value_input_option="USER_ENTERED")
    return sheet_id


# ---------------------------------------------------------------- pages
def test_overview_lists_tables_sheets_and_channels(served: RunningSandbox, profile: Path) -> None:
    page = open_page(served.url + "/", profile)
    links = page.texts_of("a")
    for table in ("Members", "Contacts", "Campaigns", "Bills", "Donations", "Activities"):
        assert table in links
    assert "Intake" in links and "Member Directory" in links
    assert "Weekly summaries" in page.text and "Partner referrals" in page.text
    assert "#intake-triage" in links and "#organizing-southwest" in links


def test_airtable_table_shows_records_as_a_grid(served: RunningSandbox, profile: Path) -> None:
    index = open_page(served.url + "/", profile)
    page = open_page(served.url + index.link("Members"), profile)
    headers = page.texts_of("th")
    assert {"Name", "Counties", "Accepting referrals", "Referral sheet"} <= set(headers)
    cells = page.texts_of("td")
    assert "Riverbend Immigrant Legal Aid" in cells
    assert len(page.texts_of("tr")) == 41  # the header and 40 members


def test_intake_tab_shows_its_header_and_hostile_cells_as_text(
    served: RunningSandbox, profile: Path
) -> None:
    sheets = served.sandbox.services["sheets"]
    intake_id = sheets.find_by_title("Intake")
    page = open_page(f"{served.url}/view/sheets/{intake_id}?tab={quote('Form Responses')}", profile)
    cells = page.texts_of("td")
    for header in ("Full name", "Preferred language", "Help needed", "Intake ID", "Staff notes"):
        assert header in cells
    assert HOSTILE_CITY in cells  # shown as text...
    assert not any(tag == "script" for tag, _ in page.tags)  # ...and never run
    # The form's text that looks like a formula was stored as text: shown, not marked.
    assert HOSTILE_FORMULA in cells
    assert not any("formula" in attrs.get("class", "") for _, attrs in page.tags)


def test_formulas_are_marked(served: RunningSandbox, profile: Path) -> None:
    page = open_page(f"{served.url}/view/sheets/{_formula_sheet(served.sandbox)}", profile)
    marked = [a for tag, a in page.tags if tag == "td" and "formula" in a.get("class", "")]
    assert [a["title"] for a in marked] == ["formula: =1+2"]
    assert page.texts_of("td", "formula") == ["fx3"]


def test_slack_channel_renders_blocks_threads_and_ephemerals(
    served: RunningSandbox, profile: Path
) -> None:
    page = open_page(f"{served.url}/view/slack/intake-triage", profile)
    assert page.texts_of("h1") == ["#intake-triage"]
    assert "Case needs triage" in page.texts_of("div", "header")
    buttons = {text: attrs for attrs, text in page.elements("button")}
    assert set(buttons) == {"Accept", "Decline"}
    assert "primary" in buttons["Accept"]["class"] and "disabled" in buttons["Accept"]
    # What the bot escaped shows as the characters a person typed, never as a ping.
    assert any(
        "Typed by a person: <!channel> & more" in t for t in page.texts_of("div", "section-text")
    )
    pings = page.texts_of("span", "ping")
    assert pings == ["@channel"]  # only the message that really pings everyone
    replies = page.texts_of("div", "replies")
    assert (
        len(replies) == 1 and "Taking this one." in replies[0] and "Odalys Brennwater" in replies[0]
    )
    ephemeral = page.texts_of("div", "ephemeral")
    assert len(ephemeral) == 1 and "Only visible to Odalys Brennwater" in ephemeral[0]


def test_documents_render_with_their_text_escaped(served: RunningSandbox, profile: Path) -> None:
    docs = served.sandbox.services["docs"]
    doc_id = next(d["documentId"] for d in docs.list_documents())
    page = open_page(f"{served.url}/view/docs/{doc_id}", profile)
    assert page.texts_of("h1") == ["Weekly summary 2026-W10"]
    assert "Total raised <b>$4,210</b>" in page.texts_of("article")[0]
    assert not any(tag == "b" for tag, _ in page.tags)


def test_unknown_things_get_a_not_found_page(served: RunningSandbox, profile: Path) -> None:
    page = open_page(f"{served.url}/view/slack/no-such-channel", profile)
    assert page.texts_of("h1") == ["Not found"]


# ---------------------------------------------------------------- the dashboard's charts
def _is_number(text: str) -> bool:
    try:
        float(text.replace(",", ""))
    except ValueError:
        return False
    return True


def _numbers(rows: list[list[str]], columns: range, first: int, end: int) -> int:
    """How many cells of these rows and columns hold a number (what a chart draws a mark for)."""
    return sum(
        1
        for row in rows[first:end]
        for col in columns
        if col < len(row) and row[col] != "" and _is_number(row[col])
    )


@pytest.mark.timeout(600)
def test_the_demo_dashboard_shows_its_four_charts_drawn_from_their_data(
    demo: Any, profile: Path
) -> None:
    """After the weekly run, a person opening the dashboard sees four charts with every value drawn."""
    _plant_referrals()
    weekly_summary()
    sheets = demo.services["sheets"]
    spreadsheet_id = sheets.find_by_title(settings().services.sheets.dashboard)
    page = open_page(f"{demo.url}/view/sheets/{spreadsheet_id}/charts", profile)
    figures = {
        text.split(" on tab ")[0].strip(): attrs for attrs, text in page.elements("figcaption")
    }
    assert len(figures) == 4, figures
    svgs = [attrs for tag, attrs in page.tags if tag == "svg"]
    assert sorted(a["data-kind"] for a in svgs) == ["BAR", "BAR", "COLUMN", "LINE"]
    # Each chart's marks, counted in the DOM Chromium built, against the tab's own values.
    giving = sheets.get_values(spreadsheet_id, "Weekly giving")
    outcomes = sheets.get_values(spreadsheet_id, "Referral outcomes")
    answer = sheets.get_values(spreadsheet_id, "Time to answer")
    need = sheets.get_values(spreadsheet_id, "Unmet need by county")
    expected = {
        "LINE": _numbers(giving, range(2, 3), 1, 53),
        "COLUMN": _numbers(outcomes, range(1, 6), len(outcomes) - 12, len(outcomes)),
        "BAR": sorted([_numbers(answer, range(1, 3), 1, len(answer)),
                       _numbers(need, range(1, 2), 1, len(need) - 1)]),
    }  # fmt: skip
    marks = _marks_per_chart(page.dom)
    assert marks["LINE"] == ("point", expected["LINE"]) and expected["LINE"] > 0
    assert marks["COLUMN"] == ("bar", expected["COLUMN"]) and expected["COLUMN"] == 60
    assert sorted(n for kind, (_, n) in marks.items() if kind.startswith("BAR")) == expected["BAR"]
    assert min(expected["BAR"]) > 0
    # Titles, axis titles and the legend a person reads.
    texts = page.text
    for words in ("Weekly giving (52 weeks)", "Referrals by outcome (12 weeks)", "Raised ($)",
                  "Accepted", "Declined", "Awaiting answer", "People waitlisted", "Hours"):  # fmt: skip
        assert words in texts
    legends = page.texts_of("g", "legend-item")
    assert legends[1:6] == ["Accepted", "Declined", "Expired", "Unreachable", "Awaiting answer"]


def _marks_per_chart(dom: str) -> dict[str, tuple[str, int]]:
    """Chart kind (BAR, BAR2 for the second) -> (mark element, how many) in each <svg>."""
    out: dict[str, tuple[str, int]] = {}
    for chunk in dom.split("<svg")[1:]:
        body = chunk.split("</svg>")[0]
        kind = body.split('data-kind="')[1].split('"')[0]
        points, bars = body.count('class="point"'), body.count('class="bar"')
        key = kind if kind not in out else f"{kind}2"
        out[key] = ("point", points) if kind == "LINE" else ("bar", bars)
    return out


def _plant_referrals() -> None:
    """Referrals answered in the last complete week, and waitlisted cases: what the charts show."""
    tz = ZoneInfo(settings().services.timezone)
    monday = last_complete_week(datetime.now(UTC), tz).start(tz)
    with open_ledger().session() as session:
        for p in range(2):
            session.merge(Partner(member_id=f"recPARTNERV{p}", name=f"Legal Aid V{p}"))
            for n in range(6):
                iid = f"INT-V{p}-{n:03d}"
                session.add(IntakeRecord(intake_id=iid, status="accepted", category="asylum",
                                         received_at=monday + timedelta(hours=n)))  # fmt: skip
                session.flush()
                session.add(Referral(referral_id=f"R-V{p}-{n:03d}", intake_id=iid,
                                     partner_id=f"recPARTNERV{p}",
                                     state="accepted" if n % 2 else "declined",
                                     decline_reason=None if n % 2 else "no_capacity",
                                     created_at=monday + timedelta(hours=n),
                                     written_at=monday + timedelta(hours=n),
                                     decided_at=monday + timedelta(hours=n + 3 + p)))  # fmt: skip
        # Two counties with some history: a protected-category count (0 here) is always withheld,
        # so a county's total is shown only where a small regular cell of its row is withheld
        # with it, in this month and in the months before (coalition/summary/need.py).
        mix = [("Harris County", "asylum", 8, 0), ("Harris County", "work permit", 3, 0),
               ("Harris County", "asylum", 6, 60), ("Harris County", "work permit", 2, 60),
               ("Dallas County", "asylum", 7, 0), ("Dallas County", "work permit", 2, 0),
               ("Dallas County", "asylum", 6, 60), ("Dallas County", "work permit", 3, 60)]  # fmt: skip
        n = 0
        for county, category, count, days_back in mix:
            for k in range(count):
                n += 1
                session.add(IntakeRecord(intake_id=f"INT-VW-{n:03d}", status="waitlist",
                                         category=category, place=county, language="Spanish",
                                         reason_code="no_capacity",
                                         received_at=monday + timedelta(days=6 - days_back, hours=2 + k)))  # fmt: skip
