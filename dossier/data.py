"""The site's machine-readable files: ``dossier.json``, the search index, the sitemap,
and each fact page's ClaimReview.

``dossier.json`` and the search index hold one entry per fact, each encoded on its own
(the files are the same bytes as one ``json.dumps`` of the whole would give, without
ever holding the whole as Python objects), each a piece that the next build may take
from this build's file (see ``pieces``).
"""

from __future__ import annotations

import datetime as dt
import functools
import hashlib
import json
import marshal
from collections.abc import Callable, Generator, Iterator, Mapping
from dataclasses import dataclass, field
from html import escape

from . import generators, parallel
from .generators import Lists, Site
from .model import Dossier
from .pieces import Assembly, Old, Spans, pack, read_at
from .publish import Part, PublishError, Stretch
from .render import ClaimText
from .splice import Kind, Recorder, Skeleton, splice

# Encoders made once: json.dumps with options builds a new one per call, which costs as
# much as the encoding. Compact: the C encoder only runs without indent.
_compact = json.JSONEncoder(ensure_ascii=False, sort_keys=True, separators=(",", ":")).encode
_spaced = json.JSONEncoder(ensure_ascii=False, sort_keys=True).encode


#: A fact's key by its id (what its entry is made from): build gives its page's input digest.
KeyOf = Callable[[str], str]
#: Facts' views by id: every fact's, or (in an update) those of the facts whose entries
#: are made again; the others' entries must then be in the old file.
Views = Mapping[str, generators.FactView]


@dataclass(slots=True)
class Made:
    """Where a data file's pieces stand, filled as it is made (``spans``, in place), and
    its skeleton (set once it is all made: see ``splice``)."""

    spans: Spans = field(default_factory=dict)
    skeleton: Skeleton | None = None


@dataclass(frozen=True, slots=True)
class Before:
    """The previous build's copy of a data file: open (``old``), where its entries stand
    (``skeleton``), and in an update the facts whose entries changed (else None)."""

    old: Old | None = None
    skeleton: Skeleton | None = None
    changed: set[str] | None = None


#: A file made as it is written (see ``publish.File``; None: the previous build's copy is
#: it, byte for byte), and what is made of it.
Stream = tuple[Iterator[Part] | None, Made]


def _streamed(
    head: bytes,
    tail: bytes,
    lists: Lists,
    views: Views,
    sep: bytes,
    key: KeyOf,
    make: Callable[[generators.FactView], str],
    before: Before,
    made: Made,
) -> Iterator[Part] | None:
    """The file: ``head``, every fact's entry (``sep`` between them), ``tail``. In an
    update whose file is laid out as before (the same head and tail, the facts in the same
    order), the previous copy with the changed entries put in anew, spliced at once (None
    when that leaves it as it was); else assembled as it is written, each entry taken from
    the previous copy where its key is found there."""
    ids = tuple(e.id for e in lists.facts)
    layout = hashlib.blake2b(marshal.dumps((head, tail, sep, ids)), digest_size=16).digest()
    old, previous = before.old, before.skeleton
    entry = functools.partial(_entry_of, make, views)
    if (
        old is not None
        and previous is not None
        and before.changed is not None
        and (previous.layout, previous.size) == (layout, old.size)  # (the layout holds the ids)
    ):
        parts, new, same = splice(
            previous,
            lambda at, n: read_at(old.fd, at, n),
            before.changed,
            entry,
            lambda at, n: Stretch(old.fd, at, n),
        )
        made.spans[""] = dict(zip(map(key, ids), map(pack, new.offsets, new.lengths), strict=True))
        made.skeleton = new
        return None if same else iter(parts)
    return _assembled(head, tail, sep, ids, layout, key, make, views, before, made)


def _assembled(
    head: bytes,
    tail: bytes,
    sep: bytes,
    ids: tuple[str, ...],
    layout: bytes,
    key: KeyOf,
    make: Callable[[generators.FactView], str],
    views: Views,
    before: Before,
    made: Made,
) -> Iterator[bytes]:
    """``_streamed``'s file put together as it is written."""
    old = before.old
    asm = Assembly(old)
    rows = Recorder()
    ahead = _Ahead(ids, key, (old.spans.get("") or {}) if old is not None else {}, make, views)
    try:
        asm.text(head)
        for i, fid in enumerate(ids):
            if i:
                asm.text(sep)
            start = asm.size
            asm.piece(key(fid), functools.partial(ahead.entry, fid))
            rows.row("", (), fid, start, asm.size - start)
            if asm.parts:
                yield from asm.ready()
    finally:
        ahead.close()
    asm.text(tail)
    yield from asm.done()
    made.spans.update(asm.spans)
    made.skeleton = rows.made(layout, asm.size)


#: From this many entries to make, they are made in runs, every other run by a forked
#: process while this one makes the next (and writes what is made).
PARALLEL_ENTRIES = 3000
ENTRY_RUNS = 16


class _Ahead:
    """The entries of the facts of ``ids`` whose keys the old file does not hold (``known``:
    its spans), made in order ahead of when they are asked for: with many, in runs shared
    with a forked process (``parallel.each_shared``), a run or two held at a time. An
    entry asked for that is not next (the old file held it, but not as a piece to take)
    is made there and then (and where the process could not be forked, or died, the
    rest of its runs are made here: see ``each_shared``)."""

    def __init__(
        self,
        ids: tuple[str, ...],
        key: KeyOf,
        known: Mapping[str, int],
        make: Callable[[generators.FactView], str],
        views: Views,
    ) -> None:
        self.make, self.views = make, views
        self._todo: list[str] = []
        self._runs: Generator[list[bytes], None, None] | None = None
        self._made: list[bytes] = []
        self._next = 0  # (the next of ``_todo`` to give, and where it is in ``_made``)
        self._at = 0
        if len(ids) < PARALLEL_ENTRIES or not parallel.usable():
            return  # (an update's few: not even looked for)
        todo = [fid for fid in ids if key(fid) not in known]
        if len(todo) >= PARALLEL_ENTRIES:
            self._todo = todo
            self._runs = parallel.each_shared(self._run, parallel.ranges(len(todo), ENTRY_RUNS))

    def _run(self, which: range) -> list[bytes]:
        return [_encoded(self.make, self.views, self._todo[i]) for i in which]

    def entry(self, fid: str) -> bytes:
        if self._runs is None or self._next >= len(self._todo) or self._todo[self._next] != fid:
            return _encoded(self.make, self.views, fid)
        if self._at >= len(self._made):
            self._made, self._at = next(self._runs), 0  # (made here where the child cannot)
        self._next += 1
        self._at += 1
        return self._made[self._at - 1]

    def close(self) -> None:
        """Stop the forked process, if it is still making runs no one will ask for; every
        entry asked for after is made here."""
        if self._runs is not None:
            self._runs.close()
            self._runs = None


def _entry_of(make: Callable[[generators.FactView], str], views: Views, kind: Kind, fid: str) -> bytes:
    return _encoded(make, views, fid)


def _encoded(make: Callable[[generators.FactView], str], views: Views, fid: str) -> bytes:
    view = views.get(fid)
    if view is None:  # an update keeps this entry: the old file no longer holds it
        raise PublishError("a data file of the previous build changed during the build; build again")
    return make(view).encode()


def _own_key(fid: str) -> str:
    return fid


def dossier_json(
    dossier: Dossier,
    lists: Lists,
    views: Views,
    built: dt.datetime | None,
    key: KeyOf | None = None,
    before: Before | None = None,
) -> Stream:
    """Everything, machine-readable: ``{"built", "dossier", "entities", "facts", "sources"}``;
    a fact's entry is taken from ``before`` (the previous build's file) when its ``key`` is
    found there."""
    d = dossier
    head = {
        "title": d.title,
        "subtitle": d.subtitle,
        "summary": d.summary,
        "authors": list(d.authors),
        "updated": d.updated.isoformat() if d.updated else None,
        "base_url": d.base_url,
        "sections": [{"id": s.id, "title": s.title, "intro": s.intro} for s in d.sections],
        "quotes": {
            "max_omission": d.quotes.max_omission,
            "max_substitution": d.quotes.max_substitution,
            "min_words": d.quotes.min_words,
        },
    }
    entities = [
        {
            "id": ev.entity.id,
            "name": ev.entity.name,
            "kind": ev.entity.kind,
            "description": ev.entity.description,
            "aliases": list(ev.entity.aliases),
            "facts": [v.id for v in ev.facts],
        }
        for ev in lists.entities
    ]
    sources = [
        {
            "id": s.id,
            "page": s.href,
            "title": s.title,
            "publisher": s.publisher,
            "author": s.author,
            "url": s.url,
            "published": s.published,
            "retrieved": s.retrieved,
            "language": s.language,
            "notes": s.notes,
            "kind": s.kind,
            "file": s.file,
            "sha256": s.sha256,
            "cited_share": round(s.cited_share, 4),
        }
        for s in lists.sources
    ]
    head_part = "".join([
        '{"built":', _compact(built.isoformat() if built else None),
        ',"dossier":', _compact(head),
        ',"entities":', _compact(entities),
        ',"facts":[',
    ])  # fmt: skip
    tail = "".join(['],"sources":', _compact(sources), "}\n"]).encode()
    made = Made()
    make: Callable[[generators.FactView], str] = lambda v: _compact(fact_entry(v))  # noqa: E731
    stream = _streamed(
        head_part.encode(), tail, lists, views, b",", key or _own_key, make, before or Before(), made
    )
    return stream, made


def fact_entry(v: generators.FactView) -> dict[str, object]:
    return {
        "id": v.id,
        "page": v.href,
        "claim": v.fact.claim,
        "status": v.fact.status,
        "date": v.fact.date.iso() if v.fact.date else None,
        "section": v.fact.section.id if v.fact.section else None,
        "entities": [r.id for r in v.fact.entities],
        "tags": list(v.fact.tags),
        "related": [r.id for r in v.fact.related],
        "notes": v.fact.notes,
        "evidence": [
            {
                "source": q.source.id,
                "quote": q.quote,
                "stance": q.stance,
                "note": q.note,
                "anchor": q.source_href,
                "line": q.line,
                "start": q.start,
                "end": q.end,
                "spans": [list(s) for s in q.spans],
                "passage": q.passage,
                "pdf_page": q.page,
                "original": q.original_href,
            }
            for q in v.quotes
        ],
    }


def search_entry(v: generators.FactView, claims: ClaimText) -> dict[str, object]:
    return {
        "id": v.id,
        "href": v.href,
        "claim": claims.plain(v.fact.claim),
        "status": v.fact.status,
        "text": " ".join([*(q.quote for q in v.quotes), *v.fact.tags, *(e.name for e in v.entities)]),
    }


def search_index(
    lists: Lists, views: Views, claims: ClaimText, key: KeyOf | None = None, before: Before | None = None
) -> Stream:
    """A script that sets ``window.DOSSIER_INDEX`` (a script, not JSON: it works from
    file://); entries taken from ``before`` as in ``dossier_json``."""
    made = Made()
    make: Callable[[generators.FactView], str] = lambda v: _script_safe(_spaced(search_entry(v, claims)))  # noqa: E731
    stream = _streamed(
        b"window.DOSSIER_INDEX = [",
        b"];\n",
        lists,
        views,
        b", ",
        key or _own_key,
        make,
        before or Before(),
        made,
    )
    return stream, made


def _script_safe(text: str) -> str:
    return text.replace("<", "\\u003c").replace("\u2028", "\\u2028").replace("\u2029", "\\u2029")


def claim_review(site: Site, view: generators.FactView, claims: ClaimText) -> dict[str, object]:
    dossier = site.content.dossier
    review: dict[str, object] = {
        "@context": "https://schema.org",
        "@type": "ClaimReview",
        "claimReviewed": claims.plain(view.fact.claim),
        "reviewRating": {"@type": "Rating", "alternateName": view.status_label},
        "itemReviewed": {
            "@type": "Claim",
            "appearance": [
                {
                    "@type": "CreativeWork",
                    "name": q.source.title,
                    **({"url": q.source.url} if q.source.url else {}),
                }
                for q in view.quotes
            ],
        },
    }
    if dossier.authors:
        review["author"] = [{"@type": "Person", "name": a} for a in dossier.authors]
    if dossier.updated:
        review["datePublished"] = dossier.updated.isoformat()
    if dossier.base_url:
        review["url"] = f"{dossier.base_url.rstrip('/')}/{view.href}"
    return review


def sitemap(base_url: str, pages: list[str], built: dt.datetime | None = None) -> bytes:
    base = base_url.rstrip("/")
    lines = [
        '<?xml version="1.0" encoding="UTF-8"?>',
        '<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">',
    ]
    lastmod = f"<lastmod>{built.date().isoformat()}</lastmod>" if built else ""
    # (XML's three: html's escape without quotes; xml.sax.saxutils costs an import of
    # urllib.request, http.client and ssl)
    lines += [f"  <url><loc>{escape(f'{base}/{p}', quote=False)}</loc>{lastmod}</url>" for p in pages]
    lines.append("</urlset>")
    return ("\n".join(lines) + "\n").encode()
