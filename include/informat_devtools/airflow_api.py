"""A small client of Airflow's REST API (``/api/v2``, the simple auth manager's admin) for the
local tooling: the embedded default's ``--check``, ``EmbeddedDefault`` of the tests and
benchmarks, and ``make e2e``. The machine is often busy (2 cores, Airflow's components, the
tests): a call that found the API too busy to answer is made again rather than failing."""

from __future__ import annotations

import subprocess
import time
from collections.abc import Callable
from typing import Any

import requests

ENDED = ("success", "failed")
ATTEMPTS = 10  # of a call the API did not answer, 2 s apart


class AirflowApi:
    def __init__(self, base: str) -> None:
        self.base = base.rstrip("/")
        self.headers: dict[str, str] = {}

    def login(
        self,
        password: str | Callable[[], str],
        process: subprocess.Popen | None = None,
        timeout: float = 240,
    ) -> None:
        """Log in as admin once the API answers. ``password`` is the password or a function
        that reads it (it may not be written yet: an OSError or ValueError means look again).
        Raises RuntimeError when ``process`` (the Airflow that should answer) stopped, and
        TimeoutError when the API did not come up in ``timeout`` seconds."""
        deadline = time.monotonic() + timeout
        while True:
            if process is not None and process.poll() is not None:
                raise RuntimeError(f"Airflow stopped (exit {process.returncode}) before its API")
            try:
                secret = password() if callable(password) else password
                answer = requests.post(
                    f"{self.base}/auth/token",
                    json={"username": "admin", "password": secret},
                    timeout=10,
                )
                if answer.status_code in (200, 201):
                    self.headers = {"Authorization": f"Bearer {answer.json()['access_token']}"}
                    return
            except (requests.RequestException, OSError, ValueError):
                pass
            if time.monotonic() > deadline:
                raise TimeoutError("Airflow's API did not come up in time")
            time.sleep(2)

    def call(self, method: str, path: str, **kwargs: Any) -> Any:
        """One API call (``path`` below ``/api/v2``): its JSON answer, None when it has no body;
        an HTTP error raises. Made again when the API could not be reached, and for a GET also
        when it answered too slowly (a POST that timed out may have been done)."""
        again: tuple[type[Exception], ...] = (requests.ConnectionError,)
        if method.upper() == "GET":
            again += (requests.Timeout,)
        for _ in range(ATTEMPTS):
            try:
                answer = requests.request(
                    method, f"{self.base}/api/v2{path}", headers=self.headers, timeout=30, **kwargs
                )
            except again:
                time.sleep(2)
                continue
            answer.raise_for_status()
            return answer.json() if answer.content else None
        raise TimeoutError(f"{method} {path}: Airflow's API did not answer")

    def wait_for_dags(self, dag_ids: list[str], timeout: float = 240) -> None:
        """Until the dag-processor parsed every one of ``dag_ids``."""
        deadline = time.monotonic() + timeout
        while True:
            known = {d["dag_id"] for d in self.call("GET", "/dags", params={"limit": 100})["dags"]}
            if set(dag_ids) <= known:
                return
            if time.monotonic() > deadline:
                raise TimeoutError(f"DAGs not parsed: {sorted(set(dag_ids) - known)}")
            time.sleep(3)

    def unpause(self, dag_id: str, timeout: float = 240) -> None:
        """Unpause ``dag_id``, waiting for the dag-processor to parse it first (till then the
        API answers an error)."""
        deadline = time.monotonic() + timeout
        while True:
            try:
                self.call("PATCH", f"/dags/{dag_id}", json={"is_paused": False})
                return
            except requests.HTTPError as exc:
                if time.monotonic() > deadline:
                    raise TimeoutError(f"{dag_id} did not appear in Airflow") from exc
                time.sleep(2)

    def trigger(self, dag_id: str, conf: dict[str, Any] | None = None) -> str:
        """Unpause ``dag_id`` and start a manual run: its run id."""
        self.unpause(dag_id)
        body = {"logical_date": None, "conf": conf or {}}
        return self.call("POST", f"/dags/{dag_id}/dagRuns", json=body)["dag_run_id"]

    def scheduled_run_id(self, dag_id: str, within: float) -> str | None:
        """Unpause ``dag_id`` and answer the id of the run its schedule makes at once (the
        latest interval: a day's first run, as a school group's morning has it); None when no
        run came ``within`` seconds (a DAG without a schedule)."""
        self.unpause(dag_id)
        deadline = time.monotonic() + within
        while not (runs := self.runs(dag_id)):
            if time.monotonic() > deadline:
                return None
            time.sleep(1)
        return runs[-1]["dag_run_id"]

    def scheduled_run(self, dag_id: str, timeout: float = 900) -> dict[str, Any]:
        """The run the schedule of ``dag_id`` makes once unpaused, once it ended."""
        run_id = self.scheduled_run_id(dag_id, within=60)
        if run_id is None:
            raise TimeoutError(f"{dag_id}: the scheduler made no run")
        return self.wait(dag_id, run_id, timeout)

    def runs(self, dag_id: str) -> list[dict[str, Any]]:
        return self.call("GET", f"/dags/{dag_id}/dagRuns")["dag_runs"]

    def run(self, dag_id: str, run_id: str) -> dict[str, Any]:
        return self.call("GET", f"/dags/{dag_id}/dagRuns/{run_id}")

    def wait(self, dag_id: str, run_id: str, timeout: float = 900) -> dict[str, Any]:
        """The run once it ended (or as it is when ``timeout`` passed)."""
        deadline = time.monotonic() + timeout
        while True:
            run = self.run(dag_id, run_id)
            if run["state"] in ENDED or time.monotonic() > deadline:
                return run
            time.sleep(2)
