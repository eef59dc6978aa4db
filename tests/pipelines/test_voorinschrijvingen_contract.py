"""The push speaks Informat's contract: every body it can send validates against a JSON Schema
written from ``docs/informat-api.md``; the school's words become Informat's codes; names are
checked as Informat checks them; refusals come back as code and Dutch meaning; a corrected row
changes the open voorinschrijving; the daily follow-up tells the school what Informat decided."""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path

import jsonschema
import pytest
import requests

from informat_pipelines.voorinschrijvingen import (
    PushRun,
    VoorinschrijvingenSettings,
    codes,
    followup,
    handle_drops,
    parse,
    validate,
)
from informat_pipelines.voorinschrijvingen.local_zone import LocalDropZone

from ..conftest import INSTELLINGSNUMMERS
from ..support.airflow import ROOT
from ..support.voorinschrijvingen import ID_KEY, drop, make_csv, read_report, row

SCHEMA = json.loads(
    (Path(__file__).parent.parent / "support/contract/preregistration.schema.json").read_text()
)
NOW = datetime(2026, 5, 2, 9, 30)

# rows as secretariats write them: every word the tables know, both parents, addresses
HOSTILE = [
    row(1, geslacht="jongen", geboorteland="BE", nationaliteit="150", structuur="basis",
        vestiging="1", administratieve_groep="40102", status="gerealiseerd"),
    row(2, geslacht="meisje", geboorteland="belgië", nationaliteit="00150", structuur="311",
        vestiging="002", status="0", ouder1_relatie="Plusmoeder", ouder1_gsm="0470 12 34 56",
        ouder1_email="a@example.org", ouder1_straat="Kerkstraat", ouder1_huisnummer="12",
        ouder1_postcode="9000", ouder1_gemeente="Gent", ouder2_relatie="voogd",
        ouder2_naam="D'Hondt", ouder2_voornaam="Jean-Luc", ouder2_land="België",
        ouder2_straat="Dorpsstraat", ouder2_huisnummer="1", ouder2_bus="A", ouder2_postcode="2000",
        ouder2_gemeente="Antwerpen"),
    row(3, naam="Nguyễn", voornaam="Minh", geslacht="M", rijksregisternummer="",
        ouder1_relatie="GROOTMOEDER", datum_voorinschrijving="01/03/2026 08:15"),
    row(4, naam="محمد", voornaam="أحمد", geslacht="v", ouder1_relatie="pleegvader",
        bijkomende_voornamen="Ali Yusuf", email="leerling@example.org", opmerking="=1+1"),
]  # fmt: skip


def bodies(rows) -> list[dict]:
    _, parsed = parse(make_csv(rows))
    checked = validate(parsed, INSTELLINGSNUMMERS, now=NOW, id_key=ID_KEY)
    assert [c.problems for c in checked] == [[]] * len(checked)
    return [c.body for c in checked]


def test_every_body_the_push_can_send_follows_the_contract():
    template = (ROOT / "templates" / "inschrijvingen_sjabloon.csv").read_bytes()
    _, parsed = parse(template)
    sent = [c.body for c in validate(parsed, INSTELLINGSNUMMERS, now=NOW, id_key=ID_KEY)] + bodies(
        HOSTILE
    )
    for body in sent:
        jsonschema.validate(body, SCHEMA)
    assert {b["sex"] for b in sent} == {1, 2}
    assert {b["structure"] for b in sent} == {"211", "311"}
    assert all(b["countryOfBirthCode"] == b["nationalityCode"] == "00150" for b in sent)
    assert sent[1]["locationId"] == "001" and sent[1]["admgrpId"] == "040102"
    assert [r["type"] for r in sent[2]["Relationships"]] == [6, 2]
    assert sent[2]["Relationships"][0]["Address"]["countryCode"] == "00150"
    assert sent[3]["preRegistrationDate"] == "2026-03-01T08:15"
    assert sent[1]["preRegistrationDate"] == "2026-05-02T09:30"  # now: before the start date


def test_the_sandbox_counts_no_unknown_key_and_no_contract_error(client, sandbox):
    for body in bodies(HOSTILE):
        client.save_preregistration(body["institute"], {**body, "schoolyear": "2026-27"})
    stats = sandbox.stats()
    assert stats["preregistrations_created"] == len(HOSTILE)
    assert stats.get("preregistration_unknown_keys", 0) == 0
    assert stats.get("preregistration_contract_errors", 0) == 0


@pytest.mark.parametrize(
    ("cells", "problem"),
    [
        ({"voornaam": "=cmd|' /C calc'!A0"}, "voornaam bevat tekens die niet in een naam horen"),
        ({"naam": "X" * 51}, "naam is langer dan 50 tekens"),
        ({"ouder1_voornaam": "Y" * 31}, "ouder1_voornaam is langer dan 30 tekens"),
        ({"geboorteland": "Atlantis"}, "geboorteland: onbekend land; gebruik de Nederlandse"),
        ({"nationaliteit": "Congo"}, "nationaliteit: de naam past op meer dan één land"),
        ({"ouder1_land": "Staatloos"}, "ouder1_land: voor staatlozen bestaat geen landcode"),
        ({"ouder1_relatie": "buurman"}, "ouder1_relatie: onbekende relatie"),
        ({"structuur": "hoger"}, "structuur: gebruik basis, secundair"),
        ({"vestiging": "A1"}, "vestiging: gebruik het vestigingsnummer"),
        ({"status": "misschien"}, "status: gebruik gerealiseerd of niet gerealiseerd"),
        ({"ouder1_straat": "Kerkstraat"}, "ouder1_huisnummer ontbreekt"),
    ],
)
def test_cells_informat_would_refuse_are_refused_here_without_echoing_them(cells, problem):
    _, parsed = parse(make_csv([row(1, **cells)]))
    [checked] = validate(parsed, INSTELLINGSNUMMERS, now=NOW, id_key=ID_KEY)
    assert checked.body is None
    assert any(p.startswith(problem) for p in checked.problems), checked.problems
    for value in cells.values():
        assert all(value not in p for p in checked.problems if len(value) > 3)


def test_a_country_the_school_group_configures_is_used():
    extra = {"Atlantis": "00129"}  # a school group's own table, from Informat's code list
    assert codes.country("atlantis", extra) == "00129"
    assert codes.country("Atlantis") is None
    assert codes.country("150") == "00150" and codes.country("België") == "00150"
    assert codes.country("Nederland") == "00129" and codes.country("Nederland", extra) == "00129"


def test_excel_unicode_text_is_read(tmp_path):
    text = make_csv([row(1), row(2)], delimiter="\t").decode("utf-8")
    delimiter, parsed = parse(text.encode("utf-16"))  # BOM, UTF-16 LE: Excel's "Unicode text"
    assert delimiter == "\t" and [r.values["voornaam"] for r in parsed] == ["Zoë", "Zoë"]


def test_refusal_shows_code_and_dutch_sentence_and_a_correction_reaches_informat(
    client, sandbox, tmp_path
):
    zone = LocalDropZone(tmp_path, settle_seconds=0)
    weekend = row(2, startdatum="05/09/2026")  # a Saturday: Informat refuses it (BR041B)
    drop(tmp_path, "a.csv", make_csv([row(1), weekend]))
    [outcome] = handle_drops(PushRun(zone, client, INSTELLINGSNUMMERS, "run-a", ID_KEY))
    report = read_report(outcome.report)
    assert report[1]["status"] == "geweigerd"
    assert "BR041B Startdatum moet tussen het begin en het einde" in report[1]["reden"]

    # the secretariat fixes the first name of pupil 1 and the start date of pupil 2
    drop(tmp_path, "a.csv", make_csv([row(1, voornaam="Zoé"), row(2)]))
    [again] = handle_drops(PushRun(zone, client, INSTELLINGSNUMMERS, "run-b", ID_KEY))
    assert [r["status"] for r in read_report(again.report)] == [
        "wijziging doorgestuurd", "doorgestuurd",
    ]  # fmt: skip
    held = requests.get(f"{sandbox.url}/_sandbox/preregistrations/990011", timeout=5).json()
    assert sorted(v["body"]["firstName"] for v in held.values()) == ["Zoé", "Zoë"]

    # accepted by the school; a later correction cannot change it, and the report says so
    key = next(k for k, v in held.items() if v["body"]["firstName"] == "Zoé")
    requests.put(
        f"{sandbox.url}/_sandbox/preregistrations/990011/{key}",
        json={"status": "geaccepteerd"},
        timeout=5,
    ).raise_for_status()
    drop(tmp_path, "a.csv", make_csv([row(1, voornaam="Zoë-Anna")]))
    [third] = handle_drops(PushRun(zone, client, INSTELLINGSNUMMERS, "run-c", ID_KEY))
    [line] = read_report(third.report)
    assert line["status"] == "niet gewijzigd" and "MNA001" in line["reden"]


def test_followup_tells_the_school_what_informat_decided(client, sandbox, tmp_path):
    zone = LocalDropZone(tmp_path, settle_seconds=0)
    drop(tmp_path, "b.csv", make_csv([row(n) for n in range(1, 5)]))
    handle_drops(PushRun(zone, client, INSTELLINGSNUMMERS, "run-p", ID_KEY))
    held = requests.get(f"{sandbox.url}/_sandbox/preregistrations/990011", timeout=5).json()
    decided = dict(zip(sorted(held), ("geaccepteerd", "geweigerd"), strict=False))
    for key, status in decided.items():
        requests.put(
            f"{sandbox.url}/_sandbox/preregistrations/990011/{key}",
            json={"status": status},
            timeout=5,
        ).raise_for_status()
    mails = []
    day = datetime(2026, 5, 3).date()
    settings = VoorinschrijvingenSettings(contacts={"990011": "sec@example.org"})
    result = followup.run(zone, client, "f-1", day, settings, lambda *m: mails.append(m))
    assert result.asked == 4 and {c.status for c in result.changes} == set(decided.values())
    lines = read_report(str(tmp_path / result.reports["990011"]))
    assert sorted(line["status"] for line in lines) == ["geaccepteerd", "geweigerd"]
    assert {line["bestand"] for line in lines} == {"b.csv"}
    [(to, subject, body)] = mails
    assert to == ("sec@example.org",) and "1 geaccepteerd, 1 geweigerd" in subject
    assert "Peeters" not in body
    # the next day only the two still open are asked, and nothing new is told
    mails.clear()
    settings = VoorinschrijvingenSettings(contacts={"990011": "x@example.org"})
    again = followup.run(zone, client, "f-2", day, settings, mails.append)
    assert again.asked == 2 and again.changes == [] and mails == []
