"""Reading the clean layer for one instelling: the newest Parquet file of an entity on or before
the run's day, streamed in batches of only the columns the export needs (never an INSZ column:
what is not read cannot leak). No Airflow import."""

from __future__ import annotations

import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

# the columns read per entity (CONTRACT-TABLES.md); an optional one is read only when present
COLUMNS: dict[str, tuple[str, ...]] = {
    "students": ("personId", "firstName", "lastName", "dateOfBirth", "sex", "instituteNo"),
    "employees": ("personId", "firstName", "lastName", "instituteNo"),
    "classes": ("classId", "classCode", "className", "groupType"),
    "class_memberships": ("personId", "classId", "startDate", "endDate"),
    "class_teachers": ("classId", "personId"),
    "staff_status": ("personId", "day", "status"),
    "pupil_status": ("personId", "day", "status"),
}
OPTIONAL = {"students": ("email",), "employees": ("email", "dateOfBirth", "sex")}
ENTITIES = tuple(COLUMNS)


class MissingTable(Exception):
    """An entity the export needs has no clean file for the instelling (on or before the day)."""


@dataclass(frozen=True)
class Source:
    entity: str
    key: str
    day: date


def find(s3: Any, bucket: str, entity: str, where: tuple[str, str], day: date) -> Source:
    """The newest clean file of ``entity`` for (schooljaar, instellingsnummer) on or before
    ``day``: a day the extraction skipped is read from the day before, and the status says so."""
    schooljaar, instelling = where
    prefix = f"clean/{entity}/schooljaar={schooljaar}/instelling={instelling}/date="
    best: Source | None = None
    for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix):
        for item in page.get("Contents", []):
            key = item["Key"]
            if not key.endswith("/data.parquet"):
                continue
            try:
                found = date.fromisoformat(key[len(prefix) :].split("/", 1)[0])
            except ValueError:
                continue
            if found <= day and (best is None or found > best.day):
                best = Source(entity, key, found)
    if best is None:
        raise MissingTable(f"no clean {entity} for instelling {instelling} on or before {day}")
    return best


class Reader:
    """Streams clean files: each is downloaded to a private temporary folder (removed on
    close) and read a batch of row groups at a time, so memory stays flat however many pupils."""

    def __init__(self, s3: Any, bucket: str, batch_rows: int) -> None:
        self.s3, self.bucket, self.batch_rows = s3, bucket, batch_rows
        self._folder = tempfile.TemporaryDirectory(prefix="informat-roster-")

    @property
    def folder(self) -> Path:
        return Path(self._folder.name)

    def rows(self, source: Source) -> Iterator[dict[str, Any]]:
        import pyarrow.parquet as pq

        path = Path(self._folder.name) / f"{source.entity}.parquet"
        self.s3.download_file(self.bucket, source.key, str(path))
        try:
            parquet = pq.ParquetFile(path)
            present = set(parquet.schema_arrow.names)
            wanted = COLUMNS[source.entity] + OPTIONAL.get(source.entity, ())
            missing = [c for c in COLUMNS[source.entity] if c not in present]
            if missing:
                raise MissingTable(f"clean {source.entity} lacks the columns {missing}")
            columns = [c for c in wanted if c in present]
            for batch in parquet.iter_batches(batch_size=self.batch_rows, columns=columns):
                yield from batch.to_pylist()
        finally:
            path.unlink(missing_ok=True)

    def close(self) -> None:
        self._folder.cleanup()

    def __enter__(self) -> Reader:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
