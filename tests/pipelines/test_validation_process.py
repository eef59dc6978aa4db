"""Great Expectations in a process of its own (issue 13): the same verdict as in the task's own
process, a child that dies fails only the partition waiting for it (with a clear message), and
the next validation starts a new child."""

from __future__ import annotations

import dataclasses
import datetime as dt

import pytest

from informat_pipelines.extract import ExtractSettings
from informat_pipelines.landing import land
from informat_pipelines.quality import validate
from informat_pipelines.schemas import ENTITIES
from informat_pipelines.validation_process import ValidationProcess, ValidationProcessError

DAY = dt.date(2026, 11, 28)
SETTINGS = ExtractSettings(empty_instellingen=("990016",))
GOOD = {"persoonId": "a", "pPersoon": 1, "geboortedatum": "2019-01-01", "geslacht": "M",
        "adressen": [{"straat": "Kerkstraat", "nr": "1"}]}  # fmt: skip


def landed(tmp_path, records, name):
    (tmp_path / name).mkdir()
    return land(records, ENTITIES["students"], "990011", tmp_path / name, SETTINGS, b"k" * 32)


def test_the_child_gives_the_verdict_of_the_tasks_own_process(tmp_path):
    good = landed(tmp_path, [GOOD, {**GOOD, "persoonId": "b", "pPersoon": 2}], "good")
    bad = landed(tmp_path, [GOOD, GOOD, {**GOOD, "geslacht": "X"}], "bad")
    with ValidationProcess() as child:
        for partition, last_good in ((good, None), (bad, 2), (bad, 50)):
            here = validate(partition, ENTITIES["students"], last_good, SETTINGS, DAY)
            there = child(partition, ENTITIES["students"], last_good, SETTINGS, DAY)
            assert dataclasses.asdict(there) == dataclasses.asdict(here)
    assert here.success is False and any("row_count" in f for f in there.failed)
    assert any("unique" in f for f in there.failed)


def test_a_child_that_dies_fails_that_partition_only_and_is_replaced(tmp_path):
    good = landed(tmp_path, [GOOD], "good")
    with ValidationProcess() as child:
        child._child.kill()
        with pytest.raises(ValidationProcessError, match=r"process ended .* students 990011"):
            child(good, ENTITIES["students"], None, SETTINGS, DAY)
        assert child(good, ENTITIES["students"], None, SETTINGS, DAY).success


def test_an_error_inside_the_child_is_told_without_ending_it(tmp_path):
    good = landed(tmp_path, [GOOD], "good")
    missing = dataclasses.replace(good, parquet_path=str(tmp_path / "gone.parquet"))
    with ValidationProcess() as child:
        with pytest.raises(ValidationProcessError, match="validating students 990011 failed"):
            child(missing, ENTITIES["students"], None, SETTINGS, DAY)
        first = child._child
        assert child(good, ENTITIES["students"], None, SETTINGS, DAY).success
        assert child._child is first


def test_a_child_never_asked_is_not_waited_for():
    """A rerun whose partitions were all done before asks nothing: closing does not wait for
    the child's GX import (seconds) to end."""
    with ValidationProcess() as child:
        started = child._child
    assert started.returncode == -9  # killed, not ended by itself after its import
