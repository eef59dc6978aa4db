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

A derived entity (``derived_from``: classes, class_memberships, class_teachers, staff_status,
pupil_status) is built from the clean files of other entities of the same instelling and day, not
read from Informat; its keys are their column names.
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


def _pupil_school_email(record: dict[str, Any]) -> str | None:
    """A pupil's own address of type ``School`` (``emails[]``; a relation's addresses are the
    parents' and never read here): the sign-in name a roster export may use."""
    for item in record.get("emails") or []:
        if isinstance(item, dict) and item.get("type") == "School":
            return item.get("email")
    return None


def _main_function(record: dict[str, Any]) -> str | None:
    ambt = record.get("hoofdAmbt")
    return ambt.get("code") if isinstance(ambt, dict) else None


def _no_public_key(record: dict[str, Any]) -> None:
    """No public source names an assignment's size (hours, lestijden): the column stays null
    rather than guessing a key (``docs/informat-api.md``)."""
    return None


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
    id_column: str  # unique per partition (with ``more_key_columns``: together with them)
    columns: tuple[Column, ...]
    more_key_columns: tuple[str, ...] = ()
    # the entities of the same instelling, schooljaar and day this one is built from (their clean
    # files), instead of read from Informat: then each column's key is a column of those
    derived_from: tuple[str, ...] = ()
    # the row count is held within a band of the last good run, and never zero; False for a
    # listing that a school may leave empty or whose size swings from day to day (leave, own
    # fields, class teachers: an optional key of Leerlingen)
    steady_count: bool = True
    # per column, the only values it may hold (the suite's value sets)
    value_sets: tuple[tuple[str, tuple[Any, ...]], ...] = ()

    @property
    def key_columns(self) -> tuple[str, ...]:
        return (self.id_column, *self.more_key_columns)

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
        Column("email", _pupil_school_email, "string"),
        Column("instituteNo", FROM_CALL, "string"),
        Column("addresses", "adressen", "list", fields=ADDRESS),
        Column("relations", "relaties", "list", fields=RELATION),
    ),
)
# an element of a registration's inschrKlassen: the pupil in one class, subgroup or OLOD
CLASS_REGISTRATION = (
    Column("membershipId", "inschrKlasId", "string"),
    Column("classId", "klasId", "string", True),
    Column("pClass", "pKlas", "int"),
    Column("classCode", "klasCode", "string"),
    Column("className", "klas", "string"),
    Column("groupType", "groepType", "int"),
    Column("classNumber", "klasnummer", "int"),
    Column("startDate", "begindatum", "date"),
    Column("endDate", "einddatum", "date"),
    # the class teachers: each the personId of a member of staff (Leerlingen v1.24, optional)
    Column(
        "teachers", "klassenleraars", "list", fields=(Column("personId", "persoonId", "string"),)
    ),
)
GROUP_TYPES = (0, 1, 3)  # groepType: class, subgroup, OLOD

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
        # every class of the registration: what classes, class_memberships, class_teachers and
        # pupil_status are built from (one read of Informat, and delta reads merge them too)
        Column("classes", "inschrKlassen", "list", fields=CLASS_REGISTRATION),
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
ASSIGNMENTS = Entity(
    "assignments",
    "instelling",
    "assignmentId",
    (
        Column("assignmentId", "id", "string", True),
        Column("pAssignment", "pOpdracht", "int"),
        Column("personId", "personId", "string", True),
        Column("instituteNo", FROM_CALL, "string"),
        Column("function", "ambt", "string"),
        Column("functionCode", "ambtCode", "string"),
        Column("startDate", "begindatum", "date"),
        Column("endDate", "einddatum", "date"),
        Column("hours", _no_public_key, "float"),
        # the interruptions (doId) that this assignment is replaced for: leave counts only so
        Column(
            "replacements",
            "vervangingen",
            "list",
            fields=(
                Column("assignmentId", "opdrachtId", "string"),
                Column("interruptionId", "doId", "string"),
            ),
        ),
    ),
)
INTERRUPTIONS = Entity(
    "interruptions",
    "instelling",
    "interruptionId",
    (
        Column("interruptionId", "doId", "string", True),
        Column("pInterruption", "pOnderbreking", "int"),
        Column("personId", "personId", "string", True),
        Column("instituteNo", FROM_CALL, "string"),
        Column("code", "code", "string"),
        Column("description", "omschrijving", "string"),
        Column("kind", "soort", "string"),
        Column("structure", "hfd", "string"),
        Column("startDate", "begindatum", "date"),  # "2026-10-29T00:00:00": the day is kept
        Column("endDate", "einddatum", "date"),
    ),
    steady_count=False,
)
OWN_FIELDS = Entity(
    "own_fields",
    "instelling",
    "personId",
    (
        Column("personId", "personId", "string", True),
        # whether vvId names the field or one person's value of it is not public: unique with
        # the person either way
        Column("fieldId", "vvId", "string", True),
        Column("name", "naam", "string"),
        Column("value", "waarde", "string"),
        Column("dataType", "dataType", "string"),
        Column("section", "rubriek", "int"),
        Column("instituteNo", FROM_CALL, "string"),
    ),
    more_key_columns=("fieldId",),
    steady_count=False,
)

# built from the clean files of the same instelling and day (extract/derived.py): each column's
# key is a column of those files
CLASSES = Entity(
    "classes",
    "instelling",
    "classId",
    (
        Column("classId", "classId", "string", True),
        Column("pClass", "pClass", "int"),
        Column("classCode", "classCode", "string"),
        Column("className", "className", "string"),
        Column("groupType", "groupType", "int"),
        Column("instituteNo", FROM_CALL, "string"),
        Column("schoolYear", SCHOOLJAAR, "string"),
        Column("startDate", "startDate", "date"),
        Column("endDate", "endDate", "date"),
    ),
    derived_from=("registrations",),
    value_sets=(("groupType", GROUP_TYPES),),
)
CLASS_MEMBERSHIPS = Entity(
    "class_memberships",
    "instelling",
    "registrationId",
    (
        Column("personId", "personId", "string", True),
        Column("registrationId", "registrationId", "string", True),
        Column("classId", "classId", "string", True),
        Column("membershipId", "membershipId", "string"),
        Column("groupType", "groupType", "int"),
        Column("classNumber", "classNumber", "int"),
        Column("instituteNo", FROM_CALL, "string"),
        Column("schoolYear", SCHOOLJAAR, "string"),
        Column("startDate", "startDate", "date"),
        Column("endDate", "endDate", "date"),
    ),
    more_key_columns=("classId",),
    derived_from=("registrations",),
    value_sets=(("groupType", GROUP_TYPES),),
)
CLASS_TEACHERS = Entity(
    "class_teachers",
    "instelling",
    "classId",
    (
        Column("classId", "classId", "string", True),
        Column("personId", "personId", "string", True),  # a member of staff: employees.personId
        Column("instituteNo", FROM_CALL, "string"),
        Column("schoolYear", SCHOOLJAAR, "string"),
    ),
    more_key_columns=("personId",),
    derived_from=("registrations",),
    steady_count=False,  # klassenleraars is optional: a school may fill in none
)
STAFF_STATUSES = ("active", "on_leave", "ended")
STAFF_STATUS = Entity(
    "staff_status",
    "instelling",
    "personId",
    (
        Column("personId", "personId", "string", True),
        Column("instituteNo", FROM_CALL, "string"),
        Column("day", "day", "date"),
        Column("status", "status", "string", True),
        Column("reason", "reason", "string"),
    ),
    derived_from=("employees", "assignments", "interruptions", "own_fields"),
    value_sets=(("status", STAFF_STATUSES),),
)
PUPIL_STATUSES = ("in_class", "no_class")
PUPIL_STATUS = Entity(
    "pupil_status",
    "instelling",
    "personId",
    (
        Column("personId", "personId", "string", True),
        Column("instituteNo", FROM_CALL, "string"),
        Column("day", "day", "date"),
        Column("status", "status", "string", True),
        Column("classId", "classId", "string"),
    ),
    derived_from=("registrations",),
    value_sets=(("status", PUPIL_STATUSES),),
)
ENTITIES = {
    e.name: e
    for e in (
        STUDENTS,
        REGISTRATIONS,
        EMPLOYEES,
        ASSIGNMENTS,
        INTERRUPTIONS,
        OWN_FIELDS,
        INVOICES,
        CLASSES,
        CLASS_MEMBERSHIPS,
        CLASS_TEACHERS,
        STAFF_STATUS,
        PUPIL_STATUS,
    )
}
