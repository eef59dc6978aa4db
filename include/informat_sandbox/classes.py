"""The classes of an instelling and who sits in them: each registration's ``inschrKlassen``, with
exactly the keys public code reads (``inschrKlasId``, ``pInschrKlas``, ``klasId``, ``pKlas``,
``klasCode``, ``klas``, ``groepType``, ``klasnummer``, ``begindatum``, ``einddatum``,
``klassenleraars``). A class is one record of the instelling's registry (``Instelling.classes``),
so that every pupil of a class carries the same ``klasId``, ``pKlas`` and class teachers.

What the seed holds, per instelling with pupils:

- classes (``groepType`` 0) of several pupils each, each with one or two class teachers drawn
  from the instelling's staff (``klassenleraars``: ``[{"persoonId": <an employee's personId>}]``),
  except the last class, whose teacher is not known (an empty list);
- every third class split in two subgroups (``groepType`` 1), each with one teacher;
- one OLOD (``groepType`` 3) that a few pupils of several classes follow;
- ``NO_CLASS_SHARE`` of the pupils (at least one) without a class today: alternately no class
  at all, and a class that ended yesterday with the next one starting in a week.
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from datetime import date, timedelta
from typing import TYPE_CHECKING, Any

from .people import guid

if TYPE_CHECKING:
    from .instelling import Instelling

MAIN, SUBGROUP, OLOD = 0, 1, 3  # groepType (public code: the PHP client's GroupType enum)
NO_CLASS_SHARE = 0.03
SUBGROUP_EVERY = 3  # every third class has two subgroups
OLOD_EVERY = 25  # every 25th pupil follows the OLOD
OLOD_CODE = "OLOD-NED"


def class_record(
    rng: random.Random,
    inst: Instelling,
    what: tuple[str, str, int],
    staff: list[str],
    teachers: int = 1,
) -> dict[str, Any]:
    """A class of the instelling's registry, ``what`` = (klasCode, klas, groepType), made once
    per code with ``teachers`` class teachers drawn from ``staff``."""
    code, name, kind = what
    known = inst.classes.get(code)
    if known is not None:
        return known
    chosen = rng.sample(staff, min(teachers, len(staff))) if staff else []
    record = {
        "klasId": guid(rng),
        "pKlas": int(inst.instellingsnummer[-3:]) * 10_000 + len(inst.classes) + 1,
        "klasCode": code,
        "klas": name,
        "groepType": kind,
        "klassenleraars": [{"persoonId": person_id} for person_id in chosen],
    }
    inst.classes[code] = record
    return record


def membership(
    klas: dict[str, Any],
    rng: random.Random,
    p_inschr_klas: int,
    number: int,
    start: date,
    end: date | None = None,
) -> dict[str, Any]:
    """One pupil's element of ``inschrKlassen`` in ``klas``."""
    return {
        "inschrKlasId": guid(rng),
        "pInschrKlas": p_inschr_klas,
        "klasId": klas["klasId"],
        "pKlas": klas["pKlas"],
        "klasCode": klas["klasCode"],
        "klas": klas["klas"],
        "groepType": klas["groepType"],
        "klasnummer": number,
        "begindatum": start.isoformat(),
        "einddatum": end.isoformat() if end else None,
        # a list of fresh objects per pupil, as an answer would carry them
        "klassenleraars": [dict(t) for t in klas["klassenleraars"]],
    }


def seat(
    rng: random.Random,
    inst: Instelling,
    staff: list[str],
    start: date,
    today: date,
    ids: Iterator[int],
) -> None:
    """Put the instelling's pupils in classes (their registration's first class code, as
    :func:`.people.make_registration` drew it), subgroups and the OLOD."""
    registrations = inst.registrations
    by_code: dict[str, list[dict[str, Any]]] = {}
    for record in registrations:
        by_code.setdefault(record["inschrKlassen"][0]["klasCode"], []).append(record)
    codes = sorted(by_code)
    for index, code in enumerate(codes):
        teachers = 0 if index == len(codes) - 1 else rng.choice((1, 1, 2))
        klas = class_record(rng, inst, (code, f"Klas {code}", MAIN), staff, teachers)
        pupils = by_code[code]
        for number, record in enumerate(pupils, start=1):
            own = record["inschrKlassen"][0]
            record["inschrKlassen"] = [membership(klas, rng, own["pInschrKlas"], number, start)]
        if index % SUBGROUP_EVERY == 0 and len(pupils) >= 4:
            for half in (1, 2):
                sub = class_record(
                    rng, inst, (f"{code}-g{half}", f"Klas {code} groep {half}", SUBGROUP), staff
                )
                for number, record in enumerate(pupils[half - 1 :: 2], start=1):
                    record["inschrKlassen"].append(membership(sub, rng, next(ids), number, start))
    olod = class_record(rng, inst, (OLOD_CODE, "Opleidingsonderdeel Nederlands", OLOD), staff)
    for number, record in enumerate(registrations[OLOD_EVERY - 1 :: OLOD_EVERY], start=1):
        record["inschrKlassen"].append(membership(olod, rng, next(ids), number, start))
    _without_class_today(rng, inst, staff, (start, today), ids)


def _without_class_today(
    rng: random.Random,
    inst: Instelling,
    staff: list[str],
    days: tuple[date, date],
    ids: Iterator[int],
) -> None:
    """The last pupils of the list have no class today: alternately none at all (not placed
    yet), and one that ended yesterday with the next starting in a week (moving class)."""
    start, today = days
    count = max(1, round(len(inst.registrations) * NO_CLASS_SHARE))
    for index, record in enumerate(inst.registrations[-count:]):
        main = record["inschrKlassen"][0]
        yesterday = today - timedelta(days=1)
        if index % 2 == 0 or yesterday < start:
            record["inschrKlassen"] = []
            continue
        main["einddatum"] = yesterday.isoformat()
        code = f"{record['leerjaar']}X"
        klas = class_record(rng, inst, (code, f"Klas {code}", MAIN), staff)
        later = membership(klas, rng, next(ids), index + 1, today + timedelta(days=7))
        record["inschrKlassen"] = [main, later]


def enrol(rng: random.Random, inst: Instelling, record: dict[str, Any], staff: list[str]) -> None:
    """A new pupil's registration (a day's change) joins the registry's class of its code."""
    own = record["inschrKlassen"][0]
    klas = class_record(rng, inst, (own["klasCode"], own["klas"], MAIN), staff)
    seated = sum(
        1 for r in inst.registrations for k in r["inschrKlassen"] if k["klasId"] == klas["klasId"]
    )
    start = date.fromisoformat(own["begindatum"])
    record["inschrKlassen"] = [membership(klas, rng, own["pInschrKlas"], seated + 1, start)]


def move(
    rng: random.Random, inst: Instelling, record: dict[str, Any], code: str, staff: list[str]
) -> None:
    """A pupil's class changes to ``code`` (a day's change): the class is the registry's."""
    mains = [k for k in record["inschrKlassen"] if k["groepType"] == MAIN]
    if not mains:
        return
    klas = class_record(rng, inst, (code, f"Klas {code}", MAIN), staff)
    main = mains[0]
    main.update(
        klasId=klas["klasId"],
        pKlas=klas["pKlas"],
        klasCode=code,
        klas=klas["klas"],
        klassenleraars=[dict(t) for t in klas["klassenleraars"]],
    )
