"""Tests for the tagging stage, on the real corpus texts and MANIFEST titles."""

from __future__ import annotations

import csv
import re
from pathlib import Path

import pycountry
import pytest

from assistant.tag import (
    THEMES,
    country_label,
    country_names,
    document_action,
    expand_terms,
    find_actions,
    find_countries,
    find_themes,
    find_years,
    gcm_action,
    load_glossary,
    tag,
    theme_label,
)
from assistant.text import fold
from assistant.types import Action, Tags

CORPUS = Path(__file__).resolve().parent.parent / "corpus"
PERU_CASE_STUDY = "seeds/000_c0f20d1b9c390d7f.txt"
GCM_OBJECTIVE_9_FR = "seeds/001_1b1519af3c0dff5a.txt"
RABAT_PORTO_REPORT = "seeds/002_e7beff1b5469f5c6.txt"
SIX_WAYS_FR = "seeds/003_d73156507459c17b.txt"
ANNUAL_REPORT_2018 = "seeds/004_7b772109f36aa110.txt"


def corpus_text(doc_id: str) -> str:
    return (CORPUS / doc_id).read_text(encoding="utf-8")


def manifest_title(doc_id: str) -> str:
    with (CORPUS / "MANIFEST.tsv").open(encoding="utf-8") as f:
        titles = {row["file"]: row["title"] for row in csv.DictReader(f, delimiter="\t")}
    return titles[doc_id]


def line_with(doc_id: str, needle: str) -> str:
    """The first line of a corpus file containing `needle`, so tests quote the corpus itself."""
    for line in corpus_text(doc_id).splitlines():
        if needle in line:
            return line
    raise AssertionError(f"{needle!r} is no longer in corpus/{doc_id}; update the test")


def corpus_passages() -> list[tuple[str, str]]:
    """(doc_id, passage) for every passage-sized run of paragraphs (~400-800 characters)."""
    passages = []
    for path in sorted(CORPUS.rglob("*.txt")):
        doc_id = path.relative_to(CORPUS).as_posix()
        buf = ""
        for para in re.split(r"\n\s*\n", path.read_text(encoding="utf-8")):
            buf = f"{buf} {para}".strip()
            if len(buf) > 400:
                passages.append((doc_id, buf))
                buf = ""
        if buf:
            passages.append((doc_id, buf))
    return passages


# --- fold --------------------------------------------------------------------


def test_fold_strips_accents_case_and_curly_apostrophes():
    assert fold("L’Équateur, le Pérou") == "l'equateur, le perou", "lowercase, no accents, straight '"
    assert fold("main-d’œuvre") == "main-d'oeuvre", "fold must spell out the œ ligature so BM25 matches 'oeuvre'"


# --- countries ---------------------------------------------------------------


def test_peru_case_study_mentions_peru_chile_ecuador():
    codes = find_countries(corpus_text(PERU_CASE_STUDY))
    assert {"PE", "CL", "EC"} <= set(codes), f"the Peru case study names Peru, Chile and Ecuador; got {codes}"
    assert codes[0] == "PE", f"Peru is the first country the case study names; got {codes[0]}"


def test_jordan_in_french_and_english():
    fr = line_with(SIX_WAYS_FR, "Jordanie")
    en = line_with("en/mieux_action_jordan_ii_thb_en.txt", "Jordan is a country")
    assert find_countries(fr) == ("JO",), f"'Jordanie' must be JO in {fr!r}"
    assert find_countries(en) == ("JO",), f"'Jordan' must be JO in {en!r}"


def test_timor_oriental_and_timor_leste():
    fr = line_with(SIX_WAYS_FR, "Timor oriental")
    en = line_with("en/mieux_action_timor_leste_ii_thb_en.txt", "Timor-Leste is a small state")
    assert find_countries(fr) == ("TL",), f"'Timor oriental' must be TL in {fr!r}"
    assert find_countries(en) == ("TL",), f"'Timor-Leste' must be TL in {en!r}"
    assert find_countries("East Timor") == ("TL",), "'East Timor' must be TL"


def test_cote_d_ivoire_spellings():
    straight = line_with("en/rabat_process_news_start40_porto2015_en.txt", "co-chaired by Côte d'Ivoire")
    unaccented = line_with("en/rabat_process_thematic_meetings_abidjan2019_smuggling_en.txt", "Cote d'Ivoire")
    assert "CI" in find_countries(straight), f"'Côte d'Ivoire' must be CI in {straight!r}"
    assert "CI" in find_countries(unaccented), f"'Cote d'Ivoire' (no accent) must be CI in {unaccented!r}"
    assert find_countries("la Côte d’Ivoire et l'Ivory Coast") == ("CI",), "curly apostrophe and English name are CI"


def test_niger_is_not_nigeria():
    niger = line_with(RABAT_PORTO_REPORT, "Le Niger et le Mali")
    nigeria = line_with("en/icmpd_news_lagos2025_khartoum_rabat_niamey_thb_som_en.txt", "Lagos, Nigeria")
    assert find_countries(niger) == ("NE", "ML", "LY", "DZ"), f"Niger, Mali, Libya, Algeria expected in {niger!r}"
    assert "NE" not in find_countries(nigeria), f"'Nigeria' must not also count as Niger in {nigeria!r}"
    assert "NG" in find_countries(nigeria), f"'Nigeria' must be NG in {nigeria!r}"


def test_whole_words_only():
    assert find_countries("Une indemnité est prévue.") == (), "'Inde' must not match inside 'Indemnité'"
    assert find_countries("La coopération avec l'Inde.") == ("IN",), "'l'Inde' is India"
    assert find_countries("A woman from Oman.") == ("OM",), "'Oman' matches as a word, never inside 'woman'"
    assert find_countries("the oman case") == (), "lower-case 'oman' is not the country"
    assert find_countries("Us and them: tell us more.") == (), "'us' and 'Us' are pronouns"
    assert find_countries("Tell us about the US and the UK.") == ("US", "GB"), "'US' and 'UK' in capitals"


def test_guinea_variants_do_not_collapse():
    assert find_countries("la Guinée équatoriale") == ("GQ",), "'Guinée équatoriale' is GQ, not GN"
    assert find_countries("en Guinée-Bissau") == ("GW",), "'Guinée-Bissau' is GW, not GN"
    assert find_countries("en Guinée et au Sénégal") == ("GN", "SN"), "'Guinée' alone is GN"
    assert find_countries("Papua New Guinea") == ("PG",), "'Papua New Guinea' is PG, not GN"
    assert find_countries("the island of New Guinea") == (), "'New Guinea' is an island, not Guinea"
    assert find_countries("l'île de Nouvelle-Guinée") == (), "'Nouvelle-Guinée' is an island, not Guinée"


def test_demonyms_are_optional():
    line = line_with(PERU_CASE_STUDY, "contexte péruvien")
    assert find_countries(line) == ("PE",), f"'péruvien' names Peru in {line!r}"
    assert find_countries(line, demonyms=False) == (), "with demonyms=False an adjective alone names no country"
    experts = line_with(PERU_CASE_STUDY, "experts argentins et espagnols")
    assert find_countries(experts) == ("AR", "ES"), f"'argentins et espagnols' are AR and ES in {experts!r}"


def test_common_word_and_person_name_collisions_from_the_corpus():
    meeting = line_with("fr/rabat_process_reunion_conjointe_lagos2025_annonce_fr.txt", "La Réunion Thématique")
    assert "RE" not in find_countries(meeting), f"'La Réunion Thématique' is a meeting, not the island: {meeting!r}"
    speaker = line_with(RABAT_PORTO_REPORT, "Mme Palau")
    assert "PW" not in find_countries(speaker), f"'Mme Palau' is a prosecutor, not Palau: {speaker!r}"
    full_name = line_with(RABAT_PORTO_REPORT, "Carolina Lluch Palau")
    assert "PW" not in find_countries(full_name), f"a surname after a first name is not Palau: {full_name!r}"
    director = line_with("en/icmpd_news_building_bridges_2009_2019_en.txt", "Alejandro Austria")
    assert "AT" not in find_countries(director), f"'Alejandro Austria' is a person: {director!r}"
    cities = line_with("fr/mieux_en_2018_rapport_annuel_news_fr.txt", "Bangkok, Mexico")
    assert "MX" not in find_countries(cities), f"in French 'Mexico' is the capital city: {cities!r}"
    assert find_countries("MIEUX supports Mexico and Peru.") == ("MX", "PE"), "in English 'Mexico' is the country"
    languages = line_with("en/euneighbours_building_bridges_2009_2019_en.txt", "English, French and Spanish")
    assert find_countries(languages) == (), f"language names are not nationalities: {languages!r}"


def test_country_names_and_labels():
    assert country_names("PE") == {"en": ["Peru"], "fr": ["Pérou"]}, "PE names for query expansion"
    assert country_names("pe") == country_names("PE"), "codes are case-insensitive"
    assert country_label("TL") == "Timor-Leste", "English label of TL"
    assert country_label("TL", "fr") == "Timor oriental", "French label of TL"
    assert country_label("CD") == "Democratic Republic of the Congo", "CD label is readable, not inverted"
    assert "East Timor" in country_names("TL")["en"], "aliases are offered for expansion"
    with pytest.raises(ValueError, match="ISO 3166-1 alpha-2"):
        country_label("XX")


# --- years -------------------------------------------------------------------


def test_years_and_ranges():
    title = manifest_title(PERU_CASE_STUDY)
    assert find_years(title) == (2017, 2018), f"'(2017-2018)' in {title!r} gives both years"
    decree = line_with(PERU_CASE_STUDY, "Décret suprême")
    assert find_years(decree) == (2018,), f"the year inside 'N° 008-2018-IN' counts: {decree!r}"
    assert find_years("Plan 2016-2020") == (2016, 2017, 2018, 2019, 2020), "a range gives every year in it"
    assert find_years("en 1985, puis 2045, et 12019") == (), "years outside 1990-2039 or inside numbers are ignored"


# --- themes ------------------------------------------------------------------


def test_themes_of_the_peru_landing_page():
    themes = find_themes(corpus_text("fr/mieux_etude_de_cas_perou_landing_fr.txt"))
    for slug in ("smuggling", "training", "policy_legislation", "cooperation", "border_management"):
        assert slug in themes, (
            f"the Peru landing page (lignes directrices, manuel de formation, trafic de migrants, "
            f"transfrontalière) must have theme {slug}; got {themes}"
        )


def test_theme_precision():
    assert find_themes("le traité de Lisbonne") == (), "'traité' (treaty) is not 'traite' (trafficking)"
    assert find_themes("la traite des personnes") == ("trafficking",), "'traite des personnes' is trafficking"
    assert "data_research" not in find_themes("une visite d'étude"), "'visite d'étude' is a study visit, not research"
    assert find_themes("la lutte contre la TP") == ("trafficking",), "'TP' abbreviates traite des personnes"
    assert "asylum" in find_themes("Protection internationale et asile"), "asylum theme"
    assert theme_label("smuggling", "fr") == "Trafic de migrants", "French label of smuggling"
    assert set(THEMES) >= {"trafficking", "smuggling", "training", "victim_protection"}, "taxonomy slugs are stable"


# --- actions -----------------------------------------------------------------


def test_peru_iii_same_action_in_both_languages():
    fr = find_actions(line_with("fr/mieux_action_perou_iii_fr.txt", "Pérou III"))
    en = find_actions("Building on Peru III, MIEUX supported the DGSD.")
    expected = Action(name="MIEUX Peru III", kind="mieux", countries=("PE",))
    assert fr == (expected,), f"'Pérou III' must be the Peru III action; got {fr}"
    assert en == (expected,), f"'Peru III' must be the same action as 'Pérou III'; got {en}"


def test_country_actions_from_the_corpus():
    thailand = find_actions(line_with("en/mieux_action_thailand_ii_thb_en.txt", "Thailand II is"))
    assert [a.name for a in thailand] == ["MIEUX Thailand II"], f"Thailand II action; got {thailand}"
    case_study = find_actions(corpus_text(PERU_CASE_STUDY), doc_title=manifest_title(PERU_CASE_STUDY))
    assert case_study[0] == Action("MIEUX Peru (2017-2018)", "mieux", ("PE",), "2017-2018"), (
        f"'Pérou (2017-2018)' heads the case study; got {case_study}"
    )
    names = [a.name for a in find_actions("MIEUX III, la Phase III, le Programme de Rome et l'Objectif 9")]
    assert not [n for n in names if n.startswith("MIEUX")], f"phases and programmes are not country actions: {names}"
    assert find_actions("In Peru I met the minister.") == (), "the pronoun 'I' is not action number one"


def test_iberred():
    line = line_with("en/mieux_action_iberred_en.txt", "The IberRed Network requested")
    assert find_actions(line) == (Action("MIEUX IberRed", "mieux"),), f"IberRed is a MIEUX action in {line!r}"


def test_gcm_objective_and_action_in_both_languages():
    expected = gcm_action(9, "b")
    assert expected.name == "GCM Objective 9, action b", "canonical GCM action name"
    assert find_actions("GCM Objective 9, action b: use transnational mechanisms") == (expected,), "English form"
    assert find_actions("l'Objectif 9 du Pacte mondial, action b) : échanger des informations") == (expected,), (
        "French form with words between objective and action"
    )
    assert find_actions("Objectif 9 : renforcer l'action transnationale") == (gcm_action(9),), "objective alone"
    assert find_actions("Objective 8 and Objective 9, action b") == (gcm_action(8), gcm_action(9, "b")), (
        "the letter belongs to the nearest objective before it"
    )
    with pytest.raises(ValueError, match="objectives 1 to 23"):
        gcm_action(24)


def test_national_and_regional_plans():
    line = line_with(PERU_CASE_STUDY, "Plan d’action national de lutte contre la TP")
    plans = [a for a in find_actions(line, doc_title=manifest_title(PERU_CASE_STUDY)) if a.kind == "plan"]
    assert plans == [Action("National Action Plan against THB (Peru)", "plan", ("PE",))], (
        f"the Peruvian plan against trafficking; got {plans}"
    )
    en = find_actions(corpus_text("en/mieux_action_peru_i_thb_en.txt"))
    assert Action("National Action Plan against THB (Peru)", "plan", ("PE",)) in en, (
        f"'National Action Plan on THB' in the Peru I page is the same plan; got {en}"
    )
    work = [a for a in find_actions(corpus_text(GCM_OBJECTIVE_9_FR)) if a.kind == "plan"]
    assert work and work[0].years == "2019-2025", f"the RCM work plan on smuggling 2019-2025; got {work}"
    rabat = {a.name for a in find_actions(corpus_text(RABAT_PORTO_REPORT))}
    assert "EU Action Plan against migrant smuggling" in rabat, f"'Plan d'Action de l'UE contre le trafic'; got {rabat}"


@pytest.mark.parametrize(
    ("doc_id", "name", "countries", "years"),
    [
        ("en/mieux_action_peru_i_thb_en.txt", "MIEUX Peru I", ("PE",), "2012-2016"),
        ("fr/mieux_action_perou_iii_fr.txt", "MIEUX Peru III", ("PE",), "2016-2020"),
        (PERU_CASE_STUDY, "MIEUX Peru (2017-2018)", ("PE",), "2017-2018"),
        ("en/mieux_action_jordan_ii_thb_en.txt", "MIEUX Jordan II", ("JO",), "2016-2020"),
        ("en/mieux_action_thailand_ii_thb_en.txt", "MIEUX Thailand II", ("TH",), "2016-2020"),
        ("en/mieux_action_timor_leste_ii_thb_en.txt", "MIEUX Timor-Leste II", ("TL",), None),
        ("en/mieux_action_iberred_en.txt", "MIEUX IberRed", (), "2017-2018"),
        (GCM_OBJECTIVE_9_FR, "GCM Objective 9", (), None),
        ("en/gcm_objective9_hub_counter_smuggling_en.txt", "GCM Objective 9", (), None),
        ("en/gcm_ares73195_page18_objective9_en.txt", "GCM Objective 9", (), None),
    ],
)
def test_document_action_from_manifest_titles(doc_id, name, countries, years):
    title = manifest_title(doc_id)
    action = document_action(title, corpus_text(doc_id))
    assert action is not None, f"{title!r} names an action"
    assert (action.name, action.countries, action.years) == (name, countries, years), f"action of {title!r}"


@pytest.mark.parametrize(
    "doc_id", [SIX_WAYS_FR, RABAT_PORTO_REPORT, ANNUAL_REPORT_2018, "en/mieux_phase_iii_review_2016_2020_en.txt"]
)
def test_documents_about_no_single_action(doc_id):
    title = manifest_title(doc_id)
    assert document_action(title, corpus_text(doc_id)) is None, f"{title!r} is not about one action"


# --- tag ---------------------------------------------------------------------


def test_tag_combines_everything():
    title = manifest_title(PERU_CASE_STUDY)
    tags = tag(corpus_text(PERU_CASE_STUDY), doc_title=title)
    assert isinstance(tags, Tags), "tag returns the shared Tags record"
    assert tags.countries[0] == "PE", f"Peru first; got {tags.countries}"
    assert tags.actions[0].name == "MIEUX Peru (2017-2018)", f"the case study's action first; got {tags.actions}"
    assert 2017 in tags.years and 2018 in tags.years, f"action years; got {tags.years}"
    assert {"smuggling", "training"} <= set(tags.themes), f"smuggling and training themes; got {tags.themes}"


def test_tag_every_corpus_passage():
    passages = corpus_passages()
    assert len(passages) > 300, f"the corpus yields passage-sized paragraphs; got {len(passages)}"
    codes = {c.alpha_2 for c in pycountry.countries}
    seen_countries: set[str] = set()
    for doc_id, text in passages:
        tags = tag(text, doc_title=manifest_title(doc_id))
        assert set(tags.countries) <= codes, f"only ISO alpha-2 codes in {doc_id}: {tags.countries}"
        assert set(tags.themes) <= set(THEMES), f"only taxonomy slugs in {doc_id}: {tags.themes}"
        assert all(1990 <= y <= 2039 for y in tags.years), f"years in range in {doc_id}: {tags.years}"
        assert all(a.kind in ("mieux", "gcm", "plan") for a in tags.actions), f"action kinds in {doc_id}"
        seen_countries.update(tags.countries)
    assert {"PE", "JO", "TH", "TL", "GH", "MA", "NE", "NG"} <= seen_countries, (
        f"the corpus's partner countries are all found; got {sorted(seen_countries)}"
    )


# --- glossary and expansion --------------------------------------------------


def test_glossary_is_bilingual_and_grounded_in_the_corpus():
    rows = load_glossary()
    assert len(rows) >= 80, f"at least 80 glossary rows; got {len(rows)}"
    assert all(fr and en for fr, en in rows), "every row has French and English terms"
    corpus = " ".join(path.read_text(encoding="utf-8") for path in CORPUS.rglob("*.txt"))
    words = " " + " ".join(re.findall(r"\w+", fold(corpus))) + " "

    def attested(term: str) -> bool:
        return " " + " ".join(re.findall(r"\w+", fold(term))) + " " in words

    grounded = [row for row in rows if any(attested(t) for t in row[0] + row[1])]
    assert len(grounded) >= 0.9 * len(rows), f"glossary terms come from the corpus; {len(grounded)}/{len(rows)} do"


def test_expand_english_question_to_french():
    terms = expand_terms("How did Peru adapt its training?", "fr")
    assert "Pérou" in terms, f"Peru -> Pérou; got {terms}"
    assert "formation" in terms, f"training -> formation; got {terms}"
    assert "adapté" in terms, f"adapt -> adapté; got {terms}"


def test_expand_french_question_to_english():
    terms = expand_terms("Comment le Pérou a-t-il adapté sa formation ?", "en")
    assert "Peru" in terms, f"Pérou -> Peru; got {terms}"
    assert "training" in terms, f"formation -> training; got {terms}"
    assert "Pérou" not in terms, f"only the other language's terms come back; got {terms}"


def test_expansion_respects_acronym_case():
    # a pipeline may expand every question both ways: French 'eu' (had) then meets the English side's 'EU'
    assert "Union européenne" not in expand_terms("Le Pérou a eu des difficultés.", "fr"), "'eu' is not the EU"
    assert "EU" in expand_terms("Les États membres de l'UE", "en"), "'UE' is the EU"
    assert "THB" in expand_terms("la lutte contre la TP", "en"), "'TP' expands to the trafficking terms"
    with pytest.raises(ValueError, match="'en' or 'fr'"):
        expand_terms("x", "de")


def test_acronyms_stand_for_the_words_of_their_phrase():
    from assistant.tag import acronyms_for

    assert {"SOPs", "POS"} <= set(acronyms_for("procédures")), "standard operating procedures"
    assert {"SOPs", "POS"} <= set(acronyms_for("Procedures")), "in either language and case"
    assert acronyms_for("participants") == (), "a word in no phrase with an acronym has none"
