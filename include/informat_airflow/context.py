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
