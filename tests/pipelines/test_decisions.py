"""What an approval's answer means, the same for every hold: Airflow marks the default it takes
when nobody answered as ``timedout`` with no one who responded."""

from __future__ import annotations

from informat_pipelines.core.decisions import APPROVED, REJECTED, TIMED_OUT, decision_of

PERSON = {"id": "1", "name": "data-team"}


def test_an_answer_is_approved_rejected_or_timed_out():
    assert decision_of({"chosen_options": ["Approve"], "responded_by_user": PERSON}) == APPROVED
    assert decision_of({"chosen_options": ["Reject"], "responded_by_user": PERSON}) == REJECTED
    assert decision_of({"chosen_options": ["Reject"], "timedout": True}) == TIMED_OUT
    # Airflow 3.3's trigger: timedout is "no one responded"; either alone means the default
    assert decision_of({"chosen_options": ["Reject"], "responded_by_user": None}) == TIMED_OUT


def test_no_answer_is_no_decision():
    assert decision_of(None) is None
    assert decision_of({"chosen_options": []}) is None
