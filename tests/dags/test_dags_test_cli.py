"""`airflow dags test` ends with the run's real state on a DAG with deadline alerts,
through the CLI itself, with the documented switch ``INFORMAT_DEADLINES=off``; without it,
Airflow 3.3.2 still crashes when the run ends. The deadlines stay on the DAGs as the scheduler
loads them, counted from when a run was queued: a run created long after its logical date (a
catch-up, a first unpause) does not get a deadline that has already passed."""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import UTC, datetime, timedelta

from ..conftest import INSTELLINGSNUMMERS
from ..support.airflow import ROOT, migrate_db, set_connection, set_informat_connection

# one task, and with no voorinschrijving sent yet it asks Informat nothing: quick and cheap
DAG_ID = "informat_inschrijvingen_opvolging"
INTERVAL = timedelta(hours=1)
HEX_CRASH = "'dict' object has no attribute 'hex'"


def _dags_test(monkeypatch, tmp_path, sandbox, client_secret, logical_date: str, switch: bool):
    """``airflow dags test DAG_ID logical_date`` in a subprocess on the tests' Airflow home
    (SQLite in a temporary folder), with the connections the DAG needs; (exit status, output)."""
    migrate_db()
    monkeypatch.setenv("INFORMAT_DROP_ZONE", "local")
    set_connection(monkeypatch, "informat_dropzone", conn_type="fs", extra={"path": str(tmp_path)})
    set_informat_connection(
        monkeypatch, sandbox, client_secret, {"instellingsnummers": list(INSTELLINGSNUMMERS)}
    )
    env = dict(os.environ, PYTHONPATH=str(ROOT / "include"))  # this checkout's code first
    env.pop("INFORMAT_DEADLINES", None)
    if switch:
        env["INFORMAT_DEADLINES"] = "off"
    done = subprocess.run(
        [sys.executable, "-m", "airflow", "dags", "test", DAG_ID, logical_date],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    return done.returncode, done.stdout + done.stderr


def _run_state(logical_date: str) -> str:
    from airflow.models.dagrun import DagRun
    from airflow.utils.session import create_session
    from sqlalchemy import select

    with create_session() as session:
        run = session.scalars(
            select(DagRun).where(
                DagRun.dag_id == DAG_ID,
                DagRun.logical_date == datetime.fromisoformat(logical_date),
            )
        ).one()
        return str(run.state)


def test_airflow_dags_test_with_the_switch_exits_0_with_the_run_success(
    monkeypatch, tmp_path, sandbox, client_secret
):
    logical_date = "2026-03-02T05:30:00+00:00"
    status, output = _dags_test(monkeypatch, tmp_path, sandbox, client_secret, logical_date, True)
    assert status == 0, output[-3000:]
    assert HEX_CRASH not in output
    assert _run_state(logical_date) == "success"


def test_without_the_switch_airflow_3_3_2_dags_test_still_crashes(
    monkeypatch, tmp_path, sandbox, client_secret
):
    """Why the switch exists. When an upgrade of Airflow makes this fail, dag.test() handles
    deadlines: drop ``INFORMAT_DEADLINES`` and load_dag's use of it."""
    logical_date = "2026-03-03T05:30:00+00:00"
    status, output = _dags_test(monkeypatch, tmp_path, sandbox, client_secret, logical_date, False)
    assert status == 1
    assert HEX_CRASH in output
    assert _run_state(logical_date) == "running"  # every task ran; the run never ended


def _sync_as_the_dag_processor(monkeypatch):
    """The project's DAGs parsed and written to the metadata database as the DAG processor
    does (the switch unset, as it is for the DAG processor)."""
    from airflow.dag_processing.bundles.manager import DagBundlesManager
    from airflow.dag_processing.dagbag import BundleDagBag, sync_bag_to_db

    migrate_db()
    monkeypatch.delenv("INFORMAT_DEADLINES", raising=False)
    monkeypatch.setenv("INFORMAT_DATA_TEAM", "data@example.org")
    # written even within 30 s of the last write (`airflow dags test` re-syncs the DAGs too)
    monkeypatch.setenv("AIRFLOW__CORE__MIN_SERIALIZED_DAG_UPDATE_INTERVAL", "0")
    manager = DagBundlesManager()
    manager.sync_bundles_to_db()
    for bundle in manager.get_all_dag_bundles():
        bundle.initialize()
        bag = BundleDagBag(dag_folder=bundle.path, bundle_path=bundle.path, bundle_name=bundle.name)
        assert not bag.import_errors, bag.import_errors
        sync_bag_to_db(bag, bundle.name, bundle.version)


def test_the_scheduler_loads_the_deadlines_counted_from_the_queued_time(monkeypatch):
    from airflow.models.dagbag import DBDagBag
    from airflow.models.deadline_alert import DeadlineAlert
    from airflow.sdk.serde import deserialize
    from airflow.utils.session import create_session

    _sync_as_the_dag_processor(monkeypatch)
    with create_session() as session:
        dag = DBDagBag().get_latest_version_of_dag(DAG_ID, session=session)
        assert dag.deadline, "the scheduler's DAG has no deadline"
        alerts = [DeadlineAlert.get_by_id(alert_id, session=session) for alert_id in dag.deadline]
        assert {a.reference["reference_type"] for a in alerts} == {"DagRunQueuedAtDeadline"}
        assert {deserialize(a.interval) for a in alerts} == {INTERVAL}
        assert len(alerts) == 3  # the record, the webhook, the mail (INFORMAT_DATA_TEAM is set)


def test_a_run_queued_long_after_its_logical_date_gets_a_deadline_still_ahead(monkeypatch):
    """A catch-up or first-unpause run, created today for a logical date months ago, as the
    scheduler creates it (queued): its deadline is an hour after now, not in the past."""
    from airflow.models.dagbag import DBDagBag
    from airflow.models.deadline import Deadline
    from airflow.utils.session import create_session
    from airflow.utils.state import DagRunState
    from airflow.utils.types import DagRunTriggeredByType, DagRunType
    from sqlalchemy import select

    _sync_as_the_dag_processor(monkeypatch)
    logical_date = datetime(2026, 1, 5, 5, 30, tzinfo=UTC)
    before = datetime.now(UTC)
    with create_session() as session:
        dag = DBDagBag().get_latest_version_of_dag(DAG_ID, session=session)
        run = dag.create_dagrun(
            run_id=f"scheduled__{logical_date.isoformat()}",
            logical_date=logical_date,
            data_interval=(logical_date, logical_date),
            run_after=logical_date,
            run_type=DagRunType.SCHEDULED,
            triggered_by=DagRunTriggeredByType.TIMETABLE,
            state=DagRunState.QUEUED,
            session=session,
        )
        session.flush()
        deadlines = session.scalars(select(Deadline).where(Deadline.dagrun_id == run.id)).all()
        assert len(deadlines) == 3
        assert logical_date + INTERVAL < before  # counted from the logical date: long past
        for deadline in deadlines:
            assert deadline.deadline_time == run.queued_at + INTERVAL
            assert deadline.deadline_time > before + INTERVAL - timedelta(minutes=1)
            assert not deadline.missed
        session.rollback()  # the run is not to be scheduled by anything
