"""Word, once, that a late run finished after all. A deadline notice says a run is late; when
that run then succeeds, the data team should not have to look it up. The deadline alert records
that it fired (a Variable per run, written from the triggerer), and the DAG's success callback
(in the DAG processor) sends one "finished after all" notice when that record exists, and
removes it: a run whose deadline never fired succeeds in silence, and the notice cannot repeat.
A run that fails instead only removes the record (its failure has its own notice).

The record holds the DAG id, the run id and the deadline's time: no data of the run."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence
from typing import Any

from airflow.sdk.bases.notifier import BaseNotifier

log = logging.getLogger(__name__)

RECORD_PREFIX = "informat_deadline_missed"


def record_key(dag_id: str, run_id: str) -> str:
    return f"{RECORD_PREFIX}__{dag_id}__{run_id}"


class DeadlineMissedRecord(BaseNotifier):
    """A deadline alert's callback (run by the triggerer, with the ``dag_run`` and ``deadline``
    the scheduler hands it): records that this run's deadline fired."""

    def notify(self, context: Any) -> None:
        from airflow.sdk import Variable

        run = context["dag_run"]
        Variable.set(
            record_key(run["dag_id"], run["run_id"]),
            str(context["deadline"]["deadline_time"]),
            description="A deadline notice went out for this run; removed when the run ends.",
        )

    async def async_notify(self, context: Any) -> None:
        # the Task SDK's Variable calls block: off the triggerer's event loop
        await asyncio.to_thread(self.notify, context)


def take_record(dag_id: str, run_id: str) -> bool:
    """Whether the run's deadline had fired; the record is removed, so this is true once."""
    from airflow.sdk import Variable

    key = record_key(dag_id, run_id)
    if Variable.get(key, default=None) is None:
        return False
    Variable.delete(key)
    return True


class LateRunEnd:
    """A DAG's ``on_success_callback`` (with the "finished after all" notifiers) or
    ``on_failure_callback`` (without: the record is only removed). It never fails the callback:
    a record it cannot read costs at most the follow-up notice, and the log says so."""

    def __init__(self, notifiers: Sequence[BaseNotifier] = ()) -> None:
        self.notifiers = list(notifiers)

    def __call__(self, context: Any) -> None:
        dag_id, run_id = context["dag"].dag_id, context["run_id"]
        try:
            fired = take_record(dag_id, run_id)
        except Exception as error:
            log.warning(
                "Could not read whether the deadline of %s %s fired (%s)",
                dag_id,
                run_id,
                type(error).__name__,
            )
            return
        if not fired:
            return
        log.info("%s %s ended after its deadline notice", dag_id, run_id)
        for notifier in self.notifiers:
            try:
                notifier(context)
            except Exception as error:  # the other channel still gets the notice
                # the error's name only: its text may hold a webhook's secret URL
                log.warning(
                    "A 'finished after all' notice of %s could not be sent (%s)",
                    dag_id,
                    type(error).__name__,
                )
