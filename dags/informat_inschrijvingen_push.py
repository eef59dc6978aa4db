"""Wiring only: the logic lives in informat_pipelines.voorinschrijvingen and .dropzone."""

from __future__ import annotations

from datetime import datetime, timedelta

from airflow.sdk import CronTriggerTimetable, dag, get_current_context, task

from informat_airflow.alerts import deadline_alerts, default_args
from informat_airflow.dropzones import location
from informat_airflow.wiring import (
    INFORMAT_CONN_ID,
    PREREGISTRATION_KEY_CONN_ID,
    SMTP_CONN_ID,
    VOORINSCHRIJVINGEN_SETTINGS_VARIABLE,
)

DROP_ZONE, BUCKET, PREFIX = location()  # fixed when the DAG is parsed
SETTINGS_VARIABLE = VOORINSCHRIJVINGEN_SETTINGS_VARIABLE

DOC = f"""
### Voorinschrijvingen push from a CSV drop

A school drops a CSV export of its (voor)inschrijvingen in the drop zone's `inbox/` (here:
**{DROP_ZONE}**; `s3`: `s3://{BUCKET}/{PREFIX}/inbox/` through the `informat_s3` connection,
`local`: the folder of the `informat_dropzone` connection). Every 15 minutes a **deferrable**
sensor waits for a file without holding a worker slot; then each file is claimed (moved to
`processing/<run>/`, atomically, so overlapping runs never both take it), read (UTF-8 with or
without BOM, Windows-1252, `;` or `,`, Flemish and ISO dates, INSZ with or without dots), and
validated row by row. Valid rows are pushed as voorinschrijvingen with a `preRegistrationId`
derived from the row's identity, in batches with bounded concurrency; a ledger (`ledger/`) keeps
every push and Informat's answer, so a re-dropped file pushes only what did not go through.
The school gets a report per row in `outbox/` (status, reason in Dutch, Informat's id) and a mail
with the counts. The original ends in `processed/` or `failed/`, never deleted. The CSV format
and a template are in docs/dags/informat_inschrijvingen_push.md.

The `preRegistrationId` is an HMAC of the pupil's identity keyed with the password of the
connection `informat_preregistration_key` (at least 32 bytes; never change it once pushes
started: the same pupil would get a new id).

Settings (JSON Variable `informat_inschrijvingen_settings`): `contacts` (instellingsnummer ->
e-mail), `fallback_contact`, `batch_size` (100), `concurrency` (4).

#### Als het faalt / When it fails
- `wait_for_drop` skipped: no file this quarter hour; nothing to do.
- **`push_drops` failed**: the log names the file and the cause. A claimed file stays in
  `processing/<run>/`; clearing the task resumes it, and the ledger keeps every row from being
  pushed twice. Left alone, a run two hours later takes the file over and finishes it (the data
  team is told which run left it behind). Rows that failed on a temporary Informat problem are
  pushed when the school drops the file again. The school was told by mail what happened to
  each file it dropped.
"""


def _wait_for_drop():
    common = {
        "task_id": "wait_for_drop",
        "deferrable": True,
        "poke_interval": 60,
        "timeout": 14 * 60,
        "soft_fail": True,  # no file this quarter: skipped, not failed
    }
    from informat_airflow.sensors import DropZoneSensor

    # not the providers' FileSensor or S3KeySensor: see informat_airflow.sensors for why
    return DropZoneSensor(kind=DROP_ZONE, bucket=BUCKET, prefix=PREFIX, **common)


def _push_parts():
    """The drop zone, the Informat hook, the voorinschrijvingen settings and the connection's
    instellingen."""
    from informat_airflow.dropzones import drop_zone
    from informat_airflow.hooks import InformatHook
    from informat_airflow.settings import from_variable
    from informat_pipelines.voorinschrijvingen import VoorinschrijvingenSettings

    hook = InformatHook(INFORMAT_CONN_ID)
    settings = from_variable(SETTINGS_VARIABLE, VoorinschrijvingenSettings)
    return drop_zone(), hook, settings, hook.get_config().instellingsnummers


@dag(
    dag_id="informat_inschrijvingen_push",
    schedule=CronTriggerTimetable("*/15 * * * *", timezone="Europe/Brussels"),
    start_date=datetime(2026, 1, 1),
    catchup=False,
    max_active_runs=2,  # overlapping runs are safe: every file is claimed before it is read
    tags=["informat", "leerlingen", "inschrijvingen"],
    doc_md=DOC,
    default_args=default_args(timedelta(minutes=2)),
    **deadline_alerts(timedelta(minutes=45)),
)
def informat_inschrijvingen_push():
    @task
    def push_drops() -> list[dict]:
        from dataclasses import asdict
        from functools import partial

        from informat_airflow import notify
        from informat_airflow.settings import connection_secret
        from informat_pipelines.voorinschrijvingen import PushRun, deliver_pending, handle_drops

        run_id = get_current_context()["run_id"]
        zone, hook, settings, numbers = _push_parts()
        id_key = connection_secret(PREREGISTRATION_KEY_CONN_ID)
        with hook.get_conn() as client:
            outcomes = handle_drops(PushRun(zone, client, numbers, run_id, id_key), settings)
        # every outcome waits in the state until its mails are out (also those of a failed try);
        # each is claimed before it is sent, so a run beside this one never sends it again
        mail = partial(notify.send_mail, SMTP_CONN_ID)
        deliver_pending(zone, settings, mail, instellingsnummers=numbers, run_id=run_id)
        return [asdict(o) for o in outcomes]

    _wait_for_drop() >> push_drops()


informat_inschrijvingen_push()
