"""Generative mode: quotes in the other language get a machine translation, marked as such and kept
only when it says what its quote says; against a real llama.cpp server for the whole path."""

from __future__ import annotations

import re

import pytest

from assistant import cite, generate, prompts
from assistant.config import EmbedSettings
from assistant.embed import make_embedder
from assistant.pipeline import Assistant
from assistant.types import Answer, Citation, Statement

from .conftest import PERU_CASE_STUDY
from .test_generate import LLM, _assert_verified, _small_assistant

BORDERS = (
    "À partir d’entretiens menés auprès des agents, des OSC et des organisations internationales présents aux "
    "frontières, MIEUX a intégré à la formation des exemples et des exercices basés sur des scénarios reflétant "
    "les différentes routes de migration irrégulière, les modus operandi et les conditions de voyage des migrants."
)
SURVEY = (
    "Le sondage en ligne réalisé dans 21 guichets, auprès des commissions et groupes de travail provinciaux, "
    "a permis d’identifier les besoins."
)
ENGLISH = "MIEUX supported the development of inter-sectoral guidelines and a targeted training manual."


@pytest.fixture(scope="module")
def embedder():
    return make_embedder(EmbedSettings())


def _citation(n: int, quote: str, lang: str) -> Citation:
    return Citation(
        n=n,
        source=PERU_CASE_STUDY,
        title="Peru",
        section=None,
        action=None,
        countries=["PE"],
        quote=quote,
        score=0.9,
        language=lang,
    )


def _generated() -> Answer:
    citations = [_citation(1, BORDERS, "fr"), _citation(2, SURVEY, "fr"), _citation(3, ENGLISH, "en")]
    return Answer(
        question="How did Peru adapt its training?",
        language="en",
        abstained=False,
        answer="MIEUX built scenario exercises from border interviews [1]. It ran a survey [2]. It wrote a manual [3].",
        citations=citations,
        mode="generative",
        statements=[Statement(text="x", citations=[n], supported=True) for n in (1, 2, 3)],
    )


def test_translations_are_parsed_by_number():
    assert generate.parse_translations("Sure!\n[1] One.\n- [2]: « Two. »\n[1] again") == {1: "One.", 2: "Two."}, (
        "one translation per number, the first one, unquoted"
    )


def test_a_faithful_translation_is_kept_and_marked_a_wrong_one_is_dropped(embedder):
    translations = {
        1: (
            "Based on interviews with officers, civil society organisations and international organisations at the "
            "borders, MIEUX added to the training examples and scenario-based exercises reflecting the irregular "
            "migration routes, the modus operandi and the travel conditions of migrants."
        ),
        2: "The online survey in 900 offices showed that judges wanted more money.",  # a figure the quote does not give
        3: "MIEUX a soutenu des lignes directrices.",  # the asker's language: nothing to translate
    }
    answer = generate.attach_translations(_generated(), "en", translations, embedder)
    by_n = {c.n: c for c in answer.citations}
    assert by_n[1].translation == translations[1], "the faithful translation of the French quote is kept"
    assert by_n[2].translation is None, "a translation with a figure its quote lacks is dropped"
    assert by_n[3].translation is None, "a quote in the asker's language gets no translation"
    label = prompts.text("en", "labels.machine_translation")
    assert f"[1] — {label} “{translations[1]}”" in answer.answer, f"marked as a machine translation: {answer.answer}"
    assert "900 offices" not in answer.answer, "the unfaithful translation is not shown"
    assert by_n[1].to_json()["machine_translated"] is True, "the JSON answer says it is machine-made"
    assert answer.answer.startswith(_generated().answer), "the verified generated text is unchanged above"


def test_french_asker_gets_english_quotes_translated(embedder):
    answer = Answer(
        question="Comment ?",
        language="fr",
        abstained=False,
        answer="MIEUX a soutenu un manuel [1].",
        citations=[_citation(1, ENGLISH, "en")],
        mode="generative",
    )
    out = generate.attach_translations(
        answer,
        "fr",
        {1: "MIEUX a soutenu l'élaboration de lignes directrices intersectorielles et d'un manuel de formation ciblé."},
        embedder,
    )
    assert out.citations[0].translation, "a faithful French translation of the English quote is kept"
    assert prompts.text("fr", "labels.machine_translation") in out.answer, "marked in French"


@pytest.mark.slow
def test_the_llm_translates_and_only_verified_translations_are_shown(llm_server, make_settings, tmp_path, embedder):
    assistant = _small_assistant(make_settings, tmp_path, llm_server.url)
    out = generate.translate_quotes(assistant, "en", _generated())
    label = prompts.text("en", "labels.machine_translation")
    for c in out.citations:
        if c.translation is None:
            continue
        assert c.language != "en", f"only other-language quotes are translated: [{c.n}]"
        assert cite.same_content(embedder, c.translation, c.quote), (
            f"a shown translation says what its quote says: {c.translation!r}"
        )
        assert f"[{c.n}] — {label}" in out.answer, f"and it is marked as machine-made: {out.answer}"
    shown = len(re.findall(re.escape(label), out.answer))
    assert shown == sum(1 for c in out.citations if c.translation), "one marked line per kept translation"
    # The whole path: whatever the tiny model writes, every statement stays verified.
    answer = assistant.ask("How did Peru adapt its training?", mode="generative")
    _assert_verified(answer, assistant)
    for c in answer.citations:
        assert c.translation is None or (c.language != "en" and cite.same_content(embedder, c.translation, c.quote)), (
            f"[{c.n}]'s translation is checked: {c.translation!r}"
        )


def test_no_llm_call_when_every_quote_is_in_the_asker_language(make_settings):
    # No server at all: a call would fail; none is made when nothing needs translating.
    assistant = Assistant(make_settings(llm={**LLM, "url": "http://127.0.0.1:9/v1", "timeout_s": 2}))
    answer = Answer(
        question="q",
        language="fr",
        abstained=False,
        answer="Texte [1].",
        citations=[_citation(1, BORDERS, "fr")],
        mode="generative",
    )
    assert generate.translate_quotes(assistant, "fr", answer) is answer, "the answer is returned as it was"
