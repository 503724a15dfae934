"""Problems: what the pipeline reports instead of raising or printing."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any, NamedTuple


class Severity(StrEnum):
    ERROR = "error"
    WARNING = "warning"


class Pos(NamedTuple):
    """Where a value starts: a file path (as given) and a 1-based line and column.

    A named tuple rather than a dataclass: one is made for every YAML value read.
    """

    file: str
    line: int = 1
    column: int = 1


@dataclass(frozen=True, slots=True)
class Problem:
    pos: Pos
    code: str
    message: str
    severity: Severity = Severity.ERROR
    #: For quote problems: the source id and a description of the nearest passage.
    source: str | None = None
    nearest: str | None = None
    #: Extra lines printed under the problem in the text format.
    details: tuple[str, ...] = field(default=())

    def sort_key(self) -> tuple[str, int, int, str]:
        return (self.pos.file, self.pos.line, self.pos.column, self.code)


def error(
    pos: Pos,
    code: str,
    message: str,
    *,
    source: str | None = None,
    nearest: str | None = None,
    details: tuple[str, ...] = (),
) -> Problem:
    return Problem(pos, code, message, Severity.ERROR, source, nearest, details)


def warning(pos: Pos, code: str, message: str, *, source: str | None = None) -> Problem:
    return Problem(pos, code, message, Severity.WARNING, source)


def problem_record(p: Problem) -> tuple[object, ...]:
    """A problem as plain tuples (what the cache stores)."""
    return (tuple(p.pos), p.code, p.message, p.severity.value, p.source, p.nearest, p.details)


def problem_from_record(t: Any) -> Problem:
    pos, code, message, sev, source, nearest, details = t
    return Problem(Pos(*pos), code, message, Severity(sev), source, nearest, tuple(details))


@dataclass(frozen=True, slots=True)
class Verdict:
    """What one check of a content folder found, and a fingerprint of the folder as it was
    then (``survey.Survey.digest``): while the fingerprint holds, so does the verdict."""

    fingerprint: str
    problems: list[Problem]
    facts: int
    quotes: int
    #: Each card's path as shown -> (its stat when checked, whether it was read into a fact,
    #: how many quotes it holds, the ids of the facts it relates to); empty when the cards'
    #: problems cannot be told apart.
    cards: dict[str, tuple[object, bool, int, tuple[str, ...]]] = field(default_factory=dict)
    #: The fingerprint of the folder but for the cards' names (``survey.Survey.base``):
    #: while it holds, cards added or removed are all that changed.
    base: str = ""
