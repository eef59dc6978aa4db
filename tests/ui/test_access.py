"""Review N2: what a user sees of the Informat page comes from Airflow's auth manager, asked for
each DAG whose data a section shows, never from the request (``?dag_id=``). With DAG rights per
user (as FAB or Keycloak give them) a user sees only the sections of the DAGs it may read, and
downloads only their reports; one who may read none of them is refused. With SimpleAuthManager
(as `make run`) the admin sees everything."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from informat_ui import access

from .conftest import REPORT_KEY

PER_DAG = "tests.ui.auth_managers.PerDagAuthManager"
FOLLOWUP_HEAD = "Opvolging in Informat"
LEAD = {"vastgehouden", "scholen"}  # what the page leads with, of the DAGs the user may read


def _sections(html: str) -> set[str]:
    return set(re.findall(r'<section id="([a-z]+)">', html))


def _get(client, token: str, url: str):
    return client.get(url, headers={"Authorization": f"Bearer {token}"})


def test_simple_auth_manager_admin_sees_every_section_and_report(airflow_app, page_data):
    client = airflow_app.open()
    admin = airflow_app.token("admin", "admin")
    page = _get(client, admin, "/informat/")
    assert page.status_code == 200
    assert _sections(page.text) == {
        "toegangsgroepen", "datakwaliteit", "inschrijvingen", "archief", "roster", *LEAD
    }  # fmt: skip
    assert FOLLOWUP_HEAD in page.text
    assert _get(client, admin, f"/informat/report/{page_data}/report.html").status_code == 200
    assert (
        _get(client, admin, f"/informat/inschrijvingen/report?key={REPORT_KEY}").status_code == 200
    )


@pytest.mark.parametrize(
    ("user", "sections", "followup"),
    [
        ("extract_reader", {"datakwaliteit", *LEAD}, False),
        ("push_reader", {"inschrijvingen", *LEAD}, False),
        ("push_and_followup_reader", {"inschrijvingen", *LEAD}, True),
        ("archive_and_rollover_reader", {"archief", "toegangsgroepen", *LEAD}, False),
        ("roster_reader", {"roster", *LEAD}, False),
        ("rollover_reader", {"toegangsgroepen"}, False),  # no job of the grid: no lead
    ],
)
def test_a_per_dag_user_sees_only_the_sections_of_the_dags_it_may_read(
    airflow_app, page_data, user, sections, followup
):
    client = airflow_app.open(PER_DAG)
    token = airflow_app.token(user)
    for query in ("", *(f"?dag_id={dag_id}" for dag_id in access.DAGS)):
        page = _get(client, token, f"/informat/{query}")
        assert page.status_code == 200, query
        assert _sections(page.text) == sections, query  # ?dag_id= unlocks nothing
        assert (FOLLOWUP_HEAD in page.text) == followup, query


def test_a_user_who_may_read_none_of_the_pages_dags_is_refused(airflow_app, page_data):
    """The review's bypass: a user with rights on another DAG only, naming it in ?dag_id=."""
    client = airflow_app.open(PER_DAG)
    token = airflow_app.token("other_dag_reader")
    for url in (
        "/informat/",
        "/informat/?dag_id=informat_connection_check",
        f"/informat/report/{page_data}?dag_id=informat_connection_check",
        f"/informat/inschrijvingen/report?key={REPORT_KEY}&dag_id=informat_connection_check",
    ):
        assert _get(client, token, url).status_code == 403, url


def test_report_downloads_need_the_dag_that_wrote_them(airflow_app, page_data):
    client = airflow_app.open(PER_DAG)
    extract, push = airflow_app.token("extract_reader"), airflow_app.token("push_reader")
    day_report = f"/informat/report/{page_data}/report.html"
    for url in (day_report, f"/informat/report/{page_data}"):
        assert _get(client, extract, url).status_code == 200, url
        assert _get(client, push, url).status_code == 403, url
        assert _get(client, push, f"{url}?dag_id=informat_inschrijvingen_push").status_code == 403
    push_report = f"/informat/inschrijvingen/report?key={REPORT_KEY}"
    assert _get(client, push, push_report).status_code == 200
    assert _get(client, extract, push_report).status_code == 403
    unlocked = f"{push_report}&dag_id=informat_daily_extract"
    assert _get(client, extract, unlocked).status_code == 403


def test_without_a_valid_login_the_per_dag_app_still_refuses(airflow_app, page_data):
    client = airflow_app.open(PER_DAG)
    assert client.get("/informat/?dag_id=informat_daily_extract").status_code == 401
    forged = client.get("/informat/", cookies={"_token": "not-a-jwt"})
    assert forged.status_code == 403


class _Recording:
    """An auth manager that answers per DAG id and records what it was asked."""

    def __init__(self, allowed):
        self.allowed, self.asked = allowed, []

    def is_authorized_dag(self, *, method, user, access_entity=None, details=None):
        self.asked.append((method, user, access_entity, details.id))
        return details.id in self.allowed


def test_the_auth_manager_is_asked_to_read_each_dag_itself():
    manager = _Recording({access.PUSH, access.FOLLOWUP})
    readable = access.readable_dags("u", manager)
    assert readable == {access.PUSH, access.FOLLOWUP}
    assert manager.asked == [("GET", "u", None, dag_id) for dag_id in access.DAGS]
    assert access.shown_sections(readable) == {"inschrijvingen", "opvolging"}
    assert access.shown_sections(frozenset({access.FOLLOWUP})) == frozenset()


def test_the_dag_ids_asked_about_are_the_projects_dags():
    dags = Path(__file__).resolve().parents[2] / "dags"
    defined = set(
        re.findall(r'dag_id="([a-z_]+)"', "".join(p.read_text() for p in dags.glob("*.py")))
    )
    assert set(access.DAGS) <= defined


@pytest.mark.parametrize(
    ("user", "held", "jobs"),
    [
        ("extract_reader", {"extract"}, {"extract:students"}),
        ("push_reader", {"push"}, {"push"}),
        ("roster_reader", {"roster"}, {"roster"}),
        ("archive_and_rollover_reader", set(), {"archive"}),
    ],
)
def test_held_items_grid_columns_and_the_register_only_of_the_dags_a_user_may_read(
    airflow_app, page_data, user, held, jobs
):
    """The lead of the page is made of the sections a user may read: a held item, a grid
    column and the roster's processing register (who approved an instelling's export) only for
    a user who may read the DAG that wrote them."""
    client = airflow_app.open(PER_DAG)
    page = _get(client, airflow_app.token(user), "/informat/").text
    assert set(re.findall(r'data-held="([a-z]+)"', page)) == held
    shown_jobs = set(re.findall(r'<th data-job="([a-z_:]+)"', page))
    assert jobs <= shown_jobs
    assert ("roster" in shown_jobs) == (user == "roster_reader")
    assert any(j.startswith("extract:") for j in shown_jobs) == (user == "extract_reader")
    assert ("push" in shown_jobs) == (user == "push_reader")
    assert ("DPO scholengroep" in page) == (user == "roster_reader")
    assert ("data-register=" in page) == (user == "roster_reader")
