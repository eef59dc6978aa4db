"""Every country a school writes (a Dutch or English name, an ISO code, the NIS code with or
without its zeros) becomes Informat's 5-character code, from the country code list that ships
in the package; an unknown, ambiguous or stateless value is refused with a Dutch reason, never
guessed; the school group's ``country_codes`` goes first."""

from __future__ import annotations

import csv
import shutil
import subprocess
import sys
from pathlib import Path

import pycountry
import pytest

from informat_pipelines.voorinschrijvingen import (
    PushRun,
    VoorinschrijvingenSettings,
    codes,
    handle_drops,
    parse,
    validate,
)
from informat_pipelines.voorinschrijvingen.local_zone import LocalDropZone

from ..conftest import INSTELLINGSNUMMERS
from ..support.airflow import ROOT
from ..support.voorinschrijvingen import ID_KEY, drop, make_csv, read_report, row

DATA = Path(codes.__file__).parent / "data" / codes.COUNTRY_FILE

# one country per row, written three ways (nationaliteit, geboorteland, a parent's land) as
# secretariats write them -> the code Informat must get
TWENTY = [
    (("Marokko", "MAR", "354"), "00354"),
    (("Turkije", "Turkey", "tr"), "00262"),
    (("Syrië", "SYRIE", "00261"), "00261"),
    (("België", "BEL", "150"), "00150"),
    (("Nederland", "the Netherlands", "NLD"), "00129"),
    (("  frankrijk ", "France", "FR"), "00111"),
    (("Duitsland", "GERMANY", "0103"), "00103"),
    (("Polen", "Poland", "pol"), "00122"),
    (("ROEMENIË", "Romania", "RO"), "00124"),
    (("Oekraïne", "Oekraine", "UKR"), "00143"),
    (("Afghanistan", "AF", "251"), "00251"),
    (("Algerije", "algeria", "DZA"), "00351"),
    (("Democratische Republiek Congo", "Congo-Kinshasa", "COD"), "00306"),
    (("China", "CN", "238"), "00218"),  # two codes in the list: 218 is written
    (("Eswatini", "Swaziland", "331"), "00347"),  # two codes in the list: 347 is written
    (("Noord-Macedonië", "Macedonië", "MK"), "00154"),  # 148 ended in 2019
    (("Verenigd Koninkrijk", "United Kingdom", "GBR"), "00112"),
    (("Griekenland", "Greece", "gr"), "00114"),
    (("Côte d’Ivoire", "Ivoorkust", "CI"), "00309"),
    (("Bezette Palestijnse gebieden", "Palestina", "00273"), "00271"),  # 271 is written
]


def country_rows(table=TWENTY, **changes) -> list[dict[str, str]]:
    return [
        row(
            n,
            nationaliteit=nationality,
            geboorteland=born,
            ouder1_land=address,
            ouder1_straat="Kerkstraat",
            ouder1_huisnummer="1",
            ouder1_postcode="9000",
            ouder1_gemeente="Gent",
            **changes,
        )
        for n, ((nationality, born, address), _) in enumerate(table, start=1)
    ]


def test_twenty_countries_as_schools_write_them_are_pushed_with_informats_codes(
    client, sandbox, tmp_path
):
    zone = LocalDropZone(tmp_path, settle_seconds=0)
    rows = country_rows()
    drop(tmp_path, "landen.csv", make_csv(rows))
    [outcome] = handle_drops(PushRun(zone, client, INSTELLINGSNUMMERS, "run-1", ID_KEY))
    assert outcome.counts["pushed"] == 20 and outcome.counts["rejected"] == 0
    stored = sandbox.state.group.instellingen["990011"].preregistrations
    sent = {s["body"]["lastName"]: s["body"] for s in stored.values()}
    assert len({code for _, code in TWENTY}) == 20
    for values, (_, code) in zip(rows, TWENTY, strict=True):
        body = sent[values["naam"]]
        assert body["nationalityCode"] == code, values["nationaliteit"]
        assert body["countryOfBirthCode"] == code, values["geboorteland"]
        assert body["Relationships"][0]["Address"]["countryCode"] == code, values["ouder1_land"]


@pytest.mark.parametrize(
    ("written", "reason"),
    [
        ("Narnia", "onbekend land; gebruik de Nederlandse of Engelse naam, de ISO-code"),
        ("Marocco", "onbekend land"),  # a typo is not guessed
        ("Marokkaans", "onbekend land"),  # nor an adjective the table does not hold
        ("XX", "onbekend land"),  # the list's marker of 999, not an ISO code
        ("Congo", "de naam past op meer dan één land (00306, 00307)"),
        ("Korea", "de naam past op meer dan één land (00206, 00219)"),
        ("Staatloos", "voor staatlozen bestaat geen landcode"),
        ("geen nationaliteit", "voor staatlozen bestaat geen landcode"),
        ("12345", "onbekende landcode: staat niet in de landenlijst"),
        ("000", "onbekende landcode"),
        ("1", "onbekende landcode"),
    ],
)
def test_an_unknown_country_is_refused_with_a_dutch_reason_and_never_echoed(written, reason):
    _, parsed = parse(make_csv([row(1, nationaliteit=written)]))
    [checked] = validate(parsed, INSTELLINGSNUMMERS, id_key=ID_KEY)
    assert checked.body is None
    [problem] = [p for p in checked.problems if p.startswith("nationaliteit: ")]
    assert reason in problem and len(checked.problems) == 1, checked.problems
    if len(written) > 3:  # a problem names the column, never the cell's value
        assert written.lower() not in problem.lower()


def test_a_refused_country_reaches_the_schools_report(client, tmp_path):
    zone = LocalDropZone(tmp_path, settle_seconds=0)
    drop(tmp_path, "landen.csv", make_csv([row(1, geboorteland="Narnia"), row(2)]))
    [outcome] = handle_drops(PushRun(zone, client, INSTELLINGSNUMMERS, "run-1", ID_KEY))
    assert outcome.counts["rejected"] == 1 and outcome.counts["pushed"] == 1
    reasons = [r["reden"] for r in read_report(outcome.report)]
    assert any(r.startswith("geboorteland: onbekend land") for r in reasons), reasons


def test_the_setting_country_codes_goes_first(client, sandbox, tmp_path):
    setting = {
        "Vlaanderen": "00150",  # a word of the school group's own
        "CHINA": "00238",  # the group writes the other code of a two-code country
        "00999": "00150",  # numeric keys match with or without their zeros
    }
    assert codes.country("vlaanderen", setting) == "00150"
    assert codes.country("Vlaanderen") is None
    assert codes.country("china", setting) == "00238" and codes.country("china") == "00218"
    assert codes.country("999", setting) == "00150" and codes.country("999") == "00999"
    zone = LocalDropZone(tmp_path, settle_seconds=0)
    table = [(("Vlaanderen", "China", "Marokko"), None)]
    drop(tmp_path, "landen.csv", make_csv(country_rows(table)))
    settings = VoorinschrijvingenSettings(country_codes=setting)
    [outcome] = handle_drops(PushRun(zone, client, INSTELLINGSNUMMERS, "run-1", ID_KEY), settings)
    assert outcome.counts["pushed"] == 1
    [stored] = sandbox.state.group.instellingen["990011"].preregistrations.values()
    body = stored["body"]
    assert (body["nationalityCode"], body["countryOfBirthCode"]) == ("00150", "00238")
    assert body["Relationships"][0]["Address"]["countryCode"] == "00354"


@pytest.mark.parametrize(
    ("codes_read", "written"),
    [
        (("218", "238", "CN", "CHN", "China", "china"), "00218"),
        (("271", "273", "PS", "PSE", "Palestine"), "00271"),
        (("331", "347", "SZ", "SWZ", "Swaziland", "Eswatini"), "00347"),
        (("148", "154", "MK", "MKD", "Macedonia", "North Macedonia"), "00154"),
    ],
)
def test_a_country_with_two_codes_is_read_both_ways_and_written_one_way(codes_read, written):
    assert {codes.country(c) for c in codes_read} == {written}


def test_unknown_has_a_code_and_stateless_has_none():
    # 999 is in the list with the names Onbekend / Unknown: a school may say it does not know
    assert {codes.country(c) for c in ("999", "00999", "Onbekend", "unknown")} == {"00999"}
    assert codes.country("staatloos") is None and codes.country("stateless") is None


def test_every_row_of_the_list_is_found_by_its_names_iso_codes_and_number():
    with DATA.open(encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    assert len(rows) == 252 and list(rows[0]) == ["iso2", "name_nl", "name_en", "nis"]
    without_iso3 = set()
    for r in rows:
        expected = "00" + codes.PREFERRED.get(r["iso2"], r["nis"])
        written = [r["nis"], r["nis"].zfill(5), r["name_nl"], r["name_en"]]
        if r["iso2"] not in ("", "XX"):
            iso = pycountry.countries.get(alpha_2=r["iso2"])
            written += [r["iso2"], r["iso2"].lower(), iso.alpha_3 if iso else ""]
            if iso is None:
                without_iso3.add(r["iso2"])
        found = {w: codes.country(w) for w in written if w}
        assert set(found.values()) == {expected}, (r, found)
    # Kosovo's XK is not an ISO code, so it has no ISO-3: a newer pycountry that lost a country's
    # ISO-3 would show here
    assert without_iso3 == {"XK"}
    preferred = {r["nis"] for r in rows if codes.PREFERRED.get(r["iso2"]) == r["nis"]}
    assert preferred == set(codes.PREFERRED.values())


def test_every_alias_names_a_country_of_the_list():
    found = {alias: codes.country(alias) for alias in codes.COUNTRY_ALIASES}
    assert None not in found.values(), found
    assert found["engeland"] == "00112" and found["dr congo"] == "00306"
    assert found["tsjechische republiek"] == "00140"
    assert found["united states of america"] == "00402"


def test_iso3_codes_come_from_pycountry_and_official_long_names_are_not_read():
    # the list has only ISO-2 codes; the ISO-3 codes a school writes are pycountry's
    written = {"MAR": "00354", "tur": "00262", "USA": "00402", "COD": "00306", "cog": "00307"}
    assert {w: codes.country(w) for w in written} == written
    assert codes.country("XKX") is None and codes.country("Kosovo") == "00153"
    assert codes.country("Koninkrijk Marokko") is None


def test_the_table_is_read_once_and_only_when_first_used():
    probe = (
        "import sys\n"
        "from informat_pipelines.voorinschrijvingen import codes\n"
        "assert codes._countries.cache_info().misses == 0\n"  # importing read nothing
        "assert 'pycountry' not in sys.modules\n"  # nor paid pycountry's import
        "assert codes.COUNTRY['mar'] == '00354' and 'pycountry' in sys.modules\n"
        "assert codes.country('Marokko') == codes.COUNTRY['mar'] == '00354'\n"
        "assert codes.country('Turkije') == '00262'\n"
        "assert codes._countries.cache_info().misses == 1\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", probe],
        env={"PYTHONPATH": str(ROOT / "include")},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr[-2000:]


def test_the_country_list_ships_in_the_built_package(tmp_path):
    """A wheel holds a package's data files only when pyproject.toml names them."""
    shutil.copy(ROOT / "pyproject.toml", tmp_path)
    shutil.copytree(
        ROOT / "include", tmp_path / "include", ignore=shutil.ignore_patterns("__pycache__")
    )
    done = subprocess.run(
        [sys.executable, "-c", "from setuptools import setup; setup()", "-q", "build_py",
         "-d", str(tmp_path / "out")],
        cwd=tmp_path, capture_output=True, text=True, timeout=240,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr[-2000:]
    shipped = tmp_path / "out" / DATA.relative_to(ROOT / "include")
    assert shipped.read_bytes() == DATA.read_bytes()
