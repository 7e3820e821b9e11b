"""The llama-index integration: the assistant's retriever under llama-index's query and chat engines,
and the eval cross-checked with llama-index's RetrieverEvaluator, all on the real shipped index."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest
from llama_index.core.chat_engine import CondensePlusContextChatEngine
from llama_index.core.query_engine import RetrieverQueryEngine
from llama_index.core.retrievers import BaseRetriever
from llama_index.core.schema import MetadataMode

from assistant import evaluate
from assistant.config import LLMSettings
from assistant.generate import get_llm
from assistant.integrations.llama_index import AssistantRetriever, E5Embedding, crosscheck, crosscheck_lines
from assistant.types import Filters

from .conftest import PERU_CASE_STUDY, ROOT

PERU_FR = "Comment le Pérou a-t-il adapté sa formation sur la lutte contre le trafic de migrants ?"
PERU_EN = "How did Peru adapt its training on fighting migrant smuggling?"
CITATION_KEYS = {"source", "title", "section", "action", "countries", "language", "year"}


def _sources(nodes) -> list[str]:
    return [n.node.metadata["source"] for n in nodes]


def test_retriever_returns_the_assistants_passages_with_citation_metadata(shipped):
    retriever = AssistantRetriever(shipped, k=5)
    assert isinstance(retriever, BaseRetriever), "a llama-index BaseRetriever, usable by its engines"
    nodes = retriever.retrieve(PERU_EN)
    own = shipped.retriever.retrieve(PERU_EN, k=5)
    assert [n.node.node_id for n in nodes] == [e.passage.id for e in own], "the same passages, in the assistant's order"
    assert PERU_CASE_STUDY in _sources(nodes), (
        f"the English question finds the French Peru case study: {_sources(nodes)}"
    )
    for n, e in zip(nodes, own):
        meta = n.node.metadata
        assert CITATION_KEYS <= set(meta), f"every node carries the citation metadata: {sorted(meta)}"
        assert meta["source"] == e.passage.doc_id and n.node.ref_doc_id == e.passage.doc_id, "source = corpus path"
        assert n.node.get_content() == e.passage.text, "the node's text is the passage"
        assert shipped.document_text(meta["source"])[meta["start"] : meta["end"]] == e.passage.text, (
            "start/end locate the passage in the indexed document text"
        )
        assert json.loads(json.dumps(meta)) == meta, f"metadata survives JSON as it is: {meta}"
        assert n.score == pytest.approx(e.score), "the fused score comes along"
    peru = next(n for n in nodes if n.node.metadata["source"] == PERU_CASE_STUDY)
    assert peru.node.metadata["countries"] == ["PE"] and peru.node.metadata["language"] == "fr", peru.node.metadata
    assert "Peru" in peru.node.metadata["action"], f"the Peru node names its action: {peru.node.metadata['action']}"
    shown = peru.node.get_content(metadata_mode=MetadataMode.LLM)
    assert f"source: {PERU_CASE_STUDY}" in shown and "start:" not in shown, (
        f"the LLM sees where a passage comes from, not its offsets: {shown[:300]}"
    )


def test_retriever_applies_filters_and_k(shipped):
    english = AssistantRetriever(shipped, filters=Filters(language="en"), k=3).retrieve(PERU_EN)
    assert len(english) == 3, f"k=3 gives 3 nodes, not {len(english)}"
    assert all(n.node.metadata["language"] == "en" for n in english), "a language filter keeps only that language"
    assert PERU_CASE_STUDY not in _sources(english), "the French case study is filtered out"
    with pytest.raises(ValueError, match="k must be"):
        AssistantRetriever(shipped, k=0)
    with pytest.raises(TypeError, match="Filters"):
        AssistantRetriever(shipped, filters={"language": "en"})


def test_e5_embedding_is_the_assistants_model(shipped):
    vector = E5Embedding().get_query_embedding(PERU_EN)
    own = shipped.embedder.embed_query(PERU_EN)
    assert len(vector) == 384 and vector == pytest.approx(own.tolist(), abs=1e-6), "same model, same query prefix"


def _llm(server):
    return get_llm(LLMSettings(backend="openai", url=server.url, model="local", max_tokens=64, temperature=0.0))


@pytest.mark.slow
def test_query_engine_runs_on_the_assistant_retriever(shipped, llm_server):
    engine = RetrieverQueryEngine.from_args(AssistantRetriever(shipped, k=4), llm=_llm(llm_server))
    response = engine.query(PERU_FR)
    assert isinstance(response.response, str) and response.response.strip(), "the tiny model wrote an answer"
    assert PERU_CASE_STUDY in _sources(response.source_nodes), (
        f"the query engine's sources include the Peru case study: {_sources(response.source_nodes)}"
    )
    assert all(CITATION_KEYS <= set(n.node.metadata) for n in response.source_nodes), "sources keep their metadata"


@pytest.mark.slow
def test_condense_plus_context_chat_runs_on_the_assistant_retriever(shipped, llm_server):
    chat = CondensePlusContextChatEngine.from_defaults(AssistantRetriever(shipped, k=4), llm=_llm(llm_server))
    first = chat.chat(PERU_EN)
    assert PERU_CASE_STUDY in _sources(first.source_nodes), f"first turn cites Peru: {_sources(first.source_nodes)}"
    assert all(CITATION_KEYS <= set(n.node.metadata) for n in first.source_nodes), "sources keep their metadata"
    second = chat.chat("And what did the training cover?")
    assert second.source_nodes, "the follow-up, condensed by the LLM, retrieves passages too"
    assert all(CITATION_KEYS <= set(n.node.metadata) for n in second.source_nodes), "follow-up sources keep metadata"
    history = chat.chat_history
    assert [m.role.value for m in history] == ["user", "assistant", "user", "assistant"], (
        f"the engine keeps both turns: {[m.role.value for m in history]}"
    )


def _subset() -> list[evaluate.EvalQuestion]:
    """A few answerable questions in each language and one unanswerable one (skipped by the metrics)."""
    questions = evaluate.load_questions()
    pick = [q for q in questions if q.answerable and q.language == "fr"][:4]
    pick += [q for q in questions if q.answerable and q.language == "en"][:4]
    pick += [q for q in questions if not q.answerable][:1]
    return pick


def test_crosscheck_agrees_with_the_eval_on_a_subset(shipped):
    questions = _subset()
    result = evaluate.evaluate(shipped, questions)
    check = crosscheck(shipped, questions, result)
    assert check["n"] == 8, f"the 8 answerable questions are checked, the unanswerable one is not: {check['n']}"
    assert check["differences"] == [], (
        f"llama-index's hit_rate/mrr and the eval's ranks disagree: {check['differences']}"
    )
    s = result["summary"]["all"]
    assert check["llama_index"]["hit@5"] == pytest.approx(s["passage_hit@5"]), "hit_rate@5 = passage_hit@5"
    assert check["llama_index"]["hit@10"] == pytest.approx(s["passage_hit@10"]), "hit_rate@10 = passage_hit@10"
    assert check["llama_index"]["mrr"] == pytest.approx(s["passage_mrr"], abs=1e-4), "mrr = passage_mrr"
    assert check["llama_index"]["hit@10"] > 0, "the subset's questions are found (the check compared real hits)"
    assert set(check["by_language"]) == {"en", "fr"}, "figures by language"
    assert "no difference" in "\n".join(crosscheck_lines(check)), "the report says the two agree"


def test_crosscheck_reports_a_disagreement(shipped):
    questions = _subset()[:2]
    result = evaluate.evaluate(shipped, questions)
    row = next(r for r in result["questions"] if r["id"] == questions[0].id)
    assert row["passage_rank"], f"{questions[0].id} has its gold passage in the top 10 (precondition)"
    # A result whose rank is off by one, as a bug in the eval's own ranking would leave it.
    row["passage_rank"] += 1
    check = crosscheck(shipped, questions, result)
    assert [d["id"] for d in check["differences"]] == [questions[0].id], (
        f"the changed rank is reported: {check['differences']}"
    )
    d = check["differences"][0]
    assert d["llama_index_rank"] == d["eval_rank"] - 1, f"both ranks are given: {d}"
    assert "differ" in "\n".join(crosscheck_lines(check)), "the report says they differ"


@pytest.mark.slow
def test_cli_eval_crosscheck(shipped, tmp_path):
    subset = tmp_path / "subset.jsonl"
    lines = (ROOT / "eval" / "questions.jsonl").read_text(encoding="utf-8").splitlines()
    ids = {q.id for q in _subset()}
    subset.write_text(
        "\n".join(line for line in lines if line.strip() and json.loads(line)["id"] in ids) + "\n", encoding="utf-8"
    )
    env = {k: v for k, v in os.environ.items() if not k.startswith("ASSISTANT_")}
    env["ASSISTANT_PATHS__DATA"] = str(tmp_path / "data")
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "assistant",
            "eval",
            "--crosscheck",
            "--json",
            "--set",
            str(subset),
            "--index",
            str(shipped.settings.paths.index),
            "--out",
            str(tmp_path / "report"),
        ],
        capture_output=True,
        text=True,
        cwd=ROOT,
        env=env,
        timeout=600,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    data = json.loads(result.stdout)
    check = data["crosscheck"]
    assert check["n"] == 8 and check["differences"] == [], f"the CLI's cross-check agrees: {check}"
    saved = json.loads((tmp_path / "report" / "eval.json").read_text(encoding="utf-8"))
    assert saved["crosscheck"]["llama_index"] == check["llama_index"], "eval.json keeps the cross-check"
