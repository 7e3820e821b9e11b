"""The Gradio app: chat with cited sources, comparable practices and corpus coverage, a thin layer over Assistant."""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import html
import json
import logging
import math
import os
import re
import secrets
import threading
import time
from collections import Counter
from collections.abc import Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import closing
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path

import gradio as gr
from starlette.middleware import Middleware

from . import cite, explore, feedback, prompts, store, tag
from .errors import AssistantError, ConfigError
from .types import Answer, Citation, Filters

log = logging.getLogger(__name__)

LANGUAGES = ("en", "fr")
WINDOW_CHARS = 450  # context shown on each side of a cited quote in the source panel
PBKDF2_ITERATIONS = 600_000
TARPIT_S = 1.0  # longest delay before telling a backing-off client to wait
STREAM_INTERVAL_S = 0.1  # at most ten chat updates a second while the LLM writes an answer


# -- words -------------------------------------------------------------------------------------


def _ui_file(folder: str, lang: str) -> dict:
    return prompts.load_toml(folder, f"ui_{lang}")


class Labels:
    """The interface's words in one language, from prompts/ui_<lang>.toml.

    >>> Labels("fr")("chat.ask")
    'Demander'
    """

    def __init__(self, lang: str, folder: Path | None = None):
        self.lang = lang if lang in LANGUAGES else "en"
        self.folder = str(folder or prompts.DEFAULT_DIR)
        self.data = _ui_file(self.folder, self.lang)

    def __call__(self, key: str, **values) -> str:
        node = self.data
        for part in key.split("."):
            if not isinstance(node, dict) or part not in node:
                raise ConfigError(f"Label file {self.folder}/ui_{self.lang}.toml has no '{key}'")
            node = node[part]
        return node.format(**values) if values else node

    def country(self, code: str) -> str:
        try:
            return tag.country_label(code, self.lang)
        except ValueError:
            return code

    def theme(self, slug: str) -> str:
        try:
            return tag.theme_label(slug, self.lang)
        except ValueError:
            return slug

    def language_name(self, code: str) -> str:
        return prompts.text(self.lang, f"labels.language_{code}") if code in LANGUAGES else code


# -- escaping ----------------------------------------------------------------------------------

# The chat renders messages as Markdown: besides HTML, neutralise what Markdown would turn into
# emphasis, links, code, maths or autolinks. Numeric references are never read as syntax.
_MD_SAFE = {c: f"&#{ord(c)};" for c in "\\`*_{}[]()#+!|~$:.@=-"}
_MD_SAFE.update({"&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#x27;", "\n": " ", "\r": " "})
_MD_TABLE = str.maketrans(_MD_SAFE)


def md_safe(text: str) -> str:
    """Text (from a document or a user) as inert HTML inside a Markdown message.

    >>> md_safe("<b>*x*</b>")
    '&lt;b&gt;&#42;x&#42;&lt;/b&gt;'
    """
    return str(text).translate(_MD_TABLE)


def esc(text) -> str:
    """Text as inert HTML (for gr.HTML panels, which do not read Markdown)."""
    return html.escape(str(text), quote=True)


def _plain(text) -> str:
    """Text for an exported Markdown file: markup made inert, apostrophes left readable."""
    return html.escape(str(text), quote=False)


# -- one exchange of the conversation ----------------------------------------------------------


@dataclass
class Turn:
    question: str
    answer: Answer | None = None
    error: str | None = None  # the message shown instead of an answer
    filters: Filters = field(default_factory=Filters)


def _cite_link(kind: str, t: int, n: int, label: str, title: str) -> str:
    return f'<a class="cite" href="#{kind}-{t}-{n}" title="{esc(title)}">{label}</a>'


def _inline(text: str, t: int, known: set[int], L: Labels) -> str:
    """A line of an answer: citation markers become links, except inside a «quote» (a source's own [3])."""
    out, pos, depth = [], 0, 0
    for m in re.finditer(r"«|»|\[(\d+)\]", text):
        out.append(md_safe(text[pos : m.start()]))
        token = m.group(0)
        if token == "«":
            depth += 1
        elif token == "»":
            depth = max(0, depth - 1)
        if m.group(1) and depth == 0 and int(m.group(1)) in known:
            n = int(m.group(1))
            out.append(_cite_link("cite", t, n, f"[{n}]", L("answer.cite_hint", n=n)))
        else:
            out.append(md_safe(token))
        pos = m.end()
    out.append(md_safe(text[pos:]))
    return "".join(out)


def _where(c: Citation, L: Labels) -> str:
    bits = [c.section or "", c.action or "", ", ".join(L.country(x) for x in c.countries[:4]), str(c.year or "")]
    return " · ".join(b for b in bits if b)


def render_answer(t: int, answer: Answer, L: Labels) -> str:
    """One answer as chat HTML: the text with numbered links, then its sources (or the abstention box)."""
    if answer.abstained:
        return render_abstention(t, answer, L)
    known = {c.n for c in answer.citations}
    parts = ['<div class="answer">']
    if answer.interpreted_as:
        parts.append(f'<p class="read-as">↪ {md_safe(L("answer.interpreted_as", question=answer.interpreted_as))}</p>')
    items: list[str] = []

    def flush():
        if items:
            parts.append("<ul>" + "".join(items) + "</ul>")
            items.clear()

    for line in answer.answer.splitlines():
        line = line.strip()
        if not line:
            continue
        if line.startswith(("- ", "* ")):
            items.append(f"<li>{_inline(line[2:], t, known, L)}</li>")
            continue
        flush()
        header = re.fullmatch(r"\*\*(.+?)\*\*(.*)", line)
        if header:
            parts.append(f'<p class="group"><strong>{md_safe(header.group(1))}</strong>{_inline(header.group(2), t, known, L)}</p>')
        else:
            parts.append(f"<p>{_inline(line, t, known, L)}</p>")
    flush()
    if answer.citations:
        parts.append(f'<div class="sources"><p class="sources-h">{md_safe(L("answer.sources"))}</p><ol>')
        for c in answer.citations:
            where = _where(c, L)
            parts.append(
                f"<li>{_cite_link('cite', t, c.n, f'[{c.n}]', L('answer.cite_hint', n=c.n))} "
                f'{_cite_link("cite", t, c.n, md_safe(c.title), c.source)}'
                + (f' <span class="where">— {md_safe(where)}</span>' if where else "") + "</li>"
            )
        parts.append("</ol></div>")
    parts.append("</div>")
    return "".join(parts)


def render_abstention(t: int, answer: Answer, L: Labels) -> str:
    message = answer.answer.split("\n\n")[0].strip()
    parts = [
        '<div class="abstain">',
        f'<p class="abstain-h"><span class="icon">⊘</span> {md_safe(L("answer.not_in_corpus"))}</p>',
    ]
    if answer.interpreted_as:
        parts.append(f'<p class="read-as">↪ {md_safe(L("answer.interpreted_as", question=answer.interpreted_as))}</p>')
    parts.append(f"<p>{md_safe(message)}</p>")
    if answer.related:
        parts.append(f'<div class="related"><p class="related-h">{md_safe(L("answer.related"))}</p><ul>')
        for c in answer.related:
            parts.append(
                f"<li>{_cite_link('rel', t, c.n, f'[{c.n}]', L('answer.cite_hint', n=c.n))} "
                f"« {md_safe(c.quote)} » — {_cite_link('rel', t, c.n, md_safe(c.title), c.source)}</li>"
            )
        parts.append("</ul></div>")
    parts.append("</div>")
    return "".join(parts)


def render_error(message: str, L: Labels) -> str:
    return (f'<div class="failure"><p class="failure-h"><span class="icon">⚠</span> {md_safe(L("answer.error_title"))}</p>'
            f"<p>{md_safe(message)}</p></div>")


def render_writing(text: str, L: Labels) -> str:
    """The LLM's answer while it is written: inert text under a note that it is not verified yet."""
    lines = "".join(f"<p>{md_safe(line.strip())}</p>" for line in text.splitlines() if line.strip())
    return f'<div class="writing"><p class="writing-h">{md_safe(L("answer.writing"))}</p>{lines}</div>'


def messages(turns: list[Turn], L: Labels, pending: str | None = None, writing: str | None = None) -> list[dict]:
    """The conversation in the Chatbot's message format; `writing` is the pending question's answer so far."""
    out = []
    for t, turn in enumerate(turns):
        out.append({"role": "user", "content": md_safe(turn.question)})
        if turn.answer is not None:
            out.append({"role": "assistant", "content": render_answer(t, turn.answer, L)})
        else:
            out.append({"role": "assistant", "content": render_error(turn.error or "", L)})
    if pending is not None:
        out.append({"role": "user", "content": md_safe(pending)})
        if writing is not None:
            out.append({"role": "assistant", "content": render_writing(writing, L)})
    return out


def throttled(items: Iterable[str | Answer], interval: float = STREAM_INTERVAL_S) -> Iterator[str | Answer]:
    """Text deltas then an Answer (as Assistant.stream_ask yields them) as the whole text so far, at most
    once every `interval` seconds, then the Answer.

    >>> list(throttled(["Peru ", "trained ", "judges."], interval=60))
    ['Peru ']
    """
    text, shown = "", float("-inf")
    for item in items:
        if isinstance(item, Answer):
            yield item
            continue
        text += item
        now = time.monotonic()
        if now - shown >= interval:
            shown = now
            yield text


# -- the source panel --------------------------------------------------------------------------


def find_citation(turns: list[Turn], key: str) -> Citation | None:
    """The citation a link points at: "cite-<turn>-<n>" or "rel-<turn>-<n>" (related material)."""
    m = re.fullmatch(r"(cite|rel)-(\d+)-(\d+)", (key or "").strip())
    if not m:
        return None
    t, n = int(m.group(2)), int(m.group(3))
    if t >= len(turns) or turns[t].answer is None:
        return None
    pool = turns[t].answer.citations if m.group(1) == "cite" else turns[t].answer.related
    return next((c for c in pool if c.n == n), None)


def _window(text: str, start: int, end: int, size: int = WINDOW_CHARS) -> tuple[int, int]:
    """Bounds of the context around [start, end): about `size` characters each side, cut at a paragraph
    break in the outer two thirds of that context, else at a space."""
    a = max(0, start - size)
    b = min(len(text), end + size)
    if a > 0:
        para = text.find("\n\n", a, max(a, start - size // 3))
        a = para + 2 if para >= 0 else (text.find(" ", a, start) + 1 or a)
    if b < len(text):
        para = text.rfind("\n\n", min(b, end + size // 3), b)
        space = text.rfind(" ", end, b)
        b = para if para >= 0 else (space if space > end else b)
    return a, b


def render_source(assistant, c: Citation | None, L: Labels) -> str:
    """The cited passage highlighted in its surrounding text, the document's details, and the whole document."""
    if c is None:
        return f'<div class="source empty">{esc(L("source.empty"))}</div>'
    try:
        text, note = _quoted_text(assistant, c, L)
    except AssistantError as err:
        return f'<div class="source failure">{esc(err)}</div>'
    meta = [
        ("source.action", c.action),
        ("source.countries", ", ".join(L.country(x) for x in c.countries)),
        ("source.section", c.section),
        ("source.year", c.year),
        ("source.language", L.language_name(c.language)),
        ("source.document", f"corpus/{c.source}"),
    ]
    rows = "".join(f"<dt>{esc(L(k))}</dt><dd>{esc(v)}</dd>" for k, v in meta if v)
    head = (f'<div class="source"><p class="src-title"><span class="src-n">[{c.n}]</span> {esc(c.title)}</p>'
            f'<dl class="src-meta">{rows}</dl>')
    if not text:
        return head + f'<p class="failure">{esc(L("source.missing"))}</p></div>'
    span = _quote_span(c, text)
    if span is None:
        why = L("source.changed_gone") if note else L("source.not_located")
        return head + f'<blockquote class="src-window">{esc(c.quote)}</blockquote><p class="note">{esc(why)}</p></div>'
    if note:
        head += f'<p class="note">{esc(note)}</p>'
    start, end = span
    a, b = _window(text, start, end)
    window = (("… " if a > 0 else "") + esc(text[a:start]) + f"<mark>{esc(text[start:end])}</mark>"
              + esc(text[end:b]) + (" …" if b < len(text) else ""))
    full = esc(text[:start]) + f'<mark class="in-doc">{esc(text[start:end])}</mark>' + esc(text[end:])
    return (head + f'<blockquote class="src-window">{window}</blockquote>'
            f'<details class="src-full"><summary>{esc(L("source.open_full", chars=f"{len(text):,}".replace(",", " ")))}</summary>'
            f'<div class="doc-text">{full}</div></details></div>')


def _quoted_text(assistant, c: Citation, L: Labels) -> tuple[str | None, str]:
    """The document text a citation's offsets refer to, and a note when it is not that text any more.

    A citation is pinned to the generation it quoted; that text is used while the catalog keeps it.
    Once that generation is gone, the live text stands in, with a note if the document changed.
    """
    if c.generation:
        pinned = assistant.document_text(c.source, c.generation)
        if pinned is not None:
            return pinned, ""
    text = assistant.document_text(c.source)
    if text and c.generation and not _at_offsets(c, text):
        return text, L("source.changed")
    return text, ""


def _at_offsets(c: Citation, text: str) -> bool:
    return c.start is not None and c.end is not None and cite.fold_ws(text[c.start : c.end]) == cite.fold_ws(c.quote)


def _quote_span(c: Citation, text: str) -> tuple[int, int] | None:
    if c.start is not None and c.end is not None and text[c.start : c.end].strip() and (
            c.generation is None or _at_offsets(c, text)):
        return c.start, c.end
    return cite.locate(c.quote, text)


# -- comparable practices and coverage ---------------------------------------------------------


def render_practices(groups: list[explore.PracticeGroup], L: Labels, excluded: str = "") -> str:
    if not groups:
        return f'<div class="practices empty">{esc(L("similar.none"))}</div>'
    n = sum(len(g.passages) for g in groups)
    parts = [f'<div class="practices"><p class="practices-h">{esc(L("similar.heading", n=n, groups=len(groups)))}</p>']
    if excluded:
        parts.append(f'<p class="note">{esc(L("similar.excluded", what=excluded))}</p>')
    for g in groups:
        facts = [
            (L("similar.countries"), ", ".join(L.country(c) for c in g.countries)),
            (L("similar.years"), g.years or ""),
            (L("similar.themes"), ", ".join(L.theme(t) for t in g.themes[:5])),
        ]
        parts.append(f'<div class="practice"><p class="practice-h">{esc(g.action or L("similar.no_action"))}</p>')
        parts.append('<p class="practice-facts">' + "".join(
            f"<span><b>{esc(k)}</b> {esc(v)}</span>" for k, v in facts if v) + "</p><ul>")
        for c in g.passages:
            where = " · ".join(x for x in (c.title, c.section or "", str(c.year or "")) if x)
            parts.append(f'<li><blockquote>{esc(c.quote)}</blockquote><p class="practice-src">{esc(where)} — corpus/{esc(c.source)}</p></li>')
        parts.append("</ul></div>")
    parts.append("</div>")
    return "".join(parts)


def coverage_frame(cov: explore.Coverage, L: Labels):
    """The coverage table with translated headers: one row per country, one column per theme."""
    import pandas as pd

    columns = [L("coverage.country")] + [L.theme(t) for t in cov.themes] + [L("coverage.total")]
    rows = [[L.country(c)] + cov.table()[i] + [cov.totals.get(c, 0)] for i, c in enumerate(cov.countries)]
    return pd.DataFrame(rows, columns=columns)


def coverage_figure(cov: explore.Coverage, L: Labels, top: int = 30):
    """A country × theme heat map of the `top` most documented countries: pale cells are where the corpus is thin."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import numpy as np

    countries = cov.countries[:top]
    data = np.array(cov.table()[:top] or [[0]], dtype=float)
    fig, ax = plt.subplots(figsize=(max(6.0, 0.6 * len(cov.themes) + 3), max(3.0, 0.3 * len(countries) + 2.4)))
    im = ax.imshow(data, cmap="Blues", aspect="auto", vmin=0)
    ax.set_xticks(range(len(cov.themes)), [L.theme(t) for t in cov.themes], rotation=40, ha="right", fontsize=8)
    ax.set_yticks(range(len(countries)), [L.country(c) for c in countries], fontsize=8)
    high = data.max() or 1
    for i in range(len(countries)):
        for j in range(len(cov.themes)):
            v = int(data[i, j])
            if v:
                ax.text(j, i, str(v), ha="center", va="center", fontsize=7, color="white" if v > high * 0.55 else "#1f2937")
    fig.colorbar(im, ax=ax, fraction=0.03, pad=0.02, label=L("coverage.y"))
    fig.tight_layout()
    plt.close(fig)
    return fig


# -- export ------------------------------------------------------------------------------------


def export_markdown(turns: list[Turn], L: Labels) -> str:
    """The conversation as Markdown with each answer's citations (document text HTML-escaped)."""
    now = datetime.now(timezone.utc).astimezone().strftime("%Y-%m-%d %H:%M")
    out = [f"# {L('export.title')}", "", f"_{L('export.exported', time=now)}_", ""]
    for i, turn in enumerate(turns, 1):
        out += [f"## {i}. {_plain(turn.question)}", ""]
        if not turn.filters.is_empty():
            out += [f"_{L('export.filters')}: {_plain(_filters_text(turn.filters, L))}_", ""]
        if turn.answer is None:
            out += [f"> ⚠ {_plain(turn.error or '')}", ""]
            continue
        a = turn.answer
        if a.interpreted_as:
            out += [f"_{L('export.interpreted_as')}: {_plain(a.interpreted_as)}_", ""]
        out += [_plain(a.answer), ""]
        cited = a.related if a.abstained else a.citations
        if cited:
            out += [f"### {L('export.related') if a.abstained else L('export.sources')}", ""]
            for c in cited:
                where = _where(c, L)
                out.append(f"{c.n}. **{_plain(c.title)}**" + (f" — {_plain(where)}" if where else "") + f" — `corpus/{c.source}`")
                out.append(f"   > « {_plain(' '.join(c.quote.split()))} »")
            out.append("")
    return "\n".join(out).rstrip() + "\n"


def write_atomic(folder: Path, name: str, text: str) -> Path:
    """Write folder/name whole or not at all (see store.write_atomic)."""
    return store.write_atomic(folder / name, text)


def _filters_text(f: Filters, L: Labels) -> str:
    bits = [", ".join(L.country(c) for c in f.countries), L.language_name(f.language) if f.language else "",
            ", ".join(f.sources), ", ".join(str(y) for y in f.years), f.action or ""]
    return " · ".join(b for b in bits if b)


# -- login -------------------------------------------------------------------------------------


def hash_password(password: str, *, salt: bytes | None = None, iterations: int = PBKDF2_ITERATIONS) -> str:
    """A line's hash part for chat.auth_file: pbkdf2_sha256$<iterations>$<salt>$<digest> (base64).

    >>> hash_password("s3cret", salt=b"0123456789abcdef", iterations=1000).split("$")[:2]
    ['pbkdf2_sha256', '1000']
    """
    salt = salt or secrets.token_bytes(16)
    digest = hashlib.pbkdf2_hmac("sha256", password.encode(), salt, iterations)
    return f"pbkdf2_sha256${iterations}${base64.b64encode(salt).decode()}${base64.b64encode(digest).decode()}"


def load_auth(path: Path | str):
    """A login check for launch(auth=...) from a file of 'user:pbkdf2-hash' lines ('#' starts a comment).

    The check is a coroutine: Gradio awaits it, and the deliberately slow PBKDF2 runs on a thread of
    its own, one check at a time, so that a flood of wrong passwords never holds the event loop (nor
    more than one core). An unknown user name costs a PBKDF2 of the same strength as a known one:
    the time of a refusal does not tell which names exist.
    """
    path = Path(path)
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except OSError as err:
        raise ConfigError(f"Cannot read chat.auth_file {path}: {err.strerror}; create it with `assistant passwd USER >> {path}`") from None
    users: dict[str, tuple[int, bytes, bytes]] = {}
    for number, line in enumerate(lines, 1):
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        user, _, hashed = line.partition(":")
        parts = hashed.split("$")
        try:
            if len(parts) != 4 or parts[0] != "pbkdf2_sha256" or not user:
                raise ValueError
            users[user] = (int(parts[1]), base64.b64decode(parts[2]), base64.b64decode(parts[3]))
        except ValueError:
            raise ConfigError(
                f"Cannot read chat.auth_file {path}, line {number}: expected 'user:pbkdf2_sha256$iterations$salt$hash' "
                "(make one with `assistant passwd USER`)"
            ) from None
    if not users:
        raise ConfigError(f"chat.auth_file {path} holds no user; add one with `assistant passwd USER >> {path}`")
    iterations = Counter(entry[0] for entry in users.values()).most_common(1)[0][0]
    nobody = (iterations, secrets.token_bytes(16), secrets.token_bytes(32))  # never matches
    checker = ThreadPoolExecutor(max_workers=1, thread_name_prefix="login-check", initializer=_low_priority)

    def verify(user: str, password: str) -> bool:
        rounds, salt, digest = users.get(user, nobody)
        same = hmac.compare_digest(hashlib.pbkdf2_hmac("sha256", password.encode("utf-8", "surrogatepass"), salt, rounds), digest)
        return same and user in users

    async def check(user: str, password: str) -> bool:
        return await asyncio.get_running_loop().run_in_executor(checker, verify, user, password)

    return check


def _low_priority() -> None:
    # The password checks take CPU only when the chat's own threads leave some (Linux: per thread).
    try:
        os.setpriority(os.PRIO_PROCESS, threading.get_native_id(), 19)
    except (AttributeError, OSError):
        pass


class LoginGuard:
    """Back-off per client (IP address) after wrong logins: while a client waits, its attempts are
    refused at once, without a password check.

    The first `attempts` wrong passwords cost nothing more; after that each attempt must wait
    `first_s` seconds, doubling with each further failure up to `most_s`. A right password resets it.
    At most `queue` checks wait at once, whoever sends them.

    >>> g = LoginGuard(attempts=1, first_s=1.0)
    >>> g.admit("10.0.0.1"), g.done("10.0.0.1", False), g.admit("10.0.0.1") > 0
    (0.0, None, True)
    """

    def __init__(self, attempts: int = 5, first_s: float = 1.0, most_s: float = 300.0, queue: int = 16):
        self.attempts, self.first_s, self.most_s, self.queue = attempts, first_s, most_s, queue
        self._clients: dict[str, list] = {}  # address -> [failures, not before (monotonic), checks under way]
        self._pending = 0
        self._lock = threading.Lock()

    def admit(self, client: str) -> float:
        """0.0 if the client may try now (the attempt is then counted as under way), else seconds to wait."""
        now = time.monotonic()
        with self._lock:
            state = self._clients.setdefault(client, [0, 0.0, 0])
            failures, not_before, pending = state
            if now < not_before:
                return not_before - now
            # Past its free attempts a client tries one password at a time.
            if failures + pending >= self.attempts and pending:
                return self.first_s
            if self._pending >= self.queue:
                return self.first_s
            state[2] += 1
            self._pending += 1
            return 0.0

    def done(self, client: str, ok: bool) -> None:
        """The outcome of an admitted attempt."""
        now = time.monotonic()
        with self._lock:
            self._pending -= 1
            state = self._clients.get(client)
            if state is None:
                return
            state[2] -= 1
            if ok:
                del self._clients[client]
                return
            state[0] += 1
            if state[0] >= self.attempts:
                state[1] = now + min(self.most_s, self.first_s * 2 ** (state[0] - self.attempts))
            if len(self._clients) > 10_000:
                # Forget clients whose last wait ended long ago (their next failure starts over).
                stale = [c for c, (_, until, busy) in self._clients.items() if not busy and until + self.most_s < now]
                for c in stale:
                    del self._clients[c]

    def help(self, L: Labels) -> str:
        return L("login.help", attempts=self.attempts, first=f"{self.first_s:g}", most=f"{self.most_s:g}")


class LoginBackoff:
    """ASGI middleware in front of Gradio's POST /login: applies a LoginGuard per client address."""

    def __init__(self, app, guard: LoginGuard, labels_folder: Path | None = None):
        self.app = app
        self.guard = guard
        self.labels_folder = labels_folder

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http" or scope.get("method") != "POST" or scope.get("path", "").rstrip("/") != "/login":
            return await self.app(scope, receive, send)
        client = (scope.get("client") or ("unknown", 0))[0]
        wait = self.guard.admit(client)
        if wait:
            seconds = max(1, math.ceil(wait))
            # Answered slowly (the event loop is free meanwhile): a client that ignores Retry-After
            # and retries at once cannot flood the server with refusals.
            await asyncio.sleep(min(wait, TARPIT_S))
            languages = dict(scope.get("headers") or []).get(b"accept-language", b"").decode("latin-1").lower()
            L = Labels("fr" if languages.startswith("fr") else "en", self.labels_folder)
            body = json.dumps({"detail": L("login.backoff", seconds=seconds)}, ensure_ascii=False).encode()
            await send({"type": "http.response.start", "status": 429,
                        "headers": [(b"content-type", b"application/json; charset=utf-8"), (b"retry-after", str(seconds).encode()),
                                    (b"content-length", str(len(body)).encode())]})
            await send({"type": "http.response.body", "body": body})
            return
        answer: dict = {}

        async def watch(message):
            if message["type"] == "http.response.start":
                answer["status"] = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, watch)
        finally:
            self.guard.done(client, answer.get("status") == 200)


# -- the app -----------------------------------------------------------------------------------

CSS = """
.gradio-container { max-width: 1500px !important; }
#app-title h1 { margin-bottom: 0; }
#app-title p { color: var(--body-text-color-subdued); margin-top: 4px; }
#index-status:empty { display: none; }
#cite-bridge { display: none !important; }
#chatbot .answer p, #chatbot .abstain p, #chatbot .failure p { margin: 0.3em 0; }
#chatbot .answer ul { margin: 0.2em 0 0.6em 1.2em; }
#chatbot .answer li { margin: 0.25em 0; }
#chatbot .group { margin-top: 0.7em !important; }
#chatbot a.cite, .source a.cite { text-decoration: none; }
#chatbot li a.cite:first-child, #chatbot p a.cite { display: inline-block; padding: 0 0.35em; margin: 0 0.1em;
  border-radius: 0.6em; background: #dbeafe; color: #1e40af; font-weight: 600; font-size: 0.88em; line-height: 1.35; }
#chatbot a.cite:hover { background: #bfdbfe; }
#chatbot .sources { margin-top: 0.7em; padding-top: 0.4em; border-top: 1px solid var(--border-color-primary); font-size: 0.9em; }
#chatbot .sources-h, #chatbot .related-h { font-weight: 600; color: var(--body-text-color-subdued); }
#chatbot .sources ol { list-style: none; margin: 0.2em 0 0 0; padding: 0; }
#chatbot .sources li a.cite + a.cite { color: inherit; font-weight: 500; }
#chatbot .sources .where { color: var(--body-text-color-subdued); }
#chatbot .read-as { font-style: italic; color: var(--body-text-color-subdued); font-size: 0.9em; }
#chatbot .abstain { border-left: 4px solid #d97706; background: #fffbeb; color: #451a03; padding: 0.5em 0.8em; border-radius: 6px; }
#chatbot .abstain-h { font-weight: 700; color: #b45309; }
#chatbot .abstain .icon, #chatbot .failure .icon { font-size: 1.15em; }
#chatbot .abstain .related { margin-top: 0.5em; font-size: 0.9em; color: #57534e; }
#chatbot .abstain .related a.cite:not(:first-child) { color: inherit; text-decoration: underline dotted; }
#chatbot .failure { border-left: 4px solid #dc2626; background: #fef2f2; color: #450a0a; padding: 0.5em 0.8em; border-radius: 6px; }
#chatbot .failure-h { font-weight: 700; color: #b91c1c; }
#chatbot .writing p { margin: 0.3em 0; }
#chatbot .writing-h { font-style: italic; font-size: 0.9em; color: var(--body-text-color-subdued); }
#source-panel .source { font-size: 0.92em; }
#source-panel .source.empty, .practices.empty { color: var(--body-text-color-subdued); padding: 0.6em 0; }
#source-panel .src-title { font-weight: 700; font-size: 1.05em; margin: 0 0 0.4em 0; }
#source-panel .src-n { color: #1e40af; }
#source-panel .src-meta { display: grid; grid-template-columns: max-content 1fr; gap: 0.1em 0.8em; margin: 0 0 0.6em 0; }
#source-panel .src-meta dt { color: var(--body-text-color-subdued); }
#source-panel .src-meta dd { margin: 0; }
#source-panel .src-window { white-space: pre-wrap; border-left: 3px solid #93c5fd; margin: 0; padding: 0.4em 0.8em;
  background: var(--background-fill-secondary); line-height: 1.5; }
#source-panel mark, .practice mark { background: #fde68a; color: #111827; padding: 0 0.1em; }
#source-panel .src-full { margin-top: 0.6em; }
#source-panel .src-full summary { cursor: pointer; color: #1d4ed8; }
#source-panel .doc-text { white-space: pre-wrap; max-height: 420px; overflow: auto; font-size: 0.88em;
  border: 1px solid var(--border-color-primary); padding: 0.6em; margin-top: 0.4em; }
.source .failure, .source .note, .practices .note { color: #b45309; }
.practices-h { font-weight: 600; }
.practice { border: 1px solid var(--border-color-primary); border-radius: 8px; padding: 0.6em 0.9em; margin: 0.6em 0; }
.practice-h { font-weight: 700; font-size: 1.05em; margin: 0; color: #1e3a8a; }
.practice-facts { margin: 0.2em 0 0.4em 0; font-size: 0.9em; display: flex; flex-wrap: wrap; gap: 0.3em 1em; }
.practice-facts b { color: var(--body-text-color-subdued); font-weight: 600; }
.practice ul { list-style: none; margin: 0; padding: 0; }
.practice blockquote { white-space: pre-wrap; margin: 0.3em 0 0 0; padding: 0.3em 0.7em; border-left: 3px solid #93c5fd;
  background: var(--background-fill-secondary); }
.practice-src { font-size: 0.82em; color: var(--body-text-color-subdued); margin: 0.15em 0 0.5em 0; }
"""

# Sets the interface language from the browser on load (the Python side never sees navigator).
DETECT_LANGUAGE_JS = """
() => ((navigator.language || 'en').toLowerCase().startsWith('fr') ? 'fr' : 'en')
"""

# Citations are links "#cite-<turn>-<n>" inside chat messages (the Chatbot strips data- attributes,
# not href). One document-level listener hands the clicked key to Python through this component.
BRIDGE_JS = """
if (window.__citeClick) document.removeEventListener('click', window.__citeClick, true);
window.__citeClick = (e) => {
  const a = e.target.closest && e.target.closest('a[href^="#cite-"], a[href^="#rel-"]');
  if (!a) return;
  e.preventDefault();
  e.stopPropagation();
  props.value = a.getAttribute('href').slice(1);
  trigger('click');
};
document.addEventListener('click', window.__citeClick, true);
"""

# Opening the whole document scrolls to the cited passage.
SOURCE_JS = """
element.addEventListener('toggle', (e) => {
  const d = e.target;
  if (d.open && d.querySelector) { const m = d.querySelector('mark'); if (m) m.scrollIntoView({block: 'center'}); }
}, true);
"""


class ChatApp(gr.Blocks):
    """gr.Blocks whose launch() brings the app's style (Gradio 6 takes css and theme in launch, not Blocks),
    and, with a login, the back-off on wrong passwords."""

    login_guard: LoginGuard | None = None
    labels_folder: Path | None = None

    def launch(self, *args, **kwargs):
        if kwargs.get("auth") is not None:
            guard = self.login_guard or LoginGuard()
            kwargs.setdefault("auth_message", " / ".join(guard.help(Labels(lang, self.labels_folder)) for lang in LANGUAGES))
            app_kwargs = dict(kwargs.get("app_kwargs") or {})
            app_kwargs["middleware"] = [*app_kwargs.get("middleware", []),
                                        Middleware(LoginBackoff, guard=guard, labels_folder=self.labels_folder)]
            kwargs["app_kwargs"] = app_kwargs
        kwargs.setdefault("css", CSS)
        # System fonts: the page must not fetch anything from outside (no Google Fonts).
        kwargs.setdefault("theme", gr.themes.Soft(primary_hue="blue", font=["ui-sans-serif", "system-ui", "Segoe UI", "DejaVu Sans", "sans-serif"],
                                                  font_mono=["ui-monospace", "DejaVu Sans Mono", "monospace"]))
        return super().launch(*args, **kwargs)


@dataclass
class _Choices:
    countries: list[str] = field(default_factory=list)
    documents: list[tuple[str, str]] = field(default_factory=list)  # (title, doc_id)
    years: list[int] = field(default_factory=list)
    actions: list[str] = field(default_factory=list)
    themes: list[str] = field(default_factory=list)
    problem: str = ""


def _choices(assistant) -> _Choices:
    """What the filters offer, from the catalog alone (cheap: the retriever is not built for this)."""
    try:
        docs = assistant.documents()
    except AssistantError as err:
        return _Choices(problem=str(err))
    countries = sorted({c for d in docs.values() for c in d.countries})
    themes_seen = {t for d in docs.values() for t in d.themes}
    return _Choices(
        countries=countries,
        documents=sorted(((d.title, d.doc_id) for d in docs.values()), key=lambda x: x[0].lower()),
        years=sorted({d.year for d in docs.values() if d.year}, reverse=True),
        actions=sorted({a for d in docs.values() for a in d.actions}),
        themes=[t for t in tag.THEMES if t in themes_seen],
    )


def _choice_lists(ch: _Choices, L: Labels) -> dict[str, list[tuple[str, str]]]:
    """Dropdown choices (label, value) in the interface language; values are ISO codes, doc ids, slugs."""
    countries = sorted(((L.country(c), c) for c in ch.countries), key=lambda x: x[0])
    return {
        "countries": countries,
        "languages": [(L("filters.language_any"), "any"), (L("filters.language_fr"), "fr"), (L("filters.language_en"), "en")],
        "documents": [(_short(t), d) for t, d in ch.documents],
        "years": [(str(y), str(y)) for y in ch.years],
        "actions": [(a, a) for a in ch.actions],
        "themes": [(L.theme(t), t) for t in ch.themes],
    }


def _short(title: str, n: int = 90) -> str:
    return title if len(title) <= n else title[: n - 1] + "…"


def build_app(assistant) -> gr.Blocks:
    """The chat, comparable practices and coverage tabs over one assistant.

    >>> build_app(Assistant()).launch(server_name="127.0.0.1", server_port=7860)  # doctest: +SKIP
    """
    folder = assistant.settings.paths.prompts
    data_dir = Path(assistant.settings.paths.data)

    def labels(lang: str) -> Labels:
        return Labels(lang, folder)

    L0 = labels("en")
    # The filters start empty and are filled by app.load, once the page is open: the page Gradio
    # serves before a login (and its API description) must not list the corpus.
    ch0 = _choice_lists(_Choices(), L0)
    relabel: list[tuple[gr.components.Component | gr.blocks.BlockContext, dict[str, str]]] = []

    def named(component, **keys):
        """Remember which label keys a component shows, so a language switch can rewrite them."""
        relabel.append((component, keys))
        return component

    chat_settings = assistant.settings.chat
    with ChatApp(title=L0("app.title")) as app:
        app.login_guard = LoginGuard(chat_settings.login_attempts, chat_settings.login_backoff_s, chat_settings.login_backoff_max_s)
        app.labels_folder = folder
        turns = gr.State([])
        coverage_lang = gr.State("")  # language the coverage tab was last drawn in; "" until first opened
        practices = gr.State(([], ""))
        selected = gr.State("")

        with gr.Row(equal_height=False):
            with gr.Column(scale=5):
                named(gr.Markdown(f"# {L0('app.title')}\n{L0('app.subtitle')}", elem_id="app-title"),
                              value="# {app.title}\n{app.subtitle}")
            with gr.Column(scale=1, min_width=200):
                ui_lang = named(gr.Radio([("English", "en"), ("Français", "fr")], value="en", label=L0("app.language"),
                                         elem_id="ui-lang"), label="app.language")
        index_status = gr.Markdown("", elem_id="index-status")

        with gr.Tabs():
            with named(gr.Tab(L0("tabs.chat"), id="chat", elem_id="tab-chat"), label="tabs.chat"):
                with gr.Row(equal_height=False):
                    with gr.Column(scale=1, min_width=220, elem_id="filters"):
                        named(gr.Markdown(f"### {L0('filters.heading')}"), value="### {filters.heading}")
                        f_country = named(gr.Dropdown(ch0["countries"], multiselect=True, label=L0("filters.country"),
                                                      elem_id="f-country"), label="filters.country")
                        f_language = named(gr.Dropdown(ch0["languages"], value="any", label=L0("filters.language"),
                                                       elem_id="f-language"), label="filters.language")
                        f_document = named(gr.Dropdown(ch0["documents"], multiselect=True, label=L0("filters.document"),
                                                       elem_id="f-document"), label="filters.document")
                        f_year = named(gr.Dropdown(ch0["years"], multiselect=True, label=L0("filters.year"), elem_id="f-year"),
                                       label="filters.year")
                        f_reset = named(gr.Button(L0("filters.reset"), size="sm", elem_id="f-reset"), value="filters.reset")
                    with gr.Column(scale=3, min_width=420):
                        chatbot = named(gr.Chatbot(label=L0("chat.chatbot"), show_label=False, elem_id="chatbot", height=560, latex_delimiters=[],
                                                   placeholder=L0("chat.empty"), buttons=[],
                                                   feedback_options=("Like", "Dislike")),
                                        label="chat.chatbot", placeholder="chat.empty")
                        with gr.Row():
                            question = named(gr.Textbox(label=L0("chat.question"), placeholder=L0("chat.question_placeholder"),
                                                        scale=5, lines=1, max_lines=4, elem_id="question", autofocus=True),
                                             label="chat.question", placeholder="chat.question_placeholder")
                            ask = named(gr.Button(L0("chat.ask"), variant="primary", scale=1, min_width=100, elem_id="ask"),
                                        value="chat.ask")
                        with gr.Row():
                            comment = named(gr.Textbox(label=L0("feedback.comment"), placeholder=L0("feedback.comment_placeholder"),
                                                       scale=4, lines=1, elem_id="fb-comment", max_length=chat_settings.max_comment_chars),
                                            label="feedback.comment", placeholder="feedback.comment_placeholder")
                            with gr.Column(scale=2, min_width=200):
                                export = named(gr.Button(L0("export.button"), size="sm", elem_id="export"), value="export.button")
                                clear = named(gr.Button(L0("chat.clear"), size="sm", elem_id="clear"), value="chat.clear")
                        status = gr.Markdown("", elem_id="status")
                        export_file = named(gr.File(label=L0("export.file"), visible=False, elem_id="export-file"),
                                            label="export.file")
                    with gr.Column(scale=2, min_width=320):
                        named(gr.Markdown(f"### {L0('source.heading')}"), value="### {source.heading}")
                        source = gr.HTML(render_source(assistant, None, L0), elem_id="source-panel", js_on_load=SOURCE_JS,
                                         padding=False)
                bridge = gr.HTML("", html_template="<span></span>", js_on_load=BRIDGE_JS, elem_id="cite-bridge")

            with named(gr.Tab(L0("tabs.similar"), id="similar", elem_id="tab-similar"), label="tabs.similar"):
                named(gr.Markdown(L0("similar.intro")), value="{similar.intro}")
                with gr.Row(equal_height=False):
                    with gr.Column(scale=1, min_width=280):
                        s_text = named(gr.Textbox(label=L0("similar.text"), placeholder=L0("similar.text_placeholder"), lines=3,
                                                  elem_id="s-text"), label="similar.text", placeholder="similar.text_placeholder")
                        s_action = named(gr.Dropdown(ch0["actions"], value=None, label=L0("similar.action"), elem_id="s-action"),
                                         label="similar.action")
                        s_country = named(gr.Dropdown(ch0["countries"], multiselect=True, label=L0("similar.country"),
                                                      elem_id="s-country"), label="similar.country")
                        s_theme = named(gr.Dropdown(ch0["themes"], multiselect=True, label=L0("similar.theme"), elem_id="s-theme"),
                                        label="similar.theme")
                        s_k = named(gr.Slider(3, 30, value=10, step=1, label=L0("similar.k"), elem_id="s-k"), label="similar.k")
                        s_find = named(gr.Button(L0("similar.find"), variant="primary", elem_id="s-find"), value="similar.find")
                    with gr.Column(scale=2):
                        s_out = gr.HTML("", elem_id="similar-out", js_on_load=None, padding=False)

            with named(gr.Tab(L0("tabs.coverage"), id="coverage", elem_id="tab-coverage"), label="tabs.coverage") as coverage_tab:
                named(gr.Markdown(L0("coverage.intro")), value="{coverage.intro}")
                c_thin = gr.Markdown("", elem_id="coverage-thin")
                c_plot = named(gr.Plot(label=L0("coverage.plot"), show_label=False, elem_id="coverage-plot"), label="coverage.plot")
                c_table = named(gr.Dataframe(label=L0("coverage.table"), interactive=False, elem_id="coverage-table", wrap=True),
                                label="coverage.table")

        # -- helpers shared by the events --------------------------------------------------------
        def relabelled(L: Labels) -> list:
            out = []
            for component, keys in relabel:
                update = {}
                for attr, key in keys.items():
                    update[attr] = re.sub(r"\{([\w.]+)\}", lambda m: L(m.group(1)), key) if "{" in key else L(key)
                out.append(gr.update(**update))
            return out

        def choice_updates(L: Labels):
            ch = _choices(assistant)
            lists = _choice_lists(ch, L)
            return [gr.update(choices=lists[key]) for key in
                    ("countries", "languages", "documents", "years", "actions", "countries", "themes")] + [
                gr.update(value=f"⚠ {ch.problem}" if ch.problem else "")]

        def coverage_updates(L: Labels):
            try:
                cov = explore.coverage(assistant)
            except AssistantError as err:
                return [gr.update(value=f"⚠ {err}"), gr.update(value=None), gr.update(value=None)]
            cells = len(cov.countries) * len(cov.themes)
            thin = (f"**{L('coverage.chart', top=min(30, len(cov.countries)), total=len(cov.countries))}** "
                    + L("coverage.thin", n=len(cov.thin()), cells=cells))
            return [gr.update(value=thin), gr.update(value=coverage_figure(cov, L)), gr.update(value=coverage_frame(cov, L), column_widths=["150px"] + ["90px"] * (len(cov.themes) + 1))]

        def current_filters(countries, language, documents, years) -> Filters:
            return Filters(countries=list(countries or []), language=language if language in LANGUAGES else None,
                           sources=list(documents or []), years=[int(y) for y in years or []])

        label_outputs = [c for c, _ in relabel]
        choice_outputs = [f_country, f_language, f_document, f_year, s_action, s_country, s_theme, index_status]
        coverage_outputs = [c_thin, c_plot, c_table]
        view_outputs = [chatbot, source, s_out]

        def views(lang, turns_v, selected_v, practices_v):
            L = labels(lang)
            groups, excluded = practices_v or ([], "")
            return [
                messages(turns_v, L),
                render_source(assistant, find_citation(turns_v, selected_v), L),
                render_practices(groups, L, excluded) if (groups or excluded) else "",
            ]

        def switch_language(lang, turns_v, selected_v, practices_v, coverage_v):
            L = labels(lang)
            # The coverage chart takes a second or two to draw: redraw it only if it has been shown.
            coverage = coverage_updates(L) + [lang] if coverage_v else [gr.skip()] * len(coverage_outputs) + [""]
            return relabelled(L) + choice_updates(L) + coverage + views(lang, turns_v, selected_v, practices_v)

        def on_load(lang):
            # A fresh page has nothing to re-render: only labels and choices follow the language.
            # The "loaded" class tells a test (or a user script) that the page is ready.
            L = labels(lang)
            choices = choice_updates(L)
            choices[-1]["elem_classes"] = ["loaded"]
            return [lang] + relabelled(L) + choices

        all_outputs = label_outputs + choice_outputs + coverage_outputs + [coverage_lang] + view_outputs
        app.load(on_load, [ui_lang], [ui_lang] + label_outputs + choice_outputs, js=DETECT_LANGUAGE_JS)
        ui_lang.input(switch_language, [ui_lang, turns, selected, practices, coverage_lang], all_outputs)

        def show_coverage(lang, coverage_v):
            if coverage_v == lang:
                return [gr.skip()] * len(coverage_outputs) + [lang]
            return coverage_updates(labels(lang)) + [lang]

        coverage_tab.select(show_coverage, [ui_lang, coverage_lang], coverage_outputs + [coverage_lang])

        # -- asking --------------------------------------------------------------------------------
        def respond(text, turns_v, countries, language, documents, years, lang, selected_v):
            L = labels(lang)
            text = text or ""
            filters = current_filters(countries, language, documents, years)
            # Show the question at once; the answer follows.
            yield messages(turns_v, L, pending=text), "", turns_v, gr.skip(), selected_v, ""
            history = [(t.question, t.answer.answer) for t in turns_v if t.answer is not None]
            try:
                if assistant.settings.llm.backend != "none":
                    # The LLM's text shows while it is written; the verified answer then replaces it. Only the
                    # conversation changes meanwhile, so a question being typed is not wiped. If the event stops
                    # early, closing() ends the LLM request then, not whenever the stream is garbage-collected.
                    result = None
                    with closing(assistant.stream_ask(text, filters, history=history)) as stream:
                        for item in throttled(stream):
                            if isinstance(item, Answer):
                                result = item
                            else:
                                yield (messages(turns_v, L, pending=text, writing=item), gr.skip(), gr.skip(), gr.skip(),
                                       gr.skip(), gr.skip())
                    if result is None:
                        raise AssistantError(L("errors.generic", error="the answer stream ended without an answer"))
                else:
                    result = assistant.ask(text, filters, history=history)
                turn = Turn(question=text, answer=result, filters=filters)
            except AssistantError as err:
                turn = Turn(question=text, error=str(err), filters=filters)
            except Exception as err:  # the app must stay up whatever a question does
                log.exception("question failed: %r", text)
                turn = Turn(question=text, error=L("errors.generic", error=f"{type(err).__name__}: {err}"), filters=filters)
            new_turns = turns_v + [turn]
            t = len(new_turns) - 1
            first = None
            if turn.answer is not None:
                pool = turn.answer.related if turn.answer.abstained else turn.answer.citations
                if pool:
                    first = f"{'rel' if turn.answer.abstained else 'cite'}-{t}-{pool[0].n}"
            sel = first or selected_v
            yield (messages(new_turns, L), "", new_turns, render_source(assistant, find_citation(new_turns, sel), L), sel, "")

        ask_inputs = [question, turns, f_country, f_language, f_document, f_year, ui_lang, selected]
        ask_outputs = [chatbot, question, turns, source, selected, status]
        ask.click(respond, ask_inputs, ask_outputs, concurrency_limit=assistant.settings.chat.max_concurrency)
        question.submit(respond, ask_inputs, ask_outputs, concurrency_limit=assistant.settings.chat.max_concurrency)

        def open_source(key, turns_v, lang):
            c = find_citation(turns_v, key)
            return render_source(assistant, c, labels(lang)), key if c else ""

        bridge.click(open_source, [bridge, turns, ui_lang], [source, selected])

        def reset_filters():
            return gr.update(value=[]), gr.update(value="any"), gr.update(value=[]), gr.update(value=[])

        f_reset.click(reset_filters, None, [f_country, f_language, f_document, f_year])

        def new_conversation(lang):
            return [], [], render_source(assistant, None, labels(lang)), "", "", gr.update(value=None, visible=False)

        clear.click(new_conversation, [ui_lang], [chatbot, turns, source, selected, status, export_file])
        chatbot.clear(new_conversation, [ui_lang], [chatbot, turns, source, selected, status, export_file])

        # -- feedback and export -------------------------------------------------------------------
        def on_like(turns_v, comment_v, lang, data: gr.LikeData, request: gr.Request):
            L = labels(lang)
            index = data.index[0] if isinstance(data.index, (list, tuple)) else data.index
            t = int(index) // 2
            if t >= len(turns_v) or turns_v[t].answer is None:
                return L("feedback.not_an_answer"), comment_v
            limit = chat_settings.max_comment_chars
            if comment_v and len(comment_v) > limit:
                # Checked here too: the page's own limit does not bind a request sent without it.
                return L("feedback.too_long", n=len(comment_v), limit=limit), gr.skip()
            vote = "up" if data.liked is True else "down" if data.liked is False else "cleared"
            turn = turns_v[t]
            record = feedback.FeedbackRecord.for_answer(
                vote, turn.answer, comment=comment_v or "", filters=_filters_json(turn.filters),
                user=getattr(request, "username", None), ui_language=L.lang,
            )
            try:
                feedback.append(data_dir, record)
            except OSError as err:
                return L("feedback.failed", error=str(err)), comment_v
            return L({"up": "feedback.saved_up", "down": "feedback.saved_down"}.get(vote, "feedback.saved_cleared")), ""

        chatbot.like(on_like, [turns, comment, ui_lang], [status, comment])

        def on_export(turns_v, lang):
            L = labels(lang)
            if not turns_v:
                return gr.update(value=None, visible=False), L("export.empty")
            stamp = datetime.now().strftime("%Y%m%d-%H%M%S")
            path = write_atomic(data_dir / "exports", f"conversation-{stamp}-{secrets.token_hex(3)}.md", export_markdown(turns_v, L))
            return gr.update(value=str(path), visible=True), ""

        export.click(on_export, [turns, ui_lang], [export_file, status])

        # -- comparable practices ------------------------------------------------------------------
        def find_similar(text, action, countries, themes, k, lang):
            L = labels(lang)
            if not (text or "").strip() and not action:
                return ([], ""), f'<div class="practices empty">{esc(L("similar.need_input"))}</div>'
            try:
                groups = explore.similar(assistant, text=text, action=action or None, countries=list(countries or []),
                                         themes=list(themes or []), k=int(k), language=L.lang)
            except AssistantError as err:
                return ([], ""), f'<div class="practices empty">{esc(err)}</div>'
            left_out = [action] if action else []
            left_out += [L.country(c) for c in sorted(explore.excluded(assistant, text, action or None)[1])]
            excluded = ", ".join(left_out)
            return (groups, excluded), render_practices(groups, L, excluded)

        s_find.click(find_similar, [s_text, s_action, s_country, s_theme, s_k, ui_lang], [practices, s_out])
        s_text.submit(find_similar, [s_text, s_action, s_country, s_theme, s_k, ui_lang], [practices, s_out])
    return app


def _filters_json(f: Filters) -> dict:
    return {k: v for k, v in {"countries": f.countries, "language": f.language, "sources": f.sources,
                               "years": f.years, "action": f.action, "section": f.section}.items() if v}


def serve(assistant, host: str | None = None, port: int | None = None, *, block: bool = True):
    """Start the app on the settings' host and port (login when chat.auth_file is set)."""
    chat = assistant.settings.chat
    auth = load_auth(chat.auth_file) if chat.auth_file else None
    app = build_app(assistant)
    app.queue(default_concurrency_limit=chat.max_concurrency)
    app.launch(server_name=host or chat.host, server_port=port or chat.port, auth=auth, prevent_thread_lock=True)
    # The page opens at once; the retriever and the model load meanwhile, so the first answer does not wait.
    threading.Thread(target=_warm_up, args=(assistant,), daemon=True).start()
    if block:
        app.block_thread()
    return app


def _warm_up(assistant) -> None:
    # One throwaway question loads everything a question needs: retriever, model, tagger, language detection.
    try:
        assistant.ask("migration")
    except Exception as err:  # an index problem is shown to the user on the page; here it is only logged
        log.warning("warm-up failed: %s", err)
