"""Publishing: the only module that writes files.

A build is written beside the output, unchanged files hard-linked from the previous
build (so their mtime stays and deploys upload only what changed), then swapped in with
one atomic rename exchange. Any failure removes the temporary tree and leaves the
previous site exactly as it was.

With ``spare``, the tree swapped out is kept beside the output (``.NAME.spare``) instead
of removed, and the next build is written into it: a file it holds that is the one to
keep (the same inode as the site's) stays where it is, and only what changed is
unlinked, written or linked. At 10,000 cards that is a few hundred operations instead
of linking 11,000 files and removing 11,000 more.
"""

from __future__ import annotations

import contextlib
import errno
import hashlib
import os
import shutil
import stat
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import cast

from .survey import Tree

MARKER = ".dossier-build"

#: What a build wrote: name -> (a digest of the bytes, size, mtime_ns, inode). Kept by the
#: caller (in the cache folder, not in the site, whose bytes must not depend on the clock).
#: The last field is the page's input key (see build), "" for other files. The digest is
#: "" where it is not known (a file written with a ``Stretch``): then bytes are compared.
Entry = tuple[str, int, int, int, str]
Manifest = dict[str, Entry]


@dataclass(frozen=True, slots=True)
class Stretch:
    """``length`` bytes of an open file from ``offset`` (the previous build's copy, which
    ``Previous`` vouched for), put into the new file by the system (``copy_file_range``)
    without passing through this process: an update's spliced page is nearly all of them.

    A file with one among its parts is one its maker found changed (see ``splice``): it is
    written, not compared with the previous copy, and its digest is not known ("")."""

    fd: int
    offset: int
    length: int


#: A part of a file: bytes, or a stretch of the previous build's copy.
Part = bytes | Stretch


@dataclass(frozen=True, slots=True)
class File:
    """One file of a new site: its bytes, or ``None`` to keep the previous build's copy
    (``publish`` checks that it is as the manifest says, and raises ``Changed`` if not);
    ``inputs`` keys what it was made from."""

    name: str
    #: the bytes, or for a large file its parts in order (a list), or made as they are
    #: written (an iterator: the whole is never in memory)
    data: bytes | list[Part] | Iterator[Part] | None
    inputs: str = ""


@dataclass(frozen=True, slots=True)
class Kept:
    """Files of the previous build kept as they are, many at once (an update's untouched
    pages): each is looked at as a ``File`` with no bytes is, and its manifest entry is
    carried over. At 10,000 cards one of these instead of 11,000 ``File``s saves an update
    most of its time in publishing."""

    names: list[str] | tuple[str, ...]  # (in order: those in a folder together are kept together)


#: The marker's first line; the names of the files the build wrote follow, one a line.
#: Anything else in the folder was put there by someone else (a CNAME), and each build
#: carries it over as it is (SPEC §4: a build never deletes what it did not write).
MARKER_HEAD = b"This folder is written by 'dossier build'. It keeps files it did not write; these it wrote:\n"
#: The marker of builds before the list: every file was theirs.
MARKER_OLD = b"This folder is written by 'dossier build'; it is replaced whole on every build.\n"


def marker_bytes(names: Iterable[str]) -> bytes:
    """The marker of a build that wrote ``names``."""
    return MARKER_HEAD + "".join(f"{name}\n" for name in sorted(names)).encode("utf-8", "surrogateescape")


def _read_marker(out: Path) -> tuple[bytes, tuple[int, int, int]] | None:
    """The marker's bytes, and its size, mtime and inode as they were read."""
    try:
        fd = os.open(out / MARKER, os.O_RDONLY | os.O_NOFOLLOW | os.O_CLOEXEC)
    except OSError:
        return None
    with os.fdopen(fd, "rb") as fh:
        st = os.fstat(fd)
        return fh.read(), (st.st_size, st.st_mtime_ns, st.st_ino)


def _listed(marker: bytes) -> set[str] | None:
    if not marker.startswith(MARKER_HEAD):
        return None
    return set(marker[len(MARKER_HEAD) :].decode("utf-8", "surrogateescape").splitlines())


def written_by_dossier(out: Path) -> set[str] | None:
    """The files the build at ``out`` wrote, as its marker lists them; None when it lists
    none (a build before the list: everything there is its own)."""
    marker = _read_marker(out)
    return None if marker is None else _listed(marker[0])


def foreign(out: Path, manifest: Manifest | None = None) -> list[str]:
    """What is in the build at ``out`` that it did not write (see ``listing``), in order;
    ``manifest``, what it wrote if its marker does not say (a build before the list)."""
    return _foreign(out, _read_marker(out), manifest)


def _foreign(
    out: Path, marker: tuple[bytes, tuple[int, int, int]] | None, manifest: Manifest | None = None
) -> list[str]:
    ours = None if marker is None else _listed(marker[0])
    if ours is None:
        if marker is None or not manifest:
            return []  # (no marker: no build of dossier's; an old one and no manifest: all its own)
        ours = set(manifest)
    ours.add(MARKER)
    found = [name for name in listing(out) if name not in ours]
    if found:  # a folder dossier made is its own, emptied or a link put there (not a file)
        folders = _folders_of(ours)
        found = [
            name
            for name in found
            if name.rstrip("/") not in folders or not (name.endswith("/") or os.path.islink(out / name))
        ]
    return sorted(found)


def _folders_of(names: Iterable[str]) -> set[str]:
    """Every folder the files ``names`` stand in, and the folders above them."""
    folders: set[str] = set()
    for name in names:
        folder = name.rpartition("/")[0]
        while folder and folder not in folders:
            folders.add(folder)
            folder = folder.rpartition("/")[0]
    return folders


def listing(out: Path) -> set[str]:
    """Every file and link below ``out``, by its path relative to it (links not followed);
    a folder with nothing in it shows as its own name."""
    found: set[str] = set()
    for dirpath, dirnames, filenames in os.walk(out, followlinks=False):
        rel = os.path.relpath(dirpath, out)
        prefix = "" if rel == "." else rel.replace(os.sep, "/") + "/"
        found.update(prefix + name for name in filenames)
        found.update(prefix + d for d in dirnames if os.path.islink(os.path.join(dirpath, d)))
        if not filenames and not dirnames and prefix:
            found.add(prefix)
    return found


class PublishError(Exception):
    """The output folder cannot be used; nothing was written."""


class Changed(PublishError):
    """A file to keep is not as the previous build left it (edited by hand, or during the
    build); nothing was written."""


@dataclass(frozen=True, slots=True)
class Published:
    written: int  # files whose bytes are new
    kept: int  # files unchanged since the previous build (hard-linked, mtime kept)
    manifest: Manifest = field(default_factory=dict)


def check_target(out: Path, content_dir: Path) -> None:
    """Refuse an output folder that is not ours to replace."""
    real_out = out.resolve()
    real_content = content_dir.resolve()
    if real_out == real_content or real_content.is_relative_to(real_out):
        raise PublishError(f"--out {out} contains the content folder; choose a folder of its own")
    if real_out.is_relative_to(real_content):
        raise PublishError(f"--out {out} is inside the content folder; choose a folder outside it")
    if out.is_symlink():
        raise PublishError(f"--out {out} is a symbolic link; give the real folder")
    if out.exists():
        if not out.is_dir():
            raise PublishError(f"--out {out} exists and is not a folder")
        if any(out.iterdir()) and not (out / MARKER).is_file():
            raise PublishError(
                f"--out {out} is a folder with files that dossier did not write; "
                "refusing to replace it (empty it or choose another folder)"
            )


def publish(
    files: Iterable[File | Kept],
    out: Path,
    content_dir: Path,
    before: Manifest | None = None,
    *,
    spare: bool = False,
    spare_tree: Callable[[], Tree | None] | None = None,
) -> Published:
    """Write ``files`` as the new site at ``out``, all or nothing.

    ``before`` is the manifest the previous build returned: with it, an unchanged file is
    recognised without reading it back. ``spare``: keep the tree swapped out, to write the
    next build into (see the module's docstring). ``spare_tree``: what that tree holds,
    listed by another process while the build was made (``survey.tree``), used when the
    tree is still the one listed: then its files are not looked at again one by one.
    """
    check_target(out, content_dir)
    parent = out.parent
    parent.mkdir(parents=True, exist_ok=True)
    tmp = parent / f".{out.name}.new-{os.getpid()}"
    old = parent / f".{out.name}.old-{os.getpid()}"
    kept_tree = spare_path(out)
    for leftover in (tmp, old):
        if leftover.exists():
            shutil.rmtree(leftover)
    written = kept = 0
    before = before or {}
    after: Manifest = {}
    old_marker = _read_marker(out)
    try:
        present = _claim(kept_tree, tmp, out, spare_tree) if spare else None
        if present is None:
            tmp.mkdir()
            present = _Spare({})
        with _Folders(tmp, create=True) as new, _Folders(out, create=False) as prev:
            for file in files:
                if isinstance(file, Kept):
                    _keep_all(file.names, tmp, new, prev, before, present, after, out)
                    kept += len(file.names)
                    continue
                folder, _, base = file.name.rpartition("/")
                if folder not in new.fds:
                    present.make_room_for(tmp, folder)
                dst = new.fd(folder)
                src = prev.fd(folder)
                previous = before.get(file.name)
                # The spare's copy stays only when it is the file to keep; it is never
                # written to (it may be the site's own file, linked).
                here = present.take(tmp, file.name)
                listed = present.files
                if here and file.data is None and previous is not None and listed is not None and (
                    listed.get(file.name) == previous[1:4]  # the site's file itself (as ``_keep_all``)
                ):
                    same = file.inputs == previous[4]
                    after[file.name] = previous if same else (previous[0], *previous[1:4], file.inputs)
                    kept += 1
                    continue
                st = _in_spare(dst, base, previous) if here and file.data is None else None
                if here and st is None:
                    os.unlink(base, dir_fd=dst)
                if file.data is None:  # the caller checked the old copy is intact and still right
                    # Linked, then looked at: what was linked is what the caller vouched for
                    # (one stat a file fewer than looking first).
                    st = st or _kept(src, dst, base, previous)
                    if st is None:
                        raise Changed(f"{out / file.name} changed during the build; build again")
                    digest = previous[0] if previous is not None else ""
                    kept += 1
                elif not isinstance(file.data, bytes | list):  # written as it is made
                    st, digest = _write_stream(dst, base, file.data)
                    if digest and src is not None and _same_as_written(src, dst, base, digest, previous):
                        os.unlink(base, dir_fd=dst)
                        st = _link(src, dst, base)  # the same bytes: the old file, its mtime kept
                        kept += 1
                    else:
                        written += 1
                else:
                    parts = [file.data] if isinstance(file.data, bytes) else file.data
                    digest = _digest(parts)
                    if (
                        digest  # (no stretch among the parts: those are of a file found changed)
                        and src is not None
                        and _unchanged_at(src, base, cast(list[bytes], parts), digest, previous)
                    ):
                        st = _link(src, dst, base)
                        kept += 1
                    else:
                        st = _write(dst, base, parts)
                        written += 1
                after[file.name] = (digest, st.st_size, st.st_mtime_ns, st.st_ino, file.inputs)
            # Listed now, when the new tree is all but done: a file put into the site while
            # the pages were made is carried too.
            _carry(_foreign(out, old_marker, before), out, tmp, new, prev, present, after)
            if present.take(tmp, MARKER):
                os.unlink(MARKER, dir_fd=new.fd(""))
            # The files the last build wrote: its marker, mtime kept (if it is still as read).
            marker, root = marker_bytes(after), prev.fd("")
            read = old_marker[1] if old_marker is not None and old_marker[0] == marker else None
            if read is None or _kept(root, new.fd(""), MARKER, ("", *read, "")) is None:
                _write(new.fd(""), MARKER, [marker])
        present.clear_rest(tmp)
        if out.exists():
            if _exchange(tmp, out):  # tmp now holds the previous site
                _set_aside(tmp, kept_tree if spare else None)
            else:
                os.rename(out, old)
                os.rename(tmp, out)
                _set_aside(old, kept_tree if spare else None)
        else:
            os.rename(tmp, out)
    except BaseException:
        if tmp.exists():
            shutil.rmtree(tmp, ignore_errors=True)
        if old.exists() and not out.exists():
            os.rename(old, out)
        raise
    return Published(written, kept, after)


def _keep_all(
    names: Sequence[str],
    tmp: Path,
    new: _Folders,
    prev: _Folders,
    before: Manifest,
    present: _Spare,
    after: Manifest,
    out: Path,
) -> None:
    """``publish``'s loop for files kept as they are, in one tight loop: the spare's copy
    stays when it is the previous build's file (as the spare's listing shows it, else by
    one stat), else the file is linked from the site; either way its entry is the
    previous one, the same object."""
    spare, listed = present.present, present.files
    where: str | None = None
    dst = src = None
    for name in names:
        folder, _, base = name.rpartition("/")
        if folder != where:
            if folder not in new.fds:
                present.make_room_for(tmp, folder)
            dst, src, where = new.fd(folder), prev.fd(folder), folder
        entry = before.get(name)
        here = spare.pop(name, None)  # (``present.take``, inlined: 11,000 calls)
        if here is False:  # a folder where the file goes
            spare[name] = False
            present.take(tmp, name)
            spare = present.present
        if here:
            if entry is not None:
                if listed is not None:  # (as listed: the same inode, size and mtime as the site's)
                    if listed.get(name) == entry[1:4]:
                        after[name] = entry
                        continue
                elif _in_spare(dst, base, entry) is not None:
                    after[name] = entry
                    continue
            os.unlink(base, dir_fd=dst)
        if entry is None or _kept(src, dst, base, entry) is None:
            raise Changed(f"{out / name} changed during the build; build again")
        after[name] = entry


def _carry(
    names: list[str], out: Path, tmp: Path, new: _Folders, prev: _Folders, present: _Spare, written: Manifest
) -> None:
    """Link each of ``names`` (files the previous build did not write, see ``foreign``)
    from the site into the new tree, as it is; a folder with nothing in it is made. Refused
    where the new build has written that name, or a folder or file in its way."""
    if not names:
        return
    folders = _folders_of(written)
    for name in names:
        path = name.rstrip("/")
        if name.endswith("/") and path in folders:
            continue  # an empty folder where the new build makes that folder: no clash
        above = sorted(_folders_of([path]))
        clash = path if path in written or path in folders else next((a for a in above if a in written), None)
        if clash is not None:
            raise PublishError(
                f"--out {out} holds {name}, which dossier did not write, where this build writes "
                f"{clash}{'/' if clash in folders else ''}; move it out of the folder and build again"
            )
        if name.endswith("/"):  # an empty folder
            present.make_room_for(tmp, path)
            new.fd(path)
            continue
        folder, _, base = path.rpartition("/")
        if folder not in new.fds:
            present.make_room_for(tmp, folder)
        dst, src = new.fd(folder), prev.fd(folder)
        if present.take(tmp, path):
            os.unlink(base, dir_fd=dst)
        if src is None:  # (its folder went since it was listed)
            raise Changed(f"{out / path} changed during the build; build again")
        try:
            _link(src, dst, base)
        except FileNotFoundError:  # removed since it was listed: nothing to keep
            continue
        except PermissionError:  # another user's file, where links to those are not allowed
            shutil.copy2(out / path, tmp / path, follow_symlinks=False)  # (bytes and mtime)


def spare_path(out: Path) -> Path:
    """Where the tree swapped out of ``out`` is kept (``publish(spare=True)``)."""
    return out.parent / f".{out.name}.spare"


@dataclass(slots=True)
class _Spare:
    """What a spare tree holds, by path relative to it: True for a file, False for a
    folder (taken off as the new build places its files)."""

    present: dict[str, bool]
    #: each plain file's size, mtime and inode, as listed before it was claimed (None:
    #: not listed; each file is looked at as it is kept)
    files: dict[str, tuple[int, int, int]] | None = None

    def take(self, root: Path, name: str) -> bool:
        """Is there a file at ``name``? A folder there is removed (a file goes there now)."""
        here = self.present.pop(name, None)
        if here is False:
            shutil.rmtree(root / name)
            self.present = {k: v for k, v in self.present.items() if not k.startswith(name + "/")}
        return here is True

    def make_room_for(self, root: Path, folder: str) -> None:
        """A file where ``folder`` or one above it goes is removed; the folders are kept."""
        parts = folder.split("/") if folder else []
        for i in range(1, len(parts) + 1):
            above = "/".join(parts[:i])
            if self.present.get(above) is True:
                os.unlink(root / above)
            self.present.pop(above, None)

    def clear_rest(self, root: Path) -> None:
        """Remove what the new build did not place, and the folders left empty."""
        for name, is_file in self.present.items():
            if is_file:
                os.unlink(root / name)
        for name in sorted({n for n, is_file in self.present.items() if not is_file}, reverse=True):
            with contextlib.suppress(OSError):  # not empty: the new build placed something in it
                os.rmdir(root / name)
        self.present = {}


def _claim(
    spare: Path, tmp: Path, out: Path, listing: Callable[[], Tree | None] | None = None
) -> _Spare | None:
    """Move a spare tree left by an earlier build to ``tmp``, and say what it holds; None
    when there is none to use (one holding anything but files, links and folders, or on
    another file system than ``out``, is removed). ``listing``: the tree as listed before
    (``survey.tree``), taken when the tree claimed is the one listed, unchanged: the same
    inode, and the same mtime and ctime (claiming a tree renames it, which changes its
    ctime: another build's claim since shows, and a build writes into a tree only once it
    has claimed it).

    What the listing cannot show is a file of the site edited in place after it was made
    (the spare's copy is that file, linked): kept then as edited, under the entry the last
    build left, which no longer matches it, so that the next build finds it and makes
    everything. Looking at each file as it is kept leaves the same window open, from that
    look to the swap; the listing widens it, at 10,000 cards from about 0.1 s to 0.2 s.
    """
    if spare.is_symlink() or not (spare / MARKER).is_file():
        return None
    listed = listing() if listing is not None else None
    try:
        st = os.lstat(spare)
        os.rename(spare, tmp)  # another build may have claimed it first
        claimed = os.lstat(tmp).st_ino
    except OSError:
        return None
    if (
        listed is not None
        and listed.root == (st.st_ino, st.st_dev, st.st_mtime_ns, st.st_ctime_ns)
        and claimed == st.st_ino
        and out.is_dir()
        and os.stat(out).st_dev == st.st_dev
    ):
        return _Spare(dict(listed.present), listed.files)
    present: dict[str, bool] = {}
    folders = [""]
    usable = out.is_dir() and os.stat(out).st_dev == os.stat(tmp).st_dev
    while folders and usable:
        folder = folders.pop()
        prefix = f"{folder}/" if folder else ""
        with os.scandir(tmp / folder if folder else tmp) as entries:
            for e in entries:
                if e.is_file(follow_symlinks=False) or e.is_symlink():  # (most are: asked first)
                    # (A link, one carried for its owner, is never written through: removed
                    # as a file is, where it is not the one to keep.)
                    present[prefix + e.name] = True
                elif e.is_dir(follow_symlinks=False):
                    present[prefix + e.name] = False
                    folders.append(prefix + e.name)
                else:  # stranger: not a tree to write into
                    usable = False
    if not usable:
        shutil.rmtree(tmp)
        return None
    return _Spare(present)


def _in_spare(folder: int | None, name: str, entry: Entry | None) -> os.stat_result | None:
    """The spare tree's ``name`` when it is the previous build's file itself (the same
    inode, and as ``entry`` says the previous build left it); else None."""
    if entry is None:
        return None
    try:
        st = os.stat(name, dir_fd=folder, follow_symlinks=False)
    except OSError:
        return None
    if stat.S_ISREG(st.st_mode) and (st.st_size, st.st_mtime_ns, st.st_ino) == tuple(entry[1:4]):
        return st  # the same file system as the site (``_claim``): the same inode, the same file
    return None


def make_spare(out: Path) -> bool:
    """Give the site at ``out`` a spare tree when it has none (its first build): every
    file linked, so that the next build writes into it as into any spare (see the module's
    docstring) instead of linking 11,000 files then. False when there is one already, or
    it cannot be made (nothing is left of it then)."""
    spare = spare_path(out)
    if spare.exists() or spare.is_symlink() or not (out / MARKER).is_file():
        return False
    tmp = out.parent / f".{out.name}.spare-{os.getpid()}"
    try:
        tmp.mkdir()
        for dirpath, dirnames, filenames in os.walk(out):
            rel = os.path.relpath(dirpath, out)
            into = tmp if rel == "." else tmp / rel
            for d in dirnames:
                (into / d).mkdir()
            for name in filenames:
                os.link(os.path.join(dirpath, name), into / name, follow_symlinks=False)
        os.rename(tmp, spare)
    except BaseException as exc:  # (an interrupt too: nothing is left of it)
        shutil.rmtree(tmp, ignore_errors=True)
        if isinstance(exc, OSError):
            return False
        raise
    return True


def _set_aside(tree: Path, spare: Path | None) -> None:
    """Keep the tree swapped out as the spare, or remove it."""
    if spare is not None:
        try:
            os.rename(tree, spare)
            return
        except OSError:  # a spare is there already (another build's): this one goes
            pass
    shutil.rmtree(tree)


class _Folders:
    """The folders of a site tree, each opened once (writing 11,000 files by folder
    descriptor takes half the time of writing them by path). Links are never followed:
    a folder that is a symbolic link in the previous site counts as missing."""

    def __init__(self, root: Path, *, create: bool) -> None:
        self.root, self.create = root, create
        self.fds: dict[str, int | None] = {}

    def __enter__(self) -> _Folders:
        return self

    def __exit__(self, *exc: object) -> None:
        for fd in self.fds.values():
            if fd is not None:
                os.close(fd)

    def fd(self, folder: str) -> int | None:
        if folder in self.fds:
            return self.fds[folder]
        path = self.root / folder if folder else self.root
        if self.create and folder:
            path.mkdir(parents=True, exist_ok=True)
        try:
            fd: int | None = os.open(path, os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC)
        except OSError:
            if self.create:
                raise
            fd = None
        self.fds[folder] = fd
        return fd


class Previous:
    """The previous build in ``out`` (None: there is none), asked whether a file of it is
    still exactly as that build left it; a file in a linked folder never is."""

    def __init__(self, out: Path | None) -> None:
        self.folders = None if out is None else _Folders(out, create=False)
        self.opened: list[int] = []

    def __enter__(self) -> Previous:
        return self

    def __exit__(self, *exc: object) -> None:
        for fd in self.opened:
            os.close(fd)
        self.opened.clear()
        if self.folders is not None:
            self.folders.__exit__()

    def open(self, name: str, entry: Entry) -> tuple[int, int] | None:
        """The previous build's ``name`` opened to read, and its size, when it is exactly
        as that build left it (closed with this object)."""
        if self.folders is None:
            return None
        folder, _, base = name.rpartition("/")
        dir_fd = self.folders.fd(folder)
        if dir_fd is None:
            return None
        try:
            fd = os.open(base, os.O_RDONLY | os.O_NOFOLLOW | os.O_CLOEXEC, dir_fd=dir_fd)
        except OSError:
            return None
        st = os.fstat(fd)
        if not stat.S_ISREG(st.st_mode) or (st.st_size, st.st_mtime_ns, st.st_ino) != tuple(entry[1:4]):
            os.close(fd)
            return None
        self.opened.append(fd)
        return fd, st.st_size

    def intact(self, name: str, entry: Entry) -> bool:
        if self.folders is None:
            return False
        folder, _, base = name.rpartition("/")
        fd = self.folders.fd(folder)
        return fd is not None and _intact_at(fd, base, entry)


def _write(folder: int | None, name: str, parts: Iterable[Part]) -> os.stat_result:
    """Create ``name`` in ``folder`` (never replacing anything) holding ``parts``."""
    assert folder is not None
    fd = os.open(name, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC, 0o644, dir_fd=folder)
    copying = True
    try:
        for part in parts:
            if isinstance(part, Stretch):
                copying = _copy(part, fd, copying)
                continue
            _write_all(fd, part)
        return os.fstat(fd)
    finally:
        os.close(fd)


def _write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view) :]


#: What ``copy_file_range`` may say that reading and writing would say too (the disk is
#: full): raised. Any other refusal (another file system, a kernel, file system or sandbox
#: without the call: EXDEV, ENOSYS, EOPNOTSUPP, EINVAL, EPERM) is left to reading and
#: writing, which raise what is really wrong (as ``shutil``'s fast copy does).
_FULL = {errno.ENOSPC, errno.EDQUOT}


def _copy(part: Stretch, fd: int, copying: bool = True) -> bool:
    """Append ``part`` to ``fd`` (at its offset), copied by the system where it can
    (``copying``: not refused for this file yet), else read and written; whether to ask
    the system for the file's next stretch. A file that ends sooner than the stretch
    changed: ``PublishError``."""
    at, left = part.offset, part.length
    copy = getattr(os, "copy_file_range", None) if copying else None
    while left and copy is not None:
        try:
            n = copy(part.fd, fd, left, at)
        except OSError as exc:
            if exc.errno in _FULL:
                raise
            copy = None  # refused: not asked again for this file
            break
        if not n:  # the end of the file, or a file system that copies nothing (told apart below)
            break
        at, left = at + n, left - n
    while left:
        data = os.pread(part.fd, min(left, 1 << 20), at)
        if not data:
            raise PublishError("a file of the previous build changed during the build; build again")
        _write_all(fd, data)
        at, left = at + len(data), left - len(data)
    return copy is not None


def _digest(parts: Iterable[Part]) -> str:
    """The digest of ``parts`` (``_hasher``), "" when a stretch is among them."""
    h = _hasher()
    for part in parts:
        if isinstance(part, Stretch):
            return ""
        h.update(part)
    return _hex(h)


def _write_stream(folder: int | None, name: str, parts: Iterator[Part]) -> tuple[os.stat_result, str]:
    """``_write`` for parts made as they are written; also returns their digest ("" when a
    stretch was among them)."""
    h: hashlib._Hash | None = _hasher()

    def hashed() -> Iterator[Part]:
        nonlocal h
        for part in parts:
            if isinstance(part, Stretch):
                h = None
            elif h is not None:
                h.update(part)
            yield part

    st = _write(folder, name, hashed())
    return st, "" if h is None else _hex(h)


def _hasher() -> hashlib._Hash:
    """What a file's digest in the manifest is made with: SHA-256, its first 128 bits kept.
    (Where the processor has SHA instructions, as most do, OpenSSL's SHA-256 hashes three
    times as fast as BLAKE2b: 40 MB in 0.03 s against 0.09 s here. An update writes about
    that much at 10,000 cards, and publishing it takes 0.10 s of CPU instead of 0.12.)"""
    return hashlib.sha256()


def _hex(h: hashlib._Hash) -> str:
    """The digest ``_hasher`` made, as the manifest keeps it."""
    return h.hexdigest()[:32]


def _same_as_written(src: int, dst: int | None, name: str, digest: str, entry: Entry | None) -> bool:
    """``_unchanged_at`` for a file already written to the new tree: the manifest answers
    when the previous copy is as the last build left it (and its digest is known);
    otherwise the two are compared."""
    if entry is not None and entry[0]:
        if entry[0] != digest:
            return False
        if _intact_at(src, name, entry):
            return True
    try:
        new = os.open(name, os.O_RDONLY | os.O_NOFOLLOW | os.O_CLOEXEC, dir_fd=dst)
    except OSError:
        return False
    try:
        with os.fdopen(new, "rb") as fh:
            return _same(name, iter(lambda: fh.read(1 << 20), b""), src)
    except OSError:
        return False


def _kept(src: int | None, dst: int | None, name: str, entry: Entry | None) -> os.stat_result | None:
    """Link the previous build's ``name`` into the new tree; None (nothing linked) unless
    it is exactly as ``entry`` says the previous build left it."""
    if src is None or entry is None:
        return None
    try:
        st = _link(src, dst, name)
    except OSError:
        return None
    if stat.S_ISREG(st.st_mode) and (st.st_size, st.st_mtime_ns, st.st_ino) == tuple(entry[1:4]):
        return st
    os.unlink(name, dir_fd=dst)
    return None


def _link(src: int, dst: int | None, name: str) -> os.stat_result:
    """Hard-link the previous build's ``name`` into the new tree (its mtime stays)."""
    os.link(name, name, src_dir_fd=src, dst_dir_fd=dst, follow_symlinks=False)
    return os.stat(name, dir_fd=dst, follow_symlinks=False)


def _intact_at(folder: int, name: str, entry: Entry) -> bool:
    try:
        st = os.stat(name, dir_fd=folder, follow_symlinks=False)
    except OSError:
        return False
    return stat.S_ISREG(st.st_mode) and (st.st_size, st.st_mtime_ns, st.st_ino) == tuple(entry[1:4])


def _unchanged_at(folder: int, name: str, parts: list[bytes], digest: str, entry: Entry | None) -> bool:
    """Does ``name`` hold exactly ``parts``? The manifest answers without reading the file
    when the file is as the last build left it (same size, mtime and inode) and its digest
    is known; otherwise the bytes are compared."""
    if entry is not None and entry[0]:
        if entry[0] != digest:
            return False
        if _intact_at(folder, name, entry):
            return True
    return _same(name, parts, folder)


def _same(name: str | Path, parts: Iterable[bytes], folder: int | None = None) -> bool:
    """Is ``name`` (in ``folder``) a regular file, never a link, holding exactly ``parts``?"""
    try:
        fd = os.open(name, os.O_RDONLY | os.O_NOFOLLOW | os.O_CLOEXEC, dir_fd=folder)
    except OSError:
        return False
    try:
        st = os.fstat(fd)
        sized = isinstance(parts, list)  # else compared as read
        if not stat.S_ISREG(st.st_mode) or (sized and st.st_size != sum(len(p) for p in parts)):
            return False
        with os.fdopen(os.dup(fd), "rb") as fh:
            return all(fh.read(len(p)) == p for p in parts) and not fh.read(1)
    except OSError:
        return False
    finally:
        os.close(fd)


_RENAME_EXCHANGE = 2
_AT_FDCWD = -100


def _exchange(a: Path, b: Path) -> bool:
    """Swap two paths atomically (Linux renameat2); False where the system cannot."""
    # The C library this process already runs on: find_library would start a compiler or
    # ldconfig (a fork of this whole process) to look for it.
    import ctypes  # (4 ms of every command's start-up otherwise)

    libc = ctypes.CDLL(None, use_errno=True)
    fn = getattr(libc, "renameat2", None)
    if fn is None:
        return False
    res = fn(_AT_FDCWD, os.fsencode(a), _AT_FDCWD, os.fsencode(b), _RENAME_EXCHANGE)
    if res == 0:
        return True
    err = ctypes.get_errno()
    if err in (errno.ENOSYS, errno.EINVAL, errno.ENOTSUP):
        return False
    raise OSError(err, os.strerror(err), str(b))


def create(files: Mapping[Path, bytes]) -> None:
    """Write new files, never replacing one that exists (scaffolds, schemas use ``replace``)."""
    for path in files:
        if path.exists():
            raise PublishError(f"{path} exists already; nothing was written")
    done: list[Path] = []
    try:
        for path, data in files.items():
            path.parent.mkdir(parents=True, exist_ok=True)
            with open(path, "xb") as fh:
                fh.write(data)
            done.append(path)
    except BaseException:
        for path in done:
            path.unlink(missing_ok=True)
        raise


def replace(files: Mapping[Path, bytes], *, compare: bool = True) -> list[Path]:
    """Write files whose bytes differ (with ``compare``; else every file), each atomically;
    returns the ones written."""
    written = []
    for path, data in files.items():
        if compare and _same(path, [data]):
            continue
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(f".{path.name}.tmp-{os.getpid()}")
        try:
            tmp.write_bytes(data)
            os.replace(tmp, path)
        finally:
            tmp.unlink(missing_ok=True)
        written.append(path)
    return written
