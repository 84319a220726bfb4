"""The flows the bot runs, by the name ops admins and the CLI use."""

from __future__ import annotations

import importlib
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class FlowEntry:
    name: str
    target: str  # "module:function"
    issue: int
    summary: str

    def load(self) -> Any:
        """The flow, with the failure/recovery alert hooks of flows/health.py attached."""
        from flows.health import with_health_hooks

        module, _, attr = self.target.partition(":")
        return with_health_hooks(getattr(importlib.import_module(module), attr))

    @property
    def attribute(self) -> str:
        """Its name in flows/deployed.py, the module deployments point at (roster-sync -> roster_sync)."""
        return self.name.replace("-", "_")


FLOWS: dict[str, FlowEntry] = {
    entry.name: entry
    for entry in (
        FlowEntry(
            "roster-sync",
            "flows.roster_sync:roster_sync",
            4,
            "Airtable roster -> Member Directory sheet and partner directory",
        ),
        FlowEntry(
            "intake-routing",
            "flows.intake_routing:intake_routing",
            5,
            "Route new intake rows to legal-aid partners",
        ),
        FlowEntry(
            "referral-follow-up",
            "flows.referral_follow_up:referral_follow_up",
            5,
            "Remind silent partners; re-route expired and declined referrals",
        ),
        FlowEntry(
            "alerts", "flows.alerts:alerts", 6, "Campaign calls to action and bill changes to Slack"
        ),
        FlowEntry(
            "weekly-summary",
            "flows.weekly_summary:weekly_summary",
            7,
            "Weekly donor and activity summary as a Google Doc",
        ),
    )
}
