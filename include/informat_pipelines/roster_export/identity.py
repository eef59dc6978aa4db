"""Who and what the exported rows are: stable sourcedIds, the academic session of a schooljaar and
the sign-in name from the configured rule. A sign-in name is never invented: without one (or with
one another person already has) the person is reported and left out. No Airflow import."""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from datetime import date

from informat_client.schooljaar import first_day, start_year

from .settings import SCHOOL_EMAIL

_NOT_IN_NAME = re.compile(r"[^a-z0-9]+")
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


def org_id(instellingsnummer: str) -> str:
    """The org's sourcedId: the instellingsnummer, stable across years."""
    return instellingsnummer


def class_id(instellingsnummer: str, schooljaar: str, informat_class_id: str) -> str:
    """A class's sourcedId: Informat's classId is unique only within an instelling and year."""
    return f"{instellingsnummer}-{schooljaar}-{informat_class_id}"


def course_id(class_sourced_id: str) -> str:
    """OneRoster needs a course for every class; Informat has none, so one per class."""
    return f"course-{class_sourced_id}"


@dataclass(frozen=True)
class Session:
    sourced_id: str  # the schooljaar, "2026-27"
    title: str
    start: date  # 1 September
    end: date  # 31 August
    school_year: str  # the year it ends, as OneRoster writes a schoolYear ("2027")


def session(schooljaar: str) -> Session:
    start = first_day(schooljaar)
    end = date(start_year(schooljaar) + 1, 8, 31)
    return Session(schooljaar, f"Schooljaar {schooljaar}", start, end, str(end.year))


def ascii_part(value: str | None) -> str:
    """A name as a sign-in name's part: accents dropped, lower case, only a-z and 0-9 (``Émile
    Van den Berghe`` -> ``emilevandenberghe``)."""
    decomposed = unicodedata.normalize("NFKD", value or "")
    plain = decomposed.encode("ascii", "ignore").decode().lower()
    return _NOT_IN_NAME.sub("", plain)


def sign_in_name(rule: str, person: dict) -> tuple[str | None, str]:
    """(sign-in name, "") or (None, the reason there is none). ``person`` holds the clean
    columns firstName, lastName, personId, instituteNo and (for ``school_email``) email."""
    if rule == SCHOOL_EMAIL:
        email = (person.get("email") or "").strip().lower()
        if not email:
            return None, "no school e-mail"
        if not _EMAIL.match(email):
            return None, "school e-mail is not an address"
        return email, ""
    parts = {
        "firstName": ascii_part(person.get("firstName")),
        "lastName": ascii_part(person.get("lastName")),
        "personId": ascii_part(str(person.get("personId") or "")),
        "instituteNo": ascii_part(str(person.get("instituteNo") or "")),
    }
    used = re.findall(r"\{([^{}]*)\}", rule)
    if any(not parts[name] for name in used):
        return None, "a part of the sign-in pattern is empty"
    return rule.format(**parts).lower(), ""
