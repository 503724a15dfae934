"""The benchmark's own tools: the synthetic dossier it times must be one that checks, with
the quote variants it claims, and its two-core figure must be a figure."""

from __future__ import annotations

import os
import random
import re
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from dossier.cli import main

BENCH = Path(__file__).resolve().parent.parent / "bench"
sys.path.insert(0, str(BENCH))

import generate  # noqa: E402
import misses  # noqa: E402
import run  # noqa: E402


def test_the_synthetic_dossier_checks_clean_and_has_every_kind_of_quote(tmp_path: Path) -> None:
    generate.generate(60, tmp_path / "bench")
    content = tmp_path / "bench" / "content"
    result = CliRunner().invoke(main, ["check", str(content), "--no-cache"])
    assert result.exit_code == 0, result.output
    assert "checked 60 fact cards and 180 quotes: no errors" in result.output
    cards = "".join(p.read_text() for p in sorted((content / "facts").glob("*.yaml")))
    sources = "".join(p.read_text() for p in sorted((content / "sources").glob("*.txt")))
    assert cards.count(" ... ") >= 5  # omissions
    assert re.search(r"quote: \"[^\n]*\S  \S", cards)  # doubled spaces
    assert "\u2019" in sources and re.search(r"quote: \"[^\n]*\w'\w", cards)  # straight for curly
    assert "\u00a0\n" in sources  # a line break the quotes span, after a no-break space
    hugo = tmp_path / "bench" / "hugo" / "content"
    assert len(list((hugo / "cards").glob("*.md"))) == 60
    assert len(list((hugo / "sources").glob("*.md"))) == 6


def _files(root: Path) -> dict[Path, bytes]:
    return {p.relative_to(root): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


def test_generating_again_gives_the_same_files(tmp_path: Path) -> None:
    generate.generate(20, tmp_path / "a")
    generate.generate(20, tmp_path / "b")
    assert _files(tmp_path / "a") == _files(tmp_path / "b")


def test_the_two_core_figure_is_a_throughput_factor() -> None:
    factor = run.two_cores()
    if (os.cpu_count() or 1) < 2:
        assert factor is None
        return
    assert factor is not None
    assert 0.3 < factor < 3.0  # a ratio of work done, not a time: 2.0 is two whole cores


def test_the_two_core_figure_is_none_on_one_core(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(run.os, "cpu_count", lambda: 1)
    assert run.two_cores() is None


def test_the_misses_are_misses_each_explained_with_a_nearest_passage(tmp_path: Path) -> None:
    """The quotes the benchmark times as misses are not in the source (and its hits are):
    ``dossier check`` reports each, once, with the nearest passage; ``measure`` agrees."""
    text, hits, wrong = misses.generate_misses(tmp_path / "m")
    assert 95_000 <= len(text.encode()) <= 110_000
    n = len(misses.KINDS) * misses.PER_KIND
    assert [len(q) for q in wrong.values()] == [misses.PER_KIND] * len(misses.KINDS)
    result = CliRunner().invoke(main, ["check", str(tmp_path / "m"), "--no-cache"])
    assert result.exit_code == 1
    assert result.output.count("error[quote-not-found]") == n
    assert result.output.count("nearest passage (") == n
    assert f"{n} errors" in result.output
    lines = misses.measure(text, hits, wrong)
    assert [line.split()[0] for line in lines] == ["prepared", "found", "a", "two", "a", "words"]


def test_a_miss_that_is_found_stops_the_benchmark() -> None:
    """A quote the benchmark calls a miss but the verifier finds is not timed as one."""
    text = generate.source_text(random.Random(1), 2000)
    quote = generate.pick_quote(random.Random(2), text)
    with pytest.raises(SystemExit, match="not what it says"):
        misses.measure(text, [quote], {"a word changed": [quote]})


_BUSY_CHILD = """
import os, sys
pid = os.fork()
if pid == 0:
    sum(range(3_000_000))
    t = os.times()
    with open(sys.argv[1], "w") as f:
        f.write(repr(t.user + t.system))
    os._exit(0)
os.waitpid(pid, 0)
sys.exit(3)
"""


def test_a_commands_cpu_time_counts_the_processes_it_forked(tmp_path: Path) -> None:
    """``timed``'s CPU seconds are the command's and its waited-for children's (dossier's
    second process), its exit status the command's."""
    said = tmp_path / "child-cpu"
    wall, rss, status, cpu = run.timed([sys.executable, "-c", _BUSY_CHILD, str(said)])
    assert status == 3 and rss > 0 and wall > 0
    child = float(said.read_text())
    assert child > 0 and cpu >= child
