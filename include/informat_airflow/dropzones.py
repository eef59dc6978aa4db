"""The drop zone of the inschrijvingen push, built from Airflow's connections: a local folder
(FSHook connection ``informat_dropzone``) or an S3 prefix (connection ``informat_s3``), and
where the pipeline keeps its state, out of the schools' reach: for S3 a prefix of the data
bucket (``INFORMAT_DROP_ZONE_STATE_BUCKET``, ``INFORMAT_DROP_ZONE_STATE_PREFIX``), for a folder
the connection's extra ``state_path`` (by default the folder beside it, ``<path>.state``)."""

from __future__ import annotations

import os
from typing import TYPE_CHECKING

from informat_airflow.wiring import AWS_CONN_ID, DEFAULT_DATA_BUCKET, DROPZONE_CONN_ID

if TYPE_CHECKING:  # imported when used: the push DAG reads location() when it is parsed
    from informat_pipelines.voorinschrijvingen.local_zone import LocalDropZone
    from informat_pipelines.voorinschrijvingen.s3_zone import S3DropZone


def location() -> tuple[str, str, str]:
    """Where schools drop their files, read from the environment each time (cheap, so a DAG can
    read it when it is parsed): kind (``s3`` or ``local``), bucket and prefix. The push DAG and
    its follow-up read the same drop zone."""
    return (
        os.environ.get("INFORMAT_DROP_ZONE", "s3"),
        os.environ.get("INFORMAT_DROP_ZONE_BUCKET", DEFAULT_DATA_BUCKET),
        os.environ.get("INFORMAT_DROP_ZONE_PREFIX", "inschrijvingen"),
    )


def state_location() -> tuple[str, str]:
    """Where an S3 drop zone's state is: bucket (by default the data bucket) and prefix."""
    from informat_airflow.wiring import data_bucket

    return (
        os.environ.get("INFORMAT_DROP_ZONE_STATE_BUCKET") or data_bucket(),
        os.environ.get("INFORMAT_DROP_ZONE_STATE_PREFIX", "dropzone-state"),
    )


def drop_zone() -> LocalDropZone | S3DropZone:
    """The drop zone where the environment says it is."""
    return open_zone(*location())


def open_zone(kind: str, bucket: str, prefix: str) -> LocalDropZone | S3DropZone:
    """A local drop zone (the folder of the connection ``informat_dropzone``; ``bucket`` and
    ``prefix`` are not used) or an S3 one (connection ``informat_s3``)."""
    if kind == "local":
        from airflow.providers.standard.hooks.filesystem import FSHook

        from informat_pipelines.voorinschrijvingen.local_zone import LocalDropZone

        hook = FSHook(DROPZONE_CONN_ID)
        state = hook.conn.extra_dejson.get("state_path") or None
        return LocalDropZone(hook.get_path(), settle_seconds=5, state=state)
    if kind == "s3":
        from airflow.providers.amazon.aws.hooks.s3 import S3Hook

        from informat_pipelines.voorinschrijvingen.s3_zone import S3DropZone

        state_bucket, state_prefix = state_location()
        client = S3Hook(aws_conn_id=AWS_CONN_ID).get_conn()
        return S3DropZone(
            client, bucket, prefix, state_bucket=state_bucket, state_prefix=state_prefix
        )
    raise ValueError(f"INFORMAT_DROP_ZONE must be 's3' or 'local', not {kind!r}")


def describe(kind: str, bucket: str, prefix: str) -> str:
    """Where a drop zone is, for a message (no secret: a bucket or a connection's name)."""
    if kind == "s3":
        return f"s3://{bucket}/{prefix}"
    return f"the folder of the connection {DROPZONE_CONN_ID}"


def inbox(kind: str, bucket: str, prefix: str) -> list[str]:
    """The files in a drop zone's inbox that the push would take (the sensor and its trigger
    ask this): ``<instellingsnummer>/<file>``, or a bare name for a file outside a school's
    folder (which the push refuses with a message)."""
    return open_zone(kind, bucket, prefix).inbox()
