"""Parsing: the title and year of a document without a manifest row."""

from __future__ import annotations

import re
from functools import lru_cache

from assistant import resources, tag
from assistant.text import fold, squeeze_spaces
from assistant.types import Block

from .parts import FUNCTION_WORDS, NUMBER, SENTENCE_END, FileHints, is_caps


def _file_title(stem: str) -> str:
    """A title from a file name: "mieux_action_perou_iii_fr" -> "MIEUX action Pérou III".

    The language code at its end goes, known acronyms and roman numerals get their case back, a
    year glued to a word comes apart ("lagos2025") and country names are respelled.
    """
    tokens = [t for t in re.split(r"[_\-\s.]+", stem) if t]
    if len(tokens) > 1 and tokens[-1].lower() in _LANGUAGE_CODES:
        tokens.pop()
    words = []
    for token in tokens:
        if token.lower() not in _title_words() and not re.fullmatch(r"[0-9a-f]{8,}", token):  # a hash stays whole
            token = re.sub(r"(?<=[^\W\d_]{3})(?=\d)|(?<=\d)(?=[^\W\d_]{3})", " ", token)
        words += [_written(word) for word in token.split()]
    text = tag.respell_countries(" ".join(words))
    return (text[:1].upper() + text[1:]) if text else stem


_LANGUAGE_CODES = frozenset({"en", "fr", "eng", "fra", "fre"})
_ROMAN_NUMERAL = re.compile(r"(?:i{1,3}|iv|vi{0,3}|ix|x)", re.IGNORECASE)


def _written(word: str) -> str:
    """A word as it is written in a title: "thb" -> "THB", "iii" -> "III", others unchanged."""
    known = _title_words().get(word.lower())
    if known:
        return known
    return word.upper() if _ROMAN_NUMERAL.fullmatch(word) else word


# --------------------------------------------------------------------------------------------
# Title and year of a document without a manifest row

_TITLE_MAX_WORDS = 30
_TITLE_MIN_WORDS = (
    4  # a shorter first line is completed by the next title-like line ("MIgration EU eXpertise" / "2009-2015")
)
_RUNNING_TEXT_WORDS = 35  # a block this long is body text, even without a full stop
_SENTENCE_WORDS = 8  # a sentence of this many words that ends with a full stop is body text
_DATE_BLOCKS = 8  # a page's date stands among its first blocks
_JUNK_TITLE = re.compile(
    r"^(?:microsoft (?:word|powerpoint|excel) - |untitled|sans titre|document ?\d*$|slide \d|diapositive \d)"
    r"|\.(?:docx?|pdf|indd|pptx?|odt|rtf|txt)$",
    re.IGNORECASE,
)


def infer_title(blocks: list[Block], hints: FileHints, stem: str) -> str:
    """The title of a document without a manifest row, from the first source that gives a real one.

    In order: the file's own metadata or layout (a web page's og:title, <h1> and <title>; a Word
    file's "Title" paragraph and title property; a PDF's largest first-page text and title
    property), the title-like lines that open the text, a running header, and last the file name.
    Generic section names ("Background", "Contexte de l'atelier"), metadata lines ("Experts
    involved: Spain"), dates and numbered section headings are never titles.

    >>> blocks = [Block("heading", "Description", 0, 11, "Description")]
    >>> infer_title(blocks, FileHints(), "mieux_action_thailand_ii_thb_en")
    'MIEUX action Thailand II THB'
    """
    for candidate in [*hints.titles, _leading_title(blocks), *hints.running]:
        if candidate and _usable_title(candidate):
            return _tidy_title(candidate)
    return _file_title(stem)


def _leading_title(blocks: list[Block]) -> str:
    """The title-like lines that open the text, before its body ("" if the body comes first)."""
    title = ""
    for b in blocks:
        # A title may look like a row of names ("debris"), never like a metadata line.
        if b.not_content not in (None, "debris") or b.section == "Notes":
            continue
        if _running_text(b) or (b.kind == "heading" and _generic_section(b.text)):
            break  # the body has begun ("Description", "Liste d'abréviations")
        text = b.text
        if not title:
            if b.kind != "bullet" and _title_like(text) and _usable_title(text):
                title = text
        elif len(title.split()) < _TITLE_MIN_WORDS and _title_like(text) and not _generic_section(text):
            title = f"{title} {text}"
        else:
            break
    return title


def _running_text(b: Block) -> bool:
    n = len(b.text.split())
    return b.kind != "heading" and (
        n >= _RUNNING_TEXT_WORDS or (n >= _SENTENCE_WORDS and bool(SENTENCE_END.search(b.text)))
    )


def _title_like(text: str) -> bool:
    return len(text.split()) <= _TITLE_MAX_WORDS and not re.search(r"[.;,]$|\.\s+[A-ZÀ-Þ]", text.strip())


def _usable_title(text: str) -> bool:
    text = squeeze_spaces(text)
    words = text.split()
    if not words or len(words) > _TITLE_MAX_WORDS:
        return False
    if sum(1 for w in words if re.search(r"[^\W\d_]{2}", w)) < 2:
        return False  # "MAP", "2018", "A/RES/73/195"
    return not (
        _generic_section(text)
        or tag.line_kind(text)
        or date_year(text) is not None
        or NUMBER.match(text)  # "1. What is MIEUX?" numbers a section
        or _JUNK_TITLE.search(text)
    )


def _tidy_title(text: str) -> str:
    text = squeeze_spaces(text).strip(' :;,-–—«»“”"')
    if is_caps(text):
        # "RENFORCER L'ACTION ... AU PÉROU" -> "Renforcer l'action ... au Pérou"
        text = " ".join(_written(w) if w.isalnum() else w for w in text.lower().split())
        text = tag.respell_countries(text[:1].upper() + text[1:])
    return text[:300]


def _title_key(text: str) -> str:
    return " ".join(re.findall(r"\w+", fold(text)))


@lru_cache(maxsize=1)
def _section_names() -> frozenset[str]:
    rows = resources.table("section_names.tsv", ("fr", "en", "fr_example", "en_example"))
    return frozenset(_title_key(name) for row in rows for side in row[:2] for name in side.split("|") if name.strip())


def _generic_section(text: str) -> bool:
    """A heading that names a part of any document ("Background", "Contexte de l'atelier", "Introduction et
    session d'ouverture"), not one document."""
    key = _title_key(NUMBER.sub("", text.strip()))
    names = _section_names()
    if key in names:
        return True
    if any(all(piece in names for piece in key.split(joint)) for joint in (" et ", " and ") if joint in key):
        return True
    # A name and a short complement: "contexte de l atelier", "background to the action".
    for name in names:
        if key.startswith(name + " "):
            rest = key[len(name) + 1 :].split()
            if rest[0] in FUNCTION_WORDS and len(rest) <= 4:
                return True
    return False


@lru_cache(maxsize=1)
def _title_words() -> dict[str, str]:
    rows = resources.table("title_words.tsv", ("word", "file_name", "title"))
    return {row[0].lower(): row[0] for row in rows}


@lru_cache(maxsize=1)
def _date_pattern() -> re.Pattern:
    """A date in words, folded: "[weekday] [day] month [day,] year"."""
    rows = resources.table("months.tsv", ("fr", "en", "fr_example", "en_example"))
    names = {_title_key(name) for row in rows for side in row[:2] for name in side.split("|") if name.strip()}
    months = "|".join(sorted(names, key=len, reverse=True))
    weekday = r"(?:[^\W\d_]+ (?=\d))?"
    day_before = r"(?:\d{1,2}(?:er|st|nd|rd|th)? )?"
    day_after = r"(?:\d{1,2}(?:st|nd|rd|th)? )?"
    return re.compile(rf"{weekday}{day_before}(?:{months}) {day_after}((?:19|20)\d\d)")


_NUMERIC_DATE = re.compile(r"((?:19|20)\d\d)-\d{1,2}-\d{1,2}(?:[T ][\d:.+Z-]*)?|\d{1,2} \d{1,2} ((?:19|20)\d\d)")


def date_year(text: str) -> int | None:
    """The year of a text that is only a date ("Mercredi 27 Novembre 2013", "December 17, 2020", "2020-12-17")."""
    text = text.strip()
    if len(text) > 40 or not re.search(r"(?:19|20)\d\d", text):
        return None
    key = _title_key(text) if not re.match(r"^\d{4}-\d", text) else text
    m = _date_pattern().fullmatch(key) or _NUMERIC_DATE.fullmatch(key)
    if m is None:
        return None
    year = int(next(g for g in m.groups() if g))
    return year if tag.YEAR_MIN <= year <= tag.YEAR_MAX else None


# "PORTO AND BRUSSELS, 1 December 2015 - Senior officials…": a press release's dateline.
_DATELINE = re.compile(r"^(?P<place>[A-ZÀ-Þ][A-ZÀ-Þ'’ .,&-]{1,60}),\s+(?P<date>[^-–—]{6,40}?)\s+[-–—]\s")


def infer_year(blocks: list[Block], hints: FileHints) -> int | None:
    """The year a document was published, when it says so; else None.

    From, in order: the file's metadata (a web page's article:published_time, <time datetime>), a
    date standing alone among the first blocks ("17 December 2020" under a news title), a
    "Published: …" line, a press release's dateline ("PORTO, 1 December 2015 - …"). The years an
    action ran ("Duration: March 2017 - January 2018") and years in a title ("MIEUX en 2018 :
    Rapport annuel", published in 2019) are not the year of the document: the action carries its
    own period.

    >>> infer_year([Block("paragraph", "11 June 2019", 0, 12, None)], FileHints())
    2019
    """
    for date in hints.dates:
        year = date_year(date) or date_year(date[:10])
        if year:
            return year
    for b in [b for b in blocks if b.section != "Notes"][:_DATE_BLOCKS]:
        year = date_year(b.text)
        if year is None and (b.not_content == "published" or tag.line_kind(b.text) == "published"):
            found = tag.find_years(b.text)
            year = found[0] if found else None
        if year is None:
            m = _DATELINE.match(b.text)
            year = date_year(m.group("date")) if m and m.group("place").isupper() else None
        if year:
            return year
    return None
