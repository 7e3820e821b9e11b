"""Error types: each names the input at fault and the way out."""

from __future__ import annotations


class AssistantError(Exception):
    """Base class: `str(err)` is a complete message for a user."""


class BadDocument(AssistantError):
    """A corpus file that cannot be indexed. Raised by load/parse; ingest skips it and goes on."""

    def __init__(self, doc_id: str, reason: str, hint: str = ""):
        self.doc_id = doc_id
        self.reason = reason
        self.hint = hint
        message = f"Cannot read corpus/{doc_id}: {reason}"
        if hint:
            message += f"; {hint}"
        super().__init__(message)


class ConfigError(AssistantError):
    """A setting with a value that cannot work."""


class IndexMissing(AssistantError):
    """No index has been built yet at the configured location."""


class StoreUnavailable(AssistantError):
    """The Chroma server (or the index on disk) cannot be reached right now."""


class BadQuestion(AssistantError):
    """A question that cannot be answered as given (empty, too long, binary)."""
