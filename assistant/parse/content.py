"""Parsing: blocks that are not content (metadata lines, lists of links, tables and figures broken
into lines): kept in the text, never made passages."""

from __future__ import annotations

import re

from assistant import tag
from assistant.text import squeeze_spaces

from .parts import FUNCTION_WORDS, SENTENCE_END, Part, heading_like
from .title import date_year

# --------------------------------------------------------------------------------------------
# Blocks that are not content: metadata lines, lists of links, tables and figures broken into lines

_LINK = re.compile(r"(?:https?://|www\.)\S+|[\w.+-]+@[\w-]+(?:\.[\w-]+)+", re.IGNORECASE)
_LINKS_SHARE = 0.5  # a block whose characters are at least half links lists links
_STATUS_LABEL_WORDS = 8  # "Irregular Migration/Trafficking in Human Beings" above "Completed"
_FRAGMENT_WORDS = 4  # "Formation de formateurs", "Tadjikistan": a table cell or a figure's label
_FRAGMENT_RUN = 4  # so many fragments in a row, country names among them, are a table or figure broken into lines
_FRAGMENT_COUNTRIES = (
    2  # "Tadjikistan", "Thaïlande": without names the run may be a diagram's steps ("OS2", "Améliorer…")
)
_CAPITALISED_WORDS = 6  # a run of at least this many names and words (function words aside)...
_CAPITALISED_SHARE = 0.6  # ...with this share of capitalised words, and no punctuation, is a broken table row


def mark_not_content(parts: list[Part]) -> list[Part]:
    """Flag the parts that describe or decorate a document instead of saying something (Block.not_content).

    They stay in the text; chunking leaves them out of the passages.
    """
    content = [p for p in parts if p.kind != "break" and any(line.strip() for line in p.lines)]
    for p in content:
        text = squeeze_spaces(" ".join(p.lines))
        if p.not_content is None and len(text) <= 300:
            p.not_content = tag.line_kind(text) or ("date" if date_year(text) is not None else None)
        if p.not_content is None and _mostly_links(text):
            p.not_content = "urls"
        if p.not_content is None and p.kind == "paragraph" and _names_without_sentence(text):
            p.not_content = "debris"
    for previous, p in zip(content, content[1:]):
        text = squeeze_spaces(" ".join(previous.lines))
        if (
            p.not_content == "status"
            and previous.not_content is None
            and previous.kind != "bullet"
            and len(text.split()) <= _STATUS_LABEL_WORDS
            and not SENTENCE_END.search(text)
        ):
            previous.not_content = "status"  # the label of a status block
    _mark_fragment_runs(content)
    for p in content:
        if p.not_content and p.kind == "heading":
            p.kind = "paragraph"  # a metadata line opens no section
    return parts


def _mostly_links(text: str) -> bool:
    if not ("http" in text or "www." in text or "@" in text):
        return False
    links = sum(len(m.group()) for m in _LINK.finditer(text))
    return links > 0 and links >= _LINKS_SHARE * len(text.replace(" ", ""))


def _names_without_sentence(text: str) -> bool:
    """ "Formation de formateurs Visites d'étude Tadjikistan Thaïlande Timor oriental Myanmar": a table
    row or a figure read line by line, names and labels with no punctuation."""
    if re.search(r"[.!?;:,«»“”\"]", text):
        return False
    content = [w for w in text.split()[1:] if re.search(r"[^\W\d_]", w) and w.lower() not in FUNCTION_WORDS]
    capitalised = sum(1 for w in content if w[0].isupper())
    return len(content) >= _CAPITALISED_WORDS and capitalised >= _CAPITALISED_SHARE * len(content)


def _fragment(p: Part) -> bool:
    text = squeeze_spaces(" ".join(p.lines))
    return (
        p.kind == "paragraph"
        and p.not_content is None
        and p.section != "Notes"
        and len(text.split()) <= _FRAGMENT_WORDS
        and not re.search(r"[.!?;:…]$", text)
        and date_year(text) is None
    )


def _country_name(text: str) -> bool:
    """ "Timor oriental", "Burkina Faso": a fragment that names a country."""
    return len(text.split()) <= 4 and bool(tag.find_countries(text, demonyms=False))


def _mark_fragment_runs(content: list[Part]) -> None:
    """Flag runs of table cells or figure labels read one per line, unless a colon announced them as a list."""
    i = 0
    while i < len(content):
        if not _fragment(content[i]):
            i += 1
            continue
        j, fragments = i, []
        while j < len(content) and (
            _fragment(content[j]) or (content[j].kind == "heading" and len(content[j].lines[0].split()) <= 5)
        ):
            # A heading among the labels is one of them ("Myanmar" above the next text), unless it
            # looks like a real one ("THÉMATIQUES CLÉS", "Contexte").
            if _fragment(content[j]) or not heading_like(content[j].lines[0]):
                fragments.append(content[j])
            j += 1
        announced = i > 0 and squeeze_spaces(" ".join(content[i - 1].lines)).endswith(":")
        names = sum(1 for p in fragments if _country_name(squeeze_spaces(" ".join(p.lines))))
        if len(fragments) >= _FRAGMENT_RUN and names >= _FRAGMENT_COUNTRIES and not announced:
            for p in fragments:
                p.not_content = p.not_content or "debris"
        i = j
