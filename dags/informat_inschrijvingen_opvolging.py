"""Wiring only: the logic lives in informat_pipelines.voorinschrijvingen.followup."""

from __future__ import annotations

from datetime import datetime, timedelta

from airflow.sdk import CronTriggerTimetable, dag, get_current_context, task

from informat_airflow.alerts import deadline_alerts, default_args
from informat_airflow.wiring import (
    INFORMAT_CONN_ID,
    SMTP_CONN_ID,
    VOORINSCHRIJVINGEN_SETTINGS_VARIABLE,
)

SETTINGS_VARIABLE = VOORINSCHRIJVINGEN_SETTINGS_VARIABLE

DOC = """
### Follow-up of pushed voorinschrijvingen

Every morning (06:30 Europe/Brussels) this DAG asks Informat the status of every voorinschrijving
the push DAG sent and that is still **open** (`GET 1/preregistrations/{id}/status`), records each
change in the ledger of the drop zone (`ledger/`), and tells each school which of its
voorinschrijvingen were **geaccepteerd** or **geweigerd** by its secretariat: a report per
instelling in its folder, `outbox/<instellingsnummer>/opvolging-<day>.csv` (file, row, status,
id: no personal data), and a mail to the school's contact (`contacts`, else `fallback_contact`,
of the settings Variable `informat_inschrijvingen_settings`). A voorinschrijving Informat no
longer knows is reported as *verdwenen*.

#### Als het faalt / When it fails
- Informat unreachable for an instelling: its statuses are skipped today (a warning in the log)
  and asked again tomorrow; nothing is lost, the ledger is only written for what was answered.
- **`followup` failed**: the drop zone or the SMTP server was unreachable (the log says which).
  Clear the task: statuses already recorded are not reported twice, those not recorded are
  asked again.
"""


@dag(
    dag_id="informat_inschrijvingen_opvolging",
    schedule=CronTriggerTimetable("30 6 * * *", timezone="Europe/Brussels"),
    start_date=datetime(2026, 1, 1),
    catchup=False,
    max_active_runs=1,
    tags=["informat", "leerlingen", "inschrijvingen"],
    doc_md=DOC,
    default_args=default_args(timedelta(minutes=10)),
    **deadline_alerts(timedelta(hours=1)),
)
def informat_inschrijvingen_opvolging():
    @task
    def followup() -> dict:
        from functools import partial

        from informat_airflow import notify
        from informat_airflow.context import run_day
        from informat_airflow.dropzones import drop_zone
        from informat_airflow.hooks import InformatHook
        from informat_airflow.settings import from_variable
        from informat_pipelines import voorinschrijvingen

        context = get_current_context()
        settings = from_variable(SETTINGS_VARIABLE, voorinschrijvingen.VoorinschrijvingenSettings)
        mail = partial(notify.send_mail, SMTP_CONN_ID)
        with InformatHook(INFORMAT_CONN_ID).get_conn() as client:
            result = voorinschrijvingen.followup.run(
                drop_zone(), client, context["run_id"], run_day(context), settings, mail
            )
        return voorinschrijvingen.followup.as_dict(result)

    followup()


informat_inschrijvingen_opvolging()
