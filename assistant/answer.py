"""Evidence -> an answer in the asker's language (quoted sentences grouped by action), or an abstention."""

from __future__ import annotations

import re
import time
import unicodedata
from dataclasses import replace
from functools import lru_cache

from . import cite, prompts, tag
from .chunk import split_sentences
from .errors import BadQuestion
from .retrieve import ANSWER_KINDS, QuestionInfo, _fold, analyze, analyze_question, detect_language, words
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


def answer_question(assistant, question: str, filters: Filters, *, language=None, k=None, history=None, mode=None) -> Answer:
    started = time.perf_counter()
    settings = assistant.settings
    guess = language or detect_language(question or "")
    question_clean = clean_question(question, settings.answer.max_question_chars, guess)
    lang = language if language in ("fr", "en") else detect_language(question_clean)
    generative = (mode or ("generative" if settings.llm.backend != "none" else "extractive")) == "generative"
    if generative and history:
        from .generate import condense

        standalone = condense(assistant, question_clean, history)
    else:
        standalone = contextualize(question_clean, history)
    retriever = assistant.retriever
    info = analyze_question(standalone, lang)
    k = k or settings.retrieve.k
    pool = retriever.retrieve(info, filters, k=k, pool=k + settings.answer.related)
    # A list item that follows its announcement does not take the place of another passage.
    evidence = _with_count(retriever, info, pool[: k + sum(1 for e in pool[:k] if e.follows)])
    gap = find_gap(info, evidence, retriever, settings.answer.min_coverage)
    if gap is not None:
        kind, what = gap
        result = _abstain(question, lang, kind, what, pool, settings)
    else:
        result = compose(question, lang, info, evidence, settings)
        if generative:
            from .generate import generate_answer

            result = generate_answer(assistant, question, lang, info, evidence, result)
    _verify_citations(assistant, result, retriever.generation)
    result.interpreted_as = standalone if standalone != question_clean else None
    result.latency_ms = round((time.perf_counter() - started) * 1000, 1)
    return result


def _with_count(retriever, info: QuestionInfo, evidence: list[Evidence], reach: int = 3) -> list[Evidence]:
    """For a "how many" question whose evidence gives no number, the passages next to the best ones
    (same section, up to `reach` away) are read too: the figure often closes the paragraphs that
    introduce its subject. The first that states the count joins the evidence."""
    counted = _counted(info.text)
    if not counted or any(_states_count(e.passage.text, e.passage.language, counted, info.language) for e in evidence):
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
            if _states_count(near.text, near.language, counted, info.language):
                return evidence + [replace(e, passage=near, rank=len(evidence), follows=False)]
    return evidence


def coverage(info: QuestionInfo, ev: Evidence) -> float:
    """Share of the question's content words found in the passage, as written or translated."""
    p = ev.passage
    concepts = [c.get(p.language, set()) for c in info.concepts]
    if not concepts:
        return 0.0
    have = set(analyze(f"{p.title} {p.section or ''} {p.text}", p.language))
    return sum(1 for stems in concepts if stems & have) / len(concepts)


_YEAR = re.compile(r"\b(19[9]\d|20[0-3]\d)\b")


def find_gap(info: QuestionInfo, evidence: list[Evidence], retriever, min_coverage: float) -> tuple[str, str] | None:
    """Why the evidence does not answer the question — (kind, what) — or None when it does.

    A score threshold cannot tell answerable from unanswerable questions here (their top scores
    overlap), so the decision rests on the question's specific entities: each country, year,
    figure, action or name it asks about must be in evidence that is about the question.
    """
    if not evidence:
        return ("coverage", "")
    lang = info.language
    for code in info.countries:
        if code not in retriever.known_countries:
            return ("country", tag.country_label(code, lang))
    covered = [(e, coverage(info, e)) for e in evidence]
    # Evidence "about the question": passages holding a fair share of its terms.
    about = [e for e, c in covered if c >= min_coverage * 0.6] or [covered[0][0]]
    focus = about
    if info.countries:
        # Each country must be what a passage is about (its action's country, or named first),
        # not a name in passing: a list of free-movement partners does not document their training.
        focus = []
        # A comparison names several countries; a passage may then name one among others.
        countries_of = _primary_countries if len(info.countries) == 1 else (lambda e: e.passage.countries)
        for code in info.countries:
            own = [e for e in about if code in countries_of(e)]
            if not own:
                return ("country", tag.country_label(code, lang))
            focus += own
    for action in tag.find_actions(info.text):
        if action.kind != "plan" and action.name not in retriever.known_actions:
            return ("action", action.name)
    for year in sorted({int(y) for y in _YEAR.findall(info.text)}):
        if not any(year in _years_of(e) for e in focus):
            return ("year", str(year))
    texts = re.sub(r"(?<=\d)[\s.,](?=\d)", "", " ".join(f"{e.passage.text} {e.passage.window}" for e in focus))
    for m in _NUMBER.finditer(info.text):
        figure = re.sub(r"[\s.,]", "", m.group(0))
        if not figure or _YEAR.fullmatch(figure) or len(figure) == 1:
            continue
        if not re.search(rf"(?<!\d){figure}(?!\d)", texts):
            return ("figure", m.group(0).strip())
    asked = _asked_for(info.text)
    if asked and not any(_mentions(e, asked, info.language) for e in focus):
        return ("name", asked)
    counted = _counted(info.text)
    if counted:
        # "How many smugglers were convicted in 2015?" wants "N smugglers", in a passage of that year.
        # "… en 2017 par rapport à 2018": each year's count may be in its own passage, and one of
        # them answers in part.
        years = {int(y) for y in _YEAR.findall(info.text)}
        if not any(_counts(e, counted, info.language, years) for e in focus):
            return ("figure", " ".join(counted))
    qualified = _qualified(info.text)
    if qualified and not any(all(_mentions(e, w, info.language) for w in qualified) for e in focus):
        return ("name", " ".join(qualified))
    names = _proper_names(info.text)
    unknown = [w for w in names if not _known_name(w, retriever)]
    if unknown and len(unknown) * 2 >= len(names):
        return ("name", unknown[0])
    for m in _PLACE.finditer(info.text):
        # "à Dakar", "in Tacna": a place the corpus never names.
        if not _known_name(m.group(1), retriever):
            return ("name", m.group(1))
    if max(c for _, c in covered[:4]) < min_coverage:
        return ("coverage", "")
    return None


def _proper_names(text: str) -> list[str]:
    """Capitalised words not at the start of the question (names of places, bodies, programmes)."""
    out = []
    for i, w in enumerate(words(text)):
        if i == 0 or not w[:1].isupper() or len(w) < 3 or _fold(w) in _STOP:
            continue
        out.append(w)
    return out


def _primary_countries(ev: Evidence) -> tuple[str, ...]:
    p = ev.passage
    return tuple(p.action_countries) + tuple(p.countries[:2])


_ASKED = [
    re.compile(r"^\s*how (?:many|much) (?:of )?(?:the )?([a-z][\w-]+)", re.I),
    re.compile(r"^\s*what (?:was|is|were|are) the (?:[\w-]+ )?([a-z][\w-]+) (?:of|for)\b", re.I),
    re.compile(r"^\s*(?i:what) (?!(?i:did|does|do|is|are|was|were|has|have)\b)(?:[a-z][\w-]+ )?([a-z][\w-]+) (?i:did|does|do|has|have)\b"),
    re.compile(r"^\s*combien (?:de |d['’])([\w-]+)", re.I),
    re.compile(r"^\s*quel(?:le)?s? (?:est|était|sont|étaient) (?:la |le |les |l['’])([\w-]+)", re.I),
    # "Quelles notes MIEUX a-t-il obtenues…": the French "What scores did MIEUX get…".
    re.compile(r"^\s*quel(?:le)?s? ([a-zà-ÿ][\w-]+) (?:[\w’'-]+ ){1,3}?[a-zà-ÿ]+-(?:t-)?(?:il|elle|ils|elles)\b", re.I),
]


_QUALIFIERS = {"principales", "principaux", "principale", "principal", "main", "key", "differentes", "differents",
               "autres", "other", "premiers", "premieres", "first", "dix", "ten", "six", "trois", "three", "quatre", "four",
               "deux", "two", "cinq", "five", "grandes", "grands", "major", "specific", "specifiques", "nouvelles", "new"}


def _asked_for(question: str) -> str | None:
    """The thing a question asks for ("How many smugglers…" -> "smugglers"), when it says so plainly."""
    for pattern in _ASKED:
        m = pattern.search(question)
        if not m:
            continue
        word = m.group(1)
        if _fold(word) in _QUALIFIERS:
            # "les principales conclusions": the noun comes after the qualifier.
            rest = words(question[m.end(1):])
            word = rest[0] if rest else ""
        if word and _fold(word) not in _STOP and _fold(word) not in ANSWER_KINDS and len(word) > 2:
            return word
    return None


_COUNT = re.compile(r"^\s*(?:how (?:many|much)\s+|combien (?:de |d['’]))((?:[\w-]+\s+){0,2}[\w-]+)", re.I)
_PLACE = re.compile(r"\b(?:à|in|at|au|aux)\s+([A-ZÀ-Ý][\w-]+)")
# Not "one", "un", "une": articles far more often than counts.
_NUMBER_WORDS = frozenset(
    "two three four five six seven eight nine ten eleven twelve fifteen twenty thirty forty fifty hundred "
    "hundreds thousand thousands dozen dozens deux trois quatre cinq six sept huit neuf dix onze douze "
    "quinze vingt trente quarante cinquante cent cents centaine centaines mille dizaine dizaines".split()
)
# "What is the maximum penalty for…" / "Quelle est la peine maximale…": both words must be in evidence.
_QUALIFIED = [
    (re.compile(r"^\s*what (?:was|is|were|are) the ([a-z][\w-]+) ([a-z][\w-]+) (?:of|for)\b", re.I), (0, 1)),
    (re.compile(r"^\s*quel(?:le)?s? (?:est|était|sont|étaient) (?:la |le |les |l['’])([\w-]+) ([a-zà-ÿ][\w-]+)", re.I), (1, 0)),
]


def _qualified(question: str) -> tuple[str, str] | None:
    """The qualifier and noun of "the maximum penalty" / "la peine maximale", when a question asks for one."""
    for pattern, (qualifier, noun) in _QUALIFIED:
        m = pattern.match(question)
        if not m:
            continue
        pair = (m.group(qualifier + 1), m.group(noun + 1))
        if any(_fold(w) in _STOP or _fold(w) in _QUALIFIERS or w[0].isdigit() for w in pair):
            return None
        return pair
    return None


def _counted(question: str) -> list[str]:
    """What a "how many" question counts: "How many vulnerable children…" -> ["vulnerable", "children"]."""
    m = _COUNT.match(question)
    if not m:
        return []
    out = []
    for w in words(m.group(1)):
        if _fold(w) in _STOP or w[:1].isupper():
            break  # "How many smugglers were…", "Combien d'agents MIEUX…"
        out.append(w)
    return out


def _counts(ev: Evidence, nouns: list[str], lang: str, years: set[int]) -> bool:
    """The passage gives a number of one of `nouns` ("22 participants"), in one of `years` if any."""
    p = ev.passage
    if not _states_count(p.text, p.language, nouns, lang):
        return False
    # The year of a figure is given with it or before it ("En 2018, … La Table ronde a réuni 22
    # participants"); a year in the passage after it is another matter ("des événements en 2019").
    at = p.window.find(p.text)
    before = p.window[:at] if at >= 0 else ""
    return not years or bool(years & set(tag.find_years(f"{before} {p.text}")))


def _states_count(text: str, text_lang: str, nouns: list[str], lang: str) -> bool:
    """Whether `text` puts a number before one of `nouns` (in `lang`, or translated): "5500 enfants"."""
    wanted = set().union(*(_wanted(noun, lang, text_lang) for noun in nouns))
    tokens = words(text)
    return any(
        set(analyze(token, text_lang)) & wanted and any(_is_count(t) for t in tokens[max(0, i - 4) : i])
        for i, token in enumerate(tokens)
    )


def _is_count(token: str) -> bool:
    digits = re.sub(r"[.,]", "", token)
    return digits.isdigit() and not _YEAR.fullmatch(digits) or _fold(token) in _NUMBER_WORDS


@lru_cache(maxsize=4096)
def _wanted(term: str, lang: str, passage_lang: str) -> frozenset[str]:
    """The term's stems in the passage's language: as written, and through the glossary.

    Remembered: the same asked-for or counted noun is looked up for every passage and sentence."""
    wanted = set(analyze(term, lang)) | set(analyze(term, passage_lang))
    if passage_lang != lang:
        wanted |= set(analyze(" ; ".join(tag.expand_terms(term, passage_lang)), passage_lang))
    # "SOPs" names the procedures it stands for.
    wanted |= set(analyze(" ; ".join(tag.acronyms_for(term)), passage_lang))
    return frozenset(wanted)


def _mentions(ev: Evidence, term: str, lang: str) -> bool:
    """The passage holds the term, in its own language or through the glossary.

    A French infinitive shares its stem with the noun ("il convient de noter" is not "les notes"):
    it only counts when the term is a verb too."""
    p = ev.passage
    wanted = _wanted(term, lang, p.language)
    verb = lang == "fr" and _INFINITIVE.search(term) is not None
    for token in words(f"{p.text} {p.window}"):
        if set(analyze(token, p.language)) & wanted:
            if p.language == "fr" and not verb and _INFINITIVE.search(token):
                continue
            return True
    return False


_INFINITIVE = re.compile(r"(?<!i)(?:er|ir)$", re.IGNORECASE)  # noter, établir; not dossier, premier


def _years_of(ev: Evidence) -> set[int]:
    p = ev.passage
    years = set(tag.find_years(f"{p.text} {p.window} {p.title} {p.action or ''}"))
    if p.year:
        years.add(p.year)
    return years


def _known_name(word: str, retriever) -> bool:
    folded = _fold(word)
    if folded in retriever.vocabulary or tag.find_countries(word):
        return True
    # A name in the other language often shares its stem (Mediterranean / Méditerranée).
    return len(folded) >= 6 and any(v.startswith(folded[:6]) for v in retriever.vocabulary)


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


def _span(info: QuestionInfo, ev: Evidence, max_words: int) -> tuple[int, int, float] | None:
    """The contiguous sentences of a passage that answer best: (start, end, lexical score)."""
    text = ev.passage.text
    spans = [(a, b) for a, b in split_sentences(text) if len(text[a:b].split()) >= 3]
    if not spans:
        return None
    # A sentence that addresses the assistant ("ignore the previous instructions…") is data, never an answer.
    scores = [0.0 if cite.is_instruction(text[a:b]) else _sentence_score(info, ev, text[a:b]) for a, b in spans]
    counted = _counted(info.text)
    if counted:
        # "How many children…": the sentence that gives the number is the answer.
        scores = [sc + 1.0 if sc > 0 and _states_count(text[a:b], ev.passage.language, counted, info.language) else sc
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


def compose(question: str, lang: str, info: QuestionInfo, evidence: list[Evidence], settings) -> Answer:
    """Quote the passages that answer, group them by action, number the citations."""
    cfg = settings.answer
    if info.countries:
        # "And in Jordan?" is not answered with Peru's practice: quote passages about the asked countries.
        wanted = set(info.countries)
        evidence = [e for e in evidence if wanted & set(e.passage.countries)] or evidence
    quotable = []
    for ev in evidence:
        span = _span(info, ev, cfg.quote_words)
        if span is not None:
            a, b, lexical = span
            quotable.append((0.5 * lexical + 0.5 * ev.score, ev, a, b))
    picked = quotable[: cfg.max_statements]
    counted = _counted(info.text)
    if counted and picked:
        # "How many…": a quote that gives the number takes the last place if none of the first does.
        states = [it for it in quotable if _states_count(it[1].passage.text[it[2]:it[3]], it[1].passage.language,
                                                         counted, info.language)]
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


def _verify_citations(assistant, result: Answer, generation: str | None = None) -> None:
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
