"""What retrieval needs about a whole generation, built once per generation and read from files.

A process that answers never holds every passage or vector: the BM25 postings (scores already
computed, one array per generation, memory-mapped), each passage's language and weight, the
per-language mean and covariance of the passage vectors (which give the dense score statistics
of any query exactly), the corpus's words, countries and actions, and the cognate prefixes live in
`paths.index/retrieval/<generation>/`. The ingest writes them before it promotes the generation;
a host that finds them missing (another host ingested into a shared Chroma server, an index made
before this layout) builds them once from Chroma and keeps them.
"""

from __future__ import annotations

import json
import math
import os
import shutil
import sqlite3
import threading
from collections import Counter, defaultdict
from pathlib import Path

import numpy as np

from .store import passage_from
from .text import analyze, lower_unaccented, words
from .types import Passage

LANGUAGES = ("fr", "en")
OTHER = 255  # the language code of a passage in neither
K1, B = 1.2, 0.75  # Okapi BM25
COGNATE_MIN, COGNATE_PREFIX = 7, 6  # words of at least 7 letters, keyed by their first 6
FORMAT = 2  # bumped when the files change: an older folder is rebuilt


def carried_out_in(p: Passage) -> set[str]:
    """Where a passage's practice was carried out: its action's countries; for a passage of no action (or an
    action of unknown country), the countries it names."""
    return set(p.action_countries) if p.action and p.action_countries else set(p.countries)


def folder(index_dir: Path | str, generation: str) -> Path:
    return Path(index_dir) / "retrieval" / generation


def _lexical_text(section: str | None, text: str) -> str:
    return f"{section or ''} {text}"


def build(store, generation: str, target: Path) -> Path:
    """Read the generation from Chroma page by page and write its retrieval index to `target`
    (whole or not at all: a temporary folder renamed into place)."""
    target.parent.mkdir(parents=True, exist_ok=True)
    # Rows are the passages in document order (doc_id, ordinal): the order the retriever always used,
    # so that ties rank as they did.
    keys = []
    for page in store.pages(generation, ["metadatas"]):
        keys += [(m["doc_id"], int(m.get("ordinal", 0)), pid) for pid, m in zip(page["ids"], page["metadatas"])]
    keys.sort()
    n = len(keys)
    row_of = {pid: r for r, (_, _, pid) in enumerate(keys)}
    per_doc = Counter(d for d, _, _ in keys)
    # Each document weighs the same in the per-language score statistics, so one huge document
    # cannot redefine what an ordinary score is for its language.
    weights = np.array([1.0 / per_doc[d] for d, _, _ in keys])
    language = np.zeros(n, dtype=np.uint8)
    lengths = np.zeros(n, dtype=np.float32)
    slots: dict[str, int] = {}
    post_slot: list[np.ndarray] = []
    post_row: list[np.ndarray] = []
    post_tf: list[np.ndarray] = []
    # Per language: the total weight, the weighted sum of the vectors and of their outer products.
    total: dict[str, float] = {}
    first: dict[str, np.ndarray] = {}
    second: dict[str, np.ndarray] = {}
    vocabulary: set[str] = set()
    common: set[str] = set()
    countries: set[str] = set()
    actions: set[str] = set()
    coverage: Counter = Counter()
    prefixes: dict[str, dict[str, set[str]]] = {lang: defaultdict(set) for lang in LANGUAGES}
    stems: dict[tuple[str, str], list[str]] = {}
    folded_words: dict[str, str] = {}  # a corpus repeats its words: each is folded once
    titles: set[str] = set()

    def fold(w: str) -> str:
        if w not in folded_words:
            folded_words[w] = lower_unaccented(w)
        return folded_words[w]

    for page in store.pages(generation, ["documents", "metadatas", "embeddings"]):
        rows = np.array([row_of[pid] for pid in page["ids"]], dtype=np.int64)
        vectors = np.asarray(page["embeddings"], dtype=np.float64).reshape(len(rows), -1)
        langs = [m.get("language", "fr") for m in page["metadatas"]]
        for r, text, meta, lang in zip(rows, page["documents"], page["metadatas"], langs):
            language[r] = LANGUAGES.index(lang) if lang in LANGUAGES else OTHER
            tokens = Counter(analyze(_lexical_text(meta.get("section"), text), lang))
            lengths[r] = sum(tokens.values())
            post_slot.append(np.array([slots.setdefault(t, len(slots)) for t in tokens], dtype=np.int64))
            post_row.append(np.full(len(tokens), r, dtype=np.int64))
            post_tf.append(np.array(list(tokens.values()), dtype=np.float32))
            title = meta.get("title", "")
            if title not in titles:
                titles.add(title)
                vocabulary.update(fold(w) for w in words(title))
            for w in words(text):
                folded = fold(w)
                vocabulary.add(folded)
                if w.islower():
                    common.add(folded)
                if len(folded) >= COGNATE_MIN and not w[:1].isupper() and lang in prefixes:
                    if (w, lang) not in stems:
                        stems[(w, lang)] = analyze(w, lang)
                    prefixes[lang][folded[:COGNATE_PREFIX]].update(stems[(w, lang)])
            countries.update(meta.get("countries") or ())
            if meta.get("action"):
                actions.add(meta["action"])
            # explore.coverage: passages per country where the practice was carried out, and per theme.
            p = passage_from("", text, meta)
            for c in carried_out_in(p):
                coverage[(c, None)] += 1
                for theme in set(p.themes):
                    coverage[(c, theme)] += 1
        for lang in LANGUAGES:
            mine = np.array([x == lang for x in langs])
            if not mine.any():
                continue
            w, v = weights[rows[mine]], vectors[mine]
            dim = v.shape[1]
            total[lang] = total.get(lang, 0.0) + float(w.sum())
            first[lang] = first.get(lang, np.zeros(dim)) + w @ v
            second[lang] = second.get(lang, np.zeros((dim, dim))) + (v * w[:, None]).T @ v

    tmp = target.parent / f".tmp-{generation}-{os.getpid()}-{threading.get_ident()}"
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir(parents=True)
    try:
        _write_lexical(tmp, n, lengths, slots, post_slot, post_row, post_tf)
        np.save(tmp / "language.npy", language)
        np.save(tmp / "weights.npy", weights)
        stats: dict[str, np.ndarray] = {}
        for lang, weight in total.items():
            if weight:
                mu = first[lang] / weight
                stats[f"{lang}_mu"], stats[f"{lang}_sigma"] = mu, second[lang] / weight - np.outer(mu, mu)
        np.savez(tmp / "dense.npz", **stats)  # type: ignore[arg-type]
        db = sqlite3.connect(tmp / "rows.sqlite")
        db.execute("CREATE TABLE passages (row INTEGER PRIMARY KEY, id TEXT UNIQUE, doc_id TEXT, ordinal INTEGER)")
        db.execute("CREATE INDEX position ON passages (doc_id, ordinal)")
        db.executemany("INSERT INTO passages VALUES (?,?,?,?)", [(r, pid, d, o) for r, (d, o, pid) in enumerate(keys)])
        db.execute("CREATE TABLE terms (term TEXT PRIMARY KEY, slot INTEGER)")
        db.executemany("INSERT INTO terms VALUES (?,?)", slots.items())
        db.execute("CREATE TABLE prefixes (lang TEXT, prefix TEXT, stem TEXT)")
        db.executemany(
            "INSERT INTO prefixes VALUES (?,?,?)",
            [(lang, p, s) for lang, index in prefixes.items() for p, found in index.items() for s in found],
        )
        db.execute("CREATE INDEX by_prefix ON prefixes (lang, prefix)")
        db.commit()
        db.close()
        known = {
            "countries": sorted(countries),
            "actions": sorted(actions),
            "vocabulary": sorted(vocabulary),
            "common": sorted(common),
            "coverage": [[c, theme, n] for (c, theme), n in sorted(coverage.items(), key=str)],
        }
        (tmp / "known.json").write_text(json.dumps(known, ensure_ascii=False), encoding="utf-8")
        # Written last: a folder without it is incomplete.
        (tmp / "done.json").write_text(json.dumps({"format": FORMAT, "passages": n}), encoding="utf-8")
        if target.exists():
            shutil.rmtree(target, ignore_errors=True)  # an incomplete or older one
        try:
            os.rename(tmp, target)
        except OSError:
            if not _complete(target):
                raise  # another process built it meanwhile otherwise
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return target


def drop_stale(index_dir: Path | str, known: set[str]) -> None:
    """Remove the retrieval indexes of generations the catalog no longer knows, and what killed
    builds left (a build still running keeps its temporary folder)."""
    root = Path(index_dir) / "retrieval"
    if not root.is_dir():
        return
    for path in root.iterdir():
        if path.is_dir() and path.name.startswith("g") and path.name not in known:
            shutil.rmtree(path, ignore_errors=True)
        elif path.name.startswith(".tmp-") and not builder_alive(path):
            shutil.rmtree(path, ignore_errors=True)


def builder_alive(tmp: Path) -> bool:
    """Whether the process building into this temporary folder (`.tmp-<generation>-<pid>-<thread>`) still runs."""
    try:
        pid = int(tmp.name.split("-")[-2])
        os.kill(pid, 0)
    except (ValueError, IndexError, ProcessLookupError):
        return False
    except PermissionError:
        return True  # another user's process
    return True


def _write_lexical(tmp: Path, n: int, lengths, slots, post_slot, post_row, post_tf) -> None:
    """BM25 postings as three arrays (CSR by term): each posting holds its final score, computed with
    the very float32 operations the in-memory class used, so the scores are the same."""
    slot = np.concatenate(post_slot) if post_slot else np.zeros(0, dtype=np.int64)
    row = np.concatenate(post_row) if post_row else np.zeros(0, dtype=np.int64)
    tfs = np.concatenate(post_tf) if post_tf else np.zeros(0, dtype=np.float32)
    order = np.lexsort((row, slot))
    slot, row, tfs = slot[order], row[order], tfs[order]
    avg = float(lengths.mean()) if n else 0.0
    norm = K1 * (1 - B + B * lengths / max(avg, 1e-6))
    indptr = np.zeros(len(slots) + 1, dtype=np.int64)
    np.cumsum(np.bincount(slot, minlength=len(slots)), out=indptr[1:])
    scores = np.empty(len(row), dtype=np.float32)
    for t in range(len(slots)):
        a, b = indptr[t], indptr[t + 1]
        df = b - a
        idf = math.log(1 + (n - df + 0.5) / (df + 0.5))
        ids, tf = row[a:b], tfs[a:b]
        scores[a:b] = idf * tf * (K1 + 1) / (tf + norm[ids])
    np.save(tmp / "lexical_indptr.npy", indptr)
    np.save(tmp / "lexical_rows.npy", row.astype(np.int32))
    np.save(tmp / "lexical_scores.npy", scores)


def _complete(path: Path) -> bool:
    try:
        return json.loads((path / "done.json").read_text(encoding="utf-8")).get("format") == FORMAT
    except (OSError, ValueError):
        return False


class GenerationIndex:
    """One generation's retrieval index, read lazily: arrays memory-mapped, rows looked up in SQLite."""

    def __init__(self, path: Path):
        self.path = path
        self.size = int(json.loads((path / "done.json").read_text(encoding="utf-8"))["passages"])
        self.language = np.load(path / "language.npy", mmap_mode="r")
        self.weights = np.load(path / "weights.npy", mmap_mode="r")
        self._indptr = np.load(path / "lexical_indptr.npy", mmap_mode="r")
        self._rows = np.load(path / "lexical_rows.npy", mmap_mode="r")
        self._scores = np.load(path / "lexical_scores.npy", mmap_mode="r")
        with np.load(path / "dense.npz") as stats:
            self._dense = {key: np.asarray(stats[key]) for key in stats.files}
        self._masks: dict[str, np.ndarray] = {}
        # Read now, not on first use: an ingest may delete the folder of a generation this process
        # still answers from (the open files and maps stay readable, a path does not).
        self._known = json.loads((path / "known.json").read_text(encoding="utf-8"))

    @classmethod
    def open(cls, store, index_dir: Path | str, generation: str) -> GenerationIndex:
        """The generation's index, built first (once per host) if it is missing."""
        path = folder(index_dir, generation)
        if not _complete(path):
            build(store, generation, path)
        return cls(path)

    def _sql(self, sql: str, args=()) -> list[tuple]:
        # A connection per lookup (well under a millisecond): a process that moved to a newer
        # generation holds no file of the old one open, and an ingest can delete it.
        db = sqlite3.connect(self.path / "rows.sqlite")
        try:
            return db.execute(sql, args).fetchall()
        finally:
            db.close()

    def mask(self, lang: str) -> np.ndarray:
        """Which rows are in `lang` (one byte a passage)."""
        if lang not in self._masks:
            code = LANGUAGES.index(lang) if lang in LANGUAGES else OTHER
            self._masks[lang] = np.asarray(self.language) == code
        return self._masks[lang]

    def lexical(self, terms: list[str]) -> np.ndarray:
        """BM25 scores of every passage for the terms (each counted once)."""
        out = np.zeros(self.size, dtype=np.float32)
        unique = sorted(set(terms))  # one order in every process: float32 sums round the same way
        found = dict(self._sql(f"SELECT term, slot FROM terms WHERE term IN ({','.join('?' * len(unique))})", unique))
        for term in unique:
            if term in found:
                a, b = int(self._indptr[found[term]]), int(self._indptr[found[term] + 1])
                out[self._rows[a:b]] += self._scores[a:b]
        return out

    def lexical_stats(self, scores: np.ndarray, lang: str) -> tuple[float, float]:
        """Weighted mean and standard deviation of `scores` over the passages in `lang`."""
        mask = self.mask(lang)
        w, values = np.asarray(self.weights)[mask], scores[mask]
        mean = float((w * values).sum() / w.sum())
        sd = float(np.sqrt((w * (values - mean) ** 2).sum() / w.sum())) or 1.0
        return mean, sd

    def dense_stats(self, query: np.ndarray, lang: str) -> tuple[float, float]:
        """Weighted mean and standard deviation of query·v over the passages in `lang`: q·mu and
        sqrt(q^T Sigma q), exactly what the scores of every passage would give."""
        if f"{lang}_mu" not in self._dense:
            return 0.0, 1.0
        q = np.asarray(query, dtype=np.float64)
        mean = float(q @ self._dense[f"{lang}_mu"])
        var = float(q @ self._dense[f"{lang}_sigma"] @ q)
        return mean, (math.sqrt(var) if var > 0 else 0.0) or 1.0

    def rows(self, ids: list[str]) -> dict[str, int]:
        out: dict[str, int] = {}
        for i in range(0, len(ids), 500):
            part = ids[i : i + 500]
            out.update(self._sql(f"SELECT id, row FROM passages WHERE id IN ({','.join('?' * len(part))})", part))
        return out

    def ids(self, rows) -> dict[int, str]:
        rows = [int(r) for r in rows]
        out: dict[int, str] = {}
        for i in range(0, len(rows), 500):
            part = rows[i : i + 500]
            out.update(self._sql(f"SELECT row, id FROM passages WHERE row IN ({','.join('?' * len(part))})", part))
        return out

    def row_at(self, doc_id: str, ordinal: int) -> int | None:
        got = self._sql("SELECT row FROM passages WHERE doc_id=? AND ordinal=?", (doc_id, ordinal))
        return got[0][0] if got else None

    def document_rows(self, doc_id: str) -> list[int]:
        return [r for (r,) in self._sql("SELECT row FROM passages WHERE doc_id=? ORDER BY row", (doc_id,))]

    def prefixed(self, lang: str, prefix: str) -> set[str]:
        return {s for (s,) in self._sql("SELECT stem FROM prefixes WHERE lang=? AND prefix=?", (lang, prefix))}

    def known(self) -> dict[str, list[str]]:
        """The corpus's countries, actions, words and lower-case words, and the coverage counts."""
        return self._known
