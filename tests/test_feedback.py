"""Feedback log (append-only, survives a torn last line), conversation export, and escaping of document text."""

from __future__ import annotations

import json
import re
import threading

from typer.testing import CliRunner

from assistant import feedback
from assistant.chat import Labels, Turn, export_markdown, md_safe, render_answer, render_abstention, write_atomic
from assistant.cli import app as cli_app
from assistant.types import Answer, Citation, Filters

EVIL = (
    '<script>window.__pwned=1</script> <img src=x onerror="window.__pwned=2"> '
    "[click](javascript:window.__pwned=3) **bold** `code` $$x$$ https://evil.example {{value}} ${window.__pwned=4}"
)


def _citation(n: int, quote: str, title: str = "MIEUX — Pérou (2017-2018)") -> Citation:
    return Citation(
        n=n,
        source="seeds/000_c0f20d1b9c390d7f.txt",
        title=title,
        section="Pratiques",
        action="MIEUX Peru (2017-2018)",
        countries=["PE"],
        quote=quote,
        score=0.9,
        language="fr",
        year=2019,
        start=10,
        end=10 + len(quote),
    )


def _answer(
    question: str = "How did Peru adapt its training?", quote: str = "Les formateurs ont adapté le matériel."
) -> Answer:
    c = _citation(1, quote)
    return Answer(
        question=question,
        language="en",
        abstained=False,
        answer=(
            "Here is what the corpus documents on this question:\n\n"
            f"**MIEUX Peru (2017-2018)** — Peru\n- « {quote} » [1]"
        ),
        citations=[c],
    )


def test_records_are_appended_and_earlier_bytes_never_change(tmp_path):
    first = feedback.FeedbackRecord.for_answer(
        "up", _answer(), comment="clear and cited", user="alice", ui_language="en"
    )
    path = feedback.append(tmp_path, first)
    before = path.read_bytes()
    feedback.append(tmp_path, feedback.FeedbackRecord.for_answer("down", _answer("Et en Jordanie ?"), comment=""))
    after = path.read_bytes()
    assert after.startswith(before), "appending must leave every earlier byte of feedback.jsonl untouched"
    assert after.count(b"\n") == 2, "each record must take exactly one line"
    records, damaged = feedback.read(tmp_path)
    assert [r.vote for r in records] == ["up", "down"], "records must read back in the order they were given"
    assert damaged == 0, "a clean log has no damaged line"
    assert records[0].user == "alice" and records[0].comment == "clear and cited", "user and comment must be kept"
    assert records[0].citations[0]["source"] == "seeds/000_c0f20d1b9c390d7f.txt", (
        "the cited sources must be saved with the vote"
    )
    assert records[0].question == "How did Peru adapt its training?", "the question must be saved with the vote"
    assert records[0].time, "each record must carry its time"


def test_a_torn_last_line_does_not_break_reading_or_swallow_the_next_record(tmp_path):
    feedback.append(tmp_path, feedback.FeedbackRecord(vote="up", question="q1", answer="a1"))
    feedback.append(tmp_path, feedback.FeedbackRecord(vote="down", question="q2", answer="a2"))
    path = feedback.feedback_path(tmp_path)
    # What a crash in the middle of a write leaves: the start of a line, no newline.
    line = json.dumps(feedback.FeedbackRecord(vote="up", question="q3", answer="a3").to_json()).encode()
    with open(path, "ab") as fh:
        fh.write(line[: len(line) // 2])
    records, damaged = feedback.read(tmp_path)
    assert [r.question for r in records] == ["q1", "q2"], "the records written before the crash must all be readable"
    assert damaged == 1, "the torn line must be counted as damaged, not raise"
    feedback.append(tmp_path, feedback.FeedbackRecord(vote="up", question="q4", answer="a4"))
    records, damaged = feedback.read(tmp_path)
    assert [r.question for r in records] == ["q1", "q2", "q4"], (
        "a record written after the crash must not be glued to the torn line"
    )
    assert damaged == 1, "only the torn line is damaged"


def test_concurrent_sessions_never_interleave_lines(tmp_path):
    def worker(who: str):
        for i in range(40):
            feedback.append(
                tmp_path, feedback.FeedbackRecord(vote="up", question=f"{who}-{i} " + "x" * 3000, answer="a")
            )

    threads = [threading.Thread(target=worker, args=(f"s{n}",)) for n in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    records, damaged = feedback.read(tmp_path)
    assert damaged == 0, "parallel writers must never produce a mixed line"
    assert len(records) == 160, f"every record of every session must be saved, got {len(records)}"


def test_feedback_command_lists_records_as_json(tmp_path):
    feedback.append(
        tmp_path, feedback.FeedbackRecord.for_answer("down", _answer(), comment="wrong country", user="bob")
    )
    result = CliRunner().invoke(cli_app, ["feedback", "--json", "--data", str(tmp_path)])
    assert result.exit_code == 0, f"`assistant feedback --json` must succeed: {result.output}"
    data = json.loads(result.stdout)
    assert data[0]["vote"] == "down" and data[0]["comment"] == "wrong country", (
        "the command must print the saved record"
    )
    text = CliRunner().invoke(cli_app, ["feedback", "--data", str(tmp_path)])
    assert "wrong country" in text.stdout and "by bob" in text.stdout, (
        "the plain listing must show the comment and the user"
    )


def test_document_markup_in_an_answer_is_inert():
    quote = f"Formation {EVIL}"
    html = render_answer(0, _answer(quote=quote), Labels("en"))
    assert "<script" not in html and "<img" not in html, "document markup must be escaped, never live HTML"
    assert "](javascript" not in html and "javascript:" not in html, "a document's Markdown link must not become a link"
    assert "**bold**" not in html and "`code`" not in html, "a document's Markdown must not be read as Markdown"
    assert "https://evil" not in html, "a document's URL must not become an autolink"
    links = re.findall(r'<a class="cite" href="([^"]+)"', html)
    assert links and all(h == "#cite-0-1" for h in links), f"the only links must be our citation links, got {links}"
    assert html.count("&lt;script&gt;") == 1, "the escaped markup must still be shown to the reader"


def test_a_source_footnote_marker_inside_a_quote_is_not_a_citation_link():
    html = render_answer(2, _answer(quote="as shown in the report [1], the training worked"), Labels("en"))
    inside = html[html.index("«") : html.index("»")]
    assert "<a " not in inside, "a [1] inside a quoted passage is the source's own footnote, not our citation"
    assert 'href="#cite-2-1"' in html, "the marker after the quote must link to citation 1 of turn 2"


def test_abstention_is_its_own_box_with_escaped_related_material():
    related = _citation(1, f"Un passage proche {EVIL}", title="<b>Titre</b>")
    answer = Answer(
        question="What did Norway do in 2021?",
        language="en",
        abstained=True,
        answer="The corpus does not document Norway.\n\nRelated material (not an answer):\n- [1] « x »",
        related=[related],
    )
    html = render_abstention(1, answer, Labels("fr"))
    assert html.startswith('<div class="abstain">'), "an abstention must use its own box, not the answer style"
    assert "Absent du corpus" in html, "the abstention header must follow the interface language"
    assert 'href="#rel-1-1"' in html, "related material must be clickable to open its source"
    assert "<b>" not in html and "<script" not in html, "titles and quotes of related material must be escaped"


def test_export_is_markdown_with_citations_and_is_written_atomically(tmp_path):
    turns = [
        Turn(
            question="How did Peru adapt its training?",
            answer=_answer(quote=f"Le matériel {EVIL}"),
            filters=Filters(countries=["PE"]),
        ),
        Turn(question="And in Jordan?", error="The question is too long"),
    ]
    text = export_markdown(turns, Labels("en"))
    assert text.startswith("# Conversation with"), "the export must open with its title"
    assert "## 1. How did Peru adapt its training?" in text, "each question must be a heading"
    assert "corpus/seeds/000_c0f20d1b9c390d7f.txt" in text, "each citation must name its document"
    assert "_Filters: Peru_" in text, "the filters in force must be exported with the question"
    assert "<script" not in text and "&lt;script&gt;" in text, "document markup must be inert in the exported file"
    assert "The question is too long" in text, "a failed question must be exported with its message"
    path = write_atomic(tmp_path / "exports", "conv.md", text)
    assert path.read_text(encoding="utf-8") == text, "the written file must hold the whole export"
    assert [p.name for p in (tmp_path / "exports").iterdir()] == ["conv.md"], "no temporary file may be left behind"


def test_md_safe_neutralises_markdown_and_html():
    out = md_safe("<a href='javascript:x'>*hi*</a> [l](u) | ~~s~~")
    assert "<" not in out and "*" not in out and "[" not in out and "~" not in out, (
        f"markup characters must be escaped: {out}"
    )
