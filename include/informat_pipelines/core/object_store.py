"""Reading an S3-compatible store where only a missing object means "not there". No access or
the store failing is an error, never taken for an absence: a baseline, a state, a key
fingerprint or a claim read as missing would make a run decide wrongly. No Airflow import."""

from __future__ import annotations

import json
from typing import Any

MISSING_CODES = ("404", "NoSuchKey", "NotFound")


def is_missing(exc: Exception) -> bool:
    """Whether a botocore ``ClientError`` says the object (or key) does not exist."""
    return getattr(exc, "response", {}).get("Error", {}).get("Code") in MISSING_CODES


def read_json(s3: Any, bucket: str, key: str) -> Any | None:
    """The JSON object at ``key``; None when there is none. Any other error is raised."""
    from botocore.exceptions import ClientError

    try:
        body = s3.get_object(Bucket=bucket, Key=key)["Body"].read()
    except ClientError as exc:
        if is_missing(exc):
            return None
        raise
    return json.loads(body)
