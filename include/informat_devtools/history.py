"""Generated history for the Informat page's tests and benchmark: a school group's daily runs
written through the DAGs' own summary writers (``informat_pipelines.core.status``, the roster
export's ``report``, the push's ``held``), so that what the page reads has the shape and the size
the DAGs give it: on the last day one partition held for review, one school's file held before its
push, and one school's roster export held. Synthetic ids and counts only."""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from informat_pipelines.core import status
from informat_pipelines.rollover.checks import empty_state
from informat_pipelines.roster_export import report as roster_report
from informat_pipelines.voorinschrijvingen import held
from informat_pipelines.voorinschrijvingen.dropzone import Claimed, safe_run
from informat_pipelines.voorinschrijvingen.push import RowResult

ENTITIES = ("students", "registrations", "employees")
# the entities the roster export reads, extracted since NEW_ENTITIES_DAYS days before today
NEW_ENTITIES = ("classes", "class_memberships", "class_teachers", "staff_status", "pupil_status")
NEW_ENTITIES_DAYS = 10


def instellingen(count: int) -> list[str]:
    return [f"99{i:04d}" for i in range(11, 11 + count)]


def toegangsgroepen(count: int) -> list[str]:
    return [f"SG-{i:02d}" for i in range(1, count + 1)]


def run_id(day: date, hour: int = 2) -> str:
    return f"scheduled__{day.isoformat()}T{hour:02d}:00:00+00:00"


def extraction_summary(
    day: date,
    numbers: list[str],
    rng: random.Random,
    entities: tuple[str, ...] = ENTITIES,
    held_partition: str = "",
) -> dict[str, Any]:
    """One day's summary as ``extract_report.summarise`` writes it; ``held_partition``
    (``entity/instelling``) is held for review, waiting for an answer."""
    outcomes = []
    for entity in entities:
        for number in numbers:
            quarantined = rng.random() < 0.02
            outcomes.append(
                {
                    "entity": entity,
                    "key": number,
                    "rows": 200 + int(number[-2:]) * 10 + rng.randint(-3, 3),
                    "success": not quarantined,
                    "failed": ["expect_column_values_to_not_be_null(pInschrijving)"]
                    if quarantined
                    else [],
                }
            )
            if f"{entity}/{number}" == held_partition:
                outcomes[-1].update(success=True, failed=[], held=_held(day, entity, number))
    for group in toegangsgroepen(max(1, len(numbers) // 4)):
        outcomes.append(
            {"entity": "invoices", "key": group, "rows": 900, "success": True, "failed": []}
        )
    return {"date": day.isoformat(), "outcomes": outcomes, "errored": []}


def _held(day: date, entity: str, number: str) -> dict[str, Any]:
    """A partition that would remove 40 % of its records, as ``extract.holds`` records it."""
    return {
        "added": 2,
        "removed": 96,
        "changed": 5,
        "baseline_rows": 240,
        "changes": f"held/{entity}/instelling={number}/date={day.isoformat()}/changes.csv",
        "decision": None,
        "run_id": run_id(day),
    }


@dataclass(frozen=True)
class HistoryShape:
    """How much history to make: instellingen, days back from today, pushed files a day, and
    the random seed (the same seed makes the same history)."""

    instelling_count: int = 20
    days: int = 365
    files_per_day: int = 2
    seed: int = 7


def write_year(
    s3: Any, bucket: str, zone: Any, today: date, shape: HistoryShape = HistoryShape()
) -> dict[str, Any]:
    """A year of daily extractions, archive runs, pushes and follow-ups, ending ``today``; and
    the rollover state of that day (a Variable, so returned rather than written)."""
    instelling_count, days = shape.instelling_count, shape.days
    files_per_day, seed = shape.files_per_day, shape.seed
    rng = random.Random(seed)
    numbers = instellingen(instelling_count)
    groups = toegangsgroepen(max(1, instelling_count // 4))
    for offset in range(days - 1, -1, -1):
        day = today - timedelta(days=offset)
        entities = ENTITIES + (NEW_ENTITIES if offset < NEW_ENTITIES_DAYS else ())
        hold = f"students/{numbers[1 % len(numbers)]}" if offset == 0 else ""
        status.record_extract(s3, bucket, extraction_summary(day, numbers, rng, entities, hold))
        status.record_archive(s3, bucket, [_archive_group(g, day, rng) for g in groups], day)
        for n in range(files_per_day if offset < status.KEEP_PUSH_DAYS + 5 else 0):
            status.record_push(zone, _push(day, n, numbers, rng), day)
    entries = [
        {
            "status": "pushed",
            "at": f"{(today - timedelta(days=i % 30)).isoformat()}T10:00:00",
            "run": f"scheduled__{(today - timedelta(days=i % 30)).isoformat()}T10:00:00-{i % 2}",
            "file": f"inschrijvingen-{i % 2}.csv",
            "informat_status": rng.choice(("open", "geaccepteerd", "geweigerd")),
        }
        for i in range(600)
    ]
    status.record_followup(zone, entries, today)
    hold_push(zone, numbers[2 % len(numbers)], today)
    roster_report.record(s3, bucket, roster_summary(numbers, today))
    return rollover_state(groups, numbers, today)


def hold_push(zone: Any, number: str, day: date) -> None:
    """A school's first file, held before its push (through ``held.hold``, as the push does)."""
    run = safe_run(run_id(day, 10))  # as the drop zone keeps a run
    name = "inschrijvingen-groot.csv"
    location = f"processing/{run}/{number}/{name}"
    zone.write_key(location, b"synthetic")
    preview = [RowResult(i + 2, "pushed", "") for i in range(60)]
    why = [f"eerste bestand van instelling {number}: nog nooit doorgestuurd"]
    held.hold(zone, Claimed(name, run, location, instelling=number), why, preview)


def roster_summary(numbers: list[str], day: date) -> dict[str, Any]:
    """A roster export's summary as ``roster_export.export.run`` makes it: the first four
    instellingen opted in (one held, one failed), the others not."""
    opted = numbers[:4]
    schools: list[dict[str, Any]] = []
    for i, number in enumerate(numbers):
        if number not in opted:
            schools.append({"instelling": number, "state": "not_opted_in"})
        elif i == 3:
            schools.append({"instelling": number, "state": "failed",
                            "problem": "no clean table class_teachers for this day"})  # fmt: skip
        else:
            pupils, staff = 200 + 10 * i, 30 + i
            files = {"orgs.csv": 1, "users.csv": pupils + staff, "roles.csv": pupils + staff,
                     "classes.csv": 12, "enrollments.csv": pupils + 12,
                     "academicSessions.csv": 1}  # fmt: skip
            school = {
                "instelling": number, "state": "published", "users": pupils + staff,
                "classes": 12, "rows": {"sds": files, "oneroster": {"users.csv": pupils + staff}},
                "left_out": {"student: no class today": 3, "teacher: no school e-mail": 1},
                "left_out_ids": {"student: no class today": ["p1", "p2", "p3"]},
                "reason": "",
            }  # fmt: skip
            if i == 1:
                school.update(
                    state="held",
                    reason="would drop 120 of 240 users (50 %)",
                    held=f"exports/held/{day.isoformat()}/{number}/",
                )
            schools.append(school)
    register = {nr: {"approved_by": "DPO scholengroep", "approved_on": "2026-08-20"}
                for nr in opted}  # fmt: skip
    return {
        "version": 1,
        "date": day.isoformat(),
        "schooljaar": "2026-27",
        "register": register,
        "schools": schools,
        "not_in_connection": [],
        "held": [s["instelling"] for s in schools if s["state"] == "held"],
        "failed": [s["instelling"] for s in schools if s["state"] == "failed"],
    }


def _archive_group(group: str, day: date, rng: random.Random) -> dict[str, Any]:
    made = {
        f"{group}-{day.isoformat()}-{i}": (day - timedelta(days=i)).isoformat() + "T06:00:00"
        for i in range(0, 360, 3)
    }
    archived = [k for i, k in enumerate(made) if i % 10]  # every tenth still waits
    by_month = status.archive_months(made, archived, lost=[])
    return {
        "toegangsgroep": group,
        "schooljaar": "2026-27",
        "invoices": len(made),
        "archived": len(archived),
        "missing": len(made) - len(archived),
        "at_risk": [],
        "lost": [],
        "by_month": by_month,
    }


def _push(day: date, n: int, numbers: list[str], rng: random.Random) -> dict[str, Any]:
    run = f"scheduled__{day.isoformat()}T10:00:00-{n}"
    number = numbers[(day.toordinal() + n) % len(numbers)]
    return {
        "name": f"inschrijvingen-{n}.csv",
        "run": run,
        "accepted": True,
        "counts": {"pushed": rng.randint(5, 40), "already_pushed": 2, "rejected": 1, "failed": 0},
        "instellingsnummers": [number],
        "instelling": number,
        "report": f"outbox/{number}/inschrijvingen-{n}.{run}.rapport.csv",
    }


def rollover_state(groups: list[str], numbers: list[str], today: date) -> dict[str, Any]:
    """Every toegangsgroep fine but the second, not carried over since a week."""
    state = empty_state()
    since = (today - timedelta(days=7)).isoformat()
    for i, group in enumerate(groups):
        state["groups"][group] = {
            "instellingsnummer": numbers[i % len(numbers)],
            "schooljaar": "2026-27",
            "state": "problem" if i == 1 else "ok",
            "findings": ["not_carried_over"] if i == 1 else [],
            "checked_on": today.isoformat(),
        }
    if len(groups) > 1:
        state["open"][f"{groups[1]}|not_carried_over|2026-27"] = {
            "toegangsgroep": groups[1],
            "kind": "not_carried_over",
            "schooljaar": "2026-27",
            "detail": "",
            "first_seen": since,
            "last_seen": today.isoformat(),
            "last_notified": since,
            "reminders": 0,
        }
    state["last_run"] = datetime.combine(today, datetime.min.time()).date().isoformat()
    return state
