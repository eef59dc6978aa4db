"""The PDF jobs trigger: its polling run directly in an event loop, and its serialisation as
Airflow's triggerer stores it."""

from __future__ import annotations

import json
import time

from informat_pipelines.pdf_archive.archive import request_jobs

from ..support.pdf import FAST, GROUP, current_invoices, run_trigger, trigger_env


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


def _trigger():
    from informat_airflow.triggers import PdfJobsTrigger

    return PdfJobsTrigger(
        informat_conn_id="informat_default",
        toegangsgroep=GROUP,
        instellingsnummer="990015",
        job_ids=["job-1", "job-2"],
        deadline=1_800_000_000.5,
        settings={**FAST, "alert_recipients": ["archief@example.org"]},
        carry={"summary": {"requested": 2}, "jobs": {"job-1": "F-1"}, "rest": ["F-3"]},
    )


def test_trigger_round_trips_through_what_the_triggerer_stores():
    """As Airflow does it: the Trigger row encrypts serialize()'s kwargs with Airflow's serde;
    the triggerer imports the classpath and builds the trigger from the decrypted kwargs."""
    from airflow._shared.module_loading import import_string  # what the triggerer uses
    from airflow.models.trigger import Trigger

    trigger = _trigger()
    row = Trigger.from_object(trigger)
    rebuilt = import_string(row.classpath)(**row.kwargs)
    assert rebuilt.serialize() == trigger.serialize()


def test_serialize_carries_every_constructor_argument():
    import inspect

    from informat_airflow.triggers import PdfJobsTrigger

    parameters = set(inspect.signature(PdfJobsTrigger.__init__).parameters) - {"self"}
    classpath, kwargs = _trigger().serialize()
    assert set(kwargs) == parameters
    assert classpath == "informat_airflow.triggers.PdfJobsTrigger"


def test_a_trigger_stored_by_an_earlier_version_still_resolves():
    from airflow._shared.module_loading import import_string  # what the triggerer uses

    from informat_airflow.triggers import PdfJobsTrigger

    _, kwargs = _trigger().serialize()
    old = import_string("informat_airflow.pdf.PdfJobsTrigger")
    assert old is PdfJobsTrigger
    assert old(**kwargs).serialize() == _trigger().serialize()


def test_a_trigger_after_the_operators_own_look_waits_before_its_first_poll(
    client, small_sandbox, client_secret, monkeypatch
):
    """The DeferTask race seen under `make run`: a trigger whose event fires within a second
    of the deferral races the worker's report of that deferral. After the operator's own look
    the trigger waits an interval first; jobs already ready are never deferred (next test)."""
    import asyncio

    from informat_airflow.triggers import PdfJobsTrigger

    trigger_env(monkeypatch, small_sandbox, client_secret)
    fresh = [i["invoiceId"] for i in current_invoices(small_sandbox) if not i["pdfGeneratedAt"]][:2]
    jobs = request_jobs(client, GROUP, small_sandbox.state.schooljaar, fresh)
    order: list[str] = []
    real_sleep = asyncio.sleep

    async def sleep(seconds):
        order.append("sleep")
        await real_sleep(seconds)

    monkeypatch.setattr("informat_airflow.triggers.asyncio.sleep", sleep)
    monkeypatch.setattr(
        "informat_client.InformatClient.get_pdf_job",
        _counting(order, __import__("informat_client").InformatClient.get_pdf_job),
    )
    settings = {**FAST, "poll_initial": 0.2}
    trigger = PdfJobsTrigger(
        "informat_default", GROUP, "990015", list(jobs), time.time() + 20, settings,
        wait_first=True,
    )  # fmt: skip
    event = run_trigger(trigger)
    assert event["status"] == "done"
    assert order[0] == "sleep"  # no poll before the first interval
    assert PdfJobsTrigger(**trigger.serialize()[1]).wait_first is True


def _counting(order, real):
    def get_pdf_job(self, *args, **kwargs):
        order.append("poll")
        return real(self, *args, **kwargs)

    return get_pdf_job
