"""Who hears when a run fails or runs late: the data team, by mail through the SMTP provider's
notifier and by the optional webhook, on the final failure of any task of any DAG of the project,
and when a scheduled run has not finished by its deadline (Airflow's deadline alerts, sent from
the triggerer: a rollover check that has not run by 08:00 is itself an alert). The notice names
the DAG, the task or the run, and points at the DAG's "Als het faalt / When it fails" notes:
never a stack trace or data.

The recipients come from the environment (``INFORMAT_DATA_TEAM``, comma-separated), read when a
DAG is parsed (cheap); without it no notifier is attached and the log says so at parse time."""

from __future__ import annotations

import os
from datetime import timedelta
from typing import Any

from informat_airflow.wiring import SMTP_CONN_ID

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
    "by {{ deadline.deadline_time }}: it did not start (scheduler or workers down, the pool full) "
    "or it is stuck.</p><p>Look at the run in the Airflow UI; what it means and what to rerun: "
    "'Als het faalt / When it fails' in the DAG's documentation. This mail carries no data."
    "</p></body></html>"
)
DEADLINE_TEXT = (
    "[Informat] {{ dag_run.dag_id }}: run {{ dag_run.run_id }} not finished by "
    "{{ deadline.deadline_time }}."
)


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


def deadline(interval: timedelta, smtp_conn_id: str = SMTP_CONN_ID) -> list:
    """Deadline alerts for a scheduled DAG: mail (with ``INFORMAT_DATA_TEAM``) and webhook when a
    run has not finished ``interval`` after its logical date (its scheduled time)."""
    from airflow.sdk import AsyncCallback, DeadlineAlert, DeadlineReference

    from informat_airflow.webhook import WebhookNotifier

    def alert(callback: AsyncCallback) -> DeadlineAlert:
        return DeadlineAlert(
            reference=DeadlineReference.DAGRUN_LOGICAL_DATE, interval=interval, callback=callback
        )

    alerts = [alert(AsyncCallback(WebhookNotifier, kwargs={"text": DEADLINE_TEXT}))]
    recipients = data_team()
    if recipients:
        from informat_airflow.mail import MailNotifier

        mail = {"to": recipients, "subject": DEADLINE_SUBJECT, "html_content": DEADLINE_BODY}
        alerts.append(
            alert(AsyncCallback(MailNotifier, kwargs=mail | {"smtp_conn_id": smtp_conn_id}))
        )
    return alerts


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
