"""Wiring only: the logic lives in informat_pipelines.voorinschrijvingen and .dropzone."""

from __future__ import annotations

import os
from datetime import datetime, timedelta

from airflow.providers.standard.operators.hitl import ApprovalOperator
from airflow.sdk import BaseNotifier, CronTriggerTimetable, dag, get_current_context, task

from informat_airflow.alerts import deadline_alerts, default_args
from informat_airflow.dropzones import location
from informat_airflow.review import Review
from informat_airflow.wiring import (
    INFORMAT_CONN_ID,
    PREREGISTRATION_KEY_CONN_ID,
    SMTP_CONN_ID,
    VOORINSCHRIJVINGEN_SETTINGS_VARIABLE,
)
from informat_pipelines.core.decisions import APPROVED  # a constant: nothing heavy at parse

DROP_ZONE, BUCKET, PREFIX = location()  # fixed when the DAG is parsed
SETTINGS_VARIABLE = VOORINSCHRIJVINGEN_SETTINGS_VARIABLE
# how long a held file waits for the data team; then it is not pushed (the review's default)
REVIEW_HOURS = float(os.environ.get("INFORMAT_PUSH_REVIEW_HOURS", "20"))

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

**Files that wait for a yes.** A file with more rows than `approval_rows`, one that would change
more than `approval_updates` voorinschrijvingen already sent (a re-save), or the first file of an
instelling that never pushed (the ledger knows) is read and validated, then **held**
(`held/<run>/<instellingsnummer>/` of the state, still this run's), and no row of it goes to
Informat yet. The task `review` (Airflow's approval, under Required actions; the data team in
`alert_recipients` gets a mail with its link) shows per held file why it waits and the per-row
report of what a push would do (statuses and reasons, never a cell's value). **Approve**:
`push_held` pushes it as any other file (each row once). **Reject**, or no answer within
{REVIEW_HOURS:g} hours (`INFORMAT_PUSH_REVIEW_HOURS`): `settle_held` sends it to `failed/` and the
school hears "niet doorgestuurd: afgewezen door het data-team" (or: not approved in time; the
data team hears that too). Other files of the run went out at once; `review` is skipped when
nothing is held. Answer through the REST API: `PATCH /api/v2/dags/informat_inschrijvingen_push/
dagRuns/<run>/taskInstances/review/-1/hitlDetails` with `{{"chosen_options": ["Approve"]}}`.

Settings (JSON Variable `informat_inschrijvingen_settings`): `contacts` (instellingsnummer ->
e-mail), `fallback_contact`, `batch_size` (100), `concurrency` (4), `alert_recipients`,
`approval_rows` (200), `approval_updates` (10).

#### Als het faalt / When it fails
- `wait_for_drop` skipped: no file this quarter hour; nothing to do.
- **`review` waits**: a file is held (see above): read the preview and Approve or Reject. A run
  waiting counts against the DAG's 8 active runs.
- **`push_held` failed** after an approval: the file stays in `held/<run>/`; clear `push_held`
  (the ledger keeps rows from going twice). A held file whose run failed otherwise stays in
  `held/<run>/` too: clear the run's failed task, or move the file back to the school's inbox.
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


def _run(zone, numbers, client):
    """This run over the drop zone, with the Informat client opened."""
    from informat_airflow.settings import connection_secret
    from informat_pipelines.voorinschrijvingen import PushRun

    id_key = connection_secret(PREREGISTRATION_KEY_CONN_ID)
    return PushRun(zone, client, numbers, get_current_context()["run_id"], id_key)


def _deliver(zone, settings, numbers, run_id) -> None:
    from functools import partial

    from informat_airflow import notify
    from informat_pipelines.voorinschrijvingen import deliver_pending

    mail = partial(notify.send_mail, SMTP_CONN_ID)
    deliver_pending(zone, settings, mail, instellingsnummers=numbers, run_id=run_id)


def _settle(decision) -> None:
    """The held files of this run pushed (approved) or sent to failed/ (rejected, timed out)."""
    from informat_pipelines.voorinschrijvingen import settle_held

    zone, hook, settings, numbers = _push_parts()
    with hook.get_conn() as client:
        settle_held(_run(zone, numbers, client), settings, decision)


class HeldMail(BaseNotifier):
    """The data team's mail (``alert_recipients``) that files wait, with the link to the review
    in Airflow's UI (``[api] base_url``)."""

    def notify(self, context) -> None:
        from informat_airflow import notify
        from informat_pipelines.voorinschrijvingen import held

        zone, _, settings, _ = _push_parts()
        if not settings.alert_recipients:
            self.log.warning("files held for approval, but no alert_recipients to tell")
            return
        try:
            link = ApprovalOperator.generate_link_to_ui_from_context(context=context)
        except ValueError:  # no [api] base_url: the mail names the task instead
            link = None
        subject, body = held.held_mail(held.waiting(zone, context["run_id"]), link, REVIEW_HOURS)
        try:  # the question stands in Required actions whether or not the mail went out
            notify.send_mail(SMTP_CONN_ID, settings.alert_recipients, subject, body)
        except Exception as exc:
            self.log.error("mail about held files not sent: %s", type(exc).__name__)


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
    # overlapping runs are safe: every file is claimed before it is read; a run waiting for an
    # approval counts as active, so there is room for a few beside the quarter-hourly one
    max_active_runs=8,
    tags=["informat", "leerlingen", "inschrijvingen"],
    doc_md=DOC,
    default_args=default_args(timedelta(minutes=2)),
    # a run rightly waits up to REVIEW_HOURS for an answer: late only after that
    **deadline_alerts(timedelta(hours=REVIEW_HOURS, minutes=45)),
)
def informat_inschrijvingen_push():
    # a file under the thresholds goes out now; one that needs a yes is held, and the review's
    # text (its per-row preview) is returned: "" skips the review
    @task.short_circuit(ignore_downstream_trigger_rules=False)
    def push_drops() -> str:
        from informat_pipelines.voorinschrijvingen import handle_drops, held

        run_id = get_current_context()["run_id"]
        zone, hook, settings, numbers = _push_parts()
        with hook.get_conn() as client:
            handle_drops(_run(zone, numbers, client), settings, hold=True)
        # every outcome waits in the state until its mails are out (also those of a failed try);
        # each is claimed before it is sent, so a run beside this one never sends it again
        _deliver(zone, settings, numbers, run_id)
        return held.review_body(held.waiting(zone, run_id), REVIEW_HOURS)

    # Approve: push_held runs; Reject (or no answer in time: the default) skips it
    review = Review(
        task_id="review",
        subject="Voorinschrijvingen: bestand(en) wachten op goedkeuring",
        body="{{ ti.xcom_pull(task_ids='push_drops') }}",
        defaults=ApprovalOperator.REJECT,
        response_timeout=timedelta(hours=REVIEW_HOURS),
        notifiers=[HeldMail()],
    )

    @task
    def push_held() -> None:
        _settle(APPROVED)

    # after the answer: what is still held was not approved (push_held failed: it stays held)
    @task(trigger_rule="none_failed_min_one_success")
    def settle_held() -> None:
        _settle(get_current_context()["ti"].xcom_pull(task_ids="review", key="decision"))

    @task(trigger_rule="none_failed_min_one_success")
    def deliver_mails() -> None:
        zone, _, settings, numbers = _push_parts()
        _deliver(zone, settings, numbers, get_current_context()["run_id"])

    pushed, settled = push_drops(), settle_held()
    _wait_for_drop() >> pushed >> review >> push_held() >> settled >> deliver_mails()
    # held and rejected: push_held skipped, settle_held runs on push_drops' success; nothing
    # held: push_drops skips review and settle_held (and so push_held and deliver_mails)
    pushed >> settled


informat_inschrijvingen_push()
