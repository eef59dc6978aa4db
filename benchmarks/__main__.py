"""`make bench`: performance figures, each as a ratio against a baseline measured in the same run.

Everything runs on 127.0.0.1: the sandbox as a separate process (so that the client's memory is
measured alone), moto's S3 server for the PDF archive. Figures are printed; nothing here asserts
on time. Sizes can be lowered with BENCH_QUICK=1.
"""

from __future__ import annotations

import asyncio
import json
import os
import secrets
import subprocess
import sys
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import date
from pathlib import Path

import requests

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "include"))

from informat_client import InformatClient, InformatConfig  # noqa: E402
from informat_devtools.ports import free_port  # noqa: E402

from .dag_run import dag_run, school_group_run  # noqa: E402, F401 (chosen by name in main)
from .dlt_peer import cpu, dlt_peer  # noqa: E402, F401
from .entities import entities  # noqa: E402, F401
from .page import page  # noqa: E402, F401
from .parse import dag_parse  # noqa: E402, F401
from .report import line  # noqa: E402

QUICK = os.environ.get("BENCH_QUICK") == "1"
INSTELLINGEN = ["990011", "990012", "990013", "990014", "990015"]


class Sandbox:
    """The sandbox in its own process."""

    def __init__(self, students: int, pdf_delay: float = 2.0) -> None:
        self.port = free_port()
        self.secret = secrets.token_urlsafe(16)
        env = {**os.environ, "INFORMAT_SANDBOX_CLIENT_SECRET": self.secret}
        env["PYTHONPATH"] = str(ROOT / "include")
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "informat_sandbox", "--port", str(self.port),
             "--students", str(students), "--pdf-delay", str(pdf_delay), "--today", "2026-11-28"],
            env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )  # fmt: skip
        self.url = f"http://127.0.0.1:{self.port}"
        deadline = time.monotonic() + 300 + students / 200  # 200k students: minutes to generate
        while time.monotonic() < deadline:
            try:
                if requests.get(f"{self.url}/_sandbox/health", timeout=1).ok:
                    return
            except requests.RequestException:
                time.sleep(0.3)
        self.proc.kill()  # not left behind to eat a core of the next measurement
        raise RuntimeError("sandbox did not start")

    def config(self, **kwargs) -> InformatConfig:
        return InformatConfig.for_host(
            self.url, client_id="sandbox-client", client_secret=self.secret, **kwargs
        )

    def faults(self, **faults) -> None:
        requests.put(f"{self.url}/_sandbox/faults", json=faults, timeout=10).raise_for_status()

    def stats(self) -> dict:
        return requests.get(f"{self.url}/_sandbox/stats", timeout=10).json()

    def stop(self) -> None:
        self.proc.terminate()
        self.proc.wait(10)


class S3Process:
    """moto's S3 server in a process of its own (an S3 endpoint is a service of its own: in the
    measured process it would take that process's CPU and memory)."""

    def __init__(self) -> None:
        port = free_port()
        self.proc = subprocess.Popen(
            [str(Path(sys.executable).parent / "moto_server"), "-H", "127.0.0.1", "-p", str(port)],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )  # fmt: skip
        self.url = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                requests.get(f"{self.url}/moto-api/", timeout=1)
                return
            except requests.RequestException:
                time.sleep(0.2)
        self.proc.kill()
        raise RuntimeError("moto_server did not start")

    def stop(self) -> None:
        self.proc.terminate()
        self.proc.wait(10)


# ----------------------------------------------------------------- extraction


def delta() -> None:
    """What a daily delta asks of Informat against a full read of the same day."""
    from datetime import UTC, datetime

    students = 3000 if QUICK else 10_000
    share = 0.01  # a school day changes about one record in a hundred
    print(f"\nDelta extraction: {students} students; {share:.0%} of students and registrations "
          "change, a few enrol; calls and bytes of a delta read against a full read")  # fmt: skip
    sandbox = Sandbox(students)
    try:
        client = InformatClient(sandbox.config(read_timeout=120))
        year = "2026-27"

        def read(since: str | None, day: str | None) -> tuple[int, int, int]:
            calls, read_bytes = sandbox.stats().get("requests", 0), client.stats["bytes"]
            records = 0
            for number in INSTELLINGEN:
                records += sum(1 for _ in client.iter_students(number, year, changed_since=since))
                records += sum(
                    1 for _ in client.iter_registrations(number, year, changed_since=day)
                )
            return (
                records,
                sandbox.stats().get("requests", 0) - calls,
                client.stats["bytes"] - read_bytes,
            )

        mark = datetime.now(UTC)
        full_records, full_calls, full_bytes = read(None, None)
        counts = requests.get(f"{sandbox.url}/_sandbox/counts", timeout=10).json()["instellingen"]
        for number in INSTELLINGEN:
            n = int(counts[number]["students"] * share)
            requests.post(
                f"{sandbox.url}/_sandbox/changes/{number}",
                json={"students": n, "registrations": n, "new_students": max(1, n // 4)},
                timeout=30,
            ).raise_for_status()
        since = mark.isoformat(timespec="seconds")
        d_records, d_calls, d_bytes = read(since, mark.date().isoformat())
        line(
            "full read: records / calls / bytes",
            f"{full_records:,} / {full_calls} / {full_bytes:,}",
        )
        line("delta read: records / calls / bytes", f"{d_records:,} / {d_calls} / {d_bytes:,}")
        line(
            "delta bytes as a share of the full read (expected small)",
            f"{d_bytes / full_bytes:.3f}",
        )
        line(
            "delta calls as a share of the full read",
            f"{d_calls / full_calls:.2f} (one per listing)",
        )
    finally:
        sandbox.stop()


def _extract_unit(client: InformatClient, unit: tuple[str, str], settings) -> int:
    from informat_pipelines.extract.landing import land
    from informat_pipelines.extract.partition import fetch
    from informat_pipelines.extract.schemas import ENTITIES
    from informat_pipelines.extract.shapes import Partition, RunContext

    entity, number = unit
    part = Partition(entity, number, "2026-27", date.today())
    with tempfile.TemporaryDirectory() as tmp:
        records = fetch(client, ENTITIES[entity], number, "2026-27", None)
        return land(records, part, Path(tmp), RunContext(None, "", settings, b"k")).rows


def extraction() -> None:
    from informat_pipelines.extract.settings import ExtractSettings

    students = 3000 if QUICK else 10_000
    rps, latency_ms, slots = 20.0, 100, 8
    print(f"\nExtraction: {students} students over {len(INSTELLINGEN)} instellingen, "
          f"{latency_ms} ms latency, sandbox limit {rps:.0f} requests/s, pool of {slots} slots")  # fmt: skip
    sandbox = Sandbox(students)
    try:
        sandbox.faults(latency_ms=latency_ms, rate_limit_rps=rps)
        # as the DAG plans them: the long listings first, so that no slot idles at the end
        units = [(e, n) for e in ("students", "registrations", "employees") for n in INSTELLINGEN]
        settings = ExtractSettings(insz_mode="pseudonymise")

        def run(client: InformatClient, workers: int) -> tuple[float, int, int]:
            """The units on ``workers`` threads sharing one client (one pacer for the pool)."""
            before = sandbox.stats().get("requests", 0)
            started = time.perf_counter()
            with ThreadPoolExecutor(workers) as pool:
                rows = sum(pool.map(lambda u: _extract_unit(client, u, settings), units))
            elapsed = time.perf_counter() - started
            return elapsed, rows, sandbox.stats().get("requests", 0) - before

        paced = InformatClient(sandbox.config(page_size=100, max_requests_per_second=rps * 0.97))
        elapsed, rows, calls = run(paced, slots)
        s_elapsed, s_rows, _ = run(InformatClient(sandbox.config(page_size=100)), 1)
        achieved = calls / elapsed
        line("project (pool of 8, paced): records/s", f"{rows / elapsed:,.0f}")
        line("project: API calls / s", f"{calls} calls in {elapsed:.1f} s = {achieved:.1f}/s")
        line("429 answers during the project's run", str(sandbox.stats().get("429", 0)))
        line("ratio to the rate-limit ceiling (target >= 0.80)", f"{achieved / rps:.2f}")
        line("sequential loop of the same calls: records/s", f"{s_rows / s_elapsed:,.0f}")
        line("ratio to the sequential loop", f"{(rows / elapsed) / (s_rows / s_elapsed):.2f}x")
    finally:
        sandbox.stop()


MEMORY_PROBE = """
import datetime as dt, json, resource, sys
sys.path.insert(0, {include!r})
from informat_devtools.s3 import client_for, make_buckets
from informat_client import InformatClient, InformatConfig
from informat_pipelines.extract.partition import extract_partition
from informat_pipelines.extract.settings import ExtractSettings
from informat_pipelines.extract.shapes import Partition, RunContext
from informat_pipelines.extract.validation_process import ValidationProcess
config = InformatConfig.for_host({url!r}, client_id="sandbox-client", client_secret={secret!r},
                                 read_timeout=600)
s3 = client_for({s3_url!r})  # moto's server in a process of its own
make_buckets(s3, ("informat-data",))
part = Partition("students", {number!r}, "2026-27", dt.date(2026, 11, 28))
with ValidationProcess() as validate, InformatClient(config) as client:
    run = RunContext(s3, "informat-data", ExtractSettings(), b"k" * 40, validator=validate)
    outcome = extract_partition(client, run, part)
peak = [int(r.split()[1]) for r in open("/proc/self/status") if r.startswith("VmHWM:")][0]
child = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss  # the GX process, waited for
print(json.dumps({{"rows": outcome["rows"], "peak_kb": peak, "child_kb": child}}))
"""


def memory() -> None:
    """A task's work for one entity of one instelling (the largest: a quarter of the school
    group's pupils), each a whole process: stream, land, validate in the GX process, publish."""
    sizes = (20_000, 50_000) if QUICK else (20_000, 200_000)
    print("\nMemory: one instelling's students extracted as a task does it (goal: each process "
          f"under 300 MB; the peak at {sizes[1]:,} at most 1.2x the one at {sizes[0]:,})")  # fmt: skip
    figures = {}
    for size in sizes:
        sandbox, s3 = Sandbox(size), S3Process()
        try:
            probe = MEMORY_PROBE.format(
                include=str(ROOT / "include"), url=sandbox.url, secret=sandbox.secret,
                number="990014", s3_url=s3.url,
            )  # fmt: skip
            out = subprocess.run(
                [sys.executable, "-c", probe], capture_output=True, text=True, check=True
            )
            figures[size] = json.loads(out.stdout.strip().splitlines()[-1])
        finally:
            sandbox.stop()
            s3.stop()
        f = figures[size]
        most = max(f["peak_kb"], f["child_kb"]) / 1024
        line(f"{f['rows']:,} students of one instelling ({size:,} in the group)",
             f"task {f['peak_kb'] / 1024:,.0f} MB, its GX process {f['child_kb'] / 1024:,.0f} MB "
             f"({'holds' if most < 300 else 'does NOT hold'})")  # fmt: skip
    small, large = (figures[s] for s in sizes)
    for what, key in (("task", "peak_kb"), ("GX process", "child_kb")):
        ratio = large[key] / small[key]
        line(f"{what}: peak {sizes[1]:,} / {sizes[0]:,} (goal <= 1.20)",
             f"{ratio:.2f} ({'holds' if ratio <= 1.2 else 'does NOT hold'})")  # fmt: skip


# --------------------------------------------------------------------- CSV push


def csv_push() -> None:
    from informat_pipelines.voorinschrijvingen import (
        PushRun,
        VoorinschrijvingenSettings,
        handle_drops,
    )
    from informat_pipelines.voorinschrijvingen.local_zone import LocalDropZone

    rows = 2000 if QUICK else 10_000
    rps = 250.0
    print(f"\nCSV push: a {rows:,}-row file, sandbox limit {rps:.0f} requests/s")
    sandbox = Sandbox(200)
    try:
        sandbox.faults(rate_limit_rps=rps)
        header = ("instellingsnummer;schooljaar;naam;voornaam;geboortedatum;geslacht;"
                  "rijksregisternummer;geboorteland;nationaliteit;thuisloos;trekkende_bevolking;"
                  "indicatorleerling;structuur;vestiging;administratieve_groep;startdatum;status;"
                  "ouder1_naam;ouder1_voornaam;ouder1_relatie")  # fmt: skip
        # rows the push accepts (the template's values): a name holds no digits, so row n's
        # name is n in letters; the administratieve groep is an official number of 6 digits;
        # one school's file, in its own folder (a school pushes only for itself)
        lines = [header] + [
            f"990011;2026-27;Naam-{''.join('abcdefghij'[int(d)] for d in str(n))};"
            f"Fien;{1 + n % 28:02d}/05/2019;V;;BE;BE;nee;nee;nee;lager;1;040102;01/09/2026;"
            "niet gerealiseerd;Voorbeeld;An;moeder"
            for n in range(rows)
        ]
        with tempfile.TemporaryDirectory() as tmp:
            zone = LocalDropZone(Path(tmp) / "dropzone", settle_seconds=0)  # state beside it
            path = Path(tmp) / "dropzone" / "inbox" / "990011" / "groot.csv"
            path.parent.mkdir()
            path.write_text("\n".join(lines), encoding="utf-8")
            os.utime(path, (0, 0))
            client = InformatClient(sandbox.config(max_requests_per_second=rps * 0.97))
            started = time.perf_counter()
            run = PushRun(zone, client, INSTELLINGEN, "bench", b"bench-key-" * 4)
            settings = VoorinschrijvingenSettings(batch_size=200, concurrency=8)
            outcome = handle_drops(run, settings)[0]
            elapsed = time.perf_counter() - started
        if outcome.counts["pushed"] != rows:  # a figure of refused rows would measure nothing
            raise RuntimeError(f"the bench's file was not pushed whole: {outcome.counts}")
        stats = sandbox.stats()
        calls = stats.get("POST leerlingen/preregistrations/*", 0)
        line("rows pushed", f"{outcome.counts['pushed']:,} in {elapsed:.1f} s")
        line("rows per second", f"{outcome.counts['pushed'] / elapsed:,.0f}")
        line("429 answers", str(stats.get("429", 0)))
        line("ratio to the rate-limit ceiling (target >= 0.80)", f"{calls / elapsed / rps:.2f}")
    finally:
        sandbox.stop()


# ---------------------------------------------------------------------- PDFs


def pdfs() -> None:
    from informat_airflow.triggers import PdfJobsTrigger
    from informat_devtools.s3 import LocalS3
    from informat_pipelines.pdf_archive.archive import (
        ArchiveSettings,
        InvoiceBatch,
        archive_ready,
        request_jobs,
    )
    from informat_pipelines.pdf_archive.store import Boto3Store

    delay = 20.0 if QUICK else 40.0
    poke = 30.0
    print(f"\nPDF archive: generation delay {delay:.0f} s; baseline: one sensor per PDF, poke "
          f"mode every {poke:.0f} s")  # fmt: skip
    sandbox = Sandbox(1300 if not QUICK else 400, pdf_delay=delay)
    s3 = LocalS3().start()
    try:
        groups = {"SG-Noord": "990011", "SG-Zuid": "990013", "Internaat-De-Linde": "990015"}
        from informat_client import ToegangsgroepConfig

        config = sandbox.config(
            toegangsgroepen={n: ToegangsgroepConfig(n, i) for n, i in groups.items()}
        )
        client = InformatClient(config)
        # every PDF is asked with regenerate, so each one takes the generation delay
        invoices = [
            i["invoiceId"]
            for year in ("2026-27", "2025-26")
            for i in client.iter_invoices("SG-Noord", year)
        ]
        count = min(len(invoices), 300 if QUICK else 1000)
        chosen = invoices[:count]
        settings = ArchiveSettings(batch_size=200)

        # project: request in batches, wait in triggers (event loop, no worker), archive
        os.environ["AIRFLOW_CONN_INFORMAT_DEFAULT"] = json.dumps(
            {"conn_type": "informat", "host": sandbox.url, "login": "sandbox-client",
             "password": sandbox.secret, "extra": json.dumps({"toegangsgroepen": groups})}
        )  # fmt: skip
        store = Boto3Store(s3.client(), "informat-archive")
        worker_seconds = 0.0
        polls = 0
        started = time.perf_counter()
        batches = [
            chosen[i : i + settings.batch_size] for i in range(0, count, settings.batch_size)
        ]
        jobs_per_batch = []
        t0 = time.perf_counter()
        for batch in batches:
            jobs_per_batch.append(
                request_jobs(client, "SG-Noord", "2026-27", batch, regenerate=True)
            )
        worker_seconds += time.perf_counter() - t0

        async def wait_all():
            triggers = [
                PdfJobsTrigger(
                    "informat_default",
                    "SG-Noord",
                    "990011",
                    list(jobs),
                    time.time() + 600,
                    {"batch_size": 200},
                )
                for jobs in jobs_per_batch
            ]

            async def first(trigger):
                async for event in trigger.run():
                    return event.payload

            return await asyncio.gather(*(first(t) for t in triggers))

        events = asyncio.run(wait_all())
        archived = 0
        t0 = time.perf_counter()
        for jobs, event in zip(jobs_per_batch, events, strict=True):
            polls += event["polls"]
            batch = InvoiceBatch("SG-Noord", "bench", jobs, "990011")
            outcome = archive_ready(client, store, settings, batch, event["results"])
            archived += len(outcome.archived)
        worker_seconds += time.perf_counter() - t0
        project_elapsed = time.perf_counter() - started

        # baseline: a sensor per PDF in poke mode, each holding a worker slot while it waits
        jobs = request_jobs(client, "SG-Noord", "2026-27", chosen, regenerate=True)
        lock = threading.Lock()
        base = {"polls": 0, "slot_seconds": 0.0}

        def sensor(job_id: str) -> None:
            begun = time.perf_counter()
            local = InformatClient(config)
            while True:
                status = local.get_pdf_job("SG-Noord", job_id)["status"]
                with lock:
                    base["polls"] += 1
                if status != "pending":
                    break
                time.sleep(poke)
            with lock:
                base["slot_seconds"] += time.perf_counter() - begun

        started = time.perf_counter()
        threads = [threading.Thread(target=sensor, args=(j,)) for j in jobs]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        base_elapsed = time.perf_counter() - started
        line("PDFs archived (project)", f"{archived} of {count}")
        line("status polls: project / baseline", f"{polls} / {base['polls']} = "
             f"{polls / base['polls']:.2f}")  # fmt: skip
        line("worker-slot seconds while waiting: project / baseline",
             f"0 / {base['slot_seconds']:,.0f} (waiting happens in the triggerer)")  # fmt: skip
        line("worker-slot seconds in all (requests + archiving)", f"{worker_seconds:.1f}")
        line("PDFs per minute: project / baseline (wait only)",
             f"{archived / project_elapsed * 60:,.0f} / {count / base_elapsed * 60:,.0f} = "
             f"{(archived / project_elapsed) / (count / base_elapsed):.2f}")  # fmt: skip
        line("bound: the sandbox's generation delay", f"{delay:.0f} s; project took "
             f"{project_elapsed:.0f} s")  # fmt: skip
    finally:
        s3.stop()
        sandbox.stop()


def main() -> None:
    chosen = sys.argv[1:] or [
        "dag_parse", "memory", "entities", "extraction", "delta", "csv_push", "pdfs", "page", "dag_run",
        "school_group_run", "dlt_peer", "cpu",
    ]  # fmt: skip
    print(f"make bench ({'quick' if QUICK else 'full'}); {time.strftime('%Y-%m-%d %H:%M')}")
    for name in chosen:
        globals()[name]()


if __name__ == "__main__":
    main()
