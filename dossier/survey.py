"""The survey: what a content folder holds, from a listing and one ``lstat`` an entry,
without reading a file. A verdict or a build is recalled while the survey is as it was.

This module is light on purpose (the standard library, ``parallel`` and ``pause``): a
build forks a child to survey while it imports the rest (``surveying``), and the sooner
the child starts, the less the build waits for it.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import re
import stat
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import cast

from . import __version__, parallel
from .pause import collector_paused

#: A valid id (of a card, a source, a section, an entity). Here, not in ``schema``, as the
#: survey asks it of every card's name and must not import the schema's YAML reader.
ID_RE = re.compile(r"[a-z][a-z0-9-]*\Z")


def display(path: Path) -> str:
    """A path as problems show it: relative to the current directory where possible."""
    try:
        return os.path.relpath(path)
    except ValueError:  # pragma: no cover - another drive on Windows
        return str(path)


class Shown:
    """Paths below ``root`` as problems show them (``display``), without a relpath call a
    file: the root's shown form, then the rest as it is."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.shown_root = display(root)
        self.shown_prefix = "" if self.shown_root == "." else os.path.join(self.shown_root, "")
        self.root_prefix = "" if str(root) == "." else str(root) + os.sep

    def display(self, path: Path | str) -> str:
        """``display(path)`` for paths below the root, without a relpath call per file."""
        text = str(path)
        if not text.startswith(self.root_prefix):
            return display(Path(path))
        return self.shown_prefix + text[len(self.root_prefix) :]


@dataclass(frozen=True, slots=True)
class Survey:
    """What CONTENT_DIR holds, from a listing and one ``lstat`` per entry (size, mtime,
    ctime, inode, device: ctime cannot be set back, so any write shows)."""

    #: Everything but the cards' own bytes: every other file, and the cards' names.
    digest: str
    #: Each card, by its path as problems show it -> its stat; None when it changed too
    #: recently to vouch for (a write in the same clock tick would not show, as in git).
    cards: dict[str, tuple[object, ...] | None]
    #: Every card has a valid id of its own, so each card's problems are its own.
    clean: bool
    #: The stat of each card too recent to vouch for (None in ``cards``), for ``looks``.
    recent: dict[str, tuple[object, ...]] = field(default_factory=dict)
    #: ``digest`` but for the cards' names.
    base: str = ""

    def looks(self) -> tuple[str, dict[str, tuple[object, ...] | None]]:
        """What a watcher compares to see a change: the digest, and every card's stat,
        those too recent to vouch for too (so a second edit to a card soon after the first
        shows, as far as its stat shows it: a rewrite of the same size in the same tick of
        the file system's clock does not, as it did not to a watcher of mtimes)."""
        return self.digest, {**self.cards, **self.recent} if self.recent else self.cards


def survey(root: Path, *extra: str) -> Survey | None:
    """The survey of CONTENT_DIR, ``extra`` folded into its digest; None when the folder
    cannot be listed, ``facts`` or ``sources`` is there but not a plain folder, or a file
    other than a card changed too recently to vouch for.

    What the check reads is surveyed by the same paths the check reads it by:
    dossier.yaml, entities.yaml, everything in sources/, and in facts/ the cards, every
    folder's name and every link (other files there are never read: an editor's swap
    file beside a card). A link carries its target's stat too, so an edit behind it shows.
    """
    h = hashlib.blake2b(digest_size=16)
    for part in extra:
        h.update(part.encode("utf-8", "surrogatepass") + b"\0")
    r = Shown(root)
    now = time.time_ns()
    seen: list[str] = []  # what counts, in order: hashed at the end in one go
    named: list[int] = []  # where in it the cards' names are
    cards: dict[str, tuple[object, ...] | None] = {}
    racy: dict[str, tuple[object, ...]] = {}
    ids: list[str] = []
    fresh = now - RACY_NS  # changed after this: too recent
    lstat, S_ISLNK, S_ISDIR = os.lstat, stat.S_ISLNK, stat.S_ISDIR

    def entry(path: str) -> tuple[tuple[object, ...], bool] | None:
        """(what counts of the entry, whether it is too recent); None when missing."""
        try:
            st = os.lstat(path)
        except FileNotFoundError:
            return None
        link = os.readlink(path) if stat.S_ISLNK(st.st_mode) else ""
        out: tuple[object, ...] = (
            st.st_mode, st.st_size, st.st_mtime_ns, st.st_ctime_ns, st.st_ino, st.st_dev, link,
        )  # fmt: skip
        recent = now - max(st.st_mtime_ns, st.st_ctime_ns) < RACY_NS
        if link:  # what the check reads is the target
            target = _stat_or_none(path)
            out = (*out, target)
            recent = recent or (target is not None and now - max(target[2:4]) < RACY_NS)
        return out, recent

    try:
        for name in ("dossier.yaml", "entities.yaml", "sources", "facts"):
            path = str(root / name)
            found = entry(path)
            if found is None:
                seen.append(f"absent\0{name}\n")
                continue
            if name in ("sources", "facts"):
                if not stat.S_ISDIR(cast(int, found[0][0])):
                    return None  # a link or a file: read another way than surveyed
                continue
            if found[1]:
                return None
            seen.append(f"{path}\0{found[0]!r}\n")
        for folder in ("sources", "facts"):
            top = str(root / folder)
            if not os.path.isdir(top):
                continue
            facts = folder == "facts"
            for dirpath, dirnames, filenames in os.walk(top, followlinks=False, onerror=_raise):
                dirnames.sort()
                # Below the root, a card's path as shown is its folder's and its name (one
                # ``display`` a folder, not one a card: this loop runs 10,000 times).
                base = dirpath if dirpath.endswith(os.sep) else dirpath + os.sep
                shown = r.display(dirpath) + os.sep if dirpath.startswith(r.root_prefix) else None
                for name in sorted(filenames + dirnames):
                    path = base + name
                    try:
                        st = lstat(path)
                    except FileNotFoundError:
                        return None  # removed while surveyed
                    kind = st.st_mode
                    card = facts and name.lower().endswith((".yaml", ".yml"))
                    if S_ISLNK(kind):
                        found = entry(path)
                        if found is None:
                            return None
                        what, recent = found
                        target = what[-1]
                        if card and isinstance(target, tuple) and S_ISDIR(target[0]):
                            card = False  # a link to a folder is no card, whatever its name
                    elif S_ISDIR(kind):  # its name is what counts: its entries show below
                        seen.append(f"dir\0{path}\n")
                        continue
                    elif facts and not card:
                        continue  # never read
                    else:
                        what = (kind, st.st_size, st.st_mtime_ns, st.st_ctime_ns, st.st_ino, st.st_dev, "")
                        recent = st.st_mtime_ns > fresh or st.st_ctime_ns > fresh
                    if card:
                        ids.append(name.rsplit(".", 1)[0])
                        at = shown + name if shown is not None else r.display(path)
                        cards[at] = None if recent else what
                        if recent:
                            racy[at] = what
                        seen.append(f"card\0{path}\n")
                        named.append(len(seen) - 1)
                        continue
                    if recent:
                        return None
                    seen.append(f"{path}\0{what!r}\n")
    except OSError:
        return None
    clean = len(set(ids)) == len(ids) and all(ID_RE.match(i) for i in ids)
    without_names = h.copy()
    h.update("".join(seen).encode("utf-8", "surrogateescape"))
    for i in named:
        seen[i] = ""
    without_names.update("".join(seen).encode("utf-8", "surrogateescape"))
    return Survey(h.hexdigest(), cards, clean, racy, without_names.hexdigest())


def _stat_or_none(path: str) -> tuple[int, ...] | None:
    try:
        st = os.stat(path)
    except OSError:
        return None
    return (st.st_mode, st.st_size, st.st_mtime_ns, st.st_ctime_ns, st.st_ino, st.st_dev)


#: A file changed less than this long ago may change again with the same stat.
RACY_NS = 2_000_000_000


def _raise(exc: OSError) -> None:
    raise exc


def of_folder(root: Path, strict: bool, *, freeze: bool = True) -> Survey | None:
    """CONTENT_DIR surveyed for a verdict: problems name files relative to the current
    directory, so that is part of the digest, as are the settings and dossier's version.
    ``freeze``: what is alive after it is left out of later collections (see ``pause``;
    not for a watcher that surveys again and again, and may build nothing)."""
    with collector_paused(freeze=freeze):  # a tuple a file, no cycles
        return survey(root, __version__, f"strict={strict}", os.getcwd(), str(root))


@dataclass(frozen=True, slots=True)
class Tree:
    """A folder tree as listed, one ``lstat`` an entry: for ``publish``, which writes the
    next build into the spare tree (see there) and keeps each file of it that is still the
    one the site holds."""

    #: the root's inode, device, mtime and ctime when it was listed (renamed or changed
    #: since, by another build claiming it: not this tree any more)
    root: tuple[int, int, int, int]
    #: each entry by its path below the root: True for a file or link, False for a folder
    present: dict[str, bool]
    #: each plain file's size, mtime and inode
    files: dict[str, tuple[int, int, int]]


def tree(path: Path) -> Tree | None:
    """The tree at ``path``; None when there is none, or it holds anything but files, links
    and folders."""
    try:
        st = os.lstat(path)
    except OSError:
        return None
    if not stat.S_ISDIR(st.st_mode):
        return None
    present: dict[str, bool] = {}
    files: dict[str, tuple[int, int, int]] = {}
    folders = [""]
    try:
        while folders:
            folder = folders.pop()
            prefix = f"{folder}/" if folder else ""
            with os.scandir(path / folder if folder else path) as entries:
                for e in entries:
                    name = prefix + e.name
                    if e.is_symlink():
                        present[name] = True
                    elif e.is_file(follow_symlinks=False):
                        present[name] = True
                        f = e.stat(follow_symlinks=False)
                        files[name] = (f.st_size, f.st_mtime_ns, f.st_ino)
                    elif e.is_dir(follow_symlinks=False):
                        present[name] = False
                        folders.append(name)
                    else:
                        return None
    except OSError:
        return None
    return Tree((st.st_ino, st.st_dev, st.st_mtime_ns, st.st_ctime_ns), present, files)


@dataclass(slots=True)
class Looking:
    """What ``surveying`` has a second process look at, each taken once (None: it is not
    there; the caller looks itself)."""

    pending: parallel.Ahead | None
    trees: bool

    def survey(self) -> Survey | None:
        """The content folder's survey (asked first)."""
        if self.pending is None:
            return None
        with collector_paused(freeze=True):
            return _of_record(self.pending.take())

    def tree(self) -> Tree | None:
        """The tree asked for (asked after the survey)."""
        if self.pending is None or not self.trees:
            return None
        with collector_paused(freeze=True):
            return _of_tree(self.pending.take())


@contextlib.contextmanager
def surveying(root: Path, strict: bool, tree_at: Path | None = None) -> Iterator[Looking]:
    """``of_folder(root, strict)`` made in a forked child while the caller goes on
    (imports its modules, loads its cache: at 10,000 cards the survey's 11,000 ``lstat``
    calls take about 0.05 s, as long as those), then ``tree(tree_at)`` if given (a build's
    spare tree: its 11,000 ``lstat`` calls another 0.03 s, made while the build checks and
    renders). The survey is made when the block starts, before anything of the folder is
    read, as a survey must be."""
    fns: list[Callable[[], object]] = [lambda: _record(of_folder(root, strict, freeze=False))]
    if tree_at is not None:
        fns.append(lambda: _tree_record(tree(tree_at)))
    with parallel.ahead(*fns) as pending:
        yield Looking(pending, tree_at is not None)


def _tree_record(found: Tree | None) -> tuple[object, ...] | None:
    return None if found is None else (found.root, found.present, found.files)


def _of_tree(record: object) -> Tree | None:
    if not isinstance(record, tuple) or len(record) != 3:
        return None
    root, present, files = record
    if not (isinstance(root, tuple) and len(root) == 4):
        return None
    if not (isinstance(present, dict) and isinstance(files, dict)):
        return None
    return Tree(root, present, files)


def _record(found: Survey | None) -> tuple[object, ...] | None:
    """A survey as plain values, for marshal (``_of_record`` makes it again)."""
    if found is None:
        return None
    return (found.digest, found.cards, found.clean, found.recent, found.base)


def _of_record(record: object) -> Survey | None:
    """The survey ``_record`` made ``record`` of; None for anything else."""
    if not isinstance(record, tuple) or len(record) != 5:
        return None
    digest, cards, clean, recent, base = record
    if not (isinstance(digest, str) and isinstance(cards, dict) and isinstance(clean, bool)):
        return None
    if not (isinstance(recent, dict) and isinstance(base, str)):
        return None
    return Survey(digest, cards, clean, recent, base)
