"""The check stage: read the content, then verify every quote against its source."""

from __future__ import annotations

import marshal
import os
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from . import parallel, quotes, readers
from . import survey as surveys
from .cache import Cache
from .cache import key as cache_key
from .extract import page_at
from .model import Content, Evidence, Fact, Source
from .pause import collector_paused
from .problems import Problem, Severity, Verdict, error, warning
from .readers import read_content
from .survey import Survey


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

    def verdict(self, survey: Survey | None = None) -> Verdict:
        """The verdict, for the folder as ``survey`` found it before it was read."""
        facts = self.content.facts if self.content else {}
        if survey is None:
            return Verdict("", self.problems, len(facts), self.quote_count)
        cards: dict[str, tuple[object, bool, int, tuple[str, ...]]] = {}
        if survey.clean:
            read = {f.file: f for f in facts.values()}
            cards = {shown: _card_entry(st, read.get(shown)) for shown, st in survey.cards.items()}
        return Verdict(survey.digest, self.problems, len(facts), self.quote_count, cards, survey.base)


def _card_entry(st: object, fact: Fact | None) -> tuple[object, bool, int, tuple[str, ...]]:
    """A card as a verdict keeps it (see ``Verdict.cards``)."""
    if fact is None:
        return (st, False, 0, ())
    return (st, True, len(fact.evidence), tuple(r.id for r in fact.related))


#: CONTENT_DIR surveyed for a verdict (see ``survey.of_folder``).
survey = surveys.of_folder


#: Up to this many edited cards are checked on their own; past it, everything is.
RECHECK_MAX = 200


def recall(
    root: Path,
    strict: bool,
    known: Verdict | None,
    *,
    recheck: bool = True,
    surveyed: Survey | None = None,
    cache: Cache | None = None,
    checked: tuple[CheckResult, set[str]] | None = None,
) -> tuple[Verdict | None, Survey | None]:
    """The verdict on CONTENT_DIR as it is now, from ``known`` (the last one) without
    reading the folder again when only a few cards changed, or None; and the survey.

    While everything but the cards is as it was (the same files, the same names of cards),
    a card's problems depend on its own bytes alone, so the cards that changed are read and
    checked on their own and the rest of ``known`` stands (unless not ``recheck``: for a
    caller that will check everything anyway when anything changed). ``surveyed``: the
    survey, when the caller has just made it; ``cache``, for reading the edited cards;
    ``checked``: (a check the caller has made with ``check_only``, the cards it read), used
    instead of reading the edited cards here when it read every one of them.
    """
    now = surveyed or survey(root, strict)
    if now is None or known is None:
        return None, now
    renamed = known.fingerprint != now.digest
    if renamed and not (known.base and known.base == now.base):
        return None, now  # more than the cards changed
    changed = {
        shown for shown, st in now.cards.items() if st is None or known.cards.get(shown, (None,))[0] != st
    }
    removed = set(known.cards) - set(now.cards) if renamed else set()
    if not changed and not renamed:
        return known, now
    if not recheck or not known.cards or not now.clean or len(changed) > RECHECK_MAX:
        return None, now
    if renamed:  # cards added or removed: what names a fact may now stand or fall with them
        changed |= _naming(known, removed)
        if len(changed) > RECHECK_MAX:
            return None, now
    if checked is not None and changed <= checked[1]:
        done = checked[0]
    else:
        done = check_only(root, changed, set(), strict=strict, cache=cache)
    content, fresh = done.content, done.problems
    if content is None:
        return None, now
    kept = [p for p in known.problems if p.pos.file not in changed and p.pos.file not in removed]
    cards = {shown: entry for shown, entry in known.cards.items() if shown not in removed}
    read = {f.file: f for f in content.facts.values()}
    for shown in changed:
        cards[shown] = _card_entry(now.cards[shown], read.get(shown))
    merged = sorted(kept + [p for p in fresh if p.pos.file in changed], key=Problem.sort_key)
    facts = sum(1 for c in cards.values() if c[1])
    quotes = sum(c[2] for c in cards.values())
    return Verdict(now.digest, merged, facts, quotes, cards, now.base), now


def _naming(known: Verdict, removed: set[str]) -> set[str]:
    """The cards whose problems depend on which fact ids there are, when cards were added
    or ``removed``: those that relate to a fact removed, and those with an unknown fact
    (it may be there now, and the hint names the closest id there is)."""
    gone = {readers.card_id(shown) for shown in removed}
    out = {p.pos.file for p in known.problems if p.code == "unknown-fact"} - removed
    out.update(shown for shown, entry in known.cards.items() if shown not in removed and gone & set(entry[3]))
    return out


#: Below this many quotes to search, a second process costs more than it saves.
PARALLEL_MIN = 3000


def check(root: Path, *, strict: bool = False, cache: Cache | None = None) -> CheckResult:
    """Read CONTENT_DIR and verify every quote; ``cache`` (updated in place) skips known work.

    What it read is frozen for the collector (see ``pause``): it lives as long as the
    check or build using it, and the first collection after the pause would otherwise scan
    all of it (at 10,000 cards, 0.45 s, right after a check read from the cache in 1.3-1.8 s)."""
    with collector_paused(freeze=True):
        return _check(root, strict, cache)


def check_only(
    root: Path,
    cards: set[str],
    sources: set[str],
    *,
    strict: bool = False,
    cache: Cache | None = None,
    listed: Iterable[str] | None = None,
) -> CheckResult:
    """Read and verify just ``cards`` (by their paths as problems show them), the sources
    they cite and ``sources``: the content then holds only those (see ``read_content``,
    and for ``listed``, every card a clean survey found)."""
    with collector_paused(freeze=True):
        content, problems = read_content(root, cache, only=cards, extra_sources=sources, listed=listed)
        if content is None:
            return CheckResult(None, _finish(problems, strict))
        return _verify(content, problems, strict, cache)


#: From this many entries in facts/, a check that will search every quote (no cache, or
#: one that knows no card) has all but the cards read, and the sources normalised, by a
#: second process while this one reads the cards (see ``readers.read_content_prepared``).
#: With fewer cards there is too little to read meanwhile: with no cache, 300 cards over 30
#: sources checked in 0.138 s against 0.145, 1,000 over 100 in 0.198 against 0.217 (medians
#: of 12 runs in turns), but 150 over 150 sources in 60 ms against 33, and one card in 104
#: ms against 9 (the child's work waited for).
PARALLEL_READ = 500


def _check(root: Path, strict: bool, cache: Cache | None) -> CheckResult:
    ready: dict[str, quotes.Source] = {}
    everything = cache is None or not cache.cards
    if everything and parallel.usable() and _entries(root / "facts") >= PARALLEL_READ:
        content, problems, ready = readers.read_content_prepared(root, quotes.Source, cache)
    else:
        content, problems = read_content(root, cache)
    if content is None:
        return CheckResult(None, _finish(problems, strict))
    return _verify(content, problems, strict, cache, ready)


def _entries(folder: Path) -> int:
    """How many entries ``folder`` holds (0: it cannot be listed; the reader says why)."""
    try:
        with os.scandir(folder) as entries:
            return sum(1 for _ in entries)
    except OSError:
        return 0


def _verify(
    content: Content,
    problems: list[Problem],
    strict: bool,
    cache: Cache | None,
    ready: dict[str, quotes.Source] | None = None,
) -> CheckResult:
    """Verify every quote of ``content``; ``problems`` are the reading's, added to;
    ``ready``: sources normalised already, by id."""
    prepared = _Prepared(content, ready)
    settings = content.dossier.quotes
    sources = content.sources
    # Every quote of a source that was read (the others are reported already), in order,
    # and its result; those the cache cannot answer are searched.
    quoted = [
        (fact, i, ev)
        for fact in content.facts.values()
        for i, ev in enumerate(fact.evidence)
        if ev.source.id in sources
    ]
    results: list[quotes.Match | quotes.Miss | None] = [None] * len(quoted)
    todo: Sequence[int] = range(len(quoted))
    keys: dict[int, bytes] = {}  # (a quote searched -> its key in the cache)

    def key_of(ev: Evidence) -> bytes:
        source = sources[ev.source.id]
        return cache_key(ev.quote, source.sha256, source.kind, settings)

    if cache is not None and cache.entries:  # (a cache that knows no quote answers none)
        todo = []
        for n, (_, _, ev) in enumerate(quoted):
            k = key_of(ev)
            hit = cache.get(k)
            if hit is not None:
                results[n] = hit
            else:
                todo.append(n)
                keys[n] = k
    if len(todo) >= PARALLEL_MIN and parallel.usable():
        # (The keys of quotes no cache knew are made by the processes searching them.)
        key = key_of if cache is not None and not keys else None
        _verify_in_two(quoted, todo, prepared, settings, results, key, keys)
    else:
        for n in todo:
            ev = quoted[n][2]
            results[n] = quotes.verify(ev.quote, prepared[ev.source.id], settings)
    if cache is not None:  # (what the cache answered it holds already)
        for n in todo:
            if isinstance(found := results[n], quotes.Match):
                cache.put(keys.get(n) or key_of(quoted[n][2]), found)
    matches: dict[tuple[str, int], quotes.Match] = {}
    for (fact, i, ev), result in zip(quoted, results, strict=True):
        if isinstance(result, quotes.Match):
            matches[(fact.id, i)] = result
            for code, message in result.warnings:
                problems.append(warning(ev.quote_pos, code, message, source=ev.source.id))
            continue
        assert result is not None  # (every quote was answered or searched)
        nearest = None
        details: list[str] = []
        if result.nearest is not None:
            near = result.nearest
            nearest = near.text
            details.append(f"nearest passage ({_passage_at(sources[ev.source.id], near)}): {near.text}")
            details.extend(near.differences)
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


#: The runs the quotes are searched in by two processes, each taking the next as soon as
#: it is free (see ``parallel.each_claimed``).
VERIFY_RUNS = 32


def _verify_in_two(
    quoted: list[tuple[Fact, int, Evidence]],
    todo: Sequence[int],
    prepared: _Prepared,
    settings: quotes.Settings,
    results: list[quotes.Match | quotes.Miss | None],
    key: Callable[[Evidence], bytes] | None = None,
    keys: dict[int, bytes] | None = None,
) -> None:
    """``results[n]``: ``quotes.verify`` of the quote ``quoted[n]`` holds, for each ``n`` of
    ``todo``, by two processes in runs, each taking the next run as soon as it is free
    (runs dealt out in halves took 0.26 and 0.34 s at 30,000 quotes: the two cores are
    not alike on a shared machine). Where sources are to be normalised still (each child
    adds to its copy of ``prepared``), the runs take the quotes by source, so that each
    process normalises about the sources of the runs it takes. A child sends its matches
    back as plain tuples in marshal's bytes (15,000 matches: 0.1 s sent and read, where
    pickling the objects took 0.2), its misses (rare) as they are, by their place; a run's
    results are read here while the children search the next. ``key``: each quote's key
    in the cache is made too, by the process searching it, into ``keys`` (30,000 keys made
    here took 0.05 s)."""
    order: Sequence[int] = todo
    if not all(sid in prepared for sid in prepared.content.sources):
        order = sorted(todo, key=lambda n: quoted[n][2].source.id)
    runs = [order[r.start : r.stop] for r in parallel.ranges(len(order), VERIFY_RUNS)]

    def verify(run: Sequence[int]) -> tuple[bytes, list[tuple[int, quotes.Miss]], bytes]:
        found: list[tuple[object, ...] | None] = []
        missed = []
        for n in run:
            ev = quoted[n][2]
            result = quotes.verify(ev.quote, prepared[ev.source.id], settings)
            if isinstance(result, quotes.Match):
                found.append((result.spans, result.nspans, result.warnings))
            else:
                found.append(None)
                missed.append((n, result))
        made = b"" if key is None else marshal.dumps([key(quoted[n][2]) for n in run])
        return marshal.dumps(found), missed, made

    match = quotes.Match
    for run, (found, missed, made) in zip(runs, parallel.each_claimed(verify, runs), strict=True):
        for n, fields in zip(run, marshal.loads(found), strict=True):
            if fields is not None:
                results[n] = match(*fields)
        for n, miss in missed:
            results[n] = miss
        if keys is not None and made:
            keys.update(zip(run, marshal.loads(made), strict=True))


_FIX = {
    "quote-not-found": "quote the source's words exactly, marking cuts with ... and changes with [brackets]",
    "quote-too-short": "quote more of the passage",
    "quote-too-complex": "use fewer omissions",
}


class _Prepared(dict[str, quotes.Source]):
    """Sources normalised on first use: with a warm cache most never need it."""

    def __init__(self, content: Content, ready: dict[str, quotes.Source] | None = None) -> None:
        super().__init__(ready or {})
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


def _passage_at(source: Source, nearest: quotes.Nearest) -> str:
    """Where a nearest passage stands: the file and line of a text source; of an HTML or
    PDF source, the line of the text read from it (as its page in the briefing shows it),
    not of the file, and a PDF's page."""
    if source.kind in ("txt", "md"):
        return f"{source.text_file}:{nearest.line}"
    page = page_at(source.pages, nearest.start) if source.kind == "pdf" else None
    if page is not None:
        return f"{source.text_file}, page {page}, line {nearest.line} of its text"
    return f"{source.text_file}, line {nearest.line} of its visible text"
