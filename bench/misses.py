"""Quotes that are not in their source, against one source of about 100 KB: how long the
verifier takes to say so and to find the nearest passage, beside a quote it finds.

``generate_misses`` writes a dossier of one such source and cards each quoting it wrongly,
in one of four ways (a word changed, two words swapped, a word dropped, words made up from
the source's own vocabulary); ``measure`` times the verifier on each kind in this process
(the source prepared once, as ``dossier check`` prepares it) and ``dossier check`` on the
whole dossier as a command. ``run.py`` prints both after its tables (``make bench``).
"""

from __future__ import annotations

import hashlib
import random
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

from generate import WORDS, pick_quote, source_text, yaml_str

#: About the size of the source the misses are made against.
SOURCE_SIZE = 100_000
#: Quotes of each kind.
PER_KIND = 50


def _words(quote: str) -> list[str]:
    return quote.split()


def _clear(words: list[str], i: int) -> bool:
    """Is word ``i`` a word, away from an omission (which could take up the change)?"""
    return all(words[j] != "..." for j in range(max(i - 1, 0), min(i + 2, len(words))))


def _changed(rng: random.Random, quote: str) -> str:
    words = _words(quote)
    words[rng.choice([i for i in range(len(words)) if _clear(words, i)])] = "zeppelin"  # never in it
    return " ".join(words)


def _swapped(rng: random.Random, quote: str) -> str:
    words = _words(quote)
    pairs = [
        i
        for i in range(len(words) - 1)
        if _clear(words, i) and _clear(words, i + 1) and words[i].lower() != words[i + 1].lower()
    ]
    i = rng.choice(pairs)
    words[i], words[i + 1] = words[i + 1], words[i]
    return " ".join(words)


def _dropped(rng: random.Random, quote: str) -> str:
    words = _words(quote)
    low = [w.lower() for w in words]
    # (not one of a word written twice: "met met" less a "met" is still in the source)
    alone = [i for i in range(1, len(words) - 1) if low[i] not in (low[i - 1], low[i + 1])]
    del words[rng.choice([i for i in alone if _clear(words, i)])]
    return " ".join(words)


def _made_up(rng: random.Random, quote: str) -> str:
    return " ".join(rng.choice(WORDS) for _ in quote.split())


KINDS: dict[str, Callable[[random.Random, str], str]] = {
    "a word changed": _changed,
    "two words swapped": _swapped,
    "a word dropped": _dropped,
    "words made up": _made_up,
}


def quotes_of(text: str, seed: int = 11) -> tuple[list[str], dict[str, list[str]]]:
    """PER_KIND quotes the source holds, and as many of each kind that it does not."""
    rng = random.Random(seed)
    hits = [pick_quote(rng, text) for _ in range(PER_KIND)]
    return hits, {kind: [make(rng, q) for q in hits] for kind, make in KINDS.items()}


def generate_misses(root: Path, seed: int = 5) -> tuple[str, list[str], dict[str, list[str]]]:
    """A dossier in ``root`` of one source of SOURCE_SIZE and a card for each miss; returns
    the source's text, the hits and the misses by kind."""
    text = source_text(random.Random(seed), SOURCE_SIZE)
    hits, misses = quotes_of(text)
    (root / "sources").mkdir(parents=True)
    (root / "facts").mkdir()
    (root / "dossier.yaml").write_text("title: Misquoted\n")
    data = text.encode()
    (root / "sources" / "long.txt").write_bytes(data)
    (root / "sources" / "long.yaml").write_text(
        f"title: A long source\nsha256: {hashlib.sha256(data).hexdigest()}\n"
    )
    for k, quotes in enumerate(misses.values()):
        for i, quote in enumerate(quotes):
            (root / "facts" / f"miss-{k}-{i:03d}.yaml").write_text(
                f"claim: Misquoted {k}.{i}.\nstatus: unverified\nevidence:\n"
                f"  - source: long\n    quote: {yaml_str(quote)}\n"
            )
    return text, hits, misses


def _ms(seconds: list[float]) -> str:
    return f"median {statistics.median(seconds) * 1e3:.2f} ms, slowest {max(seconds) * 1e3:.2f} ms"


def measure(text: str, hits: list[str], misses: dict[str, list[str]]) -> list[str]:
    """The verifier's time for each quote, by kind, in lines to print (the first line: what
    preparing the source took, its token index for nearest passages included)."""
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
    from dossier import quotes

    start = time.perf_counter()
    source = quotes.Source(text)
    prepared = time.perf_counter() - start
    start = time.perf_counter()
    source.token_index  # noqa: B018  (made on the first miss: timed apart from it)
    indexed = time.perf_counter() - start
    lines = [
        f"prepared in {prepared * 1e3:.1f} ms (normalised), its word index for nearest passages "
        f"in {indexed * 1e3:.1f} ms"
    ]
    for kind, said in [("found", hits), *misses.items()]:
        spent = []
        for quote in said:
            start = time.perf_counter()
            result = quotes.verify(quote, source)
            spent.append(time.perf_counter() - start)
            if isinstance(result, quotes.Match) != (kind == "found"):
                raise SystemExit(f"the benchmark's quote is not what it says ({kind}): {quote}")
        lines.append(f"{kind:<18} {len(said):>3} quotes: {_ms(spent)}")
    return lines
