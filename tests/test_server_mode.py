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
    proc = subprocess.Popen([str(chroma), "run", "--host", "127.0.0.1", "--port", str(port), "--path", str(path)],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
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
        if any(part.endswith(b"chroma") for part in argv[:2]) and b"run" in argv and str(under).encode() in b" ".join(argv):
            pids.append(int(entry.name))
    return pids


@pytest.mark.slow
def test_the_outage_test_leaves_no_chroma_server_behind(tmp_path):
    if os.environ.get("NESTED_SERVER_MODE_TEST"):
        pytest.skip("this test runs the outage test in a nested pytest, not itself")
    base = tmp_path / "nested"
    env = dict(os.environ, NESTED_SERVER_MODE_TEST="1")
    done = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", f"--basetemp={base}",
                           f"{Path(__file__)}::test_server_outage_is_reported_and_recovered"],
                          env=env, cwd=Path(__file__).resolve().parent.parent, capture_output=True, text=True, timeout=600)
    left = _chroma_processes(base)
    for pid in left:  # do not let this test leak what it found
        os.kill(pid, signal.SIGKILL)
    assert done.returncode == 0, f"the outage test passes: {done.stdout[-2000:]}"
    assert not left, f"the chroma server restarted by the outage test must be stopped with the test ({len(left)} left running)"


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
        assert waited < 20, f"a connected client gives up after store.timeout_s (1.5 s), not Chroma's endless wait: {waited:.1f} s"
        started = time.monotonic()
        with pytest.raises(StoreUnavailable, match="within 1.5 s"):
            Assistant(settings).ask(question)
        waited = time.monotonic() - started
        assert waited < 20, f"a new connection gives up after store.timeout_s (1.5 s): {waited:.1f} s"
    finally:
        os.kill(proc.pid, signal.SIGCONT)
    assert assistant.ask(question).citations, "answers again once the server answers"
