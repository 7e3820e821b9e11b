"""Answerability: a question's constraints, and whether one local context of the evidence meets them all.

A score threshold cannot tell answerable from unanswerable questions here (their top scores
overlap), so the decision reads the question as a list of constraints — what it names (countries,
actions, names, places), when (years, ranges), how much (figures) and what it asks for (the focus:
a budget, a count, who, why, "which recommendations were adopted") — and answers only when one
local context (a passage with its heading, its document's title and the passages around it in the
same section) meets every one of them. Words are matched through stems, the bilingual glossary,
the synonym classes of `resources/synonyms.tsv` and noun/verb derivation, never through a list tied
to a question. The question words live in `resources/question.toml`.

>>> ask = read_question("What was the budget of MIEUX Peru III?", "en")
>>> [(c.kind, c.label) for c in ask.constraints]
[('country', 'Peru'), ('action', 'MIEUX Peru III'), ('money', 'budget')]
"""

from __future__ import annotations

import re
from collections.abc import Callable
from collections.abc import Set as AbstractSet
from dataclasses import dataclass, field
from functools import lru_cache

from . import resources, tag
from .retrieve import COGNATE_PREFIX, QuestionInfo, analyze_question
from .text import analyze, lower_unaccented, stopwords, words
from .types import Evidence, Known, Language, Passage

# Kinds of constraint, in the order their failure is reported when no context meets them all.
ENTITY_KINDS = ("country", "action", "place", "name")
# Entities named by words a passage must hold (a country is also met through its cities and actions).
NAMED_KINDS = ("place", "name", "action")
KINDS = ENTITY_KINDS + (
    "year",
    "month",
    "figure",
    "count",
    "money",
    "percent",
    "date",
    "location",
    "rank",
    "focus",
    "predicate",
)
# Kinds whose answer is a quantity: the sentence that gives it is the one to quote.
QUANTITY_KINDS = ("count", "money", "percent")


@dataclass(frozen=True)
class Constraint:
    """One thing the question requires of its answer's context."""

    kind: str  # one of KINDS
    label: str  # as the question writes it, for the user ("budget", "2019", "Peru")
    terms: tuple[str, ...] = ()  # words to find (focus, predicate, count, name)
    values: tuple[int, ...] = ()  # country codes are in terms; years or figures here
    approximate: bool = False  # a figure given as "about 60", "over 5000"
    article: str = ""  # the French article the question puts before the noun ("le budget")


@dataclass
class Ask:
    """A question read as constraints."""

    info: QuestionInfo
    wh: str | None  # count, who, why, when, where, which, how, or None
    constraints: list[Constraint] = field(default_factory=list)
    comparison: bool = False  # each entity may be documented in its own passage
    parts: list["Ask"] = field(default_factory=list)  # a two-part question's parts, each decided alone

    def of(self, kind: str) -> list[Constraint]:
        return [c for c in self.constraints if c.kind == kind]

    def of_any(self, kinds) -> list[Constraint]:
        return [c for c in self.constraints if c.kind in kinds]


@dataclass
class Context:
    """A passage with what surrounds it: heading, title, action, and its neighbours in the same section."""

    evidence: Evidence
    text: str  # passage, window, neighbours
    head: str  # title, section, action name
    countries: frozenset[str]
    years: frozenset[int]
    document: frozenset[str] = frozenset()  # folded words of the whole document
    own_years: frozenset[int] = frozenset()  # years of the passage itself and its heading
    units: tuple[str, ...] = ()  # the passage (its window) and each neighbour, apart

    @property
    def passage(self) -> Passage:
        return self.evidence.passage


@dataclass
class Decision:
    """Whether the evidence answers the question; when not, what is missing and what is documented."""

    answerable: bool
    missing: Constraint | None = None
    documented: list[Constraint] = field(default_factory=list)  # entities the best context does hold
    support: list[Evidence] = field(default_factory=list)  # evidence whose context meets every constraint
    about: list[Evidence] = field(default_factory=list)  # evidence about the question's entities
    absent: bool = False  # the missing thing is nowhere in the corpus


# -- the question's words -----------------------------------------------------------------------------


@lru_cache(maxsize=1)
def lexicon() -> dict:
    """resources/question.toml, with every word folded."""
    return resources.toml("question.toml")


def _phrases(table: dict | list, lang: str) -> list[tuple[str, ...]]:
    items = table.get(lang, []) if isinstance(table, dict) else table
    return sorted((tuple(lower_unaccented(w) for w in words(p)) for p in items), key=len, reverse=True)


def _words_of(name: str, lang: str) -> frozenset[str]:
    return frozenset(lower_unaccented(w) for w in lexicon()[name].get(lang, []))


@lru_cache(maxsize=1)
def synonym_rows() -> list[tuple[str, list[str], list[str]]]:
    """resources/synonyms.tsv as (class, English terms, French terms)."""
    rows = resources.table("synonyms.tsv", ("class", "en", "fr", "example"))
    return [(cls, en.split("|"), fr.split("|")) for cls, en, fr, _ in rows]


@lru_cache(maxsize=8192)
@lru_cache(maxsize=1)
def verb_rows() -> tuple[dict[str, tuple[frozenset[str], frozenset[str]]], ...]:
    """resources/verbs.tsv, each row as {language: (stems of its one-word forms, stems of all its forms)}."""
    out = []
    for fr, en in resources.table("verbs.tsv", ("fr", "en")):
        row = {}
        for lang, cell in (("fr", fr), ("en", en)):
            forms = cell.split("|")
            single = {s for f in forms if len(analyze(f, lang)) == 1 for s in analyze(f, lang)}
            row[lang] = (frozenset(single), frozenset(analyze(" ; ".join(forms), lang)))
        out.append(row)
    return tuple(out)


def stems_for(term: str, lang: str, target: str) -> frozenset[str]:
    """Stems, in the `target` language, of what `term` (a word or phrase in `lang`) can be written as:
    itself, its glossary translations, the acronyms of the glossary phrases it belongs to, the
    words of its synonym classes and, in the other language, of its verb (resources/verbs.tsv)."""
    out = set(analyze(term, target)) | set(analyze(term, lang))
    if target != lang:
        out |= set(analyze(" ; ".join(tag.expand_terms(term, target)), target))
        own_stems = set(analyze(term, lang))
        for row in verb_rows():
            if row[lang][0] & own_stems:
                out |= row[target][1]
    out |= set(analyze(" ; ".join(tag.acronyms_for(term)), target))
    own = set(analyze(term, lang))
    for _, en, fr in synonym_rows():
        mine = en if lang == "en" else fr
        if any(set(analyze(t, lang)) & own for t in mine if len(analyze(t, lang)) == 1):
            theirs = en if target == "en" else fr
            out |= set(analyze(" ; ".join(theirs), target))
    return frozenset(out)


def _derived(stems: frozenset[str], have: set[str]) -> bool:
    """Noun and verb of one root: one stem begins the other ("public" / "publi" for publications /
    publié, "adopt" for adoption / adopted), the shorter of at least five letters."""
    for s in stems:
        if len(s) < 5:
            continue
        for h in have:
            if len(h) >= 5 and (h.startswith(s) or s.startswith(h)):
                return True
    return False


# -- reading the question ------------------------------------------------------------------------------

_PERCENT = re.compile(
    r"\d\s?%|\bper\s?cent\b|\bpour\s?cent\b|\bpercent\b|\b(?:half|third|quarter|moitie|tiers|quart)\b"
)
_MONEY = re.compile(
    r"(?:€|\$|£|\b(?:eur|euros?|usd|us\$|dollars?|francs?|fcfa|cfa|gbp|chf)\b)\s?\d|"
    r"\d[\d\s.,]*\s?(?:€|\$|£|"
    r"\b(?:eur|euros?|usd|dollars?|francs?|fcfa|cfa|gbp|chf|millions? d'euros|million euros)\b)",
    re.IGNORECASE,
)


def _month_pattern(full: bool) -> str:
    """A regex alternation of the month names of resources/months.tsv (with their abbreviations
    unless `full`), longest first so that "sept" is tried before "sep"."""
    rows = resources.table("months.tsv", ("fr", "en", "fr_example", "en_example"))
    names = {n.lower() for row in rows for cell in row[:2] for n in cell.split("|")}
    if full:
        names = {n for n in names if len(lower_unaccented(n)) > 3 or n in ("mai", "may")}
    return "|".join(re.escape(n) for n in sorted(names, key=lambda n: (-len(n), n)))


_DAY_MONTH = rf"\b\d{{1,2}}(?:st|nd|rd|th|er)?\s+(?:{_month_pattern(full=True)})\b"
_DATE = re.compile(rf"\b(?:19|20)\d\d\b|{_DAY_MONTH}", re.IGNORECASE)


def _tokens(question: str) -> list[tuple[str, str]]:
    """(as written, folded) for each word; elisions split off ("d'agents" -> "d", "agents")."""
    out = []
    for w in words(question):
        for part in re.split(r"'", w):
            if part:
                out.append((part, lower_unaccented(part)))
    return out


def _find(folded: list[str], phrase: tuple[str, ...], start: int = 0) -> int:
    n = len(phrase)
    for i in range(start, len(folded) - n + 1):
        if tuple(folded[i : i + n]) == phrase:
            return i
    return -1


def _clause_starts(question: str, folded: list[str]) -> set[int]:
    """Token positions where a clause starts: the first word, and the first after a leading comma."""
    starts = {0}
    head = question.split(",", 1)
    if len(head) == 2 and len(words(head[0])) <= 6:
        starts.add(len(_tokens(head[0])))
    return starts


def _wh(question: str, lang: str, folded: list[str]) -> tuple[str | None, int, int]:
    """The question's kind, and the token span of its trigger."""
    table = lexicon()["wh"]
    relative = {p for p in _phrases(table["relative"], lang)}
    starts = _clause_starts(question, folded)
    best: tuple[int, str, int] | None = None
    for kind in ("count", "who", "why", "when", "where", "which", "how"):
        for phrase in _phrases(table[kind], lang):
            i = _find(folded, phrase)
            while i >= 0:
                if (
                    phrase not in relative
                    or i in starts
                    or (i and folded[i - 1] in {"by", "par", "a", "to", "for", "pour"} and i - 1 in starts)
                ):
                    if best is None or i < best[0]:
                        best = (i, kind, i + len(phrase))
                    break
                i = _find(folded, phrase, i + 1)
    if best is None:
        return None, -1, -1
    i, kind, end = best
    # "What is the number of…" / "Quel est le nombre de…": a count asked with "what".
    if kind == "which":
        for phrase in _phrases(table["count"], lang):
            j = _find(folded, phrase, end)
            if 0 <= j <= end + 3:
                return "count", j, j + len(phrase)
    return kind, i, end


def read_question(question: str | QuestionInfo, lang: str | None = None) -> Ask:
    """The question as constraints; a two-part question ("…, and what did it find?") as its parts.

    >>> question = "Combien de participants ont assisté à la réunion de Porto en 2015 ?"
    >>> [(c.kind, c.label) for c in read_question(question, "fr").constraints]
    [('place', 'Porto'), ('year', '2015'), ('count', 'participants')]
    """
    info = question if isinstance(question, QuestionInfo) else analyze_question(question, lang)
    ask = _read(info)
    pieces = _split_parts(info.text, info.language)
    if len(pieces) > 1:
        ask.parts = [_read(analyze_question(piece, info.language)) for piece in pieces]
    return ask


def _read(info: QuestionInfo) -> Ask:
    text, lang = info.text, info.language
    toks = _tokens(text)
    raw = [r for r, _ in toks]
    folded = [f for _, f in toks]
    wh, w0, w1 = _wh(text, lang, folded)
    ask = Ask(info=info, wh=wh, comparison=_is_comparison(folded, lang))
    out = ask.constraints
    qualifiers = _words_of("qualifiers", lang) | _words_of("ordinals", lang) | _number_words(lang)
    aux = _words_of("auxiliaries", lang)
    light = _words_of("light_verbs", lang)

    # Entities: countries (by name, demonym or city), actions, and other names.
    for code in info.countries:
        out.append(Constraint("country", tag.country_label(code, lang), terms=(code,)))
    # A city stands for itself or for its country: "the Porto meeting" is met by a report that
    # names Porto, "officials in Lima" by passages about Peru.
    cities = [(city, code) for city, code in tag.find_cities(text) if not _in_name(text, city)]
    for city, code in cities:
        out.append(Constraint("place", city, terms=(city, code)))
    for action in tag.find_actions(text):
        if action.kind != "plan":
            out.append(Constraint("action", action.name, terms=(action.name,)))
    for name in _names(text, toks, lang, ask, cities):
        out.append(Constraint("name", name, terms=tuple(words(name))))

    # Time: years, and ranges ("between 2012 and 2016", "since 2008").
    for first, last, label in _year_spans(text, lang):
        out.append(Constraint("year", label, values=(first, last)))
    ask.comparison = ask.comparison or _coordinated(text, ask)

    # A month with its year ("in March 2018", "en mars 2018"): the context must give that month.
    for i, (r, f) in enumerate(toks[:-1]):
        if f in month_names() and _YEAR1.fullmatch(toks[i + 1][0]):  # "May 2015" is a month, "may" alone a verb
            out.append(Constraint("month", f"{r} {toks[i + 1][0]}", values=(month_names()[f],)))

    # Figures the question gives ("over 5000 children"), exact or approximate.
    for value, approx, label in _figures(text, lang):
        out.append(Constraint("figure", label, values=(value,), approximate=approx))

    # What it asks for.
    after = w1 if w1 >= 0 else 0
    seeks_noun = wh in ("which", "count") or (wh == "when" and w1 - w0 > 1)  # "what year", not "when"
    noun, noun_at, article = _focus_noun(toks, after, lang, qualifiers, aux, light) if seeks_noun else (None, -1, "")
    money_word = next((r for r, f in toks[max(w1, 0) :] if f in _words_of("money_nouns", lang)), None)
    bare = wh == "count" and " ".join(folded[w0:w1]) in ("how much", "combien")
    money = money_word or noun
    if (
        wh == "count"
        and money
        and (bare and money_word or noun and lower_unaccented(noun) in _words_of("money_nouns", lang))
    ):
        # "How much did the workshop cost?", "Combien a coûté…", "how much funding…": an amount.
        out.append(Constraint("money", money, terms=(money,)))
    elif wh == "count" and noun:
        counted = _counted(toks, noun_at, lang, light)
        out.append(Constraint("count", " ".join(counted), terms=tuple(counted)))
    elif noun:
        f = lower_unaccented(noun)
        if f in _words_of("money_nouns", lang):
            out.append(Constraint("money", noun, terms=(noun,), article=article))
        elif f in _words_of("percent_nouns", lang):
            out.append(Constraint("percent", noun, terms=(noun,), article=article))
        elif f in _words_of("date_nouns", lang):
            out.append(Constraint("date", noun, terms=(noun,), article=article))
        elif f in _words_of("rank_nouns", lang):
            out.append(Constraint("rank", noun, terms=(noun,), article=article))
        elif f not in _words_of("open_nouns", lang):
            out.append(Constraint("focus", noun, terms=(noun,), article=article))
    if wh == "when" and not noun:
        out.append(Constraint("date", raw[w0], terms=()))
    if wh == "where":
        out.append(Constraint("location", raw[w0], terms=()))
    cost = next((r for r, f in toks[max(w1, 0) :] if f in _words_of("money_verbs", lang)), None)
    if cost and wh in ("which", "count") and not noun and not ask.of("money"):
        out.append(Constraint("money", cost, terms=(cost,)))  # "What did the handbook cost?"
    # The predicate: required when it is what the question turns on: who did it, why it happened,
    # and, in a passive question, what was done ("what was decided", "which recommendations were
    # adopted"); never a light verb.
    verb, passive = _predicate(toks, after, noun_at, lang, aux, light, qualifiers, wh)
    # "How fast", "how long", "how often": "how" before a word that is not an auxiliary asks a degree.
    manner = wh == "how" and w1 < len(toks) and (lang == "fr" or toks[w1][1] in aux)
    if verb and (wh in ("who", "why") or manner or (wh in ("which", "when") and passive)):
        out.append(Constraint("predicate", verb, terms=(verb,)))
    return ask


def _number_words(lang: str) -> frozenset[str]:
    return frozenset(lower_unaccented(k) for k in lexicon()["number_words"].get(lang, {}))


def _coordinated(text: str, ask: Ask) -> bool:
    """Whether "and" / "et" joins two of the entities the question names ("in MIEUX's work and at the
    Lagos meeting", "le rapport 2018 et la fiche de l'action Pérou I"): each is then its own source."""
    spots = []
    low = text.lower()
    for c in ask.constraints:
        if c.kind in ENTITY_KINDS or c.kind == "year":
            for form in _surface_forms(c, ask.info.language):
                at = low.find(form.lower())
                if at >= 0:
                    spots.append((at, at + len(form)))
                    break
    spots.sort()
    for (a0, a1), (b0, _) in zip(spots, spots[1:]):
        between = low[a1:b0]
        if re.search(r"\b(?:and|et)\b", between) and len(between.split()) <= 8:
            return True
    return False


def _surface_forms(c: Constraint, lang: str) -> list[str]:
    """How the question may write a constraint: its label, and for an action its name in the question's
    language without the programme ("MIEUX Peru I" -> "Pérou I")."""
    forms = [c.label]
    if c.kind == "action":
        local = c.label
        for code in tag.find_countries(c.label):
            for name in tag.country_names(code).get("en", []):
                local = local.replace(name, tag.country_label(code, lang))
        forms += [local, re.sub(r"^MIEUX\+?\s+", "", local)]
    return forms


def _is_comparison(folded: list[str], lang: str) -> bool:
    return any(_find(folded, phrase) >= 0 for phrase in _phrases(lexicon()["comparison"], lang))


def _split_parts(text: str, lang: str) -> list[str]:
    """A two-part question split where "and" / "et" opens a second question ("Since when has MIEUX
    become MIEUX+, and how many countries…"); a question word right after the first ("Why and how…",
    "Quand et où…") asks about one thing."""
    toks = _tokens(text)
    folded = [f for _, f in toks]
    seconds = _phrases(lexicon()["wh"]["second"], lang)
    joiners = {"and", "et"}
    wh, w0, w1 = _wh(text, lang, folded)
    for i, f in enumerate(folded):
        if f not in joiners or i < 3:
            continue
        if any(tuple(folded[i + 1 : i + 1 + len(p)]) == p for p in seconds):
            # Cut the text where the joiner stands.
            at = _offset_of(text, toks, i)
            first, second = (
                text[:at].rstrip(" ,;"),
                text[at:].split(None, 1)[1] if len(text[at:].split(None, 1)) > 1 else "",
            )
            if len(words(first)) >= 3 and len(words(second)) >= 2:
                return [first + "?", second]
    return [text]


def _offsets(text: str, toks) -> list[int]:
    """Where each token starts in `text` (-1 if not found)."""
    out, pos = [], 0
    for r, _ in toks:
        found = text.find(r, pos)
        out.append(found)
        pos = found + len(r) if found >= 0 else pos
    return out


def _offset_of(text: str, toks: list[tuple[str, str]], index: int) -> int:
    offsets = _offsets(text, toks)
    return offsets[index] if index < len(offsets) else len(text)


def _sentence_starts(text: str, toks) -> set[int]:
    """Token positions that open a sentence inside the question ("… du Dialogue. Pouvez-vous…")."""
    return {n for n, at in enumerate(_offsets(text, toks)) if at > 0 and text[:at].rstrip()[-1:] in ".?!:;"}


def _in_name(text: str, city: str) -> bool:
    """Whether the city is a word of a longer name, not a place: "the Rabat Process", "Bali Process
    ministers", "le Processus de Rabat" name a dialogue, wherever its meetings are held."""
    for m in re.finditer(rf"\b{re.escape(city)}\b", text):
        after = re.match(r"\s+([A-Z][\w-]+)", text[m.end() :])
        if after and lower_unaccented(after.group(1)) not in month_names() and not tag.find_countries(after.group(1)):
            return True
        if re.search(r"\b[A-Z][\w-]+\s+(?:de|du|of)\s+$", text[: m.start()]):
            return True
    return False


def _names(text: str, toks, lang: str, ask: Ask, cities) -> list[str]:
    """Names (a body, a programme, a process): runs of capitalised words ("Middle East", "European
    Commission"), not the word that starts the question, countries, demonyms, cities, months, action
    names or question words."""
    stops = stopwords("fr") | stopwords("en")
    folded = [f for _, f in toks]
    starts = _clause_starts(text, folded)
    sentences = _sentence_starts(text, toks)
    action_words = {lower_unaccented(w) for c in ask.of("action") for w in words(c.label)}
    country_words = {
        lower_unaccented(w)
        for code in ask.info.countries
        for names in tag.country_names(code).values()
        for n in names
        for w in words(n)
    }
    city_words = {lower_unaccented(w) for city, _ in cities for w in words(city)}
    question_words = {p for ph in _phrases(lexicon()["wh"]["which"], lang) for p in ph}
    out: list[str] = []
    run: list[str] = []

    def flush() -> None:
        name = " ".join(run)
        if run and (len(run) > 1 or len(lower_unaccented(name)) >= 3) and name not in out:
            out.append(name)
        run.clear()

    for i, (r, f) in enumerate(toks + [("", "")]):
        if i in sentences:
            flush()  # a name never runs across a full stop
        name_like = (
            r[:1].isupper()
            and i not in starts | sentences
            and len(f) >= 2
            and f not in stops
            and f not in action_words | country_words | city_words | question_words
            and f not in _full_months()
            and not tag.find_countries(r)
            and not tag.is_demonym(r)
            and not tag.is_language_name(r)
        )
        if name_like:
            run.append(r)
        else:
            flush()
    return out


@lru_cache(maxsize=1)
def month_names() -> dict[str, int]:
    """Every month name and abbreviation of resources/months.tsv, folded, with its number."""
    out: dict[str, int] = {}
    rows = resources.table("months.tsv", ("fr", "en", "fr_example", "en_example"))
    for n, row in enumerate(rows, 1):
        for cell in row[:2]:
            for name in cell.split("|"):
                out[lower_unaccented(name)] = n
    return out


@lru_cache(maxsize=1)
def _full_months() -> frozenset[str]:
    return frozenset(m for m in month_names() if len(m) > 3 or m == "mai")


_COPULAS = frozenset(
    {"was", "were", "is", "are", "been", "be", "etait", "etaient", "est", "sont", "ete", "fut", "seront", "sera"}
)
_DETERMINERS = frozenset(
    {"the", "a", "an", "its", "their", "his", "her", "this", "these", "those", "that", "our", "my"}
)
_FRENCH_NOUN_ASKERS = frozenset(
    {"quel", "quelle", "quels", "quelles", "lequel", "laquelle", "lesquels", "lesquelles", "combien", "nombre"}
)


def _focus_noun(toks, start: int, lang: str, qualifiers, aux, light) -> tuple[str | None, int, str]:
    """The noun a question word asks about: "What was the (total) budget of…" -> budget. English
    puts adjectives and coordinated nouns first ("What size and duration limits…" -> limits) and
    asks no noun after "did" ("what did it find"); French puts the noun first ("Quelles limites de
    taille…" -> limites) and only after "quel" ("En quoi consiste…" asks none)."""
    stops = stopwords("fr") | stopwords("en")
    if (
        lang == "fr"
        and start > 0
        and toks[start - 1][1] not in _FRENCH_NOUN_ASKERS
        and not any(f in _FRENCH_NOUN_ASKERS for _, f in toks[max(0, start - 3) : start])
    ):
        return None, -1, ""
    article = ""
    after_aux = False
    found: tuple[str, int] | None = None
    for i in range(start, min(start + 8, len(toks))):
        r, f = toks[i]
        if f in ("le", "la", "les", "l") and lang == "fr":
            article = {"l": "l'"}.get(f, f + " ")
        if f in aux:
            if found or (lang == "en" and f not in _COPULAS):
                break  # "What lessons did…" ends the noun; "What did it find" has none
            after_aux = True
            continue
        if found and lang == "en" and f in ("and", "or"):
            continue  # "size and duration limits"
        skip = f in stops or f in qualifiers or len(f) < 3 or f in {"of", "de", "des", "du", "d"}
        if skip:
            if found:
                break
            continue
        if (tag.find_countries(r) or tag.is_demonym(r) or tag.is_language_name(r)) and not found:
            continue  # "What French law…": the demonym qualifies the noun
        if r[:1].isupper() or r[:1].isdigit():
            break
        if (after_aux or found or lang == "en") and (_participle(f, lang) or f in light):
            break
        if found and lang == "en" and i + 1 < len(toks) and toks[i + 1][1] in _DETERMINERS:
            break  # "Which agencies co-ran the trainings": a word before "the" is the verb
        found = (r, i)
        if lang == "fr":
            break
    if not found:
        return None, -1, ""
    return found[0], found[1], article


def _counted(toks, at: int, lang: str, light) -> list[str]:
    """The counted noun with the word after it when that may be the noun instead ("how many
    vulnerable children" -> [vulnerable, children]); a number before either answers."""
    stops = stopwords("fr") | stopwords("en")
    out = [toks[at][0]]
    for r, f in toks[at + 1 : at + 2]:
        if f in stops or f in light or r[:1].isupper() or r[:1].isdigit() or len(f) < 3 or _participle(f, lang):
            break
        out.append(r)
    return out


_PARTICIPLE_FR = re.compile(r"(?:e|ee|es|ees|i|ie|is|ies|u|ue|us|ues|it|ite|its|ites|ert|erte|erts|ertes)$")


def _participle(folded: str, lang: str) -> bool:
    if lang == "en":
        return folded in _words_of("participles", "en") or (folded.endswith("ed") and len(folded) >= 4)
    return bool(_PARTICIPLE_FR.search(folded)) and len(folded) > 4


_BARE_AUX = frozenset({"did", "does", "do", "will", "would", "can", "could", "should", "may", "might"})
# English particles that make one verb of the word before them ("pull out of", "step down from",
# "back out of"): the predicate is the verb with its particle, not the word after.
_PARTICLES = frozenset({"out", "off", "up", "down", "back", "away", "over"})
_BE = frozenset(
    {"was", "were", "is", "are", "been", "be", "being", "ete", "est", "sont", "etait", "etaient", "fut", "furent"}
)


def _predicate(
    toks, start: int, noun_at: int, lang: str, aux, light, qualifiers, wh: str | None
) -> tuple[str | None, bool]:
    """The verb the question turns on, and whether it is passive: the word after "who"; else, after
    an auxiliary, a participle ("was the MIEUX action in Thailand interrupted", "ont été adoptées") or
    the verb closing "did SUBJECT VERB". An inverted verb ("devaient-elles") is an auxiliary."""
    stops = stopwords("fr") | stopwords("en")
    seen_aux, passive, bare = False, False, False
    run: list[str] = []
    run_closed = False
    particle = ""  # the particle closing the run ("pull out")
    for i in range(max(start, 0), len(toks)):
        r, f = toks[i]
        if i == noun_at or f in qualifiers:
            continue
        inverted = "-" in f and f.rsplit("-", 1)[1] in {"il", "elle", "ils", "elles", "on"}
        content = len(f) > 2 and f not in stops and not r[:1].isupper() and not r[:1].isdigit() and not inverted
        if wh == "who" and i == start and content and f not in aux:
            return (None if f in light else r), False  # "who chaired…"
        if f in aux or inverted:
            if run:
                run_closed = True
            passive = passive or f in _BE  # "was adopted", "ont été adoptées", "has been signed"
            bare = lang == "en" and f in _BARE_AUX
            seen_aux = True
            continue
        if not seen_aux:
            continue
        if bare and f in _DETERMINERS and i - 1 > start and toks[i - 1][1] not in aux:
            # "How did the people trained in Tumbes rate the course": after "did", the verb is the word
            # before its object; a participle in the subject is not the verb.
            if particle:
                return (None if lower_unaccented(run[-1]) in light else f"{run[-1]} {particle}"), False
            before = toks[i - 1]
            if len(before[1]) > 2 and before[1] not in stops and not before[0][:1].isupper():
                return (None if before[1] in light else before[0]), False
        adjective = (
            lang == "en"
            and i + 1 < len(toks)
            and len(toks[i + 1][1]) > 2
            and toks[i + 1][1] not in stops
            and not toks[i + 1][0][:1].isupper()
        )
        if content and _participle(f, lang) and not bare and not adjective:
            # English keeps the participle after the subject, however long ("was the action in Thailand
            # cancelled"); French right after its auxiliary.
            return (None if f in light else r), passive
        if lang == "fr":
            if content:
                return None, False
            continue
        if bare and content and (f in light or f in _words_of("comparison", lang)):
            return None, False  # "How did the number of activities compare…": the verb asks nothing of its own
        if content and not run_closed:
            if f in light:
                run_closed = True
            else:
                run.append(r)
        elif run:
            if not run_closed and lang == "en" and f in _PARTICLES and toks[i - 1][0] == run[-1]:
                particle = f
            run_closed = True
    if run and particle:
        return f"{run[-1]} {particle}", False
    return (run[-1] if run else None), False


_MONTH_NAMES = rf"(?:{_month_pattern(full=False)})\.?"
# "2012-2016", "2012 to 2016", "July 2012 – August 2016", "de 2012 à 2016"
_YEAR_RANGE = re.compile(
    r"\b((?:19|20)\d\d)\s*(?:[-–—/]|\s(?:and|to|until|through|et|à|a|au|jusqu'en|jusqu’en|jusqu'à|jusqu’à)\s)\s*"
    rf"(?:\d{{1,2}}(?:st|nd|rd|th|er)?\s+)?(?:{_MONTH_NAMES}\s+)?((?:19|20)\d\d)\b",
    re.I,
)
_SINCE = re.compile(r"\b(?:since|depuis|after|après|from)\s+(?:\w+\s+){0,2}?((?:19|20)\d\d)\b", re.I)
_YEAR1 = re.compile(r"\b((?:19|20)\d\d)\b")


def _year_spans(text: str, lang: str) -> list[tuple[int, int, str]]:
    """(first, last, label) for each year or range the question names."""
    spans: list[tuple[int, int, str]] = []
    taken: list[tuple[int, int]] = []
    for m in _YEAR_RANGE.finditer(text):
        a, b = int(m.group(1)), int(m.group(2))
        if a <= b:
            spans.append((a, b, m.group(0)))
            taken.append(m.span())
    for m in _SINCE.finditer(text):
        if any(s <= m.start(1) < e for s, e in taken):
            continue
        spans.append((int(m.group(1)), tag.YEAR_MAX, m.group(0)))
        taken.append(m.span())
    for m in _YEAR1.finditer(text):
        if any(s <= m.start() < e for s, e in taken):
            continue
        y = int(m.group(1))
        spans.append((y, y, m.group(1)))
    return spans


def _figures(text: str, lang: str) -> list[tuple[int, bool, str]]:
    """Figures the question gives, not years: (value, approximate, as written)."""
    lex = lexicon()
    approx_words = _phrases(lex["approximate"], lang)
    numbers = {lower_unaccented(k): v for k, v in lex["number_words"].get(lang, {}).items()}
    toks = _tokens(text)
    folded = [f for _, f in toks]
    out = []
    for i, (r, f) in enumerate(toks):
        value = None
        if re.fullmatch(r"\d+", r) and not _YEAR1.fullmatch(r):
            value = int(r)
        elif f in numbers and numbers[f] >= 20 and i + 1 < len(toks):
            value = numbers[f]  # "une soixantaine de participants", "about sixty"
        if value is None or value < 2:
            continue
        approx = (
            f in numbers and not r.isdigit() or any(tuple(folded[max(0, i - len(p)) : i]) == p for p in approx_words)
        )
        out.append((value, approx, r))
    return out


# -- the local contexts of the evidence ----------------------------------------------------------------


Neighbours = Callable[[Passage], list[Passage]]
DocumentWords = Callable[[str], frozenset[str]]


def contexts(
    evidence: list[Evidence], neighbours: Neighbours | None = None, document_words: DocumentWords | None = None
) -> list[Context]:
    """Each evidence passage with its heading, title, action and same-section neighbours."""
    out = []
    for ev in evidence:
        p = ev.passage
        near = [p.window or p.text]
        near += [q.text for q in (neighbours(p) if neighbours else []) if q.section == p.section]
        head = " ".join(x for x in (p.title, p.section or "", p.action or "") if x)
        text = " ".join([p.text] + near)
        years = _years_in(f"{head} {text}", p.language)
        out.append(
            Context(
                evidence=ev,
                text=text,
                head=head,
                countries=frozenset(tuple(p.action_countries) + tuple(p.countries)),
                years=frozenset(years),
                document=document_words(p.doc_id) if document_words else frozenset(),
                own_years=frozenset(_years_in(f"{head} {p.text}", p.language)),
                units=tuple(near),
            )
        )
    return out


def _years_in(text: str, lang: str) -> set[int]:
    years = set(tag.find_years(text))
    for first, last, _ in _year_spans(text, lang):
        if last - first <= 15:  # a range of activity, not a period of reference ("1990-2030")
            years.update(range(first, last + 1))
    return years


@dataclass
class _Seen:
    """A context's words, analysed once in its language. Figures are read in the passage and its
    heading only: a number in the next paragraph may be another meeting's."""

    stems: set[str]
    folded: set[str]
    numbers: list[tuple[int, int]]  # (value, token position) in `tokens`
    tokens: list[str]  # the passage's own words, with its heading's
    own: str  # the passage's own text, with its heading


def _seen(ctx: Context) -> _Seen:
    lang = ctx.passage.language
    full = f"{ctx.head} {ctx.text}"
    own = f"{ctx.head} {ctx.passage.text}"
    toks = words(own)
    return _Seen(
        stems=set(analyze(full, lang)),
        folded={lower_unaccented(t) for t in words(full)},
        numbers=_numbers_in(toks, lang),
        tokens=toks,
        own=own,
    )


def _numbers_in(toks: list[str], lang: str) -> list[tuple[int, int]]:
    words_fr = {lower_unaccented(k): v for k, v in lexicon()["number_words"]["fr"].items()}
    words_en = {lower_unaccented(k): v for k, v in lexicon()["number_words"]["en"].items()}
    table = {**words_en, **words_fr}
    out = []
    for i, t in enumerate(toks):
        digits = re.sub(r"[.,\u00a0\u202f]", "", t)
        if digits.isdigit() and not (len(digits) == 4 and _YEAR1.fullmatch(digits)):
            out.append((int(digits), i))
        elif lower_unaccented(t) in table:
            out.append((table[lower_unaccented(t)], i))
    return out


# -- the checks: one small function per kind of constraint ---------------------------------------------


def _has_term(term: str, q_lang: str, ctx: Context, seen: _Seen) -> bool:
    stems = stems_for(term, q_lang, ctx.passage.language)
    if stems & seen.stems or _derived(stems, seen.stems):
        return True
    return ctx.passage.language != q_lang and _cognate(term, seen.folded)


def _cognate(term: str, have: AbstractSet[str]) -> bool:
    """French and English words of one Latin root share their first letters ("interrompue" /
    "interrupted", "présidé" / "presided", "projets" / "projects"): across the two languages, six of
    them, or all but the last of a shorter word."""
    folded = lower_unaccented(term)
    if len(folded) < 5:
        return False
    for h in have:
        need = min(COGNATE_PREFIX, min(len(folded), len(h)) - 1)
        if need >= 4 and h[:need] == folded[:need]:
            return True
    return False


def check_country(c: Constraint, ctx: Context, seen: _Seen, ask: Ask) -> bool:
    return c.terms[0] in _about(ctx, ask)


def _about(ctx: Context, ask: Ask) -> frozenset[str]:
    """The countries a context is about: its action's, and the first it names (not a list in passing)."""
    p = ctx.passage
    if len(ask.of("country")) > 1:
        return frozenset(p.countries) | frozenset(p.action_countries)
    return frozenset(tuple(p.action_countries) + tuple(p.countries[:2]))


def check_action(c: Constraint, ctx: Context, seen: _Seen, ask: Ask) -> bool:
    if ctx.passage.action == c.label:
        return True
    return any(a.name == c.label for a in tag.find_actions(f"{ctx.head} {ctx.text}"))


def check_name(c: Constraint, ctx: Context, seen: _Seen, ask: Ask) -> bool:
    """A name (a body, a programme) holds in its document: a report names UNODC once and then
    reports what it said. Each distinctive word of a multi-word name must be there, as written,
    translated (Mediterranean / Méditerranée) or as a plural."""
    have = seen.folded | ctx.document
    lang = ctx.passage.language
    for t in tag.expand_terms(c.label, lang) if len(words(c.label)) > 1 else ():
        if all(lower_unaccented(w) in have for w in words(t)):
            return True  # Middle East / Moyen-Orient
    for word in c.terms:
        folded = lower_unaccented(word)
        if folded in have or folded.rstrip("s") in have:
            continue
        if len(folded) >= 6 and any(f.startswith(folded[:6]) for f in have):
            continue  # Mediterranean / Méditerranée, Process / Processus
        if stems_for(word, ask.info.language, lang) & seen.stems:
            continue
        if any(lower_unaccented(t) in have for t in tag.expand_terms(word, lang)):
            continue  # EU / UE, UN / ONU
        return False
    return True


def check_place(c: Constraint, ctx: Context, seen: _Seen, ask: Ask) -> bool:
    city, code = c.terms
    return (
        lower_unaccented(city) in seen.folded
        or all(lower_unaccented(w) in seen.folded for w in words(city))
        or code in _about(ctx, ask)
    )


def check_year(c: Constraint, ctx: Context, seen: _Seen, ask: Ask) -> bool:
    """A year of the span in the context; for a quantity ("how many … in 2019"), in the passage or
    its heading, where the figure is given, not in the passages around it. Likewise for an event
    asked by its place and year: a list of dated meetings ("Porto, 3-4 December 2015." then
    "Brussels, 31 May 2016.") gives each place its own year (`_place_units`)."""
    first, last = c.values
    if ask.of_any(QUANTITY_KINDS + ("figure",)):
        years = ctx.own_years
    else:
        units = _place_units(ask, ctx)
        years = ctx.years if units is None else frozenset(_years_in(" ".join(units), ctx.passage.language))
    return any(first <= y <= last for y in years)


def says(text: str, name: str) -> bool:
    """Whether every word of `name` is in `text` (folded)."""
    have = {lower_unaccented(w) for w in words(text)}
    return all(lower_unaccented(w) in have for w in words(name))


def _place_units(ask: Ask, ctx: Context) -> list[str] | None:
    """The parts of a context (the passage, each neighbour, and its heading unless the heading lists
    other cities too) that name the places the question asks about, where the time asked must be
    given too; None when the whole context may give it: no place
    is asked, the heading names it (a report of the Porto meeting), or it is met through its country
    ("officials in Lima": passages about Peru)."""
    places = ask.of("place")
    if not places:
        return None
    units: list[str] = []
    asked = {lower_unaccented(c.terms[0]) for c in places}
    # A heading naming other cities too is a listing's ("News: Cidade Velha 2016, Brussels 2016, Porto
    # 2015"), not the heading of one meeting's report.
    listing = any(lower_unaccented(city) not in asked for city, _ in tag.find_cities(ctx.head))
    parts = ctx.units
    if listing:  # a listing's entries are its paragraphs
        parts = tuple(para for u in ctx.units for para in re.split(r"\n\s*\n", u) if para.strip())
    for c in places:
        city = c.terms[0]
        naming = [u for u in parts if says(u, city)]
        in_head = says(ctx.head, city)
        if not naming:
            # In a listing naming the place, this entry is another event's; else it is met by country.
            return [] if listing and in_head else None
        if in_head and not listing:
            return None
        units += [u for u in naming if u not in units]
    return units if listing else [ctx.head, *units]


def check_month(c: Constraint, ctx: Context, seen: _Seen, ask: Ask) -> bool:
    """The month the question names, in the passage or its heading, where its year is given (with a
    place asked, in the part of the context that names the place)."""
    months = month_names()
    units = _place_units(ask, ctx)
    text = seen.own if units is None else " ".join(units)
    return any(months.get(lower_unaccented(w)) == c.values[0] for w in words(text))


def check_location(c: Constraint, ctx: Context, seen: _Seen, ask: Ask) -> bool:
    """A "where" question needs a place in the passage: a city or country the question does not
    already name ("Where did the Timorese officials go?" -> "a study visit to Thailand")."""
    named_cities = {lower_unaccented(city) for city, _ in tag.find_cities(ask.info.text)}
    if any(lower_unaccented(city) not in named_cities for city, _ in tag.find_cities(ctx.text)):
        return True
    if _words_of("regions", ctx.passage.language) & seen.folded:
        return True  # "Where do the migrants come from?" -> "from Africa, Asia and the Caribbean"
    # The passage's own countries: an expert's or a host's country is not where it happened.
    return bool(set(tag.find_countries(ctx.passage.text)) & set(ctx.passage.countries) - set(ask.info.countries))


def check_figure(c: Constraint, ctx: Context, seen: _Seen, ask: Ask) -> bool:
    want = c.values[0]
    for value, _ in seen.numbers:
        if value == want or (c.approximate and abs(value - want) <= 0.25 * want):
            return True
    return False


COUNT_REACH = 2  # words between a number and the noun it counts, at most ("5500 enfants vulnérables")


def check_count(c: Constraint, ctx: Context, seen: _Seen, ask: Ask) -> bool:
    """A number given with the counted noun ("22 participants"), or with a word of the same class."""
    lang, q_lang = ctx.passage.language, ask.info.language
    wanted: set[str] = set()
    for term in c.terms:
        wanted |= stems_for(term, q_lang, lang)
    if any(lower_unaccented(t) in _words_of("people_nouns", q_lang) for t in c.terms):
        wanted |= set(analyze(" ; ".join(lexicon()["people_nouns"][lang]), lang))
    given = {v for v, _ in _numbers_in(words(ask.info.text), q_lang)}  # "les deux refuges": 2 is not the answer
    positions = {i for v, i in seen.numbers if v not in given}
    for i, tok in enumerate(seen.tokens):
        # The number stands with its noun: "22 participants", "une soixantaine de participants".
        if set(analyze(tok, lang)) & wanted and any(j in positions for j in range(max(0, i - COUNT_REACH), i)):
            return True
    return False


def check_money(c: Constraint, ctx: Context, seen: _Seen, ask: Ask) -> bool:
    return bool(_MONEY.search(seen.own))


def check_percent(c: Constraint, ctx: Context, seen: _Seen, ask: Ask) -> bool:
    return bool(_PERCENT.search(lower_unaccented(seen.own)))


def check_date(c: Constraint, ctx: Context, seen: _Seen, ask: Ask) -> bool:
    return bool(_DATE.search(ctx.text))


def check_term(c: Constraint, ctx: Context, seen: _Seen, ask: Ask) -> bool:
    return _has_term(c.terms[0], ask.info.language, ctx, seen)


@lru_cache(maxsize=64)
def _document_stems(document: frozenset[str], lang: str) -> frozenset[str]:
    return frozenset(s for w in document for s in analyze(w, lang))


def check_focus(c: Constraint, ctx: Context, seen: _Seen, ask: Ask) -> bool:
    """The noun asked about, in the context or elsewhere in its document: a report that never
    speaks of penalties gives none; one that does may give them a few paragraphs away, in words
    the question does not use ("Which projects…" answered by a list of project names)."""
    if _has_term(c.terms[0], ask.info.language, ctx, seen):
        return True
    lang = ctx.passage.language
    stems = stems_for(c.terms[0], ask.info.language, lang)
    return bool(stems & _document_stems(ctx.document, lang)) or (
        lang != ask.info.language and _cognate(c.terms[0], ctx.document)
    )


_ORDINAL = re.compile(r"^\d+(?:e|er|ere|eme|st|nd|rd|th)?$")


def check_rank(c: Constraint, ctx: Context, seen: _Seen, ask: Ask) -> bool:
    """A number or rank asked for ("what number is it?"): the passage or its heading gives a figure
    or an ordinal ("4ème pilier", "the fourth pillar")."""
    ordinals = _words_of("ordinals", "en") | _words_of("ordinals", "fr") | _number_words("en") | _number_words("fr")
    return any(_ORDINAL.match(lower_unaccented(t)) or lower_unaccented(t) in ordinals for t in seen.tokens)


CHECKS = {
    "country": check_country,
    "action": check_action,
    "name": check_name,
    "year": check_year,
    "figure": check_figure,
    "count": check_count,
    "money": check_money,
    "percent": check_percent,
    "date": check_date,
    "month": check_month,
    "location": check_location,
    "place": check_place,
    "focus": check_focus,
    "rank": check_rank,
    "predicate": check_term,
}


def states(ask: Ask, text: str, lang: Language) -> bool:
    """Whether `text` (a sentence or passage in `lang`) gives the quantity the question asks for."""
    wanted = ask.of_any(QUANTITY_KINDS)
    if not wanted:
        return False
    p = Passage(
        id="", doc_id="", title="", language=lang, year=None, section=None, text=text, start=0, end=len(text), window=""
    )
    ctx = Context(evidence=Evidence(passage=p, score=0.0), text=text, head="", countries=frozenset(), years=frozenset())
    seen = _seen(ctx)
    return all(CHECKS[c.kind](c, ctx, seen, ask) for c in wanted)


def coverage(info: QuestionInfo, ctx: Context, seen: _Seen) -> float:
    """Share of the question's content words found in the context: as written, through the glossary
    (its multi-word entries count as one concept), a synonym class, a derivation or a cognate."""
    lang = ctx.passage.language
    concepts = [c.get(lang, set()) for c in info.concepts]
    by_concept = sum(1 for stems in concepts if stems & seen.stems) / len(concepts) if concepts else 0.0
    content = [w for w in words(info.text) if analyze(w, info.language)]
    by_word = sum(1 for w in content if _has_term(w, info.language, ctx, seen)) / len(content) if content else 0.0
    return max(by_concept, by_word)


def failures(ask: Ask, ctx: Context, seen: _Seen) -> list[Constraint]:
    """The constraints this context does not meet, in the order of KINDS."""
    failed = [c for c in ask.constraints if not CHECKS[c.kind](c, ctx, seen, ask)]
    return sorted(failed, key=lambda c: KINDS.index(c.kind))


def decide(
    ask: Ask,
    evidence: list[Evidence],
    known: Known,
    min_coverage: float,
    neighbours: Neighbours | None = None,
    document_words: DocumentWords | None = None,
) -> Decision:
    """Whether one local context of `evidence` meets every constraint of `ask`.

    A two-part question is answered when each part is, each by its own context. In a comparison
    (or a question naming several countries), each entity needs a context of its own that meets it;
    the other constraints need one context meeting them.
    """
    if not evidence:
        return Decision(False)
    ask = _names_only(ask, known)
    absent = _absent(ask, known)
    if absent is not None:
        return Decision(False, missing=absent, absent=True)
    ctxs = contexts(evidence, neighbours, document_words)
    seen = [_seen(c) for c in ctxs]
    if ask.parts:
        # A part's few words ("and what did it find?") are read with the whole question's.
        decisions = [_decide(_names_only(part, known), ctxs, seen, min_coverage, ask.info) for part in ask.parts]
        failed = next((d for d in decisions if not d.answerable), None)
        about = _about_entities(ask, ctxs, seen)
        if failed is not None:
            failed.about = about
            return failed
        support: list[Evidence] = []
        for d in decisions:
            support += [e for e in d.support if all(e.passage.id != x.passage.id for x in support)]
        return Decision(True, support=support, about=about)
    return _decide(ask, ctxs, seen, min_coverage)


def _decide(
    ask: Ask, ctxs: list[Context], seen: list[_Seen], min_coverage: float, whole: QuestionInfo | None = None
) -> Decision:
    entities = [c for c in ask.constraints if c.kind in ENTITY_KINDS]
    separate = ask.comparison and len(entities) > 1 or len(ask.of("country")) > 1
    if separate:
        rest = [c for c in ask.constraints if c.kind not in ENTITY_KINDS]
        groups = [[e] for e in entities] + ([rest] if rest else [])
    else:
        groups = [ask.constraints]
    support: list[Evidence] = []
    for group in groups:
        wanted = Ask(ask.info, ask.wh, group)
        met, best = False, None
        for n, (ctx, s) in enumerate(zip(ctxs, seen)):
            failed = failures(wanted, ctx, s)
            if (
                not failed
                and max(coverage(ask.info, ctx, s), coverage(whole, ctx, s) if whole else 0.0) >= min_coverage
            ):
                met = True
                if ctx.evidence not in support:
                    support.append(ctx.evidence)
            elif failed and (best is None or len(failed) < len(best)):
                best = failed
        if not met:
            missing = best[0] if best else None
            documented = [c for c in entities if not best or c not in best]
            return Decision(False, missing=missing, documented=documented, about=_about_entities(ask, ctxs, seen))
    return Decision(True, support=support, about=_about_entities(ask, ctxs, seen))


def _names_only(ask: Ask, known: Known) -> Ask:
    """The question without the capitalised words that the corpus writes as ordinary words
    ("the Action", "Anti-Trafficking Day", "Middle East"): they are not names to look for."""
    kept = []
    for c in ask.constraints:
        if c.kind == "name":
            distinctive = [w for w in words(c.label) if w.isupper() or lower_unaccented(w) not in known.common]
            if not distinctive:
                continue
            if len(distinctive) < len(words(c.label)):
                c = Constraint("name", c.label, terms=tuple(distinctive))
        kept.append(c)
    if kept == ask.constraints:
        return ask
    return Ask(ask.info, ask.wh, kept, ask.comparison, ask.parts)


def _about_entities(ask: Ask, ctxs: list[Context], seen: list[_Seen]) -> list[Evidence]:
    """Evidence whose context holds the question's entities (what "related" passages should be about)."""
    entities = [c for c in ask.constraints if c.kind in ENTITY_KINDS]
    if not entities:
        return [c.evidence for c in ctxs]
    return [ctx.evidence for ctx, s in zip(ctxs, seen) if all(CHECKS[c.kind](c, ctx, s, ask) for c in entities)]


def _absent(ask: Ask, known: Known) -> Constraint | None:
    """An entity the whole corpus never names: a country no passage is about, an action no passage
    belongs to, a name no document uses."""
    known_countries, known_actions, vocabulary = known.countries, known.actions, known.vocabulary
    for c in ask.constraints:
        if c.kind == "country" and c.terms[0] not in known_countries:
            return c
        if c.kind == "action" and c.label not in known_actions:
            return c
        if (
            c.kind == "name"
            and not all(_known_name(w, vocabulary, ask.info.language) for w in c.terms)
            and not _known_translation(c.label, vocabulary, ask.info.language)
        ):
            return c
        if (
            c.kind == "place"
            and not _known_name(c.terms[0], vocabulary, ask.info.language)
            and c.terms[1] not in known_countries
        ):
            return c
    return None


def _known_translation(label: str, vocabulary: AbstractSet[str], lang: str) -> bool:
    """A name of several words that the corpus writes in the other language (Middle East / Moyen-Orient)."""
    other = "fr" if lang == "en" else "en"
    return len(words(label)) > 1 and any(
        all(lower_unaccented(w) in vocabulary for w in words(t)) for t in tag.expand_terms(label, other)
    )


def _known_name(word: str, vocabulary: AbstractSet[str], lang: str) -> bool:
    folded = lower_unaccented(word)
    if folded in vocabulary or folded.rstrip("s") in vocabulary or tag.find_countries(word):
        return True
    other = "fr" if lang == "en" else "en"
    if any(lower_unaccented(t) in vocabulary for t in tag.expand_terms(word, other) for t in words(t)):
        return True
    # A name in the other language often shares its stem (Mediterranean / Méditerranée).
    return len(folded) >= 6 and any(v.startswith(folded[:6]) for v in vocabulary)
