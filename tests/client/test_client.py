"""Every client call against the sandbox over real HTTP on 127.0.0.1."""

from __future__ import annotations

import hashlib
import time
import uuid

import pytest
import requests

from informat_client import (
    InformatConfigError,
    InformatForbiddenError,
    InformatNotFoundError,
    InformatRequestError,
)

from ..support.bodies import preregistration


def schooljaar(sandbox) -> str:
    return sandbox.state.schooljaar


def counts(sandbox) -> dict:
    return requests.get(f"{sandbox.url}/_sandbox/counts", timeout=10).json()


def test_students_stream_every_record_of_the_instelling(client, sandbox):
    students = list(client.iter_students("990011", schooljaar(sandbox)))
    assert len(students) == counts(sandbox)["instellingen"]["990011"]["students"] > 500
    assert len({s["pPersoon"] for s in students}) == len(students)
    assert all(s["instelnr"] == "990011" for s in students)


def test_students_filter_and_unknown_schooljaar(client, sandbox):
    first = next(iter(client.iter_students("990012", schooljaar(sandbox))))
    found = list(client.iter_students("990012", schooljaar(sandbox), last_name=first["naam"]))
    assert found and all(s["naam"] == first["naam"] for s in found)
    assert list(client.iter_students("990012", "2001-02")) == []


def test_get_one_student_with_relations(client, sandbox):
    first = next(iter(client.iter_students("990013", schooljaar(sandbox))))
    student = client.get_student("990013", first["persoonId"], schooljaar(sandbox))
    assert student["pPersoon"] == first["pPersoon"]
    assert student["relaties"] and student["adressen"]
    with pytest.raises(InformatNotFoundError, match="STUDENT_UNKNOWN"):
        client.get_student("990013", str(uuid.uuid4()), schooljaar(sandbox))


def test_registrations_join_students_by_ppersoon(client, sandbox):
    year = schooljaar(sandbox)
    students = {s["pPersoon"] for s in client.iter_students("990014", year)}
    registrations = list(client.iter_registrations("990014", year))
    assert {r["pPersoon"] for r in registrations} == students
    assert all(r["inschrKlassen"][0]["groepType"] == 0 for r in registrations)


def test_employees_and_assignments(client, sandbox):
    employees = list(client.iter_employees("990015"))
    assignments = list(client.iter_assignments("990015"))
    assert len(employees) == counts(sandbox)["instellingen"]["990015"]["employees"] > 0
    assert {a["pPersoon"] for a in assignments} == {e["pPersoon"] for e in employees}
    one = client.get_employee("990015", employees[0]["persoonId"])
    assert one["pPersoon"] == employees[0]["pPersoon"]


def test_empty_instelling_answers_empty_lists(client, sandbox):
    assert list(client.iter_students("990016", schooljaar(sandbox))) == []
    assert list(client.iter_employees("990016")) == []


def test_preregistration_save_is_idempotent_and_listed(client, sandbox):
    year = schooljaar(sandbox)
    body = preregistration("990011", year)
    first = client.save_preregistration("990011", body)
    again = client.save_preregistration("990011", body)
    assert first["created"] is True and again["created"] is False
    listed = list(client.iter_preregistrations("990011", year))
    assert [p["preRegistrationId"] for p in listed] == [body["preRegistrationId"]]


def test_preregistration_conflict_and_validation_errors(client, sandbox):
    year = schooljaar(sandbox)
    body = preregistration("990011", year)
    client.save_preregistration("990011", body)
    with pytest.raises(InformatRequestError, match="PREREGISTRATION_CONFLICT") as conflict:
        client.save_preregistration("990011", {**body, "firstName": "Andere"})
    assert conflict.value.status == 409
    with pytest.raises(InformatRequestError) as invalid:
        client.save_preregistration("990011", preregistration("990011", year, sex="X"))
    assert invalid.value.status == 400 and "SEX_INVALID" in invalid.value.codes
    with pytest.raises(InformatConfigError, match="preRegistrationId"):
        client.save_preregistration("990011", {"lastName": "X"})


def test_preregistration_update_and_frozen_fields(client, sandbox):
    year = schooljaar(sandbox)
    body = preregistration("990012", year)
    client.save_preregistration("990012", body)
    key = body["preRegistrationId"]
    updated = client.update_preregistration("990012", key, {"registrationStatus": "accepted"})
    assert updated["registrationStatus"] == "accepted"
    with pytest.raises(InformatRequestError, match="PREREGISTRATION_FROZEN"):
        client.update_preregistration("990012", key, {"lastName": "Peeters"})
    with pytest.raises(InformatNotFoundError):
        client.update_preregistration("990012", "unknown-id", {"locationId": "2"})


def test_accessgroups_users_journals_and_invoices(client, sandbox):
    year = schooljaar(sandbox)
    groups = {g["name"]: g for g in client.iter_accessgroups("990011", year)}
    assert groups["SG-Noord"]["active"] is True
    assert groups["SG-Zuid"]["active"] is False  # not carried over to this schooljaar
    assert "VZW-Elders" not in groups  # not granted to this client
    users = list(client.iter_accessgroup_users("SG-Noord"))
    assert any(u["active"] and u["valid"] for u in users)
    journals = {j["code"] for j in client.iter_accessgroup_journals("SG-Noord")}
    assert {"Extern", "Extern_Dubieus"} <= journals
    invoices = list(client.iter_invoices("SG-Noord", year))
    assert len(invoices) == counts(sandbox)["toegangsgroepen"]["SG-Noord"]["invoices"][year]


def test_toegangsgroep_not_carried_over_is_refused_with_informat_code(client, sandbox):
    with pytest.raises(InformatForbiddenError) as refused:
        list(client.iter_invoices("SG-Zuid", schooljaar(sandbox)))
    assert refused.value.codes == ("ACCESSGROUP_NOT_CARRIED_OVER",)
    message = str(refused.value)
    assert "Rekeningen API" in message and "instelling 990013" in message and "403" in message
    # the schooljaar before was carried over
    previous = sandbox.state.group.schooljaren[0]
    assert list(client.iter_invoices("SG-Zuid", previous))


def test_unconfigured_toegangsgroep_is_a_configuration_error(client):
    with pytest.raises(InformatConfigError, match="not in the informat connection"):
        list(client.iter_invoices("Onbekend", "2026-27"))


def test_toegangsgroep_outside_scope_and_unknown(client, sandbox):
    with pytest.raises(InformatForbiddenError, match="ACCESSGROUP_NOT_IN_SCOPE"):
        list(client.iter_accessgroup_users("VZW-Elders", instellingsnummer="990011"))
    with pytest.raises(InformatNotFoundError, match="ACCESSGROUP_UNKNOWN"):
        list(client.iter_accessgroup_users("Bestaat-Niet", instellingsnummer="990011"))


def test_pdf_request_poll_and_streamed_download(client, sandbox):
    year = schooljaar(sandbox)
    invoice = next(iter(client.iter_invoices("SG-Noord", year)))
    job = client.request_pdf("SG-Noord", invoice["invoiceId"], schooljaar=year)
    assert job["status"] == "pending"
    status = client.get_pdf_job("SG-Noord", job["jobId"])
    for _ in range(100):
        if status["status"] == "ready":
            break
        time.sleep(0.05)
        status = client.get_pdf_job("SG-Noord", job["jobId"])
    assert status["status"] == "ready"
    digest = hashlib.sha256()
    size = 0
    with client.download_pdf(
        "SG-Noord", job["jobId"], download_url=status["downloadUrl"], chunk_size=64
    ) as chunks:
        for index, chunk in enumerate(chunks):
            if index == 0:
                assert chunk.startswith(b"%PDF-")
            digest.update(chunk)
            size += len(chunk)
    assert size == status["size"]
    assert digest.hexdigest() == status["sha256"]


def test_payment_registered_and_preconditions(client, sandbox):
    year = schooljaar(sandbox)
    invoice = next(i for i in client.iter_invoices("SG-Noord", year) if i["status"] == "open")
    payment = client.register_payment(
        "SG-Noord", {"invoiceId": invoice["invoiceId"], "amount": invoice["amount"]}
    )
    assert payment["paymentId"] == 1
    sandbox.state.group.toegangsgroepen["SG-Noord"].journals = [{"code": "Kas"}]
    with pytest.raises(InformatRequestError, match="NO_JOURNAL"):
        client.register_payment("SG-Noord", {"invoiceId": invoice["invoiceId"], "amount": 1})


def test_one_client_serves_many_instellingen_with_cached_tokens(client, sandbox):
    year = schooljaar(sandbox)
    for number in ("990011", "990012", "990011", "990012"):
        next(iter(client.iter_students(number, year)))
    # one token per scope set (per API and instelling), reused for the repeated calls
    assert client.stats["token_requests"] == 2
    assert sandbox.stats()["tokens"] == 2
