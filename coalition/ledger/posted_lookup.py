"""Which of the bot's own Slack messages sits at a channel and timestamp (the Slack app's message edits ask).

A read of the posted-messages memory: the key the bot posted the message under, so
an edit in Slack is matched to what the bot owns.
"""

from __future__ import annotations

from sqlalchemy import select

from coalition.ledger.db import Ledger
from coalition.ledger.tables.alerts import PostedMessage


def key_at(ledger: Ledger, channel: str, ts: str) -> str | None:
    """The key of the bot's message at (channel, ts), unless it was deleted; None if not the bot's."""
    with ledger.session() as session:
        return session.scalar(
            select(PostedMessage.key).where(
                PostedMessage.channel == channel,
                PostedMessage.ts == ts,
                PostedMessage.state != "deleted",
            )
        )
