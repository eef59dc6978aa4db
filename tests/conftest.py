"""Shared fixtures: the sandbox on 127.0.0.1 (real HTTP), clients against it, and an isolated
Airflow home on SQLite for DAG tests."""

from __future__ import annotations

import os
import secrets
import sys
import tempfile
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
_AIRFLOW_HOME = Path(tempfile.mkdtemp(prefix="informat-airflow-test-"))
# Before anything imports airflow: an isolated home, SQLite, no examples, this project's DAGs.
os.environ.update(
    {
        "AIRFLOW_HOME": str(_AIRFLOW_HOME),
        "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": f"sqlite:///{_AIRFLOW_HOME / 'airflow.db'}",
        "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
        "AIRFLOW__CORE__DAGS_FOLDER": str(ROOT / "dags"),
        "AIRFLOW__CORE__PLUGINS_FOLDER": str(ROOT / "plugins"),
        "AIRFLOW__CORE__UNIT_TEST_MODE": "False",
    }
)
sys.path.insert(0, str(ROOT / "include"))

import pytest  # noqa: E402

from informat_client import InformatClient, InformatConfig, ToegangsgroepConfig  # noqa: E402
from informat_devtools.s3 import LocalS3  # noqa: E402
from informat_sandbox.app import SandboxState  # noqa: E402
from informat_sandbox.data import DEFAULT_STUDENTS, INSTELLINGEN, scope_of  # noqa: E402
from informat_sandbox.server import SandboxServer  # noqa: E402

CLIENT_ID = "sandbox-client"
INSTELLINGSNUMMERS = tuple(n for n, _, _ in INSTELLINGEN)
TOEGANGSGROEPEN = {
    # SG-Noord with the literal Rekeningen scope Informat hands out; the others on the fallback
    "SG-Noord": ToegangsgroepConfig(
        "SG-Noord", "990011", ("noord@example.org",), True, scope_of("SG-Noord")
    ),
    "SG-Zuid": ToegangsgroepConfig("SG-Zuid", "990013", ("zuid@example.org",), True),
    "Internaat-De-Linde": ToegangsgroepConfig("Internaat-De-Linde", "990015", (), False),
}


@pytest.fixture(scope="session")
def client_secret() -> str:
    return secrets.token_urlsafe(24)


@pytest.fixture(scope="session")
def sandbox(client_secret):
    state = SandboxState(client_secret=client_secret, pdf_delay=0.2)
    with SandboxServer(state) as server:
        yield server


@pytest.fixture(autouse=True)
def _fresh_sandbox(request):
    """Every test that uses the sandbox starts from the seeded data, with no faults."""
    yield
    if "sandbox" in request.fixturenames:
        server = request.getfixturevalue("sandbox")
        server.state.reset(
            token_lifetime=3600.0, pdf_delay=0.2, today=None, students=DEFAULT_STUDENTS
        )


class RecordingSleep:
    """Stands in for time.sleep in clients under test: records the waits, waits not."""

    def __init__(self) -> None:
        self.calls: list[float] = []

    def __call__(self, seconds: float) -> None:
        self.calls.append(seconds)


@pytest.fixture
def sleeps() -> RecordingSleep:
    return RecordingSleep()


@pytest.fixture
def config(sandbox, client_secret) -> InformatConfig:
    return InformatConfig.for_host(
        sandbox.url,
        client_id=CLIENT_ID,
        client_secret=client_secret,
        instellingsnummers=INSTELLINGSNUMMERS,
        toegangsgroepen=TOEGANGSGROEPEN,
        read_timeout=10,
    )


@pytest.fixture
def client(config, sleeps):
    with InformatClient(config, sleep=sleeps) as c:
        yield c


@pytest.fixture
def make_client(config, sleeps):
    made = []

    def make(sleep=sleeps, **overrides) -> InformatClient:
        c = InformatClient(config.with_overrides(**overrides), sleep=sleep)
        made.append(c)
        return c

    yield make
    for c in made:
        c.close()


@pytest.fixture(scope="module")
def s3():
    """A real S3 HTTP endpoint (moto's server) on 127.0.0.1."""
    with LocalS3() as endpoint:
        yield endpoint


@pytest.fixture
def bucket(s3):
    name = f"archive-{uuid.uuid4().hex[:10]}"
    s3.client().create_bucket(
        Bucket=name,
        CreateBucketConfiguration={"LocationConstraint": "eu-west-1"},
        ObjectLockEnabledForBucket=True,
    )
    return name


@pytest.fixture
def small_sandbox(sandbox):
    sandbox.reset(students=120, today="2026-11-28", pdf_delay=0.2)
    return sandbox


@pytest.fixture(scope="module")
def webhook():
    """A Slack/Teams-like incoming webhook on 127.0.0.1: (port, the JSON bodies it received)."""
    import json
    import threading
    from http.server import BaseHTTPRequestHandler, HTTPServer

    received: list[dict] = []

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self):
            length = int(self.headers.get("Content-Length", 0))
            received.append(json.loads(self.rfile.read(length)))
            self.send_response(200)
            self.end_headers()

        def log_message(self, *args):
            pass

    server = HTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server.server_address[1], received
    server.shutdown()


# Modules whose tests run whole DAGs, Airflow's CLI or API server, a Great Expectations process
# or a triggerer's wait, or a real browser: `make test` runs them, `make check` (the quick loop)
# leaves them out.
SLOW_MODULES = frozenset(
    {
        "tests/dags/test_connection_check.py",
        "tests/dags/test_dags_test_cli.py",
        "tests/dags/test_daily_extract.py",
        "tests/dags/test_inschrijvingen_push.py",
        "tests/dags/test_pdf_archive.py",
        "tests/dags/test_rollover.py",
        "tests/dags/test_roster_export.py",
        "tests/airflow/test_triggers.py",
        "tests/deploy/test_informat_page.py",
        "tests/deploy/test_run_command.py",
        "tests/pipelines/test_validation_process.py",
        "tests/ui/test_access.py",
        "tests/ui/test_headers.py",
    }
)


def pytest_collection_modifyitems(items):
    for item in items:
        if item.path.relative_to(ROOT).as_posix() in SLOW_MODULES:
            item.add_marker(pytest.mark.slow)
