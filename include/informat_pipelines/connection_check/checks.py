"""Check that the Informat client reaches every configured instelling and toegangsgroep.

For each instelling: one record of the Leerlingen and Personeel API's; for each toegangsgroep: its
state for the schooljaar. The result names what works and what does not, in plain words, and
holds counts and states only (no personal data).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import closing
from typing import Any

from informat_client import InformatClient, InformatError

_PROBES = {
    "leerlingen": lambda client, number, schooljaar: client.iter_students(number, schooljaar),
    "personeel": lambda client, number, schooljaar: client.iter_employees(number),
}


def _first(records: Iterator[dict[str, Any]]) -> bool:
    """True when the listing has at least one record; reads no further than that."""
    with closing(records):  # type: ignore[type-var]
        return next(records, None) is not None


def check_instelling(client: InformatClient, instellingsnummer: str, schooljaar: str) -> dict:
    result: dict[str, Any] = {"instellingsnummer": instellingsnummer, "ok": True, "apis": {}}
    for api, probe in _PROBES.items():
        try:
            has_data = _first(probe(client, instellingsnummer, schooljaar))
            result["apis"][api] = "ok" if has_data else "ok, no records"
        except InformatError as exc:
            result["ok"] = False
            result["apis"][api] = str(exc)
    return result


def check_toegangsgroepen(client: InformatClient, schooljaar: str) -> dict:
    """The state of every configured toegangsgroep for ``schooljaar``, as Informat reports it."""
    config = client.config
    by_instelling: dict[str, list[str]] = {}
    for group in config.toegangsgroepen.values():
        by_instelling.setdefault(group.instellingsnummer, []).append(group.name)
    states: dict[str, str] = {}
    for number, names in sorted(by_instelling.items()):
        try:
            listed = {g["name"]: g for g in client.iter_accessgroups(number, schooljaar)}
        except InformatError as exc:
            states.update({name: f"check failed: {exc}" for name in names})
            continue
        for name in names:
            answered = listed.get(name)
            if answered is None:
                states[name] = "unknown to Informat for this client"
            else:
                states[name] = "active" if answered.get("active") else "not active"
    return {"schooljaar": schooljaar, "toegangsgroepen": states}
