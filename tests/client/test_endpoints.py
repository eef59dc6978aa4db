"""Each Informat call is declared once, in ``config.ENDPOINTS``: every call the client makes is
declared there, every declaration is used, and no other place of the client spells a call's
path or keys a table on call names."""

from __future__ import annotations

import ast
from pathlib import Path

import informat_client
from informat_client import config

CLIENT = Path(informat_client.__file__).parent


def called_names(source: str) -> set[str]:
    """The call names the client's code passes to ``_call`` or ``_group_call``."""
    names = set()
    for node in ast.walk(ast.parse(source)):
        if (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Attribute)
            and node.func.attr in ("_call", "_group_call")
            and node.args
            and isinstance(node.args[0], ast.Constant)
        ):
            names.add(node.args[0].value)
    return names


def other_declarations(source: str, calls: set[str], paths: set[str]) -> list[str]:
    """What in ``source``, outside the ``ENDPOINTS`` table, declares a call again: a dict keyed
    on call names, or a call's path template."""
    tree = ast.parse(source)
    inside = set()
    for node in ast.walk(tree):
        targets = node.targets if isinstance(node, ast.Assign) else []
        if isinstance(node, ast.AnnAssign):
            targets = [node.target]
        if any(isinstance(t, ast.Name) and t.id == "ENDPOINTS" for t in targets):
            inside |= {id(n) for n in ast.walk(node)}
    found = []
    for node in ast.walk(tree):
        if id(node) in inside:
            continue
        if isinstance(node, ast.Dict):
            keys = {k.value for k in node.keys if isinstance(k, ast.Constant)}
            if len(keys & calls) >= 2:
                found.append(f"line {node.lineno}: a table keyed on {sorted(keys & calls)}")
        if isinstance(node, ast.Constant) and node.value in paths:
            found.append(f"line {node.lineno}: the path {node.value!r}")
    return found


def sources() -> dict[str, str]:
    return {p.name: p.read_text(encoding="utf-8") for p in sorted(CLIENT.glob("*.py"))}


def test_every_call_the_client_makes_is_declared_once_and_every_declaration_is_used():
    called = set().union(*(called_names(s) for s in sources().values()))
    assert called == set(config.ENDPOINTS)


def test_no_other_place_of_the_client_declares_a_call():
    calls = set(config.ENDPOINTS)
    # a path that is also a call name ("students") is a word, not a second declaration
    paths = {e.path for e in config.ENDPOINTS.values()} - calls
    found = {name: other_declarations(source, calls, paths) for name, source in sources().items()}
    assert {name: f for name, f in found.items() if f} == {}


def test_the_check_finds_a_second_declaration():
    """Control: the check above is not blind."""
    source = (
        "ENDPOINTS = {'students': E('students/x'), 'employees': E('employees')}\n"
        "LISTINGS = {'students': ('students', 'pPersoon'), 'employees': (None, 'pPersoon')}\n"
        "PATH = 'students/x'\n"
    )
    found = other_declarations(source, {"students", "employees"}, {"students/x"})
    assert found == [
        "line 2: a table keyed on ['employees', 'students']",
        "line 3: the path 'students/x'",
    ]
    assert called_names("self._call('students', n)\nself._group_call('x', g)\n") == {
        "students",
        "x",
    }


def test_paths_and_families_come_from_the_declarations():
    for name, endpoint in config.ENDPOINTS.items():
        assert config.DEFAULT_PATHS[name] == (endpoint.api, endpoint.method, endpoint.path)
        assert endpoint.scope_family in config.DEFAULT_SCOPE_TEMPLATES, name
    assert config.ENDPOINTS["save_preregistration"].scope_family == "voorinschrijvingen"
    assert config.ENDPOINTS["employees"].scope_family == "personeel"
    personeel = [e for e in config.ENDPOINTS.values() if e.api == config.PERSONEEL]
    assert all(e.headers == {"Api-Version": "2"} for e in personeel)
    bare = {n for n, e in config.ENDPOINTS.items() if e.listing and e.listing.list_key is None}
    assert bare == {"employees", "assignments", "interruptions", "own_fields"}
