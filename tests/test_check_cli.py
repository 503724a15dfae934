"""`dossier check` through the public CLI: every error code, in all three formats."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from dossier.cli import main

from .conftest import CARD, make_content, write

REPO = Path(__file__).resolve().parent.parent


def run(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(main, list(args))
    return result.exit_code, result.stdout, result.stderr


# Each case: (facts/ files or other files to write, code, file, line, column)
CASES = [
    ("yaml-syntax", {"facts/a.yaml": "claim: [unclosed\n"}, "facts/a.yaml", 2, 1),
    ("duplicate-key", {"facts/a.yaml": CARD + "status: disputed\n"}, "facts/a.yaml", 8, 1),
    ("unknown-field", {"facts/a.yaml": CARD.replace("    quote:", "    qoute:")}, "facts/a.yaml", 7, 5),
    (
        "missing-field",
        {"facts/a.yaml": CARD.replace("claim: Putin gave Kim a car.\n", "")},
        "facts/a.yaml",
        1,
        1,
    ),
    (
        "invalid-value",
        {"facts/a.yaml": CARD.replace("status: confirmed", "status: no")},
        "facts/a.yaml",
        2,
        9,
    ),
    ("invalid-value", {"facts/a.yaml": CARD + "date: 2024-02-30\n"}, "facts/a.yaml", 8, 7),
    (
        "unknown-source",
        {"facts/a.yaml": CARD.replace("source: wire", "source: wirre")},
        "facts/a.yaml",
        6,
        13,
    ),
    ("unknown-entity", {"facts/a.yaml": CARD.replace("[putin]", "[putin, kim]")}, "facts/a.yaml", 4, 19),
    (
        "unknown-section",
        {"facts/a.yaml": CARD.replace("section: gift", "section: gifts")},
        "facts/a.yaml",
        3,
        10,
    ),
    ("unknown-fact", {"facts/a.yaml": CARD + "related: [nope]\n"}, "facts/a.yaml", 8, 11),
    ("duplicate-id", {"facts/a.yaml": CARD, "facts/sub/a.yaml": CARD}, "facts/sub/a.yaml", 1, 1),
    ("source-unreadable", {"sources/ghost.yaml": "title: Ghost\n"}, "sources/ghost.yaml", 1, 1),
    (
        "source-changed",
        {"sources/wire.yaml": "title: W\nsha256: " + "0" * 64 + "\n"},
        "sources/wire.yaml",
        2,
        9,
    ),
    (
        "quote-not-found",
        {"facts/a.yaml": CARD.replace("Russian-made car", "Russian-made limousine")},
        "facts/a.yaml",
        7,
        12,
    ),
    (
        "quote-too-short",
        {"facts/a.yaml": CARD.replace('"Putin gave Kim Jong Un a Russian-made car"', '"Putin gave"')},
        "facts/a.yaml",
        7,
        12,
    ),
    ("invalid-utf8", {"facts/a.yaml": CARD.encode() + b"notes: caf\xe9\n"}, "facts/a.yaml", 8, 11),
    (
        "yaml-tag",
        {"facts/a.yaml": CARD + "notes: !!python/object/apply:os.system [ls]\n"},
        "facts/a.yaml",
        8,
        8,
    ),
    ("yaml-anchor", {"facts/a.yaml": CARD + "notes: &n hi\ntags: [*n]\n"}, "facts/a.yaml", 8, 8),
    ("missing-file", {"dossier.yaml": None}, "dossier.yaml", 1, 1),
]


def build_case(root: Path, files: dict[str, str | bytes | None]) -> Path:
    content = make_content(root / "content", facts={})
    for rel, text in files.items():
        if text is None:
            (content / rel).unlink()
        else:
            write(content, rel, text)
    return content


@pytest.mark.parametrize(("code", "files", "rel", "line", "column"), CASES, ids=[c[0] for c in CASES])
@pytest.mark.parametrize("fmt", ["text", "json", "github"])
def test_each_error_code_in_each_format(
    in_tmp: Path, code: str, files: dict[str, str | bytes | None], rel: str, line: int, column: int, fmt: str
) -> None:
    build_case(in_tmp, files)
    status, out, err = run("check", "content", "--format", fmt)
    assert status == 1, out + err
    file = f"content/{rel}"
    if fmt == "text":
        assert f"{file}:{line}:{column}: error[{code}] " in out
        assert "error" in err  # the summary line with the count
    elif fmt == "json":
        doc = json.loads(out)
        hits = [e for e in doc["errors"] if e["code"] == code]
        assert hits, doc
        assert (hits[0]["file"], hits[0]["line"], hits[0]["column"]) == (file, line, column)
        assert doc["summary"]["errors"] == len(doc["errors"]) >= 1
    else:
        assert f"::error file={file},line={line},col={column},title={code}::" in out


def test_quote_miss_explains_nearest_passage(in_tmp: Path) -> None:
    build_case(in_tmp, {"facts/a.yaml": CARD.replace("Russian-made car", "Russian-made limousine")})
    _, out, _ = run("check", "content", "--format", "json")
    [problem] = json.loads(out)["errors"]
    assert problem["source"] == "wire"
    assert "Russian\u2011made car" in problem["nearest"]
    assert problem["differences"] == ["quote has 'limousine', source has 'car,'"]
    _, out, _ = run("check", "content")
    assert "nearest passage (content/sources/wire.txt:1)" in out


def test_clean_content_exits_zero_with_summary(in_tmp: Path) -> None:
    make_content(in_tmp / "content")
    status, out, err = run("check", "content")
    assert status == 0
    assert out == ""
    assert "checked 1 fact card and 1 quote: no errors, 0 warnings" in err


def test_every_problem_is_reported_then_one_count(in_tmp: Path) -> None:
    bad = CARD.replace("status: confirmed", "status: maybe").replace("source: wire", "source: nope")
    build_case(in_tmp, {"facts/a.yaml": bad, "facts/b.yaml": CARD.replace("[putin]", "[nobody]")})
    status, out, err = run("check", "content")
    assert status == 1
    # A card with one bad value is still checked for the rest: all three problems show.
    assert "content/facts/a.yaml:2:9: error[invalid-value]" in out
    assert "content/facts/a.yaml:6:13: error[unknown-source]" in out
    assert "content/facts/b.yaml:4:12: error[unknown-entity]" in out
    assert out.count("error[") == 3
    assert "3 errors" in err


def test_warnings_pass_unless_strict(in_tmp: Path) -> None:
    card = CARD.replace(
        '"Putin gave Kim Jong Un a Russian-made car"', '"Putin gave Kim ... the agency reported on Tuesday"'
    )
    build_case(in_tmp, {"facts/a.yaml": card})
    status, out, _ = run("check", "content")
    assert status == 0
    assert "warning[omission-drops-number]" in out
    status, out, _ = run("check", "content", "--strict")
    assert status == 1
    assert "error[omission-drops-number]" in out


def test_usage_errors_exit_two(in_tmp: Path) -> None:
    assert run("check", "missing-dir")[0] == 2
    make_content(in_tmp / "content")
    assert run("check", "content", "--bogus")[0] == 2
    assert run("check", "content", "--format", "xml")[0] == 2


def test_plain_quote_cut_by_comment_is_an_error(in_tmp: Path) -> None:
    card = CARD.replace('"Putin gave Kim Jong Un a Russian-made car"', "Putin gave Kim Jong Un # a car")
    build_case(in_tmp, {"facts/a.yaml": card})
    status, out, _ = run("check", "content")
    assert status == 1
    assert "content/facts/a.yaml:7:12: error[invalid-value] this unquoted quote is followed by ' #'" in out


def test_internal_error_is_plain(in_tmp: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    make_content(in_tmp / "content")

    def boom(*args: object, **kwargs: object) -> None:
        raise RuntimeError("kaboom")

    monkeypatch.setattr("dossier.check.check", boom)
    status, out, err = run("check", "content")
    assert status == 1
    assert "internal error: RuntimeError: kaboom" in err
    assert "Traceback" not in out + err


def test_shipped_dossier_checks_clean() -> None:
    status, out, err = run("check", str(REPO / "content"), "--strict")
    assert status == 0, out + err
    facts = list((REPO / "content" / "facts").rglob("*.yaml"))
    assert len(facts) >= 25


def test_a_value_with_a_line_break_stays_on_its_problems_line(in_tmp: Path) -> None:
    """Text output is one line per problem: a card's value quoted in a message cannot
    forge a second problem line."""
    forged = 'source: "wire\\nfake/f.yaml:1:1: error[x] y"'
    make_content(in_tmp / "content", {"gift.yaml": CARD.replace("source: wire", forged)})
    result = CliRunner().invoke(main, ["check", "content"])
    assert result.exit_code == 1
    lines = result.output.splitlines()
    assert not any(line.startswith("fake/") for line in lines), lines
    (hit,) = [line for line in lines if "fake/f.yaml" in line]
    assert hit.startswith("content/facts/gift.yaml:6:") and "wire\\nfake/f.yaml" in hit


def test_text_output_writes_control_characters_as_escapes() -> None:
    from dossier import report
    from dossier.problems import Pos, error

    problem = error(Pos("a\nb.yaml", 1, 2), "x", "got 'one\ntwo\x1b[2J\u2028three'")
    assert report.text([problem]) == ["a\\nb.yaml:1:2: error[x] got 'one\\ntwo\\x1b[2J\\u2028three'"]


def test_a_setting_past_any_number_meant_is_an_error_not_a_crash(in_tmp: Path) -> None:
    make_content(in_tmp / "content")
    dossier = (in_tmp / "content/dossier.yaml").read_text()
    write(in_tmp / "content", "dossier.yaml", dossier + "quotes:\n  max_omission: " + "1" * 5000 + "\n")
    result = CliRunner().invoke(main, ["check", "content"])
    assert result.exit_code == 1
    assert "content/dossier.yaml:" in result.output and "error[invalid-value] 'max_omission'" in result.output
    assert "internal error" not in result.output and len(result.output) < 2000


@pytest.mark.parametrize(
    "args",
    [
        ["schema", "--out", "afile/sub"],
        ["new", "fact", "abc", "--content", "c"],
        ["new", "source", "abc", "--from", "saved.txt", "--content", "c"],
    ],
)
def test_a_folder_that_is_a_file_is_said_plainly(in_tmp: Path, args: list[str]) -> None:
    (in_tmp / "afile").write_text("x")
    (in_tmp / "c").mkdir()
    (in_tmp / "c/facts").write_text("x")
    (in_tmp / "c/sources").write_text("x")
    (in_tmp / "saved.txt").write_text("Putin gave Kim Jong Un a Russian-made car.\n")
    result = CliRunner().invoke(main, args)
    assert result.exit_code == 1, result.output
    assert "cannot write" in result.output and "internal error" not in result.output, result.output


def test_new_source_writes_metadata_its_own_check_takes(in_tmp: Path) -> None:
    """A first line with a control character, quotes and a backslash: the title is still
    valid YAML the schema accepts."""
    make_content(in_tmp / "content")
    (in_tmp / "saved.txt").write_text('The \x07"bell" \\ report\nPutin gave Kim Jong Un a car.\n')
    args = ["new", "source", "bell", "--from", "saved.txt", "--content", "content"]
    result = CliRunner().invoke(main, args)
    assert result.exit_code == 0, result.output
    assert 'title: "The  \\"bell\\" \\\\ report"' in (in_tmp / "content/sources/bell.yaml").read_text()
    result = CliRunner().invoke(main, ["check", "content"])
    assert result.exit_code == 0, result.output
