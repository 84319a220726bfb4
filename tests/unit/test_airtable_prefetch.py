"""Prefetching listing pages: same pages in the same order, errors raised where the page would be, the fetcher stops when the reader does."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator

import pytest
from hypothesis import given
from hypothesis import strategies as st

from integrations.airtable import AirtableUnavailable, prefetched


def pages(
    n: int, fail_at: int | None = None, fetched: list[int] | None = None
) -> Iterator[list[dict]]:
    for i in range(n):
        if i == fail_at:
            raise AirtableUnavailable("Airtable listing: HTTP 503", 503)
        if fetched is not None:
            fetched.append(i)
        yield [{"id": f"rec{i:014d}"}]


@given(n=st.integers(0, 30), ahead=st.integers(1, 4))
def test_every_page_in_order(n: int, ahead: int) -> None:
    assert list(prefetched(pages(n), ahead)) == list(pages(n))


def test_an_error_is_raised_after_the_pages_before_it() -> None:
    seen = []
    with pytest.raises(AirtableUnavailable):
        for page in prefetched(pages(5, fail_at=3)):
            seen.append(page[0]["id"])
    assert seen == [f"rec{i:014d}" for i in range(3)]


def test_pages_are_fetched_while_the_reader_works() -> None:
    fetched: list[int] = []
    reader = prefetched(pages(10, fetched=fetched), ahead=2)
    next(reader)
    time.sleep(
        0.2
    )  # the reader is busy with page 0; the fetcher runs ahead, at most 2 pages queued
    assert 2 <= len(fetched) <= 4
    reader.close()


def test_a_reader_that_stops_early_stops_the_fetcher() -> None:
    before = threading.active_count()
    reader = prefetched(pages(1000), ahead=1)
    next(reader)
    reader.close()
    deadline = time.monotonic() + 3
    while threading.active_count() > before and time.monotonic() < deadline:
        time.sleep(0.05)
    assert threading.active_count() <= before
