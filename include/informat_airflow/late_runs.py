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
from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta
from typing import Any

from airflow.sdk.bases.notifier import BaseNotifier

log = logging.getLogger(__name__)

RECORD_PREFIX = "informat_deadline_missed"
# a run queued more than this after its logical date was made late (a first unpause, a catch-up,
# a scheduler that was down, a cleared run): its deadline, counted from the logical date, says
# nothing about this run
MADE_LATE_AFTER = timedelta(minutes=10)


def made_after_its_deadline_started(context: Any) -> bool:
    """Whether a deadline callback's run was queued well after its logical date, so that its
    deadline had (nearly) passed when the run came to exist: then the notice is not sent (one
    log line), since it would not mean the run is late. Airflow 3.3.2 can count deadlines from
    the queued time (``DAGRUN_QUEUED_AT``), but clearing a task of such a run then fails (500,
    apache/airflow#70368), and clearing is this project's documented way to redo a task; so the
    deadlines count from the logical date and this guard keeps their notices true. A run made
    late and then stuck is still noticed: the dead man's switch (``heartbeat``) misses its ping.
    Any other callback (no ``deadline`` in its context) is never held back."""
    deadline, run = context.get("deadline"), context.get("dag_run")
    if not deadline or not isinstance(run, Mapping):
        return False
    queued, logical = run.get("queued_at"), run.get("logical_date")
    if not queued or not logical:
        return False
    late_by = _moment(queued) - _moment(logical)
    if late_by <= MADE_LATE_AFTER:
        return False
    log.info(
        "%s %s was queued %s after its logical date: no deadline notice (it is not late)",
        run.get("dag_id"),
        run.get("run_id"),
        late_by,
    )
    return True


def _moment(value: Any) -> datetime:
    return value if isinstance(value, datetime) else datetime.fromisoformat(str(value))


def record_key(dag_id: str, run_id: str) -> str:
    return f"{RECORD_PREFIX}__{dag_id}__{run_id}"


class DeadlineMissedRecord(BaseNotifier):
    """A deadline alert's callback (run by the triggerer, with the ``dag_run`` and ``deadline``
    the scheduler hands it): records that this run's deadline fired."""

    def notify(self, context: Any) -> None:
        from airflow.sdk import Variable

        if made_after_its_deadline_started(context):
            return
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
