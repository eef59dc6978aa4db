"""The Leerlingen API: students, registrations (inschrijvingen) and pre-registrations
(voorinschrijvingen), as public client code calls them (Leerlingen guide v1.24)."""

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
        changed_since: str | None = None,
    ) -> Iterator[dict[str, Any]]:
        """The students of an instelling (``{"students": [...]}``), streamed.

        :param ref_date: ``YYYY-MM-DD``; Informat clamps it to the schooljaar.
        :param changed_since: ISO-8601 with offset: only students changed since then (delta).
        """
        call = self._call("students", instellingsnummer)
        params = {"schoolYear": schooljaar, "refdate": ref_date, "changedSince": changed_since}
        return self._iter_listing(call, params)

    def get_student(
        self,
        instellingsnummer: str,
        person_id: str,
        schooljaar: str,
        *,
        ref_date: str | None = None,
    ) -> dict[str, Any]:
        """One student, unwrapped from ``{"student": {...}}``."""
        call = self._call("student", instellingsnummer, {"person_id": person_id})
        return self._get_record(call, params={"schoolYear": schooljaar, "refdate": ref_date})

    def iter_registrations(
        self, instellingsnummer: str, schooljaar: str, *, changed_since: str | None = None
    ) -> Iterator[dict[str, Any]]:
        """The registrations of an instelling (``{"registrations": [...]}``), streamed.

        :param changed_since: ``YYYY-MM-DD``: only registrations changed since then (delta).
        """
        call = self._call("registrations", instellingsnummer)
        return self._iter_listing(call, {"schoolYear": schooljaar, "changedSince": changed_since})

    def save_preregistration(
        self, instellingsnummer: str, preregistration: Mapping[str, Any]
    ) -> dict[str, Any]:
        """Save a voorinschrijving: creates it, or changes it while it is still ``open`` (saving
        again with the same ``preRegistrationId``). Answers ``{"preRegistrationId", "status"}``.
        Retried like a GET: its ``preRegistrationId`` makes it idempotent."""
        if not preregistration.get("preRegistrationId"):
            raise InformatConfigError(
                "a voorinschrijving needs its own preRegistrationId (the idempotency key)"
            )
        call = self._call("save_preregistration", instellingsnummer)
        return self._get_record(call, json=dict(preregistration))

    def get_preregistration_status(
        self, instellingsnummer: str, pre_registration_id: str
    ) -> dict[str, Any]:
        """``{"preRegistrationId", "status"}``: ``open``, ``geaccepteerd`` or ``geweigerd``."""
        call = self._call(
            "preregistration_status",
            instellingsnummer,
            {"pre_registration_id": pre_registration_id},
        )
        return self._get_record(call)

    def delete_preregistration(self, instellingsnummer: str, pre_registration_id: str) -> None:
        """Delete a voorinschrijving still ``open``; refused (``MNA…``) once accepted or refused."""
        call = self._call(
            "delete_preregistration",
            instellingsnummer,
            {"pre_registration_id": pre_registration_id},
        )

        def attempt() -> None:
            self._send(call).close()

        self._retrying(attempt, call)
