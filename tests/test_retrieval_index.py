"""The generation's retrieval index (assistant/index.py): what it stores equals what every passage and
vector give, and a process answers from it without reading the whole generation."""

from __future__ import annotations

import math
from collections import Counter, defaultdict
from pathlib import Path

import numpy as np
import pytest

from assistant import explore
from assistant.pipeline import Assistant
from assistant.text import analyze, lower_unaccented, words

from .conftest import copy_corpus
from .test_server_mode import SMALL, chroma_server  # noqa: F401  (the fixture)

QUESTIONS = [
    "How did Peru adapt its training on migrant smuggling to the local context?",
    "Quelles procédures MIEUX a-t-il développées pour les refuges en Jordanie ?",
    "What lessons were learnt from the MIEUX actions?",
]


def _every_passage(assistant: Assistant):
    """Every passage and vector of the live generation, read whole (what the retriever used to hold)."""
    return assistant.store.all_passages(assistant.catalog.live(), with_vectors=True)


def _reference_bm25(passages, terms: list[str]) -> np.ndarray:
    """Okapi BM25 (k1 1.2, b 0.75, idf log(1 + (N - df + .5) / (df + .5))) over section + text, from scratch."""
    docs = [Counter(analyze(f"{p.section or ''} {p.text}", p.language)) for p in passages]
    lengths = np.array([sum(d.values()) for d in docs], dtype=float)
    avg = lengths.mean()
    out = np.zeros(len(docs))
    for term in set(terms):
        df = sum(1 for d in docs if term in d)
        if not df:
            continue
        idf = math.log(1 + (len(docs) - df + 0.5) / (df + 0.5))
        for i, d in enumerate(docs):
            tf = d.get(term, 0)
            if tf:
                out[i] += idf * tf * 2.2 / (tf + 1.2 * (0.25 + 0.75 * lengths[i] / avg))
    return out


@pytest.mark.slow
def test_stored_statistics_equal_those_of_every_passage_and_vector(shipped):
    passages, vectors = _every_passage(shipped)
    index = shipped.retriever.index
    assert index.size == len(passages) > 500, f"the index has a row per passage: {index.size} vs {len(passages)}"
    per_doc = Counter(p.doc_id for p in passages)
    weights = np.array([1.0 / per_doc[p.doc_id] for p in passages])
    language = np.array([p.language for p in passages])
    queries = [shipped.embedder.embed_query(q) for q in QUESTIONS]
    for lang in ("fr", "en"):
        mask = language == lang
        assert np.array_equal(index.mask(lang), mask), f"the index knows which rows are in {lang}"
        for q, text in zip(queries, QUESTIONS):
            scores = vectors[mask] @ q
            w = weights[mask]
            mean = (w * scores).sum() / w.sum()
            sd = math.sqrt((w * (scores - mean) ** 2).sum() / w.sum())
            got_mean, got_sd = index.dense_stats(q, lang)
            assert abs(got_mean - mean) < 1e-6 and abs(got_sd - sd) < 1e-6 * max(sd, 1), (
                f"the stored {lang} mean and covariance give the dense statistics of every vector for {text!r}: "
                f"{got_mean:.7f}/{got_sd:.7f} vs {mean:.7f}/{sd:.7f}"
            )
    for text in QUESTIONS:
        terms = analyze(text, "en") + analyze(text, "fr")
        expected = _reference_bm25(passages, terms)
        got = index.lexical(terms)
        assert expected.max() > 0, f"the question {text!r} matches some passage"
        assert np.allclose(got, expected, rtol=1e-5, atol=1e-5), (
            f"the stored BM25 postings score every passage as BM25 over all of them for {text!r} "
            f"(largest difference {np.abs(got - expected).max():.2e})"
        )
    known = shipped.retriever.known
    assert known.vocabulary == {lower_unaccented(w) for p in passages for w in words(p.text + " " + p.title)}, (
        "the stored vocabulary is every folded word of the passages and titles"
    )
    assert known.common == {lower_unaccented(w) for p in passages for w in words(p.text) if w.islower()}, (
        "the stored common words are the words written in lower case"
    )
    assert known.countries == {c for p in passages for c in p.countries}, "the stored countries are the passages'"
    assert known.actions == {p.action for p in passages if p.action}, "the stored actions are the passages'"
    prefixes: dict[str, set[str]] = defaultdict(set)
    for p in passages:
        if p.language == "fr":
            for w in words(p.text):
                folded = lower_unaccented(w)
                if len(folded) >= 7 and not w[:1].isupper():
                    prefixes[folded[:6]].update(analyze(w, "fr"))
    for prefix in sorted(prefixes)[::25]:
        assert index.prefixed("fr", prefix) == prefixes[prefix], (
            f"the stored cognate stems of {prefix!r} are all of them"
        )
    counts: Counter = Counter()
    for p in passages:
        for c in explore.carried_out_in(p):
            counts[(c, None)] += 1
            for t in set(p.themes):
                counts[(c, t)] += 1
    coverage = explore.coverage(shipped)
    assert coverage.totals == {c: n for (c, t), n in counts.items() if t is None}, "coverage totals are every passage's"
    assert coverage.counts == {k: n for k, n in counts.items() if k[1] is not None}, (
        "coverage cells are every passage's"
    )


@pytest.mark.slow
def test_a_process_answers_without_reading_the_whole_generation(shipped):
    assistant = Assistant(shipped.settings)  # a new process's objects: nothing read yet
    total = assistant.store.count(assistant.catalog.live())
    sizes = {d: doc.n_passages for d, doc in assistant.documents().items()}
    bound = 10 * assistant.settings.retrieve.candidates  # candidates of a few retrievals, their neighbours
    for question in QUESTIONS:
        before, known = assistant.store.rows_read, set(assistant.retriever._document_words)
        assert assistant.ask(question).citations, f"{question!r} is answered, with citations"
        read = assistant.store.rows_read - before
        # The decision reads the words of the documents of its evidence (a document at a time).
        documents = sum(sizes[d] for d in set(assistant.retriever._document_words) - known)
        assert read <= bound + documents < total + bound, (
            f"answering {question!r} read {read} rows of Chroma: its candidates and the {documents} passages of "
            f"its evidence's documents, not the corpus's {total}"
        )
    assert "_everything" not in assistant.retriever.__dict__, "the whole-generation read was never made"
    assert explore.similar(assistant, action=sorted(assistant.retriever.known.actions)[0]), "comparable practices found"
    assert explore.coverage(assistant).countries, "coverage counted"
    assert "_everything" not in assistant.retriever.__dict__, "explore did not read the whole generation either"


@pytest.mark.slow
def test_server_mode_hosts_build_the_same_index_and_answer_alike(chroma_server, tmp_path, make_settings):  # noqa: F811
    corpus = copy_corpus(tmp_path / "corpus", SMALL)
    url = f"http://127.0.0.1:{chroma_server['port']}"
    embedded = Assistant(make_settings(corpus, paths={"index": tmp_path / "embedded"}))
    embedded.ingest()
    writer = Assistant(make_settings(corpus, store={"chroma_url": url}, paths={"index": tmp_path / "a"}))
    writer.ingest()
    live = writer.catalog.live()
    assert (Path(tmp_path / "a") / "retrieval" / live / "done.json").exists(), "the ingesting host wrote the index"
    reader = Assistant(make_settings(corpus, store={"chroma_url": url}, paths={"index": tmp_path / "b"}))
    before = reader.store.rows_read
    ranked = {}
    for name, assistant in (("embedded", embedded), ("writer", writer), ("reader", reader)):
        ranked[name] = [[e.passage.id for e in assistant.retriever.retrieve(q, pool=10)] for q in QUESTIONS]
    assert (Path(tmp_path / "b") / "retrieval" / live / "done.json").exists(), (
        "a host that did not ingest builds the generation's index once, in its own index folder"
    )
    assert reader.store.rows_read - before >= 2 * reader.retriever.size, "it was built from the server's rows"
    assert ranked["writer"] == ranked["reader"] == ranked["embedded"], (
        "both hosts of the server and an embedded index rank the same passages"
    )
    built = (Path(tmp_path / "b") / "retrieval" / live / "done.json").stat().st_mtime_ns
    again = Assistant(make_settings(corpus, store={"chroma_url": url}, paths={"index": tmp_path / "b"}))
    assert again.retriever.retrieve(QUESTIONS[1]), "a restarted host answers"
    assert (Path(tmp_path / "b") / "retrieval" / live / "done.json").stat().st_mtime_ns == built, (
        "a restarted host reuses the index it built: it does not build it again"
    )


@pytest.mark.slow
def test_an_ingest_drops_what_a_killed_build_left_and_keeps_a_running_one(tmp_path, make_settings):
    import os

    corpus = copy_corpus(tmp_path / "corpus", SMALL)
    assistant = Assistant(make_settings(corpus))
    assistant.ingest()
    folder = Path(assistant.settings.paths.index) / "retrieval"
    dead = folder / ".tmp-g1-999999999-1"  # no such process
    running = folder / f".tmp-g2-{os.getpid()}-1"
    dead.mkdir()
    running.mkdir()
    (corpus / SMALL[0]).write_text((corpus / SMALL[0]).read_text(encoding="utf-8") + "\nUne ligne.\n", encoding="utf-8")
    report = assistant.ingest()
    assert report.promoted, "the second ingest made a new generation live"
    assert not dead.exists(), "the folder of a build whose process is gone was removed"
    assert running.exists(), "the folder of a build still running was left alone"
    assert sorted(p.name for p in folder.iterdir() if not p.name.startswith(".")) == sorted(
        assistant.catalog.known()
    ), "the retrieval folders are those of the generations the catalog keeps"
    assert assistant.ask("What did MIEUX do in Jordan?").citations, "the new generation answers"
