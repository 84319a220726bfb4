"""The leak scanner: find known personal values in output texts, however they were reformatted (pure, no I/O).

An auditor's tool, deliberately independent of the privacy guard (`coalition.privacy`):
the guard decides what may leave the bot; this scanner checks afterwards, on what
actually left (Slack messages, log lines, artifacts, ledger rows, the weekly Doc,
partner sheets), that none of the seed's personal values is in it. Sharing code
with the guard would let one bug hide itself twice.

Texts are compared after the transformations an output path applies on the way:
HTML entities (Slack's `&amp;`), `\\uXXXX` escapes (JSON with ensure_ascii),
Unicode normal form, case, invisible and direction characters, runs of whitespace.
A value matches only as a whole word (a name "Ana" is not found in "Banana").
Phone numbers are also compared by their digits in any phone-shaped span, so
`(713) 555-0142`, `713.555.0142` and `+17135550142` are the same leak; dates
written M/D/YYYY are also looked for as YYYY-MM-DD. A `Leak` never prints the
value it found, only a masked hint: test failures must not leak either.
"""

from __future__ import annotations

import html
import re
import unicodedata
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

MIN_LENGTH = 4  # shorter values ("Yes", "2") identify nobody and match everywhere
_INVISIBLE = re.compile("[\u00ad\u200b-\u200f\u202a-\u202e\u2060-\u2064\u2066-\u2069\ufeff]")
_SPACE = re.compile(r"\s+")
_UNICODE_ESCAPE = re.compile(r"\\u([dD][89abAB][0-9a-fA-F]{2})\\u([dD][c-fC-F][0-9a-fA-F]{2})|\\u([0-9a-fA-F]{4})")  # fmt: skip
# A US phone number in any usual spelling; Slack timestamps (digits.digits) are blanked first.
_PHONE_SPAN = re.compile(r"(?<![\w+])(?:\+?1[\s.\-]?)?\(?\d{3}\)?[\s.\-]?\d{3}[\s.\-]?\d{4}(?!\w)")
_SLACK_TS = re.compile(r"\d{10}\.\d{6}")
_US_DATE = re.compile(r"^(\d{1,2})/(\d{1,2})/(\d{4})$")
_PHONE_CHARS = re.compile(r"^[\d\s().+\-]+$")


def normalize(text: str) -> str:
    """The form both texts and values are compared in."""
    text = _UNICODE_ESCAPE.sub(_unescape_unicode, text)
    text = html.unescape(text)
    text = unicodedata.normalize("NFKC", text)
    text = _INVISIBLE.sub("", text)
    return _SPACE.sub(" ", text).casefold().strip()


def _unescape_unicode(match: re.Match[str]) -> str:
    if match.group(3):
        return chr(int(match.group(3), 16))
    high, low = int(match.group(1), 16), int(match.group(2), 16)
    return chr(0x10000 + ((high - 0xD800) << 10) + (low - 0xDC00))


def phone_digits(value: str) -> str | None:
    """The 10-digit US national number of a phone-shaped value, or None if it is not one."""
    if not _PHONE_CHARS.match(value):
        return None
    digits = re.sub(r"\D", "", value)
    if len(digits) == 11 and digits.startswith("1"):
        digits = digits[1:]
    return digits if len(digits) == 10 else None


def date_variants(value: str) -> list[str]:
    """Other spellings of an M/D/YYYY date that an output path might produce."""
    match = _US_DATE.match(value.strip())
    if not match:
        return []
    month, day, year = (int(g) for g in match.groups())
    if not (1 <= month <= 12 and 1 <= day <= 31):
        return []
    return [f"{year:04d}-{month:02d}-{day:02d}", f"{month:02d}/{day:02d}/{year:04d}"]


@dataclass(frozen=True)
class Leak:
    """A personal value found in one output. `hint` masks the value; `value` is kept out of repr."""

    source: str
    hint: str
    how: str  # "text" | "phone digits" | "date variant"
    value: str = field(repr=False, compare=True)

    def __str__(self) -> str:
        return f"{self.source}: {self.how} match of {self.hint}"


def mask(value: str) -> str:
    """Enough to find the value in the seed, not enough to read it: first character, length."""
    return f"{value[:1]}…({len(value)} chars)"


class LeakScanner:
    """Compiled once for a set of personal values; scans any number of texts."""

    def __init__(
        self,
        values: Iterable[str],
        min_length: int = MIN_LENGTH,
        dates: bool = True,
        public: Iterable[str] = (),
    ) -> None:
        self._by_form: dict[str, str] = {}
        self._how: dict[str, str] = {}
        self._phones: dict[str, str] = {}
        # Values that are also public organization data (a bill's hearing date, a city in a
        # member's name) prove nothing when found; they are counted, not searched.
        shown = [str(p or "") for p in public]
        self._public = {normalize(p) for p in shown if p.strip()}
        self._public |= {normalize(v) for p in shown for v in date_variants(p)}
        self.skipped_public: set[str] = set()
        for raw in values:
            value = str(raw or "").strip()
            if len(value) < min_length or (value.isdigit() and len(value) < 7):
                continue
            forms = [(normalize(value), "text")]
            if dates:
                forms += [(normalize(v), "date variant") for v in date_variants(value)]
            if any(form in self._public for form, _ in forms):
                self.skipped_public.add(value)
                continue
            for form, how in forms:
                self._add(form, value, how)
            digits = phone_digits(value)
            if digits:
                self._phones[digits] = value
        self._pattern = self._compile(self._by_form)

    def _add(self, form: str, value: str, how: str) -> None:
        if form and form not in self._by_form:
            self._by_form[form] = value
            self._how[form] = how

    @staticmethod
    def _compile(forms: Mapping[str, str]) -> re.Pattern[str] | None:
        if not forms:
            return None
        # Longest first, so a full name wins over a shorter value inside it.
        alternatives = "|".join(re.escape(f) for f in sorted(forms, key=len, reverse=True))
        return re.compile(rf"(?<!\w)(?:{alternatives})(?!\w)")

    @property
    def size(self) -> int:
        """How many distinct forms are searched (values plus their variants)."""
        return len(self._by_form) + len(self._phones)

    def scan(self, source: str, text: str) -> list[Leak]:
        """Every personal value in `text`, each reported once per source."""
        found: dict[str, Leak] = {}
        folded = normalize(text)
        if self._pattern is not None:
            for match in self._pattern.finditer(folded):
                form = match.group(0)
                value = self._by_form[form]
                found.setdefault(value, Leak(source, mask(value), self._how[form], value))
        if self._phones:
            for match in _PHONE_SPAN.finditer(_SLACK_TS.sub(" ", folded)):
                digits = phone_digits(match.group(0).strip())
                value = self._phones.get(digits or "")
                if value is not None:
                    found.setdefault(value, Leak(source, mask(value), "phone digits", value))
        return list(found.values())

    def scan_all(self, texts: Iterable[tuple[str, str]]) -> list[Leak]:
        """Scan (source, text) pairs; all leaks, in order."""
        return [leak for source, text in texts for leak in self.scan(source, text)]


def scan(texts: Iterable[tuple[str, str]], values: Iterable[str]) -> list[Leak]:
    """One call: the leaks of `values` in the (source, text) pairs."""
    return LeakScanner(values).scan_all(texts)


def report(leaks: Iterable[Leak], limit: int = 40) -> str:
    """A failure message that says where, never what."""
    leaks = list(leaks)
    lines = [str(leak) for leak in leaks[:limit]]
    if len(leaks) > limit:
        lines.append(f"... and {len(leaks) - limit} more")
    return f"{len(leaks)} personal value(s) found:\n" + "\n".join(lines)


__all__ = [
    "Leak",
    "LeakScanner",
    "date_variants",
    "mask",
    "normalize",
    "phone_digits",
    "report",
    "scan",
]
