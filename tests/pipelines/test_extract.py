"""Landing and validating a partition without Airflow: the documented keys only, what a record
does not carry taken from the call, and a record that breaks the contract sent to quarantine
with the key named, never a crash of the writer."""

from __future__ import annotations

import datetime as dt
import gzip
import json
from pathlib import Path

import pyarrow.parquet as pq

from informat_pipelines.extract.landing import land
from informat_pipelines.extract.partition import fetch
from informat_pipelines.extract.quality import validate
from informat_pipelines.extract.schemas import ENTITIES
from informat_pipelines.extract.settings import ExtractSettings
from informat_pipelines.extract.shapes import Partition, RunContext

DAY = dt.date(2026, 11, 28)
SETTINGS = ExtractSettings(insz_mode="pseudonymise")
KEY = b"k" * 32


def landed(tmp_path, entity, records, key="990011"):
    return land(
        records,
        Partition(entity, key, "2026-27", DAY),
        tmp_path,
        RunContext(None, "", SETTINGS, KEY),
    )


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
    result = land(
        [],
        Partition("students", "990016", "2026-27", DAY),
        tmp_path,
        RunContext(None, "", declared, KEY),
    )
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
from informat_pipelines.extract.settings import ExtractSettings
from informat_pipelines.extract.shapes import Partition, RunContext
from informat_pipelines.extract.landing import land
from informat_pipelines.extract.quality import validate
from informat_pipelines.extract.schemas import ENTITIES
settings = ExtractSettings()
with tempfile.TemporaryDirectory() as d:
    result = land([{"persoonId": "a", "pPersoon": 1}],
                  Partition("students", "990011", "2026-27", dt.date(2026, 11, 28)), Path(d),
                  RunContext(None, "", settings, b"k" * 32))
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


def test_raw_honours_insz_mode_for_the_pupil_and_the_parents(client, sandbox, tmp_path):
    """raw/ is no back door: the INSZ of the pupil and of every relation is
    pseudonymised (or dropped) in raw/ as in clean/; only ``keep`` keeps it."""
    import gzip
    import json

    from informat_pipelines.extract.records import pseudonymiser

    sandbox.reset(students=60, today=DAY.isoformat())
    records = list(fetch(client, ENTITIES["students"], "990011", sandbox.state.schooljaar, None))
    numbers = {r["rijksregisternr"] for r in records if r.get("rijksregisternr")}
    numbers |= {p["insz"] for r in records for p in r.get("relaties", []) if p.get("insz")}
    assert numbers
    for mode in ("pseudonymise", "drop", "keep"):
        work = tmp_path / mode
        work.mkdir()
        result = land(
            records,
            Partition("students", "990011", "2026-27", DAY),
            work,
            RunContext(None, "", ExtractSettings(insz_mode=mode), KEY),
        )
        with gzip.open(result.raw_path, "rt") as handle:
            raw = handle.read()
        kept = [n for n in numbers if n in raw]
        if mode == "keep":
            assert len(kept) == len(numbers)
            continue
        assert kept == [], mode
        first = json.loads(raw.splitlines()[0])
        if mode == "drop":
            assert "rijksregisternr" not in first
            assert all("insz" not in p for p in first["relaties"])
        else:
            from informat_client import insz

            number = insz.normalize(records[0]["rijksregisternr"])
            assert first["rijksregisternr"] == pseudonymiser(KEY)(number)
            assert first["voornaam"] == records[0]["voornaam"]  # the rest as Informat answered


def test_pseudonyms_are_hmac_sha256_of_the_key_whatever_its_length():
    """The pseudonyms already landed must stay the same: the keyed copy gives exactly
    HMAC-SHA256, also for a key longer than SHA-256's block (which HMAC hashes first)."""
    import hmac

    from informat_pipelines.extract.records import pseudonymiser

    for key in (b"", KEY, b"k" * 64, b"k" * 65, bytes(range(256))):
        keyed = pseudonymiser(key)
        for number in ("", "0", "some longer value than one block of the hash function"):
            assert keyed(number) == hmac.digest(key, number.encode(), "sha256").hex()
    assert pseudonymiser(b"a")("0") != pseudonymiser(b"b")("0")


def test_raw_answers_expire_after_the_retention(s3, bucket):
    from informat_pipelines.extract.raw_retention import expire

    client = s3.client()
    for day in ("2026-10-01", "2026-10-29", "2026-11-28"):
        for prefix, name in (("raw", "data.jsonl.gz"), ("quarantine", "raw.jsonl.gz")):
            key = f"{prefix}/students/schooljaar=2026-27/instelling=990011/date={day}/{name}"
            client.put_object(Bucket=bucket, Key=key, Body=b"x")
    client.put_object(Bucket=bucket, Key="clean/students/date=2026-10-01/data.parquet", Body=b"x")
    assert expire(client, bucket, DAY, 30) == 2
    left = sorted(o["Key"] for o in client.list_objects_v2(Bucket=bucket)["Contents"])
    assert not any("2026-10-01" in k for k in left if not k.startswith("clean/"))
    assert "clean/students/date=2026-10-01/data.parquet" in left  # clean/ is not raw
    assert sum("2026-10-29" in k for k in left) == 2


def test_raw_answers_go_to_their_own_store_when_given_one(client, sandbox, s3, bucket):
    """The raw layer apart from clean/ (its own bucket, and in the compose
    topology its own credentials): nothing of it lands in the data bucket."""
    import uuid

    from informat_pipelines.extract.partition import extract_partition

    sandbox.reset(students=40, today=DAY.isoformat())
    store = s3.client()
    raw_bucket = f"raw-{uuid.uuid4().hex[:8]}"
    store.create_bucket(
        Bucket=raw_bucket, CreateBucketConfiguration={"LocationConstraint": "eu-west-1"}
    )
    part = Partition("students", "990011", sandbox.state.schooljaar, DAY)
    run = RunContext(store, bucket, SETTINGS, KEY, raw=(store, raw_bucket))
    outcome = extract_partition(client, run, part)
    assert outcome["success"], outcome["failed"]
    data = [o["Key"] for o in store.list_objects_v2(Bucket=bucket).get("Contents", [])]
    raw = [o["Key"] for o in store.list_objects_v2(Bucket=raw_bucket).get("Contents", [])]
    assert any(k.startswith("clean/students/") for k in data)
    assert not any(k.startswith("raw/") for k in data)
    assert raw == [outcome["keys"]["raw"]] and raw[0].startswith("raw/students/")


def test_the_arrow_memory_a_landing_holds_does_not_grow_with_the_partition(tmp_path):
    """The rows of a row group wait in Arrow until it is written: the most Arrow holds while
    40,000 students land is about what it holds for 10,000 (a school group ten times larger
    may not make a task's peak grow with it)."""
    import pyarrow as pa

    def peak_arrow_bytes(count: int, folder: str) -> int:
        peak = 0

        def records():
            nonlocal peak
            for i in range(count):
                peak = max(peak, pa.total_allocated_bytes())
                relation = {"pRelatie": i, "naam": f"Naam {i}", "adressen": [{"straat": "K"}]}
                yield {"persoonId": f"p{i}", "pPersoon": i, "geslacht": "M", "relaties": [relation]}

        (tmp_path / folder).mkdir()
        land(
            records(),
            Partition("students", "990011", "2026-27", DAY),
            tmp_path / folder,
            RunContext(None, "", ExtractSettings(), KEY),
        )
        return peak

    small, large = peak_arrow_bytes(10_000, "small"), peak_arrow_bytes(40_000, "large")
    assert large < small * 1.2, (small, large)


def test_small_batches_are_gathered_into_row_groups(tmp_path, monkeypatch):
    """At most ``batch_rows`` records are Python objects at once (memory stays flat),
    yet the Parquet file is not cut into row groups of that size."""
    from informat_pipelines.extract import landing

    records = [{"persoonId": f"p{i}", "pPersoon": i, "geslacht": "M"} for i in range(2500)]
    settings = ExtractSettings(batch_rows=1000)
    (tmp_path / "a").mkdir()
    one = land(
        records,
        Partition("students", "990011", "2026-27", DAY),
        tmp_path / "a",
        RunContext(None, "", settings, KEY),
    )
    assert pq.ParquetFile(one.parquet_path).metadata.num_row_groups == 1
    monkeypatch.setattr(landing, "ROW_GROUP_ROWS", 1000)
    (tmp_path / "b").mkdir()
    cut = land(
        records,
        Partition("students", "990011", "2026-27", DAY),
        tmp_path / "b",
        RunContext(None, "", settings, KEY),
    )
    table = pq.read_table(cut.parquet_path)
    assert pq.ParquetFile(cut.parquet_path).metadata.num_row_groups == 3
    assert table.num_rows == 2500 and table["pPersoon"].to_pylist() == list(range(2500))


def test_raw_keeps_what_orjson_refuses_and_non_ascii_as_it_came(tmp_path):
    """The raw copy is written with orjson; a value it refuses (an integer beyond 64 bits, which
    JSON parsing gives) sends its record through the standard library instead of failing."""
    records = [
        {"persoonId": "a", "pPersoon": 1, "naam": "Çelik-Ğül 李", "nieuwVeld": 2**70},
        {"persoonId": "b", "pPersoon": 2, "naam": "Zoë"},
    ]
    result = land(
        records,
        Partition("students", "990011", "2026-27", DAY),
        tmp_path,
        RunContext(None, "", SETTINGS, KEY),
    )
    with gzip.open(result.raw_path, "rt", encoding="utf-8") as raw:
        lines = raw.read().splitlines()
    assert [json.loads(line) for line in lines] == records
    assert "Zoë" in lines[1] and "\\u" not in lines[1]  # UTF-8, not escaped


def test_gx_finds_duplicate_keys_and_values_outside_their_set(tmp_path):
    """The suite's checks on values, run by GX on the landed Parquet file: a key twice and a
    value outside its set fail the partition, naming the column; the instelling is as asked."""
    records = [
        {"persoonId": "a", "pPersoon": 1, "geslacht": "M", "instelnr": "990011"},
        {"persoonId": "a", "pPersoon": 2, "geslacht": "X", "instelnr": "990011"},
        {"persoonId": "c", "pPersoon": 3, "geslacht": "V", "instelnr": "990011"},
    ]
    checked = validate(
        landed(tmp_path, "students", records), ENTITIES["students"], 3, SETTINGS, DAY
    )
    assert not checked.success
    failed = " ".join(checked.failed)
    assert "unique" in failed and "sex" in failed and "instituteNo" not in failed, failed


def test_with_holds_on_a_count_far_from_the_last_good_one_is_left_to_the_review(tmp_path):
    """60 % fewer pupils than the last good run: with holds on (the default) the row count does
    not quarantine it (the comparison by id holds it for a person); with holds off the band
    does, as before; an empty partition fails either way."""
    records = [{"persoonId": f"p{i}", "pPersoon": i} for i in range(40)]
    result = landed(tmp_path, "students", records)
    holds_on = ExtractSettings(insz_mode="pseudonymise")
    holds_off = ExtractSettings(insz_mode="pseudonymise", hold_share=None)
    assert validate(result, ENTITIES["students"], 100, holds_on, DAY).success
    band = validate(result, ENTITIES["students"], 100, holds_off, DAY)
    assert not band.success and any("row_count" in f for f in band.failed), band.failed
    (tmp_path / "empty").mkdir()
    empty = landed(tmp_path / "empty", "students", [])
    assert not validate(empty, ENTITIES["students"], 100, holds_on, DAY).success


def test_a_pupils_own_school_email_lands_and_no_parents_address(tmp_path):
    """The roster export signs a pupil in with the school's address: the pupil's own e-mail of
    type School; a relation's (a parent's) address is never taken."""
    records = [
        {
            "persoonId": "p1",
            "pPersoon": 1,
            "emails": [
                {"email": "ouder@example.org", "type": "Privé"},
                {"email": "leerling1@example.org", "type": "School"},
            ],
            "relaties": [{"emails": [{"email": "mama@example.org", "type": "School"}]}],
        },
        {"persoonId": "p2", "pPersoon": 2, "emails": [{"email": "x@example.org", "type": "Privé"}]},
    ]
    result = landed(tmp_path, "students", records)
    emails = pq.read_table(result.parquet_path)["email"].to_pylist()
    assert emails == ["leerling1@example.org", None]
