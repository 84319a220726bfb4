"""Case types from choices and free text (English, Spanish, Arabic and more), urgency, income percent."""

from __future__ import annotations

from datetime import date

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from coalition.intake import classify, income, urgency
from coalition.settings import RoutingConfig

RULES = RoutingConfig()
TODAY = date(2026, 3, 1)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        # form choices
        ("Asylum, Work permit", ("asylum", "work permit")),
        ("Removal defense", ("removal defense",)),
        ("DACA", ("DACA",)),
        ("TPS", ("TPS",)),
        ("U visa", ("U visa",)),
        ("T-visa", ("T visa",)),
        ("VAWA", ("VAWA",)),
        ("SIJS", ("SIJS",)),
        ("Naturalization", ("naturalization",)),
        ("Family petition", ("family petition",)),
        ("Know your rights", ("know your rights",)),
        # English free text
        ("my brother was picked up by ICE on monday and is in detention", ("detained",)),
        ("got a notice to appear in immigration court, need a lawyer asap", ("removal defense",)),
        ("I was brought here to work and they kept my passport", ("T visa",)),
        ("my husband hurts me. he is a citizen and says he will get me deported", ("VAWA",)),
        (
            "I'm 19 and came alone when I was 15, someone told me about special juvenile status",
            ("SIJS",),
        ),
        ("I need help with my EAD", ("work permit",)),
        ("I am not detained, I need a work permit", ("work permit",)),
        (
            "afraid they will deport me",
            ("removal defense",),
        ),  # a bare fear counts when nothing else does
        # Spanish
        ("Necesito ayuda para pedir asilo", ("asylum",)),
        ("Tengo corte de inmigración y no tengo abogado", ("removal defense",)),
        ("mi esposo esta detenido por ICE desde el martes", ("detained",)),
        ("A mi hijo lo agarró migración saliendo del trabajo", ("detained",)),
        (
            "Fui víctima de un asalto y ayudé a la policía, me dijeron que puedo pedir la visa U",
            ("U visa",),
        ),
        ("mi esposo es ciudadano y me maltrata, dice que me va a deportar si lo dejo", ("VAWA",)),
        ("tengo la residencia desde hace 6 años y quiero hacerme ciudadana", ("naturalization",)),
        ("Quiero pedir a mi mamá, yo ya soy residente permanente", ("family petition",)),
        (
            "Somos un grupo de la iglesia y queremos una charla de conozca sus derechos",
            ("know your rights",),
        ),
        # Arabic
        ("أحتاج مساعدة في طلب اللجوء، وصلت إلى أمريكا قبل عشرة أشهر", ("asylum",)),
        ("أخي محتجز لدى الهجرة منذ أسبوع", ("detained",)),
        ("عندي موعد في محكمة الهجرة ولا أملك محامياً", ("removal defense",)),
        ("أريد تقديم طلب الجنسية", ("naturalization",)),
        ("أريد لم شمل عائلتي", ("family petition",)),
        ("أحتاج تصريح عمل لأعيل أسرتي", ("work permit",)),
        ("تعرضت لاعتداء وساعدت الشرطة في التحقيق", ("U visa",)),
        # Kreyòl, Vietnamese, Chinese
        ("Mwen bezwen èd pou azil mwen", ("asylum",)),
        ("Frè mwen nan prizon imigrasyon depi lendi", ("detained",)),
        ("Tôi cần giúp đỡ để nộp đơn xin quốc tịch", ("naturalization",)),
        ("我丈夫被移民局拘留了，请帮帮我们", ("detained",)),
        ("工作许可快过期了，怎么续", ("work permit",)),
        # nothing to classify
        ("not sure what I need, got a letter from USCIS", ()),
        ('=IMPORTXML("http://x", "//a")', ()),
        ("<!channel> help", ()),
        ("", ()),
    ],
)
def test_case_types(text: str, expected: tuple[str, ...]) -> None:
    assert classify.case_types([text]) == expected


def test_primary_is_the_most_pressing_type() -> None:
    assert classify.primary(["work permit", "asylum", "detained"]) == "detained"
    assert classify.primary([]) is None


@pytest.mark.parametrize("kind", ["VAWA", "U visa", "T visa"])
def test_survivor_types_are_never_named_outside_the_partner_sheet(kind: str) -> None:
    assert classify.broad_category(kind) == "protected"
    assert classify.label(kind) == "protected category"
    assert classify.label("protected") == "protected category"


def test_partner_services_are_canonicalised() -> None:
    assert classify.canonical_service("Removal Defense") == "removal defense"
    assert classify.canonical_service("u-visa") == "U visa"
    assert classify.canonical_service("bake sales") is None


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=2000))
def test_classify_never_raises_and_returns_known_types(text: str) -> None:
    assert set(classify.case_types([text])) <= set(classify.CASE_TYPES)


# ---------------------------------------------------------------- urgency
def _assess(**kw) -> urgency.Urgency:  # type: ignore[name-defined]
    args = dict(
        today=TODAY, case_types=(), detained=False, court_date=None, entry_date=None, birth_date=None,
        court_days=21, asylum_warning_days=60, sijs_warning_days=180,
    )  # fmt: skip
    args.update(kw)
    return urgency.assess(**args)


@pytest.mark.parametrize(
    ("kw", "reasons"),
    [
        ({"detained": True}, ("detained",)),
        ({"case_types": ("detained",)}, ("detained",)),
        ({"court_date": date(2026, 3, 10)}, ("court_date_soon",)),
        ({"court_date": date(2026, 3, 22)}, ("court_date_soon",)),  # exactly 21 days
        ({"court_date": date(2026, 3, 23)}, ()),
        ({"court_date": date(2026, 2, 20)}, ()),  # passed
        ({"case_types": ("asylum",), "entry_date": date(2025, 4, 1)}, ("asylum_deadline",)),
        ({"case_types": ("asylum",), "entry_date": date(2025, 9, 1)}, ()),
        ({"case_types": ("asylum",), "entry_date": date(2025, 2, 1)}, ()),  # deadline passed
        ({"case_types": ("work permit",), "entry_date": date(2025, 4, 1)}, ()),
        ({"case_types": ("SIJS",), "birth_date": date(2005, 6, 1)}, ("sijs_age_out",)),
        ({"case_types": ("SIJS",), "birth_date": date(2010, 6, 1)}, ()),
        ({"detained": True, "court_date": date(2026, 3, 5)}, ("detained", "court_date_soon")),
    ],
)
def test_urgency(kw: dict, reasons: tuple[str, ...]) -> None:
    result = _assess(**kw)
    assert result.reasons == reasons
    assert result.urgent is bool(reasons)


def test_more_urgent_sorts_first() -> None:
    detained = _assess(detained=True)
    court = _assess(court_date=date(2026, 3, 10))
    calm = _assess()
    assert sorted([calm, court, detained], key=lambda u: u.sort_key) == [detained, court, calm]


def test_urgency_words_carry_no_dates() -> None:
    assert urgency.describe(("detained", "court_date_soon")) == "detained, court date soon"
    assert urgency.describe(()) == "not urgent"


# ---------------------------------------------------------------- income
@pytest.mark.parametrize(
    ("monthly", "size", "state", "percent"),
    [
        (1330, 1, "TX", 100),  # 15,960 a year is the 2026 guideline for one
        (2750, 4, "TX", 100),  # 33,000 for four
        (2750, 4, "AK", 80),  # Alaska has its own table: 19,950 + 3 * 7,100 = 41,250
        (2750, 4, "HI", 87),  # Hawaii: 33,000 of 18,360 + 3 * 6,530 = 37,950
        (0, 3, "NY", 0),
        (1331, 1, "TX", 101),  # rounded up, never down under a limit
        (1000, None, "TX", 76),  # household unknown: counted as one (the strictest)
        (None, 3, "TX", None),
    ],
)
def test_percent_of_poverty_guideline(monthly, size, state, percent) -> None:
    assert income.percent_of_guideline(monthly, size, state, RULES.poverty_guidelines) == percent


def test_guideline_table_is_the_dated_2026_one() -> None:
    table = RULES.poverty_guidelines
    assert table.year == 2026
    assert income.guideline(1, "TX", table) == 15_960
    assert income.guideline(4, "TX", table) == 33_000
