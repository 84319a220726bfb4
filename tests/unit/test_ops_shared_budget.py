"""Shared API budgets: which budgets go through Prefect, how the limit is shaped, and what failures say."""

from __future__ import annotations

from dataclasses import dataclass, field
from types import SimpleNamespace
from typing import Any

import pytest

from integrations import shared_budget as sb
from integrations.budget import AIRTABLE_PER_BASE, SHEETS_PER_USER, BudgetRegistry, RateBudget
from integrations.http import ServiceUnavailable


@pytest.mark.parametrize(
    ("key", "name"),
    [
        ("airtable:appAbCdEf01234567", "airtable-appAbCdEf01234567"),
        ("airtable:meta", "airtable-meta"),
        ("airtable:token:abc", None),
        ("sheets", None),
        ("slack:C0123", None),
        ("docs:write", None),
    ],
)
def test_only_airtable_bases_are_shared(key: str, name: str | None) -> None:
    assert sb.shared_limit_name(key) == name


def test_the_shared_limit_is_one_slot_refilled_below_five_a_second() -> None:
    limit = sb.airtable_limit("appX")
    assert limit.name == "airtable-appX" and limit.slots == 1
    # 5/s less the jitter margin: six requests can never fit in one second.
    assert 4.0 < limit.decay < 5.0
    assert 5 / limit.decay > 1.0
    assert sb.airtable_limit("appX", time_scale=10).decay == pytest.approx(
        limit.decay * 10, rel=1e-3
    )


def test_registry_shares_only_when_a_prefect_server_is_configured(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    registry = BudgetRegistry()
    monkeypatch.delenv("PREFECT_API_URL", raising=False)
    assert sb.share_when_configured(registry) is False
    assert type(registry.get("airtable:appX", AIRTABLE_PER_BASE)) is RateBudget
    monkeypatch.setenv("PREFECT_API_URL", "http://127.0.0.1:4200/api")
    assert sb.share_when_configured(registry) is True
    shared = registry.get("airtable:appX", AIRTABLE_PER_BASE)
    assert isinstance(shared, sb.PrefectSharedBudget)
    assert shared.shared == sb.airtable_limit("appX")
    assert type(registry.get("sheets", SHEETS_PER_USER)) is RateBudget
    # Installing twice keeps the budgets (and their windows) already handed out.
    sb.share_when_configured(registry)
    assert registry.get("airtable:appX", AIRTABLE_PER_BASE) is shared


@dataclass
class Calls:
    events: list[tuple[str, Any]] = field(default_factory=list)


@pytest.fixture
def calls(monkeypatch: pytest.MonkeyPatch) -> Calls:
    record = Calls()
    monkeypatch.setattr(sb, "ensure_limit", lambda limit: record.events.append(("ensure", limit)))

    def fake_rate_limit(name: str, occupy: int, timeout_seconds: float, strict: bool) -> None:
        record.events.append(("slot", (name, occupy, strict)))

    import prefect.concurrency.sync

    monkeypatch.setattr(prefect.concurrency.sync, "rate_limit", fake_rate_limit)
    return record


def _budget() -> sb.PrefectSharedBudget:
    budget = sb.shared_budget("airtable:appX", AIRTABLE_PER_BASE)
    assert isinstance(budget, sb.PrefectSharedBudget)
    return budget


def test_each_request_takes_a_local_then_a_shared_slot(calls: Calls) -> None:
    budget = _budget()
    for _ in range(3):
        budget.acquire()
    assert budget.acquired == 3
    slots = [e for e in calls.events if e[0] == "slot"]
    assert slots == [("slot", ("airtable-appX", 1, True))] * 3


def test_a_timeout_on_the_shared_budget_is_service_unavailable(
    calls: Calls, monkeypatch: pytest.MonkeyPatch
) -> None:
    import prefect.concurrency.sync

    def slow(*args: Any, **kwargs: Any) -> None:
        raise TimeoutError

    monkeypatch.setattr(prefect.concurrency.sync, "rate_limit", slow)
    with pytest.raises(ServiceUnavailable, match="shared budget airtable-appX"):
        _budget().acquire()


def test_losing_the_prefect_server_is_a_clear_error(
    calls: Calls, monkeypatch: pytest.MonkeyPatch
) -> None:
    import prefect.concurrency.sync

    def gone(*args: Any, **kwargs: Any) -> None:
        raise ConnectionError("connection refused")

    monkeypatch.setattr(prefect.concurrency.sync, "rate_limit", gone)
    with pytest.raises(ServiceUnavailable) as caught:
        _budget().acquire()
    assert caught.value.service == "prefect" and "PREFECT_API_URL" in str(caught.value)


class FakeClient:
    """The four calls `_upsert` makes of a Prefect client."""

    def __init__(self, existing: dict[str, Any] | None = None, race: bool = False) -> None:
        self.limits = dict(existing or {})
        self.race = race
        self.writes: list[str] = []

    def read_global_concurrency_limit_by_name(self, name: str) -> Any:
        from prefect.exceptions import ObjectNotFound

        if name not in self.limits:
            raise ObjectNotFound(http_exc=Exception("404"))
        return self.limits[name]

    def create_global_concurrency_limit(self, create: Any) -> None:
        from prefect.exceptions import ObjectAlreadyExists

        if self.race:
            raise ObjectAlreadyExists(http_exc=Exception("409"))
        self.writes.append("create")
        self.limits[create.name] = SimpleNamespace(
            limit=create.limit, slot_decay_per_second=create.slot_decay_per_second, active=True
        )

    def update_global_concurrency_limit(self, name: str, update: Any) -> None:
        self.writes.append("update")
        self.limits[name] = SimpleNamespace(
            limit=update.limit, slot_decay_per_second=update.slot_decay_per_second, active=True
        )


def test_limits_are_created_once_and_corrected_when_they_drift() -> None:
    limit = sb.airtable_limit("appX")
    client = FakeClient()
    assert sb._upsert(limit, client) is True
    assert sb._upsert(limit, client) is False
    client.limits[limit.name] = SimpleNamespace(limit=5, slot_decay_per_second=5.0, active=False)
    assert sb._upsert(limit, client) is True
    assert client.writes == ["create", "update"]
    fixed = client.limits[limit.name]
    assert (fixed.limit, fixed.slot_decay_per_second) == (1, limit.decay)


def test_two_workers_creating_the_limit_at_once_is_fine() -> None:
    assert sb._upsert(sb.airtable_limit("appX"), FakeClient(race=True)) is False
