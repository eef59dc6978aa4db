"""What a person's answer to an approval means, for every hold (a held partition of the
extraction, a held file of the push, a held roster export): approved, rejected by a person, or
the default taken because nobody answered in time. No Airflow import: the answer is the event
Airflow's approval operator resumes with."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

APPROVED, REJECTED, TIMED_OUT = "approved", "rejected", "timeout"


def decision_of(answer: Mapping[str, Any] | None) -> str | None:
    """``APPROVED``, ``REJECTED`` (by a person) or ``TIMED_OUT`` (the default taken: Airflow marks
    it ``timedout``, and no one responded); None: no answer at all."""
    if not answer or not answer.get("chosen_options"):
        return None
    if list(answer["chosen_options"]) == ["Approve"]:
        return APPROVED
    if answer.get("timedout") or not answer.get("responded_by_user"):
        return TIMED_OUT
    return REJECTED
