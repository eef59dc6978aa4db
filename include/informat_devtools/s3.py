"""A local S3-compatible HTTP endpoint (moto's server) on 127.0.0.1, with the project's buckets."""

from __future__ import annotations

import contextlib
from typing import Any

from informat_airflow.wiring import DEFAULT_ARCHIVE_BUCKET, DEFAULT_DATA_BUCKET

DEFAULT_BUCKETS = (DEFAULT_DATA_BUCKET, DEFAULT_ARCHIVE_BUCKET)
# moto accepts any credentials; these are placeholders, not secrets
ACCESS_KEY = "local-access-key"
SECRET_KEY = "local-secret-key"  # noqa: S105 - a placeholder for a local fake endpoint
REGION = "eu-west-1"


class LocalS3:
    def __init__(self, host: str = "127.0.0.1", port: int = 0) -> None:
        from moto.server import ThreadedMotoServer

        self._server = ThreadedMotoServer(ip_address=host, port=port, verbose=False)
        self.host = host
        self.port = port

    def start(self, buckets: tuple[str, ...] = DEFAULT_BUCKETS) -> LocalS3:
        import logging

        logging.getLogger("werkzeug").setLevel(logging.WARNING)  # no line per request
        self._server.start()
        self.port = self._server._server.server_port  # the port actually bound
        make_buckets(self.client(), buckets)
        return self

    def stop(self) -> None:
        self._server.stop()

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    def client(self) -> Any:
        return client_for(self.url)

    def connection_extra(self) -> dict[str, Any]:
        """The extra of an Airflow ``aws`` connection to this endpoint."""
        return {
            "endpoint_url": self.url,
            "region_name": REGION,
            "config_kwargs": {
                "request_checksum_calculation": "when_required",
                "response_checksum_validation": "when_required",
                "s3": {"addressing_style": "path"},
            },
        }

    def __enter__(self) -> LocalS3:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


def client_for(url: str) -> Any:
    """A boto3 client of the S3-compatible endpoint at ``url`` (moto's server, in this process
    or another)."""
    import boto3

    return boto3.client(
        "s3",
        endpoint_url=url,
        aws_access_key_id=ACCESS_KEY,
        aws_secret_access_key=SECRET_KEY,
        region_name=REGION,
    )


def make_buckets(client: Any, buckets: tuple[str, ...] = DEFAULT_BUCKETS) -> None:
    for bucket in buckets:
        # moto keeps its state per process: an earlier endpoint may have made the bucket
        with contextlib.suppress(client.exceptions.BucketAlreadyOwnedByYou):
            client.create_bucket(
                Bucket=bucket,
                CreateBucketConfiguration={"LocationConstraint": REGION},
                ObjectLockEnabledForBucket=bucket.endswith("archive"),
            )
