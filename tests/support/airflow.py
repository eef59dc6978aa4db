"""Helpers for tests that run DAGs with Airflow's own machinery on the test's SQLite home."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
_migrated = False


def migrate_db() -> None:
    """`airflow db migrate` once per session, on the isolated home conftest set up."""
    global _migrated
    if not _migrated:
        subprocess.run(
            [sys.executable, "-m", "airflow", "db", "migrate"],
            check=True,
            capture_output=True,
            env=os.environ,
        )
        _migrated = True


def set_connection(monkeypatch, conn_id: str, **fields) -> None:
    """An Airflow connection from the environment (AIRFLOW_CONN_<ID> as JSON)."""
    if isinstance(fields.get("extra"), dict):
        fields["extra"] = json.dumps(fields["extra"])
    monkeypatch.setenv(f"AIRFLOW_CONN_{conn_id.upper()}", json.dumps(fields))


def set_smtp_connection(monkeypatch, port: int) -> None:
    """smtp_default pointing at a MailCatcher on 127.0.0.1 (plain SMTP, no TLS)."""
    set_connection(
        monkeypatch,
        "smtp_default",
        conn_type="smtp",
        host="127.0.0.1",
        port=port,
        extra={"disable_tls": True, "disable_ssl": True, "from_email": "airflow@example.org"},
    )


def set_informat_connection(monkeypatch, sandbox, password: str, extra: dict) -> None:
    """informat_default pointing at a sandbox server, with ``extra`` as its extra."""
    set_connection(
        monkeypatch,
        "informat_default",
        conn_type="informat",
        host=sandbox.url,
        login="sandbox-client",
        password=password,
        extra=extra,
    )


def set_s3_connection(monkeypatch, s3) -> None:
    """informat_s3 pointing at a LocalS3 (moto's server) on 127.0.0.1."""
    set_connection(
        monkeypatch,
        "informat_s3",
        conn_type="aws",
        login="local-access-key",
        password="local-secret-key",
        extra=s3.connection_extra(),
    )


def load_dag(dag_id: str):
    """The DAG as ``airflow dags test`` parses it: with the documented switch
    ``INFORMAT_DEADLINES=off``, as dag.test() of Airflow 3.3.2 crashes when a run of a DAG with
    deadline alerts ends ("'dict' object has no attribute 'hex'"). The deadlines are checked in
    tests/airflow/test_alerts.py and tests/dags/test_dags_test_cli.py (as the scheduler loads
    them) and run through the scheduler in tests/deploy/test_informat_page.py."""
    from airflow.dag_processing.dagbag import DagBag

    from informat_airflow.alerts import DEADLINES_SWITCH

    before = os.environ.get(DEADLINES_SWITCH)
    os.environ[DEADLINES_SWITCH] = "off"  # read while the DAG files are parsed, not after
    try:
        bag = DagBag(dag_folder=str(ROOT / "dags"))
    finally:
        if before is None:
            del os.environ[DEADLINES_SWITCH]
        else:
            os.environ[DEADLINES_SWITCH] = before
    assert not bag.import_errors, bag.import_errors
    dag = bag.dags[dag_id]
    assert not dag.deadline, "INFORMAT_DEADLINES=off left a deadline"
    return dag


def task_states(dag_run) -> dict[str, str]:
    """task_id (with map index) -> state of a DagRun returned by dag.test()."""
    from airflow.models.taskinstance import TaskInstance
    from airflow.utils.session import create_session

    with create_session() as session:
        tis = session.query(TaskInstance).filter(
            TaskInstance.dag_id == dag_run.dag_id, TaskInstance.run_id == dag_run.run_id
        )
        return {
            ti.task_id + (f"[{ti.map_index}]" if ti.map_index >= 0 else ""): str(ti.state)
            for ti in tis
        }


def airflow_dags_test(dag_id: str, logical_date: str, deadlines_off: bool = True, timeout=300):
    """``airflow dags test dag_id logical_date`` in a subprocess on the tests' Airflow home, with
    the test's environment (its connections and Variables) and this checkout's code first;
    ``deadlines_off``: with the documented switch ``INFORMAT_DEADLINES=off``.
    (exit status, stdout and stderr)."""
    from informat_airflow.alerts import DEADLINES_SWITCH

    migrate_db()
    env = dict(os.environ, PYTHONPATH=str(ROOT / "include"))
    env.pop(DEADLINES_SWITCH, None)
    if deadlines_off:
        env[DEADLINES_SWITCH] = "off"
    done = subprocess.run(
        [sys.executable, "-m", "airflow", "dags", "test", dag_id, logical_date],
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
    )
    return done.returncode, done.stdout + done.stderr


def dag_run_states(dag_id: str, logical_date: str) -> tuple[str, dict[str, str]]:
    """The state of the run of ``dag_id`` at ``logical_date`` (ISO) in the metadata database, and
    its tasks' states as task_states gives them."""
    from datetime import datetime

    from airflow.models.dagrun import DagRun
    from airflow.utils.session import create_session
    from sqlalchemy import select

    with create_session() as session:
        run = session.scalars(
            select(DagRun).where(
                DagRun.dag_id == dag_id,
                DagRun.logical_date == datetime.fromisoformat(logical_date),
            )
        ).one()
        state = str(run.state)
        session.expunge(run)
    return state, task_states(run)


class Answer(threading.Thread):
    """Answers the ``review`` of a dag.test() run of ``dag_id`` from beside it, as the REST
    API's ``PATCH /api/v2/dags/{dag}/dagRuns/{run}/taskInstances/review/-1/hitlDetails`` does
    (the same writes to the HITL detail, the same resume of the task parked in AWAITING_INPUT):
    ``option`` "Approve" or "Reject". ``option`` None: nobody answers, and once the review's
    ``response_timeout`` has passed the scheduler's own timeout sweep applies its default.
    dag.test() never resolves a waiting review itself: it waits for this. ``at_question`` is
    called once the review waits (what Informat holds by then, say); ``detail`` is what the
    review asked (empty: it never asked)."""

    def __init__(self, dag_id: str, option: str | None, at_question=None) -> None:
        super().__init__(daemon=True)
        self.dag_id, self.option, self.at_question = dag_id, option, at_question
        self.done, self.detail, self.seen = threading.Event(), {}, None
        self.error: Exception | None = None  # the last attempt's, for a test that waits in vain

    def run(self) -> None:
        deadline = time.monotonic() + 900
        while not self.done.is_set() and time.monotonic() < deadline:
            try:
                if self._answer():
                    self.done.set()
                    return
            except Exception as exc:  # SQLite busy beside dag.test(): try again
                self.error = exc
            self.done.wait(0.5)

    def _answer(self) -> bool:
        from airflow.jobs.job import Job
        from airflow.jobs.scheduler_job_runner import SchedulerJobRunner
        from airflow.models.taskinstance import TaskInstance
        from airflow.models.trigger import handle_event_submit
        from airflow.sdk import timezone
        from airflow.triggers.base import TriggerEvent
        from airflow.utils.session import create_session
        from airflow.utils.state import TaskInstanceState
        from sqlalchemy.orm import joinedload

        with create_session() as session:
            ti = (
                session.query(TaskInstance)
                .filter(
                    TaskInstance.dag_id == self.dag_id,
                    TaskInstance.task_id == "review",
                    TaskInstance.state == TaskInstanceState.AWAITING_INPUT,
                )
                .options(joinedload(TaskInstance.hitl_detail))
                .one_or_none()
            )
            if ti is None or ti.hitl_detail is None:
                return False
            detail = ti.hitl_detail
            if not self.detail:
                self.detail = {"subject": detail.subject, "body": detail.body,
                               "defaults": detail.defaults}  # fmt: skip
                self.seen = self.at_question() if self.at_question else None
            if self.option is None:
                if ti.trigger_timeout is None or ti.trigger_timeout >= timezone.utcnow():
                    return False
                SchedulerJobRunner(job=Job()).check_awaiting_input_timeouts(session=session)
                return True
            detail.responded_by = {"id": "1", "name": "data team"}
            detail.responded_at = timezone.utcnow()
            detail.chosen_options = [self.option]
            detail.params_input = {}
            session.add(detail)
            handle_event_submit(
                TriggerEvent(detail.as_resume_event_payload()), task_instance=ti, session=session
            )
        return True
