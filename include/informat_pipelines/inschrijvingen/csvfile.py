"""Reading a dropped CSV as schools really send it: encodings, delimiters, line ends, a header
with known columns. A file that cannot be read is refused as a whole, with a Dutch message."""

from __future__ import annotations

import csv
import io
import re
import unicodedata
from dataclasses import dataclass
from datetime import date

# CSV column -> (API field, required)
COLUMNS: dict[str, tuple[str, bool]] = {
    "instellingsnummer": ("institute", True),
    "schooljaar": ("schoolyear", True),
    "naam": ("lastName", True),
    "voornaam": ("firstName", True),
    "geboortedatum": ("dateOfBirth", True),
    "geslacht": ("sex", True),
    "rijksregisternummer": ("nationalRegistrationNo", False),
    "geboorteland": ("countryOfBirthCode", True),
    "nationaliteit": ("nationalityCode", True),
    "thuisloos": ("isHomeless", True),
    "trekkende_bevolking": ("migrating", True),
    "indicatorleerling": ("isIndicatorPupil", True),
    "structuur": ("structure", True),
    "vestiging": ("locationId", True),
    "administratieve_groep": ("admgrpId", True),
    "startdatum": ("startDate", True),
    "status": ("registrationStatus", True),
    "ouder_naam": ("relation.lastName", True),
    "ouder_voornaam": ("relation.firstName", True),
    "ouder_relatie": ("relation.type", False),
}
ALIASES = {
    "insz": "rijksregisternummer",
    "rijksregisternr": "rijksregisternummer",
    "instelling": "instellingsnummer",
    "instellingsnr": "instellingsnummer",
    "geboorte_datum": "geboortedatum",
    "sexe": "geslacht",
    "start_datum": "startdatum",
}
_DATE_DMY = re.compile(r"^(\d{1,2})[/\-.](\d{1,2})[/\-.](\d{4})$")
_DATE_ISO = re.compile(r"^(\d{4})-(\d{2})-(\d{2})$")


class FileRejected(Exception):
    """The file as a whole cannot be read; the message says why, in Dutch, for the school."""


def decode(raw: bytes) -> str:
    """UTF-8 (with or without BOM) or Windows-1252; anything else is refused with one message."""
    if not raw or not raw.strip():
        raise FileRejected("Het bestand is leeg.")
    if raw.startswith((b"\xff\xfe", b"\xfe\xff")) or raw[:200].count(b"\x00") > 0:
        if raw.startswith((b"\xff\xfe", b"\xfe\xff")):
            raise FileRejected(
                "Het bestand is in UTF-16 opgeslagen. Sla het op als 'CSV UTF-8' of "
                "'CSV (gescheiden door lijstscheidingsteken)' en zet het opnieuw klaar."
            )
        raise FileRejected("Dit is geen tekstbestand (CSV); het bevat binaire gegevens.")
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        try:
            text = raw.decode("cp1252")
        except UnicodeDecodeError:
            raise FileRejected(
                "De tekencodering van het bestand is onleesbaar; gebruik UTF-8 of Windows-1252."
            ) from None
    controls = sum(1 for ch in text if unicodedata.category(ch) == "Cc" and ch not in "\r\n\t")
    if controls > max(3, len(text) // 100):
        raise FileRejected("Dit is geen tekstbestand (CSV); het bevat binaire gegevens.")
    return text


def _header_key(name: str) -> str:
    key = re.sub(r"[\s\-]+", "_", name.strip().lower().lstrip("\ufeff"))
    return ALIASES.get(key, key)


@dataclass
class Row:
    number: int  # the line's row number in the file, header = 1
    values: dict[str, str]


def parse(raw: bytes) -> tuple[str, list[Row]]:
    """The delimiter and the data rows of a dropped file; the header is checked here."""
    text = decode(raw)
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    lines = text.split("\n")
    first = next((line for line in lines if line.strip()), "")
    delimiter = ";" if first.count(";") >= first.count(",") else ","
    if first.count(delimiter) == 0:
        raise FileRejected(
            "De eerste regel is geen kopregel met kolommen gescheiden door ';' of ','."
        )
    reader = csv.reader(io.StringIO(text), delimiter=delimiter)
    try:
        header = next(reader)
    except (StopIteration, csv.Error) as exc:
        raise FileRejected(f"Het bestand is geen leesbare CSV ({exc}).") from None
    keys = [_header_key(h) for h in header]
    while keys and keys[-1] == "":
        keys.pop()  # trailing delimiters after the last column
    unknown = [h for h, k in zip(header, keys, strict=False) if k not in COLUMNS]
    if unknown:
        raise FileRejected(
            f"Onbekende kolom(men) in de kopregel: {', '.join(repr(u) for u in unknown)}. "
            f"Gebruik het sjabloon; bekende kolommen: {', '.join(COLUMNS)}."
        )
    missing = [c for c, (_, required) in COLUMNS.items() if required and c not in keys]
    if missing:
        raise FileRejected(f"Verplichte kolom(men) ontbreken: {', '.join(missing)}.")
    duplicated = sorted({k for k in keys if keys.count(k) > 1})
    if duplicated:
        raise FileRejected(f"Kolom(men) staan dubbel in de kopregel: {', '.join(duplicated)}.")
    rows = []
    try:
        for record in reader:
            if not any(cell.strip() for cell in record):
                continue  # empty lines, also trailing ones
            padded = record + [""] * (len(keys) - len(record))
            rows.append(Row(reader.line_num, {k: padded[i].strip() for i, k in enumerate(keys)}))
    except csv.Error as exc:
        raise FileRejected(
            f"Het bestand is geen leesbare CSV (regel {reader.line_num}: {exc})."
        ) from None
    if not rows:
        raise FileRejected("Het bestand bevat alleen een kopregel en geen inschrijvingen.")
    return delimiter, rows


def parse_date(value: str) -> date | None:
    value = value.strip()
    match = _DATE_DMY.match(value)
    try:
        if match:
            return date(int(match.group(3)), int(match.group(2)), int(match.group(1)))
        match = _DATE_ISO.match(value)
        if match:
            return date(int(match.group(1)), int(match.group(2)), int(match.group(3)))
    except ValueError:
        return None
    return None
