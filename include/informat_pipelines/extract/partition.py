"""Daily extraction: stream an entity of one instelling (or toegangsgroep) from Informat into
local files (raw gzipped JSON lines and a typed Parquet file), validate the Parquet file with
Great Expectations, and publish it to ``clean/`` or ``quarantine/``. No Airflow import.

Memory stays flat: records are streamed from the API and written in batches; nothing holds a
whole listing. A partition is published with single-object writes (atomic in S3), so a reader
never sees half a partition, and rerunning the same date replaces exactly that date's objects.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import tempfile
from collections.abc import Callable, Iterator, Mapping
from contextlib import AbstractContextManager
from dataclasses import asdict
from pathlib import Path
from typing import Any

from informat_client import InformatClient, InformatForbiddenError
from informat_client.masking import get_logger
from informat_pipelines.core.object_store import read_json

from . import delta
from .landing import Landed, key_fingerprint, land
from .quality import Validation, validate
from .schemas import ENTITIES, Entity
from .settings import ExtractSettings

log = get_logger(__name__)

RawStore = tuple[Any, str]  # a boto3 client and the bucket of raw/ (and quarantined raw answers)

# ----------------------------------------------------------------------- fetch


def fetch(
    client: InformatClient,
    entity: Entity,
    key: str,
    schooljaar: str,
    ref_date: str | None,
    changed_since: str | None = None,
) -> Iterator[dict[str, Any]]:
    if entity.name == "students":
        return client.iter_students(key, schooljaar, ref_date=ref_date, changed_since=changed_since)
    if entity.name == "registrations":
        return client.iter_registrations(key, schooljaar, changed_since=changed_since)
    if entity.name == "employees":
        return client.iter_employees(key, schooljaar)
    if entity.name == "invoices":
        return client.iter_invoices(key, schooljaar)
    raise ValueError(f"unknown entity {entity.name}")


# --------------------------------------------------------------------- publish


def partition(entity: str, schooljaar: str, key: str, day: dt.date) -> str:
    scope = "toegangsgroep" if ENTITIES[entity].scope == "toegangsgroep" else "instelling"
    return f"{entity}/schooljaar={schooljaar}/{scope}={key}/date={day.isoformat()}"


def publish(
    s3: Any,
    bucket: str,
    landed: Landed,
    validation: Validation,
    schooljaar: str,
    day: dt.date,
    raw: RawStore | None = None,
) -> dict[str, str]:
    """Valid: raw (what Informat answered) to ``raw/`` and the typed file to ``clean/``. Not
    valid: both to ``quarantine/``, so that a bad run never replaces the raw data of a good run
    of the same date. Each is one object written in one go."""
    from botocore.exceptions import ClientError

    where = partition(landed.entity, schooljaar, landed.key, day)
    target = "clean" if validation.success else "quarantine"
    raw_key = (
        f"raw/{where}/data.jsonl.gz" if validation.success else f"quarantine/{where}/raw.jsonl.gz"
    )
    raw_s3, raw_bucket = raw or (s3, bucket)
    raw_s3.upload_file(landed.raw_path, raw_bucket, raw_key)
    data_key = f"{target}/{where}/data.parquet"
    s3.upload_file(landed.parquet_path, bucket, data_key)
    if validation.success:
        # a quarantined version of this date from an earlier run is superseded
        with contextlib.suppress(ClientError):
            s3.delete_object(Bucket=bucket, Key=f"quarantine/{where}/data.parquet")
        with contextlib.suppress(ClientError):
            raw_s3.delete_object(Bucket=raw_bucket, Key=f"quarantine/{where}/raw.jsonl.gz")
    return {"raw": raw_key, target: data_key}


def _land(
    mode: delta.Mode,
    client: InformatClient,
    s3: Any,
    bucket: str,
    entity: Entity,
    unit: tuple[str, str, str | None],
    work: Path,
    settings: ExtractSettings,
    pseudonymisation_key: bytes | None,
) -> tuple[Landed, list[str], dict[str, Any]]:
    """The partition's state for today, by ``mode``: (landed state, delta-check problems, what
    was read)."""
    key, schooljaar, ref_date = unit

    def read(name: str, since: str | None) -> Landed:
        (work / name).mkdir()
        records = fetch(client, entity, key, schooljaar, ref_date, since)
        return land(records, entity, key, work / name, settings, pseudonymisation_key, schooljaar)

    prefix = delta.state_prefix(entity.name, schooljaar, key)
    current = (
        delta.download_state(s3, bucket, prefix, work / "state.parquet")
        if (mode.reads_delta)
        else None
    )
    if current is None:
        full = read("full", None)
        return full, [], {"mode": "full", "fetched": full.rows}
    changes = read("delta", mode.since)
    rows = delta.merge(current, changes.parquet_path, entity.id_column, work / "merged.parquet")
    merged = Landed(
        entity.name, key, rows, changes.raw_path, str(work / "merged.parquet"), changes.problems
    )
    if mode.kind == "delta":
        return merged, [], {"mode": "delta", "fetched": changes.rows}
    full = read("full", None)
    problems, removed = delta.compare(
        Path(merged.parquet_path), full.parquet_path, entity.id_column
    )
    read_info = {"mode": "snapshot", "fetched": changes.rows + full.rows, "removed": removed}
    return full, problems, read_info


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
    raw: RawStore | None = None,
    validator: Callable[..., Validation] = validate,
    gate: AbstractContextManager[Any] | None = None,
) -> dict[str, Any]:
    """One partition: read it (full, or a delta merged into the state), validate, publish, and
    on success keep the state and its watermark for the next delta. ``validator``: GX here, or
    in a process of its own (:class:`.validation_process.ValidationProcess`); ``gate`` is held
    while Informat is read (a batch bounds its partitions reading at once, not validating)."""
    entity = ENTITIES[entity_name]
    started = dt.datetime.now(dt.UTC)
    watermark = None
    if entity_name in delta.DELTA_ENTITIES and settings.snapshot_weekday is not None:
        watermark = delta.read_watermark(
            s3, bucket, delta.watermark_key(entity_name, schooljaar, key)
        )
    mode = delta.choose(entity, day, watermark, settings.snapshot_weekday)
    with tempfile.TemporaryDirectory(prefix="informat-extract-") as workdir:
        with gate or contextlib.nullcontext():
            landed, problems, read_info = _land(
                mode, client, s3, bucket, entity, (key, schooljaar, ref_date), Path(workdir),
                settings, pseudonymisation_key,
            )  # fmt: skip
        validation = validator(landed, entity, last_good, settings, day)
        if problems:
            validation.failed += problems
            validation.success = False
        keys = publish(s3, bucket, landed, validation, schooljaar, day, raw)
        if validation.success and entity_name in delta.DELTA_ENTITIES:
            delta.save_state(s3, bucket, entity_name, schooljaar, key, landed.parquet_path, started)
    outcome = {
        **asdict(validation),
        **read_info,
        "schooljaar": schooljaar,
        "date": day.isoformat(),
        "keys": keys,
    }
    log.info(
        "%s %s %s (%s, %d read): %d row(s), %s%s",
        entity_name,
        key,
        schooljaar,
        read_info["mode"],
        read_info["fetched"],
        validation.rows,
        "valid" if validation.success else "QUARANTINED",
        "" if validation.success else ": " + "; ".join(validation.failed),
    )
    return outcome


KEY_STATE = "state/pseudonymisation_key.json"


def check_key(s3: Any, bucket: str, key: bytes) -> str:
    """The key's fingerprint, the same as the one stored with the data (stored at first use):
    a rotated key would silently break every join on ``inszHash`` with earlier days."""
    import json

    fingerprint = key_fingerprint(key)
    stored = read_json(s3, bucket, KEY_STATE)
    if stored is None:  # the first use: the data's key is this one from now on
        body = json.dumps({"fingerprint": fingerprint}).encode()
        s3.put_object(Bucket=bucket, Key=KEY_STATE, Body=body)
        return fingerprint
    if stored.get("fingerprint") != fingerprint:
        raise ValueError(
            f"the pseudonymisation key changed (fingerprint {fingerprint}, the data's "
            f"{stored.get('fingerprint')}): its hashes would not join earlier days. Restore the "
            f"key, or, for an intended rotation, delete s3://{bucket}/{KEY_STATE}"
        )
    return fingerprint


def extract_partition(
    client: InformatClient,
    s3: Any,
    bucket: str,
    unit: Mapping[str, str],
    settings: ExtractSettings,
    pseudonymisation_key: bytes | None,
    ref_date: str | None = None,
    raw: RawStore | None = None,
    validator: Callable[..., Validation] = validate,
    gate: AbstractContextManager[Any] | None = None,
) -> dict[str, Any]:
    """One planned partition (``entity``, ``key``, ``schooljaar``, ``day``) end to end, against
    the last good count of that partition; one outside the client's scopes is skipped. ``raw``:
    where Informat's answers go (another client and bucket, with credentials of their own),
    by default ``raw/`` beside ``clean/``."""
    from .report import read_last_good

    if settings.insz_mode == "pseudonymise" and ENTITIES[unit["entity"]].has_insz:
        check_key(s3, bucket, pseudonymisation_key or b"")
    last_good = read_last_good(s3, bucket).get(f"{unit['entity']}/{unit['key']}")
    try:
        return extract_one(
            client, s3, bucket, unit["entity"], unit["key"], unit["schooljaar"],
            dt.date.fromisoformat(unit["day"]), settings, pseudonymisation_key, last_good,
            ref_date, raw, validator, gate,
        )  # fmt: skip
    except InformatForbiddenError as exc:
        log.warning("SKIPPED %s %s: no access (%s)", unit["entity"], unit["key"], exc)
        return {**unit, "rows": 0, "success": True, "skipped": str(exc), "failed": []}
