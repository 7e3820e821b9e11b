"""Tagging: lines that describe a document instead of saying something (roles, status, fields,
dates; resources/metadata_lines.tsv), and the countries named only in a role line."""

from __future__ import annotations

import re
from functools import lru_cache

from assistant import resources
from assistant.resources import alternatives
from assistant.text import fold

from .countries import country_hits
from .match import Doc

METADATA_KINDS = ("status", "role", "field", "published")  # checked in this order
_ROLE_MAX_ITEM_WORDS = 5  # "Experts involved: Spain, academia (United Kingdom)": every item is a short name
_LINE_MAX_WORDS = 30
_READS_ON = (" par", " by", " le", " on")


@lru_cache(maxsize=1)
def load_metadata_lines() -> list[tuple[str, list[str], list[str], str, str]]:
    """Rows of resources/metadata_lines.tsv: (kind, French labels, English labels, French example, English example)."""
    rows = []
    for kind, fr, en, fr_example, en_example in resources.table(
        "metadata_lines.tsv", ("kind", "fr", "en", "fr_example", "en_example")
    ):
        if kind not in METADATA_KINDS:
            raise ValueError(
                f"assistant/resources/metadata_lines.tsv: unknown kind {kind!r}; use one of {', '.join(METADATA_KINDS)}"
            )
        rows.append((kind, alternatives(fr), alternatives(en), fr_example, en_example))
    return rows


@lru_cache(maxsize=1)
def _metadata_patterns() -> list[tuple[str, re.Pattern]]:
    labels: dict[str, list[str]] = {kind: [] for kind in METADATA_KINDS}
    for kind, fr, en, _, _ in load_metadata_lines():
        labels[kind] += [fold(label) for label in fr + en]
    patterns: list[tuple[str, re.Pattern]] = []
    for kind in METADATA_KINDS:
        # Longest first, so "experts involved" wins over "experts".
        ordered = sorted(set(labels[kind]), key=len, reverse=True)
        if kind == "status":
            either = "|".join(re.escape(label) for label in ordered)
            patterns.append((kind, re.compile(rf"(?:{either})\s*[.!]?")))
            continue
        # "Label: value"; a label ending in a preposition reads on without one ("Hosted by Spain", "Publié le 3 mai").
        colon = "|".join(re.escape(label) for label in ordered if not label.endswith(_READS_ON))
        bare = "|".join(re.escape(label) for label in ordered if label.endswith(_READS_ON))
        alternatives = [rf"(?:{colon})\s*[:：]\s*"] + ([rf"(?:{bare})\s+"] if bare else [])
        patterns.append((kind, re.compile(rf"(?:{'|'.join(alternatives)})(?P<value>\S.*)")))
    return patterns


@lru_cache(maxsize=1)
def _label_starts() -> frozenset[str]:
    """The first three letters of every label: most lines are ruled out by them alone."""
    return frozenset(fold(label)[:3] for _, fr, en, _, _ in load_metadata_lines() for label in fr + en)


def line_kind(line: str) -> str | None:
    """What a metadata line is ("role", "status", "field", "published"), or None for a line of content.

    >>> line_kind("Experts involved: Spain, Argentina"), line_kind("Complété"), line_kind("Durée: 2016 - 2020")
    ('role', 'status', 'field')
    >>> line_kind("Experts from Spain trained 40 officers in Lima.") is None
    True
    """
    line = " ".join(line.split())
    # A label opens its line with a capital: "financé par la Commission…" inside a paragraph is no label.
    if not line[:1].isupper() or fold(line[:3]) not in _label_starts() or len(line.split()) > _LINE_MAX_WORDS:
        return None
    text = fold(line)
    for kind, pattern in _metadata_patterns():
        m = pattern.fullmatch(text)
        if m is None:
            continue
        if kind == "role" and not _list_of_names(m.group("value")):
            continue
        return kind
    return None


def _list_of_names(value: str) -> bool:
    if re.search(r"[.!?]\s+\S", value):
        return False  # more than one sentence
    items = re.split(r"[,;()/]|\s(?:and|et|&)\s", value.rstrip(" ."))
    return all(len(item.split()) <= _ROLE_MAX_ITEM_WORDS for item in items)


# A role line starts with one of these (folded) letters: cheap test before the full one.
_ROLE_START = re.compile(
    r"(?m)^[ \t]*(?:expe|pays|hote|hôte|acc|bail|dona|donor|fina|fund|host|copr|co-p|co-c)", re.IGNORECASE
)


def role_spans(text: str) -> list[tuple[int, int]]:
    """(start, end) of every line of `text` that names who helped, hosted, funded or co-chaired."""
    if not _ROLE_START.search(text):
        return []
    spans, start = [], 0
    for line in text.split("\n"):
        end = start + len(line)
        if line.strip() and line_kind(line) == "role":
            spans.append((start, end))
        start = end + 1
    return spans


def role_countries(text: str) -> tuple[str, ...]:
    """Countries a text names in role lines ("Experts involved: Spain"): helpers, hosts, donors, not its subject.

    >>> role_countries("Experts impliqués: Espagne, Argentine\\n\\nLe Pérou a adopté un plan.")
    ('ES', 'AR')
    """
    spans = role_spans(text)
    if not spans:
        return ()
    doc = Doc(text)
    codes = (code for s, _, code, _ in country_hits(doc) if any(a <= doc.start(s) < b for a, b in spans))
    return tuple(dict.fromkeys(codes))
