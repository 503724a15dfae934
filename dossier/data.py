"""The site's machine-readable files: ``dossier.json``, the search index, the sitemap,
and each fact page's ClaimReview.

``dossier.json`` and the search index hold one entry per fact, each encoded on its own
(the files are the same bytes as one ``json.dumps`` of the whole would give, without
ever holding the whole as Python objects).
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterable
from xml.sax.saxutils import escape

from . import generators
from .generators import Site
from .render import ClaimText

# Encoders made once: json.dumps with options builds a new one per call, which costs as
# much as the encoding. Compact: the C encoder only runs without indent.
_compact = json.JSONEncoder(ensure_ascii=False, sort_keys=True, separators=(",", ":")).encode
_spaced = json.JSONEncoder(ensure_ascii=False, sort_keys=True).encode


def _joined(pieces: Iterable[bytes], sep: bytes, size: int = 1 << 20) -> list[bytes]:
    """``sep.join(pieces)`` in chunks of about ``size`` bytes: the pieces are let go as
    they are joined, and the whole is never copied into one more object."""
    out: list[bytes] = []
    buf: list[bytes] = []
    n = 0
    for i, piece in enumerate(pieces):
        if i:
            buf.append(sep)
        buf.append(piece)
        n += len(piece)
        if n >= size:
            out.append(b"".join(buf))
            buf, n = [], 0
    out.append(b"".join(buf))
    return out


def dossier_json(site: Site, built: dt.datetime | None) -> list[bytes]:
    """Everything, machine-readable: ``{"built", "dossier", "entities", "facts", "sources"}``,
    in parts (see ``_joined``)."""
    d = site.content.dossier
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
        for ev in site.entities
    ]
    sources = [
        {
            "id": sv.source.id,
            "page": sv.href,
            "title": sv.source.title,
            "publisher": sv.source.publisher,
            "author": sv.source.author,
            "url": sv.source.url,
            "published": sv.source.published.isoformat() if sv.source.published else None,
            "retrieved": sv.source.retrieved.isoformat() if sv.source.retrieved else None,
            "language": sv.source.language,
            "sha256": sv.source.sha256,
            "cited_share": round(sv.cited_share, 4),
        }
        for sv in site.sources
    ]
    head_part = "".join([
        '{"built":', _compact(built.isoformat() if built else None),
        ',"dossier":', _compact(head),
        ',"entities":', _compact(entities),
        ',"facts":[',
    ])  # fmt: skip
    tail = "".join(['],"sources":', _compact(sources), "}\n"])
    facts = _joined((_compact(fact_entry(v)).encode() for v in site.facts), b",")
    return [head_part.encode(), *facts, tail.encode()]


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


def search_index(site: Site, claims: ClaimText) -> list[bytes]:
    """A script that sets ``window.DOSSIER_INDEX`` (a script, not JSON: it works from
    file://), in parts."""
    found = _joined((_script_safe(_spaced(search_entry(v, claims))).encode() for v in site.facts), b", ")
    return [b"window.DOSSIER_INDEX = [", *found, b"];\n"]


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
    lines += [f"  <url><loc>{escape(f'{base}/{p}')}</loc>{lastmod}</url>" for p in pages]
    lines.append("</urlset>")
    return ("\n".join(lines) + "\n").encode()
