"""Scale benchmark: synthetic corpora of real passages and vectors, 1x to 1M passages.

    .venv/bin/python bench/scale.py                  # 1x and 16x (about 2 min on a quiet machine)
    .venv/bin/python bench/scale.py --sizes 1x,16x,100k   # adds 100k passages (about 15 min, see bench/README.md)
    .venv/bin/python bench/scale.py --million        # adds 1M passages (hours and several GB: only on purpose)

Each size is an index built without the embedding model: the shipped corpus is ingested once (with
the warm embedding cache), then its passages are copied N times under new document ids
(`syn/NNNN/<doc_id>`), each vector nudged by a little seeded noise and normalised again (so the
vector index holds no exact duplicates), written into a new generation and made live. The real
documents stay in the corpus folder, so a one-document re-ingest is the real code path: one file
changed on disk, `Assistant.ingest(path)`.

For each size, in processes of their own: start-up of the answering process (import, open the live
generation, build the retriever: what the first question waits for besides the model), its resident
memory after the questions (VmRSS, and the peak VmHWM), warm `ask` p50/p95 over eval questions, a
one-document re-ingest, the index's disk use, and the load average before and after. Writes
bench/results/scale.md and bench/results/scale.json; never asserts a time.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(BENCH))

STARTED = time.perf_counter()
CHANGED_DOC = "fr/mieux_action_perou_iii_fr.txt"
SIZES = {"1x": 1, "16x": 16, "100k": 100_000, "1M": 1_000_000}  # copies of the corpus, or passages wanted
NOISE = 0.02  # size of the nudge given to each copied vector (unit vectors: cosines to the original ~0.99)


def log(msg: str) -> None:
    print(f"[scale {time.strftime('%H:%M:%S')}] {msg}", flush=True)


def loadavg() -> list[float]:
    return [float(x) for x in Path("/proc/loadavg").read_text().split()[:3]]


def _status_mb(field: str, pid: str = "self") -> float | None:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1]) / 1024
    return None


def disk_mb(path: Path) -> float:
    used = 0
    for folder, _, files in os.walk(path):
        for name in files:
            try:
                used += os.lstat(os.path.join(folder, name)).st_blocks * 512
            except OSError:
                pass
    return used / 1e6


def _settings(index: Path, corpus: Path, cache: Path):
    from assistant.config import load_settings

    return load_settings(paths={"index": index, "corpus": corpus, "data": index.parent / "data", "cache": cache})


# -- building ---------------------------------------------------------------------------------------


def build(base: Path, size: str, warm_cache: Path) -> dict:
    """An index of the shipped corpus plus synthetic copies, live; returns what was built."""
    import numpy as np

    from assistant import index as retrieval
    from assistant.pipeline import Assistant
    from assistant.store import _now

    corpus, index, cache = base / "corpus", base / "index", base / "embeddings.sqlite"
    shutil.copytree(ROOT / "corpus", corpus)
    if warm_cache.exists():
        shutil.copy(warm_cache, cache)
    a = Assistant(_settings(index, corpus, cache))
    t0 = time.perf_counter()
    report = a.ingest()
    real_ingest_s = time.perf_counter() - t0
    live = a.catalog.live()
    passages, vectors = a.store.all_passages(live, with_vectors=True)
    n = SIZES[size]
    copies = n - 1 if n < 1000 else -(-n // len(passages)) - 1
    out = {
        "size": size,
        "real_passages": len(passages),
        "copies": copies,
        "real_ingest_s": real_ingest_s,
        "embedded": report.embedded,
    }
    if copies == 0:
        out["passages"] = len(passages)
        return out
    t0 = time.perf_counter()
    generation = a.catalog.new_generation(a.embedder.name, a.pipeline_id)
    a.store.create(generation)
    docs = a.catalog.documents(live)
    texts = {d: a.catalog.text(live, d) for d in docs}
    rng = np.random.default_rng(16)
    a.store.copy(live, generation, sorted(docs))
    a.catalog.copy_documents(live, generation, sorted(docs))
    batch: list = []
    batch_vecs: list = []
    rows: list = []

    def flush() -> None:
        if batch:
            a.store.add(generation, batch, np.vstack(batch_vecs), batch=2000)
            batch.clear()
            batch_vecs.clear()
        if rows:
            with a.catalog._tx() as c:
                c.executemany("INSERT OR REPLACE INTO documents VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?)", rows)
            rows.clear()

    from dataclasses import replace

    for k in range(1, copies + 1):
        prefix = f"syn/{k:04d}/"
        noisy = vectors + NOISE * rng.standard_normal(vectors.shape).astype(np.float32) / np.sqrt(vectors.shape[1])
        noisy /= np.linalg.norm(noisy, axis=1, keepdims=True)
        batch += [replace(p, id=prefix + p.id, doc_id=prefix + p.doc_id) for p in passages]
        batch_vecs.append(noisy)
        for d in docs.values():
            rows.append(
                (
                    generation,
                    prefix + d.doc_id,
                    d.sha256,
                    d.title,
                    d.language,
                    d.year,
                    d.source,
                    d.n_passages,
                    json.dumps(d.countries),
                    json.dumps(d.actions),
                    json.dumps(d.themes),
                    _now(),
                    texts[d.doc_id],
                )
            )
        if len(batch) >= 20_000:
            flush()
            log(f"  {size}: {k}/{copies} copies written")
    flush()
    a.catalog.set_problems(generation, {})
    # What an ingest does before it promotes: the generation's retrieval index (BM25, statistics, words).
    t1 = time.perf_counter()
    retrieval.build(a.store, generation, retrieval.folder(a.settings.paths.index, generation))
    out["index_s"] = time.perf_counter() - t1
    a.promote(generation)
    out.update(passages=a.store.count(generation), build_s=time.perf_counter() - t0)
    return out


# -- measuring (each in a process of its own) -----------------------------------------------------------


def child_query(args) -> dict:
    from assistant.evaluate import load_questions
    from assistant.pipeline import Assistant

    import_s = time.perf_counter() - STARTED
    a = Assistant(_settings(Path(args.index), Path(args.corpus), Path(args.cache)))
    t0 = time.perf_counter()
    retriever = a.retriever  # opens the generation's retrieval index: files, nothing read whole
    open_s = time.perf_counter() - t0
    startup_s = time.perf_counter() - STARTED
    rss_open = _status_mb("VmRSS")
    a.embedder.embed_query("warm-up")
    questions = load_questions()
    step = max(len(questions) // args.n, 1)
    sample = questions[::step][: args.n]
    a.ask(sample[0].question)
    ask_ms = []
    for q in sample:
        retriever.forget_queries()  # each question pays for its embedding, as a new one does
        t0 = time.perf_counter()
        a.ask(q.question)
        ask_ms.append((time.perf_counter() - t0) * 1000)
    return {
        "import_s": import_s,
        "open_s": open_s,
        "rows_read": a.store.rows_read,
        "startup_s": startup_s,
        "rss_open_mb": rss_open,
        "rss_mb": _status_mb("VmRSS"),
        "hwm_mb": _status_mb("VmHWM"),
        "ask_ms": ask_ms,
    }


def child_reingest(args) -> dict:
    from assistant.pipeline import Assistant

    corpus = Path(args.corpus)
    a = Assistant(_settings(Path(args.index), corpus, Path(args.cache)))
    target = corpus / CHANGED_DOC
    with target.open("a", encoding="utf-8") as fh:
        fh.write(f"\nLigne ajoutée par le banc d'essai ({time.time_ns()}) : la formation a été évaluée.\n")
    t0 = time.perf_counter()
    report = a.ingest(target)
    return {
        "seconds": time.perf_counter() - t0,
        "embedded": report.embedded,
        "passages": report.passages,
        "changed": report.changed,
        "hwm_mb": _status_mb("VmHWM"),
    }


def child(cmd: str, base: Path, extra: list[str] | None = None, timeout: float = 7200) -> dict:
    argv = [
        sys.executable,
        __file__,
        cmd,
        "--index",
        str(base / "index"),
        "--corpus",
        str(base / "corpus"),
        "--cache",
        str(base / "embeddings.sqlite"),
        *(extra or []),
    ]
    t0 = time.perf_counter()
    proc = subprocess.run(argv, capture_output=True, text=True, timeout=timeout, cwd=ROOT, check=False)
    if proc.returncode != 0:
        raise RuntimeError(f"`scale.py {cmd}` failed (exit {proc.returncode}): {proc.stderr.strip()[-3000:]}")
    out = json.loads(proc.stdout.strip().splitlines()[-1])
    out["wall_s"] = time.perf_counter() - t0
    return out


def percentile(values: list[float], p: float) -> float:
    from metrics import percentile as pct

    return pct(values, p)


def run_size(work: Path, size: str, warm_cache: Path, n_questions: int) -> dict:
    base = work / size
    shutil.rmtree(base, ignore_errors=True)
    base.mkdir(parents=True)
    load_before = loadavg()
    log(f"{size}: building")
    built = build(base, size, warm_cache)
    log(f"{size}: {built['passages']} passages; measuring start-up, memory and ask")
    query = child("query", base, ["--n", str(n_questions)])
    log(
        f"{size}: start-up {query['startup_s']:.1f} s, RSS {query['rss_mb']:.0f} MB, "
        f"ask p50 {percentile(query['ask_ms'], 50):.0f} ms; re-ingesting one document"
    )
    reingest = child("reingest", base)
    row = {
        **built,
        "query": query,
        "reingest": reingest,
        "disk_mb": disk_mb(base / "index"),
        "load_before": load_before,
        "load_after": loadavg(),
    }
    log(f"{size}: re-ingest {reingest['seconds']:.1f} s, disk {row['disk_mb']:.0f} MB, load {row['load_after']}")
    shutil.rmtree(base, ignore_errors=True)
    return row


def table(rows: list[dict]) -> str:
    lines = [
        (
            "| corpus | passages | start-up (s) (of which: opening the index) | RSS after asks (MB) | peak RSS (MB) |"
            " ask p50 / p95 (ms) | Chroma rows read by the asks | retrieval index build (s) | one-doc re-ingest (s) |"
            " index on disk (MB) | load avg (1 min, before → after) |"
        ),
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|",
    ]
    for r in rows:
        q = r["query"]
        index_s = f"{r['index_s']:.1f}" if "index_s" in r else "(in the ingest)"
        lines.append(
            f"| {r['size']} | {r['passages']:,} | {q['startup_s']:.1f} ({q['open_s']:.2f}) | {q['rss_mb']:.0f} | "
            f"{q['hwm_mb']:.0f} | {percentile(q['ask_ms'], 50):.0f} / {percentile(q['ask_ms'], 95):.0f} | "
            f"{q['rows_read']:,} | {index_s} | {r['reingest']['seconds']:.1f} | {r['disk_mb']:.0f} | "
            f"{r['load_before'][0]:.1f} → {r['load_after'][0]:.1f} |"
        )
    return "\n".join(lines)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    sub = ap.add_subparsers(dest="cmd")
    for name in ("query", "reingest"):
        p = sub.add_parser(name)
        p.add_argument("--index", required=True)
        p.add_argument("--corpus", required=True)
        p.add_argument("--cache", required=True)
        if name == "query":
            p.add_argument("--n", type=int, default=20)
    ap.add_argument("--sizes", default="1x,16x", help="comma-separated, of " + ", ".join(SIZES))
    ap.add_argument("--million", action="store_true", help="add the 1M-passage run (hours, several GB of disk)")
    ap.add_argument("--questions", type=int, default=20, help="eval questions asked per size")
    ap.add_argument("--workdir", default="/tmp/assistant-scale")
    ap.add_argument(
        "--warm-cache",
        default=str(BENCH / ".cache" / "embeddings.sqlite"),
        help="embedding cache to start from (the shipped corpus embeds in 1-2 min without it)",
    )
    ap.add_argument("--out", default=str(BENCH / "results"))
    ap.add_argument(
        "--omp-passive",
        action="store_true",
        help="OMP_WAIT_POLICY=PASSIVE for every process: on a busy machine spinning OpenMP threads slow each "
        "query embedding many times",
    )
    args = ap.parse_args()
    if args.omp_passive:
        os.environ["OMP_WAIT_POLICY"] = "PASSIVE"
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    if args.cmd:
        out = {"query": child_query, "reingest": child_reingest}[args.cmd](args)
        print(json.dumps(out))
        return 0
    sizes = [s.strip() for s in args.sizes.split(",") if s.strip()] + (["1M"] if args.million else [])
    unknown = [s for s in sizes if s not in SIZES]
    if unknown:
        ap.error(f"unknown size {unknown}: choose among {', '.join(SIZES)}")
    work, out = Path(args.workdir), Path(args.out)
    rows = [run_size(work, s, Path(args.warm_cache), args.questions) for s in sizes]
    out.mkdir(parents=True, exist_ok=True)
    (out / "scale.json").write_text(json.dumps(rows, indent=1), encoding="utf-8")
    md = (
        f"# Scale\n\n{time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}, {os.cpu_count()} cores; embedded Chroma; "
        f"{args.questions} eval questions per size; OMP_WAIT_POLICY={os.environ.get('OMP_WAIT_POLICY', 'unset')}.\n\n"
        f"{table(rows)}\n"
    )
    (out / "scale.md").write_text(md, encoding="utf-8")
    print(md)
    return 0


if __name__ == "__main__":
    sys.exit(main())
