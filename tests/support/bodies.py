"""Bodies the tests send to Informat (the sandbox): one valid voorinschrijving."""

from __future__ import annotations

import uuid


def preregistration(number: str, year: str, **changes) -> dict:
    body = {
        "preRegistrationId": str(uuid.uuid4()),
        "lastName": "Çelik",
        "firstName": "Zoë",
        "dateOfBirth": "2019-04-02",
        "countryOfBirthCode": "BE",
        "nationalityCode": "BE",
        "sex": "V",
        "isHomeless": False,
        "migrating": False,
        "isIndicatorPupil": False,
        "schoolyear": year,
        "institute": number,
        "structure": "lager",
        "locationId": "1",
        "admgrpId": "L1",
        "startDate": f"{year[:4]}-09-01",
        "registrationStatus": "pending",
        "relations": [{"lastName": "Çelik", "firstName": "Aylin", "type": "moeder"}],
    }
    body.update(changes)
    return body
