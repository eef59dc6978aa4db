"""What the Informat page shows, computed from the summaries the DAGs write (the rollover state,
``status/*.json`` in the data bucket and the drop zone): plain data, no HTML and no Airflow, so
that it is tested on generated history. Counts, ids and codes only.

Those summaries are files that others than the pipeline may be able to write (the drop zone is
the schools'), so a number is text until it is checked: counts go through :func:`count` and are
``None`` (shown as "?") when they are not a whole number, and names and days become ``str``."""

from __future__ import annotations

import math
import re
from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

from informat_client.schooljaar import schooljaar_for, shift

_WHOLE = re.compile(r"[0-9]{1,15}")

GREEN, AMBER, RED = "green", "amber", "red"
# a problem that waits for a date (the next schooljaar) or a check that could not run: amber
_AMBER_KINDS = ("next_not_carried_over", "check_unreachable", "check_credentials_refused")
SOON_DAYS = 30  # an unarchived PDF that leaves Informat within this many days is highlighted


def count(value: object) -> int | None:
    """A count as an int: a whole number, or a string of digits ("12", as a hand-written or
    forged summary may hold); None for anything else (negative, fractional, text, a bool)."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value if value >= 0 else None
    if isinstance(value, float):
        return int(value) if math.isfinite(value) and value.is_integer() and value >= 0 else None
    if isinstance(value, str) and _WHOLE.fullmatch(value.strip()):
        return int(value.strip())
    return None


def _counts(values: object) -> dict[str, int | None]:
    if not isinstance(values, Mapping):
        return {}
    return {str(name): count(value) for name, value in values.items()}


# -- toegangsgroepen -----------------------------------------------------------------------------


@dataclass
class Problem:
    kind: str
    schooljaar: str
    since: str
    last_alert: str
    next_reminder: str


@dataclass
class GroupRow:
    toegangsgroep: str
    instellingsnummer: str
    colour: str  # for the current schooljaar
    next_colour: str | None  # for the next one, from mid-August; None before
    checked_on: str
    problems: list[Problem] = field(default_factory=list)


def shows_next_schooljaar(today: date) -> bool:
    """From 15 August the rights of the next schooljaar are worth watching."""
    return (today.month, today.day) >= (8, 15) and today.month < 9


def toegangsgroepen(
    state: Mapping[str, Any] | None, today: date, remind_after_days: int
) -> list[GroupRow]:
    """Every toegangsgroep of the rollover checks' state, with its open problems."""
    if not state:
        return []
    current = schooljaar_for(today)
    upcoming = shift(current, 1)
    by_group: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for entry in state.get("open", {}).values():
        by_group[entry["toegangsgroep"]].append(entry)
    rows = []
    for name, group in sorted(state.get("groups", {}).items()):
        entries = sorted(by_group.get(name, []), key=lambda e: (e["first_seen"], e["kind"]))
        problems = [
            Problem(
                e["kind"],
                e["schooljaar"],
                e["first_seen"],
                e["last_notified"],
                (
                    date.fromisoformat(e["last_notified"]) + timedelta(days=remind_after_days)
                ).isoformat(),
            )
            for e in entries
        ]
        now = [p for p in problems if p.schooljaar != upcoming]
        later = [p for p in problems if p.schooljaar == upcoming]
        rows.append(
            GroupRow(
                toegangsgroep=name,
                instellingsnummer=group.get("instellingsnummer", ""),
                colour=_colour(now, group.get("state", "ok")),
                next_colour=((RED if later else GREEN) if shows_next_schooljaar(today) else None),
                checked_on=group.get("checked_on", ""),
                problems=problems,
            )
        )
    return rows


def _colour(problems: list[Problem], state: str) -> str:
    if any(p.kind not in _AMBER_KINDS for p in problems):
        return RED
    if problems or state == "check failed":
        return AMBER
    return GREEN


# -- data quality --------------------------------------------------------------------------------


CELL_STATES = ("clean", "held", "quarantined", "skipped", "failed")
# a held partition's decision, as the extraction records it (None: still waiting for one)
DECISIONS = ("approved", "rejected", "timeout")


@dataclass
class Held:
    """A held partition: what it would change (counts), the review's answer so far and the run
    whose task ``review`` asks it (the page links that run's required actions)."""

    added: int | None
    removed: int | None
    changed: int | None
    decision: str | None  # one of DECISIONS, None while waiting, "unknown" for anything else
    run_id: str
    changes: str  # the key of the CSV of changes (pseudonymised ids), as text


@dataclass
class Cell:
    state: str  # one of CELL_STATES, or "unknown" (a summary this page does not know)
    rows: int | None = None
    change: int | None = None  # against the previous run with a count
    failed: list[str] = field(default_factory=list)
    rows_unreadable: bool = False  # the summary held rows that are not a count: shown as "?"
    held: Held | None = None


@dataclass
class QualityGrid:
    days: list[str]  # newest first
    reports: dict[str, str]  # day -> report key
    partitions: list[str]  # entity/instelling, sorted
    cells: dict[tuple[str, str], Cell]  # (partition, day) -> cell
    trend: dict[str, list[tuple[str, int]]]  # entity -> [(day, rows of its clean partitions)]


def data_quality(history: Mapping[str, Any] | None, days: int = 14) -> QualityGrid | None:
    """The last ``days`` daily extractions as a grid of partition x day, and rows per day and
    entity over the whole summary for the trend chart."""
    if not history or not history.get("days"):
        return None
    all_days = sorted(
        ({**d, "day": str(d["day"]), "cells": _cells(d["cells"])} for d in history["days"]),
        key=lambda d: d["day"],
    )
    shown = all_days[-days:]
    partitions = sorted({p for d in shown for p in d["cells"]})
    cells: dict[tuple[str, str], Cell] = {}
    last_rows: dict[str, int] = {}
    for d in all_days:
        for partition, c in d["cells"].items():
            change = None
            if c.rows is not None and partition in last_rows:
                change = c.rows - last_rows[partition]
            c.change = change
            cells[(partition, d["day"])] = c
            if c.rows is not None and c.state == "clean":
                last_rows[partition] = c.rows
    trend: dict[str, list[tuple[str, int]]] = defaultdict(list)
    for d in all_days:
        totals: dict[str, int] = defaultdict(int)
        for partition, c in d["cells"].items():
            if c.state == "clean" and c.rows is not None:
                totals[partition.split("/", 1)[0]] += c.rows
        for entity, total in totals.items():
            trend[entity].append((d["day"], total))
    return QualityGrid(
        days=[d["day"] for d in reversed(shown)],
        reports={d["day"]: str(d.get("report", "")) for d in shown},
        partitions=partitions,
        cells={k: v for k, v in cells.items() if k[1] in {d["day"] for d in shown}},
        trend=dict(trend),
    )


def _cells(cells: Mapping[str, Any]) -> dict[str, Cell]:
    """A day's cells as checked values: a known state (else "unknown"), rows as a count, the
    failed expectations as text."""
    checked = {}
    for partition, c in cells.items():
        state = c.get("state")
        failed = c.get("failed") or []
        rows = count(c["rows"]) if c.get("rows") is not None else None
        checked[str(partition)] = Cell(
            state if state in CELL_STATES else "unknown",
            rows,
            None,
            [str(name) for name in failed] if isinstance(failed, list) else [str(failed)],
            rows_unreadable=rows is None and c.get("rows") is not None,
            held=_held(c.get("held")) if state == "held" else None,
        )
    return checked


def _held(held: object) -> Held | None:
    if not isinstance(held, Mapping):
        return None
    decision = held.get("decision")
    return Held(
        count(held.get("added")),
        count(held.get("removed")),
        count(held.get("changed")),
        None if decision is None else str(decision) if decision in DECISIONS else "unknown",
        str(held.get("run_id") or ""),
        str(held.get("changes") or ""),
    )


# -- inschrijvingen ------------------------------------------------------------------------------


@dataclass
class FileRow:
    day: str
    name: str
    run: str
    accepted: bool
    counts: dict[str, int | None]  # None: not a count in the summary (shown as "?")
    followup: dict[str, int | None]  # open / geaccepteerd / geweigerd / verdwenen so far
    report: str
    problem: str


def inschrijvingen(
    pushes: Iterable[Mapping[str, Any]],
    followup: Mapping[str, Any] | None,
    today: date,
    days: int = 30,
) -> dict[str, list[FileRow]]:
    """Per instellingsnummer (or "?" for a file refused before any row was read), its files of
    the last ``days`` days, newest first, with the follow-up's statuses once known."""
    oldest = (today - timedelta(days=days)).isoformat()
    statuses = (followup or {}).get("files", {})
    schools: dict[str, list[FileRow]] = defaultdict(list)
    for p in pushes:
        day, name, run = str(p["day"]), str(p["name"]), str(p["run"])
        if day < oldest:
            continue
        row = FileRow(
            day, name, run, bool(p["accepted"]), _counts(p["counts"]),
            _counts(statuses.get(f"{run}/{name}", {})), str(p["report"]), str(p.get("problem", "")),
        )  # fmt: skip
        numbers = p.get("instellingsnummers")
        for number in numbers if isinstance(numbers, list) and numbers else ["?"]:
            schools[str(number)].append(row)
    return {
        number: sorted(rows, key=lambda r: (r.day, r.run), reverse=True)
        for number, rows in sorted(schools.items())
    }


# -- the PDF archive -----------------------------------------------------------------------------


@dataclass
class MonthRow:
    toegangsgroep: str
    schooljaar: str
    month: str
    invoices: int | None  # None: not a count in the summary (shown as "?")
    archived: int | None
    pending: int | None
    failed: int | None
    lost: int | None


@dataclass
class Leaving:
    toegangsgroep: str
    schooljaar: str
    invoice: str
    leaves_on: str
    soon: bool


@dataclass
class ArchiveView:
    day: str
    months: list[MonthRow]
    leaving: list[Leaving]  # the earliest first
    soon: int  # how many leave within SOON_DAYS
    coverage: dict[str, list[tuple[str, float]]]  # toegangsgroep -> [(day, archived share)]


def archive(summary: Mapping[str, Any] | None, today: date) -> ArchiveView | None:
    if not summary or not summary.get("groups"):
        return None
    horizon = (today + timedelta(days=SOON_DAYS)).isoformat()
    months, leaving = [], []
    for g in summary["groups"]:
        by_month = g.get("by_month", {})
        for month, c in by_month.get("months", {}).items():
            months.append(
                MonthRow(
                    str(g["toegangsgroep"]),
                    str(g["schooljaar"]),
                    str(month),
                    count(c.get("invoices", 0)),
                    count(c.get("archived", 0)),
                    count(c.get("pending", 0)),
                    count(c.get("failed", 0)),
                    count(c.get("lost", 0)),
                )
            )
        for item in by_month.get("leaving", []):
            leaving.append(
                Leaving(
                    str(g["toegangsgroep"]),
                    str(g["schooljaar"]),
                    str(item["invoice"]),
                    str(item["leaves_on"]),
                    str(item["leaves_on"]) <= horizon,
                )
            )
    leaving.sort(key=lambda item: item.leaves_on)
    coverage: dict[str, list[tuple[str, float]]] = defaultdict(list)
    for point in summary.get("history", []):
        for group, (archived, invoices) in sorted(point["coverage"].items()):
            share = _share(count(archived), count(invoices))
            if share is not None:  # a point that is not two counts is left out of the chart
                coverage[group].append((str(point["day"]), share))
    return ArchiveView(
        day=str(summary.get("day", "")),
        months=sorted(months, key=lambda m: (m.toegangsgroep, m.schooljaar, m.month)),
        leaving=leaving,
        soon=sum(1 for item in leaving if item.soon),
        coverage=dict(coverage),
    )


def _share(archived: int | None, invoices: int | None) -> float | None:
    if archived is None or invoices is None:
        return None
    return archived / invoices if invoices else 1.0


# -- held push files -----------------------------------------------------------------------------


@dataclass
class HeldFile:
    """A school's file that waits for the data team's approval before any row goes out."""

    instelling: str
    name: str
    run: str
    reasons: list[str]
    rows: int | None  # rows a push would handle (the preview's counts), None when unreadable
    day: str = ""  # of its run, as its run id says it ("" when it does not)


def held_pushes(records: Iterable[Mapping[str, Any]]) -> list[HeldFile]:
    found = []
    for r in records:
        reasons = r.get("reasons")
        counts = _counts(r.get("counts"))
        known = [n for n in counts.values() if n is not None]
        rows = sum(known) if counts and len(known) == len(counts) else None
        found.append(
            HeldFile(
                str(r.get("instelling", "")),
                str(r.get("name", "")),
                str(r.get("run", "")),
                [str(x) for x in reasons] if isinstance(reasons, list) else [],
                rows,
                _run_day(str(r.get("run", ""))),
            )
        )
    return sorted(found, key=lambda f: (f.instelling, f.run, f.name))


def _run_day(run: str) -> str:
    """The day in a run id (``scheduled__2026-11-28T10_00_00_00_00``, ``manual__…``)."""
    found = re.search(r"[0-9]{4}-[0-9]{2}-[0-9]{2}", run)
    return found.group(0) if found else ""


# -- the roster export ---------------------------------------------------------------------------

ROSTER_STATES = ("published", "held", "failed", "not_opted_in")


@dataclass
class RosterSchool:
    instelling: str
    state: str  # one of ROSTER_STATES, or "unknown"
    users: int | None
    classes: int | None
    rows: dict[str, dict[str, int | None]]  # format -> file -> data rows ({}: not in the summary)
    left_out: dict[str, int | None]  # "role: reason" -> people
    reason: str  # why held (or the drop check's note)
    problem: str  # why not built
    held: str  # where a held export waits (its dropped.csv beside it)


@dataclass
class RegisterEntry:
    """An instelling of the processing register: who approved its export, and when."""

    instelling: str
    approved_by: str
    approved_on: str
    in_connection: bool  # False: opted in, but not an instelling of the Informat connection


@dataclass
class RosterView:
    day: str
    schools: list[RosterSchool]
    register: list[RegisterEntry]


def roster(
    status: Mapping[str, Any] | None, summary: Mapping[str, Any] | None
) -> RosterView | None:
    """The last roster export per school (``status/roster.json``), with rows per file from that
    day's summary when it can be read, and the processing register."""
    if not status or not isinstance(status.get("schools"), list):
        return None
    by_school: dict[str, Mapping[str, Any]] = {}
    missing: set[str] = set()
    if isinstance(summary, Mapping):
        by_school = {
            str(s.get("instelling")): s for s in summary.get("schools", []) if isinstance(s, dict)
        }
        missing = {str(nr) for nr in summary.get("not_in_connection", []) or []}
    schools = []
    for s in status["schools"]:
        if not isinstance(s, Mapping):
            continue
        nr = str(s.get("instelling", ""))
        state = s.get("state")
        files = by_school.get(nr, {}).get("rows")
        schools.append(
            RosterSchool(
                nr,
                str(state) if state in ROSTER_STATES else "unknown",
                count(s["users"]) if "users" in s else None,
                count(s["classes"]) if "classes" in s else None,
                {str(fmt): _counts(per) for fmt, per in files.items()}
                if isinstance(files, Mapping)
                else {},
                _counts(s.get("left_out")),
                str(s.get("reason") or ""),
                str(s.get("problem") or ""),
                str(s.get("held") or ""),
            )
        )
    register = status.get("register")
    entries = [
        RegisterEntry(
            str(nr),
            str(a.get("approved_by", "")) if isinstance(a, Mapping) else "?",
            str(a.get("approved_on", "")) if isinstance(a, Mapping) else "?",
            str(nr) not in missing,
        )
        for nr, a in (register.items() if isinstance(register, Mapping) else [])
    ]
    return RosterView(
        str(status.get("day", "")),
        sorted(schools, key=lambda s: s.instelling),
        sorted(entries, key=lambda e: e.instelling),
    )
