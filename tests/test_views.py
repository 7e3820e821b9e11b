"""The chat's view-model without a browser: what each component shows for an Answer, its filters and the labels."""

from __future__ import annotations

from html import unescape

import pytest

from assistant import explore, prompts
from assistant.types import Answer, Citation, Filters
from assistant.views import (
    Labels,
    Turn,
    export_markdown,
    filter_chips,
    find_citation,
    find_practice,
    first_source,
    input_problem,
    messages,
    render_cell,
    render_practices,
    render_source,
    render_turn,
    source_url,
)

from .conftest import PERU_CASE_STUDY

PERU = "How did Peru adapt its training?"
QUOTE = "Peru trained border officials with scenario-based exercises."
OTHER = "Jordan opened two shelters for victims of trafficking."


def _citation(n: int, quote: str, source: str = "en/a.txt") -> Citation:
    return Citation(
        n=n,
        source=source,
        title=f"Document {n}",
        section="Results",
        action="MIEUX Peru III",
        countries=["PE"],
        quote=quote,
        score=1.0,
        language="en",
        year=2019,
    )


def _answer(abstained: bool = False, language: str = "en") -> Answer:
    if abstained:
        return Answer(
            question=PERU,
            language=language,
            abstained=True,
            answer="The corpus does not document Peru.",
            related=[_citation(1, OTHER)],
        )
    return Answer(
        question=PERU,
        language=language,
        abstained=False,
        answer=f"Here is what the corpus documents:\n- « {QUOTE} » [1]",
        citations=[_citation(1, QUOTE), _citation(2, OTHER, "en/b.txt")],
    )


@pytest.mark.parametrize("lang", ["en", "fr"])
def test_an_answer_shows_its_active_filters_as_chips(lang):
    L = Labels(lang)
    filters = Filters(countries=["TH"], years=[2013], language="fr")
    chips = filter_chips(filters, L)
    thailand = "Thailand" if lang == "en" else "Thaïlande"
    assert f"{L('filters.country')}: {thailand}" in chips, f"the country chip names the country in {lang}: {chips}"
    assert f"{L('filters.year')}: 2013" in chips, f"the year chip: {chips}"
    assert len(chips) == 3, f"one chip per active filter: {chips}"
    html = render_turn(0, Turn(question=PERU, answer=_answer(), filters=filters), L)
    assert html.count('class="chip"') == 3, "the answer shows each chip"
    assert filter_chips(Filters(), L) == [], "no filter, no chip"
    assert 'class="chip"' not in render_turn(0, Turn(question=PERU, answer=_answer()), L), (
        "an unfiltered answer shows none"
    )


@pytest.mark.parametrize("lang", ["en", "fr"])
def test_a_filter_that_removes_what_the_question_names_is_said_instead_of_a_refusal(lang):
    L = Labels(lang)
    turn = Turn(
        question=PERU, answer=_answer(abstained=True, language=lang), filters=Filters(years=[2013]), excluded=["PE"]
    )
    html = render_turn(3, turn, L)
    peru = "Peru" if lang == "en" else "Pérou"
    sentence = prompts.text(lang, "filters.excluded", filters=f"{L('filters.year')}: 2013", what=peru)
    assert 'class="filtered"' in html, "the filter notice is shown"
    assert "abstain" not in html and L("answer.not_in_corpus") not in html, (
        "the answer must not claim the corpus lacks what the filter removed"
    )
    assert sentence in unescape(html), f"the sentence of prompts/{lang}.toml is said: {sentence}"
    assert 'href="#refilter-3"' in html, "it offers to clear the filters and ask again"
    answered = render_turn(
        0, Turn(question=PERU, answer=_answer(language=lang), filters=Filters(countries=["TH"]), excluded=["PE"]), L
    )
    assert answered.index('class="filtered"') < answered.index('class="answer"'), (
        "an answer that survives the filter is shown after the warning"
    )


@pytest.mark.parametrize("lang", ["en", "fr"])
def test_bad_input_is_told_in_the_interface_language_and_empty_input_says_nothing(lang):
    L = Labels(lang)
    assert input_problem("   ", 2000, L) == "", "an empty box sends nothing and says nothing"
    too_long = input_problem("x" * 2001, 2000, L)
    assert "2001" in too_long and "2000" in too_long, f"the over-long message gives both figures: {too_long}"
    assert input_problem("¿Cómo adaptó Perú su formación?", 2000, L) == L("input.other_language"), (
        "a Spanish question gets 'please ask in French or English' in the interface language"
    )
    assert input_problem("Wie hat Peru seine Ausbildung angepasst?", 2000, L) == L("input.other_language"), "German too"
    assert input_problem(PERU, 2000, L) is None, "an English question is sent"
    assert input_problem("Comment le Pérou a-t-il adapté sa formation ?", 2000, L) is None, "a French question is sent"
    assert ("French or English" in L("input.other_language")) == (lang == "en"), (
        "the message is in the interface language"
    )


def test_the_export_gives_each_quote_once_with_the_original_address():
    L = Labels("en")
    turn = Turn(question=PERU, answer=_answer(), urls={"en/a.txt": "https://example.org/peru"})
    text = export_markdown([turn], L)
    assert text.count(QUOTE) == 1, f"a quote the answer already gives is not printed again:\n{text}"
    assert text.count(OTHER) == 1, "a cited quote the answer text does not hold is printed under its source"
    assert "<https://example.org/peru>" in text, "the source's original address is in the export"
    filtered = export_markdown(
        [Turn(question=PERU, answer=_answer(abstained=True), filters=Filters(years=[2013]), excluded=["PE"])], L
    )
    assert "leave out every passage about Peru" in filtered, "the export says what the filters left out"


def test_sources_show_their_original_address_only_when_it_is_a_web_address():
    assert source_url("https://www.mieux-initiative.eu/en/actions/77-peru-i-thb") is not None, (
        "an https address is kept"
    )
    assert source_url("text extracted from the case-study PDF") is None, "a description is no address"
    assert source_url("javascript:alert(1)") is None, "only http(s) addresses become links"
    L = Labels("en")
    html = render_turn(0, Turn(question=PERU, answer=_answer(), urls={"en/a.txt": "https://example.org/peru"}), L)
    assert 'href="https://example.org/peru"' in html and 'rel="noopener noreferrer"' in html, (
        "the citation links to the original, in a new tab without handing it the page"
    )


def test_messages_hold_one_reply_per_turn_and_the_first_source_opens():
    L = Labels("en")
    turns = [Turn(question=PERU, answer=_answer()), Turn(question="Why?", error="The index is missing.")]
    shown = messages(turns, L)
    assert [m["role"] for m in shown] == ["user", "assistant"] * 2, "a question and its reply, per turn"
    assert "failure" in shown[-1]["content"], "an error is shown as an error box"
    assert first_source(turns[:1]) == "cite-0-1", "the first source of the last answer opens at once"
    assert first_source(turns) is None, "an error opens no source"
    assert find_citation(turns, "cite-0-2").quote == OTHER, "a citation key finds its citation"
    assert find_citation(turns, "cite-9-1") is None, "a key of no turn finds nothing"


def test_practice_cards_lead_with_their_sentence_and_open_in_the_source_panel():
    L = Labels("fr")
    lead = _citation(0, QUOTE)
    group = explore.PracticeGroup(
        action="MIEUX Peru III",
        countries=["PE"],
        years="2019-2021",
        themes=["training"],
        score=1.0,
        passages=[_citation(1, QUOTE + " More."), _citation(2, OTHER)],
        lead=lead,
    )
    html = render_practices([group], L, excluded="Ghana")
    assert html.index("practice-lead") < html.index("practice-h"), "the card leads with the practice sentence"
    assert "MIEUX Peru III — Pérou" in html, "it names its action and the country it was carried out in (in French)"
    assert 'href="#prac-0-0"' in html and 'href="#prac-0-2"' in html, "the lead and every passage open in the panel"
    assert find_practice([group], "prac-0-0") is lead and find_practice([group], "prac-0-2").quote == OTHER, (
        "a card's link finds its passage"
    )
    assert find_practice([group], "prac-5-1") is None, "a key of no card finds nothing"
    assert "Ghana" in html, "the countries left out are said"


@pytest.mark.slow
def test_the_source_panel_gives_the_original_address(shipped):
    docs = shipped.documents()
    doc_id = next(d for d, doc in docs.items() if source_url(doc.source))
    text = shipped.document_text(doc_id)
    c = Citation(
        n=1,
        source=doc_id,
        title=docs[doc_id].title,
        section=None,
        action=None,
        countries=[],
        quote=text[:60],
        score=1.0,
        language=docs[doc_id].language,
        start=0,
        end=60,
    )
    html = render_source(shipped, c, Labels("en"))
    assert f'href="{docs[doc_id].source}"' in html, "the panel links to the document's original address"
    seed = render_source(
        shipped,
        Citation(
            n=1, source=PERU_CASE_STUDY, title="x", section=None, action=None, countries=[], quote="Pérou", score=1.0
        ),
        Labels("en"),
    )
    assert "original" not in seed.lower(), "a document whose manifest gives no address shows none"


@pytest.mark.slow
def test_filter_exclusions_name_what_the_filter_removed(shipped):
    assert shipped.filter_exclusions(PERU, Filters(years=[2013])) == ["PE"], "no passage of 2013 is about Peru"
    assert shipped.filter_exclusions("Comment le Pérou a-t-il adapté sa formation ?", Filters(years=[2013])) == [
        "PE"
    ], "the same in French"
    assert shipped.filter_exclusions(PERU, Filters(countries=["TH"])) == ["PE"], "the Thailand filter leaves Peru out"
    assert shipped.filter_exclusions(PERU, Filters(countries=["PE"])) == [], "a filter on Peru itself removes nothing"
    assert shipped.filter_exclusions(PERU, Filters()) == [], "no filter, nothing removed"
    assert shipped.filter_exclusions("What did Norway do?", Filters(years=[2013])) == [], (
        "a country the corpus never documents is not blamed on the filter"
    )


@pytest.mark.slow
def test_a_coverage_cell_opens_its_passages(shipped):
    cov = explore.coverage(shipped)
    L = Labels("en")
    col = cov.themes.index("training") + 1
    html = render_cell(shipped, cov, cov.countries.index("PE"), col, L)
    assert html.count("<blockquote>") == min(50, cov.count("PE", "training")), "the cell lists the passages it counts"
    assert f"{cov.count('PE', 'training')} passages about Peru" in html, "and says how many"
    assert "Click a cell" in render_cell(shipped, cov, 0, 0, L), "the country column opens nothing but the hint"
