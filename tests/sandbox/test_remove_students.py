"""The sandbox's knob for a mass removal of students (``POST /_sandbox/students/{n}/remove``):
what `make e2e` uses to make a day whose students partition an extraction must hold."""

from __future__ import annotations

from datetime import UTC, datetime

import requests


def test_a_share_of_a_schools_students_is_listed_no_more(client, sandbox):
    year = sandbox.state.schooljaar
    before = {s["pPersoon"] for s in client.iter_students("990011", year)}
    since = datetime.now(UTC).isoformat()
    answer = requests.post(
        f"{sandbox.url}/_sandbox/students/990011/remove", json={"share": 0.4}, timeout=10
    )
    assert answer.status_code == 200
    removed = set(answer.json()["removed"])
    after = {s["pPersoon"] for s in client.iter_students("990011", year)}
    assert len(removed) == round(len(before) * 0.4) > 0
    assert after == before - removed and answer.json()["students"] == len(after)
    # a delta read cannot see a removal: only a full read does
    assert list(client.iter_students("990011", year, changed_since=since)) == []
    # the school's registrations stay: only its students partition changes
    registrations = sandbox.state.group.instellingen["990011"].registrations
    assert {r["pPersoon"] for r in registrations} & removed


def test_a_share_out_of_range_or_an_unknown_school_is_refused(sandbox):
    students = len(sandbox.state.group.instellingen["990011"].students)
    for body in ({"share": 1.5}, {"share": -0.1}, {"share": "veel"}, {}):
        answer = requests.post(
            f"{sandbox.url}/_sandbox/students/990011/remove", json=body, timeout=10
        )
        assert answer.status_code == 400, body
    unknown = requests.post(
        f"{sandbox.url}/_sandbox/students/123456/remove", json={"share": 0.4}, timeout=10
    )
    assert unknown.status_code == 404
    assert len(sandbox.state.group.instellingen["990011"].students) == students
