"""The S3 clients of the extraction, from Airflow's connections: the data bucket through
``informat_s3``, the raw answers through ``informat_s3_raw`` when that connection exists (its own
credentials, its own bucket), else through ``informat_s3`` too."""

from __future__ import annotations

from typing import Any

from informat_airflow.wiring import AWS_CONN_ID, RAW_AWS_CONN_ID, raw_bucket


def s3_client(conn_id: str = AWS_CONN_ID) -> Any:
    from airflow.providers.amazon.aws.hooks.s3 import S3Hook

    return S3Hook(aws_conn_id=conn_id).get_conn()


def raw_store() -> tuple[Any, str]:
    """(boto3 client, bucket) of the raw layer."""
    from informat_airflow.notify import connection_exists

    conn_id = RAW_AWS_CONN_ID if connection_exists(RAW_AWS_CONN_ID) else AWS_CONN_ID
    return s3_client(conn_id), raw_bucket()
