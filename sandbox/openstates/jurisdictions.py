"""Open States jurisdictions: the 50 states, DC, Puerto Rico and the US Congress, by abbreviation."""

from __future__ import annotations

from dataclasses import dataclass

_STATES = {
    "al": "Alabama",
    "ak": "Alaska",
    "az": "Arizona",
    "ar": "Arkansas",
    "ca": "California",
    "co": "Colorado",
    "ct": "Connecticut",
    "de": "Delaware",
    "fl": "Florida",
    "ga": "Georgia",
    "hi": "Hawaii",
    "id": "Idaho",
    "il": "Illinois",
    "in": "Indiana",
    "ia": "Iowa",
    "ks": "Kansas",
    "ky": "Kentucky",
    "la": "Louisiana",
    "me": "Maine",
    "md": "Maryland",
    "ma": "Massachusetts",
    "mi": "Michigan",
    "mn": "Minnesota",
    "ms": "Mississippi",
    "mo": "Missouri",
    "mt": "Montana",
    "ne": "Nebraska",
    "nv": "Nevada",
    "nh": "New Hampshire",
    "nj": "New Jersey",
    "nm": "New Mexico",
    "ny": "New York",
    "nc": "North Carolina",
    "nd": "North Dakota",
    "oh": "Ohio",
    "ok": "Oklahoma",
    "or": "Oregon",
    "pa": "Pennsylvania",
    "ri": "Rhode Island",
    "sc": "South Carolina",
    "sd": "South Dakota",
    "tn": "Tennessee",
    "tx": "Texas",
    "ut": "Utah",
    "vt": "Vermont",
    "va": "Virginia",
    "wa": "Washington",
    "wv": "West Virginia",
    "wi": "Wisconsin",
    "wy": "Wyoming",
}


@dataclass(frozen=True)
class Jurisdiction:
    abbr: str
    id: str
    name: str
    classification: str

    def compact(self) -> dict[str, str]:
        return {"id": self.id, "name": self.name, "classification": self.classification}


def _all() -> dict[str, Jurisdiction]:
    found = {
        abbr: Jurisdiction(
            abbr, f"ocd-jurisdiction/country:us/state:{abbr}/government", name, "state"
        )
        for abbr, name in _STATES.items()
    }
    found["dc"] = Jurisdiction(
        "dc", "ocd-jurisdiction/country:us/district:dc/government", "District of Columbia", "state"
    )
    found["pr"] = Jurisdiction(
        "pr", "ocd-jurisdiction/country:us/territory:pr/government", "Puerto Rico", "state"
    )
    found["us"] = Jurisdiction(
        "us", "ocd-jurisdiction/country:us/government", "United States", "country"
    )
    return found


JURISDICTIONS = _all()
_BY_ID = {j.id: j for j in JURISDICTIONS.values()}
_BY_NAME = {j.name: j for j in JURISDICTIONS.values()}


def lookup(value: str) -> Jurisdiction | None:
    """A jurisdiction by abbreviation ("ca"), ocd-jurisdiction id, or exact name ("California")."""
    if len(value) == 2:
        return JURISDICTIONS.get(value.lower()) or _BY_NAME.get(value)
    if value.startswith("ocd-jurisdiction"):
        return _BY_ID.get(value)
    return _BY_NAME.get(value)


def resolve(value: str | dict[str, str]) -> Jurisdiction:
    """A jurisdiction given as a string or a {"id"|"name"} dict; ValueError when unknown."""
    if isinstance(value, dict):
        value = value.get("id") or value.get("name") or ""
    found = lookup(value)
    if found is None:
        raise ValueError(f"unknown jurisdiction {value!r}")
    return found
