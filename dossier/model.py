"""The content model: frozen, typed records of everything in a dossier."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .problems import Pos
from .quotes import Settings
from .schema import PartialDate, Ref


@dataclass(frozen=True, slots=True)
class Section:
    id: str
    title: str
    intro: str | None
    pos: Pos


@dataclass(frozen=True, slots=True)
class Dossier:
    title: str
    subtitle: str | None
    summary: str | None
    authors: tuple[str, ...]
    updated: dt.date | None
    base_url: str | None
    sections: tuple[Section, ...]
    quotes: Settings
    file: str


@dataclass(frozen=True, slots=True)
class Source:
    id: str
    title: str
    publisher: str | None
    author: str | None
    url: str | None
    published: dt.date | dt.datetime | None
    retrieved: dt.date | None
    language: str | None
    notes: str | None
    sha256: str
    #: What quotes are checked against: the file's text, or the visible text of HTML/PDF.
    text: str
    #: The text file and the metadata file, as displayed in problems.
    text_file: str
    meta_file: str
    #: The file's kind (txt, md, html, pdf) and, for PDFs, where each page starts in ``text``.
    kind: str = "txt"
    pages: tuple[int, ...] = ()
    #: The file itself, for kinds the site links to (PDF).
    path: Path | None = None


@dataclass(frozen=True, slots=True)
class Entity:
    id: str
    name: str
    kind: str | None
    description: str | None
    aliases: tuple[str, ...]
    pos: Pos


@dataclass(frozen=True, slots=True)
class Evidence:
    source: Ref
    quote: str
    quote_pos: Pos
    stance: str
    note: str | None


@dataclass(frozen=True, slots=True)
class Fact:
    id: str
    file: str
    claim: str
    status: str
    date: PartialDate | None
    section: Ref | None
    entities: tuple[Ref, ...]
    tags: tuple[str, ...]
    related: tuple[Ref, ...]
    evidence: tuple[Evidence, ...]
    notes: str | None
    #: The sources named by evidence items left out for their problems (an empty quote):
    #: their references are checked all the same, so that one run reports every problem.
    cited_elsewhere: tuple[Ref, ...] = ()


@dataclass(frozen=True, slots=True)
class Content:
    root: Path
    dossier: Dossier
    sources: dict[str, Source]
    entities: dict[str, Entity]
    facts: dict[str, Fact]


# --- plain tuples: what the cache stores (marshal loads them ten times faster than pickle
# loads objects) and what a page's input digest is made of -------------------------------


def _ref(r: Ref | None) -> tuple[str, tuple[str, int, int]] | None:
    return None if r is None else (r.id, tuple(r.pos))  # type: ignore[return-value]


def _unref(t: Any) -> Ref:
    rid, pos = t
    return Ref(rid, _new(Pos, pos))


#: A named tuple made from a tuple by ``tuple.__new__`` itself: its generated ``__new__`` is
#: a Python call each, and a card read back makes a dozen.
_new = tuple.__new__


def fact_record(fact: Fact) -> tuple[object, ...]:
    """The fact as nested tuples of str, int and None: everything it holds, positions too."""
    d = fact.date
    return (
        fact.id,
        fact.file,
        fact.claim,
        fact.status,
        None if d is None else (d.year, d.month, d.day),
        _ref(fact.section),
        tuple(_ref(r) for r in fact.entities),
        fact.tags,
        tuple(_ref(r) for r in fact.related),
        tuple((_ref(e.source), e.quote, tuple(e.quote_pos), e.stance, e.note) for e in fact.evidence),
        fact.notes,
        tuple(_ref(r) for r in fact.cited_elsewhere),
    )


def fact_from_record(raw: Any) -> Fact:
    """The inverse of ``fact_record``; what marshal gives back is untyped (``Any``)."""
    fid, file, claim, status, date, section, entities, tags, related, evidence, notes, elsewhere = raw
    # (Positional, and lists made into tuples: a card read back in 11 us, was 15.)
    return Fact(
        fid,
        file,
        claim,
        status,
        None if date is None else PartialDate(*date),
        None if section is None else _unref(section),
        tuple([Ref(rid, _new(Pos, pos)) for rid, pos in entities]),
        tuple(tags),
        tuple([Ref(rid, _new(Pos, pos)) for rid, pos in related]),
        tuple(
            [
                Evidence(Ref(src[0], _new(Pos, src[1])), quote, _new(Pos, qpos), stance, note)
                for src, quote, qpos, stance, note in evidence
            ]
        ),
        notes,
        tuple([_unref(r) for r in elsewhere]),
    )


def source_record(src: Source) -> tuple[object, ...]:
    """A source as its page shows it: the metadata and the text's hash, not the text."""
    published = src.published.isoformat() if src.published else None
    retrieved = src.retrieved.isoformat() if src.retrieved else None
    return (
        src.id, src.title, src.publisher, src.author, src.url, published, retrieved,
        src.language, src.notes, src.sha256, src.kind, src.pages,
    )  # fmt: skip


def entity_record(e: Entity) -> tuple[object, ...]:
    return (e.id, e.name, e.kind, e.description, e.aliases, tuple(e.pos))


def section_record(s: Section | None) -> tuple[object, ...] | None:
    return None if s is None else (s.id, s.title, s.intro, tuple(s.pos))
