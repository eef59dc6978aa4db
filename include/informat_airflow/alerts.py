"""Who hears when a run fails or runs late: the data team, by mail through the SMTP provider's
notifier and by the optional webhook, on the final failure of any task of any DAG of the project,
and when a scheduled run has not finished by its deadline (Airflow's deadline alerts, sent from
the triggerer: a rollover check queued at 07:00 that has not finished by 08:00 is itself an
alert). The notice names the DAG, the task or the run, and points at the DAG's "Als het faalt /
When it fails" notes: never a stack trace or data.

A deadline is counted from the run's logical date (its scheduled time), and its notice is sent
only for a run the scheduler made on time: a run queued well after its logical date (the first
unpause, a catch-up, a cleared run) would be "late" the moment it exists, so its notice is held
back (``late_runs.made_after_its_deadline_started``, which says why not the queued-at reference).
A late run that finishes after all says so once (``informat_airflow.late_runs``).

The recipients come from the environment (``INFORMAT_DATA_TEAM``, comma-separated), read when a
DAG is parsed (cheap); without it no notifier is attached and the log says so at parse time.

``INFORMAT_DEADLINES=off`` in the environment of ``airflow dags test`` (or of a ``dag.test()``)
leaves the deadline alerts off the DAGs it parses: Airflow 3.3.2's ``dag.test()`` crashes when a
run of a DAG with deadline alerts ends ("'dict' object has no attribute 'hex'", the run left
``running``). Never set it for the DAG processor: the scheduler's runs would have no deadline.
``airflow dags test`` writes the DAGs it parsed to the metadata database: against a shared one,
the DAG processor's next parse puts the deadlines back.
"""

from __future__ import annotations

import logging
import os
from datetime import timedelta
from typing import Any

from informat_airflow.wiring import SMTP_CONN_ID

log = logging.getLogger(__name__)

# the documented switch for `airflow dags test` (see the module's docstring)
DEADLINES_SWITCH = "INFORMAT_DEADLINES"

SUBJECT = "[Informat] {{ dag.dag_id }}: task {{ ti.task_id }} failed"
BODY = (
    "<html><body><p>The DAG <b>{{ dag.dag_id }}</b> failed in task <b>{{ ti.task_id }}</b> "
    "(run {{ run_id }}, try {{ ti.try_number }}).</p><p>What it means and what to rerun: the "
    "section 'Als het faalt / When it fails' of the DAG's documentation in the Airflow UI; the "
    "task log says why. This mail carries no data of the run.</p></body></html>"
)


def data_team() -> list[str]:
    return [a.strip() for a in os.environ.get("INFORMAT_DATA_TEAM", "").split(",") if a.strip()]


WEBHOOK_TEXT = (
    "[Informat] {{ dag.dag_id }}: task {{ ti.task_id }} failed (run {{ run_id }}). What to do: "
    "'Als het faalt / When it fails' in the DAG's documentation."
)
DEADLINE_SUBJECT = "[Informat] {{ dag_run.dag_id }}: not finished by its deadline"
DEADLINE_BODY = (
    "<html><body><p>The run {{ dag_run.run_id }} of <b>{{ dag_run.dag_id }}</b> had not finished "
    "by {{ deadline.deadline_time }}, its deadline counted from its scheduled time: it did not "
    "start (no free worker or pool slot), it is stuck, or it waits for a person's answer (a held "
    "change: Required actions in the Airflow UI).</p><p>Look at the run in the Airflow "
    "UI; what it means and what to rerun: "
    "'Als het faalt / When it fails' in the DAG's documentation. This mail carries no data."
    "</p></body></html>"
)
DEADLINE_TEXT = (
    "[Informat] {{ dag_run.dag_id }}: run {{ dag_run.run_id }} not finished by "
    "{{ deadline.deadline_time }}."
)
AFTER_ALL_SUBJECT = "[Informat] {{ dag.dag_id }}: the late run finished after all"
AFTER_ALL_BODY = (
    "<html><body><p>The run {{ run_id }} of <b>{{ dag.dag_id }}</b>, of which the data team was "
    "told that it had not finished by its deadline, has finished successfully after all.</p>"
    "<p>Nothing to rerun. If runs of this DAG are often late, see 'Als het faalt / When it "
    "fails' in the DAG's documentation. This mail carries no data.</p></body></html>"
)
AFTER_ALL_TEXT = "[Informat] {{ dag.dag_id }}: run {{ run_id }}, reported late, finished after all."


def on_failure(smtp_conn_id: str = SMTP_CONN_ID) -> list:
    """The notifiers for ``on_failure_callback``: the webhook (when its connection exists) and,
    with ``INFORMAT_DATA_TEAM``, the mail."""
    from informat_airflow.webhook import WebhookNotifier

    notifiers: list = [WebhookNotifier(text=WEBHOOK_TEXT)]
    recipients = data_team()
    if recipients:
        from informat_airflow.mail import MailNotifier  # the provider's, with a plain-text part

        notifiers.append(
            MailNotifier(
                to=recipients, subject=SUBJECT, html_content=BODY, smtp_conn_id=smtp_conn_id
            )
        )
    return notifiers


def deadlines_on() -> bool:
    return os.environ.get(DEADLINES_SWITCH, "").strip().lower() not in ("off", "false", "0", "no")


def deadline_alerts(interval: timedelta, smtp_conn_id: str = SMTP_CONN_ID) -> dict[str, Any]:
    """The keyword arguments of a scheduled DAG for its deadline (``**deadline_alerts(...)``):
    mail (with ``INFORMAT_DATA_TEAM``) and webhook when a run has not finished ``interval`` after
    its logical date (none for a run made late), a record that the deadline fired, and the DAG's
    callbacks that send one "finished after all" notice when such a run succeeds. Nothing with
    ``INFORMAT_DEADLINES=off`` (the log says so)."""
    if not deadlines_on():
        log.warning("Deadline alerts off (%s=off): for `airflow dags test` only", DEADLINES_SWITCH)
        return {}
    from airflow.sdk import AsyncCallback, DeadlineAlert, DeadlineReference

    from informat_airflow.heartbeat import HeartbeatPing
    from informat_airflow.late_runs import DeadlineMissedRecord, LateRunEnd
    from informat_airflow.webhook import WebhookNotifier

    def alert(callback: AsyncCallback) -> DeadlineAlert:
        # from the logical date; a run made late is told by no notice (made_after_its_deadline
        # _started): DAGRUN_QUEUED_AT would break clearing a task in 3.3.2 (apache/airflow#70368)
        return DeadlineAlert(
            reference=DeadlineReference.DAGRUN_LOGICAL_DATE, interval=interval, callback=callback
        )

    alerts = [
        alert(AsyncCallback(DeadlineMissedRecord)),
        alert(AsyncCallback(WebhookNotifier, kwargs={"text": DEADLINE_TEXT})),
    ]
    after_all: list = [WebhookNotifier(text=AFTER_ALL_TEXT)]
    recipients = data_team()
    if recipients:
        from informat_airflow.mail import MailNotifier

        mail = {"to": recipients, "subject": DEADLINE_SUBJECT, "html_content": DEADLINE_BODY}
        alerts.append(
            alert(AsyncCallback(MailNotifier, kwargs=mail | {"smtp_conn_id": smtp_conn_id}))
        )
        after_all.append(
            MailNotifier(
                to=recipients,
                subject=AFTER_ALL_SUBJECT,
                html_content=AFTER_ALL_BODY,
                smtp_conn_id=smtp_conn_id,
            )
        )
    return {
        "deadline": alerts,
        # a late run that succeeds says so; a scheduled one pings the dead man's switch
        "on_success_callback": [LateRunEnd(after_all), HeartbeatPing()],
        "on_failure_callback": LateRunEnd(),
    }


def default_args(retry_delay: timedelta, retries: int = 2) -> dict[str, Any]:
    """The ``default_args`` of every DAG of the project: owned by the data team, retried with a
    growing delay, and the data team told of a task's final failure."""
    return {
        "owner": "data-team",
        "on_failure_callback": on_failure(),
        "retries": retries,
        "retry_delay": retry_delay,
        "retry_exponential_backoff": 2.0,
    }
