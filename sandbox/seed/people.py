"""Invented people for the demo seed: names, phones in 555-01xx, emails at example.org (pure).

Every name is composed from lists made up for this seed, so no combination names a real
person; phones use the 555-0100..0199 block reserved for fiction; emails use the
example.org / example.com domains reserved for documentation.
"""

from __future__ import annotations

import random
import string
import unicodedata
from dataclasses import dataclass

# Given and family names per language group, invented or rare enough that their
# combinations are clearly fictional. Non-Latin scripts come with a romanized form
# so emails can be derived from them.
GIVEN: dict[str, list[str]] = {
    "es": [
        "Alvarina",
        "Belisario",
        "Celestra",
        "Domitilo",
        "Esmirna",
        "Fulgencia",
        "Gervasio",
        "Hortencio",
        "Iluminada",
        "Jacinta",
        "Leodegario",
        "Maristela",
        "Nicanora",
        "Orfilia",
        "Prudencio",
        "Rosaura",
        "Saturnino",
        "Teodolinda",
        "Urbelina",
        "Wenceslada",
    ],
    "ar": [
        "Samirah",
        "Tawfiq",
        "Nadira",
        "Basimo",
        "Rahela",
        "Zaydun",
        "Lubnara",
        "Harith",
        "Jumanah",
        "Qaswar",
    ],
    "ht": [
        "Wilnise",
        "Jeantel",
        "Rosemène",
        "Dieuseul",
        "Mackenson",
        "Fabiolène",
        "Louvince",
        "Nadège",
        "Ti-Sonson",
        "Marjolène",
    ],
    "vi": ["Thảo Vy", "Minh Khôi", "Lan Chi", "Quang Duệ", "Hạnh Nhi", "Tuấn Kiệt", "Diệp Anh"],
    "zh": ["秀兰", "志明", "丽华", "建业", "雨桐", "子墨"],
    "en": [
        "Brennagh",
        "Tobiah",
        "Marquita",
        "Delvin",
        "Roshonda",
        "Caedmon",
        "Ysolde",
        "Fenwick",
        "Odalys",
        "Perrin",
        "Quenby",
        "Thaddea",
        "Ambrosine",
        "Barnaby",
        "Corisande",
        "Dashiell",
        "Elowen",
        "Florizel",
        "Gwendeline",
        "Hollis",
        "Isolde",
        "Jerusha",
        "Kestrel",
        "Lucan",
    ],
}
FAMILY: dict[str, list[str]] = {
    "es": [
        "Quintervo",
        "Almazaro",
        "Berrocante",
        "Calderuz",
        "Doradillo",
        "Escamero",
        "Fontavera",
        "Garrizal",
        "Hinojera",
        "Larrabito",
        "Mendarozo",
        "Olivenza",
        "Pardoquín",
        "Rivaldeza",
        "Zubiarte",
    ],
    "ar": [
        "Al-Qasrani",
        "Benhadrou",
        "Al-Furadi",
        "Qandarli",
        "El-Sharbouni",
        "Haddarin",
        "Mansoudi",
    ],
    "ht": ["Pierrelus", "Saintilvert", "Jean-Mondésir", "Dorvilien", "Belizairel", "Augustinvil"],
    "vi": ["Lữ", "Văng", "Khổng", "Tôn Nữ", "Âu Dương"],
    "zh": ["欧阳", "司徒", "上官", "诸葛"],
    "en": [
        "Thistlewood",
        "Ravensmere",
        "Oakhollow",
        "Pemberwick",
        "Quillfeather",
        "Brennwater",
        "Larkspurr",
        "Hazeldrum",
        "Ashcombe",
        "Briarwick",
        "Copperfield-Nye",
        "Dunmarrow",
        "Elderquist",
        "Foxhallow",
        "Glimmerton",
        "Heathervane",
    ],
}
ROMAN: dict[str, str] = {
    "秀兰": "Xiulan",
    "志明": "Zhiming",
    "丽华": "Lihua",
    "建业": "Jianye",
    "雨桐": "Yutong",
    "子墨": "Zimo",
    "欧阳": "Ouyang",
    "司徒": "Situ",
    "上官": "Shangguan",
    "诸葛": "Zhuge",
}
# Arabic-script spellings for some intake rows: people write their name as they know it.
ARABIC_SCRIPT: dict[str, str] = {
    "Samirah": "سميرة",
    "Tawfiq": "توفيق",
    "Nadira": "نديرة",
    "Harith": "حارث",
    "Al-Qasrani": "القصراني",
    "Benhadrou": "بنحدرو",
    "Mansoudi": "منصودي",
}

# Area codes by state, so a phone looks like it belongs where the person lives.
AREA_CODES: dict[str, list[str]] = {
    "TX": ["713", "214", "915", "956"],
    "CA": ["213", "619", "559"],
    "FL": ["305", "954", "561"],
    "NY": ["718", "212", "347"],
    "IL": ["312", "773"],
    "AZ": ["602", "520"],
    "GA": ["404", "678"],
    "MA": ["617", "781"],
    "NJ": ["201", "973"],
    "WA": ["206", "509"],
    "NC": ["704", "919"],
    "CO": ["303", "720"],
    "IA": ["515"],
    "TN": ["615"],
}


@dataclass(frozen=True)
class Person:
    """An invented person: display name, ascii handle for emails and Slack, home state."""

    given: str
    family: str
    group: str

    @property
    def name(self) -> str:
        if self.group in {"zh", "vi"}:
            return f"{self.family} {self.given}" if self.group == "vi" else self.family + self.given
        return f"{self.given} {self.family}"

    @property
    def roman_name(self) -> str:
        given = ROMAN.get(self.given, self.given)
        family = ROMAN.get(self.family, self.family)
        return f"{given} {family}"

    @property
    def handle(self) -> str:
        return ascii_handle(self.roman_name)


def ascii_handle(text: str) -> str:
    """'Rosemène Jean-Mondésir' -> 'rosemene.jean-mondesir'."""
    plain = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    words = ["".join(c for c in w.lower() if c.isalnum() or c == "-") for w in plain.split()]
    return ".".join(w for w in words if w)


class People:
    """Draws invented people without repeating a name, and unique fictional phones."""

    def __init__(self, rng: random.Random) -> None:
        self.rng = rng
        self._used_names: set[tuple[str, str]] = set()
        self._used_phones: set[tuple[str, int]] = set()

    def person(self, group: str) -> Person:
        for _ in range(500):
            given = self.rng.choice(GIVEN[group])
            family = self.rng.choice(FAMILY[group])
            if (given, family) not in self._used_names:
                self._used_names.add((given, family))
                return Person(given, family, group)
        raise RuntimeError(f"ran out of invented names for {group!r}")

    def phone_digits(self, state: str) -> tuple[str, str]:
        """A fresh (area code, last four) pair in the fictional 555-01xx block."""
        codes = AREA_CODES.get(state, AREA_CODES["NY"])
        for _ in range(2000):
            area = self.rng.choice(codes)
            line = self.rng.randrange(100, 200)
            if (area, line) not in self._used_phones:
                self._used_phones.add((area, line))
                return area, f"0{line}"
        raise RuntimeError("ran out of fictional phone numbers")

    def phone(self, state: str, style: str | None = None) -> str:
        """A phone number written the way people write them on a form."""
        area, last = self.phone_digits(state)
        style = style or self.rng.choice(["paren", "paren", "dash", "dots", "plain", "intl"])
        return format_phone(area, last, style)

    def email(self, person: Person, domain: str | None = None) -> str:
        domain = domain or self.rng.choice(["example.org", "example.com"])
        suffix = self.rng.choice(["", "", str(self.rng.randrange(1, 99))])
        return f"{person.handle}{suffix}@{domain}"


def format_phone(area: str, last: str, style: str) -> str:
    return {
        "paren": f"({area}) 555-{last}",
        "dash": f"{area}-555-{last}",
        "dots": f"{area}.555.{last}",
        "plain": f"{area}555{last}",
        "intl": f"+1 {area} 555 {last}",
    }[style]


def random_id(rng: random.Random, prefix: str, length: int, alphabet: str | None = None) -> str:
    """A service-shaped id (`app…`, `U0…`, Google file ids) drawn from the seed's own generator."""
    alphabet = alphabet or string.ascii_uppercase + string.digits
    return prefix + "".join(rng.choice(alphabet) for _ in range(length))


def google_id(rng: random.Random, length: int = 44) -> str:
    """A Drive-style id of [A-Za-z0-9_-] starting with '1': 44 characters for files, 33 for folders."""
    return random_id(rng, "1", length - 1, string.ascii_letters + string.digits + "-_")
