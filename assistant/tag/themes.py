"""Tagging: the themes a text touches (resources/themes.toml)."""

from __future__ import annotations

from functools import lru_cache

from assistant import resources

from .countries import check_lang
from .match import Doc, Phrases

# Each theme's labels, patterns and examples: resources/themes.toml.
_THEMES: dict[str, tuple[str, str, tuple[str, ...]]] = {
    slug: (theme["en"], theme["fr"], tuple(theme["patterns"])) for slug, theme in resources.toml("themes.toml").items()
}
THEMES: tuple[str, ...] = tuple(_THEMES)


@lru_cache(maxsize=1)
def _theme_matcher() -> Phrases:
    matcher = Phrases()
    for slug, (_, _, patterns) in _THEMES.items():
        for pattern in patterns:
            matcher.add(pattern, slug)
    return matcher


def doc_themes(doc: Doc) -> tuple[str, ...]:
    # All matches, so "transfrontalière" counts for both cooperation and border management, but
    # not the words inside a longer term: "study visit" is capacity building, not research.
    hits = sorted(_theme_matcher().scan_all(doc), key=lambda h: h[0])
    longer = [h for h in hits if h[1] - h[0] > 1]
    kept = (
        slug
        for start, end, slug in hits
        if not any(s <= start and end <= e and e - s > end - start for s, e, _ in longer)
    )
    return tuple(dict.fromkeys(kept))


def find_themes(text: str) -> tuple[str, ...]:
    """Theme slugs (see THEMES) a text touches, in order of first mention.

    >>> find_themes("un manuel de formation sur la lutte contre le trafic de migrants")
    ('training', 'smuggling')
    """
    return doc_themes(Doc(text))


def theme_label(slug: str, lang: str = "en") -> str:
    """Display label of a theme: theme_label("smuggling", "fr") == "Trafic de migrants"."""
    if slug not in _THEMES:
        raise ValueError(f"Unknown theme {slug!r}: expected one of {', '.join(THEMES)}")
    en, fr, _ = _THEMES[slug]
    return en if check_lang(lang) == "en" else fr
