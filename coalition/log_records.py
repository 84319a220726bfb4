"""Rewrite the log records of chosen loggers as they are made, whatever handler later formats them."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterable
from typing import Any

_lock = threading.Lock()
_installed: set[str] = set()


def logger_in(name: str, families: Iterable[str], separators: str = ".") -> bool:
    """Whether logger `name` is one of `families` or a child of one (`bot` covers `bot.server`)."""
    return any(
        name == family or any(name.startswith(family + sep) for sep in separators)
        for family in families
    )


def rewrite_records(
    key: str, applies: Callable[[str], bool], rewrite: Callable[[logging.LogRecord], None]
) -> None:
    """Chain a record factory that runs `rewrite` on records of loggers `applies` accepts.

    A factory, not a filter: it covers loggers and handlers made later, and Prefect's API
    handler sits on the logger itself. Installed once per `key`, so callers may repeat it.
    """
    with _lock:
        if key in _installed:
            return
        _installed.add(key)
        previous = logging.getLogRecordFactory()

        def factory(*args: Any, **kwargs: Any) -> logging.LogRecord:
            record = previous(*args, **kwargs)
            if applies(record.name):
                rewrite(record)
            return record

        logging.setLogRecordFactory(factory)


__all__ = ["logger_in", "rewrite_records"]
