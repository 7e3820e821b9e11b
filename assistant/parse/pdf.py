"""Parsing: PDF files -> text and title hints (pypdf); the text is then repaired by `lines`."""

from __future__ import annotations

import io
import re
from collections import Counter

from pypdf import PdfReader

from assistant.errors import BadDocument
from assistant.text import squeeze_spaces

from .parts import FileHints


def read_pdf(data: bytes, doc_id: str) -> tuple[str, FileHints]:
    """The text of a PDF, and its titles: the largest text of its first page, then its metadata title."""
    try:
        reader = PdfReader(io.BytesIO(data))
        if reader.is_encrypted:
            try:
                opened: int = reader.decrypt("")  # some PDFs are "encrypted" with an empty password
            except Exception:
                opened = 0
            if not opened:
                raise BadDocument(
                    doc_id,
                    "the PDF is password-protected",
                    "save an unencrypted copy (remove the password) and put that in the corpus",
                )
        pages = [page.extract_text() or "" for page in reader.pages]
        hints = FileHints()
        first = next((page for page, text in zip(reader.pages, pages) if text.strip()), None)
        if first is not None:
            hints.titles.append(_largest_text(first))
        metadata = reader.metadata
        hints.titles.append(str(metadata.title or "") if metadata is not None else "")
    except BadDocument:
        raise
    except Exception as err:
        raise BadDocument(
            doc_id,
            f"the PDF is damaged and cannot be read ({type(err).__name__}: {err})",
            "re-download it or re-export it from the original application",
        ) from None
    if not pages:
        raise BadDocument(
            doc_id,
            "the PDF is damaged: it has no pages",
            "re-download it or re-export it from the original application",
        )
    if not any(page.strip() for page in pages):
        raise BadDocument(
            doc_id,
            "the PDF is a scanned image with no text",
            "run OCR first (for example ocrmypdf) and put the searchable PDF in the corpus",
        )
    pages, running = _drop_running_lines(pages)
    hints.running = running
    return "\n\n".join(pages), hints


# A page's title is set at least this much larger than its body text.
_TITLE_SIZE_RATIO = 1.2


def _largest_text(page) -> str:
    """The text set in the page's largest font, if it stands out from the body text ("" otherwise)."""
    runs: list[tuple[str, float]] = []

    def visit(text, cm, tm, font_dict, font_size):
        if text.strip() and font_size:
            scale = abs(tm[3] * cm[3]) or 1.0
            runs.append((text, round(float(font_size) * scale, 1)))

    page.extract_text(visitor_text=visit)
    if not runs:
        return ""
    sizes: Counter[float] = Counter()
    for text, size in runs:
        sizes[size] += len(text.strip())
    body = sizes.most_common(1)[0][0]
    largest = max(size for _, size in runs)
    if largest < _TITLE_SIZE_RATIO * body:
        return ""
    return squeeze_spaces(" ".join(text for text, size in runs if size >= 0.95 * largest))


def _drop_running_lines(pages: list[str]) -> tuple[list[str], list[str]]:
    """Remove headers and footers: first or last lines repeated on many pages (page numbers too).

    Returns the pages and the removed lines that have words, most repeated first.
    """
    if len(pages) < 3:
        return pages, []
    split = [page.splitlines() for page in pages]

    def edges(lines: list[str]) -> set[str]:
        content = [line.strip() for line in lines if line.strip()]
        return {_digits_as_hash(line) for line in content[:1] + content[-1:]}

    counts = Counter(key for lines in split for key in edges(lines))
    running = {key for key, n in counts.items() if n >= max(3, len(pages) // 2)}
    cleaned = []
    dropped: Counter = Counter()
    for lines in split:
        content = [i for i, line in enumerate(lines) if line.strip()]
        drop = {i for i in content[:1] + content[-1:] if _digits_as_hash(lines[i].strip()) in running}
        dropped.update(squeeze_spaces(lines[i]) for i in drop if re.search(r"[^\W\d_]{2}", lines[i]))
        cleaned.append("\n".join(line for i, line in enumerate(lines) if i not in drop))
    return cleaned, [line for line, _ in dropped.most_common()]


def _digits_as_hash(line: str) -> str:
    return re.sub(r"\d+", "#", line)
