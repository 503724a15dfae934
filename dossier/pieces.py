"""Files assembled from keyed pieces (a fact's entry in dossier.json, its row on a list
page), so that a build takes each piece whose key did not change from the previous
build's copy of the file instead of making it again.

A piece's key names everything it is made from (build uses the fact page's input digest),
so a piece found under the same key in the previous file is the same bytes. Nothing here
writes: the old copy is only read (``os.pread``), and only once ``publish.Previous`` has
vouched that it is exactly as the previous build left it.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field

from .publish import PublishError

#: Where each piece of a file stands in it: its kind ("" for a file with one kind of
#: piece; a list page's rows: the macro and its arguments) -> its key -> its offset and
#: length packed into one int (``pack``): 10,000s of them are kept, so they are kept small,
#: and a key (a fact page's digest) is the one string its manifest entry holds too.
Spans = dict[str, dict[str, int]]

_LENGTH_BITS = 32
_LENGTH_MASK = (1 << _LENGTH_BITS) - 1


def pack(offset: int, length: int) -> int:
    return offset << _LENGTH_BITS | length


def unpack(packed: int) -> tuple[int, int]:
    return packed >> _LENGTH_BITS, packed & _LENGTH_MASK


#: New bytes are gathered into parts of about this size (a part is one write).
PART = 1 << 20


def read_at(fd: int, start: int, length: int) -> bytes:
    """``length`` bytes of ``fd`` from ``start`` (a file that ends sooner changed)."""
    data = os.pread(fd, length, start)
    while len(data) < length:  # pread may return less than asked
        more = os.pread(fd, length - len(data), start + len(data))
        if not more:
            raise PublishError("a file of the previous build changed during the build; build again")
        data += more
    return data


class Derived(Mapping[str, dict[str, int]]):
    """Spans made when first asked for (from a list page's skeleton: an update, which
    splices the page, never asks, and so neither makes nor keeps them)."""

    __slots__ = ("_made", "_make")

    def __init__(self, make: Callable[[], Spans]) -> None:
        self._make = make
        self._made: Spans | None = None

    def _spans(self) -> Spans:
        if self._made is None:
            self._made = self._make()
        return self._made

    def __getitem__(self, kind: str) -> dict[str, int]:
        return self._spans()[kind]

    def __iter__(self) -> Iterator[str]:
        return iter(self._spans())

    def __len__(self) -> int:
        return len(self._spans())

    def __bool__(self) -> bool:  # (there may be pieces: known without making them)
        return True


@dataclass(frozen=True, slots=True)
class Old:
    """The previous build's copy of a file, open, and where its pieces stand."""

    fd: int
    size: int
    spans: Mapping[str, Mapping[str, int]]


@dataclass(slots=True)
class Assembly:
    """A file being put together, literal bytes and keyed pieces in order.

    Pieces taken from the old file that stand next to each other there (with the same
    bytes between them) are read as one stretch.
    """

    old: Old | None = None
    parts: list[bytes] = field(default_factory=list)
    spans: Spans = field(default_factory=dict)
    size: int = 0
    _new: list[bytes] = field(default_factory=list)
    _new_size: int = 0
    #: a stretch of the old file to read in one go: where it starts and ends there, and
    #: the literal bytes added inside it, each by where the old file should hold it
    _run: tuple[int, int] | None = None
    _gaps: list[tuple[int, bytes]] = field(default_factory=list)
    #: literal bytes added after the stretch, which the old file may hold next
    _tail: list[bytes] = field(default_factory=list)
    #: the old file's spans of each kind asked for (``taken``)
    _old_kinds: dict[str, Mapping[str, int]] = field(default_factory=dict)

    def text(self, data: bytes) -> None:
        """Literal bytes (between pieces)."""
        if self._run is not None:
            self._tail.append(data)
        else:
            self._add_new(data)
        self.size += len(data)

    def piece(self, key: str, make: Callable[[], bytes], kind: str = "") -> None:
        """The piece ``key`` (of ``kind``): from the old file when it has it, else ``make()``."""
        if not self.taken(key, kind):
            self.made(key, make(), kind)

    def taken(self, key: str, kind: str = "") -> bool:
        """The piece ``key`` (of ``kind``) taken from the old file, if it has it there
        (``piece``'s first half, by itself for a caller whose ``make`` costs to set up:
        a list page asks 10,000 times, nearly always found; ``made`` is the other half)."""
        old = self.old
        if old is None:
            return False
        found = self._old_kinds.get(kind)
        if found is None:
            found = self._old_kinds[kind] = old.spans.get(kind) or {}
        packed = found.get(key)
        if type(packed) is not int or packed < 0:  # (not a span: a cache of another make)
            return False
        start, length = packed >> _LENGTH_BITS, packed & _LENGTH_MASK
        if start + length > old.size:
            return False
        self._take(start, length)
        self._keys(kind)[key] = self.size << _LENGTH_BITS | length
        self.size += length
        return True

    def made(self, key: str, data: bytes, kind: str = "") -> None:
        """The piece ``key`` (of ``kind``), made anew: ``data``."""
        self._end_run()
        self._keys(kind)[key] = pack(self.size, len(data))
        self._add_new(data)
        self.size += len(data)

    def _keys(self, kind: str) -> dict[str, int]:
        keys = self.spans.get(kind)
        if keys is None:
            keys = self.spans[kind] = {}
        return keys

    def done(self) -> list[bytes]:
        self._end_run()
        self._flush_new()
        return self.parts

    def ready(self) -> list[bytes]:
        """The parts made so far, handed over (to write them before the rest is made)."""
        out, self.parts = self.parts, []
        return out

    def _take(self, start: int, length: int) -> None:
        if self._run is not None:
            tail = self._tail
            gap = tail[0] if len(tail) == 1 else b"".join(tail)
            run_start, run_end = self._run
            if start == run_end + len(gap):
                if gap:
                    self._gaps.append((run_end, gap))
                self._run, self._tail = (run_start, start + length), []
            else:
                self._end_run()
        if self._run is None:
            self._flush_new()
            self._run = (start, start + length)
        run_start, run_end = self._run
        if run_end - run_start >= PART:  # read in parts: a file kept whole is never read whole
            self._end_run()

    def _end_run(self) -> None:
        """Read the stretch; where a literal inside it is not what the old file holds there,
        the new literal goes in its place."""
        if self._run is None:
            return
        start, end = self._run
        gaps, tail = self._gaps, self._tail
        self._run, self._gaps, self._tail = None, [], []
        data = self._read(start, end - start)
        if any(data[at - start : at - start + len(gap)] != gap for at, gap in gaps):
            pieces, at = [], start
            for gap_at, gap in gaps:
                pieces += [data[at - start : gap_at - start], gap]
                at = gap_at + len(gap)
            pieces.append(data[at - start :])
            data = b"".join(pieces)
        self.parts.append(data)
        for literal in tail:
            self._add_new(literal)

    def _read(self, start: int, length: int) -> bytes:
        assert self.old is not None
        return read_at(self.old.fd, start, length)

    def _add_new(self, data: bytes) -> None:
        self._new.append(data)
        self._new_size += len(data)
        if self._new_size >= PART:
            self._flush_new()

    def _flush_new(self) -> None:
        if self._new:
            self.parts.append(b"".join(self._new))
            self._new, self._new_size = [], 0
