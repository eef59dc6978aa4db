"""The Personeel API: staff, their assignments, interruptions (leave) and own fields (Personeel
guide v2.14). Its listings answer a bare JSON array; the calls ask ``Api-Version: 2`` as public
code does (``config.ENDPOINTS``)."""

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
        """The assignments (opdrachten) of the instelling's staff (a bare array), streamed: ``id``,
        ``pOpdracht``, ``personId``, ``ambt``, ``ambtCode``, ``begindatum``, ``einddatum``,
        ``vervangingen`` [{``opdrachtId``, ``doId``}] (``doId``: an interruption), …"""
        call = self._call("assignments", instellingsnummer)
        return self._iter_listing(call, {"schoolYear": schooljaar})

    def iter_interruptions(
        self, instellingsnummer: str, schooljaar: str | None = None, *, structure: str | None = None
    ) -> Iterator[dict[str, Any]]:
        """The interruptions (dienstonderbrekingen: leave, illness, strike) of the instelling's
        staff that overlap the schooljaar (a bare array), streamed: ``doId``, ``pOnderbreking``,
        ``personId``, ``hfd``, ``begindatum``, ``einddatum``, ``code``, ``omschrijving``,
        ``soort``, …"""
        call = self._call("interruptions", instellingsnummer)
        return self._iter_listing(call, {"schoolYear": schooljaar, "structure": structure})

    def iter_own_fields(
        self, instellingsnummer: str, schooljaar: str | None = None, *, structure: str | None = None
    ) -> Iterator[dict[str, Any]]:
        """The own fields (eigen velden) the school keeps on its staff (a bare array), streamed:
        ``personId``, ``vvId``, ``naam``, ``waarde``, ``dataType``, ``rubriek``."""
        call = self._call("own_fields", instellingsnummer)
        return self._iter_listing(call, {"schoolYear": schooljaar, "structure": structure})
