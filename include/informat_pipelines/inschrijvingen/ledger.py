"""The ledger of pushed voorinschrijvingen: every push and Informat's answer, kept in the drop
zone's store, so that a re-drop reports rows already pushed without sending them again."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any


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
