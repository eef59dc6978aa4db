"""The drop zone as a local folder (the embedded default), with its state in a folder beside
it, never followed through a link (see :mod:`.dropzone` for the layout and the rules). No
Airflow import."""

from __future__ import annotations

import errno
import os
import secrets
import stat
import time
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import replace
from pathlib import Path

from .dropzone import (
    _IGNORED,
    _NOT_A_FILE,
    _TOO_LARGE,
    INSTELLING,
    MAX_BYTES,
    NO_SCHOOL,
    STALE_AFTER,
    Claimed,
    KeyExists,
    StateKeys,
    StillWriting,
    Unreadable,
    UnsafePath,
    _claimed,
    _held_key,
    _inbox_key,
    _is_claim_key,
    _split,
    outbox_key,
    printable,
    report_name,
    safe_run,
    stored_name,
)

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
