"""How flows and the bot post to Slack: the outgoing checks first, then `SlackPoster` on the ledger's memory.

integrations/slack.py only moves messages; the privacy guard and the mention guard
(coalition/outgoing.py) run here, in one place, before anything is handed to it, in
dry runs too (a plan must show the refusal).
"""

from __future__ import annotations

from dataclasses import dataclass

from slack_sdk import WebClient

from coalition.ledger import Ledger, open_ledger
from coalition.ledger.posted_messages import PostedMessages
from coalition.outgoing import check_slack_post
from coalition.privacy import PrivacyGuard, guard
from coalition.settings import Settings
from integrations.slack import PlannedPost, PostResult, SlackPoster


@dataclass
class GuardedPoster:
    """A `SlackPoster` whose every message passes the privacy and mention guards first."""

    slack: SlackPoster
    privacy: PrivacyGuard = guard

    @property
    def client(self) -> WebClient | None:
        return self.slack.client

    @property
    def dry_run(self) -> bool:
        return self.slack.dry_run

    @property
    def planned(self) -> list[PlannedPost]:
        return self.slack.planned

    def post(
        self,
        key: str,
        channel: str,
        text: str,
        blocks: list | None = None,
        thread_ts: str | None = None,
        allow_mentions: bool = False,
    ) -> PostResult:
        """Check, then make the message under `key` show this content (see SlackPoster.post)."""
        self._check(text, blocks, allow_mentions, key)
        return self.slack.post(key, channel, text, blocks, thread_ts)

    def update(
        self, key: str, text: str, blocks: list | None = None, allow_mentions: bool = False
    ) -> PostResult:
        """Check, then edit the message already posted under `key`."""
        self._check(text, blocks, allow_mentions)
        return self.slack.update(key, text, blocks)

    def post_ephemeral(
        self, channel: str, user: str, text: str, blocks: list | None = None
    ) -> str | None:
        """Check, then show a message to `user` only."""
        self._check(text, blocks, False)
        return self.slack.post_ephemeral(channel, user, text, blocks)

    def delete(self, key: str) -> PostResult | None:
        return self.slack.delete(key)

    def permalink(self, channel_id: str, ts: str) -> str:
        return self.slack.permalink(channel_id, ts)

    def _check(
        self, text: str, blocks: list | None, allow_mentions: bool, key: str | None = None
    ) -> None:
        check_slack_post(text, blocks, key=key, allow_mentions=allow_mentions, privacy=self.privacy)


def guarded_poster(
    client: WebClient | None, ledger: Ledger, dry_run: bool = False
) -> GuardedPoster:
    """The guarded poster on this client, remembering its messages in this ledger."""
    return GuardedPoster(SlackPoster(client, PostedMessages(ledger), dry_run=dry_run))


def slack_poster(
    dry_run: bool = False, cfg: Settings | None = None, ledger: Ledger | None = None
) -> GuardedPoster:
    """A guarded poster on the configured Slack and ledger (a dry run needs neither a token nor requests)."""
    from integrations.clients import slack_client

    ledger = ledger or open_ledger(cfg.database_url if cfg else None)
    client = None if dry_run else slack_client(cfg)
    return guarded_poster(client, ledger, dry_run)


__all__ = ["GuardedPoster", "guarded_poster", "slack_poster"]
