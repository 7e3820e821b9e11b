"""The one place where the stages are wired together: ingest, status, ask, similar."""

from __future__ import annotations

import fcntl
import hashlib
import json
import os
import re
import shutil
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass, field
from functools import cached_property
from pathlib import Path

import numpy as np

from . import answer as answering
from . import chunk as chunking
from . import cite, decide, evaluate, generate, load, parse
from . import index as retrieval
from . import question as questioning
from . import store as store_module
from .config import Settings, load_settings
from .embed import Embedder, make_embedder
from .errors import AssistantError, BadDocument
from .retrieve import Retriever, analyze_question
from .store import Catalog, EmbeddingCache, ServerCatalog, VectorStore, require_live, write_atomic
from .text import question_language
from .types import Answer, Evidence, Filters, IndexedDocument, Language, Passage

# Bump when parsing or chunking changes what a document turns into: every document is then re-chunked
# (and only text that changed is re-embedded, thanks to the cache).
PIPELINE_VERSION = "12"
# Passages written to Chroma at once during an ingest.
WRITE_BATCH = 2000
# Passages embedded, then cached, at once: an ingest interrupted in a long document keeps what it made.
EMBED_BATCH = 64
# Where `update` stages the files it was given (inside paths.index, never inside the corpus).
UPDATE_FOLDER = "update"
# Candidates searched for each entity of a comparison, of which those naming it join the evidence.
ENTITY_POOL = 20

Progress = Callable[[str, int, int], None]  # (stage, done, total)


def _stage(progress: Progress | None, stage: str):
    """An eval's (done, total) progress reported as one stage of `progress`."""
    return (lambda done, total: progress(stage, done, total)) if progress else None


@dataclass
class IngestReport:
    generation: str | None
    promoted: bool
    added: list[str] = field(default_factory=list)
    changed: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    unchanged: int = 0
    passages: int = 0
    embedded: int = 0  # passages sent to the model (not found in the cache)
    reused: int = 0  # passages whose vector came from the cache
    problems: dict[str, str] = field(default_factory=dict)
    seconds: float = 0.0

    def to_json(self) -> dict:
        return asdict(self)


@dataclass
class Prepared:
    """A question ready to be answered: read, its evidence gathered, its answerability decided."""

    clean: str  # the question as asked, cleaned
    standalone: str  # read as a standalone question (follow-ups carry the previous topic)
    language: Language
    generative: bool
    ask: decide.Ask
    pool: list[Evidence]  # retrieved evidence, with the related passages
    evidence: list[Evidence]  # what the answer may quote
    decision: decide.Decision
    generation: str | None = None  # the index generation the evidence comes from


class Assistant:
    """The assistant over one index. Cheap to build: models and the index load on first use.

    >>> a = Assistant(load_settings(paths={"index": "index", "corpus": "corpus"}))
    >>> a.ask("How did Peru adapt its training?").abstained  # doctest: +SKIP
    False
    """

    def __init__(self, settings: Settings | None = None, generation: str | None = None):
        self.settings = settings or load_settings()
        # Pinned to one generation (a staged one under evaluation), or None for whatever is live.
        self.generation = generation
        self._retriever = None
        self._retriever_lock = threading.Lock()

    def pinned(self, generation: str) -> "Assistant":
        """A view of this assistant on one index generation (e.g. a staged update being evaluated)."""
        view = Assistant(self.settings, generation)
        for name in ("catalog", "cache", "store", "embedder"):
            view.__dict__[name] = getattr(self, name)
        return view

    def _generation(self) -> str:
        return self.generation or require_live(self.catalog)

    # -- components, built on first use --------------------------------------------------------
    @cached_property
    def catalog(self) -> Catalog | ServerCatalog:
        # With a Chroma server, the catalog lives there too: every host sees the same live generation.
        if self.settings.store.chroma_url:
            return ServerCatalog(self.store)
        return Catalog(self.settings.paths.index)

    @cached_property
    def cache(self) -> EmbeddingCache:
        paths = self.settings.paths
        return EmbeddingCache(paths.cache or Path(paths.index) / "embeddings.sqlite")

    @cached_property
    def store(self) -> VectorStore:
        return VectorStore(self.settings)

    @cached_property
    def embedder(self) -> Embedder:
        return make_embedder(self.settings.embed)

    @property
    def pipeline_id(self) -> str:
        chunk = self.settings.chunk
        return f"{PIPELINE_VERSION}/{self.embedder.name}/{chunk.max_words}/{chunk.min_words}"

    # -- ingest --------------------------------------------------------------------------------
    def ingest(
        self, path: Path | str | None = None, *, promote: bool = True, progress: Progress | None = None
    ) -> IngestReport:
        """Bring the index up to date with the corpus folder (or only with `path` inside it).

        Unchanged files are not re-embedded; a changed file replaces exactly its own passages; a
        removed file's passages go away; a bad file is reported and skipped (its previous version,
        if any, stays). With promote=False the new generation is left staged for `promote()`.
        """
        with self._ingest_lock():
            self._finish_update()
            try:
                return self._ingest(path, promote=promote, progress=progress)
            except AssistantError:
                raise
            except Exception as err:
                # Before a staging generation exists (garbage collection, the catalog): still a message.
                reason = store_module.storage_failure(err, Path(self.settings.paths.index))
                if reason:
                    raise AssistantError(
                        f"Ingest stopped: {reason} ({err.__class__.__name__}: {err}). The live index is "
                        "unchanged; free some space and run `assistant ingest` again"
                    ) from None
                raise

    def _ingest(self, path, *, promote: bool, progress: Progress | None, staged: Path | None = None) -> IngestReport:
        """The ingest, under the lock. `staged`: a folder laid out like the corpus whose files are
        read as if they stood at the same place in it (what `update` was given)."""
        started = time.monotonic()
        root = Path(self.settings.paths.corpus)
        if not root.is_dir():
            raise AssistantError(f"Cannot ingest {root}: no such folder (paths.corpus / ASSISTANT_PATHS__CORPUS)")
        only = [Path(path)] if path is not None and Path(path).resolve() != root.resolve() else None
        self._collect_garbage()
        manifest = load.read_manifest(root)
        # Names first; each file is then opened and read once, and parsed from those bytes.
        found = {doc_id: root for doc_id in load.scan(root, only)}
        if staged is not None:
            found.update({doc_id: staged for doc_id in load.scan(staged)})
        names = sorted(found)
        scope = _scope(root, only) if only else None
        live = self.catalog.live()
        if live and not self.store.exists(live):
            # The catalog points at vectors that are gone (deleted by hand, older layout): rebuild.
            live = None
        live_docs = self.catalog.documents(live) if live else {}
        same_pipeline = (
            bool(live) and (self.catalog.generation_info(live or "") or {}).get("pipeline") == self.pipeline_id
        )
        # A document that failed last time kept its older version, perhaps of an older pipeline: try it again.
        failed = set(self.catalog.problems(live)) if live else set()

        report = IngestReport(generation=None, promoted=False)
        keep: list[str] = []
        seen = set(names)
        in_scope = (
            (lambda d: any(p == "" or d == p or d.startswith(p + "/") for p in scope)) if scope else (lambda d: True)
        )
        report.removed = [d for d in live_docs if in_scope(d) and d not in seen]
        keep += [d for d in live_docs if not in_scope(d)]
        report.unchanged = len(keep)

        parsed = []
        sources = (load.read_source(found[doc_id], doc_id, max_bytes=self.settings.max_file_bytes) for doc_id in names)
        for i, src in enumerate(sources):
            if progress:
                progress("parse", i, len(names))
            key = _doc_key(src, manifest.get(src.doc_id))
            old = live_docs.get(src.doc_id)
            if same_pipeline and old is not None and old.sha256 == key and src.doc_id not in failed:
                keep.append(src.doc_id)
                report.unchanged += 1
                continue
            try:
                doc = parse.parse(src, manifest.get(src.doc_id), max_bytes=self.settings.max_file_bytes)
                passages = self._chunk(doc)
            except BadDocument as err:
                report.problems[src.doc_id] = str(err)
                if old is not None:
                    keep.append(src.doc_id)  # keep what was indexed rather than lose it
                continue
            except Exception as err:  # a parser bug must not lose the rest of the corpus
                report.problems[src.doc_id] = f"Cannot read corpus/{src.doc_id}: {err.__class__.__name__}: {err}"
                if old is not None:
                    keep.append(src.doc_id)
                continue
            parsed.append((doc, key, passages, old))

        if live and not parsed and not report.removed:
            # Nothing to write: the live index already is the corpus (bad files aside).
            self.catalog.set_problems(live, report.problems)
            report.generation = live
            report.passages = self.store.count(live)
            report.seconds = time.monotonic() - started
            return report

        generation = self.catalog.new_generation(self.embedder.name, self.pipeline_id)
        try:
            self.store.create(generation)
            if live and keep:
                self.store.copy(live, generation, sorted(set(keep)))
                self.catalog.copy_documents(live, generation, sorted(set(keep)))
            total = sum(len(p) for _, _, p, _ in parsed)
            done = 0
            # Chroma writes go in batches of many documents: one write per document dominated
            # ingest time once the corpus grew (bench: 32.6 of 37.6 s at 16x).
            pending: list[tuple[list[Passage], np.ndarray]] = []
            for doc, key, passages, old in parsed:

                def step(n: int, before: int = done) -> None:
                    if progress:
                        progress("embed", before + n, total)

                vectors, embedded = self._vectors(passages, step)
                pending.append((passages, vectors))
                if sum(len(p) for p, _ in pending) >= WRITE_BATCH:
                    self._write(generation, pending)
                report.embedded += embedded
                report.reused += len(passages) - embedded
                self.catalog.put_document(generation, _indexed(doc, key, passages), doc.text)
                (report.changed if old is not None else report.added).append(doc.doc_id)
                done += len(passages)
                if progress:
                    progress("embed", done, total)
            self._write(generation, pending)
            self.catalog.set_problems(generation, report.problems)
            # The retrieval index (BM25, score statistics, words) is written before readers can see
            # the generation: none of them has to read the whole generation to answer.
            if progress:
                progress("index", 0, 1)
            retrieval.build(self.store, generation, retrieval.folder(self.settings.paths.index, generation))
            if progress:
                progress("index", 1, 1)
            report.generation = generation
            if promote:
                self.promote(generation)
                report.promoted = True
        except BaseException as err:
            # Judged before the staging generation is dropped: dropping it frees the space it took.
            reason = (
                store_module.storage_failure(err, Path(self.settings.paths.index))
                if isinstance(err, Exception)
                else None
            )
            try:
                self.discard(generation)
            except Exception:
                pass  # the next ingest drops what is left of this staging generation
            if reason:
                raise AssistantError(
                    f"Ingest stopped: {reason} ({err.__class__.__name__}: {err}). The live index is unchanged; "
                    "free some space and run `assistant ingest` again"
                ) from None
            raise
        report.passages = self.store.count(generation)
        report.seconds = time.monotonic() - started
        return report

    def _write(self, generation: str, pending: list[tuple[list[Passage], np.ndarray]]) -> None:
        """Write the pending documents' passages in one batch, and empty `pending`."""
        if pending:
            self.store.add(generation, [p for ps, _ in pending for p in ps], np.vstack([v for _, v in pending]))
            pending.clear()

    def _chunk(self, doc) -> list[Passage]:
        """The document's passages, or BadDocument when there are none or more than chunk.max_passages."""
        cfg = self.settings.chunk
        # Passages hold at most max_words words (a sentence is not cut): a longer text is refused before chunking.
        words = len(doc.text.split())
        if words > cfg.max_passages * cfg.max_words:
            raise BadDocument(
                doc.doc_id,
                f"it has {words:,} words, more than the {cfg.max_passages:,} passages "
                f"of up to {cfg.max_words} words allowed "
                "per document can hold (chunk.max_passages / ASSISTANT_CHUNK__MAX_PASSAGES)",
                "split it into smaller files, or raise the limit if it really is one document",
            )
        passages = chunking.chunk(doc, cfg)
        if not passages:
            raise BadDocument(doc.doc_id, "no passage of text could be cut from it", "is it only headings or images?")
        if len(passages) > cfg.max_passages:
            raise BadDocument(
                doc.doc_id,
                f"it makes {len(passages):,} passages, over the limit of {cfg.max_passages:,} per document "
                "(chunk.max_passages / ASSISTANT_CHUNK__MAX_PASSAGES)",
                "split it into smaller files, or raise the limit if it really is one document",
            )
        return passages

    def _vectors(self, passages: list[Passage], step: Callable[[int], None] | None = None):
        """Vectors of the passages from the cache or the model, and how many the model made.

        Each batch the model makes is cached at once: Ctrl-C in a long document keeps what was done.
        """
        texts = [chunking.embedding_text(p) for p in passages]
        found = self.cache.get_many(self.embedder.name, texts)
        missing = [i for i in range(len(texts)) if i not in found]
        for start in range(0, len(missing), EMBED_BATCH):
            part = missing[start : start + EMBED_BATCH]
            fresh = self.embedder.embed_passages([texts[i] for i in part])
            self.cache.put_many(self.embedder.name, [texts[i] for i in part], fresh)
            for i, v in zip(part, fresh):
                found[i] = v
            if step:
                step(start + len(part))
        return np.vstack([found[i] for i in range(len(texts))]), len(missing)

    def promote(self, generation: str) -> None:
        """Make a staged generation live (one transaction), then drop generations beyond the kept ones."""
        self.catalog.promote(generation)
        self._collect_garbage(keep_staging=False)

    def discard(self, generation: str) -> None:
        """Forget a staged generation; the live index is untouched."""
        self.store.drop(generation)
        shutil.rmtree(retrieval.folder(self.settings.paths.index, generation), ignore_errors=True)
        self.catalog.forget(generation)

    def _collect_garbage(self, keep_staging: bool = False) -> None:
        # Staging generations left by a crashed ingest are unreachable: drop them (we hold the ingest lock).
        if not keep_staging:
            for name in self.catalog.staging():
                self.discard(name)
        retired = self.catalog.retired()
        extra = len(retired) - (self.settings.store.keep_generations - 1)
        for name in retired[: max(extra, 0)]:
            self.discard(name)
        # Folders of generations the catalog never recorded (a crash between the two writes).
        folder = Path(self.settings.paths.index) / "chroma"
        if not self.settings.store.chroma_url and folder.is_dir():
            known = self.catalog.known()
            for path in folder.iterdir():
                if path.is_dir() and path.name.startswith("g") and path.name not in known:
                    self.store.drop(path.name)
        retrieval.drop_stale(self.settings.paths.index, self.catalog.known())

    def _ingest_lock(self):
        index = Path(self.settings.paths.index)
        index.mkdir(parents=True, exist_ok=True)
        lock_path = index / "ingest.lock"
        catalog = self.catalog

        class _Lock:
            def __enter__(self_inner):
                self_inner.fh = open(lock_path, "w")
                try:
                    fcntl.flock(self_inner.fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
                except BlockingIOError:
                    self_inner.fh.close()
                    raise AssistantError(
                        f"Another ingest or update is running on {index} (lock {lock_path}); wait for it to finish"
                    ) from None
                # With a Chroma server, ingests on other hosts are kept apart by the server's own lock.
                self_inner.shared = catalog.lock() if isinstance(catalog, ServerCatalog) else None
                if self_inner.shared is not None:
                    try:
                        self_inner.shared.__enter__()
                    except BaseException:
                        self_inner.__exit__(None, None, None, local_only=True)
                        raise
                return self_inner

            def __exit__(self_inner, *exc, local_only: bool = False):
                try:
                    if self_inner.shared is not None and not local_only:
                        self_inner.shared.__exit__(None, None, None)
                finally:
                    fcntl.flock(self_inner.fh, fcntl.LOCK_UN)
                    self_inner.fh.close()
                return False

        return _Lock()

    # -- update: staged ingest, eval, gate, swap --------------------------------------------------
    def update(
        self,
        paths: list[Path] | None = None,
        *,
        dest: str = "added",
        gate_file: Path | None = None,
        eval_set: Path | None = None,
        report_dir: Path | None = None,
        progress: Progress | None = None,
        eval_dir: Path | None = None,
    ) -> dict:
        """The corpus-update workflow: stage the new documents, evaluate, swap in only if the gate passes.

        Files given from outside the corpus are copied into a staging folder inside paths.index, read
        as if they stood in corpus/<dest>/, and copied into the corpus only once their generation is
        live: a blocked, failed or killed update leaves the corpus as it was. Returns
        {"status": "promoted"|"blocked"|"unchanged", "reasons": [...], ...}.
        """
        root = Path(self.settings.paths.corpus)
        thresholds = evaluate.load_gate(gate_file)
        # The development set and the frozen held-out set are each judged, overall and per language;
        # an explicit --set replaces both.
        sets = {"set": evaluate.load_questions(eval_set)} if eval_set else evaluate.gate_sets(eval_dir)
        report_dir = Path(report_dir or Path(self.settings.paths.data) / "eval")
        folder = self._update_folder()
        with self._ingest_lock():
            self._finish_update()
            try:
                staging = _stage_files(root, [Path(p) for p in paths or []], dest, folder / "files")
                live = self.catalog.live()
                baselines = {
                    name: self._baseline(live, qs, report_dir, progress) if live else None for name, qs in sets.items()
                }
                staged = self._ingest(None, promote=False, progress=progress, staged=staging)
                if staged.generation is None or staged.generation == live:
                    reasons = [f"{d}: {m}" for d, m in staged.problems.items()]
                    if reasons:
                        return {"status": "blocked", "reasons": reasons, "ingest": staged.to_json()}
                    return {"status": "unchanged", "reasons": [], "ingest": staged.to_json()}
                pinned = self.pinned(staged.generation)
                new_docs = set(staged.added) | set(staged.changed)
                reasons, results, reports = [], {}, {}
                for name, questions in sets.items():
                    result = evaluate.evaluate(pinned, questions, progress=_stage(progress, "evaluate"))
                    baseline = baselines[name]
                    if baseline:
                        scorer = cite.SupportScorer(self.embedder)
                        result["displaced"] = evaluate.displaced(result, baseline, new_docs, scorer.supports)
                    reasons += evaluate.gate(result, baseline, thresholds, name if len(sets) > 1 else "")
                    results[name] = result
                    reports[name] = str(
                        evaluate.write_report(
                            result,
                            report_dir / f"update-{staged.generation}" / name,
                            evaluate.compare(result, baseline) if baseline else None,
                        )["md"]
                    )
                reasons += [f"{d}: {m}" for d, m in staged.problems.items()]
                if reasons:
                    self.discard(staged.generation)
                    status = "blocked"
                else:
                    # The journal first: if the process dies after the swap, the next ingest or update
                    # finishes the copy into the corpus (and only then: before the swap it is discarded).
                    write_atomic(folder / "promote.json", json.dumps({"generation": staged.generation}))
                    self.promote(staged.generation)
                    status = "promoted"
                first = next(iter(sets))
                baseline = baselines[first]
                return {
                    "status": status,
                    "reasons": reasons,
                    "generation": staged.generation,
                    "ingest": staged.to_json(),
                    "summary": results[first]["summary"]["all"],
                    "baseline": baseline["summary"]["all"] if baseline else None,
                    "sets": {
                        name: {
                            "summary": {col: r["summary"][col] for col in evaluate.GATED_COLUMNS},
                            "displaced": r.get("displaced", []),
                            "report": reports[name],
                        }
                        for name, r in results.items()
                    },
                    "report": reports[first],
                }
            finally:
                # Promoted: its files go into the corpus; otherwise they are dropped.
                self._finish_update()

    def _update_folder(self) -> Path:
        return Path(self.settings.paths.index) / UPDATE_FOLDER

    def _finish_update(self) -> None:
        """What an update left behind (it was killed): copy its files into the corpus if their
        generation went live, else drop them. Called under the ingest lock."""
        folder = self._update_folder()
        if not folder.exists():
            return
        journal = folder / "promote.json"
        try:
            promoted = json.loads(journal.read_text(encoding="utf-8")).get("generation") if journal.exists() else None
        except ValueError:
            promoted = None  # torn: written atomically, so it never was complete
        if promoted and promoted == self.catalog.live():
            files = folder / "files"
            root = Path(self.settings.paths.corpus)
            for source in sorted(p for p in files.rglob("*") if p.is_file()):
                target = root / source.relative_to(files)
                target.parent.mkdir(parents=True, exist_ok=True)
                tmp = target.with_name(f".{target.name}.update-tmp")
                shutil.copyfile(source, tmp)
                os.replace(tmp, target)  # whole or not at all
        shutil.rmtree(folder, ignore_errors=True)

    def _baseline(self, live: str, questions, report_dir: Path, progress: Progress | None = None) -> dict:
        """The eval of the live index, cached per generation."""
        # Keyed by the generation and the questions: another set has another baseline.
        key = hashlib.sha1("\n".join(q.id + q.question for q in questions).encode()).hexdigest()[:10]
        path = report_dir / f"baseline-{live}-{key}.json"
        if path.exists():
            return json.loads(path.read_text(encoding="utf-8"))
        result = evaluate.evaluate(self.pinned(live), questions, progress=_stage(progress, "baseline"))
        write_atomic(path, json.dumps(result, ensure_ascii=False))
        return result

    # -- status --------------------------------------------------------------------------------
    def status(self) -> dict:
        """What is indexed, and what changed on disk since."""
        live = self.catalog.live()
        docs = self.catalog.documents(live) if live else {}
        root = Path(self.settings.paths.corpus)
        manifest = load.read_manifest(root) if root.is_dir() else {}
        new, changed = [], []
        seen = set()
        if root.is_dir():
            for src in load.iter_sources(root, max_bytes=self.settings.max_file_bytes):
                seen.add(src.doc_id)
                if src.problem:
                    continue  # a link or a special file: never indexed, the ingest names it
                old = docs.get(src.doc_id)
                if old is None:
                    new.append(src.doc_id)
                elif old.sha256 != _doc_key(src, manifest.get(src.doc_id)):
                    changed.append(src.doc_id)
        removed = [d for d in docs if d not in seen]
        languages: dict[str, int] = {}
        countries: dict[str, int] = {}
        actions: dict[str, int] = {}
        for d in docs.values():
            languages[d.language] = languages.get(d.language, 0) + 1
            for c in d.countries:
                countries[c] = countries.get(c, 0) + 1
            for a in d.actions:
                actions[a] = actions.get(a, 0) + 1
        problems = self.catalog.problems(live) if live else {}
        return {
            "index": str(Path(self.settings.paths.index).resolve()),
            "chroma": self.settings.store.chroma_url or "embedded",
            "generation": live,
            "last_update": self.catalog.updated_at(),
            "documents": len(docs),
            "passages": sum(d.n_passages for d in docs.values()),
            "languages": languages,
            "countries": dict(sorted(countries.items(), key=lambda kv: (-kv[1], kv[0]))),
            "actions": dict(sorted(actions.items(), key=lambda kv: (-kv[1], kv[0]))),
            "files": [
                {
                    "source": d.doc_id,
                    "title": d.title,
                    "language": d.language,
                    "year": d.year,
                    "passages": d.n_passages,
                    "countries": d.countries,
                    "actions": d.actions,
                    "themes": d.themes,
                    "ingested_at": d.ingested_at,
                }
                for d in docs.values()
            ],
            "on_disk": {"new": new, "changed": changed, "removed": removed},
            "problems": problems,
        }

    # -- questions -----------------------------------------------------------------------------
    @property
    def retriever(self):
        """The retriever over the live generation; rebuilt when an ingest swapped in a new one."""
        live = self._generation()
        with self._retriever_lock:
            if self._retriever is None or self._retriever.generation != live:
                previous = self._retriever
                self._retriever = Retriever(self.settings, self.store, self.embedder, self.catalog, live)
                if previous is not None and previous.generation != self.generation:
                    # A long-running reader (the chat) lets go of the generation it leaves: an ingest
                    # deletes it later, and its open files and memory would stay with this process.
                    self.store.release(previous.generation)
                    # On a host that does not ingest (a Chroma server's), nothing else drops the
                    # retrieval indexes this host built for generations gone.
                    retrieval.drop_stale(self.settings.paths.index, self.catalog.known())
            return self._retriever

    def ask(
        self,
        question: str,
        filters: Filters | None = None,
        *,
        language: str | None = None,
        k: int | None = None,
        history: list[tuple[str, str]] | None = None,
        mode: str | None = None,
    ) -> Answer:
        """Answer a question from the corpus, with citations, or abstain.

        >>> Assistant().ask("Comment le Pérou a-t-il adapté sa formation ?").citations[0].source  # doctest: +SKIP
        'seeds/000_c0f20d1b9c390d7f.txt'
        """
        final = None
        for item in self.stream_ask(
            question, filters, language=language, k=k, history=history, mode=mode, stream=False
        ):
            final = item
        assert isinstance(final, Answer), "stream_ask ends with the answer"
        return final

    def stream_ask(
        self,
        question: str,
        filters: Filters | None = None,
        *,
        language: str | None = None,
        k: int | None = None,
        history: list[tuple[str, str]] | None = None,
        mode: str | None = None,
        stream: bool = True,
    ) -> Iterator[str | Answer]:
        """The one path from a question to its answer: text deltas of a generated answer while it is
        written (generative mode, streamed), then the final Answer. Extractive answers, abstentions and
        refusals yield the Answer alone.

        >>> for item in Assistant().stream_ask("How did Peru adapt its training?"):  # doctest: +SKIP
        ...     print(item if isinstance(item, str) else item.mode, end="")
        """
        started = time.perf_counter()
        prepared = self.prepare(question, filters or Filters(), language=language, k=k, history=history, mode=mode)
        lang, info = prepared.language, prepared.ask.info
        if not prepared.decision.answerable:
            result = answering.abstain(question, lang, prepared.decision, prepared.pool, self.settings)
        else:
            result = answering.compose(
                question,
                lang,
                prepared.ask,
                prepared.evidence,
                self.settings,
                support=prepared.decision.support,
                embedder=self.embedder,
                retriever=self.retriever,
            )
            if prepared.generative:
                for item in generate.stream_answer(
                    self, question, lang, info, prepared.evidence, result, stream=stream
                ):
                    if isinstance(item, Answer):
                        result = item
                    else:
                        yield item
        generation = prepared.generation or self.retriever.generation
        # The cited documents' texts are read here and handed down: the answer never calls back up.
        sources = {c.source for c in [*result.citations, *result.related]}
        texts = {source: self.document_text(source, generation) for source in sources}
        answering.verify_citations(result, generation, texts)
        result.interpreted_as = prepared.standalone if prepared.standalone != prepared.clean else None
        result.latency_ms = round((time.perf_counter() - started) * 1000, 1)
        yield result

    def prepare(
        self,
        question: str,
        filters: Filters,
        *,
        language: str | None = None,
        k: int | None = None,
        history: list[tuple[str, str]] | None = None,
        mode: str | None = None,
    ) -> "Prepared":
        """Read the question, gather its evidence and decide whether it answers: every answer starts here."""
        settings = self.settings
        guess = language or question_language(question or "")
        clean = questioning.clean_question(question, settings.answer.max_question_chars, guess)
        lang: Language = "fr" if language == "fr" else "en" if language == "en" else question_language(clean)
        generative = (mode or ("generative" if settings.llm.backend != "none" else "extractive")) == "generative"
        standalone = questioning.contextualize(clean, history)
        if generative and history:
            standalone = generate.condense(self, clean, history, fallback=standalone)
        retriever = self.retriever
        ask = decide.read_question(analyze_question(standalone, lang))
        k = k or settings.retrieve.k
        pool = retriever.retrieve(ask.info, filters, k=k, pool=k + settings.answer.related)
        # A list item that follows its announcement does not take the place of another passage.
        evidence = answering.widen(retriever, ask, pool[: k + sum(1 for e in pool[:k] if e.follows)])
        if ask.parts:
            # A two-part question's second half may be answered by a passage the whole question does
            # not rank ("…, et en combien de sections est-elle divisée ?"): each part is also searched,
            # with the whole question's entities, and its best passages join the evidence.
            entities = " ".join(c.label for c in ask.constraints if c.kind in decide.ENTITY_KINDS + ("year",))
            have = {e.passage.id for e in evidence}
            for part in ask.parts:
                found = retriever.retrieve(
                    analyze_question(f"{part.info.text} {entities}", lang),
                    filters,
                    k=settings.answer.part_k,
                    pool=settings.answer.part_k,
                )
                evidence += [e for e in found if e.passage.id not in have]
                have |= {e.passage.id for e in found}
        if ask.comparison:
            evidence += self._each_entity(ask, evidence, filters, lang)

        def judge(evidence: list[Evidence]) -> decide.Decision:
            return decide.decide(
                ask,
                evidence,
                retriever.known,
                settings.answer.min_coverage,
                retriever.neighbours,
                retriever.document_words,
            )

        decision = judge(evidence)
        missing = decision.missing
        if not decision.answerable and missing is not None and missing.kind in decide.NAMED_KINDS:
            # A name the evidence does not hold may still be in the corpus, ranked below passages that
            # match the rest of the question better: the passages naming it are searched, then judged.
            extra = self._naming(ask, missing, filters, lang, {e.passage.id for e in evidence})
            if extra:
                evidence = evidence + extra
                decision = judge(evidence)
        return Prepared(
            clean=clean,
            standalone=standalone,
            language=lang,
            generative=generative,
            ask=ask,
            pool=pool,
            evidence=evidence,
            decision=decision,
            generation=retriever.generation,
        )

    def _each_entity(self, ask: decide.Ask, evidence: list[Evidence], filters: Filters, lang: str) -> list[Evidence]:
        """A comparison of meetings, programmes or places ("the GCM actions, the Porto meeting and the UN
        Network") needs a passage about each: each is also searched (`_naming`), and its best passages
        join the evidence (countries: `Retriever._each_country`)."""
        named = [c for c in ask.constraints if c.kind in decide.NAMED_KINDS]
        if len(named) < 2:
            return []
        have = {e.passage.id for e in evidence}
        return [e for c in named for e in self._naming(ask, c, filters, lang, have)]

    def _naming(
        self, ask: decide.Ask, c: decide.Constraint, filters: Filters, lang: str, have: set[str]
    ) -> list[Evidence]:
        """The best passages naming `c` (a name, place or action of the question) for the question with
        its other entities left out; `have` (passage ids already in the evidence) grows with them."""
        rest = ask.info.text
        for other in ask.constraints:
            if other.kind in decide.NAMED_KINDS and other.label != c.label:
                rest = re.sub(rf"(?<![\w+]){re.escape(other.label)}(?![\w+])", " ", rest)
        found = self.retriever.retrieve(analyze_question(rest, lang), filters, k=ENTITY_POOL, pool=ENTITY_POOL)
        out: list[Evidence] = []
        # Only passages that name the entity: the rest of the question still ranks the others first.
        for e in found:
            if len(out) >= self.settings.answer.part_k:
                break
            p = e.passage
            if p.id in have or not decide.says(f"{p.title} {p.section or ''} {p.text}", c.label):
                continue
            out.append(e)
            have.add(p.id)
        return out

    def filter_exclusions(self, question: str, filters: Filters, share: float = 0.1) -> list[str]:
        """The countries a question names that the index documents but `filters` leave out: the filters keep
        none (or under `share`) of the passages about them. The chat then blames the filter, not the corpus.

        >>> Assistant().filter_exclusions("How did Peru adapt its training?", Filters(years=[2013]))  # doctest: +SKIP
        ['PE']
        """
        from . import tag
        from .retrieve import where_clause

        if filters.is_empty() or not (question or "").strip():
            return []
        named = list(dict.fromkeys([*tag.find_countries(question), *(c for _, c in tag.find_cities(question))]))
        out = []
        retriever = self.retriever
        for code in named:
            # Counted in Chroma (ids only): the passages about the country, and those the filters keep.
            about = {"$or": [{"countries": {"$contains": code}}, {"action_countries": {"$contains": code}}]}
            total = len(self.store.ids(retriever.generation, about))
            where = where_clause(filters)
            kept = len(self.store.ids(retriever.generation, {"$and": [about, where]})) if where else total
            if total and kept <= share * total:
                out.append(code)
        return out

    def document_text(self, doc_id: str, generation: str | None = None) -> str | None:
        """The cleaned text of a document, in the live generation or in `generation` (None once it is gone)."""
        return self.catalog.text(generation or self._generation(), doc_id)

    def documents(self) -> dict[str, IndexedDocument]:
        return self.catalog.documents(self._generation())


def _stage_files(root: Path, paths: list[Path], dest: str, staging: Path) -> Path:
    """Copy the files given from outside the corpus to staging/<dest>/ (the corpus is not touched)."""
    staging.mkdir(parents=True, exist_ok=True)
    for p in paths:
        if not p.is_file():
            raise AssistantError(f"Cannot update with {p}: no such file")
        try:
            p.resolve().relative_to(root.resolve())
            continue  # already in the corpus: the staged ingest reads it there
        except ValueError:
            pass
        target = staging / dest / p.name
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(p, target)
    return staging


def _scope(root: Path, only: list[Path]) -> list[str]:
    """doc_id prefixes that `only` covers (a file, or a folder inside the corpus)."""
    out = []
    for p in only:
        full = (p if p.is_absolute() else Path.cwd() / p).resolve()
        if not full.exists() and not p.is_absolute():
            full = (root / p).resolve()
        try:
            rel = full.relative_to(root.resolve()).as_posix()
        except ValueError:
            raise AssistantError(
                f"Cannot ingest {p}: it is outside the corpus folder {root}; copy it into {root} first"
            ) from None
        out.append("" if rel == "." else rel)
    return out


def _doc_key(src, entry) -> str:
    """File content plus its manifest row: editing a title re-indexes the document."""
    if entry is None:
        return src.sha256
    row = f"{entry.title}|{entry.language}|{entry.year}|{entry.source}"
    return src.sha256 + ":" + hashlib.sha1(row.encode()).hexdigest()[:12]


def _indexed(doc, key: str, passages: list[Passage]) -> IndexedDocument:
    countries: list[str] = []
    actions: list[str] = []
    themes: list[str] = []
    for p in passages:
        for c in p.countries:
            if c not in countries:
                countries.append(c)
        if p.action and p.action not in actions:
            actions.append(p.action)
        for t in p.themes:
            if t not in themes:
                themes.append(t)
    return IndexedDocument(
        doc_id=doc.doc_id,
        sha256=key,
        title=doc.title,
        language=doc.language,
        year=doc.year,
        source=doc.source,
        n_passages=len(passages),
        countries=countries,
        actions=actions,
        themes=themes,
    )


_default: Assistant | None = None
_default_lock = threading.Lock()


def default() -> Assistant:
    global _default
    with _default_lock:
        if _default is None:
            _default = Assistant(load_settings())
        return _default


def ask(question: str, filters: Filters | None = None, **kwargs) -> Answer:
    """Answer with the assistant configured by the environment (see config.py).

    >>> ask("Comment le Pérou a-t-il adapté sa formation ?").language  # doctest: +SKIP
    'fr'
    """
    return default().ask(question, filters, **kwargs)
