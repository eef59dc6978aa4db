"""The Informat page's load time on a year of generated history for 20 instellingen, written
through the DAGs' own summary writers; baseline: reading the same year the way a page would
without those summaries (every day's report summary, one object per day)."""

from __future__ import annotations

import json
import os
import statistics
import tempfile
import time
from datetime import date, timedelta

from .report import line

QUICK = os.environ.get("BENCH_QUICK") == "1"


def _median(action, times: int) -> float:
    spent = []
    for _ in range(times):
        started = time.perf_counter()
        action()
        spent.append(time.perf_counter() - started)
    return statistics.median(spent)


def page() -> None:
    from informat_devtools import history
    from informat_devtools.s3 import LocalS3
    from informat_pipelines.voorinschrijvingen.local_zone import LocalDropZone
    from informat_ui.page import render
    from informat_ui.sources import sections

    days = 120 if QUICK else 365
    today = date(2026, 11, 28)
    print(f"\nInformat page: {days} days of history for 20 instellingen; baseline: one report "
          "summary read per day")  # fmt: skip
    s3 = LocalS3().start(buckets=("informat-data",))
    try:
        client = s3.client()
        with tempfile.TemporaryDirectory() as folder:
            zone = LocalDropZone(os.path.join(folder, "dropzone"))  # its state beside it
            started = time.perf_counter()
            state = history.write_year(
                client, "informat-data", zone, today, history.HistoryShape(20, days)
            )
            writing = (time.perf_counter() - started) / days
            numbers = history.instellingen(20)
            rng = history.random.Random(1)
            for offset in range(days):  # what the extraction writes anyway, for the baseline
                day = today - timedelta(days=offset)
                body = json.dumps(history.extraction_summary(day, numbers, rng)).encode()
                client.put_object(
                    Bucket="informat-data", Key=f"reports/date={day}/summary.json", Body=body
                )
            variables = {"informat_rollover_state": state, "informat_rollover_settings": None}

            def load() -> str:
                return render(sections(today, client, zone, variables.get, "informat-data"))

            def scan() -> None:
                paginator = client.get_paginator("list_objects_v2")
                for listing in paginator.paginate(Bucket="informat-data", Prefix="reports/"):
                    for item in listing.get("Contents", []):
                        json.loads(
                            client.get_object(Bucket="informat-data", Key=item["Key"])[
                                "Body"
                            ].read()
                        )

            load()  # warm: imports and connections
            page_s = _median(load, 7)
            scan_s = _median(scan, 3)
        line("page load (all four sections, median of 7)", f"{page_s:.3f} s")
        line("baseline: scan of every day's report summary", f"{scan_s:.3f} s")
        line("page / baseline", f"{page_s / scan_s:.2f}")
        line("goal: under 1 s", "holds" if page_s < 1.0 else "does NOT hold")
        line("what the DAGs add per daily run (all summaries)", f"{writing * 1000:.0f} ms")
        line("page size", f"{len(load()) / 1024:.0f} KiB")
    finally:
        s3.stop()
