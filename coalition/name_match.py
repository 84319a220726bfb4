"""Matching what the bot needs to the names a workspace really uses (pure): exact, folded, bilingual, fuzzy.

A need (a field, a column, a table, a tab) has spellings: the configured name, the
design's name and a small English and Spanish vocabulary. Each name found in the
workspace (a header cell, a field, a table) is scored against every need:

- exact: the very text (100);
- folded: equal once case, accents, punctuation and a trailing "(...)" hint are
  set aside (97);
- bilingual: one half of a title such as "Full name / Nombre completo" is a
  spelling (94);
- fuzzy: the spelling's words are found among the name's words once question words
  ("What is your ...?", "¿Cuál es su ...?") are dropped, or the two read alike
  (rapidfuzz); at most 90, so a fuzzy guess never beats a sure match, and less
  for each word the name has beyond the spelling.

Below `threshold` nothing is proposed. Two needs never take one name: the pairs are
assigned best score first (ties: the need listed first), each need and each name once.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Literal

from rapidfuzz import fuzz

from coalition.intake.normalize import fold

# "header": a tab chosen for the columns its header holds, not for its name.
How = Literal["exact", "folded", "bilingual", "fuzzy", "header", "unmapped"]

EXACT, FOLDED, BILINGUAL, FUZZY_CAP = 100.0, 97.0, 94.0, 90.0
DEFAULT_THRESHOLD = 80.0
# How much the words a name has beyond the spelling's weigh against it (an exponent on
# the share of its words that matched): "Emergency contact name" must not pass for
# "Name", while "What is your full name?" passes for "Full name".
EXTRA_WORDS_WEIGHT = 0.25

# Words that carry no meaning in a form question or a field title, English and Spanish.
_STOPWORDS_TEXT = """
    a an and are as at be by can could did do does for from has have how i if in is it
    many may me much my of on or our please should that the this to us we what when
    where which who whom will with would you your yours currently any
    al cual cuales como con cuando cuanto cuantos cuantas de del donde el en es esta
    este la las lo los mi o para por que se si su sus tu un una usted y favor actualmente
"""
STOPWORDS = frozenset(_STOPWORDS_TEXT.split())
# Splits a bilingual or annotated title into its halves.
_HALVES = re.compile(r"\s*[/|]\s*|\s+[-\u2013\u2014]\s+|\s*[\n:;]\s*")
_HINT = re.compile(r"\([^)]*\)|\[[^\]]*\]")


@dataclass(frozen=True)
class Need:
    """Something the bot needs found: `key` is where its name goes in config; spellings to look for."""

    key: str
    label: str
    spellings: tuple[str, ...]
    required: bool = True


@dataclass(frozen=True)
class Match:
    """Where a need was found (or None), how, and with what score (0-100)."""

    need: Need
    found: str | None
    how: How
    score: float

    @property
    def mapped(self) -> bool:
        return self.found is not None


def folded(text: str) -> str:
    """Case, accents and punctuation set aside; a bracketed hint such as "(if any)" dropped."""
    bare = _HINT.sub(" ", text)
    if not re.search(r"\w", bare):
        bare = text
    words = re.sub(r"[^\w]+|_", " ", fold(bare))
    return re.sub(r"\s+", " ", words).strip()


def halves(text: str) -> list[str]:
    """The parts of a title written in two languages or with a note: "Full name / Nombre completo"."""
    parts = [p for p in _HALVES.split(_HINT.sub(" ", text)) if re.search(r"\w", p)]
    return parts if len(parts) > 1 else []


def content_words(text: str) -> list[str]:
    """The words that carry meaning: folded, without question words."""
    words = folded(text).split()
    kept = [w for w in words if w not in STOPWORDS]
    return kept or words


def _stem(word: str) -> str:
    """A word without its common English ending: "sharing" and "share" meet at "shar"."""
    for suffix in ("ing", "ed", "es", "s", "e", "y"):
        if word.endswith(suffix) and len(word) - len(suffix) >= 3:
            return word[: -len(suffix)]
    return word


def _same_word(a: str, b: str) -> bool:
    """Alike enough to be one word: "referral"/"referrals", "sheet"/"spreadsheet", a typo; not "state"/"status"."""
    if a == b or _stem(a) == _stem(b):
        return True
    if min(len(a), len(b)) >= 4 and (a.endswith(b) or b.endswith(a)):
        return True
    return min(len(a), len(b)) >= 5 and fuzz.ratio(a, b) >= 85


def word_score(name: str, spelling: str) -> float:
    """0-100: the spelling's words found among the name's, less a cost per extra word; or plain likeness."""
    have, want = content_words(name), content_words(spelling)
    if not have or not want:
        return 0.0
    unused = list(have)
    found = 0
    for word in want:
        hit = next((w for w in unused if _same_word(w, word)), None)
        if hit is not None:
            unused.remove(hit)
            found += 1
    share = found / (found + len(unused)) if found else 0.0
    coverage = 100.0 * found / len(want) * share**EXTRA_WORDS_WEIGHT
    alike = fuzz.token_sort_ratio(" ".join(have), " ".join(want))
    return max(0.0, coverage, alike)


def score(name: str, need: Need) -> tuple[How, float]:
    """How `name` matches `need` at best, and the score."""
    if name in need.spellings:
        return "exact", EXACT
    key = folded(name)
    if key and any(key == folded(s) for s in need.spellings):
        return "folded", FOLDED
    parts = halves(name)
    part_keys = {folded(p) for p in parts}
    if any(folded(s) in part_keys for s in need.spellings):
        return "bilingual", BILINGUAL
    best = max(
        (word_score(candidate, s) for candidate in (name, *parts) for s in need.spellings),
        default=0.0,
    )
    return "fuzzy", round(min(best, FUZZY_CAP), 1)


def assign(
    needs: Sequence[Need], names: Iterable[str], threshold: float = DEFAULT_THRESHOLD
) -> list[Match]:
    """Each need to at most one name and each name to at most one need, best score first."""
    available = list(dict.fromkeys(n for n in names if str(n).strip()))
    pairs: list[tuple[float, int, int, How]] = []
    for i, need in enumerate(needs):
        for j, name in enumerate(available):
            how, value = score(name, need)
            if value >= threshold:
                pairs.append((value, i, j, how))
    # Best score first; on a tie the need listed first, then the name seen first.
    pairs.sort(key=lambda p: (-p[0], p[1], p[2]))
    taken_needs: dict[int, Match] = {}
    taken_names: set[int] = set()
    for value, i, j, how in pairs:
        if i in taken_needs or j in taken_names:
            continue
        taken_needs[i] = Match(needs[i], available[j], how, value)
        taken_names.add(j)
    return [
        taken_needs.get(i) or Match(need, None, "unmapped", _best_below(need, available))
        for i, need in enumerate(needs)
    ]


def _best_below(need: Need, names: Sequence[str]) -> float:
    """The best score an unmapped need reached, to show how far it was."""
    return max((score(name, need)[1] for name in names), default=0.0)
