"""The drop zone of the inschrijvingen push, built from Airflow's connections: a local folder
(FSHook connection ``informat_dropzone``) or an S3 prefix (connection ``informat_s3``)."""

from __future__ import annotations

import os
from typing import TYPE_CHECKING

from informat_airflow.wiring import AWS_CONN_ID, DEFAULT_DATA_BUCKET, DROPZONE_CONN_ID

if TYPE_CHECKING:  # imported when used: the push DAG reads location() when it is parsed
    from informat_pipelines.voorinschrijvingen.dropzone import LocalDropZone, S3DropZone


def location() -> tuple[str, str, str]:
    """Where schools drop their files, read from the environment each time (cheap, so a DAG can
    read it when it is parsed): kind (``s3`` or ``local``), bucket and prefix. The push DAG and
    its follow-up read the same drop zone."""
    return (
        os.environ.get("INFORMAT_DROP_ZONE", "s3"),
        os.environ.get("INFORMAT_DROP_ZONE_BUCKET", DEFAULT_DATA_BUCKET),
        os.environ.get("INFORMAT_DROP_ZONE_PREFIX", "inschrijvingen"),
    )


def drop_zone() -> LocalDropZone | S3DropZone:
    """The drop zone where the environment says it is."""
    return open_zone(*location())


def open_zone(kind: str, bucket: str, prefix: str) -> LocalDropZone | S3DropZone:
    """A local drop zone (the folder of the connection ``informat_dropzone``; ``bucket`` and
    ``prefix`` are not used) or an S3 one (connection ``informat_s3``)."""
    if kind == "local":
        from airflow.providers.standard.hooks.filesystem import FSHook

        from informat_pipelines.voorinschrijvingen.dropzone import LocalDropZone

        return LocalDropZone(FSHook(DROPZONE_CONN_ID).get_path(), settle_seconds=5)
    if kind == "s3":
        from airflow.providers.amazon.aws.hooks.s3 import S3Hook

        from informat_pipelines.voorinschrijvingen.dropzone import S3DropZone

        return S3DropZone(S3Hook(aws_conn_id=AWS_CONN_ID).get_conn(), bucket, prefix)
    raise ValueError(f"INFORMAT_DROP_ZONE must be 's3' or 'local', not {kind!r}")


def describe(kind: str, bucket: str, prefix: str) -> str:
    """Where a drop zone is, for a message (no secret: a bucket or a connection's name)."""
    if kind == "s3":
        return f"s3://{bucket}/{prefix}"
    return f"the folder of the connection {DROPZONE_CONN_ID}"


def inbox(kind: str, bucket: str, prefix: str) -> list[str]:
    """The files in a drop zone's inbox that the push would take (the sensor and its trigger
    ask this)."""
    return open_zone(kind, bucket, prefix).inbox()
