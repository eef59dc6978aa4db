"""The extraction's data shapes: a partition (what one unit of work reads and publishes) and a
run's context (what every partition of a run shares), instead of long argument lists."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from .settings import ExtractSettings

RawStore = tuple[Any, str]  # a boto3 client and the bucket of raw/ (and quarantined raw answers)


@dataclass(frozen=True)
class Partition:
    """One entity of one instelling (or toegangsgroep, for invoices) in one schooljaar, on a day."""

    entity: str
    key: str
    schooljaar: str
    day: dt.date

    @classmethod
    def from_dict(cls, values: Mapping[str, str]) -> Partition:
        day = dt.date.fromisoformat(values["day"])
        return cls(values["entity"], values["key"], values["schooljaar"], day)

    def as_dict(self) -> dict[str, str]:
        """The JSON form (markers, outcomes of a skipped partition)."""
        return {
            "entity": self.entity,
            "key": self.key,
            "schooljaar": self.schooljaar,
            "day": self.day.isoformat(),
        }


@dataclass(frozen=True)
class RunContext:
    """What the partitions of one run share: the data bucket and its client, the settings, the
    pseudonymisation key, Informat's reference date, where raw answers go (``None``: ``raw/``
    beside ``clean/``), the validator (``None``: Great Expectations in this process), and the
    run, whose markers a retry finds (``reuse_clean`` False re-reads what is clean today)."""

    s3: Any
    bucket: str
    settings: ExtractSettings
    pseudonymisation_key: bytes | None = None
    ref_date: str | None = None
    raw: RawStore | None = None
    validator: Callable[..., Any] | None = None
    run_id: str = ""
    reuse_clean: bool = True
