"""Wiring only: the logic lives in informat_pipelines.pdf_archive and informat_airflow.pdf."""

from __future__ import annotations

from datetime import datetime, timedelta

from airflow.sdk import CronTriggerTimetable, dag, get_current_context, task

from informat_airflow.pdf import ArchivePdfsOperator

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
"""


@dag(
    dag_id="informat_pdf_archive",
    schedule=CronTriggerTimetable("0 3 * * *", timezone="Europe/Brussels"),
    start_date=datetime(2026, 1, 1),
    catchup=False,
    max_active_runs=1,
    tags=["informat", "rekeningen", "archive"],
    doc_md=DOC,
    default_args={
        "owner": "data-team",
        "retries": 2,
        "retry_delay": timedelta(minutes=10),
        "retry_exponential_backoff": 2.0,
    },
    params={
        "informat_conn_id": "informat_default",
        "aws_conn_id": "informat_s3",
        "bucket": "informat-archive",
        "smtp_conn_id": "smtp_default",
    },
)
def informat_pdf_archive():
    @task
    def targets() -> list[dict]:
        from airflow.sdk import Variable

        from informat_airflow.context import run_day
        from informat_airflow.hooks import InformatHook
        from informat_client.schooljaar import schooljaar_for, shift

        context = get_current_context()
        params = context["params"]
        config = InformatHook(params["informat_conn_id"]).get_config()
        current = schooljaar_for(run_day(context))
        from informat_pipelines.pdf_archive import ArchiveSettings

        settings = Variable.get("informat_pdf_archive_settings", default={}, deserialize_json=True)
        fields = ArchiveSettings.__dataclass_fields__
        archive_settings = {k: v for k, v in settings.items() if k in fields}
        return [
            {
                "toegangsgroep": name,
                "schooljaar": year,
                "informat_conn_id": params["informat_conn_id"],
                "aws_conn_id": params["aws_conn_id"],
                "bucket": params["bucket"],
                "settings": archive_settings,
            }
            for name in sorted(config.toegangsgroepen)
            for year in (shift(current, -1), current)
        ]

    @task(trigger_rule="all_done")
    def retention_guard(targets: list[dict]) -> list[dict]:
        from dataclasses import asdict

        from airflow.providers.amazon.aws.hooks.s3 import S3Hook
        from airflow.sdk import Variable

        from informat_airflow import notify
        from informat_airflow.hooks import InformatHook
        from informat_client import InformatError
        from informat_pipelines.pdf_archive import ArchiveSettings, Boto3Store, format_status
        from informat_pipelines.pdf_archive import status as archive_status

        params = get_current_context()["params"]
        raw = Variable.get("informat_pdf_archive_settings", default={}, deserialize_json=True)
        fields = ArchiveSettings.__dataclass_fields__
        settings = ArchiveSettings.from_mapping({k: v for k, v in raw.items() if k in fields})
        store = Boto3Store(S3Hook(aws_conn_id=params["aws_conn_id"]).get_conn(), params["bucket"])
        rows, unreadable = [], []
        with InformatHook(params["informat_conn_id"]).get_conn() as client:
            for target in targets:
                try:
                    rows.append(
                        archive_status(
                            client, store, settings, target["toegangsgroep"], target["schooljaar"]
                        )
                    )
                except InformatError as exc:
                    unreadable.append(f"{target['toegangsgroep']} {target['schooljaar']}: {exc}")
        print(format_status(rows))
        for line in unreadable:
            print(f"not listed: {line}")
        at_risk = sum(len(r.at_risk) for r in rows)
        lost = sum(len(r.lost) for r in rows)
        recipients = tuple(raw.get("alert_recipients") or ())
        if (at_risk or lost) and recipients:
            lines = [
                f"{r.toegangsgroep} {r.schooljaar}: {len(r.at_risk)} PDF(s) older than "
                f"{settings.retention_warn_days} days not archived; {len(r.lost)} lost "
                f"(already deleted by Informat). At risk: {', '.join(r.at_risk[:50]) or '-'}; "
                f"lost: {', '.join(r.lost[:50]) or '-'}"
                for r in rows
                if r.at_risk or r.lost
            ]
            body = "".join(f"<p>{line}</p>" for line in lines)
            notify.send_mail(
                params["smtp_conn_id"],
                recipients,
                f"[Informat] PDF archive: {at_risk} at risk, {lost} lost",
                f"<html><body>{body}<p>The archive keeps what Informat deletes after a year. "
                "Run informat_pdf_archive now, or regenerate the lost PDFs in Informat.</p>"
                "</body></html>",
            )
        elif at_risk or lost:
            print("WARNING: PDFs at risk or lost, but no alert_recipients are configured")
        return [asdict(r) for r in rows]

    @task(trigger_rule="none_failed")  # a skipped toegangsgroep (no access) is no failure
    def archive_complete() -> None:
        """The run's outcome: it succeeds only when every archive task did (the retention guard
        runs whatever happened, so it cannot be the last task)."""
        print("every PDF of every toegangsgroep and schooljaar in scope is archived and verified")

    planned = targets()
    archived = ArchivePdfsOperator.partial(task_id="archive_pdfs").expand_kwargs(planned)
    guard = retention_guard(planned)
    archived >> guard
    [archived, guard] >> archive_complete()


informat_pdf_archive()
