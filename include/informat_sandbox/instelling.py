"""An instelling of the sandbox's school group with what Informat holds for it: its own module, so
that the people it holds (:mod:`.people`) and the seeded data (:mod:`.data`) both use it."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any


@dataclass
class Instelling:
    instellingsnummer: str
    name: str
    students: list[dict[str, Any]] = field(default_factory=list)
    registrations: list[dict[str, Any]] = field(default_factory=list)
    employees: list[dict[str, Any]] = field(default_factory=list)
    assignments: list[dict[str, Any]] = field(default_factory=list)
    interruptions: list[dict[str, Any]] = field(default_factory=list)
    own_fields: list[dict[str, Any]] = field(default_factory=list)
    # the classes, subgroups and OLOD's of the schooljaar by klasCode (``classes.py``): what
    # every pupil's element of ``inschrKlassen`` in that class repeats
    classes: dict[str, dict[str, Any]] = field(default_factory=dict)
    preregistrations: dict[str, dict[str, Any]] = field(default_factory=dict)
    # when a record last changed, per "students:<pPersoon>" / "registrations:<inschrijvingsId>":
    # Informat knows it (changedSince reads it) but the records do not carry it
    changed: dict[str, datetime] = field(default_factory=dict)

    @property
    def secundair(self) -> bool:
        return self.name.startswith(("Middenschool", "Atheneum", "Technisch"))
