"""Measurements that need a process of their own (cold start, peak memory), started by bench/run.py.

Each subcommand prints one JSON line last on stdout:

    .venv/bin/python bench/_child.py ingest --index /tmp/i --corpus corpus --cache /tmp/c.sqlite --instrument
    .venv/bin/python bench/_child.py first-answer --index /tmp/i --corpus corpus --question "..."
    .venv/bin/python bench/_child.py query --index /tmp/i --corpus corpus --n 40
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import sys
import time
from pathlib import Path

STARTED = time.perf_counter()
ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def _cpu() -> float:
    """CPU seconds of this process so far, all threads (the model's OpenMP threads included)."""
    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_utime + r.ru_stime


def _maxrss_mb() -> float:
    """Peak resident set of this process, MB.

    VmHWM, not ru_maxrss: Linux carries ru_maxrss across exec, so a child forked from a large
    parent would report the parent's size.
    """
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # Linux: KiB


class Timed:
    """A transparent proxy that adds up the time spent in the wrapped object's methods."""

    def __init__(self, target, totals: dict, stage: str, methods: set[str] | None = None):
        self._target, self._totals, self._stage, self._methods = target, totals, stage, methods

    def __getattr__(self, name):
        value = getattr(self._target, name)
        if not callable(value) or (self._methods is not None and name not in self._methods):
            return value
        totals, stage = self._totals, self._stage

        def timed(*args, **kwargs):
            t0 = time.perf_counter()
            try:
                return value(*args, **kwargs)
            finally:
                totals[stage] = totals.get(stage, 0.0) + time.perf_counter() - t0

        return timed


def _settings(args):
    from assistant.config import load_settings

    paths = {"index": args.index, "corpus": args.corpus, "data": Path(args.index).parent / "data"}
    if getattr(args, "cache", None):
        paths["cache"] = args.cache
    return load_settings(paths=paths)


def cmd_ingest(args) -> dict:
    t0 = time.perf_counter()
    from assistant.pipeline import Assistant

    import_s = time.perf_counter() - t0
    a = Assistant(_settings(args))
    stages: dict[str, float] = {}
    if args.instrument:
        # Only the component objects are wrapped (cached properties of this one Assistant), so the
        # code under test runs unchanged; time outside them is parsing, chunking, tagging, hashing.
        a.__dict__["embedder"] = Timed(a.embedder, stages, "embedding", {"embed_passages"})
        a.__dict__["cache"] = Timed(a.cache, stages, "embedding cache (SQLite)")
        a.__dict__["store"] = Timed(a.store, stages, "Chroma writes", {"create", "add", "copy", "count", "drop"})
        a.__dict__["catalog"] = Timed(a.catalog, stages, "catalog (SQLite)")
    cpu0, t0 = _cpu(), time.perf_counter()
    # Importing Chroma is timed apart from the writes; it is part of the ingest (first use), so it
    # counts in `seconds`. Opening the client happens in the first write, under "Chroma writes".
    import chromadb  # noqa: F401

    stages["import chromadb"] = time.perf_counter() - t0
    report = a.ingest()
    seconds = time.perf_counter() - t0
    cpu = _cpu() - cpu0
    if args.instrument:
        stages["parse + chunk/tag + rest"] = max(seconds - sum(stages.values()), 0.0)
    else:
        stages = {}
    return {
        "seconds": seconds,
        "cpu_s": cpu,
        "import_s": import_s,
        "process_s": time.perf_counter() - STARTED,
        "report": report.to_json(),
        "stages": stages,
        "maxrss_mb": _maxrss_mb(),
    }


def cmd_first_answer(args) -> dict:
    t0 = time.perf_counter()
    from assistant.pipeline import Assistant

    import_s = time.perf_counter() - t0
    t0 = time.perf_counter()
    a = Assistant(_settings(args))
    build_s = time.perf_counter() - t0
    t0 = time.perf_counter()
    answer = a.ask(args.question)
    ask_s = time.perf_counter() - t0
    return {
        "import_s": import_s,
        "build_s": build_s,
        "first_ask_s": ask_s,
        "in_process_s": time.perf_counter() - STARTED,
        "abstained": answer.abstained,
        "citations": len(answer.citations),
        "maxrss_mb": _maxrss_mb(),
    }


def cmd_query(args) -> dict:
    from assistant.evaluate import load_questions
    from assistant.pipeline import Assistant

    a = Assistant(_settings(args))
    t0 = time.perf_counter()
    retriever = a.retriever  # loads every passage and vector from Chroma, builds BM25
    load_s = time.perf_counter() - t0
    a.embedder.embed_query("warm-up")
    questions = load_questions()
    step = max(len(questions) // max(args.n, 1), 1)
    sample = questions[::step][: args.n]
    retrieve_ms, ask_ms = [], []
    a.ask(sample[0].question)  # warm-up
    for q in sample:
        retriever.forget_queries()  # each call pays for its query embeddings, as a new question does
        t0 = time.perf_counter()
        retriever.retrieve(q.question, k=a.settings.retrieve.k)
        retrieve_ms.append((time.perf_counter() - t0) * 1000)
        retriever.forget_queries()
        t0 = time.perf_counter()
        a.ask(q.question)
        ask_ms.append((time.perf_counter() - t0) * 1000)
    return {
        "passages": retriever.size,
        "retriever_load_s": load_s,
        "retrieve_ms": retrieve_ms,
        "ask_ms": ask_ms,
        "maxrss_mb": _maxrss_mb(),
    }


def main() -> int:
    ap = argparse.ArgumentParser()
    sub = ap.add_subparsers(dest="cmd", required=True)
    for name in ("ingest", "first-answer", "query"):
        p = sub.add_parser(name)
        p.add_argument("--index", required=True)
        p.add_argument("--corpus", required=True)
        p.add_argument("--cache")
        if name == "ingest":
            p.add_argument("--instrument", action="store_true")
        if name == "first-answer":
            p.add_argument("--question", required=True)
        if name == "query":
            p.add_argument("--n", type=int, default=40)
    args = ap.parse_args()
    out = {"ingest": cmd_ingest, "first-answer": cmd_first_answer, "query": cmd_query}[args.cmd](args)
    out["pid"] = os.getpid()
    print(json.dumps(out))
    return 0


if __name__ == "__main__":
    sys.exit(main())
