"""Landing one partition of the daily extraction as it streams: raw (gzipped JSON lines, exactly
as Informat answered) and typed Parquet (INSZ pseudonymised, kept or dropped), with the contract
check of every record (:mod:`.records`). No Airflow import."""

from __future__ import annotations

import gzip
import hashlib
import json
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import orjson

from .records import Row
from .schemas import ENTITIES, Column, Entity

if TYPE_CHECKING:
    from .shapes import Partition, RunContext


def arrow_schema(entity: Entity, insz_mode: str):
    """Every column nullable: what a record lacks is a data-quality finding, never a crash of
    the writer (the expectations and the contract check name it)."""
    import pyarrow as pa

    types = {
        "string": pa.string(),
        "int": pa.int64(),
        "float": pa.float64(),
        "bool": pa.bool_(),
        "date": pa.date32(),
    }

    def fields(columns: tuple[Column, ...]) -> list:
        out = []
        for column in columns:
            if column.type == "insz":
                hashed, kept, valid = column.insz_columns
                if insz_mode == "pseudonymise":
                    out.append(pa.field(hashed, pa.string()))
                elif insz_mode == "keep":
                    out.append(pa.field(kept, pa.string()))
                out.append(pa.field(valid, pa.bool_()))
            elif column.type == "list":
                out.append(pa.field(column.name, pa.list_(pa.struct(fields(column.fields)))))
            else:
                out.append(pa.field(column.name, types[column.type]))
        return out

    return pa.schema(fields(entity.columns))


MIN_KEY_BYTES = 32
RAW_GZIP_LEVEL = 3
# the rows of a row group are held in Arrow until it is written: 20,000 (a student's Arrow row,
# relations and addresses included, is about 0.7 KB) made the landing of a 48,000-student
# partition hold 14 MB more than one of 4,800 (a task's peak grew with the school group); 5,000
# holds the same at any size, for 2 % more Parquet (4.4 MB instead of 4.3 for 20,000 students)
ROW_GROUP_ROWS = 5_000


def key_fingerprint(key: bytes) -> str:
    """A short fingerprint of the pseudonymisation key, stored with the data so that a changed
    key is noticed; the key is refused when it is short or a placeholder (a known or guessable
    key turns every hash back into an INSZ in seconds)."""
    if len(key) < MIN_KEY_BYTES or b"change-me" in key.lower():
        raise ValueError(
            f"the pseudonymisation key (connection informat_pseudonymisation) must be at least "
            f"{MIN_KEY_BYTES} random bytes, not a placeholder: python -c 'import secrets; "
            "print(secrets.token_urlsafe(48))'"
        )
    return hashlib.sha256(b"informat-airflow pseudonymisation key\0" + key).hexdigest()[:16]


@dataclass
class Landed:
    entity: str
    key: str
    rows: int
    raw_path: str
    parquet_path: str
    # the contract check: "key 'persoonId' missing in 3 record(s)", never a value
    problems: list[str] = field(default_factory=list)


def _json_line(record: Any) -> bytes:
    """A record as one line of UTF-8 JSON: orjson (the raw copy's encoding was a quarter of the
    landing's time with the standard library), which refuses what JSON parsing can still give,
    such as an integer beyond 64 bits: that record goes through the standard library."""
    try:
        return orjson.dumps(record)
    except TypeError:
        return json.dumps(record, ensure_ascii=False, separators=(",", ":")).encode()


def land(records: Iterable[Any], part: Partition, workdir: Path, run: RunContext) -> Landed:
    """Write ``records`` as they stream: raw (gzipped JSON lines, as received but for the INSZ)
    and clean (typed Parquet), the INSZ in both pseudonymised, dropped or kept as ``insz_mode``
    says. What a record does not carry (its instelling) comes from the call: the partition's
    ``key`` and ``schooljaar``.

    Memory stays flat: at most ``batch_rows`` records are Python objects at once (they take
    about ten times what their Arrow batch takes); the batches are gathered into row groups of
    ``ROW_GROUP_ROWS``, so that the Parquet file is not cut into small row groups."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    entity, key, settings = ENTITIES[part.entity], part.key, run.settings
    pseudonymisation_key = run.pseudonymisation_key
    if entity.has_insz and settings.insz_mode == "pseudonymise" and not pseudonymisation_key:
        raise ValueError(
            "pseudonymising the INSZ needs a key (connection informat_pseudonymisation)"
        )
    schema = arrow_schema(entity, settings.insz_mode)
    raw_path = workdir / f"{entity.name}-{key}.jsonl.gz"
    parquet_path = workdir / f"{entity.name}-{key}.parquet"
    columns: list[tuple[str, list[Any]]] = [(name, []) for name in schema.names]
    lines: list[bytes] = []
    converter = Row(
        entity, {"key": key, "schooljaar": part.schooljaar}, settings, pseudonymisation_key
    )
    rows = 0
    group: list[Any] = []  # Arrow batches of the row group being gathered

    def flush(raw, writer, last: bool = False) -> None:
        raw.write(b"\n".join(lines) + b"\n" if lines else b"")
        lines.clear()
        if columns[0][1]:
            group.append(pa.RecordBatch.from_pydict(dict(columns), schema=schema))
            for _, values in columns:
                values.clear()
        if group and (last or sum(b.num_rows for b in group) >= ROW_GROUP_ROWS):
            writer.write_table(pa.Table.from_batches(group, schema), row_group_size=ROW_GROUP_ROWS)
            group.clear()

    # raw/ is kept 30 days: a fast level (3: 0.07 s for a 4,800-student answer of 8.9 MB, 1.26 MB)
    # rather than gzip's default 9 or zlib's 6 (0.15 s, 1.08 MB)
    with (
        gzip.open(raw_path, "wb", compresslevel=RAW_GZIP_LEVEL) as raw,
        pq.ParquetWriter(parquet_path, schema, compression="zstd") as writer,
    ):
        for record in records:
            lines.append(_json_line(converter.raw(record)))
            rows += 1
            values = converter.values(record)
            if values is not None:
                for name, column in columns:
                    column.append(values.get(name))
            if rows % settings.batch_rows == 0:
                flush(raw, writer)
        flush(raw, writer, last=True)
    return Landed(entity.name, key, rows, str(raw_path), str(parquet_path), converter.problems())
