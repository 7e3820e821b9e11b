"""Command line: `assistant ingest | status | ask | similar | chat | eval | update | feedback`."""

from __future__ import annotations

import json
import logging
import sys
from contextlib import contextmanager
from pathlib import Path
from typing import Literal, Optional

import typer

from . import __version__
from .errors import AssistantError, BadDocument, BadQuestion, ConfigError, IndexMissing, StoreUnavailable

# Exit codes: 2 stays click's usage error; the assistant's own failures each have their own code.
EXIT_CODES = [
    (0, "done (an answer or an abstention, a report, an update that went live or had nothing to do)"),
    (1, "unexpected failure (a bug: please report the traceback)"),
    (2, "usage error: unknown command or option, or a value outside the option's choices"),
    (3, "settings: an invalid setting, preset (--config) or prompt file, or a backend whose extra is missing"),
    (4, "no index yet at paths.index: run `assistant ingest`"),
    (5, "the Chroma server did not answer (store.chroma_url, store.timeout_s)"),
    (
        6,
        "a request the assistant cannot carry out: a question, document, eval set or baseline it cannot use, "
        "a full disk, a port in use, another ingest running",
    ),
    (7, "`assistant update` blocked by the gate: the live index is unchanged"),
    (130, "interrupted (Ctrl+C)"),
]
EXIT_BLOCKED = 7
_ERROR_CODES = [(ConfigError, 3), (IndexMissing, 4), (StoreUnavailable, 5), (BadQuestion, 6), (BadDocument, 6)]

app = typer.Typer(
    add_completion=False,
    no_args_is_help=True,
    help="Bilingual (French/English) assistant over good practices in migration governance.",
    epilog="Exit codes:\n\b\n" + "\n".join(f"  {code:>3}  {what}" for code, what in EXIT_CODES),
)

log = logging.getLogger(__name__)

ConfigOpt = typer.Option(None, "--config", help="TOML settings file (a preset); see presets/.")
Language = Literal["fr", "en"]
# -q: no progress bars (set by the global options).
_quiet = False


def _version(value: bool):
    if value:
        typer.echo(f"assistant {__version__}")
        raise typer.Exit()


@app.callback()
def _global(
    version: bool = typer.Option(
        False, "--version", callback=_version, is_eager=True, help="Print the version and exit."
    ),
    verbose: int = typer.Option(
        0,
        "-v",
        "--verbose",
        count=True,
        help="Log what the assistant does on stderr (-v: steps, -vv: debugging, libraries included).",
    ),
    quiet: bool = typer.Option(
        False, "-q", "--quiet", help="Quieter: no progress bars, and log lines only for errors."
    ),
):
    global _quiet
    _quiet = quiet
    ours = logging.ERROR if quiet else {0: logging.WARNING, 1: logging.INFO}.get(verbose, logging.DEBUG)
    # Libraries stay at warnings unless -vv.
    logging.basicConfig(
        format="%(levelname)s %(name)s: %(message)s",
        stream=sys.stderr,
        level=logging.DEBUG if ours == logging.DEBUG else max(ours, logging.WARNING),
    )
    logging.getLogger("assistant").setLevel(ours)


def _settings(config: Optional[Path], **overrides):
    from .config import load_settings

    return load_settings(config, **{k: v for k, v in overrides.items() if v})


def _assistant(config: Optional[Path], index: Optional[Path] = None, corpus: Optional[Path] = None):
    from .pipeline import Assistant

    paths = {}
    if index:
        paths["index"] = index
    if corpus:
        paths["corpus"] = corpus
    settings = _settings(config, paths=paths)
    log.info(
        "settings from %s; index %s, corpus %s, prompts %s",
        config or "defaults and ASSISTANT_* variables",
        settings.paths.index,
        settings.paths.corpus,
        settings.paths.prompts or "shipped",
    )
    return Assistant(settings)


def _fail(err: Exception):
    typer.secho(str(err), fg=typer.colors.RED, err=True)
    raise typer.Exit(next((code for kind, code in _ERROR_CODES if isinstance(err, kind)), 6))


@contextmanager
def _stages(as_json: bool, names: dict[str, str]):
    """A progress bar per stage on stderr (none with --json, -q, or when stderr is no terminal); yields the callback."""
    from rich.progress import BarColumn, Progress, TaskID, TextColumn, TimeRemainingColumn

    with Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        TextColumn("{task.completed}/{task.total}"),
        TimeRemainingColumn(),
        transient=True,
        disable=as_json or _quiet or not sys.stderr.isatty(),
    ) as bar:
        tasks: dict[str, TaskID] = {}

        def progress(stage: str, done: int, total: int):
            if stage not in tasks:
                tasks[stage] = bar.add_task(names.get(stage, stage), total=total)
            bar.update(tasks[stage], completed=done, total=total)

        yield progress


_INGEST_STAGES = {"parse": "Parsing", "embed": "Embedding"}


@app.command()
def ingest(
    path: Optional[Path] = typer.Argument(None, help="A file or folder inside the corpus (default: the whole corpus)."),
    corpus: Optional[Path] = typer.Option(None, help="Corpus folder (default: settings paths.corpus, ./corpus)."),
    index: Optional[Path] = typer.Option(None, help="Index folder (default: settings paths.index, ./index)."),
    as_json: bool = typer.Option(False, "--json", help="Print the report as JSON."),
    config: Optional[Path] = ConfigOpt,
):
    """Index the corpus: parse, chunk, tag, embed and store what is new or changed.

    Example: assistant ingest            (then: assistant ingest corpus/en/new_page.html)
    """
    try:
        assistant = _assistant(config, index, corpus)
        with _stages(as_json, _INGEST_STAGES) as progress:
            report = assistant.ingest(path, progress=progress)
    except AssistantError as err:
        _fail(err)
    except KeyboardInterrupt:
        typer.secho("Interrupted: the previous index is unchanged.", fg=typer.colors.YELLOW, err=True)
        raise typer.Exit(130) from None
    if as_json:
        typer.echo(json.dumps(report.to_json(), ensure_ascii=False, indent=2))
    else:
        typer.echo(
            f"Indexed: {len(report.added)} added, {len(report.changed)} changed, {len(report.removed)} removed, "
            f"{report.unchanged} unchanged; {report.embedded} passages embedded, {report.reused} from cache; "
            f"{report.passages} passages in the index ({report.seconds:.1f} s)."
        )
    for message in report.problems.values():
        typer.secho(f"Skipped: {message}", fg=typer.colors.YELLOW, err=True)


@app.command()
def status(
    index: Optional[Path] = typer.Option(None, help="Index folder."),
    corpus: Optional[Path] = typer.Option(None, help="Corpus folder."),
    as_json: bool = typer.Option(False, "--json", help="Print JSON."),
    config: Optional[Path] = ConfigOpt,
):
    """What is indexed (documents, passages, languages, countries, actions) and what changed on disk since.

    Example: assistant status --json
    """
    try:
        info = _assistant(config, index, corpus).status()
    except AssistantError as err:
        _fail(err)
    if as_json:
        typer.echo(json.dumps(info, ensure_ascii=False, indent=2))
        return
    typer.echo(
        f"Index: {info['index']} ({info['chroma']}), generation {info['generation']}, updated {info['last_update']}"
    )
    typer.echo(f"{info['documents']} documents, {info['passages']} passages; languages {info['languages']}")
    typer.echo("Countries: " + ", ".join(f"{c} {n}" for c, n in list(info["countries"].items())[:20]))
    typer.echo("Actions: " + "; ".join(f"{a} ({n})" for a, n in list(info["actions"].items())[:15]))
    disk = info["on_disk"]
    typer.echo(f"On disk since: {len(disk['new'])} new, {len(disk['changed'])} changed, {len(disk['removed'])} removed")
    for message in info["problems"].values():
        typer.secho(f"Problem: {message}", fg=typer.colors.YELLOW)


def _countries(values: Optional[list[str]]) -> list[str]:
    """--country values (ISO codes or names, English or French) as ISO codes; a usage error otherwise."""
    from . import tag

    codes: list[str] = []
    for c in values or []:
        found = tag.find_countries(c) or ((c.upper(),) if len(c) == 2 and c.isalpha() else ())
        if not found:
            raise typer.BadParameter(f"unknown country '{c}': give an ISO code such as PE or a name such as Peru")
        codes.extend(found)
    return codes


def _filters(countries, lang, source, year=None, section=None, action=None):
    from .types import Filters

    return Filters(
        countries=list(countries or []),
        language=lang,
        sources=list(source or []),
        years=list(year or []),
        section=section,
        action=action,
    )


@app.command()
def ask(
    question: str = typer.Argument(..., help="The question, in French or English."),
    country: Optional[list[str]] = typer.Option(
        None, "--country", callback=_countries, help="Only passages about this country (ISO code or name); repeatable."
    ),
    lang: Optional[Language] = typer.Option(None, "--lang", help="Answer language; default: the question's."),
    source_lang: Optional[Language] = typer.Option(None, "--source-lang", help="Only passages in this language."),
    source: Optional[list[str]] = typer.Option(
        None, "--source", help="Only this document (path under corpus/); repeatable."
    ),
    year: Optional[list[int]] = typer.Option(None, "--year", help="Only documents of this year; repeatable."),
    section: Optional[str] = typer.Option(None, "--section", help="Only this section (e.g. Pratiques)."),
    action: Optional[str] = typer.Option(None, "--action", help="Only this action (e.g. 'MIEUX Peru III')."),
    k: Optional[int] = typer.Option(None, "-k", min=1, max=50, help="Passages used as evidence (1-50)."),
    llm: Optional[str] = typer.Option(
        None, "--llm", help="Generative mode: URL of an OpenAI-compatible server (e.g. http://127.0.0.1:8080/v1)."
    ),
    as_json: bool = typer.Option(False, "--json", help="Print the answer as JSON."),
    index: Optional[Path] = typer.Option(None, help="Index folder."),
    config: Optional[Path] = ConfigOpt,
):
    """Answer a question from the corpus with numbered citations, or say the corpus does not cover it.

    Example: assistant ask "How did Peru adapt its training?"
    """
    try:
        assistant = _assistant(config, index)
        mode = None
        if llm:
            assistant.settings.llm.backend = "openai"
            assistant.settings.llm.url = llm
            mode = "generative"
        filters = _filters(country, source_lang, source, year, section, action)
        result = assistant.ask(question, filters, language=lang, k=k, mode=mode)
    except AssistantError as err:
        _fail(err)
    if as_json:
        typer.echo(json.dumps(result.to_json(), ensure_ascii=False, indent=2))
        return
    typer.echo(result.answer)
    if result.citations:
        typer.echo("")
        for c in result.citations:
            where = " · ".join(x for x in (c.section, c.action, ",".join(c.countries)) if x)
            typer.echo(f"[{c.n}] corpus/{c.source} — {c.title}" + (f" ({where})" if where else ""))


@app.command("eval")
def eval_command(
    eval_set: Optional[Path] = typer.Option(
        None, "--set", help="Eval questions (JSON Lines); default questions.jsonl in paths.eval."
    ),
    baseline: Optional[Path] = typer.Option(
        None, "--baseline", help="A previous eval.json to compare with, question by question."
    ),
    out: Optional[Path] = typer.Option(None, "--out", help="Report folder; default <paths.data>/eval/latest."),
    mode: Literal["extractive", "generative"] = typer.Option(
        "extractive", "--mode", help="generative needs llm settings (llm.backend, llm.url)."
    ),
    index: Optional[Path] = typer.Option(None, help="Index folder."),
    as_json: bool = typer.Option(False, "--json", help="Print the summary as JSON."),
    crosscheck: bool = typer.Option(
        False,
        "--crosscheck",
        help="Also score retrieval with llama-index's RetrieverEvaluator (hit_rate, mrr) and report any difference.",
    ),
    config: Optional[Path] = ConfigOpt,
):
    """Measure grounding on the eval set: retrieval hit@k/MRR, citation precision/recall, key facts, abstention.

    Example: assistant eval --baseline data/eval/latest/eval.json   (or: assistant eval --crosscheck)
    """
    from . import evaluate

    try:
        assistant = _assistant(config, index)
        questions = evaluate.load_questions(_eval_file(assistant.settings, eval_set, "questions.jsonl"))
        with _bar(as_json) as bar:
            task = bar.add_task("Evaluating", total=len(questions))
            result = evaluate.evaluate(
                assistant,
                questions,
                mode=None if mode == "extractive" else mode,
                progress=lambda n, total: bar.update(task, completed=n),
            )
        diff = None
        if baseline:
            try:
                diff = evaluate.compare(result, json.loads(baseline.read_text(encoding="utf-8")))
            except (OSError, ValueError) as err:
                raise AssistantError(f"Cannot read the baseline {baseline}: {err}") from None
        if crosscheck:
            from .integrations.llama_index import crosscheck as cross

            result["crosscheck"] = cross(assistant, questions, result)
        folder = out or Path(assistant.settings.paths.data) / "eval" / "latest"
        paths = evaluate.write_report(result, folder, diff)
    except AssistantError as err:
        _fail(err)
    if as_json:
        typer.echo(
            json.dumps(
                {
                    "summary": result["summary"],
                    "diff": diff,
                    "report": {k: str(v) for k, v in paths.items()},
                    **({"crosscheck": result["crosscheck"]} if crosscheck else {}),
                },
                ensure_ascii=False,
                indent=2,
            )
        )
        return
    typer.echo(evaluate.table(result["summary"]))
    if crosscheck:
        from .integrations.llama_index import crosscheck_lines

        typer.echo("\n".join(crosscheck_lines(result["crosscheck"])))
    if result["gold_missing"]:
        typer.secho(f"Gold passages missing for: {', '.join(result['gold_missing'])}", fg=typer.colors.YELLOW)
    if diff:
        typer.echo("Changes against the baseline:")
        for key, v in diff["metrics"].items():
            if key.startswith("all/"):
                typer.echo(f"  {key[4:]}: {v['before']} -> {v['after']} ({v['delta']:+})")
        for q in diff["questions"]:
            typer.echo(f"  {q['id']}: {q['change']}")
    typer.echo(f"Report: {paths['md']} and {paths['html']}; every answer in {paths['json']}")


@app.command()
def update(
    paths: Optional[list[Path]] = typer.Argument(
        None, help="New or changed documents (copied into corpus/<dest>/ if outside it)."
    ),
    dest: str = typer.Option("added", help="Corpus subfolder for documents given from outside the corpus."),
    gate_file: Optional[Path] = typer.Option(
        None, "--gate", help="Gate thresholds (TOML); default gate.toml in paths.eval."
    ),
    eval_set: Optional[Path] = typer.Option(
        None,
        "--set",
        help=(
            "Eval questions; default: questions.jsonl and dev2.jsonl (development) and heldout.jsonl (held-out)"
            " in paths.eval, each gated overall and per language."
        ),
    ),
    index: Optional[Path] = typer.Option(None, help="Index folder."),
    corpus: Optional[Path] = typer.Option(None, help="Corpus folder."),
    as_json: bool = typer.Option(False, "--json", help="Print the outcome as JSON."),
    config: Optional[Path] = ConfigOpt,
):
    """Update the corpus safely: stage the new documents, run the eval, swap in only if the gate passes.

    Example: assistant update ~/Downloads/new_case_study.pdf
    """
    try:
        assistant = _assistant(config, index, corpus)
        settings = assistant.settings
        with _stages(
            as_json, {**_INGEST_STAGES, "baseline": "Evaluating the live index", "evaluate": "Evaluating the update"}
        ) as progress:
            outcome = assistant.update(
                paths or [],
                dest=dest,
                gate_file=_eval_file(settings, gate_file, "gate.toml"),
                eval_set=eval_set,
                eval_dir=settings.paths.eval,
                progress=progress,
            )
    except AssistantError as err:
        _fail(err)
    except KeyboardInterrupt:
        typer.secho("Interrupted: the live index is unchanged.", fg=typer.colors.YELLOW, err=True)
        raise typer.Exit(130) from None
    if as_json:
        typer.echo(json.dumps(outcome, ensure_ascii=False, indent=2))
    elif outcome["status"] == "promoted":
        typer.secho(
            f"Update passed the gate and is live (generation {outcome['generation']}). Report: {outcome['report']}",
            fg=typer.colors.GREEN,
        )
    elif outcome["status"] == "unchanged":
        typer.echo("Nothing new or changed in the corpus: the live index is already up to date.")
    else:
        typer.secho("Update blocked; the live index is unchanged. Why:", fg=typer.colors.RED)
        for reason in outcome["reasons"]:
            typer.echo(f"  - {reason}")
    if outcome["status"] == "blocked":
        raise typer.Exit(EXIT_BLOCKED)


def _eval_file(settings, given: Optional[Path], name: str) -> Optional[Path]:
    """An eval file given on the command line, else `name` in paths.eval when set (None: the shipped one)."""
    if given:
        return given
    return Path(settings.paths.eval) / name if settings.paths.eval else None


def _bar(quiet: bool):
    from rich.progress import BarColumn, Progress, TextColumn

    return Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        TextColumn("{task.completed}/{task.total}"),
        transient=True,
        disable=quiet or _quiet or not sys.stderr.isatty(),
    )


@app.command()
def chat(
    host: Optional[str] = typer.Option(
        None, "--host", help="Address to bind (default: settings chat.host, 127.0.0.1)."
    ),
    port: Optional[int] = typer.Option(
        None, "--port", min=1, max=65535, help="Port (default: settings chat.port, 7860)."
    ),
    index: Optional[Path] = typer.Option(None, help="Index folder."),
    config: Optional[Path] = ConfigOpt,
):
    """Start the web app: chat with cited sources, comparable practices, corpus coverage.

    Example: assistant chat --port 7860   (then open http://127.0.0.1:7860)
    """
    try:
        assistant = _assistant(config, index)
        from .chat import serve

        typer.echo(
            f"Starting the chat on http://{host or assistant.settings.chat.host}:"
            f"{port or assistant.settings.chat.port} (index {assistant.settings.paths.index}); Ctrl+C stops it.",
            err=True,
        )
        serve(assistant, host, port)
    except AssistantError as err:
        _fail(err)
    except OSError as err:
        chat_settings = _settings(config).chat
        _fail(
            AssistantError(
                f"Cannot start the chat on {host or chat_settings.host}:{port or chat_settings.port}: {err}"
                " (--host, --port)"
            )
        )


def _themes(values: Optional[list[str]]) -> list[str]:
    from . import tag

    out = []
    for value in values or []:
        v = value.strip()
        if v in tag.THEMES:
            out.append(v)
            continue
        by_label = [
            t for t in tag.THEMES for lang in ("en", "fr") if tag.theme_label(t, lang).casefold() == v.casefold()
        ]
        found = by_label or list(tag.find_themes(v))
        if not found:
            raise typer.BadParameter(f"unknown theme '{value}': choose one of {', '.join(tag.THEMES)}")
        out.append(found[0])
    return out


@app.command()
def similar(
    text: Optional[str] = typer.Argument(None, help="A practice described in your own words (French or English)."),
    action: Optional[str] = typer.Option(
        None, "--action", help="Or an action of the index, e.g. 'MIEUX Peru (2017-2018)'."
    ),
    country: Optional[list[str]] = typer.Option(
        None, "--country", callback=_countries, help="Only practices about this country (ISO code or name); repeatable."
    ),
    theme: Optional[list[str]] = typer.Option(
        None, "--theme", callback=_themes, help="Only this theme (e.g. training, smuggling); repeatable."
    ),
    k: int = typer.Option(10, "-k", min=1, max=100, help="Passages to show, grouped by action (1-100)."),
    mine: Optional[list[str]] = typer.Option(
        None,
        "--my-country",
        callback=_countries,
        help="Your own country (ISO code or name), always left out; repeatable.",
    ),
    as_json: bool = typer.Option(False, "--json", help="Print the groups as JSON."),
    index: Optional[Path] = typer.Option(None, help="Index folder."),
    config: Optional[Path] = ConfigOpt,
):
    """Comparable practices from other countries and actions, grouped by action, each led by its practice sentence.

    Example: assistant similar "training border guards to spot trafficking victims" --theme training --my-country GH
    """
    from . import explore, tag

    try:
        assistant = _assistant(config, index)
        groups = explore.similar(assistant, text=text, action=action, countries=country, themes=theme, k=k, mine=mine)
    except AssistantError as err:
        _fail(err)
    if as_json:
        typer.echo(json.dumps([g.to_json() for g in groups], ensure_ascii=False, indent=2))
        return
    if not groups:
        typer.echo("No comparable practice found; remove a filter or describe the practice differently.")
        return
    for g in groups:
        facts = " · ".join(
            x
            for x in (
                ", ".join(tag.country_label(c) for c in g.countries),
                g.years or "",
                ", ".join(tag.theme_label(t) for t in g.themes[:4]),
            )
            if x
        )
        if g.lead is not None:
            typer.secho(f"« {' '.join(g.lead.quote.split())} »", bold=True)
        typer.secho(f"{g.action or 'Documents tied to no action'}" + (f" — {facts}" if facts else ""), bold=True)
        for c in g.passages:
            typer.echo(f"  « {' '.join(c.quote.split())} »")
            typer.echo(f"    corpus/{c.source}" + (f" ({c.section})" if c.section else ""))
        typer.echo("")


@app.command()
def feedback(
    as_json: bool = typer.Option(False, "--json", help="Print the records as JSON (one list)."),
    data: Optional[Path] = typer.Option(None, "--data", help="Data folder (default: settings paths.data)."),
    config: Optional[Path] = ConfigOpt,
):
    """List the thumbs up/down and comments given in the chat (oldest first).

    Example: assistant feedback --json
    """
    from . import feedback as fb

    try:
        folder = data or _settings(config).paths.data
        records, damaged = fb.read(folder)
    except AssistantError as err:
        _fail(err)
    # Comments are typed by chat users: escape sequences in them are shown, never sent to the terminal.
    show = fb.printable
    if as_json:
        typer.echo(fb.printable_json([r.to_json() for r in records]))
    else:
        if not records:
            typer.echo(f"No feedback yet in {fb.feedback_path(folder)}.")
        for r in records:
            mark = {"up": "+1", "down": "-1"}.get(r.vote, "withdrawn")
            who = f" by {show(r.user)}" if r.user else ""
            typer.echo(f"{show(r.time)} {mark}{who}: {show(r.question)}" + (" [not in corpus]" if r.abstained else ""))
            if r.comment:
                typer.echo(f"    comment: {show(r.comment)}")
            if r.citations:
                typer.echo(
                    "    cited: "
                    + "; ".join(f"[{show(c.get('n'))}] corpus/{show(c.get('source'))}" for c in r.citations)
                )
    if damaged:
        typer.secho(
            f"Skipped {damaged} damaged line(s) in {fb.feedback_path(folder)} (a write cut short by a crash).",
            fg=typer.colors.YELLOW,
            err=True,
        )


@app.command()
def passwd(
    user: str = typer.Argument(..., help="Login name for the chat."),
):
    """Print a 'user:hash' line for the chat's login file (settings chat.auth_file); the password is asked for.

    Example: assistant passwd alice >> data/chat_users.txt
    """
    from .chat import hash_password

    if ":" in user or not user.strip():
        _fail(AssistantError(f"Cannot use '{user}' as a login: it must be non-empty and contain no ':'"))
    password = typer.prompt("Password", hide_input=True, confirmation_prompt=True, err=True)
    typer.echo(f"{user}:{hash_password(password)}")


def main():
    app()


if __name__ == "__main__":
    main()
