"""Delta reads of the daily extraction: with ``changedSince``, a day fetches only what changed
since the last good run and merges it into the current state of the partition (an upsert by the
entity's id); a full snapshot runs on a configurable weekday and on the first day of a
schooljaar, and on that day the merged state is compared with the snapshot: a record the deltas
missed, or one that differs, is a data-quality failure. No Airflow import.

The state lives in the data bucket: ``state/current/<partition>/current.parquet`` (the merged
state as last published) and ``state/watermarks/<partition>.json`` (when the run that made it
started: the next delta asks what changed since then). A record removed at Informat cannot show
in a delta: the snapshot removes it from the state, and the report counts it.
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from informat_pipelines.core.object_store import is_missing, read_json

from .schemas import Entity

if TYPE_CHECKING:
    from .shapes import Partition

# the entities Informat can read by change time (public code), with the form of changedSince
DELTA_ENTITIES = {"students": "moment", "registrations": "date"}


@dataclass(frozen=True)
class Mode:
    kind: str  # "full" (no state yet, or no delta read), "delta", or "snapshot"
    since: str | None = None  # the changedSince to ask (delta and snapshot)

    @property
    def reads_delta(self) -> bool:
        return self.kind in ("delta", "snapshot")


def state_prefix(entity: str, schooljaar: str, key: str) -> str:
    return f"state/current/{entity}/schooljaar={schooljaar}/partition={key}"


def watermark_key(entity: str, schooljaar: str, key: str) -> str:
    return f"state/watermarks/{entity}/schooljaar={schooljaar}/partition={key}.json"


def changed_since(entity: str, started: dt.datetime) -> str:
    """``changedSince`` in the form Informat takes for ``entity``: a moment with its offset, or
    the day (a date reads the whole day again: an overlap, never a gap)."""
    if DELTA_ENTITIES[entity] == "date":
        return started.date().isoformat()
    return started.isoformat(timespec="seconds")


def choose(
    entity: Entity,
    day: dt.date,
    watermark: dt.datetime | None,
    snapshot_weekday: int | None,
) -> Mode:
    """Full without a watermark (or for an entity without delta reads, or with deltas off), a
    snapshot on ``snapshot_weekday`` (0 Monday) and on 1 September, a delta otherwise."""
    if entity.name not in DELTA_ENTITIES or snapshot_weekday is None or watermark is None:
        return Mode("full")
    since = changed_since(entity.name, watermark)
    if day.weekday() == snapshot_weekday or (day.month, day.day) == (9, 1):
        return Mode("snapshot", since)
    return Mode("delta", since)


def read_watermark(s3: Any, bucket: str, key: str) -> dt.datetime | None:
    mark = read_json(s3, bucket, key)
    return dt.datetime.fromisoformat(mark["started"]) if mark is not None else None


def download_state(s3: Any, bucket: str, prefix: str, target: Path) -> Path | None:
    from botocore.exceptions import ClientError

    try:
        s3.download_file(bucket, f"{prefix}/current.parquet", str(target))
    except ClientError as exc:
        if is_missing(exc):
            return None
        raise
    return target


def save_state(s3: Any, bucket: str, part: Partition, parquet: str, started: dt.datetime) -> None:
    """The published state and its watermark, state first: a watermark never runs ahead of the
    state it belongs to."""
    where = (part.entity, part.schooljaar, part.key)
    s3.upload_file(parquet, bucket, f"{state_prefix(*where)}/current.parquet")
    body = json.dumps({"started": started.isoformat()}).encode()
    s3.put_object(Bucket=bucket, Key=watermark_key(*where), Body=body)


def has_columns(state: Path, names: list[str]) -> bool:
    """Whether the state holds every one of ``names`` (a state written before a column was added
    to the schema cannot take a delta of the new shape: its old records would lack the column)."""
    import pyarrow.parquet as pq

    return set(names) <= set(pq.read_schema(state).names)


def merge(current: Path, delta: str, id_column: str, out: Path) -> int:
    """The current state with the delta's records upserted by ``id_column``; rows written."""
    import pyarrow as pa
    import pyarrow.compute as pc
    import pyarrow.parquet as pq

    new = pq.read_table(delta)
    old = pq.read_table(current)
    if old.schema != new.schema:
        old = old.cast(new.schema)
    kept = old.filter(pc.invert(pc.is_in(old[id_column], value_set=new[id_column])))
    merged = pa.concat_tables([kept, new])
    pq.write_table(merged, out, compression="zstd")
    return merged.num_rows


def compare(merged: Path, snapshot: str, id_column: str) -> tuple[list[str], int]:
    """What the merged state got wrong against the day's snapshot: records it lacks and records
    whose values differ (problems), and how many it holds that Informat no longer has."""
    import pyarrow.parquet as pq

    def rows(path) -> dict[Any, tuple]:
        table = pq.read_table(path)
        names = sorted(table.column_names)
        columns = [table[n].to_pylist() for n in names]
        ids = table[id_column].to_pylist()
        return {ids[i]: tuple(c[i] for c in columns) for i in range(table.num_rows)}

    ours, theirs = rows(merged), rows(snapshot)
    missed = sum(1 for k in theirs if k not in ours)
    differ = sum(1 for k, v in theirs.items() if k in ours and ours[k] != v)
    removed = sum(1 for k in ours if k not in theirs)
    problems = []
    if missed:
        problems.append(
            f"delta check: {missed} record(s) of the snapshot missing from the merged state"
        )
    if differ:
        problems.append(f"delta check: {differ} record(s) differ from the snapshot")
    return problems, removed
