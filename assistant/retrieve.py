"""Question -> ranked evidence: dense per language + BM25, fused, filtered, diversified."""

from __future__ import annotations

import math
import re
import threading
from collections import Counter, defaultdict
from dataclasses import dataclass, field, replace
from functools import cached_property

import numpy as np

from . import resources, tag
from .config import Settings
from .text import WORD, analyze, lower_unaccented, question_language, stopwords, words
from .types import Evidence, Filters, Known, Passage

QUERY_CACHE = 256  # query embeddings remembered by a retriever
# Cognates across the two languages: words of at least COGNATE_MIN letters sharing their first
# COGNATE_PREFIX ("interrupted" / "interrompue"); at most COGNATE_STEMS stems added per word.
COGNATE_MIN, COGNATE_PREFIX, COGNATE_STEMS = 7, 6, 3
SECTION_LABEL_WORDS = 8  # longer headings are titles, not labels of what a section holds
# Nouns that name the kind of answer ("What lessons…", "Quelles conclusions…"): resources/question.toml.
ANSWER_KINDS = frozenset(
    resources.toml("question.toml")["answer_kinds"]["en"] + resources.toml("question.toml")["answer_kinds"]["fr"]
)


class BM25:
    """Okapi BM25 over pre-analysed documents."""

    def __init__(self, docs: list[list[str]], k1: float = 1.2, b: float = 0.75):
        self.k1, self.b = k1, b
        self.n = len(docs)
        self.lengths = np.array([len(d) for d in docs], dtype=np.float32)
        self.avg = float(self.lengths.mean()) if self.n else 0.0
        # The length normalisation depends on the documents only: computed once, not per query.
        self.norm = self.k1 * (1 - self.b + self.b * self.lengths / max(self.avg, 1e-6))
        postings: dict[str, list[tuple[int, int]]] = defaultdict(list)
        for i, d in enumerate(docs):
            for term, tf in Counter(d).items():
                postings[term].append((i, tf))
        self.postings = {
            t: (np.array([i for i, _ in p]), np.array([f for _, f in p], dtype=np.float32)) for t, p in postings.items()
        }

    def idf(self, term: str) -> float:
        df = len(self.postings[term][0]) if term in self.postings else 0
        return math.log(1 + (self.n - df + 0.5) / (df + 0.5))

    def scores(self, terms: list[str]) -> np.ndarray:
        out = np.zeros(self.n, dtype=np.float32)
        if not self.n:
            return out
        for term in set(terms):
            if term not in self.postings:
                continue
            ids, tfs = self.postings[term]
            out[ids] += self.idf(term) * tfs * (self.k1 + 1) / (tfs + self.norm[ids])
        return out


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
    """Hybrid retrieval over one index generation (passages and BM25 held in memory)."""

    def __init__(self, settings: Settings, store, embedder, catalog, generation: str):
        self.settings = settings
        self.store = store
        self.embedder = embedder
        self.catalog = catalog
        self.generation = generation
        self.passages, vectors = store.all_passages(generation, with_vectors=True)
        self.by_id = {p.id: i for i, p in enumerate(self.passages)}
        self.by_position = {(p.doc_id, p.ordinal): i for i, p in enumerate(self.passages)}
        # All vectors stay in memory too: the fusion normalises dense scores over each language's
        # whole population, which undoes the model's preference for the question's language.
        self.vectors = vectors
        self.language = np.array([p.language for p in self.passages])
        # Each document weighs the same in the per-language score statistics, so one huge
        # document cannot redefine what an ordinary score is for its language.
        per_doc = Counter(p.doc_id for p in self.passages)
        self.weights = np.array([1.0 / per_doc[p.doc_id] for p in self.passages])
        self.bm25 = BM25([analyze(f"{p.section or ''} {p.text}", p.language) for p in self.passages])
        # A section's label ("Enseignements", "Lessons learnt"), not a title that happens to name a
        # kind ("6 ways MIEUX is fighting…" heads a whole page).
        self.section_terms = [
            set(analyze(p.section, p.language))
            if p.section and len(p.section.split()) <= SECTION_LABEL_WORDS
            else set()
            for p in self.passages
        ]
        self.vocabulary = {lower_unaccented(w) for p in self.passages for w in words(p.text + " " + p.title)}
        self.known_countries = {c for p in self.passages for c in p.countries}
        self.known_actions = {p.action for p in self.passages if p.action}
        self._shingles: dict[int, set] = {}
        self._document_words: dict[str, frozenset[str]] = {}
        self._prefixes: dict[str, dict[str, set[str]]] = {}
        self._queries: dict[str, np.ndarray] = {}
        self._queries_lock = threading.Lock()

    @cached_property
    def known(self) -> Known:
        """What the corpus names (countries, actions, words), for the answerability decision."""
        common = {lower_unaccented(w) for p in self.passages for w in words(p.text) if w.islower()}
        return Known(
            frozenset(self.known_countries),
            frozenset(self.known_actions),
            frozenset(self.vocabulary),
            frozenset(common),
        )

    def document_words(self, doc_id: str) -> frozenset[str]:
        """The folded words of a whole document (its passages and title), remembered per document."""
        if doc_id not in self._document_words:
            self._document_words[doc_id] = frozenset(
                lower_unaccented(w) for p in self.passages if p.doc_id == doc_id for w in words(f"{p.title} {p.text}")
            )
        return self._document_words[doc_id]

    def neighbours(self, p: Passage) -> list[Passage]:
        """The passages just before and after `p` in its document."""
        found = (self.by_position.get((p.doc_id, p.ordinal + step)) for step in (-1, 1))
        return [self.passages[i] for i in found if i is not None]

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
        if not self.passages:
            return []
        qvec = self._query_vector(info.text)
        other = "en" if info.language == "fr" else "fr"
        dense = self.vectors @ qvec
        other_vec = qvec  # the query for passages in the other language
        if info.translated and info.translated != info.text and cfg.translated_weight:
            # Passages in the other language are matched against the question and its code-switched form.
            mixed = (1 - cfg.translated_weight) * qvec + cfg.translated_weight * self._query_vector(info.translated)
            other_vec = mixed / (np.linalg.norm(mixed) or 1.0)
            dense = np.where(self.language == other, self.vectors @ other_vec, dense)
        # A city the corpus never names stands for its country ("officials in Lima": passages about
        # Peru); one it names (a meeting's venue) is found by its name.
        unnamed = [code for city, code in info.places if lower_unaccented(city) not in self.vocabulary]
        terms = info.terms.get("fr", []) + info.terms.get("en", [])
        for code in unnamed:
            names = tag.country_names(code)
            terms += analyze(" ; ".join(names.get("fr", [])), "fr") + analyze(" ; ".join(names.get("en", [])), "en")
        terms += self._cognates(info)
        lexical = self.bm25.scores(terms)
        fused = np.full(len(self.passages), -np.inf)
        for lang in self.languages(filters):
            in_lang = self.language == lang
            if not in_lang.any():
                continue
            # Candidates: Chroma's nearest passages (filters applied there) and the best BM25 matches.
            hits = self.store.query(
                self.generation, other_vec if lang == other else qvec, cfg.candidates, where_clause(filters, lang)
            )
            candidates = {self.by_id[pid] for pid, _ in hits if pid in self.by_id}
            order = np.argsort(-np.where(in_lang, lexical, -1.0))[: cfg.candidates]
            candidates |= {int(i) for i in order if lexical[i] > 0 and matches(self.passages[i], filters)}
            if not candidates:
                continue
            idx = np.fromiter(candidates, dtype=int)
            fused[idx] = (
                cfg.dense_weight * _z(dense, in_lang, self.weights)[idx]
                + cfg.lexical_weight * _z(lexical, in_lang, self.weights)[idx]
            )
        if info.kinds and cfg.section_boost:
            # "What lessons…": the passages of a section headed "Lessons learnt" / "Enseignements".
            for i in np.where(np.isfinite(fused))[0]:
                if info.kinds & self.section_terms[i]:
                    fused[i] += cfg.section_boost
        if (info.countries or unnamed) and cfg.country_boost:
            wanted = set(info.countries) | set(unnamed)
            for i in np.where(np.isfinite(fused))[0]:
                if wanted & set(self.passages[i].countries):
                    fused[i] += cfg.country_boost
        finite = np.where(np.isfinite(fused))[0]
        if cfg.document_boost and len(finite):
            # A passage of the document that matches best is more likely to matter than a lone hit elsewhere.
            best: dict[str, float] = {}
            for i in finite:
                doc = self.passages[i].doc_id
                best[doc] = max(best.get(doc, -np.inf), fused[i])
            fused[finite] += cfg.document_boost * np.array([best[self.passages[i].doc_id] for i in finite])
        ranked = [int(i) for i in finite[np.argsort(-fused[finite])]]
        chosen, items = self._with_list_items(self._diversify(ranked, pool or k), pool or k)
        top, bottom = (fused[ranked[0]], fused[ranked[-1]]) if ranked else (1.0, 0.0)
        span = (top - bottom) or 1.0
        # A list item brought in by its lead-in has no score of its own: it ranks with its lead-in.
        for n, i in enumerate(chosen):
            if not np.isfinite(fused[i]):
                fused[i] = fused[chosen[n - 1]]
        found = [
            Evidence(
                passage=self.passages[i],
                score=float((fused[i] - bottom) / span),
                dense=float(dense[i]),
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

    def _prefix_index(self, lang: str) -> dict[str, set[str]]:
        """First six letters -> stems, for the words of one language's passages (built once)."""
        if lang not in self._prefixes:
            index: dict[str, set[str]] = defaultdict(set)
            for p in self.passages:
                if p.language != lang:
                    continue
                for w in words(p.text):
                    folded = lower_unaccented(w)
                    if len(folded) >= COGNATE_MIN and not w[:1].isupper():
                        index[folded[:COGNATE_PREFIX]].update(analyze(w, lang))
            self._prefixes[lang] = dict(index)
        return self._prefixes[lang]

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

    def _shingle(self, i: int) -> set:
        if i not in self._shingles:
            self._shingles[i] = shingles(self.passages[i].text)
        return self._shingles[i]

    def _with_list_items(self, chosen: list[int], k: int) -> tuple[list[int], set[int]]:
        """A passage that announces a list ("Three contributions were formulated:") is followed by the
        list's first item: the announcement alone answers nothing. Returns the list and the items added."""
        out: list[int] = []
        items: set[int] = set()
        for i in chosen:
            if i in out:
                continue
            out.append(i)
            p = self.passages[i]
            nxt = self.by_position.get((p.doc_id, p.ordinal + 1))
            if nxt is not None and announces(p, self.passages[nxt]):
                if nxt in out:
                    continue
                out.append(nxt)
                items.add(nxt)
        return out[:k], items

    def _diversify(self, ranked: list[int], k: int) -> list[int]:
        cfg = self.settings.retrieve
        per_doc: Counter = Counter()
        chosen: list[int] = []
        for i in ranked:
            p = self.passages[i]
            if per_doc[p.doc_id] >= cfg.max_per_document:
                continue
            s = self._shingle(i)
            if any(_jaccard(s, self._shingle(j)) >= cfg.duplicate_jaccard for j in chosen):
                continue
            chosen.append(i)
            per_doc[p.doc_id] += 1
            if len(chosen) >= k:
                break
        return chosen


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


def _z(scores: np.ndarray, mask: np.ndarray, weights: np.ndarray) -> np.ndarray:
    """Scores as weighted z-scores within the population `mask` (one language)."""
    w, values = weights[mask], scores[mask]
    mean = float((w * values).sum() / w.sum())
    sd = float(np.sqrt((w * (values - mean) ** 2).sum() / w.sum())) or 1.0
    return (scores - mean) / sd


def _jaccard(a: set, b: set) -> float:
    if not a or not b:
        return 0.0
    return len(a & b) / len(a | b)
