"""Files that wait for the data team's yes before any row of them goes to Informat: which file
waits and why (``reasons``), keeping it apart in the pipeline's state (``hold``: the file in
``held/<run>/<instellingsnummer>/``, the per-row preview in ``held-review/``), what the approval
shows (``review_body``, ``held_mail``: statuses and reasons per row, never a cell's value).
What the answer means is ``core.decisions``'s; pushing or refusing them is ``drops.settle_held``'s.
No Airflow import: the approval itself is Airflow's human-in-the-loop operator."""

from __future__ import annotations

import html
import json
from dataclasses import dataclass
from typing import Any

from .dropzone import printable
from .ledger import Ledger
from .push import RowResult
from .report import STATUS_TEXT, summary
from .settings import VoorinschrijvingenSettings

REVIEW_PREFIX = "held-review/"
# what a push would do, as the approval says it (the report's words are for what it did)
PREVIEW_TEXT = {**STATUS_TEXT, "pushed": "nieuw", "updated": "wijziging"}
MAX_ROWS_SHOWN = 300  # rows listed per file in the approval; the counts cover them all

REJECTED_TEXT = (
    "Niet doorgestuurd: afgewezen door het data-team. Geen enkele rij van dit bestand is naar "
    "Informat gestuurd. Vraag het data-team waarom, en zet het bestand daarna opnieuw klaar."
)
TIMED_OUT_TEXT = (
    "Niet doorgestuurd: het data-team heeft het bestand niet op tijd goedgekeurd. Geen enkele "
    "rij van dit bestand is naar Informat gestuurd; zet het bestand opnieuw klaar."
)


def reasons(
    preview: list[RowResult],
    ledger: Ledger,
    instellingsnummer: str,
    settings: VoorinschrijvingenSettings,
) -> list[str]:
    """Why a checked file waits for approval ([]: it goes out now). A file of which no row
    would be sent (all refused or sent before) never waits: there is nothing to approve."""
    if not any(r.status in ("pushed", "updated") for r in preview):
        return []
    why = []
    if len(preview) > settings.approval_rows:
        why.append(f"{len(preview)} rijen (meer dan approval_rows = {settings.approval_rows})")
    updates = sum(r.status == "updated" for r in preview)
    if updates > settings.approval_updates:
        why.append(
            f"zou {updates} al doorgestuurde voorinschrijvingen wijzigen (meer dan "
            f"approval_updates = {settings.approval_updates})"
        )
    if not ledger.has_pushed(instellingsnummer):
        why.append(f"eerste bestand van instelling {instellingsnummer}: nog nooit doorgestuurd")
    return why


@dataclass(frozen=True)
class Review:
    """What the approval shows of one held file: ids, reasons and statuses, no cell value."""

    name: str
    instelling: str
    run: str
    reasons: list[str]
    counts: dict[str, int]
    rows: list[tuple[int, str, str]]  # row, status, reason


def _review_key(claimed: Any) -> str:
    return f"{REVIEW_PREFIX}{claimed.run}/{claimed.instelling or '_'}/{claimed.name}.json"


def hold(zone: Any, claimed: Any, why: list[str], preview: list[RowResult]) -> Any:
    """Keep a checked file apart until the answer (its preview first, so that a held file
    always has one) and return its claim in ``held/``."""
    review = Review(
        claimed.name, claimed.instelling, claimed.run, why, summary(preview),
        [(r.row, r.status, r.reason) for r in preview],
    )  # fmt: skip
    zone.write_key(_review_key(claimed), json.dumps(review.__dict__).encode())
    return zone.hold(claimed)


def waiting(zone: Any, run_id: str) -> list[tuple[Any, Review | None]]:
    """This run's held files, each with its preview (None when it could not be read)."""
    found = []
    for claimed in zone.held(run_id):
        try:
            record = json.loads(zone.read_key(_review_key(claimed)))
            review: Review | None = Review(**record)
        except (OSError, ValueError, TypeError):
            review = None
        found.append((claimed, review))
    return found


def forget(zone: Any, claimed: Any) -> None:
    zone.delete_key(_review_key(claimed))


def _cell(text: str) -> str:
    return printable(text, 300).replace("\\", "\\\\").replace("|", "\\|")


def review_body(held: list[tuple[Any, Review | None]], hours: float) -> str:
    """The approval's text (Markdown): per held file where it is, why it waits, the counts and
    the per-row report of what a push would do. "" when nothing is held."""
    if not held:
        return ""
    parts = [
        f"{len(held)} bestand(en) wachten op goedkeuring voor ze naar Informat gaan. "
        f"**Approve**: de rijen worden doorgestuurd (elk één keer). **Reject**, of geen "
        f"antwoord binnen {hours:g} uur: het bestand gaat naar `failed/` en de school hoort "
        "dat het niet doorgestuurd is."
    ]
    for claimed, review in held:
        # as code: a school's file name is never read as Markdown (a link, an image)
        where = f"inbox/{claimed.instelling or '_'}/{printable(claimed.name)}".replace("`", "'")
        parts.append(f"#### `{where}`")
        if review is None:
            parts.append("Geen overzicht leesbaar; het bestand staat in `held/`.")
            continue
        parts.append("Waarom: " + "; ".join(_cell(w) for w in review.reasons) + ".")
        parts.append(
            "Wat een push zou doen: "
            + ", ".join(f"{PREVIEW_TEXT[k]}: {v}" for k, v in review.counts.items() if v)
        )
        lines = ["| rij | status | reden |", "|---|---|---|"]
        lines += [
            f"| {row} | {PREVIEW_TEXT[status]} | {_cell(reason)} |"
            for row, status, reason in review.rows[:MAX_ROWS_SHOWN]
        ]
        if len(review.rows) > MAX_ROWS_SHOWN:
            lines.append(f"| … | nog {len(review.rows) - MAX_ROWS_SHOWN} rijen | |")
        parts.append("\n".join(lines))
    return "\n\n".join(parts)


def held_mail(
    held: list[tuple[Any, Review | None]], link: str | None, hours: float
) -> tuple[str, str]:
    """The data team's mail that files wait (subject, HTML): where, why, and the link to the
    approval in Airflow's UI; counts only."""
    items = "".join(
        f"<li>inbox/{html.escape(c.instelling or '_')}/{html.escape(printable(c.name))}: "
        + html.escape("; ".join(r.reasons) if r else "geen overzicht leesbaar")
        + "</li>"
        for c, r in held
    )
    where = (
        f'<a href="{html.escape(link)}">de goedkeuring in Airflow</a>'
        if link
        else "de taak <code>review</code> van informat_inschrijvingen_push (Required actions)"
    )
    body = (
        f"<html><body><p>Deze bestanden wachten op goedkeuring voor ze naar Informat gaan:</p>"
        f"<ul>{items}</ul><p>Bekijk per rij wat er zou gebeuren en keur goed of af in {where}. "
        f"Zonder antwoord binnen {hours:g} uur wordt het bestand niet doorgestuurd.</p>"
        "</body></html>"
    )
    return f"[Informat] Inschrijvingen: {len(held)} bestand(en) wachten op goedkeuring", body
