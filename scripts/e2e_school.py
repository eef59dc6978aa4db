"""A check of `make e2e`: a school's own S3 credential, with the per-school policy the README
documents, reaches exactly its own folders of the drop zone. An S3-compatible endpoint that
enforces IAM policies (moto's server, on 127.0.0.1, with its IAM authentication on) holds the
drop zone's bucket and the data bucket; the pipeline's own side is the project's S3DropZone. The
school's user puts a file into its inbox (the pipeline's inbox() finds it) and reads its report,
and is refused on another school's folders, on writing its own outbox and on the pipeline's
state, in both buckets."""

from __future__ import annotations

import json
import logging
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "include"))

from informat_airflow.wiring import DEFAULT_DATA_BUCKET as DATA_BUCKET  # noqa: E402

DROPZONE_BUCKET, PREFIX = "informat-dropzone", "inschrijvingen"


def documented_policy() -> dict[str, Any]:
    """The per-school policy as the README shows it (for instelling 990011)."""
    block = (ROOT / "README.md").read_text().split("<!-- school-policy -->", 1)[1]
    return json.loads(block.split("```json", 1)[1].split("```", 1)[0])


def _client(service: str, url: str, key: str, secret: str) -> Any:
    import boto3

    return boto3.client(
        service,
        endpoint_url=url,
        region_name="eu-west-1" if service == "s3" else "us-east-1",
        aws_access_key_id=key,
        aws_secret_access_key=secret,
    )


def school_credential(check: Callable[[bool, str], None]) -> None:
    """Runs the check against an endpoint of its own; ``check(ok, what)`` records each result."""
    from botocore.exceptions import ClientError
    from moto.core import enable_iam_authentication
    from moto.server import ThreadedMotoServer

    from informat_devtools.ports import free_port
    from informat_pipelines.voorinschrijvingen.s3_zone import S3DropZone

    logging.getLogger("werkzeug").setLevel(logging.ERROR)  # no line per request
    port = free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    url = f"http://127.0.0.1:{port}"
    try:
        # the set-up as the MinIO root would make it: buckets, the school's user and policy
        root = _client("s3", url, "root", "root-secret")
        for bucket in (DROPZONE_BUCKET, DATA_BUCKET):
            root.create_bucket(
                Bucket=bucket, CreateBucketConfiguration={"LocationConstraint": "eu-west-1"}
            )
        iam = _client("iam", url, "root", "root-secret")
        iam.create_user(UserName="school-990011")
        policy = iam.create_policy(
            PolicyName="school-990011", PolicyDocument=json.dumps(documented_policy())
        )
        iam.attach_user_policy(UserName="school-990011", PolicyArn=policy["Policy"]["Arn"])
        access = iam.create_access_key(UserName="school-990011")["AccessKey"]
        school = _client("s3", url, access["AccessKeyId"], access["SecretAccessKey"])
        # the pipeline's own user (compose's app user): both buckets
        iam.create_user(UserName="airflow-app")
        app_policy = {
            "Version": "2012-10-17",
            "Statement": [{"Effect": "Allow", "Action": "s3:*", "Resource": "*"}],
        }
        iam.put_user_policy(
            UserName="airflow-app", PolicyName="app", PolicyDocument=json.dumps(app_policy)
        )
        app = iam.create_access_key(UserName="airflow-app")["AccessKey"]
        pipeline = _client("s3", url, app["AccessKeyId"], app["SecretAccessKey"])
        zone = S3DropZone(pipeline, DROPZONE_BUCKET, PREFIX, state_bucket=DATA_BUCKET)

        def allowed(action: str, bucket: str, key: str) -> bool:
            try:
                if action == "put":
                    school.put_object(Bucket=bucket, Key=key, Body=b"x")
                else:
                    school.get_object(Bucket=bucket, Key=key)
            except ClientError as exc:
                return exc.response["Error"]["Code"] not in ("AccessDenied", "403")
            return True

        with enable_iam_authentication():
            put = allowed("put", DROPZONE_BUCKET, f"{PREFIX}/inbox/990011/leerlingen.csv")
            check(put, "a school's credential puts a file into its own inbox")
            check("990011/leerlingen.csv" in zone.inbox(), "the pipeline finds it there")
            zone.write_outbox("990011", "leerlingen.r1.rapport.csv", b"rij;status\n")
            zone.write_outbox("990012", "andere.r1.rapport.csv", b"rij;status\n")
            zone.write_key("ledger/inschrijvingen/r1.jsonl", b"{}\n")
            own = allowed(
                "get", DROPZONE_BUCKET, f"{PREFIX}/outbox/990011/leerlingen.r1.rapport.csv"
            )
            check(own, "the school reads its own report")
            refused = [
                ("put", DROPZONE_BUCKET, f"{PREFIX}/inbox/990012/leerlingen.csv"),
                ("get", DROPZONE_BUCKET, f"{PREFIX}/outbox/990012/andere.r1.rapport.csv"),
                ("put", DROPZONE_BUCKET, f"{PREFIX}/outbox/990011/leerlingen.r1.rapport.csv"),
                ("get", DATA_BUCKET, "dropzone-state/ledger/inschrijvingen/r1.jsonl"),
                ("put", DATA_BUCKET, "dropzone-state/pending/forged.json"),
                ("put", DROPZONE_BUCKET, f"{PREFIX}/processing/r1/990011/leerlingen.csv"),
            ]
            leaks = [f"{a} {b}/{k}" for a, b, k in refused if allowed(a, b, k)]
            check(not leaks, f"refused on the other school and the pipeline's state {leaks or ''}")
    finally:
        server.stop()


if __name__ == "__main__":  # alone: python scripts/e2e_school.py
    results: list[tuple[bool, str]] = []
    school_credential(lambda ok, what: results.append((ok, what)))
    for ok, what in results:
        print(("ok   " if ok else "FAIL ") + what)
    sys.exit(0 if all(ok for ok, _ in results) else 1)
