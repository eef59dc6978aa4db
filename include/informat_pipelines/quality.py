"""Validating a landed partition with Great Expectations 1.x (imported where it runs, never at
parse time): required columns, keys not null and unique, INSZ check digits, plausible dates,
the row count within a band of the last good run, and the contract check of the landing. No
Airflow import."""

from __future__ import annotations

import datetime as dt
import logging
import math
import os
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from .landing import Landed
from .schemas import Entity

if TYPE_CHECKING:
    from .extract import ExtractSettings


@dataclass
class Validation:
    entity: str
    key: str
    rows: int
    success: bool
    failed: list[str] = field(default_factory=list)  # "expectation (column): n unexpected"
    evaluated: int = 0
    note: str = ""  # why a partition is empty, for the report


def row_count_bounds(
    last_good: int | None, band: float, known_empty: bool
) -> tuple[int, int | None]:
    if known_empty:
        low = 0
    elif last_good:
        low = max(1, math.floor(last_good * (1 - band)))
    else:
        low = 1
    high = math.ceil(last_good * (1 + band)) if last_good else None
    return low, high


def _suite(gx, entity: Entity, key: str, bounds: tuple[int, int | None], today: dt.date):
    e = gx.expectations
    suite = gx.ExpectationSuite(name=f"{entity.name}-{key}")
    for column in entity.columns:
        if column.type != "insz":
            suite.add_expectation(e.ExpectColumnToExist(column=column.name))
    suite.add_expectation(e.ExpectColumnValuesToNotBeNull(column=entity.id_column))
    suite.add_expectation(e.ExpectColumnValuesToBeUnique(column=entity.id_column))
    low, high = bounds
    suite.add_expectation(e.ExpectTableRowCountToBeBetween(min_value=low, max_value=high))
    if entity.scope == "instelling":
        suite.add_expectation(e.ExpectColumnValuesToNotBeNull(column="pPersoon"))
        suite.add_expectation(e.ExpectColumnValuesToBeInSet(column="instituteNo", value_set=[key]))
    if entity.has_insz:
        suite.add_expectation(e.ExpectColumnValuesToBeInSet(column="inszValid", value_set=[True]))
        suite.add_expectation(e.ExpectColumnValuesToBeInSet(column="sex", value_set=["M", "V"]))
        oldest = dt.datetime(today.year - (100 if entity.name == "employees" else 30), 1, 1)
        youngest = dt.datetime.combine(
            today - dt.timedelta(days=365 * (15 if entity.name == "employees" else 2)), dt.time()
        )
        suite.add_expectation(
            e.ExpectColumnValuesToBeBetween(
                column="dateOfBirth", min_value=oldest, max_value=youngest
            )
        )
    if entity.name == "registrations":
        suite.add_expectation(
            e.ExpectColumnPairValuesAToBeGreaterThanB(
                column_A="endDate",
                column_B="startDate",
                or_equal=True,
                ignore_row_if="either_value_is_missing",
            )
        )
    if entity.name == "invoices":
        suite.add_expectation(e.ExpectColumnValuesToBeBetween(column="amount", min_value=0))
    return suite


def quiet_gx() -> None:
    # GX logs a line per function it registers ("Skipping registering function ...") at INFO:
    # hundreds per task log, none of them about the data
    logging.getLogger("great_expectations._docs_decorators").setLevel(logging.WARNING)
    os.environ.setdefault("GX_ANALYTICS_ENABLED", "False")


def _frame(parquet_path: str, entity: Entity):
    """The partition as GX reads it. A nested column (a student's addresses, relations) is
    given as the number of its items: the suite only asks that it exists, and GX fingerprints
    every batch by hashing the frame, which for lists of objects means pickling all of them
    (a fifth of a validation's time)."""
    import pandas as pd
    import pyarrow.compute as pc
    import pyarrow.parquet as pq

    table = pq.read_table(parquet_path)
    for column in entity.columns:
        if column.type == "list" and column.name in table.column_names:
            index = table.column_names.index(column.name)
            table = table.set_column(index, column.name, pc.list_value_length(table[column.name]))
    frame = table.to_pandas()
    for column in entity.columns:
        if column.type == "date" and column.name in frame:
            frame[column.name] = pd.to_datetime(frame[column.name])
    return frame


def validate(
    landed: Landed,
    entity: Entity,
    last_good: int | None,
    settings: ExtractSettings,
    today: dt.date,
) -> Validation:
    """Great Expectations 1.x on the landed Parquet file (imported here, never at parse time)."""
    quiet_gx()
    import great_expectations as gx

    frame = _frame(landed.parquet_path, entity)
    context = gx.get_context(mode="ephemeral")
    try:
        from great_expectations.data_context.types.base import ProgressBarsConfig

        context.variables.progress_bars = ProgressBarsConfig(globally=False)
    except Exception:  # noqa: S110 - cosmetic only
        pass
    source = context.data_sources.add_pandas("informat")
    batch = source.add_dataframe_asset(name=landed.entity).add_batch_definition_whole_dataframe(
        "whole"
    )
    known_empty = landed.key in settings.empty_instellingen
    bounds = row_count_bounds(last_good, settings.row_count_band, known_empty)
    suite = context.suites.add(_suite(gx, entity, landed.key, bounds, today))
    definition = context.validation_definitions.add(
        gx.ValidationDefinition(data=batch, suite=suite, name=f"{landed.entity}-{landed.key}")
    )
    result = definition.run(batch_parameters={"dataframe": frame})
    failed = [f"contract ({problem})" for problem in landed.problems]
    for item in result.results:
        if item.success:
            continue
        config = item.expectation_config
        kwargs = config.kwargs
        target = kwargs.get("column") or (
            f"{kwargs.get('column_A')}>={kwargs.get('column_B')}"
            if "column_A" in kwargs
            else "table"
        )
        detail = item.result or {}
        count = detail.get("unexpected_count")
        observed = detail.get("observed_value")
        if count is not None:
            what = f"{count} unexpected"
        elif observed is not None and not isinstance(observed, list | dict):
            what = f"observed {observed}"
        else:
            what = "failed"
        failed.append(f"{config.type} ({target}): {what}")
    note = ""
    if landed.rows == 0:
        note = (
            "empty as declared (empty_instellingen)"
            if known_empty
            else "Informat answered no records; if it has none, list it in empty_instellingen"
        )
    success = bool(result.success) and not landed.problems
    return Validation(
        landed.entity, landed.key, landed.rows, success, failed, len(result.results), note
    )
