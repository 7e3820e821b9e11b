"""A chat that stays up across ingests: it closes the index generations it left, and an old citation
shows the text it quoted, not whatever now stands at its offsets."""

from __future__ import annotations

import html
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from assistant.chat import Labels, render_source
from assistant.cite import fold_ws
from assistant.pipeline import Assistant

from .conftest import ROOT, copy_corpus

SMALL = ["fr/mieux_action_perou_iii_fr.txt", "en/mieux_action_jordan_ii_thb_en.txt"]
JORDAN = SMALL[1]
QUESTION = "What did MIEUX do for shelters in Jordan?"


def _open_index_files(index: Path) -> list[str]:
    """What this process holds open under the index folder (deleted files end with ' (deleted)')."""
    out = []
    for fd in Path("/proc/self/fd").iterdir():
        try:
            target = os.readlink(fd)
        except OSError:
            continue
        if target.startswith(str(index)):
            out.append(target)
    return out


def _ingest_elsewhere(settings) -> None:
    """An `assistant ingest` in its own process, as an operator runs it while the chat is up."""
    env = dict(
        os.environ,
        ASSISTANT_PATHS__CORPUS=str(settings.paths.corpus),
        ASSISTANT_PATHS__INDEX=str(settings.paths.index),
        ASSISTANT_PATHS__CACHE=str(settings.paths.cache),
        PYTHONPATH=str(ROOT),
    )
    done = subprocess.run(
        [sys.executable, "-m", "assistant", "ingest"], env=env, cwd=ROOT, capture_output=True, text=True, timeout=300
    )
    assert done.returncode == 0, f"the ingest must succeed: {done.stderr[-1000:]}"


@pytest.mark.slow
def test_the_chat_closes_the_generations_it_leaves(tmp_path, make_settings):
    corpus = copy_corpus(tmp_path / "corpus", SMALL)
    settings = make_settings(corpus)
    index = Path(settings.paths.index).resolve()
    _ingest_elsewhere(settings)
    chat = Assistant(settings)  # the chat's assistant: it only reads
    assert chat.ask(QUESTION).citations, "the chat answers"
    seen = {chat.retriever.generation}
    for round_ in range(4):
        with (corpus / JORDAN).open("a", encoding="utf-8") as fh:
            fh.write(
                f"\n\nUpdate {round_}: the shelters received new guidelines on case management (round {round_}).\n"
            )
        _ingest_elsewhere(settings)
        assert chat.ask(QUESTION).citations, "the chat answers after each ingest"
        seen.add(chat.retriever.generation)
    assert len(seen) == 5, f"the chat moved to each new generation: {sorted(seen)}"
    held = _open_index_files(index)
    deleted = [t for t in held if t.endswith("(deleted)")]
    assert not deleted, f"the chat must not hold deleted index files open ({len(deleted)}): {deleted[:5]}"
    live = chat.catalog.live()
    generations = {m.group(1) for t in held if (m := re.search(r"/chroma/(g[0-9a-f]+)/", t))}
    assert generations <= {live}, f"only the live generation stays open, not {sorted(generations - {live})}"


def _marked(page: str) -> str | None:
    m = re.search(r"<mark>(.*?)</mark>", page, re.S)
    return html.unescape(m.group(1)) if m else None


@pytest.mark.slow
def test_an_old_citation_shows_the_text_it_quoted(tmp_path, make_settings):
    corpus = copy_corpus(tmp_path / "corpus", SMALL)
    assistant = Assistant(make_settings(corpus))
    assistant.ingest()
    answer = assistant.ask(QUESTION)
    c = next(c for c in answer.citations if c.source == JORDAN)
    quoted = assistant.document_text(JORDAN)[c.start : c.end]
    L = Labels("en")
    assert fold_ws(_marked(render_source(assistant, c, L)) or "") == fold_ws(quoted), "fresh: the quote is highlighted"

    # A new first paragraph moves every offset of the document.
    path = corpus / JORDAN
    original = path.read_text(encoding="utf-8")
    path.write_text(
        "MIEUX Action: Jordan – a new introduction\n\nThis introduction was added after the answer was given, "
        "and it is long enough to move every later passage well past its old place in the text.\n\n" + original,
        encoding="utf-8",
    )
    assistant.ingest()
    page = render_source(assistant, c, L)
    assert fold_ws(_marked(page) or "") == fold_ws(quoted), (
        "after a re-ingest, the citation highlights the text it quoted, not what now stands at its offsets: "
        f"{_marked(page)!r}"
    )

    # Two ingests later its generation is gone: the quote is found in the new text, with a note.
    for n in range(2):
        path.write_text(f"Revision {n}.\n\n" + path.read_text(encoding="utf-8"), encoding="utf-8")
        assistant.ingest()
    page = render_source(assistant, c, L)
    assert fold_ws(_marked(page) or "") == fold_ws(quoted), f"the quote is found where it now stands: {_marked(page)!r}"
    assert "changed" in page, "with a note that the document changed since the answer"

    # The quoted passage is removed from the document: no highlight, a clear note.
    path.write_text(path.read_text(encoding="utf-8").replace(quoted, "(passage removed)"), encoding="utf-8")
    for _ in range(2):
        path.write_text("Again. " + path.read_text(encoding="utf-8"), encoding="utf-8")
        assistant.ingest()
    page = render_source(assistant, c, L)
    assert _marked(page) is None, "no other text is highlighted in place of the removed quote"
    assert "no longer contains" in page, f"the panel says the quoted passage is gone: {page[:400]}"
