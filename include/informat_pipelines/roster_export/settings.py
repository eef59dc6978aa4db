"""The roster export's settings (a JSON Variable), refused when a key is unknown or a value makes
no sense: a typo must never export a school that was not opted in, or silently export nobody."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from informat_pipelines.core.settings import known_values

SCHOOL_EMAIL = "school_email"
LEAVE_OUT = "leave_out"
DISABLED = "disabled"  # exported, but OneRoster's enabledUser false
PLACEHOLDERS = ("firstName", "lastName", "personId", "instituteNo")
_PLACEHOLDER = re.compile(r"\{([^{}]*)\}")
_INSTELLINGSNUMMER = re.compile(r"^\d{5,6}$")


def _check_rule(rule: str) -> None:
    if rule == SCHOOL_EMAIL:
        return
    used = _PLACEHOLDER.findall(rule)
    unknown = [p for p in used if p not in PLACEHOLDERS]
    if unknown or not used or "@" not in rule:
        raise ValueError(
            f"sign_in {rule!r}: {SCHOOL_EMAIL!r} or a pattern like "
            "'{firstName}.{lastName}@school.example' with placeholders from "
            f"{list(PLACEHOLDERS)}"
        )


@dataclass(frozen=True)
class Approval:
    """An entry of the processing register: who approved the export of an instelling, when."""

    approved_by: str
    approved_on: str  # YYYY-MM-DD
    name: str = ""  # the school's name in orgs.csv; the instellingsnummer when empty

    @classmethod
    def from_mapping(cls, nr: str, values: Any) -> Approval:
        if not isinstance(values, Mapping):
            raise ValueError(f"instellingen[{nr!r}] must be an object with approved_by/_on")
        unknown = sorted(set(values) - set(cls.__dataclass_fields__))
        if unknown:
            raise ValueError(f"unknown roster settings for instelling {nr}: {unknown}")
        approval = cls(**values)
        if not approval.approved_by.strip():
            raise ValueError(f"instelling {nr}: approved_by is empty")
        date.fromisoformat(approval.approved_on)  # raises on a date that is not one
        return approval


@dataclass(frozen=True)
class RosterSettings:
    # the processing register: only these instellingen are exported
    instellingen: Mapping[str, Approval] = field(default_factory=dict)
    # the user's sign-in name: one rule for all, or {"student": ..., "teacher": ...}
    sign_in: str | Mapping[str, str] = SCHOOL_EMAIL
    demographics: bool = False  # birth date and sex, in demographics.csv of both formats
    staff_on_leave: str = LEAVE_OUT  # or "disabled"; ended staff are always left out
    pupils_without_class: str = LEAVE_OUT  # or "disabled"
    group_types: tuple[int, ...] = (0, 1, 3)  # Informat's class (0), subgroup (1), OLOD (3)
    max_drop_share: float = 0.2  # more than this share of last time's users or classes gone: held
    min_drop: int = 5  # ... and at least this many: a small school losing two is no alarm
    alert_recipients: tuple[str, ...] = ()
    batch_rows: int = 50_000  # Parquet rows read at a time

    @classmethod
    def from_mapping(cls, values: Mapping[str, Any] | None) -> RosterSettings:
        values = known_values(cls, values, "roster export")
        register = values.pop("instellingen", {}) or {}
        if not isinstance(register, Mapping):
            raise ValueError("instellingen must map an instellingsnummer to its approval")
        for nr in register:
            if not _INSTELLINGSNUMMER.match(str(nr)):
                raise ValueError(f"instellingen: {nr!r} is not an instellingsnummer")
        values["instellingen"] = {
            str(nr): Approval.from_mapping(str(nr), v) for nr, v in register.items()
        }
        if isinstance(values.get("group_types"), list | tuple):
            values["group_types"] = tuple(int(t) for t in values["group_types"])
        settings = cls(**values)
        for rule in settings.rules().values():
            _check_rule(rule)
        for name in ("staff_on_leave", "pupils_without_class"):
            if getattr(settings, name) not in (LEAVE_OUT, DISABLED):
                raise ValueError(f"{name} must be {LEAVE_OUT!r} or {DISABLED!r}")
        if not 0 <= settings.max_drop_share < 1 or settings.min_drop < 0:
            raise ValueError("max_drop_share must be in [0, 1) and min_drop at least 0")
        if settings.batch_rows < 1:
            raise ValueError("batch_rows must be positive")
        return settings

    def rules(self) -> dict[str, str]:
        """The sign-in rule per role (``student``, ``teacher``)."""
        if isinstance(self.sign_in, str):
            return {"student": self.sign_in, "teacher": self.sign_in}
        unknown = sorted(set(self.sign_in) - {"student", "teacher"})
        if unknown or len(self.sign_in) != 2:
            raise ValueError("sign_in per role needs exactly the keys 'student' and 'teacher'")
        return dict(self.sign_in)

    def register(self) -> dict[str, dict[str, str]]:
        """The processing register as the status JSON shows it."""
        return {
            nr: {"approved_by": a.approved_by, "approved_on": a.approved_on}
            for nr, a in sorted(self.instellingen.items())
        }
