"""Reading a dropped CSV as schools really send it: encodings, delimiters, line ends, a header
with known columns. A file that cannot be read is refused as a whole, with a Dutch message."""

from __future__ import annotations

import csv
import io
import re
import unicodedata
from dataclasses import dataclass
from datetime import date, datetime


# CSV column -> (API field, required)
def _parent(n: int) -> dict[str, bool]:
    """The columns of parent ``n`` (1 or 2): name and relationship, and optional contact and
    address columns."""
    required = n == 1
    columns = {f"ouder{n}_{c}": required for c in ("relatie", "naam", "voornaam")}
    for c in ("telefoon", "gsm", "email", "rijksregisternummer", "straat", "huisnummer", "bus"):
        columns[f"ouder{n}_{c}"] = False
    for c in ("postcode", "gemeente", "land"):
        columns[f"ouder{n}_{c}"] = False
    return columns


# CSV column -> required; the template (templates/inschrijvingen_sjabloon.csv) has them all
COLUMNS: dict[str, bool] = {
    "instellingsnummer": True,
    "schooljaar": True,
    "naam": True,
    "voornaam": True,
    "bijkomende_voornamen": False,
    "geboortedatum": True,
    "geslacht": True,
    "rijksregisternummer": False,
    "geboorteland": True,
    "geboorteplaats": False,
    "nationaliteit": True,
    "thuisloos": True,
    "trekkende_bevolking": True,
    "indicatorleerling": True,
    "structuur": True,
    "vestiging": True,
    "administratieve_groep": True,
    "startdatum": True,
    "status": True,
    "datum_voorinschrijving": False,
    "email": False,
    "gsm": False,
    "opmerking": False,
    **_parent(1),
    **_parent(2),
}
ALIASES = {
    "insz": "rijksregisternummer",
    "rijksregisternr": "rijksregisternummer",
    "instelling": "instellingsnummer",
    "instellingsnr": "instellingsnummer",
    "geboorte_datum": "geboortedatum",
    "sexe": "geslacht",
    "start_datum": "startdatum",
    "ouder_naam": "ouder1_naam",
    "ouder_voornaam": "ouder1_voornaam",
    "ouder_relatie": "ouder1_relatie",
    "e_mail": "email",
}
# a UTF-8 multibyte letter (é, ë, ç, ğ as UTF-8): proof that a file that is not valid UTF-8 mixes
_UTF8_SEQUENCE = re.compile(rb"[\xc2-\xdf][\x80-\xbf]|[\xe0-\xef][\x80-\xbf]{2}")
_DATE_DMY = re.compile(r"^(\d{1,2})[/\-.](\d{1,2})[/\-.](\d{4})$")
_DATE_ISO = re.compile(r"^(\d{4})-(\d{2})-(\d{2})$")


class FileRejected(Exception):
    """The file as a whole cannot be read; the message says why, in Dutch, for the school."""


def decode(raw: bytes) -> str:
    """UTF-8 (with or without BOM), Windows-1252, or UTF-16 with its BOM (Excel's "Unicode
    text", what many secretariats export); anything else is refused with one message."""
    if not raw or not raw.strip():
        raise FileRejected("Het bestand is leeg.")
    if raw.startswith((b"\xff\xfe", b"\xfe\xff")):
        try:
            text = raw.decode("utf-16")
        except UnicodeDecodeError:
            raise FileRejected(
                "Het bestand zegt UTF-16 te zijn maar is onleesbaar; sla het op als 'CSV UTF-8'."
            ) from None
        return _checked_text(text.lstrip("\ufeff"))
    if raw[:200].count(b"\x00") > 0:
        raise FileRejected("Dit is geen tekstbestand (CSV); het bevat binaire gegevens.")
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        if _UTF8_SEQUENCE.search(raw):
            # UTF-8 letters beside bytes that are not: reading it either way would change names
            raise FileRejected(
                "Het bestand mengt twee tekencoderingen (UTF-8 en een andere); sla het opnieuw "
                "op als 'CSV UTF-8' en zet het opnieuw klaar."
            ) from None
        try:
            text = raw.decode("cp1252")
        except UnicodeDecodeError:
            raise FileRejected(
                "De tekencodering van het bestand is onleesbaar; gebruik UTF-8 of Windows-1252."
            ) from None
    return _checked_text(text)


def _checked_text(text: str) -> str:
    controls = sum(1 for ch in text if unicodedata.category(ch) == "Cc" and ch not in "\r\n\t")
    if controls > max(3, len(text) // 100):
        raise FileRejected("Dit is geen tekstbestand (CSV); het bevat binaire gegevens.")
    if not text.strip():
        raise FileRejected("Het bestand is leeg.")
    return text


def _header_key(name: str) -> str:
    key = re.sub(r"[\s\-]+", "_", name.strip().lower().lstrip("\ufeff"))
    return ALIASES.get(key, key)


@dataclass
class Row:
    number: int  # the line's row number in the file, header = 1
    values: dict[str, str]
    extra_cells: int = 0  # filled cells beyond the header's columns: the row is refused


def parse(raw: bytes) -> tuple[str, list[Row]]:
    """The delimiter and the data rows of a dropped file; the header is checked here."""
    text = decode(raw)
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    lines = text.split("\n")
    first = next((line for line in lines if line.strip()), "")
    # ";" (Flemish Excel), "," or a tab (Excel's "Unicode text"): the one the header uses most
    delimiter = max(";,\t", key=first.count)
    if first.count(delimiter) == 0:
        raise FileRejected(
            "De eerste regel is geen kopregel met kolommen gescheiden door ';', ',' of een tab."
        )
    reader = csv.reader(io.StringIO(text), delimiter=delimiter)
    try:
        header = next(reader)
    except (StopIteration, csv.Error) as exc:
        raise FileRejected(f"Het bestand is geen leesbare CSV ({exc}).") from None
    keys = [_header_key(h) for h in header]
    while keys and keys[-1] == "":
        keys.pop()  # trailing delimiters after the last column
    unknown = [str(i) for i, k in enumerate(keys, start=1) if k not in COLUMNS]
    if unknown:
        # positions, never the cells: a file without its header would echo a pupil's data
        raise FileRejected(
            f"Onbekende kolom(men) in de kopregel, op positie {', '.join(unknown[:10])}"
            f"{' …' if len(unknown) > 10 else ''}. Gebruik het sjabloon; bekende kolommen: "
            f"{', '.join(COLUMNS)}."
        )
    missing = [c for c, required in COLUMNS.items() if required and c not in keys]
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
            extra = sum(1 for cell in record[len(keys) :] if cell.strip())
            values = {k: padded[i].strip() for i, k in enumerate(keys)}
            rows.append(Row(reader.line_num, values, extra))
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


_MOMENT = re.compile(r"^(\d{1,2})[/\-.](\d{1,2})[/\-.](\d{4})[ T](\d{1,2}):(\d{2})$")


def parse_moment(value: str) -> datetime | None:
    """A date, or a date and time (``dd/mm/jjjj uu:mm`` or ISO), as a moment."""
    value = value.strip()
    match = _MOMENT.match(value)
    try:
        if match:
            d, m, y, hh, mm = (int(g) for g in match.groups())
            return datetime(y, m, d, hh, mm)
        if "T" in value:
            return datetime.fromisoformat(value).replace(tzinfo=None)
    except ValueError:
        return None
    day = parse_date(value)
    return datetime.combine(day, datetime.min.time()) if day else None
