"""The site's machine-readable files: ``dossier.json``, the search index, the sitemap,
and each fact page's ClaimReview.

``dossier.json`` and the search index hold one entry per fact. Each entry is encoded on
its own and kept, keyed by its fact page's input digest, so that a build after a small
change encodes only the facts that changed; the files are the same bytes as one
``json.dumps`` of the whole would give.
"""

from __future__ import annotations

import datetime as dt
import functools
import json
from xml.sax.saxutils import escape

from . import generators
from .generators import Site
from .render import ClaimText

#: A fact page's input digest -> its entry in dossier.json and in the search index, encoded
#: (UTF-8: half the memory of the str of a text with curly quotes).
Entries = dict[str, tuple[bytes, bytes]]

# Compact: the C encoder only runs without indent, and the file is for machines.
_compact = functools.partial(json.dumps, ensure_ascii=False, sort_keys=True, separators=(",", ":"))
_spaced = functools.partial(json.dumps, ensure_ascii=False, sort_keys=True)


class Encoded:
    """The facts' entries, encoded once per fact (``known``: an earlier build's ``used``)."""

    def __init__(self, site: Site, claims: ClaimText, known: Entries | None = None) -> None:
        self.site, self.claims, self.known = site, claims, known or {}
        self.used: Entries = {}

    def entries(self, keys: list[str]) -> list[tuple[bytes, bytes]]:
        """The entries of ``site.facts``, given each fact page's input digest."""
        out = []
        for view, key in zip(self.site.facts, keys, strict=True):
            done = self.used.get(key) or self.known.get(key)
            if done is None:
                done = (
                    _compact(fact_entry(view)).encode(),
                    _script_safe(_spaced(search_entry(view, self.claims))).encode(),
                )
            self.used[key] = done
            out.append(done)
        return out


def dossier_json(site: Site, entries: list[tuple[bytes, bytes]], built: dt.datetime | None) -> bytes:
    """Everything, machine-readable: ``{"built", "dossier", "entities", "facts", "sources"}``."""
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
    return b"".join([head_part.encode(), b",".join(e[0] for e in entries), tail.encode()])


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


def search_index(entries: list[tuple[bytes, bytes]]) -> bytes:
    """A script that sets ``window.DOSSIER_INDEX`` (a script, not JSON: it works from file://)."""
    return b"".join([b"window.DOSSIER_INDEX = [", b", ".join(e[1] for e in entries), b"];\n"])


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
