"""The derived partitions of the daily extraction (an entity with ``derived_from``): built from
the clean files that the same run (or an earlier run of the day) published for the instelling,
then landed, validated with their suite and published exactly as a partition read from Informat,
each with its own outcome and marker. No Airflow import.

A derived partition waits for nothing: it runs after the extraction. A source skipped for lack
of access skips it too; a source not clean today (quarantined, or failed) fails it, with the
source named, and nothing of it is published."""

from __future__ import annotations

import contextlib
import datetime as dt
import tempfile
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager
from dataclasses import asdict
from pathlib import Path
from typing import Any

from informat_client.masking import get_logger
from informat_pipelines.core.object_store import read_json

from . import class_tables, status_tables
from .landing import land
from .partition import publish
from .quality import validate
from .schemas import ENTITIES
from .shapes import Partition, RunContext

log = get_logger(__name__)

Build = Callable[[dict[str, Path], dt.date], Iterator[dict[str, Any]]]
BUILDERS: dict[str, Build] = {
    "classes": class_tables.classes,
    "class_memberships": class_tables.class_memberships,
    "class_teachers": class_tables.class_teachers,
    "staff_status": status_tables.staff_status,
    "pupil_status": status_tables.pupil_status,
}


class SourceNotClean(RuntimeError):
    """A partition a derived one is built from has no clean file today."""


def sources(run: RunContext, part: Partition) -> dict[str, str] | str:
    """The clean object of each source of ``part`` for its day, or why it is skipped (a source
    skipped for lack of access)."""
    from .batch import marker_key

    found = {}
    for name in ENTITIES[part.entity].derived_from:
        source = Partition(name, part.key, part.schooljaar, part.day)
        marker = read_json(run.s3, run.bucket, marker_key(source))
        outcome = marker["outcome"] if marker else None
        if outcome and outcome.get("skipped"):
            return f"{name} was skipped: {outcome['skipped']}"
        clean = outcome and outcome["success"] and outcome.get("keys", {}).get("clean")
        if not clean:
            raise SourceNotClean(f"{name} {part.key} is not clean for {part.day}")
        found[name] = clean
    return found


def derive_partition(
    run: RunContext, part: Partition, gate: AbstractContextManager[Any] | None = None
) -> dict[str, Any]:
    """One derived partition end to end, against the last good count of that partition."""
    from .report import read_last_good

    entity = ENTITIES[part.entity]
    found = sources(run, part)
    if isinstance(found, str):
        log.warning("SKIPPED %s %s: %s", part.entity, part.key, found)
        return {**part.as_dict(), "rows": 0, "success": True, "skipped": found, "failed": []}
    last_good = read_last_good(run.s3, run.bucket).get(f"{part.entity}/{part.key}")
    with tempfile.TemporaryDirectory(prefix="informat-derive-") as workdir:
        work = Path(workdir)
        with gate or contextlib.nullcontext():
            paths = {name: work / f"{name}.parquet" for name in found}
            for name, key in found.items():
                run.s3.download_file(run.bucket, key, str(paths[name]))
            (work / "landed").mkdir()
            records = BUILDERS[part.entity](paths, part.day)
            landed = land(records, part, work / "landed", run)
        validation = (run.validator or validate)(landed, entity, last_good, run.settings, part.day)
        keys = publish(run, landed, validation, part)
    log.info(
        "%s %s %s (derived): %d row(s), %s%s",
        part.entity,
        part.key,
        part.schooljaar,
        validation.rows,
        "valid" if validation.success else "QUARANTINED",
        "" if validation.success else ": " + "; ".join(validation.failed),
    )
    return {
        **asdict(validation),
        "mode": "derived",
        "fetched": 0,
        "schooljaar": part.schooljaar,
        "date": part.day.isoformat(),
        "keys": keys,
    }


def deriver(run: RunContext) -> Callable[[Any, Partition, AbstractContextManager[Any]], dict]:
    """``derive_partition`` with the run fixed, in the shape a batch calls (no Informat client:
    nothing is read from Informat)."""

    def derive(client: Any, part: Partition, gate: AbstractContextManager[Any]) -> dict:
        return derive_partition(run, part, gate)

    return derive
