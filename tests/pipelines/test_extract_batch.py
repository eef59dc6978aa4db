"""The extraction in batches : partitions of a batch read Informat a few at a time,
each with its own outcome; a failed partition is retried alone (the others left their markers);
a later run of the day skips what is clean, unless asked to refresh; the report collects every
outcome, also of a batch that failed."""

from __future__ import annotations

import json
import threading
from datetime import date

from informat_pipelines.extract.batch import (
    DERIVED_ORDER,
    collect,
    extract_batch,
    is_derived,
    marker_key,
    plan,
    share_of,
)
from informat_pipelines.extract.schemas import ENTITIES
from informat_pipelines.extract.settings import ExtractSettings
from informat_pipelines.extract.shapes import Partition, RunContext

DAY = date(2026, 11, 28)


def units(entity="students", count=5):
    return [Partition(entity, f"99{i:04d}", "2026-27", DAY) for i in range(count)]


def run_of(store, bucket, run_id, reuse_clean=True):
    return RunContext(store, bucket, ExtractSettings(), run_id=run_id, reuse_clean=reuse_clean)


class Client:
    made = 0

    def __init__(self):
        Client.made += 1

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False


def fake(failing=(), quarantined=(), held=()):
    calls: list[str] = []
    lock = threading.Lock()

    def extract(client, unit, gate):
        with lock:
            calls.append(unit.key)
        if unit.key in failing:
            raise ConnectionError("Informat down")
        ok = unit.key not in quarantined
        outcome = {**unit.as_dict(), "rows": 3, "success": ok, "failed": [] if ok else ["expect_x"]}
        if unit.key in held:  # valid, but held for review: not published
            outcome["held"] = {"added": 3, "removed": 0, "changed": 0, "decision": None}
        return outcome

    return extract, calls


def test_each_task_takes_its_share_of_every_entity_the_long_listings_first():
    planned = plan(
        ["990001", "990002", "990003"], {"TG-B": {}, "TG-A": {}}, "2026-27", date(2026, 11, 28)
    )
    assert len(planned) == 6 * 3 + 2  # six entities per instelling, invoices per toegangsgroep
    assert planned[0] == Partition("students", "990001", "2026-27", DAY)
    shares = [share_of(planned, i, 2) for i in range(2)]
    assert [(u.entity, u.key) for u in shares[1]] == [
        ("students", "990002"), ("registrations", "990001"), ("registrations", "990003"),
        ("employees", "990002"), ("assignments", "990001"), ("assignments", "990003"),
        ("interruptions", "990002"), ("own_fields", "990001"), ("own_fields", "990003"),
        ("invoices", "TG-B"),
    ]  # fmt: skip
    assert sorted(map(str, shares[0] + shares[1])) == sorted(map(str, planned))  # none twice
    assert share_of(planned[:1], 1, 2) == []  # more tasks than partitions: one idles


def test_the_derived_partitions_come_after_those_read_from_informat():
    """Built from the clean files of the instelling's other partitions: planned after them,
    per instelling, never for a toegangsgroep, and never in an extract task's share."""
    planned = plan(["990001", "990002"], ["TG-A"], "2026-27", DAY, derived=True)
    read = [u for u in planned if not is_derived(u)]
    derived = [u for u in planned if is_derived(u)]
    assert read == plan(["990001", "990002"], ["TG-A"], "2026-27", DAY)
    assert planned == read + derived
    assert sorted({u.entity for u in derived}) == sorted(DERIVED_ORDER)
    assert {u.key for u in derived} == {"990001", "990002"}
    assert all(ENTITIES[u.entity].derived_from for u in derived)
    assert not any(ENTITIES[u.entity].derived_from for u in read)


def test_a_failed_partition_is_retried_alone_and_clean_ones_are_skipped(s3, bucket):
    store = s3.client()
    extract, calls = fake(failing={"990002"}, quarantined={"990003"})
    done, failed = extract_batch(units(), run_of(store, bucket, "run-1"), extract, Client, 2)
    assert failed == ["students 990002: ConnectionError"] and len(done) == 4
    assert sorted(calls) == ["990000", "990001", "990002", "990003", "990004"]

    # the retry of the same run: only the failed one (the quarantined one is this run's outcome)
    extract, calls = fake()
    done, failed = extract_batch(units(), run_of(store, bucket, "run-1"), extract, Client, 2)
    assert calls == ["990002"] and failed == [] and len(done) == 5
    assert len(collect(run_of(store, bucket, "run-1"), units())) == 5

    # a later run of the day: the clean ones skipped, the quarantined one read again
    extract, calls = fake()
    extract_batch(units(), run_of(store, bucket, "run-2"), extract, Client, 2)
    assert calls == ["990003"]
    # unless asked to refresh
    extract, calls = fake()
    extract_batch(units(), run_of(store, bucket, "run-3", reuse_clean=False), extract, Client, 2)
    assert sorted(calls) == ["990000", "990001", "990002", "990003", "990004"]


def test_a_held_partition_is_read_again_by_a_later_run_unless_approved(s3, bucket):
    store = s3.client()
    extract, calls = fake(held={"990001", "990002"})
    extract_batch(units(), run_of(store, bucket, "run-1"), extract, Client, 2)
    # 990001 approved (its marker says so, as holds.release leaves it)
    key = marker_key(units()[1])
    marker = json.loads(store.get_object(Bucket=bucket, Key=key)["Body"].read())
    marker["outcome"]["held"]["decision"] = "approved"
    store.put_object(Bucket=bucket, Key=key, Body=json.dumps(marker).encode())
    # a later run of the day reads again the one held and not approved (not clean), only it
    extract, calls = fake()
    extract_batch(units(), run_of(store, bucket, "run-2"), extract, Client, 2)
    assert calls == ["990002"]


def test_partitions_run_in_parallel_sharing_one_client(s3, bucket):
    started = threading.Barrier(2, timeout=30)

    def extract(client, unit, gate):
        with gate:
            started.wait()  # both threads must be reading at once, or this times out
        return {**unit.as_dict(), "rows": 1, "success": True, "failed": []}

    Client.made = 0
    done, failed = extract_batch(
        units(count=2), run_of(s3.client(), bucket, "run-p"), extract, Client, 2
    )
    assert failed == [] and len(done) == 2 and Client.made == 1  # one token, one pacer


def test_the_bound_holds_while_reading_informat_not_while_validating(s3, bucket):
    """threads=1: one partition reads Informat at a time, but one that waits for its validation
    lets the next one read (all three wait together below, or this times out)."""
    validating = threading.Barrier(3, timeout=30)
    inside, most = [0], [0]
    lock = threading.Lock()

    def extract(client, unit, gate):
        with gate:  # reading Informat
            with lock:
                inside[0] += 1
                most[0] = max(most[0], inside[0])
            threading.Event().wait(0.05)
            with lock:
                inside[0] -= 1
        validating.wait()
        return {**unit.as_dict(), "rows": 1, "success": True, "failed": []}

    done, failed = extract_batch(
        units(count=3), run_of(s3.client(), bucket, "run-g"), extract, Client, 1
    )
    assert failed == [] and len(done) == 3 and most[0] == 1


def test_collect_leaves_out_what_has_no_outcome_of_this_run(s3, bucket):
    store = s3.client()
    extract, _ = fake(failing={"990001"})
    extract_batch(units(count=2), run_of(store, bucket, "run-c"), extract, Client, 1)
    assert [o["key"] for o in collect(run_of(store, bucket, "run-c"), units(count=2))] == ["990000"]


def test_partitions_land_with_fewer_collections_and_the_collector_is_restored(s3, bucket):
    """While the batch runs, what was alive before is frozen out of the cyclic collector and
    young collections are rarer (the CPU goal with partitions at once); after it, as before,
    also after a partition failed."""
    import gc

    from informat_pipelines.extract.gc_tuning import THRESHOLDS

    before = gc.get_threshold()
    seen = []

    def extract(client, unit, gate):
        seen.append((gc.get_threshold(), gc.get_freeze_count() > 0))
        raise ConnectionError("Informat down")

    extract_batch(units(count=2), run_of(s3.client(), bucket, "run-gc"), extract, Client, 2)
    assert seen == [(THRESHOLDS, True)] * 2
    assert gc.get_threshold() == before and gc.get_freeze_count() == 0


def test_a_freeze_made_before_the_batch_is_left_frozen():
    import gc

    from informat_pipelines.extract.gc_tuning import collecting_less

    gc.freeze()
    try:
        with collecting_less():
            pass
        assert gc.get_freeze_count() > 0
    finally:
        gc.unfreeze()
