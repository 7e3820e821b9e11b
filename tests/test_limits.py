"""Bounded work from one input: the passage cap, vectors cached as they are made, the length of a
comparable-practice description, the size of a feedback comment, and what `assistant feedback` prints."""

from __future__ import annotations

import json
import os
import random
import signal
import socket
import sqlite3
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest
from typer.testing import CliRunner

from assistant import chunk as chunking
from assistant import explore, feedback, load, parse
from assistant.chat import build_app
from assistant.cli import app as cli_app
from assistant.errors import BadQuestion
from assistant.pipeline import Assistant

from .conftest import ROOT, copy_corpus
from .gradio_http import GradioSession

SMALL = ["fr/mieux_action_perou_iii_fr.txt"]
_WORDS = (
    "formation frontière coopération victimes trafic agents procédure gestion données retour asile "
    "visa police douane consulat registre enquête"
).split()


def _fresh_sentences(n: int, seed: int) -> str:
    """n French-looking sentences of words never seen before (so that no vector is in the cache)."""
    rng = random.Random(seed)
    tag = uuid.uuid4().hex[:6]
    return " ".join(
        "Les " + " ".join(f"{rng.choice(_WORDS)}{tag}{rng.randint(0, 10**6)}" for _ in range(11)) + "."
        for _ in range(n)
    )


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


# -- the passage cap ---------------------------------------------------------------------------


def test_a_document_over_the_passage_cap_is_refused_before_embedding(tmp_path, make_settings):
    corpus = copy_corpus(tmp_path / "corpus", SMALL)
    (corpus / "flood.txt").write_text("Rapport\n\n" + _fresh_sentences(600, 1), encoding="utf-8")  # ~80 passages
    assistant = Assistant(make_settings(corpus, chunk={"max_passages": 40}))
    report = assistant.ingest()
    message = report.problems.get("flood.txt", "")
    assert "corpus/flood.txt" in message and "40" in message, (
        f"the refusal names the file and the cap: {report.problems}"
    )
    assert "chunk.max_passages" in message and "ASSISTANT_CHUNK__MAX_PASSAGES" in message, f"and the setting: {message}"
    assert report.embedded == 0, f"nothing of the refused document is embedded ({report.embedded} passages)"
    assert set(assistant.documents()) == set(SMALL), "the other documents go in"


@pytest.mark.slow
def test_a_five_megabyte_one_line_file_is_refused_in_seconds(tmp_path, make_settings, embedding_cache):
    corpus = copy_corpus(tmp_path / "corpus", SMALL)
    (corpus / "one_line.txt").write_text(_fresh_sentences(35_000, 2), encoding="utf-8")
    assert (corpus / "one_line.txt").stat().st_size > 5_000_000, "the attack file is over 5 MB"
    env = dict(
        os.environ,
        ASSISTANT_PATHS__CORPUS=str(corpus),
        ASSISTANT_PATHS__INDEX=str(tmp_path / "index"),
        ASSISTANT_PATHS__CACHE=str(embedding_cache),
        PYTHONPATH=str(ROOT),
    )
    started = time.monotonic()
    try:
        done = subprocess.run(
            [sys.executable, "-m", "assistant", "ingest", "--json"],
            env=env,
            cwd=ROOT,
            capture_output=True,
            text=True,
            timeout=240,
        )
    except subprocess.TimeoutExpired:
        pytest.fail("with the default settings, a 5 MB one-line file must be refused, not embedded for an hour")
    report = json.loads(done.stdout)
    assert "one_line.txt" in report["problems"], f"the file is refused with a message: {report['problems']}"
    assert "passages" in report["problems"]["one_line.txt"], report["problems"]["one_line.txt"]
    assert report["embedded"] == 0, "nothing of it was embedded"
    print(f"refused in {time.monotonic() - started:.1f} s")


# -- vectors cached as they are made --------------------------------------------------------------


def _cached_rows(path: Path) -> int:
    if not path.exists():
        return 0
    conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=5)
    try:
        return conn.execute("SELECT count(*) FROM vectors").fetchone()[0]
    except sqlite3.OperationalError:
        return 0  # the table is not created yet
    finally:
        conn.close()


@pytest.mark.slow
def test_an_interrupted_ingest_keeps_the_vectors_it_made(tmp_path, make_settings):
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    (corpus / "long.txt").write_text("Rapport long\n\n" + _fresh_sentences(1400, 3), encoding="utf-8")  # ~190 passages
    cold = tmp_path / "cold.sqlite"
    settings = make_settings(corpus, paths={"cache": cold})
    env = dict(
        os.environ,
        ASSISTANT_PATHS__CORPUS=str(corpus),
        ASSISTANT_PATHS__INDEX=str(settings.paths.index),
        ASSISTANT_PATHS__CACHE=str(cold),
        PYTHONPATH=str(ROOT),
    )
    proc = subprocess.Popen(
        [sys.executable, "-m", "assistant", "ingest"],
        env=env,
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        deadline = time.monotonic() + 300
        while _cached_rows(cold) == 0 and proc.poll() is None and time.monotonic() < deadline:
            time.sleep(0.2)
        proc.send_signal(signal.SIGINT)  # Ctrl-C
        proc.wait(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait(timeout=30)
    kept = _cached_rows(cold)
    total = len(chunking.chunk(parse.parse(next(load.iter_sources(corpus))), settings.chunk))
    assert 0 < kept < total, (
        f"vectors made before Ctrl-C are kept, though the document was not finished ({kept} of {total})"
    )
    assistant = Assistant(settings)
    report = assistant.ingest()
    assert report.reused >= kept and report.embedded > 0, (
        f"an interrupted ingest resumes: {kept} vectors were cached before Ctrl-C, the next ingest reused "
        f"{report.reused} and embedded {report.embedded} (total {total})"
    )


# -- comparable practices: the question length limit ---------------------------------------------


def test_a_description_over_the_question_limit_is_refused(shipped):
    limit = shipped.settings.answer.max_question_chars
    with pytest.raises(BadQuestion, match=str(limit)):
        explore.similar(shipped, text="formation des agents aux frontières " * (limit // 30 + 1))
    result = CliRunner().invoke(cli_app, ["similar", "x" * (limit + 1), "--index", str(shipped.settings.paths.index)])
    assert result.exit_code == 6 and str(limit) in result.output, (
        f"`assistant similar` says the limit (exit 6): {result.output[-300:]}"
    )


@pytest.fixture(scope="module")
def open_chat(shipped):
    app = build_app(shipped)
    port = _free_port()
    app.queue(default_concurrency_limit=shipped.settings.chat.max_concurrency)
    app.launch(server_name="127.0.0.1", server_port=port, prevent_thread_lock=True, quiet=True)
    yield port
    app.close()


def test_the_chat_refuses_a_huge_description_at_once(open_chat, shipped):
    session = GradioSession(open_chat, timeout=60)
    started = time.monotonic()
    try:
        _, html = session.call("find_similar", ["migration " * 10_000, None, [], [], 10, "en", None])
    except TimeoutError:
        pytest.fail("a 100,000-character description must be refused, not searched for minutes")
    limit = str(shipped.settings.answer.max_question_chars)
    assert limit in html and "too long" in html, f"the page says the description is too long: {html[:300]}"
    print(f"refused in {time.monotonic() - started:.2f} s")


# -- feedback: comment size, and what the listing prints -----------------------------------------


def test_an_oversized_feedback_comment_is_refused_and_not_saved(open_chat, shipped):
    data = Path(shipped.settings.paths.data)
    before = len(feedback.read(data)[0])
    session = GradioSession(open_chat, timeout=120)
    session.call("respond", ["How did Peru adapt its training?", None, [], "any", [], [], "en", None])
    huge = "très long commentaire " * 100_000  # 2.2 MB
    status, _ = session.call("on_like", [None, huge, "en"], event_data={"index": 1, "value": "", "liked": True})
    assert "too long" in status, f"the user is told the comment is too long: {status[:200]}"
    assert len(feedback.read(data)[0]) == before, "nothing is saved"
    status, _ = session.call(
        "on_like", [None, "Clear and cited", "en"], event_data={"index": 1, "value": "", "liked": True}
    )
    assert "saved" in status, f"a normal comment is still saved: {status}"
    assert feedback.read(data)[0][-1].comment == "Clear and cited", "with its text"


def test_the_feedback_listing_prints_no_terminal_escapes(tmp_path):
    evil = "\x1b]0;owned\x07\x1b[2J\x1b[31mred\x9b31m\r"
    feedback.append(
        tmp_path,
        feedback.FeedbackRecord(vote="up", question=f"Q {evil}", answer="a", comment=f"C {evil}", user=f"bob{evil}"),
    )
    for args in (["feedback", "--data", str(tmp_path)], ["feedback", "--json", "--data", str(tmp_path)]):
        out = CliRunner().invoke(cli_app, args).output
        controls = sorted({hex(ord(ch)) for ch in out if (ord(ch) < 32 and ch not in "\n\t") or 0x7F <= ord(ch) < 0xA0})
        assert not controls, f"`assistant {' '.join(args[:2])}` must print no control character, printed {controls}"
        assert "red" in out and "owned" in out, "the text around them is still shown"
