"""Airtable-shaped ids (`rec`, `app`, `tbl`, `fld`, ... + 14 characters) from a seeded counter.

The same seed and the same sequence of writes give the same ids, so a seeded
sandbox is reproducible; the counter is part of the backend's snapshot.
"""

from __future__ import annotations

import hashlib

ALPHABET = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
ID_LENGTH = 14


class IdFactory:
    """Deterministic ids: the n-th id of a prefix is a hash of (seed, prefix, n)."""

    def __init__(self, seed: str = "airtable", counter: int = 0) -> None:
        self.seed = seed
        self.counter = counter

    def new(self, prefix: str) -> str:
        self.counter += 1
        digest = hashlib.blake2b(
            f"{self.seed}:{prefix}:{self.counter}".encode(), digest_size=16
        ).digest()
        number = int.from_bytes(digest, "big")
        chars = []
        for _ in range(ID_LENGTH):
            number, index = divmod(number, len(ALPHABET))
            chars.append(ALPHABET[index])
        return prefix + "".join(chars)


def looks_like(prefix: str, value: object) -> bool:
    """Whether `value` has the shape of an id with this prefix."""
    return (
        isinstance(value, str)
        and len(value) == len(prefix) + ID_LENGTH
        and value.startswith(prefix)
        and value[len(prefix) :].isalnum()
    )
