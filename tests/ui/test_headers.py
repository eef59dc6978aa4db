"""The headers of every answer of the Informat page's app, through Airflow's API server: a
Content-Security-Policy that runs no script and lets
only Airflow's own origin frame the page, no type sniffing, no cache; the extraction report from
S3 sandboxed and shown only in a sandboxed frame."""

from __future__ import annotations

import base64
import hashlib
import re

from informat_ui import sources

from .conftest import REPORT_KEY


def _policy(answer) -> dict[str, str]:
    """The CSP as directive -> its sources."""
    header = answer.headers["content-security-policy"]
    return {name: value for name, _, value in (d.partition(" ") for d in header.split("; "))}


def _assert_locked_down(answer, url):
    policy = _policy(answer)
    assert policy["default-src"] == "'none'", url
    assert "script-src" not in policy and "unsafe-inline" not in str(policy), url
    assert policy["frame-ancestors"] == "'self'", url
    assert answer.headers["x-content-type-options"] == "nosniff", url
    assert answer.headers["cache-control"] == "no-store", url


def test_every_answer_carries_the_headers_errors_included(airflow_app, page_data, monkeypatch):
    client = airflow_app.open()
    admin = {"Authorization": f"Bearer {airflow_app.token('admin', 'admin')}"}
    day = page_data
    answers = {
        "page": client.get("/informat/", headers=admin),
        "report frame": client.get(f"/informat/report/{day}", headers=admin),
        "report": client.get(f"/informat/report/{day}/report.html", headers=admin),
        "push report": client.get(
            f"/informat/inschrijvingen/report?key={REPORT_KEY}", headers=admin
        ),
        "no such report": client.get("/informat/report/2001-01-01/report.html", headers=admin),
        "no key": client.get("/informat/inschrijvingen/report", headers=admin),
        "anonymous": client.get("/informat/"),
        "forged": client.get("/informat/", cookies={"_token": "not-a-jwt"}),
    }
    monkeypatch.setattr(sources, "push_report", lambda key: 1 / 0)
    answers["server error"] = client.get(
        f"/informat/inschrijvingen/report?key={REPORT_KEY}", headers=admin
    )
    statuses = {what: answer.status_code for what, answer in answers.items()}
    assert statuses == {
        "page": 200, "report frame": 200, "report": 200, "push report": 200,
        "no such report": 404, "no key": 422, "anonymous": 401, "forged": 403, "server error": 500,
    }  # fmt: skip
    for what, answer in answers.items():
        _assert_locked_down(answer, what)


def test_the_page_has_no_script_and_its_only_style_is_allowed_by_hash(airflow_app, page_data):
    client = airflow_app.open()
    admin = {"Authorization": f"Bearer {airflow_app.token('admin', 'admin')}"}
    for url in ("/informat/", f"/informat/report/{page_data}"):
        answer = client.get(url, headers=admin)
        assert "<script" not in answer.text.lower(), url
        assert not re.search(r"\son[a-z]+=", answer.text), url  # no event handler either
        [style] = re.findall(r"<style>(.*?)</style>", answer.text, re.S)
        digest = base64.b64encode(hashlib.sha256(style.encode()).digest()).decode()
        assert _policy(answer)["style-src"] == f"'sha256-{digest}'", url
        assert answer.text.count("<style") == 1 and "style=" not in answer.text, url


def test_the_extraction_report_is_sandboxed_and_shown_in_a_sandboxed_frame(airflow_app, page_data):
    """Review N9: the report is HTML from the data bucket; whoever can write it there gets no
    script on Airflow's origin, neither in the page's frame nor when the report is opened alone."""
    client = airflow_app.open()
    admin = {"Authorization": f"Bearer {airflow_app.token('admin', 'admin')}"}
    report = client.get(f"/informat/report/{page_data}/report.html", headers=admin)
    assert report.text == "<html>report</html>"
    assert report.headers["content-security-policy"].startswith("sandbox; ")
    frame = client.get(f"/informat/report/{page_data}", headers=admin)
    assert f'<iframe class="report" sandbox="" src="{page_data}/report.html"' in frame.text
    assert _policy(frame)["frame-src"] == "'self'"
    page = client.get("/informat/", headers=admin)
    assert f'href="report/{page_data}"' in page.text  # the grid's cells open the frame


def test_the_push_report_is_an_attachment(airflow_app, page_data):
    client = airflow_app.open()
    admin = {"Authorization": f"Bearer {airflow_app.token('admin', 'admin')}"}
    answer = client.get(f"/informat/inschrijvingen/report?key={REPORT_KEY}", headers=admin)
    assert answer.headers["content-disposition"] == "attachment"
    assert answer.headers["content-type"] == "text/csv; charset=utf-8"


def test_a_day_with_anything_after_it_names_no_report():
    """N9's note: ``$`` matched before a trailing newline; a day is now matched whole."""
    assert sources.is_day("2026-12-01")
    for day in ("2026-12-01\n", "2026-12-01/..", "２０２６-12-01", "../../etc"):
        assert not sources.is_day(day) and sources.extraction_report(day) is None
