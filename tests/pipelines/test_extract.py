"""Landing and validating a partition without Airflow: the documented keys only, what a record
does not carry taken from the call, and a record that breaks the contract sent to quarantine
with the key named, never a crash of the writer."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pyarrow.parquet as pq

from informat_pipelines.extract import ExtractSettings, fetch
from informat_pipelines.landing import land
from informat_pipelines.quality import validate
from informat_pipelines.schemas import ENTITIES

DAY = dt.date(2026, 11, 28)
SETTINGS = ExtractSettings(insz_mode="pseudonymise")
KEY = b"k" * 32


def landed(tmp_path, entity, records, key="990011"):
    return land(records, ENTITIES[entity], key, tmp_path, SETTINGS, KEY, "2026-27")


def test_documented_answers_land_with_the_instelling_from_the_call(client, sandbox, tmp_path):
    sandbox.reset(students=300, today=DAY.isoformat())
    year = sandbox.state.schooljaar
    for entity in ("students", "registrations", "employees"):
        records = fetch(client, ENTITIES[entity], "990012", year, None)
        result = landed(tmp_path, entity, records, "990012")
        assert result.rows > 0 and result.problems == [], entity
        table = pq.read_table(result.parquet_path).to_pydict()
        assert set(table["instituteNo"]) == {"990012"}
        if entity == "students":
            assert all(h is None or len(h) == 64 for h in table["inszHash"])
            assert "insz" not in table and "bisnr" not in table  # only keyed hashes
        if entity == "registrations":
            assert set(table["schoolYear"]) == {year} and table["classCode"][0]


def test_a_newer_guide_version_still_lands(client, sandbox, tmp_path):
    sandbox.reset(students=200, today=DAY.isoformat())
    sandbox.set_faults(drift=True)  # extra keys, optional keys left out
    records = fetch(client, ENTITIES["students"], "990011", sandbox.state.schooljaar, None)
    result = landed(tmp_path, "students", records)
    assert result.rows > 0 and result.problems == []


def test_a_record_without_a_required_key_or_of_the_wrong_type_is_named(tmp_path):
    good = {"persoonId": "a", "pPersoon": 1, "geboortedatum": "2019-01-01", "geslacht": "M"}
    records = [
        good,
        {**good, "persoonId": None, "pPersoon": 2},
        {k: v for k, v in good.items() if k != "pPersoon"} | {"persoonId": "c"},
        {**good, "persoonId": "d", "pPersoon": 4, "geboortedatum": {"day": 1}},
        ["not", "an", "object"],
    ]
    result = landed(tmp_path, "students", records)
    assert result.rows == 5
    assert result.problems == [
        "key 'pPersoon' missing in 1 record(s)",
        "key 'persoonId' missing in 1 record(s)",
        "key 'geboortedatum' of the wrong type in 1 record(s)",
        "1 record(s) not an object",
    ]
    checked = validate(result, ENTITIES["students"], None, SETTINGS, DAY)
    assert not checked.success
    assert "contract (key 'persoonId' missing in 1 record(s))" in checked.failed


def test_an_empty_partition_says_why(tmp_path):
    declared = ExtractSettings(insz_mode="pseudonymise", empty_instellingen=("990016",))
    result = land([], ENTITIES["students"], "990016", tmp_path, declared, KEY, "2026-27")
    checked = validate(result, ENTITIES["students"], None, declared, DAY)
    assert checked.success and checked.note == "empty as declared (empty_instellingen)"
    surprise = validate(result, ENTITIES["students"], None, SETTINGS, DAY)
    assert not surprise.success and "list it in empty_instellingen" in surprise.note


def test_relations_and_addresses_are_typed_nested_columns_with_parents_insz_hashed(
    client, sandbox, tmp_path
):
    sandbox.reset(students=150, today=DAY.isoformat())
    records = list(fetch(client, ENTITIES["students"], "990011", sandbox.state.schooljaar, None))
    result = landed(tmp_path, "students", records)
    assert result.problems == []
    table = pq.read_table(result.parquet_path)
    first = table.slice(0, 1).to_pylist()[0]
    parent = first["relations"][0]
    source = records[0]["relaties"][0]
    assert parent["type"] == source["type"] and parent["relationId"] == source["relatieId"]
    assert parent["inszValid"] is True and len(parent["inszHash"]) == 64
    assert "insz" not in parent  # the parent's number itself is not in the clean layer
    assert parent["addresses"][0]["postcode"] == source["adressen"][0]["postcode"]
    assert first["addresses"][0]["gemeente"] == records[0]["adressen"][0]["gemeente"]
    raw_parquet = Path(result.parquet_path).read_bytes()
    assert source["insz"].encode() not in raw_parquet
    checked = validate(result, ENTITIES["students"], None, SETTINGS, DAY)
    assert checked.success, checked.failed


GX_PROBE = """
import datetime as dt, io, logging, sys, tempfile
from pathlib import Path
stream = io.StringIO()
logging.basicConfig(level=logging.DEBUG, stream=stream)
sys.path.insert(0, "include")
from informat_pipelines.extract import ExtractSettings
from informat_pipelines.landing import land
from informat_pipelines.quality import validate
from informat_pipelines.schemas import ENTITIES
settings = ExtractSettings()
with tempfile.TemporaryDirectory() as d:
    result = land([{"persoonId": "a", "pPersoon": 1}], ENTITIES["students"], "990011", Path(d),
                  settings, b"k" * 32, "2026-27")
    validate(result, ENTITIES["students"], None, settings, dt.date(2026, 11, 28))
print(stream.getvalue().count("Skipping registering"))
"""


def test_great_expectations_registry_lines_stay_out_of_the_log():
    """In a fresh interpreter (GX logs them when it is first imported), at DEBUG."""
    import subprocess
    import sys

    from ..support.airflow import ROOT

    out = subprocess.run(
        [sys.executable, "-c", GX_PROBE], cwd=ROOT, capture_output=True, text=True, check=True
    )
    assert out.stdout.strip() == "0"
