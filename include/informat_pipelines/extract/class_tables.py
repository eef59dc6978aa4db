"""The class tables of an instelling, built from its clean registrations (their nested
``classes``: each registration's ``inschrKlassen``), so that Informat is read once: classes,
class memberships and class teachers. Streamed a batch of registrations at a time; only the
classes and their teachers (a few hundred per school) are held. No Airflow import.

The records use the clean columns' names (the derived entities' keys in ``schemas``) and dates
as ISO strings, so that the landing's contract check reads them as it reads Informat's."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from pathlib import Path
from typing import Any

BATCH_ROWS = 2000


def rows(path: Path, columns: list[str]) -> Iterator[dict[str, Any]]:
    """The rows of a clean Parquet file, ``columns`` only, a batch at a time."""
    import pyarrow.parquet as pq

    parquet = pq.ParquetFile(path)
    for batch in parquet.iter_batches(batch_size=BATCH_ROWS, columns=columns):
        yield from batch.to_pylist()


def iso(day: dt.date | None) -> str | None:
    return day.isoformat() if day is not None else None


def _elements(registrations: Path, columns: list[str]) -> Iterator[tuple[dict, dict]]:
    """(registration, class element) for every class element of every registration."""
    for registration in rows(registrations, [*columns, "classes"]):
        for element in registration["classes"] or ():
            yield registration, element


def classes(sources: dict[str, Path], day: dt.date) -> Iterator[dict[str, Any]]:
    """One row per class of the instelling and schooljaar, as its pupils' elements describe it
    (the code stripped: Informat pads some with spaces); its dates span its memberships (open
    while one is). A class described two ways gives two rows with one ``classId``: the key's
    uniqueness then fails the partition instead of one description silently winning."""
    found: dict[tuple, list[Any]] = {}  # description -> [first start, last end, open]
    for _, element in _elements(sources["registrations"], []):
        code = element["classCode"].strip() if element["classCode"] else element["classCode"]
        described = (
            element["classId"],
            element["pClass"],
            code,
            element["className"],
            element["groupType"],
        )
        start, end = element["startDate"], element["endDate"]
        span = found.setdefault(described, [start, end, end is None])
        if start is not None and (span[0] is None or start < span[0]):
            span[0] = start
        if end is not None and (span[1] is None or end > span[1]):
            span[1] = end
        span[2] = span[2] or end is None
    for (class_id, p_class, code, name, group_type), (start, end, is_open) in found.items():
        yield {
            "classId": class_id,
            "pClass": p_class,
            "classCode": code,
            "className": name,
            "groupType": group_type,
            "startDate": iso(start),
            "endDate": None if is_open else iso(end),
        }


def class_memberships(sources: dict[str, Path], day: dt.date) -> Iterator[dict[str, Any]]:
    """One row per pupil's registration in a class (subgroup, OLOD), with its dates."""
    for registration, element in _elements(
        sources["registrations"], ["registrationId", "personId"]
    ):
        yield {
            "personId": registration["personId"],
            "registrationId": registration["registrationId"],
            "classId": element["classId"],
            "membershipId": element["membershipId"],
            "groupType": element["groupType"],
            "classNumber": element["classNumber"],
            "startDate": iso(element["startDate"]),
            "endDate": iso(element["endDate"]),
        }


def class_teachers(sources: dict[str, Path], day: dt.date) -> Iterator[dict[str, Any]]:
    """One row per class and class teacher (``klassenleraars``: a member of staff's personId),
    whichever pupils' elements name them."""
    seen: set[tuple[str, str]] = set()
    for _, element in _elements(sources["registrations"], []):
        for teacher in element["teachers"] or ():
            pair = (element["classId"], teacher["personId"])
            if pair not in seen:
                seen.add(pair)
                yield {"classId": pair[0], "personId": pair[1]}
