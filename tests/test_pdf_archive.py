"""PDF archive: the core against the sandbox and a real S3 HTTP endpoint (moto's server), the
trigger's polling, and the DAG with dag.test (which runs the deferral through the trigger)."""

from __future__ import annotations

import asyncio
import json
import time
import uuid

import pytest
from informat_devtools.mailcatcher import MailCatcher
from informat_devtools.s3 import LocalS3

from informat_pipelines.archive_store import Boto3Store, manifest_key
from informat_pipelines.pdf_archive import (
    ArchiveSettings,
    archive_ready,
    plan,
    poll_intervals,
    request_jobs,
)
from informat_pipelines.pdf_retention import status

from .airflow_support import (
    load_dag,
    migrate_db,
    set_informat_connection,
    set_s3_connection,
    set_smtp_connection,
    task_states,
)

FAST = {"poll_initial": 0.05, "poll_max": 0.2, "poll_jitter": 0.1, "timeout": 20}
GROUP = "Internaat-De-Linde"  # one instelling: the smallest toegangsgroep


@pytest.fixture(scope="module")
def s3():
    with LocalS3() as endpoint:
        yield endpoint


@pytest.fixture
def bucket(s3):
    name = f"archive-{uuid.uuid4().hex[:10]}"
    s3.client().create_bucket(
        Bucket=name,
        CreateBucketConfiguration={"LocationConstraint": "eu-west-1"},
        ObjectLockEnabledForBucket=True,
    )
    return name


@pytest.fixture
def small_sandbox(sandbox):
    sandbox.reset(students=120, today="2026-11-28", pdf_delay=0.2)
    return sandbox


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


# ---------------------------------------------------------------------- core


def test_archive_is_verified_and_a_rerun_archives_nothing(client, small_sandbox, s3, bucket):
    settings = ArchiveSettings(**FAST)
    store = store_for(s3, bucket)
    year = small_sandbox.state.schooljaar
    todo = plan(client, store, settings, GROUP, year)
    assert todo.archived == 0 and len(todo.missing) == len(current_invoices(small_sandbox)) > 10
    jobs = request_jobs(client, GROUP, year, todo.missing)
    outcome = archive_ready(
        client, store, settings, GROUP, year, jobs, wait_ready(client, jobs), "990015"
    )
    assert sorted(outcome.archived) == sorted(todo.missing)
    invoice = todo.missing[0]
    head = s3.client().head_object(
        Bucket=bucket, Key=f"pdf/{GROUP}/{year}/{invoice}.pdf", ChecksumMode="ENABLED"
    )
    assert head["ContentType"] == "application/pdf"
    assert head["Metadata"]["invoice-id"] == invoice
    assert head["Metadata"]["instelling"] == "990015"
    assert len(head["Metadata"]["sha256"]) == 64 and head["Metadata"]["job-id"] in jobs
    manifest = store.get_json(manifest_key(settings, GROUP, year))
    assert manifest["archived"][invoice]["sha256"] == head["Metadata"]["sha256"]

    requests_before = small_sandbox.state.stats["pdf_requests"]
    again = plan(client, store, settings, GROUP, year)
    assert again.missing == [] and again.archived == len(todo.missing)
    assert small_sandbox.state.stats["pdf_requests"] == requests_before  # no PDF request


def test_corrupted_download_is_retried_and_never_archived(client, small_sandbox, s3, bucket):
    settings = ArchiveSettings(**FAST, download_attempts=3)
    store = store_for(s3, bucket)
    year = small_sandbox.state.schooljaar
    first, second = [i["invoiceId"] for i in current_invoices(small_sandbox)[:2]]
    jobs = request_jobs(client, GROUP, year, [first])
    results = wait_ready(client, jobs)
    small_sandbox.set_faults(corrupt_pdf_downloads=1)  # one bad download, then good ones
    assert archive_ready(
        client, store, settings, GROUP, year, jobs, results, "990015"
    ).archived == [first]

    jobs = request_jobs(client, GROUP, year, [second])
    results = wait_ready(client, jobs)
    small_sandbox.set_faults(corrupt_pdf_downloads=3)  # every attempt corrupted
    outcome = archive_ready(client, store, settings, GROUP, year, jobs, results, "990015")
    assert outcome.corrupt == [second] and outcome.archived == []
    assert store.head(f"pdf/{GROUP}/{year}/{second}.pdf") is None
    assert second not in store.get_json(manifest_key(settings, GROUP, year))["archived"]


def test_s3_failing_mid_upload_leaves_no_manifest_entry_and_rerun_completes(
    client, small_sandbox, bucket, s3
):
    settings = ArchiveSettings(**FAST, manifest_every=1000)
    year = small_sandbox.state.schooljaar
    store = store_for(s3, bucket)
    todo = plan(client, store, settings, GROUP, year)
    jobs = request_jobs(client, GROUP, year, todo.missing)
    results = wait_ready(client, jobs)

    class FailingAfter(Boto3Store):
        """The real endpoint, which goes away after a few uploads (as a store does mid-run)."""

        uploads = 0

        def put_pdf(self, *args, **kwargs):
            if self.uploads >= 5:
                raise ConnectionError("S3 endpoint went away")
            FailingAfter.uploads += 1
            super().put_pdf(*args, **kwargs)

        def put_json(self, key, value):
            if self.uploads >= 5:
                raise ConnectionError("S3 endpoint went away")
            super().put_json(key, value)

    with pytest.raises(ConnectionError):
        archive_ready(
            client,
            FailingAfter(s3.client(), bucket),
            settings,
            GROUP,
            year,
            jobs,
            results,
            "990015",
        )
    # nothing recorded in the manifest (it could not be written), 5 objects uploaded
    assert store.get_json(manifest_key(settings, GROUP, year)) is None
    requests_before = small_sandbox.state.stats["pdf_requests"]
    rerun = plan(client, store, settings, GROUP, year)
    assert len(rerun.repaired) == 5  # verified uploads recorded without asking Informat
    assert small_sandbox.state.stats["pdf_requests"] == requests_before
    jobs = request_jobs(client, GROUP, year, rerun.missing)
    outcome = archive_ready(
        client, store, settings, GROUP, year, jobs, wait_ready(client, jobs), "990015"
    )
    assert len(outcome.archived) == len(todo.missing) - 5
    final = status(client, store, settings, GROUP, year)
    assert final.missing == 0 and final.archived == final.invoices


def test_expired_pdf_is_lost_and_reported(client, small_sandbox, s3, bucket):
    settings = ArchiveSettings(**FAST)
    store = store_for(s3, bucket)
    previous = small_sandbox.state.group.schooljaren[0]
    old = [
        i["invoiceId"]
        for i in small_sandbox.state.group.toegangsgroepen[GROUP].invoices[previous]
        if i["pdfGeneratedAt"] and i["pdfGeneratedAt"] < "2025-11-01"
    ][:3]
    assert old
    before = status(client, store, settings, GROUP, previous)
    assert set(old) <= set(before.at_risk)  # made over 11 months ago and not archived
    jobs = request_jobs(client, GROUP, previous, old)
    outcome = archive_ready(
        client, store, settings, GROUP, previous, jobs, wait_ready(client, jobs), "990015"
    )
    assert sorted(outcome.lost) == sorted(old)
    after = status(client, store, settings, GROUP, previous)
    assert sorted(after.lost) == sorted(old)


def test_poll_intervals_grow_to_the_cap_with_jitter():
    import random

    settings = ArchiveSettings(poll_initial=5, poll_max=60, poll_factor=2, poll_jitter=0.2)
    intervals = poll_intervals(settings, random.Random(1))
    values = [next(intervals) for _ in range(8)]
    for value, base in zip(values, (5, 10, 20, 40, 60, 60, 60, 60), strict=True):
        assert base * 0.8 <= value <= base * 1.2
    assert len(set(values)) == len(values)  # jittered, not in step


# ------------------------------------------------------------------- trigger


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


def test_trigger_polls_a_batch_until_ready_and_serialises(
    client, small_sandbox, client_secret, monkeypatch
):
    from informat_airflow.triggers import PdfJobsTrigger

    trigger_env(monkeypatch, small_sandbox, client_secret)
    year = small_sandbox.state.schooljaar
    fresh = [i["invoiceId"] for i in current_invoices(small_sandbox) if not i["pdfGeneratedAt"]][:5]
    jobs = request_jobs(client, GROUP, year, fresh)
    trigger = PdfJobsTrigger(
        "informat_default", GROUP, "990015", list(jobs), time.time() + 20, FAST
    )
    classpath, kwargs = trigger.serialize()
    assert classpath == "informat_airflow.triggers.PdfJobsTrigger"
    assert client_secret not in json.dumps(kwargs)  # no secret stored with the trigger
    event = run_trigger(PdfJobsTrigger(**kwargs))
    assert event["status"] == "done" and set(event["results"]) == set(jobs)
    # 5 jobs, ready after 0.2 s, polled at ~0.05, 0.1, 0.2 s: a few rounds, not a busy loop
    assert len(jobs) <= event["polls"] <= len(jobs) * 6


def test_trigger_times_out_on_a_pdf_that_is_never_ready(
    client, small_sandbox, client_secret, monkeypatch
):
    from informat_airflow.triggers import PdfJobsTrigger

    trigger_env(monkeypatch, small_sandbox, client_secret)
    small_sandbox.set_faults(pdf_never_ready=True)
    fresh = [i["invoiceId"] for i in current_invoices(small_sandbox) if not i["pdfGeneratedAt"]][:2]
    jobs = request_jobs(client, GROUP, small_sandbox.state.schooljaar, fresh)
    event = run_trigger(
        PdfJobsTrigger("informat_default", GROUP, "990015", list(jobs), time.time() + 0.5, FAST)
    )
    assert event["status"] == "timeout" and sorted(event["pending"]) == sorted(jobs)


# ----------------------------------------------------------------------- DAG


@pytest.fixture
def dag_env(small_sandbox, client_secret, s3, bucket, monkeypatch):
    trigger_env(monkeypatch, small_sandbox, client_secret)
    set_informat_connection(
        monkeypatch, small_sandbox, client_secret, {"toegangsgroepen": {GROUP: "990015"}}
    )
    set_s3_connection(monkeypatch, s3)
    mail = MailCatcher().start()
    set_smtp_connection(monkeypatch, mail.port)
    monkeypatch.setenv(
        "AIRFLOW_VAR_INFORMAT_PDF_ARCHIVE_SETTINGS",
        json.dumps({**FAST, "alert_recipients": ["archief@example.org"]}),
    )
    yield {"bucket": bucket, "mail": mail}
    mail.stop()


def run_dag(bucket):
    dag = load_dag("informat_pdf_archive")
    for task in dag.tasks:
        task.retries = 0  # a failure shows at once instead of after the retry delay
    return dag.test(run_conf={"bucket": bucket})


def xcom(dag_run, task_id):
    from airflow.models.xcom import XComModel
    from airflow.utils.session import create_session

    with create_session() as session:
        rows = session.query(XComModel).filter(
            XComModel.dag_id == dag_run.dag_id,
            XComModel.run_id == dag_run.run_id,
            XComModel.task_id == task_id,
            XComModel.key == "return_value",
        )
        return {row.map_index: row.value for row in rows}


def test_dag_defers_archives_everything_and_a_rerun_requests_nothing(dag_env, small_sandbox):
    dag_run = run_dag(dag_env["bucket"])
    assert str(dag_run.state) == "success", task_states(dag_run)
    summaries = [
        json.loads(v) if isinstance(v, str) else v for v in xcom(dag_run, "archive_pdfs").values()
    ]
    assert len(summaries) == 2  # the previous and the current schooljaar
    assert all(s["deferrals"] >= 1 and s["polls"] >= 1 for s in summaries)  # really deferred
    expired = [i for s in summaries for i in s["regenerated"]]
    assert expired  # PDFs Informat had deleted (410) were regenerated once ...
    assert all(s["lost"] == [] for s in summaries)  # ... and are archived now
    guard = xcom(dag_run, "retention_guard")[-1]
    guard = json.loads(guard) if isinstance(guard, str) else guard
    assert {(r["invoices"], r["missing"]) for r in guard} == {(r["archived"], 0) for r in guard}

    requests_before = small_sandbox.state.stats["pdf_requests"]
    again = run_dag(dag_env["bucket"])
    assert str(again.state) == "success"
    assert small_sandbox.state.stats["pdf_requests"] == requests_before
    assert all(
        s["requested"] == 0
        for s in (
            json.loads(v) if isinstance(v, str) else v for v in xcom(again, "archive_pdfs").values()
        )
    )


def test_dag_fails_clearly_when_a_pdf_never_gets_ready(dag_env, small_sandbox, monkeypatch):
    small_sandbox.set_faults(pdf_never_ready=True)
    dag = load_dag("informat_pdf_archive")
    for task in dag.tasks:
        task.retries = 0
    dag.params["bucket"] = dag_env["bucket"]
    monkeypatch.setenv(
        "AIRFLOW_VAR_INFORMAT_PDF_ARCHIVE_SETTINGS",
        json.dumps({**FAST, "timeout": 1, "alert_recipients": ["archief@example.org"]}),
    )
    dag_run = dag.test(run_conf={"bucket": dag_env["bucket"]})
    assert str(dag_run.state) == "failed"
    states = task_states(dag_run)
    assert states["archive_pdfs[1]"] == "failed"
    assert states["retention_guard"] == "success"  # the report still runs
    assert states["archive_complete"] == "upstream_failed"
    mails = dag_env["mail"].wait_for(1)
    assert mails and "at risk" in mails[0].subject
