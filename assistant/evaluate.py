"""Eval set -> grounding metrics, report (JSON, Markdown, HTML with plots), and the gate before an update."""

from __future__ import annotations

import base64
import html
import io
import json
import statistics
import time
import tomllib
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

from . import tag
from .cite import SupportScorer, fold_ws
from .config import shipped
from .errors import AssistantError, BadQuestion
from .store import write_atomic
from .text import lower_unaccented, words

# The checkout's eval/ (the copy users edit), else the copy packaged in the wheel; paths.eval overrides it.
DEFAULT_SET = shipped("eval") / "questions.jsonl"
DEFAULT_GATE = shipped("eval") / "gate.toml"
DEFAULT_HELDOUT = shipped("eval") / "heldout.jsonl"


def gate_sets(folder: Path | None = None) -> dict[str, list]:
    """The sets `assistant update` judges: the development set, and when present the second
    development set and the frozen held-out set, from `folder` (paths.eval) or the shipped eval/."""
    folder = Path(folder) if folder else shipped("eval")
    sets = {"development": load_questions(folder / "questions.jsonl")}
    if (folder / "dev2.jsonl").exists():
        sets["development 2"] = load_questions(folder / "dev2.jsonl")
    if (folder / "heldout.jsonl").exists():
        sets["held-out"] = load_questions(folder / "heldout.jsonl")
    return sets


KS = (1, 3, 5, 10)


@dataclass
class EvalQuestion:
    id: str
    question: str
    language: str
    kind: str
    answerable: bool
    gold_docs: list[str] = field(default_factory=list)
    gold_passages: list[str] = field(default_factory=list)
    gold_sources: list[str] = field(default_factory=list)
    key_facts: list[str] = field(default_factory=list)
    crosslingual: bool = False
    pair: str | None = None
    note: str | None = None


def load_questions(path: Path | None = None) -> list[EvalQuestion]:
    path = Path(path or DEFAULT_SET)
    questions, fields = [], set(EvalQuestion.__dataclass_fields__)
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except FileNotFoundError:
        raise AssistantError(f"Cannot read the eval set {path}: no such file (assistant eval --set PATH)") from None
    for n, line in enumerate(lines, 1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
            questions.append(EvalQuestion(**{k: v for k, v in row.items() if k in fields}))
        except (json.JSONDecodeError, TypeError) as err:
            raise AssistantError(f"Cannot read {path} line {n}: {err}; each line is one JSON question") from None
    return questions


def check_gold(questions: list[EvalQuestion], text_of) -> dict[str, list[str]]:
    """Questions whose gold passages are no longer in their documents: {question id: [missing passages]}.

    `text_of(doc_id)` gives a document's indexed text (None when the document is gone).
    """
    folded: dict[str, str | None] = {}
    missing: dict[str, list[str]] = {}
    for q in questions:
        for i, passage in enumerate(q.gold_passages):
            sources = [q.gold_sources[i]] if i < len(q.gold_sources) and q.gold_sources[i] else q.gold_docs
            found = False
            for doc_id in sources:
                if doc_id not in folded:
                    text = text_of(doc_id)
                    folded[doc_id] = fold_ws(text) if text else None
                have = folded[doc_id]
                if have and fold_ws(passage) in have:
                    found = True
                    break
            if not found:
                missing.setdefault(q.id, []).append(passage)
    return missing


@lru_cache(maxsize=4096)
def _tokens(text: str) -> tuple[str, ...]:
    # Cached: a cross-check tests every indexed passage against each gold passage.
    return tuple(lower_unaccented(w) for w in words(text))


def passage_hit(gold: str, passage_text: str) -> bool:
    """A retrieved passage holds a gold passage: contains it, or holds most of its words in order."""
    g, p = fold_ws(gold).lower(), fold_ws(passage_text).lower()
    if g in p or (len(p) > 40 and p in g):
        return True
    gt, pt = _tokens(gold), set(_tokens(passage_text))
    return bool(gt) and sum(t in pt for t in gt) / len(gt) >= 0.8


def fact_present(fact: str, text: str) -> bool:
    """The fact's words, in order, in the text. "3-4 December|3 et 4 décembre 2015": either form,
    as the English and the French source give it."""
    tt = " " + " ".join(_tokens(text)) + " "
    for form in fact.split("|"):
        ft = _tokens(form)
        if ft and (" " + " ".join(ft) + " ") in tt:
            return True
    return False


def first_cited_gold(answer: dict, gold_passages: list[str]) -> bool:
    """The answer's first cited sentence holds a gold passage: the answer opens with what answers.

    The first cited sentence is the first statement that cites: its own text when it is quoted
    verbatim from its citation (extractive), else the sentence its citation quotes (generative).

    >>> answer = {"citations": [{"n": 1, "quote": "Context. MIEUX trained 40 judges in Lima."}],
    ...           "statements": [{"text": "MIEUX trained 40 judges in Lima.", "citations": [1]}]}
    >>> first_cited_gold(answer, ["trained 40 judges"])
    True
    """
    quotes = {c["n"]: c["quote"] for c in answer.get("citations", [])}
    for st in answer.get("statements", []):
        n = next((n for n in st.get("citations", []) if n in quotes), None)
        if n is None:
            continue
        text = st.get("text") or ""
        sentence = text if text.strip() and fold_ws(text) in fold_ws(quotes[n]) else quotes[n]
        return any(passage_hit(g, sentence) for g in gold_passages)
    return False


def evaluate(assistant, questions: list[EvalQuestion] | None = None, *, mode: str | None = None, progress=None) -> dict:
    """Run every question; return {"summary": ..., "questions": [...], "gold_missing": ...}."""
    questions = questions if questions is not None else load_questions()
    retriever = assistant.retriever
    scorer = SupportScorer(assistant.embedder)
    missing = check_gold(questions, assistant.document_text)
    rows = []
    for n, q in enumerate(questions):
        if progress:
            progress(n, len(questions))
        t0 = time.perf_counter()
        evidence = retriever.retrieve(q.question, k=max(KS))
        try:
            answer = assistant.ask(q.question, mode=mode)
        except BadQuestion as err:
            raise AssistantError(f"Eval question {q.id} is refused: {err}") from None
        latency = (time.perf_counter() - t0) * 1000
        doc_rank = next((r + 1 for r, e in enumerate(evidence) if e.passage.doc_id in q.gold_docs), None)
        passage_rank = next(
            (r + 1 for r, e in enumerate(evidence) if any(passage_hit(g, e.passage.text) for g in q.gold_passages)),
            None,
        )
        passages = {e.passage.id: e.passage.text for e in evidence}
        for c in answer.citations:
            if c.passage_id and c.passage_id not in passages:
                p = retriever.passage(c.passage_id)
                passages[c.passage_id] = p.text if p else c.quote
        statements = answer.statements or []
        supported, precise, n_cit = 0, 0, 0
        for st in statements:
            cited = [c for c in answer.citations if c.n in st.citations]
            ok = [scorer.supports(st.text, passages.get(c.passage_id, c.quote)) for c in cited]
            supported += any(ok)
            precise += sum(ok)
            n_cit += len(cited)
        answer_text = answer.answer + " " + " ".join(c.quote for c in answer.citations)
        facts = [fact_present(f, answer_text) for f in q.key_facts]
        cited_gold = any(c.source in q.gold_docs for c in answer.citations)
        as_json = answer.to_json()
        rows.append(
            {
                "id": q.id,
                "question": q.question,
                "language": q.language,
                "kind": q.kind,
                "answerable": q.answerable,
                "crosslingual": q.crosslingual,
                "pair": q.pair,
                "abstained": answer.abstained,
                "reason": answer.reason,
                "doc_rank": doc_rank,
                "passage_rank": passage_rank,
                "statements": len(statements),
                "supported": supported,
                "citations": n_cit,
                "precise": precise,
                "facts": len(facts),
                "facts_found": sum(facts),
                "cited_gold": cited_gold,
                "top_score": evidence[0].dense if evidence and evidence[0].dense is not None else None,
                "cited_docs": sorted({c.source for c in answer.citations}),
                "cited_actions": sorted({c.action or c.source for c in answer.citations}),
                "latency_ms": round(latency, 1),
                "answer": as_json,
                "first_gold": (not answer.abstained) and first_cited_gold(as_json, q.gold_passages),
                "gold_missing": missing.get(q.id, []),
                "gold_passages": list(q.gold_passages),
                "top": [{"doc_id": e.passage.doc_id, "id": e.passage.id, "text": e.passage.text} for e in evidence[:5]],
            }
        )
    return {
        "summary": summarize(rows),
        "questions": rows,
        "gold_missing": missing,
        "mode": mode or "extractive",
        "generation": assistant.generation or assistant.catalog.live(),
        "created": time.strftime("%Y-%m-%d %H:%M:%S"),
        "role_countries": role_country_passages(assistant),
    }


def role_country_passages(assistant) -> list[dict]:
    """Indexed passages whose countries include one their document names only as expert, host, donor or co-chair.

    A country named in a role line ("Experts involved: Spain") and nowhere else in the document is
    not what any of its passages is about; the count should be 0.
    """
    found = []
    for doc_id in sorted(assistant.documents()):  # one document at a time: never the whole generation
        passages = assistant.retriever.document(doc_id)
        text = assistant.document_text(doc_id) or ""
        only = set(tag.role_countries(text)) - set(tag.tag(text).countries)  # tag() leaves role lines out
        for p in passages:
            wrong = sorted(only & (set(p.countries) | set(p.action_countries)))
            if wrong:
                found.append({"passage": p.id, "doc_id": doc_id, "countries": wrong})
    return found


def _mean(values) -> float | None:
    values = [v for v in values if v is not None]
    return round(sum(values) / len(values), 4) if values else None


def _metrics(rows: list[dict]) -> dict:
    answerable = [r for r in rows if r["answerable"]]
    unanswerable = [r for r in rows if not r["answerable"]]
    m: dict = {"n": len(rows)}
    for k in KS:
        m[f"doc_hit@{k}"] = _mean([1.0 if r["doc_rank"] and r["doc_rank"] <= k else 0.0 for r in answerable])
        m[f"passage_hit@{k}"] = _mean(
            [1.0 if r["passage_rank"] and r["passage_rank"] <= k else 0.0 for r in answerable]
        )
    m["doc_mrr"] = _mean([1 / r["doc_rank"] if r["doc_rank"] else 0.0 for r in answerable])
    m["passage_mrr"] = _mean([1 / r["passage_rank"] if r["passage_rank"] else 0.0 for r in answerable])
    answered = [r for r in answerable if not r["abstained"]]
    m["citation_recall"] = _mean([r["supported"] / r["statements"] for r in answered if r["statements"]])
    m["citation_precision"] = _mean([r["precise"] / r["citations"] for r in answered if r["citations"]])
    m["cited_gold_doc"] = _mean([1.0 if r["cited_gold"] else 0.0 for r in answered])
    m["key_facts"] = _mean([r["facts_found"] / r["facts"] for r in answered if r["facts"]])
    # Does the answer open with what answers? Share of answerable practice questions (abstentions count
    # as misses) whose first cited sentence holds a gold passage; `_all`: every answerable question.
    m["first_cited_gold"] = _mean([1.0 if r.get("first_gold") else 0.0 for r in answerable if r["kind"] == "practice"])
    m["first_cited_gold_all"] = _mean([1.0 if r.get("first_gold") else 0.0 for r in answerable])
    abstained = [r for r in rows if r["abstained"]]
    m["abstention_recall"] = _mean([1.0 if r["abstained"] else 0.0 for r in unanswerable])
    m["abstention_precision"] = _mean([0.0 if r["answerable"] else 1.0 for r in abstained])
    m["false_abstention"] = _mean([1.0 if r["abstained"] else 0.0 for r in answerable])
    lat = sorted(r["latency_ms"] for r in rows)
    m["latency_p50_ms"] = round(statistics.median(lat), 1) if lat else None
    m["latency_p95_ms"] = round(lat[min(len(lat) - 1, int(0.95 * len(lat)))], 1) if lat else None
    return m


def _consistency(rows: list[dict]) -> float | None:
    by_id = {r["id"]: r for r in rows}
    scores = []
    for r in rows:
        other = by_id.get(r["pair"] or "")
        if not other or r["id"] > other["id"] or not r["answerable"]:
            continue
        a, b = set(r["cited_actions"]), set(other["cited_actions"])
        if r["abstained"] or other["abstained"]:
            scores.append(1.0 if r["abstained"] == other["abstained"] else 0.0)
        else:
            scores.append(1.0 if a & b else 0.0)
    return _mean(scores)


def summarize(rows: list[dict]) -> dict:
    summary = {"all": _metrics(rows)}
    summary["all"]["crosslingual_consistency"] = _consistency(rows)
    for lang in ("en", "fr"):
        summary[f"lang:{lang}"] = _metrics([r for r in rows if r["language"] == lang])
    for kind in sorted({r["kind"] for r in rows}):
        summary[f"kind:{kind}"] = _metrics([r for r in rows if r["kind"] == kind])
    summary["crosslingual"] = _metrics([r for r in rows if r["crosslingual"]])
    return summary


HEADLINE = [
    "passage_hit@5",
    "doc_hit@5",
    "passage_mrr",
    "citation_precision",
    "citation_recall",
    "key_facts",
    "first_cited_gold",
    "first_cited_gold_all",
    "abstention_recall",
    "abstention_precision",
    "false_abstention",
    "latency_p50_ms",
]


def table(summary: dict, columns=("all", "lang:en", "lang:fr")) -> str:
    """A Markdown table of the headline metrics by column."""
    head = "| metric | " + " | ".join(columns) + " |\n|---|" + "---|" * len(columns) + "\n"
    lines = []
    for metric in HEADLINE + ["crosslingual_consistency"]:
        cells = []
        for col in columns:
            v = summary.get(col, {}).get(metric)
            cells.append("—" if v is None else (f"{v:.0f}" if metric.endswith("_ms") else f"{v:.2f}"))
        if any(c != "—" for c in cells):
            lines.append(f"| {metric} | " + " | ".join(cells) + " |")
    return head + "\n".join(lines) + "\n"


def compare(current: dict, baseline: dict) -> dict:
    """What changed, metric by metric and question by question."""
    metrics = {}
    for col, values in current["summary"].items():
        for metric, v in values.items():
            b = baseline.get("summary", {}).get(col, {}).get(metric)
            if isinstance(v, (int, float)) and isinstance(b, (int, float)) and v != b:
                metrics[f"{col}/{metric}"] = {"before": b, "after": v, "delta": round(v - b, 4)}
    before = {r["id"]: r for r in baseline.get("questions", [])}
    questions = []
    for r in current["questions"]:
        b = before.get(r["id"])
        if b is None:
            questions.append({"id": r["id"], "change": "new question"})
            continue
        changes = []
        for key in ("abstained", "doc_rank", "passage_rank", "cited_docs", "facts_found"):
            if r.get(key) != b.get(key):
                changes.append(f"{key}: {b.get(key)} -> {r.get(key)}")
        if changes:
            questions.append({"id": r["id"], "change": "; ".join(changes)})
    return {"metrics": metrics, "questions": questions}


def load_gate(path: Path | None = None) -> dict:
    path = Path(path or DEFAULT_GATE)
    try:
        return tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise AssistantError(
            f"Cannot read the gate thresholds {path}: no such file (assistant update --gate PATH)"
        ) from None
    except tomllib.TOMLDecodeError as err:
        raise AssistantError(f"Cannot read the gate thresholds {path}: {err}") from None


GATED_COLUMNS = ("all", "lang:en", "lang:fr")  # every threshold holds overall and in each language


def gate(current: dict, baseline: dict | None, thresholds: dict, name: str = "") -> list[str]:
    """Reasons to block the update; an empty list lets it through.

    Every floor, ceiling and allowed drop is checked overall and in each language: an update that
    makes French answers worse is blocked even when the overall figure holds."""
    reasons = []
    where = f"{name}: " if name else ""
    for col in GATED_COLUMNS:
        s = current["summary"].get(col, {})
        b = baseline["summary"].get(col, {}) if baseline else {}
        label = "" if col == "all" else f" ({col.split(':')[1]})"
        # A floor blocks an update that falls below it; when the live index is already below it,
        # the update may not make things worse than the live index (it is not blocked for the old gap).
        for metric, floor in thresholds.get("minimum", {}).items():
            v, before = s.get(metric), b.get(metric)
            if v is None and col != "all":
                continue
            if v is None or (v < floor and (before is None or before >= floor or v < before)):
                reasons.append(
                    f"{where}{metric}{label} is {v} (minimum {floor}"
                    + (f", live index {before})" if before is not None else ")")
                )
        for metric, ceiling in thresholds.get("maximum", {}).items():
            v, before = s.get(metric), b.get(metric)
            if v is not None and v > ceiling and (before is None or before <= ceiling or v > before):
                reasons.append(
                    f"{where}{metric}{label} is {v} (maximum {ceiling}"
                    + (f", live index {before})" if before is not None else ")")
                )
        # Each language has half the questions, so one question moves its figures twice as much.
        points = (
            thresholds.get("max_drop_points", 2)
            if col == "all"
            else thresholds.get("max_drop_points_language", thresholds.get("max_drop_points", 2) * 1.5)
        )
        max_drop = points / 100
        for metric in thresholds.get("no_drop", []) if baseline else []:
            if s.get(metric) is not None and b.get(metric) is not None:
                lower_is_better = metric in ("false_abstention",) or metric.endswith("_ms")
                drop = (s[metric] - b[metric]) if lower_is_better else (b[metric] - s[metric])
                if drop > max_drop + 1e-9:
                    reasons.append(
                        f"{where}{metric}{label} went from {b[metric]} to {s[metric]} "
                        f"(more than {max_drop * 100:.0f} points worse)"
                    )
    missing = current.get("gold_missing") or {}
    if missing and thresholds.get("block_on_missing_gold", True):
        reasons.append(
            f"{where}gold passages of {len(missing)} questions are no longer in the corpus: "
            f"{', '.join(sorted(missing)[:8])}"
        )
    return reasons


def displaced(current: dict, baseline: dict, new_docs: set[str], supports) -> list[dict]:
    """Questions whose gold passage fell out of the top 5 while a passage of a new or changed
    document took its place and says the same (`supports(gold, text)`: the multilingual support
    scorer). These are a better or equal source, not a regression; the report shows them side by side."""
    before = {r["id"]: r for r in baseline.get("questions", [])}
    out = []
    for r in current["questions"]:
        b = before.get(r["id"])
        if not r["answerable"] or b is None or not b.get("passage_rank") or b["passage_rank"] > 5:
            continue
        if r.get("passage_rank") and r["passage_rank"] <= 5:
            continue
        for top in r.get("top", []):
            if top["doc_id"] not in new_docs:
                continue
            gold = next((g for g in r.get("gold_passages", []) if supports(g, top["text"])), None)
            if gold is not None:
                out.append({"id": r["id"], "gold": gold, "new_doc": top["doc_id"], "new_passage": top["text"]})
                break
    return out


def _plots(result: dict) -> dict[str, bytes]:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    out = {}
    s = result["summary"]
    metrics = ["passage_hit@5", "citation_precision", "key_facts", "abstention_recall"]
    for name, cols in (
        ("by_language", ["lang:en", "lang:fr"]),
        ("by_kind", sorted(c for c in s if c.startswith("kind:"))),
    ):
        fig, ax = plt.subplots(figsize=(8, 3.2))
        width = 0.8 / max(len(cols), 1)
        for i, col in enumerate(cols):
            vals = [s[col].get(m) or 0 for m in metrics]
            ax.bar([x + i * width for x in range(len(metrics))], vals, width, label=col.split(":")[1])
        ax.set_xticks([x + 0.4 - width / 2 for x in range(len(metrics))], metrics, fontsize=8)
        ax.set_ylim(0, 1.05)
        ax.legend(fontsize=7, ncols=4)
        ax.set_title(f"Metrics {name.replace('_', ' ')}")
        fig.tight_layout()
        buf = io.BytesIO()
        fig.savefig(buf, format="png", dpi=90)
        plt.close(fig)
        out[name] = buf.getvalue()
    fig, ax = plt.subplots(figsize=(6, 3))
    ans = [r["top_score"] for r in result["questions"] if r["answerable"] and r["top_score"] is not None]
    una = [r["top_score"] for r in result["questions"] if not r["answerable"] and r["top_score"] is not None]
    ax.hist([ans, una], bins=15, label=["answerable", "unanswerable"])
    ax.set_xlabel("top-1 dense similarity")
    ax.set_title("Score distribution: answerable vs unanswerable")
    ax.legend(fontsize=8)
    fig.tight_layout()
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=90)
    plt.close(fig)
    out["scores"] = buf.getvalue()
    return out


def write_report(result: dict, folder: Path, diff: dict | None = None) -> dict[str, Path]:
    """JSON (every question), Markdown and HTML (with plots) under `folder`; returns their paths."""
    folder.mkdir(parents=True, exist_ok=True)
    paths = {"json": folder / "eval.json", "md": folder / "eval.md", "html": folder / "eval.html"}
    write_atomic(paths["json"], json.dumps(result, ensure_ascii=False, indent=1))
    plots = _plots(result)
    for name, png in plots.items():
        (folder / f"eval_{name}.png").write_bytes(png)
    s = result["summary"]
    kinds = [c for c in s if c.startswith("kind:")]
    md = [
        f"# Evaluation ({result['mode']}, generation {result['generation']}, {result['created']})",
        "",
        table(s),
        "",
        "## By kind",
        "",
        table(s, ["crosslingual"] + kinds),
        "",
    ]
    roles = result.get("role_countries", [])
    md += [
        f"Passages tagged with a country their document names only as expert, host or donor: {len(roles)}"
        + (
            " (" + ", ".join(sorted({f"{r['doc_id']} {'/'.join(r['countries'])}" for r in roles})[:6]) + ")"
            if roles
            else ""
        ),
        "",
    ]
    if result["gold_missing"]:
        md += (
            ["## Gold passages missing from the corpus", ""]
            + [f"- {q}: {len(v)} passage(s)" for q, v in result["gold_missing"].items()]
            + [""]
        )
    failures = [
        r
        for r in result["questions"]
        if (r["answerable"] and (r["abstained"] or not r["passage_rank"] or r["passage_rank"] > 5))
        or (not r["answerable"] and not r["abstained"])
    ]
    md += (
        ["## Questions to look at", ""]
        + [
            f"- `{r['id']}` ({r['language']}, {r['kind']}): "
            + (
                "wrongly abstained"
                if r["answerable"] and r["abstained"]
                else "answered, should abstain"
                if not r["answerable"]
                else f"gold passage rank {r['passage_rank']}"
            )
            for r in failures
        ]
        + [""]
    )
    if diff:
        md += (
            ["## Changes against the baseline", ""]
            + [
                f"- {k}: {v['before']} -> {v['after']}"
                for k, v in diff["metrics"].items()
                if "/" in k and k.startswith("all/")
            ]
            + [""]
        )
        md += [f"- `{q['id']}`: {q['change']}" for q in diff["questions"]] + [""]
    if result.get("displaced"):
        md += [
            "## Gold passages displaced by a new document that says the same",
            "",
            "Not a regression: the new passage answers as the gold one did.",
            "",
        ]
        for d in result["displaced"]:
            md += [
                f"- `{d['id']}`: gold « {d['gold']} »",
                f"  new ({d['new_doc']}): « {' '.join(d['new_passage'].split())[:400]} »",
            ]
        md += [""]
    md += ["![by language](eval_by_language.png)", "![by kind](eval_by_kind.png)", "![scores](eval_scores.png)", ""]
    write_atomic(paths["md"], "\n".join(md))
    imgs = "".join(
        f'<img alt="{n}" src="data:image/png;base64,{base64.b64encode(p).decode()}"><br>' for n, p in plots.items()
    )
    body = "\n".join(md[: md.index("![by language](eval_by_language.png)")])
    page = (
        f"<!doctype html><meta charset=utf-8><title>Evaluation</title>"
        f"<style>body{{font-family:sans-serif;max-width:60em;margin:auto}}pre{{white-space:pre-wrap}}</style>"
        f"<pre>{html.escape(body)}</pre>{imgs}"
    )
    write_atomic(paths["html"], page)
    return paths
