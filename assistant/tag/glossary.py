"""Tagging: the bilingual glossary (resources/glossary.tsv) and the cross-lingual expansion of terms."""

from __future__ import annotations

import re
from functools import lru_cache

from assistant import resources
from assistant.resources import alternatives
from assistant.text import TOKEN, fold

from .countries import check_lang, country_hits, country_names
from .match import Doc, Phrases


@lru_cache(maxsize=1)
def load_glossary() -> list[tuple[list[str], list[str]]]:
    """Rows of resources/glossary.tsv as (French terms, English terms)."""
    return [(alternatives(fr), alternatives(en)) for fr, en in resources.table("glossary.tsv", ("fr", "en"))]


def _glossary_pattern(term: str) -> str:
    # Acronyms match in their own case only: "UE" is the EU, "eu" is a French participle.
    if " " not in term and re.fullmatch(r"[\w&.]+", term) and sum(c.isupper() for c in term[1:]) >= 1:
        return " ".join("^" + t for t in re.findall(r"\w+", term))
    return term


@lru_cache(maxsize=2)
def _glossary_matcher(source_lang: str) -> Phrases:
    matcher = Phrases()
    for row, (fr, en) in enumerate(load_glossary()):
        for term in fr if source_lang == "fr" else en:
            matcher.add(_glossary_pattern(term), row)
    return matcher


def translations(text: str, target_lang: str) -> list[tuple[int, int, list[str]]]:
    """(start, end, terms in `target_lang`) for each glossary entry and country `text` names, by offset.

    >>> [(text[a:b], terms[:2]) for text in ["Peru's training"] for a, b, terms in translations(text, "fr")]
    [('Peru', ['Pérou']), ('training', ['formation', 'formations'])]
    """
    target = check_lang(target_lang)
    source = "en" if target == "fr" else "fr"
    doc = Doc(text)
    rows = load_glossary()
    found: list[tuple[int, int, list[str]]] = []
    for start, end, row in _glossary_matcher(source).scan_all(doc):
        fr, en = rows[row]
        found.append((doc.start(start), doc.end(end - 1), fr if target == "fr" else en))
    for start, end, code, _ in country_hits(doc, demonyms=True):
        found.append((doc.start(start), doc.end(end - 1), country_names(code)[target]))
    found.sort(key=lambda hit: hit[:2])
    return found


_ACRONYM = re.compile(r"[A-Z]{2,6}s?")


@lru_cache(maxsize=4096)
def acronyms_for(word: str) -> tuple[str, ...]:
    """The acronyms, in both languages, of the glossary's phrases that contain `word` (either language):
    "procédures" -> SOPs, POS (standard operating procedures). An acronym stands for its phrase, so
    it names the word too.

    >>> "SOPs" in acronyms_for("procedures") and "POS" in acronyms_for("procédures")
    True
    """
    key = fold(word)
    out: list[str] = []
    for fr, en in load_glossary():
        terms = fr + en
        if any(" " in t and key in TOKEN.findall(fold(t)) for t in terms):
            out += [t for t in terms if _ACRONYM.fullmatch(t)]
    return tuple(dict.fromkeys(out))


def expand_terms(text: str, target_lang: str) -> list[str]:
    """Terms in `target_lang` for what `text` (in the other language) says: glossary entries and country names.

    >>> expand_terms("How did Peru adapt its training?", "fr")[:4]
    ['Pérou', 'adapter', 'adapté', 'adaptée']
    """
    return list(dict.fromkeys(term for _, _, terms in translations(text, target_lang) for term in terms))
