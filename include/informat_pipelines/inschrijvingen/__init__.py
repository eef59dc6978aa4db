"""Inschrijvingen from a CSV drop: read what schools really send (``csvfile``), validate row by
row (``rows``), push each valid row exactly once as a voorinschrijving (``push``, ``ledger``), and
answer with a per-row report (``report``); ``drops`` runs it over a drop zone. No Airflow import.
"""

from . import codes, followup
from .csvfile import COLUMNS, FileRejected, Row, decode, parse, parse_date
from .drops import FileOutcome, PushSettings, deliver_pending, handle_drops, tell_schools
from .ledger import Ledger
from .push import RowResult, push
from .report import (
    STATUS_TEXT,
    as_dicts,
    neutralise,
    rejected_report,
    report_csv,
    summary,
    summary_mail,
)
from .rows import ID_NAMESPACE, Checked, validate

__all__ = [
    "COLUMNS",
    "ID_NAMESPACE",
    "STATUS_TEXT",
    "Checked",
    "FileOutcome",
    "FileRejected",
    "Ledger",
    "PushSettings",
    "Row",
    "RowResult",
    "as_dicts",
    "codes",
    "decode",
    "deliver_pending",
    "followup",
    "handle_drops",
    "neutralise",
    "parse",
    "parse_date",
    "push",
    "rejected_report",
    "report_csv",
    "summary",
    "summary_mail",
    "tell_schools",
    "validate",
]
