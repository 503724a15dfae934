"""Work started in a forked child while the command goes on: a build's survey of the
content folder, made while the renderer is imported and the cache loaded."""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest

from dossier import check, parallel
from dossier import survey as surveys
from dossier.publish import MARKER as MARKER_NAME

from .conftest import CARD, make_content, write
from .test_verdict import build_cli

pytestmark = pytest.mark.skipif(not hasattr(os, "fork"), reason="this system cannot fork")


@pytest.fixture
def settled(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(surveys, "RACY_NS", 0)


def _children() -> set[int]:
    """This process's children still there, zombies too (Linux's /proc)."""
    found = set()
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if int(fields[1]) == os.getpid():
                found.add(int(entry.name))
    return found


def test_the_results_come_back_in_order_and_the_child_is_waited_for() -> None:
    big = {f"card-{i}.yaml": (33188, i, i * 7, "") for i in range(20_000)}  # more than a pipe holds
    with parallel.ahead(lambda: ("made", big), lambda: None, lambda: [b"third"]) as pending:
        assert pending is not None
        assert pending.take() == ("made", big)
        assert pending.take() is None
        assert pending.take() == [b"third"]
        assert pending.take() is None  # each once only: asked again, the caller does the work
    assert pending.pid not in _children()


@pytest.mark.parametrize("fails", ["raises", "unmarshallable", "exits"])
def test_a_failing_child_gives_none(fails: str) -> None:
    def work() -> object:
        if fails == "raises":
            raise RuntimeError("no")
        if fails == "exits":
            raise SystemExit(0)  # (it still did not send a result)
        return object()

    with parallel.ahead(lambda: "first", work, lambda: "never sent") as pending:
        assert pending is not None and pending.take() == "first"
        assert pending.take() is None
        assert pending.take() is None  # (nothing after a failure)


def test_a_child_never_asked_is_not_left_behind_or_waited_for() -> None:
    big = list(range(200_000))  # it blocks writing until the pipe is closed

    def slow() -> None:
        time.sleep(30)

    started = time.monotonic()
    with parallel.ahead(lambda: big, slow) as pending:
        assert pending is not None
    assert pending.pid not in _children()
    with parallel.ahead(lambda: 1, slow) as pending:
        assert pending is not None and pending.take() == 1
    assert pending.pid not in _children()
    assert time.monotonic() - started < 20  # stopped, not waited for


def test_where_nothing_can_fork_nothing_is_started(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delattr(os, "fork")
    with parallel.ahead(lambda: 1) as pending:
        assert pending is None
    with surveys.surveying(Path("."), False, Path(".")) as surveyed:
        assert surveyed.survey() is None and surveyed.tree() is None


def test_where_children_reap_themselves_nothing_is_started(
    in_tmp: Path, settled: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A caller that ignores SIGCHLD (and execs dossier so) has its children reaped by the
    system: one could not be waited for, and the work is done here instead."""
    import signal

    make_content(in_tmp / "content")
    assert build_cli(in_tmp).exit_code == 0
    _edit(in_tmp, "grey")
    was = signal.signal(signal.SIGCHLD, signal.SIG_IGN)
    try:
        with parallel.ahead(lambda: 1) as pending:
            assert pending is None
        result = build_cli(in_tmp)
    finally:
        signal.signal(signal.SIGCHLD, was)
    assert result.exit_code == 0, result.output
    assert "a grey car" in (in_tmp / "site" / "facts" / "gift.html").read_text()


def test_fork_refused_is_work_done_here(monkeypatch: pytest.MonkeyPatch) -> None:
    def refused() -> int:
        raise BlockingIOError(11, "Resource temporarily unavailable")

    monkeypatch.setattr(os, "fork", refused)
    with parallel.ahead(lambda: 1) as pending:
        assert pending is None


@pytest.mark.parametrize("strict", [False, True])
def test_the_survey_made_ahead_is_the_survey(tmp_path: Path, settled: None, strict: bool) -> None:
    root = make_content(tmp_path / "content")
    write(root, "facts/sub/more.yaml", (root / "facts" / "gift.yaml").read_text().replace("gift", "more"))
    os.symlink("sub/more.yaml", root / "facts" / "linked.yaml")
    with surveys.surveying(root, strict) as surveyed:
        ahead = surveyed.survey()
        assert surveyed.tree() is None  # (none asked for)
    assert ahead is not None
    assert ahead == check.survey(root, strict)


def test_a_folder_that_cannot_be_surveyed_gives_none(tmp_path: Path) -> None:
    root = make_content(tmp_path / "content")  # just written: too recent to vouch for
    with surveys.surveying(root, False) as surveyed:
        assert surveyed.survey() is None
    assert check.survey(root, False) is None


def _edit(in_tmp: Path, words: str) -> None:
    card = in_tmp / "content" / "facts" / "gift.yaml"
    card.write_text(card.read_text().replace("Putin gave Kim a", f"Putin gave Kim a {words}", 1))


def test_the_build_command_uses_the_survey_made_ahead(
    in_tmp: Path, settled: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    from dossier import build as build_module

    make_content(in_tmp / "content")
    assert build_cli(in_tmp).exit_code == 0
    _edit(in_tmp, "fast")

    def here(*args: object, **kwargs: object) -> None:
        raise AssertionError("surveyed by the command itself")

    monkeypatch.setattr(build_module, "survey", here)  # (the child surveys by check's)
    result = build_cli(in_tmp)
    assert result.exit_code == 0, result.output
    assert "a fast car" in (in_tmp / "site" / "facts" / "gift.html").read_text()


def test_without_the_survey_ahead_the_build_surveys_itself(
    in_tmp: Path, settled: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    make_content(in_tmp / "content")
    assert build_cli(in_tmp).exit_code == 0
    _edit(in_tmp, "red")

    def failing(*args: object, **kwargs: object) -> None:
        raise OSError("the child failed")

    monkeypatch.setattr(surveys, "_record", failing)  # the child raises: no survey comes
    result = build_cli(in_tmp)
    assert result.exit_code == 0, result.output
    assert "a red car" in (in_tmp / "site" / "facts" / "gift.html").read_text()
    assert "(0 files written" not in result.stderr


def test_a_build_without_the_cache_forks_nothing(in_tmp: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    make_content(in_tmp / "content")

    def refused(*fns: object) -> None:
        raise AssertionError("forked")

    monkeypatch.setattr(parallel, "ahead", refused)
    result = build_cli(in_tmp, "--no-cache")
    assert result.exit_code == 0, result.output


def test_a_tree_is_listed_as_publish_would_find_it(tmp_path: Path) -> None:
    from dossier import publish

    root = tmp_path / "tree"
    write(root, "a.html", "a")
    write(root, "facts/one.html", "one")
    (root / "empty").mkdir()
    os.symlink("a.html", root / "facts" / "link.html")
    listed = surveys.tree(root)
    assert listed is not None
    assert listed.present == {
        "a.html": True, "facts": False, "facts/one.html": True, "facts/link.html": True, "empty": False
    }  # fmt: skip
    for name in ("a.html", "facts/one.html"):
        st = (root / name).stat()
        assert listed.files[name] == (st.st_size, st.st_mtime_ns, st.st_ino)
    assert "facts/link.html" not in listed.files  # (a link is never kept as the site's file)
    st = root.lstat()
    assert listed.root == (st.st_ino, st.st_dev, st.st_mtime_ns, st.st_ctime_ns)
    (root / MARKER_NAME).write_text("x")
    claimed = publish._claim(root, tmp_path / "claimed", tmp_path)
    assert claimed is not None and claimed.present == {**listed.present, MARKER_NAME: True}
    assert surveys.tree(tmp_path / "missing") is None
    os.mkfifo(tmp_path / "claimed" / "fifo")
    assert surveys.tree(tmp_path / "claimed") is None  # a stranger: not a tree to write into


def test_the_build_command_keeps_pages_as_the_spare_was_listed(
    in_tmp: Path, settled: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    from dossier import publish

    make_content(in_tmp / "content", {"gift.yaml": CARD, "other.yaml": CARD.replace("a car", "a pen")})
    assert build_cli(in_tmp).exit_code == 0
    _edit(in_tmp, "blue")
    assert build_cli(in_tmp).exit_code == 0  # (it sets the first site aside: the spare tree)
    assert publish.spare_path(in_tmp / "site").is_dir()
    _edit(in_tmp, "green")

    def looked(*args: object) -> None:
        raise AssertionError("a kept page looked at again")

    monkeypatch.setattr(publish, "_in_spare", looked)
    result = build_cli(in_tmp)
    assert result.exit_code == 0, result.output
    assert "a green blue car" in (in_tmp / "site" / "facts" / "gift.html").read_text()
