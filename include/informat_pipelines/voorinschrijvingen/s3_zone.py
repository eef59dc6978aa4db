"""The drop zone as an S3-compatible bucket, with its state under a prefix of its own (by
default in the data bucket; see :mod:`.dropzone` for the layout and the rules). No Airflow
import."""

from __future__ import annotations

import time
from dataclasses import replace
from typing import Any

from informat_pipelines.core.object_store import is_missing

from .dropzone import (
    _IGNORED,
    _MAX_TAKEOVERS,
    _TOO_LARGE,
    INSTELLING,
    MAX_BYTES,
    NO_SCHOOL,
    STALE_AFTER,
    STATE_PREFIX,
    Claimed,
    KeyExists,
    StateKeys,
    StillWriting,
    Unreadable,
    _claimed,
    _held_key,
    _inbox_key,
    _is_claim_key,
    _split,
    outbox_key,
    report_name,
    safe_run,
    stored_name,
)

# -- a bucket ---------------------------------------------------------------------------------


class S3Store:
    """Keys below a prefix of a bucket, through a boto3 client."""

    def __init__(self, client: Any, bucket: str, prefix: str = "") -> None:
        self.client = client
        self.bucket = bucket
        self.prefix = prefix.strip("/") + "/" if prefix.strip("/") else ""

    def full(self, key: str) -> str:
        return self.prefix + key

    def url(self, key: str) -> str:
        return f"s3://{self.bucket}/{self.full(key)}"

    def list_keys(self, prefix: str) -> list[str]:
        keys: list[str] = []
        paginator = self.client.get_paginator("list_objects_v2")
        for page in paginator.paginate(Bucket=self.bucket, Prefix=self.full(prefix)):
            keys.extend(o["Key"][len(self.prefix) :] for o in page.get("Contents", []))
        return keys

    def read_key(self, key: str) -> bytes:
        return self.client.get_object(Bucket=self.bucket, Key=self.full(key))["Body"].read()

    def write_key(self, key: str, data: bytes) -> None:
        self.client.put_object(Bucket=self.bucket, Key=self.full(key), Body=data)

    def create_key(self, key: str, data: bytes) -> None:
        """Like ``write_key``, but never over an existing key (``KeyExists``)."""
        from botocore.exceptions import ClientError

        try:
            self.client.put_object(
                Bucket=self.bucket, Key=self.full(key), Body=data, IfNoneMatch="*"
            )
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") in ("PreconditionFailed", "412"):
                raise KeyExists(key) from None
            raise

    def delete_key(self, key: str) -> None:
        self.client.delete_object(Bucket=self.bucket, Key=self.full(key))

    def modified(self, key: str) -> float:
        from botocore.exceptions import ClientError

        try:
            head = self.client.head_object(Bucket=self.bucket, Key=self.full(key))
        except ClientError as exc:
            if is_missing(exc):
                raise FileNotFoundError(key) from None
            raise
        return head["LastModified"].timestamp()


class S3DropZone(StateKeys):
    """A bucket (and prefix) for the schools and a prefix of its own for the state (by default
    ``dropzone-state/`` of the same bucket; in a deployment the data bucket), through a boto3
    client; in Airflow ``S3Hook(...).get_conn()``. The two never overlap: a school's policy
    covers ``<prefix>/inbox/<nr>/`` and ``<prefix>/outbox/<nr>/`` only."""

    def __init__(
        self,
        client: Any,
        bucket: str,
        prefix: str = "",
        stale_after: float = STALE_AFTER,
        *,
        state_bucket: str | None = None,
        state_prefix: str = STATE_PREFIX,
    ) -> None:
        self.client = client
        self.bucket = bucket
        self.stale_after = stale_after
        self.zone = S3Store(client, bucket, prefix)
        self.state = S3Store(client, state_bucket or bucket, state_prefix)
        self.prefix = self.zone.prefix
        same = self.state.bucket == self.zone.bucket
        inside = self.state.prefix.startswith(self.zone.prefix) or self.zone.prefix.startswith(
            self.state.prefix
        )
        if same and inside:
            raise ValueError(
                f"the drop zone's state (s3://{self.state.bucket}/{self.state.prefix}) must not "
                f"overlap the drop zone (s3://{bucket}/{self.zone.prefix}): schools must not "
                "reach it; give it another prefix or bucket"
            )

    def inbox(self) -> list[str]:
        names = []
        for key in self.zone.list_keys("inbox/"):
            instelling, _, file = key[len("inbox/") :].rpartition("/")
            if not file or _IGNORED.search(file):
                continue
            if instelling and not INSTELLING.match(instelling):
                continue  # deeper, or not a school's folder
            names.append(f"{instelling}/{file}" if instelling else file)
        return sorted(names)

    def claim(self, name: str, run_id: str) -> Claimed | None:
        from botocore.exceptions import ClientError

        run = safe_run(run_id)
        instelling, file = _split(name)
        stored = stored_name(file)
        source = self.zone.full(_inbox_key(instelling, file))
        try:
            head = self.client.head_object(Bucket=self.zone.bucket, Key=source)
        except ClientError as exc:
            if is_missing(exc):
                return None  # already taken by another run
            raise  # no access or the store failing: an error, never a silent skip
        drop = f"{head['ETag'].strip(chr(34))}-{head['LastModified'].timestamp():.0f}"
        folder = instelling or NO_SCHOOL
        marker = f"claims/{folder}/{stored}/{drop}"
        # a marker left by a run that crashed before its copy is taken over by writing the next
        # generation's marker once it is stale: again exactly one run wins
        for generation in range(_MAX_TAKEOVERS + 1):
            key = marker if generation == 0 else f"{marker}.takeover-{generation}"
            try:
                self.state.create_key(key, run.encode())
                break
            except KeyExists:
                if not self._is_stale(self.state.modified(key)):
                    return None  # another run claimed this very drop and is on it
        else:
            return None
        target = self.state.full(f"processing/{run}/{folder}/{stored}")
        self.client.copy_object(
            Bucket=self.state.bucket,
            Key=target,
            CopySource={"Bucket": self.zone.bucket, "Key": source},
        )
        self.client.delete_object(Bucket=self.zone.bucket, Key=source)
        taken = "(claim marker)" if generation else ""
        return Claimed(stored, run, target, taken_over_from=taken, instelling=instelling)

    def _is_stale(self, modified: float) -> bool:
        return time.time() - modified >= self.stale_after

    def resume(self, run_id: str) -> list[Claimed]:
        """Files this run claimed before it was interrupted."""
        run = safe_run(run_id)
        keys = self.state.list_keys(f"processing/{run}/")
        return [_claimed(k, run, self.state.full(k)) for k in keys if _is_claim_key(k)]

    def take_over_stale(self, run_id: str) -> list[Claimed]:
        """Files other runs claimed more than ``stale_after`` seconds ago and never finished,
        moved into this run's folder; a conditional marker lets only one run take each."""
        run = safe_run(run_id)
        taken = []
        paginator = self.client.get_paginator("list_objects_v2")
        processing = self.state.full("processing/")
        for page in paginator.paginate(Bucket=self.state.bucket, Prefix=processing):
            for item in page.get("Contents", []):
                key = item["Key"][len(self.state.prefix) :]
                other = key.split("/")[1]
                if other == run or not _is_claim_key(key):
                    continue
                if not self._is_stale(item["LastModified"].timestamp()):
                    continue
                rest = key.split("/", 2)[2]  # <instelling>/<name>
                try:
                    self.state.create_key(f"claims/{rest}/takeover-of-{other}", run.encode())
                except KeyExists:
                    continue  # another run took it over
                target = f"processing/{run}/{rest}"
                self.client.copy_object(
                    Bucket=self.state.bucket,
                    Key=self.state.full(target),
                    CopySource={"Bucket": self.state.bucket, "Key": item["Key"]},
                )
                self.client.delete_object(Bucket=self.state.bucket, Key=item["Key"])
                taken.append(_claimed(target, run, self.state.full(target), other))
        return taken

    def read(self, claimed: Claimed) -> bytes:
        answer = self.client.get_object(Bucket=self.state.bucket, Key=claimed.location)
        if answer["ContentLength"] > MAX_BYTES:
            answer["Body"].close()
            raise Unreadable(_TOO_LARGE)
        data = answer["Body"].read()
        if len(data) != answer["ContentLength"]:
            raise StillWriting(claimed.name)
        return data

    def release(self, claimed: Claimed) -> None:
        """Back to the school's inbox, for a later run."""
        self.client.copy_object(
            Bucket=self.zone.bucket,
            Key=self.zone.full(_inbox_key(claimed.instelling, claimed.name)),
            CopySource={"Bucket": self.state.bucket, "Key": claimed.location},
        )
        self.client.delete_object(Bucket=self.state.bucket, Key=claimed.location)

    def hold(self, claimed: Claimed) -> Claimed:
        """Kept apart, still claimed by its run, until the data team answers."""
        target = self.state.full(_held_key(claimed))
        self.client.copy_object(
            Bucket=self.state.bucket,
            Key=target,
            CopySource={"Bucket": self.state.bucket, "Key": claimed.location},
        )
        self.client.delete_object(Bucket=self.state.bucket, Key=claimed.location)
        return replace(claimed, location=target)

    def held(self, run_id: str) -> list[Claimed]:
        """The files this run holds for an approval."""
        run = safe_run(run_id)
        keys = self.state.list_keys(f"held/{run}/")
        return [_claimed(k, run, self.state.full(k)) for k in keys if _is_claim_key(k)]

    def finish(self, claimed: Claimed, ok: bool) -> str:
        where = "processed" if ok else "failed"
        target = f"{where}/{claimed.run}/{claimed.instelling or NO_SCHOOL}/{claimed.name}"
        self.client.copy_object(
            Bucket=self.state.bucket,
            Key=self.state.full(target),
            CopySource={"Bucket": self.state.bucket, "Key": claimed.location},
        )
        self.client.delete_object(Bucket=self.state.bucket, Key=claimed.location)
        return self.state.url(target)

    def write_report(self, claimed: Claimed, data: bytes) -> str:
        key = report_name(claimed)
        self.zone.write_key(key, data)
        return self.zone.url(key)

    def write_outbox(self, instellingsnummer: str, name: str, data: bytes) -> str:
        """A report in the school's outbox; its key as the school sees it."""
        key = outbox_key(instellingsnummer, name)
        self.zone.write_key(key, data)
        return key

    def read_report(self, instellingsnummer: str, name: str) -> bytes | None:
        """A report of ``outbox/<instellingsnummer>/<name>`` (for the Informat page), or None."""
        from botocore.exceptions import ClientError

        try:
            return self.zone.read_key(outbox_key(instellingsnummer, name))
        except ValueError:
            return None
        except ClientError as exc:
            if is_missing(exc):
                return None
            raise
