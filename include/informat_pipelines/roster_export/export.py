"""The day's roster export of every opted-in instelling, and where its files go in the data
bucket:

- ``exports/sds/<day>/<instelling>.zip`` and ``exports/oneroster/<day>/<instelling>.zip``;
- the last good one per school at ``exports/sds/latest/<instelling>.zip`` (and ``oneroster``),
  what a person uploads to SDS and what the next day's drop check compares with;
- a held export under ``exports/held/<day>/<instelling>/`` (both zips and ``dropped.csv``, the
  sourcedIds that would go), published only when a person approves it.

Each school's outcome (counts, who was left out and why, held or not) is a plain dict for the
summary, XCom and the mail: ids and counts, never a name, e-mail or INSZ. No Airflow import."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from typing import Any

from informat_client.masking import get_logger
from informat_pipelines.core.object_store import is_missing

from . import safety
from .build import ExportInvalid, School, build
from .clean import ENTITIES, MissingTable, Reader, find
from .settings import RosterSettings

log = get_logger(__name__)
FORMATS = ("sds", "oneroster")


def dated_key(fmt: str, day: date | str, instelling: str) -> str:
    return f"exports/{fmt}/{day}/{instelling}.zip"


def latest_key(fmt: str, instelling: str) -> str:
    return f"exports/{fmt}/latest/{instelling}.zip"


def held_prefix(day: date | str, instelling: str) -> str:
    return f"exports/held/{day}/{instelling}/"


@dataclass(frozen=True)
class Target:
    """Where a run reads and writes: the data bucket (through ``s3``), the schooljaar and day."""

    s3: Any
    bucket: str
    schooljaar: str
    day: date


def _last_good(target: Target, instelling: str, reader: Reader) -> tuple[set, set] | None:
    path = reader.folder / f"last-{instelling}.zip"
    try:
        target.s3.download_file(target.bucket, latest_key("sds", instelling), str(path))
    except Exception as exc:
        if is_missing(exc):
            return None
        raise
    try:
        return safety.exported_ids(path)
    finally:
        path.unlink(missing_ok=True)


def _copy(target: Target, source: str, key: str) -> None:
    target.s3.copy_object(
        Bucket=target.bucket, Key=key, CopySource={"Bucket": target.bucket, "Key": source}
    )


def export_school(target: Target, instelling: str, settings: RosterSettings) -> dict[str, Any]:
    """Build, check and publish (or hold) one school's export; its outcome for the summary."""
    school = School(instelling, target.schooljaar, target.day, settings.instellingen[instelling])
    outcome: dict[str, Any] = {"instelling": instelling, "state": "failed"}
    with Reader(target.s3, target.bucket, settings.batch_rows) as reader:
        try:
            sources = {e: find(target.s3, target.bucket, e, (target.schooljaar, instelling),
                               target.day) for e in ENTITIES}  # fmt: skip
            built = build(reader, school, settings, sources)
        except (MissingTable, ExportInvalid) as exc:
            log.error("roster export of instelling %s not built: %s", instelling, exc)
            return {**outcome, "problem": str(exc)}
        last = _last_good(target, instelling, reader)
        drop = safety.check(last, (built.user_ids, built.class_ids), settings)
        outcome.update(
            rows=built.rows,
            users=len(built.user_ids),
            classes=len(built.class_ids),
            disabled=built.disabled,
            left_out=dict(built.left_out.counts),
            left_out_ids={k: list(v) for k, v in built.left_out.ids.items()},
            sources=built.sources,
            dropped={"users": len(drop.users), "classes": len(drop.classes),
                     "last_users": drop.last_users, "last_classes": drop.last_classes},
        )  # fmt: skip
        zips = {"sds": built.sds_zip, "oneroster": built.oneroster_zip}
        if drop.held:
            prefix = held_prefix(target.day, instelling)
            for fmt, path in zips.items():
                target.s3.upload_file(str(path), target.bucket, f"{prefix}{fmt}.zip")
            target.s3.put_object(
                Bucket=target.bucket, Key=f"{prefix}dropped.csv", Body=drop.as_csv(),
                ContentType="text/csv",
            )  # fmt: skip
            log.warning("roster export of instelling %s held: %s", instelling, drop.reason)
            return {**outcome, "state": "held", "reason": drop.reason, "held": prefix}
        for fmt, path in zips.items():
            target.s3.upload_file(str(path), target.bucket, dated_key(fmt, target.day, instelling))
            _copy(target, dated_key(fmt, target.day, instelling), latest_key(fmt, instelling))
    log.info("roster export of instelling %s published (%d users)", instelling, outcome["users"])
    return {**outcome, "state": "published", "reason": drop.reason}


def release(target: Target, instelling: str) -> None:
    """A held export approved by a person: published as if it had passed the drop check."""
    prefix = held_prefix(target.day, instelling)
    for fmt in FORMATS:
        _copy(target, f"{prefix}{fmt}.zip", dated_key(fmt, target.day, instelling))
        _copy(target, dated_key(fmt, target.day, instelling), latest_key(fmt, instelling))
    log.info("held roster export of instelling %s approved and published", instelling)


def run(target: Target, instellingsnummers: Iterable[str], settings: RosterSettings) -> dict:
    """Every instelling of the connection: the opted-in ones exported, the others listed as not
    opted in (nothing read, nothing written)."""
    schools = []
    for instelling in sorted(set(instellingsnummers)):
        if instelling not in settings.instellingen:
            schools.append({"instelling": instelling, "state": "not_opted_in"})
            continue
        schools.append(export_school(target, instelling, settings))
    unknown = sorted(set(settings.instellingen) - set(instellingsnummers))
    return {
        "version": 1,
        "date": target.day.isoformat(),
        "schooljaar": target.schooljaar,
        "register": settings.register(),
        "schools": schools,
        "not_in_connection": unknown,
        "held": [s["instelling"] for s in schools if s["state"] == "held"],
        "failed": [s["instelling"] for s in schools if s["state"] == "failed"],
    }
