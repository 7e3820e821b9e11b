"""The Gradio app: chat with cited sources, comparable practices and corpus coverage, a thin layer over Assistant."""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import json
import logging
import math
import os
import re
import secrets
import threading
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from contextlib import closing
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import gradio as gr
from starlette.middleware import Middleware

from . import explore, feedback
from .errors import AssistantError, ConfigError
from .types import Answer, Filters
from .views import (  # noqa: F401  (re-exported: the app's callers and tests name them from here)
    LANGUAGES,
    STREAM_INTERVAL_S,
    FilterChoices,
    Labels,
    Turn,
    coverage_figure,
    coverage_frame,
    dropdown_choices,
    esc,
    export_markdown,
    filter_choices,
    filters_json,
    cited_urls,
    find_citation,
    find_practice,
    first_source,
    input_problem,
    md_safe,
    render_cell,
    messages,
    render_abstention,
    render_answer,
    render_error,
    render_practices,
    render_source,
    render_writing,
    throttled,
    write_atomic,
)

log = logging.getLogger(__name__)

PBKDF2_ITERATIONS = 600_000
TARPIT_S = 1.0  # longest delay before telling a backing-off client to wait


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
        raise ConfigError(
            f"Cannot read chat.auth_file {path}: {err.strerror}; create it with `assistant passwd USER >> {path}`"
        ) from None
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
        same = hmac.compare_digest(
            hashlib.pbkdf2_hmac("sha256", password.encode("utf-8", "surrogatepass"), salt, rounds), digest
        )
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
            await send(
                {
                    "type": "http.response.start",
                    "status": 429,
                    "headers": [
                        (b"content-type", b"application/json; charset=utf-8"),
                        (b"retry-after", str(seconds).encode()),
                        (b"content-length", str(len(body)).encode()),
                    ],
                }
            )
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
#cite-bridge, .bridge { display: none !important; }
#chatbot .answer p, #chatbot .abstain p, #chatbot .failure p { margin: 0.3em 0; }
#chatbot .answer ul { margin: 0.2em 0 0.6em 1.2em; }
#chatbot .answer li { margin: 0.25em 0; }
#chatbot .group { margin-top: 0.7em !important; }
#chatbot a.cite, .source a.cite { text-decoration: none; }
#chatbot li a.cite:first-child, #chatbot p a.cite { display: inline-block; padding: 0 0.35em; margin: 0 0.1em;
  border-radius: 0.6em; background: #dbeafe; color: #1e40af; font-weight: 600; font-size: 0.88em; line-height: 1.35; }
#chatbot a.cite:hover { background: #bfdbfe; }
#chatbot .sources { margin-top: 0.7em; padding-top: 0.4em; border-top: 1px solid var(--border-color-primary);
  font-size: 0.9em; }
#chatbot .sources-h, #chatbot .related-h { font-weight: 600; color: var(--body-text-color-subdued); }
#chatbot .sources ol { list-style: none; margin: 0.2em 0 0 0; padding: 0; }
#chatbot .sources li a.cite + a.cite { color: inherit; font-weight: 500; }
#chatbot .sources .where { color: var(--body-text-color-subdued); }
#chatbot .read-as { font-style: italic; color: var(--body-text-color-subdued); font-size: 0.9em; }
#chatbot .abstain { border-left: 4px solid #d97706; background: #fffbeb; color: #451a03; padding: 0.5em 0.8em;
  border-radius: 6px; }
#chatbot .abstain-h { font-weight: 700; color: #b45309; }
#chatbot .abstain .icon, #chatbot .failure .icon { font-size: 1.15em; }
#chatbot .abstain .related { margin-top: 0.5em; font-size: 0.9em; color: #57534e; }
#chatbot .abstain .related a.cite:not(:first-child) { color: inherit; text-decoration: underline dotted; }
#chatbot .failure { border-left: 4px solid #dc2626; background: #fef2f2; color: #450a0a; padding: 0.5em 0.8em;
  border-radius: 6px; }
#chatbot .failure-h { font-weight: 700; color: #b91c1c; }
#chatbot .writing p { margin: 0.3em 0; }
#chatbot .writing-h { font-style: italic; font-size: 0.9em; color: var(--body-text-color-subdued); }
#source-panel .source, #similar-source .source { font-size: 0.92em; }
#source-panel .source.empty, .practices.empty, #similar-source .source.empty { color: var(--body-text-color-subdued);
  padding: 0.6em 0; }
#source-panel .src-title, #similar-source .src-title { font-weight: 700; font-size: 1.05em; margin: 0 0 0.4em 0; }
#source-panel .src-n, #similar-source .src-n { color: #1e40af; }
#source-panel .src-meta, #similar-source .src-meta { display: grid; grid-template-columns: max-content 1fr;
  gap: 0.1em 0.8em; margin: 0 0 0.6em 0; }
#source-panel .src-meta dt, #similar-source .src-meta dt { color: var(--body-text-color-subdued); }
#source-panel .src-meta dd, #similar-source .src-meta dd { margin: 0; }
#source-panel .src-window, #similar-source .src-window { white-space: pre-wrap; border-left: 3px solid #93c5fd;
  margin: 0; padding: 0.4em 0.8em; background: var(--background-fill-secondary); line-height: 1.5; }
#source-panel mark, .practice mark, #similar-source mark { background: #fde68a; color: #111827; padding: 0 0.1em; }
#source-panel .src-full, #similar-source .src-full { margin-top: 0.6em; }
#source-panel .src-full summary, #similar-source .src-full summary { cursor: pointer; color: #1d4ed8; }
#source-panel .doc-text, #similar-source .doc-text { white-space: pre-wrap; max-height: 420px; overflow: auto;
  font-size: 0.88em; border: 1px solid var(--border-color-primary); padding: 0.6em; margin-top: 0.4em; }
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
#chatbot .chips { margin: 0 0 0.4em 0; font-size: 0.85em; }
#chatbot .chips-h { color: var(--body-text-color-subdued); }
#chatbot .chip { display: inline-block; padding: 0 0.5em; margin: 0 0.2em 0.2em 0; border-radius: 0.8em;
  background: #e0e7ff; color: #3730a3; }
#chatbot .filtered { border-left: 4px solid #7c3aed; background: #f5f3ff; color: #2e1065; padding: 0.5em 0.8em;
  border-radius: 6px; margin-bottom: 0.5em; }
#chatbot .filtered-h { font-weight: 700; color: #6d28d9; }
#chatbot a.refilter { font-weight: 600; color: #5b21b6; text-decoration: underline; }
#chatbot a.original, #source-panel a.original { font-size: 0.85em; color: #1d4ed8; }
#source-panel a.original, #similar-source a.original { word-break: break-all; }
#q-counter { min-height: 0; }
#q-counter-text { font-size: 0.85em; color: var(--body-text-color-subdued); }
#q-counter-text.over { color: #b91c1c; font-weight: 600; }
#ask.disabled, #ask:disabled { opacity: 0.5; cursor: not-allowed; }
.source-close { display: none; }
.practice-lead { font-size: 1.02em; margin: 0 0 0.3em 0; line-height: 1.45; }
.practice-lead a.open-src, .practice a.open-src { color: #1d4ed8; font-size: 0.85em; }
#coverage-cell .cell-h { font-weight: 600; }
@media (max-width: 760px) {
  /* Every tab stays on the page: Gradio moves tabs that do not fit (measured on its hidden copy of the tab
     bar) behind a "more" menu; the copy is shrunk so that none is moved, and the real bar wraps instead. */
  .tab-container.visually-hidden button { font-size: 1px !important; padding: 0 !important; min-width: 0 !important; }
  .tab-wrapper { height: auto !important; padding-bottom: 0 !important; }
  .tab-wrapper [role="tablist"] { flex-wrap: wrap !important; height: auto !important; overflow: visible !important; }
  .tab-wrapper [role="tablist"] button { padding: 0.35em 0.6em !important; }
  .overflow-menu { display: none !important; }
  #source-col { display: none !important; }
  #source-col.overlay-open { display: flex !important; flex-direction: column !important; flex-wrap: nowrap !important;
    position: fixed; inset: 0; z-index: 10000; overflow: auto; background: var(--background-fill-primary);
    padding: 0.8em; margin: 0; width: 100vw; max-width: 100vw; }
  .overlay-open .source-close { display: inline-block; position: sticky; top: 0; float: right; padding: 0.3em 0.8em;
    border-radius: 6px; border: 1px solid var(--border-color-primary); background: var(--background-fill-secondary);
    font-weight: 600; }
  #similar-source-col { display: none !important; }
  #similar-source-col.overlay-open { display: flex !important; flex-direction: column !important;
    flex-wrap: nowrap !important; position: fixed; inset: 0; z-index: 10000; overflow: auto;
    background: var(--background-fill-primary); padding: 0.8em; margin: 0; width: 100vw; max-width: 100vw; }
}
"""

# Sets the interface language from the browser on load (the Python side never sees navigator).
DETECT_LANGUAGE_JS = """
(lang, ...rest) => {
  const detected = (navigator.language || 'en').toLowerCase().startsWith('fr') ? 'fr' : 'en';
  return rest.length ? [detected, ...rest] : detected;
}
"""

# Citations are links "#cite-<turn>-<n>" inside chat messages (the Chatbot strips data- attributes,
# not href). One document-level listener per bridge hands the clicked key to Python through a hidden
# component (SELECTOR and NAME are filled in per bridge). On a phone, a citation opens its source column
# as an overlay (OVERLAY: that column's id). Gradio scopes the app's CSS inside its container, so the
# overlay's class goes on the column itself, not on <body>.
BRIDGE_JS = """
const name = '__bridge_NAME';
if (window[name]) document.removeEventListener('click', window[name], true);
window[name] = (e) => {
  const a = e.target.closest && e.target.closest("SELECTOR");
  if (!a) return;
  e.preventDefault();
  e.stopPropagation();
  props.value = a.getAttribute('href').slice(1);
  trigger('click');
  const overlay = OVERLAY && document.getElementById(OVERLAY);
  if (overlay && window.matchMedia('(max-width: 760px)').matches) overlay.classList.add('overlay-open');
};
document.addEventListener('click', window[name], true);
"""

# The question box: a counter near the limit, Ask disabled while the box is empty or over the limit (the box
# keeps an over-long question; Python refuses it too, for a request sent without this page). On a phone the
# filters start folded. The overlay's close button. Polled, because Gradio sets the box without input events.
INPUT_JS = """
const limit = LIMIT;
const tick = () => {
  const box = document.querySelector('#question textarea');
  const ask = document.querySelector('#ask');
  const counter = document.querySelector('#q-counter-text');
  if (!box || !ask) return;
  const n = box.value.trim().length;
  const bad = n === 0 || box.value.length > limit;
  if (ask.disabled !== bad) ask.disabled = bad;
  ask.classList.toggle('disabled', bad);
  if (counter) {
    counter.textContent = box.value.length > 0.8 * limit ? `${box.value.length} / ${limit}` : '';
    counter.classList.toggle('over', box.value.length > limit);
  }
};
if (window.__inputTick) clearInterval(window.__inputTick);
window.__inputTick = setInterval(tick, 200);
if (window.matchMedia('(max-width: 760px)').matches) {
  const fold = () => {
    const b = document.querySelector('#filters-acc > button, #filters-acc .label-wrap');
    if (!b) return setTimeout(fold, 200);
    if (b.classList.contains('open') || document.querySelector('#filters-acc #f-country')) b.click();
  };
  setTimeout(fold, 300);
}
document.addEventListener('click', (e) => {
  const close = e.target.closest && e.target.closest('.source-close');
  if (close) close.closest('.overlay-open')?.classList.remove('overlay-open');
}, true);
"""


def _bridge(elem_id: str, selector: str, overlay: str = "") -> gr.HTML:
    js = (
        BRIDGE_JS.replace("NAME", elem_id.replace("-", "_"))
        .replace("SELECTOR", selector)
        .replace("OVERLAY", repr(overlay))
    )
    return gr.HTML("", html_template="<span></span>", js_on_load=js, elem_id=elem_id, elem_classes=["bridge"])


def _close_button(L: Labels | None) -> str:
    """The source overlay's close button (shown on a phone only); with L None, the template a language switch fills."""
    return f'<button type="button" class="source-close">✕ {esc(L("source.close")) if L else "{source.close}"}</button>'


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
            kwargs.setdefault(
                "auth_message", " / ".join(guard.help(Labels(lang, self.labels_folder)) for lang in LANGUAGES)
            )
            app_kwargs = dict(kwargs.get("app_kwargs") or {})
            app_kwargs["middleware"] = [
                *app_kwargs.get("middleware", []),
                Middleware(LoginBackoff, guard=guard, labels_folder=self.labels_folder),
            ]
            kwargs["app_kwargs"] = app_kwargs
        kwargs.setdefault("css", CSS)
        # System fonts: the page must not fetch anything from outside (no Google Fonts).
        kwargs.setdefault(
            "theme",
            gr.themes.Soft(
                primary_hue="blue",
                font=["ui-sans-serif", "system-ui", "Segoe UI", "DejaVu Sans", "sans-serif"],
                font_mono=["ui-monospace", "DejaVu Sans Mono", "monospace"],
            ),
        )
        return super().launch(*args, **kwargs)


class _Context:
    """What every tab's builder shares: the assistant, the labels, and the components a language switch relabels."""

    def __init__(self, assistant):
        self.assistant = assistant
        self.folder = assistant.settings.paths.prompts
        self.data_dir = Path(assistant.settings.paths.data)
        self.settings = assistant.settings.chat
        self.L0 = self.labels("en")
        # The filters start empty and are filled by app.load, once the page is open: the page Gradio
        # serves before a login (and its API description) must not list the corpus.
        self.ch0 = dropdown_choices(FilterChoices(), self.L0)
        self.relabel: list[tuple[gr.components.Component | gr.blocks.BlockContext, dict[str, str]]] = []

    # Made by build_app above the tabs, before any tab's builder reads them.
    ui_lang: gr.Radio
    mine_store: gr.BrowserState

    def labels(self, lang: str) -> Labels:
        return Labels(lang, self.folder)

    def named(self, component, **keys):
        """Remember which label keys a component shows, so a language switch can rewrite them."""
        self.relabel.append((component, keys))
        return component

    def relabelled(self, L: Labels) -> list:
        out = []
        for _, keys in self.relabel:
            update: dict[str, Any] = {}  # gr.update's keywords (label, value, placeholder…)
            for attr, key in keys.items():
                update[attr] = re.sub(r"\{([\w.]+)\}", lambda m: L(m.group(1)), key) if "{" in key else L(key)
            out.append(gr.update(**update))
        return out


@dataclass
class _Tab:
    """What a tab gives the language switch: dropdowns to refill (component, choice list), and views to redraw."""

    choices: list[tuple[gr.components.Component, str]] = field(default_factory=list)
    states: list = field(default_factory=list)  # inputs its redraw needs
    views: list = field(default_factory=list)  # outputs its redraw fills
    redraw: object = None  # (L, *states) -> list of values for `views`
    # (dropdown, gr.BrowserState): a choice this browser remembers, set again when the page loads
    remembered: list = field(default_factory=list)


def _chat_tab(ctx: _Context) -> _Tab:
    """The conversation with its filters, its source panel, feedback and export."""
    assistant, named, L0, ch0 = ctx.assistant, ctx.named, ctx.L0, ctx.ch0
    limit_chars = assistant.settings.answer.max_question_chars
    turns = gr.State([])
    selected = gr.State("")
    with gr.Row(equal_height=False):
        with (
            gr.Column(scale=1, min_width=220, elem_id="filters"),
            named(gr.Accordion(L0("filters.heading"), open=True, elem_id="filters-acc"), label="filters.heading"),
        ):
            f_country = named(
                gr.Dropdown(ch0["countries"], multiselect=True, label=L0("filters.country"), elem_id="f-country"),
                label="filters.country",
            )
            f_language = named(
                gr.Dropdown(ch0["languages"], value="any", label=L0("filters.language"), elem_id="f-language"),
                label="filters.language",
            )
            f_document = named(
                gr.Dropdown(ch0["documents"], multiselect=True, label=L0("filters.document"), elem_id="f-document"),
                label="filters.document",
            )
            f_year = named(
                gr.Dropdown(ch0["years"], multiselect=True, label=L0("filters.year"), elem_id="f-year"),
                label="filters.year",
            )
            f_reset = named(gr.Button(L0("filters.reset"), size="sm", elem_id="f-reset"), value="filters.reset")
        with gr.Column(scale=3, min_width=420):
            chatbot = named(
                gr.Chatbot(
                    label=L0("chat.chatbot"),
                    show_label=False,
                    elem_id="chatbot",
                    height=560,
                    latex_delimiters=[],
                    placeholder=L0("chat.empty"),
                    buttons=[],
                    feedback_options=("Like", "Dislike"),
                ),
                label="chat.chatbot",
                placeholder="chat.empty",
            )
            with gr.Row():
                question = named(
                    gr.Textbox(
                        label=L0("chat.question"),
                        placeholder=L0("chat.question_placeholder"),
                        scale=5,
                        lines=1,
                        max_lines=4,
                        elem_id="question",
                        autofocus=True,
                    ),
                    label="chat.question",
                    placeholder="chat.question_placeholder",
                )
                ask = named(
                    gr.Button(L0("chat.ask"), variant="primary", scale=1, min_width=100, elem_id="ask"),
                    value="chat.ask",
                )
            # Filled by INPUT_JS as the user types: Ask stays disabled on an empty or over-long box.
            gr.HTML(
                '<span id="q-counter-text" aria-live="polite"></span>',
                elem_id="q-counter",
                padding=False,
                js_on_load=INPUT_JS.replace("LIMIT", str(limit_chars)),
            )
            with gr.Row():
                comment = named(
                    gr.Textbox(
                        label=L0("feedback.comment"),
                        placeholder=L0("feedback.comment_placeholder"),
                        scale=4,
                        lines=1,
                        elem_id="fb-comment",
                        max_length=ctx.settings.max_comment_chars,
                    ),
                    label="feedback.comment",
                    placeholder="feedback.comment_placeholder",
                )
                with gr.Column(scale=2, min_width=200):
                    export = named(gr.Button(L0("export.button"), size="sm", elem_id="export"), value="export.button")
                    clear = named(gr.Button(L0("chat.clear"), size="sm", elem_id="clear"), value="chat.clear")
            status = gr.Markdown("", elem_id="status")
            export_file = named(
                gr.File(label=L0("export.file"), visible=False, elem_id="export-file"), label="export.file"
            )
        with gr.Column(scale=2, min_width=320, elem_id="source-col"):
            named(gr.HTML(_close_button(L0), padding=False, elem_id="source-close-row"), value=_close_button(None))
            named(gr.Markdown(f"### {L0('source.heading')}"), value="### {source.heading}")
            source = gr.HTML(
                render_source(assistant, None, L0), elem_id="source-panel", js_on_load=SOURCE_JS, padding=False
            )
    bridge = _bridge("cite-bridge", "a[href^='#cite-'], a[href^='#rel-']", overlay="source-col")
    refilter = _bridge("refilter-bridge", "a[href^='#refilter-']")
    ui_lang = ctx.ui_lang

    def current_filters(countries, language, documents, years) -> Filters:
        return Filters(
            countries=list(countries or []),
            language=language if language in LANGUAGES else None,
            sources=list(documents or []),
            years=[int(y) for y in years or []],
        )

    # -- asking ------------------------------------------------------------------------------------
    def respond(text, turns_v, countries, language, documents, years, lang, selected_v):
        L = ctx.labels(lang)
        text = text or ""
        problem = input_problem(text, limit_chars, L)
        if problem is not None:
            # Nothing is sent and nothing enters the conversation; the question stays in the box to be fixed.
            yield gr.skip(), gr.skip(), gr.skip(), gr.skip(), gr.skip(), problem
            return
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
                            yield (
                                messages(turns_v, L, pending=text, writing=item),
                                gr.skip(),
                                gr.skip(),
                                gr.skip(),
                                gr.skip(),
                                gr.skip(),
                            )
                if result is None:
                    raise AssistantError(L("errors.generic", error="the answer stream ended without an answer"))
            else:
                result = assistant.ask(text, filters, history=history)
            turn = Turn(
                question=text,
                answer=result,
                filters=filters,
                excluded=assistant.filter_exclusions(text, filters),
                urls=cited_urls(assistant, result),
            )
        except AssistantError as err:
            turn = Turn(question=text, error=str(err), filters=filters)
        except Exception as err:  # the app must stay up whatever a question does
            log.exception("question failed: %r", text)
            turn = Turn(question=text, error=L("errors.generic", error=f"{type(err).__name__}: {err}"), filters=filters)
        new_turns = turns_v + [turn]
        sel = first_source(new_turns) or selected_v
        yield (
            messages(new_turns, L),
            "",
            new_turns,
            render_source(assistant, find_citation(new_turns, sel), L),
            sel,
            "",
        )

    limit = ctx.settings.max_concurrency
    ask_inputs = [question, turns, f_country, f_language, f_document, f_year, ui_lang, selected]
    ask_outputs = [chatbot, question, turns, source, selected, status]
    ask.click(respond, ask_inputs, ask_outputs, concurrency_limit=limit)
    question.submit(respond, ask_inputs, ask_outputs, concurrency_limit=limit)

    def open_source(key, turns_v, lang):
        c = find_citation(turns_v, key)
        return render_source(assistant, c, ctx.labels(lang)), key if c else ""

    bridge.click(open_source, [bridge, turns, ui_lang], [source, selected])

    filter_inputs = [f_country, f_language, f_document, f_year]
    no_filters = [[], "any", [], []]

    def reset_filters():
        return no_filters

    f_reset.click(reset_filters, None, filter_inputs)

    def clear_and_ask(key, turns_v):
        # "Clear the filters and ask again" under an answer the filters emptied: the question goes back in the box.
        m = re.fullmatch(r"refilter-(\d+)", key or "")
        if not m or int(m.group(1)) >= len(turns_v):
            return [gr.skip()] * 5
        return no_filters + [turns_v[int(m.group(1))].question]

    refilter.click(clear_and_ask, [refilter, turns], filter_inputs + [question]).then(
        respond, ask_inputs, ask_outputs, concurrency_limit=limit
    )

    def new_conversation(lang):
        empty_source = render_source(assistant, None, ctx.labels(lang))
        return [[], [], empty_source, "", "", gr.update(value=None, visible=False)] + no_filters

    fresh = [chatbot, turns, source, selected, status, export_file] + filter_inputs
    clear.click(new_conversation, [ui_lang], fresh)
    chatbot.clear(new_conversation, [ui_lang], fresh)

    # -- feedback and export -----------------------------------------------------------------------
    def on_like(turns_v, comment_v, lang, data: gr.LikeData, request: gr.Request):
        L = ctx.labels(lang)
        index = data.index[0] if isinstance(data.index, (list, tuple)) else data.index
        t = int(index) // 2
        if t >= len(turns_v) or turns_v[t].answer is None:
            return L("feedback.not_an_answer"), comment_v
        limit = ctx.settings.max_comment_chars
        if comment_v and len(comment_v) > limit:
            # Checked here too: the page's own limit does not bind a request sent without it.
            return L("feedback.too_long", n=len(comment_v), limit=limit), gr.skip()
        vote = "up" if data.liked is True else "down" if data.liked is False else "cleared"
        turn = turns_v[t]
        record = feedback.FeedbackRecord.for_answer(
            vote,
            turn.answer,
            comment=comment_v or "",
            filters=filters_json(turn.filters),
            user=getattr(request, "username", None),
            ui_language=L.lang,
        )
        try:
            feedback.append(ctx.data_dir, record)
        except OSError as err:
            return L("feedback.failed", error=str(err)), comment_v
        return L({"up": "feedback.saved_up", "down": "feedback.saved_down"}.get(vote, "feedback.saved_cleared")), ""

    chatbot.like(on_like, [turns, comment, ui_lang], [status, comment])

    def on_export(turns_v, lang):
        L = ctx.labels(lang)
        if not turns_v:
            return gr.update(value=None, visible=False), L("export.empty")
        stamp = datetime.now().strftime("%Y%m%d-%H%M%S")
        path = write_atomic(
            ctx.data_dir / "exports", f"conversation-{stamp}-{secrets.token_hex(3)}.md", export_markdown(turns_v, L)
        )
        return gr.update(value=str(path), visible=True), ""

    export.click(on_export, [turns, ui_lang], [export_file, status])

    def redraw(L, turns_v, selected_v):
        return [messages(turns_v, L), render_source(assistant, find_citation(turns_v, selected_v), L)]

    return _Tab(
        choices=[(f_country, "countries"), (f_language, "languages"), (f_document, "documents"), (f_year, "years")],
        states=[turns, selected],
        views=[chatbot, source],
        redraw=redraw,
    )


def _similar_tab(ctx: _Context) -> _Tab:
    """Comparable practices from other countries and actions, with a source panel of its own."""
    assistant, named, L0, ch0 = ctx.assistant, ctx.named, ctx.L0, ctx.ch0
    practices = gr.State(([], ""))
    mine_store = ctx.mine_store
    named(gr.Markdown(L0("similar.intro")), value="{similar.intro}")
    with gr.Row(equal_height=False):
        with gr.Column(scale=1, min_width=280):
            s_mine = named(
                gr.Dropdown(ch0["countries"], value=None, label=L0("similar.mine"), elem_id="s-mine"),
                label="similar.mine",
            )
            s_text = named(
                gr.Textbox(
                    label=L0("similar.text"), placeholder=L0("similar.text_placeholder"), lines=3, elem_id="s-text"
                ),
                label="similar.text",
                placeholder="similar.text_placeholder",
            )
            s_action = named(
                gr.Dropdown(ch0["actions"], value=None, label=L0("similar.action"), elem_id="s-action"),
                label="similar.action",
            )
            s_country = named(
                gr.Dropdown(ch0["countries"], multiselect=True, label=L0("similar.country"), elem_id="s-country"),
                label="similar.country",
            )
            s_theme = named(
                gr.Dropdown(ch0["themes"], multiselect=True, label=L0("similar.theme"), elem_id="s-theme"),
                label="similar.theme",
            )
            s_k = named(gr.Slider(3, 30, value=10, step=1, label=L0("similar.k"), elem_id="s-k"), label="similar.k")
            s_find = named(gr.Button(L0("similar.find"), variant="primary", elem_id="s-find"), value="similar.find")
        with gr.Column(scale=2):
            s_out = gr.HTML("", elem_id="similar-out", js_on_load=None, padding=False)
        with gr.Column(scale=2, min_width=300, elem_id="similar-source-col"):
            named(gr.HTML(_close_button(L0), padding=False), value=_close_button(None))
            s_source = gr.HTML(
                render_source(assistant, None, L0), elem_id="similar-source", js_on_load=SOURCE_JS, padding=False
            )
    bridge = _bridge("prac-bridge", "a[href^='#prac-']", overlay="similar-source-col")
    selected = gr.State("")

    def find_similar(text, action, countries, themes, k, lang, mine=None):
        L = ctx.labels(lang)
        if not (text or "").strip() and not action:
            return ([], ""), f'<div class="practices empty">{esc(L("similar.need_input"))}</div>'
        own = [mine] if mine else []
        try:
            groups = explore.similar(
                assistant,
                text=text,
                action=action or None,
                countries=list(countries or []),
                themes=list(themes or []),
                k=int(k),
                language=L.lang,
                mine=own,
            )
        except AssistantError as err:
            return ([], ""), f'<div class="practices empty">{esc(err)}</div>'
        left_out = [action] if action else []
        left_out += [L.country(c) for c in sorted(explore.excluded(assistant, text, action or None, own)[1])]
        excluded = ", ".join(left_out)
        return (groups, excluded), render_practices(groups, L, excluded)

    inputs = [s_text, s_action, s_country, s_theme, s_k, ctx.ui_lang, s_mine]
    s_find.click(find_similar, inputs, [practices, s_out])
    s_text.submit(find_similar, inputs, [practices, s_out])

    def open_practice(key, practices_v, lang):
        c = find_practice((practices_v or ([], ""))[0], key)
        return render_source(assistant, c, ctx.labels(lang)), key if c else ""

    bridge.click(open_practice, [bridge, practices, ctx.ui_lang], [s_source, selected])

    def remember(mine):
        return mine or ""

    s_mine.input(remember, [s_mine], [mine_store])

    def redraw(L, practices_v, selected_v):
        groups, excluded = practices_v or ([], "")
        return [
            render_practices(groups, L, excluded) if (groups or excluded) else "",
            render_source(assistant, find_practice(groups, selected_v), L),
        ]

    return _Tab(
        choices=[(s_mine, "countries"), (s_action, "actions"), (s_country, "countries"), (s_theme, "themes")],
        states=[practices, selected],
        views=[s_out, s_source],
        redraw=redraw,
        remembered=[(s_mine, mine_store)],
    )


def _coverage_tab(ctx: _Context, tab: gr.Tab) -> _Tab:
    """Passages per country and theme, as a heat map and a table; drawn when the tab is first opened."""
    named, L0 = ctx.named, ctx.L0
    coverage_lang = gr.State("")  # language the tab was last drawn in; "" until first opened
    named(gr.Markdown(L0("coverage.intro")), value="{coverage.intro}")
    c_thin = gr.Markdown("", elem_id="coverage-thin")
    c_plot = named(gr.Plot(label=L0("coverage.plot"), show_label=False, elem_id="coverage-plot"), label="coverage.plot")
    c_table = named(
        gr.Dataframe(label=L0("coverage.table"), interactive=False, elem_id="coverage-table", wrap=True),
        label="coverage.table",
    )
    c_cell = named(
        gr.HTML(f'<p class="note">{esc(L0("coverage.cell_hint"))}</p>', elem_id="coverage-cell", padding=False),
        value='<p class="note">{coverage.cell_hint}</p>',
    )
    outputs = [c_thin, c_plot, c_table]

    def open_cell(lang, evt: gr.SelectData):
        row, col = (evt.index if isinstance(evt.index, (list, tuple)) else (evt.index, 0))[:2]
        try:
            return render_cell(ctx.assistant, explore.coverage(ctx.assistant), int(row), int(col), ctx.labels(lang))
        except AssistantError as err:
            return f'<p class="note">{esc(err)}</p>'

    c_table.select(open_cell, [ctx.ui_lang], [c_cell])

    def draw(L: Labels) -> list:
        try:
            cov = explore.coverage(ctx.assistant)
        except AssistantError as err:
            return [gr.update(value=f"⚠ {err}"), gr.update(value=None), gr.update(value=None)]
        cells = len(cov.countries) * len(cov.themes)
        thin = f"**{L('coverage.chart', top=min(30, len(cov.countries)), total=len(cov.countries))}** " + L(
            "coverage.thin", n=len(cov.thin()), cells=cells
        )
        return [
            gr.update(value=thin),
            gr.update(value=coverage_figure(cov, L)),
            gr.update(value=coverage_frame(cov, L), column_widths=["150px"] + ["90px"] * (len(cov.themes) + 1)),
        ]

    def show_coverage(lang, coverage_v):
        if coverage_v == lang:
            return [gr.skip()] * len(outputs) + [lang]
        return draw(ctx.labels(lang)) + [lang]

    tab.select(show_coverage, [ctx.ui_lang, coverage_lang], outputs + [coverage_lang])

    def redraw(L, coverage_v):
        # The chart takes a second or two to draw: redraw it only if it has been shown.
        return draw(L) + [L.lang] if coverage_v else [gr.skip()] * len(outputs) + [""]

    return _Tab(states=[coverage_lang], views=outputs + [coverage_lang], redraw=redraw)


def build_app(assistant) -> gr.Blocks:
    """The chat, comparable practices and coverage tabs over one assistant.

    >>> build_app(Assistant()).launch(server_name="127.0.0.1", server_port=7860)  # doctest: +SKIP
    """
    ctx = _Context(assistant)
    L0, named = ctx.L0, ctx.named
    with ChatApp(title=L0("app.title")) as app:
        app.login_guard = LoginGuard(
            ctx.settings.login_attempts, ctx.settings.login_backoff_s, ctx.settings.login_backoff_max_s
        )
        app.labels_folder = ctx.folder
        with gr.Row(equal_height=False):
            with gr.Column(scale=5):
                named(
                    gr.Markdown(f"# {L0('app.title')}\n{L0('app.subtitle')}", elem_id="app-title"),
                    value="# {app.title}\n{app.subtitle}",
                )
            with gr.Column(scale=1, min_width=200):
                ctx.ui_lang = named(
                    gr.Radio(
                        [("English", "en"), ("Français", "fr")], value="en", label=L0("app.language"), elem_id="ui-lang"
                    ),
                    label="app.language",
                )
        index_status = gr.Markdown("", elem_id="index-status")
        # The user's own country, kept in this browser's local storage: a focal point sets it once. Outside the
        # tabs, since a tab not yet opened is not mounted, and its stored value would not reach the page's load.
        ctx.mine_store = gr.BrowserState("", storage_key="assistant-my-country")

        with gr.Tabs():
            with named(gr.Tab(L0("tabs.chat"), id="chat", elem_id="tab-chat"), label="tabs.chat"):
                chat = _chat_tab(ctx)
            with named(gr.Tab(L0("tabs.similar"), id="similar", elem_id="tab-similar"), label="tabs.similar"):
                similar = _similar_tab(ctx)
            with named(
                gr.Tab(L0("tabs.coverage"), id="coverage", elem_id="tab-coverage"), label="tabs.coverage"
            ) as tab:
                coverage = _coverage_tab(ctx, tab)
        tabs = (chat, similar, coverage)
        _language_events(ctx, app, index_status, tabs)
    return app


def _language_events(ctx: _Context, app: gr.Blocks, index_status: gr.Markdown, tabs: tuple[_Tab, ...]) -> None:
    """Page load (labels and choices in the browser's language) and the language switch (everything redrawn)."""
    label_outputs = [c for c, _ in ctx.relabel]
    choice_outputs = [c for tab in tabs for c, _ in tab.choices] + [index_status]
    states = [s for tab in tabs for s in tab.states]
    views = [v for tab in tabs for v in tab.views]

    def choice_updates(L: Labels):
        ch = filter_choices(ctx.assistant)
        lists = dropdown_choices(ch, L)
        return [gr.update(choices=lists[key]) for tab in tabs for _, key in tab.choices] + [
            gr.update(value=f"⚠ {ch.problem}" if ch.problem else "")
        ]

    def switch_language(lang, *values):
        L = ctx.labels(lang)
        redrawn, i = [], 0
        for tab in tabs:
            redrawn += tab.redraw(L, *values[i : i + len(tab.states)])
            i += len(tab.states)
        return ctx.relabelled(L) + choice_updates(L) + redrawn

    remembered = [(component, store) for tab in tabs for component, store in tab.remembered]
    choice_components = choice_outputs[:-1]

    def on_load(lang, *stored):
        # A fresh page has nothing to redraw: only labels and choices follow the language, and the choices
        # this browser remembers are set again (with their choices, in one update).
        # The "loaded" class tells a test (or a user script) that the page is ready.
        L = ctx.labels(lang)
        choices = choice_updates(L)
        for (component, _), value in zip(remembered, stored):
            update = choices[choice_components.index(component)]
            if value and value in {v for _, v in update["choices"]}:
                update["value"] = value
        choices[-1]["elem_classes"] = ["loaded"]
        return [lang] + ctx.relabelled(L) + choices

    app.load(
        on_load,
        [ctx.ui_lang] + [store for _, store in remembered],
        [ctx.ui_lang, *label_outputs, *choice_outputs],
        js=DETECT_LANGUAGE_JS,
    )
    ctx.ui_lang.input(switch_language, [ctx.ui_lang, *states], [*label_outputs, *choice_outputs, *views])


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
