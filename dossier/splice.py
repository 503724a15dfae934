"""List pages spliced: after an edit, a list page whose layout did not change is the
previous build's copy with the edited facts' rows put in anew, not rendered again.

A list page is a template over ``site`` (``generators.Lists``) whose rows are pieces (see
``render.Renderer.render_rows``). Around the rows, the template may look at anything:
which facts each list holds, in what order, and any field of an entry (the timeline
compares dates). So while it renders, each entry it is given is watched (``Watch``): the
fields read outside rows are noted, and anything that uses an entry whole (printing it,
comparing it) marks the page as unspliceable. The page around its rows depends only on
what it read: how the lists are arranged (every list's ids in order) and those fields of
every entry. The ``Skeleton`` keeps the fields, a digest of the arrangement, and where
each row stands in the file. An update's lists hold the last build's entries but for
those it made anew, so when the arrangement is the same and those entries read the same
in those fields (``same_layout``), it would render the same page around its rows: it
takes the old file and replaces only the rows whose keys changed.

What else a list page sees (the dossier, its sections and entities, the build date, the
theme) is the same by the update's own preconditions (``build._update``).
"""

from __future__ import annotations

import hashlib
import marshal
import operator
import sys
from array import array
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from .generators import EntityView, Entry, Lists, SectionView, SourceEntry
from .pieces import PART, Spans, pack
from .publish import Part, Stretch

_ID = operator.attrgetter("id")

#: What marks a page as depending on its entries whole.
WHOLE = "*"


class _Seen:
    """An entry as a list page's template sees it: each field read is noted.

    Every attribute asked for passes through ``__getattribute__`` (the proxy's own state
    is reached only through ``object.__getattribute__``), so a template cannot read an
    entry past the watch: a name the entry does not have reads nothing (the template gets
    Undefined, whatever the data), a private name or the entry whole marks ``WHOLE``.
    """

    __slots__ = ("_entry", "_read")

    def __init__(self, entry: Entry | SourceEntry, read: set[str]) -> None:
        object.__setattr__(self, "_entry", entry)
        object.__setattr__(self, "_read", read)

    def __getattribute__(self, name: str) -> Any:
        entry = object.__getattribute__(self, "_entry")
        if name == "__class__":  # what a template asking sees: the entry's (every one's)
            return type(entry)
        if name.startswith("_"):
            object.__getattribute__(self, "_read").add(WHOLE)
        elif hasattr(type(entry), name):  # a field or a property
            object.__getattribute__(self, "_read").add(name)
        return getattr(entry, name)

    def __setattr__(self, name: str, value: object) -> None:
        raise AttributeError(name)

    def __eq__(self, other: object) -> bool:
        return _whole(self) == (_whole(other) if isinstance(other, _Seen) else other)

    def __hash__(self) -> int:
        return hash(_whole(self))

    def __str__(self) -> str:
        return str(_whole(self))

    def __repr__(self) -> str:
        return repr(_whole(self))

    def __format__(self, spec: str) -> str:
        return format(_whole(self), spec)


def _whole(seen: _Seen) -> Entry | SourceEntry:
    """The entry, used whole: the page depends on all of it."""
    object.__getattribute__(seen, "_read").add(WHOLE)
    entry: Entry | SourceEntry = object.__getattribute__(seen, "_entry")
    return entry


def unwatched(view: Any) -> Any:
    """The entry itself (a row is made of it, not of the page's watch)."""
    return object.__getattribute__(view, "_entry") if type(view) is _Seen else view


class Watch:
    """The fields of fact entries and of source entries that a page read outside rows.

    One watch serves the pages rendered one after another (``start`` before each): its
    watched lists are made once (43,000 entries listed at 10,000 cards)."""

    def __init__(self) -> None:
        self.facts: set[str] = set()
        self.sources: set[str] = set()
        self._made: tuple[Lists, Lists] | None = None

    def start(self) -> None:
        """A new page: nothing read yet."""
        self.facts.clear()
        self.sources.clear()

    def lists(self, lists: Lists) -> Lists:
        """``lists`` with every entry watched (one watcher an entry, wherever it is listed)."""
        if self._made is not None and self._made[0] is lists:
            return self._made[1]
        watched = self._watched(lists)
        self._made = (lists, watched)
        return watched

    def _watched(self, lists: Lists) -> Lists:
        seen: dict[str, Any] = {}

        def fact(e: Entry) -> Any:
            w = seen.get(e.id)
            if w is None:
                w = seen[e.id] = _Seen(e, self.facts)
            return w

        def facts(entries: Iterable[Entry]) -> Any:
            return tuple(fact(e) for e in entries)

        return Lists(
            facts=facts(lists.facts),
            sections=tuple(SectionView(sv.section, facts(sv.facts)) for sv in lists.sections),
            timeline=facts(lists.timeline),
            contested=facts(lists.contested),
            entities=tuple(EntityView(ev.entity, facts(ev.facts)) for ev in lists.entities),
            sources=tuple(_Seen(s, self.sources) for s in lists.sources),  # type: ignore[misc]
            quotes=lists.quotes,
        )

    def fields(self) -> tuple[tuple[str, ...], tuple[str, ...]] | None:
        if WHOLE in self.facts or WHOLE in self.sources:
            return None
        return tuple(sorted(self.facts)), tuple(sorted(self.sources))


def layout(
    lists: Lists, fields: tuple[tuple[str, ...], tuple[str, ...]], around: bytes | None = None
) -> bytes | None:
    """A digest of what a list page read around its rows (None: not marshal's values).
    ``around``: ``structure(lists)``, when the caller has it (every page of a build has
    the same, and making it is most of the work)."""
    fact_fields, source_fields = fields
    read = (
        fields,
        tuple(map(operator.attrgetter("id", *fact_fields), lists.facts)),
        tuple(map(operator.attrgetter("id", *source_fields), lists.sources)),
    )
    try:
        raw = marshal.dumps(read, 0)
    except ValueError:
        return None
    h = hashlib.blake2b(raw, digest_size=16)
    h.update(structure(lists) if around is None else around)  # (marshal's bytes end themselves)
    return h.digest()


def arrangement(lists: Lists, around: bytes | None = None) -> bytes:
    """A digest of how the lists are arranged: ``structure`` (``around``, when the caller
    has it), and the order of all facts and of all sources. Two lists arranged alike
    differ in a page's ``layout`` only where an entry differs in the fields it read."""
    h = hashlib.blake2b(structure(lists) if around is None else around, digest_size=16)
    h.update(marshal.dumps((tuple(map(_ID, lists.facts)), tuple(map(_ID, lists.sources))), 0))
    return h.digest()


def same_layout(
    skeleton: Skeleton,
    arranged: bytes,
    entries: Mapping[str, tuple[Entry, Entry]],
    sources: Mapping[str, tuple[SourceEntry, SourceEntry]],
) -> bool:
    """Is a page's layout the one ``skeleton`` was made with, told without digesting every
    entry (an update changes a few)? ``arranged``: ``arrangement`` of the lists now;
    ``entries`` and ``sources``: (as the last build had it, as it is now) for each entry
    that may have changed, every other being the one the last build had. (A skeleton the
    last build spliced, not rendered, is the one before it: that build found its layout
    unchanged, so what it had is what the skeleton was made with.) False when the skeleton
    does not say how its lists were arranged."""
    if not skeleton.arranged or skeleton.arranged != arranged:
        return False
    fact_fields, source_fields = skeleton.fields
    for fields, pairs in ((fact_fields, entries.values()), (source_fields, sources.values())):
        read = operator.attrgetter("id", *fields)
        for was, now in pairs:
            try:
                if marshal.dumps(read(was), 0) != marshal.dumps(read(now), 0):  # (as ``layout`` sees them)
                    return False
            except ValueError:
                return False
    return True


def structure(lists: Lists) -> bytes:
    """How the lists group and order the facts, whatever a page reads of them."""
    ids = _ID

    def ids_of(entries: Iterable[Entry]) -> tuple[str, ...]:
        return tuple(map(ids, entries))

    made = (
        tuple((sv.section.id if sv.section else None, ids_of(sv.facts)) for sv in lists.sections),
        ids_of(lists.timeline),
        ids_of(lists.contested),
        tuple((ev.entity.id, ids_of(ev.facts)) for ev in lists.entities),
        lists.quotes,
    )
    return marshal.dumps(made, 0)


#: A row's macro and arguments.
Kind = tuple[str, tuple[object, ...]]


@dataclass(frozen=True, slots=True)
class Skeleton:
    """Where a list page's rows stand in the file a build wrote: row ``i`` is fact
    ``ids[i]``'s, made by ``kinds[kind[i]]``, at ``offsets[i]``, ``lengths[i]`` bytes.

    The numbers are arrays, kept as their bytes: 10,000 rows a page, seven pages, were
    210,000 ints for the cache to make and unmake on every build (40 ms of reading it)."""

    fields: tuple[tuple[str, ...], tuple[str, ...]]
    layout: bytes
    kinds: tuple[Kind, ...]
    ids: tuple[str, ...]
    kind: array[int]
    offsets: array[int]
    lengths: array[int]
    size: int
    #: ``arrangement`` of the lists its layout was digested from (b"": not known)
    arranged: bytes = b""

    def record(self) -> tuple[object, ...]:
        numbers = (self.kind.tobytes(), self.offsets.tobytes(), self.lengths.tobytes())
        return (self.fields, self.layout, self.kinds, self.ids, *numbers, self.size, _ORDER, self.arranged)

    @classmethod
    def from_record(cls, raw: Any) -> Skeleton | None:
        try:
            fields, layout, kinds, ids, kind, offsets, lengths, size, order, arranged = raw
            if order != _ORDER or not isinstance(arranged, bytes):
                return None
            numbers = (_numbers(kind), _numbers(offsets), _numbers(lengths))
            made = cls(fields, layout, kinds, ids, *numbers, size, arranged)
        except (TypeError, ValueError):
            return None
        n = len(made.ids)
        if not (len(made.kind) == len(made.offsets) == len(made.lengths) == n):
            return None
        return made

    def spans(self, key: Callable[[str], str]) -> Spans:
        """Where each row stands, by its kind and key (as ``pieces`` keeps it)."""
        names = [f"{macro}{args!r}" for macro, args in self.kinds]
        if len(names) == 1:  # (most pages: one kind of row)
            packed = map(pack, self.offsets, self.lengths)
            return {names[0]: dict(zip(map(key, self.ids), packed, strict=True))}
        out: Spans = {name: {} for name in names}
        for fid, k, at, n in zip(self.ids, self.kind, self.offsets, self.lengths, strict=True):
            out[names[k]][key(fid)] = pack(at, n)
        return out


#: How a skeleton's numbers are kept: 8-byte ints, in this machine's byte order.
_ORDER = f"q{array('q').itemsize}{sys.byteorder}"


def _numbers(raw: bytes) -> array[int]:
    """A skeleton's numbers from their bytes (ValueError: not whole ints; TypeError: not
    bytes)."""
    made = array("q")
    made.frombytes(raw)
    return made


def marshallable(args: tuple[object, ...]) -> bool:
    """Can ``marshal`` store the arguments (exactly these types: not a subclass, such as
    Markup, which it refuses)?"""
    return all(type(a) in (type(None), bool, int, float, str) for a in args)


class Recorder:
    """Notes each row of a page as it is assembled, to make its ``Skeleton``."""

    def __init__(self) -> None:
        self.kinds: list[Kind] = []
        #: a kind's index, by its macro, arguments and their types (1, 1.0 and True are
        #: equal as keys, and would otherwise make one kind of row)
        self._index: dict[tuple[str, tuple[object, ...], tuple[type, ...]], int] = {}
        self.ids: list[str] = []
        self.kind: list[int] = []
        self.offsets: list[int] = []
        self.lengths: list[int] = []
        self.usable = True

    def row(self, macro: str, args: tuple[object, ...], fid: str, offset: int, length: int) -> None:
        if not args:  # (most rows)
            key: tuple[str, tuple[object, ...], tuple[type, ...]] = (macro, (), ())
        elif not marshallable(args):
            self.usable = False
            return
        else:
            key = (macro, args, tuple(map(type, args)))
        k = self._index.get(key)
        if k is None:
            k = self._index[key] = len(self.kinds)
            self.kinds.append((macro, args))
        self.ids.append(fid)
        self.kind.append(k)
        self.offsets.append(offset)
        self.lengths.append(length)

    def made(
        self,
        layout: bytes,
        size: int,
        fields: tuple[tuple[str, ...], tuple[str, ...]] = ((), ()),
        arranged: bytes = b"",
    ) -> Skeleton | None:
        """The skeleton of a file whose layout the caller digested (None: a row's
        arguments cannot be kept)."""
        if not self.usable:
            return None
        return Skeleton(
            fields, layout, tuple(self.kinds), tuple(self.ids), array("q", self.kind),
            array("q", self.offsets), array("q", self.lengths), size, arranged,
        )  # fmt: skip

    def skeleton(self, watch: Watch, lists: Lists, size: int) -> Skeleton | None:
        """The skeleton of a list page, its layout digested from what ``watch`` saw read."""
        fields = watch.fields()
        if fields is None:
            return None
        around = structure(lists)
        digest = layout(lists, fields, around)
        return None if digest is None else self.made(digest, size, fields, arrangement(lists, around))


#: Up to this many changed facts, their rows are found by a search of the ids for each,
#: past it by one pass over them all (measured on a page of 10,000 rows: a search 0.43
#: ms, the pass 1.05 ms).
SEARCHED = 2

#: A stretch of the old file this long or longer is copied by the system (``publish.
#: Stretch``), never read; a shorter one (between two changed rows) is read and joined
#: with them into one write. At 10,000 cards an update's list pages and data files are
#: 37 MB, nearly all of it kept: copied, not read, hashed and written, an update takes
#: about 0.07 s less (medians of 14 runs taking turns: 0.50 s against 0.57).
COPIED = 1 << 16


def rows_of(ids: tuple[str, ...], changed: set[str]) -> list[int]:
    """Where the ``changed`` facts' rows stand among ``ids``, in order."""
    if len(changed) > SEARCHED:
        return [i for i, fid in enumerate(ids) if fid in changed]
    found: list[int] = []
    for fid in changed:
        at = -1
        while True:
            try:
                at = ids.index(fid, at + 1)
            except ValueError:
                break
            found.append(at)
    found.sort()
    return found


def splice(
    skeleton: Skeleton,
    read: Callable[[int, int], bytes],
    changed: set[str],
    make: Callable[[Kind, str], bytes],
    copy: Callable[[int, int], Stretch] | None = None,
) -> tuple[list[Part], Skeleton, bool]:
    """The page again: the old file's bytes (``read(offset, length)``; with ``copy``, a
    stretch of ``COPIED`` bytes or more is ``copy(offset, length)`` instead, never read),
    the rows of the ``changed`` facts made anew (``make(kind, fact id)``); its new
    skeleton; and whether the page is the old file byte for byte (every row made as it
    was, or their changes cancelling out), so that the caller keeps that file.

    Only the changed rows are visited: every row after one moves by what the rows before
    it grew, each run of rows between two changed ones shifted in one go."""
    parts: list[Part] = []
    offsets = array("q", skeleton.offsets)
    lengths = array("q", skeleton.lengths)
    at = shift = 0
    pending: list[bytes] = []  # short parts, joined into one write
    size = 0
    rows: list[tuple[int, int, bytes]] = []  # each changed row: where it stood, how long, made anew

    def add(data: bytes) -> None:
        """A stretch of the old file as it was read (not copied again), or a short part."""
        nonlocal pending, size
        if len(data) >= PART or size + len(data) >= PART:
            if pending:
                parts.append(b"".join(pending))
                pending, size = [], 0
            if len(data) >= PART:
                parts.append(data)
                return
        pending.append(data)
        size += len(data)

    def old(start: int, length: int) -> None:
        """The old file's bytes from ``start``: copied where long enough, else read."""
        nonlocal pending, size
        if copy is None or length < COPIED:
            add(read(start, length))
            return
        if pending:
            parts.append(b"".join(pending))
            pending, size = [], 0
        parts.append(copy(start, length))

    hits = rows_of(skeleton.ids, changed)
    for j, i in enumerate(hits):
        at_old, n = skeleton.offsets[i], skeleton.lengths[i]
        if at_old > at:
            old(at, at_old - at)
        row = make(skeleton.kinds[skeleton.kind[i]], skeleton.ids[i])
        rows.append((at_old, n, row))
        add(row)
        lengths[i] = len(row)
        shift += len(row) - n
        at = at_old + n
        if shift:  # the rows up to the next changed one (its own offset too)
            end = hits[j + 1] + 1 if j + 1 < len(hits) else len(offsets)
            offsets[i + 1 : end] = array("q", map(shift.__add__, skeleton.offsets[i + 1 : end]))
    if skeleton.size > at:
        old(at, skeleton.size - at)
    if pending or not parts:
        parts.append(b"".join(pending))
    new = Skeleton(
        skeleton.fields, skeleton.layout, skeleton.kinds, skeleton.ids, skeleton.kind,
        offsets, lengths, skeleton.size + shift, skeleton.arranged,
    )  # fmt: skip
    return parts, new, not shift and _same_rows(rows, read)


def _same_rows(rows: list[tuple[int, int, bytes]], read: Callable[[int, int], bytes]) -> bool:
    """Do the changed rows, made anew (``(where it stood, how long, the row)`` in order),
    leave the old file as it was? (Its size is the same.) Only the stretch from the first
    row that reads otherwise to the last is compared: before and after it, nothing moved."""
    differ = [k for k, (at, n, row) in enumerate(rows) if len(row) != n or read(at, n) != row]
    if not differ:
        return True
    first, last = differ[0], differ[-1]
    if len(rows[first][2]) == rows[first][1] or len(rows[last][2]) == rows[last][1]:
        # Nothing moved before the first (or, the size the same, after the last): where
        # it stands, its new bytes are not the old file's.
        return False
    start, end = rows[first][0], rows[last][0] + rows[last][1]
    made: list[bytes] = []
    at = start
    for row_at, n, row in rows[first : last + 1]:
        made += [read(at, row_at - at), row]
        at = row_at + n
    return b"".join(made) == read(start, end - start)
