"""Attacks on the chat's login and on the loader: wrong-login floods, what the login page shows before
a login, links and special files swapped into the corpus.

The chat runs as its own process (`assistant chat`) with a real login file; attackers are threads of
this test talking HTTP from other loopback addresses (127.0.0.0/8 is all loopback on Linux), for a
few seconds at most.
"""

from __future__ import annotations

import os
import socket
import statistics
import subprocess
import sys
import threading
import time

import pytest

from assistant import load, parse
from assistant.chat import hash_password
from assistant.errors import BadDocument
from assistant.pipeline import Assistant

from .conftest import ROOT, copy_corpus
from .gradio_http import GradioSession

PASSWORD = "correct horse battery staple"
FLOOD_S = 6.0  # how long the wrong-login floods last
FLOOD_THREADS = 4


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def guarded_chat(shipped, tmp_path_factory):
    """`assistant chat` over the shipped index with a login file (the real PBKDF2 cost), stopped at the end."""
    base = tmp_path_factory.mktemp("guarded")
    users = base / "users.txt"
    users.write_text(f"alice:{hash_password(PASSWORD)}\n", encoding="utf-8")
    port = _free_port()
    settings = shipped.settings
    env = dict(
        os.environ,
        ASSISTANT_CHAT__AUTH_FILE=str(users),
        ASSISTANT_PATHS__DATA=str(base / "data"),
        ASSISTANT_PATHS__CACHE=str(settings.paths.cache),
        PYTHONPATH=str(ROOT),
    )
    log = (base / "chat.log").open("w")
    proc = subprocess.Popen(
        [sys.executable, "-m", "assistant", "chat", "--port", str(port), "--index", str(settings.paths.index)],
        env=env,
        cwd=ROOT,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    try:
        deadline = time.monotonic() + 120
        while True:
            assert proc.poll() is None, f"the chat must start: {(base / 'chat.log').read_text()[-2000:]}"
            try:
                status, _, _ = GradioSession(port, timeout=5).request("GET", "/")
                if status == 200:
                    break
            except OSError:
                pass
            assert time.monotonic() < deadline, "the chat must answer within 120 s of its start"
            time.sleep(0.3)
        yield {"port": port, "docs": shipped.documents()}
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=20)
        log.close()


def _timed_login(port: int, user: str, password: str, source: str) -> tuple[float, int]:
    started = time.perf_counter()
    status, _ = GradioSession(port, source=source).login(user, password)
    return time.perf_counter() - started, status


def _addresses(group: int):
    """Fresh loopback source addresses, one per attempt, so that no single client backs off."""
    for n in range(1, 250):
        yield f"127.{group}.{n // 250}.{n % 250 + 1}"


def test_a_flood_of_wrong_logins_does_not_stop_the_server(guarded_chat):
    port = guarded_chat["port"]
    user = GradioSession(port)
    assert user.login("alice", PASSWORD)[0] == 200, "alice logs in before the flood"

    def cheap() -> float:
        started = time.perf_counter()
        status, body, _ = user.request("GET", "/gradio_api/user")
        assert status == 200 and b"alice" in body, f"the logged-in user is served (HTTP {status})"
        return time.perf_counter() - started

    refusals = [_timed_login(port, "alice", f"wrong-{i}", f"127.9.0.{i + 1}")[0] for i in range(3)]
    refuse = statistics.median(refusals)
    quiet = statistics.median(cheap() for _ in range(10))

    stop = threading.Event()
    attempts: list[int] = []

    def flood(group: int):
        for source in _addresses(group):
            if stop.is_set():
                return
            try:
                attempts.append(GradioSession(port, source=source, timeout=30).login("alice", f"guess-{source}")[0])
            except OSError:
                attempts.append(0)

    threads = [threading.Thread(target=flood, args=(10 + n,), daemon=True) for n in range(FLOOD_THREADS)]
    for t in threads:
        t.start()
    during: list[float] = []
    try:
        time.sleep(0.5)
        deadline = time.monotonic() + FLOOD_S
        while time.monotonic() < deadline:
            during.append(cheap())
    finally:
        stop.set()
        for t in threads:
            t.join(timeout=60)
    assert len(attempts) >= FLOOD_THREADS, f"the flood must really run ({len(attempts)} attempts)"
    assert all(s in (400, 429) for s in attempts), f"every wrong login is refused: {sorted(set(attempts))}"
    median = statistics.median(during)
    assert median < 0.3 * refuse, (
        "while wrong passwords are checked, the server must keep serving a logged-in user: "
        f"median {median * 1000:.0f} ms during the flood ({len(during)} requests, {quiet * 1000:.0f} ms quiet) "
        f"against {refuse * 1000:.0f} ms to refuse one password"
    )


def test_an_unknown_user_costs_as_much_to_refuse_as_a_known_one(guarded_chat):
    port = guarded_chat["port"]
    known, unknown = [], []
    for i in range(4):
        known.append(_timed_login(port, "alice", f"nope-{i}", f"127.20.0.{i + 1}"))
        unknown.append(_timed_login(port, f"mallory{i}", f"nope-{i}", f"127.20.1.{i + 1}"))
    assert all(s == 400 for _, s in known + unknown), f"all are refused: {known + unknown}"
    k, u = statistics.median(t for t, _ in known), statistics.median(t for t, _ in unknown)
    assert u > 0.5 * k, (
        "an unknown user name must take as long to refuse as a known one "
        f"({u * 1000:.0f} ms against {k * 1000:.0f} ms): otherwise user names can be enumerated"
    )


def test_repeated_wrong_logins_from_one_client_back_off_and_other_clients_still_get_in(guarded_chat):
    port = guarded_chat["port"]
    attacker = "127.30.0.1"
    answers = [GradioSession(port, source=attacker).login("alice", f"guess-{i}") for i in range(8)]
    statuses = [s for s, _ in answers]
    assert statuses[0] == 400, f"the first wrong password is simply refused: {statuses}"
    assert statuses[-1] == 429, f"after several wrong passwords the client must be told to wait: {statuses}"
    message = next(body for s, body in answers if s == 429).get("detail", "")
    assert "wrong" in message.lower() and "try again" in message.lower(), (
        f"the refusal must say why and when to retry: {message!r}"
    )
    assert statuses.count(400) <= 6, f"at most a handful of passwords may be tried before the back-off: {statuses}"
    status, _ = GradioSession(port, source=attacker).login("alice", PASSWORD)
    assert status == 429, "while backing off, even the right password is not checked for that client"
    assert GradioSession(port, source="127.30.0.2").login("alice", PASSWORD)[0] == 200, "another client still logs in"


def test_the_login_page_shows_nothing_of_the_corpus(guarded_chat):
    port = guarded_chat["port"]
    docs = guarded_chat["docs"]
    stranger = GradioSession(port)
    for path in ("/", "/config", "/gradio_api/info", "/gradio_api/info?all_endpoints=true"):
        status, body, _ = stranger.request("GET", path)
        text = body.decode("utf-8", "replace")
        leaked = [d for d in docs if d in text] + [a for d in docs.values() for a in d.actions if a in text]
        assert not leaked, f"before a login, {path} (HTTP {status}) must not show the corpus; it shows {leaked[:5]}"
    friend = GradioSession(port)
    assert friend.login("alice", PASSWORD)[0] == 200, "alice logs in"
    outputs = friend.call("on_load", ["en", ""])  # the language, and the country this browser remembers (none)
    assert any("seeds/000_c0f20d1b9c390d7f.txt" in str(o) for o in outputs), (
        "once logged in, the filters list the documents"
    )


# -- the loader: one open per document, no links followed -----------------------------------------

SECRET = "SECRET-OUTSIDE-7731: the payroll of the ministry is kept in this file and must never be indexed."


def _page(topic: str) -> str:
    return (
        f"MIEUX Action: {topic}\n\nThe Action trained border officials of Moldova on {topic}. "
        f"Experts from Portugal shared their procedures on {topic} with the national agency. "
        "The officials then trained their colleagues in the regions, with the handbook the experts wrote.\n"
    )


def test_a_file_swapped_for_a_link_after_the_scan_is_never_read(tmp_path):
    root = tmp_path / "corpus"
    root.mkdir()
    for name in ("a.txt", "b.txt", "c.txt", "sub/d.txt"):
        (root / name).parent.mkdir(exist_ok=True)
        (root / name).write_text(_page(f"topic {name}"), encoding="utf-8")
    secret = tmp_path / "outside" / "payroll.txt"
    secret.parent.mkdir()
    secret.write_text(SECRET, encoding="utf-8")
    (tmp_path / "outside" / "d.txt").write_text(SECRET, encoding="utf-8")

    def swap(name: str):
        link = root / f".{name}.swap"
        link.symlink_to(secret)
        os.replace(link, root / name)  # atomic: the name now points outside

    sources = load.iter_sources(root)
    first = next(sources)  # the folder has been scanned and a.txt opened
    assert first.doc_id == "a.txt", f"sorted walk: {first.doc_id}"
    swap("a.txt")  # after it was read: its bytes are what was hashed
    swap("b.txt")  # before it is read: it is a link by then
    os.rename(root / "sub", root / ".sub-old")  # a folder on the way becomes a link too
    (root / "sub").symlink_to(tmp_path / "outside")
    texts, problems = {}, {}
    for src in [first, *sources]:  # parsed as ingest does, after the scan
        try:
            texts[src.doc_id] = parse.parse(src).text
        except BadDocument as err:
            problems[src.doc_id] = str(err)
    assert not any("SECRET-OUTSIDE" in t for t in texts.values()), (
        f"a link swapped in between the scan and the parse must never be followed: {sorted(texts)}"
    )
    assert "topic a.txt" in texts["a.txt"], "a.txt is parsed from the bytes that were hashed"
    assert "link" in problems.get("b.txt", ""), f"b.txt, a link when it was opened, is named and not read: {problems}"
    assert "topic c.txt" in texts.get("c.txt", ""), "the files after it are still read"
    assert "sub is a symbolic link" in problems.get("sub/d.txt", ""), (
        f"a folder swapped for a link is named: {problems}"
    )


def test_links_folders_links_and_fifos_each_get_a_message(tmp_path, make_settings):
    corpus = copy_corpus(tmp_path / "corpus", ["fr/mieux_action_perou_iii_fr.txt"])
    outside = tmp_path / "outside"
    (outside / "deep").mkdir(parents=True)
    (outside / "payroll.txt").write_text(SECRET, encoding="utf-8")
    (outside / "deep" / "more.txt").write_text(SECRET, encoding="utf-8")
    (corpus / "payroll.txt").symlink_to(outside / "payroll.txt")
    (corpus / "fr" / "copy.txt").symlink_to(corpus / "fr" / "mieux_action_perou_iii_fr.txt")
    (corpus / "elsewhere").symlink_to(outside / "deep")
    os.mkfifo(corpus / "pipe.txt")
    assistant = Assistant(make_settings(corpus))
    report = assistant.ingest()
    for name in ("payroll.txt", "fr/copy.txt", "elsewhere", "pipe.txt"):
        message = report.problems.get(name, "")
        assert f"corpus/{name}" in message, f"{name} must get a message naming it: {report.problems}"
    assert "link" in report.problems["payroll.txt"] and "link" in report.problems["elsewhere"], report.problems
    assert "not a regular file" in report.problems["pipe.txt"], report.problems["pipe.txt"]
    assert set(assistant.documents()) == {"fr/mieux_action_perou_iii_fr.txt"}, "only the real file is indexed"
    answer = assistant.ask("What is kept in the payroll of the ministry?")
    assert all("SECRET" not in c.quote for c in answer.citations + answer.related), (
        "nothing outside the corpus is quoted"
    )
