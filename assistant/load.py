"""Load stage: walk the corpus folder, yield source files with their hash; no parsing."""

from __future__ import annotations

import hashlib
import os
import re
from collections.abc import Iterator
from pathlib import Path

from assistant.errors import BadDocument, ConfigError
from assistant.types import ManifestEntry, SourceFile

MANIFEST_NAME = "MANIFEST.tsv"
SUPPORTED_SUFFIXES = (".txt", ".md", ".pdf", ".docx", ".html", ".htm")

_MANIFEST_COLUMNS = ("file", "title", "language", "year", "source_address", "how_complete")
_YEAR_AT_START = re.compile(r"^\s*(\d{4})(?!\d)")
_CHUNK = 1 << 20


def read_manifest(root: Path) -> dict[str, ManifestEntry]:
    """Read `root/MANIFEST.tsv` into entries keyed by doc_id; no manifest means no entries.

    >>> read_manifest(Path("corpus"))["seeds/000_c0f20d1b9c390d7f.txt"].year
    2019
    """
    path = Path(root) / MANIFEST_NAME
    if not path.is_file():
        return {}
    try:
        # utf-8-sig: a manifest saved by a spreadsheet often starts with a BOM.
        text = path.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError as err:
        raise BadDocument(MANIFEST_NAME, f"the manifest is not UTF-8 (byte {err.start})", "save it as UTF-8") from None

    header: list[str] | None = None
    entries: dict[str, ManifestEntry] = {}
    first_line: dict[str, int] = {}
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        fields = [field.strip() for field in line.split("\t")]
        if header is None:
            header = [name.lower() for name in fields]
            if "file" not in header:
                raise BadDocument(
                    MANIFEST_NAME,
                    f"line {number} should be the header row naming the columns; it has no 'file' column",
                    "start the manifest with the tab-separated header: " + ", ".join(_MANIFEST_COLUMNS),
                )
            continue
        if len(fields) != len(header):
            raise BadDocument(
                MANIFEST_NAME,
                f"line {number} has {len(fields)} tab-separated columns, the header has {len(header)}",
                "separate the columns with single tabs and leave empty columns empty",
            )
        row = dict(zip(header, fields))
        doc_id = row["file"].replace("\\", "/").removeprefix("./")
        if not doc_id:
            raise BadDocument(MANIFEST_NAME, f"line {number} has an empty 'file' column", "put the file's path under the corpus folder there")
        if doc_id in entries:
            raise BadDocument(
                MANIFEST_NAME,
                f"line {number} lists {doc_id} again (first listed on line {first_line[doc_id]})",
                "keep one row per file",
            )
        year = _YEAR_AT_START.match(row.get("year", ""))
        language = row.get("language", "").lower()
        entries[doc_id] = ManifestEntry(
            doc_id=doc_id,
            title=row.get("title") or None,
            language=language if language in ("fr", "en") else None,
            year=int(year.group(1)) if year else None,
            source=row.get("source_address") or None,
        )
        first_line[doc_id] = number
    return entries


def iter_sources(root: Path, only: list[Path] | None = None) -> Iterator[SourceFile]:
    """Yield every corpus file under `root` (sorted by doc_id) with its sha256 and size.

    Hidden files, MANIFEST.tsv and README files are skipped. Files of unsupported types are still
    yielded, so that parsing reports them instead of letting them vanish. `only` restricts the walk
    to these files or folders (absolute, or relative to `root`).

    >>> [s.doc_id for s in iter_sources(Path("corpus"), only=[Path("seeds")])][:1]
    ['seeds/000_c0f20d1b9c390d7f.txt']
    """
    root = Path(root)
    if not root.is_dir():
        raise ConfigError(f"The corpus folder {root} does not exist or is not a folder; create it or point the corpus setting at it")
    real_root = root.resolve()
    # `only` becomes doc_id prefixes: "" (the whole corpus), "seeds", "seeds/000_x.txt".
    wanted = [_resolve_only(root, real_root, Path(p)) for p in only] if only else None

    found: list[tuple[str, Path]] = []
    for folder, dirnames, filenames in os.walk(root, followlinks=False):
        # Sorted, visible folders only; symlinked folders are not followed (os.walk default).
        dirnames[:] = sorted(d for d in dirnames if not d.startswith("."))
        for name in filenames:
            if _skipped(name):
                continue
            path = Path(folder) / name
            doc_id = path.relative_to(root).as_posix()
            if not _is_regular_inside(path, real_root):
                continue
            if wanted is not None and not any(_under(doc_id, prefix) for prefix in wanted):
                continue
            found.append((doc_id, path))

    for doc_id, path in sorted(found):
        yield _hashed(path.absolute(), doc_id)


def _skipped(name: str) -> bool:
    # "~$" files are Office lock files, as invisible to a user as dotfiles.
    return (
        name.startswith(".")
        or name.startswith("~$")
        or name == MANIFEST_NAME
        or name.upper().startswith("README")
    )


def _is_regular_inside(path: Path, real_root: Path) -> bool:
    """A regular file whose real location is under the corpus root (symlinks out are not read)."""
    try:
        real = path.resolve(strict=True)
    except (OSError, RuntimeError):
        return False  # broken or looping symlink
    if not _within(real, real_root):
        return False
    # A FIFO or device would block or never end when read.
    return real.is_file()


def _within(path: Path, folder: Path) -> bool:
    return path == folder or path.is_relative_to(folder)


def _under(doc_id: str, prefix: str) -> bool:
    return not prefix or doc_id == prefix or doc_id.startswith(prefix + "/")


def _resolve_only(root: Path, real_root: Path, given: Path) -> str:
    candidates = [given] if given.is_absolute() else [root / given, given]
    for candidate in candidates:
        if candidate.exists():
            real = candidate.resolve()
            if not _within(real, real_root):
                raise ConfigError(
                    f"{given} is outside the corpus folder {root}; copy it into the corpus folder or pass a path under it"
                )
            relative = real.relative_to(real_root).as_posix()
            return "" if relative == "." else relative
    if given.is_absolute() and not _within(given.resolve(), real_root):
        raise ConfigError(f"{given} is outside the corpus folder {root}; pass a path under it")
    raise ConfigError(f"{given} was not found under the corpus folder {root}; check the spelling (paths are relative to {root})")


def _hashed(path: Path, doc_id: str) -> SourceFile:
    digest = hashlib.sha256()
    size = 0
    try:
        with path.open("rb") as handle:
            while chunk := handle.read(_CHUNK):
                digest.update(chunk)
                size += len(chunk)
    except OSError:
        # Yield it anyway with no hash: parse re-reads it and reports why it cannot.
        return SourceFile(path=path, doc_id=doc_id, sha256="", size=0)
    return SourceFile(path=path, doc_id=doc_id, sha256=digest.hexdigest(), size=size)
