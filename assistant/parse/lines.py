"""Parsing: plain text (and PDF text) lines -> parts: headings, bullets, paragraphs, and the words
hyphenated at line ends joined again."""

from __future__ import annotations

import re
import statistics

from assistant import tag
from assistant.errors import BadDocument
from assistant.text import squeeze_spaces

from .notes import drop_furniture, drop_markers, ends_open, take_footnotes
from .parts import NUMBER, SENTENCE_END, WORDS, Part, caps_heading, heading_like, is_caps, known_heading, normalise

_SYMBOL_BULLET = re.compile(r"^(?:[•■▪●◦▫□►▸‣⁃∙]\s*|[-–—*]\s+)")
_ENUMERATOR = re.compile(NUMBER.pattern + r"\S")
_DATE_LINE = re.compile(r"^(?:\w+,?\s+)?(?:\d{1,2}(?:er)?\s+[^\W\d]+|[^\W\d]+\s+\d{1,2},?)\s+\d{4}$")
_MARKDOWN_HEADING = re.compile(r"^#{1,6}\s+")
_SITE_ADDRESS = re.compile(r"^(?:https?://)?www\.[\w-]+(?:\.[\w-]+)+/?$", re.IGNORECASE)
# Halves of real compounds broken at a line end: keep their hyphen.
_COMPOUND_LEFT = frozenset(WORDS["compounds"]["left"])
_COMPOUND_RIGHT = frozenset(WORDS["compounds"]["right"])


def text_parts(text: str, doc_id: str) -> tuple[list[Part], list[str]]:
    """Clean extracted text: lift footnotes, drop page furniture and markers, then group the lines.

    Returns the parts and the running titles removed as page furniture, most repeated first.
    """
    text = normalise(text).replace("**", "")
    if not text.strip():
        raise BadDocument(doc_id, "the file contains only whitespace", "fill it with the document's text or remove it")
    lines = [line.rstrip() for line in text.split("\n")]
    vocabulary = _Vocabulary(text)
    lines, notes = take_footnotes(lines)
    lines, running = drop_furniture(lines, notes)
    lines = drop_markers(lines, {number for number, _ in notes})
    layout = _Layout(lines)
    # A site address alone between blank lines is a page's footer: what follows it (a back cover, the
    # next box) is not part of the section above.
    parts = [
        Part("break") if p.kind == "paragraph" and len(p.lines) == 1 and _SITE_ADDRESS.match(p.lines[0].strip()) else p
        for p in _group(lines, layout)
    ]
    parts += [Part("paragraph", note_lines, section="Notes") for _, note_lines in notes]
    for part in parts:
        if part.lines:
            part.lines = [_join_lines(part.lines, vocabulary)]
    return parts, running


class _Vocabulary:
    """Words of the document, to decide whether a hyphen broken at a line end was a real one."""

    def __init__(self, text: str):
        tokens = re.findall(r"[^\W\d_]+(?:-[^\W\d_]+)*", text.lower())
        self.words = {t for t in tokens if "-" not in t}
        self.pairs: set[tuple[str, str]] = set()
        for token in tokens:
            pieces = token.split("-")
            self.pairs.update(zip(pieces, pieces[1:]))


class _Layout:
    """How the lines of a document are laid out: their usual width and whether blank lines double-space them."""

    width: float
    double_spaced: bool

    def __init__(self, lines: list[str]):
        lengths = sorted(len(line.strip()) for line in lines if line.strip())
        self.width = lengths[int(0.9 * (len(lengths) - 1))] if lengths else 0
        # Double spacing (seed 002): most runs of text are one line long and end mid-sentence.
        runs, run = [], []
        for line in lines + [""]:
            if line.strip():
                run.append(line.strip())
            elif run:
                runs.append(run)
                run = []
        singles = [r[0] for r in runs if len(r) == 1]
        open_ended = [s for s in singles if not SENTENCE_END.search(s)]
        self.double_spaced = (
            len(runs) >= 20
            and len(singles) >= 0.8 * len(runs)
            and len(open_ended) >= 0.5 * len(singles)
            and self.width <= 160
            and statistics.median(len(s) for s in singles) >= 0.5 * self.width
        )

    def wrapped(self, line: str) -> bool:
        """A line that ran to the right margin, so its paragraph probably goes on."""
        return self.width <= 160 and len(line.strip()) >= 0.75 * self.width


def _bullet_body(s: str) -> str | None:
    """The text of a bullet line without its symbol (enumerators like "a." are kept), else None."""
    symbol = _SYMBOL_BULLET.match(s)
    if symbol:
        return s[symbol.end() :].strip()
    if _ENUMERATOR.match(s):
        return s
    return None


def _group(lines: list[str], layout: _Layout) -> list[Part]:
    """Gather lines into headings, bullets and paragraphs."""
    stripped = [line.strip() for line in lines]
    parts: list[Part] = []
    current: Part | None = None
    gap = False  # a blank line since the last line of `current`

    def next_content(i: int) -> str | None:
        for s in stripped[i + 1 :]:
            if s:
                return s
        return None

    for i, s in enumerate(stripped):
        if not s:
            gap = True
            continue
        meta = tag.line_kind(s) if len(s) <= 300 else None
        if meta is not None:
            # "Experts involved: Spain", "Completed": a line of its own, never a heading or part of a paragraph.
            current = Part("paragraph", [s], not_content=meta)
            parts.append(current)
            gap = False
            continue
        kind, body = _classify(i, s, stripped, layout, current, next_content(i))
        if kind == "heading":
            if current is not None and current.kind == "heading" and _continues_heading(current.lines[-1], s, gap):
                current.lines.append(body)
            else:
                current = Part("heading", [body])
                parts.append(current)
        elif kind == "bullet":
            current = Part("bullet", [body])
            parts.append(current)
        elif (
            current is not None
            and current.kind in ("paragraph", "bullet")
            and current.not_content is None
            and _continues(current.lines[-1], s, gap, layout, current.kind)
        ):
            current.lines.append(s)
        elif (
            current is not None
            and current.kind == "heading"
            and not gap
            and is_caps(s)
            and ends_open(current.lines[-1])
        ):
            current.lines.append(s)  # "CONCEPT FLEXIBLE ET" / "APPROPRIATION"
        else:
            current = Part("paragraph", [s])
            parts.append(current)
        gap = False
    return [p for p in parts if any(line.strip() for line in p.lines)]


def _classify(
    i: int, s: str, stripped: list[str], layout: _Layout, current: Part | None, nxt: str | None
) -> tuple[str, str]:
    if _MARKDOWN_HEADING.match(s):
        return "heading", _MARKDOWN_HEADING.sub("", s)
    body = _bullet_body(s)
    if body is not None:
        # "1. Thailand: Targeted assistance to vulnerable groups" alone above its text numbers a heading.
        if _ENUMERATOR.match(s) and _title_heading(i, s, stripped, layout, current, nxt):
            return "heading", s
        return "bullet", body
    if known_heading(s) or caps_heading(s):
        return "heading", s
    if _title_heading(i, s, stripped, layout, current, nxt):
        return "heading", s
    return "text", s


def _title_heading(i: int, s: str, stripped: list[str], layout: _Layout, current: Part | None, nxt: str | None) -> bool:
    """A short line standing alone before body text: "Pérou (2017-2018)", "MIEUX et GAMM". Conservative."""
    core = NUMBER.sub("", s)  # without its number, if it has one
    words = core.split()
    if not (1 <= len(words) <= (10 if "," in core else 14)) or len(s) > 120:
        return False
    # "3 principles since 2008" is a heading; a lone figure ("130") from a side box is not.
    if not (core[0].isupper() or core[0].isdigit() and len(words) >= 3 and any(w.isalpha() for w in words)):
        return False
    if core.endswith((".", ",", ";", ":")) or ends_open(core) or ". " in core or layout.wrapped(s):
        return False
    if _DATE_LINE.match(core):
        return False  # "17 December 2020" above a news item dates it; it is not a section
    before_blank = i == 0 or not stripped[i - 1]
    after_blank = i + 1 >= len(stripped) or not stripped[i + 1]
    if not (before_blank and after_blank) or nxt is None:
        return False
    if (
        layout.double_spaced
        and current is not None
        and current.kind != "heading"
        and not SENTENCE_END.search(current.lines[-1])
    ):
        return False  # in double-spaced text a short line after an open sentence is its end
    if _bullet_body(nxt) is not None:
        return True
    if heading_like(nxt):
        return False  # "Experts involved: Spain" then "Description": a label, not a heading
    # Body text must follow: a run of lines of some length that ends a sentence.
    start = stripped.index(nxt, i + 1)
    end = start
    while end + 1 < len(stripped) and stripped[end + 1]:
        end += 1
    run = " ".join(stripped[start : end + 1])
    return len(run.split()) >= 8 and bool(re.search(r"[.!?:;][\"'»”’)\]]*$", run))


def _continues_heading(previous: str, s: str, gap: bool) -> bool:
    """Two heading lines that are one heading broken in two."""
    if not (is_caps(previous) and is_caps(s)) or known_heading(previous) or known_heading(s):
        return False
    if not gap:
        return not re.search(r"[.!?]$", previous.rstrip())
    return ends_open(previous) or previous.rstrip().endswith(":")


def _continues(previous: str, s: str, gap: bool, layout: _Layout, kind: str) -> bool:
    """Whether line `s` goes on the paragraph whose last line is `previous`."""
    if not previous.strip():
        return True  # a bullet symbol alone on its line: its text follows
    ended = bool(SENTENCE_END.search(previous))
    if gap and not layout.double_spaced:
        # Across a blank line only a sentence cut by a page break or a footnote goes on.
        return not ended and (s[0].islower() or _hyphen_end(previous))
    if _hyphen_end(previous) or s[0].islower() or s[0] in "»”),;:." or (not ended and ends_open(previous)):
        return True
    if ended:
        # A sentence ending at the margin may go on, unless a (double-spacing) blank line follows it.
        return not gap and kind != "bullet" and layout.wrapped(previous)
    # No final punctuation and a capital next: a wrap before a name, or a list of short lines.
    if kind == "bullet" and gap:
        return False  # "- Démanteler les réseaux" / "Les services publics ..."
    return layout.wrapped(previous) or _ends_with_name(previous)


def _hyphen_end(line: str) -> bool:
    return bool(re.search(r"[^\W\d_]-$|\u00ad$", line.rstrip()))


def _ends_with_name(line: str) -> bool:
    words = line.split()
    return bool(words) and bool(re.match(r"^[A-ZÀ-Þ][\w’'.-]*$", words[-1])) and len(words) > 1


def _join_lines(lines: list[str], vocabulary: _Vocabulary) -> str:
    text = lines[0].strip()
    for line in lines[1:]:
        text = _join(text, line.strip(), vocabulary)
    return squeeze_spaces(text.replace("\u00ad", ""))


def _join(left: str, right: str, vocabulary: _Vocabulary) -> str:
    """Join two lines, repairing a word hyphenated at the line end: "minis-" + "tère" -> "ministère"."""
    if not right:
        return left
    if left.endswith("\u00ad"):
        return left[:-1] + right
    token = left.rsplit(None, 1)[-1] if left.endswith("-") else ""
    match = re.search(r"([^\W\d_]+)-$", token)
    if not match or not right[0].isalpha():
        return left + " " + right
    token, fragment = token[:-1], match.group(1)
    word = re.match(r"[^\W\d_]+", right)
    following = word.group(0) if word else ""
    if _keep_hyphen(token, fragment, following, vocabulary):
        return left + right
    return left[:-1] + right


def _keep_hyphen(token: str, fragment: str, following: str, vocabulary: _Vocabulary) -> bool:
    if following[0].isupper():
        return True  # "Timor-" + "Leste", "États-" + "Unis"
    if re.search(r"[/.@]", token) or (fragment.isupper() and len(fragment) > 1):
        return True  # inside a URL, or after an acronym
    left, right = fragment.lower(), following.lower()
    if (left, right) in vocabulary.pairs:
        return True  # the document writes "left-right" elsewhere
    if left + right in vocabulary.words:
        return False  # the document writes "leftright" elsewhere
    if "-" in token.lstrip("-"):
        return True  # "peer-to-" + "peer"
    return left in _COMPOUND_LEFT or right in _COMPOUND_RIGHT
