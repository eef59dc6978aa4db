"""The contract's new entities and the roster export at scale: one instelling (the largest, a
quarter of the school group's pupils) taken through the day as the DAG takes it, each step a
whole process against the same sandbox and S3 (moto's server in a process of its own):

1. ``students``: the partition the ``memory`` bench measures, the baseline of this run;
2. ``read``: what the extraction now also reads for the instelling (registrations with their
   classes, employees and, from Personeel, their assignments, interruptions and own fields),
   landed, validated in the GX process and published, as an extract task does it;
3. ``derive``: the DAG's ``derive`` task for the instelling (classes, class memberships, class
   teachers, staff_status, pupil_status built from the clean files of steps 1-2);
4. ``roster``: the roster export of every instelling of the group (all its pupils: the other
   four instellingen taken through steps 1-3 beforehand, untimed) from that clean layer (both
   zips per school), streamed from Parquet by batches; the sign-in name from a pattern on the
   personId, so that nobody is left out for want of a school e-mail (the sandbox gives few).

Each step's seconds, rows/s and peak RSS of the task and of its GX process, at two sizes of the
school group; the goal is flat memory: the larger size's peak at most 1.2x the smaller's."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

from .report import line

ROOT = Path(__file__).resolve().parent.parent
QUICK = os.environ.get("BENCH_QUICK") == "1"
NUMBER = "990014"  # the sandbox's largest instelling
NUMBERS = ["990011", "990012", "990013", "990014", "990015"]
DAY = "2026-11-28"  # the sandbox's today
# BENCH_ROSTER_BATCH_ROWS: the export's Parquet rows read at a time (its setting batch_rows), to
# see how much of its peak the batch is; unset, the setting's default
_BATCH = os.environ.get("BENCH_ROSTER_BATCH_ROWS")
ROSTER_BATCH = {"batch_rows": int(_BATCH)} if _BATCH else {}

PROBE = """
import contextlib, datetime as dt, json, resource, sys
sys.path.insert(0, {include!r})
from informat_devtools.s3 import client_for, make_buckets
from informat_client import InformatClient, InformatConfig
from informat_pipelines.extract.batch import extract_batch, extractor, DERIVED_ORDER
from informat_pipelines.extract.derived import deriver
from informat_pipelines.extract.settings import ExtractSettings
from informat_pipelines.extract.shapes import Partition, RunContext
from informat_pipelines.extract.validation_process import ValidationProcess
step, number, day = {step!r}, {number!r}, dt.date.fromisoformat({day!r})
numbers = {numbers!r} if step in ("prepare", "roster") else [number]
s3 = client_for({s3_url!r})
make_buckets(s3, ("informat-data",))
config = InformatConfig.for_host({url!r}, client_id="sandbox-client", client_secret={secret!r},
                                 read_timeout=600, instellingsnummers=tuple(numbers))
entities = {{"students": ("students",),
            "read": ("registrations", "employees", "assignments", "interruptions", "own_fields"),
            "derive": DERIVED_ORDER}}
entities["prepare"] = entities["students"] + entities["read"]
if step == "roster":
    from informat_pipelines.roster_export.export import Target, run as export
    from informat_pipelines.roster_export.settings import RosterSettings
    settings = RosterSettings.from_mapping({{
        "instellingen": {{n: {{"approved_by": "bench", "approved_on": "2026-09-01"}}
                         for n in numbers}},
        "sign_in": "{{personId}}@school.example", **{roster_batch!r}}})
    summary = export(Target(s3, "informat-data", "2026-27", day), numbers, settings)
    assert not summary["failed"] and not summary["held"], summary["schools"]
    rows, failed = {{}}, []
    for school in summary["schools"]:
        rows["users " + school["instelling"]] = school["users"]
    left_out = {{}}
    for school in summary["schools"]:
        for why, n in school["left_out"].items():
            left_out[why] = left_out.get(why, 0) + n
    rows_note = left_out
else:
    rows_note = None
    plan = [(entities[step], None)] if step != "prepare" else [
        (entities["prepare"], None), (DERIVED_ORDER, "derive")]
    done, failed = [], []
    with ValidationProcess() as validate:
        run = RunContext(s3, "informat-data", ExtractSettings(), b"k" * 40, validator=validate,
                         run_id="bench-entities")
        for names, how in plan:
            how = "derive" if step == "derive" else how
            parts = [Partition(e, n, "2026-27", day) for e in names for n in numbers]
            if how == "derive":
                d, f = extract_batch(parts, run, deriver(run), contextlib.nullcontext)
            else:
                d, f = extract_batch(parts, run, extractor(run), lambda: InformatClient(config))
            done += d
            failed += f
    bad = [o["entity"] for o in done if not o.get("success")]
    assert not failed and not bad, (failed, bad)  # a quarantined table would time less work
    rows = {{}}
    for o in done:
        rows[o["entity"]] = rows.get(o["entity"], 0) + o["rows"]
peak = [int(r.split()[1]) for r in open("/proc/self/status") if r.startswith("VmHWM:")][0]
child = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss  # the GX process, waited for
print(json.dumps({{"rows": rows, "failed": failed, "peak_kb": peak, "child_kb": child,
                  "left_out": rows_note}}))
"""

STEPS = (
    ("students", "students (baseline: the partition the memory bench measures)"),
    ("read", "registrations with classes, employees, assignments, interruptions, own fields"),
    ("derive", "derive: classes, memberships, class teachers, staff_status, pupil_status"),
    ("roster", "roster export (SDS + OneRoster zips) from the clean layer"),
)


def _step(step: str, sandbox, s3) -> tuple[float, dict]:
    script = PROBE.format(
        include=str(ROOT / "include"), step=step, number=NUMBER, numbers=NUMBERS, day=DAY,
        roster_batch=ROSTER_BATCH,
        url=sandbox.url,
        secret=sandbox.secret, s3_url=s3.url,
    )  # fmt: skip
    started = time.perf_counter()
    out = subprocess.run(
        [sys.executable, "-c", script], cwd=ROOT, capture_output=True, text=True, timeout=3600
    )
    elapsed = time.perf_counter() - started
    if out.returncode != 0:
        raise RuntimeError(f"{step}: {out.stderr[-2000:]}")
    return elapsed, json.loads(out.stdout.strip().splitlines()[-1])


def _rows(figure: dict) -> int:
    rows = figure["rows"]
    return sum(rows.values()) if isinstance(rows, dict) else rows


def entities() -> None:
    from .__main__ import S3Process, Sandbox

    sizes = (20_000, 50_000) if QUICK else (20_000, 200_000)
    print(f"\nNew entities and the roster export: instelling {NUMBER} (a quarter of the group) "
          "through the day, each step a whole process (goal: each process under 300 MB; the "
          f"peak at {sizes[1]:,} at most 1.2x the one at {sizes[0]:,})")  # fmt: skip
    figures: dict[int, dict[str, tuple[float, dict]]] = {}
    for size in sizes:
        sandbox, s3 = Sandbox(size), S3Process()
        try:
            # in order: each step reads what the one before it published
            figures[size] = {step: _step(step, sandbox, s3) for step, _ in STEPS[:3]}
            prepared, _ = _step("prepare", sandbox, s3)  # the other schools, for the export
            figures[size]["roster"] = _step("roster", sandbox, s3)
        finally:
            sandbox.stop()
            s3.stop()
        print(f"  {size:,} students in the group (the other four instellingen through steps "
              f"1-3 for the export: {prepared:.0f} s, not counted):")  # fmt: skip
        for step, title in STEPS:
            seconds, f = figures[size][step]
            rows = _rows(f)
            most = max(f["peak_kb"], f["child_kb"]) / 1024
            what = "users exported" if step == "roster" else "rows"
            gx = f"GX process {f['child_kb'] / 1024:,.0f} MB" if f["child_kb"] else "no GX"
            line(f"{title}",
                 f"{rows:,} {what} in {seconds:.1f} s ({rows / seconds:,.0f}/s); task "
                 f"{f['peak_kb'] / 1024:,.0f} MB, {gx} "
                 f"({'holds' if most < 300 else 'does NOT hold'} < 300 MB)")  # fmt: skip
            if f.get("left_out"):
                line("  left out (by the status tables)",
                     ", ".join(f"{k} {v:,}" for k, v in f["left_out"].items()))  # fmt: skip
            if isinstance(f["rows"], dict):
                line("  rows per table", ", ".join(f"{k} {v:,}" for k, v in f["rows"].items()))
    small, large = (figures[s] for s in sizes)
    print(f"  growth {sizes[0]:,} -> {sizes[1]:,} students (goal <= 1.20 for memory):")
    for step, _ in STEPS:
        (s_sec, s), (l_sec, lg) = small[step], large[step]
        parts = [f"rows x{_rows(lg) / max(1, _rows(s)):.1f}, seconds x{l_sec / s_sec:.1f}"]
        for what, key in (("task", "peak_kb"), ("GX", "child_kb")):
            if s[key] and lg[key]:
                ratio = lg[key] / s[key]
                parts.append(f"{what} peak x{ratio:.2f} "
                             f"({'holds' if ratio <= 1.2 else 'does NOT hold'})")  # fmt: skip
        line(step, "; ".join(parts))
