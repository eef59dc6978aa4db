"""The files the roster export writes, as the published specifications describe them, and a check
of a produced zip against them (used before anything is published, and by the contract test).

SDS CSV v2.1 (Microsoft):
  https://learn.microsoft.com/en-us/schooldatasync/sds-v2.1-csv-file-format
  - file names exactly as listed, column headers case-sensitive, UTF-8, RFC 4180 compliant, no line
    break inside a value; required headers must be present, an optional header may be left out
    when its data is not sent; orgs.csv, users.csv, roles.csv always, classes.csv and
    enrollments.csv when classes are managed, academicSessions.csv when a roles/classes row
    names a session, demographics.csv optional;
  - the same set of files on every upload (a missing file marks its records inactive).
  Enumerations: https://learn.microsoft.com/en-us/schooldatasync/default-list-of-values
  (orgs type ``school``; roles and enrollments ``student``, ``teacher``, ...). Data types (Date:
  ISO 8601, Boolean: ``true``/``false``):
  https://learn.microsoft.com/en-us/schooldatasync/data-ingestion-with-oneroster-1.2-csv
  Sample headers: https://github.com/OfficeDev/O365-EDU-Tools/tree/master/CSV%20Samples/SDS%20v2.1

OneRoster 1.2 CSV binding (1EdTech):
  https://www.imsglobal.org/spec/oneroster/v1p2/bind/csv
  - a zip of CSV files with ``manifest.csv`` (``propertyName,value``: ``manifest.version`` 1.0,
    ``oneroster.version`` 1.2, ``file.<name>`` ``bulk`` or ``absent``); every column header of a
    file present, in the order of the binding, even when empty; UTF-8; dates ``YYYY-MM-DD``;
    booleans ``true``/``false``; in bulk mode ``status`` and ``dateLastModified`` are left empty.
  The 1.2 headers below follow the binding's tables (cross-checked with a public 1.2 exporter).

No Airflow import.
"""

from __future__ import annotations

import csv
import io
import re
import zipfile
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import IO

SDS_PAGE = "https://learn.microsoft.com/en-us/schooldatasync/sds-v2.1-csv-file-format"
SDS_VALUES_PAGE = "https://learn.microsoft.com/en-us/schooldatasync/default-list-of-values"
ONEROSTER_PAGE = "https://www.imsglobal.org/spec/oneroster/v1p2/bind/csv"

# value kinds a field is checked against
ID, STRING, ENUM, DATE = "id", "string", "enum", "date"
BOOLEAN, EMAIL, YEAR = "boolean", "email", "year"
NEVER = "never"  # a column the specification lists but the export must leave empty (passwords)
_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_YEAR = re.compile(r"^\d{4}$")
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


@dataclass(frozen=True)
class Field:
    name: str
    required: bool = False
    kind: str = STRING
    values: tuple[str, ...] = ()  # an enumeration's allowed values


@dataclass(frozen=True)
class FileSpec:
    name: str
    fields: tuple[Field, ...]
    all_headers: bool  # OneRoster: every header, in this order; SDS: required ones, any order
    unique: tuple[str, ...] = ()  # the columns that identify a row
    references: tuple[tuple[str, str, str], ...] = ()  # (column, file, that file's column)

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(f.name for f in self.fields)

    def field(self, name: str) -> Field:
        return next(f for f in self.fields if f.name == name)


# -- SDS CSV v2.1 ------------------------------------------------------------------------------

# the default list of values (SDS_VALUES_PAGE): every org type and user role SDS knows
SDS_ORG_TYPES = (
    "school", "ministryOfEducation", "localAuthority", "department", "university", "region",
    "district", "college", "division", "local", "campus", "province", "state", "adultEducation",
    "researchCenter", "national", "municipality", "program", "departmentOfEducation",
    "academicTrust",
)  # fmt: skip
SDS_ROLES = (
    "principal", "chair", "professor", "researcher", "adjunct", "affiliate",
    "occupationalTherapist", "physicalTherapist", "speechTherapist", "visionTherapist",
    "paraprofessional", "specialServices", "advisor", "proctor", "nurse", "officeStaff",
    "lecturer", "itAdmin", "administrator", "teacher", "faculty", "staff", "teacherAssistant",
    "aide", "instructor", "substitute", "coach", "alumni", "student", "other",
)  # fmt: skip
SEXES = ("male", "female", "other", "unspecified")
SESSION_TYPES = ("gradingPeriod", "semester", "schoolYear", "term")

SDS = {
    spec.name: spec
    for spec in (
        FileSpec(
            "orgs.csv",
            (
                Field("sourcedId", True, ID),
                Field("name", True),
                Field("type", True, ENUM, SDS_ORG_TYPES),
                Field("parentSourcedId", False, ID),
            ),
            all_headers=False,
            unique=("sourcedId",),
        ),
        FileSpec(
            "users.csv",
            (
                Field("sourcedId", True, ID),
                Field("username", True),
                Field("givenName", True),  # required when SDS creates the user
                Field("familyName", True),
                Field("password", False, NEVER),
                Field("activeDirectoryMatchId"),
                Field("email", False, EMAIL),
                Field("phone"),
                Field("sms"),
            ),
            all_headers=False,
            unique=("sourcedId",),
        ),
        FileSpec(
            "roles.csv",
            (
                Field("userSourcedId", True, ID),
                Field("orgSourcedId", True, ID),
                Field("role", True, ENUM, SDS_ROLES),
                Field("sessionSourcedId", False, ID),
                Field("grade"),
                Field("isPrimary", False, BOOLEAN),
                Field("roleStartDate", False, DATE),
                Field("roleEndDate", False, DATE),
            ),
            all_headers=False,
            unique=("userSourcedId", "orgSourcedId", "role"),
            references=(
                ("userSourcedId", "users.csv", "sourcedId"),
                ("orgSourcedId", "orgs.csv", "sourcedId"),
                ("sessionSourcedId", "academicSessions.csv", "sourcedId"),
            ),
        ),
        FileSpec(
            "classes.csv",
            (
                Field("sourcedId", True, ID),
                Field("orgSourcedId", True, ID),
                Field("title", True),
                Field("sessionSourcedIds", False, ID),
                Field("courseSourcedId", False, ID),
            ),
            all_headers=False,
            unique=("sourcedId",),
            references=(
                ("orgSourcedId", "orgs.csv", "sourcedId"),
                ("sessionSourcedIds", "academicSessions.csv", "sourcedId"),
            ),
        ),
        FileSpec(
            "enrollments.csv",
            (
                Field("classSourcedId", True, ID),
                Field("userSourcedId", True, ID),
                Field("role", True, ENUM, SDS_ROLES),
            ),
            all_headers=False,
            unique=("classSourcedId", "userSourcedId", "role"),
            references=(
                ("classSourcedId", "classes.csv", "sourcedId"),
                ("userSourcedId", "users.csv", "sourcedId"),
            ),
        ),
        FileSpec(
            "academicSessions.csv",
            (
                Field("sourcedId", True, ID),
                Field("title", True),
                Field("type", True, ENUM, SESSION_TYPES),
                Field("schoolYear", True, YEAR),
                Field("startDate", True, DATE),
                Field("endDate", True, DATE),
            ),
            all_headers=False,
            unique=("sourcedId",),
        ),
        FileSpec(
            "demographics.csv",
            (
                Field("userSourcedId", True, ID),
                Field("sex", False, ENUM, SEXES),
                Field("birthDate", False, DATE),
            ),
            all_headers=False,
            unique=("userSourcedId",),
            references=(("userSourcedId", "users.csv", "sourcedId"),),
        ),
    )
}
SDS_ALWAYS = ("orgs.csv", "users.csv", "roles.csv", "classes.csv", "enrollments.csv",
              "academicSessions.csv")  # fmt: skip

# -- OneRoster 1.2 CSV -------------------------------------------------------------------------

OR_ROLES = (
    "administrator", "aide", "guardian", "parent", "proctor", "relative", "student", "teacher",
    "districtAdministrator", "siteAdministrator", "systemAdministrator", "principal",
    "counselor",
)  # fmt: skip
OR_ORG_TYPES = ("department", "school", "district", "local", "state", "national")
_BULK = (Field("status", False, ENUM, ("active", "tobedeleted")), Field("dateLastModified"))

ONEROSTER = {
    spec.name: spec
    for spec in (
        FileSpec(
            "manifest.csv",
            (Field("propertyName", True), Field("value", True)),
            all_headers=True,
            unique=("propertyName",),
        ),
        FileSpec(
            "orgs.csv",
            (
                Field("sourcedId", True, ID),
                *_BULK,
                Field("name", True),
                Field("type", True, ENUM, OR_ORG_TYPES),
                Field("identifier"),
                Field("parentSourcedId", False, ID),
            ),
            all_headers=True,
            unique=("sourcedId",),
        ),
        FileSpec(
            "academicSessions.csv",
            (
                Field("sourcedId", True, ID),
                *_BULK,
                Field("title", True),
                Field("type", True, ENUM, SESSION_TYPES),
                Field("startDate", True, DATE),
                Field("endDate", True, DATE),
                Field("parentSourcedId", False, ID),
                Field("schoolYear", True, YEAR),
            ),
            all_headers=True,
            unique=("sourcedId",),
        ),
        FileSpec(
            "courses.csv",
            (
                Field("sourcedId", True, ID),
                *_BULK,
                Field("schoolYearSourcedId", False, ID),
                Field("title", True),
                Field("courseCode"),
                Field("grades"),
                Field("orgSourcedId", True, ID),
                Field("subjects"),
                Field("subjectCodes"),
            ),
            all_headers=True,
            unique=("sourcedId",),
            references=(
                ("orgSourcedId", "orgs.csv", "sourcedId"),
                ("schoolYearSourcedId", "academicSessions.csv", "sourcedId"),
            ),
        ),
        FileSpec(
            "classes.csv",
            (
                Field("sourcedId", True, ID),
                *_BULK,
                Field("title", True),
                Field("grades"),
                Field("courseSourcedId", True, ID),
                Field("classCode"),
                Field("classType", True, ENUM, ("homeroom", "scheduled")),
                Field("location"),
                Field("schoolSourcedId", True, ID),
                Field("termSourcedIds", True, ID),
                Field("subjects"),
                Field("subjectCodes"),
                Field("periods"),
            ),
            all_headers=True,
            unique=("sourcedId",),
            references=(
                ("courseSourcedId", "courses.csv", "sourcedId"),
                ("schoolSourcedId", "orgs.csv", "sourcedId"),
                ("termSourcedIds", "academicSessions.csv", "sourcedId"),
            ),
        ),
        FileSpec(
            "users.csv",
            (
                Field("sourcedId", True, ID),
                *_BULK,
                Field("enabledUser", True, BOOLEAN),
                Field("username", True),
                Field("userIds"),
                Field("givenName", True),
                Field("familyName", True),
                Field("middleName"),
                Field("identifier"),
                Field("email", False, EMAIL),
                Field("sms"),
                Field("phone"),
                Field("agentSourcedIds"),
                Field("grades"),
                Field("password", False, NEVER),
                Field("userMasterIdentifier"),
                Field("resourceSourcedIds"),
                Field("preferredGivenName"),
                Field("preferredMiddleName"),
                Field("preferredFamilyName"),
                Field("primaryOrgSourcedId", False, ID),
                Field("pronouns"),
            ),
            all_headers=True,
            unique=("sourcedId",),
            references=(("primaryOrgSourcedId", "orgs.csv", "sourcedId"),),
        ),
        FileSpec(
            "roles.csv",
            (
                Field("sourcedId", True, ID),
                *_BULK,
                Field("userSourcedId", True, ID),
                Field("roleType", True, ENUM, ("primary", "secondary")),
                Field("role", True, ENUM, OR_ROLES),
                Field("beginDate", False, DATE),
                Field("endDate", False, DATE),
                Field("orgSourcedId", True, ID),
                Field("userProfileSourcedId", False, ID),
            ),
            all_headers=True,
            unique=("sourcedId",),
            references=(
                ("userSourcedId", "users.csv", "sourcedId"),
                ("orgSourcedId", "orgs.csv", "sourcedId"),
            ),
        ),
        FileSpec(
            "enrollments.csv",
            (
                Field("sourcedId", True, ID),
                *_BULK,
                Field("classSourcedId", True, ID),
                Field("schoolSourcedId", True, ID),
                Field("userSourcedId", True, ID),
                Field("role", True, ENUM, ("administrator", "proctor", "student", "teacher")),
                Field("primary", False, BOOLEAN),
                Field("beginDate", False, DATE),
                Field("endDate", False, DATE),
            ),
            all_headers=True,
            unique=("sourcedId",),
            references=(
                ("classSourcedId", "classes.csv", "sourcedId"),
                ("schoolSourcedId", "orgs.csv", "sourcedId"),
                ("userSourcedId", "users.csv", "sourcedId"),
            ),
        ),
        FileSpec(
            "demographics.csv",
            (
                Field("sourcedId", True, ID),
                *_BULK,
                Field("birthDate", False, DATE),
                Field("sex", False, ENUM, SEXES),
                Field("americanIndianOrAlaskaNative", False, BOOLEAN),
                Field("asian", False, BOOLEAN),
                Field("blackOrAfricanAmerican", False, BOOLEAN),
                Field("nativeHawaiianOrOtherPacificIslander", False, BOOLEAN),
                Field("white", False, BOOLEAN),
                Field("demographicRaceTwoOrMoreRaces", False, BOOLEAN),
                Field("hispanicOrLatinoEthnicity", False, BOOLEAN),
                Field("countryOfBirthCode"),
                Field("stateOfBirthAbbreviation"),
                Field("cityOfBirth"),
                Field("publicSchoolResidenceStatus"),
            ),
            all_headers=True,
            unique=("sourcedId",),
            references=(("sourcedId", "users.csv", "sourcedId"),),
        ),
    )
}
# every data file the 1.2 manifest names (``file.<name>``): those not written are ``absent``
ONEROSTER_MANIFEST_FILES = (
    "academicSessions", "categories", "classes", "classResources", "courses", "courseResources",
    "demographics", "enrollments", "lineItemLearningObjectiveIds", "lineItems",
    "lineItemScoreScales", "orgs", "resources", "resultLearningObjectiveIds", "results",
    "resultScoreScales", "roles", "scoreScales", "userProfiles", "userResources", "users",
)  # fmt: skip
ONEROSTER_ALWAYS = ("manifest.csv", "orgs.csv", "academicSessions.csv", "courses.csv",
                    "classes.csv", "users.csv", "roles.csv", "enrollments.csv")  # fmt: skip

# never a column of any file the export writes, whatever the specifications allow
FORBIDDEN = ("insz", "inszHash", "inszValid", "bisnr", "bisnrHash", "bisnrValid")


# -- the check ----------------------------------------------------------------------------------


def _value_problem(field: Field, value: str) -> str | None:
    if "\n" in value or "\r" in value:
        return "a line break in the value"
    if not value:
        return "required but empty" if field.required else None
    if field.kind == NEVER:
        return "must be empty"
    # the value itself is never named: it may be a birth date or a name
    if field.kind == ENUM and value not in field.values:
        return f"not one of {list(field.values)}"
    if field.kind == DATE and not _DATE.match(value):
        return "not a date YYYY-MM-DD"
    if field.kind == YEAR and not _YEAR.match(value):
        return "not a year YYYY"
    if field.kind == BOOLEAN and value not in ("true", "false"):
        return "not true/false"
    if field.kind == EMAIL and not _EMAIL.match(value):
        return "not an e-mail address"
    return None


def _read(open_bytes: Callable[[], IO[bytes]]) -> tuple[list[str], Iterable[list[str]]] | str:
    with open_bytes() as head:
        if head.read(3) == b"\xef\xbb\xbf":
            return "starts with a byte-order mark"
    text = io.TextIOWrapper(open_bytes(), encoding="utf-8", errors="strict", newline="")
    reader = csv.reader(text, strict=True)
    try:
        header = next(reader)
    except StopIteration:
        return "no header row"
    except UnicodeDecodeError:
        return "not UTF-8"
    return header, reader


def check_file(
    spec: FileSpec, data: bytes | Callable[[], IO[bytes]], limit: int = 20
) -> tuple[list[str], dict[str, set]]:
    """Problems of one file (its bytes, or a function that opens it) against its spec (at most
    ``limit`` row problems), and the values of each column other files refer to. Read as a
    stream: a file of 200,000 users is never held whole."""
    read = _read((lambda: io.BytesIO(data)) if isinstance(data, bytes) else data)
    if isinstance(read, str):
        return [f"{spec.name}: {read}"], {}
    header, rows = read
    problems: list[str] = []
    if len(set(header)) != len(header):
        problems.append(f"{spec.name}: a header appears twice")
    if spec.all_headers and tuple(header) != spec.names:
        problems.append(f"{spec.name}: headers {header} are not exactly {list(spec.names)}")
    unknown = [h for h in header if h not in spec.names]
    missing = [f.name for f in spec.fields if f.required and f.name not in header]
    if unknown or missing:
        problems.append(f"{spec.name}: unknown headers {unknown}, missing required {missing}")
    forbidden = [h for h in header if h in FORBIDDEN]
    if forbidden:
        problems.append(f"{spec.name}: forbidden columns {forbidden}")
    if problems:
        return problems, {}
    fields = [spec.field(h) for h in header]
    seen: set[tuple[str, ...]] = set()
    values: dict[str, set] = {h: set() for h in header}
    key_at = [header.index(k) for k in spec.unique]
    try:
        for number, row in enumerate(rows, start=2):
            problems += _row_problems(spec, fields, row, number)
            for field, value in zip(fields, row, strict=False):
                values[field.name].add(value)
            key = tuple(row[i] for i in key_at if i < len(row))
            if key_at and key in seen:
                problems.append(f"{spec.name} row {number}: {spec.unique} not unique")
            seen.add(key)
            if len(problems) >= limit:
                problems.append(f"{spec.name}: stopped after {limit} problems")
                break
    except UnicodeDecodeError:
        problems.append(f"{spec.name}: not UTF-8")
    return problems, values


def _row_problems(spec: FileSpec, fields: list[Field], row: list[str], number: int) -> list[str]:
    if len(row) != len(fields):
        return [f"{spec.name} row {number}: {len(row)} values for {len(fields)} headers"]
    found = []
    for field, value in zip(fields, row, strict=True):
        problem = _value_problem(field, value)
        if problem:
            found.append(f"{spec.name} row {number} {field.name}: {problem}")
    return found


def check_zip(specs: dict[str, FileSpec], always: Iterable[str], data: bytes | Path) -> list[str]:
    """Every problem of a produced zip (its bytes or its path): files missing or unknown, each
    file against its spec, and references between the files (an enrolment of a user or class
    that is not there)."""
    with zipfile.ZipFile(io.BytesIO(data) if isinstance(data, bytes) else data) as archive:
        names = archive.namelist()
        problems = [f"missing file {n}" for n in always if n not in names]
        problems += [f"unknown file {n}" for n in names if n not in specs]
        problems += [f"file {n} in a folder" for n in names if "/" in n]
        columns: dict[str, dict[str, set]] = {}
        for name in names:
            if name in specs:
                found, columns[name] = check_file(specs[name], partial(archive.open, name))
                problems += found
    for name, file_columns in columns.items():
        for column, target, target_column in specs[name].references:
            if column not in file_columns:
                continue
            known = columns.get(target, {}).get(target_column, set())
            dangling = {v for v in file_columns[column] if v} - known
            if dangling:
                problems.append(
                    f"{name}.{column}: {len(dangling)} value(s) not in {target}.{target_column}"
                )
    return problems
