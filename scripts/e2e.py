"""`make e2e`: the production topology natively, end to end, without Docker.

PostgreSQL 15 and Redis from Debian's packages (installed where missing), Airflow with the
CeleryExecutor as separate processes (api-server, scheduler, dag-processor, triggerer, a Celery
worker), the Informat sandbox, a local S3 endpoint and an SMTP server, all on 127.0.0.1. It
triggers each DAG through Airflow's REST API, waits, and checks what the DAG did; while a PDF wait
is deferred it kills and restarts the scheduler and the triggerer; what waits for a person's
approval (a school's first file, a file over ``approval_rows``, an extraction's partition that
lost 40 % of its students) waits holding no worker slot and is approved or rejected through the
REST API (scripts/e2e_holds.py); in the middle of an approved push it kills the Celery worker and
checks every row reached Informat exactly once; a school's own S3
credential with the README's per-school policy reaches only its own folders (scripts/e2e_school.py,
an endpoint that enforces IAM policies); at the end it greps every
log of the run for each INSZ, token and secret (scripts/e2e_checks.py). It stops everything it
started and exits non-zero on any difference.
"""

from __future__ import annotations

import contextlib
import json
import os
import secrets
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "include"))

from e2e_checks import (  # noqa: E402
    grep_logs,
    heartbeats,
    secrets_of_the_run,
    worker_crash_mid_push,
)
from e2e_holds import (  # noqa: E402
    approve_first_file,
    extraction_holds,
    push_first_file_waits,
)

from informat_airflow.wiring import (  # noqa: E402
    DEFAULT_ARCHIVE_BUCKET,
    DEFAULT_DATA_BUCKET,
    EXTRACT_SETTINGS_VARIABLE,
    HEARTBEAT_CONN_ID,
    PDF_ARCHIVE_SETTINGS_VARIABLE,
    VOORINSCHRIJVINGEN_SETTINGS_VARIABLE,
)
from informat_devtools import local_connections  # noqa: E402
from informat_devtools.airflow_api import ENDED, AirflowApi  # noqa: E402
from informat_devtools.local_connections import HOST, StandIns  # noqa: E402
from informat_devtools.ports import free_port  # noqa: E402

PG_BIN = Path("/usr/lib/postgresql/15/bin")
# the sandbox makes each PDF in 25 s (so that a wait defers): polled often, given up on sooner
PDF_POLLING = {"poll_initial": 2, "poll_max": 4, "timeout": 600}
# a file over this many rows waits for approval: the worker crash's file of 60 rows does
APPROVAL_ROWS = 5


def settings() -> dict:
    """The local run's settings Variables, with what the e2e's checks need: a small
    ``approval_rows``, and a full read of every partition each day (a delta read cannot see
    the students removed for the extraction's held partition)."""
    out = local_connections.variables()
    out[EXTRACT_SETTINGS_VARIABLE] = {**out[EXTRACT_SETTINGS_VARIABLE], "snapshot_weekday": None}
    out[VOORINSCHRIJVINGEN_SETTINGS_VARIABLE] = {
        **out[VOORINSCHRIJVINGEN_SETTINGS_VARIABLE],
        "approval_rows": APPROVAL_ROWS,
        "alert_recipients": [local_connections.DATA_TEAM],
    }
    return out | {PDF_ARCHIVE_SETTINGS_VARIABLE: PDF_POLLING}


def ensure_packages() -> None:
    missing = [
        p
        for p, path in (
            ("postgresql-15", PG_BIN / "postgres"),
            ("redis-server", Path("/usr/bin/redis-server")),
        )
        if not path.exists()
    ]
    if missing:
        print(f"e2e: installing {', '.join(missing)} from Debian's packages", flush=True)
        env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
        subprocess.run(["apt-get", "update", "-q"], check=True, env=env, stdout=subprocess.DEVNULL)
        subprocess.run(
            ["apt-get", "install", "-y", "-q", "--no-install-recommends", *missing],
            check=True,
            env=env,
            stdout=subprocess.DEVNULL,
        )


class Stack:
    def __init__(self, work: Path) -> None:
        self.work = work
        self.procs: dict[str, subprocess.Popen] = {}
        self.stoppers: list = []
        self.pg_port, self.redis_port, self.api_port = free_port(), free_port(), free_port()
        self.failures: list[str] = []
        self.rest = AirflowApi(f"http://{HOST}:{self.api_port}")

    # ------------------------------------------------------------- services
    def start_postgres(self) -> None:
        data = self.work / "pg"
        data.mkdir()
        run_as = [] if os.geteuid() != 0 else ["runuser", "-u", "postgres", "--"]
        if run_as:
            shutil.chown(self.work, "postgres")
            shutil.chown(data, "postgres")
        subprocess.run(
            [*run_as, str(PG_BIN / "initdb"), "-D", str(data), "-A", "trust", "-U", "airflow"],
            check=True,
            stdout=subprocess.DEVNULL,
        )
        self.procs["postgres"] = subprocess.Popen(
            [*run_as, str(PG_BIN / "postgres"), "-D", str(data), "-p", str(self.pg_port),
             "-c", f"listen_addresses={HOST}", "-k", str(self.work)],
            stdout=open(self.work / "postgres.log", "w"), stderr=subprocess.STDOUT,  # noqa: SIM115
            start_new_session=True,
        )  # fmt: skip
        for _ in range(100):
            ok = subprocess.run(
                [str(PG_BIN / "pg_isready"), "-h", HOST, "-p", str(self.pg_port)],
                capture_output=True,
            )
            if ok.returncode == 0:
                break
            time.sleep(0.2)
        subprocess.run(
            [str(PG_BIN.parent / "bin" / "createdb"), "-h", HOST, "-p", str(self.pg_port), "-U",
             "airflow", "airflow"],
            check=True,
        )  # fmt: skip

    def start_redis(self) -> None:
        self.procs["redis"] = subprocess.Popen(
            ["redis-server", "--port", str(self.redis_port), "--bind", HOST, "--save", "",
             "--appendonly", "no"],
            stdout=open(self.work / "redis.log", "w"), stderr=subprocess.STDOUT,  # noqa: SIM115
            start_new_session=True,
        )  # fmt: skip

    def start_stand_ins(self) -> None:
        from informat_devtools.heartbeat_catcher import HeartbeatCatcher
        from informat_devtools.mailcatcher import MailCatcher
        from informat_devtools.s3 import LocalS3
        from informat_sandbox.app import SandboxState
        from informat_sandbox.server import SandboxServer

        self.secret = secrets.token_urlsafe(16)
        self.sandbox = SandboxServer(
            SandboxState(client_secret=self.secret, students=400, pdf_delay=25.0)
        ).start()
        self.s3 = LocalS3().start()
        self.mail = MailCatcher().start()
        self.heartbeat = HeartbeatCatcher().start()  # the dead man's switch monitor
        self.stoppers += [self.sandbox.stop, self.s3.stop, self.mail.stop, self.heartbeat.stop]

    # --------------------------------------------------------------- airflow
    def env(self) -> dict[str, str]:
        home = self.work / "airflow"
        home.mkdir(exist_ok=True)
        self.password = secrets.token_urlsafe(10)
        (home / "passwords.json").write_text(json.dumps({"admin": self.password}))
        self.dropzone = self.work / "dropzone"
        db = f"postgresql+psycopg2://airflow@{HOST}:{self.pg_port}/airflow"
        conns = local_connections.connections(
            StandIns(
                sandbox_url=self.sandbox.url,
                client_secret=self.secret,
                s3_extra=self.s3.connection_extra(),
                smtp_port=self.mail.port,
                dropzone=self.dropzone,
                pseudonymisation_key=secrets.token_urlsafe(48),
                preregistration_key=secrets.token_urlsafe(48),
            )
        )
        return {
            **os.environ,
            "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}",
            "AIRFLOW_HOME": str(home),
            "AIRFLOW__CORE__DAGS_FOLDER": str(ROOT / "dags"),
            "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
            "AIRFLOW__CORE__EXECUTOR": "CeleryExecutor",
            "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": db,
            "AIRFLOW__CELERY__BROKER_URL": f"redis://{HOST}:{self.redis_port}/0",
            "AIRFLOW__CELERY__RESULT_BACKEND": f"db+postgresql://airflow@{HOST}:{self.pg_port}/airflow",
            "AIRFLOW__CELERY__WORKER_CONCURRENCY": "4",
            "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_USERS": "admin:admin",
            "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_PASSWORDS_FILE": str(home / "passwords.json"),
            "AIRFLOW__API__HOST": HOST,
            "AIRFLOW__API__PORT": str(self.api_port),
            "AIRFLOW__API__BASE_URL": f"http://{HOST}:{self.api_port}",
            "AIRFLOW__CORE__EXECUTION_API_SERVER_URL": f"http://{HOST}:{self.api_port}/execution/",
            "AIRFLOW__API_AUTH__JWT_SECRET": secrets.token_urlsafe(32),
            "AIRFLOW__API__SECRET_KEY": secrets.token_urlsafe(32),
            "AIRFLOW__DAG_PROCESSOR__REFRESH_INTERVAL": "10",
            "AIRFLOW__SCHEDULER__TASK_INSTANCE_HEARTBEAT_TIMEOUT": "60",
            "INFORMAT_DROP_ZONE": "local",
            "INFORMAT_DATA_TEAM": local_connections.DATA_TEAM,
            **local_connections.environment(conns, settings()),
            f"AIRFLOW_CONN_{HEARTBEAT_CONN_ID.upper()}": json.dumps(
                {"conn_type": "http", "host": self.heartbeat.url}
            ),
            "PYTHONPATH": str(ROOT / "include"),
        }

    def airflow(self, env, *args: str) -> None:
        subprocess.run(
            [sys.executable, "-m", "airflow", *args], env=env, check=True,
            stdout=open(self.work / "cli.log", "a"), stderr=subprocess.STDOUT,  # noqa: SIM115
        )  # fmt: skip

    def start_component(self, env, name: str, *args: str) -> None:
        self.procs[name] = subprocess.Popen(
            [sys.executable, "-m", "airflow", *args],
            env=env,
            stdout=open(self.work / f"{name}.log", "a"),  # noqa: SIM115
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )

    def kill(self, name: str) -> None:
        """SIGKILL the component and every process below it: a task's supervisor may run in a
        session of its own, and a crash of the machine spares none of them."""
        import psutil

        proc = self.procs.pop(name)
        below = psutil.Process(proc.pid).children(recursive=True)
        os.killpg(proc.pid, signal.SIGKILL)
        for child in below:
            with contextlib.suppress(psutil.NoSuchProcess):
                child.kill()
        proc.wait()

    def stop(self) -> None:
        for name in list(self.procs)[::-1]:
            proc = self.procs.pop(name)
            if proc.poll() is None:
                try:
                    os.killpg(proc.pid, signal.SIGTERM)
                    proc.wait(timeout=20)
                except (subprocess.TimeoutExpired, ProcessLookupError):
                    with contextlib.suppress(ProcessLookupError):
                        os.killpg(proc.pid, signal.SIGKILL)
                    proc.wait()
        for stop in self.stoppers:
            stop()

    # ------------------------------------------------------------------ API
    def api(self, method: str, path: str, **kwargs):
        return self.rest.call(method, path, **kwargs)

    def login(self) -> None:
        self.rest.login(self.password, timeout=240)

    def wait_for_dags(self, dag_ids: list[str]) -> None:
        self.rest.wait_for_dags(dag_ids, timeout=240)

    def trigger(self, dag_id: str) -> str:
        """Unpause the DAG. A scheduled DAG then gets its latest scheduled run, which is the one
        to follow (a manual run would wait behind it: max_active_runs); an unscheduled DAG gets
        a manual run through the API."""
        return self.rest.scheduled_run_id(dag_id, within=15) or self.rest.trigger(dag_id)

    def state(self, dag_id: str, run_id: str) -> str:
        return self.rest.run(dag_id, run_id)["state"]

    def wait(self, dag_id: str, run_id: str, timeout: float = 600) -> str:
        state = self.rest.wait(dag_id, run_id, timeout)["state"]
        return state if state in ENDED else "timeout"

    def check(self, condition: bool, what: str) -> None:
        print(f"e2e: {'ok  ' if condition else 'FAIL'} {what}", flush=True)
        if not condition:
            self.failures.append(what)


def main() -> int:
    ensure_packages()
    work = Path(tempfile.mkdtemp(prefix="informat-e2e-"))
    os.chmod(work, 0o755)  # noqa: S103 - the postgres user must reach its data folder
    stack = Stack(work)
    started = time.monotonic()
    try:
        stack.start_postgres()
        stack.start_redis()
        stack.start_stand_ins()
        env = stack.env()
        from informat_pipelines.voorinschrijvingen.local_zone import LocalDropZone

        LocalDropZone(stack.dropzone)
        stack.airflow(env, "db", "migrate")
        for pool in local_connections.pool_commands():
            stack.airflow(env, *pool)
        for name, args in (
            ("api-server", ["api-server"]),
            ("scheduler", ["scheduler"]),
            ("dag-processor", ["dag-processor"]),
            ("triggerer", ["triggerer"]),
            ("worker", ["celery", "worker", "--concurrency", "4"]),
        ):
            stack.start_component(env, name, *args)
        stack.login()
        dags = [
            "informat_connection_check", "informat_toegangsgroep_rollover",
            "informat_inschrijvingen_push", "informat_daily_extract", "informat_pdf_archive",
        ]  # fmt: skip
        stack.wait_for_dags(dags)
        print(f"e2e: topology up in {time.monotonic() - started:.0f} s", flush=True)

        # the PDF archive first: its wait is the one to survive restarts
        pdf_run = stack.trigger("informat_pdf_archive")
        deadline = time.monotonic() + 300
        deferred = False
        while time.monotonic() < deadline and not deferred:
            tis = stack.api("GET", f"/dags/informat_pdf_archive/dagRuns/{pdf_run}/taskInstances")
            deferred = any(t["state"] == "deferred" for t in tis["task_instances"])
            time.sleep(1)
        stack.check(deferred, "PDF archive: a task deferred to the triggerer")
        stack.kill("scheduler")
        stack.kill("triggerer")
        time.sleep(3)
        stack.start_component(env, "scheduler", "scheduler")
        stack.start_component(env, "triggerer", "triggerer")

        check_run = stack.trigger("informat_connection_check")
        rollover_run = stack.trigger("informat_toegangsgroep_rollover")
        template = (ROOT / "templates" / "inschrijvingen_sjabloon.csv").read_bytes()
        drop = stack.dropzone / "inbox" / "990011" / "sjabloon.csv"  # the school's own folder
        drop.parent.mkdir(exist_ok=True)
        drop.write_bytes(template)
        os.utime(drop, (0, 0))
        push_run = stack.trigger("informat_inschrijvingen_push")
        extract_run = stack.trigger("informat_daily_extract")

        stack.check(stack.wait("informat_connection_check", check_run) == "success",
                    "connection check succeeded")  # fmt: skip
        stack.check(stack.wait("informat_toegangsgroep_rollover", rollover_run) == "success",
                    "rollover check succeeded")  # fmt: skip
        mails = stack.mail.wait_for(1, timeout=30)
        zuid = local_connections.toegangsgroepen()["SG-Zuid"]["admins"]
        stack.check(any("SG-Zuid" in m.subject and m.recipients == zuid for m in mails),
                    "rollover alert mailed to the SG-Zuid admins")  # fmt: skip
        # the school's first file waits for a yes; answered once the other DAGs are done, so
        # that the wait is seen holding no worker slot
        push_run = push_first_file_waits(stack, template)
        stack.check(stack.wait("informat_daily_extract", extract_run) == "success",
                    "daily extraction succeeded")  # fmt: skip
        clean = stack.s3.client().list_objects_v2(
            Bucket=DEFAULT_DATA_BUCKET, Prefix="clean/students/"
        )
        stack.check(len(clean.get("Contents", [])) >= 5, "students landed in clean/ (validated)")

        state = stack.wait("informat_pdf_archive", pdf_run, timeout=900)
        stack.check(state == "success", "PDF archive succeeded across scheduler/triggerer restarts")
        archive = stack.s3.client()
        manifests = [
            json.loads(
                archive.get_object(Bucket=DEFAULT_ARCHIVE_BUCKET, Key=o["Key"])["Body"].read()
            )
            for o in archive.list_objects_v2(Bucket=DEFAULT_ARCHIVE_BUCKET).get("Contents", [])
            if o["Key"].endswith("manifest.json")
        ]
        entries = sum(len(m["archived"]) for m in manifests)
        downloads = stack.sandbox.state.stats["pdf_downloads"]
        stack.check(entries > 0 and downloads == entries,
                    f"every PDF archived once ({entries} in manifests, {downloads} downloads)")  # fmt: skip
        approve_first_file(stack, push_run)
        pushed = stack.sandbox.state.group.instellingen["990011"].preregistrations
        stack.check(len(pushed) == 1, "CSV row pushed to Informat exactly once")
        stack.check(bool(list((stack.dropzone / "outbox" / "990011").glob("*.rapport.csv"))),
                    "CSV answered with a per-row report")  # fmt: skip
        # a school's own credential reaches only its own folders (the README's policy), against
        # an endpoint of its own in a process of its own (moto keeps its buckets per process)
        school = subprocess.run(
            [sys.executable, str(ROOT / "scripts" / "e2e_school.py")],
            capture_output=True, text=True, timeout=300,
        )  # fmt: skip
        for line in school.stdout.splitlines():
            stack.check(line.startswith("ok "), line.split(" ", 1)[1].strip())
        stack.check(
            school.returncode == 0 and "ok " in school.stdout, "school credential check ran"
        )
        extraction_holds(stack, extract_run)
        # last: the worker is killed while it runs the push alone (no other task dies with it)
        numbers = worker_crash_mid_push(stack, env)
        heartbeats(stack, [d for d in dags if d != "informat_connection_check"])
        # every DAG was unpaused for the first time, its run made after its logical date: none
        # is late, so no deadline notice (they are counted from when a run was queued)
        late = [m.subject for m in stack.mail.messages if "deadline" in m.subject]
        stack.check(not late, f"no deadline notice after the first unpause {late or ''}")
        grep_logs(stack, secrets_of_the_run(stack, env, numbers))
    except Exception as exc:
        stack.failures.append(f"{type(exc).__name__}: {exc}")
        print(f"e2e: FAIL {type(exc).__name__}: {exc} (logs in {work})", flush=True)
    finally:
        stack.stop()
    print(f"e2e: {len(stack.failures)} difference(s) in {time.monotonic() - started:.0f} s",
          flush=True)  # fmt: skip
    if not stack.failures:
        shutil.rmtree(work, ignore_errors=True)
    return 1 if stack.failures else 0


if __name__ == "__main__":
    sys.exit(main())
