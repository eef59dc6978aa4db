"""Wiring only: the logic lives in informat_pipelines.rollover.checks, rollover_messages and
rollover_alerts."""

from __future__ import annotations

from datetime import datetime, timedelta

from airflow.sdk import CronTriggerTimetable, Param, dag, get_current_context, task

from informat_airflow.alerts import deadline_alerts, default_args
from informat_airflow.wiring import (
    INFORMAT_CONN_ID,
    ROLLOVER_SETTINGS_VARIABLE,
    ROLLOVER_STATE_VARIABLE,
    SMTP_CONN_ID,
    WEBHOOK_CONN_ID,
)

SETTINGS_VARIABLE = ROLLOVER_SETTINGS_VARIABLE
STATE_VARIABLE = ROLLOVER_STATE_VARIABLE
STATE_DESCRIPTION = "Findings of informat_toegangsgroep_rollover (open problems and their history)"

DOC = """
### Toegangsgroep rollover checks and alerts

Every school year the API rights of each toegangsgroep must be carried over: someone logs in on
it via iRekeningen. When nobody does, or a toegangsgroep becomes inactive, the Rekeningen API
quietly stops serving that school. This DAG runs **daily at 07:00 Europe/Brussels** and, for every
toegangsgroep in the `informat` connection's extra:

* is it active for the current schooljaar, and does a probe of its invoices return data;
* from `next_schooljaar_from` (default **15 August**) until 1 September: is it already carried
  over to the next schooljaar — so the yearly rollover check starts mid-August and repeats daily
  through 1 September and beyond, until every toegangsgroep is carried over;
* where `payments` is set: at least one active and valid user, and a journal `Extern` or
  `Extern_Dubieus`.

Findings are kept in the Variable `informat_rollover_state` (inspect it under Admin > Variables;
a manual run for another date, param `today`, keeps its own `informat_rollover_state_manual`):
a problem is announced once, reminded every `remind_after_days` (default 7) while it lasts, and
closed with an "opgelost" message. Mails go through the SMTP connection to the admins of the
toegangsgroep (connection extra), or to `fallback_recipients`; a failure of the check itself
(Informat unreachable, credentials refused) is worded as such and also goes to the fallback list.
A Slack or Teams incoming webhook (HTTP connection `informat_alerts_webhook`) is an optional second
channel.

Settings (JSON Variable `informat_rollover_settings`, all optional): `remind_after_days`,
`language` (`nl` or `en`), `fallback_recipients`, `next_schooljaar_from` (`MM-DD`), `probe`.
The run's summary (every toegangsgroep with its state) is the `alert` task's log and return value.

#### Als het faalt / When it fails
- A toegangsgroep not carried over is **not** a failure: it is a finding, mailed to its admins.
- **`check_toegangsgroepen` failed**: the connection has no toegangsgroepen, or the settings
  Variable is wrong (the error names the key). Informat unreachable or refusing the credentials
  is reported as a check failure to the admins and `fallback_recipients`, not as a task failure.
- **`alert` failed**: a mail could not be sent; the state was not saved, so a rerun of the task
  sends again what was due (possibly twice, never lost).
"""


@dag(
    dag_id="informat_toegangsgroep_rollover",
    schedule=CronTriggerTimetable("0 7 * * *", timezone="Europe/Brussels"),
    start_date=datetime(2026, 1, 1),
    catchup=False,
    max_active_runs=1,
    tags=["informat", "rekeningen", "alerts"],
    doc_md=DOC,
    default_args=default_args(timedelta(minutes=5)),
    **deadline_alerts(timedelta(hours=1)),  # queued 07:00 -> 08:00: an unfinished check alerts
    params={
        "today": Param(None, type=["null", "string"], description="check as of this date"),
    },
)
def informat_toegangsgroep_rollover():
    @task
    def check_toegangsgroepen() -> dict:
        from datetime import date

        from informat_airflow.context import run_day
        from informat_airflow.hooks import InformatHook
        from informat_airflow.settings import from_variable
        from informat_pipelines.rollover.alerts import check
        from informat_pipelines.rollover.checks import Settings

        context = get_current_context()
        params = context["params"]
        today = date.fromisoformat(params["today"]) if params["today"] else run_day(context)
        settings = from_variable(SETTINGS_VARIABLE, Settings)
        hook = InformatHook(INFORMAT_CONN_ID)
        with hook.get_conn() as client:
            return check(client, hook.get_config().toegangsgroepen, today, settings)

    @task
    def alert(checked: dict) -> list[dict]:
        from functools import partial

        from informat_airflow import notify, state
        from informat_airflow.hooks import InformatHook
        from informat_airflow.settings import from_variable
        from informat_pipelines.rollover.alerts import deliver, recipients_of
        from informat_pipelines.rollover.checks import Settings

        params = get_current_context()["params"]
        # a run for another date (param today) keeps its own state: the real one is untouched
        variable = STATE_VARIABLE + ("_manual" if params["today"] else "")
        _, rows = deliver(
            checked,
            state.load(variable),
            recipients_of(
                InformatHook(INFORMAT_CONN_ID).get_config().toegangsgroepen,
                from_variable(SETTINGS_VARIABLE, Settings),
            ),
            partial(notify.send_mail, SMTP_CONN_ID),
            partial(notify.post_webhook, WEBHOOK_CONN_ID),
            partial(state.save, variable, STATE_DESCRIPTION),
        )
        return rows

    alert(check_toegangsgroepen())


informat_toegangsgroep_rollover()
