"""The extraction's settings (the Airflow Variable ``informat_extract_settings``), checked when
read: a typo or a value out of range fails the run that reads them, with the key named."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
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
    # a valid partition that changes more than this against what was last published is held
    # for review (extract/holds.py): at least hold_min_changes records and more than hold_share
    # of the last published ones, a removal counting hold_removal_weight times; per entity in
    # hold_entities ({"students": {"share": 0.1, "min_changes": 3, "removal_weight": 3}});
    # hold_share None: never held
    hold_share: float | None = 0.2
    hold_min_changes: int = 5
    hold_removal_weight: float = 2.0
    hold_entities: Mapping[str, Mapping[str, float]] = field(default_factory=dict)

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
        _check_holds(settings)
        return settings


HOLD_KEYS = ("share", "min_changes", "removal_weight")


def _check_holds(settings: ExtractSettings) -> None:
    rules: list[tuple[str, Mapping[str, Any]]] = [
        ("", {k: getattr(settings, f"hold_{k}") for k in HOLD_KEYS})
    ]
    for entity, own in settings.hold_entities.items():
        unknown = sorted(set(own) - set(HOLD_KEYS))
        if unknown:
            raise ValueError(f"hold_entities.{entity}: unknown keys {unknown}")
        rules.append((f"hold_entities.{entity}.", own))
    for where, rule in rules:
        share = rule.get("share")
        if share is not None and not 0 <= share <= 10:
            raise ValueError(f"{where or 'hold_'}share must be a share between 0 and 10 or null")
        if rule.get("min_changes", 0) < 0:
            raise ValueError(f"{where or 'hold_'}min_changes must be 0 or more")
        if rule.get("removal_weight", 1) < 1:
            raise ValueError(f"{where or 'hold_'}removal_weight must be 1 or more")
