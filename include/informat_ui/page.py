"""The Informat page as one HTML document: four sections and two SVG charts, every value
escaped, numbers included (a count from a summary file is text until :func:`views.count` has
checked it; what is not a count shows as "?"). No JavaScript, and the one inline style is allowed
by its hash in :data:`CONTENT_SECURITY_POLICY`; links are relative, so the page works under any
prefix and behind a proxy. No Airflow import."""

from __future__ import annotations

import base64
import hashlib
import html
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date
from urllib.parse import quote

from informat_pipelines.rollover.checks import Finding, Notification
from informat_pipelines.rollover.messages import title as problem_title

from . import views
from .charts import line_chart
from .words import WORDS

STYLE = """
body{font-family:system-ui,sans-serif;margin:1rem 1.5rem;color:#222;font-size:14px}
h1{font-size:1.4rem}h2{font-size:1.15rem;margin-top:2rem;border-bottom:1px solid #ddd}
table{border-collapse:collapse;margin:.5rem 0}td,th{border:1px solid #ddd;padding:3px 6px;
text-align:left;vertical-align:top}th{background:#f5f5f5}td.n{text-align:right}
.green{background:#d9f2d9}.amber{background:#ffe9b3}.red{background:#f7c6c6}
.clean{background:#d9f2d9}.quarantined{background:#f7c6c6}.skipped{background:#eee}
.failed{background:#f7c6c6;font-weight:bold}.soon{background:#f7c6c6}
.empty{color:#666;font-style:italic}.small{font-size:12px;color:#555}
a.cell{color:inherit;text-decoration:none;display:block}
iframe.report{width:100%;height:80vh;border:1px solid #ddd}
"""
_STYLE_HASH = base64.b64encode(hashlib.sha256(STYLE.encode()).digest()).decode()
# What the page's documents may load: nothing but their own <style> (by its hash, so that an
# injected <style> or script would not run) and, for a day's report, a frame of this origin. Only
# Airflow's own UI (same origin) may frame them.
CONTENT_SECURITY_POLICY = (
    f"default-src 'none'; style-src 'sha256-{_STYLE_HASH}'; frame-src 'self'; "
    "frame-ancestors 'self'; base-uri 'none'; form-action 'none'"
)
# The sections of the page; "opvolging" is the follow-up's columns in "inschrijvingen".
SECTIONS = frozenset({"toegangsgroepen", "datakwaliteit", "inschrijvingen", "opvolging", "archief"})


@dataclass
class Sections:
    """What the page shows; None (or empty) where nothing was written yet, or a string where
    a source could not be read (the reason, without detail)."""

    today: date
    groups: list[views.GroupRow] | str
    quality: views.QualityGrid | str | None
    schools: dict[str, list[views.FileRow]] | str
    archive: views.ArchiveView | str | None
    shown: frozenset[str] = field(default=SECTIONS)  # what the viewer may see (of SECTIONS)


def render(sections: Sections, language: str = "nl") -> str:
    w = WORDS[language]
    other = "en" if language == "nl" else "nl"
    shown = sections.shown
    body = [
        f"<h1>{_e(w['title'])}</h1>",
        f'<p class="small">{_e(w["intro"])} <a href="?lang={other}">{_e(w["language"])}</a></p>',
    ]
    if "toegangsgroepen" in shown:
        body.append(_toegangsgroepen(sections.groups, sections.today, w, language))
    if "datakwaliteit" in shown:
        body.append(_quality(sections.quality, w))
    if "inschrijvingen" in shown:
        body.append(_inschrijvingen(sections.schools, w, "opvolging" in shown))
    if "archief" in shown:
        body.append(_archive(sections.archive, w))
    return _document(w["title"], language, "".join(body))


def render_report_frame(day: str, language: str = "nl") -> str:
    """A day's extraction report in a sandboxed frame (no script, an origin of its own), below a
    link back to the overview: the report is HTML from the data bucket, not this page's own."""
    w = WORDS[language]
    title = w["report_of"].format(day=day)
    src = quote(day, safe="") + "/report.html"
    body = (
        f'<h1>{_e(title)}</h1><p class="small"><a href="../?lang={_e(language)}">'
        f"{_e(w['back'])}</a></p>"
        f'<iframe class="report" sandbox="" src="{_e(src)}" title="{_e(title)}"></iframe>'
    )
    return _document(title, language, body)


def _document(title: str, language: str, body: str) -> str:
    return (
        f'<!doctype html><html lang="{_e(language)}"><head><meta charset="utf-8">'
        f"<title>{_e(title)}</title><style>{STYLE}</style></head><body>{body}</body></html>"
    )


def _e(value: object) -> str:
    return html.escape(str(value), quote=True)


def _n(value: int | None) -> str:
    """A count as the page shows it: the number, or "?" for one that was not a count."""
    number = views.count(value)
    return "?" if number is None else _e(number)


def _section(anchor: str, heading: str, content: str, intro: str = "") -> str:
    intro_html = f'<p class="small">{_e(intro)}</p>' if intro else ""
    return f'<section id="{anchor}"><h2>{_e(heading)}</h2>{intro_html}{content}</section>'


def _empty(text: str) -> str:
    return f'<p class="empty">{_e(text)}</p>'


def _unreadable(w: dict[str, str], what: str) -> str:
    return _empty(w["unreadable"].format(what=what))


def _badge(colour: str | None, w: dict[str, str], span: str = "") -> str:
    if colour is None:
        return f"<td{span}></td>"
    return f'<td{span} class="{_e(colour)}" data-state="{_e(colour)}">{_e(w[colour])}</td>'


def _toegangsgroepen(
    groups: list[views.GroupRow] | str, today: date, w: dict[str, str], language: str
) -> str:
    if isinstance(groups, str):
        return _section("toegangsgroepen", w["toegangsgroepen"], _unreadable(w, groups))
    if not groups:
        return _section("toegangsgroepen", w["toegangsgroepen"], _empty(w["empty_rollover"]))
    show_next = views.shows_next_schooljaar(today)
    head = [w["toegangsgroep"], w["instelling"], w["current"]]
    head += [w["next"]] if show_next else []
    head += [w["problem"], w["since"], w["last_alert"], w["next_reminder"], w["checked"]]
    rows = []
    for g in groups:
        problems: Sequence[views.Problem | None] = g.problems or [None]
        for i, p in enumerate(problems):
            first = i == 0
            span = f' rowspan="{len(problems)}"' if first and len(problems) > 1 else ""
            cells = []
            if first:
                cells.append(f"<td{span}>{_e(g.toegangsgroep)}</td>")
                cells.append(f"<td{span}>{_e(g.instellingsnummer)}</td>")
                cells.append(_badge(g.colour, w, span))
                if show_next:
                    cells.append(_badge(g.next_colour, w, span))
            if p is None:
                cells.append(f"<td>{_e(w['none'])}</td><td></td><td></td><td></td>")
            else:
                finding = Finding(g.toegangsgroep, p.kind, p.schooljaar)
                text = problem_title(Notification("new", finding, p.since), language)
                cells.append(
                    f'<td data-kind="{_e(p.kind)}">{_e(text)}</td><td>{_e(p.since)}</td>'
                    f"<td>{_e(p.last_alert)}</td><td>{_e(p.next_reminder)}</td>"
                )
            if first:
                cells.append(f"<td{span}>{_e(g.checked_on)}</td>")
            rows.append(f'<tr data-toegangsgroep="{_e(g.toegangsgroep)}">{"".join(cells)}</tr>')
    table = _table(head, rows)
    return _section("toegangsgroepen", w["toegangsgroepen"], table)


def _table(head: list[str], rows: list[str]) -> str:
    th = "".join(f"<th>{_e(h)}</th>" for h in head)
    return f"<table><thead><tr>{th}</tr></thead><tbody>{''.join(rows)}</tbody></table>"


def _quality(grid: views.QualityGrid | str | None, w: dict[str, str]) -> str:
    if isinstance(grid, str):
        return _section("datakwaliteit", w["quality"], _unreadable(w, grid))
    if grid is None:
        return _section("datakwaliteit", w["quality"], _empty(w["empty_quality"]))
    head = [w["partition"], *grid.days]
    rows = []
    for partition in grid.partitions:
        cells = [f"<th>{_e(partition)}</th>"]
        for day in grid.days:
            cell = grid.cells.get((partition, day))
            cells.append(_quality_cell(cell, day, partition, w))
        rows.append(f'<tr data-partition="{_e(partition)}">{"".join(cells)}</tr>')
    chart = line_chart(grid.trend, w["trend_rows"])
    content = _table(head, rows) + f'<div class="chart">{chart}</div>'
    return _section("datakwaliteit", w["quality"], content, w["quality_intro"])


def _quality_cell(cell: views.Cell | None, day: str, partition: str, w: dict[str, str]) -> str:
    if cell is None:
        return "<td></td>"
    lines = [w[cell.state]]
    if cell.rows is not None:
        change = f" ({cell.change:+d})" if cell.change else ""
        lines.append(f"{cell.rows} {w['rows']}{change}")
    elif cell.rows_unreadable:
        lines.append(f"? {w['rows']}")
    lines += cell.failed
    text = "<br>".join(_e(line) for line in lines)
    link = f"report/{quote(day, safe='')}"
    return (
        f'<td class="{_e(cell.state)}" data-day="{_e(day)}" data-state="{_e(cell.state)}" '
        f'title="{_e(partition)}"><a class="cell" href="{_e(link)}">{text}</a></td>'
    )


_COUNTS = ("pushed", "updated", "already_pushed", "locked", "rejected", "failed")
_FOLLOWUP = ("open", "geaccepteerd", "geweigerd", "verdwenen")


def _inschrijvingen(
    schools: dict[str, list[views.FileRow]] | str, w: dict[str, str], with_followup: bool = True
) -> str:
    if isinstance(schools, str):
        return _section("inschrijvingen", w["inschrijvingen"], _unreadable(w, schools))
    if not schools:
        return _section("inschrijvingen", w["inschrijvingen"], _empty(w["empty_inschrijvingen"]))
    head = [w["school"], w["day"], w["file"], *(w[c] for c in _COUNTS)]
    followup = _FOLLOWUP if with_followup else ()
    head += [f"{w['followup']}: {w[s]}" for s in followup] + [w["report"]]
    rows = []
    for number, files in schools.items():
        for f in files:
            counts = "".join(
                f'<td class="n" data-count="{_e(c)}">{_n(f.counts.get(c, 0))}</td>' for c in _COUNTS
            )
            follow = "".join(f'<td class="n">{_n(f.followup.get(s, 0))}</td>' for s in followup)
            name = _e(f.name) + ("" if f.accepted else f" ({_e(w['file_refused'])})")
            href = _e(f"inschrijvingen/report?key={quote(f.report, safe='')}")
            link = f'<a href="{href}">{_e(w["report"])}</a>'
            rows.append(
                f'<tr data-file="{_e(f.name)}" data-school="{_e(number)}"><td>{_e(number)}</td>'
                f"<td>{_e(f.day)}</td><td>{name}</td>{counts}{follow}<td>{link}</td></tr>"
            )
    content = _table(head, rows)
    return _section("inschrijvingen", w["inschrijvingen"], content, w["inschrijvingen_intro"])


def _archive(view: views.ArchiveView | str | None, w: dict[str, str]) -> str:
    if isinstance(view, str):
        return _section("archief", w["archive"], _unreadable(w, view))
    if view is None:
        return _section("archief", w["archive"], _empty(w["empty_archive"]))
    head = [w["toegangsgroep"], w["schooljaar"], w["month"], w["invoices"], w["archived"]]
    head += [w["pending"], w["failed"], w["lost"]]
    rows = [
        f'<tr data-month="{_e(m.toegangsgroep)}|{_e(m.schooljaar)}|{_e(m.month)}">'
        f"<td>{_e(m.toegangsgroep)}</td><td>{_e(m.schooljaar)}</td><td>{_e(m.month)}</td>"
        f'<td class="n" data-count="invoices">{_n(m.invoices)}</td>'
        f'<td class="n" data-count="archived">{_n(m.archived)}</td>'
        f'<td class="n" data-count="pending">{_n(m.pending)}</td>'
        f'<td class="n{" soon" if m.failed else ""}" data-count="failed">{_n(m.failed)}</td>'
        f'<td class="n{" soon" if m.lost else ""}" data-count="lost">{_n(m.lost)}</td></tr>'
        for m in view.months
    ]
    parts = [f'<p class="small">{_e(w["state_of"].format(day=view.day))}</p>', _table(head, rows)]
    if view.soon:
        parts.append(f'<p class="soon" id="soon">{_e(w["soon"].format(n=view.soon))}</p>')
    leaving = [
        f'<tr class="{"soon" if item.soon else ""}"><td>{_e(item.toegangsgroep)}</td>'
        f"<td>{_e(item.schooljaar)}</td><td>{_e(item.invoice)}</td>"
        f"<td>{_e(item.leaves_on)}</td></tr>"
        for item in view.leaving[:50]
    ]
    if leaving:
        parts.append(f"<h3>{_e(w['leaving'])}</h3>")
        parts.append(
            _table([w["toegangsgroep"], w["schooljaar"], w["invoice"], w["leaves_on"]], leaving)
        )
    parts.append(f'<div class="chart">{line_chart(view.coverage, w["trend_archive"], True)}</div>')
    return _section("archief", w["archive"], "".join(parts), w["archive_intro"])
