"""Bodies the tests send to Informat (the sandbox): one valid voorinschrijving, in the keys and
value shapes of the contract (``docs/informat-api.md``)."""

from __future__ import annotations

import uuid


def preregistration(number: str, year: str, **changes) -> dict:
    body = {
        "preRegistrationId": str(uuid.uuid4()),
        "schoolyear": year,
        "institute": number,
        "structure": "211",
        "locationId": "001",
        "admgrpId": "000123",
        "preRegistrationDate": f"{year[:4]}-03-01T10:00",
        "startDate": f"{year[:4]}-09-01",
        "registrationStatus": 1,
        "lastName": "Çelik",
        "firstName": "Zoë",
        "dateOfBirth": "2019-04-02",
        "countryOfBirthCode": "00150",
        "nationalityCode": "00150",
        "sex": 2,
        "isHomeless": False,
        "migrating": False,
        "isIndicatorPupil": False,
        "Relationships": [{"type": 14, "lastName": "Çelik", "firstName": "Aylin"}],
    }
    body.update(changes)
    return body
