"""The demo's world: two fictional institutions (an mbo and an hbo), their modules and
quality frameworks, and the id of the learning route across them (``microcred demo``).
Data only; :mod:`microcred.demo` seeds it through the services."""

from __future__ import annotations

from typing import Any

KWALITEITSKADER = {
    "name": "Kwaliteitskader microcredentials mbo",
    "url": "https://www.mbo-raad.nl/themas/microcredentials",
}
NVAO = {"name": "NVAO-accreditatie (instellingstoets)", "url": "https://www.nvao.net/"}

INSTITUTIONS: list[dict[str, Any]] = [
    {
        "slug": "roc-noordkust",
        "name": "ROC Noordkust",
        "region": "Noord-Holland",
        "identifiers": {"BRIN": "99RN"},
        "accreditation": ["erkende instelling (mbo)"],
        "modules": [
            {
                "id": "basis-programmeren",
                "name": "Basis programmeren in Python",
                "description": "Eerste stappen in programmeren: variabelen, keuzes, lussen en "
                "functies, toegepast op kleine praktijkopdrachten.",
                "learning_outcomes": [
                    "schrijft eenvoudige Python-programma's die gegevens inlezen en bewerken",
                    "zoekt en verhelpt fouten in eigen code",
                ],
                "ects": 3,
                "hours": 84,
                "eqf_level": 4,
                "nlqf_level": 4,
                "assessment_type": "praktijkopdracht met beoordelingsgesprek",
                "participation_form": "onsite",
                "supervision": "supervised-onsite",
                "identity_check": True,
                "quality_assurance": KWALITEITSKADER,
                "language": "nl",
                "grading": {"value_min": "1", "value_max": "10", "required_value": "5.5"},
            },
            {
                "id": "data-in-de-praktijk",
                "name": "Data in de praktijk",
                "description": "Gegevens verzamelen, ordenen en presenteren in een "
                "spreadsheet voor een echte opdrachtgever.",
                "learning_outcomes": ["ordent en controleert een dataset voor een opdrachtgever"],
                "ects": 2,
                "hours": 56,
                "eqf_level": 4,
                "nlqf_level": 4,
                "assessment_type": "portfolio",
                "participation_form": "blended",
                "quality_assurance": KWALITEITSKADER,
                "language": "nl",
            },
        ],
    },
    {
        "slug": "hs-rijnland",
        "name": "Hogeschool Rijnland",
        "region": "Zuid-Holland",
        "identifiers": {"BRIN": "99HR"},
        "accreditation": ["NVAO"],
        "modules": [
            {
                "id": "data-wrangling",
                "name": "Data Wrangling met Python",
                "description": "Rommelige datasets opschonen, koppelen en omvormen met pandas.",
                "learning_outcomes": [
                    "schoont rommelige tabeldata op en voegt bronnen samen",
                    "legt de herkomst van data en de gemaakte keuzes vast",
                ],
                "ects": 5,
                "hours": 140,
                "eqf_level": 6,
                "nlqf_level": 6,
                "qf_ehea_cycle": "first",
                "assessment_type": "praktijkopdracht met mondelinge verdediging",
                "participation_form": "blended",
                "supervision": "supervised-onsite",
                "identity_check": True,
                "quality_assurance": NVAO,
                "language": "nl",
                "grading": {"value_min": "1", "value_max": "10", "required_value": "5.5"},
            },
            {
                "id": "datavisualisatie",
                "name": "Datavisualisatie",
                "description": "Van data naar een eerlijk en leesbaar verhaal in grafieken.",
                "learning_outcomes": ["kiest en maakt passende visualisaties voor een publiek"],
                "ects": 5,
                "eqf_level": 6,
                "nlqf_level": 6,
                "assessment_type": "portfolio met presentatie",
                "participation_form": "online",
                "quality_assurance": NVAO,
                "language": "nl",
            },
            {
                "id": "toegepaste-statistiek",
                "name": "Toegepaste statistiek",
                "description": "Beschrijvende en toetsende statistiek voor praktijkonderzoek.",
                "learning_outcomes": ["kiest en interpreteert een passende statistische toets"],
                "ects": 5,
                "eqf_level": 6,
                "nlqf_level": 6,
                "assessment_type": "schriftelijk tentamen",
                "participation_form": "onsite",
                "supervision": "supervised-onsite",
                "quality_assurance": NVAO,
                "language": "nl",
            },
        ],
    },
]
ROUTE_ID = "doorstroom-data"
