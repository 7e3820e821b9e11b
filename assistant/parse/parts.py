"""Parsing: the records every reader produces (parts of a document, a file's hints) and the
line patterns they share."""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field
from typing import Literal

from assistant import resources

# A .docx is a zip of XML: refuse archives that would unpack past these before touching them.
MAX_UNZIPPED_BYTES = 200_000_000
MAX_ZIP_RATIO = 100

Kind = Literal["heading", "paragraph", "bullet"]


@dataclass
class Part:
    """A block before offsets are known: its kind and the raw lines it is made of."""

    kind: Kind | Literal["break"]  # a break ends the section (it has no text)
    lines: list[str] = field(default_factory=list)
    section: str | None = None  # forced section (footnotes go under "Notes")
    not_content: str | None = None  # see Block.not_content


@dataclass
class FileHints:
    """What a file says about itself besides its text."""

    titles: list[str] = field(default_factory=list)  # from the file's metadata or layout, best first
    dates: list[str] = field(default_factory=list)  # publication dates from the file's metadata
    running: list[str] = field(default_factory=list)  # running headers removed from the text, most repeated first
    url: str | None = None  # the page's own address (canonical link or og:url), when it gives one


# --------------------------------------------------------------------------------------------
# Text and line patterns every reader shares

_SPACES = re.compile("[\u00a0\u2007\u202f\u2009\u200a\u2002-\u2006\u2008\t\x00-\x08\x0b\x0e-\x1f\x7f]")
_INVISIBLE = re.compile("[\u200b\u200c\u200d\u2060\ufeff]")


def normalise(text: str) -> str:
    text = unicodedata.normalize("NFC", text)
    text = text.replace("\r\n", "\n").replace("\r", "\n").replace("\f", "\n\n")
    return _INVISIBLE.sub("", _SPACES.sub(" ", text))  # non-breaking and odd spaces, control characters


# What reads as page furniture, headings and word breaks, with examples: resources/parse.toml.
WORDS = resources.toml("parse.toml")
SENTENCE_END = re.compile(r"[.!?…][\"'»”’)\]]*$")
_KNOWN_HEADINGS = frozenset(WORDS["headings"]["names"])
FUNCTION_WORDS = frozenset(WORDS["function_words"]["fr"] + WORDS["function_words"]["en"])
NUMBER = re.compile(r"^\(?(?:\d{1,2}|[a-z]|[ivx]{1,4})[.)]\s+")
URL = re.compile(r"(?:https?://|www\.)\S+", re.IGNORECASE)


def is_caps(s: str) -> bool:
    letters = [c for c in s if c.isalpha()]
    return len(letters) >= 4 and sum(c.isupper() for c in letters) >= 0.85 * len(letters)


def heading_like(s: str) -> bool:
    return known_heading(s) or caps_heading(s)


def known_heading(s: str) -> bool:
    s = s.strip().rstrip(":").strip()
    return s[:1].isupper() and s.lower().replace("’", "'") in _KNOWN_HEADINGS


def caps_heading(s: str) -> bool:
    words = s.split()
    return 2 <= len(words) <= 16 and is_caps(s) and not s.rstrip().endswith(";") and not URL.search(s)
