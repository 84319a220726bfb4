"""Bench of the evidence figures (issue 20): 52 weeks of 1,000 intakes each, from the ledger, into the dashboard.

`fill_ledger` writes a year of intakes and their referrals straight into a ledger
(SQLite or PostgreSQL), as routing and follow-ups would have left them: ids,
statuses, labels, reason codes and times only. `compute` is what the weekly run
does with them (read, referral outcomes over 52 weeks, unmet need over 12 months,
suppressed, the dashboard's tabs), timed from the first query to the last tab.
"""

from __future__ import annotations

import random
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

COUNTIES = [f"{name} County" for name in (
    "Harris", "Dallas", "Cook", "Los Angeles", "Miami-Dade", "Maricopa", "Kings", "Queens",
    "Bexar", "Travis", "El Paso", "Hidalgo", "Fresno", "Tulare", "Orange", "San Diego",
    "Clark", "King", "Fulton", "DeKalb", "Suffolk", "Middlesex", "Essex", "Hudson",
    "Bronx", "Santa Clara", "Alameda", "Riverside", "Cameron", "Webb",
)]  # fmt: skip
CATEGORIES = ("asylum", "removal defense", "detained", "DACA", "TPS", "protected", "SIJS",
              "naturalization", "family petition", "work permit", "know your rights", None)  # fmt: skip
LANGUAGES = ("Spanish", "English", "Haitian Creole", "Mam", "K'iche'", "Arabic", "French",
             "Portuguese", "Chinese", "Russian", None)  # fmt: skip
REASONS = ("no_capacity", "outside_area", "language_unsupported", "service_not_offered",
           "over_income_limit", "accreditation_required")  # fmt: skip
DECLINES = ("no_capacity", "conflict", "not_our_service", "language", None)


@dataclass
class Filled:
    intakes: int
    referrals: int
    seconds: float


def fill_ledger(
    url: str, now: datetime, weeks: int = 52, per_week: int = 1000, seed: int = 20
) -> Filled:
    """Empty the ledger's intakes and referrals, then write `weeks` x `per_week` intakes ending at `now`."""
    from coalition.ledger import open_ledger
    from coalition.ledger.evidence_store import EvidenceStore

    started = time.perf_counter()
    rng = random.Random(seed)
    intakes: list[dict] = []
    referrals: list[dict] = []
    for n in range(weeks * per_week):
        received = (
            now - timedelta(weeks=weeks) + timedelta(seconds=rng.randrange(weeks * 7 * 86400))
        )
        intake_id = f"INT-B{n:09d}"
        roll = rng.random()
        status = "waitlist" if roll < 0.3 else "referred" if roll < 0.9 else "triage"
        intakes.append({
            "intake_id": intake_id, "received_at": received, "status": status,
            "category": rng.choice(CATEGORIES), "place": rng.choice(COUNTIES),
            "language": rng.choice(LANGUAGES), "created_at": received,
            "reason_code": rng.choice(REASONS) if status == "waitlist" else None,
        })  # fmt: skip
        if status != "referred":
            continue
        for attempt in (1, 2) if rng.random() < 0.15 else (1,):
            sent = received + timedelta(hours=rng.uniform(0.1, 30))
            state = rng.choice(
                ("accepted", "accepted", "declined", "expired", "notified", "failed")
            )
            decided = (
                sent + timedelta(hours=rng.uniform(1, 200))
                if state in {"accepted", "declined"}
                else None
            )
            referrals.append({
                "referral_id": f"REF-B{n:09d}-{attempt}", "intake_id": intake_id, "attempt": attempt,
                "partner_id": f"rec{rng.randrange(20):014d}", "state": state, "created_at": sent,
                "written_at": sent, "decided_at": decided,
                "decline_reason": rng.choice(DECLINES) if state == "declined" else None,
            })  # fmt: skip
    EvidenceStore(open_ledger(url)).replace_history(intakes, referrals)
    return Filled(len(intakes), len(referrals), round(time.perf_counter() - started, 1))


def compute(url: str, now: datetime) -> tuple[float, object]:
    """Seconds from the ledger to the dashboard's tabs, as the weekly run does it; and the dashboard."""
    from coalition.ledger import open_ledger
    from coalition.ledger.summary_documents import SummaryDocuments
    from coalition.settings import settings
    from coalition.summary import dashboard
    from coalition.summary.outcomes import span_bounds
    from coalition.summary.weeks import last_complete_week
    from flows.weekly_summary import evidence_figures, evidence_start

    cfg = settings()
    tz = ZoneInfo(cfg.services.timezone)
    target = last_complete_week(now, tz)
    ledger = open_ledger(url)
    started = time.perf_counter()
    facts = SummaryDocuments(ledger).evidence(evidence_start(target, tz), span_bounds(target, tz))
    figures = evidence_figures(cfg, target, now, facts, None)
    board = dashboard.build(
        target, facts.giving, figures.referrals, figures.need, now.astimezone(tz),
        cfg.summary.small_count_threshold,
    )  # fmt: skip
    return round(time.perf_counter() - started, 3), board


def now_utc() -> datetime:
    return datetime.now(UTC)


__all__ = ["Filled", "compute", "fill_ledger", "now_utc"]
