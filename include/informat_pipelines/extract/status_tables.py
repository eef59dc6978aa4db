"""Who is at school today, per instelling: ``staff_status`` (active, on_leave or ended, with the
reason) from the clean employees, assignments, interruptions and own fields, and
``pupil_status`` (in_class or no_class) from the clean registrations' classes. No Airflow
import; the reasons are fixed phrases, never a value of the data.

A member of staff, in this order (public code: MySchool's ``classify_employee_leave`` and
``_ownfields_says_inactive``, ``docs/informat-api.md``):

1. no assignment open today (begin ≤ today ≤ end, a missing date open): **ended**;
2. ``isActive`` false for the instelling: **ended**;
3. the own field ``ActiefOpSchool`` says no (neen, nee, no, false, onwaar, 0, n): **ended**
   (MySchool creates no account and ends one; it goes before any leave);
4. every open assignment replaced for (``vervangingen[].doId``) an interruption of full-time
   leave (codes ``FULLTIME_LEAVE_CODES``) open today: **on_leave**; an interruption no open
   assignment links does not count;
5. otherwise **active** (some assignments on full-time leave: still active, reason says so).

A pupil is **in_class** when one of his registrations has a class of ``groupType`` 0 open today
(that class is ``classId``; the latest begun if several), else **no_class**. MySchool's "first
element without an end date" ignores the type and the dates: not copied.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from .class_tables import rows

# voltijds zorgkrediet: MySchool's default list of full-time leave
FULLTIME_LEAVE_CODES = frozenset({"197", "200", "203", "206", "209"})
SAYS_NO = frozenset({"neen", "nee", "no", "false", "onwaar", "0", "n"})
ACTIVE_AT_SCHOOL_FIELD = "actiefopschool"
MAIN_CLASS = 0  # groupType of a class (not a subgroup or OLOD)


def is_open(start: dt.date | None, end: dt.date | None, day: dt.date) -> bool:
    return (start is None or start <= day) and (end is None or day <= end)


def _leave_today(path: Path, day: dt.date) -> set[str]:
    """The interruptions of full-time leave open on ``day``."""
    found = set()
    for row in rows(path, ["interruptionId", "code", "startDate", "endDate"]):
        code = (row["code"] or "").strip().lstrip("0")
        if code in FULLTIME_LEAVE_CODES and is_open(row["startDate"], row["endDate"], day):
            found.add(row["interruptionId"])
    return found


def _not_at_school(path: Path) -> set[str]:
    """Whom the own field ActiefOpSchool says are not at school."""
    return {
        row["personId"]
        for row in rows(path, ["personId", "name", "value"])
        if (row["name"] or "").strip().lower() == ACTIVE_AT_SCHOOL_FIELD
        and (row["value"] or "").strip().lower() in SAYS_NO
    }


def _assignments(path: Path) -> dict[str, list[dict[str, Any]]]:
    columns = ["personId", "startDate", "endDate", "replacements"]
    by_person: dict[str, list[dict[str, Any]]] = {}
    for row in rows(path, columns):
        by_person.setdefault(row["personId"], []).append(row)
    return by_person


def staff_reason(
    assignments: list[dict[str, Any]], flags: tuple[bool, bool], leave: set[str], day: dt.date
) -> tuple[str, str]:
    """(status, reason) of one member of staff; ``flags``: (isActive not false, ActiefOpSchool
    says no)."""
    is_active, not_at_school = flags
    current = [a for a in assignments if is_open(a["startDate"], a["endDate"], day)]
    if not current:
        later = any(a["startDate"] and a["startDate"] > day for a in assignments)
        return "ended", "assignment not begun yet" if later else "no open assignment"
    if not is_active:
        return "ended", "not active at the instelling (isActive)"
    if not_at_school:
        return "ended", "own field ActiefOpSchool: not at school"
    on_leave = [
        a for a in current if any(r["interruptionId"] in leave for r in a["replacements"] or ())
    ]
    if len(on_leave) == len(current):
        return "on_leave", "full-time leave on every open assignment"
    if on_leave:
        return "active", "full-time leave on some open assignments"
    return "active", "open assignment"


def staff_status(sources: dict[str, Path], day: dt.date) -> Iterator[dict[str, Any]]:
    """One row per member of staff of the instelling (its employees)."""
    assignments = _assignments(sources["assignments"])
    leave = _leave_today(sources["interruptions"], day)
    not_at_school = _not_at_school(sources["own_fields"])
    for employee in rows(sources["employees"], ["personId", "isActive"]):
        person = employee["personId"]
        flags = (employee["isActive"] is not False, person in not_at_school)
        status, reason = staff_reason(assignments.get(person, []), flags, leave, day)
        yield {"personId": person, "day": day.isoformat(), "status": status, "reason": reason}


def pupil_status(sources: dict[str, Path], day: dt.date) -> Iterator[dict[str, Any]]:
    """One row per pupil of the instelling's registrations."""
    found: dict[str, tuple[dt.date, str] | None] = {}  # personId -> (begun, classId) or None
    for registration in rows(sources["registrations"], ["personId", "classes"]):
        person = registration["personId"]
        if person is None:  # the registrations' own checks speak of it
            continue
        best = found.get(person)
        for element in registration["classes"] or ():
            start, end = element["startDate"], element["endDate"]
            if element["groupType"] != MAIN_CLASS or not is_open(start, end, day):
                continue
            begun = start or dt.date.min
            if best is None or begun > best[0]:
                best = (begun, element["classId"])
        found[person] = best
    for person, best in found.items():
        status, class_id = ("in_class", best[1]) if best else ("no_class", None)
        yield {"personId": person, "day": day.isoformat(), "status": status, "classId": class_id}
