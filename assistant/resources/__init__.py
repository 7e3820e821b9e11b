"""Language data, both languages side by side, and the one way to read it.

Tables are TSV (a header row naming the columns, `#` comment lines, alternatives separated by
"|"); rules with their examples are TOML; plain word lists are `.txt`, one or more words a line.
Each file says at its top what it holds; tests check that the examples still behave as stated.

>>> table("months.tsv", ("fr", "en", "fr_example", "en_example"))[0][:2]
('janvier|janv', 'january|jan')
"""

from __future__ import annotations

import tomllib
from functools import lru_cache
from importlib import resources
from typing import Any


def _read(name: str) -> str:
    try:
        return resources.files(__name__).joinpath(name).read_text(encoding="utf-8")
    except FileNotFoundError:
        raise FileNotFoundError(
            f"assistant/resources/{name} is missing: reinstall the package or restore the file from git"
        ) from None


@lru_cache(maxsize=None)
def table(name: str, columns: tuple[str, ...]) -> tuple[tuple[str, ...], ...]:
    """The rows of resources/`name` (TSV), each with exactly `columns`, fields stripped."""
    rows = []
    for n, line in enumerate(_read(name).splitlines(), start=1):
        if not line.strip() or line.startswith("#"):
            continue
        fields = tuple(f.strip() for f in line.split("\t"))
        if fields == columns:
            continue  # the header
        if len(fields) != len(columns):
            raise ValueError(
                f"Cannot read assistant/resources/{name} line {n}: expected {len(columns)} tab-separated columns "
                f"({', '.join(columns)}), found {len(fields)}; fix the line (tabs, not spaces, between columns)"
            )
        rows.append(fields)
    return tuple(rows)


@lru_cache(maxsize=None)
def toml(name: str) -> dict[str, Any]:
    """resources/`name` (TOML) as a dict."""
    try:
        return tomllib.loads(_read(name))
    except tomllib.TOMLDecodeError as err:
        raise ValueError(f"Cannot read assistant/resources/{name}: {err}; fix the TOML syntax there") from None


@lru_cache(maxsize=None)
def word_list(name: str) -> tuple[str, ...]:
    """The words of resources/`name` (plain text, white-space separated, `#` lines are comments)."""
    return tuple(w for line in _read(name).splitlines() if not line.startswith("#") for w in line.split())


def alternatives(field: str) -> list[str]:
    """A table field's alternatives: "janvier|janv" -> ["janvier", "janv"]; empty ones dropped."""
    return [t.strip() for t in field.split("|") if t.strip()]
