"""The Personeel API: staff and their assignments."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from .transport import Transport


class PersoneelCalls(Transport):
    """The Personeel API's calls, on the shared transport."""

    def iter_employees(self, instellingsnummer: str) -> Iterator[dict[str, Any]]:
        return self._iter_listing(self._call("employees", instellingsnummer))

    def get_employee(self, instellingsnummer: str, employee_id: str) -> dict[str, Any]:
        call = self._call("employee", instellingsnummer, {"employee_id": employee_id})
        return self._get_json(call)

    def iter_assignments(self, instellingsnummer: str) -> Iterator[dict[str, Any]]:
        return self._iter_listing(self._call("assignments", instellingsnummer))
