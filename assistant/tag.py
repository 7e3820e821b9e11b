"""Tagging stage: countries, actions, themes and years found in a document or passage."""

from __future__ import annotations

import gettext
import re
import unicodedata
from dataclasses import dataclass, replace
from typing import Any
from functools import lru_cache

import pycountry

from assistant import resources
from assistant.resources import alternatives
from assistant.text import TOKEN, expand_ligatures, fold, fold_aligned
from assistant.types import Action, Tags

__all__ = [
    "THEMES",
    "country_label",
    "country_names",
    "document_action",
    "expand_terms",
    "find_actions",
    "find_countries",
    "find_themes",
    "find_years",
    "gcm_action",
    "line_kind",
    "load_glossary",
    "load_metadata_lines",
    "respell_countries",
    "role_countries",
    "tag",
    "theme_label",
]

YEAR_MIN, YEAR_MAX = 1990, 2039
GCM_OBJECTIVES = 23  # the Global Compact for Migration has 23 objectives


# ---------------------------------------------------------------------------
# Folding and tokens
# ---------------------------------------------------------------------------

_KEY_CACHE: dict[str, str] = {}


def _key(word: str) -> str:
    key = _KEY_CACHE.get(word)
    if key is None:
        key = _KEY_CACHE[word] = fold(word)
    return key


class _Doc:
    """A text prepared once for all the matchers: NFC text and its folded word tokens.

    The aligned fold (`low`) and token offsets are computed on first use: most passages
    never need them, and building them costs more than all the matching.
    """

    __slots__ = ("text", "lower", "keys", "_spans", "_low")

    def __init__(self, text: str) -> None:
        if not unicodedata.is_normalized("NFC", text):
            text = unicodedata.normalize("NFC", text)
        self.text = text
        self.lower = text.lower()  # for cheap "is it worth looking" tests only
        cache = _KEY_CACHE
        # \w covers accented letters, so these are the same tokens as in the folded text
        self.keys = [cache.get(w) or _key(w) for w in TOKEN.findall(text)]
        self._spans: list[tuple[int, int]] | None = None
        self._low: str | None = None

    @property
    def low(self) -> str:
        """The folded text, offset for offset the same as `text`."""
        if self._low is None:
            self._low = fold_aligned(self.text)
        return self._low

    @property
    def spans(self) -> list[tuple[int, int]]:
        if self._spans is None:
            self._spans = [m.span() for m in TOKEN.finditer(self.text)]
        return self._spans

    def start(self, i: int) -> int:
        return self.spans[i][0]

    def end(self, i: int) -> int:
        return self.spans[i][1]

    def raw(self, i: int) -> str:
        a, b = self.spans[i]
        return self.text[a:b]


# ---------------------------------------------------------------------------
# A token-sequence matcher shared by countries, themes and the glossary
# ---------------------------------------------------------------------------
# Pattern tokens: "word" (folded, exact), "stem*" (folded, prefix), "=word" (lowercased but
# accent-sensitive: "=traite" is not "traité"), "^WORD" (exact case: "^TP", "^SOPs").


_EXACT, _PREFIX, _LOWER, _CASE = range(4)
_KINDS = {"exact": _EXACT, "prefix": _PREFIX, "lower": _LOWER, "case": _CASE}


def _parse_pattern(pattern: str) -> tuple[tuple[str, str], ...]:
    tokens = []
    for tok in re.findall(r"[=^]?\w+\*?", expand_ligatures(pattern)):
        if tok.startswith("^"):
            tokens.append(("case", tok[1:]))
        elif tok.startswith("="):
            tokens.append(("lower", tok[1:].lower()))
        elif tok.endswith("*"):
            tokens.append(("prefix", fold(tok[:-1])))
        else:
            tokens.append(("exact", fold(tok)))
    return tuple(tokens)


@dataclass(frozen=True, slots=True)
class _Pattern:
    length: int
    # (token offset, kind, value) still to check once the first token picked the pattern:
    # an exact or prefix first token is already proven by the lookup that found the pattern
    checks: tuple[tuple[int, int, str], ...]
    payload: Any


class _Phrases:
    """Finds token sequences in a `_Doc`, leftmost-longest, in one pass over the tokens."""

    def __init__(self) -> None:
        self._exact: dict[str, list[_Pattern]] = {}
        self._prefix: dict[str, list[_Pattern]] = {}
        self._prefix_lengths: list[int] = []
        self._cache: dict[str, tuple[_Pattern, ...]] = {}

    def add(self, pattern: str, payload: Any) -> None:
        tokens = _parse_pattern(pattern)
        if not tokens:
            return
        first_kind, first_value = tokens[0]
        checks = tuple(
            (k, _KINDS[kind], value)
            for k, (kind, value) in enumerate(tokens)
            if k > 0 or kind in ("lower", "case")
        )
        entry = _Pattern(len(tokens), checks, payload)
        if first_kind == "prefix":
            self._prefix.setdefault(first_value, []).append(entry)
            self._prefix_lengths = sorted({len(p) for p in self._prefix})
        else:
            self._exact.setdefault(fold(first_value), []).append(entry)
        self._cache.clear()

    def _candidates(self, key: str) -> tuple[_Pattern, ...]:
        found = self._cache.get(key)
        if found is None:
            out = list(self._exact.get(key, ()))
            for n in self._prefix_lengths:
                if n > len(key):
                    break
                out.extend(self._prefix.get(key[:n], ()))
            # longest first, so the first full match at a position is the longest one
            found = self._cache[key] = tuple(sorted(out, key=lambda p: -p.length))
        return found

    @staticmethod
    def _matches_at(doc: _Doc, i: int, found: tuple[_Pattern, ...]) -> list[tuple[int, int, Any]]:
        keys, n, out = doc.keys, len(doc.keys), []
        for p in found:
            end = i + p.length
            if end > n:
                continue
            for offset, kind, value in p.checks:
                j = i + offset
                if kind == _EXACT:
                    if keys[j] != value:
                        break
                elif kind == _PREFIX:
                    if not keys[j].startswith(value):
                        break
                elif kind == _LOWER:
                    if doc.raw(j).lower() != value:
                        break
                elif doc.raw(j) != value:
                    break
            else:
                out.append((i, end, p.payload))
        return out

    def scan(self, doc: _Doc, accept=None) -> list[tuple[int, int, Any]]:
        """Non-overlapping matches (token start, token end, payload); `accept` may veto one."""
        out = []
        keys, cache, candidates = doc.keys, self._cache, self._candidates
        i, n = 0, len(keys)
        while i < n:
            found = cache.get(keys[i])
            if found is None:
                found = candidates(keys[i])
            if found:
                for start, end, payload in self._matches_at(doc, i, found):
                    if accept is None or accept(doc, start, end, payload):
                        out.append((start, end, payload))
                        i = end - 1
                        break
            i += 1
        return out

    def scan_all(self, doc: _Doc) -> list[tuple[int, int, Any]]:
        """Every match, overlapping ones included (query expansion wants them all)."""
        out = []
        cache, candidates = self._cache, self._candidates
        for i, key in enumerate(doc.keys):
            found = cache.get(key)
            if found is None:
                found = candidates(key)
            if found:
                out.extend(self._matches_at(doc, i, found))
        return out


# ---------------------------------------------------------------------------
# Countries
# ---------------------------------------------------------------------------

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
    matcher: _Phrases  # payload (code, kind, case rule)


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
    matcher = _Phrases()
    seen: set[str] = set()
    for code, name, kind in searchable:
        key = " ".join(t for _, t in _parse_pattern(name))
        if key in _DROP_NAMES or key in seen or not key:
            continue
        seen.add(key)  # the first country to claim a name keeps it
        matcher.add(name, (code, kind, _CASE_RULES.get(key), key))
    for code, word, lang in _demonyms():
        key = " ".join(t for _, t in _parse_pattern(word))
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
    def accept(doc: _Doc, start: int, end: int, payload) -> bool:
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


def _looks_french(doc: _Doc) -> bool:
    french = sum(1 for k in doc.keys if k in _FRENCH_WORDS)
    return french > sum(1 for k in doc.keys if k in _ENGLISH_WORDS)


def _country_hits(doc: _Doc, demonyms: bool = True) -> list[tuple[int, int, str, str]]:
    """(token start, token end, code, kind) for every country mention."""
    hits = _countries().matcher.scan(doc, _accept_country(demonyms))
    return [(s, e, p[0], p[1]) for s, e, p in hits]


def find_countries(text: str, demonyms: bool = True) -> tuple[str, ...]:
    """ISO 3166-1 alpha-2 codes of the countries a text mentions, in order of first mention.

    >>> find_countries("Des experts argentins ont formé les agents du Pérou et de l'Équateur.")
    ('AR', 'PE', 'EC')
    """
    codes = (code for _, _, code, _ in _country_hits(_Doc(text), demonyms))
    return tuple(dict.fromkeys(codes))


def _check_code(code: str) -> str:
    code = code.upper()
    if code not in _countries().names:
        raise ValueError(f"Unknown country code {code!r}: expected an ISO 3166-1 alpha-2 code such as 'PE' or 'JO'")
    return code


def _check_lang(lang: str) -> str:
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
    return _countries().names[_check_code(code)][_check_lang(lang)][0]


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
# Lines that describe a document instead of saying something: roles, status, fields, dates
# ---------------------------------------------------------------------------

METADATA_KINDS = ("status", "role", "field", "published")  # checked in this order
_ROLE_MAX_ITEM_WORDS = 5  # "Experts involved: Spain, academia (United Kingdom)": every item is a short name
_LINE_MAX_WORDS = 30
_READS_ON = (" par", " by", " le", " on")


@lru_cache(maxsize=1)
def load_metadata_lines() -> list[tuple[str, list[str], list[str], str, str]]:
    """Rows of resources/metadata_lines.tsv: (kind, French labels, English labels, French example, English example)."""
    rows = []
    for kind, fr, en, fr_example, en_example in resources.table("metadata_lines.tsv", ("kind", "fr", "en", "fr_example", "en_example")):
        if kind not in METADATA_KINDS:
            raise ValueError(f"assistant/resources/metadata_lines.tsv: unknown kind {kind!r}; use one of {', '.join(METADATA_KINDS)}")
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
_ROLE_START = re.compile(r"(?m)^[ \t]*(?:expe|pays|hote|hôte|acc|bail|dona|donor|fina|fund|host|copr|co-p|co-c)", re.IGNORECASE)


def _role_spans(text: str) -> list[tuple[int, int]]:
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
    spans = _role_spans(text)
    if not spans:
        return ()
    doc = _Doc(text)
    codes = (code for s, _, code, _ in _country_hits(doc) if any(a <= doc.start(s) < b for a, b in spans))
    return tuple(dict.fromkeys(codes))


# ---------------------------------------------------------------------------
# Years
# ---------------------------------------------------------------------------

_YEAR = re.compile(r"(?<![\d.,/])((?:19|20)\d\d)(?:\s*[-–—/]\s*((?:19|20)\d\d|\d\d))?(?![\d])")
_MAX_RANGE = 15  # longer spans are periods of reference ("1990-2030"), not activity years


def find_years(text: str) -> tuple[int, ...]:
    """Years 1990-2039 in order of first mention; a range "2017-2018" gives every year in it.

    >>> find_years("Pérou (2017-2018), plan 2019-21")
    (2017, 2018, 2019, 2020, 2021)
    """
    years: dict[int, None] = {}
    for m in _YEAR.finditer(text):
        first = int(m.group(1))
        last = first
        if m.group(2):
            second = m.group(2)
            last = int(second) if len(second) == 4 else first - first % 100 + int(second)
        if not YEAR_MIN <= first <= YEAR_MAX:
            continue
        if first < last <= YEAR_MAX and last - first <= _MAX_RANGE:
            years.update(dict.fromkeys(range(first, last + 1)))
        else:
            years[first] = None
            if YEAR_MIN <= last <= YEAR_MAX and m.group(2) and len(m.group(2)) == 4:
                years[last] = None
    return tuple(years)


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



# ---------------------------------------------------------------------------
# Themes
# ---------------------------------------------------------------------------

# Each theme's labels, patterns and examples: resources/themes.toml.
_THEMES: dict[str, tuple[str, str, tuple[str, ...]]] = {
    slug: (theme["en"], theme["fr"], tuple(theme["patterns"])) for slug, theme in resources.toml("themes.toml").items()
}
THEMES: tuple[str, ...] = tuple(_THEMES)


@lru_cache(maxsize=1)
def _theme_matcher() -> _Phrases:
    matcher = _Phrases()
    for slug, (_, _, patterns) in _THEMES.items():
        for pattern in patterns:
            matcher.add(pattern, slug)
    return matcher


def _themes(doc: _Doc) -> tuple[str, ...]:
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
    return _themes(_Doc(text))


def theme_label(slug: str, lang: str = "en") -> str:
    """Display label of a theme: theme_label("smuggling", "fr") == "Trafic de migrants"."""
    if slug not in _THEMES:
        raise ValueError(f"Unknown theme {slug!r}: expected one of {', '.join(THEMES)}")
    en, fr, _ = _THEMES[slug]
    return en if _check_lang(lang) == "en" else fr


# ---------------------------------------------------------------------------
# Actions: MIEUX actions, Global Compact objectives and actions, national plans
# ---------------------------------------------------------------------------

_ROMAN = ("I", "II", "III", "IV", "V", "VI", "VII", "VIII", "IX", "X")
_ROMAN_AFTER = re.compile(r"[ \t\u00a0]+(X|IX|IV|V?I{1,3}|V)(?![\w'’])")
# "Peru I met the minister" is the pronoun, not the first action
_PRONOUN_VERBS = re.compile(
    r"\s+(?:am|was|have|had|think|believe|would|will|can|could|met|saw|want|hope|must|did|do|went|feel)\b"
)
_YEARS_AFTER = re.compile(r"\s*\(\s*((?:19|20)\d\d)\s*[-–—]\s*((?:19|20)\d\d)\s*\)")
_IBERRED = re.compile(r"\biberred\b")

_OBJECTIVE = re.compile(r"\bobjecti(?:ve|f)s?\s*(?:n[o°]\.?\s*)?(\d{1,2})(?!\d|\s*%|[.,]\d)")
_LETTER_AFTER = re.compile(
    r"\bactions?\s*(?:\(\s*([a-l])\s*\)|([a-l])\s*\)|([b-l])(?![\w'])|(a)(?=\s*(?:[,.;:]|$)))"
)
_ACTION_OF_OBJECTIVE = re.compile(
    r"\baction\s*\(?([a-l])\)?\s*,?\s+(?:of|under|from|de|du|in|dans)\s+(?:the\s+|l'|la\s+)?"
    r"(?:gcm\s+|pmm\s+)?objecti(?:ve|f)\s*(\d{1,2})(?!\d)"
)
# Not blank lines: PDF extractions put one between every line of a paragraph.
_SENTENCE_END = re.compile(r"\.\s|;|$")

_PLAN = re.compile(
    r"\b(?:(?P<national>national\s+action\s+plans?|plans?\s+d'action\s+(?:\w+\s+)?nationa(?:l|ux)"
    r"|plans?\s+nationa(?:l|ux)(?:\s+d'action)?)"
    r"|(?P<work>work\s*plans?|plans?\s+de\s+travail)"
    r"|(?P<action>action\s+plans?|plans?\s+d'action))\b"
)
_PLAN_OWNER_AFTER = re.compile(
    r"\s+(?:de\s+l'|de\s+la\s+|du\s+|of\s+the\s+|d'|de\s+)?"
    r"(?:(ue|eu)|(cedeao|ecowas)|(la\s+valette|valletta)|(rabat))\b"
)
_PLAN_OWNER_BEFORE = re.compile(r"\b(?:(eu)|(ecowas)|(joint\s+valletta|valletta)|(rabat))\s+$")
_OWNER_NAMES = ("EU Action Plan", "ECOWAS Action Plan", "Valletta Action Plan", "Rabat Action Plan")
_SUBJECTS = (  # (regex on the folded text after "plan", canonical subject), first hit wins
    (re.compile(r"trafic\s+(?:illicite|de\s+migrants|des\s+migrants)|smuggling|passeurs"), "migrant smuggling"),
    (re.compile(r"\btraite\b|\btp\b|\bteh\b|\bthb\b|trafficking|etres\s+humains"), "THB"),
    (re.compile(r"integration"), "integration"),
    (re.compile(r"migration|migratoire"), "migration"),
)
_RANGE = re.compile(r"((?:19|20)\d\d)\s*[-–—]\s*((?:19|20)\d\d)")


def gcm_action(objective: int, letter: str | None = None) -> Action:
    """The Global Compact for Migration objective (and action letter) as an Action.

    >>> gcm_action(9, "b").name
    'GCM Objective 9, action b'
    """
    if not 1 <= int(objective) <= GCM_OBJECTIVES:
        raise ValueError(f"GCM objective {objective!r} does not exist: the Compact has objectives 1 to 23")
    name = f"GCM Objective {int(objective)}"
    if letter:
        if not re.fullmatch(r"[a-zA-Z]", letter):
            raise ValueError(f"GCM action letter {letter!r} is not a single letter such as 'b'")
        name += f", action {letter.lower()}"
    return Action(name=name, kind="gcm")


def _mieux_context(doc: _Doc, doc_title: str | None) -> bool:
    # "mieux" is also the French word for "better": only the capitalised acronym counts
    return "MIEUX" in doc.text or bool(doc_title and "MIEUX" in doc_title)


def _mieux_actions(doc: _Doc, hits, doc_title: str | None) -> list[tuple[int, Action]]:
    out = []
    context = None
    for s, e, code, kind in hits:
        if kind == "demonym":
            continue
        start, end = doc.start(s), doc.end(e - 1)
        label = country_label(code, "en")
        m = _ROMAN_AFTER.match(doc.text, end)
        pronoun = m is not None and m.group(1) == "I" and _PRONOUN_VERBS.match(doc.text, m.end())
        if m and m.group(1) in _ROMAN and not pronoun:
            out.append((start, Action(name=f"MIEUX {label} {m.group(1)}", kind="mieux", countries=(code,))))
            continue
        m = _YEARS_AFTER.match(doc.text, end)
        if m and int(m.group(1)) < int(m.group(2)):
            if context is None:
                context = _mieux_context(doc, doc_title)
            # "Pérou (2017-2018)" names an action; "le Plan national du Costa Rica (2018-2022)" does not
            before = doc.text[max(0, start - 12) : start].rstrip(" \t\u00a0")
            headed = before == "" or before[-1] in ",:;–—-(\n" or before.endswith(("MIEUX", "Action", "action"))
            if context and headed:
                years = f"{m.group(1)}-{m.group(2)}"
                out.append(
                    (start, Action(name=f"MIEUX {label} ({years})", kind="mieux", countries=(code,), years=years))
                )
    if "iberred" in doc.lower:
        for m in _IBERRED.finditer(doc.low):
            out.append((m.start(), Action(name="MIEUX IberRed", kind="mieux")))
    return out


def _gcm_actions(doc: _Doc) -> list[tuple[int, Action]]:
    if "objecti" not in doc.lower:
        return []
    out = []
    low = doc.low
    for m in _OBJECTIVE.finditer(low):
        objective = int(m.group(1))
        if not 1 <= objective <= GCM_OBJECTIVES:
            continue
        stop = _SENTENCE_END.search(low, m.end())
        window_end = min(stop.start() if stop else len(low), m.end() + 80)
        letter = _LETTER_AFTER.search(low, m.end(), window_end)
        # "Objective 9 ... actions a–d" names the objective, not one action
        chosen = next((g for g in letter.groups() if g), None) if letter else None
        if chosen and letter and _OBJECTIVE.search(low, m.end(), letter.start()):
            chosen = None  # the letter belongs to a later objective
        out.append((m.start(), gcm_action(objective, chosen)))
    for m in _ACTION_OF_OBJECTIVE.finditer(low):
        objective = int(m.group(2))
        if 1 <= objective <= GCM_OBJECTIVES:
            out.append((m.start(), gcm_action(objective, m.group(1))))
    return out


def _plan_actions(doc: _Doc, hits, doc_title: str | None) -> list[tuple[int, Action]]:
    if "plan" not in doc.lower:
        return []
    low = doc.low
    out = []
    for m in _PLAN.finditer(low):
        stop = _SENTENCE_END.search(low, m.end())
        tail = low[m.end() : min(stop.start() if stop else len(low), m.end() + 100)]
        subject = next((name for rx, name in _SUBJECTS if rx.search(tail)), None)
        span = _RANGE.search(tail)
        years = f"{span.group(1)}-{span.group(2)}" if span else None
        owner_after = _PLAN_OWNER_AFTER.match(low, m.end())
        owner_before = _PLAN_OWNER_BEFORE.search(low, max(0, m.start() - 20), m.start())
        owner = owner_after or owner_before
        national = m.group("national") or re.search(r"\bnational", low[max(0, m.start() - 25) : m.start()])
        if owner:
            which = next(i for i, g in enumerate(owner.groups()) if g)
            name = _OWNER_NAMES[which]
            if subject in ("THB", "migrant smuggling") and which in (0, 1):
                name += f" against {subject}"
            out.append((m.start(), Action(name=name, kind="plan", years=years)))
        elif national:
            named = _country_in(doc, hits, m.end(), m.end() + len(tail))
            if subject is None and named is None:
                continue  # "national policies and Action Plans": whose, on what?
            code = named or _plan_country(doc, hits, m, doc_title)
            if subject in ("THB", "migrant smuggling"):
                name = f"National Action Plan against {subject}"
            elif subject == "integration":
                name = "National Integration Plan"
            elif subject == "migration":
                name = "National Action Plan on migration"
            else:
                name = "National Action Plan"
            if code:
                name += f" ({country_label(code, 'en')})"
            out.append((m.start(), Action(name=name, kind="plan", countries=(code,) if code else (), years=years)))
        elif m.group("work") and subject in ("THB", "migrant smuggling"):
            name = f"Work plan against {subject}" + (f" {years}" if years else "")
            out.append((m.start(), Action(name=name, kind="plan", years=years)))
    return out


def _country_in(doc: _Doc, hits, start: int, end: int) -> str | None:
    return next((code for s, _, code, _ in hits if start <= doc.start(s) < end), None)


def _plan_country(doc: _Doc, hits, m: re.Match, doc_title: str | None) -> str | None:
    """Whose national plan: the document's country, else the nearest one named before it."""
    if doc_title:
        title_codes = find_countries(doc_title, demonyms=False)
        if title_codes:
            return title_codes[0]
    before = [code for s, _, code, _ in hits if doc.start(s) < m.start()]
    if before:
        return before[-1]
    return hits[0][2] if hits else None


def _actions(doc: _Doc, hits, doc_title: str | None) -> tuple[Action, ...]:
    found = _mieux_actions(doc, hits, doc_title) + _gcm_actions(doc) + _plan_actions(doc, hits, doc_title)
    found.sort(key=lambda pair: pair[0])
    actions = list(dict.fromkeys(action for _, action in found))
    # The bare name adds nothing next to the precise one: "GCM Objective 9" beside
    # "GCM Objective 9, action c", "ECOWAS Action Plan" beside "ECOWAS Action Plan against THB".
    precise = [a.name for a in actions if a.kind in ("gcm", "plan")]

    def vague(a: Action) -> bool:
        return a.kind in ("gcm", "plan") and any(n.startswith((a.name + " ", a.name + ",")) for n in precise)

    return tuple(a for a in actions if not vague(a))


def find_actions(text: str, doc_title: str | None = None) -> tuple[Action, ...]:
    """MIEUX actions, GCM objectives/actions and national plans a text names, in order.

    `doc_title` gives context a passage lacks: whether the document is about MIEUX, and
    whose national plan "le Plan d'action national" is.

    >>> [a.name for a in find_actions("Pérou III et l'Objectif 9, action b")]
    ['MIEUX Peru III', 'GCM Objective 9, action b']
    """
    doc = _Doc(text)
    return _actions(doc, _country_hits(doc, demonyms=False), doc_title)


def _title_years(title: str) -> str | None:
    years = [int(y) for y in re.findall(r"(?<!\d)((?:19|20)\d\d)(?!\d)", title)]
    if len(years) >= 2 and min(years) < max(years):
        return f"{min(years)}-{max(years)}"
    return None


def document_action(title: str, text: str) -> Action | None:
    """The action a whole document is about, read from its title (years too), else None.

    >>> document_action("MIEUX Action: Peru I – THB (July 2012 - August 2016)", "")
    Action(name='MIEUX Peru I', kind='mieux', countries=('PE',), years='2012-2016')
    """
    actions = find_actions(title, doc_title=title)
    for kind in ("mieux", "gcm", "plan"):
        chosen = next((a for a in actions if a.kind == kind), None)
        if chosen is not None:
            if chosen.kind == "mieux" and chosen.years is None:
                chosen = replace(chosen, years=_title_years(title))
            return chosen
    # A title such as "MIEUX Case studies – ... (Peru)": the text may name the action
    countries = find_countries(title, demonyms=False)
    if "MIEUX" in title and len(countries) == 1 and text:
        for action in find_actions(text, doc_title=title):
            if action.kind == "mieux" and action.countries == countries:
                return action
    return None


def tag(text: str, doc_title: str | None = None) -> Tags:
    """Everything the tagger finds in a text, tokenised once.

    >>> tag("Le Pérou (2017-2018) : formation à la frontière avec le Chili", "MIEUX").countries
    ('PE', 'CL')
    """
    doc = _Doc(text)
    hits = _country_hits(doc, demonyms=True)
    roles = _role_spans(doc.text)
    # "Experts involved: Spain": a helper, host or donor is not what the text is about.
    about = [h for h in hits if not any(a <= doc.start(h[0]) < b for a, b in roles)] if roles else hits
    return Tags(
        countries=tuple(dict.fromkeys(code for _, _, code, _ in about)),
        actions=_actions(doc, [h for h in hits if h[3] != "demonym"], doc_title),
        years=find_years(doc.text),
        themes=_themes(doc),
    )


# ---------------------------------------------------------------------------
# Glossary and cross-lingual expansion
# ---------------------------------------------------------------------------


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
def _glossary_matcher(source_lang: str) -> _Phrases:
    matcher = _Phrases()
    for row, (fr, en) in enumerate(load_glossary()):
        for term in fr if source_lang == "fr" else en:
            matcher.add(_glossary_pattern(term), row)
    return matcher


def translations(text: str, target_lang: str) -> list[tuple[int, int, list[str]]]:
    """(start, end, terms in `target_lang`) for each glossary entry and country `text` names, by offset.

    >>> [(text[a:b], terms[:2]) for text in ["Peru's training"] for a, b, terms in translations(text, "fr")]
    [('Peru', ['Pérou']), ('training', ['formation', 'formations'])]
    """
    target = _check_lang(target_lang)
    source = "en" if target == "fr" else "fr"
    doc = _Doc(text)
    rows = load_glossary()
    found: list[tuple[int, int, list[str]]] = []
    for start, end, row in _glossary_matcher(source).scan_all(doc):
        fr, en = rows[row]
        found.append((doc.start(start), doc.end(end - 1), fr if target == "fr" else en))
    for start, end, code, _ in _country_hits(doc, demonyms=True):
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
