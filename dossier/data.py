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
import json
from collections.abc import Callable, Iterator, Mapping
from html import escape

from . import generators
from .generators import Lists, Site
from .model import Dossier
from .pieces import Assembly, Old, Spans
from .publish import PublishError
from .render import ClaimText

# Encoders made once: json.dumps with options builds a new one per call, which costs as
# much as the encoding. Compact: the C encoder only runs without indent.
_compact = json.JSONEncoder(ensure_ascii=False, sort_keys=True, separators=(",", ":")).encode
_spaced = json.JSONEncoder(ensure_ascii=False, sort_keys=True).encode


#: A fact's key by its id (what its entry is made from): build gives its page's input digest.
KeyOf = Callable[[str], str]
#: Facts' views by id: every fact's, or (in an update) those of the facts whose entries
#: are made again; the others' entries must then be in the old file.
Views = Mapping[str, generators.FactView]


#: A file made as it is written (see ``publish.File``), and where its pieces stand (filled
#: as it is made).
Stream = tuple[Iterator[bytes], Spans]


def _streamed(
    asm: Assembly, head: bytes, tail: Callable[[], bytes], entries: Iterator[None]
) -> Iterator[bytes]:
    asm.text(head)
    for _ in entries:
        if asm.parts:
            yield from asm.ready()
    asm.text(tail())
    yield from asm.done()


def _entries(
    asm: Assembly,
    lists: Lists,
    views: Views,
    sep: bytes,
    key: KeyOf,
    make: Callable[[generators.FactView], str],
) -> Iterator[None]:
    for i, e in enumerate(lists.facts):
        if i:
            asm.text(sep)
        asm.piece(key(e.id), functools.partial(_encoded, make, views, e.id))
        yield


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
    old: Old | None = None,
) -> Stream:
    """Everything, machine-readable: ``{"built", "dossier", "entities", "facts", "sources"}``;
    a fact's entry is taken from ``old`` (the previous build's file) when its ``key`` is
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
    asm = Assembly(old)
    entries = _entries(asm, lists, views, b",", key or _own_key, lambda v: _compact(fact_entry(v)))
    tail = lambda: "".join(['],"sources":', _compact(sources), "}\n"]).encode()  # noqa: E731
    return _streamed(asm, head_part.encode(), tail, entries), asm.spans


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
    lists: Lists, views: Views, claims: ClaimText, key: KeyOf | None = None, old: Old | None = None
) -> Stream:
    """A script that sets ``window.DOSSIER_INDEX`` (a script, not JSON: it works from
    file://); entries taken from ``old`` as in ``dossier_json``."""
    asm = Assembly(old)
    made: Callable[[generators.FactView], str] = lambda v: _script_safe(_spaced(search_entry(v, claims)))  # noqa: E731
    entries = _entries(asm, lists, views, b", ", key or _own_key, made)
    return _streamed(asm, b"window.DOSSIER_INDEX = [", lambda: b"];\n", entries), asm.spans


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
