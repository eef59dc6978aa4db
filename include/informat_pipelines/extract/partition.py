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
from collections.abc import Iterator
from contextlib import AbstractContextManager
from dataclasses import asdict
from pathlib import Path
from typing import Any

from informat_client import InformatClient, InformatForbiddenError
from informat_client.masking import get_logger
from informat_pipelines.core.object_store import read_json

from . import delta, holds
from .landing import Landed, arrow_schema, key_fingerprint, land
from .paths import partition_path
from .quality import Validation, validate
from .schemas import ENTITIES, Entity
from .shapes import Partition, RunContext

log = get_logger(__name__)

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
    # Personeel offers no delta read (docs/informat-api.md): these are read in full every day
    if entity.name == "assignments":
        return client.iter_assignments(key, schooljaar)
    if entity.name == "interruptions":
        return client.iter_interruptions(key, schooljaar)
    if entity.name == "own_fields":
        return client.iter_own_fields(key, schooljaar)
    if entity.name == "invoices":
        return client.iter_invoices(key, schooljaar)
    raise ValueError(f"unknown entity {entity.name}")


# --------------------------------------------------------------------- publish


def publish(
    run: RunContext, landed: Landed, validation: Validation, part: Partition
) -> dict[str, str]:
    """Valid: raw (what Informat answered) to ``raw/`` and the typed file to ``clean/``. Not
    valid: both to ``quarantine/``, so that a bad run never replaces the raw data of a good run
    of the same date. Each is one object written in one go."""
    from botocore.exceptions import ClientError

    s3, bucket = run.s3, run.bucket
    where = partition_path(part)
    target = "clean" if validation.success else "quarantine"
    raw_key = (
        f"raw/{where}/data.jsonl.gz" if validation.success else f"quarantine/{where}/raw.jsonl.gz"
    )
    raw_s3, raw_bucket = run.raw or (s3, bucket)
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
    mode: delta.Mode, client: InformatClient, run: RunContext, part: Partition, work: Path
) -> tuple[Landed, list[str], dict[str, Any]]:
    """The partition's state for today, by ``mode``: (landed state, delta-check problems, what
    was read)."""
    entity = ENTITIES[part.entity]

    def read(name: str, since: str | None) -> Landed:
        (work / name).mkdir()
        records = fetch(client, entity, part.key, part.schooljaar, run.ref_date, since)
        return land(records, part, work / name, run)

    prefix = delta.state_prefix(part.entity, part.schooljaar, part.key)
    current = (
        delta.download_state(run.s3, run.bucket, prefix, work / "state.parquet")
        if mode.reads_delta
        else None
    )
    columns = arrow_schema(entity, run.settings.insz_mode).names
    if current is not None and not delta.has_columns(current, columns):
        current = None  # a state from before a column was added: read in full, once
    if current is None:
        full = read("full", None)
        return full, [], {"mode": "full", "fetched": full.rows}
    changes = read("delta", mode.since)
    rows = delta.merge(current, changes.parquet_path, entity.id_column, work / "merged.parquet")
    merged = Landed(
        entity.name,
        part.key,
        rows,
        changes.raw_path,
        str(work / "merged.parquet"),
        changes.problems,
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
    run: RunContext,
    part: Partition,
    last_good: int | None,
    gate: AbstractContextManager[Any] | None = None,
) -> dict[str, Any]:
    """One partition: read it (full, or a delta merged into the state), validate, publish, and
    on success keep the state and its watermark for the next delta. ``run.validator``: GX in
    this process by default, or in a process of its own
    (:class:`.validation_process.ValidationProcess`); ``gate`` is held while Informat is read (a
    batch bounds its partitions reading at once, not validating)."""
    entity = ENTITIES[part.entity]
    settings = run.settings
    started = dt.datetime.now(dt.UTC)
    watermark = None
    if part.entity in delta.DELTA_ENTITIES and settings.snapshot_weekday is not None:
        watermark = delta.read_watermark(
            run.s3, run.bucket, delta.watermark_key(part.entity, part.schooljaar, part.key)
        )
    mode = delta.choose(entity, part.day, watermark, settings.snapshot_weekday)
    validator = run.validator or validate
    with tempfile.TemporaryDirectory(prefix="informat-extract-") as workdir:
        with gate or contextlib.nullcontext():
            landed, problems, read_info = _land(mode, client, run, part, Path(workdir))
        validation = validator(landed, entity, last_good, settings, part.day)
        if problems:
            validation.failed += problems
            validation.success = False
        # valid, but too large a change against what was last published: held for review
        changes = (
            holds.check(run, part, landed.parquet_path, Path(workdir))
            if validation.success
            else None
        )
        held = None
        if changes is not None:
            parquet, raw = landed.parquet_path, landed.raw_path
            held = holds.store_held(run, part, parquet, raw, changes, started)
            prefix = holds.held_prefix(part)
            keys = {"raw": f"{prefix}/raw.jsonl.gz", "held": f"{prefix}/data.parquet"}
        else:
            keys = publish(run, landed, validation, part)
            if validation.success and part.entity in delta.DELTA_ENTITIES:
                delta.save_state(run.s3, run.bucket, part, landed.parquet_path, started)
    outcome = {
        **asdict(validation),
        **read_info,
        "schooljaar": part.schooljaar,
        "date": part.day.isoformat(),
        "keys": keys,
    }
    if held is not None:
        outcome["held"] = held
    log.info(
        "%s %s %s (%s, %d read): %d row(s), %s%s",
        part.entity,
        part.key,
        part.schooljaar,
        read_info["mode"],
        read_info["fetched"],
        validation.rows,
        "HELD for review" if held else "valid" if validation.success else "QUARANTINED",
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
    run: RunContext,
    part: Partition,
    gate: AbstractContextManager[Any] | None = None,
) -> dict[str, Any]:
    """One planned partition end to end, against the last good count of that partition; one
    outside the client's scopes is skipped."""
    from .report import read_last_good

    if run.settings.insz_mode == "pseudonymise" and ENTITIES[part.entity].has_insz:
        check_key(run.s3, run.bucket, run.pseudonymisation_key or b"")
    last_good = read_last_good(run.s3, run.bucket).get(f"{part.entity}/{part.key}")
    try:
        return extract_one(client, run, part, last_good, gate)
    except InformatForbiddenError as exc:
        log.warning("SKIPPED %s %s: no access (%s)", part.entity, part.key, exc)
        return {**part.as_dict(), "rows": 0, "success": True, "skipped": str(exc), "failed": []}
