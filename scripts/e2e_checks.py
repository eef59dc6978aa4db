"""Two checks of `make e2e` beyond "each DAG ends green": a Celery worker killed in
the middle of an approved push, after which every row reaches Informat exactly once; and a grep of every
log of the run (all components, every task log) for each INSZ, token and secret of that run."""

from __future__ import annotations

import csv
import io
import json
import re
import time
from datetime import date, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent


def letters(n: int) -> str:
    return "".join("abcdefghij"[int(d)] for d in str(n))


def crash_file(rows: int) -> tuple[bytes, list[str]]:
    """A school's CSV of ``rows`` valid voorinschrijvingen (from the template's example row),
    and the INSZ numbers in it."""
    from informat_client import insz

    template = (ROOT / "templates" / "inschrijvingen_sjabloon.csv").read_text(encoding="utf-8")
    reader = csv.DictReader(io.StringIO(template), delimiter=";")
    example = next(reader)
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=reader.fieldnames, delimiter=";")
    writer.writeheader()
    numbers = []
    for n in range(rows):
        born = date(2020, 1, 1) + timedelta(days=n)
        number = insz.make(born, 2 + 2 * n)
        numbers.append(number)
        writer.writerow(
            {
                **example,
                "naam": f"Crash-{letters(n)}",
                "geboortedatum": born.strftime("%d/%m/%Y"),
                "rijksregisternummer": insz.format_dotted(number),
            }
        )
    return out.getvalue().encode("utf-8"), numbers


def worker_crash_mid_push(stack: Any, env: dict[str, str], rows: int = 60) -> list[str]:
    """Drop a file of more rows than ``approval_rows``: it waits for approval (e2e_holds);
    approve it, kill the worker once Informat has some of its rows, start a new worker, clear
    the task (as the DAG's notes tell a person), and check each row is there once."""
    import os

    from e2e_holds import approve_crash_file

    sandbox = stack.sandbox.state.group.instellingen["990011"].preregistrations
    before = len(sandbox)
    data, numbers = crash_file(rows)
    drop = stack.dropzone / "inbox" / "990011" / "crash.csv"  # the school's own folder
    drop.parent.mkdir(parents=True, exist_ok=True)
    drop.write_bytes(data)
    os.utime(drop, (0, 0))
    stack.api("POST", "/dags/informat_inschrijvingen_push/dagRuns", json={"logical_date": None})
    stack.sandbox.set_faults(latency_ms=400)  # a push of a few seconds to step into
    # the run holding the file: a scheduled run may have claimed it first
    run_id = approve_crash_file(stack, data, rows)
    deadline = time.monotonic() + 300
    while time.monotonic() < deadline and len(sandbox) - before < rows // 6:
        time.sleep(0.1)
    mid = len(sandbox) - before
    stack.kill("worker")
    stack.check(0 < mid < rows, f"worker killed in the middle of a push ({mid} of {rows} rows in)")
    stack.start_component(env, "worker", "celery", "worker", "--concurrency", "4")
    stack.sandbox.set_faults()
    path = f"/dags/informat_inschrijvingen_push/dagRuns/{run_id}/taskInstances/push_held"
    deadline = time.monotonic() + 300
    while time.monotonic() < deadline:  # the scheduler notices the lost worker (heartbeat)
        if stack.api("GET", path)["state"] in ("up_for_retry", "failed"):
            break
        time.sleep(2)
    stack.api(
        "POST",
        "/dags/informat_inschrijvingen_push/clearTaskInstances",
        json={"dag_run_id": run_id, "task_ids": ["push_held"], "dry_run": False,
              "only_failed": False, "reset_dag_runs": True, "include_downstream": True},
    )  # fmt: skip
    state = stack.wait("informat_inschrijvingen_push", run_id)
    stack.check(state == "success", "the approved push resumed after the worker crash")
    mine = [p for p in sandbox.values() if str(p["body"].get("lastName")).startswith("Crash-")]
    names = {p["body"]["lastName"] for p in mine}
    repeated = stack.sandbox.stats().get("preregistrations_repeated", 0)
    stack.check(
        len(mine) == rows == len(names) and all(p["saves"] == 1 for p in mine),
        f"every row of the crashed push reached Informat exactly once ({len(mine)} of {rows}; "
        f"{repeated} identical re-send(s) of rows the ledger had not recorded yet)",
    )
    return numbers


def secrets_of_the_run(stack: Any, env: dict[str, str], extra_insz: list[str]) -> set[str]:
    """Every INSZ (plain and dotted) the run handled, the tokens the sandbox issued, and the
    run's passwords and keys."""
    from informat_client import insz

    numbers = set(extra_insz)
    for instelling in stack.sandbox.state.group.instellingen.values():
        for student in instelling.students:
            numbers.add(student.get("rijksregisternr") or "")
            numbers |= {r.get("insz") or "" for r in student.get("relaties", [])}
        numbers |= {e.get("rijksregisternr") or "" for e in instelling.employees}
    found = set()
    for number in filter(None, numbers):
        digits = insz.normalize(number) or number
        found |= {digits, insz.format_dotted(digits)}
    found |= set(stack.sandbox.state.tokens)
    found |= {stack.secret, stack.password}
    for name in (
        "AIRFLOW_CONN_INFORMAT_PSEUDONYMISATION",
        "AIRFLOW_CONN_INFORMAT_PREREGISTRATION_KEY",
    ):
        found.add(json.loads(env[name])["password"])
    return {s for s in found if s and len(s) >= 8}


def grep_logs(stack: Any, secrets: set[str]) -> None:
    """Every file under the run's work folder but the databases: component logs, task logs."""
    pattern = re.compile("|".join(re.escape(s) for s in sorted(secrets, key=len, reverse=True)))
    hits: dict[str, int] = {}
    files = 0
    for path in stack.work.rglob("*"):
        if not path.is_file() or path.suffix in (".db", ".pid") or "pg" in path.parts:
            continue
        # the school's own file: its data is meant to be there, in the drop zone and, once
        # claimed, in the pipeline's state beside it (processing/, processed/, failed/)
        if {"dropzone", "dropzone.state"} & set(path.parts):
            continue
        if path.name == "passwords.json":  # the auth manager's own store of the admin password
            continue
        files += 1
        text = path.read_text(errors="replace")
        count = len(pattern.findall(text))
        if count:
            hits[str(path.relative_to(stack.work))] = count
    stack.check(
        not hits,
        f"no INSZ, token or secret in {files} log file(s) of the run ({len(secrets)} looked for)"
        + (f": found in {hits}" if hits else ""),
    )


def heartbeats(stack: Any, dag_ids: list[str], timeout: float = 90) -> None:
    """The dead man's switch: the monitor (a catcher) got exactly one ping per successful
    scheduled run of each DAG, and none for a manual run. A DAG's success callback runs in the
    DAG processor after the run ends, so the count may lag a little: wait for it."""
    deadline = time.monotonic() + timeout
    while True:
        expected = {
            dag_id: sum(
                1
                for run in stack.rest.runs(dag_id)
                if run["run_type"] == "scheduled" and run["state"] == "success"
            )
            for dag_id in dag_ids
        }
        got = {dag_id: stack.heartbeat.paths.count(f"/{dag_id}") for dag_id in dag_ids}
        if got == expected or time.monotonic() > deadline:
            break
        time.sleep(2)
    pinged = sum(got.values())
    stack.check(
        got == expected and pinged > 0,
        f"one heartbeat per successful scheduled run ({pinged} pings, expected {expected})",
    )
