"""Publishing into the spare tree: the tree swapped out by one build, kept beside the site
and written into by the next, must give the same site a fresh tree gives."""

from __future__ import annotations

import errno
import os
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from dossier import publish, survey
from dossier.publish import MARKER, File, Kept, Manifest, PublishError, spare_path

from .conftest import CARD, make_content
from .test_hardening import invoke, put, snapshot

#: Names that collide as file and folder ("a" and "a/b"), several folders deep.
NAMES = ["a", "a/b", "a/c", "d/e/f", "d/e", "d", "x.html", "facts/one.html", "facts/two.html"]


def _valid(state: dict[str, bytes]) -> bool:
    return not any(other.startswith(name + "/") for name in state for other in state)


def _tree(root: Path) -> dict[str, bytes]:
    """Every file below ``root`` (the marker aside); an empty folder shows as ``name/``."""
    found: dict[str, bytes] = {}
    for dirpath, dirnames, filenames in os.walk(root):
        rel = os.path.relpath(dirpath, root)
        prefix = "" if rel == "." else rel + "/"
        if not dirnames and not filenames:
            found[prefix] = b""
        for name in filenames:
            if prefix + name != MARKER:
                found[prefix + name] = (Path(dirpath) / name).read_bytes()
    return found


def _publish(
    out: Path,
    state: dict[str, bytes],
    before: Manifest,
    keep: set[str],
    *,
    together: bool = False,
    listed: bool = False,
) -> Manifest:
    """Publish ``state``, the files in ``keep`` kept; ``together``: those as one ``Kept``
    (where the first of them stands), not one ``File`` each; ``listed``: the spare tree
    listed first, as a build's second process lists it (``survey.tree``)."""
    files: list[File | Kept] = [
        File(n, None if n in keep else data, f"made of {n}") for n, data in sorted(state.items())
    ]
    if together and keep:
        first = next(i for i, f in enumerate(files) if isinstance(f, File) and f.data is None)
        rest = [f for f in files if not (isinstance(f, File) and f.data is None)]
        files = [*rest[:first], Kept(sorted(keep)), *rest[first:]]
    tree = survey.tree(spare_path(out)) if listed else None
    return publish.publish(
        files, out, out.parent / "content", before, spare=True, spare_tree=(lambda: tree) if listed else None
    ).manifest


states = st.dictionaries(st.sampled_from(NAMES), st.sampled_from([b"one", b"two", b"three"])).filter(_valid)
tampering = st.sampled_from(
    ["none", "stray-file", "edited-copy", "same-stat-copy", "link", "no-marker", "file-for-folder"]
)


def _tamper(spare: Path, how: str) -> None:
    if not (spare / MARKER).is_file() or how == "none":
        return  # (a folder without the marker is not a spare: never used, never replaced)
    if how == "stray-file":
        (spare / "stray.txt").write_bytes(b"stray")
    elif how == "edited-copy":  # a new file in the place of one: no longer the site's
        for path in sorted(spare.rglob("*")):
            if path.is_file() and path.name != MARKER:
                path.unlink()
                path.write_bytes(b"edited")
                break
    elif how == "same-stat-copy":  # another file, its size and mtime those of the one it replaced
        for path in sorted(spare.rglob("*")):
            if path.is_file() and path.name != MARKER:
                was = path.stat()
                path.unlink()
                path.write_bytes(b"x" * was.st_size)
                os.utime(path, ns=(was.st_atime_ns, was.st_mtime_ns))
                break
    elif how == "link":
        (spare / "link").symlink_to(spare.parent)
    elif how == "no-marker":
        (spare / MARKER).unlink()
    elif how == "file-for-folder":
        (spare / "facts").mkdir(exist_ok=True)
        where = spare / "facts" / "two.html"
        if where.is_file():
            where.unlink()
        where.mkdir(exist_ok=True)
        (where / "inside").write_bytes(b"deep")


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    steps=st.lists(
        st.tuples(states, st.booleans(), tampering, st.booleans(), st.booleans()), min_size=1, max_size=6
    )
)
def test_a_site_published_into_the_spare_is_the_site(
    tmp_path_factory: pytest.TempPathFactory, steps: list[tuple[dict[str, bytes], bool, str, bool, bool]]
) -> None:
    root = tmp_path_factory.mktemp("spare")
    (root / "content").mkdir()
    out = root / "site"
    before: Manifest = {}
    last: dict[str, bytes] = {}
    for state, keep_some, how, together, listed in steps:
        _tamper(spare_path(out), how)  # (between builds: before the spare is listed)
        inodes = {n: (out / n).stat().st_ino for n in last}
        same = {n for n in state if last.get(n) == state[n]}
        written = before
        before = _publish(out, state, before, same if keep_some else set(), together=together, listed=listed)
        assert _tree(out) == state
        for name in same if keep_some else ():  # a kept file's entry is the one it had
            assert before[name] == written[name]
        if last and (spare_path(out) / MARKER).is_file():  # (one without is never replaced)
            assert _tree(spare_path(out)) == last  # the tree swapped out: the site as it was
        assert (out / MARKER).is_file()
        for name in same:  # an unchanged file is the same file: its mtime kept
            assert (out / name).stat().st_ino == inodes[name]
        last = state
    assert spare_path(out).is_dir() == (len(steps) > 1)
    assert sorted(p.name for p in root.iterdir() if p.name.startswith(".")) == (
        [".site.spare"] if len(steps) > 1 else []
    )


@pytest.mark.parametrize("together", [False, True])
@pytest.mark.parametrize("how", ["edited-copy", "same-stat-copy", "stray-file", "link", "file-for-folder"])
def test_a_spare_listed_ahead_is_taken_as_listed(tmp_path: Path, how: str, together: bool) -> None:
    """What the listing shows of each file (its inode, size and mtime) decides, as a look
    at it would: a copy changed between builds is not the site's file, and is replaced."""
    (tmp_path / "content").mkdir()
    out = tmp_path / "site"
    state = {"a": b"one", "facts/one.html": b"two", "facts/two.html": b"three"}
    m = _publish(out, state, {}, set())
    m = _publish(out, state, m, set(state), together=together)
    _tamper(spare_path(out), how)
    _publish(out, state, m, set(state), together=together, listed=True)
    assert _tree(out) == state


def test_a_page_edited_in_place_after_the_listing_is_found_by_the_next_build(tmp_path: Path) -> None:
    """The window a listing leaves open (see ``publish._claim``): a page of the site edited
    in place after the spare was listed is kept as edited, and the next build, finding it
    not as the last one left it, stops (the command then makes everything)."""
    (tmp_path / "content").mkdir()
    out = tmp_path / "site"
    state = {"a": b"one", "b": b"two"}
    m = _publish(out, state, {}, set())
    m = _publish(out, state, m, set(state), together=True)
    listed = survey.tree(spare_path(out))
    with open(out / "b", "ab") as fh:  # in place, as an editor keeping hard links writes
        fh.write(b" edited by hand")
    files: list[File | Kept] = [Kept(["a", "b"])]
    m = publish.publish(files, out, tmp_path / "content", m, spare=True, spare_tree=lambda: listed).manifest
    assert _tree(out) == {"a": b"one", "b": b"two edited by hand"}
    with pytest.raises(PublishError, match="b changed during the build"):
        _publish(out, state, m, set(state), together=True, listed=True)


def test_a_listing_of_a_spare_claimed_since_is_not_used(tmp_path: Path) -> None:
    """Another build claimed the spare after it was listed, wrote into it, and set another
    tree aside: the listing is of neither, and the tree claimed is looked at afresh."""
    (tmp_path / "content").mkdir()
    out = tmp_path / "site"
    first = {"a": b"one", "b": b"one"}
    m = _publish(out, first, {}, set())
    m = _publish(out, first, m, set(first), together=True)
    stale = survey.tree(spare_path(out))  # its files are the site's: the same inodes
    m = _publish(out, first, m, set(first), together=True)  # (another build, meanwhile)
    (spare_path(out) / "a").unlink()  # the tree it set aside: another file where its "a" was
    (spare_path(out) / "a").write_bytes(b"not the site's")
    files: list[File | Kept] = [Kept(["a", "b"])]
    publish.publish(files, out, tmp_path / "content", m, spare=True, spare_tree=lambda: stale)
    assert _tree(out) == first


def test_a_folder_that_is_not_a_spare_is_left_alone(tmp_path: Path) -> None:
    (tmp_path / "content").mkdir()
    out = tmp_path / "site"
    _publish(out, {"a": b"one"}, {}, set())
    theirs = spare_path(out)
    theirs.mkdir()
    (theirs / "keep.txt").write_bytes(b"precious")
    _publish(out, {"a": b"two"}, {}, set())
    _publish(out, {"a": b"three"}, {}, set())
    assert _tree(theirs) == {"keep.txt": b"precious"}
    assert _tree(out) == {"a": b"three"}


@pytest.mark.parametrize("kind", ["disk-full", "interrupt"])
def test_a_failure_while_writing_into_the_spare_leaves_the_site_as_it_was(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, kind: str
) -> None:
    """The spare's files are the site's own, linked: writing into one would change the
    site before the swap. A changed file replaces the link instead."""
    (tmp_path / "content").mkdir()
    out = tmp_path / "site"
    m = _publish(out, {"a": b"one", "b/c": b"one"}, {}, set())
    m = _publish(out, {"a": b"one", "b/c": b"one"}, m, {"a", "b/c"})  # the spare links both
    assert (spare_path(out) / "a").stat().st_ino == (out / "a").stat().st_ino
    before = snapshot(out)
    exc: BaseException = OSError(errno.ENOSPC, "full") if kind == "disk-full" else KeyboardInterrupt()

    def failing() -> File:
        raise exc

    def files() -> list[File]:
        return [File("a", b"two"), File("b/c", b"two")]

    def stream():  # type: ignore[no-untyped-def]
        yield from files()
        failing()

    with pytest.raises(type(exc)):
        publish.publish(stream(), out, tmp_path / "content", m, spare=True)
    assert snapshot(out) == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["content", "site"]
    _publish(out, {"a": b"two"}, m, set())  # and the next one goes through
    assert _tree(out) == {"a": b"two"}


@pytest.mark.parametrize("together", [False, True])
def test_a_kept_file_changed_during_the_build_stops_it_with_a_spare(tmp_path: Path, together: bool) -> None:
    (tmp_path / "content").mkdir()
    out = tmp_path / "site"
    m = _publish(out, {"a": b"one", "b": b"one"}, {}, set())
    m = _publish(out, {"a": b"one", "b": b"one"}, m, {"a", "b"}, together=together)
    (out / "b").write_bytes(b"edited by hand")  # the spare's copy is this file: changed too
    after = snapshot(out)
    with pytest.raises(PublishError, match="b changed during the build"):
        _publish(out, {"a": b"one", "b": b"one"}, m, {"a", "b"}, together=together)
    assert snapshot(out) == after
    assert sorted(p.name for p in tmp_path.iterdir()) == ["content", "site"]  # (the spare it wrote into goes)


@pytest.mark.parametrize("together", [False, True])
@pytest.mark.parametrize("how", ["replaced", "removed"])
def test_a_kept_file_replaced_in_the_site_is_taken_from_the_spare(
    tmp_path: Path, how: str, together: bool
) -> None:
    """The spare still holds the file the last build wrote (its own inode): that is kept."""
    (tmp_path / "content").mkdir()
    out = tmp_path / "site"
    m = _publish(out, {"a": b"one", "b": b"one"}, {}, set())
    m = _publish(out, {"a": b"one", "b": b"one"}, m, {"a", "b"}, together=together)
    inode = (out / "b").stat().st_ino
    (out / "b").unlink()
    if how == "replaced":
        (out / "b").write_bytes(b"replaced by hand")
    after = _publish(out, {"a": b"one", "b": b"one"}, m, {"a", "b"}, together=together)
    assert _tree(out) == {"a": b"one", "b": b"one"}
    assert (out / "b").stat().st_ino == inode and after == m


def test_the_cli_keeps_a_spare_only_with_its_cache(tmp_path: Path) -> None:
    content = make_content(tmp_path / "content")
    for out, extra in ((tmp_path / "cached", []), (tmp_path / "plain", ["--no-cache"])):
        for claim in ("A first claim.", "A second claim."):
            put(content, "facts/other.yaml", CARD.replace("Putin gave Kim a car.", claim))
            result = invoke("build", str(content), "--out", str(out), *extra)
            assert result.exit_code == 0, result.stdout + result.stderr
    names = sorted(p.name for p in tmp_path.iterdir())
    assert names == [".cached.spare", "cached", "content", "plain"]
    assert b"A first claim." in (tmp_path / ".cached.spare/facts/other.html").read_bytes()
    assert b"A second claim." in (tmp_path / "cached/facts/other.html").read_bytes()


def test_files_kept_together_without_a_spare_are_linked_and_checked(tmp_path: Path) -> None:
    (tmp_path / "content").mkdir()
    out = tmp_path / "site"

    def publish_kept(before: Manifest) -> Manifest:
        files = [Kept(["a", "d/b", "d/c"]), File("e", b"new")]
        return publish.publish(files, out, tmp_path / "content", before).manifest

    m = publish.publish([File(n, b"one") for n in ("a", "d/b", "d/c")], out, tmp_path / "content").manifest
    inodes = {n: (out / n).stat().st_ino for n in m}
    after = publish_kept(m)
    assert _tree(out) == {"a": b"one", "d/b": b"one", "d/c": b"one", "e": b"new"}
    assert {n: (out / n).stat().st_ino for n in m} == inodes
    assert {n: after[n] for n in m} == m
    (out / "d/c").write_bytes(b"edited by hand")
    before = snapshot(out)
    with pytest.raises(PublishError, match=r"d/c changed during the build"):
        publish_kept(after)
    assert snapshot(out) == before
    with pytest.raises(PublishError, match=r"x changed during the build"):  # not in the last build
        publish.publish([Kept(["x"])], out, tmp_path / "content", after)


def test_a_file_still_being_read_from_an_older_build_keeps_its_bytes(tmp_path: Path) -> None:
    """A file of the spare was the site's one build ago: a reader may still hold it open
    (a download, an upload). A changed file is never written into it: a new one is made."""
    (tmp_path / "content").mkdir()
    out = tmp_path / "site"
    m = _publish(out, {"a": b"first"}, {}, set())
    with (out / "a").open("rb") as reader:
        m = _publish(out, {"a": b"second"}, m, set())
        m = _publish(out, {"a": b"third, longer"}, m, set())  # the spare held the first's file
        assert reader.read() == b"first"
    assert _tree(out) == {"a": b"third, longer"}


def test_a_first_build_can_be_given_a_spare_that_the_next_writes_into(tmp_path: Path) -> None:
    (tmp_path / "content").mkdir()
    out = tmp_path / "site"
    state = {"a": b"one", "d/b": b"one", "d/e/c": b"one"}
    m = _publish(out, state, {}, set())
    assert not spare_path(out).exists()
    assert publish.make_spare(out) is True
    assert publish.make_spare(out) is False  # (there is one)
    assert _tree(spare_path(out)) == state
    inodes = {n: (out / n).stat().st_ino for n in state}
    assert {n: (spare_path(out) / n).stat().st_ino for n in state} == inodes  # linked, not copied
    m = _publish(out, {**state, "a": b"two"}, m, {"d/b", "d/e/c"}, together=True)
    assert _tree(out) == {**state, "a": b"two"}
    assert {n: (out / n).stat().st_ino for n in ("d/b", "d/e/c")} == {n: inodes[n] for n in ("d/b", "d/e/c")}
    assert _tree(spare_path(out)) == state  # the tree swapped out: the next build's spare


def test_a_spare_that_cannot_be_made_leaves_nothing(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "content").mkdir()
    out = tmp_path / "site"
    _publish(out, {"a": b"one", "b": b"one"}, {}, set())
    real, done = os.link, []

    def failing(*args: object, **kwargs: object) -> None:
        if done:
            raise OSError(errno.ENOSPC, "full")
        done.append(args)
        real(*args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(os, "link", failing)
    assert publish.make_spare(out) is False
    assert sorted(p.name for p in tmp_path.iterdir()) == ["content", "site"]

    def interrupted(*args: object, **kwargs: object) -> None:
        raise KeyboardInterrupt  # (serve's stop signals come as one)

    monkeypatch.setattr(os, "link", interrupted)
    with pytest.raises(KeyboardInterrupt):
        publish.make_spare(out)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["content", "site"]
    (out / MARKER).unlink()  # not a site dossier wrote: never given one
    monkeypatch.setattr(os, "link", real)
    assert publish.make_spare(out) is False and not spare_path(out).exists()
