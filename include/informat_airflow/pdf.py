"""Deferrable archiving of invoice PDFs: the operator requests a batch of PDFs and hands the wait
to the triggerer, where one trigger polls the whole batch with growing intervals. No worker slot
is held while Informat works. The logic lives in informat_pipelines.pdf_archive."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from typing import Any

from airflow.sdk import BaseOperator
from airflow.triggers.base import BaseTrigger, TriggerEvent


class PdfJobsTrigger(BaseTrigger):
    """Polls a batch of Informat PDF jobs until each is ready or failed, or the deadline passes.

    Intervals grow from ``poll_initial`` by ``poll_factor`` up to ``poll_max``, with jitter; a
    poll round asks about jobs still pending only, in the order they were requested, and stops
    at the first one still pending (a full sweep every ``full_sweep_every`` rounds). Secrets are
    fetched in the triggerer, never serialised into the trigger. ``carry`` is handed back
    untouched in the event: the operator's own state travels with the trigger rather than in
    ``defer(kwargs=...)``, which ``dag.test()`` does not pass on.
    """

    def __init__(
        self,
        informat_conn_id: str,
        toegangsgroep: str,
        instellingsnummer: str,
        job_ids: list[str],
        deadline: float,
        settings: dict[str, Any],
        carry: dict[str, Any] | None = None,
    ) -> None:
        super().__init__()
        self.informat_conn_id = informat_conn_id
        self.toegangsgroep = toegangsgroep
        self.instellingsnummer = instellingsnummer
        self.job_ids = list(job_ids)
        self.deadline = deadline
        self.settings = settings
        self.carry = carry or {}

    def serialize(self) -> tuple[str, dict[str, Any]]:
        return (
            "informat_airflow.pdf.PdfJobsTrigger",
            {
                "informat_conn_id": self.informat_conn_id,
                "toegangsgroep": self.toegangsgroep,
                "instellingsnummer": self.instellingsnummer,
                "job_ids": self.job_ids,
                "deadline": self.deadline,
                "settings": self.settings,
                "carry": self.carry,
            },
        )

    async def _client(self):
        from airflow.providers.common.compat.connection import get_async_connection

        from informat_airflow.hooks import InformatHook, config_from_connection
        from informat_client import InformatClient

        conn = await get_async_connection(self.informat_conn_id, hook=InformatHook)
        return InformatClient(config_from_connection(conn, self.informat_conn_id))

    async def run(self) -> AsyncIterator[TriggerEvent]:
        from informat_client import InformatError
        from informat_pipelines.pdf_archive import ArchiveSettings, job_outcome, poll_intervals

        settings = ArchiveSettings.from_mapping(self.settings)
        pending = list(self.job_ids)
        results: dict[str, dict[str, Any]] = {}
        polls = 0
        try:
            client = await self._client()
        except Exception as exc:
            message = f"no Informat client: {exc}"
            yield TriggerEvent({"status": "error", "message": message, "carry": self.carry})
            return
        intervals = poll_intervals(settings)
        rounds = 0
        try:
            while pending:
                rounds += 1
                # Jobs of a batch were asked for in order and Informat works through them in
                # order: a round stops at the first job still pending (the ones behind it are
                # pending too), so each job costs about one poll. Every few rounds a full sweep
                # keeps one stuck job from hiding the others.
                sweep = rounds % settings.full_sweep_every == 0
                still = []
                for index, job_id in enumerate(pending):
                    job = await asyncio.to_thread(
                        client.get_pdf_job,
                        self.toegangsgroep,
                        job_id,
                        instellingsnummer=self.instellingsnummer,
                    )
                    polls += 1
                    if job_outcome(job) == "pending":
                        still.append(job_id)
                        if not sweep:
                            still.extend(pending[index + 1 :])
                            break
                    else:
                        results[job_id] = job
                pending = still
                if not pending:
                    break
                left = self.deadline - time.time()
                if left <= 0:
                    break
                await asyncio.sleep(min(next(intervals), left))
        except InformatError as exc:
            yield TriggerEvent(
                {
                    "status": "error",
                    "message": str(exc),
                    "results": results,
                    "polls": polls,
                    "carry": self.carry,
                }
            )
            return
        finally:
            client.close()
        yield TriggerEvent(
            {
                "status": "timeout" if pending else "done",
                "results": results,
                "pending": pending,
                "polls": polls,
                "carry": self.carry,
            }
        )


class ArchivePdfsOperator(BaseOperator):
    """Archive the PDFs of every invoice of one toegangsgroep and schooljaar.

    ``execute`` plans (manifest vs Informat, repairing half-done work), requests up to
    ``batch_size`` PDFs and defers to :class:`PdfJobsTrigger`; ``resume`` archives what is ready,
    then requests and defers the next batch, until nothing is missing. A timeout archives what
    was ready and fails with a clear message; the next run resumes from the manifest.
    """

    template_fields = ("toegangsgroep", "schooljaar")

    def __init__(
        self,
        *,
        toegangsgroep: str,
        schooljaar: str,
        informat_conn_id: str = "informat_default",
        aws_conn_id: str = "informat_s3",
        bucket: str = "informat-archive",
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
        from informat_pipelines.pdf_archive import ArchiveSettings, Boto3Store

        hook = InformatHook(self.informat_conn_id)
        client = hook.get_conn()
        store = Boto3Store(S3Hook(aws_conn_id=self.aws_conn_id).get_conn(), self.bucket)
        group = hook.get_config().toegangsgroepen.get(self.toegangsgroep)
        number = group.instellingsnummer if group else ""
        return client, store, ArchiveSettings.from_mapping(self.settings), number

    def execute(self, context: Any) -> dict[str, Any]:
        from airflow.sdk.exceptions import AirflowSkipException

        from informat_client import InformatForbiddenError
        from informat_pipelines.pdf_archive import plan

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
        from informat_pipelines.pdf_archive import Manifest, manifest_key, request_jobs

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
        summary["requested"] += len(jobs)
        summary["regenerated"] += batch_regen
        summary["deferrals"] += 1
        rest = [i for i in missing if i not in set(batch) | set(batch_regen)]
        self.defer(
            trigger=PdfJobsTrigger(
                informat_conn_id=self.informat_conn_id,
                toegangsgroep=self.toegangsgroep,
                instellingsnummer=number,
                job_ids=list(jobs),
                deadline=time.time() + settings.timeout,
                settings=self.settings,
                carry={"summary": summary, "jobs": jobs, "rest": rest},
            ),
            method_name="resume",
        )
        raise AssertionError("defer() returns only by raising")  # pragma: no cover

    def resume(self, context: Any, event: dict[str, Any]) -> dict[str, Any]:
        from informat_pipelines.pdf_archive import Outcome, archive_ready

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
            outcome = archive_ready(
                client, store, settings, self.toegangsgroep, self.schooljaar,
                jobs, event.get("results", {}), number,
            )  # fmt: skip
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
