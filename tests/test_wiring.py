"""One place for the wiring: every connection id, Variable name, pool and default bucket is named
in ``informat_airflow/wiring.py`` and nowhere else as a string literal (DAGs, include/, the
scripts and the plugin import it), so that a rename cannot leave one side behind."""

from __future__ import annotations

import ast

from .support.airflow import ROOT

WIRING = ROOT / "include" / "informat_airflow" / "wiring.py"
SEARCHED = ("include", "dags", "scripts", "plugins")


def wired_names() -> dict[str, str]:
    """wiring.py's module-level string constants: value -> the constant's name."""
    names = {}
    for node in ast.parse(WIRING.read_text()).body:
        if (
            isinstance(node, ast.Assign)
            and isinstance(node.value, ast.Constant)
            and isinstance(node.value.value, str)
        ):
            for target in node.targets:
                names[node.value.value] = target.id
    return names


def literals_of(source: str, wired: dict[str, str]) -> list[tuple[int, str]]:
    """(line, value) of each string constant in ``source`` that is exactly a wired name (a
    docstring or message that mentions one among other words is not a literal of it)."""
    return [
        (node.lineno, node.value)
        for node in ast.walk(ast.parse(source))
        if isinstance(node, ast.Constant) and isinstance(node.value, str) and node.value in wired
    ]


def test_wiring_names_the_connections_variables_pool_and_buckets():
    wired = wired_names()
    for name in (
        "INFORMAT_CONN_ID",
        "AWS_CONN_ID",
        "SMTP_CONN_ID",
        "DROPZONE_CONN_ID",
        "PSEUDONYMISATION_CONN_ID",
        "PREREGISTRATION_KEY_CONN_ID",
        "EXTRACT_SETTINGS_VARIABLE",
        "VOORINSCHRIJVINGEN_SETTINGS_VARIABLE",
        "PDF_ARCHIVE_SETTINGS_VARIABLE",
        "ROLLOVER_SETTINGS_VARIABLE",
        "INFORMAT_API_POOL",
        "DEFAULT_DATA_BUCKET",
        "DEFAULT_ARCHIVE_BUCKET",
    ):
        assert name in wired.values(), name


def test_no_wired_name_is_a_literal_anywhere_else():
    wired = wired_names()
    found = []
    for folder in SEARCHED:
        for path in sorted((ROOT / folder).rglob("*.py")):
            if path == WIRING:
                continue
            for line, value in literals_of(path.read_text(), wired):
                found.append(f"{path.relative_to(ROOT)}:{line}: {value!r} (use {wired[value]})")
    assert not found, "\n".join(found)


def test_the_search_finds_a_literal_and_passes_a_mention():
    """The control: lines as the DAGs and alerts.py had them are found; a docstring that names
    a connection among other words, and the imported constant, are not."""
    wired = wired_names()
    before = (
        'SETTINGS_VARIABLE = "informat_extract_settings"\n'
        'def on_failure(smtp_conn_id: str = "smtp_default") -> list: ...\n'
    )
    assert literals_of(before, wired) == [
        (1, "informat_extract_settings"),
        (2, "smtp_default"),
    ]
    after = (
        '"""Reads the connection informat_s3."""\n'
        "from informat_airflow.wiring import EXTRACT_SETTINGS_VARIABLE\n"
        "SETTINGS_VARIABLE = EXTRACT_SETTINGS_VARIABLE\n"
    )
    assert literals_of(after, wired) == []
