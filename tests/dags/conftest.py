"""Fixtures of the DAG tests: one DagBag of the project's DAG folder for the whole session."""

from __future__ import annotations

import pytest

from ..support.airflow import ROOT


@pytest.fixture(scope="session")
def dagbag():
    from airflow.dag_processing.dagbag import DagBag

    return DagBag(dag_folder=str(ROOT / "dags"))
