"""Data-quality checks of the roster (pure): duplicates, missing primary contact, bad values, lapsed dues, stale verification.

`assess` looks at the records read this run and compares them with the whole
roster: records read now plus, for an incremental run, what the ledger index
remembers of the others (organization names, keyed hashes of contact emails and
phones). Findings render to the `Data issues` text of each record, in a stable
order, so a record whose problems did not change gets byte-identical text and
no write.
"""

from __future__ import annotations

import hashlib
import hmac
import re
from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date

from dateutil.relativedelta import relativedelta
from rapidfuzz import fuzz, process

from coalition.roster.models import Code, Contact, Finding, Member, RosterIndex
from coalition.roster.normalize import fold

MEMBER_NAME_CUTOFF = 92
CONTACT_NAME_CUTOFF = 90
MIN_FUZZY_LENGTH = 5  # below this, only identical names count as alike
MAX_DUPLICATES = 5  # a name like many others lists its closest few, not all of them
_DIGITS = re.compile(r"\d+")
MAX_LINES = 60  # Airtable long text holds 100,000 characters; staff read far fewer

# Words that say what kind of body an organization is, not which one it is.
_ORG_NOISE = frozenset(
    {"the", "inc", "llc", "corp", "corporation", "co", "ltd", "org", "nfp", "pc"}
)
_ORG_ABBREVIATIONS = {
    "ctr": "center", "centre": "center", "cntr": "center", "assn": "association",
    "assoc": "association", "intl": "international", "natl": "national", "svcs": "services",
    "comm": "community", "cmty": "community", "dept": "department", "fdn": "foundation",
    "immig": "immigrant", "st": "saint",
}  # fmt: skip

# Order of findings in the Data issues text: the most actionable first.
ORDER = [
    Code.MISSING_NAME,
    Code.DUPLICATE_MEMBER,
    Code.DUPLICATE_CONTACT,
    Code.MISSING_PRIMARY_CONTACT,
    Code.CONTACT_ISSUES,
    Code.INVALID_EMAIL,
    Code.INVALID_PHONE,
    Code.MISSING_ORGANIZATION,
    Code.LINKED_RECORD_MISSING,
    Code.DUES_LAPSED,
    Code.NOT_VERIFIED,
    Code.UNKNOWN_STATE,
    Code.UNKNOWN_SERVICE,
    Code.UNKNOWN_LANGUAGE,
    Code.INVALID_VALUE,
]
# How a contact's problem is summarized on its organization's record: no values quoted.
CONTACT_LABELS = {
    Code.MISSING_NAME: "no name",
    Code.DUPLICATE_CONTACT: "possible duplicate",
    Code.INVALID_EMAIL: "email not valid",
    Code.INVALID_PHONE: "phone not valid",
    Code.MISSING_ORGANIZATION: "not linked to an organization",
    Code.LINKED_RECORD_MISSING: "linked to an organization that no longer exists",
}


def keyed_hash(secret: str, value: str) -> str:
    """A keyed hash of a contact value: equal values match, the value itself cannot be read back."""
    return hmac.new(secret.encode(), value.encode(), hashlib.sha256).hexdigest()[:32]


def email_key(secret: str, email: str | None) -> str | None:
    return keyed_hash(secret, "email:" + email.casefold()) if email else None


def phone_key(secret: str, phone: str | None) -> str | None:
    return keyed_hash(secret, "phone:" + phone) if phone else None


def org_key(name: str) -> str:
    """An organization name reduced to what tells it apart from others."""
    words = (_ORG_ABBREVIATIONS.get(w, w) for w in fold(name).replace("&", " and ").split())
    return " ".join(w for w in words if w not in _ORG_NOISE)


def render(findings: Iterable[Finding], max_lines: int = MAX_LINES) -> str:
    """The Data issues text: one line per finding, in a stable order, without repeats."""
    rank = {code: i for i, code in enumerate(ORDER)}
    unique = sorted(
        set(findings), key=lambda f: (rank.get(f.code, len(ORDER)), f.text, f.ref or "")
    )
    lines = [f"• {f.text}" for f in unique]
    if len(lines) > max_lines:
        lines = [*lines[: max_lines - 1], f"• …and {len(lines) - max_lines + 1} more."]
    return "\n".join(lines)


@dataclass
class Assessment:
    """Findings and Data issues text of every record read this run, and each member's primary contact."""

    members: dict[str, list[Finding]] = field(default_factory=dict)
    contacts: dict[str, list[Finding]] = field(default_factory=dict)
    primary: dict[str, Contact | None] = field(default_factory=dict)
    member_text: dict[str, str] = field(default_factory=dict)
    contact_text: dict[str, str] = field(default_factory=dict)

    def finding_keys(self, kind: str, record_id: str) -> tuple[str, ...]:
        found = self.members if kind == "member" else self.contacts
        return tuple(sorted({f.key for f in found.get(record_id, [])}))


def assess(
    members: Mapping[str, Member],
    contacts: Mapping[str, Contact],
    index: RosterIndex,
    today: date,
    secret: str,
    verify_months: int = 12,
    check_verified: bool = True,
) -> Assessment:
    """Check every member and contact read this run against the whole roster."""
    result = Assessment()
    known_members = _known_member_names(members, index)
    contacts_by_member = _group_contacts(contacts)
    contact_dups = _contact_duplicates(contacts, contacts_by_member, index, secret)
    for contact in contacts.values():
        found = _name_findings(contact.name, "contact") + list(contact.problems)
        found += contact_dups.get(contact.id, [])
        found += _link_findings(contact, known_members)
        result.contacts[contact.id] = found
        result.contact_text[contact.id] = render(found)
    member_dups = _member_duplicates(members, known_members)
    for member in members.values():
        people = contacts_by_member.get(member.id, [])
        primary, primary_findings = _primary_contact(people)
        found = _name_findings(member.name, "organization") + list(member.problems)
        found += member_dups.get(member.id, []) + primary_findings
        found += _date_findings(member, today, verify_months, check_verified)
        found += _contact_summaries(people, result.contacts)
        result.members[member.id] = found
        result.primary[member.id] = primary
        result.member_text[member.id] = render(found)
    return result


def _name_findings(name: str, what: str) -> list[Finding]:
    return [] if name else [Finding(Code.MISSING_NAME, f"No {what} name.")]


# ---------------------------------------------------------------- members
def _known_member_names(members: Mapping[str, Member], index: RosterIndex) -> dict[str, str]:
    """Member id -> name, for every member still in the roster (read now, else remembered)."""
    names = {m.id: m.name for m in index.members.values() if not m.removed}
    names.update({m.id: m.name for m in members.values()})
    return names


def _member_duplicates(
    members: Mapping[str, Member], known: Mapping[str, str]
) -> dict[str, list[Finding]]:
    """Members whose names are alike (rapidfuzz) or equal once folded; both sides get a finding."""
    ids = [i for i, name in known.items() if org_key(name)]
    keys = [org_key(known[i]) for i in ids]
    queries = [i for i in members if org_key(known.get(i, ""))]
    if not queries or len(ids) < 2:
        return {}
    found: dict[str, list[Finding]] = defaultdict(list)
    for member_id in queries:
        mine = org_key(known[member_id])
        scores: dict[int, float] = {}
        # Plain ratio catches a changed word ("Ctr." for "Center"), token sort a reordering.
        for scorer in (fuzz.ratio, fuzz.token_sort_ratio):
            for _, score, position in process.extract(
                mine, keys, scorer=scorer, score_cutoff=MEMBER_NAME_CUTOFF, limit=None
            ):
                scores[position] = max(score, scores.get(position, 0))
        alike = [
            (-score, ids[position])
            for position, score in scores.items()
            if ids[position] != member_id and _alike(mine, keys[position], int(score))
        ]
        for _, other in sorted(alike)[:MAX_DUPLICATES]:
            text = f"Possible duplicate of member {known[other]} ({other})."
            found[member_id].append(Finding(Code.DUPLICATE_MEMBER, text, ref=other))
    return found


def _alike(a: str, b: str, score: int) -> bool:
    if min(len(a), len(b)) < MIN_FUZZY_LENGTH:
        return a == b
    # "Local 32" and "Local 1199", "District 4" and "District 5" are different bodies.
    return score >= MEMBER_NAME_CUTOFF and _DIGITS.findall(a) == _DIGITS.findall(b)


def _primary_contact(people: list[Contact]) -> tuple[Contact | None, list[Finding]]:
    """The contact marked primary (the first by id if several); a finding when there is none."""
    marked = sorted((c for c in people if c.is_primary), key=lambda c: c.id)
    if marked:
        return marked[0], []
    if not people:
        return None, [
            Finding(Code.MISSING_PRIMARY_CONTACT, "No primary contact: no contacts linked.")
        ]
    if len(people) == 1:
        text = "No primary contact: its one contact is not marked primary."
    else:
        text = f"No primary contact: none of its {len(people)} contacts is marked primary."
    return None, [Finding(Code.MISSING_PRIMARY_CONTACT, text)]


def _date_findings(member: Member, today: date, months: int, check_verified: bool) -> list[Finding]:
    found: list[Finding] = []
    if member.dues_paid_through and member.dues_paid_through < today:
        text = f"Dues lapsed: paid through {member.dues_paid_through.isoformat()}."
        found.append(Finding(Code.DUES_LAPSED, text))
    if check_verified:
        if member.last_verified is None:
            found.append(Finding(Code.NOT_VERIFIED, "Never verified."))
        elif member.last_verified < today - relativedelta(months=months):
            text = f"Not verified in {months} months (last {member.last_verified.isoformat()})."
            found.append(Finding(Code.NOT_VERIFIED, text))
    return found


def _contact_summaries(
    people: list[Contact], findings: Mapping[str, list[Finding]]
) -> list[Finding]:
    """One line per contact with problems, on its organization's record; values are not quoted."""
    lines: list[Finding] = []
    for contact in people:
        found = findings.get(contact.id, [])
        labels = sorted({CONTACT_LABELS[f.code] for f in found if f.code in CONTACT_LABELS})
        if labels:
            text = f"Contact {contact.name or contact.id}: {', '.join(labels)}."
            lines.append(Finding(Code.CONTACT_ISSUES, text, ref=contact.id))
    return lines


# ---------------------------------------------------------------- contacts
def _group_contacts(contacts: Mapping[str, Contact]) -> dict[str, list[Contact]]:
    grouped: dict[str, list[Contact]] = defaultdict(list)
    for contact in sorted(contacts.values(), key=lambda c: c.id):
        for member_id in contact.member_ids:
            grouped[member_id].append(contact)
    return grouped


def _contact_duplicates(
    contacts: Mapping[str, Contact],
    by_member: Mapping[str, list[Contact]],
    index: RosterIndex,
    secret: str,
) -> dict[str, list[Finding]]:
    """Same email or phone anywhere in the roster; names alike within one organization."""
    by_key: dict[str, set[str]] = defaultdict(set)
    for entry in index.contacts.values():
        if entry.id in contacts:
            continue
        for key in (entry.email_key, entry.phone_key):
            if key:
                by_key[key].add(entry.id)
    own_keys: dict[str, dict[str, str]] = {}
    for contact in contacts.values():
        keys = {
            "email": email_key(secret, contact.email),
            "phone": phone_key(secret, contact.phone),
        }
        own_keys[contact.id] = {k: v for k, v in keys.items() if v}
        for key in own_keys[contact.id].values():
            by_key[key].add(contact.id)
    found: dict[str, set[Finding]] = defaultdict(set)
    for contact in contacts.values():
        for what, key in own_keys[contact.id].items():
            for other in by_key[key] - {contact.id}:
                found[contact.id].add(_dup(contact, other, contacts, f"same {what}"))
    folded = {c.id: fold(c.name) for c in contacts.values()}
    for people in by_member.values():
        for i, a in enumerate(people):
            for b in people[i + 1 :]:
                if _names_alike(folded[a.id], folded[b.id]):
                    found[a.id].add(_dup(a, b.id, contacts, "similar name"))
                    found[b.id].add(_dup(b, a.id, contacts, "similar name"))
    return {k: sorted(v) for k, v in found.items()}


def _dup(contact: Contact, other: str, contacts: Mapping[str, Contact], why: str) -> Finding:
    name = contacts[other].name if other in contacts and contacts[other].name else other
    return Finding(
        Code.DUPLICATE_CONTACT, f"Possible duplicate of contact {name} ({why}).", ref=other
    )


def _names_alike(fa: str, fb: str) -> bool:
    """Two folded names alike: equal when short, else a token-sorted match (given/family swapped)."""
    if not fa or not fb:
        return False
    if min(len(fa), len(fb)) < MIN_FUZZY_LENGTH:
        return fa == fb
    return fuzz.token_sort_ratio(fa, fb) >= CONTACT_NAME_CUTOFF


def _link_findings(contact: Contact, known_members: Mapping[str, str]) -> list[Finding]:
    if not contact.member_ids:
        return [Finding(Code.MISSING_ORGANIZATION, "Not linked to a member organization.")]
    gone = [m for m in contact.member_ids if m not in known_members]
    return [
        Finding(Code.LINKED_RECORD_MISSING, f"Linked organization {m} no longer exists.", ref=m)
        for m in gone
    ]
