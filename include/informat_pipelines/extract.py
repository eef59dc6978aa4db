"""Daily extraction: stream an entity of one instelling (or toegangsgroep) from Informat into
local files (raw gzipped JSON lines and a typed Parquet file), validate the Parquet file with
Great Expectations, and publish it to ``clean/`` or ``quarantine/``. No Airflow import.

Memory stays flat: records are streamed from the API and written in batches; nothing holds a
whole listing. A partition is published with single-object writes (atomic in S3), so a reader
never sees half a partition, and rerunning the same date replaces exactly that date's objects.
"""

from __future__ import annotations

import datetime as dt
import gzip
import hashlib
import hmac
import json
import math
import os
import tempfile
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from informat_client import InformatClient, InformatForbiddenError, insz
from informat_client.masking import get_logger

from .schemas import ENTITIES, Entity
from .settings import known_values

log = get_logger(__name__)

INSZ_MODES = ("pseudonymise", "keep", "drop")


@dataclass(frozen=True)
class ExtractSettings:
    insz_mode: str = "pseudonymise"
    row_count_band: float = 0.5  # a run may differ this much (share) from the last good run
    empty_instellingen: tuple[str, ...] = ()
    batch_rows: int = 5000
    alert_recipients: tuple[str, ...] = ()  # the data team, told of quarantined partitions

    @classmethod
    def from_mapping(cls, values: Mapping[str, Any] | None) -> ExtractSettings:
        values = known_values(cls, values, "extraction")
        for name in ("empty_instellingen", "alert_recipients"):
            if name in values:
                values[name] = tuple(values[name] or ())
        settings = cls(**values)
        if settings.insz_mode not in INSZ_MODES:
            raise ValueError(f"insz_mode must be one of {INSZ_MODES}")
        if not 0 <= settings.row_count_band <= 10:
            raise ValueError("row_count_band must be a share between 0 and 10")
        return settings


# ----------------------------------------------------------------------- fetch


def fetch(
    client: InformatClient, entity: Entity, key: str, schooljaar: str, ref_date: str | None
) -> Iterator[dict[str, Any]]:
    if entity.name == "students":
        return client.iter_students(key, schooljaar, ref_date=ref_date)
    if entity.name == "registrations":
        return client.iter_registrations(key, schooljaar)
    if entity.name == "employees":
        return client.iter_employees(key)
    if entity.name == "invoices":
        return client.iter_invoices(key, schooljaar)
    raise ValueError(f"unknown entity {entity.name}")


# ------------------------------------------------------------------------ land


def arrow_schema(entity: Entity, insz_mode: str):
    import pyarrow as pa

    types = {
        "string": pa.string(),
        "int": pa.int64(),
        "float": pa.float64(),
        "bool": pa.bool_(),
        "date": pa.date32(),
    }
    fields = []
    for column in entity.columns:
        if column.name == "insz":
            if insz_mode == "pseudonymise":
                fields.append(pa.field("inszHash", pa.string()))
            elif insz_mode == "keep":
                fields.append(pa.field("insz", pa.string()))
            continue
        fields.append(pa.field(column.name, types[column.type], nullable=column.nullable))
    if entity.has_insz:
        fields.append(pa.field("inszValid", pa.bool_()))
    return pa.schema(fields)


def _value(column, record: dict[str, Any]) -> Any:
    raw = column.key(record) if callable(column.key) else record.get(column.key)
    if raw is None or raw == "":
        return None
    try:
        if column.type == "date":
            return dt.date.fromisoformat(str(raw)[:10])
        if column.type == "int":
            return int(raw)
        if column.type == "float":
            return float(raw)
        if column.type == "bool":
            return bool(raw)
        return str(raw)
    except (TypeError, ValueError):
        return None  # an unreadable value is a null; the expectations then say so


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


def land(
    records: Iterable[dict[str, Any]],
    entity: Entity,
    key: str,
    workdir: Path,
    settings: ExtractSettings,
    pseudonymisation_key: bytes | None,
) -> Landed:
    """Write ``records`` as they stream: raw (gzipped JSON lines, as received) and clean (typed
    Parquet, INSZ pseudonymised, dropped or kept), in batches of ``batch_rows``."""
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
            raw.write(json.dumps(record, ensure_ascii=False) + "\n")
            rows += 1
            for column in entity.columns:
                value = _value(column, record)
                if column.name == "insz":
                    number = insz.normalize(value)
                    columns["inszValid"].append(insz.is_valid(value) if value else None)
                    if settings.insz_mode == "pseudonymise":
                        columns["inszHash"].append(
                            pseudonym(pseudonymisation_key, number or value) if value else None
                        )
                    elif settings.insz_mode == "keep":
                        columns["insz"].append(value)
                    continue
                columns[column.name].append(value)
            if rows % settings.batch_rows == 0:
                flush(writer)
        flush(writer)
    return Landed(entity.name, key, rows, str(raw_path), str(parquet_path))


# -------------------------------------------------------------------- validate


@dataclass
class Validation:
    entity: str
    key: str
    rows: int
    success: bool
    failed: list[str] = field(default_factory=list)  # "expectation (column): n unexpected"
    evaluated: int = 0


def row_count_bounds(
    last_good: int | None, band: float, known_empty: bool
) -> tuple[int, int | None]:
    if known_empty:
        low = 0
    elif last_good:
        low = max(1, math.floor(last_good * (1 - band)))
    else:
        low = 1
    high = math.ceil(last_good * (1 + band)) if last_good else None
    return low, high


def _suite(gx, entity: Entity, key: str, bounds: tuple[int, int | None], today: dt.date):
    e = gx.expectations
    suite = gx.ExpectationSuite(name=f"{entity.name}-{key}")
    for name in entity.column_names:
        if name == "insz":
            continue
        suite.add_expectation(e.ExpectColumnToExist(column=name))
    suite.add_expectation(e.ExpectColumnValuesToNotBeNull(column=entity.id_column))
    suite.add_expectation(e.ExpectColumnValuesToBeUnique(column=entity.id_column))
    low, high = bounds
    suite.add_expectation(e.ExpectTableRowCountToBeBetween(min_value=low, max_value=high))
    if entity.scope == "instelling":
        suite.add_expectation(e.ExpectColumnValuesToNotBeNull(column="pPersoon"))
        suite.add_expectation(e.ExpectColumnValuesToBeInSet(column="instituteNo", value_set=[key]))
    if entity.has_insz:
        suite.add_expectation(e.ExpectColumnValuesToBeInSet(column="inszValid", value_set=[True]))
        suite.add_expectation(e.ExpectColumnValuesToBeInSet(column="sex", value_set=["M", "V"]))
        oldest = dt.datetime(today.year - (100 if entity.name == "employees" else 30), 1, 1)
        youngest = dt.datetime.combine(
            today - dt.timedelta(days=365 * (15 if entity.name == "employees" else 2)), dt.time()
        )
        suite.add_expectation(
            e.ExpectColumnValuesToBeBetween(
                column="dateOfBirth", min_value=oldest, max_value=youngest
            )
        )
    if entity.name == "registrations":
        suite.add_expectation(
            e.ExpectColumnPairValuesAToBeGreaterThanB(
                column_A="endDate",
                column_B="startDate",
                or_equal=True,
                ignore_row_if="either_value_is_missing",
            )
        )
    if entity.name == "invoices":
        suite.add_expectation(e.ExpectColumnValuesToBeBetween(column="amount", min_value=0))
    return suite


def validate(
    landed: Landed,
    entity: Entity,
    last_good: int | None,
    settings: ExtractSettings,
    today: dt.date,
) -> Validation:
    """Great Expectations 1.x on the landed Parquet file (imported here, never at parse time)."""
    import great_expectations as gx
    import pandas as pd

    os.environ.setdefault("GX_ANALYTICS_ENABLED", "False")
    frame = pd.read_parquet(landed.parquet_path)
    for column in entity.columns:
        if column.type == "date" and column.name in frame:
            frame[column.name] = pd.to_datetime(frame[column.name])
    context = gx.get_context(mode="ephemeral")
    try:
        from great_expectations.data_context.types.base import ProgressBarsConfig

        context.variables.progress_bars = ProgressBarsConfig(globally=False)
    except Exception:  # noqa: S110 - cosmetic only
        pass
    source = context.data_sources.add_pandas("informat")
    batch = source.add_dataframe_asset(name=landed.entity).add_batch_definition_whole_dataframe(
        "whole"
    )
    known_empty = landed.key in settings.empty_instellingen
    bounds = row_count_bounds(last_good, settings.row_count_band, known_empty)
    suite = context.suites.add(_suite(gx, entity, landed.key, bounds, today))
    definition = context.validation_definitions.add(
        gx.ValidationDefinition(data=batch, suite=suite, name=f"{landed.entity}-{landed.key}")
    )
    result = definition.run(batch_parameters={"dataframe": frame})
    failed = []
    for item in result.results:
        if item.success:
            continue
        config = item.expectation_config
        kwargs = config.kwargs
        target = kwargs.get("column") or (
            f"{kwargs.get('column_A')}>={kwargs.get('column_B')}"
            if "column_A" in kwargs
            else "table"
        )
        detail = item.result or {}
        count = detail.get("unexpected_count")
        observed = detail.get("observed_value")
        if count is not None:
            what = f"{count} unexpected"
        elif observed is not None and not isinstance(observed, list | dict):
            what = f"observed {observed}"
        else:
            what = "failed"
        failed.append(f"{config.type} ({target}): {what}")
    return Validation(
        landed.entity, landed.key, landed.rows, bool(result.success), failed, len(result.results)
    )


# --------------------------------------------------------------------- publish


def partition(entity: str, schooljaar: str, key: str, day: dt.date) -> str:
    scope = "toegangsgroep" if ENTITIES[entity].scope == "toegangsgroep" else "instelling"
    return f"{entity}/schooljaar={schooljaar}/{scope}={key}/date={day.isoformat()}"


def publish(
    s3: Any, bucket: str, landed: Landed, validation: Validation, schooljaar: str, day: dt.date
) -> dict[str, str]:
    """Raw always (it is what Informat answered); clean only when valid, else quarantine. Each is
    one object written in one go, replacing the same date's object of an earlier run."""
    import contextlib

    from botocore.exceptions import ClientError

    where = partition(landed.entity, schooljaar, landed.key, day)
    raw_key = f"raw/{where}/data.jsonl.gz"
    s3.upload_file(landed.raw_path, bucket, raw_key)
    target = "clean" if validation.success else "quarantine"
    data_key = f"{target}/{where}/data.parquet"
    s3.upload_file(landed.parquet_path, bucket, data_key)
    if validation.success:
        # a quarantined version of this date from an earlier run is superseded
        with contextlib.suppress(ClientError):
            s3.delete_object(Bucket=bucket, Key=f"quarantine/{where}/data.parquet")
    return {"raw": raw_key, target: data_key}


def extract_one(
    client: InformatClient,
    s3: Any,
    bucket: str,
    entity_name: str,
    key: str,
    schooljaar: str,
    day: dt.date,
    settings: ExtractSettings,
    pseudonymisation_key: bytes | None,
    last_good: int | None,
    ref_date: str | None = None,
) -> dict[str, Any]:
    entity = ENTITIES[entity_name]
    with tempfile.TemporaryDirectory(prefix="informat-extract-") as workdir:
        records = fetch(client, entity, key, schooljaar, ref_date)
        landed = land(records, entity, key, Path(workdir), settings, pseudonymisation_key)
        validation = validate(landed, entity, last_good, settings, day)
        keys = publish(s3, bucket, landed, validation, schooljaar, day)
    outcome = {
        **asdict(validation),
        "schooljaar": schooljaar,
        "date": day.isoformat(),
        "keys": keys,
    }
    log.info(
        "%s %s %s: %d row(s), %s%s",
        entity_name,
        key,
        schooljaar,
        validation.rows,
        "valid" if validation.success else "QUARANTINED",
        "" if validation.success else ": " + "; ".join(validation.failed),
    )
    return outcome


def extract_partition(
    client: InformatClient,
    s3: Any,
    bucket: str,
    unit: Mapping[str, str],
    settings: ExtractSettings,
    pseudonymisation_key: bytes | None,
    ref_date: str | None = None,
) -> dict[str, Any]:
    """One planned partition (``entity``, ``key``, ``schooljaar``, ``day``) end to end, against
    the last good count of that partition; one outside the client's scopes is skipped."""
    from .extract_report import read_last_good

    last_good = read_last_good(s3, bucket).get(f"{unit['entity']}/{unit['key']}")
    try:
        return extract_one(
            client, s3, bucket, unit["entity"], unit["key"], unit["schooljaar"],
            dt.date.fromisoformat(unit["day"]), settings, pseudonymisation_key, last_good,
            ref_date,
        )  # fmt: skip
    except InformatForbiddenError as exc:
        log.warning("SKIPPED %s %s: no access (%s)", unit["entity"], unit["key"], exc)
        return {**unit, "rows": 0, "success": True, "skipped": str(exc), "failed": []}
