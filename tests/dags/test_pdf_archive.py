"""The PDF archive DAG with dag.test(), which runs the deferral through the trigger."""

from __future__ import annotations

import json

import pytest

from informat_devtools.mailcatcher import MailCatcher

from ..support.airflow import (
    load_dag,
    set_informat_connection,
    set_s3_connection,
    set_smtp_connection,
    task_states,
)
from ..support.pdf import FAST, GROUP, trigger_env


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
    monkeypatch.setenv("INFORMAT_ARCHIVE_BUCKET", bucket)
    yield {"bucket": bucket, "mail": mail}
    mail.stop()


def run_dag():
    dag = load_dag("informat_pdf_archive")
    for task in dag.tasks:
        task.retries = 0  # a failure shows at once instead of after the retry delay
    return dag.test()


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
    dag_run = run_dag()
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
    again = run_dag()
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
    monkeypatch.setenv(
        "AIRFLOW_VAR_INFORMAT_PDF_ARCHIVE_SETTINGS",
        json.dumps({**FAST, "timeout": 1, "alert_recipients": ["archief@example.org"]}),
    )
    dag_run = dag.test()
    assert str(dag_run.state) == "failed"
    states = task_states(dag_run)
    assert states["archive_pdfs[1]"] == "failed"
    assert states["retention_guard"] == "success"  # the report still runs
    assert states["archive_complete"] == "upstream_failed"
    mails = dag_env["mail"].wait_for(1)
    assert mails and "at risk" in mails[0].subject


def test_pdfs_already_ready_are_archived_without_a_deferral(dag_env, small_sandbox):
    """No trigger for a wait that is already over (the DeferTask race of `make run`): with PDFs
    that Informat makes at once, no archive task defers, and every PDF is archived."""
    small_sandbox.state.pdf_delay = 0.0
    dag_run = run_dag()
    assert str(dag_run.state) == "success", task_states(dag_run)
    summaries = [
        json.loads(v) if isinstance(v, str) else v for v in xcom(dag_run, "archive_pdfs").values()
    ]
    assert sum(s["requested"] for s in summaries) > 0
    assert all(s["deferrals"] == 0 and s["lost"] == [] for s in summaries), summaries
