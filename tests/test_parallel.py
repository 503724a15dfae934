"""Work split over two forked children (``parallel.each_in_two``, ``in_two``): results in
order, a child's exception raised where the caller is, the work of a child that dies or
cannot be forked done here, and no child left behind however the caller stops."""

from __future__ import annotations

import errno
import os
import signal
import time
from collections.abc import Callable, Iterator
from pathlib import Path

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


def test_an_exception_that_cannot_be_made_again_is_raised_as_its_message() -> None:
    """One that pickles, but whose class cannot be made again from what pickling kept (a
    second argument its ``__init__`` requires), crosses as its message."""

    class Two(Exception):
        def __init__(self, what: str, where: int) -> None:
            super().__init__(f"{what} at {where}")

    def fn(i: int) -> int:
        raise Two("two args", i)

    with pytest.raises(RuntimeError, match="Two: two args at"):
        parallel.in_two(fn, [1, 2])


def test_one_core_to_run_on_is_not_enough(monkeypatch: pytest.MonkeyPatch) -> None:
    """The cores this process may run on count (``taskset``, a container), not the
    machine's."""
    if not hasattr(os, "sched_getaffinity"):
        pytest.skip("this system does not say which cores a process may run on")
    monkeypatch.setattr(os, "cpu_count", lambda: 8)
    monkeypatch.setattr(os, "sched_getaffinity", lambda pid: {3})
    assert not parallel.usable()
    monkeypatch.setattr(os, "sched_getaffinity", lambda pid: {0, 3})
    assert parallel.usable()


def _made_by(parent: int, dies_at: int | None = None) -> Callable[[int], tuple[int, int]]:
    """Each item and the process that made it; in a child, dying at item ``dies_at`` (as
    if killed, or out of memory)."""

    def fn(i: int) -> tuple[int, int]:
        if i == dies_at and os.getpid() != parent:
            os._exit(3)
        return i, os.getpid()

    return fn


def _makers(got: list[tuple[int, int]], n: int) -> list[int]:
    """The process that made each of ``got`` (``_made_by``'s), which must be items 0 to n-1
    in order."""
    assert [i for i, _ in got] == list(range(n))
    return [pid for _, pid in got]


def test_a_child_that_dies_leaves_its_work_here_not_waited_on_forever() -> None:
    me = os.getpid()
    before = _children()
    got = list(parallel.each_in_two(_made_by(me, dies_at=2), list(range(7))))
    by = _makers(got, 7)
    assert by[0] != me and by[2] == by[4] == by[6] == me  # (from its first item not sent)
    assert me not in by[1::2]  # the other child goes on
    assert _children() == before


@pytest.mark.parametrize("cut", [4, 8, 12])  # within the length, after it, within the result
def test_a_child_that_dies_mid_result_leaves_it_here(monkeypatch: pytest.MonkeyPatch, cut: int) -> None:
    """A child that dies while it sends its third result (its message cut ``cut`` bytes
    in) leaves that result and the rest of its items here, the others' in order."""
    me, real, sent = os.getpid(), parallel._send, [0]

    def cut_short(fd: int, data: bytes) -> None:  # (only a child sends)
        sent[0] += 1
        if sent[0] < 3:
            return real(fd, data)
        os.write(fd, (len(data).to_bytes(8, "little") + data)[:cut])
        os._exit(9)

    monkeypatch.setattr(parallel, "_send", cut_short)
    before = _children()
    got = list(parallel.each_in_two(_made_by(me), list(range(9))))
    by = _makers(got, 9)
    assert me not in by[0:4:2] and set(by[4::2]) == {me}  # each child: two sent, then cut
    assert me not in by[1:4:2] and set(by[5::2]) == {me}
    assert _children() == before


def test_children_that_reap_themselves_and_die_leave_their_work_here() -> None:
    old = signal.signal(signal.SIGCHLD, signal.SIG_IGN)
    try:
        me = os.getpid()
        got = list(parallel.each_in_two(_made_by(me, dies_at=2), list(range(5))))
        by = _makers(got, 5)
        assert by[2] == by[4] == me
        got = list(parallel.each_shared(_made_by(me, dies_at=2), list(range(5))))
        by = _makers(got, 5)
        assert by[2] == by[4] == me
    finally:
        signal.signal(signal.SIGCHLD, old)


def _refused(monkeypatch: pytest.MonkeyPatch, after: int = 0) -> None:
    """``os.fork`` refused (a limit on processes), after ``after`` forks allowed."""
    real, allowed = os.fork, [after]

    def fork() -> int:
        if allowed[0] <= 0:
            raise OSError(errno.EAGAIN, "Resource temporarily unavailable")
        allowed[0] -= 1
        return real()

    monkeypatch.setattr(os, "fork", fork)


@pytest.mark.parametrize("after", [0, 1])
def test_a_child_that_cannot_be_forked_leaves_its_work_here(
    monkeypatch: pytest.MonkeyPatch, after: int
) -> None:
    me = os.getpid()
    _refused(monkeypatch, after)
    before = _children()
    got = list(parallel.each_in_two(_made_by(me), list(range(5))))
    by = _makers(got, 5)
    assert set(by[1::2]) == {me}  # the second child: never forked
    assert (set(by[::2]) == {me}) if after == 0 else (me not in by[::2])
    assert _children() == before
    assert parallel.in_two(sum, [[1, 2], [3]]) == [3, 3]


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


# the child's item, this process's, and both (the child's, before it, fails first)
@pytest.mark.parametrize("bad", [{2}, {3}, {2, 3}])
def test_shared_work_raises_the_first_exception_of_either_side_here(bad: set[int]) -> None:
    def fn(i: int) -> int:
        if i in bad:
            raise ValueError(f"bad item {i}")
        return i

    first = min(bad)
    before = _children()
    got = []
    with pytest.raises(ValueError, match=f"bad item {first}"):
        for x in parallel.each_shared(fn, list(range(8))):
            got.append(x)
    assert got == list(range(first))  # every item before it, as in one process
    assert _children() == before


def test_shared_work_of_a_child_that_dies_is_done_here() -> None:
    me = os.getpid()
    before = _children()
    got = list(parallel.each_shared(_made_by(me, dies_at=4), list(range(9))))
    by = _makers(got, 9)
    assert me not in by[0:4:2] and set(by[4::2]) == {me} and set(by[1::2]) == {me}
    assert _children() == before


def test_shared_work_that_cannot_be_forked_is_done_here(monkeypatch: pytest.MonkeyPatch) -> None:
    me = os.getpid()
    _refused(monkeypatch)
    got = list(parallel.each_shared(_made_by(me), list(range(5))))
    assert got == [(i, me) for i in range(5)]


@pytest.mark.parametrize("dies_at", [None, 4])
def test_shared_work_crosses_as_it_is_told_and_only_the_childs(dies_at: int | None) -> None:
    """``across``: the child's results are sent encoded and decoded here; this process's
    own, and those it makes for a child that died, are given as ``fn`` made them."""
    import marshal

    me = os.getpid()
    encoded: list[int] = []  # (in the child: never seen here)

    def encode(made: tuple[int, int]) -> bytes:
        encoded.append(made[0])
        return b"sent" + marshal.dumps(made)

    def decode(sent: bytes) -> tuple[int, int]:
        assert sent.startswith(b"sent")
        i, pid = marshal.loads(sent[4:])
        return -i, pid  # (marked: it crossed)

    before = _children()
    got = list(parallel.each_shared(_made_by(me, dies_at=dies_at), list(range(9)), across=(encode, decode)))
    crossed = [i for i, (v, pid) in enumerate(got) if pid != me]
    assert crossed == ([0, 2] if dies_at == 4 else [0, 2, 4, 6, 8])
    assert got == [((-i if i in crossed else i), got[i][1]) for i in range(9)]
    assert encoded == [] and _children() == before


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


@pytest.mark.parametrize("how", ["forked", "refused", "dies", "children reap themselves"])
def test_work_beside_is_made_by_a_child_or_else_here_once(monkeypatch: pytest.MonkeyPatch, how: str) -> None:
    """``beside``: the result made by a child while the block goes on; made here where no
    child could be forked or it died; asked for twice, the same one, made once."""
    me = os.getpid()
    if how == "refused":
        _refused(monkeypatch)
    if how == "children reap themselves":  # (one stopped early could not be waited for)
        monkeypatch.setattr(signal, "getsignal", lambda sig: signal.SIG_IGN)
    made_here: list[int] = []

    def fn() -> tuple[int, list[int]]:
        if os.getpid() == me:
            made_here.append(1)
        elif how == "dies":
            os._exit(3)
        return os.getpid(), list(range(1000))

    before = _children()
    with parallel.beside(fn) as result:
        pid, items = result()
        assert result() == (pid, items) and result()[1] is items
        assert _children() == before  # (taken: waited for)
    assert items == list(range(1000))
    assert (pid != me and made_here == []) if how == "forked" else (pid == me and made_here == [1])
    assert _children() == before


def test_work_beside_raises_its_exception_here_and_untaken_is_stopped() -> None:
    def fails() -> int:
        raise ValueError("no such source")

    before = _children()
    with parallel.beside(fails) as result, pytest.raises(ValueError, match="no such source"):
        result()
    assert _children() == before

    def never_ends() -> int:
        signal.pause()
        return 0

    with parallel.beside(never_ends):
        pass  # (not asked for: the child is stopped, not waited on forever)
    assert _children() == before


def _slowly_made_by(
    parent: int, dies_at: int | None = None, fails_at: frozenset[int] | set[int] = frozenset()
) -> Callable[[int], tuple[int, int]]:
    """``_made_by``, each item taking a few milliseconds (so that every process claims
    some), failing at ``fails_at`` (a ValueError naming the item)."""
    made = _made_by(parent, dies_at)

    def fn(i: int) -> tuple[int, int]:
        time.sleep(0.004)
        if i in fails_at:
            raise ValueError(f"item {i}")
        return made(i)

    return fn


@pytest.mark.parametrize("here", [False, True])
def test_claimed_work_comes_in_order_each_process_taking_some(here: bool, tmp_path: Path) -> None:
    """Each process's first item waits until the other has claimed one too (a barrier of
    files: on a busy machine one process could otherwise claim them all)."""
    me = os.getpid()
    made = _made_by(me)

    def fn(i: int) -> tuple[int, int]:
        mark = tmp_path / f"started-{os.getpid()}"
        if not mark.exists():
            mark.touch()
            deadline = time.monotonic() + 10
            while len(list(tmp_path.glob("started-*"))) < 2 and time.monotonic() < deadline:
                time.sleep(0.002)
        return made(i)

    before = _children()
    got = list(parallel.each_claimed(fn, list(range(24)), here=here))
    by = _makers(got, 24)
    makers = set(by)
    assert len(makers) == 2 and (me in makers) is here  # two children, or one and this process
    assert _children() == before


@pytest.mark.parametrize("here", [False, True])
def test_claimed_work_of_a_child_that_dies_or_was_never_forked_is_made_here(
    monkeypatch: pytest.MonkeyPatch, here: bool
) -> None:
    me = os.getpid()
    before = _children()
    got = list(parallel.each_claimed(_slowly_made_by(me, dies_at=5), list(range(12)), here=here))
    by = _makers(got, 12)
    assert by[5] == me  # (its child died claiming it)
    assert _children() == before
    _refused(monkeypatch)
    got = list(parallel.each_claimed(_slowly_made_by(me), list(range(6)), here=here))
    assert _makers(got, 6) == [me] * 6


@pytest.mark.parametrize("here", [False, True])
@pytest.mark.parametrize("bad", [{3}, {3, 7}, {0, 11}])
def test_claimed_work_raises_the_first_failure_in_order_after_those_before_it(
    here: bool, bad: set[int]
) -> None:
    me = os.getpid()
    before = _children()
    given: list[int] = []
    with pytest.raises(ValueError, match=f"item {min(bad)}$"):
        for i, _ in parallel.each_claimed(_slowly_made_by(me, fails_at=bad), list(range(12)), here=here):
            given.append(i)
    assert given == list(range(min(bad)))
    assert _children() == before


@pytest.mark.parametrize("here", [False, True])
def test_claimed_work_crosses_as_told_stops_early_cleanly_and_has_a_limit(here: bool) -> None:
    import marshal

    me = os.getpid()

    def encode(made: tuple[int, int]) -> bytes:
        return marshal.dumps(made)

    def decode(sent: bytes) -> tuple[int, int]:
        i, pid = marshal.loads(sent)
        return -i - 100, pid  # (marked: it crossed)

    before = _children()
    got = list(parallel.each_claimed(_slowly_made_by(me), list(range(16)), (encode, decode), here=here))
    assert all((v == i) == (pid == me) and (v == -i - 100) == (pid != me) for i, (v, pid) in enumerate(got))
    results = parallel.each_claimed(_slowly_made_by(me), list(range(40)), here=here)
    assert next(results)[0] == 0
    results.close()  # (the children stopped, not waited on to the end)
    assert _children() == before
    with pytest.raises(ValueError, match="at most"):
        list(parallel.each_claimed(abs, list(range(parallel.CLAIMED_MAX + 1))))
    assert list(parallel.each_claimed(abs, [-1])) == [1] and list(parallel.each_claimed(abs, [])) == []


def test_claimed_work_waits_on_descriptors_past_1023() -> None:
    """Its children's pipes are waited on by ``poll``: ``select`` refuses a descriptor past
    1023, which a process holding many files has."""
    import resource

    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < 1200:
        if hard != resource.RLIM_INFINITY and hard < 1200:
            pytest.skip("this process may not hold 1,200 files")
        resource.setrlimit(resource.RLIMIT_NOFILE, (1200, hard))
    held = [os.open(os.devnull, os.O_RDONLY) for _ in range(1100)]
    try:
        assert max(held) > 1023
        me = os.getpid()
        got = list(parallel.each_claimed(_made_by(me), list(range(6))))
        assert [i for i, _ in got] == list(range(6)) and me not in {pid for _, pid in got}
    finally:
        for fd in held:
            os.close(fd)
        resource.setrlimit(resource.RLIMIT_NOFILE, (soft, hard))


def test_claimed_work_of_a_child_never_forked_is_shared_here(monkeypatch: pytest.MonkeyPatch) -> None:
    """With the second child refused, this process claims in its place (not the one child
    doing everything while it waits)."""
    me = os.getpid()
    _refused(monkeypatch, after=1)
    before = _children()
    got = list(parallel.each_claimed(_slowly_made_by(me), list(range(24))))
    makers = set(_makers(got, 24))
    assert me in makers and len(makers) == 2
    assert _children() == before


@pytest.mark.parametrize("here", [False, True])
def test_claimed_work_interrupted_while_forking_leaves_nothing_behind(
    monkeypatch: pytest.MonkeyPatch, here: bool
) -> None:
    """Ctrl-C as the last child is forked: the children started are let go, the pipes
    closed."""
    real, forks = os.fork, [0]

    def fork() -> int:
        forks[0] += 1
        if forks[0] == (1 if here else 2):
            raise KeyboardInterrupt
        return real()

    def fds() -> int:
        return len(os.listdir("/proc/self/fd"))

    monkeypatch.setattr(os, "fork", fork)
    before, open_before = _children(), fds()
    with pytest.raises(KeyboardInterrupt):
        list(parallel.each_claimed(abs, list(range(-8, 0)), here=here))
    assert _children() == before and fds() == open_before
