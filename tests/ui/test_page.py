"""The Informat page on generated history, written through the DAGs' own summary writers: the
states a person must see (a toegangsgroep not carried over in red, a quarantined partition with
its expectation, a file with its counts, PDFs about to leave Informat), empty states, escaping,
and no personal data. Anonymous requests are refused."""

from __future__ import annotations

import re
from datetime import date, timedelta

import pytest

from informat_devtools import history
from informat_pipelines.core import status
from informat_pipelines.voorinschrijvingen.local_zone import LocalDropZone
from informat_ui import views
from informat_ui.page import Sections, render
from informat_ui.sources import sections

TODAY = date(2026, 11, 28)


@pytest.fixture
def written(s3, bucket, tmp_path):
    zone = LocalDropZone(tmp_path)
    state = history.write_year(s3.client(), bucket, zone, TODAY, history.HistoryShape(8, days=20))
    variables = {"informat_rollover_state": state, "informat_rollover_settings": None}
    return sections(TODAY, s3.client(), zone, variables.get, bucket)


def test_the_known_states_appear(written):
    page = render(written)
    fine = re.search(r'<tr data-toegangsgroep="SG-01">.*?</tr>', page).group(0)
    assert 'data-state="green"' in fine
    assert re.search(r'data-toegangsgroep="SG-02">.*?data-state="red"', page)
    assert "Toegangsgroep SG-02 is niet overgezet naar schooljaar 2026-27" in page
    assert (TODAY - timedelta(days=7)).isoformat() in page  # since
    assert (TODAY).isoformat() in page
    assert written.quality.days[0] == TODAY.isoformat() and len(written.quality.days) == 14
    assert 'data-state="quarantined"' in page and "expect_column_values_to_not_be_null" in page
    assert re.search(r'data-file="inschrijvingen-0.csv"[^>]*>.*?data-count="pushed">\d+', page)
    assert "<svg" in page and page.count("<polyline") >= 3 + 1  # entities + coverage


def test_quarantine_and_row_changes_are_against_the_previous_run():
    day1 = {"day": "2026-11-01", "report": "r1", "cells": {"students/1": _cell("clean", 100)}}
    day2 = {"day": "2026-11-02", "report": "r2", "cells": {"students/1": _cell("clean", 104)}}
    bad = _cell("quarantined", 3, ["expect_x"])
    day3 = {"day": "2026-11-03", "report": "r3", "cells": {"students/1": bad}}
    grid = views.data_quality({"days": [day3, day1, day2]})
    assert grid.days == ["2026-11-03", "2026-11-02", "2026-11-01"]
    assert grid.cells[("students/1", "2026-11-02")].change == 4
    assert grid.cells[("students/1", "2026-11-03")].failed == ["expect_x"]
    assert grid.cells[("students/1", "2026-11-03")].change == -101
    assert grid.trend["students"] == [("2026-11-01", 100), ("2026-11-02", 104)]


def _cell(state, rows, failed=()):
    return {"state": state, "rows": rows, "failed": list(failed)}


def test_pdfs_leaving_within_30_days_are_highlighted():
    made = {
        "F1": (TODAY - timedelta(days=350)).isoformat() + "T06:00:00",  # leaves in 15 days
        "F2": (TODAY - timedelta(days=100)).isoformat() + "T06:00:00",
        "F3": (TODAY - timedelta(days=20)).isoformat() + "T06:00:00",
        "F4": (TODAY - timedelta(days=40)).isoformat() + "T06:00:00",
    }
    group = {"toegangsgroep": "SG-A", "schooljaar": "2026-27", "invoices": 3, "archived": 1}
    group["by_month"] = status.archive_months(made, archived=["F3"], lost=["F2"], failed=["F4"])
    view = views.archive({"day": TODAY.isoformat(), "groups": [group], "history": []}, TODAY)
    assert [(i.invoice, i.soon) for i in view.leaving] == [("F1", True), ("F4", False)]
    assert view.soon == 1
    months = [(m.invoices, m.archived, m.pending, m.failed, m.lost) for m in view.months]
    assert [sum(column) for column in zip(*months, strict=True)] == [4, 1, 1, 1, 1]
    page = render(Sections(TODAY, [], None, {}, view))
    assert 'id="soon"' in page and ">1 PDF(" in page


def test_next_schooljaar_shows_from_mid_august():
    state = history.rollover_state(["SG-A"], ["990011"], date(2026, 8, 20))
    state["open"]["SG-A|next_not_carried_over|2026-27"] = {
        "toegangsgroep": "SG-A", "kind": "next_not_carried_over", "schooljaar": "2026-27",
        "first_seen": "2026-08-16", "last_notified": "2026-08-16",
    }  # fmt: skip
    [row] = views.toegangsgroepen(state, date(2026, 8, 20), 7)
    assert (row.colour, row.next_colour) == ("green", "red")
    assert row.problems[0].next_reminder == "2026-08-23"
    [before] = views.toegangsgroepen(state, date(2026, 6, 1), 7)
    assert before.next_colour is None


def test_a_fresh_install_says_what_will_appear_and_when():
    page = render(Sections(TODAY, [], None, {}, None))
    for dag_id in (
        "informat_toegangsgroep_rollover", "informat_daily_extract",
        "informat_inschrijvingen_push", "informat_pdf_archive",
    ):  # fmt: skip
        assert dag_id in page
    english = render(Sections(TODAY, [], None, {}, None), "en")
    assert "No extraction yet" in english and 'lang="en"' in english


def test_a_source_that_cannot_be_read_shows_as_such(tmp_path):
    def broken(name):
        raise ConnectionError("database down")

    page = render(sections(TODAY, "S3", LocalDropZone(tmp_path), broken, "b"))
    assert "Niet te lezen (rollover state)" in page and "Niet te lezen (extraction)" in page
    assert "Nog geen bestanden" in page  # the drop zone itself was readable


def test_every_value_is_escaped():
    row = views.FileRow(
        TODAY.isoformat(), "<script>x</script>.csv", "r", True, {"pushed": 1}, {}, "outbox/a", ""
    )
    page = render(Sections(TODAY, [], None, {"990011": [row]}, None))
    assert "<script>x" not in page and "&lt;script&gt;x" in page


def test_no_insz_or_name_on_the_page(written):
    page = render(written)
    assert not re.search(r"\d{2}\.?\d{2}\.?\d{2}-?\d{3}\.?\d{2}", page)
    assert "Peeters" not in page


def test_the_page_is_in_airflows_api_server_and_needs_a_login():
    """Through Airflow's own API server app (plugins, auth manager): anonymous and forged
    requests are refused, a logged-in user gets the page."""
    from airflow.api_fastapi.app import create_app, get_auth_manager
    from airflow.api_fastapi.auth.managers.simple.user import SimpleAuthManagerUser
    from fastapi.testclient import TestClient

    from ..support.airflow import migrate_db

    migrate_db()
    client = TestClient(create_app("core"))
    for path in ("/informat/", "/informat/report/2026-11-28", "/informat/inschrijvingen/report"):
        assert client.get(path).status_code == 401, path
    assert client.get("/informat/", cookies={"_token": "not-a-jwt"}).status_code == 403
    user = SimpleAuthManagerUser(username="admin", role="admin")
    token = get_auth_manager().generate_jwt(user)
    answer = client.get("/informat/", headers={"Authorization": f"Bearer {token}"})
    assert answer.status_code == 200 and "<h1>Informat: overzicht</h1>" in answer.text
    assert client.get("/informat/", cookies={"_token": token}).status_code == 200


def test_only_push_reports_and_real_days_can_be_opened(tmp_path, monkeypatch):
    from informat_ui import sources

    zone = LocalDropZone(tmp_path / "dropzone")
    key = zone.write_outbox("990011", "a.r1.rapport.csv", b"rij;status\n")
    zone.write_key("ledger/inschrijvingen/x.jsonl", b"{}")  # the pipeline's state
    monkeypatch.setattr(sources, "_zone", lambda: zone)
    assert key == "outbox/990011/a.r1.rapport.csv"
    assert sources.push_report(key) == b"rij;status\n"
    for other in (
        "ledger/inschrijvingen/x.jsonl",
        "outbox/../ledger/x.rapport.csv",
        "outbox/990011/../../ledger/x.rapport.csv",
        "outbox/a.r1.rapport.csv",  # the old flat outbox: no school's folder
        "/etc/passwd",
    ):
        assert sources.push_report(other) is None
    assert sources.extraction_report("../../etc") is None
