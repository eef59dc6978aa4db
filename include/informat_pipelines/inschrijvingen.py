"""Inschrijvingen from a CSV drop: read what schools really send, validate row by row, push each
valid row exactly once as a voorinschrijving, and answer with a per-row report. No Airflow import.

The ``preRegistrationId`` of a row is derived from the row's identity (instelling, schooljaar and
INSZ, or name and birth date without one), so a retry, a rerun or the same file dropped twice
never creates a second voorinschrijving; a ledger of every push and Informat's answer makes a
re-drop report rows already pushed without sending them again.
"""

from __future__ import annotations

import csv
import io
import re
import threading
import unicodedata
import uuid
from collections.abc import Callable, Iterable, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, field
from datetime import UTC, date, datetime
from typing import Any

from informat_client import (
    InformatClient,
    InformatError,
    InformatForbiddenError,
    InformatNotFoundError,
    InformatRequestError,
    insz,
)
from informat_client.masking import get_logger
from informat_client.schooljaar import is_valid as is_schooljaar

log = get_logger(__name__)

# a fixed namespace: the same row always gets the same preRegistrationId
ID_NAMESPACE = uuid.UUID("6f4b1e7a-5b0c-4f8e-9a35-2d3c1b7e9f10")

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
YES = {"ja", "j", "yes", "y", "1", "true", "waar", "x"}
NO = {"nee", "n", "no", "0", "false", "onwaar", ""}
SEX = {"m": "M", "man": "M", "jongen": "M", "v": "V", "vrouw": "V", "meisje": "V", "f": "V"}
_DATE_DMY = re.compile(r"^(\d{1,2})[/\-.](\d{1,2})[/\-.](\d{4})$")
_DATE_ISO = re.compile(r"^(\d{4})-(\d{2})-(\d{2})$")

STATUS_TEXT = {
    "pushed": "doorgestuurd",
    "already_pushed": "al eerder doorgestuurd",
    "rejected": "geweigerd",
    "failed": "mislukt",
}


class FileRejected(Exception):
    """The file as a whole cannot be read; the message says why, in Dutch, for the school."""


# ------------------------------------------------------------------- reading


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


# ---------------------------------------------------------------- validation


@dataclass
class Checked:
    row: int
    pre_registration_id: str | None = None
    instellingsnummer: str | None = None
    body: dict[str, Any] | None = None
    problems: list[str] = field(default_factory=list)


def _identity(values: Mapping[str, str], number: str | None, born: date | None) -> str:
    digits = insz.normalize(values.get("rijksregisternummer"))
    if digits:
        who = f"insz:{digits}"
    else:
        name = f"{values.get('naam', '')}|{values.get('voornaam', '')}".casefold()
        who = f"naam:{unicodedata.normalize('NFC', ' '.join(name.split()))}|{born}"
    return f"{number}|{values.get('schooljaar', '').strip()}|{who}"


def validate(rows: Iterable[Row], instellingsnummers: Iterable[str]) -> list[Checked]:
    allowed = set(instellingsnummers)
    seen: dict[str, int] = {}
    out = []
    for row in rows:
        v = row.values
        checked = Checked(row.number)
        problems = checked.problems
        for column, (_, required) in COLUMNS.items():
            if (
                required
                and column not in ("thuisloos", "trekkende_bevolking", "indicatorleerling")
                and not v.get(column)
            ):
                problems.append(f"{column} ontbreekt")
        number = v.get("instellingsnummer", "").strip()
        if number and number not in allowed:
            problems.append(f"instellingsnummer {number} valt buiten de toegang van deze koppeling")
        year = v.get("schooljaar", "")
        if year and not is_schooljaar(year):
            problems.append("schooljaar moet de vorm 2026-27 hebben")
        born = parse_date(v.get("geboortedatum", "")) if v.get("geboortedatum") else None
        if v.get("geboortedatum") and born is None:
            problems.append("geboortedatum is geen geldige datum (dd/mm/jjjj)")
        start = parse_date(v.get("startdatum", "")) if v.get("startdatum") else None
        if v.get("startdatum") and start is None:
            problems.append("startdatum is geen geldige datum (dd/mm/jjjj)")
        if born and not date(1990, 1, 1) <= born <= date.today():
            problems.append("geboortedatum ligt niet in een mogelijke periode")
        sex = SEX.get(v.get("geslacht", "").strip().lower())
        if v.get("geslacht") and sex is None:
            problems.append("geslacht moet M of V zijn")
        number_insz = v.get("rijksregisternummer", "")
        if number_insz and not insz.is_valid(number_insz):
            problems.append("rijksregisternummer is ongeldig (controlegetal klopt niet)")
        flags = {}
        for column in ("thuisloos", "trekkende_bevolking", "indicatorleerling"):
            raw = v.get(column, "").strip().lower()
            if raw in YES:
                flags[column] = True
            elif raw in NO:
                flags[column] = False
            else:
                problems.append(f"{column} moet ja of nee zijn")
        identity = _identity(v, number, born)
        pre_id = str(uuid.uuid5(ID_NAMESPACE, identity))
        if not problems and pre_id in seen:
            problems.append(f"dubbel in het bestand: dezelfde leerling als rij {seen[pre_id]}")
        if not problems:
            seen[pre_id] = row.number
            checked.pre_registration_id = pre_id
            checked.instellingsnummer = number
            checked.body = {
                "preRegistrationId": pre_id,
                "institute": number,
                "schoolyear": year,
                "lastName": v["naam"],
                "firstName": v["voornaam"],
                "dateOfBirth": born.isoformat(),
                "sex": sex,
                "nationalRegistrationNo": insz.normalize(number_insz),
                "countryOfBirthCode": v["geboorteland"].upper(),
                "nationalityCode": v["nationaliteit"].upper(),
                "isHomeless": flags["thuisloos"],
                "migrating": flags["trekkende_bevolking"],
                "isIndicatorPupil": flags["indicatorleerling"],
                "structure": v["structuur"],
                "locationId": v["vestiging"],
                "admgrpId": v["administratieve_groep"],
                "startDate": start.isoformat(),
                "registrationStatus": v["status"],
                "relations": [
                    {
                        "lastName": v["ouder_naam"],
                        "firstName": v["ouder_voornaam"],
                        "type": v.get("ouder_relatie") or None,
                    }
                ],
            }
        out.append(checked)
    return out


# --------------------------------------------------------------------- ledger


class Ledger:
    """Every push and Informat's answer, as immutable batch records (JSON lines) in a store:
    ``load`` reads them all once; ``record`` writes one new object per batch."""

    def __init__(
        self,
        list_keys: Callable[[str], list[str]],
        read: Callable[[str], bytes],
        write: Callable[[str, bytes], None],
        prefix: str = "ledger/inschrijvingen",
    ) -> None:
        self._list, self._read, self._write = list_keys, read, write
        self.prefix = prefix
        self.entries: dict[str, dict[str, Any]] = {}

    def load(self) -> Ledger:
        import json

        for key in sorted(self._list(self.prefix + "/")):
            for line in self._read(key).decode().splitlines():
                if line.strip():
                    entry = json.loads(line)
                    previous = self.entries.get(entry["preRegistrationId"])
                    if previous is None or previous["status"] != "pushed":
                        self.entries[entry["preRegistrationId"]] = entry
        return self

    def pushed(self, pre_registration_id: str) -> dict[str, Any] | None:
        entry = self.entries.get(pre_registration_id)
        return entry if entry and entry["status"] == "pushed" else None

    def record(self, batch_name: str, entries: list[dict[str, Any]]) -> None:
        import json

        if not entries:
            return
        body = "".join(json.dumps(e, sort_keys=True) + "\n" for e in entries).encode()
        self._write(f"{self.prefix}/{batch_name}.jsonl", body)
        for entry in entries:
            if entry["status"] == "pushed" or entry["preRegistrationId"] not in self.entries:
                self.entries[entry["preRegistrationId"]] = entry


# ----------------------------------------------------------------------- push


@dataclass
class RowResult:
    row: int
    status: str  # pushed, already_pushed, rejected, failed
    reason: str
    informat_id: str = ""


def _reason_for(exc: InformatError) -> tuple[str, bool]:
    """Dutch reason and whether the failure is temporary (worth a re-drop)."""
    codes = ", ".join(exc.codes) or str(exc.status)
    if isinstance(exc, InformatForbiddenError):
        return f"geen toegang tot deze instelling bij Informat ({codes})", False
    if isinstance(exc, InformatRequestError | InformatNotFoundError):
        return f"Informat weigerde de inschrijving ({codes})", False
    answer = exc.status or "geen antwoord"
    return f"tijdelijk probleem bij Informat ({answer}); zet het bestand later opnieuw klaar", True


def push(
    client: InformatClient,
    checked: list[Checked],
    ledger: Ledger,
    run_id: str,
    batch_size: int = 100,
    concurrency: int = 4,
) -> list[RowResult]:
    """Push every valid row not pushed before, in batches with bounded concurrency; record each
    batch's answers in the ledger before the next batch starts."""
    results: dict[int, RowResult] = {}
    todo = []
    for item in checked:
        if item.problems:
            results[item.row] = RowResult(item.row, "rejected", "; ".join(item.problems))
            continue
        earlier = ledger.pushed(item.pre_registration_id)
        if earlier:
            results[item.row] = RowResult(
                item.row, "already_pushed", "al eerder doorgestuurd; niet opnieuw verzonden",
                str(earlier.get("informat_id", "")),
            )  # fmt: skip
            continue
        todo.append(item)
    lock = threading.Lock()

    def send(item: Checked) -> dict[str, Any]:
        stamp = datetime.now(UTC).isoformat(timespec="seconds")
        base = {
            "preRegistrationId": item.pre_registration_id,
            "row": item.row,
            "run": run_id,
            "at": stamp,
        }
        try:
            answer = client.save_preregistration(item.instellingsnummer, item.body)
        except InformatError as exc:
            reason, temporary = _reason_for(exc)
            result = RowResult(item.row, "failed" if temporary else "rejected", reason)
            entry = {
                **base,
                "status": "failed" if temporary else "refused",
                "codes": list(exc.codes),
                "http": exc.status,
            }
        else:
            informat_id = str(answer.get("pVoorinschrijving") or answer.get("id") or "")
            created = answer.get("created", True)
            result = RowResult(
                item.row,
                "pushed" if created else "already_pushed",
                "doorgestuurd naar Informat"
                if created
                else "bestond al bij Informat; niet dubbel aangemaakt",
                informat_id,
            )
            entry = {
                **base,
                "status": "pushed",
                "informat_id": informat_id,
                "created": bool(created),
            }
        with lock:
            results[item.row] = result
        return entry

    with ThreadPoolExecutor(max_workers=max(1, concurrency)) as pool:
        for start in range(0, len(todo), batch_size):
            batch = todo[start : start + batch_size]
            entries = list(pool.map(send, batch))
            ledger.record(f"{run_id}-{start // batch_size:05d}", entries)
    return [results[k] for k in sorted(results)]


# --------------------------------------------------------------------- report


def neutralise(cell: str) -> str:
    """A cell a spreadsheet would run as a formula gets a leading apostrophe."""
    return "'" + cell if cell[:1] in ("=", "+", "-", "@", "\t", "\r") else cell


def report_csv(results: Iterable[RowResult], delimiter: str = ";") -> bytes:
    out = io.StringIO()
    writer = csv.writer(out, delimiter=delimiter, lineterminator="\r\n")
    writer.writerow(["rij", "status", "reden", "informat_id"])
    for r in results:
        writer.writerow(
            [str(r.row), STATUS_TEXT[r.status], neutralise(r.reason), neutralise(r.informat_id)]
        )
    return out.getvalue().encode("utf-8-sig")  # with BOM: Excel opens it right


def rejected_report(reason: str) -> bytes:
    return report_csv([RowResult(0, "rejected", reason)])


def summary(results: Iterable[RowResult]) -> dict[str, int]:
    counts = dict.fromkeys(STATUS_TEXT, 0)
    for r in results:
        counts[r.status] += 1
    return counts


def summary_mail(
    file_name: str, counts: Mapping[str, int], report_location: str
) -> tuple[str, str]:
    """Subject and HTML body of the mail to the school: counts only, no personal data."""
    subject = (
        f"[Informat] Inschrijvingen uit {file_name}: {counts['pushed']} doorgestuurd, "
        f"{counts['rejected']} geweigerd, {counts['failed']} mislukt"
    )
    items = "".join(f"<li>{STATUS_TEXT[k]}: {v}</li>" for k, v in counts.items())
    body = (
        f"<html><body><p>Het bestand <b>{file_name}</b> is verwerkt.</p><ul>{items}</ul>"
        f"<p>Het verslag per rij staat in {report_location}. Rijen die mislukten door een "
        "tijdelijk probleem worden opnieuw verstuurd als u het bestand opnieuw klaarzet; rijen "
        "die al doorgestuurd zijn, worden niet dubbel verstuurd.</p></body></html>"
    )
    return subject, body


def as_dicts(results: Iterable[RowResult]) -> list[dict[str, Any]]:
    return [asdict(r) for r in results]


# ---------------------------------------------------------------- one file


@dataclass
class FileOutcome:
    name: str
    run: str
    accepted: bool  # False: the file as a whole was rejected
    message: str
    counts: dict[str, int]
    instellingsnummers: list[str]
    report: str
    final_location: str


def _claimed_files(zone: Any, run_id: str) -> list[Any]:
    """This run's own claimed files first (a retried task resumes them), then new ones."""
    mine = zone.resume(run_id)  # before claiming: what this run claims now is not resumed
    fresh = [c for c in (zone.claim(name, run_id) for name in zone.inbox()) if c is not None]
    return mine + fresh


def handle_drops(
    zone: Any,
    client: InformatClient,
    instellingsnummers: Iterable[str],
    run_id: str,
    batch_size: int = 100,
    concurrency: int = 4,
) -> list[FileOutcome]:
    outcomes = []
    allowed = list(instellingsnummers)
    for claimed in _claimed_files(zone, run_id):
        raw = zone.read(claimed)
        try:
            delimiter, rows = parse(raw)
        except FileRejected as exc:
            report = zone.write_report(claimed, rejected_report(str(exc)))
            final = zone.finish(claimed, ok=False)
            log.warning("file %s rejected: %s", claimed.name, exc)
            outcomes.append(
                FileOutcome(
                    claimed.name, claimed.run, False, str(exc), summary([]), [], report, final
                )
            )
            continue
        checked = validate(rows, allowed)
        ledger = Ledger(zone.list_keys, zone.read_key, zone.write_key).load()
        results = push(client, checked, ledger, claimed.run, batch_size, concurrency)
        report = zone.write_report(claimed, report_csv(results, delimiter))
        final = zone.finish(claimed, ok=True)
        counts = summary(results)
        numbers = sorted(
            {
                c.instellingsnummer or r.values.get("instellingsnummer", "")
                for c, r in zip(checked, rows, strict=True)
            }
            - {""}
        )
        log.info("file %s: %d row(s): %s", claimed.name, len(rows), counts)
        outcomes.append(
            FileOutcome(claimed.name, claimed.run, True, "verwerkt", counts, numbers, report, final)
        )
    return outcomes
