"""Keeping Python's cycle collector off the pipeline's many long-lived objects.

Reading a large dossier makes millions of objects and no reference cycles worth
collecting; the collector would otherwise rescan the growing heap again and again (about
a third of the time of a 10,000-card check), so reading runs with it paused. Rendering
does make cycles (Jinja's contexts), so it runs with the collector on, but with the heap
built so far frozen: the collector then scans only what rendering makes.
"""

from __future__ import annotations

import contextlib
import gc
from collections.abc import Iterator


@contextlib.contextmanager
def collector_paused() -> Iterator[None]:
    was = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
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
