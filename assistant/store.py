"""Chroma (embedded or server) plus a small catalog: upsert, delete by source, staging and swap.

Every ingest writes a new *generation*: a fresh Chroma collection and its rows in the catalog.
Readers only ever see the generation the catalog marks live, and the switch is one SQLite
transaction, so a crash, a kill -9 or a full disk in the middle of an ingest leaves the
previous index complete and queryable.
"""

from __future__ import annotations

import hashlib
import json
import sqlite3
import threading
import time
import urllib.request
from collections.abc import Iterable
from contextlib import contextmanager
from datetime import datetime, timezone
from pathlib import Path
from urllib.parse import urlparse

import numpy as np

from .config import Settings
from .errors import IndexMissing, StoreUnavailable
from .types import IndexedDocument, Passage

SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT);
CREATE TABLE IF NOT EXISTS generations (
    name TEXT PRIMARY KEY, created_at TEXT, status TEXT, embedder TEXT, pipeline TEXT);
CREATE TABLE IF NOT EXISTS documents (
    generation TEXT, doc_id TEXT, sha256 TEXT, title TEXT, language TEXT, year INTEGER,
    source TEXT, n_passages INTEGER, countries TEXT, actions TEXT, themes TEXT,
    ingested_at TEXT, text TEXT, PRIMARY KEY (generation, doc_id));
CREATE TABLE IF NOT EXISTS problems (generation TEXT, doc_id TEXT, message TEXT);
"""


def _now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


def _connect(path: Path) -> sqlite3.Connection:
    path.parent.mkdir(parents=True, exist_ok=True)
    conn = sqlite3.connect(path, timeout=30, check_same_thread=False, isolation_level=None)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("PRAGMA synchronous=FULL")
    return conn


class Catalog:
    """Which generation is live, and the documents of each generation (with their cleaned text)."""

    def __init__(self, index_dir: Path):
        self.path = Path(index_dir) / "catalog.sqlite"
        self.location = str(self.path.parent)
        self._conn = _connect(self.path)
        self._conn.executescript(SCHEMA)
        self._lock = threading.Lock()

    @contextmanager
    def _tx(self):
        with self._lock:
            self._conn.execute("BEGIN IMMEDIATE")
            try:
                yield self._conn
            except BaseException:
                self._conn.execute("ROLLBACK")
                raise
            self._conn.execute("COMMIT")

    def _query(self, sql: str, args: tuple = ()) -> list[tuple]:
        with self._lock:
            return self._conn.execute(sql, args).fetchall()

    def live(self) -> str | None:
        rows = self._query("SELECT value FROM meta WHERE key='live'")
        return rows[0][0] if rows else None

    def generation_info(self, name: str) -> dict | None:
        rows = self._query("SELECT name, created_at, status, embedder, pipeline FROM generations WHERE name=?", (name,))
        if not rows:
            return None
        return dict(zip(("name", "created_at", "status", "embedder", "pipeline"), rows[0]))

    def new_generation(self, embedder: str, pipeline: str) -> str:
        name = f"g{time.strftime('%Y%m%d%H%M%S')}{hashlib.sha1(str(time.time_ns()).encode()).hexdigest()[:6]}"
        with self._tx() as c:
            c.execute("INSERT INTO generations VALUES (?,?,?,?,?)", (name, _now(), "staging", embedder, pipeline))
        return name

    def staging(self) -> list[str]:
        return [r[0] for r in self._query("SELECT name FROM generations WHERE status='staging'")]

    def known(self) -> set[str]:
        return {r[0] for r in self._query("SELECT name FROM generations")}

    def retired(self) -> list[str]:
        return [r[0] for r in self._query("SELECT name FROM generations WHERE status='retired' ORDER BY created_at")]

    def promote(self, name: str) -> str | None:
        """Make `name` live in one transaction; return the generation it replaces."""
        with self._tx() as c:
            row = c.execute("SELECT value FROM meta WHERE key='live'").fetchone()
            previous = row[0] if row else None
            if previous:
                c.execute("UPDATE generations SET status='retired' WHERE name=?", (previous,))
            c.execute("UPDATE generations SET status='live' WHERE name=?", (name,))
            c.execute("INSERT OR REPLACE INTO meta VALUES ('live', ?)", (name,))
            c.execute("INSERT OR REPLACE INTO meta VALUES ('updated_at', ?)", (_now(),))
        return previous

    def forget(self, name: str) -> None:
        with self._tx() as c:
            c.execute("DELETE FROM documents WHERE generation=?", (name,))
            c.execute("DELETE FROM problems WHERE generation=?", (name,))
            c.execute("DELETE FROM generations WHERE name=?", (name,))

    def updated_at(self) -> str | None:
        rows = self._query("SELECT value FROM meta WHERE key='updated_at'")
        return rows[0][0] if rows else None

    def put_document(self, generation: str, doc: IndexedDocument, text: str) -> None:
        with self._tx() as c:
            c.execute(
                "INSERT OR REPLACE INTO documents VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?)",
                (
                    generation,
                    doc.doc_id,
                    doc.sha256,
                    doc.title,
                    doc.language,
                    doc.year,
                    doc.source,
                    doc.n_passages,
                    json.dumps(doc.countries),
                    json.dumps(doc.actions),
                    json.dumps(doc.themes),
                    doc.ingested_at or _now(),
                    text,
                ),
            )

    def copy_documents(self, src: str, dst: str, doc_ids: Iterable[str]) -> None:
        ids = list(doc_ids)
        with self._tx() as c:
            for i in range(0, len(ids), 500):
                part = ids[i : i + 500]
                marks = ",".join("?" * len(part))
                c.execute(
                    "INSERT OR REPLACE INTO documents SELECT ?, doc_id, sha256, title, language, year, source,"
                    " n_passages, countries, actions, themes, ingested_at, text FROM documents"
                    f" WHERE generation=? AND doc_id IN ({marks})",
                    (dst, src, *part),
                )

    def documents(self, generation: str) -> dict[str, IndexedDocument]:
        rows = self._query(
            "SELECT doc_id, sha256, title, language, year, source, n_passages, countries, actions, themes, ingested_at"
            " FROM documents WHERE generation=? ORDER BY doc_id",
            (generation,),
        )
        return {
            r[0]: IndexedDocument(
                doc_id=r[0],
                sha256=r[1],
                title=r[2],
                language=r[3],
                year=r[4],
                source=r[5],
                n_passages=r[6],
                countries=json.loads(r[7]),
                actions=json.loads(r[8]),
                themes=json.loads(r[9]),
                ingested_at=r[10],
            )
            for r in rows
        }

    def text(self, generation: str, doc_id: str) -> str | None:
        rows = self._query("SELECT text FROM documents WHERE generation=? AND doc_id=?", (generation, doc_id))
        return rows[0][0] if rows else None

    def set_problems(self, generation: str, problems: dict[str, str]) -> None:
        with self._tx() as c:
            c.execute("DELETE FROM problems WHERE generation=?", (generation,))
            c.executemany("INSERT INTO problems VALUES (?,?,?)", [(generation, k, v) for k, v in problems.items()])

    def problems(self, generation: str) -> dict[str, str]:
        return dict(self._query("SELECT doc_id, message FROM problems WHERE generation=?", (generation,)))

    def close(self) -> None:
        self._conn.close()


# Chroma refuses records without a vector (it would embed the text itself): catalog records carry this one.
_NO_VECTOR = [1.0]
LOCK_BEAT_S = 5.0  # an ingest holding the server's lock renews it this often...
LOCK_STALE_S = 60.0  # ...and a lock not renewed for this long was left by a killed ingest


class ServerCatalog:
    """The catalog kept in the Chroma server itself, for `store.chroma_url`: the live pointer, the
    generations, the documents (with their text) and the ingest lock, so that every host that reaches
    the server answers from the same generation and no two hosts ingest at once.

    Same methods as `Catalog`. The live pointer is one record, written in one request: a reader sees
    the old generation or the new one, never a mix.
    """

    def __init__(self, store: VectorStore):
        self.store = store
        self.url = store.settings.store.chroma_url
        self.location = f"the Chroma server {self.url}"
        prefix = store.settings.store.collection_prefix
        self._name, self._lock_name = f"{prefix}-catalog", f"{prefix}-ingest-lock"
        self._col = None

    def _collection(self):
        if self._col is None:
            with self.store._guard("reading the catalog"):
                self._col = self.store.client("").get_or_create_collection(self._name, embedding_function=None)
        return self._col

    def _get(self, **kwargs) -> dict:
        try:
            with self.store._guard("reading the catalog"):
                return self._collection().get(**kwargs)
        except StoreUnavailable:
            self._col = None
            raise

    def _put(self, ids: list[str], metas: list[dict], texts: list[str] | None = None) -> None:
        try:
            with self.store._guard("writing the catalog"):
                for i in range(0, len(ids), 200):
                    part = slice(i, i + 200)
                    self._collection().upsert(
                        ids=ids[part],
                        metadatas=metas[part],
                        embeddings=[_NO_VECTOR] * len(ids[part]),
                        documents=(texts or [""] * len(ids))[part],
                    )
        except StoreUnavailable:
            self._col = None
            raise

    def _meta(self) -> dict:
        got = self._get(ids=["meta"], include=["metadatas"])
        return got["metadatas"][0] if got["ids"] else {}

    def live(self) -> str | None:
        return self._meta().get("live") or None

    def updated_at(self) -> str | None:
        return self._meta().get("updated_at") or None

    def _generations(self, status: str | None = None) -> list[dict]:
        where = {"kind": "generation"} if status is None else {"$and": [{"kind": "generation"}, {"status": status}]}
        rows = self._get(where=where, include=["metadatas"])["metadatas"]
        return sorted(
            ({k: m[k] for k in ("name", "created_at", "status", "embedder", "pipeline")} for m in rows),
            key=lambda g: g["created_at"],
        )

    def generation_info(self, name: str) -> dict | None:
        got = self._get(ids=[f"generation:{name}"], include=["metadatas"])
        if not got["ids"]:
            return None
        return {k: got["metadatas"][0][k] for k in ("name", "created_at", "status", "embedder", "pipeline")}

    def new_generation(self, embedder: str, pipeline: str) -> str:
        name = f"g{time.strftime('%Y%m%d%H%M%S')}{hashlib.sha1(str(time.time_ns()).encode()).hexdigest()[:6]}"
        self._put(
            [f"generation:{name}"],
            [
                {
                    "kind": "generation",
                    "name": name,
                    "created_at": _now(),
                    "status": "staging",
                    "embedder": embedder,
                    "pipeline": pipeline,
                }
            ],
        )
        return name

    def staging(self) -> list[str]:
        return [g["name"] for g in self._generations("staging")]

    def known(self) -> set[str]:
        return {g["name"] for g in self._generations()}

    def retired(self) -> list[str]:
        return [g["name"] for g in self._generations("retired")]

    def promote(self, name: str) -> str | None:
        """Make `name` live; return the generation it replaces. The pointer is the commit point."""
        previous = self.live()
        info = self.generation_info(name) or {"name": name}
        self._put(["meta"], [{"kind": "meta", "live": name, "updated_at": _now()}])
        changed = [{**info, "kind": "generation", "status": "live"}]
        if previous and previous != name and (old := self.generation_info(previous)):
            changed.append({**old, "kind": "generation", "status": "retired"})
        self._put([f"generation:{g['name']}" for g in changed], changed)
        return previous

    def forget(self, name: str) -> None:
        with self.store._guard("writing the catalog"):
            self._collection().delete(where={"generation": name})
            self._collection().delete(ids=[f"generation:{name}"])

    def put_document(self, generation: str, doc: IndexedDocument, text: str) -> None:
        record = {
            "doc_id": doc.doc_id,
            "sha256": doc.sha256,
            "title": doc.title,
            "language": doc.language,
            "year": doc.year,
            "source": doc.source,
            "n_passages": doc.n_passages,
            "countries": doc.countries,
            "actions": doc.actions,
            "themes": doc.themes,
            "ingested_at": doc.ingested_at or _now(),
        }
        self._put(
            [f"document:{generation}:{doc.doc_id}"],
            [{"kind": "document", "generation": generation, "doc_id": doc.doc_id, "record": json.dumps(record)}],
            [text],
        )

    def copy_documents(self, src: str, dst: str, doc_ids: Iterable[str]) -> None:
        ids = [f"document:{src}:{d}" for d in doc_ids]
        for i in range(0, len(ids), 200):
            got = self._get(ids=ids[i : i + 200], include=["metadatas", "documents"])
            metas = [{**m, "generation": dst} for m in got["metadatas"]]
            self._put([f"document:{dst}:{m['doc_id']}" for m in metas], metas, got["documents"])

    def documents(self, generation: str) -> dict[str, IndexedDocument]:
        got = self._get(where={"$and": [{"kind": "document"}, {"generation": generation}]}, include=["metadatas"])
        records = sorted((json.loads(m["record"]) for m in got["metadatas"]), key=lambda r: r["doc_id"])
        return {r["doc_id"]: IndexedDocument(**r) for r in records}

    def text(self, generation: str, doc_id: str) -> str | None:
        got = self._get(ids=[f"document:{generation}:{doc_id}"], include=["documents"])
        return got["documents"][0] if got["ids"] else None

    def set_problems(self, generation: str, problems: dict[str, str]) -> None:
        self._put(
            [f"problems:{generation}"], [{"kind": "problems", "generation": generation, "record": json.dumps(problems)}]
        )

    def problems(self, generation: str) -> dict[str, str]:
        got = self._get(ids=[f"problems:{generation}"], include=["metadatas"])
        return json.loads(got["metadatas"][0]["record"]) if got["ids"] else {}

    @contextmanager
    def lock(self):
        """The ingest lock of every host: a collection that only one client can create.

        Its holder renews it every LOCK_BEAT_S seconds; one not renewed for LOCK_STALE_S (its
        ingest was killed) is taken over. Hosts' clocks are assumed to agree within seconds.
        """
        import os
        import socket

        client = self.store.client("")
        holder = f"{socket.gethostname()} pid {os.getpid()}"
        with self.store._guard("taking the ingest lock"):
            lock = self._take(client, holder)
        stop = threading.Event()

        def renew() -> None:
            while not stop.wait(LOCK_BEAT_S):
                try:
                    lock.modify(metadata={"holder": holder, "beat": time.time()})
                except Exception:  # the server is away: the ingest itself will report it
                    pass

        beat = threading.Thread(target=renew, name="ingest-lock", daemon=True)
        beat.start()
        try:
            yield
        finally:
            stop.set()
            beat.join()
            try:
                client.delete_collection(self._lock_name)
            except Exception:  # gone with the server: it goes stale and the next ingest takes it over
                pass

    def _take(self, client, holder: str):
        from .errors import AssistantError

        for _ in range(2):
            try:
                return client.create_collection(
                    self._lock_name, embedding_function=None, metadata={"holder": holder, "beat": time.time()}
                )
            except Exception as err:
                if "already exists" not in str(err):
                    raise
            try:
                held = client.get_collection(self._lock_name, embedding_function=None)
            except Exception:
                continue  # released meanwhile: try again
            meta = held.metadata or {}
            age = time.time() - float(meta.get("beat", 0))
            if age < LOCK_STALE_S:
                raise AssistantError(
                    f"Another ingest or update is running on {self.location} ({meta.get('holder', 'another host')}, "
                    f"lock renewed {age:.0f} s ago); wait for it to finish"
                )
            # Left by a killed ingest: remove that very lock (not one another host just took) and retry.
            again = client.get_collection(self._lock_name, embedding_function=None)
            if again.id == held.id:
                client.delete_collection(self._lock_name)
        raise AssistantError(f"Cannot take the ingest lock on {self.location}: other ingests keep taking it; try again")

    def close(self) -> None:
        self._col = None


class EmbeddingCache:
    """Vectors keyed by (model, text): a re-ingest after a cleaning change embeds only new text."""

    def __init__(self, path: Path):
        self._conn = _connect(Path(path))
        self._conn.execute("CREATE TABLE IF NOT EXISTS vectors (key TEXT PRIMARY KEY, dim INTEGER, data BLOB)")
        self._lock = threading.Lock()

    @staticmethod
    def key(model: str, text: str) -> str:
        return hashlib.sha256(f"{model}\x00{text}".encode()).hexdigest()

    def get_many(self, model: str, texts: list[str]) -> dict[int, np.ndarray]:
        keys = [self.key(model, t) for t in texts]
        found: dict[str, np.ndarray] = {}
        with self._lock:
            for i in range(0, len(keys), 500):
                part = keys[i : i + 500]
                rows = self._conn.execute(
                    f"SELECT key, data FROM vectors WHERE key IN ({','.join('?' * len(part))})", part
                ).fetchall()
                found.update({k: np.frombuffer(d, dtype=np.float32) for k, d in rows})
        return {i: found[k] for i, k in enumerate(keys) if k in found}

    def put_many(self, model: str, texts: list[str], vectors: np.ndarray) -> None:
        rows = [
            (self.key(model, t), int(v.shape[0]), np.asarray(v, dtype=np.float32).tobytes())
            for t, v in zip(texts, vectors)
        ]
        with self._lock:
            self._conn.execute("BEGIN")
            self._conn.executemany("INSERT OR REPLACE INTO vectors VALUES (?,?,?)", rows)
            self._conn.execute("COMMIT")

    def close(self) -> None:
        self._conn.close()


def passage_metadata(p: Passage) -> dict:
    """Chroma metadata for a passage (Chroma refuses None values and empty lists)."""
    meta = {
        "doc_id": p.doc_id,
        "title": p.title,
        "language": p.language,
        "year": p.year if p.year is not None else -1,
        "section": p.section or "",
        "start": p.start,
        "end": p.end,
        "window": p.window,
        "action": p.action or "",
        "ordinal": p.ordinal,
    }
    for key in ("countries", "action_countries", "themes"):
        values = list(getattr(p, key))
        if values:
            meta[key] = values
    return meta


def passage_from(pid: str, text: str, meta: dict) -> Passage:
    return Passage(
        id=pid,
        doc_id=meta["doc_id"],
        title=meta.get("title", ""),
        language=meta.get("language", "fr"),
        year=None if meta.get("year", -1) == -1 else meta.get("year"),
        section=meta.get("section") or None,
        text=text,
        start=int(meta.get("start", 0)),
        end=int(meta.get("end", 0)),
        window=meta.get("window", text),
        countries=tuple(meta.get("countries") or ()),
        action=meta.get("action") or None,
        action_countries=tuple(meta.get("action_countries") or ()),
        themes=tuple(meta.get("themes") or ()),
        ordinal=int(meta.get("ordinal", 0)),
    )


READ_PAGE = 5000  # passages per read when a whole generation is read


class VectorStore:
    """One Chroma collection per generation, embedded (PersistentClient) or on a server (HttpClient)."""

    def __init__(self, settings: Settings):
        self.settings = settings
        self._server = None
        self._embedded: dict[str, object] = {}
        self._lock = threading.Lock()
        self._readers: dict[str, int] = {}  # reads under way per generation
        self._released: set[str] = set()  # generations readers left: closed whenever no read is using them
        # Rows this process has read from Chroma: a test proves answering reads a bounded number.
        self.rows_read = 0

    def client(self, generation: str):
        """The Chroma client holding a generation.

        Embedded Chroma caches what it has read per process, so a reader would not see a
        generation another process (an `assistant ingest`) wrote later: each embedded generation
        lives in its own folder with its own client, opened when first needed.
        """
        with self._lock:
            if self.settings.store.chroma_url:
                if self._server is None:
                    self._server = self._connect_server()
                return self._server
            if generation not in self._embedded:
                import chromadb

                path = self.folder(generation)
                path.mkdir(parents=True, exist_ok=True)
                self._embedded[generation] = chromadb.PersistentClient(path=str(path), settings=self._chroma_settings())
            return self._embedded[generation]

    def folder(self, generation: str) -> Path:
        return Path(self.settings.paths.index) / "chroma" / generation

    @staticmethod
    def _chroma_settings():
        from chromadb.config import Settings as ChromaSettings

        return ChromaSettings(anonymized_telemetry=False, allow_reset=False)

    def _connect_server(self):
        import chromadb
        import httpx

        url = self.settings.store.chroma_url
        timeout = self.settings.store.timeout_s
        parsed = urlparse(url if "://" in url else f"http://{url}")
        host, port = parsed.hostname or "127.0.0.1", parsed.port or 8000
        try:
            # Chroma's HTTP client waits forever (httpx timeout=None) on a server that accepts
            # connections but never answers: first a heartbeat bounded by store.timeout_s...
            with urllib.request.urlopen(
                f"{'https' if parsed.scheme == 'https' else 'http'}://{host}:{port}/api/v2/heartbeat", timeout=timeout
            ):
                pass
            client = chromadb.HttpClient(
                host=host, port=port, ssl=parsed.scheme == "https", settings=self._chroma_settings()
            )
            # ...then the same bound on every later call of the client.
            client._server._session.timeout = httpx.Timeout(timeout)
            client.heartbeat()
        except Exception as err:  # chromadb raises several types for a server that is down
            raise StoreUnavailable(
                f"Cannot reach the Chroma server at {url} within {timeout:g} s: {err.__class__.__name__}; "
                "is `chroma run` up? "
                "(store.chroma_url / ASSISTANT_STORE__CHROMA_URL, store.timeout_s / ASSISTANT_STORE__TIMEOUT_S)"
            ) from None
        return client

    @contextmanager
    def _reading(self, generation: str):
        """Count a read of `generation`, so that `release` closes it only once no read is using it."""
        with self._lock:
            self._readers[generation] = self._readers.get(generation, 0) + 1
        try:
            yield
        finally:
            with self._lock:
                self._readers[generation] -= 1
                idle = not self._readers[generation] and generation in self._released
                if not self._readers[generation]:
                    del self._readers[generation]
            if idle:
                self._close(generation)

    def release(self, generation: str) -> None:
        """A reader is done with `generation` (it moved to a newer one): close its embedded Chroma,
        now or when its last read ends, so that its files (deleted by a later ingest) and memory go.
        A later read opens it again."""
        if self.settings.store.chroma_url:
            return
        with self._lock:
            self._released.add(generation)
            busy = bool(self._readers.get(generation))
        if not busy:
            self._close(generation)

    def _close(self, generation: str) -> None:
        from chromadb.api.client import SharedSystemClient

        with self._lock:
            if self._readers.get(generation):
                return
            self._embedded.pop(generation, None)
            # Chroma keeps one system per folder for the whole process: stopping it closes its files.
            system = SharedSystemClient._identifier_to_system.pop(str(self.folder(generation)), None)
        if system is not None:
            try:
                system.stop()
            except Exception:  # closing is best effort: a system that fails to stop only keeps its files
                pass

    def reset_connection(self) -> None:
        with self._lock:
            self._server = None

    def name(self, generation: str) -> str:
        return f"{self.settings.store.collection_prefix}-{generation}"

    def _guard(self, what: str):
        store = self

        class _Guard:
            def __enter__(self):
                return self

            def __exit__(self, exc_type, exc, tb):
                if exc is None or not store.settings.store.chroma_url:
                    return False
                if isinstance(exc, StoreUnavailable):
                    return False
                text = f"{exc.__class__.__name__} {exc}".lower()
                if any(w in text for w in ("connect", "timeout", "refused", "unavailable", "remote", "reset")):
                    store.reset_connection()
                    raise StoreUnavailable(
                        f"The Chroma server at {store.settings.store.chroma_url} stopped answering while {what}; "
                        "the assistant will reconnect when it is back"
                    ) from None
                return False

        return _Guard()

    def create(self, generation: str):
        with self._guard("creating a collection"):
            return self.client(generation).get_or_create_collection(
                self.name(generation), embedding_function=None, metadata={"hnsw:space": "cosine"}
            )

    def collection(self, generation: str):
        with self._guard("opening the index"):
            try:
                return self.client(generation).get_collection(self.name(generation), embedding_function=None)
            except StoreUnavailable:
                raise
            except Exception as err:
                if "does not exist" in str(err).lower() or "not found" in str(err).lower():
                    raise IndexMissing(
                        f"The index generation {generation} is missing from Chroma; run `assistant ingest` again"
                    ) from None
                raise

    def exists(self, generation: str) -> bool:
        if not self.settings.store.chroma_url and not self.folder(generation).is_dir():
            return False
        try:
            self.collection(generation)
            return True
        except IndexMissing:
            return False

    def drop(self, generation: str) -> None:
        """Delete a generation's vectors (idempotent)."""
        if self.settings.store.chroma_url:
            try:
                self.client(generation).delete_collection(self.name(generation))
            except Exception:
                pass  # already gone
            return
        import shutil

        # Close the process-wide system Chroma keeps for that folder before removing it.
        self._close(generation)
        with self._lock:
            self._embedded.pop(generation, None)
        shutil.rmtree(self.folder(generation), ignore_errors=True)

    def add(self, generation: str, passages: list[Passage], vectors: np.ndarray, batch: int = 500) -> None:
        col = self.create(generation)
        with self._guard("writing passages"):
            for i in range(0, len(passages), batch):
                part = passages[i : i + batch]
                col.upsert(
                    ids=[p.id for p in part],
                    embeddings=[v.tolist() for v in vectors[i : i + batch]],
                    documents=[p.text for p in part],
                    metadatas=[passage_metadata(p) for p in part],
                )

    def copy(self, src: str, dst: str, doc_ids: list[str], batch: int = 200) -> int:
        """Copy the passages (with their vectors) of `doc_ids` from one generation to another."""
        source, target = self.collection(src), self.create(dst)
        copied = 0
        with self._guard("copying unchanged passages"):
            for i in range(0, len(doc_ids), batch):
                got = source.get(
                    where={"doc_id": {"$in": doc_ids[i : i + batch]}}, include=["embeddings", "documents", "metadatas"]
                )
                if got["ids"]:
                    target.upsert(
                        ids=got["ids"],
                        embeddings=got["embeddings"],
                        documents=got["documents"],
                        metadatas=got["metadatas"],
                    )
                    copied += len(got["ids"])
        return copied

    def pages(self, generation: str, include: list[str]):
        """Every row of a generation, a page of READ_PAGE at a time (Chroma's order): for building the
        generation's retrieval index, not for answering."""
        offset = 0
        with self._reading(generation):
            col = self.collection(generation)
            while True:
                # In pages: one get of a whole collection of about 30,000 passages or more fails in
                # Chroma ("too many SQL variables").
                with self._guard("reading passages"):
                    page = col.get(include=include, limit=READ_PAGE, offset=offset)
                self.rows_read += len(page["ids"])
                offset += len(page["ids"])
                yield page
                if len(page["ids"]) < READ_PAGE:
                    break

    def get(
        self, generation: str, ids: list[str] | None = None, where: dict | None = None, vectors: bool = False
    ) -> list[tuple[Passage, np.ndarray | None]]:
        """The passages with these ids, or matching `where` (a bounded set: one document's), with their
        vectors if asked; in no particular order."""
        include = ["documents", "metadatas"] + (["embeddings"] if vectors else [])
        if ids is not None and not ids:
            return []
        out: list[tuple[Passage, np.ndarray | None]] = []
        with self._reading(generation):
            col = self.collection(generation)
            with self._guard("reading passages"):
                parts = [ids[i : i + 500] for i in range(0, len(ids), 500)] if ids is not None else [None]
                for part in parts:
                    got = col.get(ids=part, where=where or None, include=include)
                    self.rows_read += len(got["ids"])
                    for n, pid in enumerate(got["ids"]):
                        vector = np.asarray(got["embeddings"][n], dtype=np.float32) if vectors else None
                        out.append((passage_from(pid, got["documents"][n], got["metadatas"][n]), vector))
        return out

    def ids(self, generation: str, where: dict) -> list[str]:
        """The ids of the passages matching `where` (no text, no vectors)."""
        with self._reading(generation):
            col = self.collection(generation)
            with self._guard("reading passages"):
                got = col.get(where=where, include=[])
        self.rows_read += len(got["ids"])
        return list(got["ids"])

    def all_passages(self, generation: str, with_vectors: bool = False):
        """Every passage of a generation, in document order (and their vectors as one matrix)."""
        include = ["documents", "metadatas"] + (["embeddings"] if with_vectors else [])
        got: dict[str, list] = {"ids": [], "documents": [], "metadatas": [], "embeddings": []}
        for page in self.pages(generation, include):
            for key in ("ids", *include):
                got[key].extend(page[key])
        rows = sorted(
            range(len(got["ids"])), key=lambda r: (got["metadatas"][r]["doc_id"], got["metadatas"][r].get("ordinal", 0))
        )
        passages = [passage_from(got["ids"][r], got["documents"][r], got["metadatas"][r]) for r in rows]
        if not with_vectors:
            return passages
        vectors = np.asarray([got["embeddings"][r] for r in rows], dtype=np.float32).reshape(len(rows), -1)
        return passages, vectors

    def count(self, generation: str) -> int:
        with self._guard("counting passages"):
            return self.collection(generation).count()

    def query(self, generation: str, vector: np.ndarray, n: int, where: dict | None = None) -> list[tuple[str, float]]:
        """(passage id, cosine similarity) of the n nearest passages matching `where`."""
        with self._reading(generation):
            col = self.collection(generation)
            with self._guard("searching"):
                got = col.query(
                    query_embeddings=[vector.tolist()], n_results=n, where=where or None, include=["distances"]
                )
        self.rows_read += len(got["ids"][0])
        return [(pid, 1.0 - float(d)) for pid, d in zip(got["ids"][0], got["distances"][0])]


def write_atomic(path: Path, text: str) -> Path:
    """Write a file whole or not at all: a temp file in the same folder, fsync, then os.replace."""
    import os
    import tempfile

    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".tmp-", suffix=path.suffix)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(text)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path


# Below this much free space, a write error of Chroma (which does not always say so) is a full disk.
LOW_SPACE_BYTES = 64 * 1024 * 1024


def storage_failure(err: BaseException, folder: Path) -> str | None:
    """If a write to the index at `folder` failed because the disk is full, a sentence saying so; else None.

    Chroma reports a full disk in many ways, some without a word about it ("InternalError: Error in
    compaction: Failed to apply logs to the metadata segment"): a storage error of Chroma while the
    disk has little room left counts as a full disk.
    """
    import errno
    import shutil

    text = f"{err.__class__.__name__}: {err}"
    if isinstance(err, OSError) and err.errno in (errno.ENOSPC, errno.EDQUOT):
        return f"no space left on the disk holding {folder}"
    if any(
        w in text.lower()
        for w in ("no space left", "disk is full", "disk full", "database or disk is full", "quota exceeded")
    ):
        return f"no space left on the disk holding {folder}"
    chroma = type(err).__module__.startswith("chromadb") or "compaction" in text.lower()
    if not chroma or isinstance(err, (IndexMissing, StoreUnavailable)):
        return None
    try:
        free = shutil.disk_usage(_existing(Path(folder))).free
    except OSError:
        return None
    if free < LOW_SPACE_BYTES:
        return f"no space left on the disk holding {folder} (only {free / 1e6:.1f} MB free)"
    return None


def _existing(path: Path) -> Path:
    while not path.exists() and path != path.parent:
        path = path.parent
    return path


def require_live(catalog: Catalog | ServerCatalog) -> str:
    live = catalog.live()
    if live is None:
        where = "paths.index / ASSISTANT_PATHS__INDEX" if isinstance(catalog, Catalog) else "store.chroma_url"
        raise IndexMissing(f"No index at {catalog.location}: run `assistant ingest` first (or set {where})")
    return live
