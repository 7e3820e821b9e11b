"""The answer first: the sentence that answers opens the extractive answer, cited; passages that do
not bear on the question are left out; the source language is said once; a twin in the asker's
language stands beside the quote. Hand-built passages in English and French, then the real index."""

from __future__ import annotations

import pytest

from assistant import answer as answering
from assistant import cite, decide, evaluate, prompts
from assistant.config import EmbedSettings, load_settings
from assistant.embed import make_embedder
from assistant.retrieve import analyze_question
from assistant.types import Evidence, Passage

from .conftest import PERU_CASE_STUDY

PERU_EN = "en/mieux_case_study_peru_smuggling_landing_en.txt"
PERU_FR = "fr/mieux_etude_de_cas_perou_landing_fr.txt"


@pytest.fixture(scope="module")
def embedder():
    return make_embedder(EmbedSettings())


def _ev(
    text: str,
    lang: str,
    n: int,
    score: float,
    country: str = "GH",
    section: str | None = None,
    action: str | None = None,
) -> Evidence:
    passage = Passage(
        id=f"doc{n}#0",
        doc_id=f"doc{n}.txt",
        title=f"Document {n}",
        language=lang,
        year=None,
        section=section,
        text=text,
        start=0,
        end=len(text),
        window=text,
        countries=(country,),
        action=action,
    )
    return Evidence(passage=passage, score=score, dense=0.85, rank=n)


def _ask(question: str, lang: str) -> decide.Ask:
    return decide.read_question(analyze_question(question, lang))


# The same little corpus in both languages: a practice that answers, a context passage about the
# same country on another subject, and a report that names training once among other things.
CASES = {
    "en": (
        "How did Ghana adapt its training?",
        [
            (
                (
                    "Ghana is a country of origin, transit and destination for migrants. Many of them work in mining "
                    "and agriculture in the south of the country."
                ),
                1.0,
            ),
            (
                (
                    "Adapting the course: after interviews with officers posted at the borders, the academy added "
                    "scenario exercises built on the routes that migrants really take to its training."
                ),
                0.9,
            ),
            (
                (
                    "The annual report lists staff changes, the budget tables of the ministry, two new buildings "
                    "and, among many other items, a training calendar for the coming year."
                ),
                0.2,
            ),
        ],
    ),
    "fr": (
        "Comment le Ghana a-t-il adapté sa formation ?",
        [
            (
                (
                    "Le Ghana est un pays d'origine, de transit et de destination pour les migrants. Beaucoup d'entre "
                    "eux travaillent dans les mines et l'agriculture dans le sud du pays."
                ),
                1.0,
            ),
            (
                (
                    "Adaptation du cours : après des entretiens avec les agents en poste aux frontières, l'académie a "
                    "ajouté à sa formation des exercices fondés sur des scénarios tirés des routes réelles des "
                    "migrants."
                ),
                0.9,
            ),
            (
                (
                    "Le rapport annuel énumère les changements de personnel, les tableaux budgétaires du ministère, "
                    "deux nouveaux bâtiments et, parmi bien d'autres points, un calendrier de formation pour l'année "
                    "à venir."
                ),
                0.2,
            ),
        ],
    ),
}


@pytest.mark.parametrize("lang", ["en", "fr"])
def test_focus_words_leave_out_the_names(lang):
    question = CASES[lang][0]
    focus = answering.focus_concepts(_ask(question, lang))
    assert len(focus) == 2, f"'adapt' and 'training' are the focus, not Ghana: {focus}"
    assert not any("ghana" in c[lang] for c in focus), f"the country is a name, not a focus word: {focus}"


@pytest.mark.parametrize("lang", ["en", "fr"])
def test_the_practice_opens_the_answer_and_off_topic_passages_are_left_out(lang, embedder):
    question, texts = CASES[lang]
    evidence = [_ev(t, lang, n, s) for n, (t, s) in enumerate(texts)]
    ask = _ask(question, lang)
    found = answering.candidates(ask, evidence, embedder)
    assert found and found[0].ev is evidence[1], (
        f"the practice sentence scores best: {[c.text[:50] for c in found[:3]]}"
    )
    kept, dropped = answering.bearing(ask, evidence, found)
    assert kept == [evidence[1]], f"only the practice bears on the question: {[e.passage.id for e in kept]}"
    assert dropped.get("no-focus-word") == ["doc0#0"], (
        f"the country context shares no focus word and is left out by that criterion: {dropped}"
    )
    assert dropped.get("far-below-best") == ["doc2#0"], (
        f"the report naming training in passing scores far below the best and is left out: {dropped}"
    )
    result = answering.compose(question, lang, ask, evidence, load_settings(), embedder=embedder)
    first = result.answer.splitlines()[0]
    assert first.startswith("« ") and first.endswith("» [1]"), f"the answer opens with a cited quote: {first!r}"
    assert ("scenario" in first) or ("scénarios" in first), f"the opening sentence is the practice: {first!r}"
    assert result.statements[0].citations == [1] and result.statements[0].text in result.citations[0].quote, (
        "the opening sentence is a statement quoted from citation [1]"
    )
    assert [c.source for c in result.citations] == ["doc1.txt"], f"no off-topic passage is cited: {result.citations}"


def test_without_focus_words_nothing_is_left_out_by_them(embedder):
    # "What is MIEUX?" names its subject and asks nothing else: every passage about MIEUX may answer.
    evidence = [
        _ev("MIEUX is a peer-to-peer initiative funded by the European Union and run by ICMPD.", "en", 0, 1.0),
        _ev("MIEUX supports partner countries with short expert missions on migration governance.", "en", 1, 0.8),
    ]
    ask = _ask("What is MIEUX?", "en")
    found = answering.candidates(ask, evidence, embedder)
    kept, dropped = answering.bearing(ask, evidence, found)
    assert "no-focus-word" not in dropped, f"a question without focus words drops nothing for lacking them: {dropped}"
    assert kept[0] is evidence[0], "the best passage is kept"


def test_a_heading_is_context_not_an_answer(embedder):
    text = (
        "Training adapted to border posts\n\n"
        "The academy rewrote its training modules after interviews with border officers."
    )
    ev = _ev(text, "en", 0, 1.0)
    found = answering.candidates(_ask("How did Ghana adapt its training?", "en"), [ev], embedder)
    assert [c.text for c in found] == [
        "The academy rewrote its training modules after interviews with border officers."
    ], f"the heading line is not a candidate, the sentence under it is: {[c.text for c in found]}"
    assert found[0].focus == 1.0, "the heading's 'adapted' counts for the sentence under it"


@pytest.mark.parametrize(
    "question, lang, text, expected",
    [
        (
            "How many officers did the academy train?",
            "en",
            "In 2019, after a long preparation, the academy trained 240 officers in Accra; the course lasted two "
            "weeks.",
            "the academy trained 240 officers in Accra",
        ),
        (
            "Combien d'agents l'académie a-t-elle formés ?",
            "fr",
            "En 2019, après une longue préparation, l'académie a formé 240 agents à Accra ; le cours a duré deux "
            "semaines.",
            "l'académie a formé 240 agents à Accra",
        ),
        (
            "When did the academy open its border course?",
            "en",
            "After years of talks with the ministry, the academy opened its border course in 2017, with ten trainers.",
            "the academy opened its border course in 2017",
        ),
        (
            "Où l'académie a-t-elle ouvert son cours sur les frontières ?",
            "fr",
            "Après des années de discussions avec le ministère, l'académie a ouvert son cours sur les frontières à "
            "Kumasi, avec dix formateurs.",
            "l'académie a ouvert son cours sur les frontières à Kumasi",
        ),
    ],
)
def test_a_count_a_date_or_a_place_opens_with_the_phrase_that_gives_it(question, lang, text, expected, embedder):
    ev = _ev(text, lang, 0, 1.0)
    ask = _ask(question, lang)
    found = answering.candidates(ask, [ev], embedder)
    (_, a, b), *_ = answering.leads(ask, found)
    assert ev.passage.text[a:b] == expected, f"the clause that gives it: {ev.passage.text[a:b]!r}"
    result = answering.compose(question, lang, ask, [ev], load_settings(), embedder=embedder)
    assert result.answer.startswith(f"« {expected} » [1]"), f"the answer opens with it: {result.answer[:120]!r}"
    assert cite.verify(result.statements[0].text, text), "the clause is verbatim in its source"


def test_the_other_language_is_said_once(embedder):
    texts = CASES["fr"][1]
    evidence = [
        _ev(texts[1][0], "fr", 1, 1.0),
        _ev("Ghana rewrote its training after interviews at the borders.", "fr", 2, 0.9),
    ]
    english = answering.compose(
        "How did Ghana adapt its training?",
        "en",
        _ask("How did Ghana adapt its training?", "en"),
        evidence,
        load_settings(),
        embedder=embedder,
    )
    note = prompts.text("en", "labels.source_language", language=prompts.text("en", "labels.language_fr"))
    assert english.answer.count(note) == 1, f"said once, in the asker's language: {english.answer}"
    assert "(in French)" not in english.answer, "not repeated on every quote"


def test_first_cited_gold_reads_the_opening_sentence():
    row = {
        "citations": [{"n": 1, "quote": "Context first. MIEUX trained 40 judges in Lima."}],
        "statements": [{"text": "Context first.", "citations": [1]}],
    }
    assert not evaluate.first_cited_gold(row, ["trained 40 judges"]), "the opening sentence is not the gold one"
    row["statements"][0]["text"] = "MIEUX trained 40 judges in Lima."
    assert evaluate.first_cited_gold(row, ["trained 40 judges"]), "the opening sentence holds the gold passage"
    generated = {
        "citations": [{"n": 1, "quote": "MIEUX trained 40 judges in Lima."}],
        "statements": [{"text": "MIEUX a formé 40 juges à Lima.", "citations": [1]}],
    }
    assert evaluate.first_cited_gold(generated, ["trained 40 judges"]), "a generated sentence is read through its quote"


# -- the real index ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "question", ["How did Peru adapt its training?", "Comment le Pérou a-t-il adapté sa formation ?"]
)
def test_peru_answer_opens_with_the_adaptation_practice(shipped, question):
    result = shipped.ask(question)
    assert not result.abstained, f"{question!r} is answered"
    first = result.statements[0]
    assert "frontières" in first.text and "scénarios" in first.text, (
        f"the first sentence is the adaptation practice (interviews at the borders, scenario exercises): {first.text!r}"
    )
    assert first.citations and result.citations[first.citations[0] - 1].source == PERU_CASE_STUDY, (
        "it is cited to the Peru case study"
    )
    assert result.answer.startswith("« À partir d’entretiens"), f"the answer opens with it: {result.answer[:80]!r}"
    off_topic = [c for c in result.citations if "forced labour" in c.quote or "travail forcé" in c.quote]
    assert not off_topic, f"Peru's forced-labour context is not in the answer: {[c.quote[:60] for c in off_topic]}"
    for c in result.citations:
        assert cite.verify(c.quote, shipped.document_text(c.source)), f"[{c.n}] is verbatim in {c.source}"


def test_a_twin_in_the_asker_language_is_found(shipped, embedder):
    retriever = shipped.retriever
    passage = next(p for p in retriever.passages if p.doc_id == PERU_EN and "country of origin, transit" in p.text)
    sentence = next(
        passage.text[a:b]
        for a, b in answering.split_sentences(passage.text)
        if "country of origin" in passage.text[a:b]
    )
    twin = answering.find_twin(retriever, Evidence(passage=passage, score=1.0), sentence, "fr", embedder)
    assert twin is not None, "the French landing page says the same"
    ev, a, b = twin
    assert ev.passage.language == "fr" and "pays d’origine, de transit" in ev.passage.text[a:b], (
        f"its sentence is the translation: {ev.passage.text[a:b]!r}"
    )
    seed = next(
        p for p in retriever.passages if p.doc_id == PERU_CASE_STUDY and "exercices basés sur des scénarios" in p.text
    )
    sentence = next(seed.text[a:b] for a, b in answering.split_sentences(seed.text) if "scénarios" in seed.text[a:b])
    assert answering.find_twin(retriever, Evidence(passage=seed, score=1.0), sentence, "en", embedder) is None, (
        "no English page says what the French case study says of the border interviews: no twin"
    )


def test_the_twin_stands_beside_an_other_language_quote(shipped, embedder):
    # A French question answered from the English landing page: the French landing page says the same.
    retriever = shipped.retriever
    passage = next(p for p in retriever.passages if p.doc_id == PERU_EN and "country of origin, transit" in p.text)
    question = "Pour quels migrants le Pérou est-il un pays d'origine, de transit et de destination ?"
    result = answering.compose(
        question,
        "fr",
        _ask(question, "fr"),
        [Evidence(passage=passage, score=1.0, dense=0.9)],
        shipped.settings,
        embedder=embedder,
        retriever=retriever,
    )
    lines = result.answer.splitlines()
    assert lines[0].startswith("« Peru is a country of origin"), f"the English sentence opens the answer: {lines[0]!r}"
    assert lines[1] == prompts.text("fr", "labels.source_language", language="anglais"), (
        f"its language, said in French: {lines[1]!r}"
    )
    assert "pays d’origine, de transit et de destination" in lines[2], f"the French twin stands beside it: {lines[2]!r}"
    twin = result.citations[-1]
    assert twin.source == PERU_FR and f"[{twin.n}]" in lines[2], f"the twin is cited to the French page: {twin}"
    assert cite.verify(twin.quote, shipped.document_text(PERU_FR)), "the twin quote is verbatim"


@pytest.mark.parametrize(
    "lang, question, announce, items",
    [
        (
            "en",
            "Which steps does the referral procedure of Ghana cover?",
            "The referral procedure of Ghana covers five steps, each with its own standard operating procedure:",
            "SOP 1: Identification\n\nSOP 2: Protection\n\nSOP 3: Return",
        ),
        (
            "fr",
            "Quelles étapes la procédure d'orientation du Ghana couvre-t-elle ?",
            "La procédure d'orientation du Ghana couvre cinq étapes, chacune avec sa procédure opérationnelle "
            "standard :",
            "POS 1 : Identification\n\nPOS 2 : Protection\n\nPOS 3 : Retour",
        ),
    ],
)
def test_the_items_an_announcement_brings_are_kept(lang, question, announce, items, embedder):
    evidence = [_ev(announce, lang, 0, 1.0), _ev(items, lang, 1, 0.9)]
    evidence[1].follows = True
    ask = _ask(question, lang)
    kept, dropped = answering.bearing(ask, evidence, answering.candidates(ask, evidence, embedder))
    assert kept == evidence, f"the short items that follow their announcement stay with it: {dropped}"
