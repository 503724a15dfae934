"""Keeping Python's cycle collector off the pipeline's many long-lived objects.

Reading a large dossier makes millions of objects and no reference cycles worth
collecting; the collector would otherwise rescan the growing heap again and again (about
a third of the time of a 10,000-card check), so reading runs with it paused. Rendering
does make cycles (Jinja's contexts), so it runs with the collector on, but with the heap
built so far frozen: the collector then scans only what rendering makes.

What a command reads, loads and plans (the content checked, a cache, a plan, the site's
data) is frozen when its pause ends (``freeze``): it lives as long as the build, and the
first collection after a pause would otherwise scan all of it. It must hold no reference
cycles (a test checks a check's), since frozen they would outlive their use. Publishing
unfreezes everything when it ends (``heap_frozen``); a long-lived caller that builds
again and again calls ``gc.unfreeze()`` after each build too (``serve`` does).
"""

from __future__ import annotations

import contextlib
import gc
import os
from collections.abc import Iterator


@contextlib.contextmanager
def collector_paused(*, freeze: bool = False) -> Iterator[None]:
    """The collector off for the block. ``freeze``: and what is alive after it (a cache
    loaded, a plan made, the content checked: no cycles) left out of later collections,
    which would otherwise scan it all once more as it ages (0.07 s of a 1 s build after an
    edit; 0.45 s after a check of 10,000 cards)."""
    was = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if freeze:
            gc.freeze()
        if was:
            gc.enable()


@contextlib.contextmanager
def heap_frozen() -> Iterator[None]:
    """Everything alive now is left out of collections until the block ends."""
    gc.freeze()
    try:
        yield
    finally:
        gc.unfreeze()


def give_back_memory() -> None:
    """Hand the C heap's free pages back to the system, where the C library can (glibc's
    ``malloc_trim``; elsewhere this does nothing, and nothing depends on it).

    A build frees far more than it keeps (the content read, the pages made), but the
    allocator holds on to most of it, scattered between what is still alive; writing the
    cache then takes fresh pages on top. Called between the two, it keeps the peak of a
    10,000-card build 30 MB lower."""
    if os.name != "posix":  # (ctypes.CDLL(None), the process's own C library, is POSIX's)
        return
    import ctypes

    try:
        trim = ctypes.CDLL(None).malloc_trim
    except (AttributeError, OSError, TypeError):
        return
    trim(0)
