"""Small helpers for reading a task's context the same way in every DAG."""

from __future__ import annotations

from datetime import date
from typing import Any

import pendulum

TIMEZONE = "Europe/Brussels"


def run_day(context: Any, tz: str = TIMEZONE) -> date:
    """The calendar day a run is for, in Brussels time.

    A scheduled run has a logical date; a manual run triggered without one (Airflow 3's default)
    uses the moment it was triggered (``run_after``).
    """
    moment = context.get("logical_date") or context["dag_run"].run_after
    return pendulum.instance(moment).in_timezone(tz).date()


def run_schooljaar(context: Any, day: date) -> str:
    """The schooljaar a run is for: the param ``schooljaar``, else the one of the run's day (it
    turns on 1 September)."""
    from informat_client.schooljaar import is_valid, schooljaar_for

    schooljaar = context["params"].get("schooljaar") or schooljaar_for(day)
    if not is_valid(schooljaar):
        raise ValueError(f"schooljaar {schooljaar!r} is not of the form 2025-26")
    return schooljaar
