"""The drop check: SDS marks every user missing from the next upload as inactive, so an export that
would drop more than ``max_drop_share`` (and at least ``min_drop``) of a school's users or classes
compared with its last good export is held for a person to approve. No Airflow import."""

from __future__ import annotations

import csv
import io
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import IO

from .settings import RosterSettings


@dataclass(frozen=True)
class Drop:
    users: list[str]  # sourcedIds in the last good export, not in this one
    classes: list[str]
    last_users: int
    last_classes: int
    held: bool
    reason: str

    def as_csv(self) -> bytes:
        """Who would be dropped: sourcedIds only (no name, no e-mail)."""
        out = io.StringIO()
        writer = csv.writer(out, lineterminator="\r\n")
        writer.writerow(["kind", "sourcedId"])
        writer.writerows(("user", u) for u in self.users)
        writer.writerows(("class", c) for c in self.classes)
        return out.getvalue().encode()


def _column(archive: zipfile.ZipFile, name: str, column: str) -> set[str]:
    with archive.open(name) as raw:
        reader = csv.DictReader(io.TextIOWrapper(raw, encoding="utf-8", newline=""))
        return {row[column] for row in reader}


def exported_ids(zip_file: Path | IO[bytes]) -> tuple[set[str], set[str]]:
    """(user sourcedIds, class sourcedIds) of an SDS zip, read as a stream."""
    with zipfile.ZipFile(zip_file) as archive:
        return _column(archive, "users.csv", "sourcedId"), _column(
            archive, "classes.csv", "sourcedId"
        )


def _too_many(dropped: int, last: int, settings: RosterSettings) -> bool:
    return dropped >= settings.min_drop and dropped > settings.max_drop_share * last


def check(
    last: tuple[set[str], set[str]] | None,
    now: tuple[set[str], set[str]],
    settings: RosterSettings,
) -> Drop:
    """Compare this export's ids with the last good one's (None: a first export, never held)."""
    if last is None:
        return Drop([], [], 0, 0, False, "first export")
    users, classes = sorted(last[0] - now[0]), sorted(last[1] - now[1])
    reasons = []
    if _too_many(len(users), len(last[0]), settings):
        reasons.append(f"{len(users)} of {len(last[0])} users would be dropped")
    if _too_many(len(classes), len(last[1]), settings):
        reasons.append(f"{len(classes)} of {len(last[1])} classes would be dropped")
    return Drop(users, classes, len(last[0]), len(last[1]), bool(reasons), "; ".join(reasons))
