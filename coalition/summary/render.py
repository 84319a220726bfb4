"""The weekly document's template environment (pure): strict, every interpolated value escaped, number filters.

templates/summary/*.md.j2 write the markup of `coalition.summary.document`. Each
`{{ value }}` passes through `escape` (Jinja's finalize), so data can never become
markup: a campaign named "**Gala** | 2026" is printed as written. Markup comes from
the template's own text only; a macro's output is marked `| raw` where it is placed.
"""

from __future__ import annotations

import functools
from decimal import Decimal
from typing import Any

from jinja2 import Environment

from coalition.summary.document import Document, escape, parse_markup
from coalition.summary.report import Summary
from coalition.templating import make_environment

TEMPLATE = "summary/weekly.md.j2"
DASH = "—"


class Raw(str):
    """Markup a macro produced: placed as is."""


def _finalize(value: Any) -> Any:
    if isinstance(value, Raw):
        return value
    return escape(value)


def usd(value: Decimal | float | int | None) -> str:
    """$1,234.50; a dash when there is nothing to show (no gifts, no average)."""
    if value is None:
        return DASH
    amount = Decimal(value)
    sign = "-" if amount < 0 else ""
    return f"{sign}${abs(amount):,.2f}"


def count(value: Decimal | float | int | None) -> str:
    """1,234 for whole numbers; one decimal for averages (12.3)."""
    if value is None:
        return DASH
    number = Decimal(value)
    if number == number.to_integral_value():
        return f"{int(number):,}"
    return f"{number:,.1f}"


def hours(value: float | None) -> str:
    if value is None:
        return DASH
    return f"{value:,.1f} hours"


def day(value: Any) -> str:
    """Mon Nov 23."""
    return f"{value:%a %b} {value.day}"


@functools.cache
def environment() -> Environment:
    env = make_environment()
    env.finalize = _finalize
    env.filters.update(usd=usd, count=count, hours=hours, day=day, raw=Raw)
    return env


def render_markup(summary: Summary, template: str = TEMPLATE) -> str:
    return environment().get_template(template).render(s=summary)


def render_document(summary: Summary, template: str = TEMPLATE) -> Document:
    """The document model of the summary; a template that writes bad markup raises MarkupError."""
    return parse_markup(render_markup(summary, template))


__all__ = ["Raw", "count", "environment", "hours", "render_document", "render_markup", "usd"]
