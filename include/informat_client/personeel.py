"""The Personeel API: staff and their assignments (Personeel guide v2.14). Its listings answer a
bare JSON array, and the employee calls ask ``Api-Version: 2`` (``config.CALL_HEADERS``)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from .transport import Transport


class PersoneelCalls(Transport):
    """The Personeel API's calls, on the shared transport."""

    def iter_employees(
        self, instellingsnummer: str, schooljaar: str | None = None, *, structure: str | None = None
    ) -> Iterator[dict[str, Any]]:
        """The employees of an instelling (a bare array), streamed."""
        call = self._call("employees", instellingsnummer)
        return self._iter_listing(call, {"schoolYear": schooljaar, "structure": structure})

    def get_employee(
        self, instellingsnummer: str, person_id: str, schooljaar: str | None = None
    ) -> dict[str, Any]:
        call = self._call("employee", instellingsnummer, {"employee_id": person_id})
        return self._get_record(call, params={"schoolYear": schooljaar})

    def iter_assignments(
        self, instellingsnummer: str, schooljaar: str | None = None
    ) -> Iterator[dict[str, Any]]:
        """The assignments of the instelling's staff (a bare array), streamed."""
        call = self._call("assignments", instellingsnummer)
        return self._iter_listing(call, {"schoolYear": schooljaar})
