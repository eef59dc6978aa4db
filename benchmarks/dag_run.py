"""What the user waits for: a whole `informat_daily_extract` run through Airflow (`make run`,
LocalExecutor), in batches (the DAG's default) against one task per partition (how the DAG
worked before), each on a fresh embedded default with the same sandbox, measured in the same
bench run; and as the floor, the same partitions extracted one after the other in one process
without Airflow (the work itself). And a school group of 20 instellingen against a rate-limited
sandbox, against the time the rate limit alone allows (``school_group_run``)."""

from __future__ import annotations

import json
import os
import secrets
import sys
import tempfile
import time
from datetime import date, datetime
from pathlib import Path

from .report import line

ROOT = Path(__file__).resolve().parent.parent
QUICK = os.environ.get("BENCH_QUICK") == "1"


def _seconds(run: dict) -> float:
    start = datetime.fromisoformat(run["start_date"])
    end = datetime.fromisoformat(run["end_date"])
    return (end - start).total_seconds()


Measured = tuple[float, str, int, dict[str, int]]


def _through_airflow(
    students: int,
    env: dict[str, str],
    rate_limit: float | None = None,
    again: bool = False,
    warm: bool = False,
) -> list[Measured]:
    """The day's first run: its seconds, state and task instances, and what the sandbox saw
    during it (its requests and 429 answers); ``rate_limit``: the sandbox answers 429 above this
    many requests per second. ``warm``: on an Airflow that ran a DAG before (the connection
    check): the API server answers the first task start of its life in about 6 s, a cost paid
    once after Airflow starts, not every morning. ``again``: then a second run of the day that
    reads everything again (param ``refresh``)."""
    import requests

    from informat_devtools.embedded import EmbeddedDefault

    dag = "informat_daily_extract"
    with (
        tempfile.TemporaryDirectory() as folder,
        EmbeddedDefault(Path(folder), {"INFORMAT_SANDBOX_STUDENTS": str(students), **env}) as stack,
    ):
        sandbox = stack.sandbox
        if warm:
            check = "informat_connection_check"
            assert stack.wait(check, stack.trigger(check))["state"] == "success"
        if rate_limit:
            faults = {"rate_limit_rps": rate_limit}
            requests.put(f"{sandbox}/_sandbox/faults", json=faults, timeout=10).raise_for_status()

        def measured(start_run) -> Measured:
            before = requests.get(f"{sandbox}/_sandbox/stats", timeout=10).json()
            run = start_run()
            after = requests.get(f"{sandbox}/_sandbox/stats", timeout=10).json()
            path = f"/dags/{dag}/dagRuns/{run['dag_run_id']}/taskInstances"
            instances = stack.call("GET", path)["task_instances"]
            if os.environ.get("BENCH_TIMELINE") == "1":
                _timeline(run, instances)
            seen = {k: v - before.get(k, 0) for k, v in after.items()}
            return _seconds(run), run["state"], len(instances), seen

        # the run the schedule makes when the DAG is unpaused: the day's first (a run triggered
        # beside it would wait for it, then find its partitions clean and skip them)
        runs = [measured(lambda: stack.scheduled_run(dag))]
        if again:
            runs.append(measured(lambda: stack.wait(dag, stack.trigger(dag, {"refresh": True}))))
        return runs


def _timeline(run: dict, instances: list[dict]) -> None:
    """Where the run's time went (BENCH_TIMELINE=1): each task's start and end, in seconds
    from the run's start."""
    start = datetime.fromisoformat(run["start_date"])
    for ti in sorted(instances, key=lambda t: t["start_date"] or ""):
        if not ti["start_date"]:
            continue
        begin = (datetime.fromisoformat(ti["start_date"]) - start).total_seconds()
        end = (datetime.fromisoformat(ti["end_date"]) - start).total_seconds()
        name = ti["task_id"] + (f"[{ti['map_index']}]" if ti["map_index"] >= 0 else "")
        print(f"    {name:<24} {begin:6.1f} -> {end:6.1f} s  ({end - begin:5.1f} s)")


def _in_one_process(students: int) -> tuple[float, int]:
    """The same partitions in this process with the DAG's concurrency (the pool's 4 slots: 4
    partitions at once): no Airflow, no task start-up, Great Expectations imported once."""
    sys.path.insert(0, str(ROOT / "scripts"))
    from run_local import connections

    from informat_client import InformatClient, InformatConfig
    from informat_client.schooljaar import schooljaar_for
    from informat_devtools.s3 import LocalS3
    from informat_pipelines.extract.batch import extract_batch, extractor, plan
    from informat_pipelines.extract.settings import ExtractSettings
    from informat_pipelines.extract.shapes import RunContext
    from informat_sandbox.app import SandboxState
    from informat_sandbox.server import SandboxServer

    secret = secrets.token_urlsafe(16)
    sandbox = SandboxServer(SandboxState(client_secret=secret, students=students)).start()
    s3 = LocalS3().start(buckets=("informat-data",))
    try:
        conn = connections(sandbox.url, s3, 0, secret, "k" * 40, "p" * 40)["informat_default"]
        config = InformatConfig.from_connection_fields(
            host=conn["host"], login=conn["login"], password=secret,
            extra=json.loads(conn["extra"]),
        )  # fmt: skip
        day = date.today()
        year = schooljaar_for(day)
        settings = ExtractSettings(empty_instellingen=("990016",))
        # the partitions the DAG's tasks plan
        units = plan(config.instellingsnummers, config.toegangsgroepen, year, day)
        run = RunContext(s3.client(), "informat-data", settings, b"k" * 40, run_id="bench")
        started = time.perf_counter()
        import great_expectations  # noqa: F401 - paid once, as a batch task pays it

        make_client = lambda: InformatClient(config)  # noqa: E731
        _, failed = extract_batch(units, run, extractor(run), make_client, threads=4)
        assert not failed, failed
        return time.perf_counter() - started, len(units)
    finally:
        s3.stop()
        sandbox.stop()


def dag_run() -> None:
    students = 600 if QUICK else 4000
    print(f"\nWhole informat_daily_extract run through Airflow (make run, {students} students); "
          "baseline: one task per partition, as before")  # fmt: skip
    work, partitions = _in_one_process(students)
    ((batched, state_b, tasks_b, _),) = _through_airflow(students, {}, warm=True)
    # as many extract tasks as partitions, each reading one: one task per partition
    one_each = {"INFORMAT_EXTRACT_TASKS": str(partitions), "INFORMAT_EXTRACT_THREADS": "1"}
    ((single, state_s, tasks_s, _),) = _through_airflow(students, one_each, warm=True)
    line("one task per partition (baseline)", f"{single:.1f} s, {tasks_s} tasks, {state_s}")
    line(
        "2 tasks, each 2 reading at once (the DAG now)",
        f"{batched:.1f} s, {tasks_b} tasks, {state_b}",
    )
    line("batched / baseline", f"{batched / single:.2f}")
    line(f"floor: the {partitions} partitions in one process, 4 at once", f"{work:.1f} s")
    per = (batched - work) / partitions
    line("Airflow + GX overhead per partition, batched", f"{per:.2f} s (goal: under 1 s: "
          f"{'holds' if per < 1 else 'does NOT hold'})")  # fmt: skip
    line("Airflow + GX overhead per partition, one task each",
          f"{(single - work) / partitions:.2f} s")  # fmt: skip


def school_group_run() -> None:
    """What a school group waits for: 20 instellingen (each: students, registrations,
    employees and, from Personeel, assignments, interruptions and own fields; a toegangsgroep's
    invoices; the five tables the ``derive`` task builds) against the sandbox with a rate limit.
    The floor is the time the rate limit alone allows for the data the run read: every API read
    that passed the limit, the Personeel listings of the new entities included (token requests
    and 429 answers are the run's own overhead)."""
    from informat_pipelines.extract.batch import DERIVED_ORDER, ENTITY_ORDER

    students, rate = (2000, 4.0) if QUICK else (8000, 2.0)
    print(f"\nA school group of 20 instellingen through Airflow (make run, {students} students), "
          f"the sandbox limited to {rate:g} requests/s (goal: at most 1.4x the rate limit's "
          "floor; Airflow + GX overhead under 1 s per partition)")  # fmt: skip
    started = time.perf_counter()
    # each extract task paces its client a little under its share of the limit (two tasks at
    # once), as docs/dags/informat_daily_extract.md asks: paced at exactly the limit, the
    # jitter of when requests arrive puts three in some second and the third is answered 429
    pacing = 0.9 * rate / 2
    env = {"INFORMAT_SANDBOX_INSTELLINGEN": "20", "INFORMAT_MAX_REQUESTS_PER_SECOND": str(pacing)}
    first, again = _through_airflow(students, env, rate_limit=rate, again=True, warm=True)
    line("(make run up and down, and both runs)", f"{time.perf_counter() - started:.0f} s")
    # one toegangsgroep per instelling in the sandbox: a partition of every entity each
    partitions = 20 * (len(ENTITY_ORDER) + len(DERIVED_ORDER))
    for title, (seconds, state, tasks, seen) in (
        ("the day's first run (Airflow ran the connection check before it)", first),
        ("a second run of the day, read again (refresh)", again),
    ):
        # the rate limit's 429 answers are counted per route too ("429 GET leerlingen/students")
        reads = sum(n for k, n in seen.items() if k.startswith("GET "))
        needed = reads - sum(n for k, n in seen.items() if k.startswith("429 GET "))
        tokens = seen.get("POST /connect/token", 0) - seen.get("429 POST /connect/token", 0)
        floor = needed / rate
        print(f"  {title}:")
        line("whole run", f"{seconds:.1f} s, {tasks} tasks, {state}")
        line("API reads that passed the limit / token requests that did / 429 answers",
             f"{needed} / {tokens} / {seen.get('429', 0)}")  # fmt: skip
        routes = sorted((k[4:], n) for k, n in seen.items() if k.startswith("GET "))
        line("  reads per route (the floor counts each)",
             ", ".join(f"{route} {n}" for route, n in routes))  # fmt: skip
        line("floor: those reads at the rate limit", f"{floor:.1f} s")
        line("run / floor (goal at most 1.4x)",
             f"{seconds / floor:.2f}x ({'holds' if seconds <= 1.4 * floor else 'does NOT hold'})")  # fmt: skip
        per = max(0.0, seconds - floor) / partitions
        line(f"overhead beyond the floor per partition ({partitions})",
             f"{per:.2f} s ({'holds' if per < 1 else 'does NOT hold'})")  # fmt: skip
