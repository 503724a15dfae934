"""The build: check, generate, render everything in memory, then publish in one step."""

from __future__ import annotations

import datetime as dt
import functools
import hashlib
import marshal
import os
import time
from collections.abc import Callable, Generator, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import jinja2

from . import data, generators, model, parallel, publish, splice
from .cache import Cache, code_digest, library_version
from .check import CheckResult, check, check_only, recall, survey
from .generators import Entry, Site, SourceEntry
from .ledger import Ledger, Record, change_of, footprint, ledger_from_record, record_of, touched, widen
from .pause import collector_paused, heap_frozen
from .pieces import Derived, Old, Spans, read_at
from .problems import Severity, Verdict
from .render import Renderer, theme_dirs
from .shards import Shards
from .survey import Survey, Tree

STATIC_FILES = ("static/style.css", "static/print.css", "static/dossier.js")


@dataclass(frozen=True, slots=True)
class BuildResult:
    check: CheckResult
    published: publish.Published | None = None
    pages: int = 0
    #: Seconds spent in each stage: check, generate, claims, digests, data, pages (rendering
    #: them, with two processes waited for), publish (writing the files).
    timings: dict[str, float] = field(default_factory=dict)
    #: The content folder as it was found before it was read (None: no cache, or too fresh).
    survey: Survey | None = None
    #: Set when nothing had changed since the last build of ``out``: the verdict recalled
    #: (``check`` then holds only its problems), and nothing was rendered or written.
    unchanged: Verdict | None = None
    #: Set when the build was an update (only some cards edited): the verdict on the whole
    #: folder, recalled with the edited cards checked anew (``check`` holds its problems).
    recalled: Verdict | None = None


def build(
    content_dir: Path,
    out: Path,
    *,
    strict: bool = False,
    built: dt.datetime | None = None,
    cache: Cache | None = None,
    known: Verdict | None = None,
    surveyed: Survey | None = None,
    spare_tree: Callable[[], Tree | None] | None = None,
) -> BuildResult:
    """Check; when clean, render the site and publish it to ``out``.

    With a cache, and ``known`` (the last check's verdict), a build whose every input (the
    content folder, the theme, ``built``) is as it was for the last build of ``out``, and
    whose output is as that build left it, does nothing.

    ``surveyed``: ``check.survey(content_dir, strict)`` as the caller has just made it,
    before anything of the folder was read (a watcher's: the folder is not looked at twice).
    ``spare_tree``: what the spare tree holds, as listed meanwhile (see ``publish``).

    Raises ``publish.PublishError`` when ``out`` may not be replaced, and template errors
    as they come; in every failing case the previous site is left as it was.
    """
    try:
        return _build(
            content_dir, out, strict, built, cache, known,
            update=True, surveyed=surveyed, spare_tree=spare_tree,
        )  # fmt: skip
    except _Stale:
        # A page the update kept was edited by hand since the last build (publish found
        # it so, and wrote nothing): everything is made, each page looked at as it is kept.
        if cache is not None:
            cache.kept_all = False  # (the update's: this build reads every card)
        return _build(content_dir, out, strict, built, cache, known, update=False)


class _Stale(Exception):
    """An update found a page it kept not as the last build left it."""


def _build(
    content_dir: Path,
    out: Path,
    strict: bool,
    built: dt.datetime | None,
    cache: Cache | None,
    known: Verdict | None,
    *,
    update: bool,
    surveyed: Survey | None = None,
    spare_tree: Callable[[], Tree | None] | None = None,
) -> BuildResult:
    # check() pauses the cycle collector while it reads; rendering runs with it (Jinja's
    # contexts do make cycles: paused, memory grew by a sixth), the checked content frozen.
    t0 = time.perf_counter()
    now = (surveyed or survey(content_dir, strict)) if cache is not None else None
    site_key = str(out.resolve())
    if cache is not None:
        cache.open_site(site_key)
        if not (out / publish.MARKER).is_file():  # the last build's files are gone
            cache.forget_site(site_key)
    theme = theme_digest(theme_dirs(content_dir))
    rest = _rest(now, theme, built)
    inputs = _inputs(now, rest)
    if cache is not None and inputs is not None and cache.built_from.get(site_key) == inputs:
        verdict = recall(content_dir, strict, known, recheck=False, surveyed=now)[0]
        done = _unchanged(out, site_key, inputs, cache, verdict, known)
        if done is not None:
            return done
    planned = None
    if cache is not None and update:
        with collector_paused(freeze=True):  # the ledger, the plan: plain values, no cycles
            planned = _update(content_dir, out, site_key, strict, cache, known, now, rest)
    if planned is not None:
        result, partial, recalled = planned
    else:
        result, partial, recalled = check(content_dir, strict=strict, cache=cache), None, None
    t1 = time.perf_counter()
    if result.errors:  # the ledger stands: the site is as it was
        return BuildResult(result, timings={"check": t1 - t0}, survey=now)
    assembled = Pieces()
    if cache is not None:
        raw = cache.ledgers.get(site_key)
        if partial is None:  # a full build makes all of the ledger again: the old one goes
            cache.ledgers.pop(site_key, None)
            cache.decoded.pop(site_key, None)
        assembled.old_key = _key_of(raw, keep=partial is not None)
        del raw
    publish.check_target(out, content_dir)
    # Pages go to the temporary tree as they are rendered, so the site never sits in memory
    # whole; the swap at the end is still all or nothing.
    before = cache.sites.get(site_key) if cache is not None else None
    stages: dict[str, float] = {}
    if cache is not None:
        assembled.old = cache.pieces.get(site_key) or {}
        stored = cache.skeletons.get(site_key) or {}
        assembled.old_skeletons = {
            name: sk for name, raw in stored.items() if (sk := splice.Skeleton.from_record(raw)) is not None
        }
    made: list[Record] = []
    keep = (rest, now.cards, made) if rest is not None and now is not None else None
    files = render_files(
        result, content_dir, built, out, before, cache, stages, theme, assembled, partial, keep
    )
    timer = _Timer(files)
    try:
        with heap_frozen():
            published = publish.publish(
                timer, out, content_dir, before, spare=cache is not None, spare_tree=spare_tree
            )
    except publish.Changed:
        files.close()
        if partial is None:
            raise
        raise _Stale from None
    if cache is not None:
        cache.remember_site(site_key, published.manifest, inputs or "", assembled.new)
        cache.skeletons[site_key] = {name: sk.record() for name, sk in assembled.new_skeletons.items()}
        if made:
            cache.ledgers[site_key] = made[0]
            if partial is not None:
                cache.decoded[site_key] = (made[0], _carried(partial, made[0]))
            else:
                cache.decoded.pop(site_key, None)
    t2 = time.perf_counter()
    streamed = stages.pop("streamed", 0.0)
    pages = timer.spent - (sum(stages.values()) - streamed)
    timings = {"check": t1 - t0, **stages, "pages": pages, "publish": t2 - t1 - timer.spent - streamed}
    if recalled is not None:
        told = CheckResult(None, recalled.problems)
        return BuildResult(told, published, timer.pages, timings, now, recalled=recalled)
    return BuildResult(result, published, timer.pages, timings, now)


#: Up to this many edited cards, a build makes only what they touch; past it, everything.
UPDATE_MAX = 200


def _rest(now: Survey | None, theme: str, built: dt.datetime | None) -> str | None:
    """A digest of everything a build is made from but the cards: while it stands, an
    update may make only what cards edited, added and removed touched."""
    if now is None:
        return None
    when = built.isoformat() if built else ""
    raw = f"{now.base}\0{theme}\0{when}\0{render_digest()}"
    return hashlib.blake2b(raw.encode("utf-8", "surrogatepass"), digest_size=16).hexdigest()


def _update(
    content_dir: Path,
    out: Path,
    site_key: str,
    strict: bool,
    cache: Cache,
    known: Verdict | None,
    now: Survey | None,
    rest: str | None,
) -> tuple[CheckResult, Partial, Verdict] | None:
    """When only cards were edited, added or removed since the last build of ``out`` (every
    other input as it was), what an update needs: the check of the cards it reads (see
    ``ledger.touched``), which facts' and sources' pages it makes again, and the verdict on
    the whole folder (recalled, the changed cards checked anew). None when it does not
    apply: then the build makes everything.
    """
    raw = cache.ledgers.get(site_key)
    manifest, spans = cache.sites.get(site_key), cache.pieces.get(site_key)
    if raw is None or manifest is None or spans is None or now is None or rest is None or not now.clean:
        return None
    kept = _ledger_of(cache, site_key, raw)
    if kept is None or kept.inputs != rest:
        return None
    # A card written too recently to vouch for counts as edited, and is kept so.
    change = change_of(kept, now.cards)
    if change is None or not change.edited | change.removed:
        return None
    if len(change.edited) + len(change.removed) > UPDATE_MAX:
        return None
    # Every entry of a fact it leaves alone is taken from the last build's data files.
    data_files = ("dossier.json", "search-index.js")
    for name in data_files:
        entry, where = manifest.get(name), spans.get(name, {}).get("", {})
        if entry is None or not all(k.key in where for k in kept.facts.values()):
            return None
    # First as if the edited cards' quotes stood where they stood: the sources' pages and
    # the facts quoting those sources are read only if they do not (most edits).
    first = touched(change, quotes=False)
    result = check_only(content_dir, first.cards, first.sources, strict=strict, cache=cache, listed=now.cards)
    # The verdict on the folder: the last one, with the edited cards' problems from this check.
    checked = (result, first.cards)
    verdict = recall(content_dir, strict, known, recheck=True, surveyed=now, cache=cache, checked=checked)[0]
    if verdict is None or any(p.severity is Severity.ERROR for p in verdict.problems):
        return None
    if result.content is None or not first.edited <= set(result.content.facts):
        return None
    edited = [result.content.facts[fid] for fid in first.edited]
    was = change.live.facts  # (an added fact's quotes stood nowhere)
    moved = any(f.id not in was or footprint(f, result.matches) != was[f.id].quotes for f in edited)
    # What the edited cards relate to and quote now, too.
    relates = {r.id for f in edited for r in f.related}
    quoted = {ev.source.id for f in edited for ev in f.evidence} if moved else set()
    touch = widen(change, first.edited, relates, quoted, quotes=moved)
    if not (touch.cards <= first.cards and touch.sources <= first.sources):
        result = check_only(
            content_dir, touch.cards, touch.sources, strict=strict, cache=cache, listed=now.cards
        )
    if result.content is None or result.errors:
        return None
    untouched = _untouched(change.live, touch.pages, touch.sources, manifest)
    # The pages it keeps are not looked at here: publish looks at each as it keeps it (a
    # page edited by hand then stops it, and the build makes everything; see ``build``).
    with publish.Previous(out) as old:  # a data file edited by hand: build it all
        if not all(n in manifest for n in untouched) or not all(
            old.intact(n, manifest[n]) for n in data_files
        ):
            return None
    added = tuple(sorted(change.added.values()))
    partial = Partial(change.live, touch.pages, touch.sources, raw, untouched, added, change.removed)
    cache.keep_all()  # what it did not read is still what the folder holds
    return result, partial, verdict


def _ledger_of(cache: Cache, site_key: str, raw: Record) -> Ledger | None:
    """The ledger ``raw`` holds: the one made of it before, if any (see ``Cache.decoded``)."""
    hit = cache.decoded.get(site_key)
    if hit is not None and hit[0] is raw and hit[1] is not None:
        return hit[1]  # type: ignore[no-any-return]
    made = ledger_from_record(raw)
    cache.decoded[site_key] = (raw, made)
    return made


def _carried(partial: Partial, record: Record) -> Ledger | None:
    """The ledger of an update's ``record``, from the one the update read: only what the
    update made is decoded (the rest of the record is the same objects as before)."""
    last = partial.last
    fresh = ledger_from_record(
        (
            record[0],
            {fid: r for fid, r in record[1].items() if last[1].get(fid) is not r},
            {sid: r for sid, r in record[2].items() if last[2].get(sid) is not r},
        )
    )
    if fresh is None:
        return None
    was = partial.ledger
    return Ledger(record[0], {**was.facts, **fresh.facts}, {**was.sources, **fresh.sources})


def _inputs(now: Survey | None, rest: str | None) -> str | None:
    """A digest of everything a build is made from: ``_rest`` and each card's stat; None
    when the folder could not be vouched for."""
    if now is None or rest is None or any(st is None for st in now.cards.values()):
        return None  # or a card written too recently to vouch for
    # marshal's version 0 (see ``_Pages.inputs``): a third of the time of the repr.
    raw = marshal.dumps((rest, sorted(now.cards.items())), 0)
    return hashlib.blake2b(raw, digest_size=16).hexdigest()


def _unchanged(
    out: Path, site_key: str, inputs: str, cache: Cache, verdict: Verdict | None, known: Verdict | None
) -> BuildResult | None:
    """The result of a build that has nothing to do, or None when it has."""
    manifest = cache.sites.get(site_key)
    if verdict is None or verdict is not known or manifest is None:
        return None
    if cache.built_from.get(site_key) != inputs:
        return None
    if any(p.severity is Severity.ERROR for p in verdict.problems) or not (out / publish.MARKER).is_file():
        return None
    if publish.written_by_dossier(out) != manifest.keys():
        return None  # the site is not the one the cache knows (files added by hand are kept)
    with publish.Previous(out) as old:
        if not all(old.intact(name, entry) for name, entry in manifest.items()):
            return None
    cache.remember_site(site_key, manifest, inputs, same=True)
    pages = sum(1 for name in manifest if name.endswith(".html"))
    nothing = CheckResult(None, verdict.problems)
    return BuildResult(nothing, publish.Published(0, len(manifest), manifest), pages, unchanged=verdict)


class _Timer:
    """Passes the rendered files on, counting pages and the time spent making them."""

    def __init__(self, files: Iterator[publish.File | publish.Kept]) -> None:
        self.files = files
        self.spent = 0.0
        self.pages = 0

    def __iter__(self) -> Iterator[publish.File | publish.Kept]:
        while True:
            start = time.perf_counter()
            item = next(self.files, None)
            self.spent += time.perf_counter() - start
            if item is None:
                return
            if isinstance(item, publish.Kept):
                self.pages += sum(name.endswith(".html") for name in item.names)
            else:
                self.pages += item.name.endswith(".html")
            yield item


#: The pages that list facts; each is rendered from the template of the same name.
LIST_PAGES = ("index.html", "timeline.html", "entities.html", "disputed.html", "sources.html")
#: From this much work on (a fact page is 1, a source page 4, a list page one per fact or
#: source it lists), pages are rendered in two processes; chunks of about _CHUNK each.
PARALLEL_PAGES = 2000
_CHUNK = 250


class _Pages:
    """Renders one page by its index: what a worker process needs.

    A fact or source page sees only the dossier, the build date and its own view (not the
    whole site), so what it is made from fits in a short key: a page whose key and file
    are as the previous build left them is not rendered again.
    """

    def __init__(self, site: Site, renderer: Renderer, common: dict[str, Any], theme: str) -> None:
        self.site, self.renderer, self.common = site, renderer, common
        self.page_common = {k: common[k] for k in ("dossier", "lang", "built")}
        self.base = repr((theme, self.page_common))
        self._sources: dict[str, tuple[object, ...]] = {}
        #: a fact's id -> its page's input digest: the key of its rows and entries
        self.fact_keys: dict[str, str] = {}
        #: the previous build's copy of a list page, to take unchanged rows from
        self.old: dict[str, Old] = {}
        #: an update: the facts whose rows changed, and where the rows stand in the list
        #: pages of the previous build (see ``splice``)
        self.changed: set[str] | None = None
        self.skeletons: dict[str, splice.Skeleton] = {}
        #: an update: each fact and source made anew, as the last build had its entry
        self.before: tuple[dict[str, Entry], dict[str, SourceEntry]] = ({}, {})
        self._compared: _Compared | None = None  # (the same for every list page: ``_spliced``)
        self._entries: dict[str, Entry] | None = None  # the changed facts' (``_spliced``)

    def fact_key(self, view: generators.FactView) -> str:
        return self.fact_keys[view.id]

    def name(self, kind: str, index: int) -> str:
        if kind == "list":
            return LIST_PAGES[index]
        return self.site.facts[index].href if kind == "fact" else self.site.sources[index].href

    def inputs(self, kind: str, index: int) -> str:
        """A digest of everything the page shows ("" for list pages: always rendered)."""
        if kind == "list":
            return ""
        made_of: object
        if kind == "fact":
            v = self.site.facts[index]
            made_of = (
                model.fact_record(v.fact),
                model.section_record(v.section),
                tuple(model.entity_record(e) for e in v.entities),
                # Everything the page's view holds, not only what the shipped theme shows:
                # a theme of one's own may show more of it (a related fact's date, a quote's
                # note on its source's page).
                tuple(model.fact_record(f) for f in v.related),
                tuple(self._quote(q) for q in v.quotes),
            )
        else:
            sv = self.site.sources[index]
            made_of = (
                self._source(sv.source),
                # (each quote's passage, line, page and link follow from the source and
                # where the quote stands in it)
                tuple((q.fact_id, q.index, q.spans, q.quote, q.stance, q.note) for q in sv.quotes),
            )
        # marshal's version 0: fast, and (unlike later versions, which write back-references
        # to objects seen twice) its bytes depend only on the values.
        raw = marshal.dumps((self.base, kind, made_of), 0)  # type: ignore[arg-type]
        return hashlib.blake2b(raw, digest_size=16).hexdigest()

    def _source(self, src: model.Source) -> tuple[object, ...]:
        done = self._sources.get(src.id)
        if done is None:
            done = self._sources[src.id] = model.source_record(src)
        return done

    def _quote(self, q: generators.QuoteView) -> tuple[object, ...]:
        return (
            self._source(q.source), q.quote, q.stance, q.note,
            q.spans, q.line, q.page, q.passage, q.original_href,
        )  # fmt: skip

    def weight(self, kind: str, index: int) -> int:
        """About how long the page takes to render, in fact pages (a list page an update
        may splice: a few)."""
        if kind == "list":
            if self._splices(LIST_PAGES[index]):
                return 1 + len(self.changed or ())
            # Rendered whole, a row for every fact and source (the lists': an update's site
            # holds only the pages it makes). After a card added or removed, which moves
            # every list's arrangement, the list pages (0.4 s of rendering at 10,000 cards)
            # go to two processes so.
            lists = self.common["site"]
            return len(lists.facts) + len(lists.sources)
        return 4 if kind == "source" else 1

    def one(self, kind: str, index: int) -> Page:
        if kind == "list":
            name = LIST_PAGES[index]
            spliced = self._spliced(name) if self.changed is not None else None
            if spliced is not None:
                return spliced
            asm, skeleton = self.renderer.render_rows(
                name, name, self.fact_key, self.old.get(name), **self.common
            )
            parts: list[publish.Part] = [*asm.done()]
            return name, parts, asm.spans, skeleton
        if kind == "fact":
            view = self.site.facts[index]
            review = data.claim_review(self.site, view, self.renderer.claims)
            html = self.renderer.render(
                "fact.html", view.href, view=view, claim_review=review, **self.page_common
            )
            return view.href, html, None, None
        sv = self.site.sources[index]
        return sv.href, self.renderer.render("source.html", sv.href, sv=sv, **self.page_common), None, None

    def _splices(self, name: str) -> bool:
        """Is list page ``name`` to be spliced: an update's, its layout as it was (see
        ``splice``)?"""
        skeleton, old = self.skeletons.get(name), self.old.get(name)
        if skeleton is None or old is None or old.size != skeleton.size or self.changed is None:
            return False
        if self._compared is None:  # (the same for every list page)
            self._compared = _compared(self.common["site"], *self.before)
        return splice.same_layout(skeleton, *self._compared)

    def _spliced(self, name: str) -> Page | None:
        """A list page as the previous build wrote it, the changed facts' rows made anew,
        when its layout is as it was (see ``splice``); else None."""
        if not self._splices(name):
            return None
        skeleton, old, lists = self.skeletons[name], self.old[name], self.common["site"]
        assert self.changed is not None
        if self._entries is None:  # (the same for every list page)
            self._entries = {e.id: e for e in lists.facts if e.id in self.changed}
        entries = self._entries
        make_row = self.renderer.row_maker(name, self.common)
        parts, new, same = splice.splice(
            skeleton,
            lambda at, n: read_at(old.fd, at, n),
            self.changed,
            lambda kind, fid: make_row(kind, entries[fid]),
            lambda at, n: publish.Stretch(old.fd, at, n),
        )
        # Its spans are not made (10,000 rows a page): the next build that needs them makes
        # them from the skeleton and the ledger's keys (see ``Pieces.old_key``). The same
        # bytes as before: the old file is kept (None), not written again.
        return name, None if same else parts, None, new

    def fact_key_of(self, fid: str) -> str:
        return self.fact_keys[fid]

    def chunk(self, items: list[tuple[str, int]]) -> list[Page]:
        return [self.one(kind, index) for kind, index in items]


#: From this many pages, a forked process makes half of their input digests meanwhile.
PARALLEL_DIGESTS = 4000


def _digests(maker: _Pages, items: list[tuple[str, int]]) -> list[str]:
    """``maker.inputs`` of each item, in order: with many, every other one made by a forked
    process while this one makes the rest (the cores are otherwise one busy, one idle)."""
    if len(items) < PARALLEL_DIGESTS or not parallel.usable():
        return [maker.inputs(*item) for item in items]
    ours, theirs = items[::2], items[1::2]
    with parallel.ahead(lambda: [maker.inputs(*item) for item in theirs]) as pending:
        made = [maker.inputs(*item) for item in ours]
        got = pending.take() if pending is not None else None
    if not isinstance(got, list) or len(got) != len(theirs):  # (the child failed): made here
        got = [maker.inputs(*item) for item in theirs]
    out = [""] * len(items)
    out[::2], out[1::2] = made, got
    return out


#: What an update compares a list page's skeleton with (``splice.same_layout``).
_Compared = tuple[bytes, dict[str, tuple[Entry, Entry]], dict[str, tuple[SourceEntry, SourceEntry]]]


def _compared(lists: generators.Lists, facts: dict[str, Entry], sources: dict[str, SourceEntry]) -> _Compared:
    """The lists' arrangement, and each fact and source made anew as (the last build's
    entry, the one now)."""
    now = {e.id: e for e in lists.facts if e.id in facts}
    now_sources = {e.id: e for e in lists.sources if e.id in sources}
    return (
        splice.arrangement(lists),
        {fid: (was, now[fid]) for fid, was in facts.items()},
        {sid: (was, now_sources[sid]) for sid, was in sources.items()},
    )


#: A page rendered: its name, its bytes (or parts; None: the previous build's copy is it,
#: as it is), and where its pieces stand and its skeleton (list pages).
Page = tuple[str, bytes | list[publish.Part] | None, Spans | None, "splice.Skeleton | None"]


def _render_many(maker: _Pages, items: list[tuple[str, int]]) -> Iterator[Page]:
    """The pages in order; with many of them, rendered by two forked processes (which
    inherit the site and the compiled templates) while this one writes them out."""
    weights = [maker.weight(kind, index) for kind, index in items]
    if sum(weights) < PARALLEL_PAGES or not parallel.usable():
        for kind, index in items:
            yield maker.one(kind, index)
        return
    chunks: list[list[tuple[str, int]]] = [[]]
    load = 0
    for item, w in zip(items, weights, strict=True):
        if load and load + w > _CHUNK:
            chunks.append([])
            load = 0
        chunks[-1].append(item)
        load += w
    # Each child writes a chunk down its pipe and waits there until it is read: pages do not
    # pile up ahead of writing them (the slower side), and each child renders its next
    # chunk while this process writes the other's.
    for pages in parallel.each_in_two(maker.chunk, chunks):
        yield from pages


@dataclass(slots=True)
class Pieces:
    """Where the pieces of the previous build's assembled files stand, and its list pages'
    skeletons; and this build's, as they are made."""

    old: dict[str, Spans] = field(default_factory=dict)
    new: dict[str, Spans] = field(default_factory=dict)
    old_skeletons: dict[str, splice.Skeleton] = field(default_factory=dict)
    new_skeletons: dict[str, splice.Skeleton] = field(default_factory=dict)
    #: a fact's page key in the previous build (from its ledger), for the spans of a list
    #: page it spliced, which are not kept: they are its skeleton's rows under these keys
    old_key: Callable[[str], str] | None = None

    def old_spans(self, name: str) -> Mapping[str, Mapping[str, int]] | None:
        """Where the previous build's pieces of ``name`` stand (None: nowhere known)."""
        spans = self.old.get(name)
        if spans:
            return spans
        skeleton, key = self.old_skeletons.get(name), self.old_key
        if name not in LIST_PAGES or skeleton is None or key is None:
            return None
        return Derived(lambda: _spans_of(skeleton, key))


def _spans_of(skeleton: splice.Skeleton, key: Callable[[str], str]) -> Spans:
    try:
        return skeleton.spans(key)
    except (KeyError, IndexError, TypeError):  # a ledger that does not fit: no pieces to take
        return {}


def _key_of(raw: Any, *, keep: bool) -> Callable[[str], str] | None:
    """A fact's page key in a stored ledger (None: not a ledger). ``keep``: the caller keeps
    the ledger anyway; else only the keys are kept (a full build lets the rest go: 10,000
    facts' records, 15 MB)."""
    facts = raw[1] if isinstance(raw, tuple) and len(raw) == 3 else None
    if not isinstance(facts, dict):
        return None
    if not keep:
        try:
            keys = {fid: str(rec[2]) for fid, rec in facts.items()}
        except (TypeError, IndexError, KeyError):
            return None
        return keys.__getitem__
    return lambda fid: str(facts[fid][2])


@dataclass(frozen=True, slots=True)
class Partial:
    """An update's share of the site (see ``ledger``): the result checks only the facts
    and sources it names, and every other fact and source is as ``ledger`` keeps it."""

    ledger: Ledger  # the last build's, without the facts removed
    pages: set[str]  # facts whose pages are made again (those added too)
    sources: set[str]  # sources whose pages are made again
    last: Record  # the ledger as stored
    untouched: list[str]  # the previous build's files it keeps as they are (``_untouched``)
    added: tuple[str, ...] = ()  # ids of the facts added
    removed: set[str] = field(default_factory=set)  # ids of the facts removed


def render_files(
    result: CheckResult,
    content_dir: Path,
    built: dt.datetime | None = None,
    out: Path | None = None,
    before: publish.Manifest | None = None,
    cache: Cache | None = None,
    stages: dict[str, float] | None = None,
    theme: str | None = None,
    pieces: Pieces | None = None,
    partial: Partial | None = None,
    ledger: tuple[str, Mapping[str, object], list[Record]] | None = None,
) -> Generator[publish.File | publish.Kept, None, None]:
    """Every file of the site, one at a time. ``built`` (SOURCE_DATE_EPOCH) is the only clock.

    With the previous build's manifest, a fact or source page whose inputs are unchanged
    (and whose file in ``out`` is intact) is passed on as "keep" without rendering.
    ``stages`` gets the seconds spent generating page data, rendering claims, making the
    pages' input digests and encoding dossier.json and the search index. ``theme`` is
    ``theme_digest`` of the theme, when the caller has it.

    ``pieces``: where the pieces of the previous build's list pages and data files stand
    (and its list pages' skeletons), getting this build's: a fact's rows and entries are
    then taken from the previous files where its page's inputs are unchanged. ``partial``:
    an update (the pages it does not name are kept as they are; a list page whose layout
    is unchanged is spliced). ``ledger``: (the digest of what the build
    is made from but the cards, each card's stat, a list that gets this build's ledger).
    """
    with publish.Previous(out) as old:
        yield from _files(
            result,
            content_dir,
            built,
            before or {},
            cache,
            stages,
            theme,
            old,
            pieces or Pieces(),
            partial,
            ledger,
        )


def _files(
    result: CheckResult,
    content_dir: Path,
    built: dt.datetime | None,
    previous: publish.Manifest,
    cache: Cache | None,
    stages: dict[str, float] | None,
    theme: str | None,
    old: publish.Previous,
    pieces: Pieces,
    partial: Partial | None,
    ledger: tuple[str, Mapping[str, object], list[Record]] | None,
) -> Iterator[publish.File | publish.Kept]:
    spent = {} if stages is None else stages
    clock = time.perf_counter()
    if cache is not None and partial is None:  # a full build: the build part is written
        cache.build_cheap = None

    def lap(stage: str) -> None:
        nonlocal clock
        now = time.perf_counter()
        spent[stage] = spent.get(stage, 0.0) + now - clock
        clock = now

    # Making the site's data and the pages' keys makes ~10^5 objects and no cycles: with the
    # collector paused (it would rescan the heap as it grows: 0.3 s of 0.9 at 10,000 cards),
    # and frozen after, as the checked content is (they live as long as the build).
    with collector_paused(freeze=True):
        known_placements = cache.placements if cache is not None else None
        site = generators.generate(result, known_placements, partial.pages if partial else None)
        if cache is not None and partial is not None:  # it places only its quotes: the rest stand
            placed_anew = 0
            for k, placed in site.placements.items():
                placed_anew += k not in cache.placements
                cache.placements[k] = placed
            if cache.build_cheap is not None:
                cache.build_cheap += placed_anew
        elif cache is not None:
            cache.placements = Shards(site.placements.items())
        views = {v.id: v for v in site.facts}
        if partial is None:
            lists = site.lists
        else:
            kept = partial.ledger
            shown = {sv.source.id: sv for sv in site.sources}
            lists = generators.make_lists(
                site.content.dossier,
                site.content.entities,
                [
                    *(
                        Entry.of(views[fid]) if fid in partial.pages else k.entry
                        for fid, k in kept.facts.items()
                    ),
                    *(Entry.of(views[fid]) for fid in partial.added),
                ],
                [
                    SourceEntry.of(shown[sid]) if sid in partial.sources else entry
                    for sid, entry in kept.sources.items()
                ],
            )
        dirs = theme_dirs(content_dir)
        # Claims rendered by another version of markdown-it-py are rendered again.
        claims = cache.claims.get(markdown_it_version()) if cache is not None else None
        compiled = None
        if cache is not None:  # templates compiled by another Jinja are compiled again
            compiled = cache.templates.get(render_digest(), {})
            cache.templates = {render_digest(): compiled}
        renderer = Renderer(dirs, claims, compiled)
        if partial is None:
            renderer.compile_all()
        lap("generate")
        renderer.claims.prime([v.fact.claim for v in site.facts])
        lap("claims")
        content = site.content
        dossier = content.dossier
        common = {
            "dossier": dossier,
            "site": lists,
            "lang": "en",
            "quote_count": lists.quotes,
            "built": built,
        }
        pages: list[str] = []

        def page(path: str, template: str, absolute: str | None = None, **extra: object) -> publish.File:
            pages.append(path)
            return publish.File(path, renderer.render(template, path, absolute=absolute, **common, **extra))

        # A page's key holds the code that renders it, too: a new markdown-it-py renders again.
        maker = _Pages(site, renderer, common, f"{theme or theme_digest(dirs)}:{render_digest()}")
        fact_items = [
            ("fact", i) for i, v in enumerate(site.facts) if partial is None or v.id in partial.pages
        ]
        source_items = [
            ("source", i)
            for i, sv in enumerate(site.sources)
            if partial is None or sv.source.id in partial.sources
        ]
        items = [("list", i) for i in range(len(LIST_PAGES))] + fact_items + source_items
        keys = dict(zip(items, _digests(maker, items), strict=True))
        if partial is not None:
            maker.fact_keys = {fid: k.key for fid, k in partial.ledger.facts.items()}
        maker.fact_keys.update((site.facts[i].id, keys[("fact", i)]) for _, i in fact_items)
        if partial is not None:
            was = partial.ledger.facts
            maker.changed = {
                fid for fid in partial.pages if fid not in was or maker.fact_keys[fid] != was[fid].key
            }
            maker.skeletons = pieces.old_skeletons
            maker.before = (
                {fid: was[fid].entry for fid in partial.pages if fid in was},
                {sid: partial.ledger.sources[sid] for sid in partial.sources},
            )
        new_spans = pieces.new

        def old_copy(name: str, whole: bool = False) -> Old | None:
            """The previous build's file, when it has pieces to take (or ``whole``: to be
            spliced, pieces or not)."""
            entry, spans = previous.get(name), pieces.old_spans(name)
            opened = old.open(name, entry) if entry is not None and (spans or whole) else None
            return None if opened is None else Old(*opened, spans or {})

        spliceable = maker.skeletons if maker.changed is not None else {}
        maker.old = {name: o for name in LIST_PAGES if (o := old_copy(name, name in spliceable)) is not None}
        lap("digests")
    # A host serves 404.html at any depth, where relative links would break: with a
    # base_url its links are absolute.
    yield page("404.html", "404.html", absolute=dossier.base_url)
    if partial is not None:  # the pages of the facts and sources it left alone, as they are
        pages.extend(name for name in partial.untouched if name.endswith(".html"))
        yield publish.Kept(partial.untouched)  # vouched for by _update (and publish)
    todo = []
    for item in items:
        name, key = maker.name(*item), keys[item]
        entry = previous.get(name)
        if key and entry is not None and entry[4] == key and old.intact(name, entry):
            pages.append(name)
            yield publish.File(name, None, key)
        else:
            todo.append(item)
    for item, (path, html, spans, skeleton) in zip(todo, _render_many(maker, todo), strict=True):
        pages.append(path)
        if spans is not None:
            new_spans[path] = spans
        if skeleton is not None:
            pieces.new_skeletons[path] = skeleton
        yield publish.File(path, html, keys[item])
    for sv in site.sources:
        if sv.file_href and sv.source.path is not None and partial is None:  # the PDF, for #page= links
            yield publish.File(sv.file_href, sv.source.path.read_bytes())
    for name in STATIC_FILES:
        yield publish.File(name, _theme_file(dirs, name))
    # The data files are made as they are written (the collector paused: no cycles), so
    # that dossier.json (20 MB at 10,000 cards) is never in memory whole.
    key_of = maker.fact_keys.__getitem__

    def before(name: str) -> data.Before:
        return data.Before(old_copy(name), pieces.old_skeletons.get(name), maker.changed)

    # (An update's are spliced as they are asked for, the time counted here: None is the
    # previous build's copy, kept.)
    clock = time.perf_counter()
    with collector_paused():  # (no cycles, as ``_timed`` makes its parts)
        index, made = data.search_index(lists, views, renderer.claims, key_of, before("search-index.js"))
    new_spans["search-index.js"] = made.spans
    lap("data")
    yield publish.File("search-index.js", None if index is None else _timed(index, spent, "data"))
    if made.skeleton is not None:  # (publish wrote it whole before asking for the next file)
        pieces.new_skeletons["search-index.js"] = made.skeleton
    clock = time.perf_counter()
    with collector_paused():
        doc, made = data.dossier_json(dossier, lists, views, built, key_of, before("dossier.json"))
    new_spans["dossier.json"] = made.spans
    lap("data")
    yield publish.File("dossier.json", None if doc is None else _timed(doc, spent, "data"))
    if made.skeleton is not None:
        pieces.new_skeletons["dossier.json"] = made.skeleton
    if dossier.base_url:
        listed = sorted(p for p in pages if p != "404.html")
        yield publish.File("sitemap.xml", data.sitemap(dossier.base_url, listed, built))
    if cache is None:
        return
    used = renderer.claims.used
    cache.claims = {markdown_it_version(): {**(claims or {}), **used} if partial else used}
    # Updates that made only a few claims and placements anew let the cache leave its
    # build part as stored (``cache.dump_parts``). (A template compiled by an update would
    # be compiled again by the next run: Jinja checks each against its source.)
    if partial is not None and cache.build_cheap is not None:
        known_claims = claims or {}
        cache.build_cheap += sum(1 for text in used if text not in known_claims)
    if ledger is None:
        return
    inputs, cards, made_ledger = ledger
    entries = {e.id: e for e in lists.facts}
    sources = {e.id: e for e in lists.sources}
    made_ledger.append(
        record_of(
            inputs,
            [(site.facts[i], entries[site.facts[i].id], keys[("fact", i)]) for _, i in fact_items],
            [sources[site.sources[i].source.id] for _, i in source_items],
            cards,
            partial.last if partial is not None else None,
            partial.removed if partial is not None else None,
        )
    )


def _timed(parts: Iterator[publish.Part], spent: dict[str, float], stage: str) -> Iterator[publish.Part]:
    """The parts, the time spent making them added to ``spent[stage]`` (not the time
    spent writing them) and to ``spent["streamed"]`` (spent while publishing, not while
    the build waited for the next file), made with the cycle collector paused."""
    while True:
        start = time.perf_counter()
        with collector_paused():
            part = next(parts, None)
        took = time.perf_counter() - start
        spent[stage] = spent.get(stage, 0.0) + took
        spent["streamed"] = spent.get("streamed", 0.0) + took
        if part is None:
            return
        yield part


def _untouched(
    kept: Ledger, pages: set[str], sources_made: set[str], previous: publish.Manifest
) -> list[str]:
    """The files of the previous build an update leaves as they are: the pages of the facts
    and sources it does not make again, and the source files copied into the site."""
    facts = {generators.fact_path(fid) for fid in kept.facts if fid not in pages}
    sources = {generators.source_path(sid) for sid in kept.sources if sid not in sources_made}
    copied = {n for n in previous if n.startswith("sources/") and not n.endswith(".html")}
    return sorted(facts | sources | copied)


@functools.cache
def render_digest() -> str:
    """dossier's code, and the versions of the libraries that make pages (MarkupSafe's from
    its metadata: its ``__version__`` is deprecated)."""
    libs = [
        f"markdown_it {markdown_it_version()}",
        f"jinja2 {jinja2.__version__}",
        f"markupsafe {library_version('markupsafe', 'markupsafe', '[Mm]ark[Uu]p[Ss]afe')}",
    ]
    return " ".join([code_digest(), *libs])


@functools.cache
def markdown_it_version() -> str:
    """markdown-it-py's version, without importing it (a build that renders no Markdown
    does not: see ``render.Markdown``)."""
    return library_version("markdown_it", "markdown-it-py", "[Mm]arkdown[_-][Ii]t[_-][Pp]y")


def theme_digest(dirs: list[Path]) -> str:
    """A digest of every file of the theme, overrides first: any change re-renders all."""
    h = hashlib.blake2b(digest_size=16)
    for d in dirs:
        for name, path in _theme_files(d):
            h.update(name.encode("utf-8", "surrogateescape") + b"\0")
            h.update(path.read_bytes())
        h.update(b"\1")
    return h.hexdigest()


def _theme_files(folder: Path) -> list[tuple[str, Path]]:
    """Every file below ``folder`` by its path relative to it, in order, through linked
    folders too (Jinja's loader reads templates through them); a folder met again (a link
    that loops) is not entered twice."""
    found: list[tuple[str, Path]] = []
    seen: set[tuple[int, int]] = set()
    for dirpath, dirnames, filenames in os.walk(folder, followlinks=True):
        st = os.stat(dirpath)
        if (st.st_dev, st.st_ino) in seen:
            dirnames.clear()
            continue
        seen.add((st.st_dev, st.st_ino))
        rel = os.path.relpath(dirpath, folder)
        prefix = "" if rel == "." else rel.replace(os.sep, "/") + "/"
        for name in filenames:
            path = Path(dirpath, name)
            if path.is_file():
                found.append((prefix + name, path))
    return sorted(found)


def _theme_file(dirs: list[Path], name: str) -> bytes:
    for d in dirs:
        path = d / name
        if path.is_file():
            return path.read_bytes()
    raise FileNotFoundError(f"the theme has no {name}")
