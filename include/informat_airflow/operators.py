"""Operators of the project: archiving invoice PDFs, deferring to the triggerer while Informat
makes them. The logic lives in informat_pipelines.pdf_archive.archive."""

from __future__ import annotations

import time
from functools import partial
from typing import Any

from airflow.sdk import BaseOperator

from informat_airflow.wiring import AWS_CONN_ID, INFORMAT_CONN_ID, archive_bucket


class ArchivePdfsOperator(BaseOperator):
    """Archive the PDFs of every invoice of one toegangsgroep and schooljaar.

    ``execute`` plans (manifest vs Informat, repairing half-done work), requests up to
    ``batch_size`` PDFs and defers to :class:`PdfJobsTrigger`; ``resume`` archives what is ready,
    then requests and defers the next batch, until nothing is missing. A timeout archives what
    was ready and fails with a clear message; the next run resumes from the manifest.

    :param toegangsgroep: the toegangsgroep (templated).
    :param schooljaar: the schooljaar, e.g. ``2025-26`` (templated).
    :param informat_conn_id: the ``informat`` connection.
    :param aws_conn_id: the S3 connection of the archive.
    :param bucket: the archive's bucket (default: ``INFORMAT_ARCHIVE_BUCKET``, read when it runs).
    :param settings: the archive settings (``ArchiveSettings`` as a dict).
    """

    template_fields = ("toegangsgroep", "schooljaar")

    def __init__(
        self,
        *,
        toegangsgroep: str,
        schooljaar: str,
        informat_conn_id: str = INFORMAT_CONN_ID,
        aws_conn_id: str = AWS_CONN_ID,
        bucket: str | None = None,
        settings: dict[str, Any] | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.toegangsgroep = toegangsgroep
        self.schooljaar = schooljaar
        self.informat_conn_id = informat_conn_id
        self.aws_conn_id = aws_conn_id
        self.bucket = bucket
        self.settings = dict(settings or {})

    # the pieces, built where they are used (worker), never at parse time
    def _parts(self):
        from airflow.providers.amazon.aws.hooks.s3 import S3Hook

        from informat_airflow.hooks import InformatHook
        from informat_pipelines.pdf_archive.archive import ArchiveSettings
        from informat_pipelines.pdf_archive.store import Boto3Store

        hook = InformatHook(self.informat_conn_id)
        client = hook.get_conn()
        store = Boto3Store(
            S3Hook(aws_conn_id=self.aws_conn_id).get_conn(), self.bucket or archive_bucket()
        )
        group = hook.get_config().toegangsgroepen.get(self.toegangsgroep)
        number = group.instellingsnummer if group else ""
        return client, store, ArchiveSettings.from_mapping(self.settings), number

    def execute(self, context: Any) -> dict[str, Any]:
        from airflow.sdk.exceptions import AirflowSkipException

        from informat_client import InformatForbiddenError
        from informat_pipelines.pdf_archive.archive import plan

        client, store, settings, _ = self._parts()
        try:
            with client:
                todo = plan(client, store, settings, self.toegangsgroep, self.schooljaar)
        except InformatForbiddenError as exc:
            # not carried over or not granted: the rollover DAG alerts the admins about it
            raise AirflowSkipException(
                f"{self.toegangsgroep} {self.schooljaar}: no access to its invoices ({exc})"
            ) from None
        summary = {
            "toegangsgroep": self.toegangsgroep,
            "schooljaar": self.schooljaar,
            "invoices": len(todo.invoices),
            "already_archived": todo.archived - len(todo.repaired),
            "repaired": len(todo.repaired),
            "requested": 0,
            "polls": 0,
            "deferrals": 0,
            "regenerated": [],
            "outcome": {},
        }
        self.log.info(
            "%s %s: %d invoice(s), %d archived, %d missing, %d repaired",
            self.toegangsgroep,
            self.schooljaar,
            len(todo.invoices),
            todo.archived,
            len(todo.missing),
            len(todo.repaired),
        )
        return self._next_batch(context, summary, todo.missing, [])

    def _next_batch(
        self, context: Any, summary: dict[str, Any], missing: list[str], regenerate: list[str]
    ) -> dict[str, Any]:
        from informat_pipelines.pdf_archive.archive import poll_round, request_jobs
        from informat_pipelines.pdf_archive.store import Manifest, manifest_key

        client, store, settings, number = self._parts()
        if not missing and not regenerate:
            return self._finish(summary)
        with client:
            lost_before = Manifest.load(
                store, manifest_key(settings, self.toegangsgroep, self.schooljaar)
            ).lost
            again = [i for i in missing if i in lost_before] + regenerate
            fresh = [i for i in missing if i not in lost_before]
            batch_regen = again[: settings.batch_size]
            batch = fresh[: max(0, settings.batch_size - len(batch_regen))]
            jobs = request_jobs(client, self.toegangsgroep, self.schooljaar, batch)
            jobs.update(
                request_jobs(client, self.toegangsgroep, self.schooljaar, batch_regen, True)
            )
            # one look before deferring: jobs Informat already finished are archived at once,
            # and a trigger is only started for a real wait (never one that fires while the
            # deferral is being reported, which Airflow answers by retrying the task)
            get_job = partial(client.get_pdf_job, self.toegangsgroep, instellingsnummer=number)
            results, pending, _ = poll_round(get_job, list(jobs))
        summary["requested"] += len(jobs)
        summary["regenerated"] += batch_regen
        rest = [i for i in missing if i not in set(batch) | set(batch_regen)]
        carry = {"summary": summary, "jobs": jobs, "rest": rest}
        if not pending:
            event = {"status": "done", "results": results, "pending": [], "polls": len(jobs)}
            return self.resume(context, {**event, "carry": carry})
        summary["deferrals"] += 1
        from informat_airflow.triggers import PdfJobsTrigger  # not when the DAG is parsed

        self.defer(
            trigger=PdfJobsTrigger(
                informat_conn_id=self.informat_conn_id,
                toegangsgroep=self.toegangsgroep,
                instellingsnummer=number,
                job_ids=list(jobs),
                deadline=time.time() + settings.timeout,
                settings=self.settings,
                carry=carry,
                wait_first=True,
            ),
            method_name="resume",
        )
        raise AssertionError("defer() returns only by raising")  # pragma: no cover

    def resume(self, context: Any, event: dict[str, Any]) -> dict[str, Any]:
        from informat_pipelines.pdf_archive.archive import InvoiceBatch, Outcome, archive_ready

        carry = event["carry"]
        summary, jobs, rest = carry["summary"], carry["jobs"], carry["rest"]
        summary["polls"] += event.get("polls", 0)
        if event["status"] == "error":
            raise RuntimeError(
                f"{self.toegangsgroep} {self.schooljaar}: waiting for PDFs failed: "
                f"{event['message']}"
            )
        client, store, settings, number = self._parts()
        with client:
            batch = InvoiceBatch(self.toegangsgroep, self.schooljaar, jobs, number)
            outcome = archive_ready(client, store, settings, batch, event.get("results", {}))
        total = Outcome(**summary["outcome"]) if summary["outcome"] else Outcome()
        total.merge(outcome)
        summary["outcome"] = total.as_dict()
        self.log.info(
            "%s %s: batch done: %d archived, %d failed, %d corrupt, %d lost, %d pending",
            self.toegangsgroep,
            self.schooljaar,
            len(outcome.archived),
            len(outcome.failed),
            len(outcome.corrupt),
            len(outcome.lost),
            len(outcome.pending),
        )
        if event["status"] == "timeout":
            archived = len(total.archived)
            raise RuntimeError(
                f"{self.toegangsgroep} {self.schooljaar}: {len(event['pending'])} PDF job(s) "
                f"not ready after {settings.timeout:.0f} s ({archived} archived before that); "
                "the next run resumes from the manifest"
            )
        # a PDF Informat already deleted is asked anew once, in the next batch
        regenerate = [i for i in outcome.lost if i not in summary["regenerated"]]
        return self._next_batch(context, summary, rest, regenerate)

    def _finish(self, summary: dict[str, Any]) -> dict[str, Any]:
        outcome = summary["outcome"]
        lost = [i for i in outcome.get("lost", []) if i not in outcome.get("archived", [])]
        summary["lost"] = lost
        for name in ("failed", "corrupt"):
            if outcome.get(name):
                self.log.error(
                    "%s %s: %d PDF(s) %s: %s",
                    self.toegangsgroep,
                    self.schooljaar,
                    len(outcome[name]),
                    name,
                    ", ".join(outcome[name][:20]),
                )
        if lost:
            self.log.error(
                "%s %s: %d PDF(s) LOST at Informat and not regenerated: %s",
                self.toegangsgroep,
                self.schooljaar,
                len(lost),
                ", ".join(lost[:20]),
            )
        return summary
