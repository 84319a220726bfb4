"""The demo `Intake` sheet: about 150 form responses, as people really fill forms in (pure).

Rows come in six languages with help text written the way people write it, and the
cases intake staff worry about: detained people, court dates within three weeks, asylum
seekers near the one-year deadline, survivors, rows without consent, malformed rows,
the same person submitting twice within a week, and hostile text (formulas, Slack
pings, right-to-left overrides, emoji, a 5,000-character note). Each row carries tags
so tests can find the cases they need without re-deriving them.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field, replace
from datetime import date, datetime, time, timedelta

from sandbox.seed.people import ARABIC_SCRIPT, People, Person
from sandbox.seed.places import COUNTIES

FORM_COLUMNS = [
    "Timestamp",
    "Full name",
    "Preferred language",
    "Phone",
    "Email",
    "City",
    "County",
    "State",
    "Help needed",
    "Detained",
    "Next court date",
    "Date of last entry",
    "Household size",
    "Monthly income",
    "Consent to share",
    "Notes",
]
BOT_COLUMNS = ["Intake ID", "Status", "Partner", "Referral ID", "Routed at", "Routing reason"]
STAFF_COLUMNS = ["Staff notes"]
HEADER = FORM_COLUMNS + BOT_COLUMNS + STAFF_COLUMNS
ROW_COUNT = 150
# Free text and identifying cells: everything here is personal and must never leave the sheets.
PERSONAL_COLUMNS = [
    "Full name",
    "Phone",
    "Email",
    "City",
    "Help needed",
    "Next court date",
    "Date of last entry",
    "Notes",
    "Staff notes",
]

# How people name their language on a free-text form question.
LANGUAGE_WRITTEN: dict[str, list[str]] = {
    "es": ["Español", "Spanish", "espanol", "español", "Castellano"],
    "ar": ["العربية", "Arabic", "عربي", "arabic"],
    "ht": ["Kreyòl", "Haitian Creole", "kreyol", "Creole"],
    "vi": ["Tiếng Việt", "Vietnamese", "tieng viet"],
    "zh": ["中文", "Chinese", "Mandarin", "Cantonese"],
    "en": ["English", "English", "english"],
}
LANGUAGE_WEIGHTS = {"es": 40, "en": 20, "ht": 10, "ar": 10, "vi": 10, "zh": 10}

# (category, detained, help text) as written by the person asking.
HELP: dict[str, list[tuple[str, bool, str]]] = {
    "es": [
        (
            "asylum",
            False,
            "Necesito ayuda para pedir asilo. Llegué con mis dos hijos y nos amenazaron en mi país",
        ),
        (
            "asylum",
            False,
            "quiero aplicar para asilo pero no se como llenar la forma, alguien me dijo que hay un limite de un año",
        ),
        (
            "removal defense",
            False,
            "Tengo corte de inmigración y no tengo abogado. Ya me dieron fecha para la audiencia",
        ),
        (
            "removal defense",
            False,
            "me llego una carta de la corte de inmigracion (NTA) no entiendo que tengo que hacer",
        ),
        (
            "detained",
            True,
            "mi esposo esta detenido por ICE desde el martes, no sabemos a donde lo llevaron",
        ),
        (
            "detained",
            True,
            "A mi hijo lo agarró migración saliendo del trabajo. Está en el centro de detención",
        ),
        ("DACA", False, "quiero renovar mi DACA, se vence en 4 meses"),
        ("TPS", False, "Tengo TPS y necesito reinscribirme, ya me toca y no se como"),
        (
            "U visa",
            False,
            "Fui víctima de un asalto y ayudé a la policía, me dijeron que puedo pedir la visa U",
        ),
        (
            "VAWA",
            False,
            "mi esposo es ciudadano y me maltrata, dice que me va a deportar si lo dejo",
        ),
        (
            "SIJS",
            False,
            "Mi sobrino llegó solo cuando tenía 16 años, vive conmigo. Me hablaron de la visa juvenil",
        ),
        (
            "naturalization",
            False,
            "tengo la residencia desde hace 6 años y quiero hacerme ciudadana",
        ),
        ("family petition", False, "Quiero pedir a mi mamá, yo ya soy residente permanente"),
        (
            "work permit",
            False,
            "necesito el permiso de trabajo, mi caso de asilo ya tiene mas de 150 dias",
        ),
        (
            "know your rights",
            False,
            "Somos un grupo de la iglesia y queremos una charla de conozca sus derechos",
        ),
    ],
    "ar": [
        ("asylum", False, "أحتاج مساعدة في طلب اللجوء، وصلت إلى أمريكا قبل عشرة أشهر"),
        ("asylum", False, "هربت من بلدي بسبب التهديدات وأريد أن أقدم على اللجوء"),
        ("detained", True, "أخي محتجز لدى الهجرة منذ أسبوع ولا نعرف ماذا نفعل"),
        ("removal defense", False, "عندي موعد في محكمة الهجرة ولا أملك محامياً"),
        ("naturalization", False, "أريد تقديم طلب الجنسية، عندي البطاقة الخضراء منذ خمس سنوات"),
        ("family petition", False, "أريد لم شمل عائلتي، زوجتي وأطفالي ما زالوا في الخارج"),
        ("work permit", False, "أحتاج تصريح عمل لأعيل أسرتي"),
        ("U visa", False, "تعرضت لاعتداء وساعدت الشرطة في التحقيق، هل يحق لي التقديم؟"),
    ],
    "ht": [
        ("asylum", False, "Mwen bezwen èd pou azil mwen, mwen rive isit la sa gen prèske yon ane"),
        ("detained", True, "Frè mwen nan prizon imigrasyon depi lendi, yo pa di nou anyen"),
        ("TPS", False, "Mwen gen TPS, mwen bezwen renouvle l ak pèmi travay la"),
        (
            "removal defense",
            False,
            "Mwen gen yon randevou nan tribinal imigrasyon e mwen pa gen avoka",
        ),
        ("family petition", False, "mwen vle fè papye pou pitit mwen ki rete lakay"),
        ("work permit", False, "m bezwen otorizasyon travay, tanpri ede m"),
        ("naturalization", False, "Mwen vle vin sitwayen ameriken, mwen gen rezidans depi 2019"),
    ],
    "vi": [
        ("naturalization", False, "Tôi cần giúp đỡ để nộp đơn xin quốc tịch"),
        ("family petition", False, "Tôi muốn bảo lãnh cho mẹ tôi sang Mỹ"),
        ("detained", True, "chồng tôi bị ICE bắt giữ tuần trước, xin hãy giúp"),
        ("removal defense", False, "Tôi có phiên tòa di trú vào tháng tới mà chưa có luật sư"),
        ("work permit", False, "tôi cần gia hạn giấy phép lao động"),
        ("DACA", False, "Con tôi muốn gia hạn DACA nhưng không biết bắt đầu từ đâu"),
    ],
    "zh": [
        ("asylum", False, "我需要申请庇护，我去年来到美国，还没有递交申请"),
        ("naturalization", False, "我想申请入籍，有绿卡五年了"),
        ("detained", True, "我丈夫被移民局拘留了，请帮帮我们"),
        ("removal defense", False, "我收到了移民法庭的通知，需要找律师"),
        ("family petition", False, "我想为父母申请绿卡"),
        ("work permit", False, "工作许可快过期了，怎么续"),
    ],
    "en": [
        (
            "asylum",
            False,
            "I need help with my asylum case. I came last spring and haven't filed anything yet",
        ),
        (
            "detained",
            True,
            "my brother was picked up by ICE on monday and is in detention, please help",
        ),
        (
            "removal defense",
            False,
            "got a notice to appear in immigration court, need a lawyer asap",
        ),
        ("DACA", False, "DACA renewal, mine expires in 3 months"),
        ("TPS", False, "TPS re-registration for me and my wife"),
        (
            "U visa",
            False,
            "I was robbed and I helped the police with the investigation. Do I qualify for a U visa?",
        ),
        (
            "VAWA",
            False,
            "my husband hurts me. he is a citizen and says he will get me deported if I leave",
        ),
        (
            "T visa",
            False,
            "I was brought here to work and they kept my passport. I got out but I'm scared",
        ),
        ("naturalization", False, "Want to apply for citizenship, green card since 2019"),
        (
            "SIJS",
            False,
            "I'm 19 and came alone when I was 15, someone told me about special juvenile status",
        ),
        ("unclear", False, "not sure what I need, got a letter from USCIS"),
        (
            "know your rights",
            False,
            "can someone do a know your rights training for our tenants association?",
        ),
    ],
}
SURVIVOR_CATEGORIES = {"VAWA", "U visa", "T visa"}
COURT_CATEGORIES = {"removal defense", "detained"}

# Notes people add; {address}, {dob} and {anum} are filled with invented values.
NOTES: dict[str, list[str]] = {
    "es": [
        "Llamar después de las 5pm",
        "Prefiero mensaje de texto",
        "Vivo en {address}",
        "Mi fecha de nacimiento es {dob}",
        "mi numero A es {anum}",
        "No tengo carro, necesito ayuda cerca de mi casa",
    ],
    "en": [
        "call after 6pm please",
        "text only, don't leave a voicemail",
        "I live at {address}",
        "DOB {dob}",
        "A# {anum}",
        "my last lawyer dropped my case",
    ],
    "ar": ["أفضل الاتصال مساءً", "عنواني {address}"],
    "ht": ["Rele m apre 5è", "Adrès mwen se {address}"],
    "vi": ["Xin gọi sau 6 giờ chiều", "Địa chỉ: {address}"],
    "zh": ["请晚上打电话", "我的地址是 {address}"],
}
STREETS = ["Girasol", "Quillon", "Marrowbend", "Tamarind Hollow", "Larchmere", "Ocotillo Bend"]
STREET_KINDS = ["St", "Ave", "Rd", "Ct", "Blvd"]
STAFF_NOTES = [
    "Called twice, no answer. Try again Thursday.",
    "Spoke with the sister; the family prefers WhatsApp.",
    "Possible conflict with the Orchard Street clinic - check before referring.",
    "Needs an interpreter for every call.",
    "Court date confirmed by phone with the person.",
]
HOSTILE_FORMULA = '=IMPORTXML("http://x", "//a")'
HOSTILE_LINK = '=HYPERLINK("http://example.com/pwn","Ver mi caso")'
RLO = "\u202e"
LONG_NOTE_LENGTH = 5000
# Counties where no member organization works: such rows can only go to triage.
UNCOVERED = [("IA", "Polk"), ("TN", "Davidson")]


@dataclass
class IntakeCase:
    """One form response (cell values keyed by header) and tags naming what makes it special."""

    values: dict[str, str]
    tags: set[str] = field(default_factory=set)
    category: str = ""
    # Personal values hidden inside free text (an address, a date of birth, an A-number).
    embedded: list[str] = field(default_factory=list)
    submitted: datetime | None = None


def _stamp(moment: datetime) -> str:
    """Google Forms writes timestamps as M/D/YYYY H:MM:SS."""
    return f"{moment.month}/{moment.day}/{moment.year} {moment.hour}:{moment:%M:%S}"


def _us_date(day: date) -> str:
    return f"{day.month}/{day.day}/{day.year}"


class IntakeWriter:
    """Builds the rows; holds the generator and the anchoring date."""

    def __init__(self, today: date, people: People, rng: random.Random) -> None:
        self.today = today
        self.people = people
        self.rng = rng
        self.covered = [
            (state, county)
            for state, counties in COUNTIES.items()
            for county in counties
            if (state, county) not in UNCOVERED
        ]

    # ------------------------------------------------------------ building blocks
    def group(self) -> str:
        groups = list(LANGUAGE_WEIGHTS)
        return self.rng.choices(groups, weights=[LANGUAGE_WEIGHTS[g] for g in groups])[0]

    def moment(self, days_ago_min: int = 1, days_ago_max: int = 21) -> datetime:
        day = self.today - timedelta(days=self.rng.randint(days_ago_min, days_ago_max))
        clock = time(self.rng.randint(6, 23), self.rng.randint(0, 59), self.rng.randint(0, 59))
        return datetime.combine(day, clock)

    def address(self) -> str:
        number = self.rng.randint(100, 9899)
        street = f"{self.rng.choice(STREETS)} {self.rng.choice(STREET_KINDS)}"
        return f"{number} {street} Apt {self.rng.randint(1, 40)}"

    def dob(self) -> str:
        return f"{self.rng.randint(1, 12)}/{self.rng.randint(1, 28)}/{self.rng.randint(1962, 2007)}"

    def anum(self) -> str:
        # Nine digits like a real A-number, in an invented 000-555 block (as phones use 555-01xx).
        return f"A-000-555-{self.rng.randint(100, 999)}"

    def note(self, group: str, case: IntakeCase) -> str:
        template = self.rng.choice(NOTES[group])
        fills = {"address": self.address(), "dob": self.dob(), "anum": self.anum()}
        for key, value in fills.items():
            if "{" + key + "}" in template:
                case.embedded.append(value)
        return template.format(**fills)

    def full_name(self, person: Person) -> str:
        in_script = person.given in ARABIC_SCRIPT and person.family in ARABIC_SCRIPT
        if in_script and self.rng.random() < 0.6:
            given = ARABIC_SCRIPT.get(person.given, person.given)
            family = ARABIC_SCRIPT.get(person.family, person.family)
            return f"{given} {family}"
        if self.rng.random() < 0.08:
            return person.name.upper()
        return person.name

    def court_date(self, category: str, case: IntakeCase) -> str:
        if category not in COURT_CATEGORIES:
            return ""
        soon = self.rng.random() < 0.45
        days = self.rng.randint(4, 20) if soon else self.rng.randint(30, 160)
        if soon:
            case.tags.add("court_soon")
        day = self.today + timedelta(days=days)
        return day.isoformat() if self.rng.random() < 0.2 else _us_date(day)

    def last_entry(self, category: str, case: IntakeCase) -> str:
        if category != "asylum":
            return "" if self.rng.random() < 0.6 else str(self.rng.randint(2005, 2022))
        near = self.rng.random() < 0.3
        days = self.rng.randint(320, 345) if near else self.rng.randint(60, 250)
        if near:
            case.tags.add("asylum_deadline")
        return _us_date(self.today - timedelta(days=days))

    def income(self) -> str:
        amount = self.rng.randrange(0, 4200, 50)
        style = self.rng.random()
        if style < 0.5:
            return str(amount)
        if style < 0.8:
            return f"${amount:,}"
        return f"{amount}/month"

    # ------------------------------------------------------------ rows
    def regular(
        self,
        group: str | None = None,
        where: tuple[str, str] | None = None,
        help_case: tuple[str, bool, str] | None = None,
    ) -> IntakeCase:
        group = group or self.group()
        category, detained, help_text = help_case or self.rng.choice(HELP[group])
        person = self.people.person(group)
        state, county = where or self.rng.choice(self.covered)
        case = IntakeCase(values={}, category=category, submitted=self.moment())
        consent = self.rng.random() >= 0.15
        values = {
            "Timestamp": _stamp(case.submitted),
            "Full name": self.full_name(person),
            "Preferred language": self.rng.choice(LANGUAGE_WRITTEN[group]),
            "Phone": self.people.phone(state),
            "Email": self.people.email(person) if self.rng.random() < 0.75 else "",
            "City": self.rng.choice(COUNTIES[state][county]),
            "County": county,
            "State": state,
            "Help needed": help_text,
            "Detained": "Yes" if detained else self.rng.choice(["No", "No", "No", ""]),
            "Next court date": self.court_date(category, case),
            "Date of last entry": self.last_entry(category, case),
            "Household size": str(self.rng.randint(1, 6)),
            "Monthly income": self.income(),
            "Consent to share": "Yes" if consent else "No",
            "Notes": self.note(group, case) if self.rng.random() < 0.35 else "",
        }
        case.values = values
        if detained:
            case.tags.add("detained")
        if not consent:
            case.tags.add("no_consent")
        if category in SURVIVOR_CATEGORIES:
            case.tags.add("survivor")
        if (state, county) in UNCOVERED:
            case.tags.add("uncovered")
        return case

    def duplicate_of(self, first: IntakeCase) -> IntakeCase:
        """The same person again within a week, the help text reworded."""
        assert first.submitted is not None
        later = first.submitted + timedelta(
            days=self.rng.randint(1, 4), hours=self.rng.randint(1, 9)
        )
        tags = first.tags | {"duplicate"}
        first.tags.add("has_duplicate")
        values = dict(first.values)
        values["Timestamp"] = _stamp(later)
        values["Help needed"] = values["Help needed"] + " (envío otra vez / sending again)"
        values["Full name"] = (
            values["Full name"].title() if values["Full name"].isupper() else values["Full name"]
        )
        return IntakeCase(values, tags, first.category, list(first.embedded), later)


def _special_cases(writer: IntakeWriter) -> list[IntakeCase]:
    """Rows planted on purpose: urgent, malformed and hostile."""
    rng = writer.rng
    today = writer.today
    es_detained = HELP["es"][4]
    es_asylum = HELP["es"][1]
    cases: list[IntakeCase] = []

    # Detained with a hearing in days, with consent: the most urgent referral there is.
    urgent = writer.regular("es", ("TX", "Harris"), es_detained)
    urgent.values["Consent to share"] = "Yes"
    urgent.values["Next court date"] = _us_date(today + timedelta(days=6))
    urgent.tags |= {"detained", "court_soon"}
    urgent.tags.discard("no_consent")
    cases.append(urgent)

    # Asylum seekers about eleven months after their last entry.
    for group, where in (("es", ("CA", "Los Angeles")), ("ht", ("FL", "Miami-Dade"))):
        help_case = es_asylum if group == "es" else HELP["ht"][0]
        case = writer.regular(group, where, help_case)
        case.values["Date of last entry"] = _us_date(today - timedelta(days=335))
        case.tags.add("asylum_deadline")
        cases.append(case)

    # Malformed rows.
    no_contact = writer.regular("en")
    no_contact.values.update({"Phone": "", "Email": ""})
    no_contact.tags |= {"malformed", "no_contact"}
    impossible = writer.regular("es", ("IL", "Cook"), HELP["es"][2])
    impossible.values["Next court date"] = f"2/30/{today.year}"
    impossible.tags |= {"malformed", "impossible_date"}
    impossible.tags.discard("court_soon")
    household = writer.regular("vi")
    household.values["Household size"] = "0"
    household.tags |= {"malformed", "household_zero"}
    vague_income = writer.regular("es")
    vague_income.values["Monthly income"] = "about 2k"
    vague_income.tags |= {"malformed", "income_text"}
    glitch = writer.moment()
    nearly_empty = IntakeCase(
        {"Timestamp": _stamp(glitch), "Preferred language": "English", "Consent to share": "Yes"},
        {"malformed", "no_contact", "empty"},
        "unclear",
        [],
        glitch,
    )
    cases += [no_contact, impossible, household, vague_income, nearly_empty]

    # Hostile text: formulas, Slack pings, HTML, right-to-left override, emoji, a huge note.
    link_name = writer.regular("es")
    link_name.values["Full name"] = HOSTILE_LINK
    formula_note = writer.regular("en")
    formula_note.values["Notes"] = HOSTILE_FORMULA
    ping_help = writer.regular("es", ("NY", "Queens"), es_detained)
    ping_help.values["Help needed"] = (
        "<!channel> necesitamos ayuda urgente, mi hermano está detenido"
    )
    ping_note = writer.regular("en")
    ping_note.values["Notes"] = "please tell <@U123> and <!here> about my case"
    rtl = writer.regular("ar", ("IL", "Cook"))
    rtl.values["Full name"] = f"{ARABIC_SCRIPT['Samirah']} {ARABIC_SCRIPT['Benhadrou']}"
    rtl.values["Notes"] = f"{RLO}أحتاج مساعدة عاجلة{RLO} exe.txt"
    emoji = writer.regular(
        "es", help_case=("work permit", False, "Necesito ayuda con mi permiso de trabajo 🙏🙏😢")
    )
    html_city = writer.regular("en", ("NJ", "Hudson"))
    html_city.values["City"] = "<script>alert('intake')</script>"
    long_note = writer.regular("en", ("WA", "King"))
    sentence = "We have been waiting for news about the hearing and nobody calls us back. "
    long_note.values["Notes"] = (sentence * (LONG_NOTE_LENGTH // len(sentence) + 1))[
        :LONG_NOTE_LENGTH
    ]
    long_note.tags.add("long_note")
    for case in (link_name, formula_note, ping_help, ping_note, rtl, emoji, html_city, long_note):
        case.tags.add("hostile")
        cases.append(case)

    # People living where no member works.
    for where in UNCOVERED:
        cases.append(writer.regular(rng.choice(["es", "en"]), where))
    return cases


def build_intake(today: date, people: People, rng: random.Random) -> list[IntakeCase]:
    """Exactly ROW_COUNT form responses in submission order, dated in the three weeks before today."""
    writer = IntakeWriter(today, people, rng)
    cases = _special_cases(writer)
    duplicates = 3
    while len(cases) < ROW_COUNT - duplicates:
        cases.append(writer.regular())
    # Resubmissions come 1-4 days after the first, so the first is at least six days old.
    early = today - timedelta(days=6)
    firsts = [
        c
        for c in cases
        if not c.tags & {"malformed", "hostile"} and c.submitted and c.submitted.date() <= early
    ][::17][:duplicates]
    cases += [writer.duplicate_of(first) for first in firsts]
    for index, case in enumerate(cases):
        if index % 29 == 3:
            case.values["Staff notes"] = STAFF_NOTES[(index // 29) % len(STAFF_NOTES)]
    ordered = sorted(cases, key=lambda c: c.submitted or datetime.min)
    return [replace(case, values=_complete(case.values)) for case in ordered]


def _complete(values: dict[str, str]) -> dict[str, str]:
    """Every header present, in header order; the bot's columns start empty."""
    return {column: values.get(column, "") for column in HEADER}


def rows_for_sheet(cases: list[IntakeCase]) -> list[list[str]]:
    """Header plus one row per case, trailing empty cells dropped as Sheets does."""
    rows = [list(HEADER)]
    for case in cases:
        row = [case.values[column] for column in HEADER]
        while row and row[-1] == "":
            row.pop()
        rows.append(row)
    return rows
