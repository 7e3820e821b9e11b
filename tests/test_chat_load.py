"""Load: 20 concurrent chat users against one running app, over loopback, bounded in count and time."""

from __future__ import annotations

import socket
import time
from concurrent.futures import ThreadPoolExecutor

import pytest

QUESTIONS = [
    ("How did Peru adapt its training?", "000_c0f20d1b9c390d7f"),
    ("Comment le Pérou a-t-il adapté sa formation ?", "000_c0f20d1b9c390d7f"),
    ("What did MIEUX do for victims' shelters in Jordan?", "jordan"),
    ("Quelles sont les dix particularités d'une bonne pratique ?", "000_c0f20d1b9c390d7f"),
]
USERS = 20
ROUNDS = 2


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def ask_as_user(url: str, user: int) -> list[tuple[float, bool, str]]:
    """One user's session: ROUNDS questions in a row through Gradio's own client."""
    from gradio_client import Client

    client = Client(url, verbose=False)
    results = []
    for r in range(ROUNDS):
        question, expected = QUESTIONS[(user + r) % len(QUESTIONS)]
        started = time.perf_counter()
        chat, _, _, source = client.predict(question, [], "any", [], [], "en", api_name="/respond")
        elapsed = time.perf_counter() - started
        reply = str(chat[-1]["content"]) if chat else ""
        ok = "[1]" in reply and expected.lower() in (reply + str(source)).lower()
        results.append((elapsed, ok, question))
    return results


@pytest.mark.slow
def test_twenty_concurrent_users_get_cited_answers(shipped):
    from assistant.chat import build_app

    port = _free_port()
    app = build_app(shipped)
    app.queue(default_concurrency_limit=shipped.settings.chat.max_concurrency)
    app.launch(server_name="127.0.0.1", server_port=port, prevent_thread_lock=True, quiet=True)
    try:
        url = f"http://127.0.0.1:{port}/"
        started = time.perf_counter()
        with ThreadPoolExecutor(max_workers=USERS) as pool:
            runs = list(pool.map(lambda u: ask_as_user(url, u), range(USERS), timeout=600))
        wall = time.perf_counter() - started
    finally:
        app.close()
    results = [r for run in runs for r in run]
    assert len(results) == USERS * ROUNDS, "every user got every answer"
    failed = [q for _, ok, q in results if not ok]
    assert not failed, f"every answer is cited and from the expected source; failed: {failed[:5]}"
    latencies = sorted(t for t, _, _ in results)
    print(
        f"\n{USERS} users x {ROUNDS}: p50 {latencies[len(latencies) // 2]:.2f} s, "
        f"p95 {latencies[int(0.95 * len(latencies)) - 1]:.2f} s, {len(results) / wall:.2f} answers/s"
    )
