"""The one place where the API's keys become the project's column names and types.

Each entity of the daily extraction has a schema: (column, API key, type). The types are names
that :mod:`informat_pipelines.extract` maps to Arrow types: ``string``, ``int``, ``float``,
``bool``, ``date``. Where the API nests (a registration's classes), ``key`` is a function.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any


def _class_code(record: dict[str, Any]) -> str | None:
    for klas in record.get("inschrKlassen") or []:
        if klas.get("groepType") == 0:
            return klas.get("klasCode")
    return None


@dataclass(frozen=True)
class Column:
    name: str
    key: str | Callable[[dict[str, Any]], Any]
    type: str
    nullable: bool = True


@dataclass(frozen=True)
class Entity:
    name: str
    scope: str  # "instelling" or "toegangsgroep"
    id_column: str  # unique per partition
    columns: tuple[Column, ...]
    has_insz: bool = False

    @property
    def column_names(self) -> list[str]:
        return [c.name for c in self.columns]


# the columns every person (a student, a member of staff) starts with
PERSON = (
    Column("personId", "persoonId", "string", False),
    Column("pPersoon", "pPersoon", "int", False),
    Column("lastName", "naam", "string"),
    Column("firstName", "voornaam", "string"),
    Column("dateOfBirth", "geboortedatum", "date"),
    Column("sex", "geslacht", "string"),
    Column("insz", "rijksregisternr", "string"),
)

STUDENTS = Entity(
    "students",
    "instelling",
    "personId",
    (
        *PERSON,
        Column("foreignRegistrationNo", "buitenlandsIdNr", "string"),
        Column("nationalityCode", "nationaliteit", "string"),
        Column("placeOfBirth", "geboorteplaats", "string"),
        Column("instituteNo", "instelnr", "string", False),
        Column("studentNo", "stamnr", "string"),
        Column("grade", "leerjaar", "int"),
        Column("degree", "graad", "int"),
        Column("status", "status", "string"),
        Column("isOkan", "isOkan", "bool"),
    ),
    has_insz=True,
)
REGISTRATIONS = Entity(
    "registrations",
    "instelling",
    "registrationId",
    (
        Column("registrationId", "pInschrijving", "int", False),
        Column("pPersoon", "pPersoon", "int", False),
        Column("personId", "persoonId", "string"),
        Column("instituteNo", "instelnr", "string", False),
        Column("studentNo", "stamnr", "string"),
        Column("schoolYear", "schooljaar", "string"),
        Column("startDate", "begindatum", "date"),
        Column("endDate", "einddatum", "date"),
        Column("classCode", _class_code, "string"),
    ),
)
EMPLOYEES = Entity(
    "employees",
    "instelling",
    "personId",
    (
        *PERSON,
        Column("staffNo", "stamboeknr", "string"),
        Column("email", "email", "string"),
        Column("instituteNo", "instelnr", "string", False),
    ),
    has_insz=True,
)
INVOICES = Entity(
    "invoices",
    "toegangsgroep",
    "invoiceId",
    (
        Column("invoiceId", "invoiceId", "string", False),
        Column("toegangsgroep", "toegangsgroep", "string"),
        Column("schoolYear", "schoolYear", "string"),
        Column("instituteNo", "instelnr", "string"),
        Column("debtorPersonId", "debtorPersonId", "string"),
        Column("amount", "amount", "float"),
        Column("dueDate", "dueDate", "date"),
        Column("status", "status", "string"),
        Column("paidAmount", "paidAmount", "float"),
    ),
)
ENTITIES = {e.name: e for e in (STUDENTS, REGISTRATIONS, EMPLOYEES, INVOICES)}
