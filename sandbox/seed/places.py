"""Geography of the demo coalition: states, organizing regions, counties and their cities (pure data).

Counties and cities are real places (routing works on real counties); every
organization and person placed in them is invented.
"""

from __future__ import annotations

STATE_NAMES: dict[str, str] = {
    "TX": "Texas",
    "CA": "California",
    "FL": "Florida",
    "NY": "New York",
    "IL": "Illinois",
    "AZ": "Arizona",
    "GA": "Georgia",
    "MA": "Massachusetts",
    "NJ": "New Jersey",
    "WA": "Washington",
    "NC": "North Carolina",
    "CO": "Colorado",
    "IA": "Iowa",
    "TN": "Tennessee",
}

# Organizing regions, named as in config/alerts.yaml `region_channels`.
REGION_OF_STATE: dict[str, str] = {
    "TX": "Southwest",
    "AZ": "Southwest",
    "FL": "Southeast",
    "GA": "Southeast",
    "NC": "Southeast",
    "TN": "Southeast",
    "NY": "Northeast",
    "MA": "Northeast",
    "NJ": "Northeast",
    "IL": "Midwest",
    "IA": "Midwest",
    "CA": "West",
    "WA": "West",
    "CO": "West",
}

# County -> cities people write on the form. Iowa and Tennessee have no member
# organization: rows from there have nowhere to go but triage.
COUNTIES: dict[str, dict[str, list[str]]] = {
    "TX": {
        "Harris": ["Houston", "Pasadena", "Baytown"],
        "Fort Bend": ["Sugar Land", "Rosenberg"],
        "Dallas": ["Dallas", "Garland", "Irving"],
        "Tarrant": ["Fort Worth", "Arlington"],
        "El Paso": ["El Paso", "Socorro"],
        "Hidalgo": ["McAllen", "Edinburg", "Pharr"],
    },
    "CA": {
        "Los Angeles": ["Los Angeles", "Pomona", "Long Beach"],
        "San Diego": ["San Diego", "Chula Vista", "Escondido"],
        "Fresno": ["Fresno", "Sanger"],
        "Tulare": ["Visalia", "Porterville"],
    },
    "FL": {
        "Miami-Dade": ["Miami", "Hialeah", "Homestead"],
        "Broward": ["Fort Lauderdale", "Hollywood"],
        "Palm Beach": ["West Palm Beach", "Lake Worth Beach"],
    },
    "NY": {
        "Kings": ["Brooklyn"],
        "Queens": ["Queens", "Flushing", "Jamaica"],
        "New York": ["Manhattan"],
        "Bronx": ["Bronx"],
        "Westchester": ["Yonkers", "White Plains"],
    },
    "IL": {"Cook": ["Chicago", "Cicero"], "DuPage": ["Aurora", "Wheaton"]},
    "AZ": {"Maricopa": ["Phoenix", "Mesa", "Glendale"], "Pima": ["Tucson"]},
    "GA": {
        "Fulton": ["Atlanta"],
        "DeKalb": ["Decatur", "Clarkston"],
        "Gwinnett": ["Norcross", "Lawrenceville"],
    },
    "MA": {"Suffolk": ["Boston", "Chelsea"], "Middlesex": ["Somerville", "Framingham"]},
    "NJ": {"Hudson": ["Jersey City", "Union City"], "Essex": ["Newark"]},
    "WA": {"King": ["Seattle", "Kent", "Tukwila"], "Yakima": ["Yakima", "Wapato"]},
    "NC": {"Mecklenburg": ["Charlotte"], "Wake": ["Raleigh", "Cary"]},
    "CO": {"Denver": ["Denver"], "Adams": ["Aurora", "Commerce City"]},
    "IA": {"Polk": ["Des Moines"]},
    "TN": {"Davidson": ["Nashville"]},
}


def all_cities() -> set[str]:
    return {city for counties in COUNTIES.values() for cities in counties.values() for city in cities}
