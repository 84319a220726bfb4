"""Unit tests of the sandbox's Airtable formula engine: syntax, semantics, pyairtable's output, dates."""

from __future__ import annotations

import datetime as dt
import math
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pyairtable import formulas as F

from sandbox.airtable import dates
from sandbox.airtable.formula import (
    Binary,
    Call,
    DictContext,
    FieldRef,
    FormulaEvalError,
    FormulaSyntaxError,
    Literal,
    Unary,
    compile_formula,
    evaluate,
    parse,
    tokenize,
    truthy,
)

UTC = dt.UTC
NOW = dt.datetime(2024, 6, 1, 12, 0, tzinfo=UTC)

RECORD: dict[str, Any] = {
    "Name": "Casa Legal",
    "Empty": None,
    "Count": 3,
    "Zero": 0,
    "Price": 2.5,
    "Checked": True,
    "Unchecked": False,
    "Services": "asylum, DACA",
    "Since": dt.datetime(2024, 5, 1, tzinfo=UTC),
    "Stamp": dt.datetime(2024, 5, 1, 13, 30, tzinfo=UTC),
    "Guest's Name": "O'Brien",
    "A } B": "brace",
    "Links": ["Org One", "Org Two"],
}


def run(text: str, values: dict[str, Any] | None = None, **context: Any) -> Any:
    return evaluate(text, RECORD if values is None else values, **context)


def keeps(text: str, values: dict[str, Any] | None = None, **context: Any) -> bool:
    values = RECORD if values is None else values
    compiled = compile_formula(text, lambda name: name if name in values else _missing(name))
    return compiled.keep(DictContext(values, **context))


def _missing(name: str) -> str:
    raise KeyError(name)


# ------------------------------------------------------------------ syntax
@pytest.mark.parametrize(
    ("text", "tree"),
    [
        ("1", Literal(1)),
        ("1.5", Literal(1.5)),
        (".5", Literal(0.5)),
        ("1e3", Literal(1000.0)),
        ("1E+2", Literal(100.0)),
        ("'a'", Literal("a")),
        ('"a"', Literal("a")),
        ("{Name}", FieldRef("Name")),
        ("{A \\} B}", FieldRef("A } B")),
        ("Name", FieldRef("Name")),
        ("TRUE", Literal(True)),
        ("false", Literal(False)),
        ("TRUE()", Call("TRUE", ())),
        ("and(1, 2)", Call("AND", (Literal(1), Literal(2)))),
        ("-1", Unary("-", Literal(1))),
        ("1+2*3", Binary("+", Literal(1), Binary("*", Literal(2), Literal(3)))),
        ("(1+2)*3", Binary("*", Binary("+", Literal(1), Literal(2)), Literal(3))),
        ("1-2-3", Binary("-", Binary("-", Literal(1), Literal(2)), Literal(3))),
        ("1 & 2 + 3", Binary("&", Literal(1), Binary("+", Literal(2), Literal(3)))),
        ("1 = 2 & 3", Binary("=", Literal(1), Binary("&", Literal(2), Literal(3)))),
        ("{a}>=1", Binary(">=", FieldRef("a"), Literal(1))),
        ("{a}!=1", Binary("!=", FieldRef("a"), Literal(1))),
        ("{a}<=1", Binary("<=", FieldRef("a"), Literal(1))),
        ("  {a}\n<\t1 ", Binary("<", FieldRef("a"), Literal(1))),
        ("F()", Call("F", ())),
    ],
)
def test_parse_builds_the_expected_tree(text: str, tree: Any) -> None:
    assert parse(text) == tree


@pytest.mark.parametrize(
    ("text", "value"),
    [
        (r"'it\'s'", "it's"),
        (r'"say \"hi\""', 'say "hi"'),
        (r"'back\\slash'", "back\\slash"),
        (r"'line\nbreak'", "line\nbreak"),
        (r"'tab\there'", "tab\there"),
        ("'He said \"x\"'", 'He said "x"'),
        ('"It\'s"', "It's"),
        ("''", ""),
        ("'multi\nline'", "multi\nline"),
        ("'ünïcödé 🙂'", "ünïcödé 🙂"),
    ],
)
def test_string_literals_and_escapes(text: str, value: str) -> None:
    assert parse(text) == Literal(value)


@pytest.mark.parametrize(
    "text",
    [
        "",
        "   ",
        "1 +",
        "(1",
        "1)",
        "{Unclosed",
        "'unclosed",
        '"unclosed',
        "AND(1,",
        "AND(1 2)",
        "1 2",
        "@",
        "1 == 2",
        "{a} <> 1",
        ",",
        "'a' 'b'",
        "IF(,1,2)",
        "‘smart quotes’",
        "(" * 500 + "1" + ")" * 500,
        "1" + "+1" * 1000,
    ],
)
def test_syntax_errors(text: str) -> None:
    with pytest.raises(FormulaSyntaxError):
        parse(text)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("FOO(1)", "Unknown function: FOO"),
        ("ARRAYJOIN({Name})", "Unknown function: ARRAYJOIN"),
        ("LEN()", "Wrong number of arguments to LEN()"),
        ("IF(1)", "Wrong number of arguments to IF()"),
        ("NOW(1)", "Wrong number of arguments to NOW()"),
        ("NOT(1, 2)", "Wrong number of arguments to NOT()"),
        ("{Nope} = 1", "Unknown field names: Nope"),
        ("AND({Nope}, {Other}, {Nope})", "Unknown field names: Nope, Other"),
        ("LAST_MODIFIED_TIME('Name')", "LAST_MODIFIED_TIME() takes field references only"),
    ],
)
def test_compile_errors_name_the_problem(text: str, message: str) -> None:
    with pytest.raises(FormulaSyntaxError, match=message.replace("(", r"\(").replace(")", r"\)")):
        run(text)


def test_tokenizer_reports_positions() -> None:
    tokens = tokenize("{a} >= 'x'")
    assert [(t.kind, t.value) for t in tokens] == [
        ("FIELD", "a"),
        ("OP", ">="),
        ("STRING", "x"),
        ("EOF", None),
    ]


# ------------------------------------------------------------------ operators and coercions
@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("1+2*3", 7),
        ("(1+2)*3", 9),
        ("8/2/2", 2),
        ("2-1-1", 0),
        ("-3+5", 2),
        ("- -3", 3),
        ("+'4'", 4),
        ("1 + 2 & 3", "33"),
        ("'a' & 1.5 & TRUE()", "a1.51"),
        ("{Empty} & 'x'", "x"),
        ("{Count} * {Price}", 7.5),
        ("{Empty} + 1", 1),
        ("'2' * '3'", 6),
        ("{Count} / 2", 1.5),
        ("4/19 > 0.2", True),
        ("{Since} & ''", "2024-05-01T00:00:00.000Z"),
        ("{Links} & ''", "Org One, Org Two"),
    ],
)
def test_operators(text: str, expected: Any) -> None:
    assert run(text) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("{Empty} = ''", True),
        ("{Empty} = 0", True),
        ("{Empty} = BLANK()", True),
        ("{Empty} = FALSE()", True),
        ("{Name} = BLANK()", False),
        ("{Name} = 'Casa Legal'", True),
        ("{Name} = 'casa legal'", False),
        ("{Name} != 'x'", True),
        ("'1' = 1", True),
        ("'1.0' = 1", True),
        ("'one' = 1", False),
        ("TRUE() = 1", True),
        ("{Checked} = TRUE()", True),
        ("{Checked} = 1", True),
        ("{Unchecked} = FALSE()", True),
        ("{Unchecked} = BLANK()", True),
        ("{Since} = '2024-05-01'", True),
        ("{Since} = DATETIME_PARSE('2024-05-01')", True),
        ("{Since} = 'not a date'", False),
        ("{Since} = BLANK()", False),
        ("{Count} > 2", True),
        ("{Count} >= 3", True),
        ("{Count} < 3", False),
        ("{Count} <= 3", True),
        ("{Count} > '2'", True),
        ("{Count} > 'x'", False),
        ("{Empty} < 1", True),
        ("'b' > 'a'", True),
        ("{Empty} < 'a'", True),
        ("{Stamp} > {Since}", True),
        ("{Stamp} > '2024-05-01T14:00:00Z'", False),
        ("{Empty} > {Since}", False),
        ("{Links} = 'Org One, Org Two'", True),
    ],
)
def test_comparisons(text: str, expected: bool) -> None:
    assert run(text) is expected


@pytest.mark.parametrize(
    ("value", "kept"),
    [
        (0, False),
        (0.0, False),
        (float("nan"), False),
        ("", False),
        ([], False),
        (None, False),
        (False, False),
        (1, True),
        (-0.5, True),
        ("0", True),
        (" ", True),
        (["x"], True),
        (True, True),
        (NOW, True),
    ],
)
def test_truthiness_matches_airtable_record_filtering(value: Any, kept: bool) -> None:
    assert truthy(value) is kept
    assert keeps("{v}", {"v": value}) is kept


@pytest.mark.parametrize(
    "text",
    [
        "1/0",
        "DATETIME_PARSE('garbage')",
        "ERROR()",
        "'x' + 1",
        "MOD(1, 0)",
        "REGEX_MATCH('a', '(')",
    ],
)
def test_errors_drop_the_record_and_iserror_sees_them(text: str) -> None:
    assert keeps(text) is False
    assert keeps(f"NOT({text})") is False  # an error stays an error through NOT
    assert run(f"ISERROR({text})") is True
    with pytest.raises((FormulaEvalError, ArithmeticError)):
        run(text)


def test_iserror_is_false_for_good_values() -> None:
    assert run("ISERROR(1)") is False


def test_if_evaluates_only_the_chosen_branch() -> None:
    assert run("IF({Zero} = 0, 'zero', 1/{Zero})") == "zero"
    assert run("IF({Count}, 'yes')") == "yes"
    assert run("IF({Zero}, 'yes')") is None


# ------------------------------------------------------------------ functions
@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("AND(1, 'x', TRUE())", True),
        ("AND(1, 0)", False),
        ("OR(0, '', {Count})", True),
        ("OR(0, BLANK())", False),
        ("XOR(1, 1)", False),
        ("XOR(1, 0, 0)", True),
        ("XOR(1, 1, 1)", True),
        ("NOT({Empty})", True),
        ("NOT({Name})", False),
        ("SWITCH({Count}, 1, 'one', 3, 'three', 'other')", "three"),
        ("SWITCH({Count}, 1, 'one', 'other')", "other"),
        ("SWITCH({Count}, 1, 'one')", None),
        ("BLANK()", None),
        ("FIND('Legal', {Name})", 6),
        ("FIND('legal', {Name})", 0),
        ("FIND('a', {Name}, 3)", 4),
        ("SEARCH('Legal', {Name})", 6),
        ("SEARCH('zzz', {Name})", None),
        ("LOWER({Name})", "casa legal"),
        ("UPPER({Name})", "CASA LEGAL"),
        ("LEN({Name})", 10),
        ("LEN({Empty})", 0),
        ("TRIM('  a b  ')", "a b"),
        ("LEFT({Name}, 4)", "Casa"),
        ("RIGHT({Name}, 5)", "Legal"),
        ("RIGHT({Name}, 0)", ""),
        ("MID({Name}, 6, 3)", "Leg"),
        ("SUBSTITUTE('a-b-c', '-', '+')", "a+b+c"),
        ("SUBSTITUTE('a-b-c', '-', '+', 2)", "a-b+c"),
        ("SUBSTITUTE('a-b-c', '-', '+', 5)", "a-b-c"),
        ("CONCATENATE('a', 1, {Empty}, 'b')", "a1b"),
        ("REGEX_MATCH({Name}, '^Casa')", True),
        ("REGEX_MATCH({Name}, '^Legal')", False),
        ("REGEX_EXTRACT('ab12cd', '[0-9]+')", "12"),
        ("REGEX_REPLACE('ab12cd', '[0-9]', 'x')", "abxxcd"),
        ("REPT('ab', 3)", "ababab"),
        ("REPLACE('abcdef', 2, 3, 'X')", "aXef"),
        ("T({Name})", "Casa Legal"),
        ("T({Count})", ""),
        ("VALUE('$1,234.50')", 1234.5),
        ("ABS(-2)", 2),
        ("ROUND(2.5)", 3),
        ("ROUND(1.005, 2)", 1.01),
        ("ROUND(1234, -2)", 1200),
        ("INT(-1.5)", -2),
        ("MOD(7, 3)", 1),
        ("MIN(3, 1, 2)", 1),
        ("MAX(3, {Empty}, 2)", 3),
        ("SUM(1, 2, '3')", 6),
        ("RECORD_ID()", "rec00000000000000"),
    ],
)
def test_functions(text: str, expected: Any) -> None:
    result = run(text)
    assert result == expected
    assert type(result) is type(expected) or isinstance(expected, (int, float))


def test_function_names_are_case_insensitive() -> None:
    assert run("lower({Name})") == "casa legal"


# ------------------------------------------------------------------ dates
@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("DATETIME_PARSE('2024-05-01')", dt.datetime(2024, 5, 1, tzinfo=UTC)),
        (
            "DATETIME_PARSE('2024-05-01T12:34:56.000Z')",
            dt.datetime(2024, 5, 1, 12, 34, 56, tzinfo=UTC),
        ),
        ("DATETIME_PARSE('2024-05-01T12:00:00+02:00')", dt.datetime(2024, 5, 1, 10, tzinfo=UTC)),
        ("DATETIME_PARSE('May 1, 2024')", dt.datetime(2024, 5, 1, tzinfo=UTC)),
        ("DATETIME_PARSE('5/1/2024', 'M/D/YYYY')", dt.datetime(2024, 5, 1, tzinfo=UTC)),
        ("DATETIME_PARSE('01/05/2024', 'DD/MM/YYYY')", dt.datetime(2024, 5, 1, tzinfo=UTC)),
        (
            "DATETIME_PARSE('5/1/24 3:04 pm', 'M/D/YY h:mm a')",
            dt.datetime(2024, 5, 1, 15, 4, tzinfo=UTC),
        ),
        ("DATETIME_PARSE('1 March 2024', 'D MMMM YYYY')", dt.datetime(2024, 3, 1, tzinfo=UTC)),
        ("DATETIME_PARSE('Mar 3rd 2024', 'MMM Do YYYY')", dt.datetime(2024, 3, 3, tzinfo=UTC)),
        ("DATETIME_PARSE('1714521600', 'X')", dt.datetime(2024, 5, 1, tzinfo=UTC)),
        ("DATETIME_PARSE({Since})", dt.datetime(2024, 5, 1, tzinfo=UTC)),
        ("DATETIME_PARSE('')", None),
        ("DATEADD('2024-01-31', 1, 'month')", dt.datetime(2024, 2, 29, tzinfo=UTC)),
        ("DATEADD('2024-01-31', 1, 'M')", dt.datetime(2024, 2, 29, tzinfo=UTC)),
        ("DATEADD('2024-01-31', 90, 'm')", dt.datetime(2024, 1, 31, 1, 30, tzinfo=UTC)),
        ("DATEADD({Since}, -2, 'days')", dt.datetime(2024, 4, 29, tzinfo=UTC)),
        ("DATEADD({Since}, 1, 'quarters')", dt.datetime(2024, 8, 1, tzinfo=UTC)),
        ("DATEADD({Empty}, 1, 'days')", None),
        ("DATETIME_DIFF('2024-03-01', '2024-01-15', 'days')", 46),
        ("DATETIME_DIFF('2024-01-15', '2024-03-01', 'days')", -46),
        ("DATETIME_DIFF('2024-03-01', '2024-01-31', 'months')", 1),
        ("DATETIME_DIFF('2025-05-01', '2024-05-02', 'years')", 0),
        ("DATETIME_DIFF({Stamp}, {Since})", 48600),
        ("DATETIME_DIFF({Stamp}, {Since}, 'hours')", 13),
        ("DATETIME_FORMAT({Stamp}, 'YYYY-MM-DD HH:mm')", "2024-05-01 13:30"),
        (
            "DATETIME_FORMAT({Stamp}, 'dddd, MMMM Do YYYY h:mm A')",
            "Wednesday, May 1st 2024 1:30 PM",
        ),
        ("DATETIME_FORMAT({Stamp}, '[Week] Q')", "Week 2"),
        ("DATETIME_FORMAT({Stamp})", "2024-05-01T13:30:00.000+00:00"),
        ("DATESTR({Stamp})", "2024-05-01"),
        ("YEAR({Since})", 2024),
        ("MONTH({Since})", 5),
        ("DAY({Since})", 1),
        ("HOUR({Stamp})", 13),
        ("MINUTE({Stamp})", 30),
        ("SECOND({Stamp})", 0),
        ("WEEKDAY({Since})", 3),
        ("IS_AFTER({Stamp}, {Since})", True),
        ("IS_AFTER({Since}, {Stamp})", False),
        ("IS_AFTER({Empty}, {Since})", False),
        ("IS_BEFORE({Since}, '2024-05-02')", True),
        ("IS_SAME({Stamp}, {Since}, 'day')", True),
        ("IS_SAME({Stamp}, {Since}, 'hour')", False),
        ("IS_SAME({Stamp}, {Since})", False),
        ("IS_SAME('2024-05-05', '2024-05-11', 'week')", True),
        ("IS_SAME('2024-05-04', '2024-05-05', 'week')", False),
        ("IS_SAME('2024-05-31', '2024-04-01', 'quarter')", True),
        ("IS_SAME('2024-12-31', '2024-01-01', 'years')", True),
        ("NOW()", NOW),
        ("TODAY()", dt.datetime(2024, 6, 1, tzinfo=UTC)),
        ("IS_BEFORE({Since}, DATEADD(TODAY(), -30, 'days'))", True),
        ("CREATED_TIME()", dt.datetime(2024, 1, 1, tzinfo=UTC)),
    ],
)
def test_date_functions(text: str, expected: Any) -> None:
    assert run(text, clock=NOW) == expected


@pytest.mark.parametrize(
    "text",
    [
        "DATETIME_PARSE('31/31/2024', 'DD/MM/YYYY')",
        "DATEADD({Since}, 1, 'fortnights')",
        "IS_SAME({Since}, {Stamp}, 'eon')",
        "DATETIME_DIFF({Since}, 'soon', 'days')",
        "YEAR('not a date')",
    ],
)
def test_bad_dates_are_record_errors(text: str) -> None:
    assert keeps(text) is False
    assert run(f"ISERROR({text})") is True


def test_last_modified_time_reads_record_and_field_times() -> None:
    modified = {
        "Name": dt.datetime(2024, 5, 1, tzinfo=UTC),
        "Count": dt.datetime(2024, 5, 20, tzinfo=UTC),
    }
    values = {"Name": "x", "Count": 1, "Other": None}
    assert run("LAST_MODIFIED_TIME()", values, modified=modified) == modified["Count"]
    assert run("LAST_MODIFIED_TIME({Name})", values, modified=modified) == modified["Name"]
    assert (
        run("LAST_MODIFIED_TIME({Name}, {Count})", values, modified=modified) == modified["Count"]
    )
    assert run("LAST_MODIFIED_TIME({Other})", values, modified=modified) is None
    since = "IS_AFTER(LAST_MODIFIED_TIME({Name}), '2024-05-10')"
    assert keeps(since, values, modified=modified) is False
    assert keeps(since.replace("{Name}", "{Count}"), values, modified=modified) is True


# ------------------------------------------------------------------ dates module
@pytest.mark.parametrize(
    ("unit", "canonical"),
    [("d", "days"), ("Days", "days"), ("m", "minutes"), ("M", "months"), ("ms", "milliseconds"),
     ("Q", "quarters"), ("year", "years"), ("w", "weeks"), ("x", None), ("D", None)],
)  # fmt: skip
def test_units(unit: str, canonical: str | None) -> None:
    assert dates.normalize_unit(unit) == canonical


def test_iso_ms_is_the_api_form() -> None:
    moment = dt.datetime(2024, 5, 1, 12, 0, 0, 123456, tzinfo=dt.timezone(dt.timedelta(hours=2)))
    assert dates.iso_ms(moment) == "2024-05-01T10:00:00.123Z"


# ------------------------------------------------------------------ what pyairtable emits
PYAIRTABLE_CASES = [
    (F.match({"Name": "Casa Legal"}), True),
    (F.match({"Name": "Casa Legal", "Count": 3}), True),
    (F.match({"Name": "Casa Legal", "Count": 4}), False),
    (F.match({"Name": "x", "Count": 3}, match_any=True), True),
    (F.match({"Count": (">=", 3), "Price": ("<", 3)}), True),
    (F.match({"Guest's Name": "O'Brien"}), True),
    (F.match({"A } B": "brace"}), True),
    (F.match({"Checked": True}), True),
    (F.match({"Unchecked": False}), True),
    (F.match({"Since": dt.date(2024, 5, 1)}), True),
    (F.match({"Stamp": dt.datetime(2024, 5, 1, 13, 30, tzinfo=UTC)}), True),
    (F.match({"Stamp": dt.datetime(2024, 5, 1, 13, 30)}), True),
    (F.match({"Price": Decimal("2.5")}), True),
    (F.AND(F.EQ(F.Field("Name"), "Casa Legal"), F.GTE(F.Field("Count"), 2)), True),
    (F.OR(F.EQ(F.Field("Name"), "x"), F.NE(F.Field("Name"), "y")), True),
    (F.NOT(F.EQ(F.Field("Name"), "Casa Legal")), False),
    (F.NOT(Count=3), False),
    (F.AND(Name="Casa Legal", Count=3), True),
    (F.XOR(F.TRUE(), F.FALSE()), True),
    (F.Field("Count").gt(2) & F.Field("Price").lte(2.5), True),
    (F.Field("Count").lt(2) | F.Field("Price").eq(2.5), True),
    (~F.Field("Name").eq("Casa Legal"), False),
    (F.GT(F.Field("Count"), 2) & F.LT(F.Field("Count"), 4) & F.NE(F.Field("Zero"), 1), True),
    (F.IS_AFTER(F.Field("Stamp"), dt.datetime(2024, 5, 1, 12, tzinfo=UTC)), True),
    (F.IS_BEFORE(F.Field("Since"), dt.date(2024, 4, 30)), False),
    (F.IS_SAME(F.Field("Stamp"), dt.date(2024, 5, 1), "day"), True),
    (F.IS_AFTER(F.LAST_MODIFIED_TIME(), dt.datetime(2023, 1, 1, tzinfo=UTC)), True),
    (F.IS_AFTER(F.LAST_MODIFIED_TIME(F.Field("Name")), F.DATEADD(F.NOW(), -1, "days")), False),
    (F.FIND("Legal", F.Field("Name")), True),
    (F.SEARCH("nope", F.Field("Name")), False),
    (F.EQ(F.LOWER(F.Field("Name")), "casa legal"), True),
    (F.EQ(F.UPPER(F.Field("Name")), "CASA LEGAL"), True),
    (F.GT(F.LEN(F.Field("Name")), 5), True),
    (F.EQ(F.Field("Empty"), F.BLANK()), True),
    (F.EQ(F.RECORD_ID(), "rec00000000000000"), True),
    (F.IS_SAME(F.TODAY(), dt.date(2024, 6, 1), "day"), True),
    (F.IF(F.Field("Checked"), F.TRUE(), F.FALSE()), True),
    (F.SWITCH(F.Field("Count"), 3, "yes", "no"), True),
    (F.REGEX_MATCH(F.Field("Name"), "^Casa"), True),
    (F.EQ(F.TRIM(F.CONCATENATE(" ", F.Field("Name"), " ")), "Casa Legal"), True),
    (F.EQ(F.LEFT(F.Field("Name"), 4), "Casa"), True),
    (F.EQ(F.DATETIME_DIFF(F.Field("Stamp"), F.Field("Since"), "hours"), 13), True),
    (F.EQ(F.SUBSTITUTE(F.Field("Name"), "Casa", "Home"), "Home Legal"), True),
    (F.GT(F.DATETIME_PARSE("2024-05-02"), F.Field("Since")), True),
]


@pytest.mark.parametrize(("formula", "kept"), PYAIRTABLE_CASES, ids=lambda v: str(v)[:60])
def test_pyairtable_formulas_parse_and_evaluate(formula: F.Formula, kept: bool) -> None:
    assert keeps(str(formula), clock=NOW) is kept


# ------------------------------------------------------------------ properties
@given(st.text())
def test_pyairtable_quoted_strings_round_trip(text: str) -> None:
    assert run(F.quoted(text), {}) == text


@given(st.text())
def test_double_quoted_strings_round_trip(text: str) -> None:
    literal = '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'
    assert run(literal, {}) == text


@given(st.text(min_size=1).filter(lambda s: not s.endswith("\\")))
def test_pyairtable_field_names_round_trip(name: str) -> None:
    # pyairtable escapes every "}" and nothing else, so a trailing backslash cannot be written.
    assert run(F.field_name(name), {name: "value"}) == "value"


@given(st.text(min_size=1).filter(lambda s: not s.endswith("\\")), st.text())
def test_match_finds_exactly_the_equal_value(name: str, value: str) -> None:
    formula = str(F.match({name: value}))
    assert keeps(formula, {name: value}) is True
    assert keeps(formula, {name: value + "x"}) is False


@given(st.floats(allow_nan=False, allow_infinity=False))
def test_numbers_as_pyairtable_writes_them(number: float) -> None:
    assert run(F.to_formula_str(number), {}) == pytest.approx(number)


@given(st.integers(min_value=-(10**15), max_value=10**15))
def test_integer_comparisons(number: int) -> None:
    formula = str(F.match({"n": (">=", number)}))
    assert keeps(formula, {"n": number}) is True
    assert keeps(formula, {"n": number - 1}) is False


@given(st.text(max_size=60))
@settings(max_examples=300)
def test_any_text_either_parses_or_is_a_syntax_error(text: str) -> None:
    try:
        tree = parse(text)
    except FormulaSyntaxError:
        return
    assert tree is not None


_atoms = st.sampled_from(["1", "0", "'a'", "''", "{x}", "{y}", "TRUE()", "BLANK()", "'2024-05-01'", "NOW()"])  # fmt: skip
_formulas = st.recursive(
    _atoms,
    lambda inner: st.one_of(
        st.tuples(
            inner, st.sampled_from(["=", "!=", "<", ">=", "&", "+", "-", "*", "/"]), inner
        ).map(lambda t: f"({t[0]} {t[1]} {t[2]})"),
        st.tuples(
            st.sampled_from(
                ["AND", "OR", "NOT", "LEN", "LOWER", "IS_AFTER", "DATEADD", "IF", "FIND"]
            ),
            st.lists(inner, min_size=1, max_size=3),
        ).map(lambda t: f"{t[0]}({', '.join(t[1])})"),
    ),
    max_leaves=12,
)


@given(_formulas, st.sampled_from([None, "", "a", 0, 5, NOW]))
@settings(max_examples=300)
def test_generated_formulas_never_crash(text: str, value: Any) -> None:
    values = {"x": value, "y": "b"}
    try:
        compiled = compile_formula(text, lambda name: name)
    except FormulaSyntaxError:
        return  # wrong arity for the generated call
    assert compiled.keep(DictContext(values)) in (True, False)


def test_nan_is_not_kept() -> None:
    assert keeps("{n}", {"n": math.nan}) is False


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2024-05-01", dt.datetime(2024, 5, 1, tzinfo=UTC)),
        ("2024-05-01T10:00:00Z", dt.datetime(2024, 5, 1, 10, tzinfo=UTC)),
        ("May 2024", dt.datetime(2024, 5, 1, tzinfo=UTC)),
        ("5/1/24", dt.datetime(2024, 5, 1, tzinfo=UTC)),
        ("May 1, 2024 3pm", dt.datetime(2024, 5, 1, 15, tzinfo=UTC)),
        ("5", None),
        ("Casa Legal", None),
        ("", None),
        ("1714521600", None),
    ],
)
def test_loose_date_reading_needs_a_year(text: str, expected: dt.datetime | None) -> None:
    assert dates.parse_loose(text) == expected
