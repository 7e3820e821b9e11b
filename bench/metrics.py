"""Retrieval metrics for the benchmark: hit@k and MRR by document and by gold passage, per question language.

Ranks are computed exactly as `assistant.evaluate.evaluate` computes them (first retrieved passage whose
document is a gold document; first retrieved passage that holds a gold passage, by `passage_hit`), so
every pipeline, the llama-index recipe included, is scored with one definition.
"""

from __future__ import annotations

import statistics

from assistant.cite import fold_ws
from assistant.evaluate import KS, EvalQuestion, passage_hit

GROUPS = ("all", "en", "fr")

# (doc_id, passage text, language of the passage or None) in rank order, best first.
Ranking = list[tuple[str, str, str | None]]


def ranks(question: EvalQuestion, ranking: Ranking) -> tuple[int | None, int | None]:
    """(rank of the first gold document, rank of the first gold passage), 1-based, None when absent."""
    doc_rank = next((r + 1 for r, (doc, _, _) in enumerate(ranking) if doc in question.gold_docs), None)
    passage_rank = next(
        (r + 1 for r, (_, text, _) in enumerate(ranking) if any(passage_hit(g, text) for g in question.gold_passages)),
        None,
    )
    return doc_rank, passage_rank


def _mean(values: list[float]) -> float | None:
    return round(sum(values) / len(values), 4) if values else None


def score(questions: list[EvalQuestion], rankings: dict[str, Ranking]) -> dict:
    """{"all"|"en"|"fr": {"n", "doc_hit@k", "passage_hit@k", "doc_mrr", "passage_mrr", "contained@5",
    "same_language@5"}}.

    Only answerable questions count (as in evaluate.summarize). A question missing from `rankings`
    counts as a miss. contained@5: a gold passage's text literally inside one of the first 5 (passage_hit
    also accepts 80% of its words, which a long chunk meets more easily). same_language@5: share of the
    top 5 passages written in the question's language (the language bias FINDINGS.md describes; None
    when passage languages are unknown).
    """
    rows = []
    for q in questions:
        if not q.answerable:
            continue
        ranking = rankings.get(q.id, [])
        doc_rank, passage_rank = ranks(q, ranking)
        # The strict half of passage_hit alone: the gold passage's text inside the retrieved text.
        golds = [fold_ws(g).lower() for g in q.gold_passages]
        contained = next(
            (r + 1 for r, (_, text, _) in enumerate(ranking) if any(g in fold_ws(text).lower() for g in golds)), None
        )
        langs = [lang for _, _, lang in ranking[:5] if lang]
        same = sum(lang == q.language for lang in langs) / len(langs) if langs else None
        rows.append(
            {
                "language": q.language,
                "doc_rank": doc_rank,
                "passage_rank": passage_rank,
                "same": same,
                "contained": contained,
            }
        )
    out = {}
    for group in GROUPS:
        sel = [r for r in rows if group == "all" or r["language"] == group]
        m: dict = {"n": len(sel)}
        for k in KS:
            m[f"doc_hit@{k}"] = _mean([1.0 if r["doc_rank"] and r["doc_rank"] <= k else 0.0 for r in sel])
            m[f"passage_hit@{k}"] = _mean([1.0 if r["passage_rank"] and r["passage_rank"] <= k else 0.0 for r in sel])
        m["contained@5"] = _mean([1.0 if r["contained"] and r["contained"] <= 5 else 0.0 for r in sel])
        m["doc_mrr"] = _mean([1 / r["doc_rank"] if r["doc_rank"] else 0.0 for r in sel])
        m["passage_mrr"] = _mean([1 / r["passage_rank"] if r["passage_rank"] else 0.0 for r in sel])
        same = [r["same"] for r in sel if r["same"] is not None]
        m["same_language@5"] = _mean(same)
        out[group] = m
    return out


def percentile(values: list[float], p: float) -> float | None:
    """Nearest-rank percentile (p in 0..100) of `values`; None when empty."""
    if not values:
        return None
    s = sorted(values)
    i = min(len(s) - 1, max(0, int(round(p / 100 * len(s) + 0.5)) - 1))
    return s[i]


def median(values: list[float]) -> float | None:
    return statistics.median(values) if values else None


def ratio(a: float | None, b: float | None) -> str:
    """'9.0x' for a/b, '∞' when only b is 0, '—' when unknown."""
    if a is None or b is None:
        return "—"
    if b == 0:
        return "—" if a == 0 else "∞"
    return f"{a / b:.1f}x"
