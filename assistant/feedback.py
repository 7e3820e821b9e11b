"""Feedback: thumbs and comments on answers, kept append-only in paths.data/feedback.jsonl."""

from __future__ import annotations

import json
import os
import re
import threading
from dataclasses import asdict, dataclass, field
from datetime import datetime, timezone
from pathlib import Path

from .types import Answer

FILE_NAME = "feedback.jsonl"

# One process may serve several sessions at once; the OS append is atomic per write, the lock keeps
# the record order equal to the order of the clicks.
_lock = threading.Lock()


@dataclass
class FeedbackRecord:
    """One thumb (with its optional comment) on one answer."""

    vote: str  # "up", "down" or "cleared" (the thumb was clicked again)
    question: str
    answer: str
    citations: list[dict] = field(default_factory=list)  # Citation.to_json() of the answer (or its related list)
    comment: str = ""
    abstained: bool = False
    interpreted_as: str | None = None
    filters: dict = field(default_factory=dict)
    user: str | None = None  # the logged-in user, when the chat asks for a login
    ui_language: str | None = None
    time: str = ""

    @classmethod
    def for_answer(
        cls,
        vote: str,
        answer: Answer,
        *,
        comment: str = "",
        filters: dict | None = None,
        user: str | None = None,
        ui_language: str | None = None,
    ) -> "FeedbackRecord":
        cited = answer.related if answer.abstained else answer.citations
        return cls(
            vote=vote,
            question=answer.question,
            answer=answer.answer,
            citations=[c.to_json() for c in cited],
            comment=(comment or "").strip(),
            abstained=answer.abstained,
            interpreted_as=answer.interpreted_as,
            filters=filters or {},
            user=user,
            ui_language=ui_language,
        )

    def to_json(self) -> dict:
        return asdict(self)

    @classmethod
    def from_json(cls, data: dict) -> "FeedbackRecord":
        known = cls.__dataclass_fields__
        return cls(**{k: v for k, v in data.items() if k in known})


# Control characters (terminal escape sequences start with ESC or CSI) and the marks that reorder text.
_UNPRINTABLE = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")


def printable(text: object) -> str:
    r"""Text from the log made safe for a terminal: control characters are shown as escapes, not run.

    >>> printable("ok\x1b[2J")
    'ok\\x1b[2J'
    """
    return _UNPRINTABLE.sub(
        lambda m: f"\\x{ord(m.group()):02x}" if ord(m.group()) < 0x100 else f"\\u{ord(m.group()):04x}", str(text)
    )


def printable_json(data) -> str:
    """JSON for a terminal: like json.dumps (which escapes only the first 32 control characters), with
    the others escaped too (\\u009b…)."""
    text = json.dumps(data, ensure_ascii=False, indent=2)
    return _UNPRINTABLE.sub(lambda m: f"\\u{ord(m.group()):04x}", text)


def feedback_path(data_dir: Path | str) -> Path:
    return Path(data_dir) / FILE_NAME


def append(data_dir: Path | str, record: FeedbackRecord) -> Path:
    """Add one record as one line; a crash loses at most this record, never an earlier one.

    >>> append("/tmp/fb-doc", FeedbackRecord(vote="up", question="q", answer="a")).name
    'feedback.jsonl'
    """
    if not record.time:
        record.time = datetime.now(timezone.utc).isoformat(timespec="seconds")
    line = (json.dumps(record.to_json(), ensure_ascii=False) + "\n").encode("utf-8")
    path = feedback_path(data_dir)
    path.parent.mkdir(parents=True, exist_ok=True)
    with _lock:
        fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o640)
        try:
            # A line left unterminated by an earlier crash would swallow this record: start a new line.
            if os.fstat(fd).st_size and not _ends_with_newline(path):
                line = b"\n" + line
            # One write of the whole line (O_APPEND: never interleaved with another writer), then fsync
            # so the record is on disk before the user sees "saved".
            written = os.write(fd, line)
            if written != len(line):
                raise OSError(
                    f"Cannot save feedback to {path}: only {written} of {len(line)} bytes written (disk full?)"
                )
            os.fsync(fd)
        finally:
            os.close(fd)
    return path


def _ends_with_newline(path: Path) -> bool:
    with open(path, "rb") as fh:
        fh.seek(-1, os.SEEK_END)
        return fh.read(1) == b"\n"


def read(data_dir: Path | str) -> tuple[list[FeedbackRecord], int]:
    """All readable records, oldest first, and the number of damaged lines skipped (a crash mid-write)."""
    path = feedback_path(data_dir)
    if not path.exists():
        return [], 0
    records, damaged = [], 0
    with open(path, "rb") as fh:
        for raw in fh:
            if not raw.strip():
                continue
            try:
                data = json.loads(raw.decode("utf-8"))
                if not isinstance(data, dict):
                    raise ValueError("not an object")
                records.append(FeedbackRecord.from_json(data))
            except (ValueError, UnicodeDecodeError, TypeError):
                damaged += 1
    return records, damaged
