"""The production topology: docker-compose.yaml against the Compose specification's JSON schema
(Docker does not run on these machines, so the file is validated, not started), and the
properties production asks of it."""

from __future__ import annotations

import importlib.util
import json
import os
import re
import socket
import subprocess
import tempfile
import time
from pathlib import Path

import jsonschema
import pytest
import yaml

from ..support.airflow import ROOT


@pytest.fixture(scope="module")
def schema() -> dict:
    spec = importlib.util.find_spec("compose")
    assert spec is not None, "make test installs docker-compose==1.29.2 for its schema file"
    folder = Path(next(iter(spec.submodule_search_locations)))
    return json.loads((folder / "config" / "compose_spec.json").read_text())


@pytest.fixture(scope="module")
def compose() -> dict:
    return yaml.safe_load((ROOT / "docker-compose.yaml").read_text())


def test_compose_file_is_valid_against_the_compose_specification(schema, compose):
    errors = list(jsonschema.Draft7Validator(schema).iter_errors(compose))
    assert errors == [], [e.message for e in errors]


def test_the_schema_check_catches_a_mistake(schema, compose):
    broken = json.loads(json.dumps(compose))
    broken["services"]["airflow-worker"]["restart_policy"] = "always"  # not a service key
    assert list(jsonschema.Draft7Validator(schema).iter_errors(broken))


def test_topology_has_every_component_with_a_health_check(compose):
    services = compose["services"]
    for name in (
        "postgres", "redis", "airflow-apiserver", "airflow-scheduler", "airflow-dag-processor",
        "airflow-triggerer", "airflow-worker", "airflow-init", "minio", "minio-buckets",
        "mailpit", "informat-sandbox",
    ):  # fmt: skip
        assert name in services, name
        assert "healthcheck" in services[name], f"{name} has no health check"
    assert services["airflow-worker"]["command"] == "celery worker"
    assert services["airflow-scheduler"]["environment"]["AIRFLOW__CORE__EXECUTOR"] == (
        "CeleryExecutor"
    )
    assert services["informat-sandbox"]["profiles"] == ["sandbox"]  # production leaves it out
    assert services["mailpit"]["profiles"] == ["dev"]  # no mail catcher in production
    assert "retention set --default GOVERNANCE" in services["minio-buckets"]["command"][1]
    assert "--with-lock local/informat-archive" in services["minio-buckets"]["command"][1]
    buckets = services["minio-buckets"]["command"][1]
    assert "mc mb --ignore-existing local/informat-raw" in buckets
    assert "mc mb --ignore-existing local/informat-dropzone" in buckets
    for name in AIRFLOW_SERVICES:
        environment = services[name]["environment"]
        assert environment["INFORMAT_RAW_BUCKET"] == "informat-raw"
        assert environment["INFORMAT_DROP_ZONE_BUCKET"] == "informat-dropzone"  # CSVs apart too
    for service in services.values():
        for port in service.get("ports", []):
            assert str(port).startswith("127.0.0.1:"), port


# --- who holds which secret ---------------------------------------------------------------------

AIRFLOW_SERVICES = (
    "airflow-apiserver", "airflow-scheduler", "airflow-dag-processor", "airflow-triggerer",
    "airflow-worker", "airflow-init",
)  # fmt: skip
# the variables of .env.example that are not secrets; every other one is (a new one by default)
NOT_SECRET = {"AIRFLOW_UID", "AIRFLOW_ADMIN_USER", "AIRFLOW_ADMIN_EMAIL", "INFORMAT_DATA_TEAM"}
# volumes whose content a container could read secrets or all data from
SECRET_VOLUMES = {"postgres-db", "minio-data", "airflow-auth"}
DB = {"AIRFLOW_DB_PASSWORD", "AIRFLOW_FERNET_KEY"}
TASK_CONNECTIONS = {
    "AIRFLOW_CONN_INFORMAT_DEFAULT", "AIRFLOW_CONN_SMTP_DEFAULT",
    "AIRFLOW_CONN_INFORMAT_ALERTS_WEBHOOK",
}  # fmt: skip
# what each service may read, and why: README.md, "Production"
READS = {
    "check-secrets": {
        "AIRFLOW_SECRET_KEY", "AIRFLOW_API_SECRET_KEY", "AIRFLOW_FERNET_KEY",
        "AIRFLOW_ADMIN_PASSWORD", "POSTGRES_PASSWORD", "AIRFLOW_DB_PASSWORD",
        "MINIO_ROOT_PASSWORD", "MINIO_APP_PASSWORD", "MINIO_RAW_PASSWORD",
        "MINIO_READER_PASSWORD", "INFORMAT_PSEUDONYMISATION_KEY", "INFORMAT_PREREGISTRATION_KEY",
    },
    "postgres": {"POSTGRES_PASSWORD", "AIRFLOW_DB_PASSWORD", "volume:postgres-db"},
    "redis": set(),
    "airflow-apiserver": DB | {
        "AIRFLOW_SECRET_KEY", "AIRFLOW_API_SECRET_KEY", "MINIO_READER_PASSWORD",
    },
    "airflow-scheduler": DB | {"AIRFLOW_SECRET_KEY"},
    "airflow-dag-processor": DB,
    "airflow-triggerer": DB | TASK_CONNECTIONS | {
        "AIRFLOW_API_SECRET_KEY", "MINIO_READER_PASSWORD",
    },
    "airflow-worker": TASK_CONNECTIONS | {
        "AIRFLOW_API_SECRET_KEY", "MINIO_APP_PASSWORD", "MINIO_RAW_PASSWORD",
        "INFORMAT_PSEUDONYMISATION_KEY", "INFORMAT_PREREGISTRATION_KEY",
    },
    "airflow-init": DB | {"AIRFLOW_ADMIN_PASSWORD"},
    "minio": {"MINIO_ROOT_USER", "MINIO_ROOT_PASSWORD", "volume:minio-data"},
    "minio-buckets": {
        "MINIO_ROOT_USER", "MINIO_ROOT_PASSWORD", "MINIO_APP_PASSWORD", "MINIO_RAW_PASSWORD",
        "MINIO_READER_PASSWORD",
    },
    "mailpit": set(),
    "informat-sandbox": {"INFORMAT_SANDBOX_CLIENT_SECRET"},
}  # fmt: skip


def env_example_names() -> set[str]:
    """Every variable .env.example sets or shows (commented out, when optional)."""
    text = (ROOT / ".env.example").read_text()
    return set(re.findall(r"^#? ?([A-Z][A-Z0-9_]*)=", text, flags=re.MULTILINE))


def secret_variables() -> set[str]:
    return env_example_names() - NOT_SECRET


def interpolated(value) -> set[str]:
    """The variables compose fills into ``value`` (``$${…}`` is the shell's, inside a command)."""
    return set(re.findall(r"(?<!\$)\$\{([A-Z][A-Z0-9_]*)", json.dumps(value)))


def readable_secrets(service: dict) -> set[str]:
    """What a container of ``service`` can read: the secrets compose fills in anywhere in its
    definition, every secret of .env when it has an env_file, the volumes that hold secrets or
    all data, and .env itself when it is mounted."""
    found = interpolated(service) & secret_variables()
    if "env_file" in service:
        found |= secret_variables()
    for volume in service.get("volumes", []):
        source = str(volume).split(":")[0]
        if source in SECRET_VOLUMES:
            found.add(f"volume:{source}")
        if source.rstrip("/").endswith(".env") or source in {".", "./"}:
            found.add(f"file:{source}")
    return found


def test_each_service_reads_only_the_secrets_it_needs(compose):
    readable = {name: readable_secrets(s) for name, s in compose["services"].items()}
    wrong = {
        name: {"more": sorted(have - READS.get(name, set())),
               "less": sorted(READS.get(name, set()) - have)}
        for name, have in readable.items()
        if have != READS.get(name)
    }  # fmt: skip
    assert not wrong, wrong


def test_the_secret_listing_sees_an_env_file_a_mounted_env_and_a_secret_volume(compose):
    """The test above would pass on nothing if the listing missed a way in."""
    worker = json.loads(json.dumps(compose["services"]["airflow-worker"]))
    assert "MINIO_ROOT_PASSWORD" not in readable_secrets(worker)
    assert "MINIO_ROOT_PASSWORD" in readable_secrets(worker | {"env_file": [".env"]})
    mounted = worker | {"volumes": [*worker["volumes"], "./.env:/opt/airflow/.env:ro"]}
    assert "file:./.env" in readable_secrets(mounted)
    auth = worker | {"volumes": [*worker["volumes"], "airflow-auth:/opt/airflow/auth"]}
    assert "volume:airflow-auth" in readable_secrets(auth)
    assert "POSTGRES_PASSWORD" in readable_secrets(
        worker | {"command": "psql postgres://postgres:${POSTGRES_PASSWORD}@postgres"}
    )


def test_no_airflow_container_holds_minio_root_the_superuser_or_another_users_password(compose):
    """N4: the MinIO root could lift the archive's lock and read the raw answers; PostgreSQL's
    superuser password reaches the metadata database past the Execution API."""
    services = compose["services"]
    for name in AIRFLOW_SERVICES:
        readable = readable_secrets(services[name])
        assert not {s for s in readable if s.startswith("MINIO_ROOT")}, name
        assert "POSTGRES_PASSWORD" not in readable, name
        assert not {s for s in readable if s.startswith("volume:")}, name
        if name != "airflow-init":
            assert "AIRFLOW_ADMIN_PASSWORD" not in readable, name
        assert "env_file" not in services[name], name
    worker = readable_secrets(services["airflow-worker"])
    # tasks reach the metadata only through the Execution API, and cannot sign its tokens
    assert not worker & {"AIRFLOW_DB_PASSWORD", "AIRFLOW_SECRET_KEY", "AIRFLOW_FERNET_KEY"}
    assert "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN" not in services["airflow-worker"]["environment"]
    assert services["airflow-worker"]["environment"]["AIRFLOW__CELERY__RESULT_BACKEND"].startswith(
        "redis://"
    )
    # MinIO's root only where the buckets and users are made (and checked)
    holders = {n for n, s in services.items() if "MINIO_ROOT_PASSWORD" in readable_secrets(s)}
    assert holders == {"minio", "minio-buckets", "check-secrets"}
    assert "airflow-auth" not in compose.get("volumes", {})  # no password file on any volume


def test_the_api_server_holds_no_connection_stronger_than_the_workers(compose):
    """The Execution API serves the API server's own connections to any task that asks: it
    holds only the read-only MinIO user the Informat page reads with."""
    environment = compose["services"]["airflow-apiserver"]["environment"]
    connections = {k for k in environment if k.startswith("AIRFLOW_CONN_")}
    assert connections == {"AIRFLOW_CONN_INFORMAT_S3"}
    page = json.loads(fill(environment["AIRFLOW_CONN_INFORMAT_S3"]))
    assert page["login"] == "informat-reader"
    triggerer = compose["services"]["airflow-triggerer"]["environment"]
    assert json.loads(fill(triggerer["AIRFLOW_CONN_INFORMAT_S3"]))["login"] == "informat-reader"
    worker = compose["services"]["airflow-worker"]["environment"]
    assert json.loads(fill(worker["AIRFLOW_CONN_INFORMAT_S3"]))["login"] == "informat-app"
    assert json.loads(fill(worker["AIRFLOW_CONN_INFORMAT_S3_RAW"]))["login"] == "informat-raw"


def fill(value: str) -> str:
    """``value`` as compose fills it in, with a URL-safe stand-in for each variable."""
    return re.sub(r"(?<!\$)\$\{([A-Z][A-Z0-9_]*)[^}]*\}", lambda m: f"x-{m[1].lower()}", value)


def test_the_connections_compose_builds_are_valid_json_with_their_password(compose):
    for name, service in compose["services"].items():
        for key, value in (service.get("environment") or {}).items():
            if key.startswith("AIRFLOW_CONN_") and str(value).startswith("{"):
                connection = json.loads(fill(value))
                assert connection["password"].startswith("x-"), (name, key)


def test_every_variable_compose_reads_is_documented_in_env_example(compose):
    used = interpolated(compose) - {"HOSTNAME"}
    assert used <= env_example_names(), sorted(used - env_example_names())


def test_placeholders_are_refused_before_anything_starts(compose):
    """N5: check-secrets (informat_airflow.check_secrets) holds every checked secret, runs on no
    network, and every service that holds a secret waits for it to succeed; so PostgreSQL and
    MinIO never initialise their volumes with a placeholder."""
    from informat_airflow.check_secrets import RULES, problems

    services = compose["services"]
    check = services["check-secrets"]
    assert check["entrypoint"] == ["python", "-m", "informat_airflow.check_secrets"]
    assert check["network_mode"] == "none" and "ports" not in check
    assert set(check["environment"]) == {rule.name for rule in RULES}
    for name, service in services.items():
        if name in {"check-secrets", "informat-sandbox", "minio-buckets"} or not (
            readable_secrets(service)
        ):
            continue
        waits = service.get("depends_on", {}).get("check-secrets", {})
        assert waits.get("condition") == "service_completed_successfully", name
    assert "minio" in services["minio-buckets"]["depends_on"]  # which waits for the check
    # the values .env.example ships are every one refused
    example = dict(
        re.findall(r"^([A-Z][A-Z0-9_]*)=(.*)$", (ROOT / ".env.example").read_text(), re.M)
    )
    assert len(problems(example)) == len(RULES)


def test_image_and_auth_manager(compose):
    """An auth manager fit for production (FAB) in compose, the simple auth
    manager only in `make run`; FAB in the image, not in what `make test` installs."""
    dockerfile = (ROOT / "Dockerfile").read_text()
    assert dockerfile.startswith("#") and "FROM apache/airflow:3.3.2-python3.11" in dockerfile
    assert "-r /opt/informat/requirements.txt" in dockerfile
    assert "-r /opt/informat/requirements-prod.txt" in dockerfile
    prod = (ROOT / "requirements-prod.txt").read_text()
    assert re.search(r"^apache-airflow-providers-fab==\d", prod, re.M)
    for name in ("requirements.txt", "requirements-local.txt", "requirements-dev.txt",
                 "requirements-e2e.txt"):  # fmt: skip
        assert "providers-fab" not in (ROOT / name).read_text(), name
    fab = "airflow.providers.fab.auth_manager.fab_auth_manager.FabAuthManager"
    for name in AIRFLOW_SERVICES:
        assert compose["services"][name]["environment"]["AIRFLOW__CORE__AUTH_MANAGER"] == fab
    assert "SIMPLE_AUTH_MANAGER" not in (ROOT / "docker-compose.yaml").read_text()
    # make run leaves Airflow's default, the simple auth manager
    run_local = (ROOT / "scripts" / "run_local.py").read_text()
    assert "AIRFLOW__CORE__AUTH_MANAGER" not in run_local
    from airflow.configuration import conf

    assert conf.get_default_value("core", "auth_manager").endswith(".SimpleAuthManager")
    init = compose["services"]["airflow-init"]["command"][1]
    assert "python -m informat_airflow.create_admin" in init
    assert "AIRFLOW_ADMIN_PASSWORD" not in init  # from the environment, never on a command line
    assert ".env" in (ROOT / ".gitignore").read_text().split()
    assert (ROOT / ".env.example").exists() and not (ROOT / ".env").exists()


def test_secrets_are_required(compose):
    text = (ROOT / "docker-compose.yaml").read_text()
    optional = {"AIRFLOW_CONN_INFORMAT_ALERTS_WEBHOOK", "INFORMAT_SANDBOX_CLIENT_SECRET"}
    for name in secret_variables() - optional:
        # compose's own interpolations (a $${…} is the shell's, inside a command)
        uses = re.findall(r"(?<!\$)\$\{" + name + r"([^}]*)\}", text)
        assert uses and all(u.startswith(":?") for u in uses), name


# --- the MinIO users ----------------------------------------------------------------------------


def run_bucket_script(compose, tmp_path) -> Path:
    """minio-buckets' script, run by /bin/sh as compose would hand it over, with an `mc` that
    keeps the policies it is given."""
    script = compose["services"]["minio-buckets"]["command"][1].replace("$$", "$")
    policies = tmp_path / "policies"
    policies.mkdir()
    fake = tmp_path / "bin" / "mc"
    fake.parent.mkdir()
    fake.write_text(
        "#!/bin/sh\n"
        f'echo "$*" >> "{tmp_path}/calls"\n'
        f'if [ "$1 $2 $3" = "admin policy create" ]; then cp "$6" "{policies}/$5.json"; fi\n'
    )
    fake.chmod(0o755)
    environment = {
        "PATH": f"{fake.parent}:/usr/bin:/bin", "MINIO_ROOT_USER": "root",
        "MINIO_ROOT_PASSWORD": "r", "MINIO_APP_PASSWORD": "a", "MINIO_RAW_PASSWORD": "w",
        "MINIO_READER_PASSWORD": "d",
    }  # fmt: skip
    subprocess.run(["/bin/sh", "-c", script], env=environment, check=True, timeout=30)
    return policies


def granted(policy: dict) -> dict[str, set[str]]:
    """Bucket -> the actions the policy allows on it."""
    buckets: dict[str, set[str]] = {}
    for statement in policy["Statement"]:
        assert statement["Effect"] == "Allow"
        for resource in statement["Resource"]:
            bucket = resource.removeprefix("arn:aws:s3:::").split("/")[0]
            buckets.setdefault(bucket, set()).update(statement["Action"])
    return buckets


def test_airflow_reaches_minio_as_three_users_none_of_which_can_lift_the_lock(compose, tmp_path):
    policies = run_bucket_script(compose, tmp_path)
    app = granted(json.loads((policies / "informat-app.json").read_text()))
    raw = granted(json.loads((policies / "informat-raw.json").read_text()))
    reader = granted(json.loads((policies / "informat-reader.json").read_text()))
    assert set(app) == {"informat-data", "informat-archive", "informat-dropzone"}
    assert set(raw) == {"informat-raw"}  # old 6: the raw answers apart
    assert set(reader) == {"informat-data", "informat-dropzone"}
    for actions in reader.values():
        assert actions == {"s3:GetObject", "s3:ListBucket", "s3:GetBucketLocation"}
    assert "s3:PutObject" in app["informat-archive"]
    for policy in (app, raw, reader):  # old 28: only root can lift the archive's lock
        for actions in policy.values():
            assert not {a for a in actions if "Bypass" in a or a in {"s3:*", "*"}}
            assert "s3:PutBucketObjectLockConfiguration" not in actions
    calls = (tmp_path / "calls").read_text()
    for user in ("informat-app", "informat-raw", "informat-reader"):
        assert f"admin policy attach local {user} --user {user}" in calls


# --- Airflow's own PostgreSQL role ------------------------------------------------------------


def test_postgres_gives_airflow_a_role_of_its_own_without_superuser():
    """deploy/postgres/ as the postgres image runs it on a new volume (as $POSTGRES_USER, over
    the local socket): Airflow's role owns its database, can make its tables, and is no
    superuser; its password, with characters that would break a naive SQL string, works."""
    import shutil

    bin_dir = Path("/usr/lib/postgresql/15/bin")
    if not (bin_dir / "initdb").exists() or shutil.which("psql") is None:
        pytest.skip("PostgreSQL 15 is not installed (make e2e installs it)")
    psycopg2 = pytest.importorskip("psycopg2")
    as_postgres = ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []
    # not under pytest's tmp_path: its parents are private to root, and initdb runs as postgres
    work = Path(tempfile.mkdtemp(prefix="informat-pg-role-"))
    work.chmod(0o777)  # the postgres user writes its cluster here
    data, sockets = work / "data", work / "sockets"
    sockets.mkdir(mode=0o777)
    sockets.chmod(0o777)
    subprocess.run(
        [*as_postgres, str(bin_dir / "initdb"), "-D", str(data), "-U", "postgres",
         "--auth-local=trust", "--auth-host=scram-sha-256", "--no-sync"],
        check=True, capture_output=True, timeout=120,
    )  # fmt: skip
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    server = subprocess.Popen(
        [*as_postgres, str(bin_dir / "postgres"), "-D", str(data), "-p", str(port),
         "-k", str(sockets), "-c", "listen_addresses=127.0.0.1", "-c", "fsync=off"],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    try:
        for _ in range(100):
            ready = subprocess.run(
                ["pg_isready", "-h", str(sockets), "-p", str(port)], capture_output=True
            )
            if ready.returncode == 0:
                break
            time.sleep(0.1)
        password = 'it\'s a "pass" word; DROP ROLE x; --'
        environment = os.environ | {
            "POSTGRES_USER": "postgres", "AIRFLOW_DB_PASSWORD": password,
            "PGHOST": str(sockets), "PGPORT": str(port),
        }  # fmt: skip
        script = ROOT / "deploy" / "postgres" / "10-airflow-role.sh"
        made = subprocess.run(
            [str(script)], env=environment, capture_output=True, text=True, timeout=60
        )
        assert made.returncode == 0, made.stderr
        assert password not in made.stdout + made.stderr
        connection = psycopg2.connect(
            host="127.0.0.1", port=port, user="airflow", password=password, dbname="airflow"
        )
        with connection, connection.cursor() as cursor:
            cursor.execute("CREATE TABLE public.migrated (id int)")  # what airflow db migrate does
            cursor.execute("SELECT rolsuper, rolcreaterole, rolcreatedb FROM pg_roles "
                           "WHERE rolname = current_user")  # fmt: skip
            assert cursor.fetchone() == (False, False, False)
        connection.close()
        with pytest.raises(psycopg2.OperationalError):
            psycopg2.connect(
                host="127.0.0.1", port=port, user="airflow", password="wrong", dbname="airflow"
            )
    finally:
        server.terminate()
        server.wait(timeout=30)
        shutil.rmtree(work, ignore_errors=True)


def test_postgres_mounts_the_role_script_for_a_new_volume(compose):
    postgres = compose["services"]["postgres"]
    assert "./deploy/postgres:/docker-entrypoint-initdb.d:ro" in postgres["volumes"]
    assert postgres["environment"]["POSTGRES_USER"] == "postgres"  # the superuser is not airflow
    script = ROOT / "deploy" / "postgres" / "10-airflow-role.sh"
    assert os.access(script, os.X_OK)
    for name in AIRFLOW_SERVICES:
        url = compose["services"][name]["environment"].get("AIRFLOW__DATABASE__SQL_ALCHEMY_CONN")
        assert url is None or url.startswith(
            "postgresql+psycopg2://airflow:${AIRFLOW_DB_PASSWORD:?"
        )
