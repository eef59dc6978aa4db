"""The README's run command, end to end: `scripts/run_local.py --check` brings up the sandbox,
the local S3 endpoint, the mail catcher and `airflow standalone` on SQLite, wires the
connections, runs informat_connection_check through Airflow's REST API, and stops everything."""

from __future__ import annotations

import os
import socket
import subprocess
import sys

from informat_devtools.ports import free_port

from ..support.airflow import ROOT


def test_run_command_brings_everything_up_and_down(tmp_path):
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("AIRFLOW_", "AIRFLOW__"))  # not the test session's own home
    }
    env.update(
        LOCAL_DIR=str(tmp_path / "local"),
        AIRFLOW_PORT=str(free_port()),
        INFORMAT_SANDBOX_PORT=str(free_port()),
        LOCAL_S3_PORT=str(free_port()),
        LOCAL_SMTP_PORT=str(free_port()),
    )
    result = subprocess.run(
        [sys.executable, "scripts/run_local.py", "--check"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    output = result.stdout + result.stderr
    assert result.returncode == 0, output[-4000:]
    assert "informat_connection_check run" in output and "ended success" in output
    assert "Login            : admin / " in output
    assert "stopped: Airflow, sandbox, S3 endpoint and mail catcher" in output
    secrets_file = tmp_path / "local" / "secrets.json"
    assert oct(secrets_file.stat().st_mode & 0o777) == "0o600"
    # nothing it started still listens
    for name in ("AIRFLOW_PORT", "INFORMAT_SANDBOX_PORT", "LOCAL_S3_PORT", "LOCAL_SMTP_PORT"):
        with socket.socket() as sock:
            assert sock.connect_ex(("127.0.0.1", int(env[name]))) != 0, f"{name} still open"
