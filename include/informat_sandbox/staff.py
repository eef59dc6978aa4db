"""What the Personeel API holds on an instelling's staff besides the employees themselves: their
assignments (``employees/assignments``), interruptions (``employees/interruptions``: leave,
illness, strike) and own fields (``employees/ownfields``), each with exactly the keys public code
shows (``docs/informat-api.md``).

Every member of staff has one assignment for the schooljaar. Then, in this order, the first
members of a shuffled list get one situation each (a small instelling gets the first few, and
always keeps one member of staff without any):

- ``fulltime_leave`` (``max(1, n // 15)`` of them): on full-time leave today, an interruption with
  a code of ``FULLTIME_LEAVE_CODES`` linked from the assignment's ``vervangingen``;
- ``ended`` (``max(1, n // 12)``): the assignment ended two weeks ago;
- ``partial_leave``: two assignments, full-time leave linked from one of them only;
- ``ActiefOpSchool=Neen``: an own field saying the person is not at school;
- ``sick``: sick today (code 1), linked: not full-time leave;
- ``ended_role``: a second assignment that ended two weeks ago beside an open one;
- ``past_leave``: leave that ended last month, linked;
- ``unlinked_leave``: a full-time leave code active today that no assignment links.

Own fields: every fourth member of staff has ``ActiefOpSchool`` = ``Ja`` and every third a
``kastnummer``; the ``ActiefOpSchool=Neen`` situation adds the ``Neen``.
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

from .people import AMBT_CODES, FUNCTIONS, guid

# full-time leave as public code treats it: voltijds zorgkrediet (MySchool's default list)
FULLTIME_LEAVE_CODES = {
    "197": "Voltijds zorgkrediet kinderen <= 12 jaar",
    "200": "Voltijds zorgkrediet medische bijstand",
    "203": "Voltijds zorgkrediet palliatieve zorg",
    "206": "Voltijds zorgkrediet kind met handicap",
    "209": "Voltijds zorgkrediet opleiding",
}
OTHER_CODES = {"1": "Ziekteverlof", "90": "Omstandigheidsverlof"}
SITUATIONS = (
    "partial_leave",
    "not_at_school",
    "sick",
    "ended_role",
    "past_leave",
    "unlinked_leave",
)


@dataclass
class StaffRecords:
    assignments: list[dict[str, Any]] = field(default_factory=list)
    interruptions: list[dict[str, Any]] = field(default_factory=list)
    own_fields: list[dict[str, Any]] = field(default_factory=list)


def situations(count: int) -> list[str]:
    """The situation of each of ``count`` members of staff (before shuffling): the ones above in
    order, then "active"; at least one stays "active"."""
    wanted = [
        *["fulltime_leave"] * max(1, count // 15),
        *["ended"] * max(1, count // 12),
        *SITUATIONS,
    ]
    chosen = wanted[: max(0, count - 1)]
    return chosen + ["active"] * (count - len(chosen))


def _moment(day: date) -> str:
    """A Personeel interruption's date as public code shows it: ``2025-09-01T00:00:00``."""
    return f"{day.isoformat()}T00:00:00"


class _Builder:
    def __init__(
        self,
        rng: random.Random,
        structure: str,
        bounds: tuple[date, date],
        today: date,
        ids: Iterator[int],
    ) -> None:
        self.rng, self.structure, self.today, self.ids = rng, structure, today, ids
        self.start, self.end = bounds
        self.out = StaffRecords()

    def assignment(
        self, employee: dict[str, Any], ambt: str, end: date | None = None
    ) -> dict[str, Any]:
        end = end or self.end
        begin = self.start if end >= self.start else end - timedelta(days=60)
        record = {
            "id": guid(self.rng),
            "pOpdracht": next(self.ids),
            "personId": employee["personId"],
            "ambt": ambt,
            "ambtCode": AMBT_CODES[ambt],
            "begindatum": begin.isoformat(),
            "einddatum": end.isoformat(),
            "vervangingen": [],
            # keys public code saw in real assignments; these values say "no such situation"
            "urenTbsOB": 0,
            "reaffWedertew": "",
            "afstandWachtgeld": 0,
            "isTao": False,
            "aanstellingscode": 0,
            "ato": "4",
        }
        self.out.assignments.append(record)
        return record

    def interruption(
        self,
        employee: dict[str, Any],
        code: str,
        days: tuple[date, date],
        linked: dict[str, Any] | None,
    ) -> None:
        begin, end = days
        do_id = guid(self.rng)
        self.out.interruptions.append(
            {
                "pOnderbreking": next(self.ids),
                "doId": do_id,
                "personId": employee["personId"],
                "hfd": self.structure,
                "begindatum": _moment(begin),
                "einddatum": _moment(end),
                "code": code,
                "omschrijving": {**FULLTIME_LEAVE_CODES, **OTHER_CODES}[code],
                "soort": "2",
                "verstuurdAgODi": False,
                "opmSecretariaat": "",
                "opmPersoneelslid": None,
                "staking": None,
                "stakingUren": None,
                "ziekteverlofZonderBezoldiging": False,
            }
        )
        if linked is not None:
            linked["vervangingen"].append({"opdrachtId": linked["id"], "doId": do_id})

    def own_field(self, employee: dict[str, Any], naam: str, waarde: Any, rubriek: int) -> None:
        self.out.own_fields.append(
            {
                "personId": employee["personId"],
                "vvId": guid(self.rng),
                "naam": naam,
                "waarde": waarde,
                "dataType": "Tekst",
                "rubriek": rubriek,
            }
        )


def build_staff(
    rng: random.Random,
    employees: list[dict[str, Any]],
    structure: str,
    bounds: tuple[date, date],
    today: date,
    ids: Iterator[int],
) -> StaffRecords:
    """The assignments, interruptions and own fields of an instelling's ``employees``."""
    b = _Builder(rng, structure, bounds, today, ids)
    kinds = situations(len(employees))
    rng.shuffle(kinds)
    fulltime = sorted(FULLTIME_LEAVE_CODES)
    weeks_ago, month_ago = today - timedelta(days=14), today - timedelta(days=30)
    leave_days = (month_ago, max(b.end, today + timedelta(days=90)))
    for index, (employee, kind) in enumerate(zip(employees, kinds, strict=True)):
        ambt = employee["hoofdAmbt"]["naam"]
        main = b.assignment(employee, ambt, weeks_ago if kind == "ended" else None)
        code = fulltime[index % len(fulltime)]
        if kind == "fulltime_leave":
            b.interruption(employee, code, leave_days, main)
        elif kind == "partial_leave":
            other = b.assignment(employee, FUNCTIONS[(FUNCTIONS.index(ambt) + 1) % len(FUNCTIONS)])
            b.interruption(employee, code, leave_days, other)
        elif kind == "sick":
            b.interruption(
                employee, "1", (today - timedelta(days=2), today + timedelta(days=5)), main
            )
        elif kind == "ended_role":
            b.assignment(
                employee, FUNCTIONS[(FUNCTIONS.index(ambt) + 2) % len(FUNCTIONS)], weeks_ago
            )
        elif kind == "past_leave":
            b.interruption(employee, "90", (month_ago - timedelta(days=3), month_ago), main)
        elif kind == "unlinked_leave":
            b.interruption(employee, code, leave_days, None)
        if kind == "not_at_school":
            b.own_field(employee, "ActiefOpSchool", "Neen", 2)
        elif index % 4 == 0:
            b.own_field(employee, "ActiefOpSchool", "Ja", 2)
        if index % 3 == 0:
            b.own_field(employee, "kastnummer", f"B-{100 + index}", 1)
    return b.out
