"""Tagging: a text tokenised once (`Doc`) and the token-sequence matcher (`Phrases`) that countries,
themes and the glossary share."""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from typing import Any

from assistant.text import TOKEN, expand_ligatures, fold, fold_aligned

_KEY_CACHE: dict[str, str] = {}


def _key(word: str) -> str:
    key = _KEY_CACHE.get(word)
    if key is None:
        key = _KEY_CACHE[word] = fold(word)
    return key


class Doc:
    """A text prepared once for all the matchers: NFC text and its folded word tokens.

    The aligned fold (`low`) and token offsets are computed on first use: most passages
    never need them, and building them costs more than all the matching.
    """

    __slots__ = ("text", "lower", "keys", "_spans", "_low")

    def __init__(self, text: str) -> None:
        if not unicodedata.is_normalized("NFC", text):
            text = unicodedata.normalize("NFC", text)
        self.text = text
        self.lower = text.lower()  # for cheap "is it worth looking" tests only
        cache = _KEY_CACHE
        # \w covers accented letters, so these are the same tokens as in the folded text
        self.keys = [cache.get(w) or _key(w) for w in TOKEN.findall(text)]
        self._spans: list[tuple[int, int]] | None = None
        self._low: str | None = None

    @property
    def low(self) -> str:
        """The folded text, offset for offset the same as `text`."""
        if self._low is None:
            self._low = fold_aligned(self.text)
        return self._low

    @property
    def spans(self) -> list[tuple[int, int]]:
        if self._spans is None:
            self._spans = [m.span() for m in TOKEN.finditer(self.text)]
        return self._spans

    def start(self, i: int) -> int:
        return self.spans[i][0]

    def end(self, i: int) -> int:
        return self.spans[i][1]

    def raw(self, i: int) -> str:
        a, b = self.spans[i]
        return self.text[a:b]


# ---------------------------------------------------------------------------
# A token-sequence matcher shared by countries, themes and the glossary
# ---------------------------------------------------------------------------
# Pattern tokens: "word" (folded, exact), "stem*" (folded, prefix), "=word" (lowercased but
# accent-sensitive: "=traite" is not "traité"), "^WORD" (exact case: "^TP", "^SOPs").


_EXACT, _PREFIX, _LOWER, _CASE = range(4)
_KINDS = {"exact": _EXACT, "prefix": _PREFIX, "lower": _LOWER, "case": _CASE}


def parse_pattern(pattern: str) -> tuple[tuple[str, str], ...]:
    tokens = []
    for tok in re.findall(r"[=^]?\w+\*?", expand_ligatures(pattern)):
        if tok.startswith("^"):
            tokens.append(("case", tok[1:]))
        elif tok.startswith("="):
            tokens.append(("lower", tok[1:].lower()))
        elif tok.endswith("*"):
            tokens.append(("prefix", fold(tok[:-1])))
        else:
            tokens.append(("exact", fold(tok)))
    return tuple(tokens)


@dataclass(frozen=True, slots=True)
class _Pattern:
    length: int
    # (token offset, kind, value) still to check once the first token picked the pattern:
    # an exact or prefix first token is already proven by the lookup that found the pattern
    checks: tuple[tuple[int, int, str], ...]
    payload: Any


class Phrases:
    """Finds token sequences in a `Doc`, leftmost-longest, in one pass over the tokens."""

    def __init__(self) -> None:
        self._exact: dict[str, list[_Pattern]] = {}
        self._prefix: dict[str, list[_Pattern]] = {}
        self._prefix_lengths: list[int] = []
        self._cache: dict[str, tuple[_Pattern, ...]] = {}

    def add(self, pattern: str, payload: Any) -> None:
        tokens = parse_pattern(pattern)
        if not tokens:
            return
        first_kind, first_value = tokens[0]
        checks = tuple(
            (k, _KINDS[kind], value) for k, (kind, value) in enumerate(tokens) if k > 0 or kind in ("lower", "case")
        )
        entry = _Pattern(len(tokens), checks, payload)
        if first_kind == "prefix":
            self._prefix.setdefault(first_value, []).append(entry)
            self._prefix_lengths = sorted({len(p) for p in self._prefix})
        else:
            self._exact.setdefault(fold(first_value), []).append(entry)
        self._cache.clear()

    def _candidates(self, key: str) -> tuple[_Pattern, ...]:
        found = self._cache.get(key)
        if found is None:
            out = list(self._exact.get(key, ()))
            for n in self._prefix_lengths:
                if n > len(key):
                    break
                out.extend(self._prefix.get(key[:n], ()))
            # longest first, so the first full match at a position is the longest one
            found = self._cache[key] = tuple(sorted(out, key=lambda p: -p.length))
        return found

    @staticmethod
    def _matches_at(doc: Doc, i: int, found: tuple[_Pattern, ...]) -> list[tuple[int, int, Any]]:
        keys, n, out = doc.keys, len(doc.keys), []
        for p in found:
            end = i + p.length
            if end > n:
                continue
            for offset, kind, value in p.checks:
                j = i + offset
                if kind == _EXACT:
                    if keys[j] != value:
                        break
                elif kind == _PREFIX:
                    if not keys[j].startswith(value):
                        break
                elif kind == _LOWER:
                    if doc.raw(j).lower() != value:
                        break
                elif doc.raw(j) != value:
                    break
            else:
                out.append((i, end, p.payload))
        return out

    def scan(self, doc: Doc, accept=None) -> list[tuple[int, int, Any]]:
        """Non-overlapping matches (token start, token end, payload); `accept` may veto one."""
        out = []
        keys, cache, candidates = doc.keys, self._cache, self._candidates
        i, n = 0, len(keys)
        while i < n:
            found = cache.get(keys[i])
            if found is None:
                found = candidates(keys[i])
            if found:
                for start, end, payload in self._matches_at(doc, i, found):
                    if accept is None or accept(doc, start, end, payload):
                        out.append((start, end, payload))
                        i = end - 1
                        break
            i += 1
        return out

    def scan_all(self, doc: Doc) -> list[tuple[int, int, Any]]:
        """Every match, overlapping ones included (query expansion wants them all)."""
        out = []
        cache, candidates = self._cache, self._candidates
        for i, key in enumerate(doc.keys):
            found = cache.get(key)
            if found is None:
                found = candidates(key)
            if found:
                out.extend(self._matches_at(doc, i, found))
        return out
