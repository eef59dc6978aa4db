"""What the page leads with, as school-sync dashboards do: one row per instelling (and one per
toegangsgroep, for what Informat keeps per toegangsgroep), one column per job, each cell the last
run's state with a link to its detail further down; and before it, what waits for a person (held
extraction partitions, push files and roster exports), with the link to approve it in Airflow's
own UI. Computed from what :mod:`views` made of the summaries, so it shows only what the viewer
may read (a source the viewer may not read was never read). Plain data: no HTML, no Airflow."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from urllib.parse import quote

from informat_pipelines.extract.schemas import ENTITIES

from . import views

# the last run's state of a job, in the order of how much it asks of a person (least first)
CLEAN, HELD, QUARANTINED, SKIPPED, FAILED, NOT_RUN = (
    "clean", "held", "quarantined", "skipped", "failed", "not_run",
)  # fmt: skip
STATES = (CLEAN, HELD, QUARANTINED, SKIPPED, FAILED, NOT_RUN)

EXTRACT_DAG = "informat_daily_extract"
PUSH_DAG = "informat_inschrijvingen_push"
ROSTER_DAG = "informat_roster_export"
# the extraction's entities in the order an admin reads them; an entity the summary has and this
# list does not (a new one) follows them, by name
ENTITY_ORDER = (
    "students", "registrations", "employees", "classes", "class_memberships", "class_teachers",
    "pupil_status", "staff_status", "assignments", "interruptions", "own_fields", "invoices",
)  # fmt: skip
_INSTELLINGSNUMMER = re.compile(r"[0-9]{6}")
_UNSAFE = re.compile(r"[^A-Za-z0-9_]")


def anchor(*parts: str) -> str:
    """An element id made of ``parts`` that needs no escaping (letters, digits, "_", "-")."""
    return "-".join(_UNSAFE.sub("_", part) for part in parts)


def required_actions(dag_id: str, run_id: str = "") -> str:
    """Airflow's own page of the required actions of a run (or of the DAG, without a run), as a
    link relative to the Informat page (``<base>/informat/``): ``<base>/dags/<dag>/runs/<run>/
    required_actions``, a route of Airflow 3.3's UI."""
    dag = quote(dag_id, safe="")
    if run_id:
        return f"../dags/{dag}/runs/{quote(run_id, safe='')}/required_actions"
    return f"../dags/{dag}/required_actions"


@dataclass
class Job:
    """A column: an entity of the extraction (``name`` its entity), the push, the archive or the
    roster export."""

    key: str  # "extract:<entity>", "push", "archive" or "roster"
    name: str  # the entity, or the key
    scope: str  # "instelling" or "toegangsgroep"


@dataclass
class JobCell:
    state: str  # one of STATES, or "unknown"
    day: str = ""  # of the last run ("" when none)
    target: str = ""  # the id of its detail on the page ("" when none)
    rows: int | None = None  # the extraction's rows, when the cell is a partition
    stale: bool = False  # a partition missing from the newest extraction: its last run is older


@dataclass
class Grid:
    jobs: list[Job]
    instellingen: dict[str, dict[str, JobCell]]  # instellingsnummer -> job key -> cell, sorted
    toegangsgroepen: dict[str, dict[str, JobCell]]  # toegangsgroep -> job key -> cell, sorted

    def cell(self, row: dict[str, JobCell], job: Job) -> JobCell:
        return row.get(job.key, JobCell(NOT_RUN))


@dataclass
class HeldItem:
    """Something valid that was not published or pushed because a person must say yes first."""

    kind: str  # "extract", "push" or "roster"
    what: str  # the entity, the file's name, or "roster"
    where: str  # the instellingsnummer or toegangsgroep
    day: str
    target: str  # its own id on the page
    approve: str  # the link to its required action ("" once answered)
    decision: str | None = None  # an extraction partition's answer (None: still waiting)
    counts: dict[str, int | None] = field(default_factory=dict)  # added / removed / changed
    reasons: list[str] = field(default_factory=list)
    detail: str = ""  # the key of the list of changes or of who would be dropped (text)


def scope_of(entity: str, key: str) -> str:
    """Whether an entity's partitions are per instelling or per toegangsgroep: the extraction's
    own schema where it knows the entity, else by the key (an instellingsnummer is six digits)."""
    known = ENTITIES.get(entity)
    if known is not None:
        return known.scope
    return "instelling" if _INSTELLINGSNUMMER.fullmatch(key) else "toegangsgroep"


def _last_cells(grid: views.QualityGrid) -> dict[str, tuple[str, views.Cell]]:
    """Each partition's last cell (newest day first in ``grid.days``) with its day."""
    last: dict[str, tuple[str, views.Cell]] = {}
    for day in grid.days:
        for partition in grid.partitions:
            cell = grid.cells.get((partition, day))
            if cell is not None and partition not in last:
                last[partition] = (day, cell)
    return last


class _Builder:
    """The grid's rows, columns and held items, filled in source by source."""

    def __init__(self) -> None:
        self.rows: dict[str, dict[str, dict[str, JobCell]]] = {
            "instelling": {},
            "toegangsgroep": {},
        }
        self.jobs: list[Job] = []
        self.held: list[HeldItem] = []

    def put(self, scope: str, where: str, key: str, cell: JobCell) -> None:
        self.rows[scope].setdefault(where, {})[key] = cell

    def extraction(self, quality: views.QualityGrid) -> None:
        entities: dict[str, str] = {}
        for partition, (day, cell) in _last_cells(quality).items():
            entity, _, where = partition.partition("/")
            scope = entities.setdefault(entity, scope_of(entity, where))
            target = anchor("p", entity, where)
            if cell.state == HELD:
                item = _held_partition(entity, where, day, cell.held)
                self.held.append(item)
                target = item.target
            stale = day != quality.days[0]
            job_cell = JobCell(cell.state, day, target, cell.rows, stale)
            self.put(scope, where, f"extract:{entity}", job_cell)
        order = {e: i for i, e in enumerate(ENTITY_ORDER)}
        for entity in sorted(entities, key=lambda e: (order.get(e, len(order)), e)):
            self.jobs.append(Job(f"extract:{entity}", entity, entities[entity]))

    def push(
        self, schools: Mapping[str, list[views.FileRow]], held_files: Iterable[views.HeldFile]
    ) -> None:
        self.jobs.append(Job("push", "push", "instelling"))
        for number, files in schools.items():
            if number != "?" and files:
                f = files[0]  # newest first
                state = CLEAN if f.accepted else QUARANTINED  # a refused file: set apart
                if f.accepted and f.counts.get("failed"):
                    state = FAILED
                self.put(
                    "instelling", number, "push", JobCell(state, f.day, anchor("school", number))
                )
        # the DAG's required actions, not the run's: the drop zone keeps a held file under its
        # run id made safe for a path (":" and "+" replaced), which is not the run's own id
        for file in held_files:
            target = anchor("held", "push", file.instelling, file.run, file.name)
            item = HeldItem(
                "push", file.name, file.instelling, file.day, target, required_actions(PUSH_DAG),
                reasons=file.reasons, counts={"rows": file.rows},
            )  # fmt: skip
            self.held.append(item)
            self.put("instelling", file.instelling, "push", JobCell(HELD, file.day, item.target))

    def archive(self, archive: views.ArchiveView) -> None:
        self.jobs.append(Job("archive", "archive", "toegangsgroep"))
        failed: dict[str, int] = {}
        for m in archive.months:
            failed[m.toegangsgroep] = failed.get(m.toegangsgroep, 0) + (m.failed or 0)
        for group, n in failed.items():
            cell = JobCell(FAILED if n else CLEAN, archive.day, anchor("archive", group))
            self.put("toegangsgroep", group, "archive", cell)

    def roster(self, roster: views.RosterView) -> None:
        self.jobs.append(Job("roster", "roster", "instelling"))
        states = {"published": CLEAN, "held": HELD, "failed": FAILED, "not_opted_in": SKIPPED}
        for s in roster.schools:
            target = anchor("roster", s.instelling)
            if s.state == "held":
                item = HeldItem(
                    "roster", "roster", s.instelling, roster.day, anchor("held", "roster",
                    s.instelling), required_actions(ROSTER_DAG), reasons=[s.reason] if s.reason
                    else [], detail=f"{s.held}dropped.csv" if s.held else "",
                )  # fmt: skip
                self.held.append(item)
                target = item.target
            cell = JobCell(states.get(s.state, "unknown"), roster.day, target)
            self.put("instelling", s.instelling, "roster", cell)


def build(
    quality: views.QualityGrid | None,
    schools: Mapping[str, list[views.FileRow]] | None,
    held_files: Iterable[views.HeldFile] | None,
    archive: views.ArchiveView | None,
    roster: views.RosterView | None,
) -> tuple[Grid, list[HeldItem]]:
    """The grid and the held items of what could be read and may be seen (None: not read)."""
    b = _Builder()
    if quality is not None:
        b.extraction(quality)
    if schools is not None:
        b.push(schools, held_files or [])
    if archive is not None:
        b.archive(archive)
    if roster is not None:
        b.roster(roster)
    # waiting items first (the extraction's before the others), answered ones last
    b.held.sort(
        key=lambda h: (h.decision is not None, h.kind != "extract", h.kind, h.where, h.what)
    )
    jobs = sorted(b.jobs, key=lambda j: j.scope == "toegangsgroep")  # stable sort
    rows = b.rows
    return Grid(jobs, dict(sorted(rows["instelling"].items())),
                dict(sorted(rows["toegangsgroep"].items()))), b.held  # fmt: skip


def _held_partition(entity: str, where: str, day: str, held: views.Held | None) -> HeldItem:
    decision = held.decision if held else "unknown"
    run_id = held.run_id if held else ""
    waiting = held is not None and held.decision is None
    counts = {"added": held.added, "removed": held.removed, "changed": held.changed} if held else {}
    return HeldItem(
        "extract", entity, where, day, anchor("held", "extract", entity, where),
        required_actions(EXTRACT_DAG, run_id) if waiting else "",
        decision, counts, detail=held.changes if held else "",
    )  # fmt: skip
