"""Helpers of the PDF archive tests: fast poll settings, the smallest toegangsgroep, waiting for
jobs without the trigger, and running the trigger directly."""

from __future__ import annotations

import asyncio
import time

from informat_pipelines.pdf_archive.store import Boto3Store

from .airflow import migrate_db, set_informat_connection

FAST = {"poll_initial": 0.05, "poll_max": 0.2, "poll_jitter": 0.1, "timeout": 20}
GROUP = "Internaat-De-Linde"  # one instelling: the smallest toegangsgroep


def store_for(s3, bucket) -> Boto3Store:
    return Boto3Store(s3.client(), bucket)


def wait_ready(client, jobs, timeout=10.0) -> dict:
    """A plain wait for the core tests (the DAG uses the trigger)."""
    results, deadline = {}, time.monotonic() + timeout
    while len(results) < len(jobs) and time.monotonic() < deadline:
        for job_id in jobs:
            if job_id not in results:
                job = client.get_pdf_job(GROUP, job_id)
                if job["status"] != "pending":
                    results[job_id] = job
        time.sleep(0.05)
    return results


def current_invoices(sandbox) -> list[dict]:
    return sandbox.state.group.toegangsgroepen[GROUP].invoices[sandbox.state.schooljaar]


def trigger_env(monkeypatch, sandbox, client_secret):
    migrate_db()
    set_informat_connection(
        monkeypatch,
        sandbox,
        client_secret,
        {"toegangsgroepen": {GROUP: "990015", "SG-Noord": "990011"}},
    )


def run_trigger(trigger) -> dict:
    async def first_event():
        async for event in trigger.run():
            return event.payload

    return asyncio.run(first_event())
