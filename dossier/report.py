"""Formatting problems for people and machines: text, JSON and GitHub workflow commands.

These functions return strings; only the command line prints them.
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence

from .problems import Problem, Severity


def summary_line(problems: Sequence[Problem], facts: int, quotes: int) -> str:
    errors = sum(1 for p in problems if p.severity is Severity.ERROR)
    warnings = len(problems) - errors
    checked = f"checked {facts} fact card{'s' * (facts != 1)} and {quotes} quote{'s' * (quotes != 1)}"
    if errors:
        return f"{checked}: {errors} error{'s' * (errors != 1)}, {warnings} warning{'s' * (warnings != 1)}"
    return f"{checked}: no errors, {warnings} warning{'s' * (warnings != 1)}"


#: What would break a problem's line, or speak to the terminal: line breaks and the other
#: control characters (a card's value quoted in a message may hold any of them); and what
#: cannot be written out at all, a lone surrogate (a file name not in UTF-8 holds them).
_CONTROL = re.compile("[\x00-\x08\x0a-\x1f\x7f-\x9f\u2028\u2029\ud800-\udfff]")
_SURROGATE = re.compile("[\ud800-\udfff]")


def _escape(m: re.Match[str]) -> str:
    """A character's escape: a byte a file name held that is not UTF-8 (Python's
    ``surrogateescape``) as that byte, ``\\xff``; any other as ``repr`` writes it."""
    code = ord(m.group())
    return f"\\x{code - 0xDC00:02x}" if 0xDC80 <= code <= 0xDCFF else repr(m.group())[1:-1]


def _one_line(s: str) -> str:
    """``s`` with each control character written as its escape (``\\n``, ``\\x1b``)."""
    return _CONTROL.sub(_escape, s)


def _printable(s: str) -> str:
    """``s`` with each lone surrogate written as its escape (see ``_escape``)."""
    return _SURROGATE.sub(_escape, s)


def text(problems: Sequence[Problem]) -> list[str]:
    """One line per problem (and one per detail below it), whatever its message holds."""
    lines = []
    for p in problems:
        where = _one_line(f"{p.pos.file}:{p.pos.line}:{p.pos.column}")
        lines.append(f"{where}: {p.severity.value}[{p.code}] {_one_line(p.message)}")
        lines.extend(f"    {_one_line(d)}" for d in p.details)
    return lines


def as_json(problems: Sequence[Problem], facts: int, quotes: int) -> str:
    def one(p: Problem) -> dict[str, object]:
        out: dict[str, object] = {
            "file": _printable(p.pos.file),
            "line": p.pos.line,
            "column": p.pos.column,
            "severity": p.severity.value,
            "code": p.code,
            "message": _printable(p.message),
        }
        if p.source is not None:  # a quote's problem: its source, and the nearest passage if any
            out["source"] = _printable(p.source)
            out["nearest"] = None if p.nearest is None else _printable(p.nearest)
            out["differences"] = [_printable(d) for d in p.details[1:]] if p.nearest else []
        return out

    errors = [one(p) for p in problems if p.severity is Severity.ERROR]
    warnings = [one(p) for p in problems if p.severity is Severity.WARNING]
    doc = {
        "errors": errors,
        "warnings": warnings,
        "summary": {"errors": len(errors), "warnings": len(warnings), "facts": facts, "quotes": quotes},
    }
    return json.dumps(doc, indent=2, ensure_ascii=False)


def _escape_data(s: str) -> str:
    return s.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def _escape_property(s: str) -> str:
    return _escape_data(s).replace(":", "%3A").replace(",", "%2C")


def github(problems: Sequence[Problem]) -> list[str]:
    lines = []
    for p in problems:
        kind = "error" if p.severity is Severity.ERROR else "warning"
        body = _printable("\n".join([p.message, *p.details]))
        props = (
            f"file={_escape_property(_printable(p.pos.file))},line={p.pos.line},col={p.pos.column},"
            f"title={_escape_property(p.code)}"
        )
        lines.append(f"::{kind} {props}::{_escape_data(body)}")
    return lines


def markdown(problems: Sequence[Problem], facts: int, quotes: int) -> str:
    """A Markdown summary, e.g. for $GITHUB_STEP_SUMMARY (which shows every problem)."""
    errors = [p for p in problems if p.severity is Severity.ERROR]
    warnings = [p for p in problems if p.severity is Severity.WARNING]
    verdict = "✅ every quote checked" if not errors else f"❌ {len(errors)} error(s)"
    lines = [
        "## dossier check",
        "",
        f"{verdict}: {facts} fact cards, {quotes} quotes, {len(warnings)} warning(s).",
    ]
    if problems:
        lines += ["", "| where | problem | message |", "| --- | --- | --- |"]
        for p in problems:
            msg = _printable(" ".join([p.message, *p.details])).replace("|", "\\|").replace("\n", " ")
            where = _printable(f"{p.pos.file}:{p.pos.line}:{p.pos.column}")
            lines.append(f"| `{where}` | {p.severity.value}[{p.code}] | {msg} |")
    return "\n".join(lines) + "\n"
