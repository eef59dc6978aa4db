"""Parse time of each DAG file, as the dag-processor pays it (each file in a process of its
own, after Airflow itself), against a minimal DAG file parsed the same way."""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
from pathlib import Path

from .report import line

ROOT = Path(__file__).resolve().parent.parent


MINIMAL_DAG = """
from datetime import datetime
from airflow.sdk import CronTriggerTimetable, dag, task

@dag(schedule=CronTriggerTimetable("0 5 * * *", timezone="Europe/Brussels"),
     start_date=datetime(2026, 1, 1), catchup=False)
def minimal():
    @task
    def one() -> int:
        return 1
    one()

minimal()
"""


def _parse_seconds(module: str, folder: str, env: dict[str, str]) -> float:
    """One DAG file imported in a fresh interpreter after Airflow itself (as the dag-processor
    parses each file in a process of its own); the median of three."""
    probe = (
        f"import sys, time; sys.path[:0] = [{folder!r}, 'include']; import airflow.sdk;"
        f"t = time.perf_counter(); import {module}; print(time.perf_counter() - t)"
    )
    runs = [
        float(
            subprocess.run(
                [sys.executable, "-c", probe], cwd=ROOT, capture_output=True, text=True,
                check=True, env=env,
            ).stdout
        )
        for _ in range(3)
    ]  # fmt: skip
    return sorted(runs)[1]


def dag_parse() -> None:
    print(
        "\nDAG files: parse time of each, beyond a minimal DAG file (one task) parsed the same way"
    )
    env = {**os.environ, "INFORMAT_DATA_TEAM": "datateam@example.org"}
    with tempfile.TemporaryDirectory() as folder:
        Path(folder, "minimal_dag.py").write_text(MINIMAL_DAG)
        base = _parse_seconds("minimal_dag", folder, env)
    line("baseline: a minimal DAG file", f"{base * 1000:.0f} ms")
    worst = 0.0
    for path in sorted((ROOT / "dags").glob("*.py")):
        for zone in ("s3", "local") if "push" in path.stem else ("s3",):
            extra = _parse_seconds(path.stem, "dags", {**env, "INFORMAT_DROP_ZONE": zone}) - base
            worst = max(worst, extra) if zone == "s3" or "push" not in path.stem else worst
            label = path.stem + (f" (drop zone {zone})" if "push" in path.stem else "")
            line(label, f"+{extra * 1000:.0f} ms ({(base + extra) / base:.2f}x the baseline)")
    line("goal: each at most +50 ms", "holds" if worst <= 0.05 else "does NOT hold")
