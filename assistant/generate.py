"""Opt-in generative answers: an LLM writes from the numbered passages, then every statement and citation
is verified."""

from __future__ import annotations

import logging
import re
import threading
import time
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from urllib.parse import urlparse

from . import cite, prompts
from .cite import is_instruction
from .chunk import split_sentences
from .errors import AssistantError, ConfigError
from .text import question_language
from .types import Answer, Citation, Evidence, Language, Statement

log = logging.getLogger(__name__)

# What llama-index is told about the server's context; our prompts stay well under it.
CONTEXT_WINDOW = 4096
# SupportScorer's 0.5 lets topical but unsupported sentences through; faithful paraphrases,
# French or English, score 0.8 and more (measured on hand-written pairs over the corpus).
SUPPORT_THRESHOLD = 0.7


class LLMUnavailable(AssistantError):
    """The configured LLM cannot be reached or failed; the caller falls back to the extractive answer."""


# -- the LLM, loaded on first use ---------------------------------------------------------------

_LLMS: dict[tuple, object] = {}
_LLMS_LOCK = threading.Lock()


def get_llm(llm_settings):
    """The llama-index LLM for these settings (llm.*), built once and reused.

    >>> from assistant.config import LLMSettings
    >>> get_llm(LLMSettings(backend="openai", url="http://127.0.0.1:8080/v1")).api_base
    'http://127.0.0.1:8080/v1'
    """
    s = llm_settings
    key = (s.backend, s.url, s.model, s.api_key, s.temperature, s.max_tokens, s.timeout_s)
    with _LLMS_LOCK:
        if key not in _LLMS:
            _LLMS[key] = _build_llm(s)
        return _LLMS[key]


def _build_llm(s):
    if s.backend == "none":
        raise ConfigError(
            "The generative mode needs an LLM: set llm.backend (ASSISTANT_LLM__BACKEND) to openai, ollama "
            "or llama-cpp, or pass --llm URL to `assistant ask`"
        )
    if s.backend == "openai":
        if not s.url:
            raise ConfigError(
                "llm.backend=openai needs llm.url (ASSISTANT_LLM__URL), e.g. http://127.0.0.1:8080/v1 "
                "for a llama.cpp server or http://host:8000/v1 for vLLM"
            )
        return _openai_like(s, openai_url(s.url))
    if s.backend == "ollama":
        base = ollama_url(s.url)
        try:
            from llama_index.llms.ollama import Ollama
        except ImportError:
            # Without the 'ollama' extra, Ollama's own OpenAI-compatible endpoint does the same job.
            log.info("llama-index-llms-ollama is not installed; using Ollama's OpenAI-compatible endpoint %s/v1", base)
            return _openai_like(s, base + "/v1")
        return Ollama(
            model=s.model,
            base_url=base,
            temperature=s.temperature,
            request_timeout=s.timeout_s,
            context_window=CONTEXT_WINDOW,
            additional_kwargs={"num_predict": s.max_tokens},
        )
    if s.backend == "llama-cpp":
        return _llama_cpp(s)
    raise ConfigError(f"Unknown llm.backend '{s.backend}': choose none, openai, ollama or llama-cpp")


def openai_url(url: str) -> str:
    """The API base of an OpenAI-compatible server: '/v1' is added when the URL has no path.

    >>> openai_url("http://127.0.0.1:8080"), openai_url("http://host:8000/v1/")
    ('http://127.0.0.1:8080/v1', 'http://host:8000/v1')
    """
    url = url.strip().rstrip("/")
    if urlparse(url).path in ("", "/"):
        url += "/v1"
    return url


def ollama_url(url: str | None) -> str:
    """Ollama's base URL (its native API sits at the root, not under /v1)."""
    url = (url or "http://127.0.0.1:11434").strip().rstrip("/")
    return url[: -len("/v1")] if url.endswith("/v1") else url


def _openai_like(s, api_base: str):
    from llama_index.llms.openai_like import OpenAILike

    # No retries: an unreachable server is reported at once and the extractive answer is shown instead.
    return OpenAILike(
        model=s.model,
        api_base=api_base,
        api_key=s.api_key,
        is_chat_model=True,
        context_window=CONTEXT_WINDOW,
        timeout=s.timeout_s,
        max_retries=0,
        temperature=s.temperature,
        max_tokens=s.max_tokens,
    )


def _llama_cpp(s):
    """A GGUF file answered in-process by llama.cpp's own server (the prebuilt xllamacpp wheel), on a
    free loopback port, through the same OpenAI-compatible client as a remote server."""
    path = Path(s.model)
    if not path.is_file():
        raise ConfigError(
            f"llm.model (ASSISTANT_LLM__MODEL) must be the path of a GGUF file for llm.backend=llama-cpp; "
            f"'{s.model}' is not a file"
        )
    try:
        import xllamacpp
    except ImportError:
        raise ConfigError(
            "llm.backend=llama-cpp needs the 'llama-cpp' extra (a prebuilt llama.cpp): "
            "pip install -c constraints.txt '.[llama-cpp]'"
        ) from None
    params = xllamacpp.CommonParams()
    params.model.path = str(path)
    params.model_alias = {"local"}
    # One slot owns the whole context; requests queue; the server applies the GGUF's chat template.
    params.n_ctx = CONTEXT_WINDOW
    params.n_parallel = 1
    params.port = 0
    params.verbosity = -1
    try:
        server = xllamacpp.Server(params)
    except RuntimeError as err:
        raise ConfigError(f"Cannot load {path} (llm.model): {err}; is it a GGUF file llama.cpp can read?") from None
    return _InProcess(_openai_like(s.model_copy(update={"model": "local"}), server.listening_address + "/v1"), server)


class _InProcess:
    """The client of an in-process llama.cpp server, keeping the server alive as long as it is used."""

    def __init__(self, llm, server):
        self.llm = llm
        self.server = server

    def chat(self, messages):
        return self.llm.chat(messages)

    def stream_chat(self, messages):
        yield from self.llm.stream_chat(messages)


def _failure(s, err: BaseException) -> LLMUnavailable:
    """An error naming the LLM, the settings that point at it, and the way out."""
    name = err.__class__.__name__
    if s.backend == "llama-cpp":
        where = f"the local model {s.model} (llm.backend=llama-cpp, llm.model / ASSISTANT_LLM__MODEL)"
    else:
        url = s.url or ollama_url(None)
        where = f"the LLM at {url} (llm.backend={s.backend}, llm.url / ASSISTANT_LLM__URL, llm.model={s.model})"
    if "Connect" in name or "Timeout" in name or isinstance(err, ConnectionError):
        return LLMUnavailable(
            f"Cannot reach {where}: {name}: {err}; start the server, fix llm.url, "
            f"or set llm.backend=none for extractive answers"
        )
    return LLMUnavailable(
        f"The call to {where} failed: {name}: {err}; check llm.model and the server's log, "
        f"or set llm.backend=none for extractive answers"
    )


def _errors() -> tuple[type[BaseException], ...]:
    """Failures of the LLM call that mean 'no generated answer now', not a bug of ours."""
    kinds: list[type[BaseException]] = [OSError, TimeoutError]
    for module, name in (("openai", "APIError"), ("httpx", "HTTPError"), ("ollama", "ResponseError")):
        try:
            kinds.append(getattr(__import__(module), name))
        except (ImportError, AttributeError):
            pass
    return tuple(kinds)


def chat(llm_settings, messages) -> str:
    """The LLM's whole reply to `messages` (llama-index ChatMessage list); LLMUnavailable when it fails."""
    llm = get_llm(llm_settings)
    try:
        return llm.chat(messages).message.content or ""
    except _errors() as err:
        raise _failure(llm_settings, err) from err


def chat_stream(llm_settings, messages) -> Iterator[str]:
    """The LLM's reply as text deltas; LLMUnavailable when it fails."""
    llm = get_llm(llm_settings)
    try:
        for part in llm.stream_chat(messages):
            if part.delta:
                yield part.delta
    except _errors() as err:
        raise _failure(llm_settings, err) from err


# -- prompts -------------------------------------------------------------------------------------

_TAG = re.compile(r"<\s*/?\s*passage\b", re.IGNORECASE)


def render(lang: str, name: str, folder=None, **values: str) -> tuple[str, str]:
    """(system, user) messages of prompts/<name>_<lang>.txt with its {placeholders} filled.

    The file has a `[system]` part and a `[user]` part. Only the named placeholders are replaced,
    so braces inside passages are left alone.
    """
    text = prompts.template(lang, name, folder)
    m = re.search(r"^\[system\]\s*\n(.*?)^\[user\]\s*\n(.*)\Z", text, re.DOTALL | re.MULTILINE)
    if not m:
        raise ConfigError(f"Prompt template {name}_{lang}.txt must have a [system] part then a [user] part")
    system, user = m.group(1).strip(), m.group(2).strip()
    for key, value in values.items():
        if "{" + key + "}" not in system + user:
            raise ConfigError(
                f"Prompt template {name}_{lang}.txt has no {{{key}}} placeholder; add it where the {key} goes"
            )
        system = system.replace("{" + key + "}", value)
        user = user.replace("{" + key + "}", value)
    return system, user


def format_passages(evidence: list[Evidence]) -> str:
    """The passages, numbered from 1, each between <passage> delimiters a document cannot close."""
    blocks = []
    for n, ev in enumerate(evidence, 1):
        p = ev.passage
        title = _TAG.sub("[passage", p.title or "").replace('"', "'")
        text = _TAG.sub("[passage", p.text.strip())
        blocks.append(f'<passage n="{n}" title="{title}" language="{p.language}">\n{text}\n</passage>')
    return "\n\n".join(blocks)


def build_messages(question: str, lang: str, evidence: list[Evidence], folder=None) -> list:
    """The chat messages sent to the LLM for a question and its retrieved evidence."""
    from llama_index.core.llms import ChatMessage

    system, user = render(lang, "generate", folder, passages=format_passages(evidence), question=question.strip())
    return [ChatMessage(role="system", content=system), ChatMessage(role="user", content=user)]


# -- statements and their [n] markers -----------------------------------------------------------

_MARKER = re.compile(
    r"\[\s*(?:passages?|sources?|p\.?)?\s*(\d{1,3}(?:\s*(?:,|;|-|–|and|et)\s*\d{1,3})*)\s*\]", re.IGNORECASE
)
_LEADING_MARKERS = re.compile(r"^(?:\s*" + _MARKER.pattern + r")+", re.IGNORECASE)
_BULLET = re.compile(r"^\s*(?:[-*•]|\d{1,2}[.)])\s+")


def _numbers(group: str) -> list[int]:
    out: list[int] = []
    for part in re.split(r"\s*(?:,|;|and|et)\s*", group):
        ends = [int(x) for x in re.split(r"\s*[-–]\s*", part) if x.strip().isdigit()]
        if len(ends) == 2 and 0 < ends[1] - ends[0] <= 10:
            out.extend(range(ends[0], ends[1] + 1))
        else:
            out.extend(ends)
    return out


def markers(text: str) -> list[int]:
    """Passage numbers cited in a text, in order, without repeats.

    >>> markers("Peru trained judges [2] and prosecutors [1, 3][passage 2].")
    [2, 1, 3]
    """
    out: list[int] = []
    for m in _MARKER.finditer(text):
        for n in _numbers(m.group(1)):
            if n not in out:
                out.append(n)
    return out


def strip_markers(text: str) -> str:
    """The text without its [n] markers, spaces tidied.

    >>> strip_markers("Peru trained judges [2] .")
    'Peru trained judges.'
    """
    text = _MARKER.sub("", text)
    text = re.sub(r"\s+([.,;:!?…])", r"\1", text)
    return " ".join(text.split())


def split_statements(text: str) -> list[tuple[int, Statement]]:
    """(line number, Statement with the raw [n] it cites) for each sentence of a generated answer.

    A marker written after the sentence's full stop ("... training. [1]") belongs to that sentence.

    >>> [(i, s.text, s.citations) for i, s in split_statements("Peru adapted its training [1]. It used scenarios. [2]")]
    [(0, 'Peru adapted its training.', [1]), (0, 'It used scenarios.', [2])]
    """
    out: list[tuple[int, Statement]] = []
    for line_no, line in enumerate(text.splitlines()):
        body = _BULLET.sub("", line).strip()
        if not body:
            continue
        pieces: list[str] = []
        for a, b in split_sentences(body):
            piece = body[a:b]
            lead = _LEADING_MARKERS.match(piece)
            if lead and (pieces or out):
                # Markers opening a sentence (or a line) close the previous sentence.
                if pieces:
                    pieces[-1] += " " + lead.group(0).strip()
                else:
                    last = out[-1][1]
                    last.citations += [n for n in markers(lead.group(0)) if n not in last.citations]
                piece = piece[lead.end() :].strip()
            if piece:
                pieces.append(piece)
        for piece in pieces:
            cited = markers(piece)
            clean = strip_markers(piece)
            # Leftovers such as "Answer:" or a lone number are not statements.
            if not re.search(r"\w", clean) or (not cited and len(re.findall(r"\w{2,}", clean)) < 2):
                continue
            out.append((line_no, Statement(text=clean, citations=cited)))
    return out


# -- verification ------------------------------------------------------------------------------


def verify_generated(
    question: str, lang: Language, text: str, evidence: list[Evidence], scorer: cite.SupportScorer
) -> Answer:
    """The generated `text` checked statement by statement against the passages it cites.

    Markers that point to no passage are dropped; a statement is kept when one of its cited
    passages supports it (scorer at or above its threshold), with only the supporting passages
    cited; each kept citation quotes the passage sentence that supports the statement best, so
    quotes stay verbatim in their documents. Unsupported statements leave the answer text and
    stay in `statements` with supported=False and no citations. Citations are renumbered 1..N
    in order of first use. No fallback is decided here (see generate_answer).
    """
    parsed = split_statements(text)
    sentences = [_eligible_sentences(ev) for ev in evidence]
    citations: list[Citation] = []
    by_span: dict[tuple[int, int], int] = {}
    statements: list[Statement] = []
    kept_lines: dict[int, list[str]] = {}
    for line_no, st in parsed:
        cited = [n for n in st.citations if 1 <= n <= len(evidence)]
        new_ns: list[int] = []
        if not is_instruction(st.text):
            for n in cited:
                span = _support(scorer, st.text, evidence[n - 1], sentences[n - 1])
                if span is None:
                    continue
                ev, (a, b) = evidence[n - 1], span
                key = (n, a)
                if key not in by_span:
                    quote = ev.passage.text[a:b]
                    c = cite.citation(len(citations) + 1, ev, quote, ev.passage.start + a, ev.passage.start + b)
                    citations.append(c)
                    by_span[key] = c.n
                if by_span[key] not in new_ns:
                    new_ns.append(by_span[key])
        if new_ns:
            statements.append(Statement(text=st.text, citations=new_ns, supported=True))
            kept_lines.setdefault(line_no, []).append(_with_markers(st.text, new_ns))
        else:
            statements.append(Statement(text=st.text, citations=[], supported=False))
    answer_text = "\n".join(" ".join(parts) for _, parts in sorted(kept_lines.items()))
    return Answer(
        question=question,
        language=lang,
        abstained=False,
        answer=answer_text,
        citations=citations,
        statements=statements,
        mode="generative",
    )


def _eligible_sentences(ev: Evidence) -> list[tuple[int, int]]:
    text = ev.passage.text
    return [(a, b) for a, b in split_sentences(text) if not is_instruction(text[a:b])]


def _support(
    scorer: cite.SupportScorer, statement: str, ev: Evidence, spans: list[tuple[int, int]]
) -> tuple[int, int] | None:
    """The span of the passage sentence that best supports the statement, or None if the passage does not."""
    if not spans:
        return None
    text = ev.passage.text
    scored = [(scorer.score(statement, text[a:b]), (a, b)) for a, b in spans]
    best, span = max(scored, key=lambda x: x[0])
    if best >= scorer.threshold:
        return span
    # A statement may sum up several sentences: judge it against the passage (instructions left out) too.
    if len(spans) > 1 and scorer.score(statement, " ".join(text[a:b] for a, b in spans)) >= scorer.threshold:
        return span
    return None


def _with_markers(text: str, ns: list[int]) -> str:
    marks = "".join(f"[{n}]" for n in ns)
    m = re.search(r"[.!?…]+[»”\"')]*$", text)
    if m:
        return f"{text[: m.start()]} {marks}{text[m.start() :]}"
    return f"{text} {marks}"


# -- the generative answer -----------------------------------------------------------------------


def generate_answer(assistant, question: str, lang: Language, info, evidence: list[Evidence], result: Answer) -> Answer:
    """A generated, verified answer; the extractive `result` with a note when it cannot be verified or generated.

    >>> from assistant.pipeline import Assistant  # doctest: +SKIP
    >>> Assistant().ask("How did Peru adapt its training?", mode="generative").mode  # doctest: +SKIP
    'generative'
    """
    answer = None
    for item in stream_answer(assistant, question, lang, info, evidence, result, stream=False):
        if isinstance(item, Answer):
            answer = item
    assert answer is not None
    return answer


def stream_answer(
    assistant, question: str, lang: Language, info, evidence: list[Evidence], result: Answer, *, stream: bool = True
) -> Iterator[str | Answer]:
    """Yield the LLM's text as it comes (unverified, for display), then the verified Answer last.

    The chat shows the deltas while they arrive and replaces them with the final Answer, whose
    text holds only the statements that passed verification (or the extractive fallback).
    """
    settings = assistant.settings
    folder = settings.paths.prompts
    asked = (getattr(info, "text", None) or question).strip()
    messages = build_messages(asked, lang, evidence, folder)
    started = time.perf_counter()
    parts: list[str] = []
    try:
        if stream:
            for delta in chat_stream(settings.llm, messages):
                parts.append(delta)
                yield delta
        else:
            parts.append(chat(settings.llm, messages))
    except LLMUnavailable as err:
        log.warning("%s", err)
        yield fallback(result, lang, "unavailable", str(err), folder)
        return
    generated = "".join(parts)
    log.info("generated %d characters in %.1f s", len(generated), time.perf_counter() - started)
    answer = finish(assistant, question, lang, generated, evidence, result)
    if answer.mode == "generative":
        answer = translate_quotes(assistant, lang, answer)
    yield answer


def finish(
    assistant, question: str, lang: Language, generated: str, evidence: list[Evidence], result: Answer
) -> Answer:
    """Verify a generated text; fall back to the extractive `result` when too little of it holds."""
    s = assistant.settings
    scorer = cite.SupportScorer(assistant.embedder, threshold=SUPPORT_THRESHOLD)
    answer = verify_generated(question, lang, generated, evidence, scorer)
    total = len(answer.statements)
    kept = sum(1 for st in answer.statements if st.supported)
    if not answer.citations or not total or kept / total < s.llm.min_supported:
        out = fallback(result, lang, "unverified", f"{kept} of {total} generated statements supported", s.paths.prompts)
        # The rejected statements stay visible to the UI and the logs, after the extractive ones.
        out.statements = list(result.statements) + [st for st in answer.statements if not st.supported]
        return out
    return answer


# -- quotes in the other language -----------------------------------------------------------------

_NUMBERED = re.compile(r"^\s*[-*]?\s*\[(\d{1,3})\]\s*[:.)-]?\s*(.+?)\s*$")


def translate_quotes(assistant, lang: str, answer: Answer) -> Answer:
    """The generated answer with a machine translation beside each quote in the other language: the
    LLM translates them in one call; a translation is kept only when it says what its quote says
    (same figures and countries, vectors as close as a faithful translation's), and is marked as machine-made. When
    the LLM fails, the answer is returned as it was."""
    foreign = [c for c in answer.citations if c.language != lang]
    if not foreign:
        return answer
    folder = assistant.settings.paths.prompts
    quotes = "\n".join(f"[{c.n}] " + _TAG.sub("[passage", " ".join(c.quote.split())) for c in foreign)
    from llama_index.core.llms import ChatMessage

    system, user = render(lang, "translate", folder, quotes=quotes)
    try:
        reply = chat(
            assistant.settings.llm, [ChatMessage(role="system", content=system), ChatMessage(role="user", content=user)]
        )
    except LLMUnavailable as err:
        log.warning("%s", err)
        return answer
    return attach_translations(answer, lang, parse_translations(reply), assistant.embedder, folder)


def parse_translations(reply: str) -> dict[int, str]:
    """{n: translation} from the LLM's "[n] text" lines.

    >>> parse_translations("[2] Peru trained judges.\nnoise\n[3]: It used scenarios.")
    {2: 'Peru trained judges.', 3: 'It used scenarios.'}
    """
    out: dict[int, str] = {}
    for line in reply.splitlines():
        m = _NUMBERED.match(line)
        if m and int(m.group(1)) not in out:
            out[int(m.group(1))] = m.group(2).strip(' "«»“”')
    return out


def attach_translations(answer: Answer, lang: str, translations: dict[int, str], embedder, folder=None) -> Answer:
    """Each other-language citation whose translation says what the quote says (cite.same_content)
    gets it, marked as a machine translation under the answer; the others get none. Instructions
    are never kept."""
    lines = []
    citations = []
    for c in answer.citations:
        text = translations.get(c.n)
        if c.language != lang and text and not is_instruction(text) and cite.same_content(embedder, text, c.quote):
            c = replace(c, translation=text)
            lines.append(
                f"- « {' '.join(c.quote.split())} » [{c.n}] — "
                + prompts.text(lang, "labels.machine_translation", folder)
                + f" “{' '.join(text.split())}”"
            )
        citations.append(c)
    if not lines:
        return answer
    text = answer.answer + "\n\n" + prompts.text(lang, "labels.translated_quotes", folder) + "\n" + "\n".join(lines)
    return replace(answer, answer=text, citations=citations)


def fallback(result: Answer, lang: str, why: str, detail: str, folder=None) -> Answer:
    """The extractive answer under a note saying why the generated one is not shown."""
    key = "labels.llm_unavailable" if why == "unavailable" else "labels.fallback"
    try:
        note = prompts.text(lang, key, folder)
    except ConfigError:
        note = prompts.text(lang, "labels.fallback", folder)
    return replace(
        result,
        answer=f"{note}\n\n{result.answer}",
        mode="generative-fallback",
        reason=f"generative-fallback:{why}: {detail}",
        statements=list(result.statements),
    )


# -- follow-up questions ------------------------------------------------------------------------


def condense(assistant, question: str, history: list[tuple[str, str]] | None, fallback: str | None = None) -> str:
    """A follow-up read as a standalone question by the LLM; the rule-based reading when the LLM fails.

    >>> condense(assistant, "And in Jordan?", [("How did Peru train judges?", "...")])  # doctest: +SKIP
    'How did Jordan train judges?'
    """
    fallback = fallback or question
    if not history:
        return question
    lang = question_language(question)
    turns = []
    for q, a in history[-3:]:
        answer = " ".join(strip_markers(a or "").split())
        turns.append(f"- Q: {q.strip()}\n  A: {answer[:300]}")
    system, user = render(
        lang, "condense", assistant.settings.paths.prompts, history="\n".join(turns), question=question.strip()
    )
    from llama_index.core.llms import ChatMessage

    try:
        reply = chat(
            assistant.settings.llm, [ChatMessage(role="system", content=system), ChatMessage(role="user", content=user)]
        )
    except LLMUnavailable as err:
        log.warning("%s", err)
        return fallback
    standalone = _one_question(reply, question)
    return standalone or fallback


def _one_question(reply: str, question: str) -> str | None:
    """The first line of the reply, unquoted; None when it does not look like a question of sensible length."""
    line = next((ln.strip() for ln in reply.splitlines() if ln.strip()), "")
    line = re.sub(
        r"^(?:rewritten question|question réécrite|standalone question|question)\s*:\s*", "", line, flags=re.IGNORECASE
    )
    line = line.strip(" \"'«»“”`*")
    if len(re.findall(r"\w{2,}", line)) < 2 or len(line) > 2 * len(question) + 200:
        return None
    return line
