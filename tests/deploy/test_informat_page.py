"""The Informat page in a real browser, on the embedded default (`make run`): the DAGs run
against the sandbox through Airflow's REST API, then headless Chromium (Debian's package, driven
by Playwright) logs in to Airflow, finds "Informat" in the navigation, and reads the page: the
sandbox's toegangsgroep that is not carried over in red, a quarantined partition with its
expectation, the pushed file with its counts, the archive's coverage. Screenshots are kept in
``.artefacts/`` (or ``$ARTEFACTS_DIR``)."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import requests

from informat_devtools.browser import launch

from ..support.airflow import ROOT
from .test_run_command import free_port

DAGS = (
    "informat_toegangsgroep_rollover",
    "informat_inschrijvingen_push",
    "informat_daily_extract",
    "informat_pdf_archive",
)
ARTEFACTS = Path(os.environ.get("ARTEFACTS_DIR", ROOT / ".artefacts"))


class Airflow:
    """The REST API of the running embedded default."""

    def __init__(self, base: str, password: str, proc: subprocess.Popen) -> None:
        self.base, self.proc = base, proc
        deadline = time.monotonic() + 300
        while True:
            assert proc.poll() is None, "make run stopped"
            try:
                answer = requests.post(
                    f"{base}/auth/token",
                    json={"username": "admin", "password": password},
                    timeout=10,
                )
                if answer.ok:
                    break
            except requests.RequestException:
                pass
            assert time.monotonic() < deadline, "Airflow's API did not come up"
            time.sleep(2)
        self.headers = {"Authorization": f"Bearer {answer.json()['access_token']}"}

    def call(self, method: str, path: str, **kwargs):
        for _ in range(10):  # a busy machine: the API may be slow to answer, look again
            try:
                answer = requests.request(
                    method, f"{self.base}/api/v2{path}", headers=self.headers, timeout=30, **kwargs
                )
                answer.raise_for_status()
                return answer.json()
            except requests.ConnectionError:
                time.sleep(2)
        raise TimeoutError(path)

    def trigger(self, dag_id: str) -> str:
        deadline = time.monotonic() + 240
        while True:  # the dag-processor needs a moment to parse the DAGs
            try:
                self.call("GET", f"/dags/{dag_id}")
                break
            except requests.HTTPError:
                assert time.monotonic() < deadline, f"{dag_id} never appeared"
                time.sleep(2)
        self.call("PATCH", f"/dags/{dag_id}", json={"is_paused": False})
        return self.call("POST", f"/dags/{dag_id}/dagRuns", json={"logical_date": None})[
            "dag_run_id"
        ]

    def wait(self, dag_id: str, run_id: str, timeout: float = 900) -> str:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            state = self.call("GET", f"/dags/{dag_id}/dagRuns/{run_id}")["state"]
            if state in ("success", "failed"):
                return state
            time.sleep(3)
        return "timeout"


@pytest.fixture
def embedded_default(tmp_path):
    """``make run`` with a small sandbox, on free ports, stopped after the test."""
    ports = {
        name: free_port()
        for name in ("AIRFLOW_PORT", "INFORMAT_SANDBOX_PORT", "LOCAL_S3_PORT", "LOCAL_SMTP_PORT")
    }
    local = tmp_path / "local"
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AIRFLOW_", "AIRFLOW__"))}
    env.update({k: str(v) for k, v in ports.items()})
    env.update(LOCAL_DIR=str(local), INFORMAT_SANDBOX_STUDENTS="300")
    log = open(tmp_path / "run.log", "w")  # noqa: SIM115 - closed below
    proc = subprocess.Popen(
        [sys.executable, "scripts/run_local.py"],
        cwd=ROOT,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    try:
        deadline = time.monotonic() + 120
        while not (local / "secrets.json").exists():
            assert proc.poll() is None and time.monotonic() < deadline, "make run did not start"
            time.sleep(1)
        time.sleep(1)
        password = json.loads((local / "secrets.json").read_text())["admin_password"]
        base = f"http://127.0.0.1:{ports['AIRFLOW_PORT']}"
        yield {
            "api": Airflow(base, password, proc),
            "base": base,
            "password": password,
            "sandbox": f"http://127.0.0.1:{ports['INFORMAT_SANDBOX_PORT']}",
            "local": local,
        }
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGINT)
            try:
                proc.wait(timeout=60)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
        log.close()


def run_every_dag(stack) -> dict[str, str]:
    """Each DAG once, as a data engineer would after `make run`; the sandbox serves a few bad
    student rows, so that the extraction quarantines (and says so: its run fails)."""
    api = stack["api"]
    requests.put(
        f"{stack['sandbox']}/_sandbox/faults", json={"bad_student_rows": 2}, timeout=10
    ).raise_for_status()
    drop = stack["local"] / "dropzone" / "inbox" / "sjabloon.csv"
    drop.write_bytes((ROOT / "templates" / "inschrijvingen_sjabloon.csv").read_bytes())
    os.utime(drop, (0, 0))
    runs = {dag_id: api.trigger(dag_id) for dag_id in DAGS}
    states = {dag_id: api.wait(dag_id, run_id) for dag_id, run_id in runs.items()}
    follow_up = api.trigger("informat_inschrijvingen_opvolging")
    states["informat_inschrijvingen_opvolging"] = api.wait(
        "informat_inschrijvingen_opvolging", follow_up
    )
    return states


def test_the_informat_page_in_a_real_browser(embedded_default):
    from playwright.sync_api import sync_playwright

    states = run_every_dag(embedded_default)
    assert states["informat_daily_extract"] == "failed", states  # the quarantine, as meant
    assert all(s == "success" for d, s in states.items() if d != "informat_daily_extract"), states
    base = embedded_default["base"]
    ARTEFACTS.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as playwright:
        browser = launch(playwright)
        page = browser.new_page(viewport={"width": 1400, "height": 1000})
        anonymous = page.goto(f"{base}/informat/")
        assert anonymous.status == 401  # not logged in: refused

        page.goto(f"{base}/")
        page.fill("input[name='username']", "admin")
        page.fill("input[name='password']", embedded_default["password"])
        page.keyboard.press("Enter")
        page.get_by_role("link", name="Informat").first.click(timeout=60_000)
        frame = page.frame_locator("iframe").first
        frame.locator("h1", has_text="Informat").wait_for(timeout=60_000)
        page.screenshot(path=str(ARTEFACTS / "informat-page-in-airflow.png"))

        page.goto(f"{base}/informat/")
        zuid = page.locator("tr[data-toegangsgroep='SG-Zuid']").first
        assert zuid.locator("[data-state]").first.get_attribute("data-state") == "red"
        assert "niet overgezet" in zuid.inner_text()
        quarantined = page.locator("td[data-state='quarantined']")
        assert quarantined.count() >= 1 and "expect_" in quarantined.first.inner_text()
        pushed = page.locator("tr[data-file='sjabloon.csv'] td[data-count='pushed']").first
        assert int(pushed.inner_text()) >= 1
        archived = page.locator("td[data-count='archived']")
        assert archived.count() >= 1 and sum(int(c) for c in archived.all_inner_texts()) > 0
        assert page.locator("svg").count() >= 2  # rows per day, archive coverage
        page.screenshot(path=str(ARTEFACTS / "informat-page.png"), full_page=True)
        browser.close()
