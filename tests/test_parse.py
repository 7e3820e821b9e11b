"""Parse stage: real files of every supported type, bad files, and the cleaning of the corpus seeds."""

from __future__ import annotations

import re
import zipfile
from pathlib import Path

import docx
import pytest
from fpdf import FPDF
from pypdf import PdfReader, PdfWriter

from assistant.errors import BadDocument
from assistant.load import iter_sources, read_manifest
from assistant.parse import parse
from assistant.text import detect_document_language, detect_language
from assistant.types import Document, ManifestEntry, SourceFile

CORPUS = Path(__file__).resolve().parents[1] / "corpus"
MANIFEST = read_manifest(CORPUS)
DEJAVU = Path("/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf")

FRENCH = (
    "Le ministère de l’Intérieur du Pérou a intégré à la formation des exemples concrets. "
    "Les résultats obtenus à Tacna et à Tumbes sont très encourageants pour la coopération "
    "transfrontalière entre les pays voisins, notamment le Chili et l’Équateur."
)


def source(path: Path) -> SourceFile:
    """The SourceFile the load stage gives for one file."""
    return next(iter_sources(path.parent, only=[path]))


def parsed(path: Path) -> Document:
    return parse(source(path))


def refused(path: Path, **kwargs) -> str:
    """Parse a file that must be refused; return the message, checked to name the file."""
    with pytest.raises(BadDocument) as caught:
        parse(source(path), **kwargs)
    message = str(caught.value)
    assert f"corpus/{path.name}" in message, f"the error names the file: {message}"
    return message


def check_offsets(doc: Document) -> None:
    for block in doc.blocks:
        assert doc.text[block.start : block.end] == block.text, (
            f"{doc.doc_id}: block offsets must slice doc.text: {block}"
        )


def fold(text: str) -> str:
    return " ".join(text.split())


# ---------------------------------------------------------------------------- the corpus


@pytest.fixture(scope="module")
def corpus() -> dict[str, Document]:
    return {s.doc_id: parse(s, MANIFEST.get(s.doc_id)) for s in iter_sources(CORPUS)}


@pytest.fixture(scope="module")
def seed000(corpus) -> Document:
    return corpus["seeds/000_c0f20d1b9c390d7f.txt"]


def test_every_corpus_file_parses_with_its_manifest_language(corpus):
    assert len(corpus) == 40, "all 40 corpus files parse"
    for doc_id, doc in corpus.items():
        assert doc.language == MANIFEST[doc_id].language, f"{doc_id}: language must match MANIFEST.tsv"
        assert doc.title == MANIFEST[doc_id].title, f"{doc_id}: title comes from the manifest"
        assert doc.blocks and doc.text, f"{doc_id}: some text is left"


def test_every_corpus_block_slices_the_text(corpus):
    for doc in corpus.values():
        check_offsets(doc)
        assert doc.text == "\n\n".join(b.text for b in doc.blocks), (
            f"{doc.doc_id}: text is the blocks joined by blank lines"
        )
        assert all(b.kind in ("heading", "paragraph", "bullet") for b in doc.blocks), f"{doc.doc_id}: known block kinds"


def test_no_word_split_at_a_line_end_survives(corpus):
    for doc_id, doc in corpus.items():
        raw = (CORPUS / doc_id).read_text(encoding="utf-8")
        for match in re.finditer(r"([^\W\d_]+)-[ \t]*\n\s*([a-zà-öø-ÿ]+)", raw):
            left, right = match.groups()
            assert f"{left}- {right}" not in doc.text, f"{doc_id}: '{left}-' + '{right}' must be rejoined"


def test_seed000_sections(seed000):
    headings = [b.text for b in seed000.blocks if b.kind == "heading"]
    for name in ("Contexte", "Concept d’Action", "Pratiques", "Impact", "Enseignements"):
        assert name in headings, f"seed 000 has a '{name}' section: {headings}"
    contexte = [b for b in seed000.blocks if b.section == "Contexte" and b.kind == "paragraph"]
    assert contexte and contexte[0].text.startswith("Le régime de libre circulation"), "paragraphs carry their section"


def test_seed000_practices_are_bullets(seed000):
    bullets = [b for b in seed000.blocks if b.section == "Pratiques" and b.kind == "bullet"]
    assert len(bullets) == 3, f"the three practices are bullet blocks: {[b.text[:40] for b in bullets]}"
    assert bullets[0].text.startswith("Concept d’Action flexible"), "the bullet symbol is stripped"
    assert "•" not in seed000.text, "no bullet symbol is left in the text"


def test_seed000_sentence_survives_line_breaks_and_hyphens(seed000):
    sentence = (
        "À partir d'entretiens menés auprès des agents, des OSC et des organisations internationales présents aux "
        "frontières, MIEUX a intégré à la formation des exemples et des exercices basés sur des scénarios reflétant "
        "les différentes routes de migration irrégulière"
    )
    assert fold(sentence.replace("'", "’")) in fold(seed000.text), "the quote is verbatim in the cleaned text"


def test_seed000_hyphens(seed000):
    text = seed000.text
    for word in (
        "ministère de l’Intérieur",
        "systématique et intégrée",
        "résultats des deux Actions",
        "d’organiser une formation",
        "contexte des migrations",
        "contextes nationaux et locaux",
    ):
        assert word in text, f"'{word}' is rejoined"
    for kept in ("sud-américains", "CMNP TP-TM", "N° 008-2018-IN"):
        assert kept in text, f"'{kept}' keeps its hyphen"


def test_seed000_footnotes(seed000):
    text = seed000.text
    assert "des Caraïbes.\n\n" in text and "Caraïbes.2" not in text, "the marker after 'Caraïbes.' is removed"
    assert "pays du MERCOSUR a réduit" in text, "the lone marker in 'MERCOSUR 1 a réduit' is removed"
    assert "dans 21 guichets" in text, "ordinary numbers stay"
    notes = [b for b in seed000.blocks if b.section == "Notes"]
    assert [b.text[:2] for b in notes] == ["1 ", "2 ", "3 "], f"the three footnotes are their own blocks: {notes}"
    assert notes[0].text.endswith("le Paraguay et l’Uruguay."), "a footnote keeps its second line"
    assert "ont permis de clarifier les rôles" in text, "a sentence cut by a footnote at the page foot is joined again"


def test_seed002_double_spaced_lines_and_footnotes(corpus):
    doc = corpus["seeds/002_e7beff1b5469f5c6.txt"]
    assert (
        "une soixantaine de participants provenant de différents pays et organisations partenaires du Dialogue"
        in doc.text
    ), "lines separated by blank lines are joined"
    assert "constitue donc une priorité.\n\n" in doc.text, "the marker 'priorité.1' is removed"
    notes = {b.text.split()[0]: b.text for b in doc.blocks if b.section == "Notes"}
    assert notes["1"].startswith("1 Déclaration de Rome et son Programme, voir : http://processusderabat.net/"), (
        "the '1' / ' Déclaration' footnote and its URL form one block"
    )
    assert doc.text.count("FR_Declaration_Prog_Rome_final_27_11_2014.pdf") == 1, (
        "the bare URL repeated after the footnotes is dropped"
    )
    headings = [b.text for b in doc.blocks if b.kind == "heading"]
    assert "INTRODUCTION ET SESSION D’OUVERTURE" in headings, "an ALL-CAPS line is a heading"
    assert any(
        h.startswith("SESSION PLENIERE 1 : COMMENT ELABORER") and h.endswith("TRAITE DES ETRES HUMAINS ?")
        for h in headings
    ), "a heading over two lines is one heading"


def test_seed004_running_title_and_page_numbers_are_dropped(corpus):
    doc = corpus["seeds/004_7b772109f36aa110.txt"]
    assert "MIEUX 2018 Rapport Annuel I l’année de la célébration" not in doc.text, "the running title is removed"
    assert "0808" not in doc.text, "a page number alone on its line is removed"
    assert "TYPES D’ACTIVITÉS" in doc.text, "repeated headings are not page furniture"
    notes = [b for b in doc.blocks if b.section == "Notes"]
    assert len(notes) == 20, f"the 20 footnotes are lifted out of the running text: {len(notes)}"


def test_seed001_bullets_keep_their_enumerators(corpus):
    doc = corpus["seeds/001_1b1519af3c0dff5a.txt"]
    bullets = [b.text for b in doc.blocks if b.kind == "bullet" and b.section == "Actions connexes"]
    assert [b[:3] for b in bullets] == ["a. ", "b. ", "c. ", "d. ", "e. ", "f. "], f"'- a.' keeps 'a.': {bullets}"
    assert "**" not in doc.text, "markdown emphasis is stripped"
    assert "c. Élaborer des protocoles" in doc.text and "afin de prévenir et de combattre le trafic" in doc.text, (
        "a bullet cut by a blank line goes on"
    )
    assert any(b.kind == "bullet" and b.text.startswith("10.7: Faciliter") for b in doc.blocks), (
        "'■' bullets become bullet blocks"
    )


def test_corpus_keeps_real_compounds(corpus):
    text = " ".join(doc.text for doc in corpus.values())
    for word in ("peer-to-peer", "Timor-Leste", "demand-driven", "États-Unis", "au-delà", "multi-agences"):
        assert word in text, f"'{word}' keeps its hyphen"


# ---------------------------------------------------------------------------- cleaning, on small real files


def test_hyphens_at_line_ends(tmp_path):
    path = tmp_path / "hyphens.txt"
    path.write_text(
        "Le minis-\ntère a mis en place une politique inté-\ngrée ; les résul-\ntats permettent d’or-\n"
        "ganiser la suite dans ce con-\ntexte, avec un échange peer-to-\npeer, une approche demand-\n"
        "driven, au Timor-\nLeste, pour les migrants sud-\naméricains et le vice-\nprésident du comité.\n",
        encoding="utf-8",
    )
    text = parsed(path).text
    for word in (
        "ministère",
        "intégrée",
        "résultats",
        "d’organiser",
        "contexte",
        "peer-to-peer",
        "demand-driven",
        "Timor-Leste",
        "sud-américains",
        "vice-président",
    ):
        assert word in text, f"'{word}' in {text!r}"


def test_hyphen_follows_the_document_usage(tmp_path):
    path = tmp_path / "usage.txt"
    path.write_text(
        "Les organisations non gouvernementales et les co-\nordinateurs travaillent ensemble.\n\n"
        "Les coordinateurs régionaux ont aussi un rôle dans la mise en oeuvre des activités.\n",
        encoding="utf-8",
    )
    assert "les coordinateurs travaillent" in parsed(path).text, (
        "'coordinateurs' is written unbroken elsewhere, so 'co-' joins"
    )


def test_paragraphs_bullets_and_headings_from_text(tmp_path):
    path = tmp_path / "structure.txt"
    path.write_text(
        "CONTEXTE ET OBJECTIFS\n\n"
        "Le programme a soutenu la création de lignes directrices\n"
        "intersectorielles pour la lutte contre le trafic de migrants.\n\n"
        "Pratiques\n\n"
        "• Concept d’Action flexible : MIEUX fonctionne selon une approche\n"
        "flexible et rapide.\n"
        "• Intégration de la dimension transfrontalière.\n"
        "1. Premier point numéroté de la liste.\n",
        encoding="utf-8",
    )
    doc = parsed(path)
    kinds = [(b.kind, b.text[:20]) for b in doc.blocks]
    assert kinds == [
        ("heading", "CONTEXTE ET OBJECTIF"),
        ("paragraph", "Le programme a soute"),
        ("heading", "Pratiques"),
        ("bullet", "Concept d’Action fle"),
        ("bullet", "Intégration de la di"),
        ("bullet", "1. Premier point num"),
    ], f"structure of the text: {kinds}"
    assert doc.blocks[3].text.endswith("approche flexible et rapide."), "a bullet's wrapped line is joined in"
    assert doc.blocks[5].section == "Pratiques", "bullets carry their section"
    assert doc.title == "Structure", "a generic section name is never the title: the file name is"
    check_offsets(doc)


def test_numbered_and_figure_headings_of_web_pages(tmp_path):
    # The layout of the "6 ways" and "10 years of MIEUX" pages: a numbered line alone above its text
    # titles that text; so does a line that starts with a figure. A date line does not.
    path = tmp_path / "page.txt"
    path.write_text(
        "6 ways MIEUX is fighting against Trafficking in Human Beings\n\n"
        "Currently, about 20% of the ongoing projects are focused on fighting trafficking in human beings.\n\n"
        "17 December 2020\n\n"
        "The list below gives some highlights of what the programme supports partner countries with.\n\n"
        "1. Thailand: Targeted assistance to vulnerable groups\n\n"
        "The Ministry of Social Development wishes to enhance the capacities of the Thai authorities.\n\n"
        "3 principles since 2008\n\n"
        "Since its first action, the initiative has followed three consistent principles.\n\n"
        "  1. Demand-driven: partner countries request assistance.\n"
        "  2. Fast response: actions are ready to launch within three months\n",
        encoding="utf-8",
    )
    doc = parsed(path)
    kinds = [(b.kind, b.text[:24]) for b in doc.blocks]
    assert kinds == [
        ("heading", "6 ways MIEUX is fighting"),
        ("paragraph", "Currently, about 20% of "),
        ("paragraph", "17 December 2020"),
        ("paragraph", "The list below gives som"),
        ("heading", "1. Thailand: Targeted as"),
        ("paragraph", "The Ministry of Social D"),
        ("heading", "3 principles since 2008"),
        ("paragraph", "Since its first action, "),
        ("bullet", "1. Demand-driven: partne"),
        ("bullet", "2. Fast response: action"),
    ], f"structure of the page: {kinds}"
    assert doc.blocks[9].section == "3 principles since 2008", "list items carry the heading above them"
    check_offsets(doc)


def test_calls_to_action_of_web_pages_are_dropped(tmp_path):
    # "Find out more… by downloading the case study!" ends the Peru landing pages: it answers nothing,
    # and as a passage of its own it outranked the case study's lessons.
    path = tmp_path / "landing.txt"
    path.write_text(
        "Addressing Smuggling of Migrants\n\n"
        "Peru is a country of origin, transit and destination for smuggled migrants.\n\n"
        "Find out more about this Action by downloading and/or previewing the case study!\n\n"
        "Read more about how the training was adapted to each border region in the annual report of the programme, "
        "which lists every workshop held in Tacna, Tumbes and Puno between 2017 and 2018 with the number of "
        "officers trained in each.\n",
        encoding="utf-8",
    )
    doc = parsed(path)
    assert "Find out more" not in doc.text, "the call to action is not indexed"
    assert "Peru is a country of origin" in doc.text, "the text around it stays"
    assert "Read more about how the training was adapted" in doc.text, "a long paragraph that starts alike is content"
    check_offsets(doc)
    fr = tmp_path / "etude.html"
    fr.write_text(
        "<html><body><h1>Étude de cas</h1><p>Le Pérou est un pays d’origine et de transit.</p>"
        "<p>Pour en savoir plus sur cette Action, téléchargez et/ou visualisez l'étude de cas !</p></body></html>",
        encoding="utf-8",
    )
    assert "en savoir plus" not in parsed(fr).text, "the same in French, in a web page"


def test_a_site_address_alone_ends_the_section(tmp_path):
    # The last page of seed-000: the lessons, the site's address, then the back cover's text, which
    # is not one of the lessons.
    path = tmp_path / "case.txt"
    path.write_text(
        "Enseignements\n\n"
        "La lutte contre le trafic de migrants exige des réponses coordonnées.\n\n\n\n"
        "www.mieux-initiative.eu\n\n"
        "Depuis son lancement en 2009, l’initiative MIEUX offre un cadre pour solliciter des activités.\n",
        encoding="utf-8",
    )
    doc = parsed(path)
    sections = [(b.text[:20], b.section) for b in doc.blocks]
    assert sections == [
        ("Enseignements", "Enseignements"),
        ("La lutte contre le t", "Enseignements"),
        ("Depuis son lancement", None),
    ], f"the back cover is in no section: {sections}"
    assert "www.mieux-initiative.eu" not in doc.text, "the address is page furniture"
    check_offsets(doc)


def test_title_falls_back_to_the_file_name(tmp_path):
    path = tmp_path / "mieux_action_peru_notes.txt"
    path.write_text(FRENCH, encoding="utf-8")
    doc = parsed(path)
    assert doc.title == "MIEUX action Peru notes", "the file stem, humanised: acronym and country spelled"
    assert doc.language == "fr" and doc.year is None and doc.source is None, "language detected; no manifest fields"


def test_non_breaking_spaces_and_unicode(tmp_path):
    path = tmp_path / "spaces.txt"
    path.write_text(
        "Le\u00a0programme «\u00a0MIEUX\u00a0» a\u202fété   lancé en 2009 ; c’est l’initiative de l’UE.\n",
        encoding="utf-8",
    )
    text = parsed(path).text
    assert text == "Le programme « MIEUX » a été lancé en 2009 ; c’est l’initiative de l’UE.", (
        f"spaces folded, Unicode kept: {text!r}"
    )


def test_windows_1252_text_is_decoded(tmp_path):
    path = tmp_path / "ancien.txt"
    path.write_bytes(FRENCH.replace("’", "'").encode("cp1252"))
    assert "ministère de l'Intérieur" in parsed(path).text, "cp1252 bytes are read as such"


# ---------------------------------------------------------------------------- each reader, on generated files


def make_pdf(path: Path, pages: int = 3, text: str = FRENCH) -> Path:
    pdf = FPDF()
    if DEJAVU.exists():
        pdf.add_font("DejaVu", "", str(DEJAVU))
        pdf.set_font("DejaVu", size=11)
    else:  # the core font only knows latin-1
        pdf.set_font("Helvetica", size=11)
        text = text.replace("’", "'")
    for number in range(1, pages + 1):
        pdf.add_page()
        pdf.cell(0, 8, "Rapport MIEUX 2018", new_x="LMARGIN", new_y="NEXT")
        pdf.ln(4)
        pdf.cell(0, 8, "Contexte", new_x="LMARGIN", new_y="NEXT")
        pdf.ln(4)
        pdf.multi_cell(0, 6, text)
        pdf.ln(4)
        pdf.cell(0, 8, str(number), new_x="LMARGIN", new_y="NEXT")
    path.write_bytes(bytes(pdf.output()))
    return path


def test_pdf(tmp_path):
    doc = parsed(make_pdf(tmp_path / "rapport.pdf"))
    assert "ministère de l’Intérieur du Pérou a intégré" in doc.text.replace("'", "’"), (
        f"accented text comes out of the PDF: {doc.text[:200]!r}"
    )
    assert "Rapport MIEUX 2018" not in doc.text, "a header repeated on every page is removed"
    assert not re.search(r"(?m)^\d+$", doc.text), "page numbers are removed"
    assert any(b.kind == "heading" and b.text == "Contexte" for b in doc.blocks), "a section name is a heading"
    assert doc.language == "fr", "detected as French"
    check_offsets(doc)


def test_encrypted_pdf(tmp_path):
    plain = make_pdf(tmp_path / "plain.pdf")
    writer = PdfWriter(clone_from=PdfReader(plain))
    writer.encrypt(user_password="secret", owner_password="owner", algorithm="RC4-128")
    path = tmp_path / "locked.pdf"
    with path.open("wb") as handle:
        writer.write(handle)
    message = refused(path)
    assert "password-protected" in message and "unencrypted copy" in message, message


def test_pdf_without_text_layer(tmp_path):
    pdf = FPDF()
    pdf.add_page()
    pdf.rect(20, 20, 100, 60, style="F")  # a "scan": drawing only
    path = tmp_path / "scan.pdf"
    path.write_bytes(bytes(pdf.output()))
    message = refused(path)
    assert "scanned image with no text" in message and "OCR" in message, message


def test_corrupt_pdf(tmp_path):
    path = tmp_path / "broken.pdf"
    path.write_bytes(b"%PDF-1.7\n1 0 obj << /Type /Catalog /Pages 2 0 R >>\nthis is not a pdf body\n")
    message = refused(path)
    assert "damaged" in message, message


def make_docx(path: Path) -> Path:
    document = docx.Document()
    document.add_heading("Lutter contre le trafic de migrants", level=1)
    document.add_heading("Pratiques", level=2)
    document.add_paragraph("Concept d’Action flexible et adapté aux besoins.", style="List Bullet")
    document.add_paragraph("Intégration de la dimension transfrontalière.", style="List Bullet")
    document.add_heading("Impact", level=2)
    document.add_paragraph(FRENCH)
    table = document.add_table(rows=1, cols=2)
    table.rows[0].cells[0].text = "Tacna"
    table.rows[0].cells[1].text = "Tumbes"
    document.save(path)
    return path


def test_docx(tmp_path):
    doc = parsed(make_docx(tmp_path / "etude.docx"))
    kinds = [(b.kind, b.text[:15]) for b in doc.blocks]
    assert kinds[:6] == [
        ("heading", "Lutter contre l"),
        ("heading", "Pratiques"),
        ("bullet", "Concept d’Actio"),
        ("bullet", "Intégration de "),
        ("heading", "Impact"),
        ("paragraph", "Le ministère de"),
    ], f"Word headings and list paragraphs keep their kind: {kinds}"
    assert doc.blocks[3].section == "Pratiques", "bullets sit in their section"
    assert "Tacna" in doc.text and "Tumbes" in doc.text, "table cells are read"
    assert doc.title == "Lutter contre le trafic de migrants", "the first heading is the title"
    check_offsets(doc)


def test_docx_renamed_pdf(tmp_path):
    path = make_docx(tmp_path / "etude.pdf")
    message = refused(path)
    assert "the file is not a PDF (starts with 'PK'); is it a .docx?" in message, message


def test_pdf_renamed_txt(tmp_path):
    path = make_pdf(tmp_path / "rapport.txt")
    message = refused(path)
    assert "not text (it looks like a PDF)" in message and "rename it to .pdf" in message, message


def test_zip_bomb_docx(tmp_path):
    path = tmp_path / "bomb.docx"
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("[Content_Types].xml", "<Types/>")
        with archive.open("word/document.xml", "w") as member:
            for _ in range(20):
                member.write(b"\0" * 1_000_000)  # 20 MB that deflate to a few kB
    message = refused(path)
    assert "zip bomb" in message, message


def test_zip_that_is_not_word(tmp_path):
    path = tmp_path / "tableur.docx"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("xl/workbook.xml", "<workbook/>")
    message = refused(path)
    assert "Excel" in message and "not a Word document" in message, message


def test_html(tmp_path):
    path = tmp_path / "page.html"
    path.write_text(
        """<!DOCTYPE html><html><head><title>Étude de cas</title><style>p {color: red}</style></head>
        <body><header>Accueil | Actions</header><nav><ul><li>Menu</li></ul></nav>
        <script>var secret = "SCRIPT_TEXT";</script><noscript>Activez JavaScript</noscript>
        <h1>Pérou (2017-2018)</h1><h2>Contexte</h2>
        <p>Le Pérou est un pays <b>d’origine</b>, de transit et de destination pour le trafic de migrants.</p>
        <ul><li>Formation à Tacna</li><li>Formation à <a href="#">Tumbes</a></li></ul>
        <footer>© MIEUX 2019</footer></body></html>""",
        encoding="utf-8",
    )
    doc = parsed(path)
    for hidden in ("SCRIPT_TEXT", "color: red", "Menu", "Accueil", "Activez", "©"):
        assert hidden not in doc.text, f"'{hidden}' (script, style, nav, header, footer) must not appear"
    kinds = [(b.kind, b.text) for b in doc.blocks]
    assert kinds == [
        ("heading", "Pérou (2017-2018)"),
        ("heading", "Contexte"),
        ("paragraph", "Le Pérou est un pays d’origine, de transit et de destination pour le trafic de migrants."),
        ("bullet", "Formation à Tacna"),
        ("bullet", "Formation à Tumbes"),
    ], f"headings, paragraph and list items: {kinds}"
    assert doc.blocks[4].section == "Contexte", "list items sit in their section"
    check_offsets(doc)


def test_markdown(tmp_path):
    path = tmp_path / "notes.md"
    path.write_text(
        "# Enseignements\n\nLa lutte contre le **trafic de migrants** exige des réponses "
        "[coordonnées](https://example.org).\n\n- Coopération transfrontalière\n- Rôles clairs\n",
        encoding="utf-8",
    )
    doc = parsed(path)
    assert [(b.kind, b.text) for b in doc.blocks] == [
        ("heading", "Enseignements"),
        ("paragraph", "La lutte contre le trafic de migrants exige des réponses coordonnées."),
        ("bullet", "Coopération transfrontalière"),
        ("bullet", "Rôles clairs"),
    ], f"markdown structure, emphasis and link syntax removed: {doc.blocks}"


# ---------------------------------------------------------------------------- files that must be refused


def test_empty_file(tmp_path):
    path = tmp_path / "vide.txt"
    path.write_bytes(b"")
    assert "empty (0 bytes)" in refused(path), "a zero-byte file is refused"


def test_whitespace_only_file(tmp_path):
    path = tmp_path / "blanc.txt"
    path.write_text("  \n\t\n   \n", encoding="utf-8")
    assert "only whitespace" in refused(path), "a file of spaces is refused"


def test_too_large_file(tmp_path):
    path = tmp_path / "gros.txt"
    path.write_text(FRENCH, encoding="utf-8")
    message = refused(path, max_bytes=100)
    assert "over the" in message and "limit" in message, message


def test_unsupported_type(tmp_path):
    path = tmp_path / "notes.xyz"
    path.write_text(FRENCH, encoding="utf-8")
    message = refused(path)
    assert "unsupported file type '.xyz'" in message and ".docx" in message, (
        f"names the type and lists supported ones: {message}"
    )


def test_undecodable_text(tmp_path):
    path = tmp_path / "illisible.txt"
    path.write_bytes(b"Texte \x81\x8d\x8f\x90 illisible")
    assert "cannot be decoded" in refused(path), "bytes that are neither UTF-8 nor cp1252 are refused"


def test_binary_text(tmp_path):
    path = tmp_path / "binaire.txt"
    path.write_bytes(b"\x00\x01\x02binary\x00data" * 20)
    assert "binary data" in refused(path), "a .txt full of NUL bytes is not text"


def test_spanish_text(tmp_path):
    path = tmp_path / "espanol.txt"
    path.write_text(
        "El Perú es un país de origen, tránsito y destino para el tráfico de migrantes. La Dirección General "
        "de Seguridad Democrática coordina la política nacional contra la trata de personas y el tráfico ilícito.",
        encoding="utf-8",
    )
    message = refused(path)
    assert "Spanish (es)" in message and "only French and English are indexed" in message, message


# ---------------------------------------------------------------------------- language


@pytest.mark.parametrize(
    "question, language",
    [
        ("How did Peru adapt its training?", "en"),
        ("What did MIEUX do in Norway in 2030?", "en"),
        ("And in Jordan?", "en"),
        ("Which countries?", "en"),
        ("Comment le Pérou a-t-il adapté sa formation ?", "fr"),
        ("Et en Jordanie ?", "fr"),
        ("Quels pays ?", "fr"),
        (FRENCH, "fr"),
        ("MIEUX supports partner countries with peer-to-peer expertise on migration governance and smuggling.", "en"),
    ],
)
def test_detect_language(question, language):
    assert detect_language(question) == language, f"{question!r} is {language}"


def test_detect_language_without_words():
    assert detect_language("2019 – 2020 !") is None, "no letters, no language"


def test_detect_document_language_names_other_languages():
    code, probability = detect_document_language(
        "Die Bundesregierung hat beschlossen, die Zusammenarbeit mit den Partnerländern zu verstärken."
    )
    assert code == "de" and probability > 0.9, f"German is recognised: {code} {probability}"


def test_manifest_language_wins(tmp_path):
    path = tmp_path / "court.txt"
    path.write_text("MIEUX Pérou III", encoding="utf-8")
    doc = parse(
        source(path), ManifestEntry(doc_id="court.txt", title="Pérou III", language="fr", year=2020, source="https://x")
    )
    assert (doc.language, doc.title, doc.year, doc.source) == ("fr", "Pérou III", 2020, "https://x"), (
        "manifest fields fill the Document"
    )


def test_html_gives_its_own_address_when_no_manifest_does(tmp_path):
    page = """<!DOCTYPE html><html><head><title>Peru III</title>{link}</head><body><h1>Peru III</h1>
            <p>Peru trained its border officials to detect migrant smuggling with a new handbook.</p></body></html>"""
    canonical = tmp_path / "canonical.html"
    canonical.write_text(
        page.format(link='<link rel="canonical" href="https://example.org/actions/peru-iii">'), encoding="utf-8"
    )
    assert parsed(canonical).source == "https://example.org/actions/peru-iii", "a page's canonical link is its address"
    og = tmp_path / "og.html"
    og.write_text(page.format(link='<meta property="og:url" content="https://example.org/og">'), encoding="utf-8")
    assert parsed(og).source == "https://example.org/og", "og:url gives the address when there is no canonical link"
    none = tmp_path / "none.html"
    none.write_text(page.format(link='<link rel="canonical" href="javascript:alert(1)">'), encoding="utf-8")
    assert parsed(none).source is None, "only an http(s) address is taken as the page's address"


@pytest.mark.parametrize(
    "question, expected",
    [
        ("How did Peru adapt its training?", None),
        ("Which countries?", None),
        ("And in Jordan?", None),
        ("Training of judges in Peru", None),
        ("MIEUX Peru III", None),
        ("border guards training", None),
        ("Which lessons did MIEUX draw?", None),
        ("Comment le Pérou a-t-il adapté sa formation ?", None),
        ("Et en Jordanie ?", None),
        ("Formation des juges au Pérou", None),
        ("Quels pays ont formé leurs juges ?", None),
        ("¿Cómo adaptó Perú su formación?", "es"),
        ("¿Qué hizo el Perú para la formación de los guardias?", "es"),
        ("Wie hat Peru seine Ausbildung angepasst?", "de"),
        ("Was hat Jordanien gegen Menschenhandel getan?", "de"),
        ("Come ha adattato il Perù la sua formazione?", "it"),
        ("Como o Peru adaptou a sua formação?", "pt"),
        ("Hoe heeft Peru zijn opleiding aangepast?", "nl"),
        ("Как Перу адаптировало обучение?", "ru"),
    ],
)
def test_a_question_in_neither_french_nor_english_is_recognised(question, expected):
    from assistant.text import other_language

    assert other_language(question) == expected, f"{question!r} must be read as {expected or 'French or English'}"


def test_no_question_of_the_eval_set_is_taken_for_another_language():
    import json

    from assistant.text import other_language

    questions = [
        json.loads(line)["question"]
        for line in (Path(__file__).parent.parent / "eval" / "questions.jsonl").read_text(encoding="utf-8").splitlines()
        if line.strip()
    ]
    assert len(questions) > 50, "the dev set must be there"
    wrong = [q for q in questions if other_language(q)]
    assert not wrong, f"French and English questions must never be refused as another language: {wrong}"
