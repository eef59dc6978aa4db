"""The approval every hold asks for: Airflow's own ``ApprovalOperator``, which also keeps what the
answer meant as the XCom ``decision`` (approved, rejected, timeout). On Reject (a person's, or the
default when nobody answered in time) the operator skips what follows and returns nothing, so the
task that settles the hold afterwards reads the decision from here."""

from __future__ import annotations

from typing import Any

from airflow.providers.standard.operators.hitl import ApprovalOperator


class Review(ApprovalOperator):
    """An ``ApprovalOperator`` that records its decision (``informat_pipelines.core.decisions``)."""

    def execute_complete(self, context: Any, event: dict[str, Any]) -> Any:
        from informat_pipelines.core.decisions import decision_of

        context["ti"].xcom_push(key="decision", value=decision_of(event))
        return super().execute_complete(context, event)
