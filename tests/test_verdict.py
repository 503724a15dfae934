"""The last check's verdict: reused only while the content folder is exactly as it was."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from dossier import cache, check, readers
from dossier.cli import main

from .conftest import CARD, make_content, write


@pytest.fixture
def settled(monkeypatch: pytest.MonkeyPatch) -> None:
    """Files written by the test count as settled (no clock tick to wait out)."""
    monkeypatch.setattr(readers, "RACY_NS", 0)


def run(in_tmp: Path, *args: str) -> Result:
    runner = CliRunner(env={"DOSSIER_CACHE_DIR": str(in_tmp / "cache")})
    return runner.invoke(main, ["check", "content", *args])


def refuse_to_read(monkeypatch: pytest.MonkeyPatch) -> None:
    def boom(*args: object, **kwargs: object) -> None:
        raise AssertionError("the content was read again")

    monkeypatch.setattr(check, "read_content", boom)


def test_an_unchanged_folder_is_answered_without_reading_it(
    in_tmp: Path, settled: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    make_content(in_tmp / "content", {"bad.yaml": CARD.replace("wire", "nope")})
    first = run(in_tmp, "--format", "json")
    assert first.exit_code == 1 and "unknown-source" in first.stdout
    refuse_to_read(monkeypatch)
    for fmt in ("json", "text", "github"):
        again = run(in_tmp, "--format", fmt)
        assert again.exit_code == 1, again.output
    assert run(in_tmp, "--format", "json").stdout == first.stdout


def test_the_verdict_matches_a_fresh_check_in_every_format(in_tmp: Path, settled: None) -> None:
    make_content(in_tmp / "content", {"b.yaml": CARD.replace("status: confirmed", "status: maybe")})
    for fmt in ("text", "json", "github", "markdown"):
        fresh = run(in_tmp, "--format", fmt, "--no-cache")
        run(in_tmp, "--format", fmt)  # stores the verdict
        recalled = run(in_tmp, "--format", fmt)
        assert (recalled.exit_code, recalled.output) == (fresh.exit_code, fresh.output), fmt


@pytest.mark.parametrize(
    "change",
    ["edit-keeping-size-and-mtime", "new-card", "removed-card", "source-edited", "renamed-card", "link"],
)
def test_any_change_to_the_folder_is_checked_afresh(in_tmp: Path, settled: None, change: str) -> None:
    content = make_content(in_tmp / "content", {"a.yaml": CARD, "b.yaml": CARD + "related: [a]\n"})
    assert run(in_tmp).exit_code == 0
    card = content / "facts/b.yaml"
    if change == "edit-keeping-size-and-mtime":
        st = card.stat()
        card.write_text(card.read_text().replace("status: confirmed", "status: confirmex"))
        os.utime(card, ns=(st.st_atime_ns, st.st_mtime_ns))
        assert card.stat().st_size == st.st_size
    elif change == "new-card":
        write(content, "facts/sub/c.yaml", CARD.replace("wire", "nope"))
    elif change == "removed-card":
        (content / "facts/a.yaml").unlink()
    elif change == "source-edited":
        path = content / "sources/wire.txt"
        path.write_text(path.read_text().replace("car", "cat"))
    elif change == "renamed-card":
        card.rename(content / "facts/B.yaml")  # not a valid id
    elif change == "link":
        card.unlink()
        card.symlink_to(in_tmp / "outside.yaml")
        (in_tmp / "outside.yaml").write_text(CARD)
    result = run(in_tmp)
    assert result.exit_code == 1, (change, result.output)


def test_strict_and_the_working_directory_have_verdicts_of_their_own(in_tmp: Path, settled: None) -> None:
    make_content(in_tmp / "content", {"b.yaml": CARD.replace("wire", "nope")})
    absolute = str(in_tmp / "content")
    runner = CliRunner(env={"DOSSIER_CACHE_DIR": str(in_tmp / "cache")})
    here = runner.invoke(main, ["check", absolute])
    assert here.exit_code == 1 and "\ncontent/facts/b.yaml:" in "\n" + here.stdout
    assert runner.invoke(main, ["check", absolute, "--strict"]).exit_code == 1
    os.mkdir(in_tmp / "elsewhere")
    os.chdir(in_tmp / "elsewhere")
    moved = runner.invoke(main, ["check", absolute])
    assert moved.exit_code == 1 and "\n../content/facts/b.yaml:" in "\n" + moved.stdout
    assert len(list((in_tmp / "cache").glob("check-*"))) == 1  # one verdict a folder: the last


def test_a_warning_is_an_error_only_under_strict(in_tmp: Path, settled: None) -> None:
    source = "The car was a gift. It was not new, and it cost 300 dollars, they said at the time.\n"
    quote = "The car was a gift ... they said at the time"
    card = CARD.split("evidence:")[0] + f'evidence:\n  - source: wire\n    quote: "{quote}"\n'
    content = make_content(in_tmp / "content", {"b.yaml": card}, pin=False)
    write(content, "sources/wire.txt", source)
    assert run(in_tmp).exit_code == 0
    assert run(in_tmp, "--strict").exit_code == 1
    assert run(in_tmp).exit_code == 0  # recalled, not the strict verdict
    assert run(in_tmp, "--strict").exit_code == 1


def test_a_freshly_written_folder_gets_no_verdict(in_tmp: Path) -> None:
    """A file written within the clock's resolution could change again unseen: no verdict."""
    make_content(in_tmp / "content")
    assert run(in_tmp).exit_code == 0
    assert not list((in_tmp / "cache").glob("check-*"))


def test_no_cache_neither_reads_nor_stores_a_verdict(
    in_tmp: Path, settled: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    make_content(in_tmp / "content")
    assert run(in_tmp, "--no-cache").exit_code == 0
    assert not (in_tmp / "cache").exists()
    assert run(in_tmp).exit_code == 0
    assert list((in_tmp / "cache").glob("check-*"))
    calls: list[object] = []
    monkeypatch.setattr(cache, "load_verdict", lambda path: calls.append(path))
    assert run(in_tmp, "--no-cache").exit_code == 0
    assert calls == []


def test_a_damaged_verdict_is_ignored(in_tmp: Path, settled: None) -> None:
    make_content(in_tmp / "content", {"b.yaml": CARD.replace("wire", "nope")})
    first = run(in_tmp)
    [stored] = (in_tmp / "cache").glob("check-*")
    stored.write_bytes(b"\x00garbage")
    assert cache.load_verdict(stored) is None
    again = run(in_tmp)
    assert (again.exit_code, again.output) == (first.exit_code, first.output) == (1, first.output)
