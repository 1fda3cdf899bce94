"""Answer sets for the IRIS 1.2 questionnaire, shared by the tests."""

from __future__ import annotations

from typing import Any


def best_answers() -> dict[str, Any]:
    """Every visible question answered the best way, no sub-agents, no grievances."""
    return {
        "A01": "yes",
        "A01.licences": [
            {
                "country": "Poland",
                "licence_type": "KRAZ entry",
                "number": "12345",
                "issuer": "Marszałek Województwa Mazowieckiego",
                "valid_from": "2020-01-15",
                "valid_to": None,
            }
        ],
        "A02": "no",
        "A03": "yes",
        "A04": "yes",
        "A05": "yes",
        "A06": "yes",
        "A07": "yes",
        "B01": "yes",
        "B02": "yes",
        "B03": "no",
        "B06": "yes",
        "C01": "no",
        "C02": "no",
        "C03": "yes",
        "C03.share": 100,
        "C04": "yes",
        "C04.amount": 0,
        "D01": "no",
        "D02": "yes",
        "D03": "yes",
        "E01": "yes",
        "E02": "yes",
        "E02.languages": ["pl", "uk"],
        "E03": 0,
        "E03.prevention": "Contracts compared on arrival.",
        "E04": "yes",
        "F01": "yes",
        "F02": "yes",
        "F03": "yes",
        "G01": "yes",
        "G02": 0,
        "G03": "yes",
        "M01": "yes",
        "M01.manager": "Anna Nowak, director",
        "M02": 100,
        "M03": "yes",
        "M04": "yes",
        "M05": {"name": "Anna Nowak", "signed_at": "2026-01-10T10:00:00+00:00"},
    }
