"""A linear attacker on published tables (tests only): what any combination of shown counts fixes.

Each shown count is an equation "these unknown cells add up to this"; the attacker
keeps a reduced echelon basis of them in exact fractions, and knows a quantity when
its vector lies in their span. Used by the differencing tests and the export's e2e test.
"""

from __future__ import annotations

from collections.abc import Hashable
from fractions import Fraction

Vector = dict[Hashable, Fraction]


class Attacker:
    """Every linear combination of published counts: an echelon basis, exact."""

    def __init__(self) -> None:
        self.basis: list[tuple[Hashable, Vector]] = []

    def reduce(self, vector: Vector) -> Vector:
        v = dict(vector)
        for pivot, row in self.basis:
            factor = v.get(pivot)
            if factor:
                for key, coef in row.items():
                    v[key] = v.get(key, Fraction(0)) - factor * coef
                    if v[key] == 0:
                        del v[key]
        return v

    def learn(self, vector: Vector) -> None:
        v = self.reduce(vector)
        if not v:
            return
        pivot = min(v)
        scale = v[pivot]
        row = {k: c / scale for k, c in v.items()}
        for i, (p, other) in enumerate(self.basis):  # keep the basis reduced
            factor = other.get(pivot)
            if factor:
                merged = dict(other)
                for key, coef in row.items():
                    merged[key] = merged.get(key, Fraction(0)) - factor * coef
                    if merged[key] == 0:
                        del merged[key]
                self.basis[i] = (p, merged)
        self.basis.append((pivot, row))

    def knows(self, vector: Vector) -> bool:
        return not self.reduce(vector)
