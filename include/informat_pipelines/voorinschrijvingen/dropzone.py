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

import hashlib
import re
from dataclasses import dataclass
from typing import Any, Protocol

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


_MAX_TAKEOVERS = 5  # a drop whose claim went stale this often is left for a person

_NOT_A_FILE = (
    "Dit is geen gewoon bestand (een snelkoppeling, link of map); het is niet gelezen. "
    "Zet het bestand zelf klaar."
)
_TOO_LARGE = f"Het bestand is groter dan {MAX_BYTES // (1024 * 1024)} MB; het is niet gelezen."


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
