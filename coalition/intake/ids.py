"""Identifiers: Intake IDs derived from the row's content, Referral IDs, and salted contact hashes.

An Intake ID is a keyed hash of the row's form answers, so two workers reading the
same new row at the same time name it alike and the ledger's primary key lets only
one of them claim it; a crash before the ID reaches the sheet loses nothing, since
the next run derives the same ID again. The salt lives in the ledger, so the ID
reveals nothing about the answers.
"""

from __future__ import annotations

import hashlib
import hmac
import re
from collections.abc import Mapping

_CROCKFORD = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
INTAKE_PREFIX = "INT-"
REFERRAL_PREFIX = "REF-"
ID_LENGTH = 10  # 50 bits: collisions are negligible, and they are detected anyway
INTAKE_ID_PATTERN = re.compile(r"^INT-[0-9A-HJKMNP-TV-Z]{10}$")
REFERRAL_ID_PATTERN = re.compile(r"^REF-[0-9A-HJKMNP-TV-Z]{10}-\d{1,3}$")


def _base32(digest: bytes, length: int) -> str:
    number = int.from_bytes(digest[:8], "big")
    chars = []
    for _ in range(length):
        chars.append(_CROCKFORD[number & 31])
        number >>= 5
    return "".join(chars)


def keyed_hash(salt: str, *parts: str) -> str:
    """HMAC-SHA256 hex of the parts, keyed by the ledger's salt."""
    message = "\x1f".join(parts).encode("utf-8")
    return hmac.new(salt.encode("utf-8"), message, hashlib.sha256).hexdigest()


def row_fingerprint(salt: str, answers: Mapping[str, str]) -> str:
    """A keyed hash of the form answers (by column name, so column order and row position do not matter)."""
    parts = [
        f"{k}={' '.join(str(v).split())}" for k, v in sorted(answers.items()) if str(v).strip()
    ]
    return keyed_hash(salt, "row", *parts)


def intake_id(fingerprint: str, attempt: int = 0) -> str:
    """INT- and 10 Crockford base-32 characters; `attempt` > 0 steps past a (vanishingly rare) collision."""
    digest = hashlib.sha256(f"{fingerprint}:{attempt}".encode()).digest()
    return INTAKE_PREFIX + _base32(digest, ID_LENGTH)


def referral_id(intake: str, attempt: int) -> str:
    """REF-<the intake's code>-<attempt>: deterministic, so two workers cannot mint two for one attempt."""
    return f"{REFERRAL_PREFIX}{intake.removeprefix(INTAKE_PREFIX)}-{attempt}"


def normalize_intake_id(text: str) -> str | None:
    """Accept what staff type ("int-7k3m 9q2xpa", "7K3M9Q2XPA") and return the canonical ID."""
    code = re.sub(r"[\s-]", "", str(text).upper()).removeprefix("INT")
    code = code.translate(str.maketrans("OIL", "011"))
    candidate = INTAKE_PREFIX + code
    return candidate if INTAKE_ID_PATTERN.match(candidate) else None


def phone_key(salt: str, phone: str | None) -> str | None:
    """A keyed hash of a normalised (E.164) phone, or None."""
    return keyed_hash(salt, "phone", phone) if phone else None


def email_key(salt: str, email: str | None) -> str | None:
    """A keyed hash of a normalised email, or None."""
    return keyed_hash(salt, "email", email.casefold()) if email else None


def contact_keys(salt: str, phone: str | None, email: str | None) -> tuple[str, ...]:
    """Keyed hashes of the normalised phone and email: duplicates are found without keeping either."""
    return tuple(k for k in (phone_key(salt, phone), email_key(salt, email)) if k)
