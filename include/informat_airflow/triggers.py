"""Triggers of the project: waiting in the triggerer, without holding a worker slot, for
Informat's asynchronous work (PDFs) and for a file in the drop zone. Imported when a task
defers, not when its DAG is parsed."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Mapping
from functools import partial
from typing import Any

from airflow.triggers.base import BaseTrigger, TriggerEvent


class PdfJobsTrigger(BaseTrigger):
    """Polls a batch of Informat PDF jobs until each is ready or failed, or the deadline passes.

    Intervals grow from ``poll_initial`` by ``poll_factor`` up to ``poll_max``, with jitter; a
    poll round asks about jobs still pending only, in the order they were requested, and stops
    at the first one still pending (a full sweep every ``full_sweep_every`` rounds). Secrets are
    fetched in the triggerer, never serialised into the trigger. ``carry`` is handed back
    untouched in the event: the operator's own state travels with the trigger rather than in
    ``defer(kwargs=...)``, which ``dag.test()`` does not pass on.

    It yields one event, a dict whose ``status`` is ``done`` (every job ready or failed),
    ``timeout`` (the deadline passed with jobs still ``pending``) or ``error`` (Informat or the
    connection failed; ``message`` says why). ``results`` maps each finished job id to Informat's
    answer, ``polls`` counts the requests made, ``carry`` is handed back as it came.

    :param informat_conn_id: the ``informat`` connection, read in the triggerer.
    :param toegangsgroep: the toegangsgroep whose PDF jobs these are.
    :param instellingsnummer: the instelling the calls carry (``InstituteNo``).
    :param job_ids: the jobs, in the order they were requested.
    :param deadline: epoch seconds after which the trigger stops waiting.
    :param settings: the archive settings (``ArchiveSettings`` as a dict): poll intervals.
    :param carry: the operator's state, returned untouched in the event.
    :param wait_first: wait one interval before the first poll (the operator has just looked
        itself): an event that fires within a second of the deferral would race the worker's own
        report of that deferral (``DeferTask``), and Airflow then retries the task.
    """

    def __init__(  # noqa: PLR0913 - Airflow rebuilds a trigger from its keyword arguments
        self,
        informat_conn_id: str,
        toegangsgroep: str,
        instellingsnummer: str,
        job_ids: list[str],
        deadline: float,
        settings: dict[str, Any],
        carry: dict[str, Any] | None = None,
        wait_first: bool = False,
    ) -> None:
        super().__init__()
        self.informat_conn_id = informat_conn_id
        self.toegangsgroep = toegangsgroep
        self.instellingsnummer = instellingsnummer
        self.job_ids = list(job_ids)
        self.deadline = deadline
        self.settings = settings
        self.carry = carry or {}
        self.wait_first = wait_first

    def serialize(self) -> tuple[str, dict[str, Any]]:
        return (
            "informat_airflow.triggers.PdfJobsTrigger",
            {
                "informat_conn_id": self.informat_conn_id,
                "toegangsgroep": self.toegangsgroep,
                "instellingsnummer": self.instellingsnummer,
                "job_ids": self.job_ids,
                "deadline": self.deadline,
                "settings": self.settings,
                "carry": self.carry,
                "wait_first": self.wait_first,
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
        from informat_pipelines.pdf_archive.archive import (
            ArchiveSettings,
            poll_intervals,
            poll_round,
        )

        settings = ArchiveSettings.from_mapping(self.settings)
        pending = list(self.job_ids)
        results: dict[str, Mapping[str, Any]] = {}
        polls = 0
        try:
            client = await self._client()
        except Exception as exc:
            message = f"no Informat client: {exc}"
            yield TriggerEvent({"status": "error", "message": message, "carry": self.carry})
            return
        intervals = poll_intervals(settings)
        get_job = partial(
            client.get_pdf_job, self.toegangsgroep, instellingsnummer=self.instellingsnummer
        )
        rounds = 0
        try:
            if self.wait_first:
                await asyncio.sleep(max(0.0, min(next(intervals), self.deadline - time.time())))
            while pending:
                rounds += 1
                # every few rounds a full sweep keeps one stuck job from hiding the others
                sweep = rounds % settings.full_sweep_every == 0
                found, still, calls = await asyncio.to_thread(poll_round, get_job, pending, sweep)
                results.update(found)
                polls += calls
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


class DropZoneTrigger(BaseTrigger):
    """Looks in the drop zone's inbox (``kind``, ``bucket`` and ``prefix`` as
    :class:`~informat_airflow.sensors.DropZoneSensor` takes them) every ``poke_interval``
    seconds; yields one event, ``{"status": "found", "files": n}`` or ``{"status": "error",
    "message": ...}``. The task's deferral timeout ends a wait that finds nothing."""

    def __init__(self, kind: str, bucket: str, prefix: str, poke_interval: float) -> None:
        super().__init__()
        self.kind = kind
        self.bucket = bucket
        self.prefix = prefix
        self.poke_interval = poke_interval

    def serialize(self) -> tuple[str, dict[str, Any]]:
        return (
            "informat_airflow.triggers.DropZoneTrigger",
            {
                "kind": self.kind,
                "bucket": self.bucket,
                "prefix": self.prefix,
                "poke_interval": self.poke_interval,
            },
        )

    async def run(self) -> AsyncIterator[TriggerEvent]:
        # boto3 and the file system block: each look runs in a thread, never in the triggerer's
        # event loop (where reading the connection synchronously is allowed, as the amazon
        # provider does it)
        from asgiref.sync import sync_to_async

        from informat_airflow.dropzones import describe, inbox

        look = sync_to_async(inbox)
        while True:
            try:
                files = await look(self.kind, self.bucket, self.prefix)
            except Exception as exc:
                where = describe(self.kind, self.bucket, self.prefix)
                message = f"the drop zone ({where}) cannot be read: {exc}"
                yield TriggerEvent({"status": "error", "message": message})
                return
            if files:
                yield TriggerEvent({"status": "found", "files": len(files)})
                return
            await asyncio.sleep(self.poke_interval)
