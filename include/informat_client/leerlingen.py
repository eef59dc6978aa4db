"""The Leerlingen API: students, registrations (inschrijvingen) and pre-registrations
(voorinschrijvingen)."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from .errors import InformatConfigError
from .transport import Transport


class LeerlingenCalls(Transport):
    """The Leerlingen API's calls, on the shared transport."""

    def iter_students(
        self,
        instellingsnummer: str,
        schooljaar: str,
        *,
        ref_date: str | None = None,
        last_name: str | None = None,
        first_name: str | None = None,
    ) -> Iterator[dict[str, Any]]:
        call = self._call("students", instellingsnummer)
        params = {
            "schoolYear": schooljaar,
            "refdate": ref_date,
            "lastName": last_name,
            "firstName": first_name,
        }
        return self._iter_listing(call, params)

    def get_student(
        self,
        instellingsnummer: str,
        person_id: str,
        schooljaar: str,
        *,
        ref_date: str | None = None,
    ) -> dict[str, Any]:
        call = self._call("student", instellingsnummer, {"person_id": person_id})
        return self._get_json(call, params={"schoolYear": schooljaar, "refDate": ref_date})

    def iter_registrations(
        self, instellingsnummer: str, schooljaar: str
    ) -> Iterator[dict[str, Any]]:
        call = self._call("registrations", instellingsnummer)
        return self._iter_listing(call, {"schoolYear": schooljaar})

    def iter_preregistrations(
        self, instellingsnummer: str, schooljaar: str
    ) -> Iterator[dict[str, Any]]:
        call = self._call("preregistrations", instellingsnummer)
        return self._iter_listing(call, {"schoolYear": schooljaar})

    def save_preregistration(
        self, instellingsnummer: str, preregistration: Mapping[str, Any]
    ) -> dict[str, Any]:
        """Create a voorinschrijving. Retried like a GET: its ``preRegistrationId`` makes it
        idempotent, so a repeat never creates a second one."""
        if not preregistration.get("preRegistrationId"):
            raise InformatConfigError(
                "a voorinschrijving needs its own preRegistrationId (the idempotency key)"
            )
        call = self._call("save_preregistration", instellingsnummer)
        return self._get_json(call, json=dict(preregistration))

    def update_preregistration(
        self,
        instellingsnummer: str,
        pre_registration_id: str,
        changes: Mapping[str, Any],
    ) -> dict[str, Any]:
        call = self._call(
            "update_preregistration",
            instellingsnummer,
            {"pre_registration_id": pre_registration_id},
        )
        return self._get_json(call, json=dict(changes))
