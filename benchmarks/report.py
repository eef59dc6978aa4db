"""How every benchmark prints a figure: a name and its value, aligned."""

from __future__ import annotations


def line(name: str, value: str) -> None:
    print(f"  {name:<58} {value}", flush=True)
