"""The demo seed's data, without a sandbox: deterministic, complete, and as messy as promised."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from datetime import date, datetime, timedelta

import phonenumbers
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from rapidfuzz import fuzz

from coalition.settings import PROJECT_ROOT, load_settings
from sandbox.seed import build_demo
from sandbox.seed.alerts import HOSTILE_CAMPAIGN_TEXT
from sandbox.seed.demo import DemoData, personal_values
from sandbox.seed.intake import BOT_COLUMNS, FORM_COLUMNS, HEADER, HOSTILE_FORMULA, RLO
from sandbox.seed.places import COUNTIES, STATE_NAMES, all_cities
from sandbox.seed.roster import LEGAL_AID, REFERRAL_HEADER

TODAY = date(2026, 3, 11)
CFG = load_settings(PROJECT_ROOT / "config")
FICTIONAL_PHONE = re.compile(r"555[\s.-]?01\d\d$")


@pytest.fixture(scope="module")
def demo() -> DemoData:
    return build_demo(TODAY, CFG)


def _digits(text: str) -> str:
    return re.sub(r"\D", "", text)


def _is_fictional_phone(text: str) -> bool:
    return bool(re.search(r"55501\d\d$", _digits(text)))


def _valid_phone(text: str) -> bool:
    try:
        number = phonenumbers.parse(text, "US")
    except phonenumbers.NumberParseException:
        return False
    return phonenumbers.is_possible_number(number) and len(_digits(text)) in (10, 11)


# ---------------------------------------------------------------- determinism
def test_same_date_gives_the_same_demo() -> None:
    first, second = build_demo(TODAY, CFG), build_demo(TODAY, CFG)
    assert first.records == second.records
    assert [c.values for c in first.intake] == [c.values for c in second.intake]
    assert first.channels == second.channels and first.users == second.users
    assert first.spreadsheets == second.spreadsheets and first.base_id == second.base_id


def test_seed_does_not_depend_on_hash_randomisation() -> None:
    """Set or dict order leaking into the data would change it between processes."""
    script = (
        "import hashlib; from datetime import date;"
        "from coalition.settings import PROJECT_ROOT, load_settings;"
        "from sandbox.seed import build_demo;"
        "d = build_demo(date(2026, 3, 11), load_settings(PROJECT_ROOT / 'config'));"
        "d.intake = [(c.values, sorted(c.tags), c.embedded) for c in d.intake];"
        "print(hashlib.sha256(repr(d).encode()).hexdigest())"
    )
    digests = {
        subprocess.run(
            [sys.executable, "-c", script],
            env={**os.environ, "PYTHONHASHSEED": seed},
            cwd=PROJECT_ROOT,
            capture_output=True,
            text=True,
            check=True,
        ).stdout
        for seed in ("1", "2")
    }
    assert len(digests) == 1


def test_another_date_moves_dates_but_keeps_the_people() -> None:
    later = build_demo(TODAY + timedelta(days=30), CFG)
    now = build_demo(TODAY, CFG)
    assert [c.values["Full name"] for c in later.intake] == [
        c.values["Full name"] for c in now.intake
    ]
    assert [m["Name"] for m in later.records["members"]] == [
        m["Name"] for m in now.records["members"]
    ]
    hearings = [b.get("Next hearing") for b in later.records["bills"]]
    assert (TODAY + timedelta(days=31)).isoformat() in hearings


# ---------------------------------------------------------------- members and contacts
def test_members_cover_the_promised_cases(demo: DemoData) -> None:
    members = demo.records["members"]
    assert 38 <= len(members) <= 42
    assert len({m["State"] for m in members}) >= 8
    legal = [m for m in members if m["Type"] == LEGAL_AID]
    others = [m for m in members if m["Type"] != LEGAL_AID]
    assert len(legal) >= 12 and len(others) >= 12
    assert sum(bool(m["LSC funded"]) for m in members) == 1
    assert sum(not m["Accepting referrals"] for m in legal) >= 2
    assert all(m["Services"] and m["Languages"] and m["Counties"] for m in legal)
    assert all(m["Weekly capacity"] and m["Income limit"] for m in legal)
    assert {m["Accreditation"] for m in legal} >= {"attorney", "fully accredited"}
    assert all(not m["Services"] for m in others)
    assert {m["Type"] for m in others} == {"Community group", "Faith", "Labor"}


def test_some_members_are_lapsed_stale_or_duplicated(demo: DemoData) -> None:
    members = demo.records["members"]
    lapsed = [m for m in members if date.fromisoformat(m["Dues paid through"]) < TODAY]
    stale_before = TODAY - timedelta(days=CFG.roster.verify_every_months * 31)
    stale = [m for m in members if date.fromisoformat(m["Last verified"]) < stale_before]
    assert len(lapsed) >= 2 and len(stale) >= 2
    names = [m["Name"] for m in members]
    lookalikes = [
        (a, b) for i, a in enumerate(names) for b in names[i + 1 :] if fuzz.ratio(a, b) > 85
    ]
    assert len(lookalikes) == 1


def test_each_legal_aid_partner_has_a_referral_sheet_and_channel(demo: DemoData) -> None:
    sheets = {s.spreadsheet_id: s for s in demo.spreadsheets}
    channels = {c.name for c in demo.channels}
    for member in demo.records["members"]:
        if member["Type"] != LEGAL_AID:
            assert not member["Referral sheet"] and not member["Referral channel"]
            continue
        sheet = sheets[member["Referral sheet"]]
        assert sheet.title == f"Referrals - {member['Name']}"
        assert sheet.parent == demo.folders["referral"].file_id
        assert list(sheet.tabs.values()) == [[REFERRAL_HEADER]]
        assert member["Referral channel"] in channels


def test_contacts_have_the_promised_flaws(demo: DemoData) -> None:
    contacts = demo.records["contacts"]
    assert len(contacts) == 80
    orgs = {m["Name"] for m in demo.records["members"]}
    assert sum(not c["Organization"] for c in contacts) == 1
    assert all(set(c["Organization"]) <= orgs for c in contacts)
    with_primary = {c["Organization"][0] for c in contacts if c.get("Primary contact")}
    assert len(orgs - with_primary) == 1
    bad_phones = [c for c in contacts if not _valid_phone(c["Phone"])]
    bad_emails = [
        c for c in contacts if c["Email"] and not re.fullmatch(r"[^@\s]+@[^@\s]+\.\w+", c["Email"])
    ]
    assert len(bad_phones) >= 3 and len(bad_emails) >= 3
    for contact in contacts:
        if _valid_phone(contact["Phone"]):
            assert _is_fictional_phone(contact["Phone"]), contact["Phone"]


def test_slack_people_match_access_config_and_contacts(demo: DemoData) -> None:
    assert demo.staff_ids == CFG.access.staff and len(demo.staff_ids) == 3
    assert demo.admin_ids == CFG.access.admins and len(demo.admin_ids) == 1
    user_ids = [u.user_id for u in demo.users]
    assert len(user_ids) == len(set(user_ids))
    linked = {c["Slack user"] for c in demo.records["contacts"] if c.get("Slack user")}
    partners = set(user_ids) - {*demo.staff_ids, *demo.admin_ids}
    assert linked == partners and len(linked) >= 18


def test_channels_follow_the_config(demo: DemoData) -> None:
    names = [c.name for c in demo.channels]
    assert len(names) == len(set(names))
    expected = set(CFG.services.slack.channels.model_dump().values())
    expected |= set(CFG.alerts.region_channels.values())
    assert expected <= set(names)
    assert all(re.fullmatch(r"[a-z0-9_-]{1,80}", n) for n in names)
    referral = [c for c in demo.channels if c.name.startswith("ref-")]
    assert referral and all(c.is_private and len(c.members) >= 2 for c in referral)


# ---------------------------------------------------------------- campaigns and bills
def test_campaigns_cover_every_status_and_hostile_text(demo: DemoData) -> None:
    campaigns = demo.records["campaigns"]
    assert len(campaigns) == 6
    assert {c["Status"] for c in campaigns} == {"Draft", "Ready", "Sent", "Cancelled"}
    now = datetime(TODAY.year, TODAY.month, TODAY.day).isoformat()
    due = [c for c in campaigns if c["Status"] == "Ready" and c["Send at"] < now]
    assert len(due) == 2
    assert any(c["Message"] == HOSTILE_CAMPAIGN_TEXT for c in due)
    assert "<!channel>" in HOSTILE_CAMPAIGN_TEXT and "<script>" in HOSTILE_CAMPAIGN_TEXT
    assert any(len(c["Message"]) == 5000 for c in campaigns)


def test_bills_have_positions_and_hearings_days_ahead(demo: DemoData) -> None:
    bills = demo.records["bills"]
    assert len(bills) == 15
    assert {b["Position"] for b in bills} == {"Support", "Oppose", "Watch"}
    ahead = {
        (date.fromisoformat(b["Next hearing"]) - TODAY).days for b in bills if b.get("Next hearing")
    }
    assert {1, 3} <= ahead and min(ahead) < 0
    in_airtable = {(b["Jurisdiction"], b["Bill"]) for b in bills}
    tracked = demo.openstates_bills
    assert len(tracked) >= 3
    assert all((b["jurisdiction"]["name"], b["identifier"]) in in_airtable for b in tracked)
    by_bill = {b["Bill"]: b for b in bills}
    changed = [
        b for b in tracked if b["latest_action_date"] > by_bill[b["identifier"]]["Last action date"]
    ]
    assert 1 <= len(changed) < len(tracked)


# ---------------------------------------------------------------- donations and activities
def _amount(value: str) -> float:
    return float(value.replace("$", "").replace(",", ""))


def test_donations_span_ten_weeks_with_the_odd_ones(demo: DemoData) -> None:
    gifts = demo.records["donations"]
    assert len(gifts) == 400
    days = [date.fromisoformat(g["Date"]) for g in gifts]
    assert min(days) >= TODAY - timedelta(weeks=10) and max(days) < TODAY
    assert len({d.isocalendar()[:2] for d in days}) >= 10
    amounts = [_amount(g["Amount"]) for g in gifts]
    assert sum(a < 0 for a in amounts) == 1
    assert "$1,200.50" in [g["Amount"] for g in gifts]
    assert sum(g["Amount"].startswith("$") for g in gifts) == 2
    assert 10 <= sum(bool(g["Anonymous"]) for g in gifts) <= 60
    assert any(g["Anonymous"] and not g["Donor"] for g in gifts)
    assert 20 <= sum(bool(g["Recurring"]) for g in gifts) <= 100
    donors = [g["Donor"] for g in gifts if g["Donor"]]
    assert len(set(donors)) < len(donors)  # returning donors
    assert all(not g["Email"] or g["Email"].endswith("@example.com") for g in gifts)


def test_activities(demo: DemoData) -> None:
    activities = demo.records["activities"]
    assert len(activities) == 40
    orgs = {m["Name"] for m in demo.records["members"]}
    assert all(len(a["Organization"]) == 1 and a["Organization"][0] in orgs for a in activities)
    assert {a["Region"] for a in activities} <= set(CFG.alerts.region_channels)


# ---------------------------------------------------------------- intake
def test_intake_sheet_header_and_size(demo: DemoData) -> None:
    sheet = demo.sheet(CFG.services.sheets.intake)
    rows = sheet.tabs[CFG.services.sheets.intake_tab]
    assert rows[0] == [*FORM_COLUMNS, *BOT_COLUMNS, "Staff notes"] == HEADER
    assert len(rows) == 151
    assert all(not case.values[c] for case in demo.intake for c in BOT_COLUMNS)
    assert 3 <= sum(bool(case.values["Staff notes"]) for case in demo.intake) <= 10


def test_intake_rows_are_in_submission_order_within_three_weeks(demo: DemoData) -> None:
    stamps = [datetime.strptime(c.values["Timestamp"], "%m/%d/%Y %H:%M:%S") for c in demo.intake]
    assert stamps == sorted(stamps)
    assert all(TODAY - timedelta(days=22) <= s.date() < TODAY for s in stamps)


@pytest.mark.parametrize(
    ("pattern", "minimum"),
    [
        (r"[\u0600-\u06ff]", 5),  # Arabic
        (r"[\u4e00-\u9fff]", 5),  # Chinese
        (r"[ạảấầẩẫậắằẳẵặẹẻẽếềểễệịọỏốồổỗộớờởỡợụủứừửữựỳỵỷỹđ]", 5),  # Vietnamese
        (r"\b(mwen|bezwen)\b", 3),  # Haitian Creole
        (r"\b(necesito|quiero|tengo|mi)\b", 20),  # Spanish
        (r"\b(need|help|my)\b", 10),  # English
    ],
)
def test_intake_help_is_written_in_six_languages(
    demo: DemoData, pattern: str, minimum: int
) -> None:
    texts = [c.values["Help needed"].lower() for c in demo.intake]
    assert sum(bool(re.search(pattern, t)) for t in texts) >= minimum


def test_intake_has_urgent_cases(demo: DemoData) -> None:
    cases = demo.intake
    assert sum(c.values["Detained"] == "Yes" for c in cases) >= 5
    soon = []
    for case in cases:
        written = case.values["Next court date"]
        for fmt in ("%m/%d/%Y", "%Y-%m-%d"):
            try:
                day = datetime.strptime(written, fmt).date()
            except ValueError:
                continue
            if 0 <= (day - TODAY).days <= 21:
                soon.append(case)
    assert len(soon) >= 5 and all("court_soon" in c.tags for c in soon)
    near_deadline = [
        c
        for c in cases
        if c.category == "asylum"
        and c.values["Date of last entry"]
        and 300
        <= (TODAY - datetime.strptime(c.values["Date of last entry"], "%m/%d/%Y").date()).days
        <= 365
    ]
    assert len(near_deadline) >= 2


def test_intake_has_rows_without_consent_and_malformed_rows(demo: DemoData) -> None:
    values = [c.values for c in demo.intake]
    assert sum(v["Consent to share"] == "No" for v in values) >= 10
    assert any(v["Full name"] and not v["Phone"] and not v["Email"] for v in values)
    assert any(v["Next court date"] == f"2/30/{TODAY.year}" for v in values)
    assert any(v["Household size"] == "0" for v in values)
    assert any(v["Monthly income"] == "about 2k" for v in values)


def test_intake_has_duplicate_submissions_within_a_week(demo: DemoData) -> None:
    by_phone: dict[str, list[datetime]] = {}
    for case in demo.intake:
        if case.values["Phone"]:
            stamp = datetime.strptime(case.values["Timestamp"], "%m/%d/%Y %H:%M:%S")
            by_phone.setdefault(case.values["Phone"], []).append(stamp)
    repeats = [s for s in by_phone.values() if len(s) > 1]
    assert len(repeats) >= 2
    assert all(max(s) - min(s) <= timedelta(days=7) for s in repeats)


def test_intake_has_hostile_text(demo: DemoData) -> None:
    cells = [v for c in demo.intake for v in c.values.values()]
    assert HOSTILE_FORMULA in cells
    assert any(v.startswith("=HYPERLINK(") for v in cells)
    assert any("<!channel>" in v for v in cells)
    assert any("<@U123>" in v for v in cells)
    assert any(RLO in v for v in cells)
    assert any(re.search("[\U0001f300-\U0001faff]", v) for v in cells)
    assert any(len(v) == 5000 for v in cells)
    assert any("<script>" in v for v in cells)


def test_intake_contact_details_are_fictional(demo: DemoData) -> None:
    for case in demo.intake:
        phone, email = case.values["Phone"], case.values["Email"]
        if phone:
            assert _is_fictional_phone(phone), phone
        if email:
            assert re.search(r"@example\.(org|com)$", email), email


def test_intake_places_are_real_counties(demo: DemoData) -> None:
    for case in demo.intake:
        state, county = case.values["State"], case.values["County"]
        if state:
            assert county in COUNTIES[state]
    assert any("uncovered" in c.tags for c in demo.intake)


# ---------------------------------------------------------------- sheets, folders, directory
def test_drive_folders_and_member_directory(demo: DemoData) -> None:
    assert {f.name for f in demo.folders.values()} == {"Weekly summaries", "Partner referrals"}
    directory = demo.sheet(CFG.services.sheets.member_directory)
    assert directory.tabs == {
        CFG.services.sheets.member_directory_tab: [[*CFG.roster.directory_columns, "Staff notes"]]
    }
    titles = [s.title for s in demo.spreadsheets]
    assert len(titles) == len(set(titles))


def test_every_record_field_is_defined_with_known_choices(demo: DemoData) -> None:
    for key, records in demo.records.items():
        fields = {f["name"]: f for f in demo.fields[key]}
        for record in records:
            for name, value in record.items():
                assert name in fields, f"{key}.{name} is not a field"
                choices = fields[name].get("options", {}).get("choices")
                if choices is None or value in ("", None):
                    continue
                names = {c["name"] for c in choices}
                picked = value if isinstance(value, list) else [value]
                assert set(picked) <= names, f"{key}.{name}: {set(picked) - names}"


# ---------------------------------------------------------------- personal values
def test_personal_values_hold_every_identifying_value(demo: DemoData) -> None:
    values = personal_values(demo)
    for case in demo.intake:
        for column in ("Full name", "Phone", "Email", "City", "Notes", "Next court date"):
            cell = case.values[column]
            if len(cell) >= 4 and not re.fullmatch(r"\d{1,6}", cell):
                assert cell in values, column
        assert set(case.embedded) <= values
    assert any(re.fullmatch(r"\d+ .+ Apt \d+", v) for v in values)  # an address from a note
    contacts = demo.records["contacts"]
    assert {c["Name"] for c in contacts} <= values
    assert {c["Email"] for c in contacts if c["Email"]} <= values
    assert {g["Donor"] for g in demo.records["donations"] if g["Donor"]} <= values
    staff = {u.real_name for u in demo.users if u.user_id in {*demo.staff_ids, *demo.admin_ids}}
    assert not staff & values
    assert all(len(v) >= 4 and not re.fullmatch(r"\d{1,6}", v) for v in values)


def test_no_personal_value_hides_in_public_seed_text(demo: DemoData) -> None:
    """Org names, counties, campaign and bill text may reach Slack; no city or name may be in them."""
    public = [m["Name"] for m in demo.records["members"]]
    public += [c for m in demo.records["members"] for c in m["Counties"]]
    public += [str(v) for c in demo.records["campaigns"] for v in c.values()]
    public += [str(v) for b in demo.records["bills"] for v in b.values()]
    public += [a["Title"] for a in demo.records["activities"]]
    public += [c.name for c in demo.channels] + list(STATE_NAMES.values())
    text = "\n".join(public).casefold()
    leaks = {v for v in personal_values(demo) if v.casefold() in text}
    assert not leaks
    assert all(city.casefold() not in text for city in all_cities())


@settings(max_examples=15, deadline=None)
@given(st.dates(min_value=date(2024, 1, 1), max_value=date(2030, 12, 31)))
def test_any_demo_today_keeps_dates_relative(today: date) -> None:
    demo = build_demo(today, CFG)
    days = [date.fromisoformat(g["Date"]) for g in demo.records["donations"]]
    assert min(days) >= today - timedelta(weeks=10) and max(days) < today
    ahead = {
        (date.fromisoformat(b["Next hearing"]) - today).days
        for b in demo.records["bills"]
        if b.get("Next hearing")
    }
    assert {1, 3} <= ahead
    stamps = [datetime.strptime(c.values["Timestamp"], "%m/%d/%Y %H:%M:%S") for c in demo.intake]
    assert all(s.date() < today for s in stamps)
    assert sum("court_soon" in c.tags for c in demo.intake) >= 5
