"""Evidence -> an answer in the asker's language (quoted sentences grouped by action), or an abstention."""

from __future__ import annotations

import re
import time
import unicodedata

from . import cite, prompts, tag
from .chunk import split_sentences
from .errors import BadQuestion
from .retrieve import QuestionInfo, _fold, analyze, analyze_question, detect_language, words
from .types import Answer, Citation, Evidence, Filters, Statement

_FOLLOW_UP = re.compile(
    r"^\s*(and|what about|how about|same (for|in)|et|qu'en est-il|qu’en est-il|pareil|idem|et pour|et au|et en|et à)\b",
    re.IGNORECASE,
)
_NUMBER = re.compile(r"(?<![\w-])\d[\d\s.,]*\d(?![\w-])|(?<![\w-])\d(?![\w-])")


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
    content = [w for w in words(question) if len(w) > 2 and _fold(w) not in _STOP]
    new_countries = tag.find_countries(question)
    short = len(content) <= 4
    if not (_FOLLOW_UP.match(question) or (short and new_countries)):
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


def answer_question(assistant, question: str, filters: Filters, *, language=None, k=None, history=None, mode=None) -> Answer:
    started = time.perf_counter()
    settings = assistant.settings
    guess = language or detect_language(question or "")
    question_clean = clean_question(question, settings.answer.max_question_chars, guess)
    lang = language if language in ("fr", "en") else detect_language(question_clean)
    standalone = contextualize(question_clean, history)
    retriever = assistant.retriever
    info = analyze_question(standalone, lang)
    k = k or settings.retrieve.k
    pool = retriever.retrieve(info, filters, k=k, pool=k + settings.answer.related)
    evidence = pool[:k]
    gap = find_gap(info, evidence, retriever, settings.answer.min_coverage)
    if gap is not None:
        kind, what = gap
        result = _abstain(question, lang, kind, what, pool, settings)
    else:
        result = compose(question, lang, info, evidence, settings)
        if (mode or ("generative" if settings.llm.backend != "none" else "extractive")) == "generative":
            from .generate import generate_answer

            result = generate_answer(assistant, question, lang, info, evidence, result)
    _verify_citations(assistant, result)
    result.interpreted_as = standalone if standalone != question_clean else None
    result.latency_ms = round((time.perf_counter() - started) * 1000, 1)
    return result


def coverage(info: QuestionInfo, ev: Evidence) -> float:
    """Share of the question's content terms (in the passage's language) found in the passage."""
    p = ev.passage
    wanted = set(info.terms.get(p.language, []))
    if not wanted:
        return 0.0
    have = set(analyze(f"{p.title} {p.section or ''} {p.text}", p.language))
    return len(wanted & have) / len(wanted)


def find_gap(info: QuestionInfo, evidence: list[Evidence], retriever, min_coverage: float) -> tuple[str, str] | None:
    """Why the evidence does not answer the question — (kind, what) — or None when it does.

    A score threshold cannot tell answerable from unanswerable questions here (their top scores
    overlap), so the decision rests on the question's specific entities: each country, year,
    figure, action or proper name it asks about must be in the evidence that would answer it.
    """
    if not evidence:
        return ("coverage", "")
    lang = info.language
    relevant = evidence
    for code in info.countries:
        if code not in retriever.known_countries:
            return ("country", tag.country_label(code, lang))
    if info.countries:
        relevant = [e for e in evidence if set(info.countries) & set(e.passage.countries)]
        if not relevant:
            return ("country", ", ".join(tag.country_label(c, lang) for c in info.countries))
    for action in tag.find_actions(info.text):
        if action.name not in retriever.known_actions:
            return ("action", action.name)
    texts = " ".join(f"{e.passage.text} {e.passage.window}" for e in relevant)
    for year in info.years:
        if str(year) not in texts:
            return ("year", str(year))
    years = {str(y) for y in info.years}
    for m in _NUMBER.finditer(info.text):
        figure = re.sub(r"[\s.,]", "", m.group(0))
        if figure in years or not figure:
            continue
        if figure not in re.sub(r"(?<=\d)[\s.,](?=\d)", "", texts):
            return ("figure", m.group(0).strip())
    for w in _proper_names(info.text):
        if _fold(w) not in retriever.vocabulary:
            return ("name", w)
    best = max(coverage(info, e) for e in relevant[:4])
    if best < min_coverage:
        return ("coverage", "")
    return None


def _proper_names(text: str) -> list[str]:
    """Capitalised words not at the start of the question (names of places, bodies, programmes)."""
    out = []
    tokens = words(text)
    for i, w in enumerate(tokens):
        if i == 0 or not w[:1].isupper() or len(w) < 3:
            continue
        if _fold(w) in _STOP:
            continue
        out.append(w)
    return out


def _abstain(question, lang, kind, what, pool, settings) -> Answer:
    if kind == "coverage" or not what:
        message = prompts.text(lang, "labels.abstain_generic")
    else:
        topic = prompts.text(lang, f"reasons.{kind}", what=what)
        message = prompts.text(lang, "labels.abstain", topic=topic)
    related = []
    for ev in pool[: settings.answer.related]:
        spans = split_sentences(ev.passage.text)
        a, b = spans[0] if spans else (0, len(ev.passage.text))
        quote = ev.passage.text[a:b]
        related.append(cite.citation(len(related) + 1, ev, quote, ev.passage.start + a, ev.passage.start + b))
    text = message
    if related:
        text += "\n\n" + prompts.text(lang, "labels.related") + "\n" + "\n".join(_line(c, lang, marker=False) for c in related)
    return Answer(question=question, language=lang, abstained=True, answer=text, related=related,
                  reason=f"{kind}:{what}" if what else kind)


def _sentence_score(info: QuestionInfo, ev: Evidence, sentence: str) -> float:
    wanted = set(info.terms.get(ev.passage.language, []))
    if not wanted:
        return 0.0
    have = set(analyze(sentence, ev.passage.language))
    return len(wanted & have) / len(wanted)


def compose(question: str, lang: str, info: QuestionInfo, evidence: list[Evidence], settings) -> Answer:
    """Pick the sentences that answer, group them by action, number the citations."""
    cfg = settings.answer
    candidates = []
    for ev in evidence:
        for a, b in split_sentences(ev.passage.text):
            sentence = ev.passage.text[a:b]
            if len(sentence.split()) < 4:
                continue
            lexical = _sentence_score(info, ev, sentence)
            candidates.append((0.6 * lexical + 0.4 * ev.score, lexical, ev, a, b))
    candidates.sort(key=lambda c: -c[0])
    picked, per_passage = [], {}
    for score, lexical, ev, a, b in candidates:
        if lexical <= 0 and picked:
            continue
        if per_passage.get(ev.passage.id, 0) >= cfg.max_per_passage:
            continue
        picked.append((score, ev, a, b))
        per_passage[ev.passage.id] = per_passage.get(ev.passage.id, 0) + 1
        if len(picked) >= cfg.max_statements:
            break
    # Group by action, groups in order of their best sentence, sentences in document order.
    groups: dict[str, list] = {}
    for score, ev, a, b in picked:
        groups.setdefault(ev.passage.action or "", []).append((score, ev, a, b))
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
    name = action or prompts.text(lang, "labels.no_action")
    bits = [b for b in (countries, str(p.year) if p.year and not action else "") if b]
    return f"**{name}**" + (f" — {' · '.join(bits)}" if bits else "")


def _line(c: Citation, lang: str, marker: bool = True) -> str:
    suffix = ""
    if c.language != lang:
        suffix = " (" + prompts.text(lang, "labels.quoted_in", language=prompts.text(lang, f"labels.language_{c.language}")) + ")"
    return f"- « {c.quote} » [{c.n}]{suffix}" if marker else f"- [{c.n}] « {c.quote} » — {c.title}{suffix}"


def _verify_citations(assistant, result: Answer) -> None:
    """Drop any citation whose quote is not in its source document (it never should happen)."""
    for name in ("citations", "related"):
        kept = []
        for c in getattr(result, name):
            if cite.verify(c.quote, assistant.document_text(c.source)):
                kept.append(c)
        setattr(result, name, kept)
