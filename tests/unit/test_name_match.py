"""The name matcher: exact, folded, bilingual and fuzzy matches, the threshold, and one name per need."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from coalition.name_match import DEFAULT_THRESHOLD, Need, assign, folded, halves, score

NAME = Need("name", "Full name", ("Full name", "Nombre completo"))
HOUSEHOLD = Need("household", "Household size", ("Household size", "People in household"))
INCOME = Need("income", "Monthly income", ("Monthly income",))
STATE = Need("state", "State", ("State",))
STATUS = Need("status", "Status", ("Status",))


@pytest.mark.parametrize(
    ("name", "need", "how", "at_least"),
    [
        ("Full name", NAME, "exact", 100),
        ("full NAME", NAME, "folded", 97),
        ("Full-name:", NAME, "folded", 97),
        ("Nómbre Completo", NAME, "folded", 97),
        ("Full name (as on your ID)", NAME, "folded", 97),
        ("Full name / Nombre completo", NAME, "bilingual", 94),
        ("Nombre completo | Full name", NAME, "bilingual", 94),
        ("What is your full name?", NAME, "fuzzy", 85),
        ("¿Cuál es su nombre completo?", NAME, "fuzzy", 85),
        ("Ful name", NAME, "fuzzy", DEFAULT_THRESHOLD),  # a typo
        ("How many people live in your household?", HOUSEHOLD, "fuzzy", DEFAULT_THRESHOLD),
        ("Monthly household income (USD)", INCOME, "fuzzy", DEFAULT_THRESHOLD),
    ],
)
def test_each_kind_of_match(name: str, need: Need, how: str, at_least: float) -> None:
    got_how, value = score(name, need)
    assert got_how == how
    assert value >= at_least


@pytest.mark.parametrize(
    ("name", "need"),
    [
        ("Emergency contact name", Need("name", "Name", ("Name",))),
        ("Staff notes", NAME),
        ("State / Estado", STATUS),  # "state" is not "status"
        ("Phone", NAME),
        ("", NAME),
    ],
)
def test_below_the_threshold_nothing_is_proposed(name: str, need: Need) -> None:
    assert score(name, need)[1] < DEFAULT_THRESHOLD
    (match,) = assign([need], [name])
    assert (match.found, match.how) == (None, "unmapped")


def test_a_fuzzy_match_never_beats_a_sure_one() -> None:
    header = ["What is your full name?", "Full name / Nombre completo"]
    (match,) = assign([NAME], header)
    assert (match.found, match.how) == ("Full name / Nombre completo", "bilingual")


def test_two_needs_never_take_one_name() -> None:
    # Both needs read "Monthly household income" well; income reads it best, and household
    # gets its own column rather than the same one.
    header = ["Monthly household income (USD)", "How many people live in your household?"]
    income, household = assign([INCOME, HOUSEHOLD], header)
    assert income.found == "Monthly household income (USD)"
    assert household.found == "How many people live in your household?"
    # With only one column, the weaker need stays unmapped rather than share it.
    income, household = assign([INCOME, HOUSEHOLD], header[:1])
    assert income.found == header[0] and household.found is None


def test_state_and_status_each_find_their_own() -> None:
    state, status = assign([STATE, STATUS], ["Status", "State / Estado"])
    assert (state.found, status.found) == ("State / Estado", "Status")


def test_threshold_is_the_callers() -> None:
    (loose,) = assign([NAME], ["Your full legal name please"], threshold=50)
    (strict,) = assign([NAME], ["Your full legal name please"], threshold=95)
    assert loose.mapped and not strict.mapped


def test_halves_and_folding() -> None:
    assert halves("Full name / Nombre completo") == ["Full name", "Nombre completo"]
    assert halves("Date of birth (MM/DD/YYYY)") == []
    assert folded("¿Está DETENIDO/a?") == "esta detenido a"


# ---------------------------------------------------------------- properties
words = st.text(alphabet="abcdefghijklmnopqrstuvwxyzáéíóñ ", min_size=1, max_size=20).filter(
    lambda s: s.strip()
)
needs_strategy = st.lists(
    st.tuples(words, st.lists(words, min_size=1, max_size=3)), min_size=1, max_size=6
)


@settings(max_examples=150, deadline=None)
@given(needs_strategy, st.lists(words, max_size=8))
def test_no_name_is_given_to_two_needs(raw_needs: list, names: list[str]) -> None:
    needs = [Need(f"k{i}", label, tuple(sp)) for i, (label, sp) in enumerate(raw_needs)]
    matches = assign(needs, names)
    found = [m.found for m in matches if m.found is not None]
    assert len(found) == len(set(found))
    assert all(m.found in names for m in matches if m.found is not None)
    assert [m.need for m in matches] == needs
    for m in matches:
        assert 0 <= m.score <= 100
        assert not m.mapped or m.score >= DEFAULT_THRESHOLD


@settings(max_examples=150, deadline=None)
@given(st.lists(words, min_size=1, max_size=6, unique_by=folded))
def test_names_present_verbatim_are_found_exactly(names: list[str]) -> None:
    needs = [Need(f"k{i}", n, (n,)) for i, n in enumerate(names)]
    for match, name in zip(assign(needs, list(reversed(names))), names, strict=True):
        assert match.found == name
        assert match.how in {"exact", "folded"}


@settings(max_examples=100, deadline=None)
@given(words, st.sampled_from([" / ", " | ", "/"]), words)
def test_either_half_of_a_bilingual_title_matches(english: str, sep: str, spanish: str) -> None:
    title = f"{english}{sep}{spanish}"
    for half in (english, spanish):
        how, value = score(title, Need("k", half, (half,)))
        assert value >= 94 or how in {"exact", "folded"}
