"""A cache of quote verifications and extracted texts keyed by content hashes, kept between runs.

Extracting a PDF's text is slow, so HTML and PDF sources are extracted once per version of
their bytes (keyed by their sha256).

Finding a quote is the costly part of a check; the result depends only on the quote, the
source's bytes and the settings, so that triple (hashed) is the key. Changing a source
therefore re-verifies every quote from it; nothing is keyed on mtimes. Only matches are
kept (a miss is rare and is explained afresh). The cache lives in the user's cache
folder, never in the repository, so a pull request cannot plant one; it is stored with
``marshal`` (plain tuples, fast to load) and is ignored when unreadable or stale.
"""

from __future__ import annotations

import hashlib
import marshal
import os
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from . import __version__
from .model import Fact, fact_from_record, fact_record
from .problems import Problem, Verdict, problem_from_record, problem_record
from .quotes import Match, Settings

FORMAT = 11
#: How many output folders' manifests are kept (a manifest is about 0.4 MB a 1,000 pages).
SITES = 2

Entry = tuple[tuple[tuple[int, int], ...], tuple[tuple[int, int], ...], tuple[tuple[str, str], ...]]


def default_dir() -> Path:
    if explicit := os.environ.get("DOSSIER_CACHE_DIR"):
        return Path(explicit)
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "dossier"


def path_for(content_dir: Path, folder: Path | None = None) -> Path:
    key = hashlib.sha256(str(content_dir.resolve()).encode()).hexdigest()[:20]
    return (folder or default_dir()) / f"quotes-{key}.marshal"


def key(quote: str, source_sha256: str, settings: Settings) -> bytes:
    limits = f"{settings.max_omission}\0{settings.max_substitution}\0{settings.min_words}"
    raw = f"{source_sha256}\0{limits}\0{quote}"
    return hashlib.blake2b(raw.encode("utf-8", "surrogatepass"), digest_size=16).digest()


Extraction = tuple[str, tuple[int, ...]]


@dataclass(slots=True)
class Cache:
    entries: dict[bytes, Entry] = field(default_factory=dict)
    #: sha256 of an HTML or PDF source's bytes -> its extracted text and page offsets
    extracted: dict[str, Extraction] = field(default_factory=dict)
    #: (shown path, sha256 of a card's bytes) -> the card read, as plain tuples in marshal's
    #: bytes (one bytes object a card loads and stays far smaller than the tuples)
    cards: dict[tuple[str, str], bytes] = field(default_factory=dict)
    used: set[bytes] = field(default_factory=set)
    used_extracted: set[str] = field(default_factory=set)
    used_cards: set[tuple[str, str]] = field(default_factory=set)
    #: shown path of a card -> (size, mtime_ns, ctime_ns, inode, device, sha256) when last read
    card_stats: dict[str, tuple[int, int, int, int, int, str]] = field(default_factory=dict)
    #: (source sha256, matched spans) -> a quote's line, passage and text fragment (see
    #: ``generators.generate``); replaced whole by each build
    placements: dict[Any, tuple[int, str, str]] = field(default_factory=dict)
    #: a claim's text -> its inline Markdown as HTML and as plain text (see render.Claims);
    #: replaced whole by each build
    claims: dict[str, tuple[str, str]] = field(default_factory=dict)
    #: a fact page's input digest -> its entries in dossier.json and the search index
    #: (see data.Entries); replaced whole by each build
    entries_json: dict[str, tuple[str, str]] = field(default_factory=dict)
    #: the real path of an output folder -> what the last build wrote there
    sites: dict[str, dict[str, tuple[str, int, int, int, str]]] = field(default_factory=dict)
    hits: int = 0

    def card(self, key: tuple[str, str]) -> tuple[Fact | None, list[Problem]] | None:
        stored = self.cards.get(key)
        if stored is None:
            return None
        self.used_cards.add(key)
        return _card_from_tuple(marshal.loads(stored))

    def put_card(self, key: tuple[str, str], fact: Fact | None, problems: list[Problem]) -> None:
        self.cards[key] = marshal.dumps(_card_to_tuple(fact, problems))  # type: ignore[arg-type]
        self.used_cards.add(key)

    def remember_site(self, key: str, manifest: dict[str, tuple[str, int, int, int, str]]) -> None:
        """Keep what a build wrote to an output folder: for the last SITES folders only."""
        self.sites.pop(key, None)
        self.sites[key] = manifest
        for old in list(self.sites)[:-SITES]:
            del self.sites[old]

    def get(self, k: bytes) -> Match | None:
        entry = self.entries.get(k)
        if entry is None:
            return None
        self.used.add(k)
        self.hits += 1
        return Match(*entry)

    def put(self, k: bytes, match: Match) -> None:
        self.entries[k] = (match.spans, match.nspans, match.warnings)
        self.used.add(k)


def _stamp() -> tuple[int, str, str]:
    return (FORMAT, __version__, sys.version)


def load(path: Path) -> Cache:
    """The cache at ``path``, or an empty one when it is missing, unreadable or stale."""
    try:
        data = path.read_bytes()
    except OSError:
        return Cache()
    return load_bytes(data)


def load_bytes(data: bytes) -> Cache:
    try:
        stamp, entries, extracted, cards, stats, placements, claims, entries_json, sites = marshal.loads(data)
    except (EOFError, ValueError, TypeError):
        return Cache()
    parts = (entries, extracted, cards, stats, placements, claims, entries_json, sites)
    if stamp != _stamp() or not all(isinstance(x, dict) for x in parts):
        return Cache()
    return Cache(
        entries, extracted, cards, card_stats=stats, placements=placements, claims=claims,
        entries_json=entries_json, sites=sites,
    )  # fmt: skip


def dump(cache: Cache) -> bytes:
    """The bytes to store: only what this run used, so deleted quotes do not pile up."""
    kept = {k: v for k, v in cache.entries.items() if k in cache.used}
    texts = {k: v for k, v in cache.extracted.items() if k in cache.used_extracted}
    cards = {k: v for k, v in cache.cards.items() if k in cache.used_cards}
    stats = {k: v for k, v in cache.card_stats.items() if (k, v[-1]) in cache.used_cards}
    built = (cache.placements, cache.claims, cache.entries_json, cache.sites)
    return marshal.dumps((_stamp(), kept, texts, cards, stats, *built))


# --- cards as plain tuples (see model.fact_record) ---------------------------------------


def _card_to_tuple(fact: Fact | None, problems: list[Problem]) -> tuple[object, ...]:
    return (None if fact is None else fact_record(fact), tuple(problem_record(p) for p in problems))


def _card_from_tuple(stored: Any) -> tuple[Fact | None, list[Problem]]:
    raw, probs = stored
    problems = [problem_from_record(p) for p in probs]
    return (None if raw is None else fact_from_record(raw)), problems


# --- the last check's verdict, in a file of its own (small: read before anything else) ---


def verdict_path(content_dir: Path, folder: Path | None = None) -> Path:
    quotes = path_for(content_dir, folder)
    return quotes.with_name("check-" + quotes.name.removeprefix("quotes-"))


def load_verdict(path: Path) -> Verdict | None:
    try:
        stamp, fingerprint, probs, facts, quotes, cards = marshal.loads(path.read_bytes())
        if stamp != _stamp() or not isinstance(cards, dict):
            return None
        return Verdict(fingerprint, [problem_from_record(p) for p in probs], facts, quotes, cards)
    except (OSError, EOFError, ValueError, TypeError):
        return None


def dump_verdict(verdict: Verdict) -> bytes:
    probs: Any = tuple(problem_record(p) for p in verdict.problems)
    cards: Any = verdict.cards
    return marshal.dumps((_stamp(), verdict.fingerprint, probs, verdict.facts, verdict.quotes, cards))
