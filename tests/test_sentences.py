"""Sentence splitting (chunk.split_sentences): short words and acronyms end sentences, list markers,
initials and abbreviations do not. Hand-built sentences of the corpus' kinds, then the corpus' own cases."""

from __future__ import annotations

import pytest

from assistant import load, parse
from assistant.chunk import split_sentences

from .conftest import CORPUS


def sentences(text: str) -> list[str]:
    return [text[a:b] for a, b in split_sentences(text)]


# (text, expected sentences, what it checks)
CASES = [
    (
        "The programme was funded by the EU. The partners met in Rabat in 2015.",
        ["The programme was funded by the EU.", "The partners met in Rabat in 2015."],
        "an acronym of two letters ends its sentence",
    ),
    (
        "Jusqu’à ce moment, l’action de la CMNP TP-TM se limitait donc à la TP. S’appuyant sur les résultats, elle "
        "s’est élargie.",
        [
            "Jusqu’à ce moment, l’action de la CMNP TP-TM se limitait donc à la TP.",
            "S’appuyant sur les résultats, elle s’est élargie.",
        ],
        "a French acronym of two letters ends its sentence",
    ),
    (
        "It explains MIEUX’s approaches to deliver it. The third section describes concrete methods.",
        ["It explains MIEUX’s approaches to deliver it.", "The third section describes concrete methods."],
        "a two-letter English word ends its sentence",
    ),
    (
        "La réunion s’est tenue avec nous. Les participants ont adopté un plan.",
        ["La réunion s’est tenue avec nous.", "Les participants ont adopté un plan."],
        "a short French word ends its sentence",
    ),
    (
        "Voir les pages 13 à 18. Le tableau résume les activités.",
        ["Voir les pages 13 à 18.", "Le tableau résume les activités."],
        "a number closing a sentence is no list marker",
    ),
    (
        "a. Promouvoir la ratification du Protocole.",
        ["a. Promouvoir la ratification du Protocole."],
        "a letter marker stays with its item",
    ),
    (
        "a. Promouvoir la ratification du Protocole. b. Tirer parti des mécanismes existants.",
        ["a. Promouvoir la ratification du Protocole.", "b. Tirer parti des mécanismes existants."],
        "two lettered items in one line are two sentences, each with its marker",
    ),
    (
        "1. Demand-driven: partner countries request the support. 2. Peer-to-peer: experts share their practice.",
        ["1. Demand-driven: partner countries request the support.", "2. Peer-to-peer: experts share their practice."],
        "numbered items keep their numbers",
    ),
    (
        "iv. Renforcer les capacités des agents aux frontières.",
        ["iv. Renforcer les capacités des agents aux frontières."],
        "a roman numeral marker stays with its item",
    ),
    (
        "Three contributions were made: iv. Train border guards. v. Share data.",
        ["Three contributions were made: iv. Train border guards.", "v. Share data."],
        "a marker after a colon opens an item",
    ),
    (
        "Les recommandations suivent.\n2. Créer un réseau de points focaux.",
        ["Les recommandations suivent.", "2. Créer un réseau de points focaux."],
        "a marker opening a line stays with its item",
    ),
    (
        "M. Ndiaye souligne le rôle de la société civile. Mme Diallo répond.",
        ["M. Ndiaye souligne le rôle de la société civile.", "Mme Diallo répond."],
        "'M.' before a name is a title, not a sentence end",
    ),
    (
        "Le manuel est cité p. 12. Il a été adopté en 2018.",
        ["Le manuel est cité p. 12.", "Il a été adopté en 2018."],
        "'p.' before a page number is an abbreviation; the number then ends the sentence",
    ),
    (
        "The report by J. Smith was published. It covers Peru.",
        ["The report by J. Smith was published.", "It covers Peru."],
        "an initial is not a sentence end",
    ),
    ("Henry IV. The king.", ["Henry IV.", "The king."], "a roman numeral inside a sentence is no list marker"),
]


@pytest.mark.parametrize("text,expected,why", CASES, ids=[c[2] for c in CASES])
def test_split_sentences(text, expected, why):
    assert sentences(text) == expected, why


def test_offsets_point_into_the_text():
    text = "  The programme was funded by the EU. The partners met.  "
    spans = split_sentences(text)
    assert [text[a:b] for a, b in spans] == ["The programme was funded by the EU.", "The partners met."], (
        "offsets are trimmed and index the text given"
    )


def _block_sentences(doc_id: str) -> list[str]:
    source = next(load.iter_sources(CORPUS, only=[CORPUS / doc_id]))
    doc = parse.parse(source, load.read_manifest(CORPUS).get(doc_id))
    return [s for block in doc.blocks for s in sentences(block.text)]


@pytest.mark.parametrize(
    "doc_id,ends,starts",
    [
        (
            "en/m4d_mieux_2009_2015_publication_note_en.txt",
            "and MIEUX’s approaches to deliver it.",
            "The third section describes concrete methods",
        ),
        (
            "seeds/000_c0f20d1b9c390d7f.txt",
            "l’action de la CMNP TP-TM se limitait donc à la TP.",
            "S’appuyant sur les résultats des deux Actions antérieures MIEUX",
        ),
    ],
)
def test_corpus_sentences_split_after_short_words(doc_id, ends, starts):
    found = _block_sentences(doc_id)
    assert any(s.endswith(ends) for s in found), f"corpus/{doc_id}: a sentence ends with '{ends}'"
    assert any(s.startswith(starts) for s in found), f"corpus/{doc_id}: a sentence starts with '{starts}'"


def test_corpus_list_items_keep_their_markers():
    found = _block_sentences("seeds/001_1b1519af3c0dff5a.txt")
    items = [s for s in found if s[:3] in ("a. ", "b. ", "c. ")]
    assert len(items) >= 3, "the lettered recommendations of seeds/001 start their sentences with their markers"
    found = _block_sentences("en/mieux_2018_10_years_of_mieux_en.txt")
    assert any(s.startswith("1. Demand-driven") for s in found), "the numbered principles keep their numbers"
