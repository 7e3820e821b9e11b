"""Question -> ranked evidence: dense per language + BM25, fused, filtered, diversified."""

from __future__ import annotations

import re
import threading
from collections import Counter, OrderedDict
from dataclasses import dataclass, field, replace
from functools import cached_property

import numpy as np

from . import resources, tag
from .config import Settings
from .index import GenerationIndex
from .text import WORD, analyze, lower_unaccented, question_language, stopwords, words
from .types import Evidence, Filters, Known, Passage

QUERY_CACHE = 256  # query embeddings remembered by a retriever
PASSAGE_CACHE = 20_000  # passages (with their vectors) a retriever remembers: a bounded share of any corpus
DOCUMENT_CACHE = 256  # documents whose words a retriever remembers
# Cognates across the two languages: words of at least COGNATE_MIN letters sharing their first
# COGNATE_PREFIX ("interrupted" / "interrompue"); at most COGNATE_STEMS stems added per word.
COGNATE_MIN, COGNATE_PREFIX, COGNATE_STEMS = 7, 6, 3
SECTION_LABEL_WORDS = 8  # longer headings are titles, not labels of what a section holds
# Nouns that name the kind of answer ("What lessons…", "Quelles conclusions…"): resources/question.toml.
ANSWER_KINDS = frozenset(
    resources.toml("question.toml")["answer_kinds"]["en"] + resources.toml("question.toml")["answer_kinds"]["fr"]
)


@dataclass
class QuestionInfo:
    """What retrieval and abstention need to know about a question."""

    text: str
    language: str
    countries: tuple[str, ...]
    years: tuple[int, ...]
    terms: dict[str, list[str]]  # lang -> analysed terms, the other language from the glossary
    expansions: list[str] = field(default_factory=list)
    # One entry per content word of the question: its stems in each language (the word itself,
    # its glossary translations, their synonyms). Coverage counts words, not expansions.
    concepts: list[dict[str, set[str]]] = field(default_factory=list)
    # The question with its glossary terms in the other language ("How did Pérou adapter its formation?"):
    # the multilingual model matches it to passages of that language better than the question alone.
    translated: str = ""
    # Stems, in both languages, of the nouns naming the kind of answer asked for (lessons, étapes…).
    kinds: frozenset[str] = frozenset()
    # The cities the question names, with their countries ("officials in Lima" -> ("Lima", "PE")).
    places: tuple[tuple[str, str], ...] = ()


def analyze_question(question: str, language: str | None = None) -> QuestionInfo:
    lang = language or question_language(question)
    other = "en" if lang == "fr" else "fr"
    translated = tag.translations(question, other)
    expansions = list(dict.fromkeys(term for _, _, terms in translated for term in terms))
    own = analyze(question, lang)
    # Synonyms in the question's own language: the glossary's round trip (adapté -> adapt -> propre au contexte).
    synonyms = tag.expand_terms(" ; ".join(expansions), lang) if expansions else []
    own += [t for t in analyze(" ; ".join(synonyms), lang) if t not in own]
    # Names, acronyms and figures are the same in both languages.
    shared = [lower_unaccented(w) for w in words(question) if w[:1].isupper() or w.isdigit() or w.isupper()]
    shared = [w for w in shared if w not in stopwords("fr") and w not in stopwords("en")]
    foreign = analyze(" ; ".join(expansions), other) + [s for s in shared]
    places = tuple(tag.find_cities(question))
    return QuestionInfo(
        text=question,
        language=lang,
        countries=tag.find_countries(question),
        years=tag.find_years(question),
        terms={lang: own, other: foreign},
        expansions=expansions,
        concepts=_concepts(question, lang, other, translated),
        translated=_code_switched(question, translated),
        kinds=_answer_kinds(question, lang, other, translated),
        places=places,
    )


def _answer_kinds(question: str, lang: str, other: str, translated: list[tuple[int, int, list[str]]]) -> frozenset[str]:
    """Stems of the question's answer-kind nouns (ANSWER_KINDS), with their glossary translations."""
    stems: set[str] = set()
    for m in WORD.finditer(question.replace("’", "'")):
        if lower_unaccented(m.group(0)) in ANSWER_KINDS:
            stems |= set(analyze(m.group(0), lang))
            foreign = [t for a, b, terms in translated if a < m.end() and m.start() < b for t in terms]
            stems |= set(analyze(" ; ".join(foreign), other))
    return frozenset(stems)


def _code_switched(question: str, translated: list[tuple[int, int, list[str]]]) -> str:
    """The question with each glossary entry and country (`tag.translations`) swapped for its first term."""
    out, pos = [], 0
    for a, b, terms in translated:
        if a < pos:
            continue  # overlapping entries: the first one wins
        out += [question[pos:a], terms[0]]
        pos = b
    return "".join(out + [question[pos:]])


def _concepts(
    question: str, lang: str, other: str, translated: list[tuple[int, int, list[str]]]
) -> list[dict[str, set[str]]]:
    """The question's content words, each with its stems in both languages (`translated`: its
    glossary entries and countries, from `tag.translations`)."""
    concepts: list[dict[str, set[str]]] = []
    last: set[int] = set()
    for m in WORD.finditer(question.replace("’", "'")):
        stems = set(analyze(m.group(0), lang))
        if not stems:
            continue
        spans = {n for n, (a, b, _) in enumerate(translated) if a < m.end() and m.start() < b}
        foreign = [t for n in sorted(spans) for t in translated[n][2]]
        back = tag.expand_terms(" ; ".join(foreign), lang) if foreign else []
        name = m.group(0)[:1].isupper() or m.group(0).isdigit()
        concept = {
            lang: stems | set(analyze(" ; ".join(back), lang)),
            other: set(analyze(" ; ".join(foreign), other))
            | ({lower_unaccented(m.group(0))} | set(analyze(m.group(0), other)) if name else set()),
        }
        if spans and spans & last:
            # "West Africa", "mises en œuvre": the words of one glossary entry are one concept.
            for key in concept:
                concepts[-1][key] |= concept[key]
        else:
            concepts.append(concept)
        last = spans
    return concepts


def shingles(text: str, n: int = 3) -> set[tuple[str, ...]]:
    toks = [lower_unaccented(w) for w in words(text)]
    return {tuple(toks[i : i + n]) for i in range(max(len(toks) - n + 1, 1))}


def where_clause(filters: Filters, language: str | None = None) -> dict | None:
    """Chroma `where` for the filters (and one language)."""
    parts: list[dict] = []
    lang = language or filters.language
    if lang:
        parts.append({"language": lang})
    if filters.countries:
        ors = [{"countries": {"$contains": c}} for c in filters.countries]
        parts.append(ors[0] if len(ors) == 1 else {"$or": ors})
    if filters.sources:
        parts.append({"doc_id": {"$in": list(filters.sources)}})
    if filters.section:
        parts.append({"section": filters.section})
    if filters.years:
        parts.append({"year": {"$in": [int(y) for y in filters.years]}})
    if filters.action:
        parts.append({"action": filters.action})
    if not parts:
        return None
    return parts[0] if len(parts) == 1 else {"$and": parts}


def matches(p: Passage, filters: Filters) -> bool:
    if filters.language and p.language != filters.language:
        return False
    if filters.countries and not set(filters.countries) & set(p.countries):
        return False
    if filters.sources and p.doc_id not in filters.sources:
        return False
    if filters.section and p.section != filters.section:
        return False
    if filters.years and p.year not in filters.years:
        return False
    if filters.action and p.action != filters.action:
        return False
    return True


class Retriever:
    """Hybrid retrieval over one index generation. It holds no passage or vector of its own: the
    generation's retrieval index (`index.GenerationIndex`, files memory-mapped) gives BM25 scores
    and the score statistics, Chroma the candidates, their text and their vectors."""

    def __init__(self, settings: Settings, store, embedder, catalog, generation: str):
        self.settings = settings
        self.store = store
        self.embedder = embedder
        self.catalog = catalog
        self.generation = generation
        self.index = GenerationIndex.open(store, settings.paths.index, generation)
        self.size = self.index.size
        self._cache: OrderedDict[int, tuple[Passage, np.ndarray | None]] = OrderedDict()
        self._cache_lock = threading.Lock()
        self._shingles: OrderedDict[int, set] = OrderedDict()
        self._document_words: OrderedDict[str, frozenset[str]] = OrderedDict()
        self._prefixes: dict[tuple[str, str], set[str]] = {}
        self._queries: dict[str, np.ndarray] = {}
        self._queries_lock = threading.Lock()

    @cached_property
    def known(self) -> Known:
        """What the corpus names (countries, actions, words), for the answerability decision."""
        known = self.index.known()
        return Known(
            frozenset(known["countries"]),
            frozenset(known["actions"]),
            frozenset(known["vocabulary"]),
            frozenset(known["common"]),
        )

    @property
    def vocabulary(self) -> frozenset[str]:
        return self.known.vocabulary

    @cached_property
    def _everything(self) -> tuple[list[Passage], np.ndarray]:
        return self.store.all_passages(self.generation, with_vectors=True)

    @property
    def passages(self) -> list[Passage]:
        """Every passage, in document order: for whole-corpus tools (benchmarks, exports), read on
        first use. Answering a question never reads it."""
        return self._everything[0]

    @property
    def vectors(self) -> np.ndarray:
        """Every passage vector, in the order of `passages` (whole-corpus tools only)."""
        return self._everything[1]

    @property
    def bm25(self) -> _Lexical:
        """BM25 over the whole generation: `.scores(terms)`, one score per row of `passages`."""
        return _Lexical(self.index)

    def _load(self, rows, vectors: bool = False) -> dict[int, tuple[Passage, np.ndarray | None]]:
        """The passages (and vectors) at these rows, from the cache or Chroma."""
        rows = [int(r) for r in rows]
        with self._cache_lock:
            have = {
                r: self._cache[r] for r in rows if r in self._cache and (not vectors or self._cache[r][1] is not None)
            }
        missing = [r for r in dict.fromkeys(rows) if r not in have]
        if missing:
            ids = self.index.ids(missing)
            row_of = {pid: r for r, pid in ids.items()}
            got = self.store.get(self.generation, ids=list(row_of), vectors=vectors)
            with self._cache_lock:
                for p, v in got:
                    have[row_of[p.id]] = self._cache[row_of[p.id]] = (p, v)
                while len(self._cache) > PASSAGE_CACHE:
                    self._cache.popitem(last=False)
        return have

    def _passage(self, row: int) -> Passage:
        return self._load([row])[row][0]

    def passage(self, pid: str) -> Passage | None:
        """The passage with this id in the generation (None if it has none)."""
        row = self.index.rows([pid]).get(pid)
        return None if row is None else self._passage(row)

    def document(self, doc_id: str) -> list[Passage]:
        """A document's passages, in order (one document: a bounded read)."""
        rows = self.index.document_rows(doc_id)
        got = self._load(rows)
        return [got[r][0] for r in rows if r in got]

    def at(self, doc_id: str, ordinal: int) -> Passage | None:
        """The passage at this place of its document, if any."""
        row = self.index.row_at(doc_id, ordinal)
        return None if row is None else self._passage(row)

    def document_words(self, doc_id: str) -> frozenset[str]:
        """The folded words of a whole document (its passages and title), remembered per document."""
        if doc_id not in self._document_words:
            self._document_words[doc_id] = frozenset(
                lower_unaccented(w) for p in self.document(doc_id) for w in words(f"{p.title} {p.text}")
            )
            while len(self._document_words) > DOCUMENT_CACHE:
                self._document_words.popitem(last=False)
        return self._document_words[doc_id]

    def neighbours(self, p: Passage) -> list[Passage]:
        """The passages just before and after `p` in its document."""
        found = (self.at(p.doc_id, p.ordinal + step) for step in (-1, 1))
        return [q for q in found if q is not None]

    def select(self, where: dict, vectors: bool = False) -> list[tuple[Passage, np.ndarray | None]]:
        """The passages matching a Chroma `where` (one action's, one country's: a bounded set), in
        document order, with their vectors if asked."""
        rows = sorted(self.index.rows(self.store.ids(self.generation, where)).values())
        got = self._load(rows, vectors=vectors)
        return [got[r] for r in rows if r in got]

    def load(self, rows, vectors: bool = False) -> dict[int, tuple[Passage, np.ndarray | None]]:
        """The passages (and vectors) at these rows of the generation's index."""
        return self._load(rows, vectors=vectors)

    def nearest(self, vector: np.ndarray, n: int, language: str) -> list[tuple[Passage, float]]:
        """The n passages in `language` nearest to `vector` (Chroma's search), with their cosine similarity."""
        hits = self.store.query(self.generation, vector, n, {"language": language})
        rows = self.index.rows([pid for pid, _ in hits])
        got = self._load(rows.values())
        return [(got[rows[pid]][0], sim) for pid, sim in hits if pid in rows and rows[pid] in got]

    def languages(self, filters: Filters) -> list[str]:
        return [filters.language] if filters.language else ["fr", "en"]

    def retrieve(
        self,
        question: str | QuestionInfo,
        filters: Filters | None = None,
        k: int | None = None,
        pool: int | None = None,
    ) -> list[Evidence]:
        """The k best passages for the question, at most `max_per_document` per document, no near-duplicates.

        `pool` > k returns that many (diversified) candidates, for the "related" list.
        """
        cfg = self.settings.retrieve
        filters = filters or Filters()
        info = question if isinstance(question, QuestionInfo) else analyze_question(question)
        k = k or cfg.k
        if not self.size:
            return []
        qvec = self._query_vector(info.text)
        other = "en" if info.language == "fr" else "fr"
        other_vec = qvec  # the query for passages in the other language
        if info.translated and info.translated != info.text and cfg.translated_weight:
            # Passages in the other language are matched against the question and its code-switched form.
            mixed = (1 - cfg.translated_weight) * qvec + cfg.translated_weight * self._query_vector(info.translated)
            other_vec = mixed / (np.linalg.norm(mixed) or 1.0)
        # A city the corpus never names stands for its country ("officials in Lima": passages about
        # Peru); one it names (a meeting's venue) is found by its name.
        unnamed = [code for city, code in info.places if lower_unaccented(city) not in self.vocabulary]
        terms = info.terms.get("fr", []) + info.terms.get("en", [])
        for code in unnamed:
            names = tag.country_names(code)
            terms += analyze(" ; ".join(names.get("fr", [])), "fr") + analyze(" ; ".join(names.get("en", [])), "en")
        terms += self._cognates(info)
        lexical = self.index.lexical(terms)
        fused: dict[int, float] = {}
        dense: dict[int, float] = {}
        passages: dict[int, Passage] = {}
        for lang in self.languages(filters):
            in_lang = self.index.mask(lang)
            if not in_lang.any():
                continue
            query = other_vec if lang == other else qvec
            # Candidates: Chroma's nearest passages (filters applied there) and the best BM25 matches.
            hits = self.store.query(self.generation, query, cfg.candidates, where_clause(filters, lang))
            candidates = set(self.index.rows([pid for pid, _ in hits]).values())
            order = np.argsort(-np.where(in_lang, lexical, -1.0))[: cfg.candidates]
            best = [int(i) for i in order if lexical[i] > 0]
            loaded = self._load(best)
            candidates |= {i for i in best if i in loaded and matches(loaded[i][0], filters)}
            if not candidates:
                continue
            # The dense scores of the candidates, from their own vectors; the language's statistics
            # from the generation's index (exact, without the other passages' vectors).
            got = self._load(candidates, vectors=True)
            idx = np.array(sorted(i for i in candidates if i in got), dtype=int)
            vectors = np.vstack([np.asarray(got[i][1]) for i in idx])
            scores = vectors @ query
            d_mean, d_sd = self.index.dense_stats(query, lang)
            l_mean, l_sd = self.index.lexical_stats(lexical, lang)
            values = cfg.dense_weight * ((scores - d_mean) / d_sd) + cfg.lexical_weight * (
                (lexical[idx] - l_mean) / l_sd
            )
            for n, i in enumerate(idx):
                fused[int(i)], dense[int(i)], passages[int(i)] = float(values[n]), float(scores[n]), got[i][0]
        if info.kinds and cfg.section_boost:
            # "What lessons…": the passages of a section headed "Lessons learnt" / "Enseignements".
            for i in fused:
                if info.kinds & _section_terms(passages[i]):
                    fused[i] += cfg.section_boost
        if (info.countries or unnamed) and cfg.country_boost:
            wanted = set(info.countries) | set(unnamed)
            for i in fused:
                if wanted & set(passages[i].countries):
                    fused[i] += cfg.country_boost
        finite = np.array(sorted(fused), dtype=int)
        score = np.array([fused[i] for i in finite])
        if cfg.document_boost and len(finite):
            # A passage of the document that matches best is more likely to matter than a lone hit elsewhere.
            top: dict[str, float] = {}
            for i, v in zip(finite, score):
                doc = passages[int(i)].doc_id
                top[doc] = max(top.get(doc, -np.inf), v)
            score += cfg.document_boost * np.array([top[passages[int(i)].doc_id] for i in finite])
        fused = {int(i): float(v) for i, v in zip(finite, score)}
        ranked = [int(i) for i in finite[np.argsort(-score)]]
        chosen, items = self._with_list_items(self._diversify(ranked, passages, pool or k), passages, pool or k)
        top_score, bottom = (fused[ranked[0]], fused[ranked[-1]]) if ranked else (1.0, 0.0)
        span = (top_score - bottom) or 1.0
        # A list item brought in by its lead-in has no score of its own: it ranks with its lead-in.
        for n, i in enumerate(chosen):
            if i not in fused:
                fused[i] = fused[chosen[n - 1]]
        found_rows = [i for i in chosen if i not in dense]
        if found_rows:
            # List items: their dense score as the population's (reported, not ranked on).
            extra = self._load(found_rows, vectors=True)
            for i in found_rows:
                p, v = extra[i]
                dense[i] = float(v @ (other_vec if p.language == other else qvec))
        found = [
            Evidence(
                passage=passages[i],
                score=float((fused[i] - bottom) / span),
                dense=dense[i],
                lexical=float(lexical[i]),
                rank=r,
                follows=i in items,
            )
            for r, i in enumerate(chosen)
        ]
        # Each country must be among the passages an answer uses, whatever length of list was asked for.
        return self._each_country(info, filters, found, min(k, cfg.k))[: pool or k]

    def _cognates(self, info: QuestionInfo) -> list[str]:
        """Stems of the other language's words that share their first six letters with a question
        word the glossary does not translate ("interrupted" -> interrompu, "adjusted" -> ?): French
        and English share many Latin roots, and BM25 then finds the other language's passages."""
        other = "en" if info.language == "fr" else "fr"
        index = self._prefix_index(other)
        translated = set(info.terms.get(other, []))
        out: list[str] = []
        for w in words(info.text):
            folded = lower_unaccented(w)
            if len(folded) < COGNATE_MIN or w[:1].isupper() or folded in stopwords(info.language):
                continue
            if set(analyze(w, other)) & translated:
                continue
            found = sorted(index.get(folded[:COGNATE_PREFIX], ()))[:COGNATE_STEMS]
            out += found
        return out

    def _prefix_index(self, lang: str) -> _Prefixes:
        """First six letters -> stems, for the words of one language's passages (looked up per prefix)."""
        return _Prefixes(self, lang)

    def forget_queries(self) -> None:
        """Drop the remembered query embeddings (benchmarks time questions as if asked first)."""
        with self._queries_lock:
            self._queries.clear()

    def _query_vector(self, text: str) -> np.ndarray:
        """The query embedding, remembered for the last questions: a comparison retrieves again for
        each country, and a chat often asks the same thing twice."""
        vector = self._queries.get(text)
        if vector is None:
            vector = self.embedder.embed_query(text)
            with self._queries_lock:  # chat users share the retriever
                self._queries[text] = vector
                while len(self._queries) > QUERY_CACHE:
                    self._queries.pop(next(iter(self._queries)))
        return vector

    def _each_country(self, info: QuestionInfo, filters: Filters, found: list[Evidence], k: int) -> list[Evidence]:
        """A comparison of countries gets the best passage about each: one missing from the list
        comes in right after the countries already there."""
        if len(info.countries) < 2 or filters.countries:
            return found
        found = list(found)
        for code in info.countries:
            if any(code in e.passage.countries for e in found[:k]):
                continue
            # First in the documents that answer the rest of the question (the report of the meeting
            # both countries spoke at), then anywhere.
            near = sorted({e.passage.doc_id for e in found[:3]} - set(filters.sources or ()))
            best = (
                self.retrieve(info, replace(filters, countries=[code], sources=near), k=1)
                if near and not filters.sources
                else []
            )
            best = best or self.retrieve(info, replace(filters, countries=[code]), k=1)
            if not best:
                continue
            found = [e for e in found if e.passage.id != best[0].passage.id]  # moved up if it was further down
            at = sum(1 for c in info.countries if any(c in e.passage.countries for e in found[:k]))
            found.insert(min(at, len(found)), best[0])
        return [replace(e, rank=r) for r, e in enumerate(found)]

    def _shingle(self, i: int, p: Passage) -> set:
        if i not in self._shingles:
            self._shingles[i] = shingles(p.text)
            while len(self._shingles) > PASSAGE_CACHE:
                self._shingles.popitem(last=False)
        return self._shingles[i]

    def _with_list_items(self, chosen: list[int], passages: dict[int, Passage], k: int) -> tuple[list[int], set[int]]:
        """A passage that announces a list ("Three contributions were formulated:") is followed by the
        list's first item: the announcement alone answers nothing. Returns the list and the items added
        (`passages` gains them)."""
        out: list[int] = []
        items: set[int] = set()
        after = {i: self.index.row_at(passages[i].doc_id, passages[i].ordinal + 1) for i in chosen}
        got = self._load([n for n in after.values() if n is not None and n not in passages])
        passages.update({n: got[n][0] for n in got})
        for i in chosen:
            if i in out:
                continue
            out.append(i)
            p = passages[i]
            nxt = after[i]
            if nxt is not None and announces(p, passages[nxt]):
                if nxt in out:
                    continue
                out.append(nxt)
                items.add(nxt)
        return out[:k], items

    def _diversify(self, ranked: list[int], passages: dict[int, Passage], k: int) -> list[int]:
        cfg = self.settings.retrieve
        per_doc: Counter = Counter()
        chosen: list[int] = []
        for i in ranked:
            p = passages[i]
            if per_doc[p.doc_id] >= cfg.max_per_document:
                continue
            s = self._shingle(i, p)
            if any(_jaccard(s, self._shingle(j, passages[j])) >= cfg.duplicate_jaccard for j in chosen):
                continue
            chosen.append(i)
            per_doc[p.doc_id] += 1
            if len(chosen) >= k:
                break
        return chosen


class _Lexical:
    """BM25 scores over a whole generation (`Retriever.bm25`)."""

    def __init__(self, index: GenerationIndex):
        self.index = index

    def scores(self, terms: list[str]) -> np.ndarray:
        return self.index.lexical(terms)


class _Prefixes:
    """A language's cognate prefix index, read from the generation's index one prefix at a time."""

    def __init__(self, retriever: Retriever, lang: str):
        self.retriever, self.lang = retriever, lang

    def get(self, prefix: str, default=()):
        key = (self.lang, prefix)
        cache = self.retriever._prefixes
        if key not in cache:
            cache[key] = self.retriever.index.prefixed(self.lang, prefix)
            while len(cache) > QUERY_CACHE * 16:
                cache.pop(next(iter(cache)))
        return cache[key] or default


def _section_terms(p: Passage) -> set[str]:
    """A section's label ("Enseignements", "Lessons learnt"), not a title that happens to name a
    kind ("6 ways MIEUX is fighting…" heads a whole page)."""
    if p.section and len(p.section.split()) <= SECTION_LABEL_WORDS:
        return set(analyze(p.section, p.language))
    return set()


# "Plusieurs points communs sont apparus." / "Three lessons stand out.": a short sentence that
# announces several things, which the headed passages after it give.
_ANNOUNCEMENT = re.compile(
    r"\b(?:plusieurs|quelques|suivant(?:e|s|es)?|ci-(?:dessous|après)|several|following|as follows|a few|"
    r"deux|trois|quatre|cinq|six|two|three|four|five)\b",
    re.IGNORECASE,
)
_ANNOUNCEMENT_WORDS = 15


def announces(p: Passage, nxt: Passage) -> bool:
    """Whether `p` only announces what `nxt` (the passage after it) gives: a list lead-in ending on a
    colon, in the same section; or a short sentence announcing several things that closes its
    section, the items coming under their own headings."""
    text = p.text.rstrip()
    if text.endswith(":"):
        return nxt.section == p.section
    return (
        nxt.section != p.section
        and text.endswith(".")
        and len(text.split()) <= _ANNOUNCEMENT_WORDS
        and bool(_ANNOUNCEMENT.search(text))
    )


def _jaccard(a: set, b: set) -> float:
    if not a or not b:
        return 0.0
    return len(a & b) / len(a | b)
