"""The Informat page as one HTML document: first what waits for a person (held items, with the
link to approve them in Airflow) and the per-school grid of every job's last run
(:mod:`overview`), then the sections with their long tables folded and two SVG charts; every
value escaped, numbers included (a count from a summary file is text until :func:`views.count` has
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

from . import overview, views
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
.held{background:#ffd27a}.not_run{background:#fff;color:#777;font-style:italic}
.unknown{background:#e6e6fa}
.empty{color:#666;font-style:italic}.small{font-size:12px;color:#555}
a.cell{color:inherit;text-decoration:none;display:block}
table.grid td{min-width:5.5rem;text-align:center}table.grid th.row{text-align:left}
#vastgehouden h2{border-color:#e0a800}a.approve{font-weight:bold}
summary{cursor:pointer}summary h2{display:inline-block;border:0;margin:1rem 0 .3rem}
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
SECTIONS = frozenset(
    {"toegangsgroepen", "datakwaliteit", "inschrijvingen", "opvolging", "archief", "roster"}
)
# the sections whose jobs the per-school grid and the held items show (any one of them leads)
LEAD_SECTIONS = frozenset({"datakwaliteit", "inschrijvingen", "archief", "roster"})


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
    roster: views.RosterView | str | None = None
    held_files: list[views.HeldFile] | str = field(default_factory=list)  # the push's


def render(sections: Sections, language: str = "nl") -> str:
    w = WORDS[language]
    other = "en" if language == "nl" else "nl"
    shown = sections.shown
    body = [
        f"<h1>{_e(w['title'])}</h1>",
        f'<p class="small">{_e(w["intro"])} <a href="?lang={other}">{_e(w["language"])}</a></p>',
    ]
    if shown & LEAD_SECTIONS:
        body.append(_lead(sections, w))
    if "toegangsgroepen" in shown:
        body.append(_toegangsgroepen(sections.groups, sections.today, w, language))
    if "roster" in shown:
        body.append(_roster(sections.roster, w))
    if "datakwaliteit" in shown:
        body.append(_quality(sections.quality, w))
    if "inschrijvingen" in shown:
        body.append(_inschrijvingen(sections.schools, w, "opvolging" in shown))
    if "archief" in shown:
        body.append(_archive(sections.archive, w))
    return _document(w["title"], language, "".join(body))


def _lead(sections: Sections, w: dict[str, str]) -> str:
    """The held items and the per-school grid, of the sources that were read (one that could
    not be read is left out here: its own section says so)."""
    shown, s = sections.shown, sections
    grid, held = overview.build(
        s.quality
        if "datakwaliteit" in shown and isinstance(s.quality, views.QualityGrid)
        else None,
        s.schools if "inschrijvingen" in shown and isinstance(s.schools, dict) else None,
        s.held_files if "inschrijvingen" in shown and isinstance(s.held_files, list) else None,
        s.archive if "archief" in shown and isinstance(s.archive, views.ArchiveView) else None,
        s.roster if "roster" in shown and isinstance(s.roster, views.RosterView) else None,
    )
    return _held(held, w) + _grid(grid, w)


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


def _section(anchor: str, heading: str, content: str, intro: str = "", folded: bool = False) -> str:
    """A section; ``folded``: its content under its heading in a <details> (no script), shut."""
    intro_html = f'<p class="small">{_e(intro)}</p>' if intro else ""
    if folded:
        return (
            f'<section id="{anchor}"><details><summary><h2>{_e(heading)}</h2></summary>'
            f"{intro_html}{content}</details></section>"
        )
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
        target = overview.anchor("p", *partition.split("/", 1))
        rows.append(f'<tr data-partition="{_e(partition)}" id="{_e(target)}">{"".join(cells)}</tr>')
    chart = line_chart(grid.trend, w["trend_rows"])
    content = _table(head, rows) + f'<div class="chart">{chart}</div>'
    return _section("datakwaliteit", w["quality"], content, w["quality_intro"], folded=True)


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
        for i, f in enumerate(files):
            counts = "".join(
                f'<td class="n" data-count="{_e(c)}">{_n(f.counts.get(c, 0))}</td>' for c in _COUNTS
            )
            follow = "".join(f'<td class="n">{_n(f.followup.get(s, 0))}</td>' for s in followup)
            name = _e(f.name) + ("" if f.accepted else f" ({_e(w['file_refused'])})")
            href = _e(f"inschrijvingen/report?key={quote(f.report, safe='')}")
            link = f'<a href="{href}">{_e(w["report"])}</a>'
            target = f' id="{_e(overview.anchor("school", number))}"' if i == 0 else ""
            rows.append(
                f'<tr data-file="{_e(f.name)}" data-school="{_e(number)}"{target}>'
                f"<td>{_e(number)}</td>"
                f"<td>{_e(f.day)}</td><td>{name}</td>{counts}{follow}<td>{link}</td></tr>"
            )
    content = _table(head, rows)
    return _section(
        "inschrijvingen", w["inschrijvingen"], content, w["inschrijvingen_intro"], folded=True
    )


def _archive(view: views.ArchiveView | str | None, w: dict[str, str]) -> str:
    if isinstance(view, str):
        return _section("archief", w["archive"], _unreadable(w, view))
    if view is None:
        return _section("archief", w["archive"], _empty(w["empty_archive"]))
    head = [w["toegangsgroep"], w["schooljaar"], w["month"], w["invoices"], w["archived"]]
    head += [w["pending"], w["failed"], w["lost"]]
    firsts: dict[str, int] = {}
    for i, m in enumerate(view.months):
        firsts.setdefault(m.toegangsgroep, i)
    rows = [
        f'<tr data-month="{_e(m.toegangsgroep)}|{_e(m.schooljaar)}|{_e(m.month)}"'
        f"{_first_of(m.toegangsgroep, i, firsts)}>"
        f"<td>{_e(m.toegangsgroep)}</td><td>{_e(m.schooljaar)}</td><td>{_e(m.month)}</td>"
        f'<td class="n" data-count="invoices">{_n(m.invoices)}</td>'
        f'<td class="n" data-count="archived">{_n(m.archived)}</td>'
        f'<td class="n" data-count="pending">{_n(m.pending)}</td>'
        f'<td class="n{" soon" if m.failed else ""}" data-count="failed">{_n(m.failed)}</td>'
        f'<td class="n{" soon" if m.lost else ""}" data-count="lost">{_n(m.lost)}</td></tr>'
        for i, m in enumerate(view.months)
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
    return _section("archief", w["archive"], "".join(parts), w["archive_intro"], folded=True)


def _first_of(group: str, i: int, firsts: dict[str, int]) -> str:
    """The id of a toegangsgroep's first month row (what its grid cell links to)."""
    return f' id="{_e(overview.anchor("archive", group))}"' if firsts[group] == i else ""


# -- what leads the page: held items and the per-school grid ------------------------------------


def _held(items: list[overview.HeldItem], w: dict[str, str]) -> str:
    if not items:
        return _section("vastgehouden", w["held_title"], _empty(w["held_none"]))
    head = [w["held_what"], w["held_where"], w["day"], w["held_detail"], w["held_answer"]]
    rows = []
    for item in items:
        what = w[f"held_kind_{item.kind}"]
        if item.kind == "extract":
            what += f": {_job_label(item.what, w)}"
        elif item.kind == "push":
            what += f": {item.what}"
        details = [
            f"{_n(value)} {_e(w.get(name, name))}" for name, value in item.counts.items()
        ] + [_e(reason) for reason in item.reasons]
        if item.detail:
            details.append(f'<span class="small">{_e(item.detail)}</span>')
        if item.approve:
            answer = f'<a class="approve" href="{_e(item.approve)}">{_e(w["approve"])}</a>'
        else:
            answer = _e(w.get(f"decision_{item.decision}", w["decision_unknown"]))
        rows.append(
            f'<tr id="{_e(item.target)}" class="held" data-held="{_e(item.kind)}" '
            f'data-where="{_e(item.where)}"><td>{_e(what)}</td><td>{_e(item.where)}</td>'
            f"<td>{_e(item.day)}</td><td>{'<br>'.join(details)}</td><td>{answer}</td></tr>"
        )
    return _section("vastgehouden", w["held_title"], _table(head, rows), w["held_intro"])


def _job_label(name: str, w: dict[str, str]) -> str:
    return w.get(f"job_{name}", name)


def _grid(grid: overview.Grid, w: dict[str, str]) -> str:
    parts = []
    for scope, rows, heading in (
        ("instelling", grid.instellingen, w["instelling"]),
        ("toegangsgroep", grid.toegangsgroepen, w["toegangsgroep"]),
    ):
        jobs = [job for job in grid.jobs if job.scope == scope]
        if not jobs or not rows:
            continue
        th = "".join(
            f'<th data-job="{_e(job.key)}">{_e(_job_label(job.name, w))}</th>' for job in jobs
        )
        body = []
        for where, cells in rows.items():
            tds = "".join(_grid_cell(grid.cell(cells, job), job, w) for job in jobs)
            body.append(
                f'<tr data-grid="{_e(scope)}" data-where="{_e(where)}">'
                f'<th class="row">{_e(where)}</th>{tds}</tr>'
            )
        parts.append(
            f'<table class="grid" data-grid="{_e(scope)}"><thead><tr><th>{_e(heading)}</th>'
            f"{th}</tr></thead><tbody>{''.join(body)}</tbody></table>"
        )
    content = "".join(parts) or _empty(w["schools_empty"])
    return _section("scholen", w["schools"], content, w["schools_intro"])


def _grid_cell(cell: overview.JobCell, job: overview.Job, w: dict[str, str]) -> str:
    state = cell.state if cell.state in overview.STATES else "unknown"
    text = _e(w[state])
    if cell.stale:  # not in the newest extraction: say since when
        text += f'<br><span class="small">{_e(cell.day)}</span>'
    if cell.target:
        text = f'<a class="cell" href="#{_e(cell.target)}">{text}</a>'
    title = f' title="{_e(cell.day)}"' if cell.day else ""
    return (
        f'<td class="{state}" data-job="{_e(job.key)}" data-job-state="{state}"{title}>{text}</td>'
    )


# -- the roster export ---------------------------------------------------------------------------


def _roster(view: views.RosterView | str | None, w: dict[str, str]) -> str:
    if isinstance(view, str):
        return _section("roster", w["roster"], _unreadable(w, view))
    if view is None:
        return _section("roster", w["roster"], _empty(w["empty_roster"]))
    head = [w["instelling"], w["roster_state"], w["users"], w["classes_n"], w["roster_files"]]
    head += [w["left_out"], w["roster_note"]]
    rows = []
    for s in view.schools:
        state = s.state if s.state in views.ROSTER_STATES else "unknown"
        colour = {"published": "clean", "not_opted_in": "skipped"}.get(state, state)
        files = "<br>".join(
            f"{_e(fmt)}: " + ", ".join(f"{_e(name)} {_n(n)}" for name, n in sorted(per.items()))
            for fmt, per in sorted(s.rows.items())
        )
        left = "<br>".join(f"{_e(why)}: {_n(n)}" for why, n in sorted(s.left_out.items()))
        notes = [_e(text) for text in (s.reason, s.problem) if text]
        if s.held:
            notes.append(f'<span class="small">{_e(s.held)}dropped.csv</span>')
        users = _n(s.users) if s.users is not None else ""
        classes = _n(s.classes) if s.classes is not None else ""
        rows.append(
            f'<tr id="{_e(overview.anchor("roster", s.instelling))}" '
            f'data-roster="{_e(s.instelling)}"><td>{_e(s.instelling)}</td>'
            f'<td class="{colour}" data-state="{state}">{_e(w[state])}</td>'
            f'<td class="n" data-count="users">{users}</td>'
            f'<td class="n" data-count="classes">{classes}</td>'
            f"<td>{files}</td><td>{left}</td><td>{'<br>'.join(notes)}</td></tr>"
        )
    register = [
        f'<tr data-register="{_e(e.instelling)}"><td>{_e(e.instelling)}</td>'
        f"<td>{_e(e.approved_by)}</td><td>{_e(e.approved_on)}</td>"
        f"<td>{_e(w['yes'] if e.in_connection else w['no'])}</td></tr>"
        for e in view.register
    ]
    parts = [
        f'<p class="small">{_e(w["state_of"].format(day=view.day))}</p>',
        _table(head, rows),
        f'<h3 id="register">{_e(w["register"])}</h3>',
        f'<p class="small">{_e(w["register_intro"])}</p>',
        _table([w["instelling"], w["approved_by"], w["approved_on"], w["in_connection"]], register)
        if register
        else _empty(w["register_empty"]),
    ]
    return _section("roster", w["roster"], "".join(parts), w["roster_intro"])
