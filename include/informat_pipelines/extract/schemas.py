"""The one place where the API's keys become the project's column names and types.

Each entity of the daily extraction has a schema: (column, API key, type). The keys are the ones
the contract documents (``docs/informat-api.md``) and nothing else; what a record does not
carry comes from the call that fetched it (``FROM_CALL``: the instellingsnummer or toegangsgroep
of the partition, ``SCHOOLJAAR``: the schooljaar asked). The types are names that
:mod:`informat_pipelines.extract.partition` maps to Arrow types: ``string``, ``int``, ``float``,
``bool``,
``date``, and ``insz`` (an INSZ or bisnummer: pseudonymised, kept or dropped by ``insz_mode``,
with a ``<name>Valid`` column for its check digits). Where the API nests, ``key`` is a function.
A ``required`` key missing from a record, or a value of the wrong type, sends the partition to
quarantine with the key named.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

FROM_CALL = "<the partition's instelling or toegangsgroep>"
SCHOOLJAAR = "<the schooljaar asked>"


def _class_code(record: dict[str, Any]) -> str | None:
    for klas in record.get("inschrKlassen") or []:
        if isinstance(klas, dict) and klas.get("groepType") == 0:
            return klas.get("klasCode")
    return None


def _school_email(record: dict[str, Any]) -> str | None:
    for item in record.get("emailadressen") or []:
        if isinstance(item, dict) and item.get("type") == "School":
            return item.get("email")
    return None


def _main_function(record: dict[str, Any]) -> str | None:
    ambt = record.get("hoofdAmbt")
    return ambt.get("code") if isinstance(ambt, dict) else None


@dataclass(frozen=True)
class Column:
    name: str
    key: str | Callable[[dict[str, Any]], Any]
    type: str
    required: bool = False  # the record must carry the key, with a value
    # type "list": the record's key holds a list of objects, each read by these columns (a
    # typed nested column: a student's relations and addresses, INSZ pseudonymised like his)
    fields: tuple[Column, ...] = ()

    @property
    def insz_columns(self) -> tuple[str, str, str]:
        """For an ``insz`` column: its hashed, kept and validity column names."""
        return f"{self.name}Hash", self.name, f"{self.name}Valid"


@dataclass(frozen=True)
class Entity:
    name: str
    scope: str  # "instelling" or "toegangsgroep"
    id_column: str  # unique per partition
    columns: tuple[Column, ...]

    @property
    def column_names(self) -> list[str]:
        return [c.name for c in self.columns]

    @property
    def has_insz(self) -> bool:
        def deep(columns: tuple[Column, ...]) -> bool:
            return any(c.type == "insz" or deep(c.fields) for c in columns)

        return deep(self.columns)


ADDRESS = (
    Column("street", "straat", "string"),
    Column("number", "nr", "string"),
    Column("box", "bus", "string"),
    Column("postcode", "postcode", "string"),
    Column("gemeente", "gemeente", "string"),
    Column("isBilling", "isFacturatie", "bool"),
    Column("isMailing", "isAanschrijf", "bool"),
    Column("isResidence", "isVerblijf", "bool"),
)
RELATION = (
    Column("relationId", "relatieId", "string"),
    Column("type", "type", "int"),
    Column("lastName", "naam", "string"),
    Column("firstName", "voornaam", "string"),
    Column("insz", "insz", "insz"),
    Column("dateOfBirth", "geboortedatum", "date"),
    Column("sex", "geslacht", "string"),
    Column("nationalityCode", "nationaliteitCode", "string"),
    Column("isLegalGuardian", "lpv", "bool"),
    Column("mayPickUp", "ophalen", "bool"),
    Column("isDeceased", "isOverleden", "bool"),
    Column("addresses", "adressen", "list", fields=ADDRESS),
)

# the keys a student and a member of staff share (Leerlingen and Personeel spell them alike)
PERSON = (
    Column("pPersoon", "pPersoon", "int", True),
    Column("lastName", "naam", "string"),
    Column("firstName", "voornaam", "string"),
    Column("dateOfBirth", "geboortedatum", "date"),
    Column("sex", "geslacht", "string"),
    Column("insz", "rijksregisternr", "insz"),
    Column("bisnr", "bisnr", "insz"),
)

STUDENTS = Entity(
    "students",
    "instelling",
    "personId",
    (
        Column("personId", "persoonId", "string", True),
        *PERSON,
        Column("nationalityCode", "nationaliteitCode", "string"),
        Column("countryOfBirth", "geboorteland", "string"),
        Column("placeOfBirth", "geboorteplaats", "string"),
        Column("isAtSchool", "llOpSchool", "bool"),
        Column("registrationId", "inschrijvingsId", "string"),
        Column("instituteNo", FROM_CALL, "string"),
        Column("addresses", "adressen", "list", fields=ADDRESS),
        Column("relations", "relaties", "list", fields=RELATION),
    ),
)
REGISTRATIONS = Entity(
    "registrations",
    "instelling",
    "registrationId",
    (
        Column("registrationId", "inschrijvingsId", "string", True),
        Column("pInschr", "pInschr", "int", True),
        Column("pPersoon", "pPersoon", "int", True),
        Column("personId", "persoonId", "string"),
        Column("instituteNo", "instelnr", "string", True),
        Column("schoolYear", SCHOOLJAAR, "string"),
        Column("mainStructure", "hfdstructuur", "string"),
        Column("studentNo", "stamnr", "string"),
        Column("locationCode", "vestCode", "string"),
        Column("startDate", "begindatum", "date"),
        Column("endDate", "einddatum", "date"),
        Column("departmentCode", "afdCode", "string"),
        Column("adminGroupNo", "nrAdmgrp", "string"),
        Column("status", "status", "int"),
        Column("degree", "graad", "int"),
        Column("grade", "leerjaar", "int"),
        Column("isOkan", "isOkan", "bool"),
        Column("preRegistrationId", "preRegistrationId", "string"),
        Column("classCode", _class_code, "string"),
    ),
)
EMPLOYEES = Entity(
    "employees",
    "instelling",
    "personId",
    (
        Column("personId", "personId", "string", True),  # Personeel spells it so
        *PERSON,
        Column("staffNo", "stamnr", "string"),
        Column("email", _school_email, "string"),
        Column("mainFunction", _main_function, "string"),
        Column("isActive", "isActive", "bool"),
        Column("instituteNo", FROM_CALL, "string"),
    ),
)
INVOICES = Entity(
    "invoices",
    "toegangsgroep",
    "invoiceId",
    (
        Column("invoiceId", "invoiceId", "string", True),
        Column("toegangsgroep", FROM_CALL, "string"),
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
