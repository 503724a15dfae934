"""Work split over two forked children (``parallel.each_in_two``, ``in_two``): results in
order, a child's exception raised where the caller is, a child that dies named, and no
child left behind however the caller stops."""

from __future__ import annotations

import os
import signal
from collections.abc import Iterator

import pytest

from dossier import parallel

pytestmark = pytest.mark.skipif(not hasattr(os, "fork"), reason="needs fork")


def _children() -> set[int]:
    """This process's children, alive or not yet reaped."""
    me = str(os.getpid())
    out = set()
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/stat") as f:
                    fields = f.read().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if fields[1] == me:
                out.add(int(entry))
    return out


def test_results_come_in_order_each_from_a_child_of_its_own() -> None:
    before = _children()
    got = list(parallel.each_in_two(lambda i: (i * i, os.getpid()), list(range(9))))
    assert [v for v, _ in got] == [i * i for i in range(9)]
    pids = {pid for _, pid in got}
    assert len(pids) == 2 and os.getpid() not in pids
    assert {pid for _, pid in got[::2]} != {pid for _, pid in got[1::2]}  # alternate items, children
    assert _children() == before  # each waited for


def test_in_two_gives_both_halves_and_handles_one_or_none() -> None:
    assert parallel.in_two(sum, [[1, 2], [3, 4, 5]]) == [3, 12]
    assert parallel.in_two(sum, [[1, 2]]) == [3]
    assert parallel.in_two(sum, []) == []


def test_what_a_child_inherits_need_not_be_picklable() -> None:
    held = {"lock": __import__("threading").Lock(), "n": 7}  # (a lock does not pickle)
    assert parallel.in_two(lambda x: x + held["n"], [1, 2]) == [8, 9]  # type: ignore[operator]


def test_an_exception_in_a_child_is_raised_here() -> None:
    def fn(i: int) -> int:
        if i == 3:
            raise ValueError(f"bad item {i}")
        return i

    before = _children()
    got = []
    with pytest.raises(ValueError, match="bad item 3"):
        for x in parallel.each_in_two(fn, list(range(8))):
            got.append(x)
    assert got == [0, 1, 2]
    assert _children() == before


def test_an_exception_that_does_not_pickle_is_raised_as_its_message() -> None:
    class Odd(Exception):
        def __reduce__(self) -> str | tuple[object, ...]:
            raise TypeError("not picklable")

    def fn(i: int) -> int:
        raise Odd("odd one")

    with pytest.raises(RuntimeError, match="Odd: odd one"):
        parallel.in_two(fn, [1, 2])


def test_a_child_that_dies_is_named_not_waited_on_forever() -> None:
    def fn(i: int) -> int:
        if i == 1:
            os._exit(3)  # as if killed, out of memory
        return i

    before = _children()
    with pytest.raises(parallel.ChildFailed):
        parallel.in_two(fn, [0, 1])
    assert _children() == before


def test_a_caller_that_stops_early_leaves_no_child_behind() -> None:
    def slow(i: int) -> int:
        if i > 1:
            signal.pause()  # would never end
        return i

    before = _children()
    results: Iterator[int] = parallel.each_in_two(slow, list(range(6)))
    assert next(results) == 0
    results.close()  # the children are stopped and waited for
    assert _children() == before


def test_children_that_reap_themselves_are_not_signalled(monkeypatch: pytest.MonkeyPatch) -> None:
    """With SIGCHLD ignored the children are reaped by themselves: a stop does not kill
    by a pid that may be another process's by then, and the results still come."""
    old = signal.signal(signal.SIGCHLD, signal.SIG_IGN)
    try:
        killed: list[int] = []
        monkeypatch.setattr(os, "kill", lambda pid, sig: killed.append(pid))
        assert parallel.in_two(sum, [[1], [2, 3]]) == [1, 5]
        results = parallel.each_in_two(lambda i: i, list(range(4)))
        assert next(results) == 0
        results.close()
        assert killed == []
    finally:
        signal.signal(signal.SIGCHLD, old)


# --- each_shared: every other item by one child, the rest here meanwhile --------------------


@pytest.mark.parametrize("n", [0, 1, 2, 5, 8])
def test_shared_work_comes_in_order_the_even_places_from_a_child(n: int) -> None:
    before = _children()
    got = list(parallel.each_shared(lambda i: (i * i, os.getpid()), list(range(n))))
    assert [v for v, _ in got] == [i * i for i in range(n)]
    me = os.getpid()
    assert {pid for _, pid in got[1::2]} <= {me}  # the odd places: made here
    if n >= 2:
        assert me not in {pid for _, pid in got[::2]}  # the even ones: by the child
    assert _children() == before


@pytest.mark.parametrize("bad", [2, 3])  # the child's item, and this process's
def test_shared_work_raises_either_sides_exception_here(bad: int) -> None:
    def fn(i: int) -> int:
        if i == bad:
            raise ValueError(f"bad item {i}")
        return i

    before = _children()
    got = []
    with pytest.raises(ValueError, match=f"bad item {bad}"):
        for x in parallel.each_shared(fn, list(range(8))):
            got.append(x)
    assert got == list(range(bad if bad % 2 == 0 else bad - 1))  # (an odd one is made first)
    assert _children() == before


def test_shared_work_names_a_child_that_dies() -> None:
    def fn(i: int) -> int:
        if i == 2:
            os._exit(3)
        return i

    before = _children()
    with pytest.raises(parallel.ChildFailed):
        list(parallel.each_shared(fn, list(range(6))))
    assert _children() == before


def test_shared_work_stopped_early_leaves_no_child_behind() -> None:
    def slow(i: int) -> int:
        if i > 1 and os.getpid() != parent:
            signal.pause()  # the child would never end
        return i

    parent = os.getpid()
    before = _children()
    results = parallel.each_shared(slow, list(range(8)))
    assert next(results) == 0
    results.close()
    assert _children() == before
