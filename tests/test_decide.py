"""The answerability decision on hand-built passages: one test per kind of constraint and per class
of question, in English and French. No model, no index: the decision reads words, not vectors."""

from __future__ import annotations

from pathlib import Path

import pytest

from assistant import decide, resources
from assistant.text import lower_unaccented, words
from assistant.types import Evidence, Known, Passage


def passage(
    text: str,
    *,
    lang: str = "en",
    title: str = "A page",
    section: str | None = None,
    countries=(),
    action: str | None = None,
    action_countries=(),
    doc: str = "doc.txt",
    ordinal: int = 0,
    window: str | None = None,
) -> Passage:
    return Passage(
        id=f"{doc}#{ordinal}",
        doc_id=doc,
        title=title,
        language=lang,
        year=None,
        section=section,
        text=text,
        start=0,
        end=len(text),
        window=text if window is None else window,
        countries=tuple(countries),
        action=action,
        action_countries=tuple(action_countries),
        ordinal=ordinal,
    )


def judge(question: str, passages: list[Passage], lang: str | None = None, extra_known: str = "") -> decide.Decision:
    """The decision for `question` over `passages` (all of them evidence; the corpus is them plus `extra_known`)."""
    evidence = [Evidence(passage=p, score=1.0 - n / 10, rank=n) for n, p in enumerate(passages)]
    vocabulary = {lower_unaccented(w) for p in passages for w in words(f"{p.text} {p.title} {extra_known}")}
    known = Known(
        countries=frozenset(c for p in passages for c in p.countries + p.action_countries),
        actions=frozenset(p.action for p in passages if p.action),
        vocabulary=frozenset(vocabulary),
    )
    return decide.decide(decide.read_question(question, lang), evidence, known, min_coverage=0.2)


PERU_III = passage(
    "MIEUX supported the development of intersectoral guidelines and a training manual for officials "
    "working at the borders with Chile and Ecuador.",
    title="MIEUX Peru III",
    countries=("PE", "CL", "EC"),
    action="MIEUX Peru III",
    action_countries=("PE",),
)
PERU_III_FR = passage(
    "MIEUX a soutenu l'élaboration de directives intersectorielles et d'un manuel de formation pour les "
    "fonctionnaires travaillant aux frontières avec le Chili et l'Équateur.",
    lang="fr",
    title="MIEUX Pérou III",
    countries=("PE", "CL", "EC"),
    action="MIEUX Peru III",
    action_countries=("PE",),
)


# -- the entity is documented, the thing asked about it is not ---------------------------------------


@pytest.mark.parametrize(
    "question, lang, kind",
    [
        ("What was the budget of MIEUX Peru III?", "en", "money"),
        ("Quel était le budget de MIEUX Pérou III ?", "fr", "money"),
        ("How much did MIEUX Peru III cost?", "en", "money"),
        ("Combien a coûté l'action MIEUX Pérou III ?", "fr", "money"),
    ],
)
def test_an_amount_of_money_needs_an_amount(question, lang, kind):
    for evidence in ([PERU_III], [PERU_III_FR]):
        d = judge(question, evidence, lang)
        assert not d.answerable, f"{question!r}: no amount is given, the budget is not documented"
        assert d.missing.kind == kind, f"the missing thing is the amount: {d.missing}"
        assert [c.kind for c in d.documented] == ["country", "action"] or "action" in [c.kind for c in d.documented], (
            f"the action itself is documented: {d.documented}"
        )
    funded = passage(
        "The action MIEUX Peru III had a budget of EUR 250,000, funded by the EU.",
        title="MIEUX Peru III",
        countries=("PE",),
        action="MIEUX Peru III",
        action_countries=("PE",),
    )
    assert judge(question, [funded], lang).answerable, f"{question!r}: an amount in euros answers it"


MEETING = passage(
    "The thematic meeting took place in Porto on 3-4 December 2015. About sixty participants from partner "
    "countries attended, under the co-chairmanship of Portugal and Niger.",
    title="Rabat Process thematic meeting, Porto 2015",
    countries=("PT", "NE"),
)
MEETING_FR = passage(
    "La réunion thématique s'est tenue à Porto les 3 et 4 décembre 2015. Une soixantaine de participants "
    "des pays partenaires y ont assisté, sous la coprésidence du Portugal et du Niger.",
    lang="fr",
    title="Processus de Rabat, réunion thématique, Porto 2015",
    countries=("PT", "NE"),
)


@pytest.mark.parametrize(
    "question, lang",
    [
        ("Who signed the final declaration of the Porto meeting?", "en"),
        ("Qui a signé la déclaration finale de la réunion de Porto ?", "fr"),
        ("What was decided at the Porto meeting?", "en"),
        ("Qu'a-t-il été décidé lors de la réunion de Porto ?", "fr"),
        ("Which recommendations were adopted at the Porto meeting?", "en"),
        ("Quelles recommandations ont été adoptées à la réunion de Porto ?", "fr"),
    ],
)
def test_what_the_question_turns_on_must_be_in_the_context(question, lang):
    # The meeting is documented (place, date, participants, chairs), not what was signed, decided or adopted.
    for evidence in ([MEETING], [MEETING_FR]):
        d = judge(question, evidence, lang)
        assert not d.answerable, f"{question!r} is not answered by {evidence[0].text[:60]!r}"
        assert d.missing.kind in ("predicate", "focus"), f"the missing thing is what is asked: {d.missing}"
        assert any(c.kind == "place" for c in d.documented), f"Porto itself is documented: {d.documented}"


@pytest.mark.parametrize(
    "question, lang",
    [
        ("Who chaired the Porto meeting?", "en"),
        ("Qui a présidé la réunion de Porto ?", "fr"),
        ("Who co-chaired the 2015 meeting in Porto?", "en"),
    ],
)
def test_who_chaired_is_answered_by_a_chairmanship(question, lang):
    # "chaired" / "présidé" and "co-chairmanship" / "coprésidence" are one root, across languages too.
    for evidence in ([MEETING], [MEETING_FR]):
        assert judge(question, evidence, lang).answerable, f"{question!r} is answered by {evidence[0].text[-60:]!r}"


@pytest.mark.parametrize(
    "question, lang",
    [
        ("Why was the MIEUX Peru III action interrupted?", "en"),
        ("Pourquoi l'action MIEUX Pérou III a-t-elle été interrompue ?", "fr"),
        ("Why did MIEUX stop its work in Peru?", "en"),
    ],
)
def test_a_false_premise_is_declined(question, lang):
    for evidence in ([PERU_III], [PERU_III_FR]):
        d = judge(question, evidence, lang)
        assert not d.answerable, f"{question!r}: nothing was interrupted or stopped"
        assert d.missing.kind == "predicate", f"the event asked about is missing: {d.missing}"
    stopped = passage(
        "MIEUX Peru III was interrupted in 2019 because of the pandemic.",
        title="MIEUX Peru III",
        countries=("PE",),
        action="MIEUX Peru III",
        action_countries=("PE",),
    )
    if "interrupt" in question or "interromp" in question:
        assert judge(question, [stopped], lang).answerable, "a passage that says so answers it"


# -- each constraint holds somewhere, never together ---------------------------------------------------


def test_constraints_must_hold_in_one_local_context():
    jordan = passage(
        "In Jordan, MIEUX helped two shelters for victims of trafficking draft their procedures.",
        countries=("JO",),
        doc="a.txt",
    )
    year = passage("In 2019 the annual report counted 15 new actions in Latin America.", doc="b.txt")
    for q, lang in [
        ("What did MIEUX do for shelters in Jordan in 2019?", "en"),
        ("Qu'a fait MIEUX pour les refuges en Jordanie en 2019 ?", "fr"),
    ]:
        d = judge(q, [jordan, year], lang)
        assert not d.answerable, f"{q!r}: Jordan and 2019 are in two unrelated passages"
        assert d.missing.kind == "year", f"the year is what the Jordan passage lacks: {d.missing}"
    dated = passage("In 2019, in Jordan, MIEUX helped two shelters draft their procedures.", countries=("JO",))
    assert judge("What did MIEUX do for shelters in Jordan in 2019?", [dated, year], "en").answerable, (
        "one passage holding both answers"
    )


def test_a_count_needs_a_number_of_the_counted_thing():
    q_en, q_fr = (
        "How many shelters did MIEUX support in Jordan?",
        "Combien de refuges MIEUX a-t-il soutenus en Jordanie ?",
    )
    vague = passage("In Jordan, MIEUX supported shelters for victims of trafficking in Amman.", countries=("JO",))
    counted = passage("In Jordan, MIEUX supported two shelters for victims of trafficking.", countries=("JO",))
    counted_fr = passage(
        "En Jordanie, MIEUX a soutenu deux refuges pour les victimes de la traite.", lang="fr", countries=("JO",)
    )
    for q, lang in [(q_en, "en"), (q_fr, "fr")]:
        d = judge(q, [vague], lang)
        assert not d.answerable and d.missing.kind == "count", f"{q!r}: no number of shelters is given ({d.missing})"
        assert judge(q, [counted], lang).answerable, f"{q!r}: 'two shelters' answers"
        assert judge(q, [counted_fr], lang).answerable, f"{q!r}: 'deux refuges' answers"


# -- the same content in other words: these are answered ----------------------------------------------


@pytest.mark.parametrize(
    "question, lang",
    [
        ("How many people attended the Porto meeting?", "en"),
        ("How many individuals took part in the Porto meeting?", "en"),
        ("Combien de personnes ont assisté à la réunion de Porto ?", "fr"),
        ("En 2015, combien de personnes ont participé à la réunion de Porto ?", "fr"),
        ("In 2015, how many people attended the gathering in Porto?", "en"),
    ],
)
def test_a_count_of_people_is_answered_by_any_word_for_people(question, lang):
    # "About sixty participants" / "Une soixantaine de participants": people, counted approximately.
    for evidence in ([MEETING], [MEETING_FR]):
        d = judge(question, evidence, lang)
        assert d.answerable, f"{question!r} is answered by the participants' number: {d.missing}"


@pytest.mark.parametrize(
    "question, lang",
    [
        ("Did more than 50 participants attend the Porto meeting?", "en"),
        ("Une soixantaine de personnes ont-elles participé à la réunion de Porto ?", "fr"),
    ],
)
def test_approximate_figures_match_near_figures(question, lang):
    for evidence in ([MEETING], [MEETING_FR]):
        assert judge(question, evidence, lang).answerable, f"{question!r}: about sixty is near the figure asked"
    d = judge("Did 500 participants attend the Porto meeting?", [MEETING], "en")
    assert not d.answerable and d.missing.kind == "figure", f"500 is not about sixty: {d.missing}"


@pytest.mark.parametrize(
    "question, lang",
    [
        ("How were border officials in Lima trained?", "en"),
        ("Comment les fonctionnaires péruviens ont-ils été formés ?", "fr"),
        ("What did the Peruvian authorities receive from MIEUX?", "en"),
    ],
)
def test_a_country_named_by_its_city_or_demonym(question, lang):
    for evidence in ([PERU_III], [PERU_III_FR]):
        d = judge(question, evidence, lang)
        assert d.answerable, f"{question!r}: Lima and 'Peruvian' stand for Peru: {d.missing}"
    d = judge("How were border officials in Amman trained?", [PERU_III], "en")
    assert not d.answerable, f"Amman is Jordan's, not Peru's: {d.missing}"


@pytest.mark.parametrize(
    "question, lang, answerable",
    [
        ("What did MIEUX do in Peru in 2014?", "en", True),
        ("Qu'a fait MIEUX au Pérou en 2014 ?", "fr", True),
        ("What did MIEUX do in Peru between 2013 and 2015?", "en", True),
        ("What did MIEUX do in Peru since 2010?", "en", True),
        ("What did MIEUX do in Peru in 2018?", "en", False),
    ],
)
def test_a_year_inside_a_range_written_with_months(question, lang, answerable):
    action = passage(
        "The action ran from July 2012 – August 2016 and trained prosecutors in Peru.",
        countries=("PE",),
        title="MIEUX Peru I",
    )
    d = judge(question, [action], lang)
    assert d.answerable is answerable, f"{question!r} against July 2012 – August 2016: {d.missing}"


@pytest.mark.parametrize(
    "question, lang",
    [
        ("What measures did MIEUX take against trafficking?", "en"),
        ("What publications did MIEUX release?", "en"),
        ("Quels livrables l'action a-t-elle produits ?", "fr"),
        ("What share of the requests came from Africa?", "en"),
        ("What was the main outcome of the action?", "en"),
    ],
)
def test_synonyms_and_derivations_of_the_asked_noun(question, lang):
    sources = [
        passage("MIEUX carried out a series of activities against trafficking in human beings."),
        passage("En 2018, MIEUX a publié un guide sur la traite des personnes.", lang="fr"),
        passage("The action's outputs were a handbook and a training curriculum."),
        passage("In total, 46 % of the requests for assistance came from Africa."),
        passage("The results of the action were a national referral mechanism and trained staff."),
    ]
    extra = "MIEUX Africa"
    d = judge(question, sources, lang, extra_known=extra)
    assert d.answerable, f"{question!r} is answered in other words: {d.missing}"


def test_an_absent_entity_is_named():
    d = judge("What did MIEUX do in Norway in 2030?", [PERU_III], "en")
    assert not d.answerable and d.absent and d.missing.label == "Norway", f"Norway is nowhere: {d.missing}"
    d = judge("Qu'a fait MIEUX lors de la réunion de Dakar ?", [MEETING_FR], "fr")
    assert not d.answerable and d.absent and d.missing.label == "Dakar", f"Dakar is nowhere: {d.missing}"
    d = judge("What were the results of the action MIEUX Peru V?", [PERU_III], "en")
    assert not d.answerable and d.absent and d.missing.kind == "action", f"Peru V does not exist: {d.missing}"


# -- reading questions ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "question, lang, wh",
    [
        ("In 2018, how many participants attended?", "en", "count"),
        ("En 2019, combien d'agents ont été formés ?", "fr", "count"),
        ("What was the total number of participants?", "en", "count"),
        ("Which officials who were trained in Tacna took part?", "en", "which"),
        ("Les agents qui ont été formés à Tacna, que font-ils ?", "fr", "which"),
    ],
)
def test_the_question_word_is_found_anywhere_but_relatives_are_not_questions(question, lang, wh):
    assert decide.read_question(question, lang).wh == wh, f"{question!r} asks '{wh}'"


@pytest.mark.parametrize(
    "question, lang, label",
    [
        ("What was the total budget of the action?", "en", "budget"),
        ("What were the main recommendations of the meeting?", "en", "recommendations"),
        ("Quelles ont été les principales conclusions de la réunion ?", "fr", "conclusions"),
        ("What kind of training did the officials receive?", "en", "training"),
    ],
)
def test_an_adjective_before_the_asked_noun_is_skipped(question, lang, label):
    asked = [c.label for c in decide.read_question(question, lang).constraints if c.kind in ("focus", "money")]
    assert asked == [label], f"{question!r} asks for {label!r}: {asked}"


def test_the_lexicon_examples_read_as_stated():
    lex = decide.lexicon()
    for question, wh in lex["wh"]["examples"]:
        lang = (
            "fr"
            if any(ch in question for ch in "éèàç")
            or question.split()[0] in ("Qui", "Pourquoi", "Quelle", "Comment", "En")
            else "en"
        )
        assert decide.read_question(question, lang).wh == wh, (
            f"resources/question.toml: {question!r} is a '{wh}' question"
        )
    for question, verb in lex["light_verbs"]["examples"]:
        lang = "fr" if question.split()[0] in ("Qu'a", "Qui", "Pourquoi", "Quelles") else "en"
        got = [c.label for c in decide.read_question(question, lang).constraints if c.kind == "predicate"]
        assert got == ([verb] if verb else []), f"resources/question.toml: {question!r} turns on {verb!r}, got {got}"
    for question, noun in lex["qualifiers"]["examples"]:
        lang = "fr" if question.split()[0] in ("Quelles", "Quel") else "en"
        got = [c.label for c in decide.read_question(question, lang).constraints if c.kind in ("focus", "money")]
        assert got == [noun], f"resources/question.toml: {question!r} asks for {noun!r}, got {got}"
    for question, noun in lex["open_nouns"]["examples"]:
        lang = "fr" if question.split()[0] in ("Sur", "Quels", "Quelles", "Quelle") else "en"
        got = [c.label for c in decide.read_question(question, lang).constraints if c.kind in ("focus", "money")]
        assert got == ([noun] if noun else []), (
            f"resources/question.toml: {question!r} asks for {noun or 'no noun'}, got {got}"
        )
    for question, noun in lex["rank_nouns"]["examples"]:
        lang = "fr" if question.split()[0] in ("Quel", "Quelle") else "en"
        got = [
            c.label
            for p in [decide.read_question(question, lang)]
            for c in p.constraints + [c for part in p.parts for c in part.constraints]
            if c.kind == "rank"
        ]
        assert got[:1] == ([noun] if noun else []), (
            f"resources/question.toml: {question!r} asks for the rank {noun or 'no rank'}, got {got}"
        )


def test_the_synonym_examples_match():
    for cls, en, fr in [(r[0], r[1], r[2]) for r in decide.synonym_rows()]:
        assert en and fr, f"resources/synonyms.tsv row {cls!r} has both languages"
    for cls, _, _, example in resources.table("synonyms.tsv", ("class", "en", "fr", "example")):
        word, rest = (x.strip() for x in example.split("=>"))
        s_lang, source = (x.strip() for x in rest.split(":", 1))
        q_lang = "en" if any(word in row[1] for row in decide.synonym_rows() if row[0] == cls) else "fr"
        p = passage(source, lang=s_lang)
        ctx = decide.contexts([Evidence(passage=p, score=1.0)])[0]
        seen = decide._seen(ctx)
        assert decide._has_term(word, q_lang, ctx, seen), (
            f"resources/synonyms.tsv {cls}: {word!r} must match {source!r}"
        )


@pytest.mark.parametrize("lang", ["en", "fr"])
def test_every_missing_kind_has_a_plain_sentence(lang):
    # Whatever is missing, the user reads one sentence naming it, with or without documented entities.
    from assistant.answer import abstention_message

    documented = [decide.Constraint("action", "MIEUX Peru III", terms=("MIEUX Peru III",))]
    for kind in decide.KINDS:
        missing = decide.Constraint(
            kind, "2019" if kind == "year" else "budget", terms=("budget",), values=(2019, 2019)
        )
        cases = [(documented, False), ([], False)] + ([([], True)] if kind in decide.ENTITY_KINDS else [])
        for found, absent in cases:  # only an entity can be absent from the whole corpus
            text = abstention_message(lang, decide.Decision(False, missing=missing, documented=found, absent=absent))
            assert missing.label in text or kind in ("date", "location"), (
                f"{kind} ({lang}): the sentence names what is missing: {text}"
            )
            if found and not absent:
                assert "MIEUX Peru III" in text, f"{kind} ({lang}): it names what the corpus does document: {text}"
    d = decide.Decision(False, missing=decide.Constraint("money", "budget", terms=("budget",)), documented=documented)
    expected = {
        "en": "The corpus documents MIEUX Peru III, but gives no budget for it.",
        "fr": "Le corpus documente MIEUX Peru III, mais n'en donne pas le montant (budget).",
    }
    assert abstention_message(lang, d) == expected[lang], "the budget sentence reads as written in prompts/"


# -- session 5: classes found on the second development set (eval/dev2.jsonl) ------------------------

ROUNDTABLE = passage(
    "The regional roundtable was held in Nairobi on 12 June 2018 with partners from East Africa.",
    countries=("KE",),
    title="Regional roundtables",
)
ROUNDTABLE_FR = passage(
    "La table ronde régionale s'est tenue à Nairobi le 12 juin 2018 avec les partenaires d'Afrique de l'Est.",
    lang="fr",
    countries=("KE",),
    title="Tables rondes régionales",
)


@pytest.mark.parametrize(
    "question, lang, answerable",
    [
        ("Which partners attended the Nairobi roundtable in March 2018?", "en", False),
        ("Quels partenaires ont participé à la table ronde de Nairobi en mars 2018 ?", "fr", False),
        ("Which partners attended the Nairobi roundtable in June 2018?", "en", True),
        ("Quels partenaires ont participé à la table ronde de Nairobi en juin 2018 ?", "fr", True),
    ],
)
def test_a_month_named_with_its_year_must_be_the_contexts(question, lang, answerable):
    for evidence in ([ROUNDTABLE], [ROUNDTABLE_FR]):
        d = judge(question, evidence, lang)
        assert d.answerable == answerable, (
            f"{question!r} over {evidence[0].language}: the month must match ({d.missing})"
        )
        if not answerable:
            assert d.missing.kind == "month", f"the month is what is missing: {d.missing}"


@pytest.mark.parametrize(
    "question, lang",
    [
        ("Where did the prosecutors meet when they set up the network in 2011?", "en"),
        ("Où les procureurs se sont-ils réunis lors de la création du réseau en 2011 ?", "fr"),
    ],
)
def test_a_where_question_needs_a_place(question, lang):
    created = passage("The network of prosecutors was created in 2011 to strengthen investigation.", doc="a.txt")
    created_fr = passage(
        "Le réseau des procureurs a été créé en 2011 pour renforcer les enquêtes.", lang="fr", doc="a.txt"
    )
    for evidence in ([created], [created_fr]):
        d = judge(question, evidence, lang)
        assert not d.answerable and d.missing.kind == "location", f"{question!r}: no place is given ({d.missing})"
    placed = passage("The network of prosecutors was created in 2011 at a meeting in Madrid.", doc="a.txt")
    assert judge(question, [placed], lang).answerable, f"{question!r}: a passage naming the city answers it"


@pytest.mark.parametrize(
    "question, lang",
    [
        ("What did it cost to print the training handbook?", "en"),
        ("Qu'a coûté l'impression du manuel de formation ?", "fr"),
    ],
)
def test_a_cost_asked_with_the_verb_needs_an_amount(question, lang):
    handbook = passage("MIEUX printed the training handbook and handed it out to 300 officials.")
    assert not judge(question, [handbook], lang).answerable, f"{question!r}: no amount is given"
    priced = passage("Printing the training handbook cost EUR 4,000.")
    assert judge(question, [priced], lang).answerable, f"{question!r}: an amount answers it"


@pytest.mark.parametrize(
    "question, lang",
    [
        ("How many victims did the two shelters take in?", "en"),
        ("Combien de victimes les deux refuges ont-ils accueillies ?", "fr"),
    ],
)
def test_the_questions_own_numbers_do_not_answer_its_count(question, lang):
    shelters = passage("MIEUX helped the two shelters for victims draft their procedures.")
    shelters_fr = passage("MIEUX a aidé les deux refuges pour victimes à rédiger leurs procédures.", lang="fr")
    for evidence in ([shelters], [shelters_fr]):
        assert not judge(question, evidence, lang).answerable, (
            f"{question!r}: 'two' counts shelters, the question's own"
        )
    counted = passage("In 2019 the two shelters took in 85 victims of trafficking.")
    assert judge(question, [counted], lang).answerable, f"{question!r}: 85 victims answers it"


@pytest.mark.parametrize(
    "question, lang, names",
    [
        (
            "My director asks about the meeting of the Rabat Process. Could you tell me why Lebanon was invited?",
            "en",
            ["Rabat Process"],
        ),
        (
            "Mon directeur s'interroge sur la réunion du Processus de Rabat. Pouvez-vous me dire pourquoi le Liban "
            "était invité ?",
            "fr",
            ["Processus", "Rabat"],
        ),
    ],
)
def test_a_name_never_runs_across_a_full_stop(question, lang, names):
    got = [c.label for c in decide.read_question(question, lang).constraints if c.kind == "name"]
    assert got == names, f"{question!r}: the sentence after the full stop starts no name, got {got}"


@pytest.mark.parametrize(
    "question, lang, noun",
    [
        ("Which agencies co-ran the border trainings?", "en", "agencies"),
        ("Which countries hosted the study visits?", "en", "countries"),
        ("What size and duration limits apply?", "en", "limits"),
    ],
)
def test_a_word_before_a_determiner_is_the_verb_not_the_noun(question, lang, noun):
    got = [c.label for c in decide.read_question(question, lang).constraints if c.kind == "focus"]
    assert got == [noun], f"{question!r} asks for {noun!r}, got {got}"


@pytest.mark.parametrize(
    "question, lang",
    [
        ("What topics did the Thailand workshops cover?", "en"),
        ("Sur quels sujets portaient les ateliers en Thaïlande ?", "fr"),
    ],
)
def test_a_list_of_subjects_answers_an_open_noun(question, lang):
    workshops = passage(
        "Three workshops for shelter staff in Thailand dealt with child protection, gender and psychosocial support.",
        countries=("TH",),
    )
    assert judge(question, [workshops], lang).answerable, f"{question!r}: the subjects are listed without the word"


@pytest.mark.parametrize(
    "question, lang",
    [
        ("Qui poursuit les résultats de l'action au Timor-Leste ?", "fr"),
        ("Which institutions did the Peru action support?", "en"),
    ],
)
def test_verbs_and_categories_read_across_languages(question, lang):
    timor = passage(
        "Since 2018 the results from this Action are carried forward by trained immigration officials.",
        countries=("TL",),
        action="MIEUX Timor-Leste II",
        action_countries=("TL",),
    )
    peru = passage(
        "La Direction générale de la sécurité démocratique, qui relève du ministère de l'Intérieur, "
        "a reçu l'appui de MIEUX au Pérou.",
        lang="fr",
        countries=("PE",),
    )
    evidence = [timor] if "Timor" in question else [peru]
    assert judge(question, evidence, lang).answerable, f"{question!r}: the synonym classes bridge the languages"
    cancelled = "Pourquoi l'action au Timor-Leste a-t-elle été annulée ?"
    assert not judge(cancelled, [timor], "fr").answerable, "a verb the source does not state is still required"


@pytest.mark.parametrize(
    "question, lang",
    [
        ("What does GLO.ACT do in the Middle East?", "en"),
        ("Que fait GLO.ACT au Moyen-Orient ?", "fr"),
    ],
)
def test_a_name_of_several_words_is_known_by_its_translation(question, lang):
    french = passage(
        "GLO.ACT Asie et Moyen-Orient aide les autorités à lutter contre le trafic de migrants.", lang="fr"
    )
    english = passage("GLO.ACT Asia and the Middle East helps authorities fight migrant smuggling.")
    for evidence in ([french], [english]):
        d = judge(question, evidence, lang)
        assert d.answerable, f"{question!r} over {evidence[0].language}: the name is there, translated ({d.missing})"


@pytest.mark.parametrize(
    "question, lang",
    [
        ("How did the officials trained in Tumbes rate the course?", "en"),
        ("Comment les agents formés à Tumbes ont-ils évalué le cours ?", "fr"),
        ("When was the training module finished?", "en"),
        ("Quand le module de formation a-t-il été achevé ?", "fr"),
    ],
)
def test_the_verb_of_a_how_or_when_question_must_be_in_the_context(question, lang):
    course = passage(
        "In 2018 MIEUX ran a course on migrant smuggling for 40 officials in Tumbes, Peru; the training module "
        "was drafted with the border police.",
        countries=("PE",),
    )
    d = judge(question, [course], lang)
    assert not d.answerable and d.missing.kind == "predicate", (
        f"{question!r}: the course is documented, not that ({d.missing})"
    )


def test_a_participle_in_the_subject_is_not_the_verb():
    got = [
        c.label
        for c in decide.read_question("How did the people trained in Tumbes rate the course?", "en").constraints
        if c.kind == "predicate"
    ]
    assert got == ["rate"], f"after 'did', the verb is the word before the object, got {got}"
    adapted = passage("Peru adapted its training to the border posts with scenario-based exercises.", countries=("PE",))
    for q, lang in [
        ("How did Peru adapt its training?", "en"),
        ("Comment le Pérou a-t-il adapté sa formation ?", "fr"),
    ]:
        assert judge(q, [adapted], lang).answerable, f"{q!r}: the passage says how Peru adapted it"


@pytest.mark.parametrize(
    "question, lang, verb",
    [
        ("How fast can MIEUX start an Action?", "en", None),
        ("How long did the action last?", "en", None),
        ("How did Peru adapt its training?", "en", "adapt"),
        ("Comment le Pérou a-t-il adapté sa formation ?", "fr", "adapté"),
        ("Comment s'appelait le plan de suivi ?", "fr", None),
    ],
)
def test_how_asks_a_manner_only_before_an_auxiliary(question, lang, verb):
    got = [c.label for c in decide.read_question(question, lang).constraints if c.kind == "predicate"]
    assert got == ([verb] if verb else []), f"{question!r}: the verb required is {verb}, got {got}"


# -- a city inside a name, and a place with its own year -----------------------------------------------


def _assert_answered(question: str, lang: str, sources: list[Passage], why: str) -> None:
    """Each source alone answers the question (`why`: what it gives)."""
    for source in sources:
        d = judge(question, [source], lang)
        assert d.answerable, f"{question!r}: {source.text!r} {why} ({d.missing})"


@pytest.mark.parametrize(
    "question, lang, places",
    [
        ("What did the Rabat Process decide at the meeting in Porto?", "en", ["Porto"]),
        ("Qu'a décidé le Processus de Rabat à la réunion de Porto ?", "fr", ["Porto"]),
        ("Which Bali Process members attended the Bangkok roundtable?", "en", ["Bangkok"]),
        ("Who opened the Porto meeting in December 2015?", "en", ["Porto"]),
        ("Combien de fonctionnaires ont été formés à Lima en mars 2019 ?", "fr", ["Lima"]),
        ("How many officials were trained in Lima Peru in March 2019?", "en", ["Lima"]),
        ("Who opened the Porto Dec 2015 meeting?", "en", ["Porto"]),
    ],
)
def test_a_city_in_the_name_of_a_dialogue_is_not_a_place(question, lang, places):
    ask = decide.read_question(question, lang)
    got = [c.label for c in ask.of("place")]
    assert got == places, f"{question!r}: places {places}, got {got}"
    names = " ".join(c.label for c in ask.of("name"))
    for city in ("Rabat", "Bali"):
        if city in question:
            assert city in names, f"{question!r}: {city} is a word of a name, got names {names!r}"


LISTING = [
    passage("Porto, 3-4 December 2015, hosted by Portugal and co-chaired by Senegal.", ordinal=0),
    passage("Brussels, 31 May - 1 June 2016, hosted by Belgium and co-chaired by Côte d'Ivoire.", ordinal=1),
]
LISTING_FR = [
    passage("Porto, 3-4 décembre 2015, accueillie par le Portugal et coprésidée par le Sénégal.", lang="fr", ordinal=0),
    passage(
        "Bruxelles, 31 mai - 1er juin 2016, accueillie par la Belgique et coprésidée par la Côte d'Ivoire.",
        lang="fr",
        ordinal=1,
    ),
]

# Two meetings of one year: the month tells them apart.
LISTING_2015 = [
    passage("Porto, 3-4 December 2015, hosted by Portugal and co-chaired by Senegal.", ordinal=0),
    passage("Brussels, 12-13 May 2015, hosted by Belgium and co-chaired by Côte d'Ivoire.", ordinal=1),
]


def _judge_listing(question: str, lang: str, passages: list[Passage]) -> decide.Decision:
    """The decision with each listed passage's neighbour in its context (one section)."""
    evidence = [Evidence(passage=p, score=1.0 - n / 10, rank=n) for n, p in enumerate(passages)]
    vocabulary = {lower_unaccented(w) for p in passages for w in words(f"{p.text} {p.title}")}
    known = Known(countries=frozenset(), actions=frozenset(), vocabulary=frozenset(vocabulary))

    def neighbours(p: Passage) -> list[Passage]:
        return [q for q in passages if abs(q.ordinal - p.ordinal) == 1]

    return decide.decide(decide.read_question(question, lang), evidence, known, 0.2, neighbours)


@pytest.mark.parametrize(
    "question, lang, listing, answerable",
    [
        ("Who hosted the meeting in Porto in 2015?", "en", LISTING, True),
        ("Who hosted the meeting in Porto in 2016?", "en", LISTING, False),
        ("Who hosted the meeting in Porto in December 2015?", "en", LISTING_2015, True),
        ("Who hosted the meeting in Porto in May 2015?", "en", LISTING_2015, False),
        ("Qui a accueilli la réunion de Porto en mai 2015 ?", "fr", LISTING_2015, False),
        ("Qui a accueilli la réunion de Porto en décembre 2015 ?", "fr", LISTING_2015, True),
        ("Qui a accueilli la réunion de Porto en 2015 ?", "fr", LISTING_FR, True),
        ("Qui a accueilli la réunion de Porto en 2016 ?", "fr", LISTING_FR, False),
        # Across languages: the place and the year are read the same way.
        ("Qui a accueilli la réunion de Porto en 2016 ?", "fr", LISTING, False),
        ("Who hosted the meeting in Porto in 2015?", "en", LISTING_FR, True),
    ],
)
def test_a_place_named_in_the_passage_takes_the_passage_s_year(question, lang, listing, answerable):
    d = _judge_listing(question, lang, listing)
    assert d.answerable == answerable, (
        f"{question!r}: the listing dates the Porto meeting 2015 and the next entry 2016 "
        f"(answerable={d.answerable}, missing={d.missing})"
    )


@pytest.mark.parametrize(
    "question, lang",
    [
        ("Which pillar did the Rome Programme add, and what number is it?", "en"),
        ("Quel pilier le Programme de Rome a-t-il ajouté, et quel est son numéro ?", "fr"),
    ],
)
def test_a_number_or_rank_asked_needs_a_figure_or_an_ordinal(question, lang):
    ranked = passage("The Rome Programme introduced international protection and asylum as the fourth pillar.")
    ranked_fr = passage(
        "Le Programme de Rome a inauguré la protection internationale et l'asile comme 4ème pilier.", lang="fr"
    )
    unranked = passage("The Rome Programme introduced international protection and asylum as a new pillar.")
    _assert_answered(question, lang, [ranked, ranked_fr], "gives the rank")
    d = judge(question, [unranked], lang)
    assert not d.answerable and d.missing.kind == "rank", f"{question!r}: no rank in the source ({d.missing})"


@pytest.mark.parametrize(
    "question, lang",
    [
        ("How many staff were the procedures meant to reach?", "en"),
        ("Combien d'employés les procédures devaient-elles toucher ?", "fr"),
    ],
)
def test_staff_and_employees_are_one_workforce(question, lang):
    fr = passage("Les procédures opératoires standard pouvaient toucher jusqu'à 40 employés des refuges.", lang="fr")
    en = passage("The standard operating procedures could reach up to 40 staff members of the shelters.")
    _assert_answered(question, lang, [fr, en], "gives the workforce")


@pytest.mark.parametrize(
    "question, lang, coordinated",
    [
        (
            "Which areas of Peru are named as most affected in the 2018 annual report and the Peru I action page?",
            "en",
            True,
        ),
        (
            "Quelles zones du Pérou sont citées dans le rapport annuel 2018 et la fiche de l'action Pérou I ?",
            "fr",
            True,
        ),
        ("What did MIEUX do in Peru in 2018?", "en", False),
        ("Qu'a fait MIEUX au Pérou en 2018 ?", "fr", False),
    ],
)
def test_a_source_named_by_its_year_and_an_action_are_two_sources(question, lang, coordinated):
    # "the 2018 annual report and the Peru I action page": each may be its own source, and the
    # action is written in the question's language ("Pérou I"), not as the index names it.
    assert decide.read_question(question, lang).comparison == coordinated, (
        f"{question!r}: coordinated sources = {coordinated}"
    )


@pytest.mark.parametrize(
    "question, lang",
    [
        ("Which areas of Peru are named as the most affected by trafficking?", "en"),
        ("Quelles zones du Pérou sont citées comme les plus touchées par la traite ?", "fr"),
    ],
)
def test_areas_are_met_by_regions_and_provinces(question, lang):
    regions = passage(
        "Tumbes and Tacna, the capitals of the two provinces most affected by trafficking in Peru.", countries=("PE",)
    )
    regions_fr = passage(
        "Tumbes et Tacna, capitales des deux provinces les plus touchées par la traite au Pérou.",
        lang="fr",
        countries=("PE",),
    )
    _assert_answered(question, lang, [regions, regions_fr], "names the provinces")


@pytest.mark.parametrize(
    "question, lang, verb",
    [
        ("Why did Niger pull out of co-chairing the Porto meeting?", "en", "pull out"),
        ("Why did Ghana step down from the chair of the meeting?", "en", "step down"),
        ("Why did MIEUX carry out a needs assessment?", "en", None),
        ("Pourquoi le Niger s'est-il retiré de la coprésidence de la réunion de Porto ?", "fr", "retiré"),
    ],
)
def test_a_phrasal_verb_is_the_predicate_with_its_particle(question, lang, verb):
    got = [c.label for c in decide.read_question(question, lang).constraints if c.kind == "predicate"]
    assert got == ([verb] if verb else []), f"{question!r}: the verb is {verb!r}, got {got}"


@pytest.mark.parametrize(
    "question, lang",
    [
        ("Why did Niger pull out of co-chairing the Porto meeting?", "en"),
        ("Pourquoi le Niger s'est-il retiré de la coprésidence de la réunion de Porto ?", "fr"),
    ],
)
def test_a_withdrawal_needs_a_source_saying_so(question, lang):
    # False premise: the sources say Niger co-chaired, never that it withdrew.
    chaired = passage("Niger co-chaired the Porto meeting with Portugal in December 2015.", countries=("NE",))
    chaired_fr = passage(
        "Le Niger a coprésidé la réunion de Porto avec le Portugal en décembre 2015.", lang="fr", countries=("NE",)
    )
    withdrew = passage(
        "Niger withdrew from the co-chairmanship of the Porto meeting after its elections.", countries=("NE",)
    )
    withdrew_fr = passage(
        "Le Niger s'est retiré de la coprésidence de la réunion de Porto après ses élections.",
        lang="fr",
        countries=("NE",),
    )
    for source in (chaired, chaired_fr):
        d = judge(question, [source], lang)
        assert not d.answerable and d.missing.kind == "predicate", f"{question!r}: {source.text!r} ({d.missing})"
    _assert_answered(question, lang, [withdrew, withdrew_fr], "says it withdrew")


def _meets(verb: str, lang: str, sentence: str, s_lang: str) -> bool:
    p = passage(sentence, lang=s_lang)
    ctx = decide.contexts([Evidence(passage=p, score=1.0)])[0]
    return decide._has_term(verb, lang, ctx, decide._seen(ctx))


@pytest.mark.parametrize("row", resources.table("verbs.tsv", ("fr", "en")), ids=lambda row: row[0].split("|")[0])
def test_each_verb_row_meets_its_translation_both_ways(row):
    fr, en = (cell.split("|")[0] for cell in row)
    en_past = row[1].split("|")[1]
    assert _meets(fr, "fr", f"The ministry {en_past} the programme last year.", "en"), (
        f"resources/verbs.tsv: the French question verb {fr!r} is met by an English source saying {en_past!r}"
    )
    fr_past = row[0].split("|")[1]
    assert _meets(en, "en", f"Le ministère a {fr_past} le programme l'an dernier.", "fr"), (
        f"resources/verbs.tsv: the English question verb {en!r} is met by a French source saying {fr_past!r}"
    )


@pytest.mark.parametrize(
    "verb, lang, sentence, s_lang",
    [
        ("prolongé", "fr", "The ministry cancelled the programme last year.", "en"),
        ("postponed", "en", "Le ministère a prolongé le programme l'an dernier.", "fr"),
        ("embauché", "fr", "The ministry trained the staff last year.", "en"),
    ],
)
def test_a_verb_is_not_met_by_another_verb_of_the_table(verb, lang, sentence, s_lang):
    assert not _meets(verb, lang, sentence, s_lang), f"{verb!r} is not what {sentence!r} says"


def _pairs(name: str) -> list[tuple[str, str]]:
    path = Path(__file__).parent / "data" / name
    lines = [line for line in path.read_text(encoding="utf-8").splitlines() if line and not line.startswith("#")]
    return [(fr, en) for fr, en in (line.split("\t") for line in lines)]


@pytest.mark.parametrize("fr, en", _pairs("question_nouns.tsv"))
def test_a_question_noun_is_met_by_its_translation(fr, en):
    # Class: the noun a question asks for, answered by a source in the other language.
    assert _meets(fr, "fr", f"The ministry listed the {en} of the programme.", "en"), f"{fr!r} / {en!r}"
    assert _meets(en, "en", f"Le ministère a énuméré les {fr} du programme.", "fr"), f"{en!r} / {fr!r}"


@pytest.mark.parametrize("fr, en", _pairs("question_verbs.tsv"))
def test_a_question_verb_is_met_by_its_translation(fr, en):
    # Class: the verb a question turns on, answered by a source in the other language.
    assert _meets(fr, "fr", f"The ministry {en} the programme last year.", "en"), f"{fr!r} / {en!r}"
    assert _meets(en, "en", f"Le ministère a {fr} le programme l'an dernier.", "fr"), f"{en!r} / {fr!r}"


def test_a_listing_gives_each_entry_its_own_place_and_date():
    # A news listing: its title names every city, its windows run across entries, and an entry about
    # another city may name the asked city's country ("co-chaired by Portugal").
    title = "Meetings listing: Cidade Velha 2016, Brussels 2016, Porto 2015"
    entries = [
        "Cidade Velha, 30 November - 1 December 2016, hosted by Cabo Verde and co-chaired by Portugal.",
        "Brussels, 31 May - 1 June 2016, hosted by Belgium and co-chaired by Côte d'Ivoire.",
        "Porto, 3-4 December 2015, hosted by Portugal.",
    ]
    window = "\n\n".join(entries)
    countries = [("CV", "PT"), ("BE", "CI"), ("PT",)]
    listing = [
        passage(text, title=title, countries=countries[n], doc="l", ordinal=n, window=window)
        for n, text in enumerate(entries)
    ]
    for question, lang, answerable in [
        ("Who hosted the meeting in Porto in 2016?", "en", False),
        ("Qui a accueilli la réunion de Porto en 2016 ?", "fr", False),
        ("Who hosted the meeting in Porto in 2015?", "en", True),
        ("Qui a accueilli la réunion de Porto en 2015 ?", "fr", True),
    ]:
        d = _judge_listing(question, lang, listing)
        assert d.answerable == answerable, f"{question!r}: the listing dates Porto 2015 ({d.missing})"


def test_the_module_examples_hold():
    import doctest

    result = doctest.testmod(decide)
    assert result.attempted and not result.failed, f"assistant/decide.py's docstring examples: {result}"
