"""Files put into a built site by hand (a CNAME, a .well-known folder) are kept: a build
never deletes what it did not write (SPEC §4). The marker lists what dossier wrote; the
rest is carried over as it is, and a build that would write over it stops instead."""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from dossier import publish
from dossier.build import build
from dossier.publish import MARKER, File, PublishError

from .conftest import CARD, make_content
from .test_hardening import assert_no_crash, invoke, put, snapshot

BY_HAND = {
    "CNAME": b"dossier.example.org\n",
    ".well-known/security.txt": b"Contact: mailto:desk@example.org\n",
    "facts/notes.txt": b"kept beside the pages\n",
    "static/logo.svg": b"<svg/>",
}


def _add_by_hand(out: Path) -> None:
    for name, data in BY_HAND.items():
        put(out, name, data)
    (out / "empty").mkdir()
    os.symlink("CNAME", out / "cname-link")


def _by_hand(out: Path) -> dict[str, tuple[str, bytes | str, int]]:
    seen = snapshot(out)
    return {name: seen[name] for name in [*BY_HAND, "empty", "cname-link"] if name in seen}


@pytest.mark.parametrize("cache", [True, False])
def test_files_added_by_hand_stay_through_builds(tmp_path: Path, cache: bool) -> None:
    content = make_content(tmp_path / "content")
    out = tmp_path / "site"
    flags = [] if cache else ["--no-cache"]
    assert invoke("build", str(content), "--out", str(out), *flags).exit_code == 0
    _add_by_hand(out)
    inodes = {name: (out / name).lstat().st_ino for name in BY_HAND}
    added = _by_hand(out)
    assert len(added) == len(BY_HAND) + 2
    # Nothing changed; a card edited; a card added; a card removed: four builds, so that
    # the spare tree is written into both ways round.
    steps = [
        lambda: None,
        lambda: put(content, "facts/gift.yaml", CARD.replace("a car.", "a limousine.")),
        lambda: put(content, "facts/other.yaml", CARD.replace("Putin gave Kim a car.", "Another claim.")),
        lambda: put(content, "facts/other.yaml", None),
    ]
    for step in steps:
        step()
        result = invoke("build", str(content), "--out", str(out), *flags)
        assert result.exit_code == 0, result.output
        assert _by_hand(out) == added  # bytes, link target and mtime as they were
        assert {name: (out / name).lstat().st_ino for name in BY_HAND} == inodes  # not copied: linked
    written = publish.written_by_dossier(out)
    assert written is not None and "facts/gift.html" in written
    assert not written & {*BY_HAND, "empty/", "cname-link"}  # the marker lists only dossier's own
    assert not (out / "facts/other.html").exists()  # a page of a removed card still goes


def test_a_file_removed_by_hand_is_not_brought_back(tmp_path: Path) -> None:
    content = make_content(tmp_path / "content")
    out = tmp_path / "site"
    build(content, out)
    put(out, "CNAME", "dossier.example.org\n")
    build(content, out)
    (out / "CNAME").unlink()
    build(content, out)
    assert not (out / "CNAME").exists()


def test_the_marker_lists_what_the_build_wrote(tmp_path: Path) -> None:
    content = make_content(tmp_path / "content")
    out = tmp_path / "site"
    result = build(content, out)
    assert result.published is not None
    on_disk = {str(p.relative_to(out)) for p in out.rglob("*") if p.is_file()} - {MARKER}
    assert publish.written_by_dossier(out) == on_disk == set(result.published.manifest)
    marker = (out / MARKER).read_bytes()
    mtime = (out / MARKER).stat().st_mtime_ns
    put(content, "facts/gift.yaml", CARD.replace("a car.", "a limousine."))
    build(content, out)
    assert (out / MARKER).read_bytes() == marker  # the same files: the same marker, kept
    assert (out / MARKER).stat().st_mtime_ns == mtime


@pytest.mark.parametrize("where", ["file", "folder"])
def test_a_build_that_would_write_over_a_file_added_by_hand_stops(tmp_path: Path, where: str) -> None:
    content = make_content(tmp_path / "content")
    out = tmp_path / "site"
    assert invoke("build", str(content), "--out", str(out)).exit_code == 0
    # A page of its own where a card added later will have its page (or a folder there).
    put(out, "facts/other.html" if where == "file" else "facts/other.html/draft.txt", "mine\n")
    before = snapshot(out)
    put(content, "facts/other.yaml", CARD.replace("Putin gave Kim a car.", "Another claim."))
    result = invoke("build", str(content), "--out", str(out))
    assert_no_crash(result)
    assert result.exit_code == 2
    named = "facts/other.html" if where == "file" else "facts/other.html/draft.txt"
    assert f"holds {named}, which dossier did not write" in result.output
    assert "facts/other.html" in result.output.split("where this build writes", 1)[1]
    assert snapshot(out) == before  # nothing written, nothing lost
    # Moved away, the build goes through.
    put(out, named, None)
    if where == "folder":
        (out / "facts/other.html").rmdir()  # (left empty, it is still in the way)
    assert invoke("build", str(content), "--out", str(out)).exit_code == 0
    assert "Another claim." in (out / "facts/other.html").read_text()


@pytest.mark.parametrize("spare", [True, False])
def test_publish_refuses_a_folder_where_a_file_added_by_hand_stands(tmp_path: Path, spare: bool) -> None:
    out, content = tmp_path / "site", tmp_path / "content"
    publish.publish([File("a.html", b"a")], out, content, spare=spare)
    put(out, "b", "mine")  # a file where the next build makes a folder
    put(out, "c/d.txt", "mine too")  # a folder where the next build writes a file
    before = snapshot(out)
    with pytest.raises(PublishError, match=r"holds b, which dossier did not write, .* writes b/"):
        publish.publish([File("a.html", b"a"), File("b/x.html", b"x")], out, content, spare=spare)
    with pytest.raises(PublishError, match=r"holds c/d\.txt, .* writes c;"):
        publish.publish([File("a.html", b"a"), File("c", b"c")], out, content, spare=spare)
    assert snapshot(out) == before
    done = publish.publish([File("a.html", b"A"), File("e/f.html", b"f")], out, content, spare=spare)
    assert (out / "b").read_text() == "mine" and (out / "c/d.txt").read_text() == "mine too"
    assert set(done.manifest) == {"a.html", "e/f.html"} == publish.written_by_dossier(out)
    # A folder of dossier's emptied by hand is no clash with the build that fills it again.
    (out / "e/f.html").unlink()
    publish.publish([File("a.html", b"A"), File("e/f.html", b"f")], out, content, spare=spare)
    assert (out / "e/f.html").read_bytes() == b"f"


def test_a_site_from_before_the_list_is_all_dossiers_own(tmp_path: Path) -> None:
    """A marker with no list (builds before it) vouches for every file: the next build
    replaces the folder whole, as those builds did, and writes the list."""
    out, content = tmp_path / "site", tmp_path / "content"
    publish.publish([File("a.html", b"a")], out, content)
    put(out, MARKER, publish.MARKER_OLD)
    put(out, "old-page.html", "from an old build")
    assert publish.written_by_dossier(out) is None and publish.foreign(out) == []
    publish.publish([File("a.html", b"a")], out, content)
    assert not (out / "old-page.html").exists()
    assert publish.written_by_dossier(out) == {"a.html"}


def test_nothing_to_do_is_still_nothing_to_do_with_a_file_added_by_hand(tmp_path: Path) -> None:
    content = make_content(tmp_path / "content")
    out = tmp_path / "site"
    assert invoke("build", str(content), "--out", str(out)).exit_code == 0
    put(out, "CNAME", "dossier.example.org\n")
    result = invoke("build", str(content), "--out", str(out))
    assert result.exit_code == 0
    assert "(0 files written" in result.output, result.output
    assert (out / "CNAME").read_text() == "dossier.example.org\n"


def _interrupted(files: list[File], at: int, act: object) -> Iterator[File]:
    """``files``, with ``act()`` done before the one at ``at`` is handed over."""
    for i, file in enumerate(files):
        if i == at:
            act()  # type: ignore[operator]
        yield file


@pytest.mark.parametrize("spare", [True, False])
def test_a_file_put_into_the_site_while_it_builds_is_kept(tmp_path: Path, spare: bool) -> None:
    out, content = tmp_path / "site", tmp_path / "content"
    files = [File("a.html", b"a"), File("b.html", b"b"), File("c/d.html", b"d")]
    publish.publish(files, out, content, spare=spare)
    publish.publish(_interrupted(files, 1, lambda: put(out, "CNAME", "late\n")), out, content, spare=spare)
    assert (out / "CNAME").read_text() == "late\n"
    publish.publish(files, out, content, spare=spare)
    assert (out / "CNAME").read_text() == "late\n"


@pytest.mark.parametrize("spare", [True, False])
def test_a_file_removed_from_the_site_while_it_builds_stays_removed(tmp_path: Path, spare: bool) -> None:
    out, content = tmp_path / "site", tmp_path / "content"
    files = [File("a.html", b"a"), File("b.html", b"b")]
    publish.publish(files, out, content, spare=spare)
    put(out, "CNAME", "mine\n")
    publish.publish(files, out, content, spare=spare)
    # Listed late (after every page), and gone before it is linked: nothing to keep, no error.
    real = publish.listing

    def then_gone(root: Path) -> set[str]:
        found = real(root)
        if (root / "CNAME").exists():
            (root / "CNAME").unlink()
        return found

    publish.listing = then_gone  # type: ignore[assignment]
    try:
        publish.publish(files, out, content, spare=spare)
    finally:
        publish.listing = real  # type: ignore[assignment]
    assert not (out / "CNAME").exists()


def test_a_file_where_dossier_made_a_folder_is_not_dossiers(tmp_path: Path) -> None:
    content = make_content(tmp_path / "content")
    out = tmp_path / "site"
    assert invoke("build", str(content), "--out", str(out)).exit_code == 0
    shutil.rmtree(out / "static")
    put(out, "static", "my notes\n")  # a file of one's own, where dossier had a folder
    result = invoke("build", str(content), "--out", str(out))
    assert_no_crash(result)
    assert result.exit_code == 2 and "holds static, which dossier did not write" in result.output
    assert (out / "static").read_text() == "my notes\n"


def test_a_site_from_before_the_list_keeps_what_the_cache_says_dossier_did_not_write(tmp_path: Path) -> None:
    out, content = tmp_path / "site", tmp_path / "content"
    done = publish.publish([File("a.html", b"a")], out, content)
    put(out, "CNAME", "mine\n")
    put(out, MARKER, publish.MARKER_OLD)  # (the manifest is the cache's, which knows what it wrote)
    publish.publish([File("a.html", b"a")], out, content, done.manifest)
    assert (out / "CNAME").read_text() == "mine\n"


def test_a_link_added_by_hand_leaves_the_spare_usable(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    out, content = tmp_path / "site", tmp_path / "content"
    files = [File("a.html", b"a"), File("b.html", b"b")]
    manifest = publish.publish(files, out, content, spare=True).manifest
    os.symlink("a.html", out / "latest")
    claimed: list[object] = []
    real = publish._claim

    def spy(*args: object) -> object:
        claimed.append(real(*args))  # type: ignore[arg-type]
        return claimed[-1]

    monkeypatch.setattr(publish, "_claim", spy)
    for _ in range(3):
        manifest = publish.publish(files, out, content, manifest, spare=True).manifest
        assert os.readlink(out / "latest") == "a.html"
    assert claimed[-1] is not None  # the spare, with the link in it, was written into


def test_a_file_that_may_not_be_linked_is_copied_with_its_mtime(tmp_path: Path) -> None:
    """Where links to another user's files are not allowed (fs.protected_hardlinks), a file
    added by hand is copied, bytes and mtime."""
    out, content = tmp_path / "site", tmp_path / "content"
    publish.publish([File("a.html", b"a")], out, content)
    put(out, "CNAME", "root's\n")
    os.utime(out / "CNAME", ns=(10**18, 10**18))
    real = publish._link

    def refused(src: int, dst: int | None, name: str) -> os.stat_result:
        if name == "CNAME":
            raise PermissionError(1, "Operation not permitted")
        return real(src, dst, name)

    publish._link = refused  # type: ignore[assignment]
    try:
        publish.publish([File("a.html", b"A")], out, content)
    finally:
        publish._link = real  # type: ignore[assignment]
    assert (out / "CNAME").read_text() == "root's\n"
    assert (out / "CNAME").stat().st_mtime_ns == 10**18
