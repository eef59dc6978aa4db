"""Where a partition's objects are: its path below clean/, raw/, quarantine/ and held/, and its
marker (the outcome a retry or a later run of the day finds). Its own module, so that the
extraction's modules that only need a key import no logic of each other."""

from __future__ import annotations

from .schemas import ENTITIES
from .shapes import Partition

MARKERS = "state/partitions"


def partition_path(part: Partition) -> str:
    scope = "toegangsgroep" if ENTITIES[part.entity].scope == "toegangsgroep" else "instelling"
    return (
        f"{part.entity}/schooljaar={part.schooljaar}/{scope}={part.key}/date={part.day.isoformat()}"
    )


def marker_key(part: Partition) -> str:
    return f"{MARKERS}/date={part.day.isoformat()}/{part.entity}/{part.key}.json"
