"""What a build keeps of every fact and source for the next build of the same folder, and
what a change of some cards (edited, added, removed) touches (for ``build``'s update).

A fact's page, its rows on the list pages and its entries in the data files are made from
its own card, its section and entities, the claims and statuses of the facts it relates
to, and the sources it quotes (with the theme, the dossier and the build date). A source's
page is made from the source and every quote of it. So when only cards changed (every
other file as it was), the pages to make again are those of the edited and added facts,
of the facts relating to them, and of the sources they quote or quoted, or a removed fact
quoted; every other fact is listed from its kept entry. (No fact the last build kept can
relate to an added one, or it would not have built: an unknown fact is an error.)
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any, NamedTuple

from .generators import Entry, FactView, SourceEntry
from .model import Fact
from .quotes import Match
from .readers import card_id


class Kept(NamedTuple):
    """A fact as the last build left it (a NamedTuple, as ``Entry`` is: made by the
    10,000 in every update)."""

    card: str  # its card's path, as problems show it
    stat: object  # the card's stat as the survey found it (plain values; None: too recent)
    key: str  # its page's input digest
    entry: Entry
    sources: tuple[str, ...]  # ids of the sources it quotes
    related: tuple[str, ...]  # ids of the facts it relates to
    #: a digest of each quote's source, where it stands there, its words, stance and
    #: note: all that the sources' pages (a theme's own too) and entries take from this
    #: fact (``footprint``); only ever compared, so only the digest is kept (the quotes
    #: themselves were a quarter of the stored ledger: 18 ms of the 42 to 51 ms an update
    #: took to decode the site's record, at 10,000 cards)
    quotes: bytes


@dataclass(frozen=True, slots=True)
class Ledger:
    """Everything the last build of an output folder made of the facts and sources."""

    inputs: str  # a digest of all it was made from but the cards' bytes (see build)
    facts: dict[str, Kept]
    sources: dict[str, SourceEntry]


#: What the cache stores: (inputs, fact id -> its record, source id -> its entry's fields),
#: plain tuples throughout. A build makes it without making a ``Ledger`` (an update reads
#: one from it).
Record = tuple[str, dict[str, tuple[object, ...]], dict[str, tuple[object, ...]]]


_entry, _source = Entry._make, SourceEntry._make


def ledger_from_record(raw: Any) -> Ledger | None:
    """The ledger a record holds (None for anything else)."""
    try:
        inputs, facts, sources = raw
        return Ledger(
            inputs,
            {
                fid: Kept(card, stat, key, _entry(entry), tuple(srcs), tuple(rel), quotes)
                for fid, (card, stat, key, entry, srcs, rel, quotes) in facts.items()
            },
            {sid: _source(s) for sid, s in sources.items()},
        )
    except (TypeError, ValueError):
        return None


def record_of(
    inputs: str,
    facts: Iterable[tuple[FactView, Entry, str]],
    sources: Iterable[SourceEntry],
    cards: Mapping[str, object],
    last: Record | None = None,
    removed: set[str] | None = None,
) -> Record:
    """The record of a build: each fact's view, entry and page key, the sources' entries,
    the survey's stat of each card; with ``last`` (an update's), what it did not make again
    stays as ``last`` has it, but for the ``removed`` facts."""
    made: dict[str, tuple[object, ...]] = {
        v.id: (
            v.fact.file,
            cards.get(v.fact.file),
            key,
            tuple(entry),  # a plain tuple: what marshal stores
            tuple(sorted({q.source.id for q in v.quotes})),
            tuple(dict.fromkeys(r.id for r in v.fact.related)),
            _quotes_digest((q.source.id, q.spans, q.quote, q.stance, q.note) for q in v.quotes),
        )
        for v, entry, key in facts
    }
    kept: dict[str, tuple[object, ...]] = {s.id: tuple(s) for s in sources}
    if last is None:
        return (inputs, made, kept)
    was = last[1] if not removed else {fid: r for fid, r in last[1].items() if fid not in removed}
    return (inputs, {**was, **made}, {**last[2], **kept})


@dataclass(frozen=True, slots=True)
class Change:
    """How the cards differ from those the last build was made of."""

    edited: set[str]  # ids of the facts whose cards changed or were added
    added: dict[str, str]  # each card added (its path as problems show it) -> its fact's id
    removed: set[str]  # ids of the facts whose cards are gone
    live: Ledger  # the ledger without the removed facts
    #: the sources the removed facts quoted (their pages lose those quotes), and the facts
    #: that relate to a removed one (their cards are read: each is now in error)
    orphaned: set[str]
    naming: set[str]


def change_of(ledger: Ledger, cards: Mapping[str, object]) -> Change | None:
    """What changed among ``cards`` (a survey's: path -> stat, None for a card too recent
    to vouch for, which counts as edited) since ``ledger`` was made; None when a card's
    id moved to another card (a card renamed, its id kept: not worth telling apart)."""
    facts = ledger.facts
    by_card = {k.card: fid for fid, k in facts.items()}
    added = {c: card_id(c) for c in cards if c not in by_card}
    removed = {fid for c, fid in by_card.items() if c not in cards}
    if not removed.isdisjoint(added.values()):
        return None
    edited = {
        by_card[c] for c, st in cards.items() if c in by_card and (st is None or st != facts[by_card[c]].stat)
    }
    live, orphaned, naming = ledger, set(), set()
    if removed:
        live = Ledger(
            ledger.inputs, {fid: k for fid, k in facts.items() if fid not in removed}, ledger.sources
        )
        orphaned = {sid for fid in removed for sid in facts[fid].sources}
        naming = {fid for fid, k in live.facts.items() if not removed.isdisjoint(k.related)}
    return Change(edited | set(added.values()), added, removed, live, orphaned, naming)


@dataclass(frozen=True, slots=True)
class Touched:
    """What a change of some cards touches."""

    edited: set[str]  # ids of the facts whose cards changed or were added
    pages: set[str]  # ids of the facts whose pages are made again
    sources: set[str]  # ids of the sources whose pages are made again
    #: the cards to read: of those facts, of the facts they relate to, of every fact
    #: quoting one of those sources, and the cards added
    cards: set[str]


def touched(change: Change, *, quotes: bool = True) -> Touched:
    """What ``change`` touches, as far as the ledger knows; the caller adds what the
    edited and added cards now say (``widen``). ``quotes=False``: as if the edited facts'
    quotes stood where they stood (their sources' pages, and the facts quoting those
    sources, untouched: the removed facts' sources are touched all the same)."""
    return widen(change, change.edited, set(), set(), quotes=quotes)


def widen(
    change: Change, edited: set[str], related: set[str], sources: set[str], *, quotes: bool = True
) -> Touched:
    """``touched``, with the facts and sources the edited cards relate to and quote now."""
    facts = change.live.facts
    pages = set(edited)
    pages.update(fid for fid, k in facts.items() if not edited.isdisjoint(k.related))
    quoted = sources | change.orphaned
    if quotes:
        for fid in edited:
            if fid in facts:  # (an added fact quotes what it says: the caller's ``sources``)
                quoted.update(facts[fid].sources)
    # A fact's page shows the facts it relates to: they are read too.
    read = pages.union(related, change.naming, *(facts[fid].related for fid in pages if fid in facts))
    if quoted:
        read.update(fid for fid, k in facts.items() if not quoted.isdisjoint(k.sources))
    cards = {facts[fid].card for fid in read if fid in facts}
    cards.update(change.added)
    return Touched(edited, pages, quoted, cards)


def _quotes_digest(quotes: Iterable[tuple[str, tuple[tuple[int, int], ...], str, str, str | None]]) -> bytes:
    """``Kept.quotes``: a digest of each quote's (source, spans, words, stance, note), in
    order (``repr``, which for these plain values is the same in every run, as marshal's
    bytes are not: they depend on which objects are shared)."""
    text = repr(tuple(quotes)).encode("utf-8", "surrogatepass")
    return hashlib.blake2b(text, digest_size=16).digest()


def footprint(fact: Fact, matches: Mapping[tuple[str, int], Match]) -> bytes | None:
    """``Kept.quotes`` of a fact as just checked (None: a quote was not found)."""
    out = []
    for i, ev in enumerate(fact.evidence):
        match = matches.get((fact.id, i))
        if match is None:
            return None
        out.append((ev.source.id, match.spans, ev.quote, ev.stance, ev.note))
    return _quotes_digest(out)
