"""Review N1: every value the page writes into HTML or SVG is escaped, numbers included. The
summaries the page reads are files that others than the pipeline may write (the push's status in
the drop zone, the schools' area), so a count is text until it is checked: a string of digits shows
as the number, anything else as "?", and no forged value reaches the page raw or takes it down."""

from __future__ import annotations

import copy
import json
import re
from datetime import date

import pytest

from informat_pipelines.core import status
from informat_pipelines.roster_export.report import STATUS_KEY, summary_key
from informat_pipelines.voorinschrijvingen.local_zone import LocalDropZone
from informat_ui import views
from informat_ui.charts import line_chart
from informat_ui.page import Sections, render
from informat_ui.sources import sections

TODAY = date(2026, 12, 1)
IMG = '"><img src=x onerror=alert(document.domain)>'
SCRIPT = "<script>alert(1)</script>"
SVG = "<svg/onload=alert(1)>"


def _push(**counts):
    return {
        "name": "a.csv", "run": "run", "accepted": True, "counts": counts,
        "instellingsnummers": ["990011"], "report": "/drop/outbox/a.run.rapport.csv",
    }  # fmt: skip


def _page_from_the_drop_zone(tmp_path, counts, followup):
    """The review's xss_status.py: a status object as the push writes it (through its own
    writer), and the follow-up's object written by hand, read and rendered by the page's path."""
    zone = LocalDropZone(tmp_path)
    status.record_push(zone, _push(**counts), TODAY)
    body = {"files": {"run/a.csv": followup}}
    zone.write_key(status.FOLLOWUP_KEY, json.dumps(body).encode())
    return render(sections(TODAY, "S3", zone, lambda name: None, "b"))


def _cells(page):
    row = re.search(r'<tr data-file="a.csv".*?</tr>', page).group(0)
    return re.findall(r'<td class="n"[^>]*>(.*?)</td>', row)


def test_forged_push_counts_in_the_drop_zone_never_reach_the_page_raw(tmp_path):
    page = _page_from_the_drop_zone(tmp_path, {"pushed": IMG, "failed": SCRIPT}, {"open": SCRIPT})
    assert IMG not in page and SCRIPT not in page
    assert "<img" not in page and "<script" not in page
    # six counts and four follow-up numbers: the two forged counts and the forged "open" are "?"
    assert _cells(page) == ["?", "0", "0", "0", "0", "?", "?", "0", "0", "0"]


def test_a_count_written_as_digits_shows_as_its_number_and_garbage_as_a_question_mark(tmp_path):
    counts = {"pushed": "12", "updated": 3, "already_pushed": " 4 ", "locked": -1, "rejected": 2.5}
    page = _page_from_the_drop_zone(tmp_path, counts, {"open": "7", "geweigerd": True})
    assert _cells(page) == ["12", "3", "4", "?", "?", "0", "7", "0", "?", "0"]


def test_forged_numbers_and_days_in_the_data_bucket_never_reach_the_page_raw():
    """The review's xss_s3.py: a day of the extraction (the grid's head, its cells, the chart's
    axis) and an archive count."""
    history = {"days": [{"day": SVG, "report": "r", "cells": {"students/990011": _cell(5)}}]}
    summary = {
        "day": "2026-12-01", "history": [{"day": SVG, "coverage": {"G": [1, 2]}}],
        "groups": [{"toegangsgroep": "G", "schooljaar": "2026-27", "by_month": {
            "months": {"2026-11": {"invoices": SVG, "archived": "3"}}, "leaving": []}}],
    }  # fmt: skip
    view = views.archive(summary, TODAY)
    page = render(Sections(TODAY, [], views.data_quality(history), {}, view))
    assert SVG not in page and "<svg/" not in page
    assert page.count("&lt;svg/onload=alert(1)&gt;") >= 4  # grid head, cell, two chart axes
    assert '<td class="n" data-count="invoices">?</td>' in page
    assert '<td class="n" data-count="archived">3</td>' in page


def test_a_cell_with_rows_that_are_not_a_count_or_a_state_unknown_to_the_page():
    cells = {"students/1": {"state": IMG, "rows": SCRIPT, "failed": [SCRIPT]}}
    grid = views.data_quality({"days": [{"day": "2026-12-01", "report": "r", "cells": cells}]})
    page = render(Sections(TODAY, [], grid, {}, None))
    assert IMG not in page and SCRIPT not in page
    assert 'data-state="unknown"' in page and "? rijen" in page


def test_chart_days_and_names_are_escaped_and_only_real_numbers_are_drawn():
    svg = line_chart(
        {SCRIPT: [(IMG, 1), ("2026-12-02", "3"), ("2026-12-03", float("nan")), (SVG, 2)]}, "t"
    )
    assert SCRIPT not in svg and IMG not in svg and SVG not in svg
    assert svg.count("<circle") == 2  # the string and the NaN are not drawn


def _cell(rows, state="clean"):
    return {"state": state, "rows": rows, "failed": []}


# every leaf of every summary the page reads, replaced in turn by a payload ----------------------

PUSH = _push(pushed=5, updated=1, already_pushed=0, locked=0, rejected=1, failed=0)
FOLLOWUP = {"files": {"run/a.csv": {"open": 1, "geaccepteerd": 2, "geweigerd": 0}}}
EXTRACT = {"days": [
    {"day": "2026-11-30", "report": "r1", "cells": {"students/990011": _cell(5)}},
    {"day": "2026-12-01", "report": "r2", "cells": {
        "students/990011": {"state": "quarantined", "rows": 4, "failed": ["expect_x"]},
        "students/990012": {"state": "held", "rows": 4, "failed": [], "held": {
            "added": 1, "removed": 9, "changed": 0, "changes": "held/c.csv", "decision": None,
            "run_id": "scheduled__2026-12-01T02:00:00+00:00"}}}},
]}  # fmt: skip
ROSTER_STATUS = {
    "version": 1, "day": "2026-12-01",
    "register": {"990011": {"approved_by": "DPO", "approved_on": "2026-08-01"}},
    "schools": [
        {"instelling": "990011", "state": "held", "users": 9, "classes": 2,
         "left_out": {"student: no class today": 1}, "reason": "would drop 5",
         "held": "exports/held/2026-12-01/990011/"},
        {"instelling": "990012", "state": "failed", "problem": "no table"},
    ],
}  # fmt: skip
ROSTER_SUMMARY = {
    "date": "2026-12-01", "not_in_connection": ["990013"],
    "schools": [{"instelling": "990011", "rows": {"sds": {"users.csv": 9}}}],
}  # fmt: skip
HELD_PUSH = {"name": "b.csv", "instelling": "990011", "run": "run", "reasons": ["eerste"],
             "counts": {"pushed": 3}, "rows": [[2, "pushed", ""]]}  # fmt: skip
ARCHIVE = {
    "day": "2026-12-01",
    "history": [{"day": "2026-12-01", "coverage": {"G": [1, 2]}}],
    "groups": [{"toegangsgroep": "G", "schooljaar": "2026-27", "by_month": {
        "months": {"2026-11": {"invoices": 2, "archived": 1, "pending": 1, "failed": 0,
                               "lost": 0}},
        "leaving": [{"invoice": "F1", "leaves_on": "2026-12-20"}]}}],
}  # fmt: skip


_BASE = {
    "push": PUSH, "followup": FOLLOWUP, "extract": EXTRACT, "archive": ARCHIVE,
    "roster_status": ROSTER_STATUS, "roster_summary": ROSTER_SUMMARY, "held": HELD_PUSH,
}  # fmt: skip


def _leaves(value, path=()):
    if isinstance(value, dict):
        for key, item in value.items():
            yield from _leaves(item, (*path, key))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from _leaves(item, (*path, index))
    else:
        yield path


def _replaced(value, path, payload):
    value = copy.deepcopy(value)
    *parents, last = path
    target = value
    for key in parents:
        target = target[key]
    target[last] = payload
    return value


def _cases():
    for name, value in _BASE.items():
        for path in _leaves(value):
            yield pytest.param(name, path, id=f"{name}:{'.'.join(map(str, path))}")


@pytest.mark.parametrize(("source", "path"), list(_cases()))
def test_no_leaf_of_a_summary_reaches_the_page_raw(source, path, s3, bucket, tmp_path):
    """Each value of each summary, in turn a payload: the page renders whole (a section whose
    summary cannot be read says so), and the payload never appears raw: escaped where the value
    is text, "?" or left out where it must be a number."""
    values = dict(_BASE)
    values[source] = _replaced(values[source], path, IMG)
    zone = LocalDropZone(tmp_path)
    zone.write_key(f"{status.PUSH_PREFIX}2026-12-01--run--a.csv.json", _push_object(values["push"]))
    zone.write_key(status.FOLLOWUP_KEY, json.dumps(values["followup"]).encode())
    client = s3.client()
    client.put_object(Bucket=bucket, Key=status.EXTRACT_KEY, Body=json.dumps(values["extract"]))
    client.put_object(Bucket=bucket, Key=status.ARCHIVE_KEY, Body=json.dumps(values["archive"]))
    client.put_object(Bucket=bucket, Key=STATUS_KEY, Body=json.dumps(values["roster_status"]))
    summary = json.dumps(values["roster_summary"])
    client.put_object(Bucket=bucket, Key=summary_key("2026-12-01"), Body=summary)
    zone.write_key(
        f"{status.HELD_PUSH_PREFIX}run/990011/b.csv.json", json.dumps(values["held"]).encode()
    )
    page = render(sections(TODAY, client, zone, lambda name: None, bucket))
    assert "<img" not in page
    for anchor in ("toegangsgroepen", "datakwaliteit", "inschrijvingen", "archief", "roster",
                   "vastgehouden", "scholen"):  # fmt: skip
        assert f'<section id="{anchor}">' in page
    assert page.endswith("</body></html>")


def _push_object(push):
    """The push's status object as ``status.record_push`` writes it (day and report added)."""
    report = push["report"]
    kept = {**push, "day": TODAY.isoformat(), "problem": ""}
    if isinstance(report, str):
        kept["report"] = report[report.rfind("outbox/") :]
    return json.dumps(kept).encode()
