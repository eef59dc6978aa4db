"""Voorinschrijvingen from a CSV drop: read what schools really send (``csvfile``), validate row
by row (``rows``), push each valid row exactly once as a voorinschrijving (``push``, ``ledger``),
and answer with a per-row report (``report``); ``drops`` runs it over a drop zone, ``held``
keeps a file that needs the data team's approval apart until it is answered, ``followup``
tells the schools what Informat decided, ``settings`` is the school group's. No Airflow import.
"""

from . import codes, followup, held
from .csvfile import COLUMNS, FileRejected, Row, decode, parse, parse_date
from .drops import (
    FileOutcome,
    PushRun,
    deliver_pending,
    handle_drops,
    settle_held,
    tell_schools,
)
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
from .rows import Checked, pre_registration_id, validate
from .settings import VoorinschrijvingenSettings

__all__ = [
    "COLUMNS",
    "STATUS_TEXT",
    "Checked",
    "FileOutcome",
    "FileRejected",
    "Ledger",
    "PushRun",
    "Row",
    "RowResult",
    "VoorinschrijvingenSettings",
    "as_dicts",
    "codes",
    "decode",
    "deliver_pending",
    "followup",
    "handle_drops",
    "held",
    "neutralise",
    "parse",
    "parse_date",
    "pre_registration_id",
    "push",
    "rejected_report",
    "report_csv",
    "settle_held",
    "summary",
    "summary_mail",
    "tell_schools",
    "validate",
]
