"""Where archived PDFs live: an S3-compatible bucket behind a small protocol, the keys of a PDF
and of the manifest, and the manifest itself (what is archived and verified, kept in the archive
beside the PDFs). No Airflow import."""

from __future__ import annotations

import base64
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import IO, Any, Protocol

from informat_pipelines.core.object_store import is_missing, read_json


class ObjectStore(Protocol):
    def head(self, key: str) -> dict[str, Any] | None: ...

    def put_pdf(
        self,
        key: str,
        body: IO[bytes],
        sha256_hex: str,
        metadata: Mapping[str, str],
        retain_until: datetime | None,
    ) -> None: ...

    def read(self, key: str) -> bytes: ...

    def keys(self, prefix: str) -> set[str]: ...

    def put_json(self, key: str, value: Any) -> None: ...

    def get_json(self, key: str) -> Any | None: ...


class Boto3Store:
    """An S3-compatible bucket through a boto3 client (in Airflow: ``S3Hook(...).get_conn()``, so
    the connection's ``endpoint_url`` and checksum settings apply)."""

    def __init__(self, client: Any, bucket: str) -> None:
        self.client = client
        self.bucket = bucket

    def head(self, key: str) -> dict[str, Any] | None:
        from botocore.exceptions import ClientError

        try:
            answer = self.client.head_object(Bucket=self.bucket, Key=key, ChecksumMode="ENABLED")
        except ClientError as exc:
            if is_missing(exc):
                return None
            raise
        return {
            "size": answer["ContentLength"],
            "sha256_b64": answer.get("ChecksumSHA256"),
            "metadata": answer.get("Metadata", {}),
        }

    def put_pdf(self, key, body, sha256_hex, metadata, retain_until) -> None:
        extra: dict[str, Any] = {}
        if retain_until is not None:
            extra = {"ObjectLockMode": "GOVERNANCE", "ObjectLockRetainUntilDate": retain_until}
        self.client.put_object(
            Bucket=self.bucket,
            Key=key,
            Body=body,
            ContentType="application/pdf",
            ChecksumAlgorithm="SHA256",
            ChecksumSHA256=base64.b64encode(bytes.fromhex(sha256_hex)).decode(),
            Metadata=dict(metadata),
            **extra,
        )

    def read(self, key: str) -> bytes:
        return self.client.get_object(Bucket=self.bucket, Key=key)["Body"].read()

    def keys(self, prefix: str) -> set[str]:
        """Every key below ``prefix``: one listing (1000 keys a request), not a look per key."""
        found: set[str] = set()
        for page in self.client.get_paginator("list_objects_v2").paginate(
            Bucket=self.bucket, Prefix=prefix
        ):
            found.update(o["Key"] for o in page.get("Contents", []))
        return found

    def put_json(self, key: str, value: Any) -> None:
        body = json.dumps(value, indent=1, sort_keys=True).encode()
        self.client.put_object(
            Bucket=self.bucket, Key=key, Body=body, ContentType="application/json"
        )

    def get_json(self, key: str) -> Any | None:
        return read_json(self.client, self.bucket, key)


def pdf_key(settings: Any, toegangsgroep: str, schooljaar: str, invoice_id: str) -> str:
    return f"{settings.prefix}/{toegangsgroep}/{schooljaar}/{invoice_id}.pdf"


def manifest_key(settings: Any, toegangsgroep: str, schooljaar: str) -> str:
    return f"{settings.prefix}/{toegangsgroep}/{schooljaar}/manifest.json"


@dataclass
class Manifest:
    """What is archived and verified, per invoice, kept in the archive beside the PDFs."""

    key: str
    entries: dict[str, dict[str, Any]] = field(default_factory=dict)
    lost: dict[str, dict[str, Any]] = field(default_factory=dict)
    # the last attempt failed (Informat's job failed, or the PDF was damaged): retried each run
    failed: dict[str, dict[str, Any]] = field(default_factory=dict)
    dirty: int = 0

    @classmethod
    def load(cls, store: ObjectStore, key: str) -> Manifest:
        body = store.get_json(key) or {}
        return cls(
            key,
            dict(body.get("archived", {})),
            dict(body.get("lost", {})),
            dict(body.get("failed", {})),
        )

    def add(self, invoice_id: str, entry: dict[str, Any]) -> None:
        self.entries[invoice_id] = entry
        self.lost.pop(invoice_id, None)
        self.failed.pop(invoice_id, None)
        self.dirty += 1

    def mark_failed(self, invoice_id: str, reason: str, when: str) -> None:
        self.failed[invoice_id] = {"reason": reason, "at": when}
        self.dirty += 1

    def mark_lost(self, invoice_id: str, reason: str, when: str) -> None:
        self.lost.setdefault(invoice_id, {"reason": reason, "first_seen": when})
        self.dirty += 1

    def save(self, store: ObjectStore) -> None:
        if self.dirty:
            body = {"version": 1, "archived": self.entries, "lost": self.lost}
            store.put_json(self.key, body | {"failed": self.failed})
            self.dirty = 0
