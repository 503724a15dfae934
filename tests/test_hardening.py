"""Hardening (issue 6): hostile input, faults and safety, each proven through the CLI or the core.

Every bad input must end in exit 1 (0 where it is valid) with a ``FILE:LINE:COL: error[code]``
line and never a traceback; every fault while building must leave the previous site exactly
as it was; nothing a card says may reach a reader as executable markup.

The fuzz tests read their example count from ``DOSSIER_FUZZ_EXAMPLES`` (default 60), so a
long run is ``DOSSIER_FUZZ_EXAMPLES=5000 pytest tests/test_hardening.py -k fuzz``.
"""

from __future__ import annotations

import datetime as dt
import errno
import html
import json
import os
import re
import shutil
import signal
import sys
import xml.etree.ElementTree as ET
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from dossier import publish, readers, render
from dossier.build import build
from dossier.cli import main
from dossier.quotes import Match, Miss, Settings, Source, verify

from . import test_quotes_properties as qp
from .conftest import CARD, SOURCE_TEXT, make_content

FUZZ_EXAMPLES = int(os.environ.get("DOSSIER_FUZZ_EXAMPLES", "60"))
FUZZ = settings(
    max_examples=FUZZ_EXAMPLES,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much, HealthCheck.data_too_large],
)

PROBLEM = re.compile(
    r"^(?P<file>\S[^:\n]*):(?P<line>\d+):(?P<col>\d+): (?P<sev>error|warning)\[(?P<code>[a-z0-9-]+)\] ",
    re.MULTILINE,
)
QUOTE = '"Putin gave Kim Jong Un a Russian-made car"'


# --- helpers ----------------------------------------------------------------------------------


def invoke(*args: str, env: dict[str, str] | None = None) -> Result:
    return CliRunner().invoke(main, list(args), env=env)


def assert_no_crash(result: Result) -> None:
    """No traceback, no internal error, no exception escaping, an exit code from the spec."""
    out = result.stdout + result.stderr
    assert "Traceback" not in out, out
    assert "internal error" not in out, out
    assert result.exception is None or isinstance(result.exception, SystemExit), repr(result.exception)
    assert result.exit_code in (0, 1, 2), (result.exit_code, out)


def problems(result: Result) -> list[tuple[str, int, int, str]]:
    return [
        (m["file"], int(m["line"]), int(m["col"]), m["code"])
        for m in PROBLEM.finditer(result.stdout)
        if m["sev"] == "error"
    ]


def put(root: Path, rel: str, data: str | bytes | None) -> Path:
    """Write exactly these bytes (no dedent), or remove the file when ``data`` is None."""
    path = root / rel
    if data is None:
        path.unlink()
        return path
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data.encode() if isinstance(data, str) else data)
    return path


def case_content(root: Path, files: dict[str, str | bytes | None]) -> Path:
    """The conftest dossier without cards, then ``files`` written over it."""
    content = make_content(root / "content", facts={})
    for rel, data in files.items():
        put(content, rel, data)
    return content


def run_check(files: dict[str, str | bytes | None], root: Path) -> Result:
    """Check a content folder at ``root/content``; ``root`` must be the working directory."""
    case_content(root, files)
    result = invoke("check", "content")
    assert_no_crash(result)
    return result


def expect(
    result: Result, status: int, rel: str | None = None, codes: str | tuple[str, ...] = (), at: Any = None
) -> None:
    """Exit ``status``; with ``rel``, an error line for that file with one of ``codes`` (at (line, col))."""
    out = result.stdout + result.stderr
    assert result.exit_code == status, out
    if rel is None:
        return
    wanted = (codes,) if isinstance(codes, str) else codes
    hits = [p for p in problems(result) if p[0] == f"content/{rel}" and (not wanted or p[3] in wanted)]
    assert hits, f"no error[{'|'.join(wanted)}] line for content/{rel}:\n{out}"
    if at is not None:
        assert any((line, col) == at for _, line, col, _ in hits), (at, hits)


class Overtime(BaseException):
    """Raised by ``deadline``; a BaseException so that nothing on the way swallows it."""


@contextmanager
def deadline(seconds: float) -> Iterator[None]:
    def alarm(signum: int, frame: object) -> None:
        raise Overtime(f"took longer than {seconds} s")

    old = signal.signal(signal.SIGALRM, alarm)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, old)


_OPENED: list[str] | None = None
_HOOKED = False


def _audit(event: str, args: tuple[Any, ...]) -> None:
    if _OPENED is not None and event == "open" and isinstance(args[0], str | bytes | os.PathLike):
        path = os.path.abspath(os.fsdecode(args[0]))
        if isinstance(args[2], int) and args[2] & getattr(os, "O_NOFOLLOW", 0):
            # (an open that follows no link at the end reaches that name in its real folder)
            _OPENED.append(os.path.join(os.path.realpath(os.path.dirname(path)), os.path.basename(path)))
        else:
            _OPENED.append(os.path.realpath(path))


@contextmanager
def opened_files() -> Iterator[list[str]]:
    """Every file Python opens inside the block (audit hooks see io.open, os.open, open_code)."""
    global _OPENED, _HOOKED
    if not _HOOKED:
        sys.addaudithook(_audit)
        _HOOKED = True
    _OPENED = []
    try:
        yield _OPENED
    finally:
        _OPENED = None


def snapshot(root: Path) -> dict[str, tuple[str, bytes | str, int]]:
    """Every entry below ``root``: kind, bytes or link target, mtime (links not followed)."""
    out: dict[str, tuple[str, bytes | str, int]] = {}
    if not root.exists():
        return out
    for dirpath, dirnames, filenames in os.walk(root):
        for name in sorted(dirnames + filenames):
            path = Path(dirpath) / name
            st_ = path.lstat()
            rel = str(path.relative_to(root))
            if path.is_symlink():
                out[rel] = ("link", os.readlink(path), st_.st_mtime_ns)
            elif path.is_dir():
                out[rel] = ("dir", b"", 0)
            else:
                out[rel] = ("file", path.read_bytes(), st_.st_mtime_ns)
    return out


def another_card(content: Path) -> None:
    """A second card, so that the next build differs from the previous one."""
    put(content, "facts/other.yaml", CARD.replace("Putin gave Kim a car.", "Another claim."))


# --- YAML: shapes, duplicates, tags, anchors, nesting ------------------------------------------

_LOL = 'a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]\n'
for _prev, _name in zip("abcdefgh", "bcdefghi", strict=True):
    _LOL += f"{_name}: &{_name} [" + ",".join([f"*{_prev}"] * 9) + "]\n"

FLOW_CARD = 'claim: c\nstatus: confirmed\nevidence: [{source: wire, source: wire, quote: ' + QUOTE + "}]\n"

# (id, files, exit status, file with the error, codes, (line, col) or None)
YAML_CASES: list[tuple[str, dict[str, str | bytes | None], int, str | None, tuple[str, ...], Any]] = [
    # duplicate keys, at every level and however the key is spelt
    ("dup-top", {"facts/a.yaml": CARD + "claim: again\n"}, 1, "facts/a.yaml", ("duplicate-key",), (8, 1)),
    (
        "dup-in-evidence-item",
        {"facts/a.yaml": CARD.replace("    quote:", "    stance: context\n    stance: supports\n    quote:")},
        1, "facts/a.yaml", ("duplicate-key",), (8, 5),
    ),
    ("dup-in-flow-mapping", {"facts/a.yaml": FLOW_CARD}, 1, "facts/a.yaml", ("duplicate-key",), (3, 27)),
    (
        "dup-quoted-spelling",
        {"facts/a.yaml": CARD + '"claim": again\n'}, 1, "facts/a.yaml", ("duplicate-key",), (8, 1),
    ),
    (
        "dup-escaped-spelling",
        {"facts/a.yaml": CARD + '"cl\\x61im": again\n'}, 1, "facts/a.yaml", ("duplicate-key",), (8, 1),
    ),
    (
        "dup-entity-id-and-field",
        {"entities.yaml": "putin:\n  name: P\n  name: Q\nputin:\n  name: R\n"},
        1, "entities.yaml", ("duplicate-key",), (3, 3),
    ),
    (
        "dup-entity-id",
        {"entities.yaml": "putin:\n  name: P\nputin:\n  name: R\n"},
        1, "entities.yaml", ("duplicate-key",), (3, 1),
    ),
    (
        "dup-in-section",
        {"dossier.yaml": "title: T\nsections:\n  - id: gift\n    title: G\n    title: H\n"},
        1, "dossier.yaml", ("duplicate-key",), (5, 5),
    ),
    (
        "dup-in-quote-settings",
        {"dossier.yaml": "title: T\nquotes:\n  min_words: 3\n  min_words: 4\n"},
        1, "dossier.yaml", ("duplicate-key",), (4, 3),
    ),
    (
        "dup-in-source-meta",
        {"sources/wire.yaml": "title: W\ntitle: V\n"}, 1, "sources/wire.yaml", ("duplicate-key",), (2, 1),
    ),
    # anchors, aliases, merge keys
    ("anchor-on-mapping", {"facts/a.yaml": "&top\n" + CARD}, 1, "facts/a.yaml", ("yaml-anchor",), None),
    ("alias-undefined", {"facts/a.yaml": CARD + "notes: *nope\n"}, 1, "facts/a.yaml",
     ("yaml-anchor", "yaml-syntax"), (8, 8)),
    (
        "merge-key",
        {"facts/a.yaml": "base: &b {status: confirmed}\n<<: *b\n" + CARD.replace("status: confirmed\n", "")},
        1, "facts/a.yaml", ("yaml-anchor",), (1, 7),
    ),
    ("merge-key-inline", {"facts/a.yaml": CARD + "<<: {notes: x}\n"}, 1, "facts/a.yaml", ("unknown-field",),
     (8, 1)),
    ("alias-bomb", {"facts/a.yaml": _LOL}, 1, "facts/a.yaml", ("yaml-anchor",), (1, 4)),
    ("alias-bomb-in-dossier", {"dossier.yaml": "title: T\nx:\n" + "".join(
        "  " + line + "\n" for line in _LOL.splitlines())}, 1, "dossier.yaml", ("yaml-anchor",), (3, 6)),
    # several documents, directives
    ("two-documents", {"facts/a.yaml": CARD + "---\n" + CARD}, 1, "facts/a.yaml", ("yaml-syntax",), (8, 1)),
    ("two-empty-documents", {"facts/a.yaml": "---\n---\n"}, 1, "facts/a.yaml", ("yaml-syntax",), (2, 1)),
    ("document-end-then-more", {"facts/a.yaml": CARD + "...\n---\n" + CARD}, 1, "facts/a.yaml",
     ("yaml-syntax",), None),
    ("document-end-then-junk", {"facts/a.yaml": CARD + "...\nclaim: x\n"}, 1, "facts/a.yaml",
     ("yaml-syntax",), (9, 1)),
    ("explicit-document", {"facts/a.yaml": "---\n" + CARD + "...\n"}, 0, None, (), None),
    ("yaml-1.1-directive", {"facts/a.yaml": "%YAML 1.1\n---\n" + CARD.replace("confirmed", "'confirmed'")},
     0, None, (), None),
    ("unknown-directive", {"facts/a.yaml": "%FOO bar\n---\n" + CARD}, 1, "facts/a.yaml", ("yaml-syntax",),
     None),
    # empty and odd top levels, for every kind of file
    ("card-empty", {"facts/a.yaml": ""}, 1, "facts/a.yaml", ("missing-field",), (1, 1)),
    ("card-whitespace", {"facts/a.yaml": "  \n\n   \n  "}, 1, "facts/a.yaml", ("missing-field",), (1, 1)),
    ("card-whitespace-tab", {"facts/a.yaml": " \t\n\t\n"}, 1, "facts/a.yaml",
     ("missing-field", "yaml-syntax"), None),
    ("card-comment", {"facts/a.yaml": "# claim: x\n# status: confirmed\n"}, 1, "facts/a.yaml",
     ("missing-field",), (1, 1)),
    ("card-null", {"facts/a.yaml": "~\n"}, 1, "facts/a.yaml", ("missing-field", "invalid-value"), (1, 1)),
    ("card-list", {"facts/a.yaml": "- claim: x\n"}, 1, "facts/a.yaml", ("invalid-value",), (1, 1)),
    ("card-scalar", {"facts/a.yaml": "Kim got a car.\n"}, 1, "facts/a.yaml", ("invalid-value",), (1, 1)),
    ("card-block-scalar", {"facts/a.yaml": "|\n  text\n"}, 1, "facts/a.yaml", ("invalid-value",), (1, 1)),
    ("dossier-empty", {"dossier.yaml": ""}, 1, "dossier.yaml", ("missing-field",), (1, 1)),
    ("dossier-comment", {"dossier.yaml": "# nothing\n"}, 1, "dossier.yaml", ("missing-field",), (1, 1)),
    ("dossier-list", {"dossier.yaml": "- title: T\n"}, 1, "dossier.yaml", ("invalid-value",), (1, 1)),
    ("dossier-scalar", {"dossier.yaml": "T\n"}, 1, "dossier.yaml", ("invalid-value",), (1, 1)),
    ("entities-empty-is-fine", {"entities.yaml": "\n# none yet\n"}, 0, None, (), None),
    ("entities-list", {"entities.yaml": "- putin\n"}, 1, "entities.yaml", ("invalid-value",), (1, 1)),
    ("entities-scalar", {"entities.yaml": "putin\n"}, 1, "entities.yaml", ("invalid-value",), (1, 1)),
    ("entity-scalar", {"entities.yaml": "putin: Vladimir Putin\n"}, 1, "entities.yaml", ("invalid-value",),
     (1, 8)),
    ("source-meta-empty", {"sources/wire.yaml": ""}, 1, "sources/wire.yaml", ("missing-field",), (1, 1)),
    ("source-meta-list", {"sources/wire.yaml": "- title: W\n"}, 1, "sources/wire.yaml", ("invalid-value",),
     (1, 1)),
    ("source-meta-scalar", {"sources/wire.yaml": "W\n"}, 1, "sources/wire.yaml", ("invalid-value",), (1, 1)),
    # keys that are not plain values
    ("complex-key", {"facts/a.yaml": CARD + "? [a, b]\n: c\n"}, 1, "facts/a.yaml", ("yaml-syntax",), (8, 3)),
    ("mapping-key", {"facts/a.yaml": CARD + "{a: b}: c\n"}, 1, "facts/a.yaml", ("yaml-syntax",), (8, 1)),
    ("null-key", {"facts/a.yaml": CARD + "~: c\n"}, 1, "facts/a.yaml", ("unknown-field",), (8, 1)),
    ("long-key", {"facts/a.yaml": CARD + "k" * 2000 + ": v\n"}, 1, "facts/a.yaml",
     ("yaml-syntax", "unknown-field"), None),
    # encodings and characters
    ("latin-1-card", {"facts/a.yaml": CARD.encode() + b"notes: caf\xe9\n"}, 1, "facts/a.yaml",
     ("invalid-utf8",), (8, 11)),
    ("latin-1-dossier", {"dossier.yaml": b"title: caf\xe9\n"}, 1, "dossier.yaml", ("invalid-utf8",), (1, 11)),
    ("latin-1-entities", {"entities.yaml": b"putin:\n  name: P\xfctin\n"}, 1, "entities.yaml",
     ("invalid-utf8",), (2, 10)),
    ("latin-1-source-meta", {"sources/wire.yaml": b"title: W\xe9\n"}, 1, "sources/wire.yaml",
     ("invalid-utf8",), (1, 9)),
    ("truncated-utf8", {"facts/a.yaml": CARD.encode() + b"notes: \xe2\x80\n"}, 1, "facts/a.yaml",
     ("invalid-utf8",), (8, 8)),
    ("overlong-utf8", {"facts/a.yaml": CARD.encode() + b"notes: \xc0\xaf\n"}, 1, "facts/a.yaml",
     ("invalid-utf8",), (8, 8)),
    ("encoded-surrogate", {"facts/a.yaml": CARD.encode() + b"notes: \xed\xa0\x80\n"}, 1, "facts/a.yaml",
     ("invalid-utf8",), (8, 8)),
    ("utf-16-card", {"facts/a.yaml": CARD.encode("utf-16")}, 1, "facts/a.yaml", ("invalid-utf8",), (1, 1)),
    ("bom-card", {"facts/a.yaml": b"\xef\xbb\xbf" + CARD.encode()}, 0, None, (), None),
    ("bom-dossier", {"dossier.yaml": b"\xef\xbb\xbftitle: T\nsections: [{id: gift, title: G}]\n"}, 0, None,
     (), None),
    ("bom-entities", {"entities.yaml": b"\xef\xbb\xbfputin:\n  name: P\n"}, 0, None, (), None),
    ("crlf-card", {"facts/a.yaml": CARD.replace("\n", "\r\n")}, 0, None, (), None),
    ("cr-only-card", {"facts/a.yaml": CARD.replace("\n", "\r")}, 0, None, (), None),
    ("crlf-dossier", {"dossier.yaml": "title: T\r\nsections:\r\n  - id: gift\r\n    title: G\r\n"}, 0, None,
     (), None),
    ("crlf-error-position", {"facts/a.yaml": CARD.replace("\n", "\r\n").replace("confirmed", "maybe")}, 1,
     "facts/a.yaml", ("invalid-value",), (2, 9)),
    ("tab-indent-card", {"facts/a.yaml": CARD.replace("    quote:", "\tquote:")}, 1, "facts/a.yaml",
     ("yaml-syntax",), None),
    ("tab-indent-dossier", {"dossier.yaml": "title: T\nsections:\n\t- id: gift\n"}, 1, "dossier.yaml",
     ("yaml-syntax",), (3, 1)),
    ("tab-indent-entities", {"entities.yaml": "putin:\n\tname: P\n"}, 1, "entities.yaml", ("yaml-syntax",),
     (2, 1)),
    ("nul-card", {"facts/a.yaml": CARD.encode() + b"notes: a\x00b\n"}, 1, "facts/a.yaml", ("yaml-syntax",),
     (8, 9)),
    ("nul-in-key", {"facts/a.yaml": CARD.encode() + b"no\x00tes: a\n"}, 1, "facts/a.yaml", ("yaml-syntax",),
     (8, 3)),
    ("nul-dossier", {"dossier.yaml": b"title: \x00\n"}, 1, "dossier.yaml", ("yaml-syntax",), (1, 8)),
    ("nul-entities", {"entities.yaml": b"putin:\n  name: \x00\n"}, 1, "entities.yaml", ("yaml-syntax",),
     (2, 9)),
    ("nul-source-meta", {"sources/wire.yaml": b"title: W\x00\n"}, 1, "sources/wire.yaml", ("yaml-syntax",),
     (1, 9)),
    ("c1-control", {"facts/a.yaml": CARD + "notes: a\x9bb\n"}, 1, "facts/a.yaml", ("yaml-syntax",), (8, 9)),
    ("noncharacter", {"facts/a.yaml": CARD + "notes: a\ufffeb\n"}, 1, "facts/a.yaml", ("yaml-syntax",),
     (8, 9)),
    ("escaped-surrogate", {"facts/a.yaml": CARD + 'notes: "\\ud800"\n'}, 1, "facts/a.yaml",
     ("yaml-syntax",), (8, 11)),
]


@pytest.mark.parametrize(
    ("files", "status", "rel", "codes", "at"), [c[1:] for c in YAML_CASES], ids=[c[0] for c in YAML_CASES]
)
def test_yaml_input(
    in_tmp: Path,
    files: dict[str, str | bytes | None],
    status: int,
    rel: str | None,
    codes: tuple[str, ...],
    at: Any,
) -> None:
    with deadline(10):
        result = run_check(files, in_tmp)
    expect(result, status, rel, codes, at)


def test_alias_bomb_is_refused_fast_by_check_and_build(in_tmp: Path) -> None:
    """Nine levels of nine aliases: 387,420,489 strings if expanded; refused, never expanded."""
    case_content(in_tmp, {"facts/a.yaml": CARD + "x:\n" + "".join(f"  {ln}\n" for ln in _LOL.splitlines())})
    for command in (["check", "content"], ["build", "content", "--out", "site"]):
        with deadline(10):  # a watchdog: expanded, it would not end
            result = invoke(*command)
        assert_no_crash(result)
        expect(result, 1, "facts/a.yaml", "yaml-anchor", (9, 6))
    assert not (in_tmp / "site").exists()


def _tag_cases(marker: Path) -> list[str]:
    cmd = f"touch {marker}"
    return [
        f"notes: !!python/object/apply:os.system [{json.dumps(cmd)}]\n",
        f"notes: !!python/object/apply:subprocess.call [[touch, {marker}]]\n",
        f"notes: !!python/object/new:os.system [{json.dumps(cmd)}]\n",
        f'notes: !!python/object/apply:builtins.exec ["open({str(marker)!r}, \'w\')"]\n',
        "notes: !!python/name:os.system ''\n",
        "notes: !!python/module:os ''\n",
        f"notes: !<tag:yaml.org,2002:python/object/apply:os.system> [{json.dumps(cmd)}]\n",
        f"notes: !python/object/apply:os.system [{json.dumps(cmd)}]\n",
        "notes: !!binary aGVsbG8=\n",
        "notes: !!set {a, b}\n",
        "notes: !!omap [a: 1]\n",
        "notes: !!timestamp 2024-01-01\n",
        "notes: !!str x\n",
        "notes: !local x\n",
        "tags: !!seq [a]\n",
        f"!!python/object/apply:os.system [{json.dumps(cmd)}]: x\n",
    ]


@pytest.mark.parametrize("index", range(16))
def test_yaml_tags_are_refused_and_nothing_runs(in_tmp: Path, index: int) -> None:
    marker = in_tmp / "PWNED"
    line = _tag_cases(marker)[index]
    result = run_check({"facts/a.yaml": CARD + line}, in_tmp)
    expect(result, 1, "facts/a.yaml", "yaml-tag", (8, line.index("!") + 1))
    assert not marker.exists()


def test_tag_directive_with_python_handle_is_refused(in_tmp: Path) -> None:
    marker = in_tmp / "PWNED"
    card = f"%TAG !p! tag:yaml.org,2002:python/\n---\n{CARD}"
    card += f"notes: !p!object/apply:os.system ['touch {marker}']\n"
    result = run_check({"facts/a.yaml": card}, in_tmp)
    expect(result, 1, "facts/a.yaml", "yaml-tag", (10, 8))
    assert not marker.exists()
    result = invoke("build", "content", "--out", "site")
    assert_no_crash(result)
    assert result.exit_code == 1
    assert not marker.exists() and not (in_tmp / "site").exists()


def _nest_flow_seq(n: int) -> str:
    return "claim: " + "[" * n + "x" + "]" * n + "\n"


def _nest_flow_map(n: int) -> str:
    return "claim: " + "{a: " * n + "x" + "}" * n + "\n"


def _nest_block_map(n: int) -> str:
    return "".join("  " * i + f"k{i}:\n" for i in range(n)) + "  " * n + "x\n"


def _nest_block_seq(n: int) -> str:
    return "".join("  " * i + "-\n" for i in range(n)) + "  " * n + "x\n"


def _nest_compact_seq(n: int) -> str:
    return "- " * n + "x\n"


def _nest_compact_keys(n: int) -> str:
    return "? " * n + "x\n"


def _nest_mixed(n: int) -> str:
    return "claim: " + "[{a: " * (n // 2) + "x" + "}]" * (n // 2) + "\n"


NESTINGS = {
    "flow-seq": _nest_flow_seq,
    "flow-map": _nest_flow_map,
    "flow-mixed": _nest_mixed,
    "block-map": _nest_block_map,
    "block-seq": _nest_block_seq,
    "block-compact-seq": _nest_compact_seq,
    "block-compact-keys": _nest_compact_keys,
}


@pytest.mark.parametrize("kind", NESTINGS)
@pytest.mark.parametrize("rel", ["facts/a.yaml", "dossier.yaml", "entities.yaml", "sources/wire.yaml"])
def test_nesting_1000_deep_is_a_clean_error(in_tmp: Path, kind: str, rel: str) -> None:
    text = NESTINGS[kind](1000)
    with deadline(10):
        result = run_check({rel: text}, in_tmp)
    expect(result, 1, rel, ("yaml-syntax",))


@pytest.mark.parametrize("kind", NESTINGS)
def test_nesting_inside_a_card_value_is_a_clean_error(in_tmp: Path, kind: str) -> None:
    """The same, one level down: under ``notes:`` of an otherwise valid card."""
    deep = NESTINGS[kind](1000)
    if deep.startswith("claim: "):
        line = "notes: " + deep.removeprefix("claim: ")
    else:
        line = "notes:\n" + "".join(f"  {ln}\n" for ln in deep.splitlines())
    result = run_check({"facts/a.yaml": CARD + line}, in_tmp)
    expect(result, 1, "facts/a.yaml", ("yaml-syntax",))


# --- YAML 1.1 typing in every typed field, impossible dates --------------------------------------

#: A typed field, the file it lives in and that file's text with ``{v}`` where the value goes.
TYPED: dict[str, tuple[str, str]] = {
    "status": ("facts/a.yaml", CARD.replace("status: confirmed", "status: {v}")),
    "stance": ("facts/a.yaml", CARD + "    stance: {v}\n"),
    "date": ("facts/a.yaml", CARD + "date: {v}\n"),
    "section": ("facts/a.yaml", CARD.replace("section: gift", "section: {v}")),
    "entities": ("facts/a.yaml", CARD.replace("entities: [putin]", "entities: [{v}]")),
    "related": ("facts/a.yaml", CARD + "related: [{v}]\n"),
    "evidence.source": ("facts/a.yaml", CARD.replace("source: wire", "source: {v}")),
    "entity.kind": ("entities.yaml", "putin:\n  name: P\n  kind: {v}\n"),
    "source.published": ("sources/wire.yaml", "title: W\npublished: {v}\n"),
    "source.retrieved": ("sources/wire.yaml", "title: W\nretrieved: {v}\n"),
    "source.url": ("sources/wire.yaml", "title: W\nurl: {v}\n"),
    "source.sha256": ("sources/wire.yaml", "title: W\nsha256: {v}\n"),
    "dossier.updated": ("dossier.yaml", "title: T\nsections: [{id: gift, title: G}]\nupdated: {v}\n"),
    "dossier.base_url": ("dossier.yaml", "title: T\nsections: [{id: gift, title: G}]\nbase_url: {v}\n"),
    "section.id": ("dossier.yaml", "title: T\nsections:\n  - id: {v}\n    title: G\n"),
    "quotes.max_omission": (
        "dossier.yaml",
        "title: T\nsections: [{id: gift, title: G}]\nquotes:\n  max_omission: {v}\n",
    ),
    "quotes.max_substitution": (
        "dossier.yaml",
        "title: T\nsections: [{id: gift, title: G}]\nquotes:\n  max_substitution: {v}\n",
    ),
    "quotes.min_words": (
        "dossier.yaml",
        "title: T\nsections: [{id: gift, title: G}]\nquotes:\n  min_words: {v}\n",
    ),
}
#: Values YAML 1.1 would type (booleans, octal, hex, sexagesimal, binary, floats, nulls, timestamps):
#: none is valid in any typed field, so each must be an error at the value, never a coercion.
YAML_1_1 = [
    "yes", "No", "on", "OFF", "y", "true", "~", "null", "0o17", "0x1F", "0b101", "1:30", "190:20:30",
    "1_000", ".inf", "-.NaN", "+12", "1e3", "2024-02-18 10:00:00",
]


def _fill(template: str, value: str) -> tuple[str, int, int]:
    """The text with the value in, and the (line, col) where the value starts."""
    before = template.split("{v}")[0]
    line = before.count("\n") + 1
    col = len(before) - (before.rfind("\n") + 1) + 1
    return template.replace("{v}", value), line, col


@pytest.mark.parametrize("slot", TYPED)
def test_yaml_1_1_values_in_every_typed_field(in_tmp: Path, slot: str) -> None:
    rel, template = TYPED[slot]
    wrong = []
    for value in YAML_1_1:
        root = in_tmp / value.replace("/", "_").replace(" ", "_").replace(":", "_").replace("~", "tilde")
        root.mkdir()
        text, line, col = _fill(template, value)
        case_content(root, {rel: text, "facts/ok.yaml": CARD} if rel != "facts/a.yaml" else {rel: text})
        result = invoke("check", str(root / "content"))
        assert_no_crash(result)
        at = [(ln, c) for f, ln, c, _ in problems(result) if f.endswith(rel)]
        if slot == "section.id" and re.fullmatch(r"[a-z][a-z0-9-]*", value) and value != "null":
            if at:  # a valid id, kept as the text it is
                wrong.append((value, result.exit_code, at, result.stdout[-300:]))
        elif result.exit_code != 1 or (line, col) not in at:
            wrong.append((value, result.exit_code, at, result.stdout[-300:]))
    assert not wrong, wrong


def test_leading_zero_integer_is_never_octal(in_tmp: Path) -> None:
    """``010`` is ten (YAML 1.2) or an error, never eight (YAML 1.1)."""
    case_content(in_tmp, {"dossier.yaml": "title: T\nquotes:\n  max_omission: 010\n  min_words: 010\n"})
    content, found = readers.read_content(in_tmp / "content")
    if not any(p.code == "invalid-value" for p in found):
        assert content is not None
        assert content.dossier.quotes.max_omission == 10
        assert content.dossier.quotes.min_words == 10


DATE_SLOTS = ["date", "source.published", "source.retrieved", "dossier.updated"]
IMPOSSIBLE_DATES = [
    "2024-02-30", "2023-02-29", "1900-02-29", "2024-04-31", "2024-06-31", "2024-13-01", "2024-00-10",
    "2024-01-00", "2024-01-32", "0000-01-01", "2024-1-5", "24-02-18", "20240218x", "2024/02/18",
    "18.02.2024", "2024-02-18T25:00", "2024-02-30T10:00:00Z", "2024-02-18T10:00:00+25:00",
    "2024-02-18T10:61", "2024-13", "2024-00", "99999", "-2024-01-01", "２０２４-02-18", "2024-02-18\u00a0",
]


@pytest.mark.parametrize("slot", DATE_SLOTS)
def test_impossible_dates_are_errors_at_the_value(in_tmp: Path, slot: str) -> None:
    rel, template = TYPED[slot]
    wrong = []
    for i, value in enumerate(IMPOSSIBLE_DATES):
        root = in_tmp / f"c{i}"
        root.mkdir()
        text, line, col = _fill(template, json.dumps(value, ensure_ascii=False))
        case_content(root, {rel: text, "facts/ok.yaml": CARD} if rel != "facts/a.yaml" else {rel: text})
        result = invoke("check", str(root / "content"))
        assert_no_crash(result)
        at = [(ln, c) for f, ln, c, code in problems(result) if f.endswith(rel) and code == "invalid-value"]
        if result.exit_code != 1 or (line, col) not in at:
            wrong.append((value, result.exit_code, at))
    assert not wrong, wrong


@pytest.mark.parametrize(
    ("slot", "value"),
    [
        ("date", "2024-02-29"), ("date", "2000-02-29"), ("date", "2024"), ("date", "2024-02"),
        ("source.published", "2024-02-29"), ("source.published", "2024-02-20T08:21:00+08:00"),
        ("source.published", "2024-02-20T08:21:00Z"), ("source.retrieved", "2024-02-29"),
        ("dossier.updated", "2000-02-29"),
    ],
)
def test_possible_dates_are_accepted(in_tmp: Path, slot: str, value: str) -> None:
    rel, template = TYPED[slot]
    text, _, _ = _fill(template, value)
    result = run_check({rel: text, "facts/ok.yaml": CARD}, in_tmp)
    expect(result, 0)


# --- sizes and long lines -------------------------------------------------------------------------

_WORDS = " ".join(["alpha", "beta", "gamma", "delta", "car", "Kim"] * 30_000)[:1_000_000]


@pytest.mark.parametrize(
    ("files", "status", "rel", "code"),
    [
        ({"facts/a.yaml": CARD + "notes: " + "x" * 1_000_000 + "\n"}, 0, None, None),
        ({"facts/a.yaml": CARD.replace(QUOTE, '"' + _WORDS + '"')}, 1, "facts/a.yaml", "quote-not-found"),
        ({"facts/a.yaml": CARD.replace(QUOTE, _WORDS)}, 1, "facts/a.yaml", "quote-not-found"),
        ({"facts/a.yaml": CARD + "tags: [" + ", ".join(["t"] * 300_000) + "]\n"}, 0, None, None),
        (
            {
                "sources/wire.txt": SOURCE_TEXT.replace("\n", " ") + _WORDS,
                "sources/wire.yaml": "title: W\n",
                "facts/a.yaml": CARD,
            },
            0, None, None,
        ),
        ({"facts/a.yaml": CARD + "k" * 1_000_000 + ": v\n"}, 1, "facts/a.yaml", "yaml-syntax"),
    ],
    ids=["notes", "quote", "plain-quote", "flow-list", "source", "key"],
)
def test_a_one_megabyte_line(
    in_tmp: Path, files: dict[str, str | bytes | None], status: int, rel: str | None, code: str | None
) -> None:
    with deadline(20):
        result = run_check(files, in_tmp)
    expect(result, status, rel, code or ())
    assert len(result.stdout) < 20_000, "a problem line should not echo a megabyte back"


@pytest.mark.parametrize("rel", ["facts/a.yaml", "dossier.yaml", "entities.yaml", "sources/wire.yaml"])
def test_yaml_file_over_the_size_limit(in_tmp: Path, monkeypatch: pytest.MonkeyPatch, rel: str) -> None:
    monkeypatch.setattr(readers, "MAX_CARD_BYTES", 400)
    texts = {
        "facts/a.yaml": CARD,
        "dossier.yaml": "title: T\nsections: [{id: gift, title: G}]\n",
        "entities.yaml": "putin:\n  name: P\n",
        "sources/wire.yaml": "title: W\n",
    }
    at_limit = texts[rel] + "#" * (400 - len(texts[rel]) - 1) + "\n"
    assert len(at_limit.encode()) == 400
    files: dict[str, str | bytes | None] = {rel: at_limit}
    if rel != "facts/a.yaml":
        files["facts/a.yaml"] = CARD
    result = run_check(files, in_tmp)
    expect(result, 0)
    result = run_check({rel: at_limit + "#"}, in_tmp)
    expect(result, 1, rel, "file-too-large", (1, 1))


def test_source_over_the_size_limit(in_tmp: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    size = len(SOURCE_TEXT.encode())
    monkeypatch.setattr(readers, "MAX_SOURCE_BYTES", size)
    expect(run_check({"facts/a.yaml": CARD}, in_tmp), 0)
    monkeypatch.setattr(readers, "MAX_SOURCE_BYTES", size - 1)
    result = run_check({"facts/a.yaml": CARD}, in_tmp)
    expect(result, 1, "sources/wire.txt", "source-unreadable", (1, 1))
    assert "Traceback" not in result.stderr


def test_source_text_oddities(in_tmp: Path) -> None:
    """BOM, CRLF, CR, NUL and tabs in a source's text are its text: quotes across them still match."""
    text = "\ufeffPutin gave Kim\r\nJong Un a\tRussian-made car.\rThe\x00end.\n"
    files: dict[str, str | bytes | None] = {
        "sources/wire.txt": text, "sources/wire.yaml": "title: W\n", "facts/a.yaml": CARD
    }
    result = run_check(files, in_tmp)
    expect(result, 0)


def test_escaped_control_characters_never_reach_the_html_raw(in_tmp: Path) -> None:
    """A double-quoted YAML escape can smuggle NUL and other controls past the reader."""
    card = CARD.replace("claim: Putin gave Kim a car.", 'claim: "Putin\\0 gave\\x1b Kim a\\x7f car."')
    card += 'notes: "a\\0b\\x01c"\ntags: ["t\\0"]\n'
    dossier = 'title: "T\\0"\nsections: [{id: gift, title: G}]\n'
    case_content(in_tmp, {"facts/a.yaml": card, "dossier.yaml": dossier})
    result = invoke("build", "content", "--out", "site")
    assert_no_crash(result)
    if result.exit_code == 1:
        assert problems(result), result.stdout + result.stderr
        return
    for page in (in_tmp / "site").rglob("*.html"):
        text = page.read_text(encoding="utf-8")
        bad = sorted({f"U+{ord(c):04X}" for c in text if (ord(c) < 32 and c not in "\t\n\r") or c == "\x7f"})
        assert not bad, f"{page.name} holds raw control characters {bad}"


# --- paths --------------------------------------------------------------------------------------

PATH_IDS = [
    "../x", "/etc/passwd", "..\\x", "C:\\x", "x/y", "wire/../wire", "./wire", "wire.txt", "~/x",
    "%2e%2e/x", "WIRE", "wire ", "../../outside/secret", "\\\\server\\share", "file:///etc/passwd", "",
]


@pytest.fixture
def outside(tmp_path: Path) -> Path:
    """A folder beside the content with a secret that must never be read."""
    folder = tmp_path / "outside"
    put(folder, "secret.txt", "Putin gave Kim Jong Un a Russian-made car, the secret said.\n")
    put(folder, "secret.yaml", "title: Secret\n")
    put(folder, "x.txt", "Putin gave Kim Jong Un a Russian-made car.\n")
    put(folder, "x.yaml", CARD.replace("Putin gave Kim a car.", "SECRET CLAIM"))
    return folder


@pytest.mark.parametrize("value", PATH_IDS)
@pytest.mark.parametrize("field", ["evidence.source", "section", "entities", "related"])
def test_ids_that_are_paths_are_invalid_and_nothing_outside_is_read(
    in_tmp: Path, outside: Path, field: str, value: str
) -> None:
    rel, template = TYPED[field]
    text, line, col = _fill(template, json.dumps(value))
    case_content(in_tmp, {rel: text})
    with opened_files() as seen:
        result = invoke("check", "content")
    assert_no_crash(result)
    expect(result, 1, rel, "invalid-value", (line, col))
    assert any(p.endswith("/content/facts/a.yaml") for p in seen)  # the hook sees what is read
    assert not [p for p in seen if p.startswith(str(outside.resolve())) or p == "/etc/passwd"], seen


@pytest.mark.parametrize(
    ("link", "target", "code"),
    [
        ("facts/a.yaml", "outside/x.yaml", "unsafe-path"),
        ("sources/wire.yaml", "outside/secret.yaml", "unsafe-path"),
        ("sources/wire.txt", "outside/secret.txt", "unsafe-path"),
        ("dossier.yaml", "outside/secret.yaml", "unsafe-path"),
        ("entities.yaml", "outside/secret.yaml", "unsafe-path"),
        ("sources/wire.txt", "/etc/passwd", "unsafe-path"),
        ("sources/wire.txt", "/dev/zero", "unsafe-path"),
        ("facts/a.yaml", "/dev/stdin", "unsafe-path"),
        ("facts/a.yaml", "content/../outside/x.yaml", "unsafe-path"),
    ],
)
def test_links_leading_outside_are_refused_unread(
    in_tmp: Path, outside: Path, link: str, target: str, code: str
) -> None:
    content = case_content(in_tmp, {"facts/a.yaml": CARD})
    path = content / link
    path.unlink(missing_ok=True)
    path.symlink_to(target if target.startswith("/") else in_tmp / target)
    with opened_files() as seen, deadline(10):
        result = invoke("check", "content")
    assert_no_crash(result)
    expect(result, 1, link, code, (1, 1))
    leaked = [p for p in seen if p.startswith(str(outside.resolve())) or p.startswith(("/etc/", "/dev/"))]
    assert not leaked
    assert any(p.startswith(str(content.resolve())) for p in seen)  # the hook sees what is read
    assert "SECRET" not in result.stdout


@pytest.mark.parametrize("folder", ["facts", "sources"])
def test_a_content_subfolder_that_is_a_link_outside_is_refused(
    in_tmp: Path, outside: Path, folder: str
) -> None:
    content = case_content(in_tmp, {"facts/a.yaml": CARD})
    shutil.rmtree(content / folder)
    (content / folder).symlink_to(outside)
    with opened_files() as seen:
        result = invoke("check", "content")
    assert_no_crash(result)
    assert result.exit_code == 1
    assert any(code == "unsafe-path" for *_, code in problems(result)), result.stdout
    assert not [p for p in seen if p.startswith(str(outside.resolve()))]


@pytest.mark.parametrize("link", ["facts/a.yaml", "sources/wire.txt", "sources/wire.yaml", "facts/sub"])
def test_links_inside_the_content_folder_are_fine(in_tmp: Path, link: str) -> None:
    content = case_content(in_tmp, {"facts/a.yaml": CARD})
    real = content / "kept" / Path(link).name
    real.parent.mkdir()
    if link == "facts/sub":
        put(content, "kept/sub/b.yaml", CARD)
        real = content / "kept/sub"
    else:
        os.rename(content / link, real)
    (content / link).symlink_to(real)
    result = invoke("check", "content")
    assert_no_crash(result)
    # A linked file inside is read; a linked folder is never followed (and says so).
    if link == "facts/sub":
        expect(result, 1, "facts/sub", "unsafe-path")
    else:
        expect(result, 0)


def test_the_content_folder_itself_may_be_a_link(in_tmp: Path) -> None:
    content = make_content(in_tmp / "real-content")
    (in_tmp / "content").symlink_to(content)
    result = invoke("check", "content")
    assert_no_crash(result)
    expect(result, 0)


@pytest.mark.parametrize(
    ("link", "target", "code"),
    [
        ("facts/a.yaml", "facts/a.yaml", "yaml-unreadable"),  # a loop
        ("facts/a.yaml", "facts/missing.yaml", "yaml-unreadable"),  # dangling
        ("sources/wire.txt", "sources/wire.txt", "source-unreadable"),
        ("sources/wire.txt", "sources/gone.txt", "source-unreadable"),
        ("dossier.yaml", "dossier.yaml", "yaml-unreadable"),
    ],
)
def test_loops_and_dangling_links(in_tmp: Path, link: str, target: str, code: str) -> None:
    content = case_content(in_tmp, {"facts/a.yaml": CARD})
    (content / link).unlink()
    (content / link).symlink_to(content / target)
    with deadline(10):
        result = invoke("check", "content")
    assert_no_crash(result)
    expect(result, 1, link, code, (1, 1))


@pytest.mark.parametrize("rel", ["facts/a.yaml", "sources/wire.txt", "sources/wire.yaml", "dossier.yaml"])
def test_a_fifo_is_not_read(in_tmp: Path, rel: str) -> None:
    """Opening a FIFO would block for ever; it must be refused as not a file."""
    content = case_content(in_tmp, {"facts/a.yaml": CARD})
    (content / rel).unlink()
    os.mkfifo(content / rel)
    with deadline(10):
        result = invoke("check", "content")
    assert_no_crash(result)
    assert result.exit_code == 1
    assert any(f == f"content/{rel}" for f, *_ in problems(result)), result.stdout


@pytest.mark.parametrize(
    ("rel", "reported"),
    [
        ("sources/wire.txt", "sources/wire.yaml"),
        ("facts/a.yaml", None),
        ("dossier.yaml", "dossier.yaml"),
        ("entities.yaml", "entities.yaml"),
        ("sources/wire.yaml", "sources/wire.txt"),
        ("facts", None),
        ("sources", None),
    ],
)
def test_a_directory_where_a_file_is_expected(in_tmp: Path, rel: str, reported: str | None) -> None:
    content = case_content(in_tmp, {"facts/a.yaml": CARD})
    path = content / rel
    if path.is_dir():
        shutil.rmtree(path)
        path.write_text("a file where a folder belongs\n")
    else:
        path.unlink()
        path.mkdir()
        put(path, "inner.txt", "x")
    result = invoke("check", "content")
    assert_no_crash(result)
    if reported is not None:
        expect(result, 1, reported)
    elif result.exit_code == 1:
        assert problems(result), result.stdout + result.stderr


@pytest.mark.parametrize(
    ("files", "rel", "code"),
    [
        ({"facts/a.yaml": CARD, "facts/A.yaml": CARD}, "facts/A.yaml", "invalid-value"),
        ({"facts/a.yaml": CARD, "facts/a.YAML": CARD}, None, "duplicate-id"),
        ({"facts/a.yaml": CARD, "facts/a.yml": CARD}, None, "duplicate-id"),
        ({"facts/a.yaml": CARD, "facts/sub/A.yaml": CARD}, "facts/sub/A.yaml", "invalid-value"),
        ({"sources/wire.TXT": SOURCE_TEXT, "facts/a.yaml": CARD}, None, "duplicate-id"),
        ({"sources/wire.YAML": "title: Other\n", "facts/a.yaml": CARD}, None, "duplicate-id"),
        ({"sources/Wire.txt": SOURCE_TEXT, "facts/a.yaml": CARD}, "sources/Wire.txt", "invalid-value"),
    ],
    ids=["a-A", "yaml-YAML", "yaml-yml", "sub-A", "txt-TXT", "meta-yaml-YAML", "Wire"],
)
def test_names_that_differ_only_in_case_are_errors(
    in_tmp: Path, files: dict[str, str | bytes | None], rel: str | None, code: str
) -> None:
    """On a case-insensitive file system such files would collide; they must never pass silently."""
    content = case_content(in_tmp, {})
    try:
        for name, data in files.items():
            put(content, name, data)
    except OSError:  # pragma: no cover - a case-insensitive file system
        pytest.skip("the file system folds case")
    result = invoke("check", "content")
    assert_no_crash(result)
    assert result.exit_code == 1, result.stdout + result.stderr
    hits = [p for p in problems(result) if p[3] == code and (rel is None or p[0] == f"content/{rel}")]
    assert hits, result.stdout


# --- rendering: nothing executable survives ---------------------------------------------------

SCHEMES = [
    "javascript:alert(1)", "JaVaScRiPt:alert(1)", "JAVASCRIPT:alert(1)", "vbscript:msgbox(1)",
    "VbScRiPt:msgbox(1)", "data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==",
    "DaTa:text/html,alert(1)", "data:image/svg+xml;base64,PHN2ZyBvbmxvYWQ9YWxlcnQoMSk+",
    "data:image/png;base64,iVBORw0KGgo=", "&#106;avascript:alert(1)", "&#x6A;avascript:alert(1)",
    "&#0000106;avascript:alert(1)", "jav&#x09;ascript:alert(1)", "jav&#9;ascript:alert(1)",
    "jav&#x0A;ascript:alert(1)", "&#x20;javascript:alert(1)", "javascript&colon;alert(1)",
    "javascript&#58;alert(1)", "jAvAsCrIpT&#x3A;alert(1)",  # (a raw \x01 is refused by the schema)
    "\u00a0javascript:alert(1)", "java%0ascript:alert(1)", "&Tab;javascript:alert(1)",
]
RAW_HTML = [
    "<script>alert(1)</script>", "<SCRIPT SRC=//evil.example/x.js></SCRIPT>", "<img src=x onerror=alert(1)>",
    "<IMG SRC=x OnErRoR=alert(1)>", "<svg onload=alert(1)>", "<a href=\"javascript:alert(1)\">a</a>",
    "<iframe src=javascript:alert(1)></iframe>", "<body onload=alert(1)>", "<style>body{}</style>",
    "<base href=//evil.example/>", "<form action=javascript:alert(1)><button>x</button></form>",
    "<math><mi xlink:href=javascript:alert(1)>x</mi></math>", "</textarea><script>alert(1)</script>",
    "\"><script>alert(1)</script>", "'><img src=x onerror=alert(1)>", "<!--<script>alert(1)</script>-->",
    "<![CDATA[<script>alert(1)</script>]]>", "{{ 7*7 }}", "{{ 'evil' | upper }}", "{% raw %}", "{%endraw%}",
    "${7+7}", "#{7+7}", "![pixel](https://evil.example/pixel.png)", "![pixel](//evil.example/pixel.png)",
]


def _inline_payload(tag: str) -> str:
    parts = [f"MARK{tag}", *RAW_HTML]
    for i, s in enumerate(SCHEMES):
        parts += [f"[l{i}]({s})", f"![i{i}]({s})", f"<{s}>"]
        parts.append(f'[t{i}](https://ok.example/ "x\\" on{i}=\\"alert(1)")')
    return " ".join(parts)


def _block_payload(tag: str) -> str:
    refs = "\n".join(f"[r{tag}{i}]: {s}" for i, s in enumerate(SCHEMES) if "\n" not in s)
    uses = " ".join(f"[ref {i}][r{tag}{i}]" for i in range(len(SCHEMES)))
    blocks = f"# {RAW_HTML[0]}\n\n> {RAW_HTML[2]}\n\n- {RAW_HTML[4]}"
    return f"{_inline_payload(tag)}\n\n{blocks}\n\n{uses}\n\n{refs}\n"


def _y(text: str) -> str:
    """A YAML double-quoted scalar (JSON's escapes are YAML's)."""
    return json.dumps(text, ensure_ascii=False)


HOSTILE_BASE = 'https://x.example/b/"><script>alert(1)</script>/'
HOSTILE_URL = 'https://x.example/"onmouseover="alert(1)"/<script>alert(1)</script>?a=1&b=\'2\''
HOSTILE_SOURCE_LINE = "Putin said <script>alert(1)</script> was a gift & <img src=x onerror=alert(1)> too."


def hostile_content(root: Path) -> tuple[Path, list[str]]:
    """A valid dossier whose every text field, Markdown or not, carries the payloads."""
    content = make_content(root / "content", facts={})
    fields = ["summary", "intro", "description", "source-notes", "claim", "evidence-note", "notes"]
    put(
        content,
        "dossier.yaml",
        f"title: {_y('Title ' + RAW_HTML[0])}\nsubtitle: {_y('Sub ' + RAW_HTML[2])}\n"
        f"summary: {_y(_block_payload('summary'))}\nauthors: [{_y(RAW_HTML[5])}]\nupdated: 2024-02-20\n"
        f"base_url: {_y(HOSTILE_BASE)}\n"
        f"sections:\n  - id: gift\n    title: {_y(RAW_HTML[6])}\n    intro: {_y(_block_payload('intro'))}\n",
    )
    put(
        content,
        "entities.yaml",
        f"putin:\n  name: {_y('Putin ' + RAW_HTML[3])}\n  kind: person\n"
        f"  description: {_y(_block_payload('description'))}\n  aliases: [{_y(RAW_HTML[13])}]\n",
    )
    text = SOURCE_TEXT + "\n" + HOSTILE_SOURCE_LINE + "\n" + RAW_HTML[1] + "\n"
    put(content, "sources/wire.txt", text)
    put(
        content,
        "sources/wire.yaml",
        f"title: {_y('Wire ' + RAW_HTML[0])}\npublisher: {_y(RAW_HTML[2])}\nauthor: {_y(RAW_HTML[4])}\n"
        f"url: {_y(HOSTILE_URL)}\nlanguage: {_y(RAW_HTML[14])}\n"
        f"notes: {_y(_block_payload('source-notes'))}\n",
    )
    card = (
        f"claim: {_y(_inline_payload('claim'))}\nstatus: disputed\nsection: gift\nentities: [putin]\n"
        f"tags: [{_y(RAW_HTML[0])}, {_y(RAW_HTML[17])}]\nnotes: {_y(_block_payload('notes'))}\n"
        f"evidence:\n  - source: wire\n    quote: {QUOTE}\n    note: {_y(_block_payload('evidence-note'))}\n"
        f"  - source: wire\n    quote: {_y(HOSTILE_SOURCE_LINE[:-1])}\n    stance: contradicts\n"
    )
    put(content, "facts/gift.yaml", card)
    return content, fields


class ExecutableMarkup(HTMLParser):
    """Collects anything a browser could run: scripts, handlers, script-bearing URLs, odd tags."""

    URL_ATTRS = frozenset(
        ["href", "src", "action", "formaction", "xlink:href", "poster", "background", "srcset", "data",
         "cite", "ping", "manifest", "lowsrc", "dynsrc", "longdesc", "codebase", "archive"]
    )
    BAD_TAGS = frozenset(
        ["iframe", "frame", "frameset", "object", "embed", "applet", "base", "form", "svg", "math", "style"]
    )

    def __init__(self, site: Path, page: Path, base_url: str) -> None:
        super().__init__(convert_charrefs=True)
        self.site, self.page, self.base_url = site, page, base_url
        self.bad: list[str] = []
        self.data_urls: list[str] = []
        self.script: str | None = None
        self.script_text: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k.lower(): v or "" for k, v in attrs}
        if tag == "script":
            if "src" in a:
                src = a["src"]
                if src.startswith(self.base_url):  # the 404 page links absolutely, to the site itself
                    src = os.path.relpath(self.site / src[len(self.base_url) :], self.page.parent)
                target = (self.page.parent / src).resolve()
                if re.match(r"[a-z][a-z0-9+.-]*:|/", src, re.I) or not target.is_relative_to(self.site):
                    self.bad.append(f"script src={src!r}")
                elif not target.is_file():
                    self.bad.append(f"script src={src!r} is not a file of the site")
                self.script = "src"
            elif a.get("type") == "application/ld+json":
                self.script = "json"
            else:
                self.bad.append(f"inline script {a}")
                self.script = "inline"
        if tag in self.BAD_TAGS:
            self.bad.append(f"<{tag}>")
        if tag == "meta" and "http-equiv" in a:
            self.bad.append(f"<meta http-equiv={a['http-equiv']!r}>")
        for name, value in a.items():
            if name.startswith("on"):
                self.bad.append(f"<{tag} {name}=...>")
            if name in self.URL_ATTRS:
                for url in value.split(",") if name == "srcset" else [value]:
                    cleaned = re.sub(r"[\t\n\r]", "", url).strip("".join(map(chr, range(33)))).lower()
                    if cleaned.startswith(("javascript:", "vbscript:")):
                        self.bad.append(f"<{tag} {name}={value!r}>")
                    elif cleaned.startswith("data:"):
                        self.data_urls.append(f"<{tag} {name}={value!r}>")

    def handle_data(self, data: str) -> None:
        if self.script is not None:
            self.script_text.append(data)

    def handle_endtag(self, tag: str) -> None:
        if tag == "script" and self.script is not None:
            body = "".join(self.script_text)
            if self.script == "json":
                try:
                    json.loads(body)
                except ValueError:
                    self.bad.append(f"ld+json block does not parse: {body[:80]!r}")
            elif body.strip():
                self.bad.append(f"script with a body: {body[:80]!r}")
            self.script, self.script_text = None, []


def executable_markup(site: Path, base_url: str) -> tuple[dict[str, list[str]], dict[str, list[str]]]:
    """Per page: what could run, and the data: URLs."""
    found, data = {}, {}
    for page in sorted(site.rglob("*.html")):
        parser = ExecutableMarkup(site.resolve(), page.resolve(), base_url)
        parser.feed(page.read_text(encoding="utf-8"))
        parser.close()
        if parser.bad:
            found[str(page.relative_to(site))] = parser.bad
        if parser.data_urls:
            data[str(page.relative_to(site))] = sorted(set(parser.data_urls))
    return found, data


def test_the_markup_checker_catches_what_it_looks_for(tmp_path: Path) -> None:
    """The checker itself, on a page holding one of each thing it must find."""
    put(tmp_path, "static/ok.js", "")
    page = put(
        tmp_path,
        "p.html",
        '<script src="static/ok.js"></script><script src="https://cdn.example/x.js"></script>'
        "<script>alert(1)</script><img src=x OnError=alert(1)>"
        '<a href="jav&#x09;ascript:alert(1)">a</a>'
        '<a href=" &#1;JaVaScRiPt:x">b</a><a href="vbscript:x">c</a><iframe></iframe>'
        '<script type="application/ld+json">{"a": "</script><b>"}</script>'
        '<img src="data:image/png;base64,x">',
    )
    found, data = executable_markup(tmp_path, "https://x.example/")
    assert len(found["p.html"]) == 9, found
    assert data == {"p.html": ["<img src='data:image/png;base64,x'>"]}
    assert page.is_file()


@pytest.fixture(scope="module")
def hostile_site(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, list[str], Result]:
    root = tmp_path_factory.mktemp("hostile")
    content, fields = hostile_content(root)
    result = invoke("build", str(content), "--out", str(root / "site"))
    return root / "site", fields, result


def test_hostile_content_builds(hostile_site: tuple[Path, list[str], Result]) -> None:
    site, _, result = hostile_site
    assert_no_crash(result)
    assert result.exit_code == 0, result.stdout + result.stderr
    assert (site / "index.html").is_file()


def test_no_executable_markup_survives_in_any_page(hostile_site: tuple[Path, list[str], Result]) -> None:
    site, _, _ = hostile_site
    pages = list(site.rglob("*.html"))
    assert len(pages) >= 8
    found, _ = executable_markup(site, HOSTILE_BASE)
    assert not found, json.dumps(found, indent=1)[:4000]


def test_no_data_urls_survive_in_any_page(hostile_site: tuple[Path, list[str], Result]) -> None:
    """markdown-it lets ``data:image/(gif|png|jpeg|webp)`` through as links and images."""
    site, _, _ = hostile_site
    _, data = executable_markup(site, HOSTILE_BASE)
    assert not data, json.dumps(data, indent=1)[:2000]


def test_no_card_markdown_loads_anything_from_elsewhere(hostile_site: tuple[Path, list[str], Result]) -> None:
    """SPEC §5: no external requests. An image in card Markdown would be one (a tracking pixel)."""
    site, _, _ = hostile_site
    external = []
    for page in sorted(site.rglob("*.html")):
        tags = r"<(img|script|link|iframe|video|audio|source)\b[^>]*?\b(?:src|href)=\"([^\"]*)\""
        for m in re.finditer(tags, page.read_text(encoding="utf-8"), re.I):
            url = html.unescape(m[2])
            if url.startswith(HOSTILE_BASE) or (m[1] == "link" and "canonical" in m[0]):
                continue  # the site itself (the 404 page links absolutely)
            if re.match(r"(?:[a-z][a-z0-9+.-]*:)?//", url, re.I):
                external.append(f"{page.name}: {m[0][:120]}")
    assert not external, external


def test_every_markdown_field_is_rendered_and_template_syntax_is_text(
    hostile_site: tuple[Path, list[str], Result],
) -> None:
    site, fields, _ = hostile_site
    text = "\n".join(
        HTMLUnescaped.of(p.read_text(encoding="utf-8")) for p in sorted(site.rglob("*.html"))
    )
    for field in fields:
        at = text.find(f"MARK{field}")
        assert at >= 0, f"the {field} field never reached a page"
        shown = text[at : at + 3000]
        literals = ["{{ 7*7 }}", "{% raw %}", "{%endraw%}", "{{ 'evil' | upper }}", RAW_HTML[0]]
        for literal in literals:
            assert literal in shown, f"{field}: {literal!r} not printed as written"
    assert "EVIL" not in text  # {{ 'evil' | upper }} was never evaluated
    assert HOSTILE_SOURCE_LINE[:-1] in text  # the source's own markup, shown as text


def test_scripts_json_and_sitemap_stay_inert(hostile_site: tuple[Path, list[str], Result]) -> None:
    site, _, _ = hostile_site
    js = (site / "search-index.js").read_text(encoding="utf-8")
    prefix = "window.DOSSIER_INDEX = "
    assert js.startswith(prefix) and js.endswith(";\n")
    entries = json.loads(js[len(prefix) : -2])
    assert "<" not in js and "\u2028" not in js
    assert any("MARKclaim" in e["claim"] for e in entries)
    json.loads((site / "dossier.json").read_text(encoding="utf-8"))
    tree = ET.parse(site / "sitemap.xml")
    locs = [el.text or "" for el in tree.iter() if el.tag.endswith("loc")]
    assert locs and all(loc.startswith("https://x.example/b/") for loc in locs)
    assert not [el for el in tree.iter() if el.tag.lower().endswith("script")]


class HTMLUnescaped(HTMLParser):
    """The text of a page as a reader sees it."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []

    def handle_data(self, data: str) -> None:
        self.parts.append(data)

    @classmethod
    def of(cls, html_text: str) -> str:
        parser = cls()
        parser.feed(html_text)
        parser.close()
        return " ".join("".join(parser.parts).split())


@pytest.mark.parametrize(
    "value",
    [
        "javascript:alert(1)", "JAVASCRIPT://x.example/%0aalert(1)", "javascript://x.example/%0Aalert(1)",
        "data:text/html,x", "vbscript:x", "//evil.example/", "ftp://x.example/", "file:///etc/passwd",
        "http:/x.example", "https://", " https://x.example/", "https://x.example/\u0000", "http//x.example",
        "https:\\\\x.example", "jav\tascript:alert(1)", "\u0001https://x.example/", "https://x .example/",
    ],
)
@pytest.mark.parametrize("slot", ["source.url", "dossier.base_url"])
def test_non_http_urls_are_refused(in_tmp: Path, slot: str, value: str) -> None:
    rel, template = TYPED[slot]
    text, line, col = _fill(template, _y(value))
    result = run_check({rel: text, "facts/a.yaml": CARD}, in_tmp)
    expect(result, 1, rel, "invalid-value", (line, col))


DEEP = {
    "blockquotes": lambda w: ">" * 200 + f" {w}-deep\n\n{w}-after",
    "lists": lambda w: "".join("  " * i + "- l\n" for i in range(201)) + f"{w}-deep\n\n{w}-after",
    "compact-lists": lambda w: "- " * 200 + f"{w}-deep\n\n{w}-after",
    "ordered-lists": lambda w: "".join("   " * i + "1. l\n" for i in range(150)) + f"{w}-deep\n\n{w}-after",
    "quote-lists": lambda w: "> - " * 120 + f"{w}-deep\n\n{w}-after",
}


@pytest.mark.parametrize("shape", DEEP)
def test_markdown_nested_past_max_nesting_keeps_every_word(tmp_path: Path, shape: str) -> None:
    """markdown-it stops at maxNesting (100) and drops the rest of the block: no text may vanish."""
    content = make_content(tmp_path / "content", facts={})
    deep = DEEP[shape]
    put(
        content,
        "dossier.yaml",
        f"title: T\nsummary: {_y(deep('summary'))}\nsections:\n  - id: gift\n    title: G\n"
        f"    intro: {_y(deep('intro'))}\n",
    )
    put(content, "entities.yaml", f"putin:\n  name: P\n  description: {_y(deep('description'))}\n")
    put(content, "sources/wire.yaml", f"title: W\nnotes: {_y(deep('sourcenotes'))}\n")
    put(
        content,
        "facts/gift.yaml",
        CARD.replace("Putin gave Kim a car.", _y("c " + "*" * 300 + "claim-deep" + "*" * 300 + " [" * 300))
        + f"notes: {_y(deep('notes'))}\n",
    )
    card = (content / "facts/gift.yaml").read_text()
    card = card.replace(f"    quote: {QUOTE}\n", f"    quote: {QUOTE}\n    note: {_y(deep('evnote'))}\n")
    put(content, "facts/gift.yaml", card)
    with deadline(20):
        result = invoke("build", str(content), "--out", str(tmp_path / "site"))
    assert_no_crash(result)
    assert result.exit_code == 0, result.stdout + result.stderr
    pages = (tmp_path / "site").rglob("*.html")
    text = " ".join(HTMLUnescaped.of(p.read_text(encoding="utf-8")) for p in pages)
    words = [f"{f}-{w}" for f in ("summary", "intro", "description", "sourcenotes", "notes", "evnote")
             for w in ("deep", "after")] + ["claim-deep"]
    missing = [w for w in words if w not in text]
    assert not missing, f"text silently dropped: {missing}"


# --- publishing: faults leave the previous site as it was -----------------------------------------


@pytest.fixture
def built(tmp_path: Path) -> tuple[Path, Path, dict[str, tuple[str, bytes | str, int]]]:
    """A content folder, a previous build of it, and that build's snapshot; the next build differs."""
    content = make_content(tmp_path / "content")
    out = tmp_path / "site"
    assert build(content, out).published is not None
    before = snapshot(out)
    another_card(content)
    return content, out, before


def _beside(out: Path) -> list[str]:
    return sorted(p.name for p in out.parent.iterdir())


def _fault(monkeypatch: pytest.MonkeyPatch, point: str, exc: BaseException, out: Path) -> None:
    """Make the build fail at ``point`` with ``exc``."""
    calls = {"n": 0}

    def raise_on(pred: Callable[..., bool], real: Callable[..., Any]) -> Callable[..., Any]:
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            if pred(*args):
                raise exc
            return real(*args, **kwargs)

        return wrapper

    if point == "render-last-page":
        monkeypatch.setattr(
            render.Renderer, "render",
            raise_on(lambda self, template, page: page == "sources/wire.html", render.Renderer.render),
        )
    elif point == "first-write":
        monkeypatch.setattr(publish, "_write", raise_on(lambda folder, name, data: True, publish._write))
    elif point == "write-new-page":
        monkeypatch.setattr(
            publish, "_write", raise_on(lambda folder, name, data: name == "other.html", publish._write)
        )
    elif point == "marker":
        monkeypatch.setattr(
            publish, "_write", raise_on(lambda folder, name, data: name == publish.MARKER, publish._write)
        )
    elif point == "hard-link":
        monkeypatch.setattr(os, "link", raise_on(lambda *a: True, os.link))
    elif point == "mkdir":
        monkeypatch.setattr(Path, "mkdir", raise_on(lambda self, *a: self.name == "facts", Path.mkdir))
    elif point == "exchange":
        monkeypatch.setattr(publish, "_exchange", raise_on(lambda *a: True, publish._exchange))
    elif point == "rename-in":  # the fallback without renameat2: fail moving the new site in
        monkeypatch.setattr(publish, "_exchange", lambda a, b: False)
        real_rename = os.rename

        def rename(src: Any, dst: Any) -> None:
            calls["n"] += 1
            if calls["n"] == 2:
                raise exc
            real_rename(src, dst)

        monkeypatch.setattr(os, "rename", rename)
    elif point == "rename-out":
        monkeypatch.setattr(publish, "_exchange", lambda a, b: False)
        monkeypatch.setattr(os, "rename", raise_on(lambda src, dst: Path(src) == out, os.rename))
    else:  # pragma: no cover
        raise AssertionError(point)


FAULT_POINTS = [
    "render-last-page", "first-write", "write-new-page", "marker", "hard-link", "mkdir", "exchange",
    "rename-in", "rename-out",
]


@pytest.mark.parametrize("point", FAULT_POINTS)
@pytest.mark.parametrize("kind", ["disk-full", "interrupt", "bug"])
def test_a_failed_build_leaves_the_previous_site_byte_identical(
    built: tuple[Path, Path, dict[str, Any]], monkeypatch: pytest.MonkeyPatch, point: str, kind: str
) -> None:
    content, out, before = built
    exc: BaseException = {
        "disk-full": OSError(errno.ENOSPC, "No space left on device"),
        "interrupt": KeyboardInterrupt(),
        "bug": RuntimeError("boom"),
    }[kind]
    with monkeypatch.context() as m:
        _fault(m, point, exc, out)
        with pytest.raises(type(exc)):
            build(content, out)
    assert snapshot(out) == before
    assert _beside(out) == ["content", "site"]
    assert build(content, out).published is not None  # and the next build goes through
    assert (out / "facts/other.html").is_file()


@pytest.mark.parametrize("kind", ["disk-full", "interrupt"])
def test_a_failed_build_through_the_cli_is_plain(
    built: tuple[Path, Path, dict[str, Any]], monkeypatch: pytest.MonkeyPatch, kind: str
) -> None:
    content, out, before = built
    exc: BaseException = OSError(errno.ENOSPC, "No space left on device") if kind == "disk-full" else (
        KeyboardInterrupt()
    )
    _fault(monkeypatch, "write-new-page", exc, out)
    result = invoke("build", str(content), "--out", str(out))
    out_text = result.stdout + result.stderr
    assert "Traceback" not in out_text
    assert result.exit_code == 1, out_text
    assert isinstance(result.exception, SystemExit), repr(result.exception)
    assert snapshot(out) == before
    assert _beside(out) == ["content", "site"]


def test_a_failure_after_the_swap_leaves_a_whole_site(
    built: tuple[Path, Path, dict[str, Any]], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Interrupted while removing the old tree: the reader sees the old site or the new, never half."""
    content, out, before = built
    real = shutil.rmtree

    def interrupted(path: Any, *args: Any, **kwargs: Any) -> None:
        if not kwargs.get("ignore_errors"):
            raise KeyboardInterrupt
        real(path, *args, **kwargs)

    monkeypatch.setattr(shutil, "rmtree", interrupted)
    with pytest.raises(KeyboardInterrupt):
        build(content, out)
    monkeypatch.undo()
    now = snapshot(out)
    if now != before:
        fresh = out.parent / "fresh"
        build(content, fresh)
        assert {k: v[:2] for k, v in now.items()} == {k: v[:2] for k, v in snapshot(fresh).items()}
        shutil.rmtree(fresh)
    assert [n for n in _beside(out) if n.startswith(".")] == []


@pytest.mark.parametrize(
    "target",
    [
        "repo/content", "repo", "repo/content/..", ".", "ABS:repo", "ABS:.", "repo/content/facts",
        "repo/content/sources/wire.txt", "foreign", "foreign-with-fake-marker", "link-to-repo",
        "link-to-content", "a-file", "repo/content/facts/a.yaml/site",
    ],
)
def test_refused_out_folders_touch_nothing(in_tmp: Path, target: str) -> None:
    make_content(in_tmp / "repo/content")
    put(in_tmp, "repo/README.md", "the repository\n")
    put(in_tmp, "foreign/keep.txt", "precious\n")
    put(in_tmp, "foreign-with-fake-marker/keep.txt", "precious\n")
    (in_tmp / "foreign-with-fake-marker" / publish.MARKER).mkdir()
    (in_tmp / "link-to-repo").symlink_to(in_tmp / "repo")
    (in_tmp / "link-to-content").symlink_to(in_tmp / "repo/content")
    put(in_tmp, "a-file", "not a folder\n")
    before = snapshot(in_tmp)
    out = str(in_tmp / target[4:]) if target.startswith("ABS:") else target
    result = invoke("build", "repo/content", "--out", out)
    assert_no_crash(result)
    if target == "repo/content/facts/a.yaml/site":
        assert result.exit_code in (1, 2)
    else:
        assert result.exit_code == 2, result.stdout + result.stderr
    assert snapshot(in_tmp) == before


def test_a_directory_symlink_in_the_previous_site_is_never_written_through(tmp_path: Path) -> None:
    content = make_content(tmp_path / "content")
    out = tmp_path / "site"
    build(content, out)
    victim = tmp_path / "victim"
    shutil.copytree(out / "facts", victim)
    put(victim, "extra.txt", "keep me\n")
    shutil.rmtree(out / "facts")
    (out / "facts").symlink_to(victim)
    (out / "static/style.css").unlink()
    (out / "static/style.css").symlink_to(tmp_path / "victim-style.css")
    put(tmp_path, "victim-style.css", "body{}\n")
    untouched = snapshot(victim), (tmp_path / "victim-style.css").read_bytes()
    another_card(content)
    build(content, out)
    assert (snapshot(victim), (tmp_path / "victim-style.css").read_bytes()) == untouched
    assert not (out / "facts").is_symlink() and (out / "facts/other.html").is_file()
    assert not (out / "static/style.css").is_symlink()
    assert (out / "static/style.css").read_bytes() != b"body{}\n"


# --- SOURCE_DATE_EPOCH ----------------------------------------------------------------------------


def test_source_date_epoch_is_honoured(tmp_path: Path) -> None:
    """Every date in the output is SOURCE_DATE_EPOCH's (the content has none): never today's."""
    content = make_content(tmp_path / "content")
    put(content, "dossier.yaml", "title: T\nbase_url: https://x.example/\nsections: [{id: gift, title: G}]\n")
    env = {"SOURCE_DATE_EPOCH": str(86400 * 366)}  # 1971-01-02T00:00:00Z
    for out in ("a", "b"):
        result = invoke("build", str(content), "--out", str(tmp_path / out), env=env)
        assert_no_crash(result)
        assert result.exit_code == 0, result.stderr
    today = dt.date.today()
    stamps = {today.strftime("%d %B %Y"), today.strftime("%B %d, %Y"), today.strftime("%Y%m%d")}
    dates: set[str] = set()
    for path in (tmp_path / "a").rglob("*"):
        if path.is_file() and path.suffix in (".html", ".json", ".xml", ".js"):
            text = path.read_text(encoding="utf-8")
            dates.update(re.findall(r"(?<!\d)(?:19|20)\d\d-[01]\d-[0-3]\d(?!\d)", text))
            assert not [s for s in stamps if s in text], f"{path.name} holds today's date"
    assert dates <= {"1971-01-02"}, dates
    a, b = snapshot(tmp_path / "a"), snapshot(tmp_path / "b")
    assert {k: v[:2] for k, v in a.items()} == {k: v[:2] for k, v in b.items()}


@pytest.mark.parametrize("value", ["abc", "-5", "1.5", "1e9", "0x10", "99999999999999999999999"])
def test_a_malformed_source_date_epoch_is_a_clean_error(tmp_path: Path, value: str) -> None:
    content = make_content(tmp_path / "content")
    result = invoke("build", str(content), "--out", str(tmp_path / "site"), env={"SOURCE_DATE_EPOCH": value})
    assert_no_crash(result)
    assert result.exit_code in (1, 2), "a malformed SOURCE_DATE_EPOCH was accepted"
    assert "SOURCE_DATE_EPOCH" in result.stderr
    assert not (tmp_path / "site").exists()


# --- a hostile quote must not stall the check -------------------------------------------------------


def test_a_quote_of_many_omissions_against_a_repetitive_source_is_refused() -> None:
    """``the ... the ... the`` (100 pieces) against 400 kB of ``the``: the verifier bounds its
    work (it counts placements, no clock involved) and says the quote is too complex."""
    source = Source("the " * 100_000)
    quote = " ... ".join(["the the the"] * 100)
    result = verify(quote, source)
    assert isinstance(result, Miss) and result.code == "quote-too-complex"


def test_many_omissions_over_ordinary_text_still_verify() -> None:
    text = " ".join(f"word{i} filler text here." for i in range(2000))
    source = Source(text)
    quote = " ... ".join(f"word{i} filler text" for i in range(0, 2000, 5))  # 400 omissions of ~100 chars
    assert isinstance(verify(quote, source), Match)


CHAIN_SOURCE = Source("Putin gave Kim a car. " + "Filler words here. " * 40 + "The agency said so.")


@pytest.mark.parametrize(
    "marks",
    ["...", "... ... ...", "[...][...][...]", "[...] … […]", " ".join(f"[w{i}]" for i in range(12))],
)
def test_adjacent_editorial_marks_do_not_multiply_the_allowance(marks: str) -> None:
    """Chaining marks must not widen what they may skip: 780 characters lie between the pieces.

    Found by the reference fuzz at 5,000 examples: the reference (SPEC §3) treats adjacent marks
    as one gap; the verifier adds their allowances, so ``... ... ...`` skips 3 x max_omission.
    """
    quote = f"Putin gave Kim {marks} The agency said so"
    result = verify(quote, CHAIN_SOURCE, Settings(max_omission=300, max_substitution=80))
    assert isinstance(result, Miss), f"{marks!r} skipped {result}"


# --- fuzzing ---------------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def fuzz_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One folder for all fuzz examples (hypothesis and function-scoped fixtures do not mix)."""
    return tmp_path_factory.mktemp("fuzz")


def fuzz_check(root: Path, files: dict[str, bytes], *args: str) -> Result:
    content = root / "content"
    shutil.rmtree(content, ignore_errors=True)
    make_content(content, facts={})
    for rel, data in files.items():
        put(content, rel, data)
    result = invoke("check", str(content), *args)
    assert_no_crash(result)
    if result.exit_code == 1 and "--format" not in args:
        assert problems(result), result.stdout + result.stderr
    return result


YAML_BITS = [
    "claim", "status", "evidence", "source", "quote", "stance", "notes", "date", "tags", "section",
    "entities", "related", ": ", ":", "- ", "-", "? ", "\n", "\n  ", "\n    ", "\n\t", "  ", "[", "]", "{",
    "}", ",", "&a ", "*a", "!!str ", "!x ", "%YAML 1.2\n", "---\n", "...\n", "# c", "|\n  ", ">-\n  ", '"',
    "'", "\\", "\\x00", "\\u2028", "wire", "confirmed", "yes", "~", "null", "2024-02-30", "0o17", "1:30",
    "\ufeff", "\x00", "\r\n", "\u2028", "\x85", "\ud800", "é", "\u200b", "…",
]


@st.composite
def yaml_texts(draw: st.DrawFn) -> bytes:
    """Broken and half-valid YAML: a valid card mutated, or tokens strung together, or raw bytes."""
    how = draw(st.sampled_from(["mutate", "tokens", "bytes"]))
    if how == "bytes":
        return draw(st.binary(max_size=300))
    if how == "tokens":
        bits = st.one_of(st.sampled_from(YAML_BITS), st.text(max_size=4))
        text = "".join(draw(st.lists(bits, max_size=60)))
    else:
        text = CARD
        for _ in range(draw(st.integers(1, 6))):
            pos = draw(st.integers(0, len(text)))
            cut = draw(st.integers(0, 5))
            bit = draw(st.one_of(st.sampled_from(YAML_BITS), st.text(max_size=3)))
            text = text[:pos] + bit + text[pos + cut :]
    return text.encode("utf-8", "surrogatepass")


YAML_FILES = ["facts/a.yaml", "dossier.yaml", "entities.yaml", "sources/wire.yaml"]
MARKS = ["...", "…", "[...]", "[…]", "[sic]", "[SIC]", "[t]", "[T]", "[the leader]", "[", "]", "[]", "[[x]]"]
SOURCE_WORDS = SOURCE_TEXT.split()


@st.composite
def quotes(draw: st.DrawFn) -> str:
    """Random Unicode, source words and editorial marks in any order."""
    parts = draw(
        st.lists(
            st.one_of(
                st.sampled_from(SOURCE_WORDS), st.sampled_from(MARKS), st.sampled_from(qp.MARKISH),
                st.text(max_size=5), st.characters(),
            ),
            max_size=25,
        )
    )
    return (" " if draw(st.booleans()) else "").join(parts)


@st.composite
def cards(draw: st.DrawFn) -> bytes:
    """Structurally valid cards whose every value is random (written as YAML double-quoted strings)."""
    value = st.one_of(st.text(max_size=30), st.sampled_from(["confirmed", "wire", "gift", "putin", "2024"]))
    lines = [
        f"claim: {_y(draw(value))}",
        f"status: {_y(draw(st.one_of(st.sampled_from(['confirmed', 'disputed']), st.text(max_size=8))))}",
    ]
    for key in draw(st.lists(st.sampled_from(["date", "section", "notes"]), unique=True)):
        lines.append(f"{key}: {_y(draw(value))}")
    for key in draw(st.lists(st.sampled_from(["entities", "tags", "related"]), unique=True)):
        lines.append(f"{key}: [{', '.join(_y(v) for v in draw(st.lists(value, max_size=3)))}]")
    lines.append("evidence:")
    for _ in range(draw(st.integers(0, 3))):
        lines.append(f"  - source: {_y(draw(st.one_of(st.just('wire'), value)))}")
        lines.append(f"    quote: {_y(draw(quotes()))}")
        if draw(st.booleans()):
            stance = draw(st.sampled_from(["supports", "contradicts", "context", "no"]))
            lines.append(f"    stance: {_y(stance)}")
    return ("\n".join(lines) + "\n").encode("utf-8", "surrogatepass")


@FUZZ
@given(data=yaml_texts(), rel=st.sampled_from(YAML_FILES))
def test_fuzz_broken_yaml_never_crashes_check(fuzz_dir: Path, data: bytes, rel: str) -> None:
    files = {rel: data}
    if rel != "facts/a.yaml":
        files["facts/a.yaml"] = CARD.encode()
    fuzz_check(fuzz_dir, files)


@FUZZ
@given(card=cards(), fmt=st.sampled_from(["text", "json", "github"]), strict=st.booleans())
def test_fuzz_random_cards_never_crash_check(fuzz_dir: Path, card: bytes, fmt: str, strict: bool) -> None:
    result = fuzz_check(fuzz_dir, {"facts/a.yaml": card}, "--format", fmt, *(["--strict"] if strict else []))
    if fmt == "json":
        doc = json.loads(result.stdout)
        assert (result.exit_code == 1) == bool(doc["errors"])


@FUZZ
@given(data=st.data())
def test_fuzz_verbatim_passages_always_pass_check(fuzz_dir: Path, data: st.DataObject) -> None:
    """Any word-aligned passage of the source, restyled, survives YAML quoting and verifies."""
    words = SOURCE_TEXT.split()
    a = data.draw(st.integers(0, len(words) - 3))
    b = data.draw(st.integers(a + 2, min(a + 12, len(words) - 1)))
    quote = " ".join(qp.restyle(data.draw, w) for w in words[a : b + 1])
    card = CARD.replace(QUOTE, _y(quote)).encode()
    result = fuzz_check(fuzz_dir, {"facts/a.yaml": card})
    assert result.exit_code == 0, (quote, result.stdout)


@FUZZ
@given(quote=quotes(), source=st.one_of(st.text(max_size=200), st.sampled_from([SOURCE_TEXT])))
def test_fuzz_any_quote_against_any_source(fuzz_dir: Path, quote: str, source: str) -> None:
    data = source.encode("utf-8", "surrogatepass")
    fuzz_check(
        fuzz_dir,
        {
            "sources/wire.txt": data,
            "sources/wire.yaml": b"title: W\n",
            "facts/a.yaml": CARD.replace(QUOTE, _y(quote)).encode("utf-8", "surrogatepass"),
        }
    )


#: The reference of SPEC §3 in tests/test_quotes_properties.py, rerun at the fuzz example count.
test_fuzz_verifier_agrees_with_the_reference = FUZZ(
    given(case=qp.marked_quotes())(qp.test_reference_implementation_agrees.hypothesis.inner_test)
)


# --- claims in plain words ---------------------------------------------------------------------

#: Letters and what claims hold around them, every character inline Markdown reads among them.
CLAIM_TEXT = st.text(
    alphabet=st.sampled_from(list("ab Z9 .,;:'\"()-–—…>/#+=%$@|]\t\n\r\0\\`~*_[!<&é")), max_size=24
)


@settings(max_examples=max(FUZZ_EXAMPLES, 300), deadline=None)
@given(text=CLAIM_TEXT)
def test_a_claim_in_plain_words_is_rendered_as_markdown_it_renders_it(text: str) -> None:
    """``plain_claim`` answers for the claims it takes without markdown-it, and exactly as
    markdown-it would; a claim it leaves goes through markdown-it."""
    made = render.plain_claim(text)
    if made is None:
        assert render._INLINE_SYNTAX.search(text)
        return
    assert made == (str(render.Markdown().inline(text)), render.plain(text))


def test_claims_in_plain_words_need_no_markdown_it(tmp_path: Path) -> None:
    """A build whose claims and notes are plain words never imports markdown-it-py (a
    command pays 0.06 s for it); one with a claim in Markdown renders it with markdown-it."""
    import subprocess
    import sys

    content = make_content(tmp_path / "content")
    script = (
        "import sys; from pathlib import Path; from dossier.build import build\n"
        "r = build(Path(sys.argv[1]), Path(sys.argv[2]))\n"
        "print(r.published is not None, 'markdown_it' in sys.modules)\n"
    )
    run = [sys.executable, "-c", script, str(content), str(tmp_path / "site")]
    assert subprocess.run(run, capture_output=True, text=True, check=True).stdout.split() == ["True", "False"]
    card = (content / "facts/gift.yaml").read_text()
    (content / "facts/gift.yaml").write_text(card.replace("Putin gave Kim a car.", "Putin gave Kim *a car*."))
    assert subprocess.run(run, capture_output=True, text=True, check=True).stdout.split() == ["True", "True"]
    assert "<em>a car</em>" in (tmp_path / "site/facts/gift.html").read_text()


@pytest.mark.parametrize(
    "url",
    ["//evil.example/x", "&#47;&#47;evil.example/x", "\\/\\/evil.example/x", "///evil.example/x",
     "/etc/passwd"],
)
def test_a_link_in_card_text_never_leaves_the_site_without_saying_where(url: str) -> None:
    """A path from the root, or another host without a scheme, leads out of the site from
    file:// (SPEC §5: all links relative): it is not a link."""
    html = str(render.Markdown().block(f"See [this]({url})."))
    assert "href" not in html and "this" in html


@pytest.mark.parametrize(
    "url", ["facts/a.html", "../sources/wire.html#q-a-1", "#e1", "./x", "HTTPS://example.org/"]
)
def test_a_relative_or_web_link_in_card_text_is_a_link(url: str) -> None:
    html = str(render.Markdown().block(f"See [this]({url})."))
    assert "href=" in html
    if url.startswith("HTTPS"):
        assert 'rel="noopener noreferrer"' in html


def test_a_claim_in_a_title_reads_as_its_words() -> None:
    """Titles, descriptions, the search index and the JSON-LD show what a reader sees of a
    claim's Markdown, not its marks."""
    claim = "Putin *gave* Kim a `car` &amp; [more](https://example.org/) \\*as\\* said"
    assert render.plain(claim) == "Putin gave Kim a car & more *as* said"


@pytest.mark.parametrize(
    ("text", "shown"),
    [
        ("As **Reuters** said [here][r].\n\n[r]: https://reuters.com/\n", "<strong>Reuters</strong>"),
        ("See [the page](https://ko.wikipedia.org/wiki/김정은) today.", 'href="https://ko.wikipedia.org/wiki/%EA'),
        ("In [Köln](https://de.wikipedia.org/wiki/Köln) then.", ">Köln</a>"),
    ],
)
def test_ordinary_markdown_is_rendered_not_shown_as_written(text: str, shown: str) -> None:
    """A reference link's label and definition, and a link's percent-escaped words, are not
    words the rendering lost (which would show the text as written)."""
    html = str(render.Markdown().block(text))
    assert shown in html and "**" not in html, html
