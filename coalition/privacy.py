"""The privacy guard: find, refuse and redact personal data before anything leaves the bot (pure, no I/O).

Two kinds of detection work together. Patterns catch what looks like personal data
anywhere (emails, phone numbers, A-numbers, SSNs, USCIS receipt numbers, dates of
birth); the exact values of the batch being processed (names, addresses, notes...)
catch what no pattern can. Every outgoing Slack message is checked by
`guard.check_slack_message`, and `install_log_redaction` scrubs log records of the
bot's and Prefect's loggers, so one guard protects every output path.
"""

from __future__ import annotations

import functools
import logging
import re
import threading
import unicodedata
from collections import Counter
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from phonenumbers import Leniency, PhoneNumberMatcher

from coalition.log_records import logger_in, rewrite_records

KINDS = (
    "email",
    "phone",
    "a_number",
    "ssn",
    "receipt_number",
    "date_of_birth",
    "known_value",
)


class PIIError(Exception):
    """Personal data found where it may not go. The message names kinds and places, never values."""

    def __init__(self, kinds: Iterable[str], where: Iterable[str] = ()) -> None:
        self.kinds = sorted(set(kinds))
        self.where = sorted(set(where))
        place = f" in {', '.join(self.where)}" if self.where else ""
        super().__init__(f"refused: personal data ({', '.join(self.kinds)}) found{place}")


@dataclass(frozen=True)
class Finding:
    """One piece of personal data: what kind, and where in the text (Python string indices)."""

    kind: str
    start: int
    end: int


# ---------------------------------------------------------------- spans that are never personal
# Links carry document ids and timestamps full of digits; the number detectors skip them.
# Emails and known values are still searched inside links (a mailto: or ?email= leaks too).
_URL = re.compile(r"\bhttps?://[^\s<>|\"']+", re.IGNORECASE)
_SLACK_TS = re.compile(r"(?<![\d.])\d{10}\.\d{6}(?![\d.])")


def _masked(text: str) -> str:
    """The text with links and Slack timestamps blanked out, same length so offsets still hold."""
    for pattern in (_URL, _SLACK_TS):
        text = pattern.sub(lambda m: " " * (m.end() - m.start()), text)
    return text


# ---------------------------------------------------------------- emails
# "|" may sit inside a local part but not just before one: Slack writes
# <mailto:a@b.org|a@b.org>, which is two addresses.
_EMAIL = re.compile(
    r"(?<![\w.!#$%&'*+/=?^`{}~-])"
    r"[\w!#$%&'*+/=?^`{|}~-]+(?:\.[\w!#$%&'*+/=?^`{|}~-]+)*"
    r"(?:@|%40)"
    r"(?:[^\W_](?:[\w-]*[^\W_])?\.)+[^\W\d_][\w-]*[^\W_]",
)


def _emails(text: str) -> Iterator[Finding]:
    if "@" not in text and "%40" not in text:
        return
    for match in _EMAIL.finditer(text):
        yield Finding("email", match.start(), match.end())


# ---------------------------------------------------------------- phone numbers
# International numbers written with a leading + (E.164 or spaced), even ones the
# metadata calls invalid: a plausible number is still somebody's number.
_INTERNATIONAL = re.compile(r"(?<![\w+])\+\d(?:[\s().-]{0,2}\d){6,14}(?![\w])")
_ID_PREFIX = re.compile(r"[A-Za-z]{1,4}-$")
_COMMA_GROUPED = re.compile(r"^\d{1,3}(?:,\d{3})+$")
_MIN_PHONE_DIGITS = 7
_NANP_GROUPS = {(10,), (11,), (3, 3, 4), (1, 3, 3, 4), (3, 7), (1, 10)}


def _looks_like_phone(text: str, start: int, end: int, number: Any) -> bool:
    """Reject the matcher's look-alikes: ids (R-2026-000123), decimals, money, bare timestamps."""
    raw = text[start:end]
    before, after = text[max(start - 6, 0) : start], text[end : end + 2]
    if sum(c.isdigit() for c in raw) < _MIN_PHONE_DIGITS or after[:1] == "%":
        return False
    if before[-1:].isalnum() or after[:1].isalnum():
        return False
    if _ID_PREFIX.search(before):
        return False
    if re.match(r"[.,]\d|-\w", after) or re.search(r"\d[.,]$", before):
        return False
    if before.rstrip().endswith(("$", "€", "£", "#")) or _COMMA_GROUPED.match(raw):
        return False
    if number.country_code == 1 and not raw.lstrip().startswith("+"):
        national = str(number.national_number)
        groups = tuple(len(g) for g in re.findall(r"\d+", raw))
        if number.extension:
            groups = groups[:-1]
        # NANP area codes never start with 0 or 1 ("1764370000" is a Unix time), and a
        # number is grouped like one: "SB 2026-117" is a bill, "555-0143" a local phone.
        if len(national) == 10:
            return national[0] in "23456789" and groups in _NANP_GROUPS
        # A bare local number needs its dash or dot: "100 2020" is a count and a year.
        return len(national) == 7 and bool(re.fullmatch(r"\d{3}[.-]\d{4}", raw.strip()))
    return True


def _phones(text: str) -> Iterator[Finding]:
    if sum(c.isdigit() for c in text) < _MIN_PHONE_DIGITS:
        return
    for match in PhoneNumberMatcher(text, "US", leniency=Leniency.POSSIBLE):
        if _looks_like_phone(text, match.start, match.end, match.number):
            yield Finding("phone", match.start, match.end)
    for match in _INTERNATIONAL.finditer(text):
        yield Finding("phone", match.start(), match.end())


# ---------------------------------------------------------------- A-numbers, SSNs, receipt numbers
_A_NUMBER_DIGITS = r"\d(?:[\s-]?\d){7,8}(?![\d-])"
_A_NUMBER = re.compile(rf"(?<![\w-])A[\s#-]?\s?{_A_NUMBER_DIGITS}")
_A_NUMBER_LABELLED = re.compile(
    r"(?i:\b(?:a[\s-]?(?:number|num|no\b\.?|#)|alien\s+(?:registration\s+)?(?:number|no\b\.?|#)"
    r"|n[uú]mero\s+(?:de\s+)?(?:a\b|extranjero|registro\s+de\s+extranjero)))"
    rf"\s*[:#.]?\s*(A?[\s-]?{_A_NUMBER_DIGITS})"
)
# Unlabelled, only the dashed form: "100 10 1000" is more likely three counts than an SSN.
_SSN = re.compile(r"(?<![\w-])\d{3}-\d{2}-\d{4}(?![\w-])")
_SSN_LABELLED = re.compile(
    r"(?i:\b(?:ssn|ss#|itin|social\s+security(?:\s+(?:number|no\b\.?|#))?|seguro\s+social)"
    r"(?:\s+(?:number|no\b\.?|#|n[uú]mero))?)"
    r"\s*[:#.]?\s*(\d{3}[\s.-]?\d{2}[\s.-]?\d{4})(?!\d)"
)
# USCIS service-centre and field-office prefixes of 13-character receipt numbers.
RECEIPT_PREFIXES = ("IOE", "EAC", "WAC", "LIN", "SRC", "NBC", "MSC", "YSC", "TSC", "VSC", "CSC", "NSC")  # fmt: skip
_RECEIPT = re.compile(
    rf"(?<![A-Za-z0-9])(?i:{'|'.join(RECEIPT_PREFIXES)})[\s-]?\d(?:[\s-]?\d){{9}}(?!\d)"
)


def _labelled(pattern: re.Pattern[str], kind: str, text: str) -> Iterator[Finding]:
    for match in pattern.finditer(text):
        group = 1 if pattern.groups else 0
        yield Finding(kind, match.start(group), match.end(group))


def _ids(text: str) -> Iterator[Finding]:
    yield from _labelled(_A_NUMBER, "a_number", text)
    yield from _labelled(_A_NUMBER_LABELLED, "a_number", text)
    yield from _labelled(_RECEIPT, "receipt_number", text)
    for match in _SSN.finditer(text):
        yield Finding("ssn", match.start(), match.end())
    yield from _labelled(_SSN_LABELLED, "ssn", text)


# ---------------------------------------------------------------- dates of birth
_MONTHS = (
    r"jan(?:uary)?|feb(?:ruary)?|mar(?:ch)?|apr(?:il)?|may|june?|july?|aug(?:ust)?"
    r"|sep(?:t(?:ember)?)?|oct(?:ober)?|nov(?:ember)?|dec(?:ember)?"
    r"|enero|febrero|marzo|abril|mayo|junio|julio|agosto|septiembre|setiembre|octubre"
    r"|noviembre|diciembre"
)
_DATE = re.compile(
    r"(?i)(?<![\w/.-])(?:"
    r"\d{1,2}[/.-]\d{1,2}[/.-](?:\d{4}|\d{2})"
    r"|\d{4}[/.-]\d{1,2}[/.-]\d{1,2}"
    rf"|(?:{_MONTHS})\.?\s+\d{{1,2}}(?:st|nd|rd|th)?,?\s+\d{{4}}"
    rf"|\d{{1,2}}(?:st|nd|rd|th)?\s+(?:de\s+)?(?:{_MONTHS})\.?,?\s+(?:de\s+|del\s+)?\d{{4}}"
    r"|(?:19|20)\d{2}"
    r")(?![\w/-])"
)
_BIRTH_WORDS = re.compile(
    r"(?i)\b(?:d\.?o\.?b\b\.?|(?:date\s+of\s+birth|birth\s*date|birthday|born(?:\s+(?:on|in))?"
    r"|birth(?!\s+certificates?\b)|fecha\s+de\s+nacimiento|nacimiento|naci[oó]|nacid[oa]"
    r"|cumplea[nñ]os|f\.\s?nac)\b\.?)"
)
_DOB_AFTER = 40  # a date this many characters after "DOB" / "born" is a date of birth
_DOB_BEFORE = 20  # ... or this many before ("01/02/1990 (date of birth)")
_YEAR_ONLY = re.compile(r"^(?:19|20)\d{2}$")


def _dates_of_birth(text: str) -> Iterator[Finding]:
    words = [(m.start(), m.end()) for m in _BIRTH_WORDS.finditer(text)]
    if not words:
        return
    for match in _DATE.finditer(text):
        start, end = match.span()
        for w_start, w_end in words:
            after = 0 <= start - w_end <= _DOB_AFTER
            before = 0 <= w_start - end <= _DOB_BEFORE
            # A bare year only counts right after "born in"/"nacido en" (a birth year).
            if _YEAR_ONLY.match(match.group()):
                after, before = 0 <= start - w_end <= 4, False
            if after or before:
                yield Finding("date_of_birth", start, end)
                break


# ---------------------------------------------------------------- known values of the batch
MIN_KNOWN_VALUE_LENGTH = 4
# Filler answers people type into personal fields ("N/A", "ninguno"): matching them would
# refuse ordinary messages while identifying nobody.
IGNORED_VALUES = frozenset(
    {
        "yes", "no", "si", "sí", "true", "false", "none", "null", "nil", "n/a", "na", "n.a.",
        "unknown", "other", "same", "test", "pending", "not sure", "not applicable",
        "prefer not to say", "decline", "declined", "no email", "no phone", "no notes",
        "ninguno", "ninguna", "nada", "nadie", "otro", "otra", "no sé", "no se",
        "desconocido", "desconocida", "no aplica", "no tengo", "sin correo", "sin teléfono",
        "prefiero no decir",
    }
)  # fmt: skip
_PHONE_LIKE_VALUE = re.compile(r"^\+?[\d\s().-]+$")


def _fold(chunk: str) -> str:
    """Canonical caseless form: decompose, casefold, recompose (so é, e + U+0301 and É agree)."""
    return unicodedata.normalize("NFC", unicodedata.normalize("NFD", chunk).casefold())


class _Folded:
    """A text in folded form, with each folded character's span in the original text."""

    def __init__(self, text: str) -> None:
        chars: list[str] = []
        self.starts: list[int] = []
        self.ends: list[int] = []
        previous_space = False
        for start, end in _clusters(text):
            chunk = text[start:end]
            if chunk.isspace():
                if previous_space:
                    self.ends[-1] = end
                    continue
                folded, previous_space = " ", True
            else:
                folded, previous_space = _fold(chunk), False
            for char in folded:
                chars.append(char)
                self.starts.append(start)
                self.ends.append(end)
        self.text = "".join(chars)


def _clusters(text: str) -> Iterator[tuple[int, int]]:
    """Spans of a base character and the combining marks after it."""
    i, n = 0, len(text)
    while i < n:
        j = i + 1
        while j < n and unicodedata.combining(text[j]):
            j += 1
        yield i, j
        i = j


def normalise_value(value: str) -> str:
    """A known value as it is compared: folded, whitespace collapsed and trimmed."""
    return _Folded(value).text.strip()


def is_ignorable(value: str) -> bool:
    """Values too short or too common to identify anybody (and that would refuse ordinary text)."""
    folded = normalise_value(value)
    if len(folded) < MIN_KNOWN_VALUE_LENGTH or folded in IGNORED_VALUES:
        return True
    # Small bare numbers (household size, an income figure) collide with counts and totals.
    digits = sum(c.isdigit() for c in folded)
    return bool(re.fullmatch(r"[\d\s.,$%/+()-]+", folded)) and digits < 5


@dataclass(frozen=True)
class _KnownSet:
    """Known values ready to search: folded words and phrases, and digit strings of phone-like values."""

    phrases: tuple[str, ...]
    digit_strings: tuple[str, ...]


def _is_phone_like(folded: str) -> bool:
    digits = sum(c.isdigit() for c in folded)
    return bool(_PHONE_LIKE_VALUE.match(folded)) and digits >= _MIN_PHONE_DIGITS


@functools.lru_cache(maxsize=16)
def _known_set(values: frozenset[str]) -> _KnownSet:
    folded = {normalise_value(v) for v in values if isinstance(v, str) and not is_ignorable(v)}
    phrases = tuple(sorted(folded))
    # A phone typed "(555) 123-4567" in the sheet still matches "555.123.4567" in a message.
    digit_strings = tuple(sorted({re.sub(r"\D", "", v) for v in folded if _is_phone_like(v)}))
    return _KnownSet(phrases, digit_strings)


def _bounded(text: str, start: int, end: int) -> bool:
    """A match does not begin or end in the middle of a word (for edges that are word characters)."""
    head_ok = start == 0 or not (text[start].isalnum() and _is_word(text[start - 1]))
    tail_ok = end == len(text) or not (text[end - 1].isalnum() and _is_word(text[end]))
    return head_ok and tail_ok


def _is_word(char: str) -> bool:
    return char.isalnum() or char == "_" or unicodedata.combining(char) != 0


def _phrase_hits(folded: _Folded, phrases: tuple[str, ...]) -> Iterator[Finding]:
    # str.find per value beats one giant alternation: thousands of values, a few ms per message.
    haystack = folded.text
    for phrase in phrases:
        at = haystack.find(phrase)
        while at != -1:
            end = at + len(phrase)
            if _bounded(haystack, at, end):
                yield Finding("known_value", folded.starts[at], folded.ends[end - 1])
            at = haystack.find(phrase, at + 1)


_DIGIT_RUN = re.compile(r"\d(?:[\s().+-]*\d)*")


def _digit_hits(text: str, digit_strings: tuple[str, ...]) -> Iterator[Finding]:
    if not digit_strings:
        return
    for run in _DIGIT_RUN.finditer(text):
        positions = [run.start() + i for i, c in enumerate(run.group()) if c.isdigit()]
        digits = "".join(text[i] for i in positions)
        for wanted in digit_strings:
            at = digits.find(wanted)
            while at != -1:
                first, last = positions[at], positions[at + len(wanted) - 1]
                # Inside a longer number only if glued to it: "1 555 123 4567" still counts.
                glued = (first > 0 and text[first - 1].isdigit()) or (
                    last + 1 < len(text) and text[last + 1].isdigit()
                )
                if not glued:
                    yield Finding("known_value", first, last + 1)
                at = digits.find(wanted, at + 1)


def _known_values(text: str, values: frozenset[str]) -> Iterator[Finding]:
    if not values:
        return
    known = _known_set(values)
    if known.phrases:
        yield from _phrase_hits(_Folded(text), known.phrases)
    yield from _digit_hits(text, known.digit_strings)


# ---------------------------------------------------------------- public API
def find_pii(text: str, known_values: Iterable[str] = ()) -> list[Finding]:
    """Every piece of personal data in `text`, by position; known values match case- and NFC-blind."""
    if not text:
        return []
    values = known_values if isinstance(known_values, frozenset) else frozenset(known_values)
    masked = _masked(text)
    findings: list[Finding] = [
        *_emails(text),
        *_phones(masked),
        *_ids(masked),
        *_dates_of_birth(masked),
        *_known_values(text, values),
    ]
    return sorted(set(findings), key=lambda f: (f.start, -f.end, f.kind))


def _merged(findings: list[Finding]) -> list[Finding]:
    """Overlapping findings joined into one span, named after the one that starts first."""
    merged: list[Finding] = []
    for finding in sorted(findings, key=lambda f: (f.start, -f.end)):
        if merged and finding.start < merged[-1].end:
            last = merged[-1]
            merged[-1] = Finding(last.kind, last.start, max(last.end, finding.end))
        else:
            merged.append(finding)
    return merged


def redact(text: str, known_values: Iterable[str] = ()) -> str:
    """`text` with each piece of personal data replaced by "[redacted <kind>]"."""
    findings = _merged(find_pii(text, known_values))
    for finding in reversed(findings):
        text = f"{text[: finding.start]}[redacted {finding.kind}]{text[finding.end :]}"
    return text


def escape_mrkdwn(text: str) -> str:
    """Escape &, < and > as Slack documents, so user text cannot form <!channel> or <@U123>."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def unescape_mrkdwn(text: str) -> str:
    """The inverse of `escape_mrkdwn` (for tests and for reading Slack's text back)."""
    return text.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")


def iter_strings(value: Any, path: str = "") -> Iterator[tuple[str, str]]:
    """(path, string) for every string nested in dicts and lists, e.g. ("blocks[0].text.text", ...)."""
    if isinstance(value, str):
        yield path, value
    elif isinstance(value, dict):
        for key, item in value.items():
            yield from iter_strings(item, f"{path}.{key}" if path else str(key))
    elif isinstance(value, (list, tuple)):
        for index, item in enumerate(value):
            yield from iter_strings(item, f"{path}[{index}]")


def _clean(values: Iterable[Any]) -> list[str]:
    """Strings (and numbers, as a sheet may hold a phone as a number) worth remembering, trimmed."""
    kept = []
    for value in values:
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            value = str(value)
        if isinstance(value, str) and value.strip():
            kept.append(value.strip())
    return kept


class PrivacyGuard:
    """The personal values of the batch in hand, and the checks every output goes through. Thread-safe."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._values: Counter[str] = Counter()
        self._frozen: frozenset[str] = frozenset()

    def add_values(self, values: Iterable[Any]) -> None:
        """Remember personal values of the current batch (names, phones, addresses, notes...)."""
        fresh = _clean(values)
        with self._lock:
            self._values.update(fresh)
            self._frozen = frozenset(self._values)

    def remove_values(self, values: Iterable[Any]) -> None:
        """Forget values added earlier (once per time they were added)."""
        gone = _clean(values)
        with self._lock:
            self._values.subtract(gone)
            self._values = +self._values
            self._frozen = frozenset(self._values)

    def clear(self) -> None:
        with self._lock:
            self._values.clear()
            self._frozen = frozenset()

    @property
    def known_values(self) -> frozenset[str]:
        with self._lock:
            return self._frozen

    @contextmanager
    def batch(self, values: Iterable[Any]) -> Iterator[PrivacyGuard]:
        """Guard these values while the block runs; other batches' values are left alone."""
        kept = list(values)
        self.add_values(kept)
        try:
            yield self
        finally:
            self.remove_values(kept)

    def find(self, text: str) -> list[Finding]:
        return find_pii(text, self.known_values)

    def check_text(self, text: str, where: str = "text") -> None:
        """Raise PIIError if `text` carries personal data."""
        findings = self.find(text)
        if findings:
            raise PIIError({f.kind for f in findings}, [where])

    def check_slack_message(self, text: str | None, blocks: list | None) -> None:
        """Raise PIIError if the text or any string anywhere in the blocks carries personal data."""
        kinds: set[str] = set()
        places: set[str] = set()
        candidates = list(iter_strings({"text": text or "", "blocks": blocks or []}))
        known = self.known_values
        # Known values are looked for once in all the strings joined (a hit in one string
        # is a hit in the join), and string by string only after a hit, to name the places:
        # a digest of hundreds of strings against a batch of thousands of values stays fast.
        if known and not any(_known_values("\n".join(v for _, v in candidates), known)):
            known = frozenset()
        for path, value in candidates:
            found = find_pii(value, known)
            if found:
                kinds.update(f.kind for f in found)
                places.add(path)
        if kinds:
            raise PIIError(kinds, places)

    def redact(self, text: str) -> str:
        return redact(text, self.known_values)


guard = PrivacyGuard()


# ---------------------------------------------------------------- logs
REDACTED_LOGGERS = (
    "coalition",
    "flows",
    "integrations",
    "bot",
    "sandbox",
    "prefect",
    "prefect.flow_runs",
    "prefect.task_runs",
)
_MARK = "_coalition_redacted"


class RedactingFilter(logging.Filter):
    """Replace personal data in a record's message and exception text before any handler sees it."""

    def __init__(self, privacy_guard: PrivacyGuard | None = None) -> None:
        super().__init__()
        self.guard = privacy_guard or guard

    def filter(self, record: logging.LogRecord) -> bool:
        if getattr(record, _MARK, False):
            return True
        redact_record(record, self.guard)
        return True


def redact_record(record: logging.LogRecord, privacy_guard: PrivacyGuard | None = None) -> None:
    """Format the record's arguments in, redact the result, and freeze the exception as redacted text."""
    active = privacy_guard or guard
    try:
        message = record.getMessage()
    except Exception:  # a bad format string must not let the raw arguments through
        message = f"{record.msg} (log arguments dropped: they did not fit the format)"
    record.msg = active.redact(str(message))
    record.args = ()
    if record.exc_info:
        if not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        # Handlers that render exc_info themselves (rich tracebacks with locals) would bypass us.
        record.exc_info = None
    if record.exc_text:
        record.exc_text = active.redact(record.exc_text)
    if record.stack_info:
        record.stack_info = active.redact(record.stack_info)
    setattr(record, _MARK, True)


_install_lock = threading.Lock()


def _is_redacted_name(name: str) -> bool:
    return logger_in(name, REDACTED_LOGGERS)


def _attach(target: logging.Logger | logging.Handler) -> None:
    if not any(isinstance(f, RedactingFilter) for f in target.filters):
        target.addFilter(RedactingFilter())


def install_log_redaction() -> None:
    """Attach the redacting filter to our loggers, their handlers and the root handlers. Idempotent.

    Prefect's run loggers ship records to the API through a handler on the logger
    itself, so the logger objects get the filter too. Loggers and handlers made
    later are covered by the record factory; call this again after logging is
    reconfigured (e.g. at the start of each flow) to filter new handlers as well.
    """
    with _install_lock:
        rewrite_records("privacy.redact", _is_redacted_name, redact_record)
        loggers = [logging.getLogger(name) for name in REDACTED_LOGGERS]
        existing = [
            logging.getLogger(name)
            for name in list(logging.root.manager.loggerDict)
            if _is_redacted_name(name)
        ]
        for logger in [*loggers, *existing]:
            _attach(logger)
            for handler in logger.handlers:
                _attach(handler)
        for handler in logging.getLogger().handlers:
            _attach(handler)


__all__ = [
    "KINDS",
    "Finding",
    "PIIError",
    "PrivacyGuard",
    "RedactingFilter",
    "escape_mrkdwn",
    "find_pii",
    "guard",
    "install_log_redaction",
    "redact",
]
