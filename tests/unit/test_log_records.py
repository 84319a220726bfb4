"""Record rewriting: which loggers a family covers, and one factory per key however often installed."""

from __future__ import annotations

import logging

from coalition.log_records import logger_in, rewrite_records


def test_a_family_covers_itself_and_its_children_only() -> None:
    assert logger_in("bot", ["bot"])
    assert logger_in("bot.server", ["bot"])
    assert not logger_in("bottle", ["bot"])
    assert not logger_in("uvicorn:access", ["uvicorn"])
    assert logger_in("uvicorn:access", ["uvicorn"], separators=".:")


def test_records_are_rewritten_once_however_often_installed() -> None:
    seen: list[str] = []

    def rewrite(record: logging.LogRecord) -> None:
        seen.append(record.name)
        record.msg = f"{record.msg}!"

    for _ in range(3):
        rewrite_records("test.once", lambda name: logger_in(name, ["test_rewrite"]), rewrite)
    made = logging.getLogRecordFactory()("test_rewrite.child", logging.INFO, "f", 1, "hi", (), None)
    other = logging.getLogRecordFactory()("elsewhere", logging.INFO, "f", 1, "hi", (), None)
    assert made.msg == "hi!" and seen == ["test_rewrite.child"]
    assert other.msg == "hi"
