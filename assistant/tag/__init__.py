"""Tagging stage: countries, actions, themes and years found in a document or passage.

One module per concern: `match` (a text tokenised once, the phrase matcher), `countries` (names,
aliases, demonyms, cities), `lines` (role, status and date lines), `actions` (years, MIEUX actions,
GCM objectives, national plans), `themes`, `glossary` (cross-lingual expansion). Their language data
is in assistant/resources/. Other stages import this package, not its modules.
"""

from __future__ import annotations

from assistant.types import Tags

from .actions import (
    GCM_OBJECTIVES,
    YEAR_MAX,
    YEAR_MIN,
    doc_actions,
    document_action,
    find_actions,
    find_years,
    gcm_action,
)
from .countries import (
    country_hits,
    country_label,
    country_names,
    find_cities,
    find_countries,
    is_demonym,
    is_language_name,
    respell_countries,
)
from .glossary import acronyms_for, expand_terms, load_glossary, translations
from .lines import line_kind, load_metadata_lines, role_countries, role_spans
from .match import Doc
from .themes import THEMES, doc_themes, find_themes, theme_label

__all__ = [
    "GCM_OBJECTIVES",
    "THEMES",
    "YEAR_MAX",
    "YEAR_MIN",
    "acronyms_for",
    "country_label",
    "country_names",
    "document_action",
    "expand_terms",
    "find_actions",
    "find_cities",
    "find_countries",
    "find_themes",
    "find_years",
    "gcm_action",
    "is_demonym",
    "is_language_name",
    "line_kind",
    "load_glossary",
    "load_metadata_lines",
    "respell_countries",
    "role_countries",
    "tag",
    "theme_label",
    "translations",
]


def tag(text: str, doc_title: str | None = None) -> Tags:
    """Everything the tagger finds in a text, tokenised once.

    >>> tag("Le Pérou (2017-2018) : formation à la frontière avec le Chili", "MIEUX").countries
    ('PE', 'CL')
    """
    doc = Doc(text)
    hits = country_hits(doc, demonyms=True)
    roles = role_spans(doc.text)
    # "Experts involved: Spain": a helper, host or donor is not what the text is about.
    about = [h for h in hits if not any(a <= doc.start(h[0]) < b for a, b in roles)] if roles else hits
    return Tags(
        countries=tuple(dict.fromkeys(code for _, _, code, _ in about)),
        actions=doc_actions(doc, [h for h in hits if h[3] != "demonym"], doc_title),
        years=find_years(doc.text),
        themes=doc_themes(doc),
    )
