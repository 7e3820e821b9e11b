"""Comparable practices across countries and actions, and how many practices the corpus documents where."""

from __future__ import annotations

import re
from collections import Counter, defaultdict
from dataclasses import dataclass, field

import numpy as np

from . import prompts, tag
from .errors import BadQuestion
from .index import carried_out_in
from .retrieve import analyze_question, shingles
from .types import Citation, Passage

RRF_K = 60  # same constant as the retriever's fusion
RANK_POOL = 1000  # passages ranked per list and language: the rest of the corpus is never read
READ_AHEAD = 100  # passages read at once while walking down the ranking
MAX_PER_GROUP = 3  # passages shown per action, so that one action cannot fill the page
DUPLICATE_JACCARD = 0.6  # word-shingle overlap above which two passages count as the same text

_YEARS = re.compile(r"((?:19|20)\d\d)(?:\s*[-–—]\s*((?:19|20)\d\d))?")


@dataclass
class PracticeGroup:
    """Comparable passages of one action (or, with action None, of documents tied to no action)."""

    action: str | None
    countries: list[str]  # ISO alpha-2
    years: str | None  # "2017-2018", or the documents' years when the action's are unknown
    themes: list[str]  # theme slugs, most frequent first
    score: float  # best passage score in the group (1.0: the best match of the search)
    passages: list[Citation] = field(default_factory=list)  # quote: the passage text, verbatim
    # The group's practice in one sentence: the sentence of its passages closest to the search, with its offsets.
    lead: Citation | None = None

    def to_json(self) -> dict:
        return {
            "action": self.action,
            "countries": self.countries,
            "years": self.years,
            "themes": self.themes,
            "score": round(self.score, 4),
            "lead": self.lead.quote if self.lead else None,
            "passages": [c.to_json() | {"start": c.start, "end": c.end} for c in self.passages],
        }


def actions(assistant) -> list[str]:
    """Every action some passage of the index belongs to, sorted by name."""
    return sorted(assistant.retriever.known.actions)


def _countries_of(p: Passage) -> set[str]:
    return set(p.countries) | set(p.action_countries)


def similar(
    assistant,
    text: str | None = None,
    action: str | None = None,
    countries: list[str] | None = None,
    themes: list[str] | None = None,
    k: int = 10,
    language: str = "en",
    mine: list[str] | None = None,
) -> list[PracticeGroup]:
    """Practices of other countries and actions comparable to a description or to an action.

    The picked action's passages, its countries (and the countries a description names) are left
    out: the point is to learn from elsewhere; so are the user's own countries (`mine`). `countries`
    and `themes` keep only passages about one of them. At most `k` passages, grouped by action,
    groups best first, each led by its practice sentence. A description longer than
    answer.max_question_chars is refused (BadQuestion, in `language`).

    >>> [g.action for g in similar(Assistant(), action="MIEUX Peru (2017-2018)")][:2]  # doctest: +SKIP
    ['MIEUX Timor-Leste II', 'MIEUX IberRed']
    """
    text = (text or "").strip()
    if not text and not action:
        raise BadQuestion("Describe a practice (text) or pick an action (action=...); neither was given")
    limit = assistant.settings.answer.max_question_chars
    if len(text) > limit:
        # The same bound as a question: embedding and tagging a long text ties up the machine.
        raise BadQuestion(prompts.text(language, "errors.description_too_long", n=len(text), limit=limit))
    retriever = assistant.retriever
    excluded_actions, excluded_countries = excluded(assistant, text, action, mine)
    vectors = []
    if action:
        vectors.append(_centroid(assistant, action))
    if text:
        vectors.append(assistant.embedder.embed_query(text))
    query = np.mean(np.vstack(vectors), axis=0)
    scores = _fused_scores(assistant, query, text or None)

    wanted_countries = set(countries or [])
    wanted_themes = set(themes or [])
    order = sorted(scores, key=lambda i: -scores[i])
    chosen: list[int] = []
    per_group: Counter = Counter()
    seen_shingles: list[set] = []
    passages: dict[int, Passage] = {}
    for n, i in enumerate(order):
        if i not in passages:  # read from the index a page at a time, as far down the ranking as needed
            passages.update({r: pv[0] for r, pv in retriever.load(order[n : n + READ_AHEAD]).items()})
        p = passages[i]
        where = _countries_of(p)
        # A practice belongs to an action or to a country; general text (definitions, the GCM preamble) is not one.
        if not (p.action or where):
            continue
        if p.action in excluded_actions or where & excluded_countries:
            continue
        if wanted_countries and not where & wanted_countries:
            continue
        if wanted_themes and not set(p.themes) & wanted_themes:
            continue
        if per_group[p.action] >= MAX_PER_GROUP:
            continue
        sh = shingles(p.text)
        if any(_jaccard(sh, other) >= DUPLICATE_JACCARD for other in seen_shingles):
            continue  # the same text in a copy of the document
        chosen.append(i)
        seen_shingles.append(sh)
        per_group[p.action] += 1
        if len(chosen) >= k:
            break
    if not chosen:
        return []
    top = scores[chosen[0]] or 1.0
    groups = _group([(passages[i], scores[i] / top) for i in chosen], assistant)
    _leads(assistant, groups, query)
    return groups


def excluded(
    assistant, text: str | None = None, action: str | None = None, mine: list[str] | None = None
) -> tuple[set[str], set[str]]:
    """(actions, countries) that `similar` leaves out: the picked action and its countries, the
    countries a description names, and the user's own countries (`mine`)."""
    actions_out: set[str] = set()
    countries_out: set[str] = set(mine or [])
    if action:
        own = [p for p, _ in assistant.retriever.select({"action": action})]
        if not own:
            known = sorted(assistant.retriever.known.actions)
            raise BadQuestion(
                f"Unknown action '{action}': the index knows {', '.join(known[:12])}"
                + (" …" if len(known) > 12 else "")
            )
        actions_out.add(action)
        countries_out |= {c for p in own for c in p.action_countries}
        if not countries_out:
            # The tagger gave the action no country: the country its passages name most is its own.
            countries_out |= {c for c, _ in Counter(c for p in own for c in p.countries).most_common(1)}
    if text and text.strip():
        countries_out |= set(tag.find_countries(text))
    return actions_out, countries_out


LEAD_MIN_WORDS = 6  # shorter sentences are headings or fragments, not a practice
# What a practice sentence reads like, in both languages: a card's lead is the sentence closest to the search
# and to this (what was done), not context such as "Trafficking is a growing problem in the region".
PRACTICE_PROTOTYPE = (
    "The action trained officials, organised workshops and study visits, and developed a handbook "
    "and procedures. L'action a formé des agents, organisé des ateliers et élaboré un manuel."
)


def _lead_candidates(g: PracticeGroup) -> list[tuple[Citation, int, int]]:
    """The sentences of a group's passages that may lead its card, as (passage, start, end) in its quote."""
    from .chunk import split_sentences

    whole: list[tuple[Citation, int, int]] = []
    cut: list[tuple[Citation, int, int]] = []
    for c in g.passages:
        for a, b in split_sentences(c.quote):
            sentence = c.quote[a:b]
            # A sentence, not a label, a status line ("Specific area: …", "… Completed") nor a list of fields.
            if len(sentence.split()) < LEAD_MIN_WORDS or "\n" in sentence:
                continue
            # One that ends as a sentence, unless the passage's own end cut it off.
            (whole if re.search(r"[.!?…][»”\")]*$", sentence) else cut).append((c, a, b))
    return whole or cut


def _leads(assistant, groups: list[PracticeGroup], query: np.ndarray) -> None:
    """Set each group's lead: the sentence of its passages closest in meaning to the search and to what a
    practice reads like (PRACTICE_PROTOTYPE). All groups' sentences are embedded in one batch."""
    candidates = [_lead_candidates(g) for g in groups]
    texts = [c.quote[a:b] for found in candidates for c, a, b in found]
    if texts:
        vectors = np.asarray(assistant.embedder.embed_passages(texts))
        scores = vectors @ query + vectors @ assistant.embedder.embed_query(PRACTICE_PROTOTYPE)
    at = 0
    for g, found in zip(groups, candidates):
        if not found:
            g.lead = g.passages[0] if g.passages else None
            continue
        c, a, b = found[int(np.argmax(scores[at : at + len(found)]))]
        at += len(found)
        start = c.start + a if c.start is not None else None
        g.lead = Citation(
            n=c.n,
            source=c.source,
            title=c.title,
            section=c.section,
            action=c.action,
            countries=c.countries,
            quote=c.quote[a:b],
            score=c.score,
            language=c.language,
            year=c.year,
            passage_id=c.passage_id,
            start=start,
            end=start + (b - a) if start is not None else None,
        )


def _centroid(assistant, action: str) -> np.ndarray:
    """The mean vector of an action's passages (read from Chroma: one action's, a bounded set)."""
    vec = np.vstack([v for _, v in assistant.retriever.select({"action": action}, vectors=True)]).mean(axis=0)
    return vec / (np.linalg.norm(vec) or 1.0)


def _fused_scores(assistant, query: np.ndarray, text: str | None) -> dict[int, float]:
    """Reciprocal-rank fusion of dense (and, for a description, BM25) ranks, ranked within each language.

    Ranking each language on its own keeps an English description from finding only English pages.
    """
    retriever = assistant.retriever
    index = retriever.index
    fused: dict[int, float] = defaultdict(float)
    lexical = None
    if text:
        info = analyze_question(text)
        lexical = index.lexical(info.terms.get("fr", []) + info.terms.get("en", []))
    for lang in ("fr", "en"):
        # Dense: Chroma's RANK_POOL nearest passages of the language, ranked by their vectors' product
        # with the query (ties in document order); a passage further down adds nothing from this list.
        hits = retriever.store.query(retriever.generation, query, RANK_POOL, {"language": lang})
        got = retriever.load(sorted(index.rows([pid for pid, _ in hits]).values()), vectors=True)
        if got:
            idx = np.array(sorted(got))
            dense = np.vstack([got[i][1] for i in idx]) @ query
            for rank, i in enumerate(idx[np.argsort(-dense, kind="stable")]):
                fused[int(i)] += 1.0 / (RRF_K + rank + 1)
        if lexical is not None:
            idx = np.where(index.mask(lang) & (lexical > 0))[0]
            for rank, i in enumerate(idx[np.argsort(-lexical[idx], kind="stable")][:RANK_POOL]):
                fused[int(i)] += 1.0 / (RRF_K + rank + 1)
    return dict(fused)


def _jaccard(a: set, b: set) -> float:
    return len(a & b) / len(a | b) if a and b else 0.0


def _group(scored: list[tuple[Passage, float]], assistant) -> list[PracticeGroup]:
    groups: dict[str | None, PracticeGroup] = {}
    theme_counts: dict[str | None, Counter] = defaultdict(Counter)
    documents = assistant.documents()
    for p, score in scored:
        g = groups.get(p.action)
        if g is None:
            g = groups[p.action] = PracticeGroup(action=p.action, countries=[], years=None, themes=[], score=score)
        for c in (p.action_countries or p.countries) if p.action else p.countries:
            if c not in g.countries:
                g.countries.append(c)
        theme_counts[p.action].update(p.themes)
        g.passages.append(
            Citation(
                n=len(g.passages) + 1,
                source=p.doc_id,
                title=p.title,
                section=p.section,
                action=p.action,
                countries=list(p.countries),
                quote=p.text,
                score=score,
                language=p.language,
                year=p.year,
                passage_id=p.id,
                start=p.start,
                end=p.end,
            )
        )
    for key, g in groups.items():
        g.themes = [t for t, _ in theme_counts[key].most_common()]
        g.years = _action_years(g.action, documents) or _span(c.year for c in g.passages)
    return sorted(groups.values(), key=lambda g: -g.score)


def _action_years(name: str | None, documents) -> str | None:
    """ "2017-2018" from the action's name, else from the title of a document about that action."""
    if not name:
        return None
    m = _YEARS.search(name)
    if m:
        return m.group(0).replace("–", "-").replace("—", "-").replace(" ", "")
    for doc in documents.values():
        if name in doc.actions:
            found = tag.document_action(doc.title, "")
            if found is not None and found.name == name and found.years:
                return found.years
    return None


def _span(years) -> str | None:
    ys = sorted({y for y in years if y})
    if not ys:
        return None
    return str(ys[0]) if ys[0] == ys[-1] else f"{ys[0]}-{ys[-1]}"


@dataclass
class Coverage:
    """How many passages document each (country, theme): where the corpus is rich, and where it is thin."""

    countries: list[str]  # ISO alpha-2, most documented first
    themes: list[str]  # theme slugs, in tag.THEMES order
    counts: dict[tuple[str, str], int]  # (country, theme) -> passages
    totals: dict[str, int]  # country -> passages about it (any theme, or none)

    def count(self, country: str, theme: str) -> int:
        return self.counts.get((country, theme), 0)

    def table(self) -> list[list[int]]:
        """Rows in `countries` order, columns in `themes` order."""
        return [[self.count(c, t) for t in self.themes] for c in self.countries]

    def thin(self, below: int = 1) -> list[tuple[str, str]]:
        """(country, theme) pairs with fewer than `below` passages."""
        return [(c, t) for c in self.countries for t in self.themes if self.count(c, t) < below]

    def to_json(self) -> dict:
        return {
            "countries": self.countries,
            "themes": self.themes,
            "totals": self.totals,
            "counts": {c: {t: self.count(c, t) for t in self.themes} for c in self.countries},
        }


def coverage(assistant) -> Coverage:
    """Passages per country where the practice was carried out (carried_out_in) and theme.

    >>> coverage(Assistant()).count("PE", "training") > 0  # doctest: +SKIP
    True
    """
    # Counted once per generation by its index (`index.build`), not by reading every passage.
    counts: Counter = Counter()
    totals: Counter = Counter()
    for c, theme, n in assistant.retriever.index.known()["coverage"]:
        if theme is None:
            totals[c] += n
        else:
            counts[(c, theme)] += n
    countries = sorted(totals, key=lambda c: (-totals[c], c))
    used = {t for _, t in counts}
    themes = [t for t in tag.THEMES if t in used] + sorted(used - set(tag.THEMES))
    return Coverage(countries=countries, themes=themes, counts=dict(counts), totals=dict(totals))


def cell_passages(assistant, country: str, theme: str | None = None, limit: int = 50) -> list[Citation]:
    """The passages a coverage cell counts (`theme` None: the country's total), in corpus order."""
    out: list[Citation] = []
    # The passages that name the country or whose action's countries include it (a bounded set).
    about = {"$or": [{"countries": {"$contains": country}}, {"action_countries": {"$contains": country}}]}
    for p, _ in assistant.retriever.select(about):
        if country in carried_out_in(p) and (theme is None or theme in p.themes):
            out.append(
                Citation(
                    n=len(out) + 1,
                    source=p.doc_id,
                    title=p.title,
                    section=p.section,
                    action=p.action,
                    countries=list(p.countries),
                    quote=p.text,
                    score=1.0,
                    language=p.language,
                    year=p.year,
                    passage_id=p.id,
                    start=p.start,
                    end=p.end,
                )
            )
            if len(out) >= limit:
                break
    return out
