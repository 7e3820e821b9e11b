"""Comparable practices (similar) leave out the picked action's country; coverage counts passages per country
and theme."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from assistant import explore
from assistant.cli import app as cli_app
from assistant.errors import BadQuestion

pytestmark = pytest.mark.slow

PERU_ACTION = "MIEUX Peru (2017-2018)"


def _where(c) -> set[str]:
    return set(c.countries)


def test_similar_to_an_action_leaves_out_its_country_and_its_action(shipped):
    assert PERU_ACTION in explore.actions(shipped), "the Peru case study's action must be in the index"
    own_countries = {c for p in shipped.retriever.passages if p.action == PERU_ACTION for c in p.action_countries}
    assert own_countries == {"PE"}, f"the Peru action must be tagged with Peru, got {own_countries}"
    groups = explore.similar(shipped, action=PERU_ACTION, k=10)
    assert groups, "the corpus holds practices of other actions comparable to the Peru case study"
    by_id = {p.id: p for p in shipped.retriever.passages}
    for g in groups:
        assert g.action != PERU_ACTION, "the picked action must not be offered as comparable to itself"
        assert "PE" not in g.countries, f"group {g.action} is about Peru, the picked action's own country"
        for c in g.passages:
            p = by_id[c.passage_id]
            assert "PE" not in set(p.countries) | set(p.action_countries), f"passage {p.id} is about Peru"
            assert p.action is None or not p.action.startswith("MIEUX Peru"), f"passage {p.id} belongs to a Peru action"
    assert sum(len(g.passages) for g in groups) <= 10, "k bounds the number of passages"
    assert [g.score for g in groups] == sorted((g.score for g in groups), reverse=True), "groups must come best first"


def test_similar_passages_are_verbatim_and_grouped_by_action(shipped):
    groups = explore.similar(shipped, text="training manual for border officials on migrant smuggling", k=12)
    assert groups, "a description of a documented practice must find comparable practices"
    for g in groups:
        assert all(c.action == g.action for c in g.passages), "a group must hold only its own action's passages"
        assert len(g.passages) <= explore.MAX_PER_GROUP, "one action must not fill the page"
        for c in g.passages:
            text = shipped.document_text(c.source)
            assert text[c.start : c.end] == c.quote, f"the quote of {c.passage_id} must be the document text, verbatim"
    actions = [g.action for g in groups]
    assert len(actions) == len(set(actions)), "each action must appear in one group only"


def test_a_description_naming_a_country_leaves_that_country_out(shipped):
    groups = explore.similar(shipped, text="How Peru trained border police against migrant smuggling", k=10)
    assert groups, "practices from elsewhere must be found"
    for g in groups:
        for c in g.passages:
            assert "PE" not in _where(c), f"{c.passage_id} is about Peru, which the description names"
    assert explore.excluded(shipped, "How Peru trained border police", None)[1] == {"PE"}, (
        "the excluded country must be Peru"
    )


def test_country_and_theme_filters_keep_only_matching_practices(shipped):
    by_id = {p.id: p for p in shipped.retriever.passages}
    groups = explore.similar(shipped, action=PERU_ACTION, countries=["TH"], themes=["victim_protection"], k=8)
    assert groups, "the corpus documents victim protection in Thailand"
    for g in groups:
        for c in g.passages:
            p = by_id[c.passage_id]
            assert "TH" in set(p.countries) | set(p.action_countries), f"{p.id} is not about Thailand"
            assert "victim_protection" in p.themes, f"{p.id} is not about victim protection"


def test_similar_needs_a_description_or_a_known_action(shipped):
    with pytest.raises(BadQuestion, match="neither"):
        explore.similar(shipped)
    with pytest.raises(BadQuestion, match="Unknown action 'MIEUX Atlantis I'"):
        explore.similar(shipped, action="MIEUX Atlantis I")


def test_coverage_counts_practices_where_they_were_carried_out(shipped):
    cov = explore.coverage(shipped)
    passages = shipped.retriever.passages
    where = {p.id: explore.carried_out_in(p) for p in passages}
    peru_training = [p for p in passages if "PE" in where[p.id] and "training" in p.themes]
    assert cov.count("PE", "training") == len(peru_training) > 0, (
        "Peru's training must count every practice carried out there"
    )
    assert cov.totals["PE"] == sum(1 for p in passages if "PE" in where[p.id]), (
        "a country's total counts each passage once"
    )
    of_an_action = [p for p in passages if p.action and p.action_countries]
    assert of_an_action, "the corpus holds passages of actions with a known country"
    assert all(where[p.id] == set(p.action_countries) for p in of_an_action), (
        "a passage of an action counts for the action's countries only, not for every country it names"
    )
    assert cov.countries[0] == "PE", "Peru, the subject of the case study, must be the most documented country"
    assert cov.count("PE", "no-such-theme") == 0, "an unknown pair counts zero"
    table = cov.table()
    assert len(table) == len(cov.countries) and all(len(r) == len(cov.themes) for r in table), (
        "the table must be countries × themes"
    )
    assert all(cov.count(c, t) == 0 for c, t in cov.thin()), "thin pairs are those without a passage"
    assert len(cov.thin()) > 0, "a corpus of 40 documents cannot cover every country and theme"
    assert json.loads(json.dumps(cov.to_json()))["counts"]["PE"]["training"] == cov.count("PE", "training"), (
        "the JSON view must carry the same counts"
    )
    cell = explore.cell_passages(shipped, "PE", "training", limit=1000)
    assert len(cell) == cov.count("PE", "training"), "a cell opens exactly the passages it counts"
    for c in cell[:5]:
        assert shipped.document_text(c.source)[c.start : c.end] == c.quote, (
            "a cell's passage is the document text, verbatim"
        )


def test_my_country_is_always_left_out(shipped):
    text = "training border guards to identify victims of trafficking"
    before = explore.similar(shipped, text=text, k=12)
    assert any("TH" in g.countries for g in before), "the test needs a search that finds Thailand's practices"
    groups = explore.similar(shipped, text=text, k=12, mine=["TH"])
    assert groups, "practices from elsewhere must still be found"
    by_id = {p.id: p for p in shipped.retriever.passages}
    for g in groups:
        assert "TH" not in g.countries, f"group {g.action} is about Thailand, the user's own country"
        for c in g.passages:
            p = by_id[c.passage_id]
            assert "TH" not in set(p.countries) | set(p.action_countries), f"{p.id} is about Thailand"
    assert "TH" in explore.excluded(shipped, text, None, ["TH"])[1], "the user's country is listed as left out"


def test_each_group_leads_with_a_sentence_of_its_own_passages(shipped):
    groups = explore.similar(shipped, text="training manual for border officials on migrant smuggling", k=10)
    assert groups, "a documented practice must find comparable practices"
    for g in groups:
        lead = g.lead
        assert lead is not None, f"group {g.action} must lead with a sentence"
        assert any(lead.passage_id == c.passage_id for c in g.passages), (
            "the lead comes from one of the group's passages"
        )
        assert shipped.document_text(lead.source)[lead.start : lead.end] == lead.quote, (
            "the lead is verbatim at its offsets, so it opens highlighted in the source panel"
        )
    leads = [g.lead.quote for g in groups]
    assert all("\n" not in q and len(q.split()) >= explore.LEAD_MIN_WORDS for q in leads), (
        f"leads are sentences, not labels, status lines or lists of fields: {leads}"
    )
    whole = [q for q in leads if q.rstrip('»”")')[-1] in ".!?…"]
    assert len(whole) * 2 >= len(leads), f"most leads are whole sentences (a passage's cut may end one): {leads}"


def test_similar_command_prints_json(shipped):
    result = CliRunner().invoke(
        cli_app,
        [
            "similar",
            "awareness campaigns about the dangers of irregular migration",
            "--theme",
            "awareness",
            "--json",
            "--index",
            str(shipped.settings.paths.index),
            "-k",
            "5",
        ],
    )
    assert result.exit_code == 0, f"`assistant similar --json` must succeed: {result.output}"
    groups = json.loads(result.stdout)
    assert groups, "awareness campaigns are documented in the corpus"
    assert all("awareness" in g["themes"] for g in groups), "--theme must keep only that theme"
    assert all(p["quote"] for g in groups for p in g["passages"]), "every passage must carry its quote"


def test_similar_command_leaves_out_my_country(shipped):
    result = CliRunner().invoke(
        cli_app,
        [
            "similar",
            "training border guards to identify victims of trafficking",
            "--my-country",
            "Thailand",
            "--json",
            "--index",
            str(shipped.settings.paths.index),
            "-k",
            "8",
        ],
    )
    assert result.exit_code == 0, f"`assistant similar --my-country` must succeed: {result.output}"
    groups = json.loads(result.stdout)
    assert groups and all("TH" not in g["countries"] for g in groups), "--my-country leaves Thailand out"
    assert all(g["lead"] for g in groups), "every group carries its lead sentence"
