"""Chroma server mode: a real `chroma run` on 127.0.0.1, started and stopped by the test."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from assistant.errors import StoreUnavailable
from assistant.pipeline import Assistant

from .conftest import copy_corpus

SMALL = ["fr/mieux_action_perou_iii_fr.txt", "en/mieux_action_jordan_ii_thb_en.txt"]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_chroma(path: Path, port: int) -> subprocess.Popen:
    chroma = Path(sys.executable).parent / "chroma"
    proc = subprocess.Popen(
        [str(chroma), "run", "--host", "127.0.0.1", "--port", str(port), "--path", str(path)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return proc
        except OSError:
            time.sleep(0.2)
    proc.kill()
    raise RuntimeError("chroma run did not start within 30 s")


@pytest.fixture
def chroma_server(tmp_path):
    port = free_port()
    server = {"port": port, "path": tmp_path / "chroma-data", "proc": start_chroma(tmp_path / "chroma-data", port)}
    yield server
    # The server running now: a test may have stopped the first one and started another.
    proc = server["proc"]
    if proc.poll() is None:
        os.kill(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=20)


@pytest.mark.slow
def test_ingest_and_ask_through_a_chroma_server(chroma_server, tmp_path, make_settings):
    corpus = copy_corpus(tmp_path / "corpus", SMALL)
    settings = make_settings(corpus, store={"chroma_url": f"http://127.0.0.1:{chroma_server['port']}"})
    assistant = Assistant(settings)
    report = assistant.ingest()
    assert report.passages > 0, "passages went into the server"
    assert not (Path(settings.paths.index) / "chroma").exists(), "nothing was written to an embedded Chroma"
    answer = assistant.ask("Quelles procédures MIEUX a-t-il développées pour les refuges en Jordanie ?")
    assert answer.citations and answer.citations[0].source == SMALL[1], "the answer comes from the server's index"
    assert assistant.ingest().embedded == 0, "re-ingest through the server embeds nothing"


@pytest.mark.slow
def test_server_outage_is_reported_and_recovered(chroma_server, tmp_path, make_settings):
    corpus = copy_corpus(tmp_path / "corpus", SMALL)
    url = f"http://127.0.0.1:{chroma_server['port']}"
    assistant = Assistant(make_settings(corpus, store={"chroma_url": url}))
    assistant.ingest()
    question = "What did MIEUX do in Jordan?"
    assert assistant.ask(question).citations, "answers while the server is up"
    proc = chroma_server["proc"]
    os.kill(proc.pid, signal.SIGTERM)
    proc.wait(timeout=20)
    with pytest.raises(StoreUnavailable, match=url):
        assistant.ask(question)
    chroma_server["proc"] = start_chroma(chroma_server["path"], chroma_server["port"])
    assert assistant.ask(question).citations, "recovers without a restart once the server is back"


def _chroma_processes(under: Path) -> list[int]:
    """Pids of `chroma run` processes whose data folder is under `under`."""
    pids = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            argv = (entry / "cmdline").read_bytes().split(b"\0")
        except OSError:
            continue
        if (
            any(part.endswith(b"chroma") for part in argv[:2])
            and b"run" in argv
            and str(under).encode() in b" ".join(argv)
        ):
            pids.append(int(entry.name))
    return pids


@pytest.mark.slow
def test_the_outage_test_leaves_no_chroma_server_behind(tmp_path):
    if os.environ.get("NESTED_SERVER_MODE_TEST"):
        pytest.skip("this test runs the outage test in a nested pytest, not itself")
    base = tmp_path / "nested"
    env = dict(os.environ, NESTED_SERVER_MODE_TEST="1")
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            "-q",
            "-p",
            "no:cacheprovider",
            f"--basetemp={base}",
            f"{Path(__file__)}::test_server_outage_is_reported_and_recovered",
        ],
        env=env,
        cwd=Path(__file__).resolve().parent.parent,
        capture_output=True,
        text=True,
        timeout=600,
    )
    left = _chroma_processes(base)
    for pid in left:  # do not let this test leak what it found
        os.kill(pid, signal.SIGKILL)
    assert done.returncode == 0, f"the outage test passes: {done.stdout[-2000:]}"
    assert not left, (
        f"the chroma server restarted by the outage test must be stopped with the test ({len(left)} left running)"
    )


@pytest.mark.slow
def test_a_server_that_stops_answering_is_an_outage_after_store_timeout(chroma_server, tmp_path, make_settings):
    # A frozen `chroma run` (SIGSTOP) still accepts connections: only store.timeout_s ends the wait.
    corpus = copy_corpus(tmp_path / "corpus", SMALL)
    url = f"http://127.0.0.1:{chroma_server['port']}"
    settings = make_settings(corpus, store={"chroma_url": url, "timeout_s": 1.5})
    assistant = Assistant(settings)
    assistant.ingest()
    question = "What did MIEUX do in Jordan?"
    assert assistant.ask(question).citations, "answers while the server is up"
    proc = chroma_server["proc"]
    os.kill(proc.pid, signal.SIGSTOP)
    try:
        started = time.monotonic()
        with pytest.raises(StoreUnavailable, match=url):
            assistant.ask(question)
        waited = time.monotonic() - started
        assert waited < 20, (
            f"a connected client gives up after store.timeout_s (1.5 s), not Chroma's endless wait: {waited:.1f} s"
        )
        started = time.monotonic()
        with pytest.raises(StoreUnavailable, match="within 1.5 s"):
            Assistant(settings).ask(question)
        waited = time.monotonic() - started
        assert waited < 20, f"a new connection gives up after store.timeout_s (1.5 s): {waited:.1f} s"
    finally:
        os.kill(proc.pid, signal.SIGCONT)
    assert assistant.ask(question).citations, "answers again once the server answers"


JORDAN_QUESTION = "What did MIEUX do for victims' shelters in Jordan?"
JORDAN_TITLE = "jordan ii"  # the cited document's title; an abstention only names the country


def _host_env(url: str, base: Path, corpus: Path, cache: Path) -> dict:
    """The environment of an assistant process on another host: its own local folders, the shared server."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("ASSISTANT_")}
    return env | {
        "ASSISTANT_STORE__CHROMA_URL": url,
        "ASSISTANT_PATHS__INDEX": str(base / "index"),
        "ASSISTANT_PATHS__DATA": str(base / "data"),
        "ASSISTANT_PATHS__CORPUS": str(corpus),
        "ASSISTANT_PATHS__CACHE": str(cache),
        "HF_HUB_OFFLINE": "1",
    }


def _start_chat(env: dict, port: int, log: Path) -> subprocess.Popen:
    root = Path(__file__).resolve().parent.parent
    with log.open("wb") as fh:
        proc = subprocess.Popen(
            [sys.executable, "-m", "assistant", "chat", "--port", str(port)],
            env=env,
            cwd=root,
            stdout=fh,
            stderr=subprocess.STDOUT,
        )
    deadline = time.monotonic() + 180
    while time.monotonic() < deadline:
        assert proc.poll() is None, f"the chat on port {port} exited early: {log.read_text()[-2000:]}"
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return proc
        except OSError:
            time.sleep(0.5)
    proc.kill()
    raise RuntimeError(f"the chat on port {port} did not open within 180 s: {log.read_text()[-2000:]}")


def _stop(proc: subprocess.Popen) -> None:
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=20)


def _chat_answer(port: int, question: str) -> str:
    """The reply and source panel a user of the chat on `port` gets for `question`."""
    from gradio_client import Client

    client = Client(f"http://127.0.0.1:{port}/", verbose=False)
    chat, _, _, source = client.predict(question, [], "any", [], [], "en", api_name="/respond")
    return (str(chat[-1]["content"]) if chat else "") + str(source)


@pytest.mark.slow
def test_two_hosts_see_one_live_index_and_never_ingest_at_once(chroma_server, tmp_path, make_settings, embedding_cache):
    url = f"http://127.0.0.1:{chroma_server['port']}"
    corpus = copy_corpus(tmp_path / "corpus", [SMALL[0]])
    host_a = make_settings(corpus, store={"chroma_url": url}, paths={"index": tmp_path / "a" / "index"})
    writer = Assistant(host_a)
    writer.ingest()
    ports = [free_port(), free_port()]
    chats = []
    try:
        # Two chat processes, each on a "host" of its own: their local index folders stay empty.
        for n, port in enumerate(ports):
            chats.append(
                _start_chat(
                    _host_env(url, tmp_path / f"chat{n}", corpus, embedding_cache), port, tmp_path / f"chat{n}.log"
                )
            )
        for port in ports:
            assert JORDAN_TITLE not in _chat_answer(port, JORDAN_QUESTION).lower(), (
                f"before the update the chat on {port} has no Jordan document to cite"
            )
        copy_corpus(corpus, [SMALL[1]])
        report = writer.ingest()
        assert report.promoted and report.added == [SMALL[1]], f"host A's ingest adds the Jordan document: {report}"
        for port in ports:
            assert JORDAN_TITLE in _chat_answer(port, JORDAN_QUESTION).lower(), (
                f"the chat on {port}, on another host, answers from the new generation at once (no restart)"
            )
        for n in range(2):
            assert not (tmp_path / f"chat{n}" / "index" / "catalog.sqlite").exists(), (
                "the chats read the live pointer from the server, not from a local catalog"
            )
            assert (tmp_path / f"chat{n}" / "index" / "retrieval" / writer.catalog.live() / "done.json").exists(), (
                "each chat host built the new generation's retrieval index once, in its own index folder"
            )
    finally:
        for proc in chats:
            _stop(proc)

    # Host B cannot ingest while host A holds the lock, though their local lock files differ.
    copy_corpus(corpus, [SMALL[0]])
    (corpus / SMALL[0]).write_text(
        (corpus / SMALL[0]).read_text(encoding="utf-8") + "\nUne ligne ajoutée.\n", encoding="utf-8"
    )
    env_b = _host_env(url, tmp_path / "b", corpus, embedding_cache)
    root = Path(__file__).resolve().parent.parent
    live = writer.catalog.live()
    with writer._ingest_lock():
        blocked = subprocess.run(
            [sys.executable, "-m", "assistant", "ingest"],
            env=env_b,
            cwd=root,
            capture_output=True,
            text=True,
            timeout=300,
        )
        assert blocked.returncode == 6, f"host B's ingest is refused while host A ingests: {blocked.stderr[-1500:]}"
        assert "Another ingest or update is running on the Chroma server" in blocked.stderr, (
            f"the refusal says another host is ingesting: {blocked.stderr[-1500:]}"
        )
        assert writer.catalog.live() == live, "the refused ingest changed nothing"
    done = subprocess.run(
        [sys.executable, "-m", "assistant", "ingest"], env=env_b, cwd=root, capture_output=True, text=True, timeout=300
    )
    assert done.returncode == 0, f"once host A is done, host B ingests: {done.stderr[-1500:]}"
    assert writer.catalog.live() != live, "host B's ingest is live for host A too"
    assert writer.ingest().generation == writer.catalog.live(), (
        "host A then finds nothing to do: it sees host B's generation as live"
    )


@pytest.mark.slow
def test_a_lock_left_by_a_killed_ingest_is_taken_over_and_a_live_one_is_not(chroma_server, tmp_path, make_settings):
    import chromadb

    from assistant.errors import AssistantError
    from assistant.store import LOCK_STALE_S

    url = f"http://127.0.0.1:{chroma_server['port']}"
    corpus = copy_corpus(tmp_path / "corpus", [SMALL[0]])
    assistant = Assistant(make_settings(corpus, store={"chroma_url": url}))
    client = chromadb.HttpClient(host="127.0.0.1", port=chroma_server["port"])
    name = f"{assistant.settings.store.collection_prefix}-ingest-lock"
    # What an ingest on another host leaves while it runs (renewed just now), then once killed (not renewed since).
    client.create_collection(name, embedding_function=None, metadata={"holder": "host-b pid 42", "beat": time.time()})
    with pytest.raises(AssistantError, match="host-b pid 42"):
        assistant.ingest()
    assert assistant.catalog.live() is None, "nothing was ingested while another host held the lock"
    client.delete_collection(name)
    client.create_collection(
        name, embedding_function=None, metadata={"holder": "host-b pid 42", "beat": time.time() - LOCK_STALE_S - 5}
    )
    report = assistant.ingest()
    assert report.promoted, "a lock not renewed for LOCK_STALE_S (its ingest was killed) is taken over"
    assert name not in [c.name for c in client.list_collections()], "the ingest releases the lock when done"
