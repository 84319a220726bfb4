"""Logging for the CLI and servers: short lines on stderr, personal data redacted on every bot and Prefect logger."""

from __future__ import annotations

import logging
import sys

BOT_LOGGERS = ("coalition", "flows", "integrations", "bot", "sandbox")


def setup_logging(level: int = logging.INFO) -> None:
    """Idempotent: one stderr handler for the bot's loggers, and the privacy redaction filter everywhere."""
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(
        logging.Formatter("%(asctime)s | %(levelname)-7s | %(name)s - %(message)s", "%H:%M:%S")
    )
    for name in BOT_LOGGERS:
        logger = logging.getLogger(name)
        if not any(getattr(h, "_coalition", False) for h in logger.handlers):
            handler._coalition = True  # type: ignore[attr-defined]
            logger.addHandler(handler)
        logger.setLevel(level)
        logger.propagate = False
    # Third-party chatter that is not ours to show at INFO.
    for noisy in (
        "httpx",
        "urllib3",
        "googleapiclient.discovery_cache",
        "slack_sdk",
        "slack_bolt",
        "uvicorn.access",
    ):
        logging.getLogger(noisy).setLevel(logging.WARNING)
    try:
        from coalition.privacy import install_log_redaction
    except ImportError:  # the guard lands with the privacy module
        return
    install_log_redaction()
