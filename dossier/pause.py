"""Pausing Python's cycle collector while the pipeline builds its many small objects.

Reading and rendering a large dossier makes millions of short-lived objects and no
reference cycles worth collecting; the collector would otherwise rescan the growing heap
again and again (about a third of the time of a 10,000-card check).
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
