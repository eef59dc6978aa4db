"""One Informat record as the daily extraction lands it: the values of its typed row and the
record as ``raw/`` keeps it (INSZ pseudonymised or dropped), with the contract check of every
record: a required key missing or a value of the wrong type is counted and named, never a crash.
No Airflow import.

This is the extraction's inner loop (every value of every record), so the work that does not
depend on the record is done once per entity: each column gets its own small converter, made
when the landing starts, instead of deciding per value what the column's type asks."""

from __future__ import annotations

import datetime as dt
import functools
import hmac
from collections import Counter
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

from informat_client import insz

from .schemas import FROM_CALL, SCHOOLJAAR, Column, Entity

if TYPE_CHECKING:
    from .settings import ExtractSettings

Convert = Callable[[dict[str, Any]], Any]


def pseudonymiser(key: bytes) -> Callable[[str], str]:
    """Keyed hash (HMAC-SHA256) of a normalised INSZ: stable per key, not reversible.

    The key is set up once and copied per value. ``hmac.digest(key, ...)`` gives the same
    result in one call, but sets the key up anew each time and lets go of the GIL around it:
    with 5 partitions landing at once, that cost twice the CPU of the same hashes done in one
    thread (OpenSSL contends with itself): 8 to 16% more CPU for the whole extraction."""
    keyed = hmac.new(key, digestmod="sha256")

    def pseudonym(number: str) -> str:
        digest = keyed.copy()
        digest.update(number.encode())
        return digest.hexdigest()

    return pseudonym


class _WrongType(Exception):
    pass


def _as_date(raw: Any) -> dt.date:
    if not isinstance(raw, str):
        raise _WrongType
    return dt.date.fromisoformat(raw[:10])


def _as_int(raw: Any) -> int:
    if isinstance(raw, bool) or not isinstance(raw, int | str):
        raise _WrongType
    return int(raw)


def _as_float(raw: Any) -> float:
    if isinstance(raw, bool) or not isinstance(raw, int | float | str):
        raise _WrongType
    return float(raw)


def _as_bool(raw: Any) -> bool:
    if not isinstance(raw, bool):
        raise _WrongType
    return raw


def _as_string(raw: Any) -> str:
    if isinstance(raw, dict | list):
        raise _WrongType
    return str(raw)


def _as_list(raw: Any) -> list:
    if not isinstance(raw, list):
        raise _WrongType
    return raw


# per column type: the Python type its values mostly arrive as (taken as they are) and the
# conversion of any other value; "insz" values are strings until the row is built (then hashed,
# kept or dropped), "list" values are the items the nested columns read
_CONVERT: dict[str, tuple[type | None, Callable[[Any], Any]]] = {
    "string": (str, _as_string),
    "insz": (str, _as_string),
    "bool": (bool, _as_bool),
    "list": (list, _as_list),
    "date": (None, _as_date),
    "int": (None, _as_int),
    "float": (None, _as_float),
}


class Row:
    """Turns one record into the values of its row and into its raw form, counting what breaks
    the contract."""

    def __init__(
        self,
        entity: Entity,
        call: Mapping[str, str],
        settings: ExtractSettings,
        pseudonymisation_key: bytes | None,
    ) -> None:
        self.entity, self.call, self.mode = entity, call, settings.insz_mode
        self.missing: Counter[str] = Counter()
        self.wrong_type: Counter[str] = Counter()
        self.not_objects = 0
        keyed = pseudonymiser(pseudonymisation_key or b"")

        # a relation's INSZ is hashed for raw/ and again for its row: one HMAC for both
        @functools.lru_cache(maxsize=256)
        def hashed(value: str) -> str:
            return keyed(insz.normalize(value) or value)

        self._hash = hashed
        self._row = self._compile(entity.columns)
        self._scrubbers = self._compile_scrub(entity.columns)

    # ------------------------------------------------------------------------------ values

    def values(self, record: Any) -> dict[str, Any] | None:
        if not isinstance(record, dict):
            self.not_objects += 1
            return None
        return self._row(record)

    def _compile(self, columns: tuple[Column, ...]) -> Convert:
        plain = [(c.name, self._value(c)) for c in columns if c.type not in ("list", "insz")]
        nested = [
            (c.name, self._value(c), self._compile(c.fields)) for c in columns if c.type == "list"
        ]
        numbers = [(*c.insz_columns, self._value(c)) for c in columns if c.type == "insz"]
        pseudonymise, keep, hashed = self.mode == "pseudonymise", self.mode == "keep", self._hash

        def row(record: dict[str, Any]) -> dict[str, Any]:
            out = {name: value(record) for name, value in plain}
            for name, value, item_row in nested:
                items = value(record) or ()
                out[name] = [item_row(item) for item in items if isinstance(item, dict)]
            for hashed_name, kept_name, valid_name, value in numbers:
                found = value(record)
                out[valid_name] = insz.is_valid(found) if found else None
                if pseudonymise:
                    out[hashed_name] = hashed(found) if found else None
                elif keep:
                    out[kept_name] = found
            return out

        return row

    def _value(self, column: Column) -> Convert:
        """The column's value of a record: None when absent or empty, counted when the contract
        asks for it; None and counted when of the wrong type."""
        if column.key in (FROM_CALL, SCHOOLJAAR):
            constant = self.call["key" if column.key == FROM_CALL else "schooljaar"]
            return lambda record: constant
        missing, wrong_type = self.missing, self.wrong_type
        label = column.key if isinstance(column.key, str) else column.name
        read = column.key if callable(column.key) else None
        key: Any  # a field name whenever read is None (a callable key is read, not looked up)
        key, required = column.key, column.required and read is None
        kind, convert = _CONVERT[column.type]

        def converted(record: dict[str, Any]) -> Any:
            raw = read(record) if read else record.get(key)
            if raw is None or raw == "":
                if required:
                    missing[key] += 1
                return None
            if type(raw) is kind:  # most values: already what the column holds
                return raw
            try:
                return convert(raw)
            except (_WrongType, TypeError, ValueError):
                wrong_type[label] += 1
                return None

        return converted

    # --------------------------------------------------------------------------------- raw

    def raw(self, record: Any) -> Any:
        """The record as ``raw/`` keeps it: as Informat answered, but every INSZ field handled as
        ``insz_mode`` says (pseudonymised or dropped), so that raw/ is no back door to what
        clean/ protects. With ``keep``, or for an entity without an INSZ, it is the record."""
        if self._scrubbers is None or not isinstance(record, dict):
            return record
        return self._scrubbers(record)

    def _compile_scrub(self, columns: tuple[Column, ...]) -> Convert | None:  # noqa: C901 - one branch per INSZ shape
        """What scrubs a record of these columns, or None when nothing in them is an INSZ."""
        if self.mode == "keep":
            return None
        fields: list[tuple[str, Convert | None]] = []  # (key, scrub of its items, or None: INSZ)
        for column in columns:
            if not isinstance(column.key, str):
                continue
            if column.type == "insz":
                fields.append((column.key, None))
            elif column.type == "list" and (inner := self._compile_scrub(column.fields)):
                fields.append((column.key, inner))
        if not fields:
            return None
        drop, hashed = self.mode == "drop", self._hash

        def scrub(record: dict[str, Any]) -> dict[str, Any]:
            out = dict(record)
            for key, inner in fields:
                if key not in out:
                    continue
                value = out[key]
                if inner is None:
                    if drop:
                        del out[key]
                    elif value:
                        out[key] = hashed(str(value))
                elif isinstance(value, list):
                    out[key] = [inner(i) if isinstance(i, dict) else i for i in value]
            return out

        return scrub

    def problems(self) -> list[str]:
        found = [f"key '{k}' missing in {n} record(s)" for k, n in sorted(self.missing.items())]
        found += [
            f"key '{k}' of the wrong type in {n} record(s)"
            for k, n in sorted(self.wrong_type.items())
        ]
        if self.not_objects:
            found.append(f"{self.not_objects} record(s) not an object")
        return found
