"""Parsing: reading a file's bytes within limits, and what the file really is whatever its name says."""

from __future__ import annotations

import io
import re
import zipfile

from assistant.errors import BadDocument
from assistant.types import SourceFile

from .parts import MAX_UNZIPPED_BYTES, MAX_ZIP_RATIO


def read_bytes(source: SourceFile, max_bytes: int) -> bytes:
    doc_id = source.doc_id
    if source.data is not None:
        # The bytes the loader hashed, from its one open of the file: the path is not opened again.
        data = source.data
        if len(data) > max_bytes:
            shown = _size(max(source.size, len(data)))
            raise BadDocument(
                doc_id,
                f"the file is {shown}, over the {_size(max_bytes)} limit",
                "split it into smaller files or raise the size limit",
            )
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
        raise BadDocument(
            doc_id,
            f"the file cannot be opened ({err.strerror or err})",
            "check that it exists and that you may read it",
        ) from None
    if not data:
        raise BadDocument(doc_id, "the file is empty (0 bytes)", "re-export it from its source or remove it")
    if len(data) > max_bytes:  # it grew since stat
        raise BadDocument(
            doc_id,
            f"the file is over the {_size(max_bytes)} limit",
            "split it into smaller files or raise the size limit",
        )
    return data


def _size(n: int) -> str:
    if n >= 1_000_000:
        return f"{n / 1e6:.1f} MB"
    return f"{n / 1e3:.1f} kB" if n >= 1000 else f"{n} bytes"


# --------------------------------------------------------------------------------------------
# What a file really is, whatever its name says

KIND_NAMES = {
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


def sniff(data: bytes) -> str:
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


def first_bytes(data: bytes) -> str:
    """The first bytes as a reader would see them: 'PK', '\\x89PNG', ..."""
    printable = re.match(rb"[\x20-\x7e]{1,4}", data[:4])
    if printable and len(printable.group()) >= 2:
        return repr(printable.group().decode("ascii"))
    return repr(data[:4])[1:]


def hint_for(kind: str, suffix: str) -> str:
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


def decode(data: bytes, doc_id: str) -> str:
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
            raise BadDocument(
                doc_id, "the file contains only whitespace", "fill it with the document's text or remove it"
            )
        return text
    raise BadDocument(
        doc_id,
        "the text is neither UTF-8 nor Windows-1252 and cannot be decoded",
        "open it in an editor and save it as UTF-8",
    )


def check_zip(data: bytes, doc_id: str) -> None:
    """Refuse zip bombs and non-Word archives before anything is decompressed."""
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
        infos = archive.infolist()
    except (zipfile.BadZipFile, OSError, ValueError) as err:
        raise BadDocument(
            doc_id, f"the .docx is not a valid zip archive ({err})", "it is truncated or damaged; re-save it from Word"
        ) from None
    total = sum(info.file_size for info in infos)
    if total > MAX_UNZIPPED_BYTES:
        raise BadDocument(
            doc_id,
            f"the .docx would unpack to {total / 1e6:.0f} MB (limit {MAX_UNZIPPED_BYTES / 1e6:.0f} MB);"
            " it may be a zip bomb",
            "remove it, or save it again without embedded media",
        )
    for info in infos:
        ratio = info.file_size / max(info.compress_size, 1)
        if info.file_size > 1_000_000 and ratio > MAX_ZIP_RATIO:
            raise BadDocument(
                doc_id,
                f"the .docx member {info.filename} would expand {ratio:.0f} times to {info.file_size / 1e6:.0f} MB;"
                " it looks like a zip bomb",
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
        raise BadDocument(
            doc_id, f"the file is {what}, not a Word document (no word/document.xml)", "save it as .docx, PDF or text"
        )
