"""Drop zones for the CSV files of schools: a local folder (the embedded default) or an
S3-compatible bucket. No Airflow import.

Two places, kept apart (security review 2, N3), so that a school's credential (an S3 policy, an
SFTP chroot) can be scoped to its own folders and never reaches the pipeline's state:

- **the drop zone**, the schools': ``inbox/<instellingsnummer>/`` where a school drops its
  files, ``outbox/<instellingsnummer>/`` where it reads its reports. A file is only ever pushed
  for the instelling of its folder.
- **the state**, the pipeline's, where no school can write: ``claims/``,
  ``processing/{run}/<instellingsnummer>/`` (a claimed file while it is handled),
  ``held/{run}/<instellingsnummer>/`` (a checked file waiting for the data team's approval),
  ``processed/…`` and ``failed/…`` (where the original ends; never deleted), ``ledger/``,
  ``pending/`` (outcomes waiting for their mail) and ``status/`` (the Informat page's
  summaries). In S3 another prefix, by default ``dropzone-state/`` of the data bucket; for a
  folder one beside the drop zone (by default ``<folder>.state``), on the same file system,
  since a claim is a rename. Never inside the drop zone: both constructors refuse that.

The key methods (``list_keys``, ``read_key``, ``write_key``, ``create_key``, ``delete_key``,
``modified``) address the state: the ledger, the pending outcomes and the page's summaries are
kept through them. Reports go through ``write_report``/``write_outbox`` and are read back with
``read_report``.

A file is claimed before it is read, so that two overlapping runs never both handle it: on a
folder by an atomic rename into the state; in a bucket by a conditional write
(``If-None-Match: *``) of a claim marker named after the drop (name, ETag and time), which
exactly one run can create. A file whose name holds a control character (or anything not
printable) is claimed under a printable stand-in ending in ``.ongeldige-naam-<hash>``, refused
with a report, and never named as such in a log line or a mail header (N8).

The local drop zone never follows a link below its root (N6): every folder is opened with
``O_NOFOLLOW`` relative to its parent's descriptor, temporary files are created ``O_EXCL`` under
a random name, and a file is read only when it is a regular file.

Nothing stays stranded: a run that failed for good leaves its files in ``processing/<run>/``,
and a run that crashed between its claim marker and its copy leaves a marker and the file in
the inbox; once either is older than ``stale_after`` seconds, the next run takes it over (again
by a rename or a conditional write, so only one run does) and says so, for the data team. The
ledger keeps rows that were already pushed from being pushed again.
"""

from __future__ import annotations

import errno
import hashlib
import os
import re
import secrets
import stat
import time
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, Protocol

from informat_pipelines.core.object_store import is_missing

_IGNORED = re.compile(r"^(\.|~\$)|\.(part|tmp|crdownload)$", re.IGNORECASE)
MAX_BYTES = 20 * 1024 * 1024  # a drop larger than this is refused unread (50,000 rows: ~10 MB)
MAX_NAME = 200  # characters of a school's file name; a longer one is refused like a bad name
STATE_PREFIX = "dropzone-state"  # the state's prefix in a bucket, by default
# a school's folder: its instellingsnummer (Informat's are 6 digits)
INSTELLING = re.compile(r"^[0-9]{1,12}$")
NO_SCHOOL = "_"  # the state's folder for a file that was not in a school's folder
_BAD_NAME = re.compile(r"\.ongeldige-naam-[0-9a-f]{8}$")


class Unreadable(Exception):
    """A drop that is not read at all: the message says why, in Dutch, without its content."""


class StillWriting(Exception):
    """A drop that changed while it was read: it goes back to the inbox for a later run."""


class KeyExists(Exception):
    """``create_key`` found the key already written: nothing was overwritten."""


class UnsafePath(OSError):
    """A link (or a file) where the local drop zone expects one of its own folders or files:
    never followed, never written through."""


def safe_run(run_id: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]+", "_", run_id)


def is_safe_name(name: str) -> bool:
    """Whether a school's file name can be shown in a log line, a mail header and a report as
    it is: printable (no newline, control or format character, no odd space), not too long."""
    return 0 < len(name) <= MAX_NAME and name.isprintable() and "/" not in name


def printable(name: str, limit: int = 80) -> str:
    """A name as it may be shown: every character that is not printable as ``?``."""
    shown = "".join(c if c.isprintable() else "?" for c in name)
    return shown if len(shown) <= limit else shown[:limit] + "..."


def stored_name(name: str) -> str:
    """The name a file is kept under once claimed: its own, or a printable stand-in that says
    it was refused (a hash keeps two bad names apart)."""
    if is_safe_name(name):
        return name
    digest = hashlib.sha256(name.encode("utf-8", "surrogateescape")).hexdigest()[:8]
    # letters, digits and a few marks only: the stand-in is also a file name on any system
    shown = re.sub(r"[^\w.() -]", "_", name)[:80]
    return f"{shown}.ongeldige-naam-{digest}"


STALE_AFTER = 2 * 3600.0  # a claim older than this belongs to a run that will not finish it


@dataclass(frozen=True)
class Claimed:
    name: str  # safe to show: the school's name, or the stand-in for one that is not
    run: str
    location: str  # where the claimed file now is (a key of the state)
    taken_over_from: str = ""  # the run whose stale claim this run took over
    instelling: str = ""  # the school's folder in inbox/; "" for a file outside one

    @property
    def bad_name(self) -> bool:
        return bool(_BAD_NAME.search(self.name))


class DropZone(Protocol):
    def inbox(self) -> list[str]: ...

    def claim(self, name: str, run_id: str) -> Claimed | None: ...

    def resume(self, run_id: str) -> list[Claimed]: ...

    def take_over_stale(self, run_id: str) -> list[Claimed]: ...

    def read(self, claimed: Claimed) -> bytes: ...

    def finish(self, claimed: Claimed, ok: bool) -> str: ...

    def release(self, claimed: Claimed) -> None: ...

    def hold(self, claimed: Claimed) -> Claimed: ...

    def held(self, run_id: str) -> list[Claimed]: ...

    def write_report(self, claimed: Claimed, data: bytes) -> str: ...

    def write_outbox(self, instellingsnummer: str, name: str, data: bytes) -> str: ...

    def read_report(self, instellingsnummer: str, name: str) -> bytes | None: ...

    def list_keys(self, prefix: str) -> list[str]: ...

    def read_key(self, key: str) -> bytes: ...

    def write_key(self, key: str, data: bytes) -> None: ...

    def create_key(self, key: str, data: bytes) -> None: ...

    def delete_key(self, key: str) -> None: ...

    def modified(self, key: str) -> float: ...


def outbox_key(instellingsnummer: str, name: str) -> str:
    """A report's key as the school sees it: ``outbox/<instellingsnummer>/<name>``."""
    if not INSTELLING.match(instellingsnummer) or not _is_report_name(name):
        raise ValueError("an outbox report needs an instellingsnummer and a plain file name")
    return f"outbox/{instellingsnummer}/{name}"


def _is_report_name(name: str) -> bool:
    return is_safe_name(name) and not name.startswith(".") and "\\" not in name


def report_name(claimed: Claimed) -> str:
    if not claimed.instelling:
        raise ValueError("a file outside a school's folder has no outbox")
    stem = claimed.name.rsplit(".", 1)[0]
    return outbox_key(claimed.instelling, f"{stem}.{claimed.run}.rapport.csv")


def _inbox_key(instelling: str, name: str) -> str:
    return f"inbox/{instelling}/{name}" if instelling else f"inbox/{name}"


def _split(name: str) -> tuple[str, str]:
    """``<instellingsnummer>/<file>`` (or a bare ``<file>``) as ``inbox()`` gives it."""
    instelling, _, file = name.rpartition("/")
    return instelling, file


def _claimed(key: str, run: str, location: str, taken_over_from: str = "") -> Claimed:
    """The claim of ``processing/<run>/<instelling>/<name>``."""
    _, _, instelling, name = key.split("/", 3)
    school = "" if instelling == NO_SCHOOL else instelling
    return Claimed(name, run, location, taken_over_from, school)


def _held_key(claimed: Claimed) -> str:
    return f"held/{claimed.run}/{claimed.instelling or NO_SCHOOL}/{claimed.name}"


def _is_claim_key(key: str) -> bool:
    return key.count("/") == 3  # processing/<run>/<instelling>/<name>


# -- a local folder, never through a link ---------------------------------------------------------

_CLOEXEC = getattr(os, "O_CLOEXEC", 0)
_DIR_FLAGS = os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | _CLOEXEC
_READ_FLAGS = os.O_RDONLY | os.O_NOFOLLOW | getattr(os, "O_NONBLOCK", 0) | _CLOEXEC
_LINK_ERRORS = (errno.ELOOP, errno.ENOTDIR, errno.EMLINK)


def _parts(key: str) -> list[str]:
    parts = key.split("/")
    if any(part in ("", ".", "..") for part in parts):
        raise UnsafePath(errno.EINVAL, "not a key of the drop zone", printable(key))
    return parts


def _unsafe(exc: OSError, name: str) -> OSError:
    if exc.errno in _LINK_ERRORS:
        return UnsafePath(exc.errno, "a link or a file where a folder or file was expected",
                          printable(name))  # fmt: skip
    return exc


class LocalStore:
    """A folder whose keys are paths below it. Below the root nothing is followed: each folder
    is opened ``O_NOFOLLOW`` relative to its parent's descriptor (a link is ``UnsafePath``),
    a file is written to a fresh ``O_EXCL`` temporary file and renamed over the key (which
    replaces a link, never writes through it), and read only when it is a regular file."""

    def __init__(self, root: Path, file_mode: int = 0o600, dir_mode: int = 0o700) -> None:
        self.root = Path(root)
        self.file_mode = file_mode
        self.dir_mode = dir_mode

    @contextmanager
    def folder(self, parts: list[str], create: bool = False) -> Iterator[int]:
        """A descriptor of the folder ``parts`` below the root (made when ``create``)."""
        # the root itself is the deployment's choice (a mount, perhaps reached through a link)
        fd = os.open(self.root, os.O_RDONLY | os.O_DIRECTORY | _CLOEXEC)
        try:
            for part in parts:
                child = self._child(fd, part, create)
                os.close(fd)
                fd = child
            yield fd
        finally:
            os.close(fd)

    def _child(self, fd: int, part: str, create: bool) -> int:
        try:
            return os.open(part, _DIR_FLAGS, dir_fd=fd)
        except FileNotFoundError:
            if not create:
                raise
        except OSError as exc:
            raise _unsafe(exc, part) from None
        with suppress(FileExistsError):  # made by another run in the meantime
            os.mkdir(part, self.dir_mode, dir_fd=fd)
        try:
            return os.open(part, _DIR_FLAGS, dir_fd=fd)
        except OSError as exc:
            raise _unsafe(exc, part) from None

    def list_keys(self, prefix: str) -> list[str]:
        """Every entry but a folder below ``prefix`` (links too, as entries: listing one never
        follows it), without hidden names (temporary files)."""
        folder, _, _ = prefix.rpartition("/")
        try:
            with self.folder(_parts(folder) if folder else []) as fd:
                keys = self._walk(fd, folder + "/" if folder else "")
        except FileNotFoundError:
            return []
        return sorted(k for k in keys if k.startswith(prefix))

    def _walk(self, fd: int, base: str) -> list[str]:
        keys = []
        with os.scandir(fd) as entries:
            for entry in entries:
                if entry.name.startswith("."):
                    continue
                if entry.is_dir(follow_symlinks=False):
                    child = os.open(entry.name, _DIR_FLAGS, dir_fd=fd)
                    try:
                        keys += self._walk(child, f"{base}{entry.name}/")
                    finally:
                        os.close(child)
                else:
                    keys.append(base + entry.name)
        return keys

    def read_key(self, key: str) -> bytes:
        parts = _parts(key)
        with self.folder(parts[:-1]) as fd:
            try:
                handle = os.open(parts[-1], _READ_FLAGS, dir_fd=fd)
            except OSError as exc:
                raise _unsafe(exc, parts[-1]) from None
            with os.fdopen(handle, "rb") as source:
                if not stat.S_ISREG(os.fstat(source.fileno()).st_mode):
                    raise UnsafePath(errno.EINVAL, "not a regular file", printable(key))
                return source.read()

    def _temporary(self, fd: int, data: bytes) -> str:
        """A new file holding ``data`` under a random hidden name: never an existing entry."""
        while True:
            name = f".{secrets.token_hex(8)}.part"
            try:
                out = os.open(
                    name, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | _CLOEXEC,
                    self.file_mode, dir_fd=fd,
                )  # fmt: skip
            except FileExistsError:
                continue
            try:
                os.fchmod(out, self.file_mode)  # whatever the umask
                view = memoryview(data)
                while view:
                    view = view[os.write(out, view) :]
            except BaseException:
                os.close(out)
                os.unlink(name, dir_fd=fd)
                raise
            os.close(out)
            return name

    def write_key(self, key: str, data: bytes) -> None:
        parts = _parts(key)
        with self.folder(parts[:-1], create=True) as fd:
            temporary = self._temporary(fd, data)
            try:  # readers never see half a file; a link at the key is replaced, not followed
                os.replace(temporary, parts[-1], src_dir_fd=fd, dst_dir_fd=fd)
            except BaseException:
                os.unlink(temporary, dir_fd=fd)
                raise

    def create_key(self, key: str, data: bytes) -> None:
        """Like ``write_key``, but never over an existing key (``KeyExists``)."""
        parts = _parts(key)
        with self.folder(parts[:-1], create=True) as fd:
            temporary = self._temporary(fd, data)
            try:  # fails if the key exists; readers see all or nothing
                os.link(temporary, parts[-1], src_dir_fd=fd, dst_dir_fd=fd, follow_symlinks=False)
            except FileExistsError:
                raise KeyExists(key) from None
            finally:
                os.unlink(temporary, dir_fd=fd)

    def delete_key(self, key: str) -> None:
        parts = _parts(key)
        try:
            with self.folder(parts[:-1]) as fd:
                os.unlink(parts[-1], dir_fd=fd)
        except FileNotFoundError:
            pass

    def modified(self, key: str) -> float:
        parts = _parts(key)
        with self.folder(parts[:-1]) as fd:
            return os.stat(parts[-1], dir_fd=fd, follow_symlinks=False).st_mtime

    def touch(self, key: str) -> None:
        parts = _parts(key)
        with self.folder(parts[:-1]) as fd:
            os.utime(parts[-1], dir_fd=fd, follow_symlinks=False)

    def exists(self, key: str) -> bool:
        try:
            self.modified(key)
        except FileNotFoundError:
            return False
        return True


def _rename(source: LocalStore, key: str, target: LocalStore, new_key: str) -> None:
    """Move an entry (a link stays a link) between two stores on one file system: atomic, so
    of two runs renaming the same entry exactly one succeeds (the other: FileNotFoundError)."""
    old, new = _parts(key), _parts(new_key)
    with source.folder(old[:-1]) as src, target.folder(new[:-1], create=True) as dst:
        os.rename(old[-1], new[-1], src_dir_fd=src, dst_dir_fd=dst)


def _apart(zone: Path, state: Path) -> None:
    zone, state = zone.resolve(), state.resolve()
    if zone == state or zone in state.parents or state in zone.parents:
        raise ValueError(
            f"the drop zone's state ({state}) must lie beside the drop zone ({zone}), not in it "
            "(nor the drop zone in it): schools must not reach it"
        )
    if os.stat(zone).st_dev != os.stat(state).st_dev:
        raise ValueError(
            f"the drop zone's state ({state}) must be on the drop zone's file system: a claim is "
            "a rename"
        )


class StateKeys:
    """The state's keys (ledger/, pending/, status/ …) of a drop zone, all in its ``state``
    store, which schools cannot reach."""

    state: Any

    def list_keys(self, prefix: str) -> list[str]:
        return self.state.list_keys(prefix)

    def read_key(self, key: str) -> bytes:
        return self.state.read_key(key)

    def write_key(self, key: str, data: bytes) -> None:
        self.state.write_key(key, data)

    def create_key(self, key: str, data: bytes) -> None:
        self.state.create_key(key, data)

    def delete_key(self, key: str) -> None:
        self.state.delete_key(key)

    def modified(self, key: str) -> float:
        return self.state.modified(key)


class LocalDropZone(StateKeys):
    """A folder for the schools and one beside it for the state (``state``; by default
    ``<root>.state``). Files still being written are left alone until they have not changed for
    ``settle_seconds`` (write as ``name.part`` and rename, and no wait is needed).

    A school uploading under its own account (an SFTP user owning ``inbox/<instellingsnummer>``)
    is read: a file must belong to the worker's user or to the owner of its school's folder."""

    def __init__(
        self,
        root: Path | str,
        settle_seconds: float = 5.0,
        stale_after: float = STALE_AFTER,
        state: Path | str | None = None,
    ) -> None:
        self.root = Path(root)
        state_root = Path(state) if state else self.root.resolve().with_name(
            self.root.resolve().name + ".state"
        )  # fmt: skip
        self.settle_seconds = settle_seconds
        self.stale_after = stale_after
        for part in ("inbox", "outbox"):
            (self.root / part).mkdir(parents=True, exist_ok=True)
        state_root.mkdir(parents=True, exist_ok=True, mode=0o700)
        _apart(self.root, state_root)
        # reports readable by the school's group (its folder's, set by the deployment)
        self.zone = LocalStore(self.root, file_mode=0o640, dir_mode=0o750)
        self.state = LocalStore(state_root)

    def inbox(self) -> list[str]:
        """``<instellingsnummer>/<file>`` of every settled file in a school's folder, and the
        bare name of a file lying in ``inbox/`` itself (refused with a message: it belongs to
        no school). Links and other entries are listed too, to be refused with a report:
        ``read`` never follows them; a link in place of a school's folder is such an entry."""
        now = time.time()
        names = []
        with self.zone.folder(["inbox"]) as fd, os.scandir(fd) as entries:
            for entry in sorted(entries, key=lambda e: e.name):
                if _IGNORED.search(entry.name):
                    continue
                if not entry.is_dir(follow_symlinks=False):
                    if self._settled(entry, now):
                        names.append(entry.name)
                elif INSTELLING.match(entry.name):
                    names += [f"{entry.name}/{n}" for n in self._school(fd, entry.name, now)]
        return names

    def _school(self, fd: int, folder: str, now: float) -> list[str]:
        child = os.open(folder, _DIR_FLAGS, dir_fd=fd)
        try:
            with os.scandir(child) as entries:
                return [
                    e.name
                    for e in sorted(entries, key=lambda e: e.name)
                    if not _IGNORED.search(e.name)
                    and not e.is_dir(follow_symlinks=False)
                    and self._settled(e, now)
                ]
        finally:
            os.close(child)

    def _settled(self, entry: os.DirEntry, now: float) -> bool:
        # the entry itself, never what a link points to
        return now - entry.stat(follow_symlinks=False).st_mtime >= self.settle_seconds

    def claim(self, name: str, run_id: str) -> Claimed | None:
        run = safe_run(run_id)
        instelling, file = _split(name)
        stored = stored_name(file)
        target = f"processing/{run}/{instelling or NO_SCHOOL}/{stored}"
        try:  # atomic: one run wins
            _rename(self.zone, _inbox_key(instelling, file), self.state, target)
        except FileNotFoundError:
            return None
        self.state.touch(target)  # the claim's time, for take_over_stale
        return Claimed(stored, run, target, instelling=instelling)

    def resume(self, run_id: str) -> list[Claimed]:
        """Files this run claimed before it was interrupted."""
        run = safe_run(run_id)
        keys = self.state.list_keys(f"processing/{run}/")
        return [_claimed(key, run, key) for key in keys if _is_claim_key(key)]

    def take_over_stale(self, run_id: str) -> list[Claimed]:
        """Files other runs claimed more than ``stale_after`` seconds ago and never finished,
        moved into this run's folder (a rename: if two runs try, one wins)."""
        run = safe_run(run_id)
        now, taken = time.time(), []
        for key in self.state.list_keys("processing/"):
            _, other, rest = key.split("/", 2)
            if other == run or not _is_claim_key(key):
                continue
            target = f"processing/{run}/{rest}"
            try:
                if now - self.state.modified(key) < self.stale_after or self.state.exists(target):
                    continue
                _rename(self.state, key, self.state, target)
            except FileNotFoundError:
                continue  # another run took it over first
            self.state.touch(target)
            taken.append(_claimed(target, run, target, taken_over_from=other))
        return taken

    def _uploaders(self, instelling: str) -> set[int]:
        """The worker's user, and the owner of the school's folder (its upload account)."""
        uids = {os.getuid()}
        if instelling:
            try:
                info = os.lstat(self.root / "inbox" / instelling)
            except FileNotFoundError:
                return uids
            if stat.S_ISDIR(info.st_mode):
                uids.add(info.st_uid)
        return uids

    def read(self, claimed: Claimed) -> bytes:
        """The claimed file's bytes, read only when it is a regular file of the worker or of
        its school's upload account with one link (no symlink, hard link or device is ever
        followed), not over ``MAX_BYTES``, and not growing while read."""
        parts = _parts(claimed.location)
        try:
            with self.state.folder(parts[:-1]) as folder:
                fd = os.open(parts[-1], _READ_FLAGS, dir_fd=folder)
        except OSError:
            raise Unreadable(_NOT_A_FILE) from None
        with os.fdopen(fd, "rb") as handle:
            info = os.fstat(handle.fileno())
            owner_ok = info.st_uid in self._uploaders(claimed.instelling)
            if not stat.S_ISREG(info.st_mode) or info.st_nlink != 1 or not owner_ok:
                raise Unreadable(_NOT_A_FILE)
            if info.st_size > MAX_BYTES:
                raise Unreadable(_TOO_LARGE)
            data = handle.read(MAX_BYTES + 1)
            if len(data) != info.st_size or os.fstat(handle.fileno()).st_size != info.st_size:
                raise StillWriting(claimed.name)
        return data

    def finish(self, claimed: Claimed, ok: bool) -> str:
        where = "processed" if ok else "failed"
        target = f"{where}/{claimed.run}/{claimed.instelling or NO_SCHOOL}/{claimed.name}"
        _rename(self.state, claimed.location, self.state, target)
        return str(self.state.root / target)

    def release(self, claimed: Claimed) -> None:
        """Back to the school's inbox, for a later run (a file still being written)."""
        inbox = _inbox_key(claimed.instelling, claimed.name)
        _rename(self.state, claimed.location, self.zone, inbox)

    def hold(self, claimed: Claimed) -> Claimed:
        """Kept apart, still claimed by its run, until the data team answers."""
        target = _held_key(claimed)
        _rename(self.state, claimed.location, self.state, target)
        return replace(claimed, location=target)

    def held(self, run_id: str) -> list[Claimed]:
        """The files this run holds for an approval."""
        run = safe_run(run_id)
        keys = self.state.list_keys(f"held/{run}/")
        return [_claimed(key, run, key) for key in keys if _is_claim_key(key)]

    def write_report(self, claimed: Claimed, data: bytes) -> str:
        key = report_name(claimed)
        self.zone.write_key(key, data)
        return str(self.root / key)

    def write_outbox(self, instellingsnummer: str, name: str, data: bytes) -> str:
        """A report in the school's outbox; its key as the school sees it."""
        key = outbox_key(instellingsnummer, name)
        self.zone.write_key(key, data)
        return key

    def read_report(self, instellingsnummer: str, name: str) -> bytes | None:
        """A report of ``outbox/<instellingsnummer>/<name>`` (for the Informat page), or None:
        no such report, another name than a plain file name, or a link or anything but a
        regular file there (never followed)."""
        try:
            return self.zone.read_key(outbox_key(instellingsnummer, name))
        except (ValueError, FileNotFoundError, UnsafePath):
            return None


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


_MAX_TAKEOVERS = 5  # a drop whose claim went stale this often is left for a person

_NOT_A_FILE = (
    "Dit is geen gewoon bestand (een snelkoppeling, link of map); het is niet gelezen. "
    "Zet het bestand zelf klaar."
)
_TOO_LARGE = f"Het bestand is groter dan {MAX_BYTES // (1024 * 1024)} MB; het is niet gelezen."
