"""Document -> passages: sentence groups along the document's structure, with section, window and action."""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass

from . import tag
from .config import ChunkSettings
from .types import Action, Block, Document, Passage

# Abbreviations after which a period does not end a sentence (fr and en).
_ABBREV = {
    "m",
    "mm",
    "mme",
    "mmes",
    "mlle",
    "dr",
    "pr",
    "st",
    "ste",
    "no",
    "n°",
    "art",
    "p",
    "pp",
    "vol",
    "cf",
    "etc",
    "e.g",
    "i.e",
    "vs",
    "mr",
    "mrs",
    "ms",
    "prof",
    "fig",
    "al",
    "env",
    "ex",
    "approx",
    "sr",
    "jr",
    "inc",
    "ltd",
    "co",
}
# A passage that names no country is about the country of the passage before it, in the same
# section, for at most this many passages in a row.
_CARRY_COUNTRIES = 2
# Headings of at most this many words go into the text of the passage they open.
_LABEL_WORDS = 12
# "M. Mody Guirandou Ndiaye, Secrétaire Permanent…": a speaker, named by title; the last word is the surname.
_SPEAKER = re.compile(r"\b(?:M\.|Mme|Mlle|Mr\.?|Mrs\.?|Ms\.?|Dr\.?)\s+((?:[A-ZÀ-Ý][\w’'-]+\s+){0,3}[A-ZÀ-Ý][\w’'-]+)")
# A sentence ends at . ! ? … before a capital, a digit, a bullet, or a lower-case list marker ("b. ", "iv) ").
_END = re.compile(r"[.!?…]+[»”\"')\]]*(?=\s+(?:[«“\"'(\[]?[A-ZÀ-ÖØ-Þ0-9•■]|\(?(?:[a-z]|[ivx]{1,5})[.)]\s))")


# List markers: "1.", "12.", "a.", "iv."
_MARKER = re.compile(r"\d{1,3}|[a-z]|[ivx]{1,5}")
# Before a list marker: the start of its sentence, or of its line or item (after ':' or ';'), then
# perhaps a bullet or an opening bracket.
_BEFORE_MARKER = re.compile(r"(?:^|[\n:;])[^\S\n]*[•■*–-]?\s*\(?$")


def _ends_sentence(before: str, word: str) -> bool:
    """Does the period after `word` end a sentence? `before` is the sentence's text up to the word.

    Not after an abbreviation ("M. Ndiaye", "p. 12"), an initial ("J. Smith"), or a list marker
    ("a.", "1.", "iv.") opening its sentence, line or item; after any other word, however short
    ("… from the EU. The …", "… à la TP. S'appuyant …"), it does.
    """
    token = word.lower().strip(".").lstrip("([«“\"'")
    if token in _ABBREV or len(token) == 1 and token.isalpha():
        return False
    return not (_MARKER.fullmatch(token) and _BEFORE_MARKER.search(before))


def split_sentences(text: str) -> list[tuple[int, int]]:
    """Offsets of the sentences of `text` (a paragraph or bullet), whitespace trimmed.

    >>> t = "M. Dupont a parlé. Le Pérou a adapté sa formation."
    >>> [t[a:b] for a, b in split_sentences(t)]
    ['M. Dupont a parlé.', 'Le Pérou a adapté sa formation.']
    """
    spans, start = [], 0
    # A blank line always ends a sentence (merged bullets, footnotes).
    cuts = [m.end() for m in re.finditer(r"\n\s*\n", text)]
    for m in _END.finditer(text):
        while cuts and cuts[0] <= m.start():
            spans.append((start, cuts.pop(0)))
            start = spans[-1][1]
        end = m.end()
        word = re.search(r"(\S+)$", text[start : m.start() + 1])
        if (
            word
            and m.group(0).startswith(".")
            and not _ends_sentence(text[start : start + word.start()], word.group(1))
        ):
            continue
        spans.append((start, end))
        start = end
    for cut in cuts:
        spans.append((start, cut))
        start = cut
    spans.append((start, len(text)))
    out = []
    for a, b in spans:
        seg = text[a:b]
        lead = len(seg) - len(seg.lstrip())
        trail = len(seg.rstrip())
        if seg.strip():
            out.append((a + lead, a + trail))
    return out


@dataclass
class _Unit:
    start: int
    end: int
    section: str | None
    words: int
    bullet: bool
    after_skipped: bool = False  # a block that is not content stands between this unit and the one before


def _units(doc: Document, max_words: int) -> list[_Unit]:
    """Paragraphs and bullets; long ones cut into sentence groups of at most max_words."""
    units: list[_Unit] = []
    label: Block | None = None
    skipped = False
    for block in doc.blocks:
        if block.not_content:
            # "Experts involved: Spain", a status line, a list of links, a table read line by line:
            # shown in the document, never a passage, and never merged into one. A date alone is
            # no passage either, but the news item it dates may run over it.
            label, skipped = None, skipped or block.not_content != "date"
            continue
        if block.kind == "heading":
            # A short heading ("1. Thailand: Targeted assistance to vulnerable groups") opens the text
            # of its first passage: quoted with it, and found by it.
            label = block if len(block.text.split()) <= _LABEL_WORDS else None
            continue
        n = len(block.text.split())
        lead, label = label, None
        first = len(units)
        if lead is not None and n + len(lead.text.split()) <= max_words:
            n += len(lead.text.split())
            units.append(_Unit(lead.start, block.end, block.section, n, block.kind == "bullet"))
        elif n <= max_words:
            units.append(_Unit(block.start, block.end, block.section, n, block.kind == "bullet"))
        else:
            units += _sentence_groups(block, max_words)
        if skipped and len(units) > first:
            units[first].after_skipped, skipped = True, False
    return units


def _sentence_groups(block: Block, max_words: int) -> list[_Unit]:
    """A long paragraph cut into groups of whole sentences of at most max_words."""
    units: list[_Unit] = []
    group_start: int | None = None
    group_words, last_end = 0, 0
    for a, b in split_sentences(block.text):
        w = len(block.text[a:b].split())
        if group_start is not None and group_words + w > max_words:
            units.append(_Unit(block.start + group_start, block.start + last_end, block.section, group_words, False))
            group_start, group_words = None, 0
        if group_start is None:
            group_start = a
        group_words += w
        last_end = b
    if group_start is not None:
        units.append(_Unit(block.start + group_start, block.start + last_end, block.section, group_words, False))
    return units


def _merge_small(units: list[_Unit], min_words: int, max_words: int) -> list[_Unit]:
    """Short neighbouring units of one section (a list of one-line features, say) become one passage."""
    merged: list[_Unit] = []
    for u in units:
        last = merged[-1] if merged else None
        if (
            last is not None
            and last.section == u.section
            and not u.after_skipped
            and (last.words < min_words or u.words < min_words // 2)
            and last.words + u.words <= max_words
            # A practice bullet that is long enough stands alone, so it can be cited alone.
            and not (u.bullet and u.words >= min_words)
        ):
            merged[-1] = _Unit(
                last.start, u.end, last.section, last.words + u.words, last.bullet and u.bullet, last.after_skipped
            )
        else:
            merged.append(u)
    return merged


_ENUM = re.compile(r"^\s*([a-l])[.)]\s")


def chunk(doc: Document, settings: ChunkSettings | None = None) -> list[Passage]:
    """Cut a parsed document into passages, each tagged with countries, themes and its action.

    >>> from assistant.types import Block, Document
    >>> text = "Pratiques\\n\\nLe Pérou a adapté sa formation aux routes de migration."
    >>> doc = Document("x.txt", "0", "Pérou III", "fr", 2018, None, text,
    ...     [Block("heading", "Pratiques", 0, 9, "Pratiques"),
    ...      Block("paragraph", text[11:], 11, len(text), "Pratiques")])
    >>> chunk(doc)[0].countries
    ('PE',)
    """
    settings = settings or ChunkSettings()
    units = _merge_small(_units(doc, settings.max_words), settings.min_words, settings.max_words)
    # A stray caption or label of a few words answers nothing and crowds out real passages.
    units = [u for u in units if u.words >= 4] or units
    doc_action = tag.document_action(doc.title, doc.text)
    passages: list[Passage] = []
    section_action: dict[str | None, Action | None] = {}
    carried = 0  # passages in a row that took their countries from the one before
    speakers: dict[str, list[str]] = {}  # surname -> the countries of the passage that introduced the speaker
    for i, u in enumerate(units):
        text = doc.text[u.start : u.end]
        tags = tag.tag(text, doc.title)
        action = _action_for(text, tags, u.section, doc_action, section_action)
        prev_start = units[i - 1].start if i > 0 and units[i - 1].section == u.section else u.start
        next_end = units[i + 1].end if i + 1 < len(units) and units[i + 1].section == u.section else u.end
        countries = list(tags.countries)
        for c in action.countries if action else ():
            if c not in countries:
                countries.append(c)
        previous = passages[-1] if passages and units[i - 1].section == u.section else None
        named = [m.group(1).split()[-1] for m in _SPEAKER.finditer(text)]
        for surname in named:
            if countries:
                speakers.setdefault(surname, list(countries))
        known = next((speakers[n] for n in named if n in speakers), None)
        if not countries and known:
            # "En ce qui concerne les limites de l'action, M. Ndiaye souligne…": the speaker's country.
            countries, carried = list(known), 0
        elif countries or previous is None:
            carried = 0
        elif named:
            # A new speaker whose country is not given (ECOWAS's adviser after France's delegate)
            # does not take the previous speaker's country, nor do the passages after him.
            carried = _CARRY_COUNTRIES
        elif previous.countries and carried < _CARRY_COUNTRIES:
            # A report goes on about the country its speaker or paragraph named just before
            # ("Le plan national comporte 23 mesures…" after "M. X, du Portugal, a présenté…").
            countries, carried = list(previous.countries), carried + 1
        digest = hashlib.sha1(text.encode()).hexdigest()[:8]
        passages.append(
            Passage(
                id=f"{doc.doc_id}#{i:04d}-{digest}",
                doc_id=doc.doc_id,
                title=doc.title,
                language=doc.language,
                year=doc.year,
                section=u.section,
                text=text,
                start=u.start,
                end=u.end,
                window=doc.text[prev_start:next_end],
                countries=tuple(countries),
                action=action.name if action else None,
                action_countries=tuple(action.countries) if action else (),
                themes=tags.themes,
                ordinal=i,
            )
        )
    return passages


def _action_for(text, tags, section, doc_action, section_action):
    """The action in force: named in the passage, else in its section, else the document's."""
    explicit = [a for a in tags.actions if a.kind in ("mieux", "gcm")]
    if doc_action is not None and doc_action.kind == "gcm":
        m = _ENUM.match(text)
        objective = re.search(r"(\d+)", doc_action.name)
        if m and objective and "action" not in doc_action.name:
            return tag.gcm_action(int(objective.group(1)), m.group(1))
    if explicit:
        section_action.setdefault(section, explicit[0])
        return explicit[0]
    if doc_action is not None:
        return doc_action
    return section_action.get(section)


def embedding_text(p: Passage) -> str:
    """What the model reads: title and section give a short passage its context."""
    title = " ".join(p.title.split()[:24])
    head = f"{title} — {p.section}" if p.section else title
    return f"{head}\n{p.text}"
