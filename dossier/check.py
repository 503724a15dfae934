"""The check stage: read the content, then verify every quote against its source."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from . import quotes
from .cache import Cache
from .cache import key as cache_key
from .model import Content
from .problems import Problem, Severity, error, warning
from .readers import read_content


@dataclass(frozen=True, slots=True)
class CheckResult:
    content: Content | None
    problems: list[Problem]
    #: (fact id, evidence index) -> where the quote stands in its source.
    matches: dict[tuple[str, int], quotes.Match] = field(default_factory=dict)
    prepared: dict[str, quotes.Source] = field(default_factory=dict)

    @property
    def errors(self) -> list[Problem]:
        return [p for p in self.problems if p.severity is Severity.ERROR]

    @property
    def warnings(self) -> list[Problem]:
        return [p for p in self.problems if p.severity is Severity.WARNING]

    @property
    def quote_count(self) -> int:
        if self.content is None:
            return 0
        return sum(len(f.evidence) for f in self.content.facts.values())


def check(root: Path, *, strict: bool = False, cache: Cache | None = None) -> CheckResult:
    """Read CONTENT_DIR and verify every quote; ``cache`` (updated in place) skips known work."""
    content, problems = read_content(root)
    if content is None:
        return CheckResult(None, _finish(problems, strict))
    prepared = _Prepared(content)
    matches: dict[tuple[str, int], quotes.Match] = {}
    settings = content.dossier.quotes
    for fact in content.facts.values():
        for i, ev in enumerate(fact.evidence):
            if ev.source.id not in content.sources:
                continue  # unknown or unreadable source: already reported
            if cache is None:
                result = quotes.verify(ev.quote, prepared[ev.source.id], settings)
            else:
                key = cache_key(ev.quote, content.sources[ev.source.id].sha256, settings)
                result = cache.get(key) or quotes.verify(ev.quote, prepared[ev.source.id], settings)
                if isinstance(result, quotes.Match):
                    cache.put(key, result)
            if isinstance(result, quotes.Match):
                matches[(fact.id, i)] = result
                for code, message in result.warnings:
                    problems.append(warning(ev.quote_pos, code, message, source=ev.source.id))
                continue
            nearest = None
            details: list[str] = []
            if result.nearest is not None:
                n = result.nearest
                src_file = content.sources[ev.source.id].text_file
                nearest = n.text
                details.append(f"nearest passage ({src_file}:{n.line}): {n.text}")
                details.extend(n.differences)
            problems.append(
                error(
                    ev.quote_pos,
                    result.code,
                    f"{result.message} (source '{ev.source.id}'); {_FIX[result.code]}",
                    source=ev.source.id,
                    nearest=nearest,
                    details=tuple(details),
                )
            )
    return CheckResult(content, _finish(problems, strict), matches, prepared)


_FIX = {
    "quote-not-found": "quote the source's words exactly, marking cuts with ... and changes with [brackets]",
    "quote-too-short": "quote more of the passage",
}


class _Prepared(dict[str, quotes.Source]):
    """Sources normalised on first use: with a warm cache most never need it."""

    def __init__(self, content: Content) -> None:
        super().__init__()
        self.content = content

    def __missing__(self, sid: str) -> quotes.Source:
        prepared = self[sid] = quotes.Source(self.content.sources[sid].text)
        return prepared


def _finish(problems: list[Problem], strict: bool) -> list[Problem]:
    if strict:
        problems = [
            Problem(p.pos, p.code, p.message, Severity.ERROR, p.source, p.nearest, p.details)
            for p in problems
        ]
    return sorted(problems, key=Problem.sort_key)
