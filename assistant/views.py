"""What each chat component shows: plain functions from an Answer, the filters and the labels to HTML,
Markdown and tables (no Gradio here, so unit tests need no browser)."""

from __future__ import annotations

import html
import re
import time
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path

from . import cite, explore, prompts, store, tag
from .errors import AssistantError, ConfigError
from .text import other_language
from .types import Answer, Citation, Filters

LANGUAGES = ("en", "fr")
WINDOW_CHARS = 450  # context shown on each side of a cited quote in the source panel
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
        node: object = self.data
        for part in key.split("."):
            if not isinstance(node, dict) or part not in node:
                raise ConfigError(f"Label file {self.folder}/ui_{self.lang}.toml has no '{key}'")
            node = node[part]
        if not isinstance(node, str):
            raise ConfigError(
                f"Label file {self.folder}/ui_{self.lang}.toml: '{key}' is a table, not a label; name a key inside it"
            )
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
    excluded: list[str] = field(default_factory=list)  # countries the question names that the filters leave out
    urls: dict[str, str] = field(default_factory=dict)  # doc_id -> the original address of each cited document


def source_url(address: str | None) -> str | None:
    """The original address of a document when its manifest or page gives a web address (http or https)."""
    address = (address or "").strip()
    return address if re.match(r"https?://[^\s<>\"']+$", address) else None


def cited_urls(assistant, answer: Answer) -> dict[str, str]:
    """doc_id -> original address, for the documents an answer cites or offers as related."""
    try:
        docs = assistant.documents()
    except AssistantError:
        return {}
    out = {}
    for c in answer.citations + answer.related:
        doc = docs.get(c.source)
        url = source_url(doc.source) if doc else None
        if url:
            out[c.source] = url
    return out


def filter_chips(f: Filters, L: Labels) -> list[str]:
    """The active filters as short labels ("Year: 2013"), in the interface language; none when nothing filters."""
    chips = [f"{L('filters.country')}: {L.country(c)}" for c in f.countries]
    if f.language:
        chips.append(f"{L('filters.language')}: {L.language_name(f.language)}")
    chips += [f"{L('filters.document')}: {_short(s, 40)}" for s in f.sources]
    chips += [f"{L('filters.year')}: {y}" for y in f.years]
    return chips


def render_chips(f: Filters, L: Labels) -> str:
    chips = filter_chips(f, L)
    if not chips:
        return ""
    return (
        f'<p class="chips"><span class="chips-h">{md_safe(L("filters.active"))}</span> '
        + " ".join(f'<span class="chip">{md_safe(c)}</span>' for c in chips)
        + "</p>"
    )


def render_filtered(t: int, answer: Answer, turn: Turn, L: Labels) -> str:
    """What the filters left out of the question ("Year: 2013 leaves out Peru"), with a link that clears them and
    asks again; the sentence is the answer's own (prompts/<lang>.toml), in the asker's language."""
    what = ", ".join(L.country(c) for c in turn.excluded)
    filters = ", ".join(filter_chips(turn.filters, L))
    sentence = prompts.text(answer.language, "filters.excluded", filters=filters, what=what)
    return (
        f'<div class="filtered"><p class="filtered-h"><span class="icon">⚲</span> {md_safe(L("filters.left_out"))}</p>'
        f"<p>{md_safe(sentence)}</p>"
        f'<p><a class="refilter" href="#refilter-{t}">{md_safe(L("filters.clear_and_ask"))}</a></p></div>'
    )


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


def render_turn(t: int, turn: Turn, L: Labels) -> str:
    """One exchange's reply: its active filters, then the answer; when the filters left out what the question
    names, that comes first, and a refusal is replaced by it (the corpus does hold the answer)."""
    if turn.answer is None:
        return render_error(turn.error or "", L)
    chips = render_chips(turn.filters, L)
    if turn.excluded:
        filtered = render_filtered(t, turn.answer, turn, L)
        if turn.answer.abstained:
            return chips + filtered
        return chips + filtered + render_answer(t, turn.answer, L, turn.urls)
    return chips + render_answer(t, turn.answer, L, turn.urls)


def render_answer(t: int, answer: Answer, L: Labels, urls: dict[str, str] | None = None) -> str:
    """One answer as chat HTML: the text with numbered links, then its sources (or the abstention box)."""
    if answer.abstained:
        return render_abstention(t, answer, L)
    urls = urls or {}
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
            title, rest = md_safe(header.group(1)), _inline(header.group(2), t, known, L)
            parts.append(f'<p class="group"><strong>{title}</strong>{rest}</p>')
        else:
            parts.append(f"<p>{_inline(line, t, known, L)}</p>")
    flush()
    if answer.citations:
        parts.append(f'<div class="sources"><p class="sources-h">{md_safe(L("answer.sources"))}</p><ol>')
        for c in answer.citations:
            where = _where(c, L)
            parts.append(
                f"<li>{_cite_link('cite', t, c.n, f'[{c.n}]', L('answer.cite_hint', n=c.n))} "
                f"{_cite_link('cite', t, c.n, md_safe(c.title), c.source)}"
                + (f' <span class="where">— {md_safe(where)}</span>' if where else "")
                + _original_link(urls.get(c.source), L)
                + "</li>"
            )
        parts.append("</ol></div>")
    parts.append("</div>")
    return "".join(parts)


def _original_link(url: str | None, L: Labels) -> str:
    if not url:
        return ""
    return (
        f' <a class="original" href="{esc(url)}" target="_blank" rel="noopener noreferrer" '
        f'title="{esc(url)}">{md_safe(L("source.original_link"))}</a>'
    )


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
    return (
        f'<div class="failure"><p class="failure-h"><span class="icon">⚠</span> {md_safe(L("answer.error_title"))}</p>'
        f"<p>{md_safe(message)}</p></div>"
    )


def render_writing(text: str, L: Labels) -> str:
    """The LLM's answer while it is written: inert text under a note that it is not verified yet."""
    lines = "".join(f"<p>{md_safe(line.strip())}</p>" for line in text.splitlines() if line.strip())
    return f'<div class="writing"><p class="writing-h">{md_safe(L("answer.writing"))}</p>{lines}</div>'


def messages(turns: list[Turn], L: Labels, pending: str | None = None, writing: str | None = None) -> list[dict]:
    """The conversation in the Chatbot's message format; `writing` is the pending question's answer so far."""
    out = []
    for t, turn in enumerate(turns):
        out.append({"role": "user", "content": md_safe(turn.question)})
        out.append({"role": "assistant", "content": render_turn(t, turn, L)})
    if pending is not None:
        out.append({"role": "user", "content": md_safe(pending)})
        if writing is not None:
            out.append({"role": "assistant", "content": render_writing(writing, L)})
    return out


def input_problem(text: str, limit: int, L: Labels) -> str | None:
    """Why a question is not sent, in the interface language: "" for an empty box (nothing to say, nothing
    sent), a message for a question over `limit` characters or in neither French nor English; None to send it."""
    text = (text or "").strip()
    if not text:
        return ""
    if len(text) > limit:
        return L("input.too_long", n=len(text), limit=limit)
    if other_language(text):
        return L("input.other_language")
    return None


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
    answer = turns[t].answer if t < len(turns) else None
    if answer is None:
        return None
    pool = answer.citations if m.group(1) == "cite" else answer.related
    return next((c for c in pool if c.n == n), None)


def first_source(turns: list[Turn]) -> str | None:
    """The key of the last answer's first source (or related passage), opened at once in the source panel."""
    t = len(turns) - 1
    answer = turns[t].answer if turns else None
    if answer is None:
        return None
    pool = answer.related if answer.abstained else answer.citations
    return f"{'rel' if answer.abstained else 'cite'}-{t}-{pool[0].n}" if pool else None


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
    url = document_url(assistant, c.source)
    if url:
        rows += (
            f'<dt>{esc(L("source.original"))}</dt><dd><a class="original" href="{esc(url)}" target="_blank" '
            f'rel="noopener noreferrer">{esc(url)}</a></dd>'
        )
    head = (
        f'<div class="source"><p class="src-title"><span class="src-n">[{c.n}]</span> {esc(c.title)}</p>'
        f'<dl class="src-meta">{rows}</dl>'
    )
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
    window = (
        ("… " if a > 0 else "")
        + esc(text[a:start])
        + f"<mark>{esc(text[start:end])}</mark>"
        + esc(text[end:b])
        + (" …" if b < len(text) else "")
    )
    full = esc(text[:start]) + f'<mark class="in-doc">{esc(text[start:end])}</mark>' + esc(text[end:])
    open_full = esc(L("source.open_full", chars=f"{len(text):,}".replace(",", " ")))
    return (
        head + f'<blockquote class="src-window">{window}</blockquote>'
        f'<details class="src-full"><summary>{open_full}</summary>'
        f'<div class="doc-text">{full}</div></details></div>'
    )


def document_url(assistant, doc_id: str) -> str | None:
    """The original address of an indexed document (manifest, or the page's own canonical address), if any."""
    try:
        doc = assistant.documents().get(doc_id)
    except AssistantError:
        return None
    return source_url(doc.source) if doc else None


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
    if (
        c.start is not None
        and c.end is not None
        and text[c.start : c.end].strip()
        and (c.generation is None or _at_offsets(c, text))
    ):
        return c.start, c.end
    return cite.locate(c.quote, text)


# -- comparable practices and coverage ---------------------------------------------------------


def render_practices(groups: list[explore.PracticeGroup], L: Labels, excluded: str = "") -> str:
    """The comparable practices as cards: each leads with its practice sentence, then names its action and the
    country it was carried out in; every quote opens in the tab's source panel ("#prac-<group>-<n>", 0 the lead)."""
    if not groups:
        return f'<div class="practices empty">{esc(L("similar.none"))}</div>'
    n = sum(len(g.passages) for g in groups)
    parts = [f'<div class="practices"><p class="practices-h">{esc(L("similar.heading", n=n, groups=len(groups)))}</p>']
    if excluded:
        parts.append(f'<p class="note">{esc(L("similar.excluded", what=excluded))}</p>')
    for i, g in enumerate(groups):
        where = ", ".join(L.country(c) for c in g.countries)
        facts = [
            (L("similar.carried_out"), where),
            (L("similar.years"), g.years or ""),
            (L("similar.themes"), ", ".join(L.theme(t) for t in g.themes[:5])),
        ]
        parts.append('<div class="practice">')
        if g.lead is not None:
            parts.append(f'<p class="practice-lead">« {esc(g.lead.quote)} » {_open_link(i, 0, L)}</p>')
        head = (g.action or L("similar.no_action")) + (f" — {where}" if where else "")
        parts.append(f'<p class="practice-h">{esc(head)}</p>')
        parts.append(
            '<p class="practice-facts">'
            + "".join(f"<span><b>{esc(k)}</b> {esc(v)}</span>" for k, v in facts if v)
            + "</p><ul>"
        )
        for c in g.passages:
            src = " · ".join(x for x in (c.title, c.section or "", str(c.year or "")) if x)
            parts.append(
                f'<li><blockquote>{esc(c.quote)}</blockquote><p class="practice-src">{esc(src)} '
                f"{_open_link(i, c.n, L)}</p></li>"
            )
        parts.append("</ul></div>")
    parts.append("</div>")
    return "".join(parts)


def _open_link(group: int, n: int, L: Labels) -> str:
    return f'<a class="open-src" href="#prac-{group}-{n}">{esc(L("similar.open"))} ↗</a>'


def find_practice(groups: list[explore.PracticeGroup], key: str) -> Citation | None:
    """The passage a card's link points at: "prac-<group>-<n>", n 0 for the card's lead sentence."""
    m = re.fullmatch(r"prac-(\d+)-(\d+)", (key or "").strip())
    if not m or int(m.group(1)) >= len(groups):
        return None
    g, n = groups[int(m.group(1))], int(m.group(2))
    return g.lead if n == 0 else next((c for c in g.passages if c.n == n), None)


def render_cell(assistant, cov: explore.Coverage, row: int, col: int, L: Labels) -> str:
    """The passages behind one cell of the coverage table (row: a country; col: a theme, or the total)."""
    if not (0 <= row < len(cov.countries)) or col < 1:
        return f'<p class="note">{esc(L("coverage.cell_hint"))}</p>'
    country = cov.countries[row]
    theme = cov.themes[col - 1] if col - 1 < len(cov.themes) else None
    passages = explore.cell_passages(assistant, country, theme)
    theme_name = L.theme(theme) if theme else L("coverage.total")
    if not passages:
        return f'<p class="note">{esc(L("coverage.cell_none", country=L.country(country), theme=theme_name))}</p>'
    total = cov.count(country, theme) if theme else cov.totals.get(country, 0)
    parts = [
        f'<p class="cell-h">{esc(L("coverage.cell", n=total, country=L.country(country), theme=theme_name))}</p><ul>'
    ]
    for c in passages:
        src = " · ".join(x for x in (c.title, c.action or "", str(c.year or "")) if x)
        url = document_url(assistant, c.source)
        link = _original_link(url, L)
        parts.append(f'<li><blockquote>{esc(c.quote)}</blockquote><p class="practice-src">{esc(src)}{link}</p></li>')
    parts.append("</ul>")
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
                ax.text(
                    j, i, str(v), ha="center", va="center", fontsize=7, color="white" if v > high * 0.55 else "#1f2937"
                )
    fig.colorbar(im, ax=ax, fraction=0.03, pad=0.02, label=L("coverage.y"))
    fig.tight_layout()
    plt.close(fig)
    return fig


# -- export ------------------------------------------------------------------------------------


def export_markdown(turns: list[Turn], L: Labels) -> str:
    """The conversation as Markdown with each answer's citations (document text HTML-escaped).

    Each quote appears once: a source's quote is printed under it only when the answer's text does not
    already quote it. Sources carry their original address when the corpus gives one.
    """
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
        if turn.excluded:
            what = ", ".join(L.country(c) for c in turn.excluded)
            excluded = prompts.text(a.language, "filters.excluded", filters=_filters_text(turn.filters, L), what=what)
            out += [f"> {_plain(excluded)}", ""]
        if a.interpreted_as:
            out += [f"_{L('export.interpreted_as')}: {_plain(a.interpreted_as)}_", ""]
        out += [_plain(a.answer), ""]
        said = cite.fold_ws(a.answer)
        cited = a.related if a.abstained else a.citations
        if cited:
            out += [f"### {L('export.related') if a.abstained else L('export.sources')}", ""]
            for c in cited:
                where = _where(c, L)
                url = turn.urls.get(c.source)
                out.append(
                    f"{c.n}. **{_plain(c.title)}**"
                    + (f" — {_plain(where)}" if where else "")
                    + f" — `corpus/{c.source}`"
                    + (f" — <{url}>" if url else "")
                )
                if cite.fold_ws(c.quote) not in said:
                    out.append(f"   > « {_plain(' '.join(c.quote.split()))} »")
            out.append("")
    return "\n".join(out).rstrip() + "\n"


def write_atomic(folder: Path, name: str, text: str) -> Path:
    """Write folder/name whole or not at all (see store.write_atomic)."""
    return store.write_atomic(folder / name, text)


def _filters_text(f: Filters, L: Labels) -> str:
    bits = [
        ", ".join(L.country(c) for c in f.countries),
        L.language_name(f.language) if f.language else "",
        ", ".join(f.sources),
        ", ".join(str(y) for y in f.years),
        f.action or "",
    ]
    return " · ".join(b for b in bits if b)


@dataclass
class FilterChoices:
    """What the index offers to filter on (codes, doc ids, slugs); `problem` says why it offers nothing."""

    countries: list[str] = field(default_factory=list)
    documents: list[tuple[str, str]] = field(default_factory=list)  # (title, doc_id)
    years: list[int] = field(default_factory=list)
    actions: list[str] = field(default_factory=list)
    themes: list[str] = field(default_factory=list)
    problem: str = ""


def filter_choices(assistant) -> FilterChoices:
    """What the filters offer, from the catalog alone (cheap: the retriever is not built for this)."""
    try:
        docs = assistant.documents()
    except AssistantError as err:
        return FilterChoices(problem=str(err))
    countries = sorted({c for d in docs.values() for c in d.countries})
    themes_seen = {t for d in docs.values() for t in d.themes}
    return FilterChoices(
        countries=countries,
        documents=sorted(((d.title, d.doc_id) for d in docs.values()), key=lambda x: x[0].lower()),
        years=sorted({d.year for d in docs.values() if d.year}, reverse=True),
        actions=sorted({a for d in docs.values() for a in d.actions}),
        themes=[t for t in tag.THEMES if t in themes_seen],
    )


def dropdown_choices(ch: FilterChoices, L: Labels) -> dict[str, list[tuple[str, str]]]:
    """Dropdown choices (label, value) in the interface language; values are ISO codes, doc ids, slugs."""
    countries = sorted(((L.country(c), c) for c in ch.countries), key=lambda x: x[0])
    return {
        "countries": countries,
        "languages": [
            (L("filters.language_any"), "any"),
            (L("filters.language_fr"), "fr"),
            (L("filters.language_en"), "en"),
        ],
        "documents": [(_short(t), d) for t, d in ch.documents],
        "years": [(str(y), str(y)) for y in ch.years],
        "actions": [(a, a) for a in ch.actions],
        "themes": [(L.theme(t), t) for t in ch.themes],
    }


def _short(title: str, n: int = 90) -> str:
    return title if len(title) <= n else title[: n - 1] + "…"


def filters_json(f: Filters) -> dict:
    """The filters that are set, as the JSON a feedback record keeps."""
    return {
        k: v
        for k, v in {
            "countries": f.countries,
            "language": f.language,
            "sources": f.sources,
            "years": f.years,
            "action": f.action,
            "section": f.section,
        }.items()
        if v
    }
