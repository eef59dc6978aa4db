"""Building and reading the CSV files of the voorinschrijvingen tests, and answering the push's
review (Airflow's approval) beside a dag.test() run."""

from __future__ import annotations

import csv
import io
import os
from datetime import date

from informat_client import insz
from informat_pipelines.voorinschrijvingen import COLUMNS

HEADER = list(COLUMNS)


def letters(n: int) -> str:
    """A number written in letters (a name holds no digits): 12 -> "bc"."""
    return "".join("abcdefghij"[int(d)] for d in str(n))


def row(n: int, **changes) -> dict[str, str]:
    born = date(2019, 1, 1 + n % 28)
    values = {
        "instellingsnummer": "990011",
        "schooljaar": "2026-27",
        "naam": f"Peeters-{letters(n)}",
        "voornaam": "Zoë",
        "geboortedatum": born.strftime("%d/%m/%Y"),
        "geslacht": "V",
        "rijksregisternummer": insz.format_dotted(insz.make(born, 2 + 2 * (n % 400))),
        "geboorteland": "BE",
        "nationaliteit": "be",
        "thuisloos": "nee",
        "trekkende_bevolking": "nee",
        "indicatorleerling": "ja",
        "structuur": "lager",
        "vestiging": "1",
        "administratieve_groep": "040102",
        "startdatum": "2026-09-01",
        "status": "niet gerealiseerd",
        "ouder1_naam": "Peeters",
        "ouder1_voornaam": "An",
        "ouder1_relatie": "moeder",
    }
    values.update(changes)
    return values


def make_csv(rows, delimiter=";", encoding="utf-8", bom=False, newline="\r\n") -> bytes:
    out = io.StringIO()
    writer = csv.writer(out, delimiter=delimiter, lineterminator=newline)
    writer.writerow(HEADER)
    for values in rows:
        writer.writerow([values.get(c, "") for c in HEADER])
    data = out.getvalue().encode(encoding)
    return (b"\xef\xbb\xbf" + data) if bom else data


def drop(zone_root, name: str, raw: bytes, instelling: str = "990011"):
    """A file in the school's folder ``inbox/<instelling>/`` (``instelling=""``: in ``inbox/``
    itself, where no school's file belongs)."""
    folder = zone_root / "inbox" / instelling if instelling else zone_root / "inbox"
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    path.write_bytes(raw)
    os.utime(path, (0, 0))  # settled long ago
    return path


def read_report(path: str) -> list[dict]:
    with open(path, encoding="utf-8-sig") as handle:
        return list(csv.DictReader(handle, delimiter=";"))


ID_KEY = b"test-key-for-preregistration-ids-32+bytes"  # the deployment's secret in production
