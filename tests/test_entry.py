"""The command as installed (``dossier``, and ``python -m dossier``): it exits at once
after ``main`` (``cli.run``), so what it printed and wrote must all be there."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from dossier import cache
from dossier import survey as surveys

from .conftest import CARD, make_content

COMMAND = Path(sys.executable).parent / "dossier"
#: A card whose quote its source does not hold.
BAD = CARD.replace("a Russian-made car", "a yacht of gold")


def buffered() -> dict[str, str]:
    """The environment, output to a pipe buffered (as it is unless PYTHONUNBUFFERED is
    set): what was printed must be flushed before the quick exit."""
    return {k: v for k, v in os.environ.items() if k != "PYTHONUNBUFFERED"}


def _run(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "dossier", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        check=False,
        env=buffered(),
    )


def test_the_installed_command_is_the_quick_exit() -> None:
    assert COMMAND.is_file(), "the package is not installed (make venv)"
    assert "from dossier.cli import run" in COMMAND.read_text()


def test_a_check_prints_every_problem_and_exits_1(tmp_path: Path) -> None:
    content = make_content(tmp_path / "content", {"a.yaml": BAD, "b.yaml": BAD})
    done = _run("check", str(content), cwd=tmp_path)
    assert done.returncode == 1
    lines = [line for line in done.stdout.splitlines() if ": error[" in line]
    assert len(lines) >= 2 and any("a.yaml" in x for x in lines) and any("b.yaml" in x for x in lines)
    assert "Traceback" not in done.stderr


@pytest.mark.parametrize(
    ("args", "code", "shown"),
    [
        (["--version"], 0, "dossier, version"),
        (["check", "--format", "nonsense"], 2, "Invalid value"),
        (["no-such-command"], 2, "No such command"),
    ],
)
def test_exit_codes_and_output_come_through(tmp_path: Path, args: list[str], code: int, shown: str) -> None:
    done = _run(*args, cwd=tmp_path)
    assert done.returncode == code
    assert shown in done.stdout + done.stderr


def test_a_build_leaves_its_site_and_cache_whole(tmp_path: Path) -> None:
    content = make_content(tmp_path / "content")
    time.sleep(surveys.RACY_NS / 1e9 + 0.1)  # settled, so that the verdict is kept too (written last)
    folder = Path(os.environ["DOSSIER_CACHE_DIR"])
    done = subprocess.run(
        [str(COMMAND), "build", str(content), "--out", str(tmp_path / "site")],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        check=False,
        env=buffered(),
    )
    assert done.returncode == 0, done.stderr
    assert "built " in done.stderr
    assert (tmp_path / "site" / "index.html").is_file()
    stored = cache.load(cache.path_for(content, folder), cache.build_path_for(content, folder))
    assert stored.cards and stored.sites == {} and stored.folders  # written whole: it loads
    assert cache.load_verdict(cache.verdict_path(content, folder)) is not None


def test_output_to_a_pipe_closed_early_ends_quietly(tmp_path: Path) -> None:
    content = make_content(tmp_path / "content", {f"f{i}.yaml": BAD for i in range(40)})
    proc = subprocess.Popen(
        [sys.executable, "-m", "dossier", "check", str(content)],
        cwd=tmp_path,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=buffered(),
    )
    assert proc.stdout is not None and proc.stderr is not None
    proc.stdout.read(10)
    proc.stdout.close()  # (like `dossier check | head -c 10`)
    err = proc.stderr.read().decode()
    assert proc.wait(timeout=60) != 0
    assert "Traceback" not in err


class _Exited(Exception):
    pass


@pytest.mark.parametrize(("ended", "code"), [(0, 0), (None, 0), (2, 2), ("a message", 1)])
def test_run_exits_at_once_with_the_code_main_ended_with(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], ended: object, code: int
) -> None:
    """(That what was printed is flushed first: the next test, in a process of its own.)"""
    from dossier import cli

    def main(**extra: object) -> None:
        raise SystemExit(ended)

    told: list[str] = []

    def exit_now(status: int) -> None:
        told.append(capsys.readouterr().err)
        raise _Exited(status)

    monkeypatch.setattr(cli, "main", main)
    monkeypatch.setattr(os, "_exit", exit_now)
    with pytest.raises(_Exited) as exc:
        cli.run()
    assert exc.value.args == (code,)
    assert told == ["a message\n" if code == 1 else ""]


@pytest.mark.parametrize("cached", [False, True])
def test_run_holds_a_checks_result_to_the_exit(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, cached: bool
) -> None:
    """What a check read is let go by the exit, not object by object before it: the check's
    result is still held when ``run`` exits, with a cache or none."""
    from dossier import cli
    from dossier.check import CheckResult

    keepers: list[list[object]] = []

    class Recorded(cli._Held):
        def __init__(self) -> None:
            super().__init__()
            keepers.append(self)

    content = make_content(tmp_path / "content")
    args = ["check", str(content)] + ([] if cached else ["--no-cache"])
    monkeypatch.setattr(sys, "argv", ["dossier", *args])
    monkeypatch.setattr(cli, "_Held", Recorded)
    monkeypatch.setattr(os, "_exit", lambda status: (_ for _ in ()).throw(_Exited(status)))
    with pytest.raises(_Exited) as exc:
        cli.run()
    assert exc.value.args == (0,)
    [keeper] = keepers
    assert [type(x) for x in keeper] == [CheckResult]
    assert cli.held("a value") == "a value"  # (no command running: nothing held)


def test_what_was_printed_and_not_flushed_comes_out(tmp_path: Path) -> None:
    code = (
        "from dossier import cli\n"
        "def main(**extra):\n"
        "    print('printed, never flushed', end='')\n"
        "    raise SystemExit(3)\n"
        "cli.main = main\n"
        "cli.run()\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        check=False,
        env=buffered(),
    )
    assert (done.returncode, done.stdout) == (3, "printed, never flushed")


#: A build in a process of its own, told it may vouch for a file at once (as it may two
#: seconds after a write), that says whether it was an update and whether PyYAML was
#: imported.
_UPDATE = """
import sys
from dossier import build as b, survey
survey.RACY_NS = 0
made = b.build
updates = []
def build(*args, **kwargs):
    result = made(*args, **kwargs)
    updates.append(result.recalled is not None)
    return result
b.build = build
from dossier import cli
sys.argv = ["dossier", "build", sys.argv[1], "--out", sys.argv[2]]
try:
    cli.main()
except SystemExit as exc:
    assert not exc.code, exc.code
print(updates, "yaml" in sys.modules)
"""


def test_an_update_imports_no_yaml(tmp_path: Path) -> None:
    """Every YAML file an update reads is in the cache (plain cards are read without
    PyYAML), so it never imports PyYAML: 15-20 ms of its start-up."""
    content = make_content(tmp_path / "content")
    site = str(tmp_path / "site")
    first = subprocess.run(
        [sys.executable, "-c", _UPDATE, str(content), site], capture_output=True, text=True, check=False
    )
    assert first.returncode == 0, first.stderr
    assert first.stdout.split() == ["[False]", "True"]  # (the first build composes dossier.yaml)
    card = content / "facts" / "gift.yaml"
    card.write_text(card.read_text().replace("claim: ", "claim: Edited. ", 1))
    again = subprocess.run(
        [sys.executable, "-c", _UPDATE, str(content), site], capture_output=True, text=True, check=False
    )
    assert again.returncode == 0, again.stderr
    assert again.stdout.split() == ["[True]", "False"]
    assert "Edited." in (tmp_path / "site" / "facts" / "gift.html").read_text()
