"""The drop zone's sensor and its trigger, against a real S3 endpoint (moto's server) and a local
folder: they fire on what the push would take, wait in the triggerer when there is nothing, and
say so when the drop zone cannot be read."""

from __future__ import annotations

import asyncio
import threading

import pytest

from ..support.airflow import set_s3_connection

PREFIX = "inschrijvingen"


@pytest.fixture
def zone(s3, bucket, monkeypatch):
    set_s3_connection(monkeypatch, s3)
    return s3.client(), bucket


def first_event(trigger, within: float = 10.0) -> dict:
    async def run():
        async for event in trigger.run():
            return event.payload

    return asyncio.run(asyncio.wait_for(run(), within))


def test_the_trigger_waits_for_a_file_the_push_would_take(zone):
    from informat_airflow.triggers import DropZoneTrigger

    client, bucket = zone
    client.put_object(Bucket=bucket, Key=f"{PREFIX}/inbox/990011/school.csv.part", Body=b"half")
    later = threading.Timer(
        0.5,
        lambda: client.put_object(
            Bucket=bucket, Key=f"{PREFIX}/inbox/990011/school.csv", Body=b"x"
        ),
    )
    later.start()
    classpath, kwargs = DropZoneTrigger("s3", bucket, PREFIX, 0.1).serialize()
    assert classpath == "informat_airflow.triggers.DropZoneTrigger"
    trigger = DropZoneTrigger(**kwargs)
    assert first_event(trigger) == {"status": "found", "files": 1}  # not the .part
    later.join()


def test_the_trigger_keeps_waiting_on_an_empty_inbox(zone):
    from informat_airflow.triggers import DropZoneTrigger

    _, bucket = zone
    with pytest.raises(TimeoutError):  # Airflow's deferral timeout ends this wait
        first_event(DropZoneTrigger("s3", bucket, PREFIX, 0.1), within=0.8)


def test_the_trigger_says_when_the_drop_zone_cannot_be_read(zone):
    from informat_airflow.triggers import DropZoneTrigger

    event = first_event(DropZoneTrigger("s3", "no-such-bucket", PREFIX, 0.1))
    assert event["status"] == "error" and "s3://no-such-bucket/inschrijvingen" in event["message"]


def test_the_sensor_pokes_defers_and_resumes(zone):
    from airflow.sdk.exceptions import AirflowException, TaskDeferred

    from informat_airflow.sensors import DropZoneSensor
    from informat_airflow.triggers import DropZoneTrigger

    client, bucket = zone
    sensor = DropZoneSensor(
        task_id="wait_for_drop", kind="s3", bucket=bucket, prefix=PREFIX,
        poke_interval=60, timeout=14 * 60, soft_fail=True,
    )  # fmt: skip
    assert sensor.poke({}) is False
    with pytest.raises(TaskDeferred) as deferred:  # nothing yet: the triggerer waits
        sensor.execute({})
    assert isinstance(deferred.value.trigger, DropZoneTrigger)
    assert deferred.value.timeout.total_seconds() == 14 * 60
    assert deferred.value.method_name == "execute_complete"
    sensor.execute_complete({}, {"status": "found", "files": 1})
    with pytest.raises(AirflowException, match="cannot be read"):
        sensor.execute_complete({}, {"status": "error", "message": "it cannot be read"})

    client.put_object(Bucket=bucket, Key=f"{PREFIX}/inbox/990011/school.csv", Body=b"x")
    assert sensor.poke({}) is True
    assert sensor.execute({}) is None  # there already: no deferral


def test_the_trigger_waits_for_a_settled_file_in_a_local_drop_zone(tmp_path, monkeypatch):
    import os

    from informat_airflow.triggers import DropZoneTrigger
    from informat_pipelines.voorinschrijvingen.local_zone import LocalDropZone

    from ..support.airflow import set_connection

    root = tmp_path / "dropzone"
    set_connection(monkeypatch, "informat_dropzone", conn_type="fs", extra={"path": str(root)})
    LocalDropZone(root)
    fresh = root / "inbox" / "990011" / "school.csv"
    fresh.parent.mkdir()
    fresh.write_bytes(b"x")  # written a moment ago: perhaps not whole yet
    with pytest.raises(TimeoutError):
        first_event(DropZoneTrigger("local", "", "", 0.1), within=0.8)
    os.utime(fresh, (0, 0))
    assert first_event(DropZoneTrigger("local", "", "", 0.1)) == {"status": "found", "files": 1}
    # a drop zone whose folder is a file cannot be read: said, not waited on
    set_connection(monkeypatch, "informat_dropzone", conn_type="fs", extra={"path": str(fresh)})
    event = first_event(DropZoneTrigger("local", "", "", 0.1))
    assert event["status"] == "error" and "informat_dropzone" in event["message"]
