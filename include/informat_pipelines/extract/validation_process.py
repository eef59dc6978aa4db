"""Great Expectations in a process of its own, beside the extraction. No Airflow import.

Importing GX takes seconds of CPU (about 5 s here) and each validation about a second; landing
a partition (JSON to typed rows) is CPU-bound Python too. In one process both share one GIL, so
a batch task used one core of the machine. Here a second process imports GX as soon as the task
starts, while the first partition is still streaming from Informat, and validates partition N
while the task lands partition N+1: the import and the validations are overlapped with work the
task had to do anyway, on the other core.

The two talk JSON lines over the child's stdin and stdout: a landed partition's file path and
counts go in, a :class:`~.quality.Validation` comes out (expectation names and counts, never a
value). A child that dies fails the partition that was waiting for it, with a clear message, and
the next validation starts a new child; the partition is retried like any other failure.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import gc
import importlib.util
import json
import os
import subprocess
import sys
import threading
import types
from pathlib import Path
from typing import IO, Any

from informat_client.masking import get_logger, install, mask

from .gc_tuning import collecting_less
from .landing import Landed
from .quality import Validation
from .schemas import ENTITIES, Entity

log = get_logger(__name__)


class ValidationProcessError(RuntimeError):
    pass


class ValidationProcess:
    """``validate`` with the signature of :func:`.quality.validate`, run in a child process.
    Thread-safe: the batch's threads take turns (one validation at a time, as one core allows).
    Use as a context manager; the child is started at ``__enter__`` so that its GX import
    overlaps the first partition's download."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._child: subprocess.Popen[str] | None = None
        self._asked = False

    def __enter__(self) -> ValidationProcess:
        self._start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _start(self) -> None:
        package_root = str(Path(__file__).resolve().parents[2])  # include/, above the package
        path = os.environ.get("PYTHONPATH")
        env = {**os.environ, "PYTHONPATH": os.pathsep.join(p for p in (package_root, path) if p)}
        self._child = subprocess.Popen(
            [sys.executable, "-m", "informat_pipelines.extract.validation_process"],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
            env=env,
        )

    def close(self) -> None:
        child, self._child = self._child, None
        if child is None:
            return
        if not self._asked:  # every partition was done before (a rerun): no import to wait for
            child.kill()
            child.wait()
            return
        try:
            child.stdin.close()
            child.wait(timeout=30)
        except (OSError, subprocess.TimeoutExpired):
            child.kill()
            child.wait()

    def __call__(
        self,
        landed: Landed,
        entity: Entity,
        last_good: int | None,
        settings: Any,
        today: dt.date,
    ) -> Validation:
        request = request_line(landed, entity, last_good, settings, today)
        with self._lock:
            self._asked = True
            if self._child is None or self._child.poll() is not None:
                self.close()
                self._start()
            child = self._child
            try:
                child.stdin.write(request)
                child.stdin.flush()
                answer = child.stdout.readline()
            except OSError as exc:
                answer = ""
                log.error("validation process: %s", exc)
            if not answer:
                code = child.wait()
                self._child = None
                raise ValidationProcessError(
                    f"the Great Expectations process ended (exit code {code}) while validating "
                    f"{landed.entity} {landed.key}; the partition is retried with the task"
                )
        reply = json.loads(answer)
        if "error" in reply:
            raise ValidationProcessError(
                f"validating {landed.entity} {landed.key} failed: {reply['error']}"
            )
        return Validation(**reply["validation"])


def request_line(
    landed: Landed, entity: Entity, last_good: int | None, settings: Any, today: dt.date
) -> str:
    """What the parent writes to the child for one validation."""
    request = {
        "landed": dataclasses.asdict(landed),
        "entity": entity.name,
        "last_good": last_good,
        "settings": dataclasses.asdict(settings),
        "today": today.isoformat(),
    }
    return json.dumps(request) + "\n"


def serve(requests: IO[str], replies: IO[str]) -> None:
    """The child's loop: one validation per line, until the parent closes stdin."""
    from .quality import validate
    from .settings import ExtractSettings

    import_gx()
    with collecting_less(thresholds=None):  # GX's modules, imported now, are left out
        for line in requests:
            request = json.loads(line)
            try:
                validation = validate(
                    Landed(**request["landed"]),
                    ENTITIES[request["entity"]],
                    request["last_good"],
                    ExtractSettings.from_mapping(request["settings"]),
                    dt.date.fromisoformat(request["today"]),
                )
                reply: dict[str, Any] = {"validation": dataclasses.asdict(validation)}
            except Exception as exc:  # this partition's failure, told to the parent
                reply = {"error": mask(f"{type(exc).__name__}: {exc}")[:500]}
            replies.write(json.dumps(reply) + "\n")
            replies.flush()
            # what GX built for this validation holds cycles (its suite and expectations): freed
            # now, after the answer (the task lands its next partition meanwhile), not left to
            # grow the peak of the next validation
            gc.collect()


# GX imports these with itself for one expectation that the suite does not use (the KL
# divergence: its statistics and its chart), and only calls them inside that expectation's
# methods: a third of the process's memory (88 of 270 MB).
DEFERRED = ("scipy.stats", "altair")


class _Deferred(types.ModuleType):
    """Stands in :data:`sys.modules` for a module until one of its attributes is asked for,
    and then imports it and hands on. ``import name`` reads only ``__spec__``, which is set.
    (The standard library's LazyLoader loads at that ``__spec__`` already.)"""

    def __getattr__(self, attr: str) -> Any:  # called only for what the stand-in lacks
        if sys.modules.get(self.__name__) is self:
            del sys.modules[self.__name__]
        module = importlib.import_module(self.__name__)
        self.__dict__.update(module.__dict__)
        return getattr(module, attr)


def defer(names: tuple[str, ...] = DEFERRED) -> None:
    """Import each of ``names`` when it is first used, not when another module imports it.
    For this process only: it has one thread."""
    for name in names:
        if name in sys.modules:
            continue
        spec = importlib.util.find_spec(name)
        if spec is None:
            continue
        stand_in = _Deferred(name)
        stand_in.__spec__ = spec
        sys.modules[name] = stand_in


def import_gx() -> None:
    """Import GX and pandas now (what makes the child worth starting early)."""
    import pyarrow

    from .quality import quiet_gx

    quiet_gx()
    defer()
    import great_expectations  # noqa: F401
    import pandas  # noqa: F401

    # Arrow's default pool (mimalloc) keeps what a partition's Parquet file took for the next
    # one: 30 MB more at the peak of a 48,000 students' validation than the system's malloc
    pyarrow.set_memory_pool(pyarrow.system_memory_pool())


if __name__ == "__main__":
    import logging

    logging.basicConfig(level=logging.INFO, stream=sys.stderr, format="%(message)s")
    install()
    # stdout carries the replies: anything else the child prints goes to stderr (the task log)
    replies, sys.stdout = sys.stdout, sys.stderr
    serve(sys.stdin, replies)
