"""One school's roster, built from the clean layer in one streamed pass per table: the SDS v2.1
file set and the OneRoster 1.2 file set written side by side, row by row, then zipped and checked
against the specifications. Who is left out, and why, is counted (with their sourcedIds for the
data team); no name, e-mail or INSZ leaves this module except in the files themselves.

What goes in, for the run's day:
- staff: ``staff_status`` active (on leave: left out or exported disabled, as the settings say;
  ended: left out), role ``teacher``;
- pupils: ``pupil_status`` in_class (without a class: left out or exported disabled), role
  ``student``;
- a person needs a sign-in name by the settings' rule, unique in the school, and both names;
- classes of the configured group types with at least one exported pupil enrolled today;
- an enrolment per pupil membership active today, one per class teacher of an exported class.
No Airflow import."""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

from . import identity
from .clean import ENTITIES, Reader, Source
from .files import FileSet
from .schema import ONEROSTER, ONEROSTER_MANIFEST_FILES, SDS, check_zip
from .settings import DISABLED, Approval, RosterSettings

SDS_HEADERS = {
    "orgs.csv": ("sourcedId", "name", "type"),
    "users.csv": ("sourcedId", "username", "givenName", "familyName"),
    "roles.csv": ("userSourcedId", "orgSourcedId", "role", "sessionSourcedId"),
    "classes.csv": ("sourcedId", "orgSourcedId", "title", "sessionSourcedIds"),
    "enrollments.csv": ("classSourcedId", "userSourcedId", "role"),
    "academicSessions.csv": ("sourcedId", "title", "type", "schoolYear", "startDate", "endDate"),
}
SDS_DEMOGRAPHICS = {"demographics.csv": ("userSourcedId", "sex", "birthDate")}
ONEROSTER_FILES = ("manifest.csv", "orgs.csv", "academicSessions.csv", "courses.csv",
                   "classes.csv", "users.csv", "roles.csv", "enrollments.csv")  # fmt: skip
SEX = {"M": "male", "V": "female", "F": "female", "X": "other"}  # Informat writes M/V
KEEP_IDS = 200  # sourcedIds listed per reason in the status; the count is always complete


class ExportInvalid(Exception):
    """A built file set does not pass the specification check: nothing is published."""


@dataclass(frozen=True)
class School:
    instelling: str
    schooljaar: str
    day: date
    approval: Approval


@dataclass
class LeftOut:
    counts: Counter = field(default_factory=Counter)  # "role: reason" -> people
    ids: dict[str, list[str]] = field(default_factory=lambda: defaultdict(list))

    def add(self, role: str, reason: str, person_id: str) -> None:
        key = f"{role}: {reason}"
        self.counts[key] += 1
        if len(self.ids[key]) < KEEP_IDS:
            self.ids[key].append(person_id)


@dataclass
class Built:
    instelling: str
    sds_zip: Path
    oneroster_zip: Path
    rows: dict[str, dict[str, int]]  # format -> file -> data rows
    left_out: LeftOut
    user_ids: set[str]
    class_ids: set[str]
    sources: dict[str, str]  # entity -> the clean day read
    disabled: int  # exported with enabledUser false (on leave / no class, as settings say)


def _latest_status(rows: Iterable[dict[str, Any]], day: date) -> dict[str, str]:
    """personId -> its status on the newest day on or before ``day`` (a file may hold several)."""
    newest: dict[str, tuple[date, str]] = {}
    for row in rows:
        seen = row.get("day")
        if seen is None or seen > day:
            continue
        person = str(row["personId"])
        if person not in newest or seen >= newest[person][0]:
            newest[person] = (seen, row["status"])
    return {person: status for person, (_, status) in newest.items()}


def _active_on(row: dict[str, Any], day: date) -> bool:
    start, end = row.get("startDate"), row.get("endDate")
    return (start is None or start <= day) and (end is None or end >= day)


class _Roster:
    """The writing state of one school: both file sets and what has been exported so far."""

    def __init__(self, school: School, settings: RosterSettings, work: Path) -> None:
        self.school, self.settings, self.work = school, settings, work
        self.org = identity.org_id(school.instelling)
        self.session = identity.session(school.schooljaar)
        sds_headers = dict(SDS_HEADERS)
        or_files = list(ONEROSTER_FILES)
        if settings.demographics:
            sds_headers.update(SDS_DEMOGRAPHICS)
            or_files.append("demographics.csv")
        self.sds = FileSet(work / "sds", SDS, sds_headers)
        self.oneroster = FileSet(
            work / "oneroster", ONEROSTER, {n: ONEROSTER[n].names for n in or_files}
        )
        self.rules = settings.rules()
        self.names_taken: set[str] = set()
        self.left_out = LeftOut()
        self.users: set[str] = set()
        self.pupils: set[str] = set()
        self.teachers: set[str] = set()
        self.disabled = 0

    # -- people ------------------------------------------------------------------------------

    def person(self, row: dict[str, Any], role: str, enabled: bool) -> None:
        person_id = str(row["personId"])
        if person_id in self.users:
            return  # a person twice in the table (two registrations) is one user
        username, reason = identity.sign_in_name(self.rules[role], row)
        if username is None:
            self.left_out.add(role, reason, person_id)
            return
        if not (row.get("firstName") or "").strip() or not (row.get("lastName") or "").strip():
            self.left_out.add(role, "no first or last name", person_id)
            return
        if username in self.names_taken:  # never numbered silently: a person decides
            self.left_out.add(role, "sign-in name already taken", person_id)
            return
        self.names_taken.add(username)
        self.users.add(person_id)
        (self.pupils if role == "student" else self.teachers).add(person_id)
        self.disabled += not enabled
        self.sds.write(
            "users.csv",
            {"sourcedId": person_id, "username": username,
             "givenName": row["firstName"], "familyName": row["lastName"]},
        )  # fmt: skip
        self.sds.write(
            "roles.csv",
            {"userSourcedId": person_id, "orgSourcedId": self.org, "role": role,
             "sessionSourcedId": self.session.sourced_id},
        )  # fmt: skip
        self.oneroster.write(
            "users.csv",
            {"sourcedId": person_id, "enabledUser": enabled, "username": username,
             "givenName": row["firstName"], "familyName": row["lastName"],
             "primaryOrgSourcedId": self.org},
        )  # fmt: skip
        self.oneroster.write(
            "roles.csv",
            {"sourcedId": f"{self.org}-{person_id}-{role}", "userSourcedId": person_id,
             "roleType": "primary", "role": role, "orgSourcedId": self.org},
        )  # fmt: skip
        if self.settings.demographics:
            sex, born = SEX.get(str(row.get("sex") or "").upper()), row.get("dateOfBirth")
            self.sds.write("demographics.csv", {"userSourcedId": person_id, "sex": sex,
                                                "birthDate": born})  # fmt: skip
            self.oneroster.write("demographics.csv", {"sourcedId": person_id, "sex": sex,
                                                      "birthDate": born})  # fmt: skip

    def staff(self, rows: Iterable[dict[str, Any]], status: dict[str, str]) -> None:
        for row in rows:
            state = status.get(str(row["personId"]))
            if state == "active":
                self.person(row, "teacher", True)
            elif state == "on_leave" and self.settings.staff_on_leave == DISABLED:
                self.person(row, "teacher", False)
            else:
                reason = {"on_leave": "on leave", "ended": "ended"}.get(state or "", "no status")
                self.left_out.add("teacher", reason, str(row["personId"]))

    def students(self, rows: Iterable[dict[str, Any]], status: dict[str, str]) -> None:
        for row in rows:
            state = status.get(str(row["personId"]))
            if state == "in_class":
                self.person(row, "student", True)
            elif self.settings.pupils_without_class == DISABLED:
                self.person(row, "student", False)
            else:
                reason = "no class today" if state == "no_class" else "no status"
                self.left_out.add("student", reason, str(row["personId"]))

    # -- classes -----------------------------------------------------------------------------

    def enrol(self, class_sourced_id: str, person_id: str, role: str) -> None:
        self.sds.write(
            "enrollments.csv",
            {"classSourcedId": class_sourced_id, "userSourcedId": person_id, "role": role},
        )
        self.oneroster.write(
            "enrollments.csv",
            {"sourcedId": f"{class_sourced_id}-{person_id}-{role}",
             "classSourcedId": class_sourced_id, "schoolSourcedId": self.org,
             "userSourcedId": person_id, "role": role},
        )  # fmt: skip

    def classes(self, source: Iterator[dict[str, Any]], reader: Reader, sources: dict) -> set:
        """Enrolments of pupils, then the classes that have one, then their teachers."""
        kept = {
            str(row["classId"]): row
            for row in source
            if row.get("groupType") in self.settings.group_types
        }
        ids = {c: identity.class_id(self.school.instelling, self.school.schooljaar, c)
               for c in kept}  # fmt: skip
        enrolled: set[str] = set()
        with_pupils: set[str] = set()
        for row in reader.rows(sources["class_memberships"]):
            klas, pupil = str(row["classId"]), str(row["personId"])
            key = f"{klas}\x00{pupil}"
            if klas not in kept or pupil not in self.pupils or key in enrolled:
                continue
            if not _active_on(row, self.school.day):
                continue
            enrolled.add(key)
            with_pupils.add(klas)
            self.enrol(ids[klas], pupil, "student")
        del enrolled
        for klas in sorted(with_pupils):
            row, sourced = kept[klas], ids[klas]
            title = row.get("className") or row.get("classCode") or klas
            self.sds.write(
                "classes.csv",
                {"sourcedId": sourced, "orgSourcedId": self.org, "title": title,
                 "sessionSourcedIds": self.session.sourced_id},
            )  # fmt: skip
            self.oneroster.write(
                "courses.csv",
                {"sourcedId": identity.course_id(sourced), "title": title,
                 "courseCode": row.get("classCode"), "orgSourcedId": self.org,
                 "schoolYearSourcedId": self.session.sourced_id},
            )  # fmt: skip
            self.oneroster.write(
                "classes.csv",
                {"sourcedId": sourced, "title": title, "classCode": row.get("classCode"),
                 "courseSourcedId": identity.course_id(sourced),
                 "classType": "homeroom" if row.get("groupType") == 0 else "scheduled",
                 "schoolSourcedId": self.org, "termSourcedIds": self.session.sourced_id},
            )  # fmt: skip
        for klas in set(kept) - with_pupils:
            self.left_out.add("class", "no pupil enrolled today", ids[klas])
        teaching: set[str] = set()
        for row in reader.rows(sources["class_teachers"]):
            klas, teacher = str(row["classId"]), str(row["personId"])
            if klas not in with_pupils or f"{klas}\x00{teacher}" in teaching:
                continue
            if teacher not in self.teachers:
                self.left_out.add("class teacher", "teacher not exported", teacher)
                continue
            teaching.add(f"{klas}\x00{teacher}")
            self.enrol(ids[klas], teacher, "teacher")
        return {ids[k] for k in with_pupils}

    # -- the school and its year ------------------------------------------------------------

    def school_rows(self) -> None:
        name = self.school.approval.name or f"Instelling {self.school.instelling}"
        s = self.session
        self.sds.write("orgs.csv", {"sourcedId": self.org, "name": name, "type": "school"})
        self.oneroster.write(
            "orgs.csv",
            {"sourcedId": self.org, "name": name, "type": "school",
             "identifier": self.school.instelling},
        )  # fmt: skip
        session = {"sourcedId": s.sourced_id, "title": s.title, "type": "schoolYear",
                   "schoolYear": s.school_year, "startDate": s.start, "endDate": s.end}  # fmt: skip
        self.sds.write("academicSessions.csv", session)
        self.oneroster.write("academicSessions.csv", session)

    def manifest(self) -> None:
        written = {n.removesuffix(".csv") for n in self.oneroster.headers} - {"manifest"}
        rows = [("manifest.version", "1.0"), ("oneroster.version", "1.2")]
        rows += [(f"file.{n}", "bulk" if n in written else "absent")
                 for n in ONEROSTER_MANIFEST_FILES]  # fmt: skip
        rows += [("source.systemName", "informat-airflow"), ("source.systemCode", "informat")]
        for name, value in rows:
            self.oneroster.write("manifest.csv", {"propertyName": name, "value": value})


def build(reader: Reader, school: School, settings: RosterSettings, sources: dict) -> Built:
    """Both zips of ``school`` in ``reader``'s folder, from the clean ``sources`` (entity ->
    :class:`Source`), checked against the specifications (:class:`ExportInvalid` otherwise)."""
    work = reader.folder / school.instelling
    roster = _Roster(school, settings, work)
    roster.school_rows()
    staff_status = _latest_status(reader.rows(sources["staff_status"]), school.day)
    roster.staff(reader.rows(sources["employees"]), staff_status)
    del staff_status
    pupil_status = _latest_status(reader.rows(sources["pupil_status"]), school.day)
    roster.students(reader.rows(sources["students"]), pupil_status)
    del pupil_status
    class_ids = roster.classes(reader.rows(sources["classes"]), reader, sources)
    roster.manifest()
    sds_zip = roster.sds.zip_to(work / "sds.zip")
    oneroster_zip = roster.oneroster.zip_to(work / "oneroster.zip")
    problems = check_zip(SDS, roster.sds.headers, sds_zip)
    problems += check_zip(ONEROSTER, roster.oneroster.headers, oneroster_zip)
    if problems:
        raise ExportInvalid(f"instelling {school.instelling}: " + "; ".join(problems[:10]))
    return Built(
        instelling=school.instelling,
        sds_zip=sds_zip,
        oneroster_zip=oneroster_zip,
        rows={"sds": roster.sds.counts(), "oneroster": roster.oneroster.counts()},
        left_out=roster.left_out,
        user_ids=roster.users,
        class_ids=class_ids,
        sources={e: sources[e].day.isoformat() for e in ENTITIES},
        disabled=roster.disabled,
    )


__all__ = ["Built", "ExportInvalid", "School", "Source", "build"]
