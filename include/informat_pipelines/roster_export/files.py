"""Writing a file set: CSV files (UTF-8 without a byte-order mark, a header row, RFC 4180 quoting,
``\\r\\n`` line ends) written row by row to a folder, then put in a zip one file at a time.
No Airflow import."""

from __future__ import annotations

import csv
import zipfile
from collections import Counter
from collections.abc import Mapping
from pathlib import Path
from typing import IO, Any

from .schema import FileSpec


def _cell(value: Any) -> str:
    """A value as the specifications want it: dates ISO 8601, booleans true/false, and never a
    line break (SDS refuses them; a name with one would break the row)."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if hasattr(value, "isoformat"):
        return value.isoformat()
    return " ".join(str(value).split()) if any(c in str(value) for c in "\r\n") else str(value)


class FileSet:
    """The CSV files of one format for one school, in ``folder``; each file's header is the
    columns of ``headers`` (a subset of its spec's, in the spec's order)."""

    def __init__(self, folder: Path, specs: Mapping[str, FileSpec], headers: Mapping[str, tuple]):
        self.folder = folder
        folder.mkdir(parents=True, exist_ok=True)
        self.specs = specs
        self.headers = {name: tuple(h) for name, h in headers.items()}
        self.rows: Counter[str] = Counter()
        self._files: dict[str, IO[str]] = {}
        self._writers: dict[str, Any] = {}
        for name, header in self.headers.items():
            unknown = [h for h in header if h not in specs[name].names]
            if unknown:
                raise ValueError(f"{name}: {unknown} are not columns of the specification")
            handle = (folder / name).open("w", encoding="utf-8", newline="")
            self._files[name] = handle
            self._writers[name] = csv.writer(handle, lineterminator="\r\n")
            self._writers[name].writerow(header)

    def write(self, name: str, row: Mapping[str, Any]) -> None:
        unknown = set(row) - set(self.headers[name])
        if unknown:
            raise ValueError(f"{name}: no columns {sorted(unknown)}")
        self._writers[name].writerow([_cell(row.get(h)) for h in self.headers[name]])
        self.rows[name] += 1

    def zip_to(self, path: Path) -> Path:
        for handle in self._files.values():
            handle.close()
        with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as archive:
            for name in self.headers:
                archive.write(self.folder / name, arcname=name)
        return path

    def counts(self) -> dict[str, int]:
        return {name: self.rows[name] for name in self.headers}
