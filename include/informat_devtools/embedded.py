"""The embedded default (`make run`) as a context manager, for tests and benchmarks that need
the real thing: ``scripts/run_local.py`` on free ports in a folder of their own, and Airflow's
REST API to trigger DAGs and wait for them. Stopped (and everything it started) on exit."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import requests

from informat_devtools.ports import free_port

ROOT = Path(__file__).resolve().parents[2]
PORTS = ("AIRFLOW_PORT", "INFORMAT_SANDBOX_PORT", "LOCAL_S3_PORT", "LOCAL_SMTP_PORT")


class EmbeddedDefault:
    def __init__(self, folder: Path, env: dict[str, str] | None = None) -> None:
        self.folder = Path(folder)
        self.local = self.folder / "local"
        self.ports = {name: free_port() for name in PORTS}
        self.extra = dict(env or {})
        self.proc: subprocess.Popen | None = None
        self.headers: dict[str, str] = {}

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.ports['AIRFLOW_PORT']}"

    @property
    def sandbox(self) -> str:
        return f"http://127.0.0.1:{self.ports['INFORMAT_SANDBOX_PORT']}"

    def __enter__(self) -> EmbeddedDefault:
        env = {k: v for k, v in os.environ.items() if not k.startswith(("AIRFLOW_", "AIRFLOW__"))}
        env.update({k: str(v) for k, v in self.ports.items()})
        env.update(LOCAL_DIR=str(self.local), **self.extra)
        self.log = open(self.folder / "run.log", "w")
        self.proc = subprocess.Popen(
            [sys.executable, "scripts/run_local.py"],
            cwd=ROOT,
            env=env,
            stdout=self.log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        try:
            self._login()
        except BaseException:
            self.__exit__()
            raise
        return self

    def __exit__(self, *exc: object) -> None:
        if self.proc is not None and self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGINT)
            try:
                self.proc.wait(timeout=60)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait()
        self.log.close()

    @property
    def password(self) -> str:
        return json.loads((self.local / "secrets.json").read_text())["admin_password"]

    def _login(self) -> None:
        deadline = time.monotonic() + 300
        while True:
            assert self.proc is not None and self.proc.poll() is None, "make run stopped"
            try:
                if (self.local / "secrets.json").exists():
                    answer = requests.post(
                        f"{self.base}/auth/token",
                        json={"username": "admin", "password": self.password},
                        timeout=10,
                    )
                    if answer.ok:
                        token = answer.json()["access_token"]
                        self.headers = {"Authorization": f"Bearer {token}"}
                        return
            except (requests.RequestException, ValueError):
                pass
            assert time.monotonic() < deadline, "Airflow's API did not come up"
            time.sleep(2)

    def call(self, method: str, path: str, **kwargs: Any) -> Any:
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

    def unpause(self, dag_id: str) -> None:
        deadline = time.monotonic() + 240
        while True:  # the dag-processor needs a moment to parse the DAGs
            try:
                self.call("PATCH", f"/dags/{dag_id}", json={"is_paused": False})
                return
            except requests.HTTPError:
                assert time.monotonic() < deadline, f"{dag_id} never appeared"
                time.sleep(2)

    def trigger(self, dag_id: str, conf: dict[str, Any] | None = None) -> str:
        self.unpause(dag_id)
        body = {"logical_date": None, "conf": conf or {}}
        return self.call("POST", f"/dags/{dag_id}/dagRuns", json=body)["dag_run_id"]

    def scheduled_run(self, dag_id: str, timeout: float = 900) -> dict[str, Any]:
        """Unpause ``dag_id`` and answer the run its schedule makes at once (the latest
        interval: a day's first run, as a school group's morning has it) once it ended."""
        self.unpause(dag_id)
        deadline = time.monotonic() + 60
        while not (runs := self.call("GET", f"/dags/{dag_id}/dagRuns")["dag_runs"]):
            assert time.monotonic() < deadline, f"{dag_id}: the scheduler made no run"
            time.sleep(1)
        return self.wait(dag_id, runs[0]["dag_run_id"], timeout)

    def wait(self, dag_id: str, run_id: str, timeout: float = 900) -> dict[str, Any]:
        """The run once it ended (or as it is when ``timeout`` passed)."""
        deadline = time.monotonic() + timeout
        while True:
            run = self.call("GET", f"/dags/{dag_id}/dagRuns/{run_id}")
            if run["state"] in ("success", "failed") or time.monotonic() > deadline:
                return run
            time.sleep(2)
