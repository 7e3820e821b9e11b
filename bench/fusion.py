"""The hybrid baseline a llama-index user would build for this corpus: the same e5 model, BM25, and
`QueryFusionRetriever` with reciprocal rank fusion, all llama-index components.

The nodes are the assistant's own passages (same chunks), so the comparison with the assistant is
about ranking, not chunking. Their vectors are the assistant's (e5 over title, section and text,
read from the embedding cache; any missing is embedded by `E5Embedding`) and the question is
embedded by `E5Embedding` through `VectorStoreIndex`. BM25 is `llama-index-retrievers-bm25`
(bm25s + PyStemmer) over the same nodes, with its defaults (English stemmer and stop words), and
once more with the French ones (most answers are in French documents). Runs in its own process
(bench/run.py starts it); writes the top 10 nodes of every eval question as JSON, for run.py to
score with the same definitions as every other system.

    .venv/bin/python bench/fusion.py --corpus corpus --cache index/embeddings.sqlite --out /tmp/fusion.json
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

TOP_K = 10


def passages(corpus: Path):
    """The passages an ingest of `corpus` indexes (same parser, chunker and settings)."""
    from assistant import chunk as chunking
    from assistant import load, parse
    from assistant.config import load_settings

    settings = load_settings()
    manifest = load.read_manifest(corpus)
    return [
        p
        for src in load.iter_sources(corpus)
        for p in chunking.chunk(parse.parse(src, manifest.get(src.doc_id)), settings.chunk)
    ]


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--corpus", type=Path, required=True)
    ap.add_argument(
        "--cache", type=Path, required=True, help="the assistant's embedding cache (vectors of the passages)"
    )
    ap.add_argument("--out", type=Path, required=True)
    ap.add_argument("--questions", type=Path, default=None, help="eval set (default: eval/questions.jsonl)")
    args = ap.parse_args()

    import numpy as np
    import Stemmer
    from llama_index.core import VectorStoreIndex
    from llama_index.core.llms import MockLLM
    from llama_index.core.retrievers import QueryFusionRetriever
    from llama_index.retrievers.bm25 import BM25Retriever

    from assistant import chunk as chunking
    from assistant.evaluate import load_questions
    from assistant.integrations.llama_index import E5Embedding, passage_node
    from assistant.store import EmbeddingCache

    questions = load_questions(args.questions)
    t0 = time.perf_counter()
    found = passages(args.corpus.resolve())
    embed = E5Embedding()
    texts = [chunking.embedding_text(p) for p in found]
    cached = EmbeddingCache(args.cache).get_many(embed.model_name, texts)
    nodes = []
    for i, p in enumerate(found):
        node = passage_node(p)
        if i in cached:
            node.embedding = np.asarray(cached[i], dtype=np.float32).tolist()
        nodes.append(node)
    missing = sum(n.embedding is None for n in nodes)
    index = VectorStoreIndex(nodes, embed_model=embed)  # embeds only the nodes without a vector
    dense = index.as_retriever(similarity_top_k=TOP_K)
    bm25 = {
        "en": BM25Retriever.from_defaults(nodes=nodes, similarity_top_k=TOP_K),
        "fr": BM25Retriever.from_defaults(
            nodes=nodes, similarity_top_k=TOP_K, stemmer=Stemmer.Stemmer("french"), language="fr"
        ),
    }
    # num_queries=1: the question alone, no generated variants, so the LLM is never called (llama-index
    # still wants one: MockLLM is its stand-in for "no LLM").
    fusion = {
        lang: QueryFusionRetriever(
            [dense, b], similarity_top_k=TOP_K, num_queries=1, mode="reciprocal_rerank", use_async=False, llm=MockLLM()
        )
        for lang, b in bm25.items()
    }
    build_s = time.perf_counter() - t0

    systems = {"li_bm25": bm25["en"], "li_fusion": fusion["en"], "li_fusion_fr": fusion["fr"]}
    for r in systems.values():  # warm-up: the first query loads the model
        r.retrieve("warm-up")
    rankings: dict[str, dict[str, list]] = {name: {} for name in systems}
    latency_ms: dict[str, list[float]] = {name: [] for name in systems}
    for q in questions:
        for name, r in systems.items():
            t1 = time.perf_counter()
            got = r.retrieve(q.question)
            latency_ms[name].append((time.perf_counter() - t1) * 1000)
            rankings[name][q.id] = [
                (n.node.metadata["source"], n.node.get_content(), n.node.metadata["language"]) for n in got
            ]
    out = {
        "nodes": len(nodes),
        "embedded_here": missing,
        "build_s": build_s,
        "latency_ms_p50": {name: statistics.median(v) for name, v in latency_ms.items()},
        "rankings": rankings,
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(out, ensure_ascii=False), encoding="utf-8")
    print(json.dumps({k: v for k, v in out.items() if k != "rankings"}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
