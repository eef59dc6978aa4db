"""Seeded, deterministic synthetic data for the sandbox: a school group with its instellingen,
students, enrolments, staff, toegangsgroepen and invoices. No real person's data: names are drawn
from common name lists, INSZ numbers are generated with valid check digits, e-mail addresses use
the reserved ``example.org`` domain."""

from __future__ import annotations

import itertools
import random
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any

from informat_client.schooljaar import schooljaar_for, shift

from . import classes
from .instelling import Instelling
from .people import (
    LAST_NAMES,
    InszPool,
    make_employee,
    make_registration,
    make_student,
    schooljaar_bounds,
)
from .staff import build_staff


@dataclass
class Toegangsgroep:
    name: str
    instellingsnummers: list[str]
    carried_over: set[str]  # schooljaren for which the API rights were carried over
    active: bool = True
    users: list[dict[str, Any]] = field(default_factory=list)
    journals: list[dict[str, Any]] = field(default_factory=list)
    invoices: dict[str, list[dict[str, Any]]] = field(default_factory=dict)  # schooljaar -> list
    payments: list[dict[str, Any]] = field(default_factory=list)

    def is_active_for(self, schooljaar: str) -> bool:
        return self.active and schooljaar in self.carried_over


@dataclass
class Client:
    client_id: str
    client_secret: str
    instellingsnummers: set[str]
    toegangsgroepen: set[str]


@dataclass
class SchoolGroup:
    seed: int
    today: date
    schooljaren: tuple[str, ...]  # (previous, current)
    instellingen: dict[str, Instelling]
    toegangsgroepen: dict[str, Toegangsgroep]
    clients: dict[str, Client]
    next_person: int

    @property
    def current_schooljaar(self) -> str:
        return self.schooljaren[-1]

    def all_students(self) -> int:
        return sum(len(i.students) for i in self.instellingen.values())


# instellingsnummers of the synthetic school group: five with pupils, one empty (a new school),
# and one that exists but is outside the default client's scopes.
INSTELLINGEN = [
    ("990011", "Basisschool De Regenboog", 0.22),
    ("990012", "Basisschool 't Klavertje", 0.18),
    ("990013", "Middenschool Sint-Jozef", 0.20),
    ("990014", "Atheneum Scheldeland", 0.24),
    ("990015", "Technisch Instituut Leiezone", 0.16),
    ("990016", "Nieuwe school Kouter (nog leeg)", 0.0),
]
OUT_OF_SCOPE_INSTELLING = ("990019", "Buitenschool (geen toegang)", 0.0)

DEFAULT_STUDENTS = 4000


def instellingen_of(count: int = 0) -> list[tuple[str, str, float]]:
    """The school group's instellingen (number, name, share of the pupils): the six above, or
    ``count`` of equal size (a larger school group, as the benchmarks need: 20 instellingen)."""
    if not count:
        return INSTELLINGEN
    return [(str(990100 + i), f"School {i + 1:02d}", 1 / count) for i in range(count)]


def toegangsgroep_of(instellingsnummer: str) -> str:
    """A generated school group's toegangsgroep: one per instelling."""
    return f"TG-{instellingsnummer}"


def _invoices(
    rng: random.Random,
    group: str,
    students: list[dict[str, Any]],
    schooljaar: str,
    next_id: int,
    today: date,
) -> list[dict[str, Any]]:
    """Invoices of a schooljaar. An invoice that fell due before today already had its PDF made
    by Informat on its due date (``pdfGeneratedAt``); older than a year, Informat deleted it."""
    start, _ = schooljaar_bounds(schooljaar)
    out = []
    for student in students:
        for _ in range(rng.choice((1, 1, 2))):
            amount = round(rng.uniform(15, 450), 2)
            due = start + timedelta(days=rng.randint(20, 280))
            paid = rng.random() < 0.6
            out.append(
                {
                    "invoiceId": f"F{schooljaar[:4]}-{next_id:07d}",
                    "toegangsgroep": group,
                    "schoolYear": schooljaar,
                    "instelnr": student["_instelnr"],
                    "debtorPersonId": student["persoonId"],
                    "amount": amount,
                    "dueDate": due.isoformat(),
                    "status": "betaald" if paid else "open",
                    "paidAmount": amount if paid else 0.0,
                    "pdfGeneratedAt": f"{due.isoformat()}T06:00:00" if due < today else None,
                }
            )
            next_id += 1
    return out


def _seed_staff_and_classes(seed: int, inst: Instelling, schooljaar: str, today: date) -> None:
    """The instelling's assignments, interruptions, own fields and classes, from a generator of
    their own: the students, staff and invoices drawn before them stay what they were."""
    rng = random.Random(f"{seed}:staff-and-classes:{inst.instellingsnummer}")
    ids = itertools.count(int(inst.instellingsnummer[-3:]) * 1_000_000 + 1)
    bounds = schooljaar_bounds(schooljaar)
    structure = "311" if inst.secundair else "211"
    records = build_staff(rng, inst.employees, structure, bounds, today, ids)
    inst.assignments = records.assignments
    inst.interruptions = records.interruptions
    inst.own_fields = records.own_fields
    if inst.registrations:
        teachers = [e["personId"] for e in inst.employees]
        classes.seat(rng, inst, teachers, bounds[0], today, ids)


def build(
    seed: int = 42,
    today: date | None = None,
    students: int = DEFAULT_STUDENTS,
    client_id: str = "sandbox-client",
    client_secret: str = "",
    instellingen_count: int = 0,
) -> SchoolGroup:
    """Build the school group. Same seed and size: the same data, byte for byte."""
    today = today or date.today()
    rng = random.Random(seed)
    pool = InszPool()
    current = schooljaar_for(today)
    schooljaren = (shift(current, -1), current)

    instellingen: dict[str, Instelling] = {}
    person = 100_000
    inschrijving = 1
    chosen = instellingen_of(instellingen_count)
    for number, name, share in [*chosen, OUT_OF_SCOPE_INSTELLING]:
        inst = Instelling(number, name)
        count = round(students * share)
        for n in range(count):
            person += 1
            inst.students.append(make_student(rng, pool, inst, today, person, n + 1))
        since = datetime.combine(schooljaar_bounds(current)[0], datetime.min.time(), UTC)
        for student in inst.students:
            inst.registrations.append(make_registration(rng, student, inst, current, inschrijving))
            inst.changed[f"students:{student['pPersoon']}"] = since
            inst.changed[f"registrations:{student['inschrijvingsId']}"] = since
            inschrijving += 1
        staff = max(3, count // 12) if count else 0
        for _ in range(staff):
            person += 1
            inst.employees.append(make_employee(rng, pool, inst, today, person))
        _seed_staff_and_classes(seed, inst, current, today)
        instellingen[number] = inst

    def users(prefix: str) -> list[dict[str, Any]]:
        return [
            {"userId": f"{prefix}-u1", "login": f"boekhouding@{prefix.lower()}.example.org",
             "active": True, "valid": True},
            {"userId": f"{prefix}-u2", "login": f"directie@{prefix.lower()}.example.org",
             "active": False, "valid": True},
        ]  # fmt: skip

    journals = [
        {"code": "Extern", "name": "Externe betalingen", "type": "financieel"},
        {"code": "Extern_Dubieus", "name": "Externe betalingen (dubieus)", "type": "financieel"},
        {"code": "Kas", "name": "Kas", "type": "financieel"},
    ]
    groups = {
        # carried over for both schooljaren: healthy
        "SG-Noord": Toegangsgroep("SG-Noord", ["990011", "990012"], set(schooljaren)),
        # not carried over to the current schooljaar: nobody logged in via iRekeningen yet
        "SG-Zuid": Toegangsgroep("SG-Zuid", ["990013", "990014"], {schooljaren[0]}),
        "Internaat-De-Linde": Toegangsgroep("Internaat-De-Linde", ["990015"], set(schooljaren)),
        # exists, but the default client has no access to it
        "VZW-Elders": Toegangsgroep("VZW-Elders", ["990019"], set(schooljaren)),
    }
    if instellingen_count:  # a generated school group: one healthy toegangsgroep per instelling
        groups = {
            toegangsgroep_of(n): Toegangsgroep(toegangsgroep_of(n), [n], set(schooljaren))
            for n, _, _ in chosen
        } | {"VZW-Elders": groups["VZW-Elders"]}
    invoice_id = 1
    for group in groups.values():
        group.users = users(group.name)
        group.journals = [dict(j) for j in journals]
        roster = [
            {"persoonId": s["persoonId"], "_instelnr": n}
            for n in group.instellingsnummers
            for s in instellingen[n].students
        ]
        for schooljaar in schooljaren:
            group.invoices[schooljaar] = _invoices(
                rng, group.name, roster, schooljaar, invoice_id, today
            )
            invoice_id += len(group.invoices[schooljaar])

    client = Client(
        client_id=client_id,
        client_secret=client_secret,
        instellingsnummers={n for n, _, _ in chosen},
        toegangsgroepen=set(groups) - {"VZW-Elders"},
    )
    return SchoolGroup(
        seed=seed,
        today=today,
        schooljaren=schooljaren,
        instellingen=instellingen,
        toegangsgroepen=groups,
        clients={client_id: client},
        next_person=person + 1,
    )


def scope_of(toegangsgroep: str) -> str:
    """The Rekeningen scope Informat hands out for a toegangsgroep: a literal string (modelled)."""
    return f"api_informat_rekeningen.toegangsgroep.{toegangsgroep}"


def change(
    group: SchoolGroup,
    inst: Instelling,
    *,
    students: int = 0,
    registrations: int = 0,
    new_students: int = 0,
) -> dict[str, list]:
    """A day's changes in an instelling: the first ``students`` students get a huisdokter
    (a new value), the first ``registrations`` registrations a new class, and
    ``new_students`` students enrol; each is marked changed now. Deterministic per call order."""
    now = datetime.now(UTC)
    rng = random.Random(f"{group.seed}:{inst.instellingsnummer}:{len(inst.changed)}")
    out: dict[str, list] = {"students": [], "registrations": [], "new_students": []}
    for record in inst.students[:students]:
        record["huisdokter"] = f"Dr. {rng.choice(LAST_NAMES)}"
        inst.changed[f"students:{record['pPersoon']}"] = now
        out["students"].append(record["pPersoon"])
    teachers = [e["personId"] for e in inst.employees]
    for record in inst.registrations[:registrations]:
        classes.move(rng, inst, record, f"{record['leerjaar']}{rng.choice('EFGH')}", teachers)
        inst.changed[f"registrations:{record['inschrijvingsId']}"] = now
        out["registrations"].append(record["inschrijvingsId"])
    pool = InszPool()
    pool._used.update(s["rijksregisternr"] for s in inst.students if s.get("rijksregisternr"))
    current = group.current_schooljaar
    for _ in range(new_students):
        person = group.next_person
        group.next_person += 1
        student = make_student(rng, pool, inst, group.today, person, len(inst.students) + 1)
        inst.students.append(student)
        p_inschr = 10_000_000 + person
        registration = make_registration(rng, student, inst, current, p_inschr)
        classes.enrol(rng, inst, registration, teachers)
        inst.registrations.append(registration)
        inst.changed[f"students:{person}"] = now
        inst.changed[f"registrations:{student['inschrijvingsId']}"] = now
        out["new_students"].append(person)
    return out
