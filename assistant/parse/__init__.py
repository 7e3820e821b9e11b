"""Parse stage: a source file -> clean text, structure (headings, paragraphs, bullets) and language.

One module per concern: `files` (bytes within limits, what a file really is), one reader per format
(`pdf`, `office` for .docx, `web` for HTML; plain text goes straight to `lines`), `lines` (lines ->
headings, bullets, paragraphs, hyphens joined), `notes` (the PDF repair: footnotes, page furniture),
`content` (blocks that are not content), `title` (title and year without a manifest row), `parts`
(the records and patterns they share). Other stages import this package, not its modules.
"""

from __future__ import annotations

import re

from assistant.errors import BadDocument
from assistant.load import SUPPORTED_SUFFIXES
from assistant.text import detect_document_language, detect_language, language_name, squeeze_spaces
from assistant.types import Block, Document, Language, ManifestEntry, SourceFile

from .content import mark_not_content
from .files import KIND_NAMES, decode, first_bytes, hint_for, read_bytes, sniff
from .lines import text_parts
from .office import read_docx
from .parts import MAX_UNZIPPED_BYTES, MAX_ZIP_RATIO, WORDS, FileHints, Kind, Part
from .pdf import read_pdf
from .title import infer_title, infer_year
from .web import read_html

__all__ = ["MAX_UNZIPPED_BYTES", "MAX_ZIP_RATIO", "FileHints", "Kind", "infer_title", "infer_year", "parse"]

# --------------------------------------------------------------------------------------------
# Entry point


def parse(source: SourceFile, manifest: ManifestEntry | None = None, *, max_bytes: int = 50_000_000) -> Document:
    """Read one corpus file into a cleaned Document, or raise BadDocument saying why and what to do.

    >>> from assistant.load import iter_sources, read_manifest
    >>> src = next(iter_sources(Path("corpus"), only=[Path("seeds/000_c0f20d1b9c390d7f.txt")]))
    >>> parse(src, read_manifest(Path("corpus")).get(src.doc_id)).language
    'fr'
    """
    doc_id = source.doc_id
    if source.problem:  # a link, a FIFO, an unreadable file: the loader did not read it, nor may parse
        raise BadDocument(doc_id, source.problem)
    suffix = source.path.suffix.lower()
    if suffix not in SUPPORTED_SUFFIXES:
        what = f"unsupported file type {suffix!r}" if suffix else "unsupported file type (the name has no extension)"
        raise BadDocument(
            doc_id, what, "supported: " + ", ".join(SUPPORTED_SUFFIXES) + "; convert it or move it out of the corpus"
        )
    data = read_bytes(source, max_bytes)
    kind = sniff(data)
    if kind in ("text", "html") and not data.strip(b" \t\r\n\x0b\x0c"):
        raise BadDocument(doc_id, "the file contains only whitespace", "fill it with the document's text or remove it")

    hints = FileHints()
    if suffix == ".pdf":
        if kind != "pdf" and b"%PDF-" not in data[:1024]:  # readers accept a little junk before the header
            raise BadDocument(
                doc_id, f"the file is not a PDF (starts with {first_bytes(data)})", hint_for(kind, ".pdf")
            )
        pdf_text, hints = read_pdf(data, doc_id)
        parts, running = text_parts(pdf_text, doc_id)
        hints.running += running
    elif suffix == ".docx":
        if kind != "zip":
            raise BadDocument(
                doc_id, f"the file is not a .docx (starts with {first_bytes(data)})", hint_for(kind, ".docx")
            )
        parts, hints = read_docx(data, doc_id)
    elif suffix in (".html", ".htm") or kind == "html":
        if kind not in ("html", "text"):
            raise BadDocument(
                doc_id, f"the file is not HTML (it looks like {KIND_NAMES[kind]})", hint_for(kind, suffix)
            )
        parts, hints = read_html(data, doc_id)
    else:
        if kind != "text":
            raise BadDocument(
                doc_id, f"the file is not text (it looks like {KIND_NAMES[kind]})", hint_for(kind, suffix)
            )
        text = decode(data, doc_id)
        if suffix == ".md":
            text = _strip_markdown(text)
        parts, hints.running = text_parts(text, doc_id)

    parts = mark_not_content([part for part in parts if not _call_to_action(part)])
    text, blocks = _assemble(parts)
    if not blocks:
        raise BadDocument(
            doc_id,
            "no text is left to index (only markup, images or page furniture)",
            "open the file and check that it shows text",
        )

    language = _document_language(text, manifest, doc_id)
    title = (manifest and manifest.title) or infer_title(blocks, hints, source.path.stem)
    year = manifest.year if manifest and manifest.year else infer_year(blocks, hints)
    return Document(
        doc_id=doc_id,
        sha256=source.sha256,
        title=title[:300],
        language=language,
        year=year,
        source=(manifest.source if manifest and manifest.source else None) or hints.url,
        text=text,
        blocks=blocks,
    )


# Web-page links that say where to read more: they answer no question and outrank real text.
_CALL_TO_ACTION = re.compile(r"^\W*(?:" + "|".join(WORDS["calls_to_action"]["starts"]) + r")\b", re.IGNORECASE)
_CALL_TO_ACTION_WORDS = 20


def _strip_markdown(text: str) -> str:
    text = re.sub(r"!?\[([^\]\n]*)\]\([^)\n]*\)", r"\1", text)  # [label](url) -> label
    return re.sub(r"(?m)^\s*(?:[-*_]\s*){3,}$", "", text)  # horizontal rules


def _call_to_action(part: Part) -> bool:
    text = " ".join(part.lines)
    return part.kind != "heading" and len(text.split()) <= _CALL_TO_ACTION_WORDS and bool(_CALL_TO_ACTION.match(text))


# --------------------------------------------------------------------------------------------
# Offsets and sections


def _assemble(parts: list[Part]) -> tuple[str, list[Block]]:
    """Join the parts with blank lines into the canonical text, recording each block's offsets."""
    pieces: list[str] = []
    blocks: list[Block] = []
    offset = 0
    section: str | None = None
    for part in parts:
        if part.kind == "break":
            section = None
            continue
        text = squeeze_spaces(" ".join(part.lines))
        if not text:
            continue
        if part.kind == "heading":
            section = text
        if pieces:
            offset += 2
        blocks.append(
            Block(
                kind=part.kind,
                text=text,
                start=offset,
                end=offset + len(text),
                section=part.section or section,
                not_content=part.not_content,
            )
        )
        pieces.append(text)
        offset += len(text)
    return "\n\n".join(pieces), blocks


def _document_language(text: str, manifest: ManifestEntry | None, doc_id: str) -> Language:
    if manifest and manifest.language in ("fr", "en"):
        return manifest.language  # type: ignore[return-value]
    code, probability = detect_document_language(text)
    if code in ("fr", "en"):
        return code  # type: ignore[return-value]
    # Too little text gets wild guesses ("Pérou III" -> Italian): then only French or English is asked.
    if code != "unknown" and probability >= 0.9 and len(text) >= 100:
        name = language_name(code)
        raise BadDocument(
            doc_id,
            f"the text is in {name} ({code}); only French and English are indexed",
            "add a French or English version, or set its language in MANIFEST.tsv if this is wrong",
        )
    language = detect_language(text)
    if language is None:
        raise BadDocument(
            doc_id, "the text has no words to tell its language by", "check that the file holds the document's text"
        )
    return language
