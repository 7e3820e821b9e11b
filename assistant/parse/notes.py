"""Parsing: the PDF repair of what page layout leaves in the text: footnote markers and bodies,
running headers and page numbers, link annotations."""

from __future__ import annotations

import re
from collections import Counter

from .parts import FUNCTION_WORDS, SENTENCE_END, URL, heading_like, is_caps
from .title import date_year

_URL_LINE = re.compile(r"^(?:https?://|www\.)\S+(?:\s+\S*/\S*)*$", re.IGNORECASE)
_PAGE_NUMBER = re.compile(
    r"^(?:\d{1,3}|(\d{1,3})\1|(?:page|p\.)\s*\d{1,4}(?:\s*(?:/|of|sur|de)\s*\d{1,4})?)$", re.IGNORECASE
)
_FOOTNOTE_START = re.compile(r"^(\d{1,4})\s+(?=(?:[A-ZÀ-ÖØ-Þ«“\"]|https?://|www\.))(.+)$")
_LONE_NUMBER = re.compile(r"^\d{1,3}$")
# A marker glued to a word or a sentence end: "Caraïbes.2", "migrants4 et", "(POS)8", "en 2007.6".
_GLUED_MARKER = re.compile(r"(?:(?<=[a-zà-öø-ÿœ])|(?<=[.,;:!?»”)\]’]))(\d{1,3})(?![\d%])")
_DECIMAL_BEFORE = re.compile(r"(?<![\d.,])\d{1,3}[.,]$")  # "1,5" and "10.7" are numbers, not markers
# A marker standing alone after an acronym: "MERCOSUR 1 a réduit".
_SPACED_MARKER = re.compile(r"(?<=[A-ZÀ-Þ]{2}) (\d{1,3})(?= [a-zà-öø-ÿ])")


def take_footnotes(lines: list[str]) -> tuple[list[str], list[tuple[int, list[str]]]]:
    """Lift footnote bodies out of the running text, so they never land inside a sentence.

    Notes are numbered in order and sit after a blank line, a page number or another note, in two
    shapes: "1 Des mécanismes ..." on one line, or "1" alone followed by " Déclaration ...".
    """
    notes: list[tuple[int, list[str]]] = []
    kept: list[str] = []
    markers = _marker_numbers("\n".join(lines))  # anywhere: columns can put a note before its marker
    last = 0
    note_end = -1
    i = 0
    while i < len(lines):
        previous = kept[-1].strip() if kept else ""
        found = None
        if not previous or _LONE_NUMBER.match(previous):
            found = _footnote_at(lines, i, last, markers, trusted=(i == note_end))
        if found is None:
            kept.append(lines[i])
            i += 1
            continue
        number, body, i = found
        note = [body]
        # An unfinished body goes on over lines in lower case or URLs; after "voir :" a blank may come first.
        while i < len(lines) and not SENTENCE_END.search(note[-1]):
            nxt = lines[i].strip()
            # A line opening with a space starts the next page in these extractions.
            page_start = lines[i].startswith(" ") and not _URL_LINE.match(nxt)
            if nxt and not page_start and (nxt[0].islower() or _URL_LINE.match(nxt) or ends_open(note[-1])):
                if _footnote_at(lines, i, number, set(), trusted=True):
                    break
                note[-1:] = _extend_note(note[-1], nxt)
                i += 1
            elif not nxt and note[-1].rstrip().endswith((":", "-")) and _is_note_tail(lines, i + 1):
                i += 1
            else:
                break
        notes.append((number, note))
        kept.append("")  # the note leaves a break behind it, not a join
        last, note_end = number, i
    return kept, notes


def _extend_note(line: str, nxt: str) -> list[str]:
    """Add a line to a note; a link annotation that completes a URL cut at the line end replaces it."""
    words = line.split()
    if words and URL.match(words[-1]) and _URL_LINE.match(nxt) and _url_key(nxt).startswith(_url_key(words[-1])):
        return [line[: line.rstrip().rfind(words[-1])] + nxt]
    return [line, nxt]


def _is_note_tail(lines: list[str], i: int) -> bool:
    nxt = lines[i].strip() if i < len(lines) else ""
    return bool(nxt) and (nxt[0].islower() or bool(_URL_LINE.match(nxt)))


def ends_open(line: str) -> bool:
    words = line.rstrip().split()
    return bool(words) and (line.rstrip().endswith((",", "-")) or words[-1].lower() in FUNCTION_WORDS)


def _footnote_at(
    lines: list[str], i: int, last: int, markers: set[int], trusted: bool = False
) -> tuple[int, str, int] | None:
    """(number, body, next index) if a note numbered last+1..last+3 starts at line i.

    Unless `trusted` (it follows another note), its number must be among the `markers` of the text;
    a marker lost in extraction is forgiven once the document has shown real notes, for a body of a
    few words or a URL, or when the next note follows at once.
    """
    if i >= len(lines):
        return None
    stripped = lines[i].strip()
    match = _FOOTNOTE_START.match(stripped)
    if match:
        digits, rest, nxt = match.group(1), match.group(2), i + 1
    elif _LONE_NUMBER.match(stripped) and i + 1 < len(lines) and _FOOTNOTE_START.match("0 " + lines[i + 1].strip()):
        digits, rest, nxt = stripped, lines[i + 1].strip(), i + 2
    else:
        return None
    if is_caps(rest):
        return None  # "3 OBJECTIFS SPÉCIFIQUES" is a heading
    if date_year(stripped) is not None:
        return None  # "01 December 2020" above a news page dates it
    number = int(digits)
    if not last < number <= last + 3:
        # A page number glued to the note number: "2311 Action MIEUX ..." is page 23, note 11.
        glued = [n for n in (last + 1, last + 2) if digits.endswith(str(n)) and 0 < len(digits) - len(str(n)) <= 3]
        if not glued:
            return None
        number = glued[0]
    if not trusted and number not in markers:
        looks_like_note = len(rest.split()) >= 4 or URL.match(rest)
        if not (last and looks_like_note) and not _footnote_at(lines, nxt, number, set(), trusted=True):
            return None
    return number, f"{number} {rest}", nxt


def _marker_numbers(text: str) -> set[int]:
    """Numbers that appear as footnote markers somewhere in the text."""
    glued = {int(m.group(1)) for line in text.split("\n") for m in _glued_markers(line)}
    return glued | {int(m.group(1)) for m in _SPACED_MARKER.finditer(text)}


def _glued_markers(line: str) -> list[re.Match]:
    urls = [m.span() for m in URL.finditer(line)]
    return [
        m
        for m in _GLUED_MARKER.finditer(line)
        if not any(a <= m.start() < b for a, b in urls)  # "volume3_1" in a link is no marker
        and not _DECIMAL_BEFORE.search(line[max(0, m.start() - 8) : m.start()])
    ]


def drop_markers(lines: list[str], numbers: set[int]) -> list[str]:
    """Remove footnote markers from the running text, each once, in order: "Caraïbes.2" -> "Caraïbes."."""
    if not numbers:
        return lines
    done: set[int] = set()
    out = []
    for line in lines:

        def spaced(match: re.Match) -> str:
            number = int(match.group(1))
            if number in numbers and number == max(done, default=0) + 1:
                done.add(number)
                return ""
            return match.group(0)

        line = _SPACED_MARKER.sub(spaced, line)
        for match in reversed(_glued_markers(line)):
            number = int(match.group(1))
            if number in numbers and number not in done and number <= max(done, default=0) + 3:
                done.add(number)
                line = line[: match.start()] + line[match.end() :]
        out.append(line)
    return out


def drop_furniture(lines: list[str], notes: list[tuple[int, list[str]]]) -> tuple[list[str], list[str]]:
    """Remove page numbers, running titles and bare URL lines that repeat a footnote's URL.

    Returns the lines kept and the running titles removed, most repeated first.
    """

    def blank(j: int) -> bool:
        return j < 0 or j >= len(lines) or not lines[j].strip()

    stripped = [line.strip() for line in lines]
    counts = Counter(s for s in stripped if s)
    drop: set[int] = set()
    for i, s in enumerate(stripped):
        if s and _PAGE_NUMBER.match(s) and blank(i - 1) and blank(i + 1):
            drop.add(i)

    # Running titles: a line repeated elsewhere that stands next to a page number.
    running = set()
    for i in drop:
        for j in (_neighbour(stripped, i, -1), _neighbour(stripped, i, +1)):
            if (
                j is not None
                and blank(j - 1)
                and blank(j + 1)
                and counts[stripped[j]] >= 2
                and len(stripped[j].split()) >= 3
                and len(stripped[j]) <= 100
                and not heading_like(stripped[j])
            ):
                running.add(stripped[j])
    # Or a longer line repeated 3+ times on its own, that is not a heading.
    for s, n in counts.items():
        if (
            n >= 3
            and len(s.split()) >= 5
            and len(s) <= 100
            and not heading_like(s)
            and not ends_open(s)
            and not SENTENCE_END.search(s)
        ):
            running.add(s)
    for i, s in enumerate(stripped):
        if s in running and blank(i - 1) and blank(i + 1):
            drop.add(i)

    # Bare URL lines that repeat a URL given in a footnote or in the text (link annotations).
    urls = [_url_key(u) for _, note in notes for u in URL.findall(" ".join(note))]
    for s in stripped:
        if s and not _URL_LINE.match(s):
            urls += [_url_key(u) for u in URL.findall(s)]
    for i, s in enumerate(stripped):
        if s and _URL_LINE.match(s):
            key = _url_key(s)
            # A prefix either way: annotations are often cut ("...-du-devel") or cut the note's URL.
            if any(len(k) >= 10 and (k.startswith(key) or key.startswith(k)) for k in urls):
                drop.add(i)
            urls.append(key)  # a second copy of the same bare URL is a repeat too
    return [line for i, line in enumerate(lines) if i not in drop], sorted(running, key=lambda s: -counts[s])


def _neighbour(stripped: list[str], i: int, step: int) -> int | None:
    j = i + step
    while 0 <= j < len(stripped) and abs(j - i) <= 3:
        if stripped[j]:
            return j
        j += step
    return None


def _url_key(url: str) -> str:
    key = re.sub(r"\s+", "", url).lower()
    key = re.sub(r"^(?:https?://)?(?:www\.)?", "", key)
    return key.rstrip("/.")
