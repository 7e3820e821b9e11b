"""Faults: queries during an ingest, a full disk while ingesting."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
import uuid

import pytest

from assistant.errors import AssistantError
from assistant.pipeline import Assistant

from .conftest import ROOT, copy_corpus

SMALL = [
    "fr/mieux_action_perou_iii_fr.txt",
    "en/mieux_action_jordan_ii_thb_en.txt",
    "en/mieux_action_thailand_ii_thb_en.txt",
]


def _big_document(n: int, topic: str) -> str:
    return "\n\n".join(
        f"Paragraph {i} on {topic}: experts trained officials of region {i} on victim referral, case management and "
        f"cross-border cooperation, with exercise number {i * 13} and review {uuid.uuid4().hex[:8]}."
        for i in range(n)
    )


@pytest.mark.slow
def test_queries_are_answered_while_an_ingest_runs(tmp_path, make_settings):
    corpus = copy_corpus(tmp_path / "corpus", SMALL)
    settings = make_settings(corpus)
    reader = Assistant(settings)
    reader.ingest()
    before = reader.catalog.live()
    (corpus / "en" / "moldova.txt").write_text(
        "MIEUX Action: Moldova – Labour migration\n\n" + _big_document(120, "labour migration in Moldova"),
        encoding="utf-8",
    )
    env = dict(
        os.environ,
        ASSISTANT_PATHS__CORPUS=str(corpus),
        ASSISTANT_PATHS__INDEX=str(settings.paths.index),
        ASSISTANT_PATHS__CACHE=str(tmp_path / "cold.sqlite"),
    )
    proc = subprocess.Popen(
        [sys.executable, "-m", "assistant", "ingest"],
        env=env,
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    answered, generations = 0, set()
    deadline = time.monotonic() + 300
    while proc.poll() is None and time.monotonic() < deadline:
        answer = reader.ask("What did MIEUX do for shelters in Jordan?")
        assert answer.citations, "every question during the ingest is answered with citations"
        generations.add(reader.retriever.generation)
        answered += 1
    assert proc.wait(timeout=60) == 0, proc.stderr.read()
    assert answered >= 3, f"questions kept being answered during the ingest ({answered})"
    after = reader.ask("What did MIEUX do on labour migration in Moldova?")
    final = reader.retriever.generation
    assert final != before, "once swapped, readers see the new generation"
    assert before in generations and generations <= {before, final}, (
        f"readers saw the old index or the new one, never a half-written one: {generations}"
    )
    assert any(c.source == "en/moldova.txt" for c in after.citations + after.related), (
        f"and its new document: {after.answer[:300]}"
    )


def _mount_tmpfs(path, size: str) -> bool:
    path.mkdir(parents=True, exist_ok=True)
    if shutil.which("mount") is None:
        return False
    return (
        subprocess.run(
            ["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(path)], capture_output=True
        ).returncode
        == 0
    )


@pytest.mark.slow
def test_disk_full_while_ingesting_leaves_the_live_index(tmp_path, make_settings):
    index = tmp_path / "small-disk"
    # Room for one generation of this small corpus (about 1.8 MB: 0.45 MB of Chroma files, 1.2 MB of
    # retrieval index, mostly the per-language covariance of the vectors) but not for a second one.
    if not _mount_tmpfs(index, "2400k"):
        pytest.skip("cannot mount a small tmpfs here (needs root)")
    try:
        corpus = copy_corpus(tmp_path / "corpus", SMALL[:1])
        settings = make_settings(corpus, paths={"index": index})
        assistant = Assistant(settings)
        first = assistant.ingest()
        assert first.promoted, "the first, small ingest fits"
        (corpus / "more.txt").write_text(_big_document(20, "border management"), encoding="utf-8")
        with pytest.raises(AssistantError, match="no space left"):
            assistant.ingest()
        fresh = Assistant(settings)
        assert fresh.catalog.live() == first.generation, "the live generation did not move"
        answer = fresh.ask("Qu'a fait MIEUX au Pérou contre le trafic de migrants ?")
        assert answer.citations, "the live index is still queryable"
    finally:
        subprocess.run(["umount", "-l", str(index)], capture_output=True)


@pytest.mark.slow
def test_a_full_disk_inside_chroma_gives_the_message_not_a_traceback(tmp_path, embedding_cache):
    # Chroma reports this one as "InternalError: Error in compaction: Failed to apply logs to the metadata
    # segment", with no word about the disk: a first ingest of the whole corpus on a disk of a few MB.
    index = tmp_path / "tiny-disk"
    if not _mount_tmpfs(index, "6m"):
        pytest.skip("cannot mount a small tmpfs here (needs root)")
    try:
        env = dict(
            os.environ,
            ASSISTANT_PATHS__CORPUS=str(ROOT / "corpus"),
            ASSISTANT_PATHS__INDEX=str(index),
            ASSISTANT_PATHS__CACHE=str(embedding_cache),
            PYTHONPATH=str(ROOT),
        )
        done = subprocess.run(
            [sys.executable, "-m", "assistant", "ingest"],
            env=env,
            cwd=ROOT,
            capture_output=True,
            text=True,
            timeout=600,
        )
        assert done.returncode == 6, (
            f"a full disk is a reported failure (exit 6), not a crash: exit {done.returncode}\n{done.stderr[-1500:]}"
        )
        assert "no space left" in done.stderr and str(index) in done.stderr, (
            f"the message names the disk: {done.stderr[-800:]}"
        )
        assert "Traceback" not in done.stderr, f"no raw traceback: {done.stderr[-800:]}"
        assert "free some space" in done.stderr, "and says the way out"
    finally:
        subprocess.run(["umount", "-l", str(index)], capture_output=True)
