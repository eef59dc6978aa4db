"""Wiring only: the logic lives in informat_pipelines.pdf_archive.archive, .pdf_retention and
informat_airflow.operators."""

from __future__ import annotations

from datetime import datetime, timedelta

from airflow.sdk import CronTriggerTimetable, dag, get_current_context, task

from informat_airflow.alerts import deadline_alerts, default_args
from informat_airflow.operators import ArchivePdfsOperator
from informat_airflow.wiring import (
    AWS_CONN_ID,
    INFORMAT_CONN_ID,
    PDF_ARCHIVE_SETTINGS_VARIABLE,
    SMTP_CONN_ID,
    archive_bucket,
    data_bucket,
)

SETTINGS_VARIABLE = PDF_ARCHIVE_SETTINGS_VARIABLE

DOC = """
### PDF generation and archive

Informat makes invoice PDFs asynchronously and keeps each one at most a year. Every night (03:00
Europe/Brussels) this DAG, for every toegangsgroep of the `informat` connection and for the
current and the previous schooljaar (one mapped task each):

1. compares Informat's invoices with the manifest kept in the archive itself
   (`pdf/{toegangsgroep}/{schooljaar}/manifest.json`), and records PDFs that a stopped run had
   uploaded but not yet recorded (after verifying them);
2. requests the missing PDFs in batches (`batch_size`, default 200) and **defers**: one trigger
   per batch polls its jobs in Airflow's triggerer, from 5 s growing 1.5x to 60 s with jitter,
   up to `timeout` (default 1 h); no worker slot is held meanwhile;
3. downloads each ready PDF as a stream, computing SHA-256 on the way and checking it against
   Informat's, uploads it through the `informat_s3` connection (S3Hook: `endpoint_url`, checksum
   settings) to `pdf/{toegangsgroep}/{schooljaar}/{invoice}.pdf` with its checksum and metadata,
   verifies the stored object's size and checksum, and only then records it in the manifest.

A PDF that Informat has already deleted (410) is reported as **lost** and regenerated once. The
`retention_guard` task lists, per toegangsgroep and schooljaar, how many invoices there are, how
many are archived and missing, and mails `alert_recipients` when PDFs made more than
`retention_warn_days` (default 335, about 11 months) ago are not archived, or are lost.

Settings (JSON Variable `informat_pdf_archive_settings`, all optional): `batch_size`,
`poll_initial`, `poll_max`, `poll_jitter`, `timeout`, `retention_warn_days`, `object_lock_days`,
`download_attempts`, and `alert_recipients` (list).

#### Als het faalt / When it fails
- **`archive_pdfs` failed, "not ready after … s"**: Informat did not make the PDFs in time. What
  was ready is archived and in the manifest; the next run (or clearing the task) resumes there.
- **"waiting for PDFs failed"** or a download/upload error: the log names the toegangsgroep and
  the cause; clear the task once Informat or the archive answers again. Nothing half-written is
  ever recorded in the manifest.
- A skipped `archive_pdfs` means no access (not carried over): the rollover DAG alerts the
  admins. The `retention_guard` mails `alert_recipients` about PDFs at risk or lost.
"""


@dag(
    dag_id="informat_pdf_archive",
    schedule=CronTriggerTimetable("0 3 * * *", timezone="Europe/Brussels"),
    start_date=datetime(2026, 1, 1),
    catchup=False,
    max_active_runs=1,
    tags=["informat", "rekeningen", "archive"],
    doc_md=DOC,
    default_args=default_args(timedelta(minutes=10)),
    **deadline_alerts(timedelta(hours=4)),
)
def informat_pdf_archive():
    @task
    def targets() -> list[dict]:
        from informat_airflow.context import run_day
        from informat_airflow.hooks import InformatHook
        from informat_airflow.settings import from_variable
        from informat_pipelines.pdf_archive.archive import ArchiveSettings, targets

        context = get_current_context()
        settings = from_variable(SETTINGS_VARIABLE, ArchiveSettings)
        groups = InformatHook(INFORMAT_CONN_ID).get_config().toegangsgroepen
        return targets(sorted(groups), run_day(context), settings)

    @task(trigger_rule="all_done")
    def retention_guard(targets: list[dict]) -> list[dict]:
        from dataclasses import asdict

        from airflow.providers.amazon.aws.hooks.s3 import S3Hook

        from informat_airflow import notify
        from informat_airflow.context import run_day
        from informat_airflow.hooks import InformatHook
        from informat_airflow.settings import from_variable
        from informat_pipelines.core.status import record_archive
        from informat_pipelines.pdf_archive.archive import ArchiveSettings
        from informat_pipelines.pdf_archive.retention import guard
        from informat_pipelines.pdf_archive.store import Boto3Store

        settings = from_variable(SETTINGS_VARIABLE, ArchiveSettings)
        s3 = S3Hook(aws_conn_id=AWS_CONN_ID).get_conn()
        with InformatHook(INFORMAT_CONN_ID).get_conn() as client:
            rows, mail = guard(client, Boto3Store(s3, archive_bucket()), settings, targets)
        groups = [asdict(r) for r in rows]
        record_archive(s3, data_bucket(), groups, run_day(get_current_context()))  # for the page
        if mail:
            notify.send_mail(SMTP_CONN_ID, settings.alert_recipients, *mail)
        return [{k: v for k, v in g.items() if k != "by_month"} for g in groups]

    @task(trigger_rule="none_failed")  # a skipped toegangsgroep (no access) is no failure
    def archive_complete() -> None:
        """The run's outcome: it succeeds only when every archive task did (the retention guard
        runs whatever happened, so it cannot be the last task)."""
        from informat_client.masking import get_logger

        get_logger(__name__).info(
            "every PDF of every toegangsgroep and schooljaar in scope is archived and verified"
        )

    planned = targets()
    archived = ArchivePdfsOperator.partial(task_id="archive_pdfs").expand_kwargs(planned)
    guard = retention_guard(planned)
    archived >> guard
    [archived, guard] >> archive_complete()


informat_pdf_archive()
