"""The drop zone of the inschrijvingen push, built from Airflow's connections: a local folder
(FSHook connection ``informat_dropzone``) or an S3 prefix (connection ``informat_s3``)."""

from __future__ import annotations

import os
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # imported when used: the push DAG reads location() when it is parsed
    from informat_pipelines.dropzone import LocalDropZone, S3DropZone


def location() -> tuple[str, str, str]:
    """Where schools drop their files, read from the environment each time (cheap, so a DAG can
    read it when it is parsed): kind (``s3`` or ``local``), bucket and prefix. The push DAG and
    its follow-up read the same drop zone."""
    return (
        os.environ.get("INFORMAT_DROP_ZONE", "s3"),
        os.environ.get("INFORMAT_DROP_ZONE_BUCKET", "informat-data"),
        os.environ.get("INFORMAT_DROP_ZONE_PREFIX", "inschrijvingen"),
    )


def drop_zone() -> LocalDropZone | S3DropZone:
    """The drop zone where the environment says it is."""
    from informat_pipelines.dropzone import LocalDropZone

    kind, bucket, prefix = location()
    if kind == "local":
        from airflow.providers.standard.hooks.filesystem import FSHook

        return LocalDropZone(FSHook("informat_dropzone").get_path(), settle_seconds=5)
    if kind == "s3":
        return _s3_zone("informat_s3", bucket, prefix)
    raise ValueError(f"INFORMAT_DROP_ZONE must be 's3' or 'local', not {kind!r}")


def _s3_zone(aws_conn_id: str, bucket: str, prefix: str) -> S3DropZone:
    from airflow.providers.amazon.aws.hooks.s3 import S3Hook

    from informat_pipelines.dropzone import S3DropZone

    return S3DropZone(S3Hook(aws_conn_id=aws_conn_id).get_conn(), bucket, prefix)


def s3_inbox(aws_conn_id: str, bucket: str, prefix: str) -> list[str]:
    """The files in an S3 drop zone's inbox that the push would take (its sensor asks this)."""
    return _s3_zone(aws_conn_id, bucket, prefix).inbox()
