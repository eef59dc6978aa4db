"""The embedded default: the Informat sandbox, a local S3 endpoint and a mail catcher on
127.0.0.1, wired into Airflow's connections, then ``airflow standalone`` with the project's DAGs
on SQLite in ``.local/`` (git-ignored). Ctrl-C stops everything it started.

``--check`` brings everything up, runs ``informat_connection_check`` through Airflow's REST API,
and stops again: it exits 0 only when that run succeeded.

Ports and the folder can be changed with INFORMAT_SANDBOX_PORT, LOCAL_S3_PORT, LOCAL_SMTP_PORT,
AIRFLOW_PORT and LOCAL_DIR; the sandbox's size (students) with INFORMAT_SANDBOX_STUDENTS.
"""

from __future__ import annotations

import argparse
import json
import os
import secrets
import signal
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "include"))

from informat_devtools import local_connections  # noqa: E402
from informat_devtools.airflow_api import AirflowApi  # noqa: E402
from informat_devtools.local_connections import HOST, StandIns  # noqa: E402

LOCAL = Path(os.environ.get("LOCAL_DIR", ROOT / ".local")).resolve()


def _port(name: str, default: int) -> int:
    return int(os.environ.get(name, default))


def _private_json(path: Path, data: dict) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.touch(mode=0o600, exist_ok=True)
    path.chmod(0o600)
    path.write_text(json.dumps(data, indent=2))


def _sandbox_size() -> dict[str, int]:
    size = {}
    for name in ("students", "instellingen"):
        if value := os.environ.get(f"INFORMAT_SANDBOX_{name.upper()}"):
            size[name] = int(value)
    return size


def _pacing() -> dict[str, float]:
    """INFORMAT_MAX_REQUESTS_PER_SECOND: the connection's client-side pacing (per task)."""
    rate = os.environ.get("INFORMAT_MAX_REQUESTS_PER_SECOND")
    return {"max_requests_per_second": float(rate)} if rate else {}


def _local_secrets() -> dict[str, str]:
    """Secrets of the embedded default, made once and kept in .local/ (never in the repo)."""
    path = LOCAL / "secrets.json"
    values = json.loads(path.read_text()) if path.exists() else {}
    made = {
        "sandbox_client_secret": lambda: secrets.token_urlsafe(24),
        "admin_password": lambda: secrets.token_urlsafe(12),
        "pseudonymisation_key": lambda: secrets.token_urlsafe(32),
        "preregistration_key": lambda: secrets.token_urlsafe(32),
    }
    missing = {name: make() for name, make in made.items() if name not in values}
    if missing:  # a .local/ of an older version gets the secrets it lacks, and keeps the rest
        values.update(missing)
        _private_json(path, values)
    return values


def airflow_env(airflow_port: int) -> dict[str, str]:
    home = LOCAL / "airflow"
    home.mkdir(parents=True, exist_ok=True)
    env = dict(os.environ)
    env.update(
        {
            "AIRFLOW_HOME": str(home),
            "AIRFLOW__CORE__DAGS_FOLDER": str(ROOT / "dags"),
            "AIRFLOW__CORE__PLUGINS_FOLDER": str(ROOT / "plugins"),
            "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
            "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": f"sqlite:///{home / 'airflow.db'}",
            "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_USERS": "admin:admin",
            "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_PASSWORDS_FILE": str(home / "passwords.json"),
            "AIRFLOW__API__HOST": HOST,
            "AIRFLOW__API__PORT": str(airflow_port),
            "AIRFLOW__API__BASE_URL": f"http://{HOST}:{airflow_port}",
            "AIRFLOW__CORE__EXECUTION_API_SERVER_URL": f"http://{HOST}:{airflow_port}/execution/",
            "AIRFLOW__DAG_PROCESSOR__REFRESH_INTERVAL": "10",
            # the CSV drop zone of informat_inschrijvingen_push: a local folder
            "INFORMAT_DROP_ZONE": "local",
            # the data team hears of every failed task (mails land in the local mail catcher)
            "INFORMAT_DATA_TEAM": local_connections.DATA_TEAM,
            # airflow standalone starts its components as `airflow ...` from PATH
            "PATH": os.pathsep.join((str(Path(sys.executable).parent), env.get("PATH", ""))),
            "PYTHONPATH": os.pathsep.join(
                p for p in (str(ROOT / "include"), env.get("PYTHONPATH", "")) if p
            ),
        }
    )
    env.update(local_connections.environment({}, local_connections.variables()))
    return env


def connections(
    sandbox_url: str,
    s3,
    smtp_port: int,
    client_secret: str,
    pseudo_key: str,
    preregistration_key: str,
) -> dict[str, dict]:
    """The embedded default's connections: the local description, with the sandbox's size and
    the pacing this environment asks for, and the drop zone in .local/."""
    return local_connections.connections(
        StandIns(
            sandbox_url=sandbox_url,
            client_secret=client_secret,
            s3_extra=s3.connection_extra(),
            smtp_port=smtp_port,
            dropzone=LOCAL / "dropzone",
            pseudonymisation_key=pseudo_key,
            preregistration_key=preregistration_key,
            instellingen=_sandbox_size().get("instellingen", 0),
            pacing=_pacing(),
        )
    )


def _airflow(env: dict[str, str], *args: str) -> None:
    subprocess.run([sys.executable, "-m", "airflow", *args], env=env, check=True, cwd=ROOT)


def check(base: str, password: str, proc: subprocess.Popen) -> bool:
    """Run informat_connection_check through the REST API and wait for its outcome."""
    api = AirflowApi(base)
    api.login(password, process=proc, timeout=240)
    dag_id = "informat_connection_check"
    try:
        run_id = api.trigger(dag_id)  # once the dag-processor parsed it
    except TimeoutError as exc:
        print(f"check: {exc}", flush=True)
        return False
    state = api.wait(dag_id, run_id, timeout=300)["state"]
    print(f"check: {dag_id} run {run_id} ended {state}", flush=True)
    return state == "success"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--check", action="store_true", help="start, run one DAG, stop")
    args = parser.parse_args()

    from informat_devtools.mailcatcher import MailCatcher
    from informat_devtools.s3 import LocalS3
    from informat_sandbox.app import SandboxState
    from informat_sandbox.server import SandboxServer

    sandbox_port = _port("INFORMAT_SANDBOX_PORT", 8765)
    s3_port = _port("LOCAL_S3_PORT", 9090)
    smtp_port = _port("LOCAL_SMTP_PORT", 8025)
    airflow_port = _port("AIRFLOW_PORT", 8080)
    values = _local_secrets()

    started: list = []
    proc: subprocess.Popen | None = None
    try:
        sandbox = SandboxServer(
            SandboxState(client_secret=values["sandbox_client_secret"], **_sandbox_size()),
            port=sandbox_port,
        ).start()
        started.append(sandbox)
        s3 = LocalS3(port=s3_port).start()
        started.append(s3)
        mail = MailCatcher(port=smtp_port, folder=LOCAL / "mail").start()
        started.append(mail)

        env = airflow_env(airflow_port)
        from informat_pipelines.voorinschrijvingen.local_zone import LocalDropZone

        LocalDropZone(LOCAL / "dropzone")  # makes inbox/, outbox/, ...
        _private_json(
            Path(env["AIRFLOW_HOME"]) / "passwords.json", {"admin": values["admin_password"]}
        )
        _airflow(env, "db", "migrate")
        conns_file = LOCAL / "connections.json"
        _private_json(
            conns_file,
            connections(
                sandbox.url,
                s3,
                smtp_port,
                values["sandbox_client_secret"],
                values["pseudonymisation_key"],
                values["preregistration_key"],
            ),
        )
        _airflow(env, "connections", "import", "--overwrite", str(conns_file))
        for pool in local_connections.pool_commands():
            _airflow(env, *pool)
        conns_file.unlink()

        base = f"http://{HOST}:{airflow_port}"
        print(
            "\n"
            f"  Informat sandbox : {sandbox.url}  (control plane: {sandbox.url}/_sandbox/docs)\n"
            f"  S3 endpoint      : {s3.url}  (buckets informat-data, informat-archive)\n"
            f"  SMTP catcher     : {HOST}:{smtp_port}  (mails in {LOCAL / 'mail'})\n"
            f"  CSV drop zone    : {LOCAL / 'dropzone' / 'inbox'}/<instellingsnummer>/\n"
            f"  Airflow          : {base}\n"
            f"  Login            : admin / {values['admin_password']}"
            f"  (kept in {LOCAL / 'secrets.json'})\n"
            "  Stop with Ctrl-C.\n",
            flush=True,
        )
        log_file = open(LOCAL / "standalone.log", "w") if args.check else None  # noqa: SIM115
        proc = subprocess.Popen(
            [sys.executable, "-m", "airflow", "standalone"],
            env=env,
            cwd=ROOT,
            start_new_session=True,
            stdout=log_file,
            stderr=subprocess.STDOUT if args.check else None,
        )
        if args.check:
            return 0 if check(base, values["admin_password"], proc) else 1
        return proc.wait()
    except KeyboardInterrupt:
        return 0
    finally:
        if proc is not None and proc.poll() is None:
            os.killpg(proc.pid, signal.SIGINT)
            try:
                proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait()
        for service in reversed(started):
            service.stop()
        print("stopped: Airflow, sandbox, S3 endpoint and mail catcher", flush=True)


if __name__ == "__main__":
    sys.exit(main())
