"""The checks of `make e2e` on what a person must approve (Airflow's approval operator, task
`review`), through Airflow's REST API as a script or the UI would answer it: a school's file the
push holds, and an extraction's held partition, approved on one day and rejected on the next.
While a review waits, its run holds no worker slot and no pool slot (`awaiting_input`)."""

from __future__ import annotations

import csv
import io
import time
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from informat_airflow.wiring import DEFAULT_DATA_BUCKET

PUSH, EXTRACT = "informat_inschrijvingen_push", "informat_daily_extract"
BRUSSELS = ZoneInfo("Europe/Brussels")
HELD_SCHOOL = "990011"  # the school whose students leave en masse
# the columns of a school's CSV that name a person or carry an INSZ, an e-mail or a phone
PERSONAL_COLUMNS = ("naam", "voornaam", "bijkomende_voornamen", "rijksregisternummer", "email",
                    "gsm", "telefoon")  # fmt: skip


def waiting_review(stack: Any, dag_id: str, run_id: str = "~", timeout: float = 300) -> dict:
    """The HITL detail of the run's `review` once it waits for an answer (`awaiting_input`);
    ``run_id`` "~": of any run of the DAG."""
    deadline = time.monotonic() + timeout
    while True:
        details = stack.api(
            "GET",
            f"/dags/{dag_id}/dagRuns/{run_id}/hitlDetails",
            params={"response_received": "false"},
        )["hitl_details"]
        for detail in details:
            if detail["task_instance"]["state"] == "awaiting_input":
                return detail
        if time.monotonic() > deadline:
            states = [r["state"] for r in stack.rest.runs(dag_id)[-3:]]
            raise TimeoutError(f"{dag_id}: no review awaiting input (last runs {states})")
        time.sleep(2)


def answer(stack: Any, dag_id: str, run_id: str, option: str) -> None:
    """A person's answer, as the Required actions page sends it."""
    stack.api(
        "PATCH",
        f"/dags/{dag_id}/dagRuns/{run_id}/taskInstances/review/-1/hitlDetails",
        json={"chosen_options": [option], "params_input": {}},
    )


def idle_while_waiting(stack: Any, dag_id: str, run_id: str, timeout: float = 300) -> None:
    """Once the other DAGs' tasks are done (or deferred), nothing runs and no pool slot is
    taken while the review waits: a waiting approval costs no worker."""
    deadline = time.monotonic() + timeout
    while True:
        busy = stack.api(
            "GET", "/dags/~/dagRuns/~/taskInstances", params={"state": ["running", "queued"]}
        )["task_instances"]
        pools = stack.api("GET", "/pools")["pools"]
        occupied = {p["name"]: p["occupied_slots"] for p in pools if p["occupied_slots"]}
        if (not busy and not occupied) or time.monotonic() > deadline:
            break
        time.sleep(2)
    review = stack.api("GET", f"/dags/{dag_id}/dagRuns/{run_id}/taskInstances/review")
    running = [f"{t['dag_id']}.{t['task_id']}" for t in busy]
    stack.check(
        review["state"] == "awaiting_input" and not busy and not occupied,
        f"{dag_id}: its review waits ({review['state']}) with no worker or pool slot held "
        f"(running or queued: {running or 0}; occupied pool slots: {occupied or 0})",
    )


def personal_values(data: bytes) -> set[str]:
    """Every name, INSZ (as written and as digits), e-mail and phone number in a school's CSV."""
    from informat_client import insz

    found = set()
    for row in csv.DictReader(io.StringIO(data.decode("utf-8-sig")), delimiter=";"):
        for column, value in row.items():
            kind = column if column in PERSONAL_COLUMNS else column.split("_", 1)[-1]
            if value and kind in PERSONAL_COLUMNS and len(value) >= 3:
                found |= {value, insz.normalize(value) or value}
    return found


def no_personal_data(stack: Any, detail: dict, data: bytes, what: str) -> None:
    body = f"{detail['subject']}\n{detail.get('body') or ''}"
    leaks = sorted(v for v in personal_values(data) if v in body)
    stack.check(
        bool(detail.get("body")) and not leaks,
        f"{what}: the approval's text holds no name, INSZ or contact ({len(leaks)} found)",
    )


# ------------------------------------------------------------------------------ the push


def push_first_file_waits(stack: Any, data: bytes) -> str:
    """A school's first file is held: its review waits, nothing of it reached Informat, and the
    approval's text names nobody. Returns the run that holds it (approved later, once the other
    DAGs are done: see :func:`approve_first_file`)."""
    detail = waiting_review(stack, PUSH)
    run_id = detail["task_instance"]["dag_run_id"]
    pushed = stack.sandbox.state.group.instellingen[HELD_SCHOOL].preregistrations
    first = f"eerste bestand van instelling {HELD_SCHOOL}" in (detail.get("body") or "")
    stack.check(first and len(pushed) == 0, f"a school's first file waits for approval, so said "
                f"({len(pushed)} rows in Informat while its review awaits input)")  # fmt: skip
    no_personal_data(stack, detail, data, "the first file's review")
    return run_id


def approve_first_file(stack: Any, run_id: str) -> None:
    idle_while_waiting(stack, PUSH, run_id)
    answer(stack, PUSH, run_id, "Approve")
    stack.check(stack.wait(PUSH, run_id) == "success", "approved: the CSV push succeeded")


# ------------------------------------------------------------------------ the extraction


def _day_before(logical_date: str, days: int) -> tuple[str, date]:
    """The logical date ``days`` before another (ISO), and its day in Brussels. Before: the
    scheduler starts no run whose logical date is still to come."""
    moment = datetime.fromisoformat(logical_date.replace("Z", "+00:00")) - timedelta(days=days)
    return moment.isoformat(), moment.astimezone(BRUSSELS).date()


def _rows(s3: Any, key: str) -> int | None:
    """The rows of a Parquet object, None when there is none."""
    import pyarrow.parquet as pq
    from botocore.exceptions import ClientError

    try:
        body = s3.get_object(Bucket=DEFAULT_DATA_BUCKET, Key=key)["Body"].read()
    except ClientError:
        return None
    return pq.ParquetFile(io.BytesIO(body)).metadata.num_rows


def _asset_runs(stack: Any, asset_id: int) -> list[str]:
    events = stack.api("GET", "/assets/events", params={"asset_id": asset_id, "limit": 100})
    return [e.get("source_run_id") for e in events["asset_events"]]


def _remove_students(stack: Any, share: float) -> int:
    import requests

    answer = requests.post(
        f"{stack.sandbox.url}/_sandbox/students/{HELD_SCHOOL}/remove",
        json={"share": share},
        timeout=30,
    )
    answer.raise_for_status()
    return answer.json()["students"]


def _extract_on(stack: Any, logical_date: str) -> str:
    body = {"logical_date": logical_date, "conf": {}}
    return stack.api("POST", f"/dags/{EXTRACT}/dagRuns", json=body)["dag_run_id"]


def extraction_holds(stack: Any, first_run: str) -> None:
    """After the scheduled run (the baseline): a day with 40 % of a school's students removed
    holds that partition, its review waits with no slot held, an approval publishes it and
    updates the Asset; on the next day another such removal is rejected and the old data stays.
    The extraction reads everything each day (``snapshot_weekday`` null): a delta read cannot
    see a removal. The two days are the two before the scheduled run's (a run for a day to come
    never starts); a students partition's baseline is its state, whatever the day (in the
    first days of September they would fall in another schooljaar: nothing to compare)."""
    from informat_client.schooljaar import schooljaar_for
    from informat_pipelines.extract.delta import state_prefix

    s3 = stack.s3.client()
    asset = stack.api("GET", "/assets", params={"name_pattern": "informat_clean_students"})
    asset_id = asset["assets"][0]["id"]
    first = stack.rest.run(EXTRACT, first_run)["logical_date"]

    def clean_key(day: date, school: str = HELD_SCHOOL) -> str:
        return (f"clean/students/schooljaar={schooljaar_for(day)}/instelling={school}/"
                f"date={day.isoformat()}/data.parquet")  # fmt: skip

    # a day: 40 % of the school's students gone; held, then approved
    left = _remove_students(stack, 0.4)
    logical, day = _day_before(first, 2)
    run_id = _extract_on(stack, logical)
    detail = waiting_review(stack, EXTRACT, run_id)
    body = detail.get("body") or ""
    held_key = clean_key(day).replace("clean/", "held/", 1)
    stack.check(
        f"| students | {HELD_SCHOOL} |" in body
        and _rows(s3, clean_key(day)) is None
        and _rows(s3, held_key) == left,
        f"extraction: a day with 40 % of {HELD_SCHOOL}'s students removed holds that partition "
        "(listed in the review, under held/, not in clean/)",
    )
    deadline = time.monotonic() + 60
    while not any("held for review" in m.subject for m in stack.mail.messages):
        if time.monotonic() > deadline:
            break
        time.sleep(1)
    stack.check(any("held for review" in m.subject for m in stack.mail.messages),
                "extraction: the data team got a mail that a partition is held")  # fmt: skip
    idle_while_waiting(stack, EXTRACT, run_id)
    answer(stack, EXTRACT, run_id, "Approve")
    state = stack.wait(EXTRACT, run_id)
    published = _rows(s3, clean_key(day))
    stack.check(
        state == "success" and published == left and run_id in _asset_runs(stack, asset_id),
        f"extraction: approved through the REST API, the held partition is published "
        f"({published} of {left} rows in clean/) and the students Asset updated (run {state})",
    )

    # the next day: another 40 % gone; held, then rejected: the old data stays
    gone = _remove_students(stack, 0.4)
    logical, next_day = _day_before(first, 1)
    run_id = _extract_on(stack, logical)
    waiting_review(stack, EXTRACT, run_id)
    answer(stack, EXTRACT, run_id, "Reject")
    state = stack.wait(EXTRACT, run_id)
    baseline = f"{state_prefix('students', schooljaar_for(next_day), HELD_SCHOOL)}/current.parquet"
    other = sorted(n for n in stack.sandbox.state.group.instellingen if n != HELD_SCHOOL)[0]
    kept = (
        _rows(s3, clean_key(next_day)) is None
        and _rows(s3, clean_key(day)) == left
        and _rows(s3, baseline) == left
        and run_id not in _asset_runs(stack, asset_id)
    )
    stack.check(
        state == "success" and kept and _rows(s3, clean_key(next_day, other)) is not None,
        f"extraction: on the next day a rejection keeps the old data ({left} students published, "
        f"not {gone}; baseline and Asset unchanged; the other schools published; run {state})",
    )


# ------------------------------------------------------------- the worker crash's review


def approve_crash_file(stack: Any, data: bytes, rows: int) -> str:
    """The crash check's file (more rows than ``approval_rows``, of a school that pushed
    before) waits for approval: none of its rows in Informat, no name or INSZ in the review.
    Then it is approved; the run that pushes it is returned."""
    detail = waiting_review(stack, PUSH)
    run_id = detail["task_instance"]["dag_run_id"]
    sandbox = stack.sandbox.state.group.instellingen[HELD_SCHOOL].preregistrations
    mine = [p for p in sandbox.values() if str(p["body"].get("lastName")).startswith("Crash-")]
    body = detail.get("body") or ""
    why = f"{rows} rijen (meer dan approval_rows" in body and "eerste bestand" not in body
    stack.check(why and not mine, f"a file over approval_rows waits for approval, so said "
                f"({len(mine)} of its rows in Informat while its review awaits input)")  # fmt: skip
    no_personal_data(stack, detail, data, "the large file's review")
    answer(stack, PUSH, run_id, "Approve")
    return run_id
