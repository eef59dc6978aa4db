"""Who hears when a run fails: the data team, by mail through the SMTP provider's notifier, on the
final failure of any task of any DAG of the project. The mail names the DAG, the task and the
run, and points at the DAG's "Als het faalt / When it fails" notes: never a stack trace or data.

The recipients come from the environment (``INFORMAT_DATA_TEAM``, comma-separated), read when a
DAG is parsed (cheap); without it no notifier is attached and the log says so at parse time."""

from __future__ import annotations

import os
from datetime import timedelta
from typing import Any

SUBJECT = "[Informat] {{ dag.dag_id }}: task {{ ti.task_id }} failed"
BODY = (
    "<html><body><p>The DAG <b>{{ dag.dag_id }}</b> failed in task <b>{{ ti.task_id }}</b> "
    "(run {{ run_id }}, try {{ ti.try_number }}).</p><p>What it means and what to rerun: the "
    "section 'Als het faalt / When it fails' of the DAG's documentation in the Airflow UI; the "
    "task log says why. This mail carries no data of the run.</p></body></html>"
)


def data_team() -> list[str]:
    return [a.strip() for a in os.environ.get("INFORMAT_DATA_TEAM", "").split(",") if a.strip()]


def on_failure(smtp_conn_id: str = "smtp_default") -> list:
    """The notifiers for ``on_failure_callback`` (empty without ``INFORMAT_DATA_TEAM``)."""
    recipients = data_team()
    if not recipients:
        return []
    from informat_airflow.mail import MailNotifier  # the provider's, with a plain-text part

    return [
        MailNotifier(to=recipients, subject=SUBJECT, html_content=BODY, smtp_conn_id=smtp_conn_id)
    ]


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
