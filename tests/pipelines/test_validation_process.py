"""Great Expectations in a process of its own, so that its import and each validation overlap
the downloads: the same verdict as in the task's own process, a child that dies fails only the
partition waiting for it (with a clear message), and the next validation starts a new child."""

from __future__ import annotations

import dataclasses
import datetime as dt
import gc
import io
import json
import subprocess
import sys
from contextlib import nullcontext

import pytest

from informat_pipelines.extract.landing import land
from informat_pipelines.extract.quality import validate
from informat_pipelines.extract.schemas import ENTITIES
from informat_pipelines.extract.settings import ExtractSettings
from informat_pipelines.extract.shapes import Partition, RunContext
from informat_pipelines.extract.validation_process import (
    ValidationProcess,
    ValidationProcessError,
    request_line,
)

DAY = dt.date(2026, 11, 28)
SETTINGS = ExtractSettings(empty_instellingen=("990016",))
GOOD = {"persoonId": "a", "pPersoon": 1, "geboortedatum": "2019-01-01", "geslacht": "M",
        "adressen": [{"straat": "Kerkstraat", "nr": "1"}]}  # fmt: skip


def landed(tmp_path, records, name):
    (tmp_path / name).mkdir()
    return land(
        records,
        Partition("students", "990011", "2026-27", DAY),
        tmp_path / name,
        RunContext(None, "", SETTINGS, b"k" * 32),
    )


def test_the_child_gives_the_verdict_of_the_tasks_own_process(tmp_path):
    good = landed(tmp_path, [GOOD, {**GOOD, "persoonId": "b", "pPersoon": 2}], "good")
    bad = landed(tmp_path, [GOOD, GOOD, {**GOOD, "geslacht": "X"}], "bad")
    banded = dataclasses.replace(SETTINGS, hold_share=None)  # no holds: the count band applies
    with ValidationProcess() as child:
        for partition, last_good in ((good, None), (bad, 2), (bad, 50)):
            here = validate(partition, ENTITIES["students"], last_good, banded, DAY)
            there = child(partition, ENTITIES["students"], last_good, banded, DAY)
            assert dataclasses.asdict(there) == dataclasses.asdict(here)
    assert here.success is False and any("row_count" in f for f in there.failed)
    assert any("unique" in f for f in there.failed)


# reads the request and dies before it answers, as a child killed mid-validation does (killing
# the real child from the test races with the parent's check that it is alive before asking)
DIES_WHILE_ASKED = "import sys; sys.stdin.readline(); sys.exit(3)"


def test_a_child_that_dies_fails_that_partition_only_and_is_replaced(tmp_path):
    good = landed(tmp_path, [GOOD], "good")
    with ValidationProcess() as child:
        child._child.kill()
        child._child.wait()
        child._child = subprocess.Popen(
            [sys.executable, "-c", DIES_WHILE_ASKED],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
        )  # fmt: skip
        ended = r"process ended \(exit code 3\) while validating students 990011"
        with pytest.raises(ValidationProcessError, match=ended):
            child(good, ENTITIES["students"], None, SETTINGS, DAY)
        assert child(good, ENTITIES["students"], None, SETTINGS, DAY).success


def test_a_child_found_dead_before_asking_is_replaced_without_failing(tmp_path):
    good = landed(tmp_path, [GOOD], "good")
    with ValidationProcess() as child:
        dead = child._child
        dead.kill()
        dead.wait()
        assert child(good, ENTITIES["students"], None, SETTINGS, DAY).success
        assert child._child is not dead


def test_an_error_inside_the_child_is_told_without_ending_it(tmp_path):
    good = landed(tmp_path, [GOOD], "good")
    missing = dataclasses.replace(good, parquet_path=str(tmp_path / "gone.parquet"))
    with ValidationProcess() as child:
        with pytest.raises(ValidationProcessError, match="validating students 990011 failed"):
            child(missing, ENTITIES["students"], None, SETTINGS, DAY)
        first = child._child
        assert child(good, ENTITIES["students"], None, SETTINGS, DAY).success
        assert child._child is first


def test_the_child_leaves_no_garbage_of_a_validation_for_the_next(tmp_path, monkeypatch):
    """What GX builds for a validation (its suite and expectations) holds reference cycles;
    left to the collector, they raised the child's peak as it validated partition after
    partition (306 MB at 200,000 students). The child frees them before the next request."""
    from informat_pipelines.extract import validation_process

    good = landed(tmp_path, [GOOD, {**GOOD, "persoonId": "b", "pPersoon": 2}], "good")
    monkeypatch.setattr(validation_process, "import_gx", lambda: None)  # this process has GX
    # no freeze here: objects of earlier tests that die while frozen would count as garbage
    monkeypatch.setattr(validation_process, "collecting_less", lambda **_: nullcontext())
    line = request_line(good, ENTITIES["students"], None, SETTINGS, DAY)
    replies = io.StringIO()
    gc.collect()
    validation_process.serve(io.StringIO(line), replies)
    assert json.loads(replies.getvalue())["validation"]["success"]
    assert _garbage_of("great_expectations", "pandas") == []  # without: the suite, 6 expectations


def _garbage_of(*packages: str) -> list[str]:
    """The types, of ``packages``, of what a collection now finds unreachable (other tests'
    garbage aside)."""
    gc.set_debug(gc.DEBUG_SAVEALL)
    try:
        gc.collect()
        found = {type(o).__module__ + "." + type(o).__qualname__ for o in gc.garbage}
    finally:
        gc.set_debug(0)
        gc.garbage.clear()
    return sorted(t for t in found if t.split(".")[0] in packages)


def test_a_child_never_asked_is_not_waited_for():
    """A rerun whose partitions were all done before asks nothing: closing does not wait for
    the child's GX import (seconds) to end."""
    with ValidationProcess() as child:
        started = child._child
    assert started.returncode == -9  # killed, not ended by itself after its import


DEFER_PROBE = """
import datetime as dt, sys, tempfile
from pathlib import Path
sys.path.insert(0, "include")
from informat_pipelines.extract.settings import ExtractSettings
from informat_pipelines.extract.shapes import Partition, RunContext
from informat_pipelines.extract.landing import land
from informat_pipelines.extract.quality import validate
from informat_pipelines.extract.schemas import ENTITIES
from informat_pipelines.extract.validation_process import import_gx
import_gx()
settings = ExtractSettings()
with tempfile.TemporaryDirectory() as d:
    result = land([{"persoonId": "a", "pPersoon": 1}],
                  Partition("students", "990011", "2026-27", dt.date(2026, 11, 28)), Path(d),
                  RunContext(None, "", settings, b"k" * 32))
    assert validate(result, ENTITIES["students"], None, settings, dt.date(2026, 11, 28)).success
print("scipy.stats._stats_py" in sys.modules, "altair.vegalite" in sys.modules)
print(sorted(name for name in ("sqlalchemy", "boto3", "botocore", "google.cloud", "psycopg2")
             if sys.modules.get(name) is not None))
from scipy import stats
import altair
print(round(stats.entropy([1, 1]), 3), altair.Chart.__name__)
"""


def test_the_child_loads_scipy_stats_and_altair_only_when_they_are_used():
    """GX imports them with itself for an expectation the suite does not use (88 MB of the
    process); in a fresh interpreter, a validation leaves them unloaded, and they still work
    when asked for."""
    import subprocess
    import sys

    from ..support.airflow import ROOT

    out = subprocess.run(
        [sys.executable, "-c", DEFER_PROBE], cwd=ROOT, capture_output=True, text=True, check=True
    )
    assert out.stdout.split("\n")[0] == "False False"
    assert out.stdout.split("\n")[2] == "0.693 Chart"


def test_the_child_leaves_gx_s_sql_and_cloud_dependencies_out():
    """Installed beside GX for Airflow and the task, imported by GX when present, never used
    to validate a pandas frame: after a validation in a fresh interpreter, none is loaded."""
    import subprocess
    import sys

    from ..support.airflow import ROOT

    out = subprocess.run(
        [sys.executable, "-c", DEFER_PROBE], cwd=ROOT, capture_output=True, text=True, check=True
    )
    assert out.stdout.split("\n")[1] == "[]"


def test_a_column_only_asked_to_exist_is_read_as_nulls_and_still_asked_for(tmp_path):
    """The frame carries the values the expectations read, the other columns as nulls; a column
    missing from the file still fails its expectation."""
    import great_expectations as gx
    import pyarrow.parquet as pq

    from informat_pipelines.extract.quality import _frame, _suite, _value_columns

    good = landed(tmp_path, [GOOD, {**GOOD, "persoonId": "b", "pPersoon": 2}], "good")
    gx.get_context(mode="ephemeral")
    suite = _suite(gx, ENTITIES["students"], "990011", (1, None), DAY)
    values = _value_columns(suite)
    assert {"personId", "pPersoon", "sex", "dateOfBirth", "instituteNo"} <= values
    assert "addresses" not in values and "lastName" not in values
    frame = _frame(good.parquet_path, ENTITIES["students"], values)
    assert list(frame.columns) == pq.read_schema(good.parquet_path).names
    assert frame["addresses"].isna().all() and list(frame["sex"]) == ["M", "M"]

    table = pq.read_table(good.parquet_path)
    pq.write_table(table.drop_columns(["lastName"]), good.parquet_path)
    result = validate(good, ENTITIES["students"], None, SETTINGS, DAY)
    assert result.failed == ["expect_column_to_exist (lastName): failed"]


def test_the_child_runs_the_parent_s_code():
    """The child's path starts with the folder the parent's package comes from: with the
    package's own folder there instead (as after it moved into extract/), the child imported
    the installed copy, not the checkout the parent runs."""
    from informat_pipelines.extract import validation_process

    probe = (
        "import informat_pipelines.extract.validation_process as v, sys; "
        "print(v.__file__, file=sys.stderr)"
    )
    env = {"PYTHONPATH": validation_process.PACKAGE_ROOT}
    out = subprocess.run(
        [sys.executable, "-c", probe], env=env, capture_output=True, text=True, check=True
    )
    assert out.stderr.strip() == validation_process.__file__


def test_the_child_ends_without_the_interpreter_s_teardown(tmp_path, monkeypatch):
    """After its last answer the child exits at once: the teardown of GX's modules took 0.6 s,
    which the task waited for in close(). Seen from outside: an exit handler registered at
    the child's start-up (a sitecustomize on its path) never runs; its answers all arrive."""
    from informat_pipelines.extract import validation_process

    marker = tmp_path / "teardown-ran"
    (tmp_path / "sitecustomize.py").write_text(
        f"import atexit\natexit.register(lambda: open({str(marker)!r}, 'w').close())\n"
    )
    monkeypatch.setenv("PYTHONPATH", str(tmp_path))
    good = landed(tmp_path, [GOOD, {**GOOD, "persoonId": "b", "pPersoon": 2}], "good")
    child = validation_process.ValidationProcess()
    with child:
        assert child(good, ENTITIES["students"], None, SETTINGS, DAY).success
        process = child._child
    assert process.returncode == 0
    assert not marker.exists()


def test_a_validation_lets_go_of_its_frame(tmp_path, monkeypatch):
    """GX keeps its last context in a module global, and the context the frame it validated:
    alive into the next validation, two partitions' frames were in memory at its peak. Once
    validated (and the collection the child runs after each answer), the frame is gone."""
    import weakref

    from informat_pipelines.extract import quality

    frames = []

    def frame(*args):
        made = read(*args)
        frames.append(weakref.ref(made))
        return made

    read = quality._frame
    monkeypatch.setattr(quality, "_frame", frame)
    good = landed(tmp_path, [GOOD, {**GOOD, "persoonId": "b", "pPersoon": 2}], "good")
    assert validate(good, ENTITIES["students"], None, SETTINGS, DAY).success
    gc.collect()
    assert len(frames) == 1 and frames[0]() is None
