"""Parse stage: a source file -> clean text, structure (headings, paragraphs, bullets) and language."""

from __future__ import annotations

import io
import re
import statistics
import unicodedata
import zipfile
from collections import Counter
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any, Literal

from assistant import resources, tag
from assistant.errors import BadDocument
from assistant.load import SUPPORTED_SUFFIXES
from assistant.text import detect_document_language, detect_language, fold, language_name, squeeze_spaces
from assistant.types import Block, Document, Language, ManifestEntry, SourceFile

# A .docx is a zip of XML: refuse archives that would unpack past these before touching them.
MAX_UNZIPPED_BYTES = 200_000_000
MAX_ZIP_RATIO = 100

Kind = Literal["heading", "paragraph", "bullet"]


@dataclass
class _Part:
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
        raise BadDocument(doc_id, what, "supported: " + ", ".join(SUPPORTED_SUFFIXES) + "; convert it or move it out of the corpus")
    data = _read(source, max_bytes)
    kind = _sniff(data)
    if kind in ("text", "html") and not data.strip(b" \t\r\n\x0b\x0c"):
        raise BadDocument(doc_id, "the file contains only whitespace", "fill it with the document's text or remove it")

    hints = FileHints()
    if suffix == ".pdf":
        if kind != "pdf" and b"%PDF-" not in data[:1024]:  # readers accept a little junk before the header
            raise BadDocument(doc_id, f"the file is not a PDF (starts with {_start(data)})", _hint_for(kind, ".pdf"))
        pdf_text, hints = _pdf_text(data, doc_id)
        parts, running = _text_parts(pdf_text, doc_id)
        hints.running += running
    elif suffix == ".docx":
        if kind != "zip":
            raise BadDocument(doc_id, f"the file is not a .docx (starts with {_start(data)})", _hint_for(kind, ".docx"))
        parts, hints = _docx_parts(data, doc_id)
    elif suffix in (".html", ".htm") or kind == "html":
        if kind not in ("html", "text"):
            raise BadDocument(doc_id, f"the file is not HTML (it looks like {_KIND_NAMES[kind]})", _hint_for(kind, suffix))
        parts, hints = _html_parts(data, doc_id)
    else:
        if kind != "text":
            raise BadDocument(doc_id, f"the file is not text (it looks like {_KIND_NAMES[kind]})", _hint_for(kind, suffix))
        text = _decode(data, doc_id)
        if suffix == ".md":
            text = _strip_markdown(text)
        parts, hints.running = _text_parts(text, doc_id)

    parts = _mark_not_content([part for part in parts if not _call_to_action(part)])
    text, blocks = _assemble(parts)
    if not blocks:
        raise BadDocument(doc_id, "no text is left to index (only markup, images or page furniture)", "open the file and check that it shows text")

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


# What reads as page furniture, headings and word breaks, with examples: resources/parse.toml.
_WORDS = resources.toml("parse.toml")
# Web-page links that say where to read more: they answer no question and outrank real text.
_CALL_TO_ACTION = re.compile(r"^\W*(?:" + "|".join(_WORDS["calls_to_action"]["starts"]) + r")\b", re.IGNORECASE)
_CALL_TO_ACTION_WORDS = 20


def _call_to_action(part: _Part) -> bool:
    text = " ".join(part.lines)
    return part.kind != "heading" and len(text.split()) <= _CALL_TO_ACTION_WORDS and bool(_CALL_TO_ACTION.match(text))


def _read(source: SourceFile, max_bytes: int) -> bytes:
    doc_id = source.doc_id
    if source.data is not None:
        # The bytes the loader hashed, from its one open of the file: the path is not opened again.
        data = source.data
        if len(data) > max_bytes:
            shown = _size(max(source.size, len(data)))
            raise BadDocument(doc_id, f"the file is {shown}, over the {_size(max_bytes)} limit", "split it into smaller files or raise the size limit")
        if not data:
            raise BadDocument(doc_id, "the file is empty (0 bytes)", "re-export it from its source or remove it")
        return data
    try:
        size = source.path.stat().st_size
        if size > max_bytes:
            raise BadDocument(
                doc_id,
                f"the file is {_size(size)}, over the {_size(max_bytes)} limit",
                "split it into smaller files or raise the size limit",
            )
        data = source.path.read_bytes()
    except OSError as err:
        raise BadDocument(doc_id, f"the file cannot be opened ({err.strerror or err})", "check that it exists and that you may read it") from None
    if not data:
        raise BadDocument(doc_id, "the file is empty (0 bytes)", "re-export it from its source or remove it")
    if len(data) > max_bytes:  # it grew since stat
        raise BadDocument(doc_id, f"the file is over the {_size(max_bytes)} limit", "split it into smaller files or raise the size limit")
    return data


def _size(n: int) -> str:
    if n >= 1_000_000:
        return f"{n / 1e6:.1f} MB"
    return f"{n / 1e3:.1f} kB" if n >= 1000 else f"{n} bytes"


# --------------------------------------------------------------------------------------------
# What a file really is, whatever its name says

_KIND_NAMES = {
    "pdf": "a PDF",
    "zip": "a zip archive (a .docx, .xlsx or similar)",
    "ole": "an old Microsoft Office file (.doc, .xls)",
    "rtf": "an RTF document",
    "png": "a PNG image",
    "jpeg": "a JPEG image",
    "gif": "a GIF image",
    "html": "an HTML page",
    "binary": "binary data",
    "text": "plain text",
}


def _sniff(data: bytes) -> str:
    if data.lstrip()[:5] == b"%PDF-":
        return "pdf"
    if data.startswith((b"PK\x03\x04", b"PK\x05\x06")):
        return "zip"
    if data.startswith(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"):
        return "ole"
    if data.startswith(b"{\\rtf"):
        return "rtf"
    if data.startswith(b"\x89PNG"):
        return "png"
    if data.startswith(b"\xff\xd8\xff"):
        return "jpeg"
    if data.startswith(b"GIF8"):
        return "gif"
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        return "text"  # UTF-16 with a byte-order mark: NUL bytes are expected
    if b"\x00" in data[:8192]:
        return "binary"
    start = data.lstrip(b"\xef\xbb\xbf \t\r\n")[:15].lower()
    if start.startswith((b"<!doctype html", b"<html")):
        return "html"
    return "text"


def _start(data: bytes) -> str:
    """The first bytes as a reader would see them: 'PK', '\\x89PNG', ..."""
    printable = re.match(rb"[\x20-\x7e]{1,4}", data[:4])
    if printable and len(printable.group()) >= 2:
        return repr(printable.group().decode("ascii"))
    return repr(data[:4])[1:]


def _hint_for(kind: str, suffix: str) -> str:
    if kind == "zip":
        return "is it a .docx? rename it so its extension matches"
    if kind == "pdf":
        return "is it a PDF? rename it to .pdf"
    if kind == "ole":
        return "it looks like an old Word file; open it and save it as .docx or PDF"
    if kind == "html":
        return "is it a web page? rename it to .html"
    if kind == "text":
        return "is it a text file? rename it to .txt"
    if kind in ("png", "jpeg", "gif"):
        return "images are not indexed; run OCR and save the text as .txt or a searchable PDF"
    if kind == "rtf":
        return "open it and save it as .docx"
    return f"the file is damaged or not really a {suffix} file; re-export it from its source"


def _decode(data: bytes, doc_id: str) -> str:
    if data.startswith(b"\xef\xbb\xbf"):
        encodings = ["utf-8-sig"]
    elif data.startswith((b"\xff\xfe", b"\xfe\xff")):
        encodings = ["utf-16"]
    else:
        encodings = ["utf-8", "cp1252"]
    for encoding in encodings:
        try:
            text = data.decode(encoding)
        except UnicodeDecodeError:
            continue
        if not text.strip():
            raise BadDocument(doc_id, "the file contains only whitespace", "fill it with the document's text or remove it")
        return text
    raise BadDocument(doc_id, "the text is neither UTF-8 nor Windows-1252 and cannot be decoded", "open it in an editor and save it as UTF-8")


# --------------------------------------------------------------------------------------------
# PDF, DOCX, HTML readers


def _pdf_text(data: bytes, doc_id: str) -> tuple[str, FileHints]:
    """The text of a PDF, and its titles: the largest text of its first page, then its metadata title."""
    from pypdf import PdfReader

    try:
        reader = PdfReader(io.BytesIO(data))
        if reader.is_encrypted:
            try:
                opened: int = reader.decrypt("")  # some PDFs are "encrypted" with an empty password
            except Exception:
                opened = 0
            if not opened:
                raise BadDocument(doc_id, "the PDF is password-protected", "save an unencrypted copy (remove the password) and put that in the corpus")
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
        raise BadDocument(doc_id, "the PDF is damaged: it has no pages", "re-download it or re-export it from the original application")
    if not any(page.strip() for page in pages):
        raise BadDocument(doc_id, "the PDF is a scanned image with no text", "run OCR first (for example ocrmypdf) and put the searchable PDF in the corpus")
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


def _docx_parts(data: bytes, doc_id: str) -> tuple[list[_Part], FileHints]:
    """Paragraphs, list items, headings and table cells of a .docx; its titles: the "Title"-style
    paragraph, then the title property."""
    _check_zip(data, doc_id)
    import docx
    from docx.table import Table

    try:
        document = docx.Document(io.BytesIO(data))
    except Exception as err:
        raise BadDocument(doc_id, f"the .docx is damaged ({type(err).__name__}: {err})", "open it in Word or LibreOffice and save it again") from None

    parts: list[_Part] = []
    styled_titles: list[str] = []

    def add(paragraph) -> None:
        text = squeeze_spaces(_normalise(paragraph.text))
        if not text:
            return
        style = (paragraph.style.name if paragraph.style is not None else "") or ""
        ppr = paragraph._p.pPr
        if style.startswith("Title"):
            styled_titles.append(text)
        if style.startswith(("Heading", "Title")):
            parts.append(_Part("heading", [text]))
        elif style.startswith("List") or (ppr is not None and ppr.numPr is not None):
            parts.append(_Part("bullet", [text]))
        else:
            parts.append(_Part("paragraph", [text]))

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
    hints = FileHints(titles=styled_titles[:1] + [squeeze_spaces(_normalise(document.core_properties.title or ""))])
    return parts, hints


def _check_zip(data: bytes, doc_id: str) -> None:
    """Refuse zip bombs and non-Word archives before anything is decompressed."""
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
        infos = archive.infolist()
    except (zipfile.BadZipFile, OSError, ValueError) as err:
        raise BadDocument(doc_id, f"the .docx is not a valid zip archive ({err})", "it is truncated or damaged; re-save it from Word") from None
    total = sum(info.file_size for info in infos)
    if total > MAX_UNZIPPED_BYTES:
        raise BadDocument(
            doc_id,
            f"the .docx would unpack to {total / 1e6:.0f} MB (limit {MAX_UNZIPPED_BYTES / 1e6:.0f} MB); it may be a zip bomb",
            "remove it, or save it again without embedded media",
        )
    for info in infos:
        ratio = info.file_size / max(info.compress_size, 1)
        if info.file_size > 1_000_000 and ratio > MAX_ZIP_RATIO:
            raise BadDocument(
                doc_id,
                f"the .docx member {info.filename} would expand {ratio:.0f} times to {info.file_size / 1e6:.0f} MB; it looks like a zip bomb",
                "remove it from the corpus; a real Word file does not compress this much",
            )
    names = {info.filename for info in infos}
    if "word/document.xml" not in names:
        if "xl/workbook.xml" in names:
            what = "an Excel workbook (.xlsx)"
        elif "ppt/presentation.xml" in names:
            what = "a PowerPoint file (.pptx)"
        elif "content.xml" in names:
            what = "an OpenDocument file (.odt)"
        else:
            what = "a zip archive"
        raise BadDocument(doc_id, f"the file is {what}, not a Word document (no word/document.xml)", "save it as .docx, PDF or text")


_HTML_DROP = ["script", "style", "nav", "header", "footer", "noscript", "template", "svg", "iframe", "form", "button", "head"]
_HTML_HEADINGS = {"h1", "h2", "h3", "h4"}
_HTML_BLOCKS = {
    "p", "div", "section", "article", "main", "aside", "ul", "ol", "dl", "dt", "dd", "table", "thead", "tbody",
    "tfoot", "tr", "td", "th", "blockquote", "pre", "figure", "figcaption", "address", "body", "html", "h5", "h6",
    "center", "details", "summary", "caption", "hr", "fieldset", "legend",
}


def _html_parts(data: bytes, doc_id: str) -> tuple[list[_Part], FileHints]:
    """Headings, paragraphs and list items of a web page (menus, scripts, header and footer dropped);
    its titles (og:title, the first <h1>, <title> without the site's name) and publication date."""
    from bs4 import BeautifulSoup, NavigableString
    from bs4.element import PreformattedString

    soup = BeautifulSoup(data, "lxml")
    hints, page_title = _html_hints(soup)
    for element in soup(_HTML_DROP):
        element.decompose()
    h1 = soup.find("h1")  # after the header is dropped: a site's logo is often its <h1>
    hints.titles += [squeeze_spaces(_normalise(h1.get_text(" "))) if h1 is not None else "", page_title]

    parts: list[_Part] = []
    buffer: list[str] = []
    state: dict[str, Any] = {"kind": "paragraph"}

    def flush() -> None:
        text = squeeze_spaces(_normalise("".join(buffer)))
        buffer.clear()
        if text:
            parts.append(_Part(state["kind"], [text]))
        state["kind"] = "paragraph"

    def walk(node, in_item: bool = False) -> None:
        for child in node.children:
            if isinstance(child, PreformattedString):  # comments, doctype, CDATA
                continue
            if isinstance(child, NavigableString):
                buffer.append(str(child))
                continue
            name = child.name
            if name in _HTML_HEADINGS:
                flush()
                state["kind"] = "heading"
                buffer.append(child.get_text(" "))
                flush()
            elif name == "li":
                flush()
                state["kind"] = "bullet"
                walk(child, in_item=True)
                flush()
            elif name == "br":
                buffer.append(" ")
            elif name in _HTML_BLOCKS and not (in_item and name not in ("ul", "ol", "table")):
                flush()
                walk(child)
                flush()
            else:
                buffer.append(" " if name in _HTML_BLOCKS else "")
                walk(child, in_item)
        return None

    walk(soup)
    flush()
    return parts, hints


_HTML_DATES = ("article:published_time", "og:published_time", "datepublished", "date", "dc.date", "dc.date.issued",
               "dcterms.issued", "citation_publication_date", "publication_date")


def _html_hints(soup) -> tuple[FileHints, str]:
    """og:title and publication dates from the page's metadata, and its <title> without the site's name."""
    def meta(*keys: str) -> list[str]:
        found = []
        for element in soup.find_all("meta"):
            key = (element.get("property") or element.get("name") or element.get("itemprop") or "").lower()
            if key in keys and element.get("content"):
                found.append(squeeze_spaces(_normalise(element["content"])))
        return found

    site = (meta("og:site_name", "application-name") or [""])[0]
    page = squeeze_spaces(_normalise(soup.title.get_text(" "))) if soup.title else ""
    dates = meta(*_HTML_DATES) + [t["datetime"] for t in soup.find_all("time") if t.get("datetime")][:1]
    canonical = soup.find("link", rel=lambda r: r and "canonical" in [x.lower() for x in (r if isinstance(r, list) else [r])])
    urls = [canonical.get("href", "").strip()] if canonical else []
    urls += [e.get("content", "").strip() for e in soup.find_all("meta") if (e.get("property") or "").lower() == "og:url"]
    url = next((u for u in urls if re.match(r"https?://\S+$", u)), None)
    return FileHints(titles=meta("og:title")[:1], dates=dates, url=url), _without_site(page, site)


def _without_site(title: str, site: str) -> str:
    """"Peru III | MIEUX Initiative" -> "Peru III": a page title minus the site's name."""
    segments = [s for s in re.split(r"\s+[|·•»]\s+", title) if s]
    if site:
        key = fold(site)
        kept = [s for s in segments if fold(s) != key]
        if len(kept) == 1:
            segments = kept
            dashed = re.split(r"\s+[-–—]\s+", kept[0])
            if len(dashed) > 1 and fold(dashed[-1]) == key:
                segments = [" - ".join(dashed[:-1])]
    # Without the site's name, the page's own title comes first in most publishing systems.
    return segments[0] if segments else title


# --------------------------------------------------------------------------------------------
# Plain text (and PDF text): lines -> parts, repairing what PDF extraction broke

_SPACES = re.compile("[\u00a0\u2007\u202f\u2009\u200a\u2002-\u2006\u2008\t\x00-\x08\x0b\x0e-\x1f\x7f]")
_INVISIBLE = re.compile("[\u200b\u200c\u200d\u2060\ufeff]")


def _normalise(text: str) -> str:
    text = unicodedata.normalize("NFC", text)
    text = text.replace("\r\n", "\n").replace("\r", "\n").replace("\f", "\n\n")
    return _INVISIBLE.sub("", _SPACES.sub(" ", text))  # non-breaking and odd spaces, control characters


def _strip_markdown(text: str) -> str:
    text = re.sub(r"!?\[([^\]\n]*)\]\([^)\n]*\)", r"\1", text)  # [label](url) -> label
    return re.sub(r"(?m)^\s*(?:[-*_]\s*){3,}$", "", text)  # horizontal rules


_SENTENCE_END = re.compile(r"[.!?…][\"'»”’)\]]*$")
_FUNCTION_WORDS = frozenset(_WORDS["function_words"]["fr"] + _WORDS["function_words"]["en"])
_KNOWN_HEADINGS = frozenset(_WORDS["headings"]["names"])
_SYMBOL_BULLET = re.compile(r"^(?:[•■▪●◦▫□►▸‣⁃∙]\s*|[-–—*]\s+)")
_NUMBER = re.compile(r"^\(?(?:\d{1,2}|[a-z]|[ivx]{1,4})[.)]\s+")
_ENUMERATOR = re.compile(_NUMBER.pattern + r"\S")
_DATE_LINE = re.compile(r"^(?:\w+,?\s+)?(?:\d{1,2}(?:er)?\s+[^\W\d]+|[^\W\d]+\s+\d{1,2},?)\s+\d{4}$")
_MARKDOWN_HEADING = re.compile(r"^#{1,6}\s+")
_URL_LINE = re.compile(r"^(?:https?://|www\.)\S+(?:\s+\S*/\S*)*$", re.IGNORECASE)
_URL = re.compile(r"(?:https?://|www\.)\S+", re.IGNORECASE)
_SITE_ADDRESS = re.compile(r"^(?:https?://)?www\.[\w-]+(?:\.[\w-]+)+/?$", re.IGNORECASE)
_PAGE_NUMBER = re.compile(r"^(?:\d{1,3}|(\d{1,3})\1|(?:page|p\.)\s*\d{1,4}(?:\s*(?:/|of|sur|de)\s*\d{1,4})?)$", re.IGNORECASE)
_FOOTNOTE_START = re.compile(r"^(\d{1,4})\s+(?=(?:[A-ZÀ-ÖØ-Þ«“\"]|https?://|www\.))(.+)$")
_LONE_NUMBER = re.compile(r"^\d{1,3}$")
# A marker glued to a word or a sentence end: "Caraïbes.2", "migrants4 et", "(POS)8", "en 2007.6".
_GLUED_MARKER = re.compile(r"(?:(?<=[a-zà-öø-ÿœ])|(?<=[.,;:!?»”)\]’]))(\d{1,3})(?![\d%])")
_DECIMAL_BEFORE = re.compile(r"(?<![\d.,])\d{1,3}[.,]$")  # "1,5" and "10.7" are numbers, not markers
# A marker standing alone after an acronym: "MERCOSUR 1 a réduit".
_SPACED_MARKER = re.compile(r"(?<=[A-ZÀ-Þ]{2}) (\d{1,3})(?= [a-zà-öø-ÿ])")

# Halves of real compounds broken at a line end: keep their hyphen.
_COMPOUND_LEFT = frozenset(_WORDS["compounds"]["left"])
_COMPOUND_RIGHT = frozenset(_WORDS["compounds"]["right"])


def _text_parts(text: str, doc_id: str) -> tuple[list[_Part], list[str]]:
    """Clean extracted text: lift footnotes, drop page furniture and markers, then group the lines.

    Returns the parts and the running titles removed as page furniture, most repeated first.
    """
    text = _normalise(text).replace("**", "")
    if not text.strip():
        raise BadDocument(doc_id, "the file contains only whitespace", "fill it with the document's text or remove it")
    lines = [line.rstrip() for line in text.split("\n")]
    vocabulary = _Vocabulary(text)
    lines, notes = _take_footnotes(lines)
    lines, running = _drop_furniture(lines, notes)
    lines = _drop_markers(lines, {number for number, _ in notes})
    layout = _Layout(lines)
    # A site address alone between blank lines is a page's footer: what follows it (a back cover, the
    # next box) is not part of the section above.
    parts = [_Part("break") if p.kind == "paragraph" and len(p.lines) == 1 and _SITE_ADDRESS.match(p.lines[0].strip())
             else p for p in _group(lines, layout)]
    parts += [_Part("paragraph", note_lines, section="Notes") for _, note_lines in notes]
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
        open_ended = [s for s in singles if not _SENTENCE_END.search(s)]
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


def _take_footnotes(lines: list[str]) -> tuple[list[str], list[tuple[int, list[str]]]]:
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
        while i < len(lines) and not _SENTENCE_END.search(note[-1]):
            nxt = lines[i].strip()
            # A line opening with a space starts the next page in these extractions.
            page_start = lines[i].startswith(" ") and not _URL_LINE.match(nxt)
            if nxt and not page_start and (nxt[0].islower() or _URL_LINE.match(nxt) or _ends_open(note[-1])):
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
    if words and _URL.match(words[-1]) and _URL_LINE.match(nxt) and _url_key(nxt).startswith(_url_key(words[-1])):
        return [line[: line.rstrip().rfind(words[-1])] + nxt]
    return [line, nxt]


def _is_note_tail(lines: list[str], i: int) -> bool:
    nxt = lines[i].strip() if i < len(lines) else ""
    return bool(nxt) and (nxt[0].islower() or bool(_URL_LINE.match(nxt)))


def _ends_open(line: str) -> bool:
    words = line.rstrip().split()
    return bool(words) and (line.rstrip().endswith((",", "-")) or words[-1].lower() in _FUNCTION_WORDS)


def _footnote_at(lines: list[str], i: int, last: int, markers: set[int], trusted: bool = False) -> tuple[int, str, int] | None:
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
    if _is_caps(rest):
        return None  # "3 OBJECTIFS SPÉCIFIQUES" is a heading
    if _date_year(stripped) is not None:
        return None  # "01 December 2020" above a news page dates it
    number = int(digits)
    if not last < number <= last + 3:
        # A page number glued to the note number: "2311 Action MIEUX ..." is page 23, note 11.
        glued = [n for n in (last + 1, last + 2) if digits.endswith(str(n)) and 0 < len(digits) - len(str(n)) <= 3]
        if not glued:
            return None
        number = glued[0]
    if not trusted and number not in markers:
        looks_like_note = len(rest.split()) >= 4 or _URL.match(rest)
        if not (last and looks_like_note) and not _footnote_at(lines, nxt, number, set(), trusted=True):
            return None
    return number, f"{number} {rest}", nxt


def _marker_numbers(text: str) -> set[int]:
    """Numbers that appear as footnote markers somewhere in the text."""
    glued = {int(m.group(1)) for line in text.split("\n") for m in _glued_markers(line)}
    return glued | {int(m.group(1)) for m in _SPACED_MARKER.finditer(text)}


def _glued_markers(line: str) -> list[re.Match]:
    urls = [m.span() for m in _URL.finditer(line)]
    return [
        m
        for m in _GLUED_MARKER.finditer(line)
        if not any(a <= m.start() < b for a, b in urls)  # "volume3_1" in a link is no marker
        and not _DECIMAL_BEFORE.search(line[max(0, m.start() - 8) : m.start()])
    ]


def _drop_markers(lines: list[str], numbers: set[int]) -> list[str]:
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


def _drop_furniture(lines: list[str], notes: list[tuple[int, list[str]]]) -> tuple[list[str], list[str]]:
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
                and not _heading_like(stripped[j])
            ):
                running.add(stripped[j])
    # Or a longer line repeated 3+ times on its own, that is not a heading.
    for s, n in counts.items():
        if n >= 3 and len(s.split()) >= 5 and len(s) <= 100 and not _heading_like(s) and not _ends_open(s) and not _SENTENCE_END.search(s):
            running.add(s)
    for i, s in enumerate(stripped):
        if s in running and blank(i - 1) and blank(i + 1):
            drop.add(i)

    # Bare URL lines that repeat a URL given in a footnote or in the text (link annotations).
    urls = [_url_key(u) for _, note in notes for u in _URL.findall(" ".join(note))]
    for s in stripped:
        if s and not _URL_LINE.match(s):
            urls += [_url_key(u) for u in _URL.findall(s)]
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


def _is_caps(s: str) -> bool:
    letters = [c for c in s if c.isalpha()]
    return len(letters) >= 4 and sum(c.isupper() for c in letters) >= 0.85 * len(letters)


def _heading_like(s: str) -> bool:
    return _known_heading(s) or _caps_heading(s)


def _known_heading(s: str) -> bool:
    s = s.strip().rstrip(":").strip()
    return s[:1].isupper() and s.lower().replace("’", "'") in _KNOWN_HEADINGS


def _caps_heading(s: str) -> bool:
    words = s.split()
    return (
        2 <= len(words) <= 16
        and _is_caps(s)
        and not s.rstrip().endswith(";")
        and not _URL.search(s)
    )


def _bullet_body(s: str) -> str | None:
    """The text of a bullet line without its symbol (enumerators like "a." are kept), else None."""
    symbol = _SYMBOL_BULLET.match(s)
    if symbol:
        return s[symbol.end():].strip()
    if _ENUMERATOR.match(s):
        return s
    return None


def _group(lines: list[str], layout: _Layout) -> list[_Part]:
    """Gather lines into headings, bullets and paragraphs."""
    stripped = [line.strip() for line in lines]
    parts: list[_Part] = []
    current: _Part | None = None
    gap = False  # a blank line since the last line of `current`

    def next_content(i: int) -> str | None:
        for s in stripped[i + 1:]:
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
            current = _Part("paragraph", [s], not_content=meta)
            parts.append(current)
            gap = False
            continue
        kind, body = _classify(i, s, stripped, layout, current, next_content(i))
        if kind == "heading":
            if current is not None and current.kind == "heading" and _continues_heading(current.lines[-1], s, gap):
                current.lines.append(body)
            else:
                current = _Part("heading", [body])
                parts.append(current)
        elif kind == "bullet":
            current = _Part("bullet", [body])
            parts.append(current)
        elif (current is not None and current.kind in ("paragraph", "bullet") and current.not_content is None
              and _continues(current.lines[-1], s, gap, layout, current.kind)):
            current.lines.append(s)
        elif current is not None and current.kind == "heading" and not gap and _is_caps(s) and _ends_open(current.lines[-1]):
            current.lines.append(s)  # "CONCEPT FLEXIBLE ET" / "APPROPRIATION"
        else:
            current = _Part("paragraph", [s])
            parts.append(current)
        gap = False
    return [p for p in parts if any(line.strip() for line in p.lines)]


def _classify(i: int, s: str, stripped: list[str], layout: _Layout, current: _Part | None, nxt: str | None) -> tuple[str, str]:
    if _MARKDOWN_HEADING.match(s):
        return "heading", _MARKDOWN_HEADING.sub("", s)
    body = _bullet_body(s)
    if body is not None:
        # "1. Thailand: Targeted assistance to vulnerable groups" alone above its text numbers a heading.
        if _ENUMERATOR.match(s) and _title_heading(i, s, stripped, layout, current, nxt):
            return "heading", s
        return "bullet", body
    if _known_heading(s) or _caps_heading(s):
        return "heading", s
    if _title_heading(i, s, stripped, layout, current, nxt):
        return "heading", s
    return "text", s


def _title_heading(i: int, s: str, stripped: list[str], layout: _Layout, current: _Part | None, nxt: str | None) -> bool:
    """A short line standing alone before body text: "Pérou (2017-2018)", "MIEUX et GAMM". Conservative."""
    core = _NUMBER.sub("", s)  # without its number, if it has one
    words = core.split()
    if not (1 <= len(words) <= (10 if "," in core else 14)) or len(s) > 120:
        return False
    # "3 principles since 2008" is a heading; a lone figure ("130") from a side box is not.
    if not (core[0].isupper() or core[0].isdigit() and len(words) >= 3 and any(w.isalpha() for w in words)):
        return False
    if core.endswith((".", ",", ";", ":")) or _ends_open(core) or ". " in core or layout.wrapped(s):
        return False
    if _DATE_LINE.match(core):
        return False  # "17 December 2020" above a news item dates it; it is not a section
    before_blank = i == 0 or not stripped[i - 1]
    after_blank = i + 1 >= len(stripped) or not stripped[i + 1]
    if not (before_blank and after_blank) or nxt is None:
        return False
    if layout.double_spaced and current is not None and current.kind != "heading" and not _SENTENCE_END.search(current.lines[-1]):
        return False  # in double-spaced text a short line after an open sentence is its end
    if _bullet_body(nxt) is not None:
        return True
    if _heading_like(nxt):
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
    if not (_is_caps(previous) and _is_caps(s)) or _known_heading(previous) or _known_heading(s):
        return False
    if not gap:
        return not re.search(r"[.!?]$", previous.rstrip())
    return _ends_open(previous) or previous.rstrip().endswith(":")


def _continues(previous: str, s: str, gap: bool, layout: _Layout, kind: str) -> bool:
    """Whether line `s` goes on the paragraph whose last line is `previous`."""
    if not previous.strip():
        return True  # a bullet symbol alone on its line: its text follows
    ended = bool(_SENTENCE_END.search(previous))
    if gap and not layout.double_spaced:
        # Across a blank line only a sentence cut by a page break or a footnote goes on.
        return not ended and (s[0].islower() or _hyphen_end(previous))
    if _hyphen_end(previous) or s[0].islower() or s[0] in "»”),;:." or (not ended and _ends_open(previous)):
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


# --------------------------------------------------------------------------------------------
# Offsets and sections


def _assemble(parts: list[_Part]) -> tuple[str, list[Block]]:
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
        blocks.append(Block(kind=part.kind, text=text, start=offset, end=offset + len(text), section=part.section or section,
                            not_content=part.not_content))
        pieces.append(text)
        offset += len(text)
    return "\n\n".join(pieces), blocks


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
_TITLE_MIN_WORDS = 4  # a shorter first line is completed by the next title-like line ("MIgration EU eXpertise" / "2009-2015")
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
    return b.kind != "heading" and (n >= _RUNNING_TEXT_WORDS or (n >= _SENTENCE_WORDS and bool(_SENTENCE_END.search(b.text))))


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
        or _date_year(text) is not None
        or _NUMBER.match(text)  # "1. What is MIEUX?" numbers a section
        or _JUNK_TITLE.search(text)
    )


def _tidy_title(text: str) -> str:
    text = squeeze_spaces(text).strip(" :;,-–—«»“”\"")
    if _is_caps(text):
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
    key = _title_key(_NUMBER.sub("", text.strip()))
    names = _section_names()
    if key in names:
        return True
    if any(all(piece in names for piece in key.split(joint)) for joint in (" et ", " and ") if joint in key):
        return True
    # A name and a short complement: "contexte de l atelier", "background to the action".
    for name in names:
        if key.startswith(name + " "):
            rest = key[len(name) + 1 :].split()
            if rest[0] in _FUNCTION_WORDS and len(rest) <= 4:
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
    return re.compile(rf"(?:[^\W\d_]+ (?=\d))?(?:\d{{1,2}}(?:er|st|nd|rd|th)? )?(?:{months}) (?:\d{{1,2}}(?:st|nd|rd|th)? )?((?:19|20)\d\d)")


_NUMERIC_DATE = re.compile(r"((?:19|20)\d\d)-\d{1,2}-\d{1,2}(?:[T ][\d:.+Z-]*)?|\d{1,2} \d{1,2} ((?:19|20)\d\d)")


def _date_year(text: str) -> int | None:
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
        year = _date_year(date) or _date_year(date[:10])
        if year:
            return year
    for b in [b for b in blocks if b.section != "Notes"][:_DATE_BLOCKS]:
        year = _date_year(b.text)
        if year is None and (b.not_content == "published" or tag.line_kind(b.text) == "published"):
            found = tag.find_years(b.text)
            year = found[0] if found else None
        if year is None:
            m = _DATELINE.match(b.text)
            year = _date_year(m.group("date")) if m and m.group("place").isupper() else None
        if year:
            return year
    return None


# --------------------------------------------------------------------------------------------
# Blocks that are not content: metadata lines, lists of links, tables and figures broken into lines

_LINK = re.compile(r"(?:https?://|www\.)\S+|[\w.+-]+@[\w-]+(?:\.[\w-]+)+", re.IGNORECASE)
_LINKS_SHARE = 0.5  # a block whose characters are at least half links lists links
_STATUS_LABEL_WORDS = 8  # "Irregular Migration/Trafficking in Human Beings" above "Completed"
_FRAGMENT_WORDS = 4  # "Formation de formateurs", "Tadjikistan": a table cell or a figure's label
_FRAGMENT_RUN = 4  # so many fragments in a row, country names among them, are a table or figure broken into lines
_FRAGMENT_COUNTRIES = 2  # "Tadjikistan", "Thaïlande": without names the run may be a diagram's steps ("OS2", "Améliorer…")
_CAPITALISED_WORDS = 6  # a run of at least this many names and words (function words aside)...
_CAPITALISED_SHARE = 0.6  # ...with this share of capitalised words, and no punctuation, is a broken table row


def _mark_not_content(parts: list[_Part]) -> list[_Part]:
    """Flag the parts that describe or decorate a document instead of saying something (Block.not_content).

    They stay in the text; chunking leaves them out of the passages.
    """
    content = [p for p in parts if p.kind != "break" and any(line.strip() for line in p.lines)]
    for p in content:
        text = squeeze_spaces(" ".join(p.lines))
        if p.not_content is None and len(text) <= 300:
            p.not_content = tag.line_kind(text) or ("date" if _date_year(text) is not None else None)
        if p.not_content is None and _mostly_links(text):
            p.not_content = "urls"
        if p.not_content is None and p.kind == "paragraph" and _names_without_sentence(text):
            p.not_content = "debris"
    for previous, p in zip(content, content[1:]):
        text = squeeze_spaces(" ".join(previous.lines))
        if (p.not_content == "status" and previous.not_content is None and previous.kind != "bullet"
                and len(text.split()) <= _STATUS_LABEL_WORDS and not _SENTENCE_END.search(text)):
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
    """"Formation de formateurs Visites d'étude Tadjikistan Thaïlande Timor oriental Myanmar": a table
    row or a figure read line by line, names and labels with no punctuation."""
    if re.search(r"[.!?;:,«»“”\"]", text):
        return False
    content = [w for w in text.split()[1:] if re.search(r"[^\W\d_]", w) and w.lower() not in _FUNCTION_WORDS]
    capitalised = sum(1 for w in content if w[0].isupper())
    return len(content) >= _CAPITALISED_WORDS and capitalised >= _CAPITALISED_SHARE * len(content)


def _fragment(p: _Part) -> bool:
    text = squeeze_spaces(" ".join(p.lines))
    return (p.kind == "paragraph" and p.not_content is None and p.section != "Notes" and len(text.split()) <= _FRAGMENT_WORDS
            and not re.search(r"[.!?;:…]$", text) and _date_year(text) is None)


def _country_name(text: str) -> bool:
    """"Timor oriental", "Burkina Faso": a fragment that names a country."""
    return len(text.split()) <= 4 and bool(tag.find_countries(text, demonyms=False))


def _mark_fragment_runs(content: list[_Part]) -> None:
    """Flag runs of table cells or figure labels read one per line, unless a colon announced them as a list."""
    i = 0
    while i < len(content):
        if not _fragment(content[i]):
            i += 1
            continue
        j, fragments = i, []
        while j < len(content) and (_fragment(content[j]) or (content[j].kind == "heading" and len(content[j].lines[0].split()) <= 5)):
            # A heading among the labels is one of them ("Myanmar" above the next text), unless it
            # looks like a real one ("THÉMATIQUES CLÉS", "Contexte").
            if _fragment(content[j]) or not _heading_like(content[j].lines[0]):
                fragments.append(content[j])
            j += 1
        announced = i > 0 and squeeze_spaces(" ".join(content[i - 1].lines)).endswith(":")
        names = sum(1 for p in fragments if _country_name(squeeze_spaces(" ".join(p.lines))))
        if len(fragments) >= _FRAGMENT_RUN and names >= _FRAGMENT_COUNTRIES and not announced:
            for p in fragments:
                p.not_content = p.not_content or "debris"
        i = j


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
        raise BadDocument(doc_id, "the text has no words to tell its language by", "check that the file holds the document's text")
    return language
