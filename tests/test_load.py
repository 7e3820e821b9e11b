"""Load stage: the manifest and the walk over a corpus folder, on real files."""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

import pytest

from assistant.errors import BadDocument, ConfigError
from assistant.load import iter_sources, read_manifest

CORPUS = Path(__file__).resolve().parents[1] / "corpus"
SEED_000 = "seeds/000_c0f20d1b9c390d7f.txt"


# ---------------------------------------------------------------------------- manifest


def test_manifest_of_the_real_corpus():
    entries = read_manifest(CORPUS)
    seed = entries[SEED_000]
    assert seed.title.startswith("MIEUX — Lutter contre le trafic de migrants, Pérou"), (
        "seed 000 keeps its manifest title"
    )
    assert seed.year == 2019, "seed 000 was published in 2019"
    assert seed.language == "fr", "seed 000 is French"
    assert seed.source.startswith("text extracted from the case-study PDF"), "source_address becomes source"
    assert len(entries) == 40, "one entry per corpus file listed in MANIFEST.tsv"


def test_manifest_year_is_the_year_at_the_start_of_the_field():
    entries = read_manifest(CORPUS)
    assert entries["en/gcm_objective9_hub_counter_smuggling_en.txt"].year == 2018, "'2018 (GCM text)' -> 2018"
    assert entries["en/mieux_action_jordan_ii_thb_en.txt"].year is None, "'n.d. (Action 2016-2020)' has no year"
    assert entries["en/mieux_faq_en.txt"].year is None, "'n.d.' has no year"


def test_manifest_keeps_only_french_and_english(tmp_path):
    (tmp_path / "MANIFEST.tsv").write_text(
        "file\ttitle\tlanguage\tyear\tsource_address\thow_complete\n"
        "a.txt\tA\tes\t2020\t\tfull\n"
        "b.txt\t\tEN\t\thttps://example.org\tfull\n",
        encoding="utf-8",
    )
    entries = read_manifest(tmp_path)
    assert entries["a.txt"].language is None, "a Spanish language code is not kept"
    assert entries["b.txt"].language == "en", "language codes are case-insensitive"
    assert entries["b.txt"].title is None and entries["b.txt"].year is None, "empty columns become None"
    assert entries["b.txt"].source == "https://example.org", "source_address is kept"


def test_missing_manifest_is_empty(tmp_path):
    assert read_manifest(tmp_path) == {}, "a corpus without MANIFEST.tsv has no entries"


def test_malformed_manifest_row_names_the_line(tmp_path):
    (tmp_path / "MANIFEST.tsv").write_text(
        "file\ttitle\tlanguage\tyear\tsource_address\thow_complete\n"
        "a.txt\tA\tfr\t2020\t\tfull\n"
        "b.txt only one column with spaces\n",
        encoding="utf-8",
    )
    with pytest.raises(BadDocument) as caught:
        read_manifest(tmp_path)
    message = str(caught.value)
    assert "MANIFEST.tsv" in message and "line 3" in message, f"the error names the file and line: {message}"
    assert "tab" in message, f"the error says how to fix it: {message}"


def test_duplicate_manifest_row_is_refused(tmp_path):
    (tmp_path / "MANIFEST.tsv").write_text("file\ttitle\na.txt\tA\na.txt\tB\n", encoding="utf-8")
    with pytest.raises(BadDocument, match="line 3 lists a.txt again"):
        read_manifest(tmp_path)


# ---------------------------------------------------------------------------- walk


@pytest.fixture
def tree(tmp_path: Path) -> Path:
    root = tmp_path / "corpus"
    (root / "fr" / "deep").mkdir(parents=True)
    (root / ".git").mkdir()
    (root / "b.txt").write_text("Deuxième fichier.", encoding="utf-8")
    (root / "a.md").write_text("# Premier\n\nTexte.", encoding="utf-8")
    (root / "fr" / "deep" / "c.html").write_text("<p>Bonjour</p>", encoding="utf-8")
    (root / "fr" / "notes.xyz").write_bytes(b"not a supported type")
    (root / ".hidden.txt").write_text("caché", encoding="utf-8")
    (root / ".git" / "config").write_text("[core]", encoding="utf-8")
    (root / "README.md").write_text("How this corpus is built", encoding="utf-8")
    (root / "MANIFEST.tsv").write_text("file\ttitle\n", encoding="utf-8")
    return root


def test_walk_is_sorted_and_skips_hidden_manifest_and_readme(tree):
    ids = [s.doc_id for s in iter_sources(tree)]
    assert ids == ["a.md", "b.txt", "fr/deep/c.html", "fr/notes.xyz"], f"sorted POSIX doc_ids, no hidden files: {ids}"


def test_unsupported_files_are_yielded_for_parse_to_report(tree):
    ids = [s.doc_id for s in iter_sources(tree)]
    assert "fr/notes.xyz" in ids, "an unsupported file must not vanish silently"


def test_hash_and_size_are_those_of_the_bytes(tree):
    source = next(s for s in iter_sources(tree) if s.doc_id == "b.txt")
    data = (tree / "b.txt").read_bytes()
    assert source.sha256 == hashlib.sha256(data).hexdigest(), "sha256 of the file's bytes"
    assert source.size == len(data), "size in bytes"
    assert source.path.is_absolute() and source.path == (tree / "b.txt").absolute(), "path is absolute"


def test_only_restricts_to_files_and_folders(tree):
    assert [s.doc_id for s in iter_sources(tree, only=[Path("fr")])] == ["fr/deep/c.html", "fr/notes.xyz"], (
        "a folder relative to root"
    )
    assert [s.doc_id for s in iter_sources(tree, only=[tree / "b.txt"])] == ["b.txt"], "an absolute file path"
    both = [s.doc_id for s in iter_sources(tree, only=[Path("a.md"), Path("fr/deep")])]
    assert both == ["a.md", "fr/deep/c.html"], f"several paths, still sorted: {both}"


def test_only_outside_root_is_refused_with_its_name(tree, tmp_path):
    outside = tmp_path / "elsewhere.txt"
    outside.write_text("hors corpus", encoding="utf-8")
    with pytest.raises(ConfigError) as caught:
        list(iter_sources(tree, only=[outside]))
    message = str(caught.value)
    assert str(outside) in message and "outside the corpus folder" in message, (
        f"names the path and the problem: {message}"
    )
    with pytest.raises(ConfigError, match="outside the corpus folder"):
        list(iter_sources(tree, only=[Path("../elsewhere.txt")]))


def test_only_missing_path_is_refused(tree):
    with pytest.raises(ConfigError, match="was not found under the corpus folder"):
        list(iter_sources(tree, only=[Path("nope.txt")]))


def test_missing_root_is_refused(tmp_path):
    with pytest.raises(ConfigError, match="does not exist"):
        list(iter_sources(tmp_path / "no-corpus"))


@pytest.mark.skipif(not hasattr(os, "symlink"), reason="needs symlinks")
def test_links_are_named_but_never_read(tree, tmp_path):
    secret = tmp_path / "secret.txt"
    secret.write_text("ne pas indexer", encoding="utf-8")
    (tmp_path / "outside").mkdir()
    (tree / "link.txt").symlink_to(secret)
    (tree / "inside.txt").symlink_to(tree / "b.txt")
    (tree / "folder").symlink_to(tmp_path / "outside")
    sources = {s.doc_id: s for s in iter_sources(tree)}
    for name in ("link.txt", "inside.txt", "folder"):
        assert name in sources, f"{name}, a link, is yielded so that ingest can name it"
        assert sources[name].data is None and "symbolic link" in (sources[name].problem or ""), (
            f"{name} is not read, and says why: {sources[name].problem}"
        )
    assert sources["b.txt"].data == (tree / "b.txt").read_bytes() and sources["b.txt"].problem is None, (
        "regular files are read"
    )


def test_a_fifo_is_named_and_never_opened_for_long(tree):
    os.mkfifo(tree / "pipe.txt")
    source = next(s for s in iter_sources(tree) if s.doc_id == "pipe.txt")
    assert source.data is None and "not a regular file" in (source.problem or ""), (
        f"a FIFO is not read: {source.problem}"
    )


def test_the_bytes_hashed_are_the_bytes_parsed(tree):
    source = next(s for s in iter_sources(tree) if s.doc_id == "b.txt")
    assert hashlib.sha256(source.data).hexdigest() == source.sha256, "the hash is that of the bytes handed to parse"


def test_reading_stops_past_the_size_limit(tree):
    (tree / "big.txt").write_bytes(b"x" * 5000)
    source = next(s for s in iter_sources(tree, max_bytes=100) if s.doc_id == "big.txt")
    assert len(source.data) == 101 and source.size == 5000, (
        "no more than the limit plus one byte is read; the size is the file's"
    )


def test_the_real_corpus_walk():
    sources = list(iter_sources(CORPUS))
    ids = [s.doc_id for s in sources]
    assert len(sources) == 40, f"40 corpus files, MANIFEST.tsv excluded: {len(sources)}"
    assert ids == sorted(ids), "sorted by doc_id"
    assert set(ids) == set(read_manifest(CORPUS)), "every file is in the manifest and the other way round"


def test_a_url_column_gives_the_original_address(tmp_path):
    (tmp_path / "MANIFEST.tsv").write_text(
        "file\ttitle\turl\tsource_address\n"
        "a.txt\tA\thttps://example.org/a\ttext of the page\n"
        "b.txt\tB\t\thttps://example.org/b\n",
        encoding="utf-8",
    )
    entries = read_manifest(tmp_path)
    assert entries["a.txt"].source == "https://example.org/a", "the url column wins over a source_address description"
    assert entries["b.txt"].source == "https://example.org/b", "without a url, the source_address is kept"
