"""The extraction in batches: one Airflow task extracts several partitions, a few reading Informat
at once, so that Airflow's start-up and the Great Expectations import (seconds) are paid once per
batch, not once per partition, while each partition keeps its own outcome.

Every finished partition leaves a marker (``state/partitions/date=<day>/<entity>/<key>.json``,
its outcome and the run that made it). A retry of the same run redoes only the partitions without
a marker of that run (a failed one is retried alone); a later run of the same day skips the
partitions already clean. The report reads the markers, so a batch that failed still reports
what it did. No Airflow import."""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Iterable, Mapping
from concurrent.futures import ThreadPoolExecutor
from contextlib import AbstractContextManager
from datetime import date
from typing import Any, TypeGuard

from informat_client import InformatClient
from informat_client.masking import get_logger
from informat_pipelines.core.object_store import read_json

from .gc_tuning import collecting_less
from .holds import is_published
from .paths import marker_key
from .shapes import Partition, RunContext

log = get_logger(__name__)

# read from Informat, the long listings first
ENTITY_ORDER = (
    "students",
    "registrations",
    "employees",
    "assignments",
    "interruptions",
    "own_fields",
    "invoices",
)
# built from the clean files of the entities above (.derived), once those are extracted
DERIVED_ORDER = ("class_memberships", "pupil_status", "classes", "class_teachers", "staff_status")
# partitions in flight per one reading Informat: the others of those landed theirs and wait for
# the GX process (a task may hold a hundred partitions; it needs no thread for each)
IN_FLIGHT_PER_READER = 4


def plan(
    instellingsnummers: Iterable[str],
    toegangsgroepen: Iterable[str],
    schooljaar: str,
    day: date,
    derived: bool = False,
) -> list[Partition]:
    """Every partition a day's extraction reads from Informat: students, registrations,
    employees and their assignments, interruptions and own fields of each instelling, invoices
    of each toegangsgroep; the long listings first. With ``derived``, after them also the
    partitions built from those (:data:`DERIVED_ORDER`, per instelling)."""
    numbers = list(instellingsnummers)
    keys = {"invoices": sorted(toegangsgroepen)}
    order = ENTITY_ORDER + (DERIVED_ORDER if derived else ())
    return [
        Partition(entity, key, schooljaar, day)
        for entity in order
        for key in keys.get(entity, numbers)
    ]


def is_derived(part: Partition) -> bool:
    return part.entity in DERIVED_ORDER


def share_of(parts: Iterable[Partition], index: int, count: int) -> list[Partition]:
    """The partitions the ``index``-th of ``count`` extract tasks takes: every ``count``-th of
    the plan, so that each task holds its part of every entity, the long listings first, and the
    tasks end at about the same time (none idles while another still has a queue)."""
    return list(parts)[index::count]


Extract = Callable[[InformatClient, Partition, AbstractContextManager[Any]], dict[str, Any]]


def extractor(run: RunContext) -> Extract:
    """``extract_partition`` with the run fixed: what a batch calls for each partition."""
    from .partition import extract_partition

    def extract(
        client: InformatClient, part: Partition, gate: AbstractContextManager[Any]
    ) -> dict[str, Any]:
        return extract_partition(client, run, part, gate)

    return extract


def _reusable(marker: Mapping[str, Any] | None, run: RunContext) -> TypeGuard[Mapping[str, Any]]:
    if not marker:
        return False
    # this run's own outcome (a retry), or a clean partition of an earlier run of the day (one
    # held and not approved is read again: the old data is still what clean/ holds)
    return marker["run_id"] == run.run_id or (run.reuse_clean and is_published(marker["outcome"]))


def extract_batch(
    parts: Iterable[Partition],
    run: RunContext,
    extract: Extract,
    make_client: Callable[[], AbstractContextManager[Any]],
    threads: int = 2,
) -> tuple[list[dict[str, Any]], list[str]]:
    """Every partition of the batch, at most ``threads`` of them reading Informat at once: the
    outcomes, and a line per partition that failed (an error, not a quarantine). Derived
    partitions go the same way (``make_client``: a context without a client).
    ``run.reuse_clean`` False: partitions already clean today are read again (the run's param
    ``refresh``).

    Partitions run in threads (``IN_FLIGHT_PER_READER`` per reader); they share one Informat
    client (thread-safe: one token per scope set and one pacer for the batch), made here in the
    calling thread (in a task, reading a connection talks to Airflow's supervisor, which is not
    for several threads at once). The bound holds only while a partition reads Informat: a
    partition waiting for its validation (in the GX process) lets the next one start reading."""
    parts = list(parts)
    outcomes: list[dict[str, Any]] = []
    failed: list[str] = []
    reading = threading.BoundedSemaphore(max(1, threads))

    def one(client: InformatClient, part: Partition) -> None:
        marker = read_json(run.s3, run.bucket, marker_key(part))
        if _reusable(marker, run):
            log.info("%s %s: done before in this day's runs", part.entity, part.key)
            outcomes.append(marker["outcome"])
            return
        try:
            outcome = extract(client, part, reading)
        except Exception as exc:  # this partition's failure, not the batch's
            log.error("%s %s failed: %s", part.entity, part.key, exc)
            failed.append(f"{part.entity} {part.key}: {type(exc).__name__}")
            return
        body = json.dumps({"run_id": run.run_id, "outcome": outcome}, default=str)
        run.s3.put_object(Bucket=run.bucket, Key=marker_key(part), Body=body.encode())
        outcomes.append(outcome)

    if not parts:
        return outcomes, failed
    with (
        make_client() as client,
        collecting_less(),
        ThreadPoolExecutor(
            max_workers=min(len(parts), IN_FLIGHT_PER_READER * max(1, threads)),
            thread_name_prefix="extract",
        ) as pool,
    ):
        list(pool.map(lambda part: one(client, part), parts))
    return outcomes, failed


def collect(run: RunContext, parts: Iterable[Partition]) -> list[dict[str, Any]]:
    """The outcome of every planned partition that has one for this run (its marker, or a clean
    one of an earlier run of the day); a partition without one errored."""
    found = []
    for part in parts:
        marker = read_json(run.s3, run.bucket, marker_key(part))
        if _reusable(marker, run):
            found.append(marker["outcome"])
    return found
