"""State of the emulated Open States API v3: bills, their actions, and the search `GET /bills` performs.

Bills are added and changed through the model (`add_bill`, `update_bill`,
`add_action`), the way a legislature's scraper would, and read back through
`search` exactly as the real endpoint filters, sorts and pages them. Every change
moves `updated_at`; only a new action moves `latest_action_date` and
`latest_action_description`, so a poller can tell a real development from a
metadata touch.

Faithful quirks kept on purpose: `updated_since` compares against the
PostgreSQL text form of the timestamp ("2024-05-01 13:02:11.5+00"), so a date
("2024-05-01") works as expected and a "T"-separated time of the same day does
not match later times that day, as on the real server; `q` that looks like a
bill id ("HB 12", "sb12") matches the identifier exactly, anything else is a
full-text search on titles and abstracts.

Not implemented: people, committees, events and jurisdiction endpoints;
`sponsor` matching by person id only by name; full-text search uses a crude
English stemmer instead of PostgreSQL's Snowball one.
"""

from __future__ import annotations

import copy
import math
import random
import re
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from sandbox.core import SandboxServices
from sandbox.openstates.jurisdictions import Jurisdiction, lookup, resolve

MAX_PER_PAGE = 20
BILL_INCLUDES = (
    "sponsorships",
    "abstracts",
    "other_titles",
    "other_identifiers",
    "actions",
    "sources",
    "documents",
    "versions",
    "votes",
)
SORTS = {
    "updated_asc": ("updated_at", False),
    "updated_desc": ("updated_at", True),
    "first_action_asc": ("first_action_date", False),
    "first_action_desc": ("first_action_date", True),
    "latest_action_asc": ("latest_action_date", False),
    "latest_action_desc": ("latest_action_date", True),
}
UPDATABLE = frozenset(
    {"title", "identifier", "session", "classification", "subject", "extras", *BILL_INCLUDES}
)
_LIKELY_BILL_ID = re.compile(r"\w{1,3}\s*\d{1,5}")
_BILL_ID = re.compile(r"([A-Z]*)\s*0*([-\d]+)")
_MI_BILL_ID = re.compile(r"(SJR|HJR)\s*([A-Z]+)")
_STOP_WORDS = frozenset(
    {
        "a", "an", "and", "are", "as", "at", "be", "but", "by", "for", "from", "had", "has",
        "have", "he", "her", "his", "i", "if", "in", "into", "is", "it", "its", "no", "not",
        "of", "on", "or", "our", "she", "so", "such", "than", "that", "the", "their", "them",
        "then", "there", "these", "they", "this", "to", "was", "we", "were", "what", "when",
        "which", "who", "will", "with",
    }
)  # fmt: skip
_SUFFIXES = (
    "ational", "ations", "ation", "ments", "ment", "ances", "ance", "ences", "ence",
    "ings", "ing", "ants", "ant", "ents", "ent", "ions", "ion", "ates", "ate",
    "ers", "er", "ies", "es", "ed", "ly", "s",
)  # fmt: skip


class OpenStatesError(Exception):
    """A refused request: HTTP status and FastAPI's `detail` (a string, or a list for 422)."""

    def __init__(self, status: int, detail: Any) -> None:
        super().__init__(str(detail))
        self.status = status
        self.detail = detail


@dataclass
class BillQuery:
    """The parameters of `GET /bills`, already parsed."""

    jurisdiction: str | None = None
    session: str | None = None
    chamber: str | None = None
    classification: str | None = None
    subject: list[str] = field(default_factory=list)
    updated_since: str | None = None
    created_since: str | None = None
    action_since: str | None = None
    sort: str = "updated_desc"
    sponsor: str | None = None
    sponsor_classification: str | None = None
    q: str | None = None
    include: list[str] = field(default_factory=list)
    page: int = 1
    per_page: int = 10


def fix_bill_id(bill_id: str) -> str:
    """Open States' normalisation of a bill id: "HB0012" and "HB 12" both become "HB 12"."""
    if _MI_BILL_ID.match(bill_id):
        return _MI_BILL_ID.sub(r"\1 \2", bill_id, count=1).strip()
    return _BILL_ID.sub(r"\1 \2", bill_id, count=1).strip()


class Backend:
    """The bills of the sandbox's Open States service."""

    def __init__(self, ctx: SandboxServices) -> None:
        self.ctx = ctx
        self.reset()

    # -------------------------------------------------------------- state
    def reset(self) -> None:
        self._bills: dict[str, dict[str, Any]] = {}
        self._rng = random.Random(2025)
        self.api_keys: set[str] | None = None  # None: any key is accepted

    def snapshot(self) -> dict[str, Any]:
        keys = sorted(self.api_keys) if self.api_keys is not None else None
        return {"bills": copy.deepcopy(list(self._bills.values())), "api_keys": keys}

    def restore(self, data: dict[str, Any]) -> None:
        self._bills = {bill["id"]: copy.deepcopy(bill) for bill in data.get("bills", [])}
        keys = data.get("api_keys")
        self.api_keys = set(keys) if keys is not None else None

    # -------------------------------------------------------------- model API
    def add_bill(self, data: dict[str, Any]) -> str:
        """Add a bill from a partial record (identifier, title, jurisdiction required); returns its id."""
        for required in ("identifier", "title", "jurisdiction"):
            if not data.get(required):
                raise ValueError(f"a bill needs {required!r}")
        place = resolve(data["jurisdiction"])
        now = self._now()
        bill_id = data.get("id") or f"ocd-bill/{self._uuid()}"
        if bill_id in self._bills:
            raise ValueError(f"bill {bill_id} already exists")
        identifier = fix_bill_id(str(data["identifier"])).upper()
        organization = data.get("from_organization") or self._chamber(identifier, place)
        bill: dict[str, Any] = {
            "id": bill_id,
            "session": str(data.get("session") or now[:4]),
            "jurisdiction": place.compact(),
            "from_organization": organization,
            "identifier": identifier,
            "title": str(data["title"]),
            "classification": list(data.get("classification") or ["bill"]),
            "subject": list(data.get("subject") or []),
            "extras": dict(data.get("extras") or {}),
            "created_at": _stamp(data.get("created_at")) or now,
            "updated_at": _stamp(data.get("updated_at")) or now,
        }
        for name in BILL_INCLUDES:
            bill[name] = copy.deepcopy(list(data.get(name) or []))
        bill["actions"] = self._actions(bill["actions"], organization)
        if not bill["actions"] and data.get("latest_action_description"):
            bill["actions"] = self._actions(
                [
                    {
                        "description": data["latest_action_description"],
                        "date": data.get("latest_action_date") or now[:10],
                    }
                ],
                organization,
            )
        _derive(bill, place)
        self._bills[bill_id] = bill
        return bill_id

    def update_bill(self, bill_id: str, **changes: Any) -> None:
        """Change a bill and move its updated_at; `latest_action_*` changes are recorded as a new action."""
        bill = self._bill(bill_id)
        stamp = changes.pop("updated_at", None)
        description = changes.pop("latest_action_description", None)
        date = changes.pop("latest_action_date", None)
        classification = changes.pop("latest_action_classification", None)
        unknown = set(changes) - UPDATABLE
        if unknown:
            raise ValueError(f"cannot update bill fields {sorted(unknown)}")
        for name, value in changes.items():
            bill[name] = copy.deepcopy(value)
        if "identifier" in changes:
            bill["identifier"] = fix_bill_id(str(changes["identifier"])).upper()
        if "actions" in changes:
            bill["actions"] = self._actions(changes["actions"], bill["from_organization"])
        if description is not None or date is not None:
            action = {
                "description": description or bill["latest_action_description"],
                "date": date or self._now()[:10],
                "classification": list(classification or []),
            }
            bill["actions"] = self._actions([*bill["actions"], action], bill["from_organization"])
        _derive(bill, resolve(bill["jurisdiction"]))
        bill["updated_at"] = _stamp(stamp) or self._later_than(bill["updated_at"])

    def add_action(
        self, bill_id: str, description: str, date: str, classification: list[str] | None = None
    ) -> None:
        """Record a new legislative action (moves latest_action_* and updated_at)."""
        self.update_bill(
            bill_id,
            latest_action_description=description,
            latest_action_date=date,
            latest_action_classification=classification or [],
        )

    def bills(self) -> list[dict[str, Any]]:
        """Every bill in the API's shape, with every include."""
        return [bill_json(bill, BILL_INCLUDES) for bill in self._bills.values()]

    def get_bill(
        self, bill_id: str, include: list[str] | tuple[str, ...] = BILL_INCLUDES
    ) -> dict[str, Any]:
        return bill_json(self._bill(bill_id), include)

    def set_api_keys(self, keys: set[str] | None) -> None:
        """Accept only these keys (others get 401 "Invalid API Key"); None accepts any key."""
        self.api_keys = set(keys) if keys is not None else None

    def key_accepted(self, key: str) -> bool:
        return self.api_keys is None or key in self.api_keys

    # -------------------------------------------------------------- search
    def search(self, query: BillQuery) -> dict[str, Any]:
        """`GET /bills`: filter, sort and page like the real endpoint, with its errors in its order."""
        if query.session and not query.jurisdiction:
            raise OpenStatesError(
                400, "filtering by session requires a jurisdiction parameter as well"
            )
        if query.sponsor_classification and not query.sponsor:
            raise OpenStatesError(
                400, "filtering by sponsor_classification requires sponsor parameter as well"
            )
        if not query.q and not query.jurisdiction:
            raise OpenStatesError(400, "either 'jurisdiction' or 'q' required")
        matches = [bill for bill in self._bills.values() if _matches(bill, query)]
        return _page([bill_json(b, query.include) for b in _sorted(matches, query.sort)], query)

    def find_bill(self, jurisdiction: str, session: str, identifier: str) -> dict[str, Any] | None:
        wanted = fix_bill_id(identifier).upper()
        for bill in self._bills.values():
            if (
                bill["identifier"] == wanted
                and bill["session"] == session
                and _in_jurisdiction(bill, jurisdiction)
            ):
                return bill
        return None

    def bill_record(self, bill_id: str) -> dict[str, Any] | None:
        return self._bills.get(bill_id)

    # -------------------------------------------------------------- internals
    def _bill(self, bill_id: str) -> dict[str, Any]:
        try:
            return self._bills[bill_id]
        except KeyError:
            raise KeyError(f"no bill {bill_id}") from None

    def _now(self) -> str:
        return self.ctx.clock.utcnow().astimezone(UTC).isoformat()

    def _later_than(self, previous: str) -> str:
        # Two changes within one clock tick must still be ordered.
        now = self.ctx.clock.utcnow().astimezone(UTC)
        before = datetime.fromisoformat(previous)
        return max(now, before + timedelta(microseconds=1)).isoformat()

    def _uuid(self) -> str:
        return str(uuid.UUID(int=self._rng.getrandbits(128), version=4))

    def _chamber(self, identifier: str, place: Jurisdiction) -> dict[str, Any]:
        prefix = identifier[:1]
        if prefix in {"H", "A"}:
            name, classification = ("Assembly" if prefix == "A" else "House"), "lower"
        elif prefix == "S":
            name, classification = "Senate", "upper"
        else:
            name, classification = f"{place.name} Legislature", "legislature"
        org_id = uuid.uuid5(uuid.NAMESPACE_URL, f"{place.id}/{classification}")
        return {"id": f"ocd-organization/{org_id}", "name": name, "classification": classification}

    def _actions(
        self, actions: list[dict[str, Any]], organization: dict[str, Any]
    ) -> list[dict[str, Any]]:
        return [
            {
                "organization": copy.deepcopy(action.get("organization") or organization),
                "description": str(action["description"]),
                "date": str(action["date"]),
                "classification": list(action.get("classification") or []),
                "order": order,
            }
            for order, action in enumerate(actions)
        ]


def _derive(bill: dict[str, Any], place: Jurisdiction) -> None:
    """The computed fields: first/latest action, latest passage, openstates_url."""
    actions = sorted(bill["actions"], key=lambda a: (a["date"], a["order"]))
    latest = actions[-1] if actions else None
    passages = [a["date"] for a in actions if "passage" in a["classification"]]
    bill["first_action_date"] = actions[0]["date"] if actions else ""
    bill["latest_action_date"] = latest["date"] if latest else ""
    bill["latest_action_description"] = latest["description"] if latest else ""
    bill["latest_passage_date"] = passages[-1] if passages else ""
    slug = bill["identifier"].replace(" ", "")
    bill["openstates_url"] = f"https://openstates.org/{place.abbr}/bills/{bill['session']}/{slug}/"


def bill_json(bill: dict[str, Any], include: list[str] | tuple[str, ...]) -> dict[str, Any]:
    """A bill as the API returns it: the includes asked for, and no others."""
    data = {k: copy.deepcopy(v) for k, v in bill.items() if k not in BILL_INCLUDES}
    for name in BILL_INCLUDES:
        if name in include:
            data[name] = copy.deepcopy(bill[name])
    return data


def _stamp(value: str | datetime | None) -> str | None:
    """A timestamp as the API prints it (ISO 8601, UTC offset); naive datetimes are taken as UTC."""
    if value is None or value == "":
        return None
    moment = value if isinstance(value, datetime) else datetime.fromisoformat(str(value))
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC).isoformat()


def _in_jurisdiction(bill: dict[str, Any], wanted: str) -> bool:
    found = lookup(wanted)
    if found is not None:
        return bill["jurisdiction"]["id"] == found.id
    return bill["jurisdiction"]["name"] == wanted


def _matches(bill: dict[str, Any], query: BillQuery) -> bool:
    checks = (
        not query.jurisdiction or _in_jurisdiction(bill, query.jurisdiction),
        not query.session or bill["session"] == query.session,
        not query.chamber or bill["from_organization"]["classification"] == query.chamber,
        not query.classification or query.classification in bill["classification"],
        all(s in bill["subject"] for s in query.subject),
        not query.sponsor or _sponsored_by(bill, query.sponsor, query.sponsor_classification),
        not query.updated_since or _pg_text(bill["updated_at"]) >= query.updated_since,
        not query.created_since or _pg_text(bill["created_at"]) >= query.created_since,
        not query.action_since or bill["latest_action_date"] >= query.action_since,
        not query.q or _matches_q(bill, query.q),
    )
    return all(checks)


def _sponsored_by(bill: dict[str, Any], sponsor: str, classification: str | None) -> bool:
    for s in bill["sponsorships"]:
        person_id = (s.get("person") or {}).get("id")
        who = person_id if sponsor.startswith("ocd-person/") else s.get("name")
        if who == sponsor and (not classification or s.get("classification") == classification):
            return True
    return False


def _pg_text(timestamp: str) -> str:
    """PostgreSQL's text cast of a UTC timestamptz, which the real filter compares as a string."""
    moment = datetime.fromisoformat(timestamp).astimezone(UTC)
    text = moment.strftime("%Y-%m-%d %H:%M:%S")
    if moment.microsecond:
        text += f".{moment.microsecond:06d}".rstrip("0")
    return text + "+00"


# ------------------------------------------------------------------ full text
def _stem(word: str) -> str:
    for suffix in _SUFFIXES:
        if word.endswith(suffix) and len(word) - len(suffix) >= 3:
            return word[: -len(suffix)]
    return word


def _stems(text: str) -> list[str]:
    return [_stem(w) for w in re.findall(r"[a-z0-9]+", text.lower()) if w not in _STOP_WORDS]


def _matches_q(bill: dict[str, Any], q: str) -> bool:
    if _LIKELY_BILL_ID.match(q):
        return bill["identifier"].upper() == fix_bill_id(q).upper()
    texts = [bill["title"]] + [a.get("abstract", "") for a in bill["abstracts"]]
    texts += [t.get("title", "") for t in bill["other_titles"]]
    words = _stems(" ".join(texts))
    groups = [g for g in _websearch_groups(q) if any(not neg for neg, _ in g)]
    return any(all(_has_phrase(words, stems) != neg for neg, stems in group) for group in groups)


def _websearch_groups(q: str) -> list[list[tuple[bool, list[str]]]]:
    """websearch_to_tsquery: words and "quoted phrases" ANDed, `or` between groups, `-` negates."""
    groups: list[list[tuple[bool, list[str]]]] = [[]]
    for token in re.findall(r'-?"[^"]*"|\S+', q):
        if token.lower() == "or":
            groups.append([])
            continue
        negated = token.startswith("-")
        stems = _stems(token.lstrip("-").strip('"'))
        if stems:
            groups[-1].append((negated, stems))
    return [g for g in groups if g]


def _has_phrase(words: list[str], stems: list[str]) -> bool:
    size = len(stems)
    return any(words[i : i + size] == stems for i in range(len(words) - size + 1))


# ------------------------------------------------------------------ order and pages
def _sorted(bills: list[dict[str, Any]], sort: str) -> list[dict[str, Any]]:
    name, descending = SORTS[sort]

    def key(bill: dict[str, Any]) -> tuple[Any, str]:
        value = bill[name]
        return (datetime.fromisoformat(value) if name == "updated_at" else value), bill["id"]

    present = sorted((b for b in bills if b[name]), key=key, reverse=descending)
    return present + [b for b in bills if not b[name]]  # NULLS LAST either way


def _page(results: list[dict[str, Any]], query: BillQuery) -> dict[str, Any]:
    if query.per_page < 1 or query.per_page > MAX_PER_PAGE:
        raise OpenStatesError(400, f"invalid per_page, must be in [1, {MAX_PER_PAGE}]")
    pages = math.ceil(len(results) / query.per_page) or 1
    if query.page < 1 or query.page > pages:
        raise OpenStatesError(404, f"invalid page, must be in [1, {pages}]")
    start = (query.page - 1) * query.per_page
    return {
        "results": results[start : start + query.per_page],
        "pagination": {
            "per_page": query.per_page,
            "page": query.page,
            "max_page": pages,
            "total_items": len(results),
        },
    }
