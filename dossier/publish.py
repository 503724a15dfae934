"""Publishing: the only module that writes files.

A build is written beside the output, unchanged files hard-linked from the previous
build (so their mtime stays and deploys upload only what changed), then swapped in with
one atomic rename exchange. Any failure removes the temporary tree and leaves the
previous site exactly as it was.
"""

from __future__ import annotations

import ctypes
import errno
import hashlib
import os
import shutil
import stat
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path

MARKER = ".dossier-build"

#: What a build wrote: name -> (blake2b of the bytes, size, mtime_ns, inode). Kept by the
#: caller (in the cache folder, not in the site, whose bytes must not depend on the clock).
#: The last field is the page's input key (see build), "" for other files.
Entry = tuple[str, int, int, int, str]
Manifest = dict[str, Entry]


@dataclass(frozen=True, slots=True)
class File:
    """One file of a new site: its bytes, or ``None`` to keep the previous build's copy
    (which ``intact`` has vouched for); ``inputs`` keys what it was made from."""

    name: str
    #: the bytes, or for a large file its parts in order (a list), or made as they are
    #: written (an iterator: the whole is never in memory)
    data: bytes | list[bytes] | Iterator[bytes] | None
    inputs: str = ""


MARKER_TEXT = b"This folder is written by 'dossier build'; it is replaced whole on every build.\n"


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


def publish(files: Iterable[File], out: Path, content_dir: Path, before: Manifest | None = None) -> Published:
    """Write ``files`` as the new site at ``out``, all or nothing.

    ``before`` is the manifest the previous build returned: with it, an unchanged file is
    recognised without reading it back.
    """
    check_target(out, content_dir)
    parent = out.parent
    parent.mkdir(parents=True, exist_ok=True)
    tmp = parent / f".{out.name}.new-{os.getpid()}"
    old = parent / f".{out.name}.old-{os.getpid()}"
    for leftover in (tmp, old):
        if leftover.exists():
            shutil.rmtree(leftover)
    written = kept = 0
    before = before or {}
    after: Manifest = {}
    try:
        tmp.mkdir()
        with _Folders(tmp, create=True) as new, _Folders(out, create=False) as prev:
            for file in files:
                folder, _, base = file.name.rpartition("/")
                dst = new.fd(folder)
                src = prev.fd(folder)
                previous = before.get(file.name)
                if file.data is None:  # the caller checked the old copy is intact and still right
                    # Linked, then looked at: what was linked is what the caller vouched for
                    # (one stat a file fewer than looking first).
                    st = _kept(src, dst, base, previous)
                    if st is None:
                        raise PublishError(f"{out / file.name} changed during the build; build again")
                    digest = previous[0] if previous is not None else ""
                    kept += 1
                elif not isinstance(file.data, bytes | list):  # written as it is made
                    st, digest = _write_stream(dst, base, file.data)
                    if src is not None and _same_as_written(src, dst, base, digest, previous):
                        os.unlink(base, dir_fd=dst)
                        st = _link(src, dst, base)  # the same bytes: the old file, its mtime kept
                        kept += 1
                    else:
                        written += 1
                else:
                    parts = [file.data] if isinstance(file.data, bytes) else file.data
                    h = hashlib.blake2b(digest_size=16)
                    for part in parts:
                        h.update(part)
                    digest = h.hexdigest()
                    if src is not None and _unchanged_at(src, base, parts, digest, previous):
                        st = _link(src, dst, base)
                        kept += 1
                    else:
                        st = _write(dst, base, parts)
                        written += 1
                after[file.name] = (digest, st.st_size, st.st_mtime_ns, st.st_ino, file.inputs)
            _write(new.fd(""), MARKER, [MARKER_TEXT])
        if out.exists():
            if _exchange(tmp, out):
                shutil.rmtree(tmp)  # now holds the previous site
            else:
                os.rename(out, old)
                os.rename(tmp, out)
                shutil.rmtree(old)
        else:
            os.rename(tmp, out)
    except BaseException:
        if tmp.exists():
            shutil.rmtree(tmp, ignore_errors=True)
        if old.exists() and not out.exists():
            os.rename(old, out)
        raise
    return Published(written, kept, after)


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


def _write(folder: int | None, name: str, parts: Iterable[bytes]) -> os.stat_result:
    """Create ``name`` in ``folder`` (never replacing anything) holding ``parts``."""
    assert folder is not None
    fd = os.open(name, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC, 0o644, dir_fd=folder)
    try:
        for part in parts:
            view = memoryview(part)
            while view:
                view = view[os.write(fd, view) :]
        return os.fstat(fd)
    finally:
        os.close(fd)


def _write_stream(folder: int | None, name: str, parts: Iterator[bytes]) -> tuple[os.stat_result, str]:
    """``_write`` for parts made as they are written; also returns their digest."""
    h = hashlib.blake2b(digest_size=16)

    def hashed() -> Iterator[bytes]:
        for part in parts:
            h.update(part)
            yield part

    st = _write(folder, name, hashed())
    return st, h.hexdigest()


def _same_as_written(src: int, dst: int | None, name: str, digest: str, entry: Entry | None) -> bool:
    """``_unchanged_at`` for a file already written to the new tree: the manifest answers
    when the previous copy is as the last build left it; otherwise the two are compared."""
    if entry is not None:
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
    when the file is as the last build left it (same size, mtime and inode); otherwise the
    bytes are compared."""
    if entry is not None:
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
