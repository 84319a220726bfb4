"""The checks every Slack message the bot sends passes before it leaves (pure, no I/O).

The privacy guard refuses personal data (patterns and the current batch's values) in
the text, the blocks and the message key (keys travel in message metadata and the
ledger); the mention guard refuses <!channel>, <!here>, <!everyone>, <!subteam^...>
and <@...> unless the caller means to notify people. Flows and the bot call these
before handing a message to integrations/slack.py, which only moves it.
"""

from __future__ import annotations

import re

from coalition.privacy import PrivacyGuard, guard, iter_strings

_MENTION = re.compile(r"<!(?:channel|here|everyone)\b|<!subteam\^|<@", re.IGNORECASE)


class MentionError(ValueError):
    """A message would notify a crowd or a person, and the caller did not allow mentions."""


def check_mentions(text: str | None, blocks: list | None) -> None:
    """Raise MentionError if the message would ping @channel/@here/@everyone, a group or a person."""
    places = [
        path
        for path, value in iter_strings({"text": text or "", "blocks": blocks or []})
        if _MENTION.search(value)
    ]
    if places:
        raise MentionError(
            f"refused: the message would notify people (in {', '.join(places)}); escape user text "
            "with coalition.privacy.escape_mrkdwn, or pass allow_mentions=True for a deliberate ping"
        )


def check_slack_post(
    text: str,
    blocks: list | None,
    *,
    key: str | None = None,
    allow_mentions: bool = False,
    privacy: PrivacyGuard = guard,
) -> None:
    """Raise PIIError or MentionError if this message (or its key) must not leave the bot."""
    if key is not None:
        privacy.check_text(key, "key")
    privacy.check_slack_message(text, blocks)
    if not allow_mentions:
        check_mentions(text, blocks)


__all__ = ["MentionError", "check_mentions", "check_slack_post"]
