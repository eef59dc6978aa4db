"""Landing one partition of the daily extraction as it streams: raw (gzipped JSON lines, exactly
as Informat answered) and typed Parquet (INSZ pseudonymised, kept or dropped), with the contract
check of every record: a required key missing or a value of the wrong type is counted and named,
never a crash. No Airflow import."""

from __future__ import annotations

import datetime as dt
import gzip
import hashlib
import hmac
import json
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from informat_client import insz

from .schemas import FROM_CALL, SCHOOLJAAR, Column, Entity

if TYPE_CHECKING:
    from .extract import ExtractSettings


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


class _WrongType(Exception):
    pass


def _convert(column: Column, raw: Any) -> Any:
    if column.type == "date":
        if not isinstance(raw, str):
            raise _WrongType
        return dt.date.fromisoformat(raw[:10])
    if column.type == "int":
        if isinstance(raw, bool) or not isinstance(raw, int | str):
            raise _WrongType
        return int(raw)
    if column.type == "float":
        if isinstance(raw, bool) or not isinstance(raw, int | float | str):
            raise _WrongType
        return float(raw)
    if column.type == "bool":
        if not isinstance(raw, bool):
            raise _WrongType
        return raw
    if isinstance(raw, dict | list):
        raise _WrongType
    return str(raw)


MIN_KEY_BYTES = 32


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


def pseudonym(key: bytes, number: str) -> str:
    """Keyed hash (HMAC-SHA256) of a normalised INSZ: stable per key, not reversible."""
    return hmac.new(key, number.encode(), hashlib.sha256).hexdigest()


@dataclass
class Landed:
    entity: str
    key: str
    rows: int
    raw_path: str
    parquet_path: str
    # the contract check: "key 'persoonId' missing in 3 record(s)", never a value
    problems: list[str] = field(default_factory=list)


class _Row:
    """Turns one record into the values of its row, counting what breaks the contract."""

    def __init__(
        self,
        entity: Entity,
        call: Mapping[str, str],
        settings: ExtractSettings,
        pseudonymisation_key: bytes | None,
    ) -> None:
        self.entity, self.call, self.settings = entity, call, settings
        self.key = pseudonymisation_key
        self.missing: Counter[str] = Counter()
        self.wrong_type: Counter[str] = Counter()
        self.not_objects = 0

    def values(self, record: Any) -> dict[str, Any] | None:
        if not isinstance(record, dict):
            self.not_objects += 1
            return None
        return self._values(self.entity.columns, record)

    def _values(self, columns: tuple[Column, ...], record: dict[str, Any]) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for column in columns:
            value = self._value(column, record)
            if column.type == "list":
                items = value if isinstance(value, list) else []
                out[column.name] = [
                    self._values(column.fields, item) for item in items if isinstance(item, dict)
                ]
                continue
            if column.type != "insz":
                out[column.name] = value
                continue
            hashed, kept, valid = column.insz_columns
            out[valid] = insz.is_valid(value) if value else None
            if self.settings.insz_mode == "pseudonymise":
                number = insz.normalize(value) or value
                out[hashed] = pseudonym(self.key, number) if value else None
            elif self.settings.insz_mode == "keep":
                out[kept] = value
        return out

    def _value(self, column: Column, record: dict[str, Any]) -> Any:
        if column.key in (FROM_CALL, SCHOOLJAAR):
            return self.call["key" if column.key == FROM_CALL else "schooljaar"]
        if callable(column.key):
            raw = column.key(record)
        else:
            if column.required and record.get(column.key) in (None, ""):
                self.missing[column.key] += 1
            raw = record.get(column.key)
        if raw is None or raw == "":
            return None
        if column.type == "list":
            if not isinstance(raw, list):
                self.wrong_type[column.key] += 1
                return None
            return raw
        try:
            return _convert(column, raw)
        except (_WrongType, TypeError, ValueError):
            self.wrong_type[column.key if isinstance(column.key, str) else column.name] += 1
            return None

    def raw(self, record: Any) -> Any:
        """The record as ``raw/`` keeps it: as Informat answered, but every INSZ field handled as
        ``insz_mode`` says (pseudonymised or dropped), so that raw/ is no back door to what
        clean/ protects. With ``keep`` it is the record itself."""
        if self.settings.insz_mode == "keep" or not isinstance(record, dict):
            return record
        return self._scrub(self.entity.columns, record)

    def _scrub(self, columns: tuple[Column, ...], record: dict[str, Any]) -> dict[str, Any]:
        out = dict(record)
        for column in columns:
            if not isinstance(column.key, str) or column.key not in out:
                continue
            value = out[column.key]
            if column.type == "insz":
                if self.settings.insz_mode == "drop":
                    del out[column.key]
                elif value:
                    out[column.key] = pseudonym(self.key, insz.normalize(str(value)) or str(value))
            elif column.type == "list" and isinstance(value, list):
                out[column.key] = [
                    self._scrub(column.fields, item) if isinstance(item, dict) else item
                    for item in value
                ]
        return out

    def problems(self) -> list[str]:
        found = [f"key '{k}' missing in {n} record(s)" for k, n in sorted(self.missing.items())]
        found += [
            f"key '{k}' of the wrong type in {n} record(s)"
            for k, n in sorted(self.wrong_type.items())
        ]
        if self.not_objects:
            found.append(f"{self.not_objects} record(s) not an object")
        return found


def land(
    records: Iterable[Any],
    entity: Entity,
    key: str,
    workdir: Path,
    settings: ExtractSettings,
    pseudonymisation_key: bytes | None,
    schooljaar: str = "",
) -> Landed:
    """Write ``records`` as they stream: raw (gzipped JSON lines, as received but for the INSZ)
    and clean (typed Parquet), the INSZ in both pseudonymised, dropped or kept as ``insz_mode``
    says, in batches of ``batch_rows``. What a record
    does not carry (its instelling) comes from the call: ``key`` and ``schooljaar``."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    if entity.has_insz and settings.insz_mode == "pseudonymise" and not pseudonymisation_key:
        raise ValueError(
            "pseudonymising the INSZ needs a key (connection informat_pseudonymisation)"
        )
    schema = arrow_schema(entity, settings.insz_mode)
    raw_path = workdir / f"{entity.name}-{key}.jsonl.gz"
    parquet_path = workdir / f"{entity.name}-{key}.parquet"
    columns: dict[str, list[Any]] = {name: [] for name in schema.names}
    converter = _Row(entity, {"key": key, "schooljaar": schooljaar}, settings, pseudonymisation_key)
    rows = 0

    def flush(writer) -> None:
        if columns[schema.names[0]]:
            writer.write_batch(pa.RecordBatch.from_pydict(columns, schema=schema))
            for values in columns.values():
                values.clear()

    with (
        gzip.open(raw_path, "wt", encoding="utf-8") as raw,
        pq.ParquetWriter(parquet_path, schema, compression="zstd") as writer,
    ):
        for record in records:
            raw.write(json.dumps(converter.raw(record), ensure_ascii=False) + "\n")
            rows += 1
            values = converter.values(record)
            if values is None:
                continue
            for name in schema.names:
                columns[name].append(values.get(name))
            if rows % settings.batch_rows == 0:
                flush(writer)
        flush(writer)
    return Landed(entity.name, key, rows, str(raw_path), str(parquet_path), converter.problems())
