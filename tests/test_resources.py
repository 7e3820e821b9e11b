"""The language data in assistant/resources/ behaves as its examples say."""

from __future__ import annotations

from importlib import resources as files

import pytest

from assistant import resources, tag
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
                f"resources/countries.toml [aliases] {code}: {name!r} must be read as {code}")


def test_every_demonym_names_its_country():
    for code, en, fr in resources.table("demonyms.tsv", ("iso2", "en", "fr")):
        for word in resources.alternatives(fr):
            assert code in tag.find_countries(f"des experts {word} ont"), f"resources/demonyms.tsv {code}: {word!r} names {code}"
        for word in resources.alternatives(en):
            assert code in tag.find_countries(f"{word} experts trained officers"), (
                f"resources/demonyms.tsv {code}: {word!r} names {code}")


@pytest.mark.parametrize("slug", THEMES)
def test_theme_examples(slug):
    theme = resources.toml("themes.toml")[slug]
    assert theme["examples"] and theme["en"] and theme["fr"], f"resources/themes.toml [{slug}] has both labels and examples"
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
