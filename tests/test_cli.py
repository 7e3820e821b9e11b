"""The command line's conventions: strict option values, --version, -v/-q, documented exit codes, update progress."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from importlib import metadata

import pytest
from typer.testing import CliRunner

import assistant
from assistant import evaluate
from assistant.cli import EXIT_CODES, app
from assistant.pipeline import Assistant

from .conftest import ROOT, copy_corpus
from .llm_server import free_port

runner = CliRunner()
SMALL = ["fr/mieux_action_perou_iii_fr.txt", "en/mieux_action_jordan_ii_thb_en.txt"]


@pytest.mark.parametrize(
    "args,valid",
    [
        (["ask", "--lang", "de", "How did Peru adapt its training?"], ["'fr'", "'en'"]),
        (["ask", "--source-lang", "de", "How did Peru adapt its training?"], ["'fr'", "'en'"]),
        (["eval", "--mode", "anything"], ["'extractive'", "'generative'"]),
        (["similar", "--theme", "cooking", "training border guards"], ["trafficking", "smuggling", "training"]),
        (["ask", "--country", "Atlantis", "x"], ["ISO code"]),
        (["ask", "-k", "0", "x"], ["greater than or equal to 1"]),
        (["chat", "--port", "70000"], ["less than or equal to 65535"]),
    ],
)
def test_option_values_outside_their_choices_are_usage_errors(args, valid, tmp_path):
    result = runner.invoke(app, args + (["--index", str(tmp_path)] if args[0] != "similar" else []))
    assert result.exit_code == 2, (
        f"`assistant {' '.join(args)}` is a usage error (2), not {result.exit_code}: {result.output}"
    )
    text = " ".join(result.output.split()).replace("│ ", "").replace(" │", "")
    for value in valid:
        assert value in text, f"the message lists the valid values ({value}): {result.output}"


def test_version_is_the_package_version():
    result = runner.invoke(app, ["--version"])
    assert result.exit_code == 0, f"--version succeeds: {result.output}"
    assert result.output.strip() == f"assistant {assistant.__version__}", f"it prints the version: {result.output}"
    assert metadata.version("migration-assistant") == assistant.__version__, (
        "the installed distribution's version is assistant.__version__ (pyproject reads it from there)"
    )


def test_exit_codes_are_documented_in_help():
    result = runner.invoke(app, ["--help"], env={"COLUMNS": "200"})
    assert result.exit_code == 0, result.output
    for code, _ in EXIT_CODES:
        assert f" {code}  " in result.output, f"`assistant --help` documents exit code {code}: {result.output}"
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    for code, _ in EXIT_CODES:
        assert f"| {code} |" in readme, f"the README's table documents exit code {code}"


def test_settings_error_no_index_and_bad_input_have_their_own_codes(tmp_path, shipped):
    missing_preset = runner.invoke(app, ["status", "--config", str(tmp_path / "nowhere.toml")])
    assert missing_preset.exit_code == 3, f"a missing preset is a settings error (3): {missing_preset.output}"
    assert "nowhere.toml" in missing_preset.output, "the message names the file"
    no_index = runner.invoke(app, ["ask", "How did Peru adapt its training?", "--index", str(tmp_path / "empty")])
    assert no_index.exit_code == 4, f"no index yet is 4: {no_index.output}"
    assert "assistant ingest" in no_index.output, "the message gives the way out"
    bad_set = runner.invoke(
        app, ["eval", "--set", str(tmp_path / "nowhere.jsonl"), "--index", str(shipped.settings.paths.index)]
    )
    assert bad_set.exit_code == 6, f"an eval set that cannot be read is 6: {bad_set.output}"
    assert "nowhere.jsonl" in bad_set.output, "the message names the file"


def test_a_chroma_server_that_is_down_has_its_own_code(shipped):
    url = f"http://127.0.0.1:{free_port()}"
    result = runner.invoke(
        app,
        ["ask", "How did Peru adapt its training?", "--index", str(shipped.settings.paths.index)],
        env={"ASSISTANT_STORE__CHROMA_URL": url},
    )
    assert result.exit_code == 5, f"an unreachable Chroma server is 5: {result.output}"
    assert url in result.output, "the message names the server"


def _cli(*args: str, env: dict | None = None) -> subprocess.CompletedProcess:
    base = {k: v for k, v in os.environ.items() if not k.startswith("ASSISTANT_")}
    return subprocess.run(
        [sys.executable, "-m", "assistant", *args],
        capture_output=True,
        text=True,
        cwd=ROOT,
        env={**base, **(env or {})},
        timeout=600,
    )


@pytest.mark.slow
def test_verbose_shows_info_lines_and_quiet_hides_warnings(shipped):
    index = str(shipped.settings.paths.index)
    plain = _cli("status", "--index", index)
    verbose = _cli("-v", "status", "--index", index)
    assert plain.returncode == 0 and verbose.returncode == 0, verbose.stderr
    assert "INFO" not in plain.stderr, f"no info lines by default: {plain.stderr}"
    assert "INFO assistant.cli: settings from" in verbose.stderr, (
        f"-v shows the assistant's info lines: {verbose.stderr}"
    )
    # A generative answer whose LLM is down falls back to the extractive one with a warning.
    dead = f"http://127.0.0.1:{free_port()}/v1"
    question = "How did Peru adapt its training?"
    warned = _cli("ask", question, "--llm", dead, "--index", index)
    quiet = _cli("-q", "ask", question, "--llm", dead, "--index", index)
    assert warned.returncode == 0 and quiet.returncode == 0, quiet.stderr
    assert "WARNING assistant.generate" in warned.stderr, f"the fallback is logged as a warning: {warned.stderr}"
    assert "WARNING" not in quiet.stderr, f"-q leaves only errors: {quiet.stderr}"
    assert "[1]" in quiet.stdout, "-q still prints the answer"


@pytest.mark.slow
def test_update_reports_its_stages_and_a_blocked_update_exits_7(tmp_path, make_settings):
    corpus = copy_corpus(tmp_path / "corpus", SMALL)
    settings = make_settings(corpus)
    live = Assistant(settings)
    live.ingest()
    one = tmp_path / "one.jsonl"
    # One question the two documents answer, one nobody does: enough for every gated metric.
    picked = [
        next(q for q in evaluate.load_questions() if q.answerable and q.gold_docs and set(q.gold_docs) <= set(SMALL)),
        next(q for q in evaluate.load_questions() if not q.answerable),
    ]
    one.write_text("\n".join(json.dumps(q.__dict__, ensure_ascii=False) for q in picked), encoding="utf-8")

    stages: set[str] = set()
    page = tmp_path / "incoming" / "moldova_labour_migration_en.txt"
    page.parent.mkdir()
    page.write_text(
        "MIEUX Action: Moldova – Labour migration\n\nThe Action supported the Moldovan National Employment "
        "Agency in drafting information material for citizens who plan to work abroad legally.",
        encoding="utf-8",
    )
    outcome = live.update([page], eval_set=one, progress=lambda stage, done, total: stages.add(stage))
    assert outcome["status"] == "promoted", f"a harmless page goes live: {outcome['reasons']}"
    assert {"parse", "baseline", "evaluate"} <= stages, f"update reports the ingest and both evals as stages: {stages}"

    bad = tmp_path / "incoming" / "broken.pdf"
    bad.write_bytes(b"%PDF-1.7\n1 0 obj << /Type /Catalog >> endobj trailer garbage")
    env = {
        "ASSISTANT_PATHS__CORPUS": str(corpus),
        "ASSISTANT_PATHS__INDEX": str(settings.paths.index),
        "ASSISTANT_PATHS__DATA": str(settings.paths.data),
        "ASSISTANT_PATHS__CACHE": str(settings.paths.cache),
    }
    blocked = _cli("update", str(bad), "--set", str(one), env=env)
    assert blocked.returncode == 7, f"a blocked update exits 7: {blocked.returncode} {blocked.stdout} {blocked.stderr}"
    assert "broken.pdf" in blocked.stdout, f"and says why: {blocked.stdout}"
