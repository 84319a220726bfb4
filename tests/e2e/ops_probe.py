"""Small flows for the multi-worker tests: an Airtable reader through the bot's own clients, and a sleeper.

Workers import it by module path (`tests.e2e.ops_probe.airtable_probe`); every
request goes through integrations/http.py, so it is paced by the local window and,
with PREFECT_API_URL set, by the shared budget, exactly like the real flows.
`slow_probe` only sleeps: the zombie-run test kills its worker while it runs.
"""

from __future__ import annotations

import time

from prefect import flow

from coalition.settings import settings
from integrations.airtable import all_records, open_base, open_table
from integrations.clients import airtable_api


@flow(name="ops-budget-probe", persist_result=False)
def airtable_probe(reads: int = 8) -> int:
    """Open the base and list the Members table `reads` times; the number of lists made."""
    cfg = settings()
    base = open_base(airtable_api(cfg), cfg.services.airtable.base)
    table = open_table(base, cfg.services.airtable.tables.members)
    for _ in range(reads):
        all_records(table, ["Name"])
    return reads


@flow(name="ops-zombie-probe", persist_result=False)
def slow_probe(seconds: int = 600) -> int:
    """Sleep `seconds` (a run that is still Running when its worker is killed); the seconds slept."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        time.sleep(1)
    return seconds
