"""The command line: a thin shell that maps the core's results to output and exit codes."""

from __future__ import annotations

import contextlib
import datetime as dt
import functools
import json
import os
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, ParamSpec, TypeVar

import click

from . import __version__, pause, publish, report
from .problems import Problem, Severity, Verdict
from .publish import PublishError
from .survey import Survey, surveying

if TYPE_CHECKING:
    # The checker, the cache and the schema are imported where a command uses them: with
    # them, about 0.06 s of start-up, in which a check or a build has its folder surveyed
    # by a second process (``surveying``), which the sooner it starts, the less is waited for.
    from .cache import Cache
    from .check import CheckResult

#: The kinds ``dossier schema`` knows (``schema.SCHEMA_FILES``' names; a test holds them so).
SCHEMA_KINDS = ["dossier", "entities", "fact", "source"]

FORMATS = ["text", "json", "github", "markdown"]
P = ParamSpec("P")
R = TypeVar("R")

CONTENT_DIR = click.argument(
    "content_dir",
    default="content",
    type=click.Path(exists=True, file_okay=False, path_type=Path),
)


CONTENT_OPTION = click.option(
    "--content",
    "content_dir",
    default="content",
    show_default=True,
    type=click.Path(exists=True, file_okay=False, path_type=Path),
    help="The content folder.",
)
NO_CACHE = click.option(
    "--no-cache", is_flag=True, help="Check everything afresh, without the cache of earlier results."
)


@contextlib.contextmanager
def cached(content_dir: Path, disabled: bool, *, build: bool = False) -> Iterator[Cache | None]:
    """The cache for CONTENT_DIR (with ``build``, the part only builds use too), saved
    afterwards; a cache that cannot be saved is only a slower next run, so that failure
    is not an error."""
    if disabled:
        yield None
        return
    from . import cache

    path = cache.path_for(content_dir)
    build_path = cache.build_path_for(content_dir)
    store = cache.load(path, build_path if build else None)
    store.read_folder = lambda key: cache.read_bytes(cache.folder_path_for(content_dir, key))
    before = set(store.folders)
    yield store
    # The ledgers made of the stored records are not stored; held, they share the records'
    # objects, and marshal writes a shared object with a reference (twice as slow).
    store.decoded = {}
    pause.give_back_memory()  # what the run made and let go of, before the cache is written
    if build:  # each output folder's part first: made from objects the rest does not need
        for key, data in cache.dump_folders(store).items():
            with contextlib.suppress(OSError):
                publish.replace({cache.folder_path_for(content_dir, key): data}, compare=False)
        for key in before - set(store.folders):  # no longer kept
            with contextlib.suppress(OSError):
                cache.folder_path_for(content_dir, key).unlink(missing_ok=True)
        if not cache.parts_stand(store):  # let them go, stored, before the parts are made
            store.sites, store.pieces, store.ledgers, store.skeletons = {}, {}, {}, {}
        # (Else nothing more is made: freeing them would cost an update 0.03 s, and the
        # command ends right after.)
    check_part, build_part = cache.dump_parts(store)
    # Never compared: reading it back would cost its size again.
    if check_part is not None:
        with contextlib.suppress(OSError):
            publish.replace({path: check_part}, compare=False)
        del check_part
    if build and build_part is not None:
        with contextlib.suppress(OSError):
            publish.replace({build_path: build_part}, compare=False)


class ContentErrors(click.ClickException):
    """The content has errors: they were printed already; exit 1."""

    exit_code = 1

    def show(self, file: object = None) -> None:
        click.echo(self.message, err=True)


def plainly(fn: Callable[P, R]) -> Callable[P, R]:
    """No traceback reaches the user: an unexpected failure says so plainly and exits 1."""

    @functools.wraps(fn)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        try:
            return fn(*args, **kwargs)
        except (click.ClickException, click.exceptions.Exit, click.Abort, KeyboardInterrupt):
            raise
        except BrokenPipeError:  # the reader went (``check | head``): click ends quietly, exit 1
            raise
        except Exception as exc:  # the last line of defence
            click.echo(
                f"dossier: internal error: {type(exc).__name__}: {exc}\n"
                "This is a bug in dossier, not in your content; please report it.",
                err=True,
            )
            sys.exit(1)

    return wrapper


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="dossier")
def main() -> None:
    """Build research dossiers whose every quote is proven against its source."""


class _Held(list[object]):
    """What a command made that only the process's exit lets go of (see ``held``)."""


def held(value: R) -> R:
    """``value``, held until the process exits (see ``run``): freed then by the system, all
    at once, not object by object when the command lets go of it (a check's content of
    10,000 cards: 0.035-0.05 s). Under a test's runner (no ``run``), let go as usual."""
    ctx = click.get_current_context(silent=True)
    keeper = ctx.find_root().obj if ctx is not None else None
    if isinstance(keeper, _Held):
        keeper.append(value)
    return value


def run() -> None:
    """The command's entry point: ``main``, then an exit at once, without tearing the heap
    down object by object (after a build of 10,000 cards that took 0.1 to 0.2 s, a tenth
    of an update); the system takes the memory back whole, and what a command ``held``
    with it. What was printed is flushed first; every file the command writes is closed
    before it returns."""
    code: object = 0
    keeper = _Held()
    try:
        main(obj=keeper)  # (standalone: it always ends in SystemExit)
    except SystemExit as exc:
        code = exc.code
    if code is not None and not isinstance(code, int):  # as Python exits on a message
        print(code, file=sys.stderr)
        code = 1
    for stream in (sys.stdout, sys.stderr):
        with contextlib.suppress(OSError, ValueError):  # a closed pipe: nothing to tell it
            stream.flush()
    os._exit(code or 0)


def _colour() -> bool:
    return "NO_COLOR" not in os.environ


def _styled(line: str) -> str:
    """Colour a text-format line (click drops the codes when the output is no terminal)."""
    if not _colour():
        return line
    if line.startswith("    "):
        return click.style(line, dim=True)
    head, sep, rest = line.partition(": error[")
    if sep:
        return click.style(head, bold=True) + ": " + click.style("error[", fg="red", bold=True) + rest
    head, sep, rest = line.partition(": warning[")
    if sep:
        return click.style(head, bold=True) + ": " + click.style("warning[", fg="yellow", bold=True) + rest
    return line


def emit(result: CheckResult | Verdict, fmt: str) -> None:
    from .check import CheckResult

    verdict = result.verdict() if isinstance(result, CheckResult) else result
    problems, facts, quotes = verdict.problems, verdict.facts, verdict.quotes
    if fmt == "json":
        click.echo(report.as_json(problems, facts, quotes))
        return
    if fmt == "markdown":
        click.echo(report.markdown(problems, facts, quotes), nl=False)
        return
    styled = [_styled(line) for line in report.text(problems)]
    lines = report.github(problems) if fmt == "github" else styled
    if lines:  # in one write, not one a line (782 warnings at 10,000 cards)
        click.echo("\n".join(lines))
    if fmt == "github":
        # The full report, for the log: annotations are capped per step.
        for line in report.text(problems):
            click.echo(line, err=True)
    click.echo(report.summary_line(problems, facts, quotes), err=True)


@main.command("check")
@CONTENT_DIR
@click.option(
    "--format",
    "fmt",
    type=click.Choice(FORMATS),
    default="text",
    show_default=True,
    help="How to print problems (markdown: a summary table, e.g. for $GITHUB_STEP_SUMMARY).",
)
@click.option("--strict", is_flag=True, help="Treat warnings as errors.")
@NO_CACHE
@plainly
def check_command(content_dir: Path, fmt: str, strict: bool, no_cache: bool) -> None:
    """Load, validate and verify every card and quote in CONTENT_DIR."""
    # The folder is surveyed by a second process while this one imports the checker and
    # loads the last verdict (only a cached check surveys: one without reads everything).
    with contextlib.nullcontext(None) if no_cache else surveying(content_dir, strict) as surveyed:
        from .check import check

        surveyed_now = surveyed.survey if surveyed is not None else None
        verdict = None if no_cache else checked_before(content_dir, strict, surveyed_now)
        if verdict is None:
            with cached(content_dir, no_cache) as store:
                verdict = held(check(content_dir, strict=strict, cache=store)).verdict()
    emit(verdict, fmt)
    if any(p.severity is Severity.ERROR for p in verdict.problems):
        sys.exit(1)


def checked_before(
    content_dir: Path, strict: bool, surveyed: Callable[[], Survey | None] | None = None
) -> Verdict | None:
    """The verdict on CONTENT_DIR from the last one, where nothing or only a few cards
    changed since; otherwise None, after a full check whose verdict is stored for next
    time (it is only a cache: a failure to store it is not an error). ``surveyed``: the
    survey made ahead (see ``surveying``), if one is."""
    from . import cache
    from .check import check, recall

    path = cache.verdict_path(content_dir)
    known = cache.load_verdict(path)
    verdict, now = recall(content_dir, strict, known, surveyed=surveyed() if surveyed is not None else None)
    if verdict is None and now is not None:
        with cached(content_dir, False) as store:
            verdict = held(check(content_dir, strict=strict, cache=store)).verdict(now)
    if verdict is not None and verdict is not known:
        with contextlib.suppress(OSError):
            publish.replace({path: cache.dump_verdict(verdict)})
    return verdict


def source_date_epoch(value: str | None) -> dt.datetime | None:
    """https://reproducible-builds.org/specs/source-date-epoch/: a non-negative integer."""
    if value is None or value == "":
        return None
    if not value.isascii() or not value.isdigit():
        raise click.UsageError(
            f"SOURCE_DATE_EPOCH must be a whole number of seconds since 1970; got {value!r}"
        )
    try:
        return dt.datetime.fromtimestamp(int(value), tz=dt.UTC)
    except (OverflowError, OSError, ValueError):
        raise click.UsageError(f"SOURCE_DATE_EPOCH is out of range: {value!r}") from None


@main.command("build")
@CONTENT_DIR
@click.option(
    "--out",
    type=click.Path(path_type=Path),
    default="site",
    show_default=True,
    help="The folder to write the site to (only if dossier wrote it; files added by hand are kept).",
)
@click.option(
    "--format", "fmt", type=click.Choice(["text", "json", "github"]), default="text", show_default=True
)
@click.option("--strict", is_flag=True, help="Treat warnings as errors.")
@NO_CACHE
@plainly
def build_command(content_dir: Path, out: Path, fmt: str, strict: bool, no_cache: bool) -> None:
    """Check CONTENT_DIR, then render the site into --out; with errors, write nothing.

    SOURCE_DATE_EPOCH, when set, is the build date shown in the site (reproducible builds).
    """
    built = source_date_epoch(os.environ.get("SOURCE_DATE_EPOCH"))
    # The folder is surveyed by a second process while this one imports the renderer and
    # loads the cache, and then the spare tree the site is written into (only a cached
    # build surveys and keeps a spare: one without reads and writes everything).
    spare = publish.spare_path(out)
    ahead = contextlib.nullcontext(None) if no_cache else surveying(content_dir, strict, spare)
    with ahead as surveyed:
        import jinja2  # the renderer's imports cost a tenth of a second: only builds pay it

        from . import cache
        from .build import build

        verdict_path = cache.verdict_path(content_dir)
        known = None if no_cache else cache.load_verdict(verdict_path)
        try:
            with cached(content_dir, no_cache, build=True) as store:
                now = surveyed.survey() if surveyed is not None else None
                result = build(
                    content_dir,
                    out,
                    strict=strict,
                    built=built,
                    cache=store,
                    known=known,
                    surveyed=now,
                    spare_tree=surveyed.tree if surveyed is not None else None,
                )
                # Let the content go before the cache is written: both at once is the peak.
                verdict = result.unchanged or result.recalled or result.check.verdict(result.survey)
                published, pages = result.published, result.pages
                del result
            if verdict is not known and verdict.fingerprint:  # for the next check or build
                with contextlib.suppress(OSError):
                    publish.replace({verdict_path: cache.dump_verdict(verdict)})
        except PublishError as exc:
            raise click.UsageError(str(exc)) from None
        except jinja2.TemplateError as exc:
            # (before OSError: Jinja's TemplateNotFound is one too)
            where = f"{exc.filename}:{exc.lineno}: " if isinstance(exc, jinja2.TemplateSyntaxError) else ""
            message = exc.message if isinstance(exc, jinja2.TemplateSyntaxError) else str(exc)
            raise ContentErrors(
                f"{where}error[template] {type(exc).__name__}: {message}; nothing was written"
            ) from None
        except OSError as exc:  # a full disk, a read-only folder: not a bug, and nothing was lost
            raise ContentErrors(
                f"dossier: cannot write the site to {out}: {exc.strerror or exc}; "
                "the previous site was left as it was"
            ) from None
    emit(verdict, fmt)
    if published is None:
        raise ContentErrors(f"dossier: not built: the content has errors; {out} was left as it was")
    click.echo(
        f"built {pages} pages into {out} ({published.written} files written, {published.kept} unchanged)",
        err=True,
    )


@main.command("schema")
@click.argument(
    "kind", required=False, type=click.Choice(SCHEMA_KINDS)
)
@click.option(
    "--out",
    type=click.Path(file_okay=False, path_type=Path),
    help="Write the schemas (KIND's alone, if given) into this folder.",
)
@plainly
def schema_command(kind: str | None, out: Path | None) -> None:
    """Print the JSON Schema for KIND, or write them (all, or KIND's) with --out DIR."""
    from . import schema

    docs = schema.schema_documents()
    if out is not None:
        if kind is not None:  # (it wrote all four, KIND or not)
            docs = {name: data for name, data in docs.items() if name == f"{kind}.schema.json"}
        try:
            written = publish.replace({out / name: data for name, data in docs.items()})
        except OSError as exc:
            raise ContentErrors(f"dossier: cannot write the schemas: {_what(exc)}") from None
        click.echo(
            f"{len(written)} schema file(s) written to {out}, {len(docs) - len(written)} unchanged", err=True
        )
        return
    if kind is None:
        raise click.UsageError("name a KIND to print (fact, source, entities, dossier) or give --out DIR")
    click.echo(docs[f"{kind}.schema.json"].decode(), nl=False)


def _what(exc: OSError) -> str:
    """What failed, and why, as a person says it: the file, then the reason."""
    reason = (exc.strerror or str(exc)).lower()
    return f"{exc.filename}: {reason}" if exc.filename else reason


@main.group("new")
def new_group() -> None:
    """Create a fact card or a source from a scaffold."""


def _create(files: dict[Path, bytes], problems: list[Problem]) -> None:
    if problems:
        for line in report.text(problems):
            click.echo(_styled(line), err=True)
        raise ContentErrors("dossier: nothing was written")
    try:
        publish.create(files)
    except publish.PublishError as exc:
        raise ContentErrors(f"dossier: {exc}") from None
    except OSError as exc:  # a folder that is a file, a read-only disk: not a bug
        raise ContentErrors(f"dossier: cannot write {_what(exc)}; nothing was written") from None
    for path in files:
        click.echo(f"created {path}", err=True)


@new_group.command("fact")
@click.argument("fact_id")
@CONTENT_OPTION
@click.option(
    "--source", help="The source the first quote comes from (one the content holds; default: a placeholder)."
)
@plainly
def new_fact_command(fact_id: str, content_dir: Path, source: str | None) -> None:
    """Create facts/FACT_ID.yaml with the fields to fill."""
    from . import scaffold  # (imported when used: the other commands never need it)

    _create(*scaffold.new_fact(content_dir, fact_id, source))


@new_group.command("source")
@click.argument("source_id")
@click.option(
    "--from",
    "from_file",
    required=True,
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="The saved text to copy in, byte for byte.",
)
@click.option("--url", help="Where the original is (http or https).")
@click.option("--title", help="The source's title (default: its first line).")
@CONTENT_OPTION
@plainly
def new_source_command(
    source_id: str, from_file: Path, url: str | None, title: str | None, content_dir: Path
) -> None:
    """Copy a saved source (.txt, .md, .html or .pdf) into sources/ and write its metadata,
    with its sha256 pinned."""
    if url is not None and not url.lower().startswith(("http://", "https://")):
        raise click.BadParameter("must be an http:// or https:// URL", param_hint="--url")
    kind = from_file.suffix.lower().lstrip(".") or "txt"
    kind = {"htm": "html", "text": "txt", "markdown": "md"}.get(kind, kind)
    from . import scaffold

    _create(
        *scaffold.new_source(content_dir, source_id, from_file.read_bytes(), kind=kind, url=url, title=title)
    )


@main.command("stats")
@CONTENT_DIR
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True)
@plainly
def stats_command(content_dir: Path, fmt: str) -> None:
    """Facts by status, quotes per source, uncited sources, single-source and disputed facts."""
    from . import stats as stats_module
    from .check import check

    result = check(content_dir)
    if result.content is None:
        emit(result, "text")
        raise ContentErrors("dossier: no figures: the content cannot be read")
    figures = stats_module.stats(result)
    if fmt == "json":
        click.echo(json.dumps(figures, indent=2, ensure_ascii=False))
    else:
        for line in stats_module.as_text(figures):
            click.echo(line)
    if result.errors:  # the figures leave out what could not be read: they are not the whole
        raise ContentErrors(
            f"dossier: the content has {len(result.errors)} error(s), which these figures leave out; "
            "run dossier check"
        )


@main.command("serve")
@CONTENT_DIR
@click.option(
    "--port", default=8000, show_default=True, type=click.IntRange(0, 65535), help="0 picks a free port."
)
@click.option("--out", type=click.Path(path_type=Path), help="Where to build (default: a temporary folder).")
@plainly
def serve_command(content_dir: Path, port: int, out: Path | None) -> None:
    """Build, serve on 127.0.0.1 and rebuild when content or templates change (Ctrl-C stops)."""
    import signal

    # Stopped as by Ctrl-C (the temporary folder removed) when told to terminate, too: by a
    # process manager, or by a shell that ran it in the background (where Ctrl-C's signal
    # is ignored); and when its terminal closes (SIGHUP, where there is one).
    signals = [signal.SIGTERM, *([signal.SIGHUP] if hasattr(signal, "SIGHUP") else [])]

    def stop(signum: int, frame: object) -> None:
        for s in signals:  # (once: the cleanup is not cut short)
            signal.signal(s, signal.SIG_IGN)
        raise KeyboardInterrupt

    before = {s: signal.signal(s, stop) for s in signals}
    try:
        _serve(content_dir, port, out)
    finally:
        for s, handler in before.items():
            signal.signal(s, handler)


def _serve(content_dir: Path, port: int, out: Path | None) -> None:
    import tempfile

    from . import cache
    from .serve import DevServer

    with tempfile.TemporaryDirectory(prefix="dossier-serve-") as tmp:
        target = out if out is not None else Path(tmp) / "site"
        try:
            # What `dossier build` cached, read and never written back (see ``serve``).
            store = cache.load(cache.path_for(content_dir), cache.build_path_for(content_dir))
            server = DevServer(content_dir, target, port, lambda msg: click.echo(msg, err=True), cache=store)
        except OSError as exc:
            raise click.UsageError(f"cannot listen on 127.0.0.1:{port}: {exc.strerror}") from None
        try:
            server.start()
            click.echo(f"serving {content_dir} at http://127.0.0.1:{server.port}/ (Ctrl-C stops)", err=True)
            while True:
                server.httpd_thread_wait()
        except KeyboardInterrupt:
            click.echo("stopped", err=True)
        finally:
            server.stop()
