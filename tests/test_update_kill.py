"""A killed `assistant update` leaves nothing live: the next plain ingest never indexes what the gate did not pass.

`assistant update` runs as its own process and gets a real SIGKILL or SIGTERM at two points: as soon
as the new files are placed, and while the staged generation is being evaluated.
"""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

from assistant import evaluate
from assistant.pipeline import Assistant

from .conftest import ROOT, copy_corpus

SMALL = ["fr/mieux_action_perou_iii_fr.txt", "en/mieux_action_jordan_ii_thb_en.txt"]
OLD = (
    "MIEUX Action: Moldova – Labour migration\n\nThe Action supported the Moldovan National Employment Agency "
    "in drafting information material for citizens who plan to work abroad legally.\n"
)
NEW_PAGE = (
    "MIEUX Action: Georgia – Return counselling\n\nUNEVALUATED-NEW: the Action trained Georgian consular staff "
    "to counsel returning migrants on reintegration services and on their rights.\n"
)
REPLACEMENT = (
    "MIEUX Action: Moldova – Labour migration\n\nUNEVALUATED-REPLACEMENT: the Action closed the National "
    "Employment Agency and asked citizens to leave the country.\n"
)
PERMISSIVE_GATE = "max_drop_points = 100\nblock_on_missing_gold = false\nno_drop = []\n"


@pytest.fixture
def setup(tmp_path, make_settings, embedding_cache):
    corpus = copy_corpus(tmp_path / "corpus", SMALL)
    (corpus / "added").mkdir()
    (corpus / "added" / "moldova.txt").write_text(OLD, encoding="utf-8")
    settings = make_settings(corpus)
    Assistant(settings).ingest()
    incoming = tmp_path / "incoming"
    incoming.mkdir()
    (incoming / "georgia.txt").write_text(NEW_PAGE, encoding="utf-8")
    (incoming / "moldova.txt").write_text(REPLACEMENT, encoding="utf-8")
    questions = tmp_path / "questions.jsonl"
    chosen = [q for q in evaluate.load_questions() if set(q.gold_docs) <= set(SMALL)][:4]
    questions.write_text("\n".join(json.dumps(q.__dict__, ensure_ascii=False) for q in chosen), encoding="utf-8")
    gate = tmp_path / "gate.toml"
    gate.write_text(PERMISSIVE_GATE, encoding="utf-8")
    env = dict(
        os.environ,
        ASSISTANT_PATHS__DATA=str(settings.paths.data),
        ASSISTANT_PATHS__CACHE=str(embedding_cache),
        PYTHONPATH=str(ROOT),
    )
    command = [
        sys.executable,
        "-m",
        "assistant",
        "update",
        str(incoming / "georgia.txt"),
        str(incoming / "moldova.txt"),
        "--set",
        str(questions),
        "--gate",
        str(gate),
        "--corpus",
        str(corpus),
        "--index",
        str(settings.paths.index),
    ]
    return {
        "settings": settings,
        "corpus": corpus,
        "incoming": incoming,
        "env": env,
        "command": command,
        "questions": questions,
        "gate": gate,
    }


def _placed(setup) -> bool:
    """The new file has been copied somewhere (into the corpus, or a staging folder)."""
    for folder in (setup["corpus"], Path(setup["settings"].paths.index)):
        for path in folder.rglob("georgia.txt"):
            if path.is_file() and "UNEVALUATED-NEW" in path.read_text(encoding="utf-8", errors="replace"):
                return True
    return False


def _evaluating(setup) -> bool:
    """A staged generation exists: the update is past its staged ingest, into the eval."""
    path = Path(setup["settings"].paths.index) / "catalog.sqlite"
    try:
        conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=1)
        try:
            return conn.execute("SELECT count(*) FROM generations WHERE status='staging'").fetchone()[0] > 0
        finally:
            conn.close()
    except sqlite3.Error:
        return False


@pytest.mark.slow
@pytest.mark.parametrize("when, sig", [("placed", signal.SIGKILL), ("evaluating", signal.SIGTERM)])
def test_a_killed_update_leaves_nothing_live(setup, when, sig):
    corpus, settings = setup["corpus"], setup["settings"]
    live_before = Assistant(settings).catalog.live()
    proc = subprocess.Popen(
        setup["command"], env=setup["env"], cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
    )
    ready = _placed if when == "placed" else _evaluating
    try:
        deadline = time.monotonic() + 300
        while not ready(setup):
            assert proc.poll() is None, f"the update ended before it was killed: {proc.stdout.read()[-2000:]}"
            assert time.monotonic() < deadline, f"the update never reached '{when}' within 300 s"
            time.sleep(0.01)
        proc.send_signal(sig)
        proc.wait(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait(timeout=30)

    assistant = Assistant(settings)
    assert assistant.catalog.live() == live_before, "the kill left the live index where it was"
    leftovers = [
        p.relative_to(corpus).as_posix()
        for p in corpus.rglob("*")
        if p.is_file() and "UNEVALUATED" in p.read_text(encoding="utf-8", errors="replace")
    ]
    assert not leftovers, f"nothing the gate did not pass may stay in the corpus: {leftovers}"
    assert not list(corpus.rglob("*.before-update")), "no hidden backup is left in the corpus"

    report = assistant.ingest()  # a plain ingest after the kill
    assert "added/georgia.txt" not in assistant.documents(), (
        f"the unevaluated new page must not go live: {report.added}"
    )
    assert "UNEVALUATED" not in assistant.document_text("added/moldova.txt"), (
        "the unevaluated replacement must not go live"
    )
    assert "National Employment Agency" in assistant.document_text("added/moldova.txt"), "the evaluated version stays"
    assert not [p for p in Path(settings.paths.index).rglob("georgia.txt")], (
        "the next ingest cleared what the update staged"
    )

    # The update, run again to its end, still works.
    outcome = assistant.update(
        [setup["incoming"] / "georgia.txt", setup["incoming"] / "moldova.txt"],
        eval_set=setup["questions"],
        gate_file=setup["gate"],
    )
    assert outcome["status"] == "promoted", f"the update goes through once it is not killed: {outcome['reasons']}"
    assert "added/georgia.txt" in assistant.documents(), "its new page is live"
    assert (corpus / "added" / "georgia.txt").read_text(encoding="utf-8") == NEW_PAGE, "and in the corpus"
    assert (corpus / "added" / "moldova.txt").read_text(encoding="utf-8") == REPLACEMENT, "the replaced file too"
    assert not list(corpus.rglob("*.before-update")), "and no backup is left behind"
