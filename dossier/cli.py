"""The command line: a thin shell that maps the core's results to output and exit codes."""

from __future__ import annotations

import functools
import sys
from collections.abc import Callable
from pathlib import Path
from typing import ParamSpec, TypeVar

import click
import jinja2

from . import __version__, report
from .build import build
from .check import CheckResult, check
from .publish import PublishError

P = ParamSpec("P")
R = TypeVar("R")

CONTENT_DIR = click.argument(
    "content_dir",
    default="content",
    type=click.Path(exists=True, file_okay=False, path_type=Path),
)


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


def emit(result: CheckResult, fmt: str) -> None:
    facts = len(result.content.facts) if result.content else 0
    problems = result.problems
    if fmt == "json":
        click.echo(report.as_json(problems, facts, result.quote_count))
        return
    lines = report.github(problems) if fmt == "github" else report.text(problems)
    for line in lines:
        click.echo(line)
    if fmt == "github":
        # The full report, for the log: annotations are capped per step.
        for line in report.text(problems):
            click.echo(line, err=True)
    click.echo(report.summary_line(problems, facts, result.quote_count), err=True)


@main.command("check")
@CONTENT_DIR
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["text", "json", "github"]),
    default="text",
    show_default=True,
    help="How to print problems.",
)
@click.option("--strict", is_flag=True, help="Treat warnings as errors.")
@plainly
def check_command(content_dir: Path, fmt: str, strict: bool) -> None:
    """Load, validate and verify every card and quote in CONTENT_DIR."""
    result = check(content_dir, strict=strict)
    emit(result, fmt)
    if result.errors:
        sys.exit(1)


@main.command("build")
@CONTENT_DIR
@click.option(
    "--out",
    type=click.Path(path_type=Path),
    default="site",
    show_default=True,
    help="The folder to write the site to (replaced whole, only if dossier wrote it).",
)
@click.option(
    "--format", "fmt", type=click.Choice(["text", "json", "github"]), default="text", show_default=True
)
@click.option("--strict", is_flag=True, help="Treat warnings as errors.")
@plainly
def build_command(content_dir: Path, out: Path, fmt: str, strict: bool) -> None:
    """Check CONTENT_DIR, then render the site into --out; with errors, write nothing."""
    try:
        result = build(content_dir, out, strict=strict)
    except PublishError as exc:
        raise click.UsageError(str(exc)) from None
    except jinja2.TemplateError as exc:
        where = f"{exc.filename}:{exc.lineno}: " if isinstance(exc, jinja2.TemplateSyntaxError) else ""
        raise ContentErrors(
            f"{where}error[template] {type(exc).__name__}: {exc}; nothing was written"
        ) from None
    emit(result.check, fmt)
    if result.published is None:
        raise ContentErrors(f"dossier: not built: the content has errors; {out} was left as it was")
    p = result.published
    click.echo(
        f"built {result.pages} pages into {out} ({p.written} files written, {p.kept} unchanged)", err=True
    )
