"""Generators: turn checked content into the data each page shows.

Nothing here renders HTML or touches files; templates get plain, typed records.
"""

from __future__ import annotations

import marshal
import re
import unicodedata
from bisect import bisect_right
from collections.abc import Iterable
from dataclasses import dataclass
from typing import NamedTuple

from . import parallel, quotes
from .check import CheckResult
from .extract import page_at
from .model import Content, Dossier, Entity, Fact, Section, Source
from .normalise import normalise_text
from .schema import PartialDate
from .shards import Shards

MONTHS = [
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
]
STATUS_LABELS = {
    "confirmed": "Confirmed",
    "disputed": "Disputed",
    "unverified": "Unverified",
    "refuted": "Refuted",
}
STANCE_LABELS = {"supports": "Supports", "contradicts": "Contradicts", "context": "Context"}


def fact_path(fid: str) -> str:
    return f"facts/{fid}.html"


def source_path(sid: str) -> str:
    return f"sources/{sid}.html"


def source_file_path(source: Source) -> str:
    """Where the site keeps a copy of a source file it links to (PDFs)."""
    return f"sources/{source.id}.{source.kind}"


def page_of(source: Source, offset: int) -> int | None:
    return page_at(source.pages, offset)


def quote_anchor(fid: str, index: int) -> str:
    return f"q-{fid}-{index}"


def date_label(d: PartialDate) -> str:
    if d.month is None:
        return str(d.year)
    if d.day is None:
        return f"{MONTHS[d.month - 1]} {d.year}"
    return f"{d.day} {MONTHS[d.month - 1]} {d.year}"


#: What a quote's place in its source gives the page that is costly to find: (line,
#: text-fragment directive or "" for PDFs), keyed by (the source's sha256 and kind, the
#: matched spans). It depends on nothing else, so it may be kept between builds (the cache does):
#: then a build never has to normalise a source whose quotes it already placed.
Placements = dict[tuple[str, tuple[tuple[int, int], ...]], tuple[int, str]]

#: From this many quotes never placed, they are placed in two processes.
PARALLEL_PLACE = 3000
#: The runs of quotes placed by two processes, each taking the next as soon as it is free.
PLACE_RUNS = 32


@dataclass(frozen=True, slots=True)
class QuoteView:
    fact_id: str
    index: int  # 1-based, as in the anchor
    source: Source
    quote: str
    stance: str
    note: str | None
    anchor: str
    passage: str  # what the source says there, pieces joined by " … "
    line: int
    start: int
    end: int
    spans: tuple[tuple[int, int], ...]
    original_href: str | None
    page: int | None = None  # for PDF sources

    @property
    def file_href(self) -> str | None:
        """The PDF itself, opened at the quote's page."""
        if self.source.kind != "pdf":
            return None
        return f"{source_file_path(self.source)}#page={self.page or 1}"

    @property
    def source_href(self) -> str:
        return f"{source_path(self.source.id)}#{self.anchor}"

    @property
    def stance_label(self) -> str:
        return STANCE_LABELS[self.stance]


@dataclass(frozen=True, slots=True)
class FactView:
    fact: Fact
    quotes: tuple[QuoteView, ...]
    section: Section | None
    entities: tuple[Entity, ...]
    related: tuple[Fact, ...]
    # Worked out once here, not by each template that shows them (list pages show them
    # for every fact, and a template's every call costs more than the work).
    status_label: str = ""
    date_label: str | None = None
    supports: int = 0
    contradicts: int = 0
    contexts: int = 0
    #: how many sources its quotes come from
    n_sources: int = 0

    @classmethod
    def of(
        cls,
        fact: Fact,
        quotes: tuple[QuoteView, ...],
        section: Section | None,
        entities: tuple[Entity, ...],
        related: tuple[Fact, ...],
    ) -> FactView:
        stances = [q.stance for q in quotes]
        return cls(
            fact, quotes, section, entities, related,
            status_label=STATUS_LABELS[fact.status],
            date_label=date_label(fact.date) if fact.date else None,
            supports=stances.count("supports"),
            contradicts=stances.count("contradicts"),
            contexts=stances.count("context"),
            n_sources=len({q.source.id for q in quotes}),
        )  # fmt: skip

    @property
    def id(self) -> str:
        return self.fact.id

    @property
    def status(self) -> str:
        return self.fact.status

    @property
    def href(self) -> str:
        return fact_path(self.fact.id)

    def count(self, stance: str) -> int:
        return {"supports": self.supports, "contradicts": self.contradicts, "context": self.contexts}.get(
            stance, 0
        )

    @property
    def source_ids(self) -> tuple[str, ...]:
        return tuple(sorted({q.source.id for q in self.quotes}))

    @property
    def contested(self) -> bool:
        return self.fact.status == "disputed" or self.contradicts > 0


@dataclass(frozen=True, slots=True)
class Segment:
    """A run of source text with the same highlighting."""

    text: str
    marks: tuple[str, ...]  # anchors of the quotes covering this run
    starts: tuple[str, ...]  # anchors of the quotes whose passage starts here
    ends: tuple[QuoteView, ...]  # quotes whose passage ends after this run
    #: a quote covering this run contradicts the fact that cites it (shown, not hidden)
    contradicts: bool = False


@dataclass(frozen=True, slots=True)
class SourceView:
    source: Source
    quotes: tuple[QuoteView, ...]  # in the order they stand in the text
    cited_share: float  # of the source's non-space characters, how many are quoted

    def layout(self) -> Layout:
        """The text cut into paragraphs and highlighted runs: made only for the page itself."""
        return _layout(self.source, self.quotes)

    @property
    def file_href(self) -> str | None:
        return source_file_path(self.source) if self.source.kind == "pdf" else None

    @property
    def href(self) -> str:
        return source_path(self.source.id)

    @property
    def facts(self) -> tuple[str, ...]:
        return tuple(sorted({q.fact_id for q in self.quotes}))


@dataclass(frozen=True, slots=True)
class Layout:
    paragraphs: tuple[tuple[Segment, ...], ...]
    #: For PDFs, the page each paragraph starts on (else None for each).
    pages: tuple[int | None, ...]


#: How facts sort: undated last, then by date (a month or year alone before its days), id.
Order = tuple[bool, tuple[int, int, int], str]


class _NotAField:
    """A tuple's own method on an entry (``index``, ``count``), hidden: a template asking
    an entry for what is not a field gets nothing (as it did of a dataclass), never the
    method, whose text holds a memory address."""

    def __init__(self, name: str) -> None:
        self.name = name

    def __get__(self, obj: object, owner: type | None = None) -> object:
        raise AttributeError(self.name)


def _fields_only(cls: type) -> None:
    for name in ("index", "count"):
        setattr(cls, name, _NotAField(name))


class Entry(NamedTuple):
    """A fact as the list pages show it: what its view says of it, in plain values, small
    enough to keep between builds (so that a build after an edit makes views only of the
    facts the edit touched, and lists the others from their entries).

    A NamedTuple, as immutable as a frozen dataclass: every update makes 10,000 of them
    from the stored tuples, and a frozen dataclass's ``__init__`` takes 4 us for what
    ``_make`` does in 0.6 (40 ms of an update at 10,000 cards)."""

    id: str
    claim: str
    status: str
    status_label: str
    date: str | None  # ISO 8601, as precise as the card
    date_label: str | None
    section: str | None  # its section's id, when the dossier has that section
    entities: tuple[str, ...]  # ids, each once
    supports: int
    contradicts: int
    contexts: int
    n_sources: int
    n_quotes: int
    contested: bool
    order: Order

    @classmethod
    def of(cls, v: FactView) -> Entry:
        f = v.fact
        return cls(
            f.id, f.claim, f.status, v.status_label, f.date.iso() if f.date else None, v.date_label,
            v.section.id if v.section else None, tuple(dict.fromkeys(e.id for e in v.entities)),
            v.supports, v.contradicts, v.contexts, v.n_sources, len(v.quotes), v.contested, _order(f),
        )  # fmt: skip

    @property
    def href(self) -> str:
        return fact_path(self.id)


class SourceEntry(NamedTuple):
    """A source as the list of sources and ``dossier.json`` show it (kept like ``Entry``,
    and like it a NamedTuple)."""

    id: str
    title: str
    publisher: str | None
    author: str | None
    url: str | None
    published: str | None  # ISO 8601
    retrieved: str | None
    language: str | None
    sha256: str
    n_quotes: int
    n_facts: int
    cited_share: float
    notes: str | None
    kind: str
    file: str | None  # the file itself, where the site links to it (a PDF)

    @classmethod
    def of(cls, sv: SourceView) -> SourceEntry:
        s = sv.source
        return cls(
            s.id, s.title, s.publisher, s.author, s.url,
            s.published.isoformat() if s.published else None,
            s.retrieved.isoformat() if s.retrieved else None,
            s.language, s.sha256, len(sv.quotes), len(sv.facts), sv.cited_share,
            s.notes, s.kind, sv.file_href,
        )  # fmt: skip

    @property
    def href(self) -> str:
        return source_path(self.id)


_fields_only(Entry)
_fields_only(SourceEntry)


@dataclass(frozen=True, slots=True)
class SectionView:
    section: Section | None
    facts: tuple[Entry, ...]


@dataclass(frozen=True, slots=True)
class EntityView:
    entity: Entity
    facts: tuple[Entry, ...]


@dataclass(frozen=True, slots=True)
class Lists:
    """What the list pages show (as ``site``): every fact and source by its entry."""

    facts: tuple[Entry, ...]  # in order
    sections: tuple[SectionView, ...]
    timeline: tuple[Entry, ...]
    contested: tuple[Entry, ...]
    entities: tuple[EntityView, ...]
    sources: tuple[SourceEntry, ...]  # by id
    quotes: int


def make_lists(
    dossier: Dossier, entities: dict[str, Entity], facts: Iterable[Entry], sources: Iterable[SourceEntry]
) -> Lists:
    """The lists from the entries, in any order."""
    ordered = tuple(sorted(facts, key=lambda e: e.order))
    in_section: dict[str | None, list[Entry]] = {s.id: [] for s in dossier.sections}
    loose_list: list[Entry] = []
    for e in ordered:  # (one pass, not one a section)
        in_section.get(e.section, loose_list).append(e)
    by_section: list[SectionView] = [SectionView(sec, tuple(in_section[sec.id])) for sec in dossier.sections]
    loose = tuple(loose_list)
    if loose:
        by_section.append(SectionView(None, loose))
    facts_of: dict[str, list[Entry]] = {}
    for e in ordered:
        for ent in e.entities:
            facts_of.setdefault(ent, []).append(e)
    entity_views = tuple(
        EntityView(ent, tuple(facts_of.get(eid, ())))
        for eid, ent in sorted(entities.items(), key=lambda kv: kv[1].name.lower())
    )
    return Lists(
        facts=ordered,
        sections=tuple(by_section),
        timeline=tuple(e for e in ordered if e.date is not None),
        contested=tuple(e for e in ordered if e.contested),
        entities=entity_views,
        sources=tuple(sorted(sources, key=lambda s: s.id)),
        quotes=sum(e.n_quotes for e in ordered),
    )


@dataclass(frozen=True, slots=True)
class Site:
    content: Content
    facts: tuple[FactView, ...]  # in order
    sources: tuple[SourceView, ...]  # by id
    lists: Lists
    #: The placements this site's quotes used (see ``generate``), to keep for the next build.
    placements: Placements


def generate(
    result: CheckResult, placements: Placements | Shards | None = None, only: set[str] | None = None
) -> Site:
    """The data of every page; ``placements`` are those an earlier build returned (its
    ``Site.placements``), so that only quotes placed anew need their source normalised.
    ``only``: the facts to make views of (the sources' views still hold every quote)."""
    content = result.content
    assert content is not None, "generate() needs content that checked clean"
    placed = _Placer(result, placements or {})
    placed.place_new(only)
    qviews: dict[str, list[QuoteView]] = {}
    for fact in content.facts.values():
        for i, ev in enumerate(fact.evidence):
            match = result.matches[(fact.id, i)]
            source = content.sources[ev.source.id]
            line, passage, directive = placed(source, match)
            page = page_of(source, match.start)
            qviews.setdefault(fact.id, []).append(
                QuoteView(
                    fact_id=fact.id,
                    index=i + 1,
                    source=source,
                    quote=ev.quote,
                    stance=ev.stance,
                    note=ev.note,
                    anchor=quote_anchor(fact.id, i + 1),
                    passage=passage,
                    line=line,
                    start=match.start,
                    end=match.end,
                    spans=match.spans,
                    original_href=original_href(source, directive, page),
                    page=page,
                )
            )
    sections = {s.id: s for s in content.dossier.sections}
    base: dict[str, tuple[QuoteView, ...]] = {fid: tuple(v) for fid, v in qviews.items()}
    views = tuple(
        FactView.of(
            fact=f,
            quotes=base.get(f.id, ()),
            section=sections.get(f.section.id) if f.section else None,
            entities=tuple(content.entities[r.id] for r in f.entities),
            related=tuple(content.facts[r.id] for r in f.related),
        )
        for f in sorted(content.facts.values(), key=_order)
        if only is None or f.id in only
    )
    quotes_of: dict[str, list[QuoteView]] = {}
    for fid in sorted(base, key=lambda fid: _order(content.facts[fid])):
        for q in base[fid]:
            quotes_of.setdefault(q.source.id, []).append(q)
    source_views = tuple(
        _source_view(src, quotes_of.get(sid, [])) for sid, src in sorted(content.sources.items())
    )
    lists = make_lists(
        content.dossier,
        content.entities,
        [Entry.of(v) for v in views],
        [SourceEntry.of(sv) for sv in source_views],
    )
    return Site(content, views, source_views, lists, placed.kept)


def _order(f: Fact) -> Order:
    return (f.date is None, f.date.key if f.date else (0, 0, 0), f.id)


def _squash(text: str) -> str:
    return " ".join(text.split())


def _source_view(source: Source, qs: list[QuoteView]) -> SourceView:
    ordered = tuple(sorted(qs, key=lambda q: (q.start, q.fact_id, q.index)))
    # The share cited: non-space characters inside the union of the quoted pieces.
    cited = 0
    reach = 0
    for s, e in sorted(span for q in ordered for span in q.spans):
        s = max(s, reach)
        if e > s:
            cited += len("".join(source.text[s:e].split()))
            reach = e
    total = len("".join(source.text.split())) or 1
    return SourceView(source, ordered, cited / total)


def _layout(source: Source, qs: tuple[QuoteView, ...]) -> Layout:
    """Cut the text into paragraphs (blank lines separate them) and runs of equal highlighting.

    One sweep over the sorted cut points, keeping the set of quotes whose pieces cover the
    current run: linear in the text's size plus the number of quoted pieces.
    """
    text = source.text
    rank = {q.anchor: i for i, q in enumerate(qs)}
    contra = {q.anchor for q in qs if q.stance == "contradicts"}
    paras = [(m.start(), m.end()) for m in _PARAGRAPH.finditer(text)]
    opens: dict[int, list[str]] = {}
    closes: dict[int, list[str]] = {}
    cuts: set[int] = set()
    for ps, pe in paras:
        cuts.update((ps, pe))
    for q in qs:
        for s, e in q.spans:
            opens.setdefault(s, []).append(q.anchor)
            closes.setdefault(e, []).append(q.anchor)
            cuts.update((s, e))
    ends_at: dict[int, list[QuoteView]] = {}
    starts_at: dict[int, list[str]] = {}
    for q in qs:
        ends_at.setdefault(q.end, []).append(q)
        starts_at.setdefault(q.start, []).append(q.anchor)
    points = sorted(cuts)
    active: dict[str, int] = {}
    out: list[tuple[Segment, ...]] = []
    segs: list[Segment] = []
    para = 0
    for i, a in enumerate(points):
        for anchor in closes.get(a, ()):
            active[anchor] -= 1
            if not active[anchor]:
                del active[anchor]
        for anchor in opens.get(a, ()):
            active[anchor] = active.get(anchor, 0) + 1
        while para < len(paras) and paras[para][1] <= a:  # past the end of a paragraph
            out.append(tuple(segs))
            segs = []
            para += 1
        if i + 1 == len(points) or para == len(paras) or a < paras[para][0]:
            continue  # between paragraphs: nothing to show
        b = points[i + 1]
        chunk = text[a:b]
        marks = tuple(sorted(active, key=rank.__getitem__))
        against = any(a in contra for a in marks)
        segs.append(Segment(chunk, marks, tuple(starts_at.get(a, ())), tuple(ends_at.get(b, ())), against))
    if para < len(paras):
        out.append(tuple(segs))
    return Layout(tuple(out), tuple(page_of(source, ps) for ps, _ in paras))


#: A paragraph: lines that hold something, one after another (a line ends in LF or CRLF,
#: spaces before it or not); it runs from its first character to its last but spaces.
_PARAGRAPH = re.compile(r"\S(?:.*\S)?(?:[ \t\u00a0\r]*\n[ \t\u00a0]*\S(?:.*\S)?)*")


# --- text fragments (https://wicg.github.io/scroll-to-text-fragment/) --------------------

_WORDS_PER_END = 4


class _Escapes(dict[int, str]):
    """A character's percent-encoding for a text fragment, by code point, made the first
    time it is asked for (a memo of a pure function, for ``str.translate``): everything
    but unreserved characters is encoded, '-' too (it delimits prefix and suffix), as the
    spec's syntax requires; ',' and '&' are encoded too. As ``urllib.parse.quote`` with
    nothing safe encodes, a character at a time (30,000 fragments: 0.08 s against 0.13).)"""

    def __missing__(self, code: int) -> str:
        char = chr(code)
        out = char if char in _UNRESERVED else "".join(f"%{b:02X}" for b in char.encode("utf-8"))
        self[code] = out
        return out


_UNRESERVED = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_.~")
_ESCAPES = _Escapes()


def _fragment_escape(text: str) -> str:
    return text.translate(_ESCAPES)


class _Placer:
    """Line, passage and text fragment of each match, from the placements kept (the
    source's text is normalised, once, only for a match not placed before)."""

    def __init__(self, result: CheckResult, placements: Placements | Shards) -> None:
        self.result, self.known = result, placements
        self.kept: Placements = {}
        self.lines: dict[str, list[int]] = {}
        self.lowered: dict[str, str] = {}
        #: a source's id -> its part of the keys: one string for all its quotes (kept by
        #: the cache, which stores a string many keys share once)
        self.names: dict[str, str] = {}

    def __call__(self, source: Source, match: quotes.Match) -> tuple[int, str, str]:
        """(line, passage, directive) of a match."""
        text = source.text
        passage = " … ".join(_squash(text[s:e]) for s, e in match.spans)
        key = self._key(source, match)
        done = self.kept.get(key) or self.known.get(key)
        if done is None:
            done = self._place(source, match)
        self.kept[key] = done
        return done[0], passage, done[1]

    def _key(self, source: Source, match: quotes.Match) -> tuple[str, tuple[tuple[int, int], ...]]:
        name = self.names.get(source.id)
        if name is None:  # the same bytes read as HTML or as text differ
            name = self.names[source.id] = f"{source.sha256}.{source.kind}"
        return (name, match.spans)

    def _place(self, source: Source, match: quotes.Match) -> tuple[int, str]:
        directive = "" if source.kind == "pdf" else self._directive(source, match)
        return self._line(source, match.start), directive

    def place_new(self, only: set[str] | None) -> None:
        """With thousands of quotes never placed (of the facts in ``only``; None: all),
        place them now in two processes, in runs of a source's quotes together, each
        process taking the next run as soon as it is free (and normalising, where the check
        did not, about the sources of the runs it takes). (30,000 quotes alone: 1.7 s in
        one process, 1.2 s in two, each child 0.6 s of CPU.)"""
        content = self.result.content
        assert content is not None
        if not parallel.usable():
            return  # (placed one at a time, as the views are made)
        new: dict[str, list[tuple[str, quotes.Match]]] = {}
        for fact in content.facts.values():
            if only is not None and fact.id not in only:
                continue
            for i, ev in enumerate(fact.evidence):
                source = content.sources[ev.source.id]
                match = self.result.matches[(fact.id, i)]
                key = self._key(source, match)
                if key in self.kept:
                    continue
                found = self.known.get(key)
                if found is None:
                    new.setdefault(source.id, []).append((source.id, match))
                else:  # (kept now: the view finds it there, without a second look in shards)
                    self.kept[key] = found
        if sum(map(len, new.values())) < PARALLEL_PLACE:
            return
        todo = [item for group in new.values() for item in group]  # (a source's together)

        # Each child takes the next run as soon as it is free (``each_claimed``), and sends
        # back its placements in order in marshal's bytes: the matches pickled there and the
        # placements pickled back took 0.3 s of the parent's time at 30,000 quotes.
        def place(run: range) -> bytes:
            sources = content.sources
            return marshal.dumps([self._place(sources[sid], m) for sid, m in todo[run.start : run.stop]])

        runs = parallel.ranges(len(todo), PLACE_RUNS)
        for run, done in zip(runs, parallel.each_claimed(place, runs), strict=True):
            for (sid, m), placed in zip(todo[run.start : run.stop], marshal.loads(done), strict=True):
                self.kept[self._key(content.sources[sid], m)] = placed

    def _line(self, source: Source, offset: int) -> int:
        starts = self.lines.get(source.id)
        if starts is None:
            starts = self.lines[source.id] = [0, *(m.end() for m in re.finditer("\n", source.text))]
        return bisect_right(starts, offset)

    def _directive(self, source: Source, match: quotes.Match) -> str:
        lowered = self.lowered.get(source.id)
        if lowered is None:  # text fragments match case- and accent-insensitively
            lowered = self.lowered[source.id] = _primary(self.result.prepared[source.id].norm.text.lower())
        return fragment_directive(source.text, lowered, match)


def original_href(source: Source, directive: str, page: int | None) -> str | None:
    """Where a quote stands in the original: a text fragment that lands on it, or in a
    PDF (which text fragments do not reach into) its page (RFC 8118's ``#page=``)."""
    if source.url is None:
        return None
    url = source.url.split("#", 1)[0]
    if source.kind == "pdf":
        return f"{url}#page={page}" if page else url
    return f"{url}#:~:text={directive}" if directive else None


def text_fragment_url(source: Source, prepared: quotes.Source, match: quotes.Match) -> str | None:
    """The original's address with a text fragment that lands on the quoted passage."""
    if source.url is None or source.kind == "pdf":  # text fragments do not reach into PDFs
        return None
    directive = fragment_directive(source.text, _primary(prepared.norm.text.lower()), match)
    return f"{source.url.split('#', 1)[0]}#:~:text={directive}"


def fragment_directive(text: str, folded: str, match: quotes.Match) -> str:
    """The ``text=`` value: start (and end) words, with a prefix and suffix for context
    where the start words also stand elsewhere in the source (``folded`` is the source's
    normalised text in lower case, at the primary level: ``_primary``).

    As the spec has browsers match: each term within one block (a paragraph: no term
    crosses a blank line), and letters compared at the primary level, case and accents
    aside (``_primary``). The prefix grows, within its block, until it and the start words
    stand once in the source."""
    # (``split()`` is ``_squash(...).split(" ")`` for a text with a word in it, as every
    # piece of a match has; the words around it may be none.)
    first_span = text[match.spans[0][0] : match.spans[0][1]]
    last_span = text[match.spans[-1][0] : match.spans[-1][1]]
    first = _BLOCK_BREAK.split(first_span, maxsplit=1)[0].split() or [""]
    last = _BLOCK_BREAK.split(last_span)[-1].split() or [""]
    one_block = len(match.spans) == 1 and not _BLOCK_BREAK.search(first_span)

    fold = _fold_words
    told: dict[str, bool] = {}  # (the same words are asked of up to four times)

    def once(words: str) -> bool:
        known = told.get(words)
        if known is None:
            known = told[words] = folded.count(fold(words)) <= 1
        return known

    end_told = True  # does the range end at the first end words after its start?
    if one_block and len(first) <= 2 * _WORDS_PER_END:
        start, end = " ".join(first), ""
    else:
        # The start words grow (in their block, short of the end words) until they stand
        # once in the source: the passage itself tells it apart where it can.
        room = len(first) - _WORDS_PER_END if one_block else len(first)
        n = _WORDS_PER_END
        while n < room and not once(" ".join(first[:n])):
            n += 1
        if not once(" ".join(first[:n])):
            n = _WORDS_PER_END
        start = " ".join(first[:n])
        # The end words grow too, until they stand once in the passage: a browser ends
        # the range at the first of them after the start.
        passage = fold(text[match.start : match.end])
        end_room = len(first) - n if one_block else len(last)
        m = _WORDS_PER_END
        while m < end_room and passage.count(fold(" ".join(last[-m:]))) > 1:
            m += 1
        end = " ".join(last[-m:])
        end_told = passage.count(fold(end)) <= 1
        if one_block and not (once(start) and end_told) and once(" ".join(first)):
            start, end, end_told = " ".join(first), "", True  # the whole passage, one term
    parts = []
    # Where the start text also stands elsewhere in the source, say what precedes it.
    if not once(start):
        before = _BLOCK_BREAK.split(text[max(0, match.start - 400) : match.start])[-1].split()
        prefix = " ".join(before[-3:])
        for n in range(3, len(before) + 1):  # (most need three words: more where those do not tell)
            prefix = " ".join(before[-n:])
            if once(f"{prefix} {start}"):
                break
        if prefix:
            parts.append(_fragment_escape(prefix) + "-")
    parts.append(_fragment_escape(start))
    if end:
        parts.append(_fragment_escape(end))
    if parts[0].endswith("-") or not end_told:
        after = _BLOCK_BREAK.split(text[match.end : match.end + 200], maxsplit=1)[0]
        suffix = " ".join(after.split()[:3])
        if suffix:
            parts.append("-" + _fragment_escape(suffix))
    return ",".join(parts)


def _fold_words(words: str) -> str:
    """``words`` as ``fragment_directive`` compares them: normalised, lower case, at the
    primary level. An ASCII text with nothing to normalise (most of them) is only lowered:
    30,000 quotes' directives fold 190,000 texts (placing them took 1.49-1.57 s the whole
    way, 1.34-1.45 s this way)."""
    # (In ASCII, normalising changes only control characters and runs of spaces or hyphens:
    # four scans in C; a regex for the same took as long as the whole way.)
    if words.isascii() and words.isprintable() and "  " not in words and "--" not in words:
        return words.strip(" ").lower()
    return _primary(normalise_text(words).lower())


#: Where a block ends in a source's text: a blank line (as ``_PARAGRAPH`` cuts paragraphs).
_BLOCK_BREAK = re.compile(r"\n[ \t\u00a0\r]*\n")


def _primary(text: str) -> str:
    """``text`` as a browser compares it for a text fragment, at the primary level: its
    accents dropped (``résumé`` is ``resume``); the caller has lowered its case."""
    if text.isascii():
        return text
    return "".join(c for c in unicodedata.normalize("NFKD", text) if not unicodedata.combining(c))
