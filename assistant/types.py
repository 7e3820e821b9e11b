"""Shared records passed between the stages of the pipeline."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

Language = Literal["fr", "en"]


@dataclass(frozen=True)
class SourceFile:
    """A file found under the corpus root, before any parsing."""

    path: Path  # absolute path on disk
    doc_id: str  # POSIX path relative to the corpus root, e.g. "seeds/000_c0f20d1b9c390d7f.txt"
    sha256: str
    size: int
    # The bytes read (and hashed) through the loader's one open of the file: parse reads these, not the path.
    data: bytes | None = field(default=None, repr=False, compare=False)
    problem: str | None = None  # why the loader did not read it (a link, a FIFO, no permission)


@dataclass(frozen=True)
class ManifestEntry:
    """One row of corpus/MANIFEST.tsv; every field but doc_id may be missing."""

    doc_id: str
    title: str | None = None
    language: str | None = None
    year: int | None = None
    source: str | None = None


@dataclass(frozen=True)
class Block:
    """A structural unit of a cleaned document: a heading, a paragraph or a bullet item.

    `text == Document.text[start:end]` always holds.
    """

    kind: Literal["heading", "paragraph", "bullet"]
    text: str
    start: int
    end: int
    section: str | None  # the heading in force where the block stands (None before the first)
    # Why the block is not content ("role", "status", "field", "published", "date", "urls", "debris"), or None.
    # Such blocks stay in the text the source panel shows, but are never indexed as passages.
    not_content: str | None = None


@dataclass
class Document:
    """A parsed, cleaned document. `text` is the canonical text that citations quote."""

    doc_id: str
    sha256: str
    title: str
    language: Language
    year: int | None
    source: str | None
    text: str
    blocks: list[Block]


@dataclass(frozen=True)
class Action:
    """An action a passage belongs to: a MIEUX action, a Global Compact action, a national plan."""

    name: str  # canonical display name, e.g. "MIEUX Peru III", "GCM Objective 9, action b"
    kind: Literal["mieux", "gcm", "plan"]
    countries: tuple[str, ...] = ()  # ISO 3166-1 alpha-2 codes
    years: str | None = None  # e.g. "2017-2018"


@dataclass(frozen=True)
class Tags:
    """What a text is about."""

    countries: tuple[str, ...] = ()  # ISO alpha-2, in order of first mention
    actions: tuple[Action, ...] = ()
    years: tuple[int, ...] = ()
    themes: tuple[str, ...] = ()


@dataclass
class Passage:
    """An indexed unit: a few sentences along the document's structure, with its context."""

    id: str  # stable: f"{doc_id}#{ordinal}" plus a content hash suffix
    doc_id: str
    title: str
    language: Language
    year: int | None
    section: str | None
    text: str  # the embedded text, a substring of Document.text
    start: int  # offsets of `text` in Document.text
    end: int
    window: str  # surrounding text (neighbouring sentences), for display
    countries: tuple[str, ...] = ()
    action: str | None = None  # Action.name
    action_countries: tuple[str, ...] = ()
    themes: tuple[str, ...] = ()
    ordinal: int = 0


@dataclass
class Evidence:
    """A retrieved passage with its scores."""

    passage: Passage
    score: float  # fused score used for ranking
    dense: float | None = None
    lexical: float | None = None
    rank: int = 0
    follows: bool = False  # the first item of a list, brought in by the passage before it that announces it


@dataclass
class Citation:
    n: int
    source: str  # doc_id
    title: str
    section: str | None
    action: str | None
    countries: list[str]
    quote: str  # verbatim (after whitespace folding) in the cleaned document text
    score: float
    language: Language = "fr"
    year: int | None = None
    passage_id: str | None = None
    start: int | None = None  # offsets of the quote in the cleaned document text
    end: int | None = None
    generation: str | None = None  # the index generation quoted: start/end are offsets in its text
    # A machine translation of the quote into the asker's language (generative mode), checked against the quote.
    translation: str | None = None

    def to_json(self) -> dict:
        return {
            "n": self.n,
            "source": self.source,
            "title": self.title,
            "section": self.section,
            "action": self.action,
            "countries": list(self.countries),
            "quote": self.quote,
            "score": round(float(self.score), 4),
            "language": self.language,
            "year": self.year,
            **({"translation": self.translation, "machine_translated": True} if self.translation else {}),
        }


@dataclass
class Statement:
    """One sentence of an answer with the citations that support it."""

    text: str
    citations: list[int]
    supported: bool | None = None  # set by verification (generative mode)


@dataclass
class Answer:
    question: str
    language: Language
    abstained: bool
    answer: str
    citations: list[Citation] = field(default_factory=list)
    related: list[Citation] = field(default_factory=list)
    statements: list[Statement] = field(default_factory=list)
    reason: str | None = None  # why the assistant abstained, for logs and the eval
    mode: str = "extractive"
    latency_ms: float | None = None
    interpreted_as: str | None = None  # the standalone question a follow-up was read as
    generation: str | None = None  # the index generation the answer was read from

    def to_json(self) -> dict:
        return {
            "question": self.question,
            "language": self.language,
            "abstained": self.abstained,
            "answer": self.answer,
            "citations": [c.to_json() for c in self.citations],
            "related": [c.to_json() for c in self.related],
            "mode": self.mode,
            "reason": self.reason,
            "latency_ms": self.latency_ms,
            "interpreted_as": self.interpreted_as,
            "statements": [
                {"text": st.text, "citations": st.citations, "supported": st.supported} for st in self.statements
            ],
        }


@dataclass
class Filters:
    """Restrictions on what retrieval may return. Empty fields do not filter."""

    countries: list[str] = field(default_factory=list)  # ISO alpha-2
    language: Language | None = None
    sources: list[str] = field(default_factory=list)  # doc_ids
    section: str | None = None
    years: list[int] = field(default_factory=list)
    action: str | None = None

    def is_empty(self) -> bool:
        return not (self.countries or self.language or self.sources or self.section or self.years or self.action)


@dataclass
class IndexedDocument:
    """What the catalog knows of one indexed document."""

    doc_id: str
    sha256: str
    title: str
    language: Language
    year: int | None
    source: str | None
    n_passages: int
    countries: list[str] = field(default_factory=list)
    actions: list[str] = field(default_factory=list)
    themes: list[str] = field(default_factory=list)
    ingested_at: str = ""


@dataclass(frozen=True)
class Known:
    """What the whole corpus names: a question naming something else cannot be answered from it."""

    countries: frozenset[str] = frozenset()
    actions: frozenset[str] = frozenset()
    vocabulary: frozenset[str] = frozenset()  # folded words of every passage and title
    common: frozenset[str] = frozenset()  # folded words the corpus writes in lower case ("action", "day")
