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
from typing import Any

from informat_client import InformatClient
from informat_client.masking import get_logger
from informat_pipelines.core.object_store import read_json

from .gc_tuning import collecting_less

log = get_logger(__name__)

MARKERS = "state/partitions"
ENTITY_ORDER = ("students", "registrations", "employees", "invoices")
# partitions in flight per one reading Informat: the others of those landed theirs and wait for
# the GX process (a task may hold a hundred partitions; it needs no thread for each)
IN_FLIGHT_PER_READER = 4


def plan(
    instellingsnummers: Iterable[str], toegangsgroepen: Iterable[str], schooljaar: str, day: date
) -> list[dict[str, str]]:
    """Every partition of a day's extraction: students, registrations and employees of each
    instelling, invoices of each toegangsgroep; the long listings first."""
    numbers = list(instellingsnummers)
    keys = {"invoices": sorted(toegangsgroepen)}
    return [
        {"entity": entity, "key": key, "schooljaar": schooljaar, "day": day.isoformat()}
        for entity in ENTITY_ORDER
        for key in keys.get(entity, numbers)
    ]


def share_of(units: Iterable[Mapping[str, str]], index: int, count: int) -> list[dict[str, str]]:
    """The units the ``index``-th of ``count`` extract tasks takes: every ``count``-th of the
    plan, so that each task holds its part of every entity, the long listings first, and the
    tasks end at about the same time (none idles while another still has a queue)."""
    return [dict(unit) for unit in list(units)[index::count]]


def marker_key(unit: Mapping[str, str]) -> str:
    return f"{MARKERS}/date={unit['day']}/{unit['entity']}/{unit['key']}.json"


Extract = Callable[[InformatClient, Mapping[str, str], AbstractContextManager[Any]], dict[str, Any]]


def extractor(
    s3: Any,
    bucket: str,
    settings: Any,
    pseudonymisation_key: bytes | None,
    ref_date: str | None = None,
    raw: tuple[Any, str] | None = None,
    validator: Callable[..., Any] | None = None,
) -> Extract:
    """``extract_partition`` with everything but the client, the unit and the gate fixed;
    ``validator`` by default GX in this process."""
    from .partition import extract_partition
    from .quality import validate

    def extract(
        client: InformatClient, unit: Mapping[str, str], gate: AbstractContextManager[Any]
    ) -> dict[str, Any]:
        return extract_partition(
            client, s3, bucket, unit, settings, pseudonymisation_key, ref_date, raw,
            validator or validate, gate,
        )  # fmt: skip

    return extract


def _reusable(marker: Mapping[str, Any] | None, run_id: str, reuse_clean: bool) -> bool:
    if not marker:
        return False
    # this run's own outcome (a retry), or a clean partition of an earlier run of the day
    outcome = marker["outcome"]
    clean = outcome["success"] and not outcome.get("skipped")
    return marker["run_id"] == run_id or (reuse_clean and clean)


def extract_batch(
    units: Iterable[Mapping[str, str]],
    run_id: str,
    s3: Any,
    bucket: str,
    extract: Extract,
    make_client: Callable[[], InformatClient],
    threads: int = 2,
    reuse_clean: bool = True,
) -> tuple[list[dict[str, Any]], list[str]]:
    """Every unit of the batch, at most ``threads`` of them reading Informat at once: the
    outcomes, and a line per partition that failed (an error, not a quarantine). ``reuse_clean``
    False: partitions already clean today are read again (the run's param ``refresh``).

    Units run in threads (``IN_FLIGHT_PER_READER`` per reader); they share one Informat client
    (thread-safe: one token per scope set and one pacer for the batch), made here in the calling
    thread (in a task, reading a connection talks to Airflow's supervisor, which is not for
    several threads at once). The bound holds only while a partition reads Informat: a partition
    waiting for its validation (in the GX process) lets the next one start reading."""
    units = list(units)
    outcomes: list[dict[str, Any]] = []
    failed: list[str] = []
    reading = threading.BoundedSemaphore(max(1, threads))

    def run(client: InformatClient, unit: Mapping[str, str]) -> None:
        marker = read_json(s3, bucket, marker_key(unit))
        if _reusable(marker, run_id, reuse_clean):
            log.info("%s %s: done before in this day's runs", unit["entity"], unit["key"])
            outcomes.append(marker["outcome"])
            return
        try:
            outcome = extract(client, unit, reading)
        except Exception as exc:  # this partition's failure, not the batch's
            log.error("%s %s failed: %s", unit["entity"], unit["key"], exc)
            failed.append(f"{unit['entity']} {unit['key']}: {type(exc).__name__}")
            return
        body = json.dumps({"run_id": run_id, "outcome": outcome}, default=str)
        s3.put_object(Bucket=bucket, Key=marker_key(unit), Body=body.encode())
        outcomes.append(outcome)

    if not units:
        return outcomes, failed
    with (
        make_client() as client,
        collecting_less(),
        ThreadPoolExecutor(
            max_workers=min(len(units), IN_FLIGHT_PER_READER * max(1, threads)),
            thread_name_prefix="extract",
        ) as pool,
    ):
        list(pool.map(lambda unit: run(client, unit), units))
    return outcomes, failed


def collect(
    s3: Any,
    bucket: str,
    units: Iterable[Mapping[str, str]],
    run_id: str,
    reuse_clean: bool = True,
) -> list[dict[str, Any]]:
    """The outcome of every planned unit that has one for this run (its marker, or a clean one
    of an earlier run of the day); a unit without one errored."""
    found = []
    for unit in units:
        marker = read_json(s3, bucket, marker_key(unit))
        if _reusable(marker, run_id, reuse_clean):
            found.append(marker["outcome"])
    return found
