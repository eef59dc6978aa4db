"""Holding a partition whose changes are too large to be true: compared by id with the last
published state (the delta state for delta entities, the last clean Parquet for the others), a
valid partition that adds, removes or changes more than its threshold is **held**: stored apart
under ``held/<its path>/`` with a CSV of the changes by pseudonymised id, not published, until a
person approves (published then, its baseline moves) or rejects (nothing published, the old data
stays). A partition failing an expectation is quarantined before this: no approval publishes bad
data. The first run of a partition (no baseline) is never held. No Airflow import.

The threshold is public practice for school-data syncs (a Flemish school group's Informat sync
parks a run when at least 5 records and more than 20 % of a type would change): ``hold_share``
and ``hold_min_changes`` of :class:`.settings.ExtractSettings`, per entity in ``hold_entities``;
a removal counts ``hold_removal_weight`` times (a school's pupils vanishing is the costly
mistake, new pupils are not).
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from informat_client.masking import get_logger
from informat_pipelines.core.decisions import APPROVED, TIMED_OUT
from informat_pipelines.core.object_store import is_missing, read_json

from . import delta
from .paths import marker_key, partition_path
from .schemas import ENTITIES

if TYPE_CHECKING:
    from .settings import ExtractSettings
    from .shapes import Partition, RunContext

log = get_logger(__name__)

HELD = "held"
# the only columns of a changes CSV: the entity's id and the INSZ's keyed hash, never a name,
# an INSZ or any other value of the record
PSEUDONYM_COLUMN = "inszHash"


@dataclass(frozen=True)
class Rule:
    share: float | None  # None: never held
    min_changes: int
    removal_weight: float


def rule_for(settings: ExtractSettings, entity: str) -> Rule:
    """The entity's threshold: its own entries in ``hold_entities`` over the general ones."""
    own = settings.hold_entities.get(entity, {})
    return Rule(
        own.get("share", settings.hold_share),
        int(own.get("min_changes", settings.hold_min_changes)),
        float(own.get("removal_weight", settings.hold_removal_weight)),
    )


@dataclass
class Changes:
    """A partition against its baseline, by id: which records it adds, removes and changes,
    each with its pseudonym (``inszHash``) where the entity has one."""

    baseline_rows: int
    added: list[tuple[Any, Any]] = field(default_factory=list)
    removed: list[tuple[Any, Any]] = field(default_factory=list)
    changed: list[tuple[Any, Any]] = field(default_factory=list)

    def counts(self) -> dict[str, int]:
        return {
            "added": len(self.added),
            "removed": len(self.removed),
            "changed": len(self.changed),
            "baseline_rows": self.baseline_rows,
        }

    def weight(self, rule: Rule) -> float:
        return len(self.added) + len(self.changed) + rule.removal_weight * len(self.removed)

    def csv(self) -> bytes:
        out = io.StringIO()
        writer = csv.writer(out, lineterminator="\n")
        writer.writerow(["change", "id", PSEUDONYM_COLUMN])
        for kind, records in (
            ("added", self.added),
            ("removed", self.removed),
            ("changed", self.changed),
        ):
            for record_id, pseudonym in records:
                writer.writerow([kind, record_id, pseudonym or ""])
        return out.getvalue().encode()


def is_held(changes: Changes, rule: Rule) -> bool:
    """At least ``min_changes`` (weighted) and more than ``share`` of the baseline's records."""
    if rule.share is None:
        return False
    weight = changes.weight(rule)
    return weight >= rule.min_changes and weight > rule.share * changes.baseline_rows


def _records(
    path: str | Path, key: str | tuple[str, ...], names: list[str]
) -> dict[Any, tuple[tuple, Any]]:
    """Each record by its key (a compound key as ``a/b``): its values (the columns ``names``)
    and its pseudonym."""
    import pyarrow.parquet as pq

    table = pq.read_table(path)
    columns = [table[n].to_pylist() for n in names]
    key_columns = (key,) if isinstance(key, str) else key
    parts = [table[c].to_pylist() for c in key_columns]
    ids = parts[0] if len(parts) == 1 else ["/".join(map(str, v)) for v in zip(*parts, strict=True)]
    pseudonyms = (
        table[PSEUDONYM_COLUMN].to_pylist()
        if PSEUDONYM_COLUMN in table.column_names
        else [None] * table.num_rows
    )
    return {
        ids[i]: (tuple(zip(names, (c[i] for c in columns), strict=True)), pseudonyms[i])
        for i in range(table.num_rows)
    }


def diff(baseline: str | Path, new: str | Path, key: str | tuple[str, ...]) -> Changes:
    """Added, removed and changed records of ``new`` against ``baseline``, by ``key`` (a column,
    or the columns of a compound key). Only the columns both have are compared: a column the
    project added since the baseline is no change of Informat's records."""
    import pyarrow.parquet as pq

    shared = sorted(set(pq.read_schema(baseline).names) & set(pq.read_schema(new).names))
    old, now = _records(baseline, key, shared), _records(new, key, shared)
    changes = Changes(baseline_rows=len(old))
    for record_id, (values, pseudonym) in now.items():
        if record_id not in old:
            changes.added.append((record_id, pseudonym))
        elif old[record_id][0] != values:
            changes.changed.append((record_id, pseudonym))
    changes.removed = [(i, p) for i, (_, p) in old.items() if i not in now]
    return changes


def _download(s3: Any, bucket: str, key: str, target: Path) -> Path | None:
    from botocore.exceptions import ClientError

    try:
        s3.download_file(bucket, key, str(target))
    except ClientError as exc:
        if is_missing(exc):
            return None
        raise
    return target


def last_clean_key(s3: Any, bucket: str, part: Partition) -> str | None:
    """The partition's latest clean Parquet file up to its day, or None."""

    prefix = partition_path(part).rsplit("/date=", 1)[0] + "/date="
    newest = None
    for page in s3.get_paginator("list_objects_v2").paginate(
        Bucket=bucket, Prefix=f"clean/{prefix}"
    ):
        for item in page.get("Contents", []):
            key = item["Key"]
            day = key[len(f"clean/{prefix}") :].split("/", 1)[0]
            if key.endswith("/data.parquet") and day <= part.day.isoformat():
                newest = max(newest or key, key)
    return newest


def baseline(run: RunContext, part: Partition, workdir: Path) -> Path | None:
    """The partition's last published state: the delta state for a delta entity (what the next
    delta merges into), else (or without one) the last clean Parquet file; None the first time."""
    target = workdir / "baseline.parquet"
    if part.entity in delta.DELTA_ENTITIES:
        prefix = delta.state_prefix(part.entity, part.schooljaar, part.key)
        if _download(run.s3, run.bucket, f"{prefix}/current.parquet", target):
            return target
    key = last_clean_key(run.s3, run.bucket, part)
    return _download(run.s3, run.bucket, key, target) if key else None


def check(run: RunContext, part: Partition, parquet: str, workdir: Path) -> Changes | None:
    """The partition's changes when they are over its threshold (held), else None."""
    rule = rule_for(run.settings, part.entity)
    if rule.share is None:
        return None
    old = baseline(run, part, workdir)
    if old is None:  # the first run of the partition: nothing to compare with
        return None
    changes = diff(old, parquet, ENTITIES[part.entity].key_columns)
    return changes if is_held(changes, rule) else None


def held_prefix(part: Partition) -> str:

    return f"{HELD}/{partition_path(part)}"


def store_held(
    run: RunContext,
    part: Partition,
    parquet: str,
    raw: str,
    changes: Changes,
    started: dt.datetime,
) -> dict[str, Any]:
    """The held partition under ``held/<path>/`` (its typed file, the changes CSV and what a
    later approval needs; its raw answer in the raw store); what the outcome says of it."""
    prefix = held_prefix(part)
    raw_s3, raw_bucket = run.raw or (run.s3, run.bucket)
    raw_s3.upload_file(raw, raw_bucket, f"{prefix}/raw.jsonl.gz")
    run.s3.upload_file(parquet, run.bucket, f"{prefix}/data.parquet")
    run.s3.put_object(
        Bucket=run.bucket, Key=f"{prefix}/changes.csv", Body=changes.csv(), ContentType="text/csv"
    )
    return {
        **changes.counts(),
        "changes": f"{prefix}/changes.csv",
        "started": started.isoformat(),
        "decision": None,
        # the run whose review decides: the page links its required action
        "run_id": run.run_id,
    }


# ------------------------------------------------------------------------- outcomes


def is_published(outcome: Mapping[str, Any]) -> bool:
    """Whether the partition's data reached ``clean/``: valid, read, and not held (or held and
    approved)."""
    if not outcome["success"] or outcome.get("skipped"):
        return False
    held = outcome.get("held")
    return not held or held.get("decision") == APPROVED


def is_waiting(outcome: Mapping[str, Any]) -> bool:
    """Held and not decided yet."""
    held = outcome.get("held")
    return held is not None and held.get("decision") is None


def waiting(run: RunContext, parts: Iterable[Partition]) -> list[tuple[Partition, dict[str, Any]]]:
    """This run's held partitions that wait for a decision, with their outcomes."""

    found = []
    for part in parts:
        marker = read_json(run.s3, run.bucket, marker_key(part))
        if marker and marker["run_id"] == run.run_id and is_waiting(marker["outcome"]):
            found.append((part, marker["outcome"]))
    return found


def _save_outcome(run: RunContext, part: Partition, outcome: dict[str, Any]) -> None:

    body = json.dumps({"run_id": run.run_id, "outcome": outcome}, default=str).encode()
    run.s3.put_object(Bucket=run.bucket, Key=marker_key(part), Body=body)


def _delete(s3: Any, bucket: str, key: str) -> None:
    from botocore.exceptions import ClientError

    try:
        s3.delete_object(Bucket=bucket, Key=key)
    except ClientError as exc:
        if not is_missing(exc):
            raise


def release(run: RunContext, part: Partition, outcome: dict[str, Any]) -> dict[str, Any]:
    """Approved: the held partition is published to ``clean/`` (its raw answer to ``raw/``), a
    delta entity's state and watermark move to it, and its outcome says so."""

    where, prefix = partition_path(part), held_prefix(part)
    s3, bucket = run.s3, run.bucket
    raw_s3, raw_bucket = run.raw or (s3, bucket)
    raw_key, clean_key = f"raw/{where}/data.jsonl.gz", f"clean/{where}/data.parquet"
    raw_s3.copy_object(
        Bucket=raw_bucket,
        Key=raw_key,
        CopySource={"Bucket": raw_bucket, "Key": f"{prefix}/raw.jsonl.gz"},
    )
    source = {"Bucket": bucket, "Key": f"{prefix}/data.parquet"}
    s3.copy_object(Bucket=bucket, Key=clean_key, CopySource=source)
    if part.entity in delta.DELTA_ENTITIES:
        # state first, then its watermark (as delta.save_state): a watermark never runs ahead
        state = delta.state_prefix(part.entity, part.schooljaar, part.key)
        s3.copy_object(Bucket=bucket, Key=f"{state}/current.parquet", CopySource=source)
        body = json.dumps({"started": outcome["held"]["started"]}).encode()
        s3.put_object(
            Bucket=bucket,
            Key=delta.watermark_key(part.entity, part.schooljaar, part.key),
            Body=body,
        )
    _delete(raw_s3, raw_bucket, f"{prefix}/raw.jsonl.gz")
    _delete(s3, bucket, f"{prefix}/data.parquet")
    outcome = {
        **outcome,
        "held": {**outcome["held"], "decision": APPROVED},
        "keys": {"raw": raw_key, "clean": clean_key},
    }
    _save_outcome(run, part, outcome)
    log.info("%s %s: held partition approved and published", part.entity, part.key)
    return outcome


def keep_old(
    run: RunContext, part: Partition, outcome: dict[str, Any], decision: str
) -> dict[str, Any]:
    """Rejected (or no answer in time): nothing is published, the held data is deleted (the
    changes CSV stays, for the report's link), the old clean data and baseline stay."""
    prefix = held_prefix(part)
    raw_s3, raw_bucket = run.raw or (run.s3, run.bucket)
    _delete(raw_s3, raw_bucket, f"{prefix}/raw.jsonl.gz")
    _delete(run.s3, run.bucket, f"{prefix}/data.parquet")
    outcome = {**outcome, "held": {**outcome["held"], "decision": decision}}
    _save_outcome(run, part, outcome)
    log.info("%s %s: held partition not published (%s)", part.entity, part.key, decision)
    return outcome


# ------------------------------------------------------------------------- the review


def _line(part: Partition, held: Mapping[str, Any]) -> tuple[str, ...]:
    return (
        part.entity,
        part.key,
        str(held["added"]),
        str(held["removed"]),
        str(held["changed"]),
        str(held["baseline_rows"]),
        held["changes"],
    )


def review_body(held: list[tuple[Partition, dict[str, Any]]], bucket: str) -> str:
    """The review's text (Markdown, as Airflow's required-actions page shows it): each held
    partition with its counts and its changes CSV. Counts and keys only."""
    rows = "\n".join(
        "| {} | {} | {} | {} | {} | {} | `{}` |".format(*_line(p, o["held"])) for p, o in held
    )
    day = held[0][0].day.isoformat() if held else ""
    return (
        f"**Held, not published** ({len(held)} partition(s) of {day}): each changes more of its "
        "records than its threshold (`hold_share`, `hold_min_changes`) against what was last "
        "published. They passed the data-quality expectations (a failing partition is "
        "quarantined, never held).\n\n"
        "| entity | instelling / toegangsgroep | added | removed | changed | last published | "
        "changes (CSV, by pseudonymised id) |\n|---|---|---|---|---|---|---|\n"
        f"{rows}\n\n"
        f"The CSVs are in the bucket `{bucket}`.\n\n"
        "**Approve**: publish them to `clean/` and move their baseline. **Reject**: publish "
        "nothing, the old data stays. No answer in time: the old data stays (Reject)."
    )


def held_mail(
    held: list[tuple[Partition, dict[str, Any]]], bucket: str, link: str | None, hours: float
) -> tuple[str, str]:
    """Subject and HTML body of the data team's mail that partitions are held."""
    import html

    items = "".join(
        "<li>{} {}: {} added, {} removed, {} changed of {} (changes: s3://{}/{})</li>".format(
            *(html.escape(v) for v in _line(p, o["held"])[:6]),
            html.escape(bucket),
            html.escape(o["held"]["changes"]),
        )
        for p, o in held
    )
    day = held[0][0].day.isoformat() if held else ""
    where = (
        f'<a href="{html.escape(link)}">{html.escape(link)}</a>'
        if link
        else "the task 'review' of the run, under Required actions in Airflow's UI"
    )
    subject = f"[Informat] Extraction {day}: {len(held)} partition(s) held for review"
    body = (
        f"<html><body><p>Held, not published (not quarantined: they passed the data-quality "
        f"expectations), as their changes exceed the threshold:</p><ul>{items}</ul>"
        f"<p>Approve or reject: {where}. Without an answer within {math.floor(hours)} hours "
        "the old data stays (not published).</p></body></html>"
    )
    return subject, body


def kept_mail(decided: list[tuple[Partition, dict[str, Any]]], decision: str) -> tuple[str, str]:
    """Subject and HTML body of the data team's mail that held partitions were not published."""
    import html

    why = "nobody answered the review in time" if decision == TIMED_OUT else "the review rejected"
    items = "".join(f"<li>{html.escape(p.entity)} {html.escape(p.key)}</li>" for p, _ in decided)
    day = decided[0][0].day.isoformat() if decided else ""
    subject = f"[Informat] Extraction {day}: {len(decided)} held partition(s) not published"
    body = (
        f"<html><body><p>Held partitions not published ({html.escape(why)}): the old data stays "
        f"in clean/.</p><ul>{items}</ul><p>They will be compared again on the next run.</p>"
        "</body></html>"
    )
    return subject, body
