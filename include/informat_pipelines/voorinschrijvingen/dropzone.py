"""Drop zones for the CSV files of schools: a local folder (the embedded default) or an
S3-compatible bucket. No Airflow import.

Layout (below the folder or the bucket's prefix):
``inbox/`` where schools drop files; ``processing/{run}/`` a claimed file while it is handled;
``processed/{run}/`` and ``failed/{run}/`` where the original ends (it is never deleted);
``outbox/`` the per-row reports; ``ledger/`` the record of every push.

A file is claimed before it is read, so that two overlapping runs never both handle it: on a
folder by an atomic rename; in a bucket by a conditional write (``If-None-Match: *``) of a claim
marker named after the drop (name, ETag and time), which exactly one run can create.

Nothing stays stranded: a run that failed for good leaves its files in ``processing/<run>/``, and
a run that crashed between its claim marker and its copy leaves a marker and the file in the inbox;
once either is older than ``stale_after`` seconds, the next run takes it over (again by a rename or
a conditional write, so only one run does) and says so, for the data team. The ledger keeps rows
that were already pushed from being pushed again.
"""

from __future__ import annotations

import os
import re
import stat
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

from informat_pipelines.core.object_store import is_missing

_IGNORED = re.compile(r"^(\.|~\$)|\.(part|tmp|crdownload)$", re.IGNORECASE)
MAX_BYTES = 20 * 1024 * 1024  # a drop larger than this is refused unread (50,000 rows: ~10 MB)


class Unreadable(Exception):
    """A drop that is not read at all: the message says why, in Dutch, without its content."""


class StillWriting(Exception):
    """A drop that changed while it was read: it goes back to the inbox for a later run."""


class KeyExists(Exception):
    """``create_key`` found the key already written: nothing was overwritten."""


def safe_run(run_id: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]+", "_", run_id)


STALE_AFTER = 2 * 3600.0  # a claim older than this belongs to a run that will not finish it


@dataclass(frozen=True)
class Claimed:
    name: str
    run: str
    location: str  # where the claimed file now is
    taken_over_from: str = ""  # the run whose stale claim this run took over


class DropZone(Protocol):
    def inbox(self) -> list[str]: ...

    def claim(self, name: str, run_id: str) -> Claimed | None: ...

    def resume(self, run_id: str) -> list[Claimed]: ...

    def take_over_stale(self, run_id: str) -> list[Claimed]: ...

    def read(self, claimed: Claimed) -> bytes: ...

    def finish(self, claimed: Claimed, ok: bool) -> str: ...

    def release(self, claimed: Claimed) -> None: ...

    def write_report(self, claimed: Claimed, data: bytes) -> str: ...

    def list_keys(self, prefix: str) -> list[str]: ...

    def read_key(self, key: str) -> bytes: ...

    def write_key(self, key: str, data: bytes) -> None: ...

    def create_key(self, key: str, data: bytes) -> None: ...

    def delete_key(self, key: str) -> None: ...


def report_name(claimed: Claimed) -> str:
    stem = claimed.name.rsplit(".", 1)[0]
    return f"outbox/{stem}.{claimed.run}.rapport.csv"


class LocalDropZone:
    """A folder. Files still being written are left alone until they have not changed for
    ``settle_seconds`` (write as ``name.part`` and rename, and no wait is needed)."""

    def __init__(
        self, root: Path | str, settle_seconds: float = 5.0, stale_after: float = STALE_AFTER
    ) -> None:
        self.root = Path(root)
        self.settle_seconds = settle_seconds
        self.stale_after = stale_after
        for part in ("inbox", "processing", "processed", "failed", "outbox", "ledger"):
            (self.root / part).mkdir(parents=True, exist_ok=True)

    def inbox(self) -> list[str]:
        """Files that have settled (and links or other entries, to be refused with a report:
        ``read`` never follows them)."""
        now = time.time()
        names = []
        for path in sorted((self.root / "inbox").iterdir()):
            info = path.lstat()  # the entry itself, never what a link points to
            if _IGNORED.search(path.name) or stat.S_ISDIR(info.st_mode):
                continue
            if now - info.st_mtime < self.settle_seconds:
                continue  # perhaps still being written
            names.append(path.name)
        return names

    def claim(self, name: str, run_id: str) -> Claimed | None:
        run = safe_run(run_id)
        target = self.root / "processing" / run / name
        target.parent.mkdir(parents=True, exist_ok=True)
        try:
            os.rename(self.root / "inbox" / name, target)  # atomic: one run wins
        except FileNotFoundError:
            return None
        os.utime(target, follow_symlinks=False)  # the claim's time, for take_over_stale
        return Claimed(name, run, str(target))

    def resume(self, run_id: str) -> list[Claimed]:
        """Files this run claimed before it was interrupted."""
        run = safe_run(run_id)
        folder = self.root / "processing" / run
        if not folder.is_dir():
            return []
        return [Claimed(p.name, run, str(p)) for p in sorted(folder.iterdir()) if p.is_file()]

    def take_over_stale(self, run_id: str) -> list[Claimed]:
        """Files other runs claimed more than ``stale_after`` seconds ago and never finished,
        moved into this run's folder (a rename: if two runs try, one wins)."""
        run = safe_run(run_id)
        now, taken = time.time(), []
        for folder in sorted(p for p in (self.root / "processing").iterdir() if p.is_dir()):
            for path in sorted(folder.iterdir()) if folder.name != run else []:
                target = self.root / "processing" / run / path.name
                if now - path.lstat().st_mtime < self.stale_after or target.exists():
                    continue
                target.parent.mkdir(parents=True, exist_ok=True)
                try:
                    os.rename(path, target)
                except FileNotFoundError:
                    continue  # another run took it over first
                os.utime(target, follow_symlinks=False)
                taken.append(Claimed(path.name, run, str(target), taken_over_from=folder.name))
        return taken

    def read(self, claimed: Claimed) -> bytes:
        """The claimed file's bytes, read only when it is a regular file of this user with one
        link (no symlink, hard link or device is ever followed), not over ``MAX_BYTES``, and
        not growing while read."""
        flags = os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_NONBLOCK", 0)
        try:
            fd = os.open(claimed.location, flags)
        except OSError:
            raise Unreadable(_NOT_A_FILE) from None
        with os.fdopen(fd, "rb") as handle:
            info = os.fstat(handle.fileno())
            if not stat.S_ISREG(info.st_mode) or info.st_nlink != 1 or info.st_uid != os.getuid():
                raise Unreadable(_NOT_A_FILE)
            if info.st_size > MAX_BYTES:
                raise Unreadable(_TOO_LARGE)
            data = handle.read(MAX_BYTES + 1)
            if len(data) != info.st_size or os.fstat(handle.fileno()).st_size != info.st_size:
                raise StillWriting(claimed.name)
        return data

    def finish(self, claimed: Claimed, ok: bool) -> str:
        target = self.root / ("processed" if ok else "failed") / claimed.run / claimed.name
        target.parent.mkdir(parents=True, exist_ok=True)
        os.replace(claimed.location, target)
        return str(target)

    def release(self, claimed: Claimed) -> None:
        """Back to the inbox, for a later run (a file still being written)."""
        os.replace(claimed.location, self.root / "inbox" / claimed.name)

    def write_report(self, claimed: Claimed, data: bytes) -> str:
        target = self.root / report_name(claimed)
        self.write_key(str(target.relative_to(self.root)), data)
        return str(target)

    def list_keys(self, prefix: str) -> list[str]:
        base = self.root / prefix
        if not base.exists():
            return []
        return [str(p.relative_to(self.root)) for p in sorted(base.rglob("*")) if p.is_file()]

    def read_key(self, key: str) -> bytes:
        return (self.root / key).read_bytes()

    def write_key(self, key: str, data: bytes) -> None:
        target = self.root / key
        target.parent.mkdir(parents=True, exist_ok=True)
        partial = target.with_name(target.name + ".part")
        partial.write_bytes(data)
        os.replace(partial, target)  # readers never see half a file

    def create_key(self, key: str, data: bytes) -> None:
        """Like ``write_key``, but never over an existing key (``KeyExists``)."""
        target = self.root / key
        target.parent.mkdir(parents=True, exist_ok=True)
        partial = target.with_name(f"{target.name}.{os.getpid()}.part")
        partial.write_bytes(data)
        try:
            os.link(partial, target)  # fails if the key exists; readers see all or nothing
        except FileExistsError:
            raise KeyExists(key) from None
        finally:
            partial.unlink()

    def delete_key(self, key: str) -> None:
        (self.root / key).unlink(missing_ok=True)


class S3DropZone:
    """A bucket (and prefix) through a boto3 client; in Airflow ``S3Hook(...).get_conn()``."""

    def __init__(
        self, client: Any, bucket: str, prefix: str = "", stale_after: float = STALE_AFTER
    ) -> None:
        self.client = client
        self.bucket = bucket
        self.stale_after = stale_after
        self.prefix = prefix.strip("/") + "/" if prefix.strip("/") else ""

    def _key(self, key: str) -> str:
        return self.prefix + key

    def inbox(self) -> list[str]:
        names = []
        for key in self.list_keys("inbox/"):
            name = key[len("inbox/") :]
            if name and "/" not in name and not _IGNORED.search(name):
                names.append(name)
        return sorted(names)

    def claim(self, name: str, run_id: str) -> Claimed | None:
        from botocore.exceptions import ClientError

        run = safe_run(run_id)
        source = self._key(f"inbox/{name}")
        try:
            head = self.client.head_object(Bucket=self.bucket, Key=source)
        except ClientError as exc:
            if is_missing(exc):
                return None  # already taken by another run
            raise  # no access or the store failing: an error, never a silent skip
        drop = f"{head['ETag'].strip(chr(34))}-{head['LastModified'].timestamp():.0f}"
        marker = f"claims/{name}/{drop}"
        # a marker left by a run that crashed before its copy is taken over by writing the next
        # generation's marker once it is stale: again exactly one run wins
        for generation in range(_MAX_TAKEOVERS + 1):
            key = marker if generation == 0 else f"{marker}.takeover-{generation}"
            try:
                self.create_key(key, run.encode())
                break
            except KeyExists:
                previous = self.client.head_object(Bucket=self.bucket, Key=self._key(key))
                if not self._is_stale(previous["LastModified"]):
                    return None  # another run claimed this very drop and is on it
        else:
            return None
        target = self._key(f"processing/{run}/{name}")
        self.client.copy_object(
            Bucket=self.bucket, Key=target, CopySource={"Bucket": self.bucket, "Key": source}
        )
        self.client.delete_object(Bucket=self.bucket, Key=source)
        return Claimed(name, run, target, taken_over_from="(claim marker)" if generation else "")

    def _is_stale(self, last_modified: Any) -> bool:
        return time.time() - last_modified.timestamp() >= self.stale_after

    def resume(self, run_id: str) -> list[Claimed]:
        """Files this run claimed before it was interrupted."""
        run = safe_run(run_id)
        return [
            Claimed(key.rsplit("/", 1)[-1], run, self._key(key))
            for key in self.list_keys(f"processing/{run}/")
        ]

    def take_over_stale(self, run_id: str) -> list[Claimed]:
        """Files other runs claimed more than ``stale_after`` seconds ago and never finished,
        moved into this run's folder; a conditional marker lets only one run take each."""
        run = safe_run(run_id)
        taken = []
        paginator = self.client.get_paginator("list_objects_v2")
        for page in paginator.paginate(Bucket=self.bucket, Prefix=self._key("processing/")):
            for item in page.get("Contents", []):
                other, _, name = item["Key"][len(self._key("processing/")) :].partition("/")
                if other == run or not name or "/" in name:
                    continue
                if not self._is_stale(item["LastModified"]):
                    continue
                try:
                    self.create_key(f"claims/{name}/takeover-of-{other}", run.encode())
                except KeyExists:
                    continue  # another run took it over
                target = self._key(f"processing/{run}/{name}")
                self.client.copy_object(
                    Bucket=self.bucket,
                    Key=target,
                    CopySource={"Bucket": self.bucket, "Key": item["Key"]},
                )
                self.client.delete_object(Bucket=self.bucket, Key=item["Key"])
                taken.append(Claimed(name, run, target, taken_over_from=other))
        return taken

    def read(self, claimed: Claimed) -> bytes:
        answer = self.client.get_object(Bucket=self.bucket, Key=claimed.location)
        if answer["ContentLength"] > MAX_BYTES:
            answer["Body"].close()
            raise Unreadable(_TOO_LARGE)
        data = answer["Body"].read()
        if len(data) != answer["ContentLength"]:
            raise StillWriting(claimed.name)
        return data

    def release(self, claimed: Claimed) -> None:
        """Back to the inbox, for a later run."""
        self.client.copy_object(
            Bucket=self.bucket,
            Key=self._key(f"inbox/{claimed.name}"),
            CopySource={"Bucket": self.bucket, "Key": claimed.location},
        )
        self.client.delete_object(Bucket=self.bucket, Key=claimed.location)

    def finish(self, claimed: Claimed, ok: bool) -> str:
        target = self._key(f"{'processed' if ok else 'failed'}/{claimed.run}/{claimed.name}")
        self.client.copy_object(
            Bucket=self.bucket,
            Key=target,
            CopySource={"Bucket": self.bucket, "Key": claimed.location},
        )
        self.client.delete_object(Bucket=self.bucket, Key=claimed.location)
        return f"s3://{self.bucket}/{target}"

    def write_report(self, claimed: Claimed, data: bytes) -> str:
        key = report_name(claimed)
        self.write_key(key, data)
        return f"s3://{self.bucket}/{self._key(key)}"

    def list_keys(self, prefix: str) -> list[str]:
        keys: list[str] = []
        paginator = self.client.get_paginator("list_objects_v2")
        for page in paginator.paginate(Bucket=self.bucket, Prefix=self._key(prefix)):
            keys.extend(o["Key"][len(self.prefix) :] for o in page.get("Contents", []))
        return keys

    def read_key(self, key: str) -> bytes:
        return self.client.get_object(Bucket=self.bucket, Key=self._key(key))["Body"].read()

    def write_key(self, key: str, data: bytes) -> None:
        self.client.put_object(Bucket=self.bucket, Key=self._key(key), Body=data)

    def create_key(self, key: str, data: bytes) -> None:
        """Like ``write_key``, but never over an existing key (``KeyExists``)."""
        from botocore.exceptions import ClientError

        try:
            self.client.put_object(
                Bucket=self.bucket, Key=self._key(key), Body=data, IfNoneMatch="*"
            )
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") in ("PreconditionFailed", "412"):
                raise KeyExists(key) from None
            raise

    def delete_key(self, key: str) -> None:
        self.client.delete_object(Bucket=self.bucket, Key=self._key(key))


_MAX_TAKEOVERS = 5  # a drop whose claim went stale this often is left for a person

_NOT_A_FILE = (
    "Dit is geen gewoon bestand (een snelkoppeling, link of map); het is niet gelezen. "
    "Zet het bestand zelf klaar."
)
_TOO_LARGE = f"Het bestand is groter dan {MAX_BYTES // (1024 * 1024)} MB; het is niet gelezen."
