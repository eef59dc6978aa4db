"""The sandbox's seeded data and its control plane."""

from __future__ import annotations

from datetime import date

import requests

from informat_client import insz
from informat_sandbox import data, staff


def test_same_seed_same_data_other_seed_other_data():
    a = data.build(seed=7, students=600)
    b = data.build(seed=7, students=600)
    c = data.build(seed=8, students=600)
    first = a.instellingen["990011"].students
    assert first == b.instellingen["990011"].students
    assert first != c.instellingen["990011"].students


def test_school_group_is_realistic_and_synthetic():
    group = data.build(seed=42)
    with_pupils = [i for i in group.instellingen.values() if i.students]
    assert len(with_pupils) >= 5
    assert group.all_students() >= 3000
    people = [p for i in group.instellingen.values() for p in i.students + i.employees]
    numbers = [p["rijksregisternr"] for p in people if p["rijksregisternr"]]
    assert all(insz.is_valid(n) for n in numbers)
    assert len(set(numbers)) == len(numbers)
    # the sequence number of an INSZ is odd for men and even for women
    assert all(
        int(p["rijksregisternr"][6:9]) % 2 == (p["geslacht"] == "M")
        for p in people
        if p["rijksregisternr"]
    )
    names = {p["naam"] for p in people} | {p["voornaam"] for p in people}
    assert any(not n.isascii() for n in names)
    assert any("\u4e00" <= ch <= "\u9fff" for n in names for ch in n)  # Chinese script
    assert any("\u0600" <= ch <= "\u06ff" for n in names for ch in n)  # Arabic script
    assert all(p.get("email", "x@example.org").endswith("@example.org") for p in people)


def test_one_toegangsgroep_not_carried_over_to_the_current_schooljaar():
    group = data.build(seed=42)
    current = group.current_schooljaar
    not_carried = [g.name for g in group.toegangsgroepen.values() if not g.is_active_for(current)]
    assert not_carried == ["SG-Zuid"]


def test_size_option_scales_the_school_group():
    assert data.build(seed=1, students=20_000).all_students() == 20_000


def test_a_larger_school_group_has_that_many_instellingen_each_with_a_toegangsgroep(
    monkeypatch,
):
    """The benchmark's school group of 20 instellingen; ``make run`` connects to it when asked."""
    import importlib
    import json
    import sys

    group = data.build(students=400, instellingen_count=20)
    numbers = sorted(n for n in group.instellingen if n != data.OUT_OF_SCOPE_INSTELLING[0])
    assert len(numbers) == 20 and all(len(group.instellingen[n].students) == 20 for n in numbers)
    client = group.clients["sandbox-client"]
    assert sorted(client.instellingsnummers) == numbers
    assert client.toegangsgroepen == {data.toegangsgroep_of(n) for n in numbers}
    assert all(group.toegangsgroepen[data.toegangsgroep_of(n)].invoices for n in numbers)

    from ..support.airflow import ROOT

    monkeypatch.syspath_prepend(str(ROOT / "scripts"))
    monkeypatch.setenv("INFORMAT_SANDBOX_INSTELLINGEN", "20")
    run_local = importlib.import_module("run_local")
    extra = json.loads(run_local.connections("http://x", _S3(), 0, "s", "k", "p")[
        "informat_default"]["extra"])  # fmt: skip
    assert extra["instellingsnummers"] == numbers
    assert sorted(extra["toegangsgroepen"]) == sorted(client.toegangsgroepen)
    sys.modules.pop("run_local", None)


class _S3:
    def connection_extra(self):
        return {}


def test_faults_are_validated_and_switchable_without_restart(sandbox):
    url = f"{sandbox.url}/_sandbox/faults"
    bad = requests.put(url, json={"no_such_fault": 1}, timeout=5)
    assert bad.status_code == 400 and "unknown faults" in bad.json()["message"]
    assert requests.put(url, json={"rate_5xx": 2}, timeout=5).status_code == 400
    sandbox.set_faults(latency_ms=5, pdf_never_ready=True)
    assert requests.get(url, timeout=5).json()["pdf_never_ready"] is True
    sandbox.set_faults()
    assert requests.get(url, timeout=5).json()["pdf_never_ready"] is False


def test_control_plane_changes_a_toegangsgroep(sandbox):
    year = sandbox.state.schooljaar
    answer = requests.put(
        f"{sandbox.url}/_sandbox/accessgroups/SG-Zuid", json={"carry_over": year}, timeout=5
    ).json()
    assert year in answer["carried_over"]
    assert sandbox.state.group.toegangsgroepen["SG-Zuid"].is_active_for(year)
    requests.put(f"{sandbox.url}/_sandbox/accessgroups/SG-Noord", json={"active": False}, timeout=5)
    assert not sandbox.state.group.toegangsgroepen["SG-Noord"].is_active_for(year)


def test_reset_moves_the_sandbox_clock(sandbox):
    sandbox.reset(today="2027-08-20")
    assert sandbox.state.schooljaar == "2026-27"
    sandbox.reset(today="2027-09-02")
    assert sandbox.state.schooljaar == "2027-28"


def test_staff_situations_and_classes_are_seeded_the_same_way_every_time():
    day = date(2026, 11, 28)
    a, b = data.build(seed=7, students=600, today=day), data.build(seed=7, students=600, today=day)
    for number in ("990011", "990014"):
        one, two = a.instellingen[number], b.instellingen[number]
        assert one.assignments == two.assignments and one.interruptions == two.interruptions
        assert one.own_fields == two.own_fields and one.registrations == two.registrations


def test_the_staff_and_class_seed_leaves_the_other_draws_alone(monkeypatch):
    """Assignments, interruptions, own fields and classes come from a generator of their own:
    without them the students, staff and invoices are drawn exactly the same."""
    day = date(2026, 11, 28)
    before = data.build(seed=3, students=300, today=day)
    monkeypatch.setattr(data, "_seed_staff_and_classes", lambda *args: None)
    without = data.build(seed=3, students=300, today=day)
    for number, inst in before.instellingen.items():
        assert inst.students == without.instellingen[number].students
        assert inst.employees == without.instellingen[number].employees
    assert before.toegangsgroepen["SG-Noord"].invoices == without.toegangsgroepen[
        "SG-Noord"].invoices  # fmt: skip


def test_situations_fill_a_small_staff_first_and_keep_one_active():
    assert staff.situations(1) == ["active"]
    assert staff.situations(3) == ["fulltime_leave", "ended", "active"]
    many = staff.situations(60)
    assert many.count("fulltime_leave") == 4 and many.count("ended") == 5
    assert set(staff.SITUATIONS) <= set(many) and many.count("active") == 60 - 9 - 6


def test_every_school_has_staff_on_full_time_leave_today_and_pupils_without_a_class():
    day = date(2026, 11, 28)
    today = day.isoformat()
    group = data.build(seed=42, today=day)
    for number, inst in group.instellingen.items():
        if not inst.employees:
            assert inst.assignments == inst.interruptions == inst.own_fields == []
            continue
        by_do_id = {i["doId"]: i for i in inst.interruptions}
        leave_today = {
            a["personId"]
            for a in inst.assignments
            for v in a["vervangingen"]
            if by_do_id[v["doId"]]["code"] in staff.FULLTIME_LEAVE_CODES
            and by_do_id[v["doId"]]["begindatum"][:10] <= today <= by_do_id[v["doId"]]["einddatum"]
        }
        assert len(leave_today) == max(1, len(inst.employees) // 15) + 1, number  # + partial
        ended = {a["personId"] for a in inst.assignments if a["einddatum"] < today}
        assert len(ended) == max(1, len(inst.employees) // 12) + 1, number  # ended + ended_role
        assert all(len(r["inschrKlassen"]) <= 4 for r in inst.registrations)
        no_class = [r for r in inst.registrations if not r["inschrKlassen"]]
        assert no_class and len(no_class) < len(inst.registrations) / 20, number
        staff_ids = {e["personId"] for e in inst.employees}
        teachers = {t["persoonId"] for c in inst.classes.values() for t in c["klassenleraars"]}
        assert teachers <= staff_ids


def test_a_days_class_change_keeps_one_class_one_id(sandbox):
    sandbox.reset(students=300, today="2026-11-28")
    inst = sandbox.state.group.instellingen["990012"]
    changed = requests.post(
        f"{sandbox.url}/_sandbox/changes/990012",
        json={"registrations": 3, "new_students": 2},
        timeout=10,
    ).json()
    assert len(changed["registrations"]) == 3 and len(changed["new_students"]) == 2
    ids: dict[str, set] = {}
    for record in inst.registrations:
        for klas in record["inschrKlassen"]:
            ids.setdefault(klas["klasCode"], set()).add(klas["klasId"])
    assert all(len(v) == 1 for v in ids.values())
    assert all(code in inst.classes for code in ids)
