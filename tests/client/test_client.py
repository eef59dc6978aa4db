"""Every client call against the sandbox over real HTTP on 127.0.0.1."""

from __future__ import annotations

import hashlib
import time
import uuid
from datetime import UTC, datetime

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


STUDENT_KEYS = {
    "pPersoon", "persoonId", "naam", "voornaam", "voornaam2", "nickname", "initialen",
    "geboortedatum", "geboorteland", "geboorteplaats", "nationaliteitCode", "rijksregisternr",
    "bisnr", "geslacht", "huisdokter", "telefoonHuisdokter", "llOpSchool", "inschrijvingsId",
    "adressen", "relaties", "comnrs", "emails",
}  # fmt: skip
REGISTRATION_KEYS = {
    "inschrijvingsId", "pInschr", "pPersoon", "persoonId", "instelnr", "hfdstructuur", "school",
    "stamnr", "vestCode", "vestiging", "begindatum", "einddatum", "afdCode", "nrAdmgrp",
    "afdelingsjaar", "status", "graad", "leerjaar", "taalkeuze", "finCode",
    "levensbeschouwingCode", "isOkan", "preRegistrationId", "inschrKlassen",
}  # fmt: skip
EMPLOYEE_KEYS = {
    "pPersoon", "personId", "personaId", "naam", "voornaam", "bijkomendeVoornamen", "stamnr",
    "sortName", "nickName", "geslacht", "initialen", "geboortedatum", "geboorteplaats",
    "geboortelandCode", "nationaliteitCode", "rijksregisternr", "bisnr", "bank", "hoofdAmbt",
    "isActive", "pensioendatum", "adressen", "comnrs", "emailadressen", "personeelsgroepen",
}  # fmt: skip


def test_students_stream_every_record_with_exactly_the_contract_keys(client, sandbox):
    students = list(client.iter_students("990011", schooljaar(sandbox)))
    assert len(students) == counts(sandbox)["instellingen"]["990011"]["students"] > 500
    assert len({s["pPersoon"] for s in students}) == len(students)
    assert all(set(s) == STUDENT_KEYS for s in students)  # no instelnr: the call says it
    assert {r["type"] for s in students for r in s["relaties"]} <= {13, 14}


def test_students_of_an_unknown_schooljaar_and_changed_since(client, sandbox):
    year = schooljaar(sandbox)
    assert list(client.iter_students("990012", "2001-02")) == []
    before = "2000-01-01T00:00:00+01:00"
    assert len(list(client.iter_students("990012", year, changed_since=before))) > 100
    after = datetime.now(UTC).isoformat()
    time.sleep(0.01)
    changed = requests.post(
        f"{sandbox.url}/_sandbox/changes/990012", json={"students": 3}, timeout=10
    ).json()
    delta = list(client.iter_students("990012", year, changed_since=after))
    assert sorted(s["pPersoon"] for s in delta) == sorted(changed["students"])


def test_get_one_student_unwrapped(client, sandbox):
    first = next(iter(client.iter_students("990013", schooljaar(sandbox))))
    student = client.get_student("990013", first["persoonId"], schooljaar(sandbox))
    assert student == first
    with pytest.raises(InformatNotFoundError, match="DNF001"):
        client.get_student("990013", str(uuid.uuid4()), schooljaar(sandbox))


def test_registrations_join_students_by_ppersoon(client, sandbox):
    year = schooljaar(sandbox)
    students = {s["pPersoon"]: s for s in client.iter_students("990014", year)}
    registrations = list(client.iter_registrations("990014", year))
    assert {r["pPersoon"] for r in registrations} == set(students)
    assert all(set(r) == REGISTRATION_KEYS for r in registrations)
    assert all(
        r["inschrijvingsId"] == students[r["pPersoon"]]["inschrijvingsId"] for r in registrations
    )
    # a pupil's first class is his class (groepType 0); a few have none (not placed yet)
    assert all(r["inschrKlassen"][0]["groepType"] == 0 for r in registrations if r["inschrKlassen"])
    today = datetime.now(UTC).date().isoformat()
    assert list(client.iter_registrations("990014", year, changed_since=today)) == []


def test_employees_bare_array_on_api_version_2(client, sandbox):
    employees = list(client.iter_employees("990015", schooljaar(sandbox)))
    assignments = list(client.iter_assignments("990015"))
    assert len(employees) == counts(sandbox)["instellingen"]["990015"]["employees"] > 0
    assert all(set(e) == EMPLOYEE_KEYS for e in employees)
    assert {a["personId"] for a in assignments} == {e["personId"] for e in employees}
    one = client.get_employee("990015", employees[0]["personId"])
    assert one == employees[0]
    # without the version header the sandbox refuses, as a contract check of the client
    token = client._token(client._scopes(client._call("employees", "990015")), None)
    answer = requests.get(
        f"{sandbox.url}/personeel/employees",
        headers={
            "Authorization": f"Bearer {token}",
            "InstituteNo": "990015",
            "Timestamp": "2026-11-28T10:00:00+00:00",
        },
        timeout=10,
    )
    assert answer.status_code == 400 and answer.json()["errors"][0]["code"] == "API_VERSION"


def test_empty_instelling_answers_empty_lists(client, sandbox):
    assert list(client.iter_students("990016", schooljaar(sandbox))) == []
    assert list(client.iter_employees("990016")) == []


def test_preregistration_save_answers_its_status_and_is_idempotent(client, sandbox):
    year = schooljaar(sandbox)
    body = preregistration("990011", year)
    first = client.save_preregistration("990011", body)
    again = client.save_preregistration("990011", body)
    assert first == again == {"preRegistrationId": body["preRegistrationId"], "status": "open"}
    assert client.get_preregistration_status("990011", body["preRegistrationId"]) == first
    assert sandbox.stats()["preregistrations_created"] == 1
    assert sandbox.stats().get("preregistration_unknown_keys", 0) == 0


def test_preregistration_refused_with_informat_codes_and_messages(client, sandbox):
    year = schooljaar(sandbox)
    bad = preregistration("990011", year, sex="V", structure="lager", locationId="1")
    with pytest.raises(InformatRequestError) as refused:
        client.save_preregistration("990011", bad)
    assert refused.value.status == 400
    assert {"BR000", "BR009", "BR036B", "BR037B"} <= set(refused.value.codes)
    assert refused.value.messages["BR036B"] == "Structuur moet 3 karakters lang zijn."
    with pytest.raises(InformatConfigError, match="preRegistrationId"):
        client.save_preregistration("990011", {"lastName": "X"})


def test_open_preregistration_changes_and_decided_one_cannot(client, sandbox):
    year = schooljaar(sandbox)
    body = preregistration("990012", year)
    key = body["preRegistrationId"]
    client.save_preregistration("990012", body)
    client.save_preregistration("990012", {**body, "firstName": "Zoé"})  # a correction
    held = requests.get(f"{sandbox.url}/_sandbox/preregistrations/990012", timeout=5).json()
    assert held[key]["body"]["firstName"] == "Zoé"
    requests.put(
        f"{sandbox.url}/_sandbox/preregistrations/990012/{key}",
        json={"status": "geaccepteerd"},
        timeout=5,
    ).raise_for_status()
    assert client.get_preregistration_status("990012", key)["status"] == "geaccepteerd"
    with pytest.raises(InformatRequestError, match="MNA001"):
        client.save_preregistration("990012", {**body, "firstName": "Zoë"})
    with pytest.raises(InformatRequestError, match="MNA003"):
        client.delete_preregistration("990012", key)
    other = preregistration("990012", year)
    client.save_preregistration("990012", other)
    client.delete_preregistration("990012", other["preRegistrationId"])
    with pytest.raises(InformatNotFoundError, match="DNF001"):
        client.get_preregistration_status("990012", other["preRegistrationId"])


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
    employees = list(client.iter_employees("990013"))
    assert employees
    # one token for every scope family of every instelling, asked in one request, reused
    assert client.stats["token_requests"] == 1
    assert sandbox.stats()["tokens"] == 1


def test_scopes_per_call_when_the_combined_set_is_refused(make_client, sandbox):
    client = make_client(instellingsnummers=("990011", "990019"))  # 990019: not granted
    year = schooljaar(sandbox)
    assert next(iter(client.iter_students("990011", year)))
    next(iter(client.iter_employees("990011")))
    # the combined request is refused once; then one token per scope set
    assert client.stats["token_requests"] == 3


def test_the_toegangsgroepen_literals_go_in_one_token_request(make_client, sandbox):
    """A school group's invoices took a token request per toegangsgroep (20 of the 80
    requests of a run for 20 instellingen); the literals now go together, as the families do."""
    from informat_client import ToegangsgroepConfig
    from informat_sandbox.data import scope_of

    groups = {
        name: ToegangsgroepConfig(name, number, (), True, scope_of(name))
        for name, number in (("SG-Noord", "990011"), ("Internaat-De-Linde", "990015"))
    }
    client = make_client(toegangsgroepen=groups)
    year = schooljaar(sandbox)
    assert list(client.iter_invoices("SG-Noord", year)) and list(
        client.iter_invoices("Internaat-De-Linde", year)
    )
    assert client.stats["token_requests"] == 1
    granted = [frozenset(t.scopes) for t in sandbox.state.tokens.values()]
    assert granted == [frozenset({scope_of("SG-Noord"), scope_of("Internaat-De-Linde")})]


def test_a_refused_literal_makes_each_toegangsgroep_ask_its_own(make_client, sandbox):
    from informat_client import ToegangsgroepConfig
    from informat_sandbox.data import scope_of

    groups = {  # VZW-Elders: not granted to this client
        name: ToegangsgroepConfig(name, number, (), True, scope_of(name))
        for name, number in (("SG-Noord", "990011"), ("VZW-Elders", "990019"))
    }
    client = make_client(toegangsgroepen=groups)
    year = schooljaar(sandbox)
    assert list(client.iter_invoices("SG-Noord", year))
    assert next(iter(client.iter_students("990011", year)))
    # refused together once, then SG-Noord alone; the instellingen's families still combined
    assert client.stats["token_requests"] == 3
    with pytest.raises(InformatForbiddenError):
        list(client.iter_invoices("VZW-Elders", year))


def test_rekeningen_asks_the_literal_scope_of_the_toegangsgroep(client, sandbox):
    from informat_sandbox.data import scope_of

    year = schooljaar(sandbox)
    assert list(client.iter_invoices("SG-Noord", year))
    assert list(client.iter_accessgroup_users("Internaat-De-Linde"))
    granted = {frozenset(t.scopes) for t in sandbox.state.tokens.values()}
    assert frozenset({scope_of("SG-Noord")}) in granted  # as configured, not derived
    assert frozenset({"api_informat_sas_rekeningen.rekeningen.990015"}) in granted  # fallback


ASSIGNMENT_KEYS = {
    "id", "pOpdracht", "personId", "ambt", "ambtCode", "begindatum", "einddatum", "vervangingen",
    "urenTbsOB", "reaffWedertew", "afstandWachtgeld", "isTao", "aanstellingscode", "ato",
}  # fmt: skip
INTERRUPTION_KEYS = {
    "pOnderbreking", "doId", "personId", "hfd", "begindatum", "einddatum", "code",
    "omschrijving", "soort", "verstuurdAgODi", "opmSecretariaat", "opmPersoneelslid", "staking",
    "stakingUren", "ziekteverlofZonderBezoldiging",
}  # fmt: skip
OWN_FIELD_KEYS = {"personId", "vvId", "naam", "waarde", "dataType", "rubriek"}
CLASS_KEYS = {
    "inschrKlasId", "pInschrKlas", "klasId", "pKlas", "klasCode", "klas", "groepType",
    "klasnummer", "begindatum", "einddatum", "klassenleraars",
}  # fmt: skip
FULLTIME_LEAVE = {"197", "200", "203", "206", "209"}


def test_assignments_interruptions_and_own_fields_with_exactly_their_public_keys(client, sandbox):
    year, today = schooljaar(sandbox), sandbox.state.group.today.isoformat()
    staff = {e["personId"] for e in client.iter_employees("990014", year)}
    assignments = list(client.iter_assignments("990014", year))
    interruptions = list(client.iter_interruptions("990014", year))
    own_fields = list(client.iter_own_fields("990014", year))
    held = counts(sandbox)["instellingen"]["990014"]
    assert (len(assignments), len(interruptions), len(own_fields)) == (
        held["assignments"], held["interruptions"], held["own_fields"]
    )  # fmt: skip
    assert all(set(a) == ASSIGNMENT_KEYS for a in assignments)
    assert all(set(i) == INTERRUPTION_KEYS for i in interruptions)
    assert all(set(f) == OWN_FIELD_KEYS for f in own_fields)
    people = {r["personId"] for r in (*assignments, *interruptions, *own_fields)}
    assert people <= staff and {a["personId"] for a in assignments} == staff
    assert len({a["id"] for a in assignments}) == len(assignments)
    # an assignment's replacements point at interruptions of the same person
    by_do_id = {i["doId"]: i for i in interruptions}
    links = [(a, v) for a in assignments for v in a["vervangingen"]]
    assert links and all(set(v) == {"opdrachtId", "doId"} for _, v in links)
    assert all(by_do_id[v["doId"]]["personId"] == a["personId"] for a, v in links)
    on_leave_today = [
        by_do_id[v["doId"]]
        for _, v in links
        if by_do_id[v["doId"]]["code"] in FULLTIME_LEAVE
        and by_do_id[v["doId"]]["begindatum"][:10] <= today <= by_do_id[v["doId"]]["einddatum"][:10]
    ]
    assert on_leave_today
    assert any(a["einddatum"] < today for a in assignments)  # ended assignments
    assert {f["waarde"] for f in own_fields if f["naam"] == "ActiefOpSchool"} == {"Ja", "Neen"}
    # interruptions overlap the schooljaar asked: none in a long-gone one
    assert list(client.iter_interruptions("990014", "2001-02")) == []


def test_interruptions_and_own_fields_are_not_taken_for_an_employee(client, sandbox):
    """``employees/{personId}`` must not swallow the listings beside it, in either spelling of
    own fields that public code uses."""
    call = client._call("own_fields", "990013")
    token = client._token(client._scopes(call), call)
    headers = {
        "Authorization": f"Bearer {token}",
        "InstituteNo": "990013",
        "Timestamp": "2026-11-28T10:00:00+00:00",
    }

    def get(path):
        url = f"{sandbox.url}/personeel/employees/{path}"
        return requests.get(url, headers=headers, timeout=10)

    for path in ("interruptions", "ownfields", "OwnFields"):
        answer = get(path)
        assert answer.status_code == 200, (path, answer.text)
        assert isinstance(answer.json(), list) and answer.json(), path
    unknown = get(uuid.uuid4())
    assert unknown.status_code == 400  # one employee asks Api-Version: 2
    headers["Api-Version"] = "2"
    unknown = get(uuid.uuid4())
    assert unknown.status_code == 404 and unknown.json()["errors"][0]["code"] == "BR014"


def test_registrations_carry_classes_subgroups_an_olod_and_their_class_teachers(client, sandbox):
    year, today = schooljaar(sandbox), sandbox.state.group.today.isoformat()
    staff = {e["personId"] for e in client.iter_employees("990013", year)}
    registrations = list(client.iter_registrations("990013", year))
    elements = [k for r in registrations for k in r["inschrKlassen"]]
    assert all(set(k) == CLASS_KEYS for k in elements)
    assert {k["groepType"] for k in elements} == {0, 1, 3}
    classes: dict[str, list[dict]] = {}
    for k in elements:
        classes.setdefault(k["klasId"], []).append(k)
    for members in classes.values():  # one class: one code, number, name and teachers
        assert len({(k["klasCode"], k["pKlas"], k["klas"], k["groepType"]) for k in members}) == 1
        assert len({str(k["klassenleraars"]) for k in members}) == 1
        assert len({k["klasnummer"] for k in members}) == len(members)
    teachers = {t["persoonId"] for k in elements for t in k["klassenleraars"]}
    assert teachers and teachers <= staff  # the instelling's own staff
    assert any(k["klassenleraars"] == [] for k in elements)  # a class whose teacher is unknown
    mains = [m for m in classes.values() if m[0]["groepType"] == 0]
    assert sum(len(m) for m in mains) / len(mains) >= 5  # several pupils per class
    assert len([m for m in classes.values() if m[0]["groepType"] == 3]) == 1

    def in_class_today(record):
        return any(
            k["groepType"] == 0
            and k["begindatum"] <= today
            and (k["einddatum"] is None or today <= k["einddatum"])
            for k in record["inschrKlassen"]
        )

    without = [r for r in registrations if not in_class_today(r)]
    assert 0 < len(without) < len(registrations) / 10
    assert any(r["inschrKlassen"] == [] for r in without)


def test_students_e_mail_addresses_carry_their_public_keys(client, sandbox):
    year = schooljaar(sandbox)
    keys = {"pEmail", "email", "type", "schoolcom", "factuurMailen"}
    for number, school in (("990011", False), ("990014", True)):
        students = list(client.iter_students(number, year))
        emails = [e for s in students for e in s["emails"]]
        assert emails and all(set(e) == keys for e in emails)
        with_school = [s for s in students if any(e["type"] == "School" for e in s["emails"])]
        assert (len(with_school) == len(students)) is school, number
