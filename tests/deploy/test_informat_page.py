"""The Informat page in a real browser, on the embedded default (`make run`): the DAGs run
against the sandbox through Airflow's REST API, then headless Chromium (Debian's package, driven
by Playwright) logs in to Airflow, finds "Informat" in the navigation, and reads the page: the
sandbox's toegangsgroep that is not carried over in red, a quarantined partition with its
expectation, the pushed file with its counts, the archive's coverage. Then a held extraction
partition (40 % of a school's students removed): found at the top of the Informat page, approved
with one click on Approve in Airflow's own required-actions page, and published. Screenshots are
kept in ``.artefacts/`` (or ``$ARTEFACTS_DIR``); the approval's in the test's tmp folder."""

from __future__ import annotations

import json
import os
import time
import warnings
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import requests

from informat_airflow.wiring import EXTRACT_SETTINGS_VARIABLE
from informat_devtools import local_connections
from informat_devtools.browser import launch
from informat_devtools.embedded import EmbeddedDefault

from ..support.airflow import ROOT

DAGS = (
    "informat_toegangsgroep_rollover",
    "informat_inschrijvingen_push",
    "informat_daily_extract",
    "informat_pdf_archive",
)
EXTRACT, PUSH = "informat_daily_extract", "informat_inschrijvingen_push"
ARTEFACTS = Path(os.environ.get("ARTEFACTS_DIR", ROOT / ".artefacts"))
HELD_SCHOOL = "990011"  # the school whose students leave en masse
DAY = timedelta(days=1)


def full_reads(folder: Path) -> dict[str, str]:
    """The environment that makes the extraction read everything each day (``snapshot_weekday``
    null: a delta read cannot see a removal). The local run sets its Variables in the
    environment, which Airflow reads before its database: a secrets backend (Airflow's own local
    file) is read before both."""
    settings = local_connections.variables()[EXTRACT_SETTINGS_VARIABLE]
    variables = folder / "variables.json"
    # the backend hands the value over as written: JSON in a string, as Variable.get expects
    variables.write_text(json.dumps({EXTRACT_SETTINGS_VARIABLE: json.dumps(
        {**settings, "snapshot_weekday": None})}))  # fmt: skip
    return {
        "AIRFLOW__SECRETS__BACKEND": "airflow.secrets.local_filesystem.LocalFilesystemBackend",
        "AIRFLOW__SECRETS__BACKEND_KWARGS": json.dumps({"variables_file_path": str(variables)}),
    }


@pytest.fixture
def embedded_default(tmp_path):
    """``make run`` with a small sandbox, on free ports, stopped after the test."""
    env = {"INFORMAT_SANDBOX_STUDENTS": "300", **full_reads(tmp_path)}
    with EmbeddedDefault(tmp_path, env) as stack:
        yield stack


def extract_on(stack: EmbeddedDefault, moment: datetime) -> str:
    """A manual extraction run for the day of ``moment`` (in the past: the scheduler starts no
    run whose logical date is still to come)."""
    stack.unpause(EXTRACT)
    body = {"logical_date": moment.isoformat(), "conf": {}}
    return stack.call("POST", f"/dags/{EXTRACT}/dagRuns", json=body)["dag_run_id"]


def extractions_ended(stack: EmbeddedDefault, timeout: float = 900) -> None:
    """Until no run of the extraction is left (the one its schedule makes once unpaused too)."""
    deadline = time.monotonic() + timeout
    while any(r["state"] not in ("success", "failed") for r in stack.runs(EXTRACT)):
        if time.monotonic() > deadline:
            raise TimeoutError("an extraction run did not end")
        time.sleep(3)


def waiting_review(stack: EmbeddedDefault, run_id: str, timeout: float = 600) -> dict:
    """The run's `review` once it waits for an answer (``awaiting_input``)."""
    deadline = time.monotonic() + timeout
    while True:
        details = stack.call("GET", f"/dags/{EXTRACT}/dagRuns/{run_id}/hitlDetails")
        for detail in details["hitl_details"]:
            if detail["task_instance"]["state"] == "awaiting_input":
                return detail
        run = stack.run(EXTRACT, run_id)
        if run["state"] in ("success", "failed") or time.monotonic() > deadline:
            raise AssertionError(f"no review awaits input (run {run['state']})")
        time.sleep(2)


def hold_a_partition(stack: EmbeddedDefault, now: datetime) -> str:
    """Faults off; a baseline day, then today with 40 % of a school's students removed: that
    partition is held and the run's review waits. Today: the held day must be the partition's
    newest, the one the page leads with. Returns the waiting run."""
    requests.put(f"{stack.sandbox}/_sandbox/faults", json={}, timeout=10).raise_for_status()
    baseline = extract_on(stack, now - DAY)
    assert stack.wait(EXTRACT, baseline)["state"] == "success"
    removed = requests.post(
        f"{stack.sandbox}/_sandbox/students/{HELD_SCHOOL}/remove", json={"share": 0.4}, timeout=30
    )
    removed.raise_for_status()
    run_id = extract_on(stack, now - timedelta(minutes=1))
    body = waiting_review(stack, run_id).get("body") or ""
    assert f"| students | {HELD_SCHOOL} |" in body, body
    return run_id


def approve_first_file(stack: EmbeddedDefault, timeout: float = 300) -> str:
    """The school's first file waits for approval (in the run that found it, the manual or the
    scheduled one): approved through the REST API, as `make e2e` does; its run's state."""
    deadline = time.monotonic() + timeout
    while True:
        details = stack.call(
            "GET", f"/dags/{PUSH}/dagRuns/~/hitlDetails", params={"response_received": "false"}
        )["hitl_details"]
        waiting = [d for d in details if d["task_instance"]["state"] == "awaiting_input"]
        if waiting:
            break
        if time.monotonic() > deadline:
            raise AssertionError("the school's first file: no review awaits input")
        time.sleep(2)
    run_id = waiting[0]["task_instance"]["dag_run_id"]
    stack.call(
        "PATCH",
        f"/dags/{PUSH}/dagRuns/{run_id}/taskInstances/review/-1/hitlDetails",
        json={"chosen_options": ["Approve"], "params_input": {}},
    )
    return stack.wait(PUSH, run_id)["state"]


def run_every_dag(stack: EmbeddedDefault, now: datetime) -> dict[str, str]:
    """Each DAG once, as a data engineer would after `make run`; the sandbox serves a few bad
    student rows, so that the extraction quarantines (and says so: its run fails). The
    extraction's run is for two days ago: today's is the held one. The school's first file is
    held by the push till approved."""
    requests.put(
        f"{stack.sandbox}/_sandbox/faults", json={"bad_student_rows": 2}, timeout=10
    ).raise_for_status()
    drop = stack.local / "dropzone" / "inbox" / "990011" / "sjabloon.csv"  # the school's folder
    drop.parent.mkdir(exist_ok=True)
    drop.write_bytes((ROOT / "templates" / "inschrijvingen_sjabloon.csv").read_bytes())
    os.utime(drop, (0, 0))
    runs = {d: extract_on(stack, now - 2 * DAY) if d == EXTRACT else stack.trigger(d) for d in DAGS}
    # the push's run that found the file waits for its approval: the others are waited for,
    # then the file is approved (never waiting for the run that waits for the answer)
    states = {d: stack.wait(d, run_id)["state"] for d, run_id in runs.items() if d != PUSH}
    states[PUSH] = approve_first_file(stack, timeout=600)
    follow_up = stack.trigger("informat_inschrijvingen_opvolging")
    states["informat_inschrijvingen_opvolging"] = stack.wait(
        "informat_inschrijvingen_opvolging", follow_up
    )["state"]
    return states


@pytest.mark.timeout(1800)  # five extraction runs, one of them waiting for a click
def test_the_informat_page_in_a_real_browser(embedded_default, tmp_path):
    from playwright.sync_api import sync_playwright

    now = datetime.now(UTC).replace(microsecond=0)
    states = run_every_dag(embedded_default, now)
    assert states[EXTRACT] == "failed", states  # the quarantine, as meant
    assert all(s == "success" for d, s in states.items() if d != EXTRACT), states
    extractions_ended(embedded_default)
    held_run = hold_a_partition(embedded_default, now)
    base = embedded_default.base
    ARTEFACTS.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as playwright:
        browser = launch(playwright)
        page = browser.new_page(viewport={"width": 1400, "height": 1000})
        anonymous = page.goto(f"{base}/informat/")
        assert anonymous.status == 401  # not logged in: refused

        page.goto(f"{base}/")
        page.fill("input[name='username']", "admin")
        page.fill("input[name='password']", embedded_default.password)
        page.keyboard.press("Enter")
        page.get_by_role("link", name="Informat").first.click(timeout=60_000)
        frame = page.frame_locator("iframe").first
        frame.locator("h1", has_text="Informat").wait_for(timeout=60_000)
        page.screenshot(path=str(ARTEFACTS / "informat-page-in-airflow.png"))

        page.goto(f"{base}/informat/")
        for folded in ("datakwaliteit", "inschrijvingen", "archief"):  # the long tables, shut
            page.locator(f"section#{folded} summary").click()
        zuid = page.locator("tr[data-toegangsgroep='SG-Zuid']").first
        assert zuid.locator("[data-state]").first.get_attribute("data-state") == "red"
        assert "niet overgezet" in zuid.inner_text()
        quarantined = page.locator("td[data-state='quarantined']")
        assert quarantined.count() >= 1 and "expect_" in quarantined.first.inner_text()
        pushed = page.locator("tr[data-file='sjabloon.csv'] td[data-count='pushed']").first
        assert int(pushed.inner_text()) >= 1
        archived = page.locator("td[data-count='archived']")
        assert archived.count() >= 1 and sum(int(c) for c in archived.all_inner_texts()) > 0
        assert page.locator("svg").count() >= 2  # rows per day, archive coverage
        page.screenshot(path=str(ARTEFACTS / "informat-page.png"), full_page=True)
        clicked = approve_in_airflow(page, embedded_default, held_run, tmp_path)
        browser.close()
    if not clicked:  # the fallback, said aloud: the answer the Approve button would have sent
        warnings.warn(
            "Approve not clicked in Airflow's UI: answered through the REST API", stacklevel=1
        )
        embedded_default.call(
            "PATCH",
            f"/dags/{EXTRACT}/dagRuns/{held_run}/taskInstances/review/-1/hitlDetails",
            json={"chosen_options": ["Approve"], "params_input": {}},
        )
    review = answered(embedded_default, held_run)
    assert review["response_received"] and review["chosen_options"] == ["Approve"], review
    assert embedded_default.wait(EXTRACT, held_run)["state"] == "success"
    published = embedded_default.call(
        "GET",
        f"/dags/{EXTRACT}/dagRuns/{held_run}/taskInstances/publish_held/xcomEntries/return_value",
    )
    assert int(published["value"]) >= 1, published  # the held partition, now in clean/


def answered(stack: EmbeddedDefault, run_id: str, timeout: float = 60) -> dict:
    """The review's HITL detail once an answer reached Airflow (or as it is after ``timeout``)."""
    deadline = time.monotonic() + timeout
    while True:
        path = f"/dags/{EXTRACT}/dagRuns/{run_id}/taskInstances/review/-1/hitlDetails"
        detail = stack.call("GET", path)
        if detail["response_received"] or time.monotonic() > deadline:
            return detail
        time.sleep(1)


def approve_in_airflow(page: Any, stack: EmbeddedDefault, run_id: str, folder: Path) -> bool:
    """At the top of the Informat page: the held school, with the link to Airflow's page of the
    run's required actions; there one click on Approve. True when the click was made."""
    from playwright.sync_api import Error as PlaywrightError

    page.goto(f"{stack.base}/informat/")
    held = page.locator(
        f"section#vastgehouden tr[data-held='extract'][data-where='{HELD_SCHOOL}']"
    ).first
    held.wait_for(timeout=30_000)
    assert "Leerlingen" in held.inner_text() and HELD_SCHOOL in held.inner_text()
    page.screenshot(path=str(folder / "informat-page-top.png"))
    link = held.get_by_role("link", name="Goedkeuren of afwijzen in Airflow")
    assert link.get_attribute("href").endswith(f"/runs/{run_id}/required_actions".replace(
        "+", "%2B").replace(":", "%3A"))  # fmt: skip
    link.click()
    approve = page.get_by_role("button", name="Approve", exact=True)
    try:
        approve.first.wait_for(state="visible", timeout=30_000)
    except PlaywrightError:  # a list first: the item opens its form
        page.screenshot(path=str(folder / "required-actions-list.png"))
        try:
            page.get_by_text("review", exact=True).first.click(timeout=10_000)
            approve.first.wait_for(state="visible", timeout=30_000)
        except PlaywrightError:
            page.screenshot(path=str(folder / "required-actions.png"))
            return False
    page.screenshot(path=str(folder / "required-actions.png"))
    assert approve.first.get_attribute("data-testid") == "hitl-option-Approve"  # the option's
    approve.first.click()
    page.wait_for_timeout(3_000)
    page.screenshot(path=str(folder / "required-actions-answered.png"))
    return True
