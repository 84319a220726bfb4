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

# County -> cities people write on the form. No city shares a county's or an
# organization's name, so the leak scanner can tell a person's city from the county a
# notice may name. Iowa and Tennessee have no member: rows from there go to triage.
COUNTIES: dict[str, dict[str, list[str]]] = {
    "TX": {
        "Harris": ["Houston", "Pasadena", "Baytown"],
        "Fort Bend": ["Sugar Land", "Rosenberg"],
        "Dallas": ["Garland", "Irving", "Grand Prairie"],
        "Tarrant": ["Fort Worth", "Arlington"],
        "El Paso": ["Socorro", "Horizon City"],
        "Hidalgo": ["McAllen", "Edinburg", "Pharr"],
    },
    "CA": {
        "Los Angeles": ["Pomona", "Long Beach", "Inglewood"],
        "San Diego": ["Chula Vista", "Escondido", "El Cajon"],
        "Fresno": ["Sanger", "Clovis", "Reedley"],
        "Tulare": ["Visalia", "Porterville"],
    },
    "FL": {
        "Miami-Dade": ["Hialeah", "Homestead", "Doral"],
        "Broward": ["Fort Lauderdale", "Hollywood"],
        "Palm Beach": ["Lake Worth Beach", "Boynton Beach"],
    },
    "NY": {
        "Kings": ["Brooklyn"],
        "Queens": ["Flushing", "Jackson Heights", "Corona"],
        "New York": ["Manhattan"],
        "Westchester": ["Yonkers", "White Plains", "Port Chester"],
    },
    "IL": {"Cook": ["Chicago", "Cicero"], "DuPage": ["Aurora", "Wheaton"]},
    "AZ": {"Maricopa": ["Phoenix", "Glendale", "Tempe"], "Pima": ["Tucson"]},
    "GA": {
        "Fulton": ["Atlanta"],
        "DeKalb": ["Decatur", "Clarkston"],
        "Gwinnett": ["Norcross", "Lawrenceville"],
    },
    "MA": {"Suffolk": ["Boston", "Chelsea"], "Middlesex": ["Somerville", "Framingham"]},
    "NJ": {"Hudson": ["Jersey City", "Union City"], "Essex": ["Newark"]},
    "WA": {
        "King": ["Seattle", "Tukwila", "Burien"],
        "Yakima": ["Wapato", "Toppenish", "Sunnyside"],
    },
    "NC": {"Mecklenburg": ["Charlotte"], "Wake": ["Raleigh", "Garner"]},
    "CO": {"Adams": ["Commerce City", "Thornton"], "Arapahoe": ["Englewood", "Littleton"]},
    "IA": {"Polk": ["Des Moines"]},
    "TN": {"Davidson": ["Nashville"]},
}


def all_cities() -> set[str]:
    return {
        city for counties in COUNTIES.values() for cities in counties.values() for city in cities
    }
