"""How long raw answers are kept: ``raw/`` and ``quarantine/`` hold what Informat answered (the
INSZ pseudonymised or dropped, but names and addresses as they came), there to replay or inspect
a recent day, not to be a second archive of children's data. Partitions older than
``raw_retention_days`` are deleted by the extraction's report task (a listing of those two
prefixes, which the retention itself keeps bounded). No Airflow import."""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

from informat_client.masking import get_logger

log = get_logger(__name__)

_DATE = re.compile(r"/date=(\d{4}-\d{2}-\d{2})/")
# held/: a held partition's data, kept until its review decides (and its changes CSV)
PREFIXES = ("raw/", "quarantine/", "held/")


def expire(
    s3: Any, bucket: str, today: dt.date, days: int, prefixes: tuple[str, ...] = PREFIXES
) -> int:
    """Delete raw and quarantined partitions dated more than ``days`` before ``today``; the
    number of objects deleted."""
    oldest = (today - dt.timedelta(days=days)).isoformat()
    doomed = []
    paginator = s3.get_paginator("list_objects_v2")
    for prefix in prefixes:
        for page in paginator.paginate(Bucket=bucket, Prefix=prefix):
            for item in page.get("Contents", []):
                found = _DATE.search(item["Key"])
                if found and found.group(1) < oldest:
                    doomed.append(item["Key"])
    for start in range(0, len(doomed), 1000):  # DeleteObjects takes at most 1000 keys
        objects = [{"Key": key} for key in doomed[start : start + 1000]]
        s3.delete_objects(Bucket=bucket, Delete={"Objects": objects, "Quiet": True})
    if doomed:
        log.info("raw retention: %d object(s) older than %d day(s) deleted", len(doomed), days)
    return len(doomed)


def expire_everywhere(s3: Any, bucket: str, raw: tuple[Any, str], today: dt.date, days: int) -> int:
    """The raw layer, wherever it is (its own bucket or raw/ beside clean/), the quarantined
    Parquet files beside clean/, and the extraction's partition markers."""
    raw_s3, raw_bucket = raw
    deleted = expire(raw_s3, raw_bucket, today, days)
    # the batches' partition markers (outcomes, no data) go with the raw answers of their day
    beside = ("state/partitions/",) + (("quarantine/", "held/") if raw_bucket != bucket else ())
    return deleted + expire(s3, bucket, today, days, prefixes=beside)
