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


CELL_STATES = ("clean", "quarantined", "skipped", "failed")


@dataclass
class Cell:
    state: str  # one of CELL_STATES, or "unknown" (a summary this page does not know)
    rows: int | None = None
    change: int | None = None  # against the previous run with a count
    failed: list[str] = field(default_factory=list)
    rows_unreadable: bool = False  # the summary held rows that are not a count: shown as "?"


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
        )
    return checked


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
