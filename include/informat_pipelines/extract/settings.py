"""The extraction's settings (the Airflow Variable ``informat_extract_settings``), checked when
read: a typo or a value out of range fails the run that reads them, with the key named."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from informat_pipelines.core.settings import known_values

INSZ_MODES = ("pseudonymise", "keep", "drop")


@dataclass(frozen=True)
class ExtractSettings:
    insz_mode: str = "pseudonymise"
    row_count_band: float = 0.5  # a run may differ this much (share) from the last good run
    empty_instellingen: tuple[str, ...] = ()
    batch_rows: int = 1000  # records held as Python objects at once (memory stays flat)
    alert_recipients: tuple[str, ...] = ()  # the data team, told of quarantined partitions
    # delta reads (changedSince) every day but this weekday (0 Monday), when a full snapshot is
    # read and compared with the merged state; None: a full read every day
    snapshot_weekday: int | None = 6
    # raw/ and quarantine/ keep Informat's answers this many days (then the report deletes them)
    raw_retention_days: int = 30

    @classmethod
    def from_mapping(cls, values: Mapping[str, Any] | None) -> ExtractSettings:
        values = known_values(cls, values, "extraction")
        settings = cls(**values)
        if settings.insz_mode not in INSZ_MODES:
            raise ValueError(f"insz_mode must be one of {INSZ_MODES}")
        if settings.raw_retention_days < 1:
            raise ValueError("raw_retention_days must be at least 1")
        if not 0 <= settings.row_count_band <= 10:
            raise ValueError("row_count_band must be a share between 0 and 10")
        return settings
