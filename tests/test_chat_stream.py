"""The chat streams generative answers: the LLM's text shows as it is written, then the verified answer replaces it."""

from __future__ import annotations

import html
import re
import time
from pathlib import Path

import pytest

from assistant import prompts
from assistant.chat import STREAM_INTERVAL_S, build_app
from assistant.pipeline import Assistant

from .conftest import PERU_CASE_STUDY, copy_corpus
from .llm_server import LLMServer, free_port, missing, tiny_model

pytestmark = pytest.mark.slow

PERU = "How did Peru adapt its training?"
SMALL_CORPUS = [
    PERU_CASE_STUDY,
    "en/mieux_case_study_peru_smuggling_landing_en.txt",
    "en/mieux_action_jordan_ii_thb_en.txt",
]
# Tiny model, short answers: the tests check what reaches the chat, not the prose.
LLM = {"backend": "openai", "max_tokens": 120, "temperature": 0.0, "timeout_s": 300}
WRITING = '<div class="writing">'


def _assistant(make_settings, tmp_path: Path, url: str) -> Assistant:
    """A generative assistant over a few corpus files, ingested, asking the LLM at `url`."""
    corpus = copy_corpus(tmp_path / "corpus", SMALL_CORPUS)
    assistant = Assistant(make_settings(corpus=corpus, llm={**LLM, "url": url}, retrieve={"k": 4}))
    report = assistant.ingest()
    assert not report.problems, f"the small corpus ingests cleanly: {report.problems}"
    return assistant


class Chat:
    """The app launched on loopback and one user's session in it, through Gradio's own client."""

    def __init__(self, assistant: Assistant):
        from gradio_client import Client

        self.app = build_app(assistant)
        self.app.queue(default_concurrency_limit=assistant.settings.chat.max_concurrency)
        port = free_port()
        self.app.launch(server_name="127.0.0.1", server_port=port, prevent_thread_lock=True, quiet=True)
        self.client = Client(f"http://127.0.0.1:{port}/", verbose=False)

    def ask(self, question: str, *, on_update=None, timeout_s: float = 300) -> list[tuple[float, list]]:
        """Every update the question's event sends, as (seconds since sent, outputs), the final one last.

        `on_update(outputs)` runs as each update arrives (e.g. to stop the LLM server mid-answer).
        """
        started = time.monotonic()
        job = self.client.submit(question, [], "any", [], [], "en", api_name="/respond")
        updates = []
        for outputs in job:
            updates.append((time.monotonic() - started, outputs))
            if on_update:
                on_update(outputs)
            assert time.monotonic() - started < timeout_s, f"the answer must arrive within {timeout_s} s, not hang"
        final = job.result(timeout=timeout_s)
        if not updates or updates[-1][1] != final:
            updates.append((time.monotonic() - started, final))
        return updates

    def export(self) -> str:
        """The session's conversation as exported to Markdown (what the turns state holds)."""
        file, _ = self.client.predict("en", api_name="/on_export")
        # The event answers with an update of the File component; its value is the file on this machine.
        path = file.get("value") if isinstance(file, dict) else file
        assert path, f"the conversation has something to export: {file}"
        return Path(path).read_text(encoding="utf-8")

    def close(self) -> None:
        self.app.close()


def _bot(outputs) -> str:
    """The last assistant message shown in the Chatbot ('' when the question alone is shown)."""
    chat = outputs[0]
    if not chat or chat[-1]["role"] != "assistant":
        return ""
    content = chat[-1]["content"]
    return "".join(part.get("text", "") for part in content) if isinstance(content, list) else str(content)


def _streamed_text(message: str) -> str:
    """The LLM's text in a 'writing' message, label left out, unescaped, without whitespace."""
    body = message.split("</p>", 1)[1]  # after the writing label
    return re.sub(r"\s+", "", html.unescape(re.sub(r"<[^>]+>", "", body)))


def test_generative_answer_streams_then_shows_the_verified_answer(llm_server, make_settings, tmp_path):
    assistant = _assistant(make_settings, tmp_path, llm_server.url)
    chat = Chat(assistant)
    try:
        updates = chat.ask(PERU)
        exported = chat.export()
    finally:
        chat.close()
    first, final = updates[0][1], updates[-1][1]
    assert _bot(first) == "" and PERU in str(first[0][-1]["content"]), "the question shows at once, before any answer"
    streamed = [(t, _bot(out)) for t, out in updates[1:-1] if _bot(out).startswith(WRITING)]
    assert len(streamed) >= 2, (
        f"the answer shows while it is written, in several updates: {len(streamed)} of {len(updates)}"
    )
    assert all(_streamed_text(m) for _, m in streamed), "each intermediate update carries streamed text"
    texts = [_streamed_text(m) for _, m in streamed]
    assert all(a == b or b.startswith(a) for a, b in zip(texts, texts[1:])), (
        f"the streamed text only grows: {texts[:4]}"
    )
    assert texts[-1] != texts[0], "later updates show more text than the first"
    assert "writing-h" in streamed[0][1] and "Writing" in streamed[0][1], (
        "the streamed text is labelled as not yet checked"
    )
    span = streamed[-1][0] - streamed[0][0]
    assert len(streamed) <= span / STREAM_INTERVAL_S + 10, (
        f"updates are throttled to about {1 / STREAM_INTERVAL_S:.0f} a second: {len(streamed)} in {span:.1f} s"
    )

    answer = _bot(final)
    assert answer.startswith('<div class="answer">'), f"the final update is the rendered answer: {answer[:200]}"
    assert WRITING not in answer, "no not-yet-checked text is left once the answer is verified"
    assert '<div class="sources">' in answer and 'href="#cite-0-1"' in answer, (
        "the final answer lists its numbered citations"
    )
    assert "<mark>" in final[2], "the first citation opens at once in the source panel"
    assert final[1] == "", "the question box is emptied for the next question"
    mode = (
        "extractive fallback"
        if prompts.text("en", "labels.fallback") in html.unescape(answer)
        else "verified generation"
    )
    assert f"## 1. {PERU}" in exported, "the turn is stored in the session: the export holds the question"
    assert "### Sources" in exported and "corpus/" in exported, "the stored turn carries the citations"
    print(
        f"\n[chat stream] {len(streamed)} streamed updates over {span:.1f} s, answer after {updates[-1][0]:.1f} s "
        f"({mode})"
    )


def test_dead_llm_server_ends_in_the_extractive_fallback(make_settings, tmp_path):
    # Nothing listens on this port: the LLM is unreachable from the start.
    assistant = _assistant(make_settings, tmp_path, f"http://127.0.0.1:{free_port()}/v1")
    chat = Chat(assistant)
    try:
        updates = chat.ask(PERU, timeout_s=120)
        exported = chat.export()
    finally:
        chat.close()
    answer = _bot(updates[-1][1])
    assert not any(_bot(out).startswith(WRITING) for _, out in updates), (
        "no text is streamed when the LLM is unreachable"
    )
    assert answer.startswith('<div class="answer">'), (
        f"the user gets an answer, not a stuck pending message: {answer[:200]}"
    )
    note = prompts.text("en", "labels.llm_unavailable")
    assert note in html.unescape(answer), f"the answer says the LLM could not be reached: {answer[:200]}"
    assert 'href="#cite-0-1"' in answer, "the extractive answer keeps its citations"
    assert f"## 1. {PERU}" in exported and note in exported, "the fallback turn is stored in the session"


def test_llm_server_dying_mid_answer_ends_in_an_answer_not_a_hang(make_settings, tmp_path):
    why = missing()
    if why:
        pytest.skip(why)
    server = LLMServer(tiny_model(), n_ctx=2048, log_path=tmp_path / "server.log").start(wait_s=120)
    try:
        assistant = _assistant(make_settings, tmp_path, server.url)
        chat = Chat(assistant)
        try:

            def kill_once_streaming(outputs):
                # SIGKILL, not a graceful stop: the server must not finish the answer it is writing.
                if _bot(outputs).startswith(WRITING) and server.process.poll() is None:
                    server.process.kill()
                    server.process.wait(15)

            updates = chat.ask(PERU, on_update=kill_once_streaming, timeout_s=300)
            exported = chat.export()
            again = chat.ask("Comment le Pérou a-t-il adapté sa formation ?", timeout_s=120)
        finally:
            chat.close()
    finally:
        server.stop()
    assert any(_bot(out).startswith(WRITING) for _, out in updates), "the answer was streaming when the server died"
    answer = _bot(updates[-1][1])
    assert WRITING not in answer, f"the pending text does not stay on screen: {answer[:200]}"
    assert answer.startswith(('<div class="answer">', '<div class="failure">')), (
        f"the user gets the extractive fallback or an error turn: {answer[:200]}"
    )
    if answer.startswith('<div class="answer">'):
        assert prompts.text("en", "labels.llm_unavailable") in html.unescape(answer), (
            f"the fallback says the LLM could not be reached: {answer[:300]}"
        )
    assert f"## 1. {PERU}" in exported, "the turn is stored in the session"
    assert _bot(again[-1][1]).startswith('<div class="answer">'), "the app stays up and answers the next question"
