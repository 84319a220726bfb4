"""The kill-point hook every task carries stays out of the run logs; other hooks still show."""

from __future__ import annotations

import logging

from flows.steps import quiet_kill_point_hooks


class _Collect(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(record.getMessage())


def test_only_the_kill_point_hook_lines_are_dropped() -> None:
    quiet_kill_point_hooks()
    quiet_kill_point_hooks()  # idempotent
    logger = logging.getLogger("prefect.task_runs")
    collect = _Collect()
    logger.addHandler(collect)
    level = logger.level
    logger.setLevel(logging.INFO)
    try:
        logger.info("Running hook 'kill_point' in response to entering state 'Completed'")
        logger.info("Hook 'kill_point' finished running successfully")
        logger.info("Hook 'notify_failure' finished running successfully")
        logger.info("Finished in state Completed()")
    finally:
        logger.removeHandler(collect)
        logger.setLevel(level)
    assert collect.lines == [
        "Hook 'notify_failure' finished running successfully",
        "Finished in state Completed()",
    ]
    assert sum(1 for f in logger.filters if type(f).__name__ == "_QuietKillPoint") == 1
