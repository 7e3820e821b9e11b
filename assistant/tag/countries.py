"""Tagging: countries named in a text (pycountry names in English and French, aliases, demonyms,
cities), and their display names. The language data is in resources/countries.toml and demonyms.tsv."""

from __future__ import annotations

import gettext
import re
from dataclasses import dataclass
from functools import lru_cache

import pycountry

from assistant import resources
from assistant.resources import alternatives
from assistant.text import TOKEN, fold

from .match import Doc, Phrases, parse_pattern

# The language data of country names (aliases, case and person rules, blocked contexts), each
# rule with examples: resources/countries.toml; nationality adjectives: resources/demonyms.tsv.
_DATA = resources.toml("countries.toml")
_ALIASES: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    code: (tuple(names.get("en", ())), tuple(names.get("fr", ()))) for code, names in _DATA["aliases"].items()
}
_DISPLAY: dict[str, dict[str, str]] = _DATA["display"]
_DROP_NAMES = set(_DATA["not_names"]["names"])
_CASE_RULES = {name: rule for rule in ("upper", "cap", "title") for name in _DATA["case"][rule]}
_PERSON_PRONE = set(_DATA["person"]["names"])
_HONORIFICS = set(_DATA["person"]["honorifics"])
_SENTENCE_WORDS = set(_DATA["person"]["sentence_words"])
_BLOCK_BEFORE = {code: {tuple(seq.split()) for seq in seqs} for code, seqs in _DATA["blocked"]["before"].items()}
_BLOCK_AFTER = {code: {tuple(seq.split()) for seq in seqs} for code, seqs in _DATA["blocked"]["after"].items()}
_LANGUAGE_CONTEXT = set(_DATA["language_context"]["words"])
_FRENCH_WORDS = set(_DATA["english_only"]["french_words"])
_ENGLISH_WORDS = set(_DATA["english_only"]["english_words"])
_ENGLISH_ONLY = set(_DATA["english_only"]["names"])


def _french_forms(base: str) -> list[str]:
    if base.endswith("en"):
        return [base, base + "ne", base + "s", base + "nes"]
    if base.endswith(("s", "x")):
        return [base, base + "e", base + "es"]
    if base.endswith(("e", "è")):
        return [base, base + "s"]
    return [base, base + "e", base + "s", base + "es"]


def _english_forms(base: str) -> list[str]:
    if base.endswith(("ese", "sh", "ch", "ss")) or base in {"Malagasy", "Swiss"}:
        return [base]
    return [base, base + "s"]


def _demonyms() -> list[tuple[str, str, str]]:
    """(code, word, lang) for every demonym form, French first (they need no capital)."""
    french: list[tuple[str, str, str]] = []
    english: list[tuple[str, str, str]] = []
    for code, en, fr in resources.table("demonyms.tsv", ("iso2", "en", "fr")):
        for word in alternatives(fr):
            french.extend((code, form, "fr") for form in _french_forms(word))
        for word in alternatives(en):
            english.extend((code, form, "en") for form in _english_forms(word))
    return french + english


@lru_cache(maxsize=1)
def _demonym_words() -> frozenset[str]:
    return frozenset(fold(word) for _, word, _ in _demonyms())


@lru_cache(maxsize=4096)
def is_language_name(word: str) -> bool:
    """Whether `word` names a language in English ("French", "Spanish"): in "What French law…" it
    says whose law, like a demonym.

    >>> is_language_name("French"), is_language_name("Porto")
    (True, False)
    """
    try:
        return pycountry.languages.get(name=word) is not None
    except (KeyError, LookupError):
        return False


def is_demonym(word: str) -> bool:
    """Whether `word` is a demonym in either language ("French", "péruviens"), even where
    `find_countries` does not read it as a country (a language name, a surname).

    >>> is_demonym("French"), is_demonym("Peruvian"), is_demonym("Porto")
    (True, True, False)
    """
    return fold(word) in _demonym_words()


def _uninvert(name: str) -> str:
    """'Iran, Islamic Republic of' -> 'Islamic Republic of Iran'; lists ('A, B and C') stay."""
    name = re.sub(r"\s*\([^)]*\)", "", name).strip()
    if ", " not in name:
        return name
    head, tail = name.split(", ", 1)
    if re.search(r"\b(and|et)\b", tail) or "," in tail:
        return name
    return re.sub(r"^(the|The|l'|L')\s*", "", f"{tail} {head}".replace("' ", "'")).strip()


@dataclass
class _CountryTables:
    names: dict[str, dict[str, list[str]]]  # code -> {"en": [...], "fr": [...]}, display name first
    matcher: Phrases  # payload (code, kind, case rule)


@lru_cache(maxsize=1)
def _countries() -> _CountryTables:
    fr = gettext.translation("iso3166-1", pycountry.LOCALES_DIR, languages=["fr"], fallback=True)
    names: dict[str, dict[str, list[str]]] = {}
    searchable: list[tuple[str, str, str]] = []  # (code, name, kind) in priority order
    for c in pycountry.countries:
        en_raw = [n for n in (getattr(c, "common_name", None), c.name, getattr(c, "official_name", None)) if n]
        en = list(dict.fromkeys(_uninvert(n) for n in en_raw))
        fr_names = list(dict.fromkeys(_uninvert(fr.gettext(n)) for n in en_raw))
        aliases_en, aliases_fr = _ALIASES.get(c.alpha_2, ((), ()))
        display_en = _DISPLAY["en"].get(c.alpha_2) or (en_raw[0] if ", " not in en_raw[0] else en[0])
        display_fr = _DISPLAY["fr"].get(c.alpha_2) or fr_names[0]
        names[c.alpha_2] = {
            "en": list(dict.fromkeys([display_en, *aliases_en])),
            "fr": list(dict.fromkeys([display_fr, *aliases_fr])),
        }
        # The official names are searchable but not offered as expansions ("Republic of Peru").
        searchable += [(c.alpha_2, n, "name") for n in (*en, *fr_names, *aliases_en, *aliases_fr)]
    matcher = Phrases()
    seen: set[str] = set()
    for code, name, kind in searchable:
        key = " ".join(t for _, t in parse_pattern(name))
        if key in _DROP_NAMES or key in seen or not key:
            continue
        seen.add(key)  # the first country to claim a name keeps it
        matcher.add(name, (code, kind, _CASE_RULES.get(key), key))
    for code, word, lang in _demonyms():
        key = " ".join(t for _, t in parse_pattern(word))
        if key not in seen:
            seen.add(key)
            # English demonyms are capitalised: "Polish experts", not "polish the text"
            matcher.add(word, (code, "demonym", "cap" if lang == "en" else None, key))
    return _CountryTables(names, matcher)


def _case_ok(rule: str | None, raw_tokens: list[str]) -> bool:
    if rule is None:
        return True
    if rule == "upper":
        return all(t.isupper() for t in raw_tokens)
    long_tokens = [t for t in raw_tokens if len(t) >= 3] or raw_tokens
    capitalised = all(t[0].isupper() for t in long_tokens)
    if rule == "title":
        return capitalised and not all(t.isupper() for t in long_tokens)
    return capitalised


def _accept_country(demonyms: bool):
    def accept(doc: Doc, start: int, end: int, payload) -> bool:
        code, kind, rule, key = payload
        if kind == "demonym":
            if not demonyms:
                return False
            window = doc.keys[max(0, start - 3) : start] + doc.keys[end : end + 3]
            if (start and doc.keys[start - 1] in ("in", "en")) or not _LANGUAGE_CONTEXT.isdisjoint(window):
                return False  # "in Spanish", "en espagnol", "English, French and Spanish"
        if not _case_ok(rule, [doc.raw(i) for i in range(start, end)]):
            return False
        if key in _ENGLISH_ONLY and _looks_french(doc):
            return False
        before = tuple(doc.keys[max(0, start - 2) : start])
        if start and doc.keys[start - 1] in _HONORIFICS:
            return False
        for blocked in _BLOCK_BEFORE.get(code, ()):
            if before[-len(blocked) :] == blocked:
                return False
        after = tuple(doc.keys[end : end + 2])
        for blocked in _BLOCK_AFTER.get(code, ()):
            if after[: len(blocked)] == blocked:
                return False
        if key in _PERSON_PRONE and start:
            prev = doc.raw(start - 1)
            gap = doc.text[doc.end(start - 1) : doc.start(start)]
            same_line = gap.strip(" \t\u00a0") == ""
            if same_line and prev[0].isupper() and not prev.isupper() and prev.lower() not in _SENTENCE_WORDS:
                return False  # "Alejandro Austria", "Mme Lluch Palau"
        return True

    return accept


def _looks_french(doc: Doc) -> bool:
    french = sum(1 for k in doc.keys if k in _FRENCH_WORDS)
    return french > sum(1 for k in doc.keys if k in _ENGLISH_WORDS)


def country_hits(doc: Doc, demonyms: bool = True) -> list[tuple[int, int, str, str]]:
    """(token start, token end, code, kind) for every country mention."""
    hits = _countries().matcher.scan(doc, _accept_country(demonyms))
    return [(s, e, p[0], p[1]) for s, e, p in hits]


def find_countries(text: str, demonyms: bool = True) -> tuple[str, ...]:
    """ISO 3166-1 alpha-2 codes of the countries a text mentions, in order of first mention.

    >>> find_countries("Des experts argentins ont formé les agents du Pérou et de l'Équateur.")
    ('AR', 'PE', 'EC')
    """
    codes = (code for _, _, code, _ in country_hits(Doc(text), demonyms))
    return tuple(dict.fromkeys(codes))


def _check_code(code: str) -> str:
    code = code.upper()
    if code not in _countries().names:
        raise ValueError(f"Unknown country code {code!r}: expected an ISO 3166-1 alpha-2 code such as 'PE' or 'JO'")
    return code


def check_lang(lang: str) -> str:
    if lang not in ("en", "fr"):
        raise ValueError(f"Unknown language {lang!r}: expected 'en' or 'fr'")
    return lang


def country_names(code: str) -> dict[str, list[str]]:
    """English and French names of a country, display name first, for query expansion.

    >>> country_names("PE")
    {'en': ['Peru'], 'fr': ['Pérou']}
    """
    names = _countries().names[_check_code(code)]
    return {"en": list(names["en"]), "fr": list(names["fr"])}


def country_label(code: str, lang: str = "en") -> str:
    """Display name of a country: country_label("TL", "fr") == "Timor oriental"."""
    return _countries().names[_check_code(code)][check_lang(lang)][0]


def respell_countries(text: str) -> str:
    """Write the country names of a text as they are spelled, in the language they are written in.

    For titles rebuilt from file names or ALL-CAPS headings, where case and accents were lost.

    >>> respell_countries("MIEUX action perou iii"), respell_countries("timor leste ii")
    ('MIEUX action Pérou iii', 'Timor-Leste ii')
    """
    spans = [m.span() for m in TOKEN.finditer(text)]
    spellings = _spellings()
    out, last, i = [], 0, 0
    while i < len(spans):
        for n in (4, 3, 2, 1):
            if i + n > len(spans):
                continue
            a, b = spans[i][0], spans[i + n - 1][1]
            segment = text[a:b]
            if n > 1 and not re.fullmatch(r"\w+(?:[ \-'’]\w+)*", segment):
                continue  # only words joined by a space, hyphen or apostrophe make one name
            name = spellings.get(" ".join(TOKEN.findall(fold(segment))))
            if name is not None:
                out += [text[last:a], name]
                last, i = b, i + n
                break
        else:
            i += 1
    return "".join(out) + text[last:]


@lru_cache(maxsize=1)
def _spellings() -> dict[str, str]:
    # Display names and the longer aliases; short ones ("US", "UK") are also ordinary words in a file name.
    out: dict[str, str] = {}
    for names in _countries().names.values():
        for lang in ("en", "fr"):
            for k, name in enumerate(names[lang]):
                key = " ".join(TOKEN.findall(fold(name)))
                if key not in _DROP_NAMES and (k == 0 or (len(name) >= 4 and not name.isupper())):
                    out.setdefault(key, name)
    return out


# ---------------------------------------------------------------------------
# Cities: a city named in a question stands for its country ("officials in Lima")
# ---------------------------------------------------------------------------


def find_cities(text: str) -> list[tuple[str, str]]:
    """Cities the text names, with their country code (resources/cities.tsv)."""
    table = _city_table()
    out: list[tuple[str, str]] = []
    toks = TOKEN.findall(text)
    for n in (3, 2, 1):
        for i in range(len(toks) - n + 1):
            phrase = " ".join(fold(t) for t in toks[i : i + n])
            if phrase in table and toks[i][:1].isupper():
                name = " ".join(toks[i : i + n])
                if all(name not in c for c, _ in out):
                    out.append((name, table[phrase]))
    return out


@lru_cache(maxsize=1)
def _city_table() -> dict[str, str]:
    table = {}
    for code, en, fr in resources.table("cities.tsv", ("iso2", "en", "fr")):
        for name in en.split("|") + fr.split("|"):
            if name.strip():
                table[" ".join(fold(w) for w in TOKEN.findall(name))] = code.strip().upper()
    return table
