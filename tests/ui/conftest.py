"""The Informat page inside Airflow's own API server app (plugins, auth manager, connections
and Variables from the environment), over a drop zone folder and a data bucket with generated
history, as `make run` serves it."""

from __future__ import annotations

import json
from datetime import date

import pytest

from informat_devtools import history
from informat_pipelines.voorinschrijvingen.local_zone import LocalDropZone

from ..support.airflow import migrate_db, set_connection, set_s3_connection

REPORT_KEY = "outbox/990011/inschrijvingen-0.r.rapport.csv"  # in the school's own folder


@pytest.fixture
def page_data(s3, bucket, tmp_path, monkeypatch):
    """Three days of history ending today, a day's extraction report and a push report, where
    the page's sources find them; returns today."""
    today = date.today()
    zone = LocalDropZone(tmp_path)
    state = history.write_year(s3.client(), bucket, zone, today, history.HistoryShape(8, days=3))
    s3.client().put_object(
        Bucket=bucket, Key=f"reports/date={today}/report.html", Body=b"<html>report</html>"
    )
    _, number, name = REPORT_KEY.split("/")
    zone.write_outbox(number, name, b"rij;status;reden;informat_id\r\n")
    set_s3_connection(monkeypatch, s3)
    set_connection(monkeypatch, "informat_dropzone", conn_type="fs", extra={"path": str(tmp_path)})
    monkeypatch.setenv("INFORMAT_DATA_BUCKET", bucket)
    monkeypatch.setenv("INFORMAT_DROP_ZONE", "local")
    monkeypatch.setenv("AIRFLOW_VAR_INFORMAT_ROLLOVER_STATE", json.dumps(state))
    return today


@pytest.fixture
def airflow_app(monkeypatch):
    """``open(auth_manager)``: a client of Airflow's API server app with that auth manager
    (a class path; SimpleAuthManager, as `make run`, by default), and ``token(name, role)``."""
    from airflow.api_fastapi import app as api_app
    from airflow.api_fastapi.auth.managers.simple.user import SimpleAuthManagerUser
    from fastapi.testclient import TestClient

    migrate_db()

    class Opened:
        def open(self, auth_manager: str | None = None) -> TestClient:
            if auth_manager:
                monkeypatch.setenv("AIRFLOW__CORE__AUTH_MANAGER", auth_manager)
            return TestClient(api_app.create_app("core"), raise_server_exceptions=False)

        def token(self, name: str, role: str = "viewer") -> str:
            user = SimpleAuthManagerUser(username=name, role=role)
            return api_app.get_auth_manager().generate_jwt(user)

    yield Opened()
    # the next app builds its own (a SimpleAuthManager would otherwise reuse this subclass)
    api_app._AuthManagerState.instance = None
