"""What is kept between runs, keyed by content hashes: in three files per content folder.

- The check part: quote verifications, parsed cards, extracted texts. Finding a quote is
  the costly part of a check; the result depends only on the quote, the source's bytes and
  the settings, so that triple (hashed) is the key, and changing a source re-verifies every
  quote from it. Only matches are kept (a miss is rare and is explained afresh). A card is
  kept by its bytes' sha256 (and, to skip reading it, by its stat). HTML and PDF sources
  are extracted once per version of their bytes. Quotes and cards are kept in shards
  (``shards``): a run after an edit decodes only the few it asks for.
- The build part: where quotes stand, claims' Markdown, the templates compiled, and per
  output folder what the last build wrote and what it was made from.
- The last check's verdict (see ``check.recall``).

The cache lives in the user's cache folder, never in the repository, so a pull request
cannot plant one; it is stored with ``marshal`` (plain tuples, fast to load), stamped with
the code that made it, and ignored when unreadable or stale. It also holds compiled
templates, which run when loaded (and ``marshal`` is not safe against crafted bytes): the
folder must be as private as the user's own files, as a ``__pycache__`` is.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import functools
import hashlib
import marshal
import mmap
import os
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from . import __version__
from .model import Fact, fact_from_record, fact_record
from .pause import collector_paused
from .problems import Pos, Problem, Verdict, problem_from_record, problem_record
from .quotes import Match, Settings
from .schema import Rec
from .shards import Shards
from .yamlread import Node, node_from_record, node_record

FORMAT = 28
#: How many output folders' manifests are kept (a manifest is about 0.4 MB a 1,000 pages).
SITES = 2

Entry = tuple[tuple[tuple[int, int], ...], tuple[tuple[int, int], ...], tuple[tuple[str, str], ...]]
#: A stored part as read: its bytes, or the file mapped (``read_bytes``).
Stored = bytes | mmap.mmap


def default_dir() -> Path:
    if explicit := os.environ.get("DOSSIER_CACHE_DIR"):
        return Path(explicit)
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "dossier"


def path_for(content_dir: Path, folder: Path | None = None) -> Path:
    """Where the check part of CONTENT_DIR's cache is kept (``build_path_for``: the rest)."""
    key = hashlib.sha256(str(content_dir.resolve()).encode()).hexdigest()[:20]
    return (folder or default_dir()) / f"quotes-{key}.marshal"


def build_path_for(content_dir: Path, folder: Path | None = None) -> Path:
    quotes = path_for(content_dir, folder)
    return quotes.with_name("build-" + quotes.name.removeprefix("quotes-"))


def key(quote: str, source_sha256: str, kind: str, settings: Settings) -> bytes:
    """A quote's key: the quote, the settings, and the text it is looked for in, by the
    source's bytes and how they are read (the same bytes as HTML or as text differ)."""
    limits = f"{settings.max_omission}\0{settings.max_substitution}\0{settings.min_words}"
    raw = f"{source_sha256}.{kind}\0{limits}\0{quote}"
    return hashlib.blake2b(raw.encode("utf-8", "surrogatepass"), digest_size=16).digest()


Extraction = tuple[str, tuple[int, ...]]


@dataclass(slots=True)
class Cache:
    #: (a ``Shards`` of bytes -> Entry)
    entries: Shards = field(default_factory=Shards)
    #: sha256 of an HTML or PDF source's bytes, "." and its kind -> its extracted text and
    #: page offsets
    extracted: dict[str, Extraction] = field(default_factory=dict)
    #: (shown path, sha256 of a card's bytes) -> the card read, as plain tuples in marshal's
    #: bytes (one bytes object a card loads and stays far smaller than the tuples); a
    #: source's metadata file is kept here too, by the same kind of key
    cards: Shards = field(default_factory=Shards)
    used: set[bytes] = field(default_factory=set)
    used_extracted: set[str] = field(default_factory=set)
    used_cards: set[tuple[str, str]] = field(default_factory=set)
    #: shown path of a card -> (size, mtime_ns, ctime_ns, inode, device, sha256) when last read
    card_stats: Shards = field(default_factory=Shards)
    #: (source sha256, matched spans) -> a quote's line and text fragment (see
    #: ``generators.Placements``); replaced whole by each build
    placements: Shards = field(default_factory=Shards)
    #: markdown-it-py's version -> a claim's text -> its inline Markdown as HTML and as plain
    #: text (see render.Claims); replaced whole by each build
    claims: dict[str, dict[str, tuple[str, str]]] = field(default_factory=dict)
    #: what renders pages (``build.render_digest``) -> Jinja's key of a template -> the
    #: template compiled (see ``render.Renderer``); replaced whole by each build. (Compiled
    #: code, run when loaded: the cache folder must be as private as the user's own files,
    #: as a ``__pycache__`` is.)
    templates: dict[str, dict[str, bytes]] = field(default_factory=dict)
    #: the real paths of the output folders whose last build is kept, oldest first (the
    #: values mean nothing): each folder's part is stored in a file of its own, read only
    #: when a build of that folder opens it (``open_site``)
    folders: dict[str, str] = field(default_factory=dict)
    #: reads the stored bytes of an output folder's part (None: there are none)
    read_folder: Callable[[str], Stored | None] | None = None
    #: the output folders whose part changed in this run (only those are written)
    dirty: set[str] = field(default_factory=set)
    #: Of the folders opened: the real path of an output folder -> a digest of the last
    #: build's inputs
    built_from: dict[str, str] = field(default_factory=dict)
    #: the real path of an output folder -> what the last build wrote there
    sites: dict[str, dict[str, tuple[str, int, int, int, str]]] = field(default_factory=dict)
    #: the real path of an output folder -> a file the last build assembled from pieces ->
    #: where each piece stands in it (see ``pieces``)
    pieces: dict[str, dict[str, dict[str, dict[str, int]]]] = field(default_factory=dict)
    #: the real path of an output folder -> what the last build made of each fact and
    #: source (a ``ledger.Record``)
    ledgers: dict[str, Any] = field(default_factory=dict)
    #: the real path of an output folder -> (its ledger's record, the ``ledger.Ledger`` made
    #: of it): never stored, so that a process building again and again (``serve``) does
    #: not decode the whole ledger for every edit
    decoded: dict[str, tuple[Any, Any]] = field(default_factory=dict)
    #: the real path of an output folder -> a list page -> its skeleton's record (see
    #: ``splice``)
    skeletons: dict[str, dict[str, Any]] = field(default_factory=dict)
    hits: int = 0
    #: something was added since loading (so the check part must be written)
    changed: bool = False
    #: how many of the things added are quick to make again (a quote found, a card read,
    #: a card's stat); ``costly``: something else was (an extracted text)
    cheap: int = 0
    costly: bool = False
    #: everything held is kept, asked for or not (``keep_all``)
    kept_all: bool = False
    #: the output folders as the stored build part named them (None: no build part was
    #: loaded); and how many claims and placements the updates since made anew (None: no
    #: build part was loaded, or a full build ran since)
    build_loaded: tuple[str, ...] | None = None
    build_cheap: int | None = None

    @classmethod
    def of(cls, check_part: Stored | None, build_part: Stored | None) -> Cache:
        """A cache from the stored bytes of its parts; a part that is unreadable or from
        another version of dossier or Python counts as empty."""
        out = cls()
        try:
            stamp, entries, extracted, cards, stats = marshal.loads(check_part or b"")
            sharded = [Shards.stored(x) for x in (entries, cards, stats)]
            if stamp == _stamp() and isinstance(extracted, dict) and all(x is not None for x in sharded):
                out.entries, out.cards, out.card_stats = sharded  # type: ignore[assignment]
                out.extracted = extracted
        except (EOFError, ValueError, TypeError):
            pass
        try:
            stamp, *built = marshal.loads(build_part or b"")
            if stamp == _stamp() and len(built) == 4 and all(isinstance(x, dict) for x in built[1:]):
                placements, out.claims, out.folders, out.templates = built
                stored = Shards.stored(placements)
                out.placements = stored or Shards()
                if stored is not None:  # (a part whose placements are lost is written again)
                    out.build_loaded, out.build_cheap = tuple(out.folders), 0
        except (EOFError, ValueError, TypeError):
            pass
        return out

    def card(self, key: tuple[str, str]) -> tuple[Fact | None, list[Problem]] | None:
        stored = self._read(key)
        return None if stored is None else _card_from_tuple(stored)

    def put_card_bytes(self, key: tuple[str, str], stored: bytes) -> None:
        """Keep a card read, made into its stored bytes (``card_bytes``)."""
        self.cards[key] = stored
        self.used_cards.add(key)
        self.changed = True
        self.cheap += 1

    def meta(self, key: tuple[str, str]) -> tuple[Rec | None, list[Problem]] | None:
        """A source's metadata read before (kept beside the cards, by the same kind of key)."""
        stored = self._read(key)
        return None if stored is None else _meta_from_tuple(stored)

    def put_meta(self, key: tuple[str, str], rec: Rec | None, problems: list[Problem]) -> None:
        self._keep(key, _meta_to_tuple(rec, problems))

    def tree(self, key: tuple[str, str]) -> tuple[Node | None, list[Problem]] | None:
        """A YAML file's tree composed before (dossier.yaml, entities.yaml), and its
        problems, kept beside the cards by the same kind of key."""
        stored = self._read(key)
        if stored is None:
            return None
        raw, probs = stored
        return (None if raw is None else node_from_record(raw)), [problem_from_record(p) for p in probs]

    def put_tree(self, key: tuple[str, str], node: Node | None, problems: list[Problem]) -> None:
        raw = None if node is None else node_record(node)
        self._keep(key, (raw, tuple(problem_record(p) for p in problems)))

    def _read(self, key: tuple[str, str]) -> Any:
        stored = self.cards.get(key)
        if stored is None:
            return None
        self.used_cards.add(key)
        return marshal.loads(stored)

    def _keep(self, key: tuple[str, str], record: Any) -> None:
        self.put_card_bytes(key, marshal.dumps(record))

    def remember_site(
        self,
        key: str,
        manifest: dict[str, tuple[str, int, int, int, str]],
        inputs: str,
        pieces: dict[str, dict[str, dict[str, int]]] | None = None,
        *,
        same: bool = False,
    ) -> None:
        """Keep what a build wrote to an output folder, a digest of what it was made from
        (see build) and where the pieces of its assembled files stand (None: as they
        were): for the last SITES folders only. ``same``: all of it as stored (a build
        that did nothing): the folder only becomes the newest."""
        self.open_site(key)
        if not same:
            self.dirty.add(key)
        self.sites[key] = manifest
        self.built_from[key] = inputs
        if pieces is not None:
            self.pieces[key] = pieces
        self.folders.pop(key, None)
        self.folders[key] = ""  # the newest
        for old in list(self.folders)[:-SITES]:
            del self.folders[old]
            for kept in self._per_folder():
                kept.pop(old, None)

    def _per_folder(self) -> tuple[dict[str, Any], ...]:
        """What is kept for each output folder, by its real path."""
        return (self.sites, self.built_from, self.pieces, self.ledgers, self.skeletons, self.decoded)

    def open_site(self, key: str) -> None:
        """Read what is kept of output folder ``key`` (if anything)."""
        if key in self.sites or key not in self.folders or self.read_folder is None:
            return
        stored = self.read_folder(key)
        try:
            with collector_paused(freeze=True):
                stamp, manifest, inputs, pieces, ledger, skeletons = marshal.loads(stored or b"")
        except (EOFError, ValueError, TypeError):
            return
        finally:
            close(stored)
        if stamp != _stamp() or not isinstance(manifest, dict):
            return
        self.sites[key], self.built_from[key] = manifest, inputs
        if pieces is not None:
            self.pieces[key] = pieces
        if ledger is not None:
            self.ledgers[key] = ledger
        if isinstance(skeletons, dict):
            self.skeletons[key] = skeletons

    def forget_site(self, key: str) -> None:
        """Let go of what is kept of output folder ``key``'s last build (its files are
        gone: none of it can be used); what the next build there makes replaces it."""
        for kept in self._per_folder():
            kept.pop(key, None)

    def keep_all(self) -> None:
        """Keep everything held (for a run that read only part of the folder: what it
        did not read is still there)."""
        self.kept_all = True

    def get(self, k: bytes) -> Match | None:
        entry = self.entries.get(k)
        if entry is None:
            return None
        self.used.add(k)
        self.hits += 1
        return Match(*entry)

    def put(self, k: bytes, match: Match) -> None:
        if self.entries.put(k, (match.spans, match.nspans, match.warnings)):
            self.changed = True
            self.cheap += 1
        self.used.add(k)


def _stamp() -> tuple[int, str, str, str]:
    """What the stored results were made with: a cache from other code is not read."""
    return (FORMAT, __version__, sys.version, code_digest())


@functools.cache
def code_digest() -> str:
    """A digest of dossier's own code and of PyYAML's version (it reads the cards), so that
    an upgrade, or an edit of a checkout, never meets results of the old code. Made once a
    process: reading dossier's sources takes about a millisecond. (The libraries that make
    pages count for builds: see build.render_digest.)"""
    h = hashlib.blake2b(digest_size=16)
    h.update(f"yaml {library_version('yaml', 'PyYAML', '[Pp]y[Yy][Aa][Mm][Ll]')}\0".encode())
    package = Path(__file__).resolve().parent
    for path in sorted(package.rglob("*.py")):
        h.update(path.relative_to(package).as_posix().encode() + b"\0" + path.read_bytes())
    return h.hexdigest()


def library_version(module: str, dist: str, pattern: str) -> str:
    """A library's version, from the name of its metadata folder beside it (importing
    ``importlib.metadata`` costs a command a fifth of its start-up), or from the metadata.
    ``dist``: its distribution's name, and ``pattern`` the glob that name matches in the
    folder's. (MarkupSafe's ``__version__`` is deprecated: the metadata is asked.)"""
    import importlib.util

    spec = importlib.util.find_spec(module)
    if spec is not None and spec.origin is not None:
        where = Path(spec.origin).parent.parent
        found = sorted(p.name for p in where.glob(f"{pattern}-*.dist-info"))
        if len(found) == 1:
            return found[0].removesuffix(".dist-info").split("-", 1)[1]
    import importlib.metadata

    return importlib.metadata.version(dist)


def load(path: Path, build_path: Path | None = None) -> Cache:
    """The cache at ``path`` (what a check uses) and ``build_path`` (what only a build
    uses), each empty when missing, unreadable or stale."""
    # (plain tuples: no cycles, and many of them)
    with collector_paused(freeze=True), _mapped(path) as check_part, _mapped(build_path) as build_part:
        return Cache.of(check_part, build_part)


def read_bytes(path: Path) -> Stored | None:
    """A stored part's bytes (None: missing or unreadable), mapped rather than read where
    the file system can: marshal decodes them where they lie, without a copy of the file
    made first (at 10,000 cards the parts an update reads are 26 MB, decoded 0.012 s
    sooner). The caller closes a mapping once it is decoded (``close``); every file here is
    replaced whole (``publish.replace``), never rewritten in place, so what is mapped stays
    as it was meanwhile."""
    try:
        fh = open(path, "rb")  # noqa: SIM115 (closed below; a mapping outlives it)
    except OSError:
        return None
    with fh:
        try:
            return mmap.mmap(fh.fileno(), 0, access=mmap.ACCESS_READ)
        except ValueError:  # an empty file cannot be mapped
            return b""
        except OSError:  # a file system that cannot map files (some FUSE mounts): read
            try:
                return fh.read()
            except OSError:
                return None


def close(stored: Stored | None) -> None:
    """Let go of what ``read_bytes`` gave, once decoded (a mapping, unmapped at once)."""
    if isinstance(stored, mmap.mmap):
        stored.close()


@contextlib.contextmanager
def _mapped(path: Path | None) -> Iterator[Stored | None]:
    """``read_bytes(path)`` for the block (None: no path), closed after it."""
    stored = read_bytes(path) if path is not None else None
    try:
        yield stored
    finally:
        close(stored)


def load_bytes(data: bytes) -> Cache:
    """A cache from ``dump``'s bytes (every part)."""
    try:
        check_part, build_part, folders = marshal.loads(data)
    except (EOFError, ValueError, TypeError):
        return Cache()
    out = Cache.of(check_part, build_part)
    out.read_folder = folders.get
    return out


def dump(cache: Cache, previous: bytes | None = None) -> bytes:
    """Every part in one (see ``dump_parts``): for tests and tools; the command line keeps
    each in a file of its own. With ``previous`` (what ``dump`` gave before this run), a
    part this run would leave as it was stored is taken from there, as the command line
    leaves its file."""
    check_part, build_part = dump_parts(cache, always=previous is None)
    if previous is not None:
        try:
            was_check, was_build, _ = marshal.loads(previous)
        except (EOFError, ValueError, TypeError):
            was_check = was_build = None
        check_part = was_check if check_part is None else check_part
        build_part = was_build if build_part is None else build_part
    read = cache.read_folder
    stored = {k: read(k) for k in cache.folders if k not in cache.dirty} if read else {}
    return marshal.dumps((check_part, build_part, {**stored, **dump_folders(cache)}))


#: Up to this many results quick to make again (an edited card's: its bytes, its stat,
#: its quotes found) are left for the next run to make, rather than write the check part
#: again for them (14 MB at 10,000 cards, 20-45 ms of an update; making them again costs
#: the next run about a millisecond a card).
DEFER_MAX = 250


def dump_parts(cache: Cache, *, always: bool = False) -> tuple[bytes | None, bytes | None]:
    """The bytes to store of each part: only what this run used, so deleted quotes do not
    pile up. The check part is None when it would be what was loaded, or when this run did
    not check at all, or only added a few results quick to make again to a run that read
    part of the folder (see ``DEFER_MAX``; unless ``always``): two files, so that each is
    written only when it changed and never both in memory. The build part is None (unless
    ``always``) when only updates ran since it was loaded, making only a few claims and
    placements anew, and the same output folders are kept: a later run that renders
    those pages makes them again (5.6 MB at 10,000 cards not written after an edit)."""
    same = _check_part_stands(cache)
    if cache.kept_all:  # as it is: the shards not asked for are written as they were read
        kept, texts, cards, stats = cache.entries, cache.extracted, cache.cards, cache.card_stats
    elif not same or always:
        kept, texts, cards, stats = _used(cache)
        same = not cache.changed and (len(kept), len(texts), len(cards), len(stats)) == (
            len(cache.entries), len(cache.extracted), len(cache.cards), len(cache.card_stats)
        )  # fmt: skip
    check_part = (
        None
        if same and not always
        else marshal.dumps((_stamp(), kept.record(), texts, cards.record(), stats.record()))
    )
    if _build_part_stands(cache) and not always:
        return check_part, None
    return check_part, marshal.dumps(
        (_stamp(), cache.placements.record(), cache.claims, cache.folders, cache.templates)
    )


def _check_part_stands(cache: Cache) -> bool:
    """Is the stored check part to be left as it is, as far as that is known without
    decoding it? (False: it may be; ``dump_parts`` decodes what was used to tell.)"""
    if cache.kept_all:
        # A run that added only a few quick results (an update after an edit) leaves them
        # to the next, which meets the same cards (it starts from the part stored before).
        return not cache.changed or (not cache.costly and cache.cheap <= DEFER_MAX)
    # Nothing asked of it (a build that had nothing to do): what is stored still stands,
    # and is not decoded to say so (every shard: 0.1 to 0.2 s at 10,000 cards).
    return not (cache.changed or cache.used or cache.used_cards or cache.used_extracted)


def _build_part_stands(cache: Cache) -> bool:
    return (
        cache.build_cheap is not None
        and cache.build_cheap <= DEFER_MAX
        and cache.build_loaded == tuple(cache.folders)
    )


def parts_stand(cache: Cache) -> bool:
    """Will ``dump_parts`` leave both parts as stored (known without decoding anything)?"""
    return _check_part_stands(cache) and _build_part_stands(cache)


def _used(cache: Cache) -> tuple[Shards, dict[str, Extraction], Shards, Shards]:
    """Of the quotes, extracted texts, cards and card stats, what this run used."""
    used, cards = cache.used, cache.used_cards
    return (
        cache.entries.kept(lambda k, v: k in used),
        {k: v for k, v in cache.extracted.items() if k in cache.used_extracted},
        cache.cards.kept(lambda k, v: k in cards),
        cache.card_stats.kept(lambda k, v: (k, v[-1]) in cards),
    )


def settle(cache: Cache) -> None:
    """After a run in a process that goes on (``serve``): let go of what the run did not
    use, as saving would, and count afresh for the next; so that a long session of edits
    does not keep every version of every quote."""
    if not cache.kept_all:
        cache.entries, cache.extracted, cache.cards, cache.card_stats = _used(cache)
    cache.used, cache.used_extracted, cache.used_cards = set(), set(), set()
    cache.kept_all = False


def dump_folders(cache: Cache) -> dict[str, bytes]:
    """The bytes to store of each output folder whose part this run changed (see
    ``Cache.folders``)."""
    return {
        key: marshal.dumps(
            (
                _stamp(),
                cache.sites[key],
                cache.built_from.get(key, ""),
                cache.pieces.get(key),
                cache.ledgers.get(key),
                cache.skeletons.get(key),
            )
        )
        for key in cache.folders
        if key in cache.sites and key in cache.dirty
    }


def folder_path_for(content_dir: Path, key: str, folder: Path | None = None) -> Path:
    """Where what is kept of output folder ``key``'s last build is stored."""
    quotes = path_for(content_dir, folder)
    content_key = quotes.name.removeprefix("quotes-").removesuffix(".marshal")
    digest = hashlib.sha256(key.encode("utf-8", "surrogateescape")).hexdigest()[:20]
    return quotes.with_name(f"site-{content_key}-{digest}.marshal")


# --- cards as plain tuples (see model.fact_record) ---------------------------------------


def card_bytes(fact: Fact | None, problems: list[Problem]) -> bytes:
    """A card read, as the cache stores it (and as a process that parsed it sends it)."""
    record: Any = _card_to_tuple(fact, problems)
    return marshal.dumps(record)


def card_of_bytes(stored: bytes) -> tuple[Fact | None, list[Problem]]:
    """``card_bytes`` read back."""
    return _card_from_tuple(marshal.loads(stored))


def _card_to_tuple(fact: Fact | None, problems: list[Problem]) -> tuple[object, ...]:
    return (None if fact is None else fact_record(fact), tuple(problem_record(p) for p in problems))


def _card_from_tuple(stored: Any) -> tuple[Fact | None, list[Problem]]:
    raw, probs = stored
    problems = [problem_from_record(p) for p in probs]
    return (None if raw is None else fact_from_record(raw)), problems


def _meta_to_tuple(rec: Rec | None, problems: list[Problem]) -> tuple[object, ...]:
    probs = tuple(problem_record(p) for p in problems)
    if rec is None:
        return (None, probs)
    values = tuple((name, _plain(v)) for name, v in rec.values.items())
    where = tuple((name, tuple(pos)) for name, pos in rec.where.items())
    return ((tuple(rec.pos), values, where), probs)


def _meta_from_tuple(stored: Any) -> tuple[Rec | None, list[Problem]]:
    raw, probs = stored
    problems = [problem_from_record(p) for p in probs]
    if raw is None:
        return None, problems
    pos, values, where = raw
    rec = Rec(Pos(*pos), {name: _unplain(v) for name, v in values}, {n: Pos(*p) for n, p in where})
    return rec, problems


def _plain(value: object) -> tuple[str, object]:
    """A metadata value for marshal: text, a date or a date and time."""
    if isinstance(value, dt.datetime):
        return ("datetime", value.isoformat())
    if isinstance(value, dt.date):
        return ("date", value.isoformat())
    return ("", value)


def _unplain(value: Any) -> object:
    kind, v = value
    if kind == "datetime":
        return dt.datetime.fromisoformat(v)
    return dt.date.fromisoformat(v) if kind == "date" else v


# --- the last check's verdict, in a file of its own (small: read before anything else) ---


def verdict_path(content_dir: Path, folder: Path | None = None) -> Path:
    quotes = path_for(content_dir, folder)
    return quotes.with_name("check-" + quotes.name.removeprefix("quotes-"))


def load_verdict(path: Path) -> Verdict | None:
    try:
        with _mapped(path) as stored:
            stamp, fingerprint, probs, facts, quotes, cards, base = marshal.loads(stored or b"")
        if stamp != _stamp() or not isinstance(cards, dict):
            return None
        return Verdict(fingerprint, [problem_from_record(p) for p in probs], facts, quotes, cards, base)
    except (OSError, EOFError, ValueError, TypeError):
        return None


def dump_verdict(verdict: Verdict) -> bytes:
    probs: Any = tuple(problem_record(p) for p in verdict.problems)
    cards: Any = verdict.cards
    v = verdict
    return marshal.dumps((_stamp(), v.fingerprint, probs, v.facts, v.quotes, cards, v.base))
