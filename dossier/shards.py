"""A dict stored in shards, each decoded only when a key in it is asked for.

The check part of the cache holds an entry for every quote and card (13 MB at 10,000
cards). A check or build after an edit asks for a few hundred of them: decoding all of
it took longer than the rest of that check. Stored as shards (each key's by a stable
hash of it), a run decodes only the shards it touches, and writes the others back as
the bytes it read.
"""

from __future__ import annotations

import marshal
import zlib
from collections.abc import Callable, Iterable, Iterator
from typing import Any

#: How many shards a dict is kept in (a power of two).
COUNT = 1024


def shard_of(key: object) -> int:
    """A stable shard for ``key`` (Python's own ``hash`` of text changes between runs)."""
    if isinstance(key, tuple):
        key = key[0]
    raw = key if isinstance(key, bytes) else str(key).encode("utf-8", "surrogatepass")
    return zlib.crc32(raw) & (COUNT - 1)


class Shards:
    """The part of ``dict``'s interface the cache uses, over lazily decoded shards."""

    __slots__ = ("_counts", "_open", "_raw")

    def __init__(self, items: Iterable[tuple[Any, Any]] = ()) -> None:
        self._raw: list[bytes | None] = [None] * COUNT
        self._counts = [0] * COUNT
        self._open: list[dict[Any, Any] | None] = [None] * COUNT
        for k, v in items:
            self[k] = v

    @classmethod
    def stored(cls, record: Any) -> Shards | None:
        """From ``record()``'s value; None when it is not one."""
        if not (isinstance(record, tuple) and len(record) == 2):
            return None
        raw, counts = record
        if not (isinstance(raw, tuple) and isinstance(counts, tuple) and len(raw) == len(counts) == COUNT):
            return None
        if not all(isinstance(b, bytes) for b in raw) or not all(isinstance(n, int) for n in counts):
            return None
        out = cls()
        out._raw, out._counts = list(raw), list(counts)
        return out

    def record(self) -> tuple[tuple[bytes, ...], tuple[int, ...]]:
        """What to store: each shard's bytes (those never decoded as they were read) and
        its length."""
        raw: list[bytes] = []
        counts: list[int] = []
        for i in range(COUNT):
            opened, stored = self._open[i], self._raw[i]
            if opened is not None:
                stored = marshal.dumps(opened)
            raw.append(stored if stored is not None else marshal.dumps({}))
            counts.append(len(opened) if opened is not None else self._counts[i])
        return tuple(raw), tuple(counts)

    def _shard(self, i: int) -> dict[Any, Any]:
        opened = self._open[i]
        if opened is None:
            stored, self._raw[i] = self._raw[i], None  # (a check that decodes all keeps one copy)
            try:
                loaded = marshal.loads(stored) if stored else {}
            except (EOFError, ValueError, TypeError):
                loaded = {}
            opened = self._open[i] = loaded if isinstance(loaded, dict) else {}
        return opened

    def get(self, key: Any, default: Any = None) -> Any:
        return self._shard(shard_of(key)).get(key, default)

    def __setitem__(self, key: Any, value: Any) -> None:
        self._shard(shard_of(key))[key] = value

    def put(self, key: Any, value: Any) -> bool:
        """``self[key] = value``; and was it not so already? (One look at the shard.)"""
        shard = self._shard(shard_of(key))
        if key in shard and shard[key] == value:
            return False
        shard[key] = value
        return True

    def kept(self, keep: Callable[[Any, Any], bool]) -> Shards:
        """The items ``keep`` says yes to, in shards as they stand: each key stays in its
        shard, so none is hashed again (51,000 of them after a first check of 10,000
        cards)."""
        out = Shards()
        for i in range(COUNT):
            out._open[i] = {k: v for k, v in self._shard(i).items() if keep(k, v)}
        return out

    def __contains__(self, key: object) -> bool:
        return key in self._shard(shard_of(key))

    def __len__(self) -> int:
        return sum(len(o) if o is not None else n for o, n in zip(self._open, self._counts, strict=True))

    def __bool__(self) -> bool:
        return len(self) > 0

    def items(self) -> Iterator[tuple[Any, Any]]:
        for i in range(COUNT):
            yield from self._shard(i).items()

    def __iter__(self) -> Iterator[Any]:
        for i in range(COUNT):
            yield from self._shard(i)

    def __eq__(self, other: object) -> bool:  # (a Cache compares its fields)
        if isinstance(other, Shards):
            return dict(self.items()) == dict(other.items())
        return isinstance(other, dict) and dict(self.items()) == other

    __hash__ = None  # type: ignore[assignment]
