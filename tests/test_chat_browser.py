"""The chat app in a real headless Chromium: ask, open a source, filter, rate, switch language, explore, export."""

from __future__ import annotations

import socket
import statistics
import time
from pathlib import Path

import pytest
from playwright.sync_api import expect, sync_playwright

from assistant import feedback
from assistant.chat import build_app, hash_password, load_auth
from assistant.cite import fold_ws
from assistant.pipeline import Assistant
from assistant.types import Filters

from .conftest import PERU_CASE_STUDY

pytestmark = [pytest.mark.browser, pytest.mark.slow]

DOCS = Path(__file__).resolve().parent.parent / "docs"
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
PERU = "How did Peru adapt its training?"
PERU_FR = "Comment le Pérou a-t-il adapté sa formation ?"
ANSWERED = "#chatbot .answer, #chatbot .abstain, #chatbot .failure, #chatbot .filtered"
PHONE = {"width": 390, "height": 844}
JORDAN = "How did Jordan protect victims of trafficking?"
SPANISH = "¿Cómo adaptó Perú su formación?"
TIMINGS: dict[str, list[float]] = {}


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _launch(assistant, **kwargs):
    app = build_app(assistant)
    app.launch(server_name="127.0.0.1", server_port=_free_port(), prevent_thread_lock=True, quiet=True, **kwargs)
    return app


@pytest.fixture(scope="module")
def server(shipped):
    app = _launch(shipped)
    yield app
    app.close()


@pytest.fixture(scope="module")
def browser():
    if not Path(CHROMIUM).exists():
        pytest.fail(f"{CHROMIUM} is missing: install Debian's chromium (apt-get install -y chromium)")
    with sync_playwright() as p:
        # Never let Playwright fetch a browser: the system's Chromium only.
        b = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield b
        b.close()
    if TIMINGS:
        print("\n" + "; ".join(f"{k}: median {statistics.median(v):.2f} s over {len(v)}" for k, v in TIMINGS.items()))


def _open(browser, url: str, locale: str = "en-US", viewport: dict | None = None):
    page = browser.new_page(viewport=viewport or {"width": 1500, "height": 1000}, locale=locale)
    page.errors = []
    page.on("pageerror", lambda e: page.errors.append(str(e)))
    page.goto(url)
    page.wait_for_selector("#index-status.loaded", state="attached", timeout=60_000)
    return page


@pytest.fixture
def page(browser, server):
    p = _open(browser, server.local_url)
    yield p
    assert not p.errors, f"the page must run without JavaScript errors: {p.errors}"
    p.close()


def _ask(page, question: str) -> float:
    """Type a question, send it, wait for its answer; returns the seconds until the answer is shown."""
    before = page.locator(ANSWERED).count()
    page.fill("#question textarea", question)
    started = time.perf_counter()
    page.click("#ask")
    page.wait_for_function(f"document.querySelectorAll({ANSWERED!r}).length > {before}", timeout=120_000)
    seconds = time.perf_counter() - started
    TIMINGS.setdefault("question sent -> answer shown", []).append(seconds)
    return seconds


def _show_top_of_last_answer(page):
    """Scroll the conversation so the latest answer starts at the top (for the screenshots in docs/)."""
    _last_bot(page).evaluate("e => e.scrollIntoView({block: 'start'})")
    page.evaluate("window.scrollTo(0, 0)")


def _last_bot(page):
    return page.locator(ANSWERED).last


def test_ask_shows_an_answer_with_numbered_cited_sources(page, shipped):
    _ask(page, PERU)
    answer = _last_bot(page)
    assert answer.get_attribute("class") == "answer", "the Peru training question must be answered, not refused"
    expected = shipped.ask(PERU)
    links = answer.locator("a.cite")
    assert links.count() >= len(expected.citations), "every citation must be a clickable link"
    sources = answer.locator(".sources li")
    assert sources.count() == len(expected.citations), "the answer must list each of its numbered sources"
    titles = sources.all_inner_texts()
    assert any("Pérou" in t or "Peru" in t for t in titles), f"the Peru case study must be among the sources: {titles}"
    assert page.locator("#source-panel .src-window mark").count() == 1, (
        "the first source must open at once in the source panel"
    )
    _show_top_of_last_answer(page)
    page.screenshot(path=str(DOCS / "chat.png"))


def test_clicking_a_citation_shows_the_quote_highlighted_in_its_document(page, shipped):
    _ask(page, PERU)
    expected = shipped.ask(PERU)
    second = expected.citations[1]
    page.locator(f"#chatbot a.cite[href='#cite-0-{second.n}']").first.click()
    panel = page.locator("#source-panel")
    page.wait_for_function(
        "n => (document.querySelector('#source-panel .src-n') || {}).innerText === `[${n}]`",
        arg=second.n,
        timeout=10_000,
    )
    mark = fold_ws(panel.locator(".src-window mark").inner_text())
    assert mark == fold_ws(second.quote), "the highlighted text must be exactly the cited quote"
    window = fold_ws(panel.locator(".src-window").inner_text())
    assert len(window) > len(mark) + 40, "the quote must be shown inside its surrounding text"
    text = panel.inner_text()
    assert second.title[:40] in text, "the panel must name the document"
    assert f"corpus/{second.source}" in text, "the panel must give the document's path in the corpus"
    if second.action:
        assert second.action in text, "the panel must name the action"
    panel.locator("details.src-full summary").click()
    full = panel.locator(".doc-text")
    assert full.is_visible(), "the whole document must open from the panel"
    assert len(fold_ws(full.inner_text())) == len(fold_ws(shipped.document_text(second.source))), (
        "the whole document shown must be the indexed document text"
    )
    page.screenshot(path=str(DOCS / "source.png"))


def test_a_question_outside_the_corpus_is_refused_in_its_own_style_with_related_material(page):
    _ask(page, "What did Norway do about migrant smuggling in 2021?")
    box = _last_bot(page)
    assert box.get_attribute("class") == "abstain", "an answer the corpus does not hold must use the abstention box"
    assert "Not in the corpus" in box.inner_text(), "the abstention must say so in words"
    assert page.locator("#chatbot .answer").count() == 0, "no answer-styled message may appear for a refused question"
    related = box.locator(".related a.cite")
    assert related.count() > 0, "the refusal must offer related material"
    related.first.click()
    page.wait_for_selector("#source-panel .src-window mark", timeout=10_000)
    _show_top_of_last_answer(page)
    page.screenshot(path=str(DOCS / "abstain.png"))


def test_a_follow_up_question_is_read_with_the_conversation(page):
    _ask(page, PERU)
    _ask(page, "And in Jordan?")
    read_as = _last_bot(page).locator(".read-as")
    assert read_as.count() == 1, "the follow-up must show how it was read"
    assert "Jordan" in read_as.inner_text() and "training" in read_as.inner_text(), (
        f"'And in Jordan?' must be read as a question on Jordan's training: {read_as.inner_text()}"
    )


def test_a_country_filter_restricts_the_sources(page, shipped):
    question = "What did MIEUX do about trafficking in human beings?"
    filtered = shipped.ask(question, Filters(countries=["JO"]))
    unfiltered = shipped.ask(question)
    assert {c.source for c in filtered.citations} != {c.source for c in unfiltered.citations}, (
        "the test needs a question whose sources change with the filter"
    )
    page.click("#f-country input")
    page.keyboard.type("Jordan")
    page.locator("#f-country li[role='option']", has_text="Jordan").first.click()
    page.keyboard.press("Escape")
    _ask(page, question)
    shown = _last_bot(page).locator(".sources li").all_inner_texts()
    expected = [c.title for c in filtered.citations]
    assert len(shown) == len(expected), f"the filtered answer must cite {len(expected)} sources, shows {len(shown)}"
    for title, line in zip(expected, shown):
        assert title[:40] in line, f"source {line!r} must be the filtered answer's {title!r}"


def test_thumbs_up_with_a_comment_is_saved_in_the_feedback_log(page, shipped):
    data = Path(shipped.settings.paths.data)
    before = len(feedback.read(data)[0])
    _ask(page, PERU)
    page.fill("#fb-comment textarea", "Clear, and the case study is cited")
    page.locator("#chatbot button[aria-label='Like']").last.click()
    page.wait_for_function("document.querySelector('#status').innerText.includes('saved')", timeout=10_000)
    records, damaged = feedback.read(data)
    assert len(records) == before + 1, "one thumb must add exactly one record"
    r = records[-1]
    assert (r.vote, r.question, r.comment) == ("up", PERU, "Clear, and the case study is cited"), (
        "the record must hold the vote, the question and the comment"
    )
    assert any(c["source"] == PERU_CASE_STUDY for c in r.citations), "the record must hold the answer's citations"
    assert r.answer == shipped.ask(PERU).answer, "the record must hold the answer text"
    assert page.input_value("#fb-comment textarea") == "", "the comment box must be emptied once sent"


def test_the_logged_in_user_is_recorded_with_the_feedback(browser, shipped, tmp_path):
    users = tmp_path / "users.txt"
    users.write_text(f"# chat users\nalice:{hash_password('s3cret-pass', iterations=1000)}\n", encoding="utf-8")
    app = _launch(shipped, auth=load_auth(users))
    try:
        page = browser.new_page(viewport={"width": 1500, "height": 1000}, locale="en-US")
        page.goto(app.local_url)
        page.fill("input[type='text']", "alice")
        page.fill("input[type='password']", "wrong")
        page.keyboard.press("Enter")
        page.wait_for_selector("text=Incorrect", timeout=10_000)
        page.fill("input[type='text']", "alice")  # the login form empties both fields after a failure
        page.fill("input[type='password']", "s3cret-pass")
        page.keyboard.press("Enter")
        page.wait_for_selector("#index-status.loaded", state="attached", timeout=60_000)
        _ask(page, PERU)
        page.locator("#chatbot button[aria-label='Dislike']").last.click()
        page.wait_for_function("document.querySelector('#status').innerText.includes('saved')", timeout=10_000)
        r = feedback.read(shipped.settings.paths.data)[0][-1]
        assert (r.user, r.vote) == ("alice", "down"), "the feedback must name the logged-in user"
        page.close()
    finally:
        app.close()


def test_the_interface_switches_to_french_and_follows_the_browser_language(page, browser, server):
    tabs = page.locator("button[role='tab']")
    assert tabs.first.inner_text() == "Ask the corpus", "an English browser must get the English interface"
    page.locator("#ui-lang label", has_text="Français").click()
    page.wait_for_function("document.querySelector('#ask').innerText.trim() === 'Demander'", timeout=20_000)
    # The labels arrive in one update but are painted one by one: let Playwright retry for a moment.
    expect(tabs, "every tab label must switch to French").to_have_text(
        ["Interroger le corpus", "Pratiques comparables", "Couverture du corpus"]
    )
    assert "Filtres" in page.inner_text("#filters") and "Pays" in page.inner_text("#filters"), (
        "the filters must switch to French"
    )
    _ask(page, "What did Norway do about migrant smuggling in 2021?")
    assert "Absent du corpus" in _last_bot(page).inner_text(), "messages must be labelled in the interface language"
    french = _open(browser, server.local_url, locale="fr-FR")
    try:
        assert french.locator("#ask").inner_text().strip() == "Demander", (
            "a French browser must open on the French interface"
        )
    finally:
        french.close()


def test_the_conversation_exports_as_markdown_with_its_citations(page, shipped):
    _ask(page, PERU)
    page.click("#export")
    link = page.locator("#export-file a").first
    link.wait_for(timeout=10_000)
    name = link.get_attribute("download")
    path = Path(shipped.settings.paths.data) / "exports" / name
    assert path.exists(), f"the export must be written under paths.data/exports: {path}"
    text = path.read_text(encoding="utf-8")
    assert f"## 1. {PERU}" in text, "the export must hold the question"
    assert f"corpus/{PERU_CASE_STUDY}" in text, "the export must hold the citations with their documents"
    with page.expect_download() as download:
        link.click()
    assert download.value.suggested_filename == name, "the download button must deliver the exported file"


def test_comparable_practices_come_from_other_countries(page):
    page.locator("button[role='tab']", has_text="Comparable practices").click()
    page.click("#s-action input")
    page.keyboard.type("MIEUX Peru (2017")
    page.locator("#s-action li[role='option']", has_text="MIEUX Peru (2017-2018)").first.click()
    page.click("#s-find")
    page.wait_for_selector("#similar-out .practice", timeout=60_000)
    cards = page.locator("#similar-out .practice")
    assert cards.count() >= 2, "several actions must be offered as comparable"
    heads = page.locator("#similar-out .practice-h").all_inner_texts()
    assert "MIEUX Peru (2017-2018)" not in heads, "the picked action must not be offered to itself"
    facts = " ".join(page.locator("#similar-out .practice-facts").all_inner_texts())
    assert "Peru" not in facts, "no comparable practice may be from Peru, the picked action's country"
    assert page.locator("#similar-out blockquote").count() >= cards.count(), "each practice must show its passage"
    page.screenshot(path=str(DOCS / "similar.png"), full_page=True)


def test_the_coverage_view_shows_a_table_and_a_chart(page, shipped):
    page.locator("button[role='tab']", has_text="Corpus coverage").click()
    page.wait_for_selector("#coverage-plot img[src^='data:image']", timeout=30_000)
    table = page.locator("#coverage-table")
    table.locator("text=Peru").first.wait_for(timeout=10_000)
    assert "Training" in table.inner_text(), "the table must have one column per theme"
    assert "country–theme pairs have no passage" in page.inner_text("#coverage-thin"), (
        "the view must say where the corpus is thin"
    )
    page.screenshot(path=str(DOCS / "coverage.png"), full_page=True)


def test_document_markup_is_shown_as_text_never_run(browser, make_settings, tmp_path):
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    (corpus / "evil.txt").write_text(
        "Training of border guards in Peru\n\n"
        "The border guards of Peru were trained with a new handbook on migrant smuggling. "
        '<script>window.__pwned = 1</script> <img src=x onerror="window.__pwned = 2"> '
        "[a link](javascript:window.__pwned=3) ${window.__pwned = 4} {{value}} **not bold**.\n\n"
        "The handbook was used in training sessions for border guards at the northern border of Peru.\n",
        encoding="utf-8",
    )
    assistant = Assistant(make_settings(corpus=corpus))
    report = assistant.ingest()
    assert not report.problems, f"the test document must ingest: {report.problems}"
    app = _launch(assistant)
    try:
        page = _open(browser, app.local_url)
        _ask(page, "How were the border guards of Peru trained?")
        page.locator("#chatbot a.cite").first.click()
        page.wait_for_selector("#source-panel .src-window", timeout=10_000)
        page.locator("#source-panel details.src-full summary").click()
        assert page.evaluate("window.__pwned") is None, "no markup from a document may run in the page"
        full = page.inner_text("#source-panel .doc-text")
        assert "<script>window.__pwned = 1</script>" in full, "the markup must be shown to the reader as text"
        assert "${window.__pwned = 4} {{value}}" in full, "template syntax in a document must be shown as is"
        for where in ("#chatbot", "#source-panel"):
            assert page.locator(f"{where} img, {where} script").count() == 0, f"no element from the document in {where}"
            assert page.locator(f"{where} a[href^='javascript']").count() == 0, f"no javascript: link in {where}"
        assert not page.errors, f"the page must run without JavaScript errors: {page.errors}"
        page.close()
    finally:
        app.close()


def test_without_an_index_the_app_stays_up_and_says_what_to_do(browser, make_settings):
    app = _launch(Assistant(make_settings()))
    try:
        page = _open(browser, app.local_url)
        assert "assistant ingest" in page.inner_text("#index-status"), (
            "the page must say how to build the missing index"
        )
        _ask(page, PERU)
        box = _last_bot(page)
        assert box.get_attribute("class") == "failure", (
            "a question without an index must get an error box, not an answer"
        )
        assert "assistant ingest" in box.inner_text(), "the error must name the way out"
        page.fill("#question textarea", "   ")
        expect(page.locator("#ask"), "Ask must be disabled while the box holds no question").to_be_disabled()
        page.press("#question textarea", "Enter")
        page.wait_for_timeout(1500)
        assert page.locator(ANSWERED).count() == 1, "an empty question must add nothing to the conversation"
        assert not page.errors, f"the page must run without JavaScript errors: {page.errors}"
        page.close()
    finally:
        app.close()


# -- filters that speak ------------------------------------------------------------------------------


def _pick(page, dropdown: str, text: str):
    page.click(f"{dropdown} input")
    page.keyboard.type(text)
    page.locator(f"{dropdown} li[role='option']", has_text=text).first.click()
    page.keyboard.press("Escape")


def _french(page):
    page.locator("#ui-lang label", has_text="Français").click()
    page.wait_for_function("document.querySelector('#ask').innerText.trim() === 'Demander'", timeout=20_000)


@pytest.mark.parametrize("lang", ["en", "fr"])
def test_a_filter_that_removes_the_named_country_is_said_and_offered_to_clear(page, lang):
    if lang == "fr":
        _french(page)
    _pick(page, "#f-year", "2013")
    _ask(page, PERU if lang == "en" else PERU_FR)  # the sentence is the answer's, in the asker's language
    reply = page.locator("#chatbot .filtered").last
    text = reply.inner_text()
    peru = "Peru" if lang == "en" else "Pérou"
    assert ("leave out every passage about Peru" if lang == "en" else "écartent tous les passages sur Pérou") in text, (
        f"the answer must say the filter removed {peru}: {text}"
    )
    assert page.locator("#chatbot .abstain").count() == 0, "the answer must not claim the corpus lacks Peru"
    chips = page.locator("#chatbot .chip").all_inner_texts()
    assert any("2013" in c for c in chips), f"the active filter must show as a chip: {chips}"
    _show_top_of_last_answer(page)
    if lang == "en":
        page.screenshot(path=str(DOCS / "filtered.png"))
    before = page.locator("#chatbot .answer").count()
    reply.locator("a.refilter").click()
    page.wait_for_function(f"document.querySelectorAll('#chatbot .answer').length > {before}", timeout=120_000)
    assert "2013" not in page.inner_text("#f-year"), "clearing from the answer must empty the year filter"
    answer = page.locator("#chatbot .answer").last
    assert answer.locator(".sources li").count() > 0, "asked again without the filter, the question gets a cited answer"
    _pick(page, "#f-country", "Thailand" if lang == "en" else "Thaïlande")
    page.click("#clear")
    page.wait_for_function("document.querySelectorAll('#chatbot .answer').length === 0", timeout=20_000)
    expect(page.locator("#f-country .token"), "a new conversation must reset the filters").to_have_count(0)


def test_an_answer_that_survives_a_filter_still_warns_what_it_left_out(page):
    _pick(page, "#f-country", "Thailand")
    _ask(page, PERU)
    text = page.locator("#chatbot .filtered").last.inner_text()
    assert "Peru" in text and "Thailand" in text, f"the Thailand filter must be said to leave Peru out: {text}"


# -- input and small screens -------------------------------------------------------------------------


@pytest.mark.parametrize("lang", ["en", "fr"])
def test_bad_input_stays_in_the_box_and_never_enters_the_conversation(page, shipped, lang):
    if lang == "fr":
        _french(page)
    ask = page.locator("#ask")
    expect(ask, "Ask must be disabled on an empty box").to_be_disabled()
    page.press("#question textarea", "Enter")
    limit = shipped.settings.answer.max_question_chars
    long_question = "How did Peru adapt its training? " * (limit // 30)
    page.fill("#question textarea", long_question)
    expect(page.locator("#q-counter-text"), "an over-long question shows a counter").to_have_text(
        f"{len(long_question)} / {limit}"
    )
    expect(ask, "Ask must be disabled while the question is over the limit").to_be_disabled()
    page.press("#question textarea", "Enter")
    page.wait_for_timeout(1500)
    assert page.input_value("#question textarea") == long_question, "the over-long question must stay in the box"
    page.fill("#question textarea", SPANISH)
    expect(ask, "a question in the box enables Ask").to_be_enabled()
    ask.click()
    expected = (
        "Please ask in French or English" if lang == "en" else "Veuillez poser la question en français ou en anglais"
    )
    page.wait_for_function(f"document.querySelector('#status').innerText.includes({expected!r})", timeout=30_000)
    assert page.input_value("#question textarea") == SPANISH, "the Spanish question stays in the box to be rephrased"
    assert page.locator("#chatbot [data-testid='user'], #chatbot [data-testid='bot']").count() == 0, (
        "no bubble and no error card for bad input"
    )
    page.click("#export")
    nothing = "Nothing to export yet" if lang == "en" else "Rien à exporter"
    page.wait_for_function(f"document.querySelector('#status').innerText.includes({nothing!r})", timeout=10_000)
    expect(page.locator("#export-file a"), "nothing was asked, so there is nothing to export").to_have_count(0)


@pytest.mark.parametrize("locale", ["en-US", "fr-FR"])
def test_on_a_phone_filters_fold_every_tab_is_reachable_and_a_citation_opens_as_an_overlay(browser, server, locale):
    page = _open(browser, server.local_url, locale=locale, viewport=PHONE)
    try:
        page.wait_for_timeout(1000)
        assert not page.locator("#f-country").is_visible(), "the filters must start folded on a phone"
        tabs = page.locator("button[role='tab']")
        expect(tabs, "all three tabs must be on the page, none hidden behind a menu").to_have_count(3)
        for tab in tabs.all():
            box = tab.bounding_box()
            assert box and box["x"] >= 0 and box["x"] + box["width"] <= PHONE["width"], (
                f"tab {tab.inner_text()} fits the screen"
            )
        assert not page.locator("#source-panel").is_visible(), "the source panel waits for a citation"
        page.evaluate("window.scrollTo(0, 0)")
        page.screenshot(path=str(DOCS / f"phone-{locale[:2]}.png"))
        _ask(page, PERU if locale == "en-US" else PERU_FR)
        page.locator("#chatbot .answer a.cite").first.click()
        overlay = page.locator("#source-col")
        expect(overlay, "tapping a citation must open the source as an overlay").to_be_visible()
        page.wait_for_selector("#source-panel .src-window mark", timeout=10_000)
        box = overlay.bounding_box()
        assert box["y"] <= 1 and box["height"] >= PHONE["height"] - 2, (
            "the overlay covers the screen, where the user is"
        )
        if locale == "en-US":
            page.screenshot(path=str(DOCS / "phone-source.png"))
        page.locator("#source-col .source-close").click()
        expect(overlay, "the overlay closes").to_be_hidden()
        tabs.nth(1).click()
        expect(page.locator("#s-find"), "the comparable-practices tab opens on a phone").to_be_visible()
        tabs.nth(2).click()
        page.wait_for_selector("#coverage-plot img[src^='data:image']", timeout=30_000)
        assert not page.errors, f"the page must run without JavaScript errors: {page.errors}"
    finally:
        page.close()


# -- comparable practices and coverage for focal points -----------------------------------------------


@pytest.mark.parametrize("locale", ["en-US", "fr-FR"])
def test_my_country_is_remembered_and_left_out_and_cards_open_in_the_source_panel(browser, server, locale):
    page = _open(browser, server.local_url, locale=locale)
    try:
        page.locator("#tab-similar-button").click()
        thailand = "Thailand" if locale == "en-US" else "Thaïlande"
        _pick(page, "#s-mine", thailand)
        page.fill("#s-text textarea", "training border guards to identify victims of trafficking")
        page.click("#s-find")
        page.wait_for_selector("#similar-out .practice", timeout=60_000)
        heads = page.locator("#similar-out .practice-h").all_inner_texts()
        assert heads and not any(thailand in h for h in heads), f"no card may be from the user's own country: {heads}"
        assert thailand in page.inner_text("#similar-out .note"), "the page says the user's country is left out"
        first = page.locator("#similar-out .practice").first
        lead = first.locator(".practice-lead")
        assert lead.count() == 1, "each card leads with its practice sentence"
        assert first.evaluate("e => e.firstElementChild.className") == "practice-lead", "the sentence comes first"
        lead.locator("a.open-src").click()
        page.wait_for_selector("#similar-source .src-window mark", timeout=20_000)
        mark = fold_ws(page.inner_text("#similar-source .src-window mark"))
        assert mark and mark in fold_ws(lead.inner_text()), "the card's sentence opens highlighted in the source panel"
        if locale == "en-US":
            page.evaluate("window.scrollTo(0, 0)")
            page.screenshot(path=str(DOCS / "similar.png"))
        page.reload()
        page.wait_for_selector("#index-status.loaded", state="attached", timeout=60_000)
        page.locator("#tab-similar-button").click()
        expect(page.locator("#s-mine input"), "my country is remembered by this browser").to_have_value(thailand)
    finally:
        page.evaluate("localStorage.clear()")
        page.close()


@pytest.mark.parametrize("lang", ["en", "fr"])
def test_a_coverage_cell_opens_its_passages(page, shipped, lang):
    from assistant import explore

    if lang == "fr":
        _french(page)
    page.locator("#tab-coverage-button").click()
    page.wait_for_selector("#coverage-plot img[src^='data:image']", timeout=30_000)
    cov = explore.coverage(shipped)
    row, col = cov.countries.index("PE"), cov.themes.index("training") + 1
    page.locator(f"#coverage-table [data-testid='cell-{row}-{col}']").click()
    page.wait_for_selector("#coverage-cell blockquote", timeout=20_000)
    shown = page.locator("#coverage-cell blockquote").count()
    assert shown == min(50, cov.count("PE", "training")), (
        f"the Peru × training cell opens its {cov.count('PE', 'training')} passages"
    )
    said = f"{cov.count('PE', 'training')} " + ("passages about Peru" if lang == "en" else "passages sur Pérou")
    assert said in page.inner_text("#coverage-cell"), (
        f"the cell's heading says what it holds, in the interface language: {said}"
    )
    if lang == "en":
        page.screenshot(path=str(DOCS / "coverage.png"), full_page=True)


# -- sources people can follow ------------------------------------------------------------------------


@pytest.mark.parametrize("lang", ["en", "fr"])
def test_the_original_address_is_in_the_citation_the_source_panel_and_the_export(page, shipped, lang):
    if lang == "fr":
        _french(page)
    docs = shipped.documents()
    expected = shipped.ask(JORDAN)
    with_url = [c for c in expected.citations if (docs[c.source].source or "").startswith("http")]
    assert with_url, "the test needs an answer citing a document whose manifest gives its address"
    c = with_url[0]
    url = docs[c.source].source
    _ask(page, JORDAN)
    answer = _last_bot(page)
    assert answer.locator(f".sources a.original[href='{url}']").count() >= 1, (
        "the citation links to the original address"
    )
    answer.locator(f"a.cite[href='#cite-0-{c.n}']").first.click()
    page.wait_for_function(
        "n => (document.querySelector('#source-panel .src-n') || {}).innerText === `[${n}]`", arg=c.n, timeout=10_000
    )
    link = page.locator("#source-panel a.original")
    assert link.get_attribute("href") == url and link.get_attribute("target") == "_blank", (
        "the source panel gives the original address, opened in a new tab"
    )
    page.click("#export")
    file_link = page.locator("#export-file a").first
    file_link.wait_for(timeout=10_000)
    text = (Path(shipped.settings.paths.data) / "exports" / file_link.get_attribute("download")).read_text(
        encoding="utf-8"
    )
    assert f"<{url}>" in text, "the export gives the original address"
    body = " ".join(expected.answer.split())
    for cited in expected.citations:
        quote = " ".join(cited.quote.split())
        # The answer may open with a sentence of a passage it then quotes as evidence (the answer first):
        # the sources below it add no copy of a quote the answer already holds, and give the others once.
        in_answer = body.count(quote[:80])
        assert text.count(quote[:80]) == max(1, in_answer), f"each quote appears once in the export: {quote[:80]}"
