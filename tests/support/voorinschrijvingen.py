"""Building and reading the CSV files of the voorinschrijvingen tests, and answering the push's
review (Airflow's approval) beside a dag.test() run."""

from __future__ import annotations

import csv
import io
import os
import threading
import time
from datetime import date

from informat_client import insz
from informat_pipelines.voorinschrijvingen import COLUMNS

HEADER = list(COLUMNS)


def letters(n: int) -> str:
    """A number written in letters (a name holds no digits): 12 -> "bc"."""
    return "".join("abcdefghij"[int(d)] for d in str(n))


def row(n: int, **changes) -> dict[str, str]:
    born = date(2019, 1, 1 + n % 28)
    values = {
        "instellingsnummer": "990011",
        "schooljaar": "2026-27",
        "naam": f"Peeters-{letters(n)}",
        "voornaam": "Zoë",
        "geboortedatum": born.strftime("%d/%m/%Y"),
        "geslacht": "V",
        "rijksregisternummer": insz.format_dotted(insz.make(born, 2 + 2 * (n % 400))),
        "geboorteland": "BE",
        "nationaliteit": "be",
        "thuisloos": "nee",
        "trekkende_bevolking": "nee",
        "indicatorleerling": "ja",
        "structuur": "lager",
        "vestiging": "1",
        "administratieve_groep": "040102",
        "startdatum": "2026-09-01",
        "status": "niet gerealiseerd",
        "ouder1_naam": "Peeters",
        "ouder1_voornaam": "An",
        "ouder1_relatie": "moeder",
    }
    values.update(changes)
    return values


def make_csv(rows, delimiter=";", encoding="utf-8", bom=False, newline="\r\n") -> bytes:
    out = io.StringIO()
    writer = csv.writer(out, delimiter=delimiter, lineterminator=newline)
    writer.writerow(HEADER)
    for values in rows:
        writer.writerow([values.get(c, "") for c in HEADER])
    data = out.getvalue().encode(encoding)
    return (b"\xef\xbb\xbf" + data) if bom else data


def drop(zone_root, name: str, raw: bytes, instelling: str = "990011"):
    """A file in the school's folder ``inbox/<instelling>/`` (``instelling=""``: in ``inbox/``
    itself, where no school's file belongs)."""
    folder = zone_root / "inbox" / instelling if instelling else zone_root / "inbox"
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    path.write_bytes(raw)
    os.utime(path, (0, 0))  # settled long ago
    return path


def read_report(path: str) -> list[dict]:
    with open(path, encoding="utf-8-sig") as handle:
        return list(csv.DictReader(handle, delimiter=";"))


ID_KEY = b"test-key-for-preregistration-ids-32+bytes"  # the deployment's secret in production


class Answer(threading.Thread):
    """Answers the review of a dag.test() run of the push from beside it, as the REST API's
    ``PATCH /api/v2/dags/informat_inschrijvingen_push/dagRuns/{run}/taskInstances/review/-1/
    hitlDetails`` does (the same writes to the HITL detail, the same resume of the task parked
    in AWAITING_INPUT): ``option`` "Approve" or "Reject". ``option`` None: nobody answers, and
    once the review's ``response_timeout`` has passed the scheduler's own timeout sweep applies
    its default. dag.test() never resolves a waiting review itself: it waits for this.
    ``at_question`` is called once the review waits (what Informat holds by then, say)."""

    def __init__(self, option: str | None, at_question=None) -> None:
        super().__init__(daemon=True)
        self.option, self.at_question = option, at_question
        self.done, self.detail, self.seen = threading.Event(), {}, None
        self.error: Exception | None = None  # the last attempt's, for a test that waits in vain

    def run(self) -> None:
        deadline = time.monotonic() + 600
        while not self.done.is_set() and time.monotonic() < deadline:
            try:
                if self._answer():
                    self.done.set()
                    return
            except Exception as exc:  # SQLite busy beside dag.test(): try again
                self.error = exc
            time.sleep(0.5)

    def _answer(self) -> bool:
        from airflow.jobs.job import Job
        from airflow.jobs.scheduler_job_runner import SchedulerJobRunner
        from airflow.models.taskinstance import TaskInstance
        from airflow.models.trigger import handle_event_submit
        from airflow.sdk import timezone
        from airflow.triggers.base import TriggerEvent
        from airflow.utils.session import create_session
        from airflow.utils.state import TaskInstanceState
        from sqlalchemy.orm import joinedload

        with create_session() as session:
            ti = (
                session.query(TaskInstance)
                .filter(
                    TaskInstance.dag_id == "informat_inschrijvingen_push",
                    TaskInstance.task_id == "review",
                    TaskInstance.state == TaskInstanceState.AWAITING_INPUT,
                )
                .options(joinedload(TaskInstance.hitl_detail))
                .one_or_none()
            )
            if ti is None or ti.hitl_detail is None:
                return False
            detail = ti.hitl_detail
            if not self.detail:
                self.detail = {"subject": detail.subject, "body": detail.body,
                               "defaults": detail.defaults}  # fmt: skip
                self.seen = self.at_question() if self.at_question else None
            if self.option is None:
                if ti.trigger_timeout is None or ti.trigger_timeout >= timezone.utcnow():
                    return False
                SchedulerJobRunner(job=Job()).check_awaiting_input_timeouts(session=session)
                return True
            detail.responded_by = {"id": "1", "name": "data team"}
            detail.responded_at = timezone.utcnow()
            detail.chosen_options = [self.option]
            detail.params_input = {}
            session.add(detail)
            handle_event_submit(
                TriggerEvent(detail.as_resume_event_payload()), task_instance=ti, session=session
            )
        return True
