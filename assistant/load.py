"""Load stage: walk the corpus folder, yield source files with their hash; no parsing."""

from __future__ import annotations

import errno
import hashlib
import os
import re
import stat
from collections.abc import Iterator
from pathlib import Path

from assistant.errors import BadDocument, ConfigError
from assistant.types import ManifestEntry, SourceFile

MANIFEST_NAME = "MANIFEST.tsv"
SUPPORTED_SUFFIXES = (".txt", ".md", ".pdf", ".docx", ".html", ".htm")

_MANIFEST_COLUMNS = ("file", "title", "language", "year", "source_address", "how_complete")  # optional: url
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
            raise BadDocument(
                MANIFEST_NAME,
                f"line {number} has an empty 'file' column",
                "put the file's path under the corpus folder there",
            )
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
            # The original address: a `url` column if the manifest has one, else its source_address.
            source=row.get("url") or row.get("source_address") or None,
        )
        first_line[doc_id] = number
    return entries


def iter_sources(root: Path, only: list[Path] | None = None, *, max_bytes: int | None = None) -> Iterator[SourceFile]:
    """Yield every corpus file under `root` (sorted by doc_id) with its sha256, size and bytes.

    Each file is opened once, without following links, and hashed from the bytes read through that
    handle; parse reads those bytes, never the path again, so a file swapped for a link after the
    scan cannot bring in text from outside the corpus. Links (to files or folders), FIFOs, sockets
    and devices are yielded unread with a `problem` saying why, so that ingest names each of them.
    Hidden files, MANIFEST.tsv and README files are skipped. Files of unsupported types are still
    yielded, so that parsing reports them instead of letting them vanish. `only` restricts the walk
    to these files or folders (absolute, or relative to `root`). With `max_bytes`, at most
    max_bytes + 1 bytes are read of a file (parse refuses it; its hash is that of those bytes).

    >>> [s.doc_id for s in iter_sources(Path("corpus"), only=[Path("seeds")])][:1]
    ['seeds/000_c0f20d1b9c390d7f.txt']
    """
    root = Path(root)
    return (read_source(root, doc_id, max_bytes=max_bytes) for doc_id in scan(root, only))


def scan(root: Path, only: list[Path] | None = None) -> list[str]:
    """The doc_ids `iter_sources` will yield, sorted: names only, nothing is opened."""
    root = Path(root)
    if not root.is_dir():
        raise ConfigError(
            f"The corpus folder {root} does not exist or is not a folder; create it or point the corpus setting at it"
        )
    real_root = root.resolve()
    # `only` becomes doc_id prefixes: "" (the whole corpus), "seeds", "seeds/000_x.txt".
    wanted = [_resolve_only(root, real_root, Path(p)) for p in only] if only else None

    found: list[str] = []
    for folder, dirnames, filenames in os.walk(root, followlinks=False):
        # Sorted, visible folders only. A link to a folder is not followed: it is named, as a file is.
        visible = sorted(d for d in dirnames if not d.startswith("."))
        dirnames[:] = [d for d in visible if not os.path.islink(os.path.join(folder, d))]
        names = [n for n in filenames if not _skipped(n)] + [d for d in visible if d not in dirnames]
        for name in names:
            doc_id = (Path(folder) / name).relative_to(root).as_posix()
            if wanted is not None and not any(_under(doc_id, prefix) for prefix in wanted):
                continue
            found.append(doc_id)
    return sorted(found)


def read_source(root: Path, doc_id: str, *, max_bytes: int | None = None) -> SourceFile:
    """One file of `scan(root)`, opened and read once (see iter_sources)."""
    root = Path(root)
    path = (root / doc_id).absolute()
    parts = doc_id.split("/")
    # Every folder on the way is opened relative to the one before, without following links: a
    # folder swapped for a link after the scan cannot lead out of the corpus either.
    folder_fd = os.open(root, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
    fd = -1
    try:
        for part in parts[:-1]:
            step = os.open(part, os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC, dir_fd=folder_fd)
            os.close(folder_fd)
            folder_fd = step
        # lstat first: opening a device may have effects of its own; fstat after, on the handle read.
        kind = _kind(os.stat(parts[-1], dir_fd=folder_fd, follow_symlinks=False).st_mode)
        if kind is None:
            # O_NONBLOCK: a FIFO swapped in since the lstat opens at once instead of waiting for a writer.
            fd = os.open(
                parts[-1], os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_NOCTTY | os.O_CLOEXEC, dir_fd=folder_fd
            )
            kind = _kind(os.fstat(fd).st_mode)
        if kind is not None:
            return _unread(path, doc_id, kind, root)
        size = os.fstat(fd).st_size
        digest = hashlib.sha256()
        chunks, total = [], 0
        limit = None if max_bytes is None else max_bytes + 1
        while limit is None or total < limit:
            chunk = os.read(fd, _CHUNK if limit is None else min(_CHUNK, limit - total))
            if not chunk:
                break
            digest.update(chunk)
            chunks.append(chunk)
            total += len(chunk)
        return SourceFile(
            path=path, doc_id=doc_id, sha256=digest.hexdigest(), size=max(size, total), data=b"".join(chunks)
        )
    except OSError as err:
        if err.errno in (errno.ELOOP, errno.ENOTDIR) and any(
            os.path.islink(root.joinpath(*parts[: i + 1])) for i in range(len(parts))
        ):
            return _unread(path, doc_id, "link", root)  # a folder or the file became a link after the scan
        # Unreadable (permissions, I/O error, gone): parse reports it; a version indexed before is kept.
        return SourceFile(
            path=path,
            doc_id=doc_id,
            sha256="",
            size=0,
            problem=f"the file cannot be opened ({err.strerror or err}); check that it exists and that you may read it",
        )
    finally:
        if fd >= 0:
            os.close(fd)
        os.close(folder_fd)


def _kind(mode: int) -> str | None:
    """None for a regular file, else what it is."""
    if stat.S_ISREG(mode):
        return None
    if stat.S_ISLNK(mode):
        return "link"
    if stat.S_ISDIR(mode):
        return "folder"
    if stat.S_ISFIFO(mode):
        return "FIFO (named pipe)"
    if stat.S_ISSOCK(mode):
        return "socket"
    return "device"


def _unread(path: Path, doc_id: str, kind: str, root: Path) -> SourceFile:
    if kind == "link":
        parts = doc_id.split("/")
        # The link may be a folder on the way (swapped in after the scan) rather than the file itself.
        link = next(
            (
                root.joinpath(*parts[: i + 1])
                for i in range(len(parts))
                if os.path.islink(root.joinpath(*parts[: i + 1]))
            ),
            root / doc_id,
        )
        try:
            target = os.readlink(link)
        except OSError:
            target = "?"
        where = "it is" if link == root / doc_id else f"{link.relative_to(root).as_posix()} is"
        problem = (
            f"{where} a symbolic link (to {target}); links are not followed, since one can lead outside the corpus; "
            f"copy the file itself into {root} instead"
        )
    else:
        problem = (
            f"it is not a regular file but a {kind}, which is not read; "
            f"put a regular file there or move it out of {root}"
        )
    return SourceFile(path=path, doc_id=doc_id, sha256="", size=0, problem=problem)


def _skipped(name: str) -> bool:
    # "~$" files are Office lock files, as invisible to a user as dotfiles.
    return name.startswith(".") or name.startswith("~$") or name == MANIFEST_NAME or name.upper().startswith("README")


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
                    f"{given} is outside the corpus folder {root};"
                    " copy it into the corpus folder or pass a path under it"
                )
            relative = real.relative_to(real_root).as_posix()
            return "" if relative == "." else relative
    if given.is_absolute() and not _within(given.resolve(), real_root):
        raise ConfigError(f"{given} is outside the corpus folder {root}; pass a path under it")
    raise ConfigError(
        f"{given} was not found under the corpus folder {root}; check the spelling (paths are relative to {root})"
    )
