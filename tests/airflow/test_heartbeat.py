"""The dead man's switch: a scheduled run that succeeds pings the monitor of the connection
``informat_heartbeat`` (healthchecks' ping by slug, or a path per DAG); a manual run does not;
without the connection nothing is sent; a monitor that is down never fails the callback."""

from __future__ import annotations

import logging
from types import SimpleNamespace

from informat_airflow.heartbeat import HeartbeatPing, ping
from informat_devtools.heartbeat_catcher import HeartbeatCatcher
from informat_devtools.ports import free_port

from ..support.airflow import set_connection

DAG = SimpleNamespace(dag_id="informat_daily_extract")
SCHEDULED = "scheduled__2026-12-02T04:00:00+00:00"


def test_a_scheduled_run_pings_the_monitor_at_the_dags_slug(monkeypatch):
    with HeartbeatCatcher() as monitor:
        set_connection(
            monkeypatch, "informat_heartbeat", conn_type="http", host=f"{monitor.url}/ping/k1"
        )
        HeartbeatPing()({"dag": DAG, "run_id": SCHEDULED})
    assert monitor.paths == ["/ping/k1/informat_daily_extract"]


def test_a_dag_can_have_a_monitor_url_of_its_own(monkeypatch):
    with HeartbeatCatcher() as monitor:
        set_connection(monkeypatch, "informat_heartbeat", conn_type="http", host=monitor.url)
        own = f"{monitor.url}/api/push/t0k3n?status=up"
        set_connection(
            monkeypatch, "informat_heartbeat__informat_daily_extract", conn_type="http", host=own
        )
        run = SimpleNamespace(run_type="scheduled")
        HeartbeatPing()({"dag": DAG, "run_id": "any", "dag_run": run})
    assert monitor.paths == ["/api/push/t0k3n?status=up"]


def test_a_manual_run_does_not_ping(monkeypatch):
    with HeartbeatCatcher() as monitor:
        set_connection(monkeypatch, "informat_heartbeat", conn_type="http", host=monitor.url)
        HeartbeatPing()({"dag": DAG, "run_id": "manual__2026-12-02T09:00:00+00:00"})
        HeartbeatPing()({"dag": DAG, "run_id": "x", "dag_run": {"run_type": "manual"}})
    assert monitor.paths == []


def test_without_the_connection_nothing_is_sent_and_the_log_says_so(monkeypatch, caplog):
    monkeypatch.delenv("AIRFLOW_CONN_INFORMAT_HEARTBEAT", raising=False)
    with caplog.at_level(logging.INFO, logger="informat_airflow.heartbeat"):
        assert ping("informat_daily_extract") is False
    assert "no heartbeat sent for informat_daily_extract" in caplog.text


def test_a_monitor_that_is_down_never_fails_the_run(monkeypatch, caplog):
    url = f"http://127.0.0.1:{free_port()}/ping/s3cr3t-key"  # nothing listens there
    set_connection(monkeypatch, "informat_heartbeat", conn_type="http", host=url)
    with caplog.at_level(logging.WARNING, logger="informat_airflow.heartbeat"):
        HeartbeatPing()({"dag": DAG, "run_id": SCHEDULED})
    assert "heartbeat of informat_daily_extract not sent (ConnectionError)" in caplog.text
    assert "s3cr3t-key" not in caplog.text
