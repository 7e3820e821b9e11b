"""The language data in assistant/resources/ behaves as its examples say."""

from __future__ import annotations

from importlib import resources as files

import pytest

from assistant import resources, tag
from assistant.question import contextualize
from assistant.retrieve import analyze_question
from assistant.load import iter_sources
from assistant.parse import parse
from assistant.text import detect_language

COUNTRY_RULES = [name for name, rule in resources.toml("countries.toml").items() if "examples" in rule]
THEMES = list(resources.toml("themes.toml"))


def test_every_resource_file_reads():
    names = [f.name for f in files.files("assistant.resources").iterdir() if f.name.endswith((".tsv", ".toml", ".txt"))]
    assert "countries.toml" in names and "demonyms.tsv" in names, f"the shipped resources are found: {names}"
    for name in names:
        if name.endswith(".toml"):
            assert resources.toml(name), f"resources/{name} holds tables"
        elif name.endswith(".txt"):
            assert resources.word_list(name), f"resources/{name} holds words"
        else:
            lines = files.files("assistant.resources").joinpath(name).read_text(encoding="utf-8").splitlines()
            header = next(line for line in lines if not line.startswith("#"))
            columns = tuple(header.split("\t"))
            assert len(columns) >= 2 and resources.table(name, columns), f"resources/{name} has a header and rows"


def test_a_bad_table_line_names_the_file_and_line():
    with pytest.raises(ValueError, match=r"resources/demonyms\.tsv line \d+: expected 4 tab-separated columns"):
        resources.table("demonyms.tsv", ("iso2", "en", "fr", "extra"))


@pytest.mark.parametrize("rule", COUNTRY_RULES)
def test_country_rule_examples(rule):
    examples = resources.toml("countries.toml")[rule]["examples"]
    assert examples, f"resources/countries.toml [{rule}] has examples"
    for text, countries in examples:
        found = list(tag.find_countries(text))
        assert found == countries, f"resources/countries.toml [{rule}]: {text!r} names {countries}, found {found}"


def test_every_alias_names_its_country():
    for code, names in resources.toml("countries.toml")["aliases"].items():
        for name in names.get("en", []) + names.get("fr", []):
            assert code in tag.find_countries(f"Experts from {name}, {name}."), (
                f"resources/countries.toml [aliases] {code}: {name!r} must be read as {code}"
            )


def test_every_demonym_names_its_country():
    for code, en, fr in resources.table("demonyms.tsv", ("iso2", "en", "fr")):
        for word in resources.alternatives(fr):
            assert code in tag.find_countries(f"des experts {word} ont"), (
                f"resources/demonyms.tsv {code}: {word!r} names {code}"
            )
        for word in resources.alternatives(en):
            assert code in tag.find_countries(f"{word} experts trained officers"), (
                f"resources/demonyms.tsv {code}: {word!r} names {code}"
            )


@pytest.mark.parametrize("slug", THEMES)
def test_theme_examples(slug):
    theme = resources.toml("themes.toml")[slug]
    assert theme["examples"] and theme["en"] and theme["fr"], (
        f"resources/themes.toml [{slug}] has both labels and examples"
    )
    for text in theme["examples"]:
        assert slug in tag.find_themes(text), f"resources/themes.toml [{slug}]: {text!r} touches {slug}"
    for text in theme.get("not", []):
        assert slug not in tag.find_themes(text), f"resources/themes.toml [{slug}]: {text!r} does not touch {slug}"
    assert tag.theme_label(slug, "fr") == theme["fr"], f"the French label of {slug} comes from resources/themes.toml"


def test_themes_keep_the_file_order():
    assert tag.THEMES == tuple(THEMES), "the theme list follows resources/themes.toml"


def test_language_word_examples():
    for text, lang in resources.toml("language.toml")["examples"]:
        assert detect_language(text) == lang, f"resources/language.toml: {text!r} is {lang}"


def parsed(tmp_path, text: str, name: str = "page.txt"):
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return parse(next(iter_sources(tmp_path, only=[path])))


def test_calls_to_action_examples_are_dropped(tmp_path):
    for i, line in enumerate(resources.toml("parse.toml")["calls_to_action"]["examples"]):
        doc = parsed(
            tmp_path, f"Une page\n\nLe Pérou est un pays d'origine et de transit des migrants.\n\n{line}\n", f"p{i}.txt"
        )
        assert line not in doc.text and "Le Pérou est un pays" in doc.text, (
            f"resources/parse.toml: {line!r} is dropped, the text stays"
        )


def test_heading_examples_are_headings(tmp_path):
    for i, line in enumerate(resources.toml("parse.toml")["headings"]["examples"]):
        doc = parsed(
            tmp_path, f"Titre du document\n\n{line}\nLe Pérou a formé des agents de police en 2018.\n", f"h{i}.txt"
        )
        kinds = {doc.text[b.start : b.end].strip(): b.kind for b in doc.blocks}
        assert kinds.get(line) == "heading", f"resources/parse.toml: {line!r} is a heading, got {kinds}"


def test_compound_examples_keep_their_hyphen(tmp_path):
    for i, (broken, word) in enumerate(resources.toml("parse.toml")["compounds"]["examples"]):
        doc = parsed(tmp_path, f"Le programme suit {broken} pour tous.\n", f"c{i}.txt")
        assert word in doc.text, f"resources/parse.toml: {broken!r} gives {word!r}, got {doc.text!r}"


def test_answer_kind_examples_ask_for_a_kind():
    for question in resources.toml("question.toml")["answer_kinds"]["examples"]:
        assert analyze_question(question).kinds, (
            f"resources/question.toml [answer_kinds]: {question!r} asks for a kind of answer"
        )


def test_follow_up_examples_read_as_stated():
    for previous, follow_up, standalone in resources.toml("question.toml")["follow_up"]["examples"]:
        got = contextualize(follow_up, [(previous, "…")])
        assert got == standalone, (
            f"resources/question.toml [follow_up]: {follow_up!r} after {previous!r} reads {standalone!r}, got {got!r}"
        )
