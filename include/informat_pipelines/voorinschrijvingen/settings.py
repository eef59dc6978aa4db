"""The school group's settings of the voorinschrijvingen push and its daily follow-up: who hears
about a file and how hard Informat is pushed."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from informat_pipelines.core.settings import known_values


# Read from the Airflow Variable ``informat_inschrijvingen_settings`` (named in
# informat_airflow.wiring): the Variable keeps that name, as the DAG ids
# informat_inschrijvingen_push and informat_inschrijvingen_opvolging keep theirs, because schools
# and schedules know them.
@dataclass(frozen=True)
class VoorinschrijvingenSettings:
    """Who hears about a file (``contacts``: instellingsnummer -> e-mail, else
    ``fallback_contact``), how hard Informat is pushed, and which file waits for the data
    team's approval before any row of it goes to Informat: one with more than ``approval_rows``
    rows, one that would change more than ``approval_updates`` voorinschrijvingen already sent
    (a re-save), and the first file of an instelling that never pushed."""

    contacts: Mapping[str, str] = field(default_factory=dict)
    fallback_contact: str | None = None
    batch_size: int = 100
    concurrency: int = 4
    # country names or codes the school group writes -> Informat's 5-character code
    country_codes: Mapping[str, str] = field(default_factory=dict)
    # the data team: told when a file failed unexpectedly or Informat was down
    alert_recipients: tuple[str, ...] = ()
    # a school's usual file holds tens of rows; a larger one is more likely a wrong export
    approval_rows: int = 200
    approval_updates: int = 10

    @classmethod
    def from_mapping(cls, values: Mapping[str, Any] | None) -> VoorinschrijvingenSettings:
        # "inschrijvingen": the operator's Variable is named so (see above)
        values = known_values(cls, values, "inschrijvingen")
        settings = cls(**values)
        if settings.batch_size < 1 or settings.concurrency < 1:
            raise ValueError("batch_size and concurrency must be at least 1")
        if settings.approval_rows < 0 or settings.approval_updates < 0:
            raise ValueError("approval_rows and approval_updates must be 0 or more")
        return settings
