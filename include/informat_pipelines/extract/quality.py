"""Validating a landed partition with Great Expectations 1.x (imported where it runs, never at
parse time): required columns, keys not null and unique (a compound key as a whole), values in
their sets, INSZ check digits, plausible dates, the row count within a band of the last good
run (with holds off), and the contract check of the landing. No Airflow import."""

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
    from .settings import ExtractSettings


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
    for name in entity.key_columns:
        suite.add_expectation(e.ExpectColumnValuesToNotBeNull(column=name))
    if entity.more_key_columns:
        suite.add_expectation(
            e.ExpectCompoundColumnsToBeUnique(column_list=list(entity.key_columns))
        )
    else:
        suite.add_expectation(e.ExpectColumnValuesToBeUnique(column=entity.id_column))
    low, high = bounds
    suite.add_expectation(e.ExpectTableRowCountToBeBetween(min_value=low, max_value=high))
    if entity.scope == "instelling":
        if "pPersoon" in entity.column_names:
            suite.add_expectation(e.ExpectColumnValuesToNotBeNull(column="pPersoon"))
        suite.add_expectation(e.ExpectColumnValuesToBeInSet(column="instituteNo", value_set=[key]))
    for name, values in entity.value_sets:
        suite.add_expectation(e.ExpectColumnValuesToBeInSet(column=name, value_set=list(values)))
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
    if {"startDate", "endDate"} <= set(entity.column_names):
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


def _value_columns(suite) -> set[str]:
    """The columns whose values an expectation of ``suite`` reads; the others are only asked
    to exist."""
    from great_expectations.expectations import ExpectColumnToExist

    columns = set()
    for expectation in suite.expectations:
        if isinstance(expectation, ExpectColumnToExist):
            continue
        for name in ("column", "column_A", "column_B"):
            if value := getattr(expectation, name, None):
                columns.add(value)
        columns.update(getattr(expectation, "column_list", None) or ())
    return columns


def _frame(parquet_path: str, entity: Entity, value_columns: set[str]):
    """The partition as GX reads it: the values of ``value_columns``, and every other column
    of the file as a column of nulls. Those are only asked to exist, and their values (names,
    a student's addresses and relations) were most of the memory a validation took: the peak
    grew with the partition 1.3 times from 4,800 to 48,000 students. GX also fingerprints
    every batch by hashing the frame, which for lists of objects meant pickling all of them."""
    import pandas as pd
    import pyarrow as pa
    import pyarrow.parquet as pq

    names = pq.read_schema(parquet_path).names
    table = pq.read_table(parquet_path, columns=[name for name in names if name in value_columns])
    for index, name in enumerate(names):
        if name not in value_columns:
            table = table.add_column(index, name, pa.nulls(table.num_rows))
    frame = table.to_pandas()
    for column in entity.columns:
        if column.type == "date" and column.name in value_columns and column.name in frame:
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
    # with holds on, a count far from the last good one is a change for a person to review
    # (extract/holds.py), not bad data: only an empty partition fails the row count here
    baseline = None if settings.hold_share is not None else last_good
    bounds = row_count_bounds(baseline, settings.row_count_band, known_empty)
    if not entity.steady_count:  # may be empty, and its size swings: no band
        bounds = (0, None)
    suite = context.suites.add(_suite(gx, entity, landed.key, bounds, today))
    frame = _frame(landed.parquet_path, entity, _value_columns(suite))
    definition = context.validation_definitions.add(
        gx.ValidationDefinition(data=batch, suite=suite, name=f"{landed.entity}-{landed.key}")
    )
    try:
        result = definition.run(batch_parameters={"dataframe": frame})
    finally:
        # GX keeps its last context (a module global), and with it this frame (its data source's
        # engine holds the batch) until the next validation's frame is built: two frames at
        # that one's peak (the GX process at 200,000 students grew 1.26 times over 20,000)
        context.data_sources.delete("informat")
    failed = [f"contract ({problem})" for problem in landed.problems]
    for item in result.results:
        if item.success:
            continue
        config = item.expectation_config
        kwargs = config.kwargs
        target = kwargs.get("column") or (
            f"{kwargs.get('column_A')}>={kwargs.get('column_B')}"
            if "column_A" in kwargs
            else "+".join(kwargs.get("column_list") or ()) or "table"
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
    if landed.rows == 0 and entity.steady_count:
        note = (
            "empty as declared (empty_instellingen)"
            if known_empty
            else "Informat answered no records; if it has none, list it in empty_instellingen"
        )
    success = bool(result.success) and not landed.problems
    return Validation(
        landed.entity, landed.key, landed.rows, success, failed, len(result.results), note
    )
