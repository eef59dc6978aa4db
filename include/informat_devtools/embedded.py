"""The embedded default (`make run`) as a context manager, for tests and benchmarks that need
the real thing: ``scripts/run_local.py`` on free ports in a folder of their own, reached through
Airflow's REST API (``AirflowApi``: trigger DAGs, wait for them). Stopped (and everything it
started) on exit."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from pathlib import Path

from informat_devtools.airflow_api import AirflowApi
from informat_devtools.local_connections import HOST
from informat_devtools.ports import free_port

ROOT = Path(__file__).resolve().parents[2]
PORTS = ("AIRFLOW_PORT", "INFORMAT_SANDBOX_PORT", "LOCAL_S3_PORT", "LOCAL_SMTP_PORT")


class EmbeddedDefault(AirflowApi):
    def __init__(self, folder: Path, env: dict[str, str] | None = None) -> None:
        self.folder = Path(folder)
        self.local = self.folder / "local"
        self.ports = {name: free_port() for name in PORTS}
        self.extra = dict(env or {})
        self.proc: subprocess.Popen | None = None
        super().__init__(f"http://{HOST}:{self.ports['AIRFLOW_PORT']}")

    @property
    def sandbox(self) -> str:
        return f"http://{HOST}:{self.ports['INFORMAT_SANDBOX_PORT']}"

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
            # run_local.py writes the password to secrets.json once it started: read it then
            self.login(lambda: self.password, process=self.proc, timeout=300)
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
