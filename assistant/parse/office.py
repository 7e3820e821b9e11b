"""Parsing: Word (.docx) files -> parts, with their styles as structure."""

from __future__ import annotations

import io

import docx
from docx.table import Table

from assistant.errors import BadDocument
from assistant.text import squeeze_spaces

from .files import check_zip
from .parts import FileHints, Part, normalise


def read_docx(data: bytes, doc_id: str) -> tuple[list[Part], FileHints]:
    """Paragraphs, list items, headings and table cells of a .docx; its titles: the "Title"-style
    paragraph, then the title property."""
    check_zip(data, doc_id)

    try:
        document = docx.Document(io.BytesIO(data))
    except Exception as err:
        raise BadDocument(
            doc_id,
            f"the .docx is damaged ({type(err).__name__}: {err})",
            "open it in Word or LibreOffice and save it again",
        ) from None

    parts: list[Part] = []
    styled_titles: list[str] = []

    def add(paragraph) -> None:
        text = squeeze_spaces(normalise(paragraph.text))
        if not text:
            return
        style = (paragraph.style.name if paragraph.style is not None else "") or ""
        ppr = paragraph._p.pPr
        if style.startswith("Title"):
            styled_titles.append(text)
        if style.startswith(("Heading", "Title")):
            parts.append(Part("heading", [text]))
        elif style.startswith("List") or (ppr is not None and ppr.numPr is not None):
            parts.append(Part("bullet", [text]))
        else:
            parts.append(Part("paragraph", [text]))

    for item in document.iter_inner_content():
        if isinstance(item, Table):
            seen = set()
            for row in item.rows:
                for cell in row.cells:
                    if id(cell._tc) in seen:  # a merged cell is returned once per grid column
                        continue
                    seen.add(id(cell._tc))
                    for paragraph in cell.paragraphs:
                        add(paragraph)
        else:
            add(item)
    hints = FileHints(titles=styled_titles[:1] + [squeeze_spaces(normalise(document.core_properties.title or ""))])
    return parts, hints
