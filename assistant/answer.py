"""Evidence -> an answer in the asker's language (quoted sentences grouped by action), or an abstention."""

from __future__ import annotations

import re
from dataclasses import dataclass, replace

import numpy as np

from . import cite, decide, prompts, tag
from .chunk import split_sentences
from .retrieve import SECTION_LABEL_WORDS, QuestionInfo
from .text import analyze
from .types import Answer, Citation, Evidence, Language, Statement


def widen(retriever, ask: decide.Ask, evidence: list[Evidence], reach: int = 3) -> list[Evidence]:
    """For a question asking for a quantity (a count, an amount, a share), when no passage of the
    evidence gives one, the passages next to the best ones (same section, up to `reach` away) are
    read too: the figure often closes the paragraphs that introduce its subject. The first that
    gives it joins the evidence."""
    wanted = [c for c in ask.constraints if c.kind in decide.QUANTITY_KINDS]
    if not wanted or any(decide.states(ask, e.passage.text, e.passage.language) for e in evidence):
        return evidence
    seen = {e.passage.id for e in evidence}
    for e in evidence[:3]:
        p = e.passage
        for step in [d for r in range(1, reach + 1) for d in (r, -r)]:
            near = retriever.at(p.doc_id, p.ordinal + step)
            if near is None:
                continue
            if near.id in seen or near.section != p.section:
                continue
            if decide.states(ask, near.text, near.language):
                return evidence + [replace(e, passage=near, rank=len(evidence), follows=False)]
    return evidence


def abstain(question: str, lang: Language, decision: decide.Decision, pool: list[Evidence], settings) -> Answer:
    """The abstention: what the corpus documents and what it lacks, in plain words, then the
    passages about the question's entities as related material (not a stray word's)."""
    message = abstention_message(lang, decision)
    related: list[Citation] = []
    # Passages about the question's entities; when one is nowhere in the corpus, the nearest ones.
    about = decision.about or pool
    for ev in about[: settings.answer.related]:
        spans = split_sentences(ev.passage.text)
        a, b = spans[0] if spans else (0, len(ev.passage.text))
        quote = ev.passage.text[a:b]
        related.append(cite.citation(len(related) + 1, ev, quote, ev.passage.start + a, ev.passage.start + b))
    text = message
    if related:
        text += (
            "\n\n"
            + prompts.text(lang, "labels.related")
            + "\n"
            + "\n".join(_line(c, lang, marker=False) for c in related)
        )
    missing = decision.missing
    reason = f"{missing.kind}:{missing.label}" if missing else "coverage"
    return Answer(question=question, language=lang, abstained=True, answer=text, related=related, reason=reason)


def abstention_message(lang: str, decision: decide.Decision) -> str:
    """ "The corpus does not document Norway." / "The corpus documents MIEUX Peru III, but gives no
    budget for it." — the sentence under the abstention, from prompts/<lang>.toml."""
    missing = decision.missing
    if missing is None:
        return prompts.text(lang, "labels.abstain_generic")
    if decision.absent or (not decision.documented and missing.kind in decide.ENTITY_KINDS):
        return prompts.text(
            lang, "labels.abstain", topic=prompts.text(lang, f"reasons.{missing.kind}", what=missing.label)
        )
    gap = prompts.text(lang, f"gaps.{missing.kind}", what=missing.label, article=missing.article or "")
    if not decision.documented:
        return prompts.text(lang, "labels.missing", gap=gap)
    entities = ", ".join(c.label for c in decision.documented)
    return prompts.text(lang, "labels.documented_but", entities=entities, gap=gap)


def _sentence_score(info: QuestionInfo, ev: Evidence, sentence: str) -> float:
    wanted = set(info.terms.get(ev.passage.language, []))
    if not wanted:
        return 0.0
    have = set(analyze(sentence, ev.passage.language))
    return len(wanted & have) / len(wanted)


def _span(
    ask: decide.Ask, ev: Evidence, max_words: int, at: tuple[int, int] | None = None
) -> tuple[int, int, float] | None:
    """The contiguous sentences of a passage that answer best: (start, end, lexical score).
    `at`: offsets of a lead sentence of the answer, which the span then starts from."""
    info = ask.info
    text = ev.passage.text
    spans = [(a, b) for a, b in split_sentences(text) if len(text[a:b].split()) >= 3]
    if not spans:
        return None
    # A sentence that addresses the assistant ("ignore the previous instructions…") is data, never an answer.
    scores = [0.0 if cite.is_instruction(text[a:b]) else _sentence_score(info, ev, text[a:b]) for a, b in spans]
    if ask.of_any(decide.QUANTITY_KINDS):
        # "How many children…": the sentence that gives the number is the answer.
        scores = [
            sc + 1.0 if sc > 0 and decide.states(ask, text[a:b], ev.passage.language) else sc
            for sc, (a, b) in zip(scores, spans)
        ]
    best = max(range(len(spans)), key=lambda i: scores[i])
    if at is not None:
        best = next((i for i, (a, b) in enumerate(spans) if a <= at[0] < b), best)
        scores[best] = max(scores[best], 1e-6)
    if scores[best] <= 0:
        return None
    # A short passage (one practice, one bullet) is quoted whole: its sentences explain each other.
    if len(text.split()) <= max_words and not any(cite.is_instruction(text[a:b]) for a, b in spans):
        return spans[0][0], spans[-1][1], scores[best]
    first = last = best
    words_in = len(text[spans[best][0] : spans[best][1]].split())
    while last + 1 < len(spans) and scores[last + 1] > 0 and words_in < max_words:
        last += 1
        words_in += len(text[spans[last][0] : spans[last][1]].split())
    return spans[first][0], spans[last][1], scores[best]


# -- what bears on the question, and what answers it first -----------------------------------------

# A lead sentence has at least this many words and ends like a sentence: a heading or a caption is
# the context of the sentences under it, not an answer.
LEAD_MIN_WORDS = 6
HEADING_WORDS = 12
_SENTENCE_END = re.compile(r"[.!?…;:][»”\"')\]]*$")
# "Adaptation du matériel de formation : MIEUX a …": a bullet's label, the heading of its sentences.
_LABEL = re.compile(r"^([^.:;!?]{3,90}?)\s:\s|^([^.:;!?]{3,90}?):\s")
# Weights of the three signals of an answering sentence (each in [0, 1]): the share of the
# question's focus words it holds (with its headings), the rank of its passage, and the
# multilingual embedding's reading of sentence against question.
W_FOCUS, W_PASSAGE, W_DENSE = 0.4, 0.3, 0.3
# Added for the share of focus words in what heads the sentence (its bullet's label, the heading
# lines above it, a short section name): where the document itself names the question's subject
# ("Adaptation du matériel de formation : …" for "How did Peru adapt its training?"), as retrieval
# favours a "Lessons learnt" section for a question on lessons.
W_HEADING = 0.2
# e5 cosines of a question and a sentence that answers it sit around 0.82-0.88, unrelated ones
# around 0.74-0.78: this range is spread onto [0, 1].
DENSE_LOW, DENSE_HIGH = 0.76, 0.88
# A passage whose best sentence scores below this share of the best one does not bear on the question.
FAR_BELOW = 0.6
# A second lead sentence must score at least this share of the first.
SECOND_LEAD = 0.9
# Twins: among the TWIN_NEAREST passages of the asker's language whose vectors are at least
# TWIN_PASSAGE close to the quoted passage's, a sentence whose vector is TWIN_SENTENCE close to the
# quoted sentence's. Translated pairs of the corpus measure 0.92-0.95, same-pattern sentences about
# different things ("Peru is a country of origin…" for smuggling and for forced labour) 0.88-0.90.
TWIN_NEAREST = 3
TWIN_PASSAGE = 0.85
TWIN_SENTENCE = 0.915


@dataclass
class Candidate:
    """A sentence of the evidence read as a possible answer."""

    ev: Evidence
    a: int  # offsets of the sentence in the passage text
    b: int
    focus: float  # share of the question's focus words in the sentence and the headings above it
    dense: float  # question-sentence similarity, spread onto [0, 1]
    score: float

    @property
    def text(self) -> str:
        return self.ev.passage.text[self.a : self.b]


def entity_stems(ask: decide.Ask) -> set[str]:
    """Stems, in both languages, of what the question names (countries, actions, places, names)."""
    out: set[str] = set()
    for c in ask.of_any(decide.ENTITY_KINDS):
        codes = tuple(c.terms if c.kind == "country" else ()) + tag.find_countries(c.label)
        for lang in ("fr", "en"):
            out |= set(analyze(c.label, lang))
            for code in codes:
                for name in tag.country_names(code).get(lang, []):
                    out |= set(analyze(name, lang))
    return out


def focus_concepts(ask: decide.Ask) -> list[dict[str, set[str]]]:
    """The question's content words that are not names: what it asks about ("adapt", "training" in
    "How did Peru adapt its training?"), each with its stems in both languages.

    >>> ask = decide.read_question("How did Peru adapt its training?", "en")
    >>> [sorted(c["en"])[0] for c in focus_concepts(ask)]
    ['adapt', 'train']
    """
    names = entity_stems(ask)
    lang = ask.info.language
    return [c for c in ask.info.concepts if c.get(lang) and not c[lang] & names]


def _focus_share(concepts: list[dict[str, set[str]]], text: str, lang: str) -> float:
    if not concepts:
        return 0.0
    have = set(analyze(text, lang))
    return sum(1 for c in concepts if c.get(lang, set()) & have) / len(concepts)


def _is_heading(sentence: str) -> bool:
    """A short line without a sentence's end ("Training adapted to border posts"); a long list item
    without its full stop is still a sentence."""
    return len(sentence.split()) <= HEADING_WORDS and not _SENTENCE_END.search(sentence.rstrip())


def _headings(ev: Evidence, spans: list[tuple[int, int]], i: int) -> tuple[str, str]:
    """What heads sentence i: (the heading lines of its passage before it and the label of its bullet
    when the sentence does not open it: read with the sentence; every heading, the label and a short
    section name included: where the document names the sentence's subject)."""
    text = ev.passage.text
    lines = [text[a:b] for a, b in spans[:i] if _is_heading(text[a:b])]
    # The label opens the line (the bullet or paragraph) the sentence stands in.
    line = text.rfind("\n", 0, spans[i][0]) + 1
    m = _LABEL.match(text[line : spans[i][1]])
    label = (m.group(1) or m.group(2)) if m else ""
    above = lines + ([label] if label and line < spans[i][0] else [])
    section = ev.passage.section or ""
    named = lines + [label] + ([section] if len(section.split()) <= SECTION_LABEL_WORDS else [])
    return " ; ".join(h for h in above if h), " ; ".join(h for h in named if h)


def candidates(ask: decide.Ask, evidence: list[Evidence], embedder=None) -> list[Candidate]:
    """Every sentence of the evidence that could open the answer, scored, best first.

    A sentence qualifies when it is a sentence (LEAD_MIN_WORDS words or more, a sentence's end, not
    an instruction to the assistant) and, when the question asks about something beyond its names,
    holds at least one of those focus words itself or under its headings."""
    concepts = focus_concepts(ask)
    found: list[tuple[Evidence, int, int, float, str, float]] = []
    for ev in evidence:
        text, lang = ev.passage.text, ev.passage.language
        spans = split_sentences(text)
        for i, (a, b) in enumerate(spans):
            sentence = text[a:b]
            if len(sentence.split()) < LEAD_MIN_WORDS or _is_heading(sentence) or cite.is_instruction(sentence):
                continue
            heads, named = _headings(ev, spans, i)
            focus = _focus_share(concepts, f"{sentence} ; {named}", lang)
            if concepts and focus == 0:
                continue
            found.append((ev, a, b, focus, heads, _focus_share(concepts, named, lang)))
    dense = [0.0] * len(found)
    if embedder is not None and found:
        q = np.asarray(embedder.embed_query(ask.info.text))
        # Sentences of the other language are read against the question with its glossary terms
        # translated too, as retrieval reads their passages (the model prefers its own language).
        mixed = q
        if ask.info.translated and ask.info.translated != ask.info.text:
            mixed = q + np.asarray(embedder.embed_query(ask.info.translated))
            mixed = mixed / (np.linalg.norm(mixed) or 1.0)
        # A sentence is read under its headings: "Adaptation du matériel : …" heads the sentences of its bullet.
        vectors = np.asarray(
            embedder.embed_passages(
                [
                    f"{heads} : {ev.passage.text[a:b]}" if heads else ev.passage.text[a:b]
                    for ev, a, b, _, heads, _ in found
                ]
            )
        )
        dense = [
            min(
                max(
                    (float(v @ (q if ev.passage.language == ask.info.language else mixed)) - DENSE_LOW)
                    / (DENSE_HIGH - DENSE_LOW),
                    0.0,
                ),
                1.0,
            )
            for v, (ev, *_) in zip(vectors, found)
        ]
    top = max((ev.score for ev in evidence), default=1.0) or 1.0
    out = []
    for (ev, a, b, focus, _, in_heading), closeness in zip(found, dense):
        score = W_FOCUS * focus + W_PASSAGE * max(ev.score, 0.0) / top + W_DENSE * closeness + W_HEADING * in_heading
        if ask.of_any(decide.QUANTITY_KINDS) and decide.states(ask, ev.passage.text[a:b], ev.passage.language):
            score += 1.0  # "How many…": the sentence that gives the number answers
        out.append(Candidate(ev=ev, a=a, b=b, focus=focus, dense=closeness, score=score))
    return sorted(out, key=lambda c: -c.score)


# Each criterion: (name, the class of passages it leaves out, the rule). A passage is left out of
# the answer when one holds; the passage of the best sentence, and a list item brought in by a kept
# passage that announces it, are always kept.
def _no_focus_word(ev: Evidence, ask: decide.Ask, best: dict[str, float], top: float) -> bool:
    """A passage that holds none of the question's focus words, in its text or its section name: it
    is about the same country or action but another subject (Peru's forced-labour context, for
    Peru's training). Questions without focus words ("What is MIEUX?") lose nothing by it."""
    concepts = focus_concepts(ask)
    p = ev.passage
    return bool(concepts) and _focus_share(concepts, f"{p.section or ''} ; {p.text}", p.language) == 0


def _far_below_best(ev: Evidence, ask: decide.Ask, best: dict[str, float], top: float) -> bool:
    """A passage whose best sentence scores under FAR_BELOW of the best one: it names the subject in
    passing. A passage with no sentence to score (a list of short items) is not judged by it."""
    return ev.passage.id in best and best[ev.passage.id] < FAR_BELOW * top


BEARING = [
    ("no-focus-word", "passages about the question's names but not its subject", _no_focus_word),
    ("far-below-best", "passages that touch the subject in passing", _far_below_best),
]


def bearing(
    ask: decide.Ask, evidence: list[Evidence], found: list[Candidate]
) -> tuple[list[Evidence], dict[str, list[str]]]:
    """The evidence that bears on the question, and the passages each criterion of BEARING left out.
    A two-part question or a comparison asks about several subjects at once: nothing is left out."""
    if not found or ask.parts or ask.comparison:
        return evidence, {}
    best: dict[str, float] = {}
    for c in found:
        best.setdefault(c.ev.passage.id, c.score)
    top = found[0].score
    kept: list[Evidence] = []
    dropped: dict[str, list[str]] = {}
    for ev in evidence:
        why = next((name for name, _, rule in BEARING if rule(ev, ask, best, top)), None)
        if (
            why is None
            or ev.passage.id == found[0].ev.passage.id
            or (ev.follows and kept and kept[-1] is _before(evidence, ev))
        ):
            kept.append(ev)
        else:
            dropped.setdefault(why, []).append(ev.passage.id)
    return kept, dropped


def _before(evidence: list[Evidence], ev: Evidence) -> Evidence | None:
    i = next(n for n, e in enumerate(evidence) if e is ev)
    return evidence[i - 1] if i else None


def _clause(ask: decide.Ask, c: Candidate) -> tuple[int, int]:
    """For a count, a date or a place, the clause of the sentence that gives it (offsets in the passage)."""
    text, lang = c.ev.passage.text, c.ev.passage.language
    if ask.of_any(decide.QUANTITY_KINDS):
        gives = lambda s: decide.states(ask, s, lang)
    elif ask.wh == "when" or ask.of("date"):
        gives = lambda s: bool(re.search(r"\b(1[89]|20)\d\d\b", s))
    elif ask.wh == "where":
        gives = lambda s: bool(tag.find_cities(s) or set(tag.find_countries(s)) - set(ask.info.countries))
    else:
        return c.a, c.b
    cuts = [c.a] + [c.a + m.end() for m in re.finditer(r"[;:]\s+|,\s+(?=\D)", text[c.a : c.b])] + [c.b]
    for i in range(len(cuts) - 1):
        a, b = cuts[i], cuts[i + 1]
        piece = text[a:b].rstrip(" ,;:")
        if not gives(piece):
            continue
        while len(piece.split()) < LEAD_MIN_WORDS and a > c.a:  # too short alone: take the clause before too
            a = cuts[cuts.index(a) - 1]
            piece = text[a:b].rstrip(" ,;:")
        return a, a + len(piece)
    return c.a, c.b


def leads(ask: decide.Ask, found: list[Candidate], n: int = 2) -> list[tuple[Candidate, int, int]]:
    """The one or two sentences (or clauses) that open the answer, with their offsets in the passage:
    the best one, then the best of another passage if it scores nearly as well (the first one's
    passage is quoted whole below)."""
    out: list[tuple[Candidate, int, int]] = []
    for c in found:
        if len(out) == n or (out and c.score < SECOND_LEAD * out[0][0].score):
            break
        if any(o.ev.passage.id == c.ev.passage.id for o, _, _ in out):
            continue
        out.append((c, *_clause(ask, c)))
    return out


def find_twin(retriever, ev: Evidence, sentence: str, lang: str, embedder) -> tuple[Evidence, int, int] | None:
    """The same content in `lang` (an English page of a French case study, a near-translation): among
    the passages of that language nearest to this one, the sentence nearest to `sentence`, when the
    two read as translations (their vectors closer than TWIN_SENTENCE, the same figures and
    countries); None otherwise. Returns the twin passage and the sentence's offsets in it."""
    own = retriever.store.get(retriever.generation, ids=[ev.passage.id], vectors=True)
    if not own:
        return None
    # Chroma's nearest passages in that language (its search, not a product with every vector).
    near = [(p, sim) for p, sim in retriever.nearest(own[0][1], TWIN_NEAREST, lang) if sim >= TWIN_PASSAGE]
    pool = [
        (p, sim, a, b)
        for p, sim in near
        for a, b in split_sentences(p.text)
        if len(p.text[a:b].split()) >= LEAD_MIN_WORDS
    ]
    if not pool:
        return None
    texts = [p.text[a:b] for p, _, a, b in pool]
    vectors = np.asarray(embedder.embed_passages([sentence] + texts))
    scores = vectors[1:] @ vectors[0]
    for k in np.argsort(-scores):
        if scores[k] < TWIN_SENTENCE:
            break
        text = texts[k]
        if (
            cite.figures(text) == cite.figures(sentence)
            and set(tag.find_countries(text)) == set(tag.find_countries(sentence))
            and not cite.is_instruction(text)
        ):
            p, sim, a, b = pool[k]
            return Evidence(passage=p, score=float(sim), dense=float(sim)), a, b
    return None


def compose(
    question: str,
    lang: Language,
    ask: decide.Ask,
    evidence: list[Evidence],
    settings,
    support: list[Evidence] | None = None,
    embedder=None,
    retriever=None,
) -> Answer:
    """The answer first, then the evidence: one or two sentences that answer (each cited, the source
    language said once, the same content in the asker's language beside it when the corpus has it),
    then the passages that bear on the question, grouped by action.

    `support`, the evidence whose context meets every constraint of the question, is quoted first.
    `embedder` reads sentences against the question; `retriever` finds the twins (both optional)."""
    cfg = settings.answer
    info = ask.info
    if support:
        evidence = list(support) + [e for e in evidence if e not in support]
    if info.countries:
        # "And in Jordan?" is not answered with Peru's practice: quote passages about the asked countries.
        wanted = set(info.countries)
        evidence = [e for e in evidence if wanted & set(e.passage.countries)] or evidence
    found = candidates(ask, evidence, embedder)
    evidence, _ = bearing(ask, evidence, found)
    opening = leads(ask, found, cfg.lead_sentences)
    first = {c.ev.passage.id: (a, b) for c, a, b in opening}
    quotable = []
    for ev in evidence:
        span = _span(ask, ev, cfg.quote_words, at=first.get(ev.passage.id))
        if span is not None:
            a, b, lexical = span
            quotable.append((0.5 * lexical + 0.5 * ev.score, ev, a, b))
    # The passages of the lead sentences come first, whatever their lexical score.
    quotable.sort(key=lambda it: (it[1].passage.id not in first, 0))
    picked = quotable[: max(cfg.max_statements, len(first))]
    if ask.of_any(decide.QUANTITY_KINDS) and picked:
        # "How many…": a quote that gives the number takes the last place if none of the first does.
        states = [
            it for it in quotable if decide.states(ask, it[1].passage.text[it[2] : it[3]], it[1].passage.language)
        ]
        if states and not any(it in picked for it in states):
            picked[-1] = states[0]
    if not picked and evidence:
        ev = evidence[0]
        spans = split_sentences(ev.passage.text)
        picked.append((ev.score, ev, spans[0][0], spans[0][1]))
    # Group by action, groups in order of their best quote, quotes in document order.
    groups: dict[str, list] = {}
    for item in sorted(picked, key=lambda it: (it[1].passage.id not in first, -it[0])):
        ev = item[1]
        groups.setdefault(ev.passage.action or f"doc:{ev.passage.doc_id}", []).append(item)
    citations: list[Citation] = []
    statements: list[Statement] = []
    numbers: dict[str, int] = {}

    def cite_item(ev: Evidence, a: int, b: int) -> Citation:
        c = cite.citation(len(citations) + 1, ev, ev.passage.text[a:b], ev.passage.start + a, ev.passage.start + b)
        citations.append(c)
        return c

    picked_by_id = {it[1].passage.id: it for it in picked}
    # Numbers follow the text: the lead sentences' passages first.
    for c, _, _ in opening:
        it = picked_by_id.get(c.ev.passage.id)
        if it is not None and c.ev.passage.id not in numbers:
            numbers[c.ev.passage.id] = cite_item(it[1], it[2], it[3]).n
    lines: list[str] = []
    other = []
    for c, a, b in opening:
        n = numbers.get(c.ev.passage.id)
        if n is None:
            continue
        sentence = c.ev.passage.text[a:b]
        statements.append(Statement(text=sentence, citations=[n], supported=True))
        lines.append(f"« {' '.join(sentence.split())} » [{n}]")
        if c.ev.passage.language != lang:
            other.append(c)
    if other:
        lines.append(
            prompts.text(
                lang,
                "labels.source_language",
                language=prompts.text(lang, f"labels.language_{other[0].ev.passage.language}"),
            )
        )
        if retriever is not None and embedder is not None:
            for c in other[:1]:
                twin = find_twin(retriever, c.ev, c.text, lang, embedder)
                if twin is not None:
                    t = cite_item(*twin)
                    statements.append(Statement(text=t.quote, citations=[t.n], supported=True))
                    lines.append(
                        prompts.text(
                            lang,
                            "labels.twin",
                            language=prompts.text(lang, f"labels.language_{lang}"),
                            title=_short(t.title),
                        )
                        + f" « {' '.join(t.quote.split())} » [{t.n}]"
                    )
    if not lines:
        lines = [prompts.text(lang, "labels.intro")]
    else:
        if any(it[1].passage.language != lang for it in picked) and not other:
            lines.append(
                prompts.text(
                    lang,
                    "labels.evidence_language",
                    language=prompts.text(lang, f"labels.language_{'en' if lang == 'fr' else 'fr'}"),
                )
            )
        lines += ["", prompts.text(lang, "labels.evidence")]
    for action, items in groups.items():
        items.sort(key=lambda it: (it[1].passage.doc_id, it[1].passage.start + it[2]))
        lines.append("")
        lines.append(_group_header(action, items[0][1], lang))
        for _, ev, a, b in items:
            n = numbers.get(ev.passage.id)
            if n is None:
                n = numbers[ev.passage.id] = cite_item(ev, a, b).n
            cited = citations[n - 1]
            statements.append(Statement(text=cited.quote, citations=[n], supported=True))
            lines.append(_line(cited, lang, note_language=False))
    return Answer(
        question=question,
        language=lang,
        abstained=False,
        answer="\n".join(lines),
        citations=citations,
        statements=statements,
    )


def _group_header(action: str, ev: Evidence, lang: str) -> str:
    p = ev.passage
    countries = ", ".join(tag.country_label(c, lang) for c in (p.action_countries or p.countries)[:4])
    by_document = action.startswith("doc:")
    name = _short(p.title) if by_document else action
    bits = [b for b in (countries, str(p.year) if p.year and by_document else "") if b]
    return f"**{name}**" + (f" — {' · '.join(bits)}" if bits else "")


def _short(title: str, n: int = 12) -> str:
    parts = title.split()
    return title if len(parts) <= n else " ".join(parts[:n]) + " …"


def _line(c: Citation, lang: str, marker: bool = True, note_language: bool = True) -> str:
    suffix = ""
    if c.language != lang and note_language:
        suffix = (
            " ("
            + prompts.text(lang, "labels.quoted_in", language=prompts.text(lang, f"labels.language_{c.language}"))
            + ")"
        )
    quote = " ".join(c.quote.split())
    return f"- « {quote} » [{c.n}]{suffix}" if marker else f"- [{c.n}] « {quote} » — {c.title}{suffix}"


def verify_citations(result: Answer, generation: str | None, texts: dict[str, str | None]) -> None:
    """Drop any citation whose quote is not in its source document (it never should happen), and pin
    the others to the generation they quote: their offsets are offsets in that generation's text.
    `texts`: each cited document's text in that generation (None once it is gone)."""
    result.generation = generation
    for name in ("citations", "related"):
        kept = []
        for c in getattr(result, name):
            if cite.verify(c.quote, texts.get(c.source)):
                c.generation = generation
                kept.append(c)
        setattr(result, name, kept)
