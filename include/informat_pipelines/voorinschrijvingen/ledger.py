"""The ledger of pushed voorinschrijvingen: every push and Informat's answer, and every status
Informat reported later, kept in the drop zone's store as immutable batch objects (JSON lines),
so that a re-drop reports rows already pushed without sending them again, a corrected row is
sent as a change, and the daily follow-up knows which voorinschrijvingen are still open.

An entry holds ids, counts, codes and a hash of the body sent: never a name or an INSZ."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Iterator, Mapping
from typing import Any

PUSHED = "pushed"  # Informat saved it (created or changed)
STATUS = "status"  # a status Informat reported later (open, geaccepteerd, geweigerd)
DECIDED = ("geaccepteerd", "geweigerd")


def body_hash(body: Mapping[str, Any]) -> str:
    """What the school asked for, as a hash: the moment of the pre-registration is left out, so
    the same row dropped on another day is the same request."""
    content = {k: v for k, v in body.items() if k != "preRegistrationDate"}
    return hashlib.sha256(json.dumps(content, sort_keys=True).encode()).hexdigest()


class Ledger:
    """Every push and answer, as immutable batch records (JSON lines) in a store: ``load`` reads
    them all once; ``record`` writes one new object per batch. Entries are merged in the order
    they happened (their ``at``), whatever the order of the objects."""

    def __init__(
        self,
        list_keys: Callable[[str], list[str]],
        read: Callable[[str], bytes],
        write: Callable[[str, bytes], None],
        prefix: str = "ledger/inschrijvingen",  # where the pushes since day one are: kept
    ) -> None:
        self._list, self._read, self._write = list_keys, read, write
        self.prefix = prefix
        self.entries: dict[str, dict[str, Any]] = {}

    def load(self) -> Ledger:
        loaded = []
        for key in self._list(self.prefix + "/"):
            loaded += [json.loads(line) for line in self._read(key).decode().splitlines() if line]
        for entry in sorted(loaded, key=lambda e: e.get("at", "")):
            self._merge(entry)
        return self

    def _merge(self, entry: dict[str, Any]) -> None:
        key = entry["preRegistrationId"]
        current = self.entries.get(key)
        if entry["status"] == STATUS:
            if current is not None and current["status"] == PUSHED:
                current["informat_status"] = entry["informat_status"]
            return
        if entry["status"] == PUSHED or current is None or current["status"] != PUSHED:
            self.entries[key] = dict(entry)

    def pushed(self, pre_registration_id: str) -> dict[str, Any] | None:
        """The latest push of a voorinschrijving, with the latest status Informat reported."""
        entry = self.entries.get(pre_registration_id)
        return entry if entry and entry["status"] == PUSHED else None

    def has_pushed(self, instellingsnummer: str) -> bool:
        """Whether Informat ever saved a voorinschrijving of this instelling through us."""
        return any(
            e["status"] == PUSHED and e.get("instelling") == instellingsnummer
            for e in self.entries.values()
        )

    def still_open(self) -> Iterator[dict[str, Any]]:
        """Every voorinschrijving pushed and not yet accepted or refused (as far as we know)."""
        for entry in self.entries.values():
            decided = entry.get("informat_status", "open") in DECIDED
            if entry["status"] == PUSHED and entry.get("instelling") and not decided:
                yield entry

    def record(self, batch_name: str, entries: list[dict[str, Any]]) -> None:
        if not entries:
            return
        body = "".join(json.dumps(e, sort_keys=True) + "\n" for e in entries).encode()
        self._write(f"{self.prefix}/{batch_name}.jsonl", body)
        for entry in sorted(entries, key=lambda e: e.get("at", "")):
            self._merge(entry)
