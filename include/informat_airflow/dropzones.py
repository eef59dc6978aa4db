"""The drop zone of the inschrijvingen push, built from Airflow's connections: a local folder
(FSHook connection ``informat_dropzone``) or an S3 prefix (connection ``informat_s3``)."""

from __future__ import annotations

from informat_pipelines.dropzone import LocalDropZone, S3DropZone


def drop_zone(kind: str, bucket: str, prefix: str) -> LocalDropZone | S3DropZone:
    """The drop zone of ``kind`` (``local`` or ``s3``)."""
    if kind == "local":
        from airflow.providers.standard.hooks.filesystem import FSHook

        return LocalDropZone(FSHook("informat_dropzone").get_path(), settle_seconds=5)
    if kind == "s3":
        from airflow.providers.amazon.aws.hooks.s3 import S3Hook

        return S3DropZone(S3Hook(aws_conn_id="informat_s3").get_conn(), bucket, prefix)
    raise ValueError(f"INFORMAT_DROP_ZONE must be 's3' or 'local', not {kind!r}")
