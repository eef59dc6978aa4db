"""Issue 24, "the page leads with each school": what waits for a person first (held partitions,
push files and roster exports, each with the link to approve it in Airflow's own UI), then one
row per instelling and per toegangsgroep with a column per job, each cell the last run's state as
a colour and a Dutch word, linking to its detail below; the long tables folded. Issue 25: the
roster export's section, per school and its processing register. On generated history written
through the DAGs' own writers, and on hand-made summaries for each state."""

from __future__ import annotations

import re
from datetime import date

import pytest

from informat_devtools import history
from informat_pipelines.core import status
from informat_pipelines.voorinschrijvingen import held
from informat_pipelines.voorinschrijvingen.local_zone import LocalDropZone
from informat_ui import overview, views
from informat_ui.page import Sections, render
from informat_ui.sources import sections

TODAY = date(2026, 11, 28)
WORD = {
    "clean": "in orde", "held": "vastgehouden", "quarantined": "in quarantaine",
    "skipped": "overgeslagen", "failed": "mislukt", "not_run": "niet gelopen",
}  # fmt: skip


@pytest.fixture
def written(s3, bucket, tmp_path):
    zone = LocalDropZone(tmp_path)
    state = history.write_year(s3.client(), bucket, zone, TODAY, history.HistoryShape(8, days=20))
    variables = {"informat_rollover_state": state, "informat_rollover_settings": None}
    return sections(TODAY, s3.client(), zone, variables.get, bucket)


def _grid_cell(page: str, where: str, job: str) -> re.Match:
    row = re.search(rf'<tr data-grid="[a-z]+" data-where="{re.escape(where)}">.*?</tr>', page)
    assert row, where
    cell = re.search(
        rf'<td class="([a-z_]+)" data-job="{re.escape(job)}" data-job-state="([a-z_]+)"'
        rf"[^>]*>(.*?)</td>",
        row.group(0),
    )
    assert cell, (where, job)
    return cell


def _day(day: str, cells: dict) -> dict:
    return {"day": day, "report": f"reports/date={day}/report.html", "cells": cells}


def test_each_state_has_its_word_and_colour_and_links_to_its_detail():
    """One instelling per state of the extraction, and one that was never extracted for an
    entity another has: "niet gelopen"."""
    cells = {
        "students/990011": {"state": "clean", "rows": 10, "failed": []},
        "students/990012": {"state": "held", "rows": 10, "failed": [], "held": {
            "added": 0, "removed": 9, "changed": 0, "decision": None, "run_id": "r1",
            "changes": "held/x.csv"}},
        "students/990013": {"state": "quarantined", "rows": 3, "failed": ["expect_x"]},
        "students/990014": {"state": "skipped", "rows": None, "failed": []},
        "students/990015": {"state": "failed", "rows": None, "failed": []},
        "registrations/990011": {"state": "clean", "rows": 4, "failed": []},
    }  # fmt: skip
    grid = views.data_quality({"days": [_day("2026-11-28", cells)]})
    page = render(Sections(TODAY, [], grid, {}, None))
    for number, state in [
        ("990011", "clean"), ("990012", "held"), ("990013", "quarantined"),
        ("990014", "skipped"), ("990015", "failed"),
    ]:  # fmt: skip
        colour, data_state, text = _grid_cell(page, number, "extract:students").groups()
        assert (colour, data_state) == (state, state)
        assert WORD[state] in text
        target = re.search(r'href="#([^"]+)"', text).group(1)
        assert f'id="{target}"' in page  # the detail it links to is on the page
    colour, _, text = _grid_cell(page, "990012", "extract:registrations").groups()
    assert colour == "not_run" and text == "niet gelopen"
    # each state's colour is a rule of the page's style (allowed by its hash in the CSP)
    for state in WORD:
        assert re.search(rf"\.{state}\{{background:#[0-9a-f]+", page), state
    english = render(Sections(TODAY, [], grid, {}, None), "en")
    assert ">not run<" in english and ">held<" in english


def test_held_items_lead_the_page_with_the_link_to_approve_them(written):
    page = render(written)
    order = [
        page.index(f'<section id="{s}">') for s in ("vastgehouden", "scholen", "datakwaliteit")
    ]
    assert order == sorted(order)
    items = re.findall(r'<tr id="([^"]+)" class="held" data-held="([a-z]+)" data-where="(\d+)">'
                       r"(.*?)</tr>", page)  # fmt: skip
    assert [(kind, where) for _, kind, where, _ in items] == [
        ("extract", "990012"),
        ("push", "990013"),
        ("roster", "990012"),
    ]  # waiting partitions first
    links = [re.search(r'<a class="approve" href="([^"]+)"', row).group(1) for *_, row in items]
    run = history.run_id(TODAY).replace(":", "%3A").replace("+", "%2B")
    assert links == [
        f"../dags/informat_daily_extract/runs/{run}/required_actions",
        "../dags/informat_inschrijvingen_push/required_actions",
        "../dags/informat_roster_export/required_actions",
    ]
    extract_row = items[0][3]
    assert "96 verwijderd" in extract_row and "changes.csv" in extract_row
    assert "60 rijen" in items[1][3] and "nog nooit doorgestuurd" in items[1][3]
    assert "dropped.csv" in items[2][3]
    # the grid's held cells link to their item in the list
    for where, job, (target, *_) in [
        ("990012", "extract:students", items[0]), ("990013", "push", items[1]),
        ("990012", "roster", items[2]),
    ]:  # fmt: skip
        colour, _, text = _grid_cell(page, where, job).groups()
        assert colour == "held" and f'href="#{target}"' in text


@pytest.mark.parametrize(
    ("decision", "answer"),
    [("rejected", "afgewezen: oude gegevens behouden"),
     ("timeout", "geen antwoord op tijd: oude gegevens behouden"),
     ("<b>", "antwoord onbekend")],
)  # fmt: skip
def test_an_answered_hold_says_the_answer_and_has_no_link(decision, answer):
    held_cell = {"state": "held", "rows": 5, "failed": [], "held": {
        "added": 1, "removed": 7, "changed": 0, "decision": decision, "run_id": "r"}}  # fmt: skip
    grid = views.data_quality({"days": [_day("2026-11-28", {"students/990011": held_cell})]})
    page = render(Sections(TODAY, [], grid, {}, None))
    row = re.search(r'<tr id="held-extract-students-990011".*?</tr>', page).group(0)
    assert answer in row and "approve" not in row and "<b>" not in page


def test_an_approved_partition_is_published_not_held():
    held_ = {"added": 0, "removed": 9, "changed": 0, "decision": "approved"}
    approved = {"entity": "students", "key": "990011", "rows": 5, "success": True, "failed": [],
                "held": held_}  # fmt: skip
    day = status.extract_day({"date": "2026-11-28", "outcomes": [approved], "errored": []})
    page = render(Sections(TODAY, [], views.data_quality({"days": [day]}), {}, None))
    assert _grid_cell(page, "990011", "extract:students").group(1) == "clean"
    assert 'data-held="' not in page and "Niets vastgehouden." in page


def test_the_summarys_entities_are_the_columns_new_ones_included():
    """Columns come from the extraction's summary: the new entities of the roster export and
    one this page has no word for (its own name); invoices per toegangsgroep."""
    cells = {
        f"{entity}/990011": {"state": "clean", "rows": 1, "failed": []}
        for entity in ("pupil_status", "students", "class_teachers", "zz_new_entity")
    }
    cells["invoices/SG-01"] = {"state": "clean", "rows": 9, "failed": []}
    grid = views.data_quality({"days": [_day("2026-11-28", cells)]})
    page = render(Sections(TODAY, [], grid, {}, None))
    instelling = re.search(r'<table class="grid" data-grid="instelling">.*?</thead>', page)
    jobs = re.findall(r'<th data-job="([a-z_:]+)">([^<]+)</th>', instelling.group(0))
    assert [job for job in jobs if job[0].startswith("extract:")] == [
        ("extract:students", "Leerlingen"), ("extract:class_teachers", "Klasleraren"),
        ("extract:pupil_status", "Status leerlingen"), ("extract:zz_new_entity", "zz_new_entity"),
    ]  # fmt: skip
    assert _grid_cell(page, "SG-01", "extract:invoices").group(1) == "clean"


def test_generated_history_fills_every_job_column(written):
    page = render(written)
    jobs = re.findall(r'<th data-job="([a-z_:]+)"', page)
    assert jobs[:4] == ["extract:students", "extract:registrations", "extract:employees",
                        "extract:classes"]  # fmt: skip
    for job in ("extract:class_memberships", "extract:staff_status", "push", "roster",
                "extract:invoices", "archive"):  # fmt: skip
        assert job in jobs
    assert _grid_cell(page, "990014", "roster").group(1) == "failed"
    assert _grid_cell(page, "990015", "roster").group(1) == "skipped"
    assert _grid_cell(page, "SG-01", "archive").group(1) == "clean"
    # every link of the grid finds its detail on the page
    grid = re.search(r'<section id="scholen">.*?</section>', page).group(0)
    for target in set(re.findall(r'href="#([^"]+)"', grid)):
        assert f'id="{target}"' in page, target


def test_the_long_tables_are_folded_below_without_script(written):
    page = render(written)
    for anchor in ("datakwaliteit", "inschrijvingen", "archief"):
        assert f'<section id="{anchor}"><details><summary><h2>' in page
    assert "<details open" not in page and "<script" not in page
    assert '<section id="toegangsgroepen"><h2>' in page  # one row per toegangsgroep: open


def test_the_roster_section_per_school_and_its_register(written):
    page = render(written)
    section = re.search(r'<section id="roster">.*?</section>', page).group(0)
    published = re.search(r'<tr id="roster-990011" data-roster="990011">.*?</tr>', section)
    assert 'data-state="published"' in published.group(0) and "gepubliceerd" in published.group(0)
    assert "users.csv 230" in published.group(0)  # rows per file, from the day's summary
    assert "student: no class today: 3" in published.group(0)  # who was left out and why
    assert "p1" not in section  # never the ids of who was left out
    held_row = re.search(r'data-roster="990012">.*?</tr>', section).group(0)
    assert "vastgehouden" in held_row and "would drop 120 of 240 users" in held_row
    failed_row = re.search(r'data-roster="990014">.*?</tr>', section).group(0)
    assert "mislukt" in failed_row and "no clean table class_teachers" in failed_row
    assert "niet aangemeld" in re.search(r'data-roster="990015">.*?</tr>', section).group(0)
    register = re.findall(
        r'<tr data-register="(\d+)"><td>\d+</td><td>([^<]*)</td><td>([^<]*)</td><td>(\w+)</td>',
        section,
    )
    assert register == [
        (nr, "DPO scholengroep", "2026-08-20", "ja")
        for nr in ("990011", "990012", "990013", "990014")
    ]


def test_an_opted_in_instelling_missing_from_the_connection_says_so():
    status_json = {"day": "2026-11-28", "schools": [], "register": {
        "990099": {"approved_by": "DPO", "approved_on": "2026-08-01"}}}  # fmt: skip
    view = views.roster(status_json, {"schools": [], "not_in_connection": ["990099"]})
    page = render(Sections(TODAY, [], None, {}, None, roster=view))
    assert (
        '<tr data-register="990099"><td>990099</td><td>DPO</td><td>2026-08-01</td><td>nee' in page
    )


def test_no_roster_export_yet_says_what_will_appear():
    page = render(Sections(TODAY, [], None, {}, None))
    assert "Nog geen roster-export" in page and "informat_roster_export" in page


def test_held_push_files_are_read_from_the_previews_the_push_keeps(tmp_path):
    """Through ``held.hold`` (the push's own writer): the file, its school and why it waits;
    settled (``held.forget``), it is gone from the list."""
    zone = LocalDropZone(tmp_path)
    history.hold_push(zone, "990011", TODAY)
    [record] = status.read_held_pushes(zone)
    assert status.HELD_PUSH_PREFIX == held.REVIEW_PREFIX
    assert (record["instelling"], record["name"]) == ("990011", "inschrijvingen-groot.csv")
    assert record["counts"]["pushed"] == 60 and "rows" not in record  # no row of the preview
    [file] = views.held_pushes([record])
    assert (file.rows, file.day) == (60, TODAY.isoformat()) and file.reasons == [
        "eerste bestand van instelling 990011: nog nooit doorgestuurd"
    ]
    [(claimed, _)] = held.waiting(zone, history.run_id(TODAY, 10))
    held.forget(zone, claimed)
    assert status.read_held_pushes(zone) == []


def test_anchor_ids_need_no_escaping():
    assert overview.anchor("p", 'a"b<c', "SG 01/x") == "p-a_b_c-SG_01_x"
