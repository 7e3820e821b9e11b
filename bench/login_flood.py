"""What a flood of wrong logins costs a logged-in user: answer time quiet and during the flood, median and ratio.

    .venv/bin/python bench/login_flood.py               # ~5 min: quiet phase and three floods, 3 passes
    .venv/bin/python bench/login_flood.py --index index --questions 10 --repeats 1

Starts `assistant chat` with a login file (the real PBKDF2 cost) over a scratch index of the shipped
corpus (or --index), logs in as a user and asks the same questions of eval/questions.jsonl in every
phase (after a warm-up pass, so every phase is equally warm): quiet, then while FLOOD_THREADS
threads post wrong passwords as fast as they are answered (the whole sequence --repeats times, so
that a change of load on a shared machine falls on every phase):
  * one client: every attempt from 127.0.0.1 (the per-client back-off engages);
  * many clients: each attempt from another loopback address (no back-off: only running the
    password checks one at a time, off the event loop, protects the chat);
  * unknown users: as many clients, with user names that do not exist.
Prints the medians and the ratio flood/quiet, and writes bench/results/login_flood.json.
Network traffic goes to 127.0.0.0/8 only.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import random
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from urllib.parse import urlencode

ROOT = Path(__file__).resolve().parent.parent
PY = sys.executable
FLOOD_THREADS = 4


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def post_login(port: int, user: str, password: str, source: str | None = None) -> tuple[int, list[str]]:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=120, source_address=(source, 0) if source else None)
    try:
        conn.request(
            "POST",
            "/login",
            body=urlencode({"username": user, "password": password}),
            headers={"Content-Type": "application/x-www-form-urlencoded"},
        )
        response = conn.getresponse()
        response.read()
        return response.status, [v for k, v in response.getheaders() if k.lower() == "set-cookie"]
    finally:
        conn.close()


def ask(port: int, cookies: str, fn_index: int, question: str, session: str) -> float:
    """One question through the chat's queue, as the page sends it; seconds until the answer is complete."""
    started = time.perf_counter()
    body = json.dumps(
        {"data": [question, None, [], "any", [], [], "en", None], "fn_index": fn_index, "session_hash": session}
    ).encode()
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=300)
    try:
        conn.request(
            "POST", "/gradio_api/queue/join", body=body, headers={"Content-Type": "application/json", "Cookie": cookies}
        )
        response = conn.getresponse()
        event = json.loads(response.read())["event_id"]
    finally:
        conn.close()
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=300)
    try:
        conn.request("GET", f"/gradio_api/queue/data?session_hash={session}", headers={"Cookie": cookies})
        response = conn.getresponse()
        while line := response.readline():
            if line.startswith(b"data:"):
                message = json.loads(line[5:])
                if message.get("event_id") == event and message.get("msg") == "process_completed":
                    if not message.get("success", True):
                        raise RuntimeError(f"the question failed: {message}")
                    return time.perf_counter() - started
    finally:
        conn.close()
    raise RuntimeError("the answer stream ended early")


def respond_index(port: int, cookies: str) -> int:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    try:
        conn.request("GET", "/config", headers={"Cookie": cookies})
        config = json.loads(conn.getresponse().read())
    finally:
        conn.close()
    return next(d["id"] for d in config["dependencies"] if d.get("api_name") == "respond")


def flood(port: int, kind: str, stop: threading.Event, group: int, statuses: list[int]) -> None:
    n = 0
    while not stop.is_set():
        n += 1
        source = None if kind == "one client" else f"127.{100 + group}.{(n // 250) % 250}.{n % 250 + 1}"
        user = f"nobody{n}" if kind == "unknown users" else "alice"
        try:
            statuses.append(post_login(port, user, f"wrong-{group}-{n}", source)[0])
        except OSError:
            statuses.append(0)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--index", type=Path, help="an existing index (default: a scratch ingest of corpus/)")
    parser.add_argument(
        "--cache",
        type=Path,
        default=ROOT / "bench" / ".cache" / "embeddings.sqlite",
        help="embedding cache for the scratch ingest",
    )
    parser.add_argument("--questions", type=int, default=20, help="questions asked per phase")
    parser.add_argument("--repeats", type=int, default=3, help="times the quiet phase and the floods are run, in turn")
    parser.add_argument("--out", type=Path, default=ROOT / "bench" / "results" / "login_flood.json")
    args = parser.parse_args()

    sys.path.insert(0, str(ROOT))
    from assistant.chat import hash_password

    work = Path(tempfile.mkdtemp(prefix="assistant-login-bench-"))
    proc = None
    try:
        env = {
            **os.environ,
            "PYTHONPATH": str(ROOT),
            "ASSISTANT_PATHS__DATA": str(work / "data"),
            "ASSISTANT_PATHS__CACHE": str(args.cache),
        }
        index = args.index
        if index is None:
            index = work / "index"
            args.cache.parent.mkdir(parents=True, exist_ok=True)
            print("ingesting the shipped corpus into a scratch index…", flush=True)
            subprocess.run(
                [PY, "-m", "assistant", "ingest", "--index", str(index), "--corpus", str(ROOT / "corpus")],
                env=env,
                cwd=ROOT,
                check=True,
                stdout=subprocess.DEVNULL,
            )
        password = "correct horse battery staple"
        users = work / "users.txt"
        users.write_text(f"alice:{hash_password(password)}\n", encoding="utf-8")
        port = free_port()
        log = open(work / "chat.log", "w")
        proc = subprocess.Popen(
            [PY, "-m", "assistant", "chat", "--port", str(port), "--index", str(index)],
            env={**env, "ASSISTANT_CHAT__AUTH_FILE": str(users)},
            cwd=ROOT,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        deadline = time.monotonic() + 180
        while True:
            try:
                if post_login(port, "alice", password)[0] == 200:
                    break
            except OSError:
                pass
            if proc.poll() is not None or time.monotonic() > deadline:
                raise SystemExit(f"the chat did not start: {(work / 'chat.log').read_text()[-1500:]}")
            time.sleep(0.5)
        status, cookies = post_login(port, "alice", password)
        cookie = "; ".join(c.split(";")[0] for c in cookies)
        respond = respond_index(port, cookie)

        rows = [
            json.loads(line)
            for line in (ROOT / "eval" / "questions.jsonl").read_text(encoding="utf-8").splitlines()
            if line.strip()
        ]
        questions = [r["question"] for r in rows]
        random.Random(18).shuffle(questions)
        questions = questions[: args.questions]

        def phase() -> list[float]:
            return [ask(port, cookie, respond, q, f"bench{time.time_ns()}") for q in questions]

        phase()  # warm-up: models, retriever, query vectors

        def refusal(user: str, source: str) -> float:
            started = time.perf_counter()
            status, _ = post_login(port, user, "wrong", source)
            if status != 400:
                raise SystemExit(f"a wrong password for {user} from {source} got HTTP {status}, not 400")
            return time.perf_counter() - started

        # Each from its own address, so that no back-off interferes; known and unknown in turn.
        refuse_known, refuse_unknown = [], []
        for i in range(1, 6):
            refuse_known.append(refusal("alice", f"127.99.0.{i}"))
            refuse_unknown.append(refusal(f"ghost{i}", f"127.99.1.{i}"))
        kinds = ("one client", "many clients", "unknown users")
        results = {
            "quiet": [],
            "floods": {
                k: {"times": [], "attempts": 0, "refused_400": 0, "backed_off_429": 0, "other": 0} for k in kinds
            },
        }
        for repeat in range(args.repeats):
            results["quiet"] += phase()
            for kind in kinds:
                stop, statuses = threading.Event(), []
                threads = [
                    threading.Thread(target=flood, args=(port, kind, stop, 10 * repeat + g, statuses), daemon=True)
                    for g in range(FLOOD_THREADS)
                ]
                for t in threads:
                    t.start()
                time.sleep(2.0)  # the flood is under way (and the back-off engaged) before the first question
                try:
                    times = phase()
                finally:
                    stop.set()
                    for t in threads:
                        t.join(timeout=120)
                r = results["floods"][kind]
                r["times"] += times
                r["attempts"] += len(statuses)
                r["refused_400"] += statuses.count(400)
                r["backed_off_429"] += statuses.count(429)
                r["other"] += len(statuses) - statuses.count(400) - statuses.count(429)
            print(f"pass {repeat + 1}/{args.repeats} done (load {os.getloadavg()[0]:.1f})", flush=True)
        quiet = statistics.median(results["quiet"])
        summary = {
            "quiet_median_s": round(quiet, 3),
            "refuse_known_median_s": round(statistics.median(refuse_known), 3),
            "refuse_unknown_median_s": round(statistics.median(refuse_unknown), 3),
            "load": os.getloadavg(),
        }
        print(f"\nanswer time, quiet: median {quiet:.3f} s over {len(results['quiet'])} questions")
        for kind, r in results["floods"].items():
            med = statistics.median(r["times"])
            summary[kind] = {
                "median_s": round(med, 3),
                "ratio": round(med / quiet, 2),
                **{k: r[k] for k in ("attempts", "refused_400", "backed_off_429", "other")},
            }
            print(
                f"during a flood from {kind:13s}: median {med:.3f} s = {med / quiet:.2f}x quiet "
                f"({r['attempts']} wrong logins: {r['refused_400']} checked and refused,"
                f" {r['backed_off_429']} told to wait)"
            )
        print(
            f"refusing a wrong password: known user {summary['refuse_known_median_s']:.3f} s, "
            f"unknown user {summary['refuse_unknown_median_s']:.3f} s (median); load {summary['load'][0]:.1f}"
        )
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(json.dumps({"summary": summary, "raw": results}, indent=2), encoding="utf-8")
        print(f"raw numbers: {args.out}")
    finally:
        if proc is not None and proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
