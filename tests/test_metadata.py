"""Clean evidence and metadata: titles and years of documents without a manifest row, lines that are
not content (roles, status, links, broken tables), and countries named only as expert, host or donor."""

from __future__ import annotations

import re
from pathlib import Path

import docx
import pytest
from fpdf import FPDF

from assistant import tag
from assistant.chunk import chunk
from assistant.evaluate import role_country_passages
from assistant.explore import coverage, similar
from assistant.load import iter_sources, read_manifest
from assistant.parse import FileHints, infer_title, infer_year, parse
from assistant.pipeline import Assistant
from assistant.text import fold
from assistant.types import Block

ROOT = Path(__file__).resolve().parents[1]
CORPUS = ROOT / "corpus"
RESOURCES = ROOT / "assistant" / "resources"
DEJAVU = Path("/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf")


def rows(name: str) -> list[list[str]]:
    """The data rows of a resource TSV (header and comments left out)."""
    lines = (RESOURCES / name).read_text(encoding="utf-8").splitlines()
    return [line.split("\t") for line in lines[1:] if line.strip() and not line.startswith("#")]


def parsed_text(tmp_path: Path, name: str, text: str):
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return parse(next(iter_sources(tmp_path, only=[path])))


# ---------------------------------------------------------------------------- the word lists, checked by their examples


def test_every_section_name_example_is_refused_as_a_title():
    for row in rows("section_names.tsv"):
        assert len(row) == 4 and row[0] and row[1], f"section_names.tsv: French and English names on each row: {row}"
        for example in row[2:]:
            as_heading = infer_title(
                [Block("heading", example, 0, len(example), example)], FileHints(), "rapport_final_fr"
            )
            as_metadata = infer_title([], FileHints(titles=[example]), "rapport_final_fr")
            assert as_heading == as_metadata == "Rapport final", f"'{example}' is a section name, never a title"
        for name in row[0].split("|") + row[1].split("|"):
            got = infer_title([], FileHints(titles=[name.capitalize()]), "note_en")
            assert got == "Note", f"the section name '{name}' is never a title (got {got!r})"


def test_every_metadata_line_example_has_its_kind_in_both_languages():
    kinds = set()
    for kind, fr, en, fr_example, en_example in rows("metadata_lines.tsv"):
        assert fr and en, f"metadata_lines.tsv: French and English labels for {kind}"
        for example in (fr_example, en_example):
            assert tag.line_kind(example) == kind, f"'{example}' is a {kind} line (got {tag.line_kind(example)})"
        kinds.add(kind)
    assert kinds == {"role", "status", "field", "published"}, f"every kind has examples: {kinds}"


def test_every_month_example_dates_a_page():
    for _fr, _en, fr_example, en_example in rows("months.tsv"):
        for example in (fr_example, en_example):
            year = int(re.search(r"(?:19|20)\d\d", example).group())
            got = infer_year([Block("paragraph", example, 0, len(example), None)], FileHints())
            assert got == year, f"'{example}' under a page's title dates it {year} (got {got})"


def test_every_title_word_example_is_rebuilt_from_its_file_name():
    for word, file_name, title in rows("title_words.tsv"):
        got = infer_title([], FileHints(), Path(file_name).stem)
        assert got == title, f"{file_name} -> {title!r} (written form of {word}); got {got!r}"
        assert word in got.split(), f"{word} keeps its case in {got!r}"


# ---------------------------------------------------------------------------- roles: experts, hosts, donors


def test_expert_host_and_donor_countries_are_not_what_the_text_is_about():
    en = (
        "Experts involved: Spain, Argentina, Portugal\n\nHost country: Morocco\n\n"
        "Peru is a source, transit and destination country for trafficking."
    )
    assert tag.tag(en).countries == ("PE",), f"only Peru is the subject: {tag.tag(en).countries}"
    assert tag.role_countries(en) == ("ES", "AR", "PT", "MA"), f"the role lines' countries: {tag.role_countries(en)}"
    fr = (
        "Experts impliqués : Espagne, Argentine\n\nBailleur de fonds : Allemagne\n\n"
        "Coprésidence : Portugal et Niger\n\nLe Sénégal a adopté un plan national contre la traite."
    )
    assert tag.tag(fr).countries == ("SN",), f"seul le Sénégal est le sujet : {tag.tag(fr).countries}"
    assert set(tag.role_countries(fr)) == {"ES", "AR", "DE", "PT", "NE"}, f"roles in French: {tag.role_countries(fr)}"


def test_a_role_country_named_in_the_text_too_stays():
    text = "Experts involved: Spain\n\nThe experts organised a study visit to Spain for 12 prosecutors from Peru."
    assert set(tag.tag(text).countries) == {"ES", "PE"}, "Spain named in a sentence is a real mention"
    sentence = (
        "Experts from Spain trained officers in Peru.\n\nFunded by the EU, the project trained 300 officers in Chile."
    )
    assert set(tag.tag(sentence).countries) == {"ES", "PE", "CL"}, (
        "sentences are not role lines, even when they open with a role"
    )
    wrapped = "Le projet est\nfinancé par la Commission européenne et le Maroc et mis en œuvre par l'OIM."
    assert "MA" in tag.tag(wrapped).countries, "a wrapped line in lower case continues a sentence: it is no label"


# ---------------------------------------------------------------------------- lines that are not content

ACTION_EN = """Irregular Migration/Trafficking in Human Beings
Completed

Specific area: IMT - Trafficking in Human Beings

Duration: December 2016 - April 2020

Experts involved: United Kingdom, NGOs (Belgium, Ireland, Italy), academia (United Kingdom)

Thailand is a destination country for the trafficking of men, women and children. The Ministry asked MIEUX to train the staff of its nine shelters.

Three workshops trained shelter workers on the protection of children, gender-based approaches and psychosocial support.
"""  # noqa: E501 (the page as published: a paragraph is one line)

ACTION_FR = """Migration irrégulière/Trafic d'êtres humains
Complété

Domaine d’intervention spécifique: Migration irrégulière, Trafic de migrants

Durée: novembre 2016 - avril 2020

Experts impliqués: Espagne, Argentine

Description
Le Pérou est un pays d'origine, de transit et de destination du trafic de migrants. MIEUX a soutenu l'élaboration d'un manuel de formation.

Des ateliers ont réuni les agents des frontières de Tacna et de Tumbes, ainsi que leurs homologues du Chili et de l'Équateur.
"""  # noqa: E501 (the page as published: a paragraph is one line)


@pytest.mark.parametrize(
    "name, text, subject, helpers",
    [
        ("mieux_action_thailand_ii_thb_en.txt", ACTION_EN, "TH", {"GB", "BE", "IE", "IT"}),
        ("mieux_action_perou_iii_fr.txt", ACTION_FR, "PE", {"ES", "AR"}),
    ],
)
def test_an_action_sheet_keeps_its_metadata_out_of_the_passages(tmp_path, name, text, subject, helpers):
    doc = parsed_text(tmp_path, name, text)
    flagged = {b.text: b.not_content for b in doc.blocks if b.not_content}
    assert sorted(flagged.values()) == ["field", "field", "role", "status", "status"], (
        f"category, status, fields and experts: {flagged}"
    )
    assert any(b.text.startswith(("Experts involved", "Experts impliqués")) for b in doc.blocks), (
        "the lines stay in the document"
    )
    passages = chunk(doc)
    assert passages, "the body is indexed"
    for p in passages:
        assert not re.search(r"Experts|Duration|Durée|Completed|Complété|Specific area|Domaine", p.text), (
            f"no metadata in a passage: {p.text!r}"
        )
        assert not helpers & set(p.countries), f"expert countries are not the passage's: {p.countries}"
        assert p.section in (None, "Description"), f"a role line opens no section: {p.section}"
    assert any(subject in p.countries for p in passages), (
        f"the action's country is tagged: {[p.countries for p in passages]}"
    )
    assert doc.title.startswith("MIEUX action"), (
        f"the file name gives the title, not 'Experts involved…' nor 'Description': {doc.title!r}"
    )


def test_lists_of_links_are_not_content_in_both_languages(tmp_path):
    doc = parsed_text(
        tmp_path,
        "liens.txt",
        (
            "Le Processus de Rabat réunit des pays d'origine, de transit et de destination depuis 2006.\n\nVoir : "
            "https://www.rabat-process.org/fr/documents https://www.rabat-process.org/fr/reunions\n\nSee: "
            "http://eur-lex.europa.eu/legal-content/FR/TXT/PDF/?uri=CELEX:52015DC0285\n\nLe rapport complet est "
            "disponible sur https://www.mieux-initiative.eu/fr pour tous les partenaires du programme.\n"
        ),
    )
    kinds = [(b.text[:12], b.not_content) for b in doc.blocks]
    assert kinds == [
        ("Le Processus", None),
        ("Voir : https", "urls"),
        ("See: http://", "urls"),
        ("Le rapport c", None),
    ], f"a block that is mostly links is flagged; a sentence with a link is content: {kinds}"


FIGURE_FR = """GRANDES RÉALISATIONS DE 2018

Formation de formateurs

Visites d’étude

Tadjikistan

Thaïlande

Timor oriental

Myanmar

En 2018, MIEUX a continué à soutenir le gouvernement thaïlandais dans la protection des victimes de la traite.
"""

FIGURE_EN = """KEY ACHIEVEMENTS

Knowledge exchange workshops

Study visits

Ghana

Malawi

Kenya

In 2018, MIEUX helped Ghana draft standard operating procedures for shelters.
"""


@pytest.mark.parametrize(
    "text, sentence", [(FIGURE_FR, "En 2018, MIEUX a continué"), (FIGURE_EN, "In 2018, MIEUX helped")]
)
def test_a_figure_read_line_by_line_is_not_content(tmp_path, text, sentence):
    doc = parsed_text(tmp_path, "figure.txt", text)
    debris = [b.text for b in doc.blocks if b.not_content == "debris"]
    assert len(debris) >= 5 and debris[-1] in ("Myanmar", "Kenya"), (
        f"the labels and country names of the figure are flagged: {debris}"
    )
    passages = chunk(doc)
    assert [p.text[: len(sentence)] for p in passages] == [sentence], (
        f"only the sentence is a passage: {[p.text for p in passages]}"
    )


def test_a_table_row_on_one_line_is_not_content_but_sentences_are(tmp_path):
    doc = parsed_text(
        tmp_path,
        "tableau.txt",
        (
            "Formation de formateurs Visites d’étude Tadjikistan Thaïlande Timor oriental Myanmar\n\n"
            "Project Date Type of Project Lead Implementing Organization Geographic Scope Workstream\n\n"
            "MIEUX trained 40 border officers in Tacna and Tumbes with the Ministry of Interior\n\n"
            "Le Ministère de l'Intérieur du Pérou a formé 40 agents à Tacna et à Tumbes\n"
        ),
    )
    flags = [(b.text[:20], b.not_content) for b in doc.blocks]
    assert flags == [
        ("Formation de formate", "debris"),
        ("Project Date Type of", "debris"),
        ("MIEUX trained 40 bor", None),
        ("Le Ministère de l'In", None),
    ], f"rows of names without punctuation are debris; sentences, even without a full stop, are not: {flags}"


def test_a_list_announced_by_a_colon_is_content(tmp_path):
    doc = parsed_text(
        tmp_path,
        "liste.txt",
        (
            "Mme Erasmus a alors présenté les quatre domaines principaux du Projet :\n\n"
            "Les données et les politiques migratoires\n\nLe contrôle des frontières\n\n"
            "La migration des travailleurs\n\nLa lutte contre la traite\n"
        ),
    )
    assert not [b.text for b in doc.blocks if b.not_content], "the items of an announced list are the answer"


# ---------------------------------------------------------------------------- titles and years, format by format


def make_html(path: Path) -> Path:
    path.write_text(
        """<!DOCTYPE html><html><head><title>Thailand I – THB | MIEUX Initiative</title>
        <meta property="og:site_name" content="MIEUX Initiative">
        <meta property="article:published_time" content="2019-06-11T09:00:00+02:00"></head>
        <body><header><h1>MIEUX Initiative</h1></header>
        <h2>Background</h2><p>Experts involved: Austria, United Kingdom</p>
        <p>Thailand is a destination country for the trafficking of men, women and children from neighbouring countries.</p>
        </body></html>""",  # noqa: E501 (a paragraph of the page on one line)
        encoding="utf-8",
    )
    return path


def make_html_fr(path: Path) -> Path:
    path.write_text(
        """<!DOCTYPE html><html><head><title>Accueil</title></head><body>
        <nav><a href="/">Accueil</a></nav><h1>Atelier sur la traite des personnes à Rabat</h1>
        <p>Publié le 3 mai 2018</p><h2>Contexte de l'atelier</h2>
        <p>Le Maroc a accueilli un atelier sur l'identification des victimes de la traite des êtres humains.</p>
        </body></html>""",
        encoding="utf-8",
    )
    return path


def make_docx(path: Path) -> Path:
    document = docx.Document()
    document.core_properties.title = "Atelier régional de Dakar sur le trafic de migrants"
    document.add_heading("Contexte de l'atelier", level=1)
    document.add_paragraph("Experts impliqués : Espagne, France")
    document.add_paragraph(
        "Le Sénégal a organisé à Dakar un atelier régional sur la lutte contre le trafic de migrants."
    )
    document.save(path)
    return path


def make_docx_titled(path: Path) -> Path:
    document = docx.Document()
    document.add_paragraph("Jordan II: shelters for victims of trafficking", style="Title")
    document.add_paragraph("12 March 2019")
    document.add_heading("Description", level=1)
    document.add_paragraph("Jordan asked MIEUX to develop standard operating procedures for two shelters in Amman.")
    document.save(path)
    return path


def make_pdf(path: Path, *, big_title: str | None, metadata_title: str | None, body: str) -> Path:
    pdf = FPDF()
    font = "DejaVu" if DEJAVU.exists() else "Helvetica"
    if DEJAVU.exists():
        pdf.add_font("DejaVu", "", str(DEJAVU))
    if metadata_title:
        pdf.set_title(metadata_title)
    pdf.add_page()
    if big_title:
        pdf.set_font(font, size=22)
        pdf.multi_cell(0, 10, big_title)
        pdf.ln(4)
    pdf.set_font(font, size=11)
    pdf.multi_cell(0, 6, "Background")
    pdf.ln(4)
    pdf.multi_cell(0, 6, body)
    path.write_bytes(bytes(pdf.output()))
    return path


BODY_EN = (
    "Smuggling networks along the central Sahel routes have adapted to border controls. "
    "The workshop brought together prosecutors from Niger and Mali to share investigation practices."
)


@pytest.fixture(scope="module")
def manifestless(tmp_path_factory, embedding_cache):
    """A corpus of hand-built files of every format and no manifest, ingested for real."""
    from assistant.config import load_settings

    base = tmp_path_factory.mktemp("manifestless")
    corpus = base / "corpus"
    corpus.mkdir()
    make_html(corpus / "thailand_i_page.html")
    make_html_fr(corpus / "atelier_rabat.html")
    make_docx(corpus / "rapport_dakar.docx")
    make_docx_titled(corpus / "jordan_note.docx")
    make_pdf(
        corpus / "sahel_report.pdf",
        big_title="Addressing migrant smuggling in the Sahel",
        metadata_title="Microsoft Word - rapport_v3.docx",
        body=BODY_EN,
    )
    make_pdf(
        corpus / "rapport_2018.pdf",
        big_title=None,
        metadata_title="Rapport annuel MIEUX 2018",
        body="Published: 12 May 2019. " + BODY_EN,
    )
    (corpus / "mieux_action_thailand_i_thb_en.txt").write_text(
        "Experts involved: Austria, United Kingdom\n\nBackground\n\n"
        "Thailand asked MIEUX to train the staff of its shelters for victims of trafficking in 2013.\n",
        encoding="utf-8",
    )
    (corpus / "note_maroc.md").write_text(
        "# Lutter contre la traite au Maroc\n\nMercredi 27 novembre 2013\n\n## Contexte\n\n"
        "Le Maroc a organisé à Rabat une conférence sur les normes internationales contre la traite.\n",
        encoding="utf-8",
    )
    assistant = Assistant(
        load_settings(
            paths={"corpus": corpus, "index": base / "index", "data": base / "data", "cache": embedding_cache}
        )
    )
    report = assistant.ingest()
    assert not report.problems, f"every hand-built file goes in: {report.problems}"
    return assistant


@pytest.mark.parametrize(
    "doc_id, title, year",
    [
        ("thailand_i_page.html", "Thailand I – THB", 2019),  # <title> without the site's name; published_time
        ("atelier_rabat.html", "Atelier sur la traite des personnes à Rabat", 2018),  # <h1>; "Publié le 3 mai 2018"
        (
            "rapport_dakar.docx",
            "Atelier régional de Dakar sur le trafic de migrants",
            None,
        ),  # title property, not "Contexte de l'atelier"
        ("jordan_note.docx", "Jordan II: shelters for victims of trafficking", 2019),  # "Title" style; date line
        (
            "sahel_report.pdf",
            "Addressing migrant smuggling in the Sahel",
            None,
        ),  # largest text, not "Microsoft Word - …"
        ("rapport_2018.pdf", "Rapport annuel MIEUX 2018", 2019),  # title property; "Published: 12 May 2019"
        (
            "mieux_action_thailand_i_thb_en.txt",
            "MIEUX action Thailand I THB",
            None,
        ),  # file name, not "Experts involved: …"
        ("note_maroc.md", "Lutter contre la traite au Maroc", 2013),  # "# " heading; weekday date line
    ],
)
def test_manifestless_files_get_their_real_title_and_year(manifestless, doc_id, title, year):
    docs = manifestless.documents()
    assert docs[doc_id].title == title, f"{doc_id}: the title a reader sees on the page (got {docs[doc_id].title!r})"
    assert docs[doc_id].year == year, f"{doc_id}: the year the text gives, else none (got {docs[doc_id].year})"
    passages = [p for p in manifestless.retriever.passages if p.doc_id == doc_id]
    assert passages and all(p.title == title and p.year == year for p in passages), (
        f"{doc_id}: the source panel and the citations show the same title and year"
    )


def test_manifestless_expert_countries_are_not_tagged(manifestless):
    for p in manifestless.retriever.passages:
        assert not {"AT", "GB"} & set(p.countries), f"Austria and the UK are only experts: {p.doc_id} {p.countries}"
        assert "Experts" not in p.text, f"an expert list is never a passage: {p.text!r}"
    assert role_country_passages(manifestless) == [], "the eval check finds none"


# ---------------------------------------------------------------------------- the shipped corpus

MANIFEST = read_manifest(CORPUS)


def normalised(title: str) -> list[str]:
    return [w for w in re.findall(r"\w+", fold(title)) if len(w) > 1]


def matches(inferred: str, manifest: str) -> bool:
    """The manifest title holds every word of the inferred one (or the reverse), in any order."""
    a, b = normalised(inferred), normalised(manifest)
    return len(a) >= 2 and (set(a) <= set(b) or set(b) <= set(a))


@pytest.fixture(scope="module")
def without_manifest():
    return {s.doc_id: parse(s) for s in iter_sources(CORPUS)}


def test_shipped_pages_without_their_manifest_row_get_real_titles(without_manifest):
    share = {}
    for language in ("en", "fr"):
        ids = [d for d in without_manifest if MANIFEST[d].language == language]
        hits = [d for d in ids if matches(without_manifest[d].title, MANIFEST[d].title)]
        share[language] = len(hits) / len(ids)
    assert share["en"] >= 0.8 and share["fr"] >= 0.55, f"share of inferred titles that match the manifest: {share}"
    for doc_id, doc in without_manifest.items():
        title = doc.title
        assert not tag.line_kind(title), f"{doc_id}: a metadata line is no title: {title!r}"
        assert not re.search(r"\b(?:en|fr)$", title), f"{doc_id}: no language code left from the file name: {title!r}"
        assert title.split()[0].lower() not in ("background", "description", "contexte", "introduction", "general"), (
            f"{doc_id}: a section name is no title: {title!r}"
        )
    expected = {
        "en/mieux_action_iberred_en.txt": "MIEUX action IberRed",
        "en/mieux_action_timor_leste_ii_thb_en.txt": "MIEUX action Timor-Leste II THB",
        "fr/mieux_action_perou_iii_fr.txt": "MIEUX action Pérou III",
        "en/mieux_faq_en.txt": "MIEUX FAQ",
        "en/mieux_case_study_peru_smuggling_landing_en.txt": "Addressing Smuggling of Migrants",
        "seeds/001_1b1519af3c0dff5a.txt": "Renforcer l'action transnationale face au trafic de migrants",
        "seeds/004_7b772109f36aa110.txt": "MIEUX 2018 Rapport Annuel I l’année de la célébration",
    }
    for doc_id, title in expected.items():
        assert without_manifest[doc_id].title == title, f"{doc_id}: {without_manifest[doc_id].title!r}"


def test_shipped_pages_without_their_manifest_row_get_the_year_their_text_gives(without_manifest):
    found = {d: doc.year for d, doc in without_manifest.items() if doc.year is not None}
    assert len(found) >= 6, f"the dated news pages and press releases give their year: {found}"
    for doc_id, year in found.items():
        assert year == MANIFEST[doc_id].year, (
            f"{doc_id}: the text's date is the manifest's year ({year} vs {MANIFEST[doc_id].year})"
        )
    assert without_manifest["en/mieux_action_iberred_en.txt"].year is None, "an action's period is not the page's year"


def test_shipped_not_content_blocks_hold_no_practice_sentence():
    flagged: dict[str, set[str]] = {}
    for source in iter_sources(CORPUS):
        doc = parse(source, MANIFEST.get(source.doc_id))
        for b in doc.blocks:
            if b.not_content:
                flagged.setdefault(source.doc_id, set()).add(b.not_content)
                if b.not_content != "urls":
                    assert not re.search(r"[.!?]$", b.text), f"{source.doc_id}: a sentence is content: {b.text!r}"
    actions = {
        f"en/mieux_action_{name}_en.txt" for name in ("iberred", "jordan_ii_thb", "peru_i_thb", "thailand_ii_thb")
    }
    assert flagged == {
        **{doc_id: {"status", "field", "role"} for doc_id in actions | {"fr/mieux_action_perou_iii_fr.txt"}},
        "en/hub_project_mieux_plus_en.txt": {"debris"},  # the project sheet's table
        "en/mieux_2009_2015_lessons_good_practices_slideshare_en.txt": {"urls"},  # e-mail and web addresses
        "seeds/002_e7beff1b5469f5c6.txt": {"urls"},  # footnotes that only give a link
        "seeds/004_7b772109f36aa110.txt": {"debris", "urls"},  # figures and tables read line by line; footnote links
        **{
            doc_id: {"date"}
            for doc_id in (  # "17 December 2020" under a news title
                "en/icmpd_news_building_bridges_2009_2019_en.txt",
                "en/icmpd_news_mieux_2018_annual_report_en.txt",
                "en/mieux_case_study_peru_smuggling_landing_en.txt",
                "fr/libe_ma_mieux_maroc_conference_traite_2013_fr.txt",
                "fr/mieux_etude_de_cas_perou_landing_fr.txt",
            )
        },
    }, f"what is kept out of the passages, document by document: {flagged}"


def test_shipped_passages_name_no_expert_country(shipped):
    assert role_country_passages(shipped) == [], "no passage is tagged with a country named only as expert"
    iberred = [p for p in shipped.retriever.passages if p.doc_id == "en/mieux_action_iberred_en.txt"]
    assert iberred and not any("ES" in p.countries for p in iberred), (
        "Spain sent the experts; IberRed is not Spain's action"
    )
    # Comparable practices: a passage of an action page counts for the action's country, never for its experts'.
    experts = {
        "en/mieux_action_iberred_en.txt": {"ES"},
        "en/mieux_action_peru_i_thb_en.txt": {"ES", "PT"},
        "en/mieux_action_jordan_ii_thb_en.txt": {"BE", "BG"},
        "fr/mieux_action_perou_iii_fr.txt": {"ES", "AR"},
    }
    seen = 0
    for text in (
        "cooperation among public prosecutors against trafficking",
        "shelters and support for victims of trafficking",
        "formation des agents contre le trafic de migrants",
    ):
        for g in similar(shipped, text=text, k=30):
            for c in g.passages:
                if c.source in experts:
                    seen += 1
                    assert not experts[c.source] & set(c.countries), (
                        f"{c.source}: listed under its experts' country {c.countries}"
                    )
    assert seen, "the action pages are among the comparable practices"
    thailand = [p for p in shipped.retriever.passages if p.doc_id == "en/mieux_action_thailand_ii_thb_en.txt"]
    assert thailand and not any({"GB", "IE", "IT", "BE"} & set(p.countries) for p in thailand), (
        "Thailand II's expert countries are not documented practices"
    )
    covered = coverage(shipped)
    assert covered.totals.get("TH", 0) >= len(thailand), "Thailand II's passages count for Thailand"
