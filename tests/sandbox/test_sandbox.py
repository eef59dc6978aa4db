"""The sandbox's seeded data and its control plane."""

from __future__ import annotations

import requests

from informat_client import insz
from informat_sandbox import data


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
