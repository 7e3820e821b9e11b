"""Words users read: labels and templates from prompts/<lang>.toml, one file per language."""

from __future__ import annotations

import string
import tomllib
from typing import Any
from functools import lru_cache
from pathlib import Path

from .config import shipped
from .errors import ConfigError

# The checkout's prompts/ (the copy users edit), else the copy packaged in the wheel; paths.prompts overrides it.
DEFAULT_DIR = shipped("prompts")


@lru_cache(maxsize=16)
def load_toml(folder: str, name: str) -> dict:
    """prompts/<name>.toml as a dict (answer words "en"/"fr", chat labels "ui_en"/"ui_fr")."""
    path = Path(folder) / f"{name}.toml"
    try:
        return tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ConfigError(f"Missing prompt file {path}: each language needs its own (paths.prompts)") from None
    except tomllib.TOMLDecodeError as err:
        raise ConfigError(f"Cannot read prompt file {path}: {err}") from None


def text(lang: str, key: str, folder: Path | None = None, **values) -> str:
    """The sentence `key` ("labels.abstain") in `lang`, with its {placeholders} filled.

    >>> text("fr", "labels.abstain", topic="la Norvège")
    'Le corpus ne documente pas la Norvège.'
    """
    data = load_toml(str(folder or DEFAULT_DIR), lang if lang in ("fr", "en") else "en")
    node: Any = data
    for part in key.split("."):
        if not isinstance(node, dict) or part not in node:
            raise ConfigError(f"Prompt file {folder or DEFAULT_DIR}/{lang}.toml has no '{key}'")
        node = node[part]
    needed = {f for _, f, _, _ in string.Formatter().parse(node) if f}
    missing = needed - values.keys()
    if missing:
        raise ConfigError(f"Prompt '{key}' ({lang}) needs {', '.join(sorted(missing))}")
    return node.format(**values)


def template(lang: str, name: str, folder: Path | None = None) -> str:
    """A whole template file, e.g. prompts/generate_fr.txt."""
    path = Path(folder or DEFAULT_DIR) / f"{name}_{lang if lang in ('fr', 'en') else 'en'}.txt"
    try:
        return path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError(f"Missing prompt template {path}") from None
