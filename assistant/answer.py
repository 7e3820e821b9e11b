"""Evidence -> an answer in the asker's language (quoted sentences grouped by action), or an abstention."""

from __future__ import annotations

import re
import unicodedata
from dataclasses import replace

from . import cite, decide, prompts, tag
from .chunk import split_sentences
from .errors import BadQuestion
from .retrieve import QuestionInfo, _fold, analyze, detect_language, words
from .types import Answer, Citation, Evidence, Statement

_FOLLOW_UP = re.compile(
    r"^\s*(and|what about|how about|same (for|in)|et|qu'en est-il|qu’en est-il|pareil|idem|et pour|et au|et en|et à)\b",
    re.IGNORECASE,
)


def clean_question(question: str, max_chars: int, lang: str = "en") -> str:
    """The question with control characters removed; BadQuestion with a user message when unusable."""
    if question is None or not str(question).strip():
        raise BadQuestion(prompts.text(lang, "errors.empty"))
    question = str(question)
    if len(question) > max_chars:
        raise BadQuestion(prompts.text(lang, "errors.too_long", n=len(question), limit=max_chars))
    cleaned = "".join(ch if ch.isprintable() or ch in " \t\n" else " " for ch in question)
    cleaned = " ".join(cleaned.split())
    if not any(unicodedata.category(ch)[0] in "LN" for ch in cleaned):
        raise BadQuestion(prompts.text(lang, "errors.no_words"))
    return cleaned


def contextualize(question: str, history: list[tuple[str, str]] | None) -> str:
    """Read a follow-up ("And in Jordan?") as a standalone question, carrying the previous topic."""
    if not history:
        return question
    previous = next((q for q, _ in reversed(history) if q and q.strip()), None)
    if not previous:
        return question
    new_countries = tag.find_countries(question)
    # Words that are neither grammar nor the new country: "Jordan?" has none, "How did Peru adapt…" has two.
    content = [w for w in words(question) if len(w) > 2 and _fold(w) not in _STOP and not tag.find_countries(w)]
    if not (_FOLLOW_UP.match(question) or (new_countries and not content)):
        return question
    old_countries = tag.find_countries(previous)
    if new_countries and old_countries:
        lang = detect_language(previous)
        out = previous
        for code in old_countries:
            for name in sorted(tag.country_names(code).get("fr", []) + tag.country_names(code).get("en", []), key=len, reverse=True):
                out = re.sub(rf"\b{re.escape(name)}\b", tag.country_label(new_countries[0], lang), out)
        if out != previous:
            return out
    return f"{previous} {question}"


def _stopset():
    from .retrieve import stopwords

    return stopwords("fr") | stopwords("en") | {"and", "what", "about", "how", "qu'en", "est-il"}


_STOP = _stopset()


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
            i = retriever.by_position.get((p.doc_id, p.ordinal + step))
            if i is None:
                continue
            near = retriever.passages[i]
            if near.id in seen or near.section != p.section:
                continue
            if decide.states(ask, near.text, near.language):
                return evidence + [replace(e, passage=near, rank=len(evidence), follows=False)]
    return evidence


def abstain(question: str, lang: str, decision: decide.Decision, pool: list[Evidence], settings) -> Answer:
    """The abstention: what the corpus documents and what it lacks, in plain words, then the
    passages about the question's entities as related material (not a stray word's)."""
    message = abstention_message(lang, decision)
    related = []
    # Passages about the question's entities; when one is nowhere in the corpus, the nearest ones.
    about = decision.about or pool
    for ev in about[: settings.answer.related]:
        spans = split_sentences(ev.passage.text)
        a, b = spans[0] if spans else (0, len(ev.passage.text))
        quote = ev.passage.text[a:b]
        related.append(cite.citation(len(related) + 1, ev, quote, ev.passage.start + a, ev.passage.start + b))
    text = message
    if related:
        text += "\n\n" + prompts.text(lang, "labels.related") + "\n" + "\n".join(_line(c, lang, marker=False) for c in related)
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
        return prompts.text(lang, "labels.abstain", topic=prompts.text(lang, f"reasons.{missing.kind}", what=missing.label))
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


def _span(ask: decide.Ask, ev: Evidence, max_words: int) -> tuple[int, int, float] | None:
    """The contiguous sentences of a passage that answer best: (start, end, lexical score)."""
    info = ask.info
    text = ev.passage.text
    spans = [(a, b) for a, b in split_sentences(text) if len(text[a:b].split()) >= 3]
    if not spans:
        return None
    # A sentence that addresses the assistant ("ignore the previous instructions…") is data, never an answer.
    scores = [0.0 if cite.is_instruction(text[a:b]) else _sentence_score(info, ev, text[a:b]) for a, b in spans]
    if ask.of_any(decide.QUANTITY_KINDS):
        # "How many children…": the sentence that gives the number is the answer.
        scores = [sc + 1.0 if sc > 0 and decide.states(ask, text[a:b], ev.passage.language) else sc
                  for sc, (a, b) in zip(scores, spans)]
    best = max(range(len(spans)), key=lambda i: scores[i])
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


def compose(question: str, lang: str, ask: decide.Ask, evidence: list[Evidence], settings,
            support: list[Evidence] | None = None) -> Answer:
    """Quote the passages that answer, group them by action, number the citations.

    `support`, the evidence whose context meets every constraint of the question, is quoted first."""
    cfg = settings.answer
    info = ask.info
    if support:
        evidence = list(support) + [e for e in evidence if e not in support]
    if info.countries:
        # "And in Jordan?" is not answered with Peru's practice: quote passages about the asked countries.
        wanted = set(info.countries)
        evidence = [e for e in evidence if wanted & set(e.passage.countries)] or evidence
    quotable = []
    for ev in evidence:
        span = _span(ask, ev, cfg.quote_words)
        if span is not None:
            a, b, lexical = span
            quotable.append((0.5 * lexical + 0.5 * ev.score, ev, a, b))
    picked = quotable[: cfg.max_statements]
    if ask.of_any(decide.QUANTITY_KINDS) and picked:
        # "How many…": a quote that gives the number takes the last place if none of the first does.
        states = [it for it in quotable if decide.states(ask, it[1].passage.text[it[2]:it[3]], it[1].passage.language)]
        if states and not any(it in picked for it in states):
            picked[-1] = states[0]
    if not picked and evidence:
        ev = evidence[0]
        spans = split_sentences(ev.passage.text)
        picked.append((ev.score, ev, spans[0][0], spans[0][1]))
    # Group by action, groups in order of their best quote, quotes in document order.
    groups: dict[str, list] = {}
    for item in sorted(picked, key=lambda it: -it[0]):
        ev = item[1]
        groups.setdefault(ev.passage.action or f"doc:{ev.passage.doc_id}", []).append(item)
    citations: list[Citation] = []
    statements: list[Statement] = []
    lines = [prompts.text(lang, "labels.intro")]
    for action, items in groups.items():
        items.sort(key=lambda it: (it[1].passage.doc_id, it[1].passage.start + it[2]))
        lines.append("")
        lines.append(_group_header(action, items[0][1], lang))
        for _, ev, a, b in items:
            quote = ev.passage.text[a:b]
            c = cite.citation(len(citations) + 1, ev, quote, ev.passage.start + a, ev.passage.start + b)
            citations.append(c)
            statements.append(Statement(text=quote, citations=[c.n], supported=True))
            lines.append(_line(c, lang))
    return Answer(question=question, language=lang, abstained=False, answer="\n".join(lines),
                  citations=citations, statements=statements)


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


def _line(c: Citation, lang: str, marker: bool = True) -> str:
    suffix = ""
    if c.language != lang:
        suffix = " (" + prompts.text(lang, "labels.quoted_in", language=prompts.text(lang, f"labels.language_{c.language}")) + ")"
    quote = " ".join(c.quote.split())
    return f"- « {quote} » [{c.n}]{suffix}" if marker else f"- [{c.n}] « {quote} » — {c.title}{suffix}"


def verify_citations(assistant, result: Answer, generation: str | None = None) -> None:
    """Drop any citation whose quote is not in its source document (it never should happen), and pin
    the others to the generation they quote: their offsets are offsets in that generation's text."""
    generation = generation or assistant.retriever.generation
    result.generation = generation
    for name in ("citations", "related"):
        kept = []
        for c in getattr(result, name):
            if cite.verify(c.quote, assistant.document_text(c.source, generation)):
                c.generation = generation
                kept.append(c)
        setattr(result, name, kept)
