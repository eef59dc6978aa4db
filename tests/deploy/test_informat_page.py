"""The Informat page in a real browser, on the embedded default (`make run`): the DAGs run
against the sandbox through Airflow's REST API, then headless Chromium (Debian's package, driven
by Playwright) logs in to Airflow, finds "Informat" in the navigation, and reads the page: the
sandbox's toegangsgroep that is not carried over in red, a quarantined partition with its
expectation, the pushed file with its counts, the archive's coverage. Screenshots are kept in
``.artefacts/`` (or ``$ARTEFACTS_DIR``)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
import requests

from informat_devtools.browser import launch
from informat_devtools.embedded import EmbeddedDefault

from ..support.airflow import ROOT

DAGS = (
    "informat_toegangsgroep_rollover",
    "informat_inschrijvingen_push",
    "informat_daily_extract",
    "informat_pdf_archive",
)
ARTEFACTS = Path(os.environ.get("ARTEFACTS_DIR", ROOT / ".artefacts"))


@pytest.fixture
def embedded_default(tmp_path):
    """``make run`` with a small sandbox, on free ports, stopped after the test."""
    with EmbeddedDefault(tmp_path, {"INFORMAT_SANDBOX_STUDENTS": "300"}) as stack:
        yield stack


def run_every_dag(stack: EmbeddedDefault) -> dict[str, str]:
    """Each DAG once, as a data engineer would after `make run`; the sandbox serves a few bad
    student rows, so that the extraction quarantines (and says so: its run fails)."""
    requests.put(
        f"{stack.sandbox}/_sandbox/faults", json={"bad_student_rows": 2}, timeout=10
    ).raise_for_status()
    drop = stack.local / "dropzone" / "inbox" / "990011" / "sjabloon.csv"  # the school's folder
    drop.parent.mkdir(exist_ok=True)
    drop.write_bytes((ROOT / "templates" / "inschrijvingen_sjabloon.csv").read_bytes())
    os.utime(drop, (0, 0))
    runs = {dag_id: stack.trigger(dag_id) for dag_id in DAGS}
    states = {dag_id: stack.wait(dag_id, run_id)["state"] for dag_id, run_id in runs.items()}
    follow_up = stack.trigger("informat_inschrijvingen_opvolging")
    states["informat_inschrijvingen_opvolging"] = stack.wait(
        "informat_inschrijvingen_opvolging", follow_up
    )["state"]
    return states


def test_the_informat_page_in_a_real_browser(embedded_default):
    from playwright.sync_api import sync_playwright

    states = run_every_dag(embedded_default)
    assert states["informat_daily_extract"] == "failed", states  # the quarantine, as meant
    assert all(s == "success" for d, s in states.items() if d != "informat_daily_extract"), states
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
        browser.close()
