"""Work split over two forked processes, where there is enough of it to pay.

A forked child inherits everything the parent holds (the content, the prepared sources,
the compiled templates), so the function it runs may be any callable, a closure over
large data, and its items are inherited too; only its results cross between the
processes, pickled (or as the caller encodes them: ``across``). Below a
few thousand items a second process costs more than it saves (forking two children and
collecting their results takes 10 to 30 ms here; a pool from ``concurrent.futures`` took
60 to 100). ``each_claimed`` has two processes take items as each is free, for work whose
halves would take unequal times on unequal cores. ``ahead`` and ``beside`` start one child
alone, for work the parent would otherwise wait on (a survey's system calls; reading
the sources while the parent reads the cards), and take its results back.

A child is only ever help: where one cannot be forked (a limit on processes) or dies
before it sent everything, its work is done in this process, and the results are the same.
"""

from __future__ import annotations

import contextlib
import marshal
import os
import pickle
import select
import signal
from collections.abc import Callable, Generator, Iterator, Sequence
from dataclasses import dataclass
from typing import Any, BinaryIO, TypeVar, cast

T = TypeVar("T")
R = TypeVar("R")


def usable() -> bool:
    """Are there two cores this process may run on, and can this system fork? (Asked of
    ``os``: importing ``multiprocessing`` to ask it costs an update at 10,000 cards 15 ms.
    The cores it may run on, where the system says: a process held to one core by
    ``taskset`` or a container's limit would only share it.)"""
    if not hasattr(os, "fork"):
        return False
    if hasattr(os, "sched_getaffinity"):
        return len(os.sched_getaffinity(0)) > 1
    return (os.cpu_count() or 1) > 1


def in_two(fn: Callable[[T], R], halves: Sequence[T]) -> list[R]:
    """``[fn(h) for h in halves]`` (two of them), each half in a child of its own."""
    return list(each_in_two(fn, halves))


def each_in_two(fn: Callable[[T], R], items: Sequence[T]) -> Iterator[R]:
    """``fn(item)`` for each item, in order, by two forked children (the first takes the
    items at even places, the second the others): each result is given as soon as it and
    those before it are in, so that the caller works on it while the children work on the
    next. A result comes back pickled down a pipe; an exception ``fn`` raised is raised
    here. A child that cannot be forked (a limit on processes) or dies (killed, out of
    memory) leaves its items to this process, which does them in turn: ``fn`` only makes
    a result from what it is given, so made here it is the same. (Forked by hand, not by
    ``concurrent.futures``: the pool's start, its thread and its queues took 60-100 ms of
    each call, 0.3 s of a check with no cache.)"""
    children: list[tuple[int, BinaryIO] | None] = []
    taken = 0
    try:
        for k in range(min(2, len(items))):
            children.append(_start(fn, items[k::2], [c[1] for c in children if c is not None]))
        for i in range(len(items)):
            result = _next_of(children[i % 2])
            if result is _ENDED:  # (the rest of its items are made here too)
                children[i % 2] = None
                result = fn(items[i])
            yield cast(R, result)
            taken += 1
    finally:
        _let_go([c for c in children if c is not None], unfinished=taken < len(items))


def _let_go(children: list[tuple[int, BinaryIO]], *, unfinished: bool) -> None:
    """Close the children's pipes and wait for them. Stopped early (the caller failed, or a
    child did), they are stopped where they are, unless they reap themselves (SIGCHLD
    ignored: the pid may be another's)."""
    stop = unfinished and signal.getsignal(signal.SIGCHLD) != signal.SIG_IGN
    for pid, pipe in children:
        pipe.close()
        if stop:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
        with contextlib.suppress(ChildProcessError):
            os.waitpid(pid, 0)


def each_shared(
    fn: Callable[[T], R],
    items: Sequence[T],
    across: tuple[Callable[[R], bytes], Callable[[bytes], R]] | None = None,
) -> Generator[R, None, None]:
    """``fn(item)`` for each item, in order: the items at even places by one forked child,
    the others by this process meanwhile (where this process would otherwise work alone
    while the other core sat idle). Each result is given as soon as it and those before it
    are in; an exception ``fn`` raised, here or in the child, is raised here. A child that
    cannot be forked or dies leaves the rest of its items to this process (as in
    ``each_in_two``). ``across``: how the child's results cross, where pickling them would
    cost more (objects made again from plain values): the child sends ``encode(result)``,
    taken here by ``decode``; this process's own results are given as they are made."""
    if len(items) < 2:
        yield from map(fn, items)
        return
    sent: Callable[[T], object] = fn if across is None else (lambda item: across[0](fn(item)))
    child = _start(sent, items[::2], [])
    theirs, taken = len(items[::2]), 0

    def next_of_theirs() -> R:
        nonlocal child
        result = _next_of(child)
        if result is _ENDED:  # (the rest of its items are made here too)
            child = None
            return fn(items[2 * taken])
        return cast(R, result if across is None else across[1](result))

    try:
        for k in range(1, len(items), 2):
            try:
                mine = fn(items[k])  # (while the child makes the one before it)
            except Exception:
                yield next_of_theirs()  # (which, failing too, fails first, as in order)
                taken += 1
                raise
            yield next_of_theirs()
            taken += 1
            yield mine
        if taken < theirs:
            yield next_of_theirs()
            taken += 1
    finally:
        if child is not None:
            _let_go([child], unfinished=taken < theirs)


#: Most items ``each_claimed`` deals out (each is claimed by a byte naming it).
CLAIMED_MAX = 256


def each_claimed(
    fn: Callable[[T], R],
    items: Sequence[T],
    across: tuple[Callable[[R], bytes], Callable[[bytes], R]] | None = None,
    *,
    here: bool = False,
) -> Iterator[R]:
    """``fn(item)`` for each item (at most ``CLAIMED_MAX``), in order, by two forked
    children that each claim the next item as soon as they are free (``here``: by one
    child and this process): where ``each_in_two`` deals the items out in turns, a child
    on a slower or busier core holds the rest up (at 30,000 quotes, halves took 0.26 and
    0.34 s). Each result is given as soon as it and those before it are in, so that the
    caller works on it while the children make the next; an exception ``fn`` raised is
    raised here in its place. Where a child cannot be forked, or dies, this process claims
    items in its place, and makes those the dead child had claimed (a live child's made
    twice is taken once). ``across``: as ``each_shared``'s: a child's results cross
    encoded, this process's are given as made.

    (The items are claimed from a pipe holding a byte for each: a read of one byte from a
    pipe is one claim, whichever process makes it. A child says it is done with an empty
    message: one whose pipe ends without it died.)"""
    n = len(items)
    if n > CLAIMED_MAX:
        raise ValueError(f"each_claimed deals out at most {CLAIMED_MAX} items, not {n}")
    if n < 2:
        yield from map(fn, items)
        return
    sent: Callable[[T], object] = fn if across is None else (lambda item: across[0](fn(item)))
    try:
        claims, offer = os.pipe()
    except OSError:
        yield from map(fn, items)
        return
    try:
        os.write(offer, bytes(range(n)))  # (n bytes: far less than any pipe holds)
    finally:
        os.close(offer)  # (so that the pipe is found ended once every item is claimed)
    live: dict[int, tuple[int, BinaryIO]] = {}  # a result pipe's fd -> (pid, the pipe)
    claiming = True  # (the claims' pipe is open here: items may be left in it)
    taken = 0
    try:  # (what was started is let go however this ends, an interrupt while forking too)
        wanted = 1 if here else 2
        for _ in range(wanted):
            child = _start_claiming(sent, items, claims, [pipe for _, pipe in live.values()])
            if child is not None:
                live[child[1].fileno()] = child
        #: index -> (made, the result or its exception, made here)
        got: dict[int, tuple[bool, Any, bool]] = {}
        died = len(live) < wanted  # (a child missing or dead: this process claims for it)
        poller = select.poll()  # (not ``select.select``: it fails on a descriptor past 1023)
        for fd in live:
            poller.register(fd, select.POLLIN)

        def take(wait: bool, first: int) -> None:
            """What the children sent (waiting for something, if ``wait``); results before
            ``first`` were given already (made here too, for a child that died)."""
            nonlocal died
            for fd, _ in poller.poll(None if wait else 0):
                data = _receive(live[fd][1])
                if not data:  # it ended: done (an empty message), or it died (none)
                    died = died or data is None
                    poller.unregister(fd)
                    _let_go([live.pop(fd)], unfinished=False)
                    continue
                k, ok, value = pickle.loads(data)
                if k >= first and k not in got:
                    got[k] = (ok, value, False)

        for i in range(n):
            while i not in got:
                mine = here or died
                if live:
                    take(wait=not (mine and claiming), first=i)
                    if i in got:
                        break
                    mine = here or died
                if mine and claiming:
                    claimed = os.read(claims, 1)
                    if claimed:
                        k = claimed[0]
                        try:
                            got[k] = (True, fn(items[k]), True)
                        except Exception as exc:  # (raised in its place, after those before it)
                            got[k] = (False, exc, True)
                        continue
                    claiming = False
                    os.close(claims)
                elif not live or (died and not claiming):  # (claimed by a child that died)
                    try:
                        got[i] = (True, fn(items[i]), True)
                    except Exception as exc:
                        got[i] = (False, exc, True)
            ok, value, made_here = got.pop(i)
            if not ok:
                raise value
            yield cast(R, value if across is None or made_here else across[1](value))
            taken += 1
    finally:
        if claiming:
            os.close(claims)
        _let_go(list(live.values()), unfinished=taken < n)


def _start_claiming(
    fn: Callable[[T], object], items: Sequence[T], claims: int, others: list[BinaryIO]
) -> tuple[int, BinaryIO] | None:
    """A child that claims items from ``claims`` until none is left, sending the index,
    whether ``fn`` made it, and the result (or the exception) of each down a pipe of its
    own (unbuffered here: it is waited on with ``select``); None where none can be
    started."""

    def work(write: int) -> None:
        while claimed := os.read(claims, 1):
            _send(write, _message(fn, items[claimed[0]], claimed[0]))
        _send(write, b"")  # (done: every claim sent)

    return _forked(work, others, buffered=False, room=CLAIMED_ROOM)


@contextlib.contextmanager
def beside(fn: Callable[[], R]) -> Iterator[Callable[[], R]]:
    """``fn()`` made by a forked child while the caller goes on: the block is given a
    function that waits for the result and returns it (pickled across), or raises what
    ``fn`` raised there. Where no child could be forked, or it died, ``fn()`` is made here
    when the result is asked for; asked for again, the result is the same one. The child
    is let go when the block ends (stopped, if its result was never taken)."""
    # (Not where children reap themselves, as ``ahead`` says: one stopped early could not
    # be waited for; the work is then made here.)
    reaped = signal.getsignal(signal.SIGCHLD) == signal.SIG_IGN
    child = None if reaped else _start(lambda _: fn(), [None], [])
    made: list[R] = []

    def result() -> R:
        nonlocal child
        if not made:
            got = _next_of(child)  # (a child that died is let go by it)
            if got is _ENDED:
                child = None
                got = fn()
            elif child is not None:
                _let_go([child], unfinished=False)
                child = None
            made.append(cast(R, got))
        return made[0]

    try:
        yield result
    finally:
        if child is not None:
            _let_go([child], unfinished=True)


def _start(
    fn: Callable[[T], R], items: Sequence[T], others: list[BinaryIO]
) -> tuple[int, BinaryIO] | None:
    """A child that sends ``fn(item)`` for each of ``items`` down a pipe, in order; None
    where none can be started."""

    def work(write: int) -> None:
        for item in items:
            _send(write, _message(fn, item))

    return _forked(work, others)


def _forked(
    work: Callable[[int], None], others: list[BinaryIO], *, buffered: bool = True, room: int = 0
) -> tuple[int, BinaryIO] | None:
    """A child that runs ``work`` on the write end of a pipe, and then exits, whatever
    happens (the pipes of ``others``, the caller's other children, closed in it first);
    its pid and the pipe's read end. ``room``: the bytes the pipe should hold, where the
    system lets it be asked. None where none can be started (no pipe to be had, or the
    fork refused: a limit on processes)."""
    try:
        read, write = os.pipe()
    except OSError:
        return None
    if room:
        _make_room(write, room)
    # Ctrl-C held off across the fork: a child interrupted before its ``try`` would go on
    # running the parent's code.
    held = signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT})
    try:
        pid = os.fork()
    except BaseException as exc:
        signal.pthread_sigmask(signal.SIG_SETMASK, held)
        os.close(read)
        os.close(write)
        if isinstance(exc, OSError):
            return None
        raise
    if pid == 0:
        code = 1
        try:
            signal.pthread_sigmask(signal.SIG_SETMASK, held)
            os.close(read)
            for other in others:
                other.close()
            work(write)
            code = 0
        finally:
            os._exit(code)  # (no clean-up of the parent's state: it is the parent's)
    os.close(write)
    child = pid, os.fdopen(read, "rb") if buffered else os.fdopen(read, "rb", buffering=0)
    try:
        signal.pthread_sigmask(signal.SIG_SETMASK, held)  # (a Ctrl-C held is raised here)
    except BaseException:
        _let_go([child], unfinished=True)
        raise
    return child


#: What a claiming child's pipe should hold: a run's results (600 KB for 625 cards) put
#: down at once, where the 64 KiB a pipe holds by default kept the child waiting until
#: this process had made its own item and read them.
CLAIMED_ROOM = 1 << 20


def _make_room(fd: int, size: int) -> None:
    """Ask that the pipe ``fd`` hold ``size`` bytes (Linux's ``F_SETPIPE_SZ``); where the
    system has no such call, or refuses (past its limit), the pipe stays as it is."""
    try:
        import fcntl
    except ImportError:  # pragma: no cover - not POSIX
        return
    setting = getattr(fcntl, "F_SETPIPE_SZ", None)
    if setting is not None:
        with contextlib.suppress(OSError):
            fcntl.fcntl(fd, setting, size)


def _message(fn: Callable[[T], object], item: T, *head: int) -> bytes:
    """``fn(item)`` pickled as a child sends it: ``head``, whether it was made, and the
    result, or the exception raised (to be raised where the caller is)."""
    try:
        return pickle.dumps((*head, True, fn(item)), pickle.HIGHEST_PROTOCOL)
    except Exception as exc:
        return pickle.dumps((*head, False, _picklable(exc)), pickle.HIGHEST_PROTOCOL)


def _picklable(exc: Exception) -> Exception:
    """``exc``, or its message in a RuntimeError where it would not cross whole (it does
    not pickle, or its class cannot be made again from what pickling keeps)."""
    try:
        pickle.loads(pickle.dumps(exc))
    except Exception:
        return RuntimeError(f"{type(exc).__name__}: {exc}")
    return exc


def _send(fd: int, data: bytes) -> None:
    """``data`` down the pipe ``fd``, its length first."""
    view = memoryview(len(data).to_bytes(8, "little") + data)
    while view:
        view = view[os.write(fd, view) :]


def _receive(pipe: BinaryIO) -> bytes | None:
    """What ``_send`` sent, or None where the pipe ended first (the child failed)."""
    head = _read_exactly(pipe, 8)
    if len(head) != 8:
        return None
    size = int.from_bytes(head, "little")
    data = _read_exactly(pipe, size)
    return data if len(data) == size else None


def _read_exactly(pipe: BinaryIO, n: int) -> bytes:
    """``n`` bytes of ``pipe``, fewer only where it ended first. (A buffered pipe reads them
    in one call; an unbuffered one, as ``select`` needs, may give fewer at a time.)"""
    data = pipe.read(n)
    if len(data) == n or not data:
        return data
    chunks = [data]
    got = len(data)
    while got < n:
        chunk = pipe.read(n - got)
        if not chunk:
            break
        chunks.append(chunk)
        got += len(chunk)
    return b"".join(chunks)


#: What ``_take`` gives where the child ended before it sent the result (it died).
_ENDED = object()


def _next_of(child: tuple[int, BinaryIO] | None) -> Any:
    """The child's next result; ``_ENDED`` where it has none to give: it was never forked,
    or it died (and is let go)."""
    if child is None:
        return _ENDED
    result = _take(child[1])
    if result is _ENDED:
        _let_go([child], unfinished=True)
    return result


def _take(pipe: BinaryIO) -> Any:
    """The next result down ``pipe`` (``_ENDED``: none came); an exception the child's
    function raised is raised here."""
    data = _receive(pipe)
    if data is None:
        return _ENDED
    ok, value = pickle.loads(data)
    if not ok:
        raise value
    return value


@dataclass(slots=True)
class Ahead:
    """Functions run in a forked child, one after another, while the caller goes on (see
    ``ahead``): the child, and the pipe their results come down, in order."""

    pid: int
    pipe: BinaryIO
    done: bool = False  # every result taken, the child failed, or it was let go

    def take(self) -> Any:
        """The next function's result, as marshal carried it (plain values only); None
        once the child failed, or every result was taken (the caller then does the work)."""
        if self.done:
            return None
        data = _receive(self.pipe)
        if data is None:
            self.close()  # (the child failed: it sends nothing more)
            return None
        try:
            return marshal.loads(data)
        except (EOFError, ValueError, TypeError):
            self.close()
            return None

    def close(self) -> None:
        """Let the child go, asked or not: stopped where it is (it only looks: it writes
        nothing but the pipe) and waited for, so that no process is left behind; a build
        that needs no more of it does not wait for the rest."""
        if not self.done:
            self.done = True
            self.pipe.close()
            with contextlib.suppress(ProcessLookupError):
                os.kill(self.pid, signal.SIGKILL)  # (not reaped yet: the pid is still its own)
            with contextlib.suppress(ChildProcessError):
                os.waitpid(self.pid, 0)


@contextlib.contextmanager
def ahead(*fns: Callable[[], object]) -> Iterator[Ahead | None]:
    """``fns`` started in a forked child, each after the one before, for the caller to take
    their results later (``Ahead.take``, in the same order) from work it did meanwhile: a
    survey's thousands of ``lstat`` calls, made while the caller imports its modules and
    loads its cache. ``fns`` must only look (the child is stopped wherever it is when the
    block ends: it may write nothing but the pipe). None where this system cannot fork, or
    where children are reaped by themselves (SIGCHLD ignored, as a caller may leave it:
    this child could not be waited for, and its pid could be another's by the time it is
    stopped); the child is always stopped and waited for when the block ends."""
    if not hasattr(os, "fork") or signal.getsignal(signal.SIGCHLD) == signal.SIG_IGN:
        yield None
        return

    def work(write: int) -> None:  # each result down the pipe, its length first
        for fn in fns:
            _send(write, marshal.dumps(fn()))  # type: ignore[arg-type]  # (else: no more results)

    child = _forked(work, [])
    if child is None:  # (too many processes): the caller does the work itself
        yield None
        return
    pending = Ahead(*child)
    try:
        yield pending
    finally:
        pending.close()


def ranges(n: int, parts: int) -> list[range]:
    """``range(n)`` cut into ``parts`` runs of about equal length, in order."""
    parts = max(1, min(parts, n))
    return [range(n * i // parts, n * (i + 1) // parts) for i in range(parts)]
