"""The layering rule: the client, the pipelines and the Informat page's modules never import
Airflow when loaded (the page's app and sources import it only when they run), so they are tested
without it; DAGs → informat_airflow → informat_pipelines → informat_client."""

from __future__ import annotations

import subprocess
import sys

from .support.airflow import ROOT

PROBE = """
import importlib, pkgutil, sys
sys.path.insert(0, "include")
for package in ("informat_client", "informat_pipelines", "informat_ui"):
    root = importlib.import_module(package)
    for info in pkgutil.walk_packages(root.__path__, package + "."):
        importlib.import_module(info.name)
print(sorted(m for m in sys.modules if m == "airflow" or m.startswith("airflow.")))
"""


def test_client_and_pipelines_load_no_airflow_module():
    out = subprocess.run(
        [sys.executable, "-c", PROBE], cwd=ROOT, capture_output=True, text=True, check=True
    )
    assert out.stdout.strip() == "[]"


def test_the_probe_sees_an_airflow_import():
    """The probe would notice: importing informat_airflow's hook does load Airflow."""
    probe = PROBE.replace(
        'for package in ("informat_client", "informat_pipelines", "informat_ui"):',
        "import informat_airflow.hooks\nfor package in ():",
    )
    out = subprocess.run(
        [sys.executable, "-c", probe], cwd=ROOT, capture_output=True, text=True, check=True
    )
    assert "airflow" in out.stdout
