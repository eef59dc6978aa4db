"""The approval of every hold keeps what its answer meant for the task that settles the hold:
Airflow's ApprovalOperator returns nothing usable on Reject, so the decision is an XCom."""

from __future__ import annotations

import datetime as dt

import pytest

from informat_airflow.review import Review


class RecordingTi:
    def __init__(self) -> None:
        self.pushed: dict[str, object] = {}

    def xcom_push(self, key: str, value: object) -> None:
        self.pushed[key] = value


def event(option: str, by: dict | None, timedout: bool = False) -> dict:
    at = dt.datetime(2026, 12, 2, tzinfo=dt.UTC)
    return {"chosen_options": [option], "params_input": {}, "responded_by_user": by,
            "responded_at": at, "timedout": timedout}  # fmt: skip


@pytest.mark.parametrize(
    ("answer", "decision"),
    [
        (event("Approve", {"id": "1", "name": "data-team"}), "approved"),
        (event("Reject", {"id": "1", "name": "data-team"}), "rejected"),
        (event("Reject", None, timedout=True), "timeout"),
    ],
)
def test_the_decision_is_kept_before_the_operator_acts_on_it(answer, decision):
    ti = RecordingTi()
    review = Review(task_id="review", subject="held", body="")
    returned = review.execute_complete({"ti": ti}, answer)
    assert ti.pushed == {"decision": decision}
    assert returned["chosen_options"] == answer["chosen_options"]
