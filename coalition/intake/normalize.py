"""Normalise what people type into the intake form: text, phones, emails, dates, money, sizes, places, languages.

Every parser is total: it returns a value or None, never raises, whatever the input
(50,000 characters, emoji, right-to-left text, formulas, Slack control sequences).
"""

from __future__ import annotations

import functools
import re
import unicodedata
from collections.abc import Iterable, Mapping
from datetime import date, datetime

import phonenumbers
from dateutil import parser as dateparser
from email_validator import EmailNotValidError, validate_email

from coalition.places import USPS_STATES

MAX_CELL = 5_000  # characters kept from one free-text cell; partners read it in a sheet
_DIGITS = str.maketrans("٠١٢٣٤٥٦٧٨٩۰۱۲۳۴۵۶۷۸۹", "01234567890123456789")
# Bidi controls and zero-width characters: invisible, and they can disguise text.
_INVISIBLE = re.compile("[\u200b-\u200f\u202a-\u202e\u2066-\u2069\ufeff]")
_QUOTES = str.maketrans(dict.fromkeys("\u2018\u2019\u02bc\u02bb`\u00b4", "'"))
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


def clean_text(value: object, limit: int = MAX_CELL) -> str:
    """Trimmed, NFC-normalised text without control or invisible characters, cut at `limit`."""
    if value is None:
        return ""
    text = unicodedata.normalize("NFC", str(value))
    text = _CONTROL.sub("", _INVISIBLE.sub("", text)).replace("\r\n", "\n").strip()
    if len(text) > limit:
        text = text[: limit - 1].rstrip() + "…"
    return text


def fold(text: str) -> str:
    """A key for comparing words: lower case, accents and Arabic diacritics removed, spaces collapsed."""
    text = clean_text(text, 100_000).casefold().translate(_DIGITS).translate(_QUOTES)
    text = unicodedata.normalize("NFKD", text)
    text = "".join(ch for ch in text if not unicodedata.combining(ch))
    text = re.sub("[\u064b-\u0652\u0640]", "", text)  # harakat and tatweel
    text = re.sub("[\u0622\u0623\u0625]", "\u0627", text)  # alef variants
    return re.sub(r"\s+", " ", text).strip()


# ------------------------------------------------------------------ contact
def normalize_phone(value: str, region: str = "US") -> str | None:
    """E.164 (`+17135550142`) for a valid number, else None."""
    text = clean_text(value, 100).translate(_DIGITS)
    if not re.search(r"\d{3}", re.sub(r"\D", "", text) or ""):
        return None
    text = re.sub(r"^(?:tel|phone|cel|cell|mobile)[:.\s]*", "", text, flags=re.I)
    text = re.sub(r"^00(?=[1-9])", "+", text.strip())
    try:
        number = phonenumbers.parse(text, region)
    except phonenumbers.NumberParseException:
        return None
    if not phonenumbers.is_valid_number(number):
        return None
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def normalize_email(value: str) -> str | None:
    """A syntactically valid address, domain lower-cased; no DNS lookups."""
    text = clean_text(value, 320)
    text = re.sub(r"^mailto:", "", text, flags=re.I).strip().strip("<>").strip()
    if not text or " " in text:
        return None
    try:
        result = validate_email(text, check_deliverability=False)
    except (EmailNotValidError, ValueError):
        return None
    local, _, domain = result.normalized.rpartition("@")
    return f"{local}@{domain.lower()}"


# ------------------------------------------------------------------ dates
_MONTHS = {
    # Spanish, French, Portuguese, Haitian Creole month names -> English
    "enero": "january", "febrero": "february", "marzo": "march", "abril": "april",
    "mayo": "may", "junio": "june", "julio": "july", "agosto": "august",
    "septiembre": "september", "setiembre": "september", "octubre": "october",
    "noviembre": "november", "diciembre": "december",
    "janvier": "january", "fevrier": "february", "mars": "march", "avril": "april",
    "mai": "may", "juin": "june", "juillet": "july", "aout": "august",
    "septembre": "september", "octobre": "october", "novembre": "november",
    "decembre": "december", "janvye": "january", "fevriye": "february", "me": "may",
    "jen": "june", "jiye": "july", "out": "august", "septanm": "september",
    "oktob": "october", "novanm": "november", "desanm": "december",
    "janeiro": "january", "fevereiro": "february", "marco": "march", "maio": "may",
    "junho": "june", "julho": "july", "setembro": "september", "outubro": "october",
    "novembro": "november", "dezembro": "december",
}  # fmt: skip
_FILLER = re.compile(r"\b(?:de|del|le|the|of|el|em)\b")
_ISO = re.compile(r"^(\d{4})[-/.](\d{1,2})[-/.](\d{1,2})(?:[ T].*)?$")
_NUMERIC = re.compile(r"^(\d{1,2})[-/.](\d{1,2})[-/.](\d{2}|\d{4})(?:\s.*)?$")


def _two_digit_year(year: int, today: date) -> int:
    """26 -> 2026, 85 -> 1985: the century that keeps the date at most 10 years ahead."""
    year += 2000
    return year - 100 if year > today.year + 10 else year


def _safe_date(year: int, month: int, day: int) -> date | None:
    try:
        return date(year, month, day)
    except ValueError:
        return None


def parse_date(value: str, today: date | None = None) -> date | None:
    """A calendar date from ISO, US (month first), day-first when unambiguous, or written months in several languages."""
    today = today or date.today()
    text = fold(value)[:60]
    if not text or not re.search(r"\d", text):
        return None
    iso = _ISO.match(text)
    if iso:
        return _safe_date(int(iso[1]), int(iso[2]), int(iso[3]))
    numeric = _NUMERIC.match(text)
    if numeric:
        first, second, year = int(numeric[1]), int(numeric[2]), int(numeric[3])
        if year < 100:
            year = _two_digit_year(year, today)
        # US forms write month first; a first part over 12 can only be a day.
        if first > 12 >= second:
            return _safe_date(year, second, first)
        return _safe_date(year, first, second)
    words = " ".join(_MONTHS.get(w, w) for w in re.split(r"[\s,]+", text))
    words = _FILLER.sub(" ", words.replace(".", " "))
    try:
        parsed = dateparser.parse(words, default=datetime(today.year, 1, 1), fuzzy=False)
    except (ValueError, OverflowError, TypeError):
        return None
    if parsed is None or not (1900 <= parsed.year <= today.year + 30):
        return None
    return parsed.date()


def parse_timestamp(value: str) -> datetime | None:
    """The form's Timestamp column ("3/14/2026 10:22:01", ISO) as a naive datetime."""
    text = clean_text(value, 60).translate(_DIGITS)
    if not text or not re.search(r"\d{1,4}[-/.]\d{1,2}", text):
        return None
    try:
        parsed = dateparser.parse(text, dayfirst=False)
    except (ValueError, OverflowError, TypeError):
        return None
    if parsed is None or not (1990 <= parsed.year <= 2200):
        return None
    return parsed.replace(tzinfo=None)


# ------------------------------------------------------------------ money and sizes
_NO_INCOME = re.compile(
    r"^(?:none|no|nothing|zero|n/?a|no income|no tengo|nada|ninguno|cero|sin ingresos|"
    r"pa genyen|anyen|aucun|rien|لا يوجد|لا شيء|لا|صفر|\$?0+(?:\.0+)?)\W*$"
)
_AMOUNT = re.compile(r"(\d+(?:[.,]\d+)*)\s*(k|mil|thousand|grand)?\b")
_PERIODS = (
    (
        re.compile(
            r"\b(?:year|yr|annual|annually|yearly|ano|anual|per an|par an|anne|chak ane)\b|/\s*y\b|سنو|سنة"
        ),
        1 / 12,
    ),
    (
        re.compile(r"\b(?:week|wk|weekly|semana|semanal|semaine|semen)\b|/\s*w\b|اسبوع|أسبوع"),
        52 / 12,
    ),
    (re.compile(r"\b(?:every two weeks|biweekly|cada dos semanas|quincena|quincenal)\b"), 26 / 12),
    (re.compile(r"\b(?:hour|hr|hora|heure)\b|/\s*h\b|ساعة"), 40 * 52 / 12),
    (re.compile(r"\b(?:day|dia|diario|jour|jou)\b|/\s*d\b|يوم"), 22),
    (re.compile(r"\b(?:month|mo|monthly|mes|mensual|mois|mwa)\b|/\s*m\b|شهر"), 1.0),
)
ANNUAL_GUESS = 15_000  # a bare figure this large in "Monthly income" is almost surely yearly


def _number(token: str) -> float | None:
    """'1,800' '1.800' '1800.50' '1.800,50' -> a float."""
    if re.fullmatch(r"\d{1,3}(?:[.,]\d{3})+", token):
        return float(re.sub(r"[.,]", "", token))
    if re.fullmatch(r"\d+(?:[.,]\d{3})*[.,]\d{1,2}", token):
        whole, frac = token[:-3], token[-2:]
        if token[-2] in ",.":
            whole, frac = token[:-2], token[-1:]
        return float(re.sub(r"[.,]", "", whole) + "." + frac)
    try:
        return float(token.replace(",", ""))
    except ValueError:
        return None


def parse_income(value: str) -> tuple[float | None, str | None]:
    """Monthly income as written ("$1,800/mo", "1800", "about 2k", "24000 al año") and a warning code."""
    text = fold(value)[:200]
    if not text:
        return None, None
    if _NO_INCOME.match(text):
        return 0.0, None
    if re.match(r"^-\s*\$?\d", text):
        return None, "income_unreadable"
    amounts: list[float] = []
    for match in _AMOUNT.finditer(text):
        number = _number(match[1])
        if number is None:
            continue
        amounts.append(number * 1000 if match[2] else number)
    if not amounts:
        return None, "income_unreadable"
    # A range ("1500-2000") counts at its middle; several figures at their sum would over-count.
    amount = (
        sum(amounts[:2]) / len(amounts[:2])
        if re.search(r"\d\s*(?:-|to|a)\s*\$?\d", text)
        else amounts[0]
    )
    factor, stated = 1.0, False
    for pattern, multiplier in _PERIODS:
        if pattern.search(text):
            factor, stated = multiplier, True
            break
    warning = None
    if not stated and amount >= ANNUAL_GUESS:
        factor, warning = 1 / 12, "income_assumed_yearly"
    monthly = amount * factor
    if monthly > 1_000_000:
        return None, "income_implausible"
    return round(monthly, 2), warning


_NUMBER_WORDS = {
    "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7,
    "eight": 8, "nine": 9, "ten": 10, "eleven": 11, "twelve": 12,
    "uno": 1, "una": 1, "dos": 2, "tres": 3, "cuatro": 4, "cinco": 5, "seis": 6,
    "siete": 7, "ocho": 8, "nueve": 9, "diez": 10, "once": 11, "doce": 12,
    "un": 1, "deux": 2, "trois": 3, "quatre": 4, "cinq": 5, "sept": 7, "huit": 8,
    "neuf": 9, "dix": 10, "youn": 1, "twa": 3, "kat": 4, "senk": 5, "sis": 6,
    "wit": 8, "nef": 9, "just me": 1, "only me": 1, "solo yo": 1, "yo solo": 1,
    "واحد": 1, "اثنان": 2, "اثنين": 2, "ثلاثة": 3, "اربعة": 4, "خمسة": 5, "ستة": 6,
}  # fmt: skip
MAX_HOUSEHOLD = 30


def parse_household(value: str) -> int | None:
    """Household size 1..30 from "4", "4 people", "four", "cuatro"; 0, 999 and nonsense give None."""
    text = fold(value)[:100]
    if not text:
        return None
    match = re.search(r"\d+", text)
    if match:
        size = int(match[0]) if len(match[0]) <= 4 else 0
        # "me and 2 kids", "yo y 3 hijos": the person counts too
        if re.match(r"^(?:me|myself|yo|mwen|moi)\s+(?:and|y|ak|et|\+|&)\s+\d", text):
            size += 1
    else:
        size = next((n for w, n in _NUMBER_WORDS.items() if re.search(rf"\b{w}\b", text)), 0)
    return size if 1 <= size <= MAX_HOUSEHOLD else None


_YES = {"yes", "y", "si", "sí", "true", "1", "x", "oui", "wi", "sim", "نعم", "ok", "okay", "i agree",
        "acepto", "de acuerdo", "agree", "yes i consent", "✓", "✔", "☑"}  # fmt: skip
_NO = {
    "no",
    "n",
    "false",
    "0",
    "non",
    "non merci",
    "nao",
    "não",
    "لا",
    "pa",
    "no acepto",
    "decline",
}


_YES_FOLDED = frozenset(fold(y) for y in _YES)
_NO_FOLDED = frozenset(fold(n) for n in _NO)


def parse_yes_no(value: str) -> bool | None:
    """Yes/no in the languages of the form ("Sí", "Wi", "نعم", "x"); None when blank or unclear."""
    text = fold(value)[:60].strip(" .!")
    if not text:
        return None
    if text in _YES_FOLDED or re.match(r"^(?:yes|si|oui|wi|sim|نعم)\b", text):
        return True
    if text in _NO_FOLDED or re.match(r"^(?:no|non|nao|لا)\b", text):
        return False
    return None


# ------------------------------------------------------------------ places
US_STATES: dict[str, str] = USPS_STATES
_STATE_ALIASES = {
    "tejas": "TX", "nueva york": "NY", "nuevo mexico": "NM", "carolina del norte": "NC",
    "carolina del sur": "SC", "florida": "FL", "luisiana": "LA", "misuri": "MO",
    "pensilvania": "PA", "nueva jersey": "NJ", "washington dc": "DC", "washington d c": "DC",
    "d c": "DC", "dc": "DC", "district of columbia": "DC", "calif": "CA", "cali": "CA",
    "mass": "MA", "penn": "PA", "wash": "WA", "ill": "IL", "puerto rico": "PR",
}  # fmt: skip
_STATE_KEYS = {fold(name): code for code, name in US_STATES.items()} | _STATE_ALIASES


def normalize_state(value: str) -> str | None:
    """Two-letter code from "TX", "tx.", "Texas", "Tejas", "New York"; None if not a US state."""
    text = re.sub(r"[^\w\s]", " ", fold(value)[:60])
    text = re.sub(r"\s+", " ", text).strip()
    text = re.sub(r"^(?:state of|estado de) ", "", text)
    if not text:
        return None
    if len(text) == 2 and text.upper() in US_STATES:
        return text.upper()
    return _STATE_KEYS.get(text)


_COUNTY_SUFFIX = re.compile(r"\s*\b(county|co|cnty|parish|borough|condado|comte)\b\.?\s*$")
_COUNTY_PREFIX = re.compile(r"^(?:condado de|county of|comte de)\s+")


@functools.lru_cache(maxsize=4096)
def county_key(value: str) -> str:
    """A county's matching key: "Harris County" == "harris co." == "Condado de Harris" -> "harris"."""
    text = re.sub(r"[^\w\s'-]", " ", fold(value)[:100])
    text = re.sub(r"\s+", " ", text).strip()
    text = _COUNTY_PREFIX.sub("", text)
    text = _COUNTY_SUFFIX.sub("", text).strip()
    return re.sub(r"^st\.? ", "saint ", text)


def normalize_county(value: str) -> str | None:
    """A display name: "harris co." -> "Harris County"; Louisiana parishes and boroughs keep their word."""
    text = clean_text(value, 100)
    key = county_key(text)
    if not key or not re.search(r"[^\W\d_]", key) or len(key) > 40:
        return None
    suffix = "County"
    for word, shown in (("parish", "Parish"), ("borough", "Borough")):
        if re.search(rf"\b{word}\b", fold(text)):
            suffix = shown
    # Keep the person's spelling (accents, "DeKalb") unless it is all one case.
    name = re.sub(r"[^\w\s'’-]", " ", text)
    name = re.sub(r"^\s*(?:condado de|county of|comt[eé] de)\s+", "", name, flags=re.I)
    name = re.sub(
        r"\s*\b(?:county|co|cnty|parish|borough|condado|comt[eé])\s*$", "", name, flags=re.I
    )
    name = " ".join(name.split())
    if name.islower() or name.isupper():
        name = re.sub(r"(^|[\s'-])(\w)", lambda m: m[1] + m[2].upper(), name.lower())
    name = re.sub(r"^(?:st|St|ST)\s", "Saint ", name)
    if not name or fold(name).replace("’", "'") != key:
        name = key
    return f"{name} {suffix}"


# ------------------------------------------------------------------ languages
BUILTIN_LANGUAGE_ALIASES: dict[str, str] = {
    "english": "English", "ingles": "English", "anglais": "English", "angle": "English",
    "انجليزي": "English", "الانجليزية": "English", "en": "English", "eng": "English",
    "spanish": "Spanish", "espanol": "Spanish", "castellano": "Spanish", "es": "Spanish",
    "espagnol": "Spanish", "panyol": "Spanish", "اسباني": "Spanish",
    "arabic": "Arabic", "arabe": "Arabic", "عربي": "Arabic", "العربية": "Arabic", "عربية": "Arabic",
    "ar": "Arabic", "haitian creole": "Haitian Creole", "kreyol": "Haitian Creole",
    "kreyol ayisyen": "Haitian Creole", "creole": "Haitian Creole", "haitian": "Haitian Creole",
    "creole haitien": "Haitian Creole", "criollo": "Haitian Creole", "ht": "Haitian Creole",
    "french": "French", "francais": "French", "frances": "French", "fr": "French",
    "vietnamese": "Vietnamese", "tieng viet": "Vietnamese", "chinese": "Chinese",
    "mandarin": "Chinese", "cantonese": "Chinese", "中文": "Chinese", "普通话": "Chinese",
    "portuguese": "Portuguese", "portugues": "Portuguese", "russian": "Russian",
    "русский": "Russian", "ukrainian": "Ukrainian", "українська": "Ukrainian",
    "tagalog": "Tagalog", "filipino": "Tagalog", "korean": "Korean", "한국어": "Korean",
    "somali": "Somali", "dari": "Dari", "pashto": "Pashto", "farsi": "Farsi", "persian": "Farsi",
    "فارسی": "Farsi", "k'iche'": "K'iche'", "kiche": "K'iche'", "quiche": "K'iche'",
    "mam": "Mam", "amharic": "Amharic", "tigrinya": "Tigrinya", "hindi": "Hindi",
    "punjabi": "Punjabi", "bengali": "Bengali", "urdu": "Urdu", "swahili": "Swahili",
}  # fmt: skip


def language_aliases(
    extra: Mapping[str, str] | None = None, canonical: Iterable[str] = ()
) -> dict[str, str]:
    """Folded alias -> canonical language, the built-ins plus config (roster.yaml) ones."""
    table = {fold(k): v for k, v in BUILTIN_LANGUAGE_ALIASES.items()}
    table.update({fold(name): name for name in canonical})
    table.update({fold(k): v for k, v in (extra or {}).items()})
    return table


# Names the directory files under a broader language: a partner that lists "Chinese" may
# speak Mandarin only, so a Cantonese speaker is told to the partner as needing an interpreter.
LANGUAGE_VARIETIES = frozenset(
    fold(v)
    for v in (
        "cantonese", "mandarin", "普通话", "粤语", "廣東話", "toisanese", "taishanese", "hakka",
        "fujianese", "hokkien", "creole", "criollo",
    )
)  # fmt: skip
_LANGUAGE_SPLIT = re.compile(r"\s*(?:[,;/&+|()\n]|\band\b|\by\b|\bet\b|\bو\b)\s*", re.I)


def languages_as_given(value: str, aliases: Mapping[str, str] | None = None) -> tuple[str, ...]:
    """Each recognised language as the person wrote it, aligned with `normalize_languages`.

    "cantonese / English" -> ("Cantonese", "English"). Only words of the alias table are
    returned (capitalised), so free text around them ("call after 5") never is.
    """
    table = aliases or language_aliases()
    canonical = normalize_languages(value, table)
    text = clean_text(value, 200)
    words: dict[str, str] = {}
    for token in [text, *_LANGUAGE_SPLIT.split(text)]:
        token = token.strip(" .-'\"")
        for candidate in [token, *token.split()]:
            name = table.get(fold(candidate))
            if name and name not in words:
                words[name] = candidate[:1].upper() + candidate[1:]
    return tuple(words.get(name, name) for name in canonical)


def is_variety(language: str) -> bool:
    """A name the directory files under a broader language (Cantonese under Chinese)."""
    return fold(language) in LANGUAGE_VARIETIES


def normalize_languages(value: str, aliases: Mapping[str, str] | None = None) -> tuple[str, ...]:
    """Canonical languages, in the order written: "Español / English" -> ("Spanish", "English")."""
    table = aliases or language_aliases()
    text = fold(value)[:200]
    if not text:
        return ()
    if text in table:
        return (table[text],)
    found: list[str] = []
    for part in re.split(r"\s*(?:[,;/&+|()\n]|\band\b|\by\b|\bet\b|\bو\b)\s*", text):
        part = part.strip(" .-'\"")
        part = re.sub(
            r"^(?:only|solo|solamente|seulement|mainly|mostly|some|un poco de|a little)\s+",
            "",
            part,
        )
        name = table.get(part) or table.get(part.split(" ")[0]) if part else None
        if name and name not in found:
            found.append(name)
    return tuple(found)
