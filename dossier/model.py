"""The content model: frozen, typed records of everything in a dossier."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path

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


@dataclass(frozen=True, slots=True)
class Content:
    root: Path
    dossier: Dossier
    sources: dict[str, Source]
    entities: dict[str, Entity]
    facts: dict[str, Fact]
