"""Review tooling: JSON Schemas, scaffolds, stats, report formats, colour, serve, workflows."""

from __future__ import annotations

import gc
import json
import os
import re
import threading
import time
import urllib.error
import urllib.request
from pathlib import Path

import jsonschema
import pytest
import yaml
from click.testing import CliRunner

from dossier import schema
from dossier.cli import main
from dossier.problems import Problem
from dossier.serve import DevServer, with_reload
from dossier.yamlread import parse

from .conftest import CARD, make_content, write

REPO = Path(__file__).resolve().parent.parent


def run(*args: str, env: dict[str, str] | None = None, color: bool = False) -> tuple[int, str, str]:
    result = CliRunner(env=env).invoke(main, list(args), color=color)
    return result.exit_code, result.stdout, result.stderr


# --- JSON Schemas: one source of truth --------------------------------------------------


class CoreLoader(yaml.SafeLoader):
    """YAML 1.2 core schema, as editors read YAML: only true/false, null, ints, floats."""


CoreLoader.yaml_implicit_resolvers = {}
for tag, regexp, first in [
    ("tag:yaml.org,2002:bool", r"^(?:true|True|TRUE|false|False|FALSE)$", "tTfF"),
    ("tag:yaml.org,2002:null", r"^(?:~|null|Null|NULL|)$", "~nN\0"),
    ("tag:yaml.org,2002:int", r"^[-+]?[0-9]+$", "-+0123456789"),
    (
        "tag:yaml.org,2002:float",
        r"^[-+]?(?:\.[0-9]+|[0-9]+(?:\.[0-9]*)?)(?:[eE][-+]?[0-9]+)?$",
        "-+.0123456789",
    ),
]:
    CoreLoader.add_implicit_resolver(tag, re.compile(regexp), list(first))


FACT_EXAMPLES = [
    (CARD, True),
    (CARD + "date: 2024\n", True),
    (CARD + "date: 2024-02\n", True),
    (CARD + "date: 2024-02-29\n", True),
    (CARD + "date: 2024-02-30\n", False),
    (CARD + "date: 2024-13\n", False),
    (CARD + "date: 02/18/2024\n", False),
    (CARD + "tags: [yes, 2024]\n", True),
    (CARD + "notes: '   '\n", False),
    (CARD + "notes: null\n", False),
    (CARD.replace("status: confirmed", "status: no"), False),
    (CARD.replace("status: confirmed", "status: Confirmed"), False),
    (CARD.replace("section: gift", "section: Gift"), False),
    (CARD.replace("section: gift", "section: [gift]"), False),
    (CARD.replace("    quote:", "    qoute:"), False),
    (CARD.replace("claim: Putin gave Kim a car.\n", ""), False),
    (
        CARD.replace("evidence:\n  - source: wire\n", "evidence: []\n").split("evidence: []")[0]
        + "evidence: []\n",
        False,
    ),
    (CARD + "related: [a, b-2]\n", True),
    (CARD + "extra: 1\n", False),
    (CARD.replace("    quote:", "    stance: context\n    quote:"), True),
    (CARD.replace("    quote:", "    stance: refutes\n    quote:"), False),
]
SOURCE_EXAMPLES = [
    ("title: T\n", True),
    ("title: T\nurl: https://example.org/x?y=1\n", True),
    ("title: T\nurl: ftp://example.org/\n", False),
    ("title: T\nurl: javascript:alert(1)\n", False),
    ("title: T\npublished: 2024-02-20\n", True),
    ("title: T\nsha256: abc\n", False),
    ("title: T\nsha256: " + "a" * 64 + "\n", True),
    ("publisher: P\n", False),
]
DOSSIER_EXAMPLES = [
    ("title: T\n", True),
    ("title: T\nquotes: {min_words: 2, max_omission: 10}\n", True),
    ("title: T\nquotes: {min_words: '2'}\n", False),
    ("title: T\nquotes: {min_words: -1}\n", False),
    ("title: T\nsections: [{id: a, title: A}]\n", True),
    ("title: T\nsections: [{id: a}]\n", False),
    ("title: T\nupdated: 2024-02-31\n", False),
]
ENTITY_EXAMPLES = [
    ("putin: {name: Vladimir Putin, kind: person}\n", True),
    ("putin: {name: Vladimir Putin, kind: human}\n", False),
    ("Putin: {name: Vladimir Putin}\n", False),
    ("putin: {kind: person}\n", False),
    ("putin: {name: P, aliases: [VVP]}\n", True),
]


@pytest.mark.parametrize(
    ("kind", "name", "text", "valid"),
    [(schema.FACT, "fact", t, v) for t, v in FACT_EXAMPLES]
    + [(schema.SOURCE, "source", t, v) for t, v in SOURCE_EXAMPLES]
    + [(schema.DOSSIER, "dossier", t, v) for t, v in DOSSIER_EXAMPLES]
    + [(schema.ENTITIES, "entities", t, v) for t, v in ENTITY_EXAMPLES],
)
def test_json_schema_and_loader_give_the_same_verdict(
    kind: schema.FieldType, name: str, text: str, valid: bool
) -> None:
    node, _ = parse(text, "x.yaml")
    assert node is not None
    out: list[Problem] = []
    schema.convert(node, kind, out, name)
    assert (not out) is valid, out
    validator = jsonschema.Draft202012Validator(schema.json_schema(kind))
    errors = list(validator.iter_errors(yaml.load(text, Loader=CoreLoader)))
    assert (not errors) is valid, [e.message for e in errors]


def test_committed_schemas_are_current() -> None:
    for name, data in schema.schema_documents().items():
        assert (REPO / "schemas" / name).read_bytes() == data, f"run: dossier schema --out schemas ({name})"


def test_every_shipped_card_has_a_schema_modeline_that_resolves() -> None:
    cards = sorted((REPO / "content/facts").rglob("*.yaml"))
    assert cards
    for card in cards:
        first = card.read_text().splitlines()[0]
        m = re.fullmatch(r"# yaml-language-server: \$schema=(\S+)", first)
        assert m, card
        assert (card.parent / m.group(1)).resolve() == REPO / "schemas/fact.schema.json"


def test_schema_command(tmp_path: Path) -> None:
    status, out, _ = run("schema", "fact")
    assert status == 0
    assert json.loads(out)["required"] == ["claim", "status", "evidence"]
    status, _, err = run("schema", "--out", str(tmp_path))
    assert status == 0 and "4 schema file(s) written" in err
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(schema.SCHEMA_FILES)
    assert run("schema")[0] == 2


def test_the_schema_command_offers_every_kind_the_schema_has() -> None:
    from dossier import cli

    assert sorted(name.split(".")[0] for name in schema.SCHEMA_FILES) == cli.SCHEMA_KINDS


# --- scaffolds -------------------------------------------------------------------------


def test_new_fact_scaffold_checks_once_filled(in_tmp: Path) -> None:
    make_content(in_tmp / "content")
    status, _, err = run("new", "fact", "kim-thanks", "--source", "wire")
    assert status == 0, err
    card = in_tmp / "content/facts/kim-thanks.yaml"
    text = card.read_text()
    assert text.startswith("# yaml-language-server: $schema=../../schemas/fact.schema.json\n")
    status, out, _ = run("check", "content")
    assert status == 1
    assert "content/facts/kim-thanks.yaml:2:7: error[invalid-value] 'claim' is empty" in out
    filled = text.replace("claim: #", "claim: Kim got a car. #").replace(
        'quote: ""', 'quote: "gave Kim Jong Un"'
    )
    card.write_text(filled)
    assert run("check", "content")[0] == 0


def test_new_fact_refuses_an_existing_or_bad_id(in_tmp: Path) -> None:
    make_content(in_tmp / "content", {"sub/gift.yaml": CARD})
    status, _, err = run("new", "fact", "gift")
    assert status == 1
    assert "content/facts/sub/gift.yaml:1:1: error[duplicate-id]" in err
    status, _, err = run("new", "fact", "Bad_Id")
    assert status == 1 and "error[invalid-value]" in err
    assert sorted(p.name for p in (in_tmp / "content/facts").rglob("*.yaml")) == ["gift.yaml"]


def test_new_source_copies_bytes_and_pins_sha256(in_tmp: Path) -> None:
    make_content(in_tmp / "content")
    saved = in_tmp / "saved.txt"
    saved.write_bytes("Headline here\r\n\r\nBody with\u00a0odd  spacing.\n".encode())
    status, _, err = run("new", "source", "report", "--from", str(saved), "--url", "https://example.org/r")
    assert status == 0, err
    assert (in_tmp / "content/sources/report.txt").read_bytes() == saved.read_bytes()
    meta = (in_tmp / "content/sources/report.yaml").read_text()
    assert 'title: "Headline here"' in meta and 'url: "https://example.org/r"' in meta
    assert run("check", "content")[0] == 0  # the pinned sha256 matches
    status, _, err = run("new", "source", "report", "--from", str(saved))
    assert status == 1 and "exists already" in err
    assert run("new", "source", "x", "--from", str(saved), "--url", "javascript:alert(1)")[0] == 2
    saved.write_bytes(b"\xff\xfe")
    status, _, err = run("new", "source", "bad", "--from", str(saved))
    assert status == 1 and "error[source-unreadable]" in err


# --- stats and formats -------------------------------------------------------------------


def test_stats_text_and_json(in_tmp: Path) -> None:
    content = make_content(in_tmp / "content")
    write(content, "sources/unused.txt", "never quoted")
    write(content, "sources/unused.yaml", "title: Unused\n")
    write(content, "facts/two.yaml", CARD.replace("confirmed", "disputed"))
    status, out, _ = run("stats", "content", "--format", "json")
    assert status == 0
    figures = json.loads(out)
    assert figures["facts_by_status"] == {"confirmed": 1, "disputed": 1, "unverified": 0, "refuted": 0}
    assert figures["quotes_per_source"] == {"unused": 0, "wire": 2}
    assert figures["uncited_sources"] == ["unused"]
    assert figures["single_source_facts"] == ["gift", "two"]
    assert figures["disputed_facts"] == ["two"]
    status, out, _ = run("stats", "content")
    assert "sources no card cites (1):\n  unused" in out


def test_markdown_summary_format(in_tmp: Path) -> None:
    make_content(in_tmp / "content", {"a.yaml": CARD.replace("Russian-made car", "Russian-made | tank")})
    status, out, _ = run("check", "content", "--format", "markdown")
    assert status == 1
    assert out.startswith("## dossier check\n\n❌ 1 error(s)")
    assert "| `content/facts/a.yaml:7:12` | error[quote-not-found] |" in out
    assert "Russian-made \\| tank" not in out or "\\|" in out


def test_github_format_escapes_and_prints_full_report(in_tmp: Path) -> None:
    make_content(
        in_tmp / "content",
        {"a.yaml": CARD.replace("Russian-made car", "Russian-made tank"), "b,c.yaml": CARD},
    )
    status, out, err = run("check", "content", "--format", "github")
    assert status == 1
    lines = out.splitlines()
    assert lines[0].startswith("::error file=content/facts/a.yaml,line=7,col=12,title=quote-not-found::")
    assert "%0Anearest passage" in lines[0]  # details ride along on one line
    assert lines[1].startswith("::error file=content/facts/b%2Cc.yaml,line=1,col=1,title=invalid-value::")
    assert "content/facts/a.yaml:7:12: error[quote-not-found]" in err  # the full text report


def test_colour_only_on_terminals_and_never_with_no_color(in_tmp: Path) -> None:
    make_content(in_tmp / "content", {"a.yaml": CARD.replace("status: confirmed", "status: no")})
    _, out, _ = run("check", "content", color=True)
    assert "\x1b[31m" in out
    _, out, _ = run("check", "content", color=False)
    assert "\x1b[" not in out
    _, out, _ = run("check", "content", color=True, env={"NO_COLOR": "1"})
    assert "\x1b[" not in out


# --- serve ------------------------------------------------------------------------------


def fetch(url: str, timeout: float = 5) -> tuple[int, str]:
    try:
        with urllib.request.urlopen(url, timeout=timeout) as resp:
            return resp.status, resp.read().decode()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read().decode()


def wait_for(predicate: object, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():  # type: ignore[operator]
            return
        time.sleep(0.05)
    raise AssertionError("timed out")


def test_serve_answers_a_page_not_found_with_the_sites_own(tmp_path: Path) -> None:
    content = make_content(tmp_path / "content")
    server = DevServer(content, tmp_path / "site", 0, lambda _: None, interval=0.05)
    server.start()
    try:
        status, page = fetch(f"http://127.0.0.1:{server.port}/no/such/page.html")
    finally:
        server.stop()
    assert status == 404
    # (Python's own page said 'Error response'; the site's comes with the reload script)
    assert page == with_reload((tmp_path / "site/404.html").read_bytes(), server.token, 1).decode()


def test_served_pages_reload_after_a_build_and_the_built_files_stay_as_built(tmp_path: Path) -> None:
    """Each HTML page served carries the script that asks ``/__dossier__/state`` whether a
    build has changed the site since; the files on disk, and any other file served, are as
    the build wrote them; the state moves on only when a build changes what is served."""
    content = make_content(tmp_path / "content")
    messages: list[str] = []
    server = DevServer(content, tmp_path / "site", 0, messages.append, interval=0.05)
    server.start()
    base = f"http://127.0.0.1:{server.port}"
    state = f"{base}/__dossier__/state"
    try:
        status, page = fetch(f"{base}/facts/gift.html")
        built = (tmp_path / "site/facts/gift.html").read_bytes()
        assert status == 200 and page.encode() == with_reload(built, server.token, 1)
        assert b"__dossier__" not in built
        assert f"seen='{server.token}:1'" in fetch(f"{base}/")[1]  # (a folder's index too)
        assert fetch(f"{base}/search-index.js")[1] == (tmp_path / "site/search-index.js").read_text()
        request = urllib.request.Request(f"{base}/facts/gift.html", method="HEAD")
        with urllib.request.urlopen(request, timeout=5) as resp:
            assert int(resp.headers["Content-Length"]) == len(page.encode())
        assert fetch(state) == (200, f"{server.token}:1")
        write(content, "facts/gift.yaml", CARD.replace("Putin gave Kim a car.", "Putin handed Kim a car."))
        wait_for(lambda: fetch(state)[1] == f"{server.token}:2")
        assert "Putin handed Kim" in fetch(f"{base}/facts/gift.html")[1]
        # A build that changes nothing (a card saved as it was) reloads no page.
        said, card = len(messages), content / "facts/gift.yaml"
        os.utime(card, ns=(card.stat().st_atime_ns, card.stat().st_mtime_ns + 10**9))
        wait_for(lambda: len(messages) > said)  # (said as the build ends)
        assert "(0 changed)" in messages[-1] and fetch(state) == (200, f"{server.token}:2")
    finally:
        server.stop()
    assert not any("error[internal]" in m for m in messages), messages


def test_serve_says_nothing_of_a_browser_gone_and_one_line_of_any_other_error(tmp_path: Path) -> None:
    messages: list[str] = []
    server = DevServer(make_content(tmp_path / "content"), tmp_path / "site", 0, messages.append)
    try:
        for exc in (BrokenPipeError(32, "Broken pipe"), ConnectionResetError(104, "reset"), ValueError("x")):
            try:
                raise exc
            except Exception:
                server.httpd.handle_error(None, ("127.0.0.1", 1))
    finally:
        server.stop()
    assert messages == ["error[internal] answering a request: ValueError: x"]


def test_serve_builds_serves_and_rebuilds(tmp_path: Path) -> None:
    content = make_content(tmp_path / "content")
    messages: list[str] = []
    server = DevServer(content, tmp_path / "site", 0, messages.append, interval=0.05)
    server.start()
    try:
        base = f"http://127.0.0.1:{server.port}"
        status, page = fetch(f"{base}/facts/gift.html")
        assert status == 200 and "Putin gave Kim a car." in page
        time.sleep(0.05)
        write(content, "facts/gift.yaml", CARD.replace("Putin gave Kim a car.", "Putin handed Kim a car."))
        wait_for(lambda: "Putin handed Kim" in fetch(f"{base}/facts/gift.html")[1])
        write(content, "facts/gift.yaml", CARD.replace("status: confirmed", "status: maybe"))
        # (The card is written in place: a build may first see it empty, and fail for that.)
        wait_for(lambda: "facts/gift.yaml:2:9: error[invalid-value]" in fetch(f"{base}/index.html")[1])
        assert fetch(f"{base}/index.html")[0] == 500
        failed = fetch(f"{base}/index.html")[1]
        assert "/__dossier__/state" in failed and "setTimeout(() => location.reload()" not in failed
        request = urllib.request.Request(f"{base}/index.html", method="HEAD")
        try:
            urllib.request.urlopen(request, timeout=5)
        except urllib.error.HTTPError as exc:  # (as GET: the problems, not the page)
            assert exc.code == 500
        else:
            raise AssertionError("HEAD answered 200 while the build had failed")
        write(content, "facts/gift.yaml", CARD)
        wait_for(lambda: fetch(f"{base}/index.html")[0] == 200)
        assert any(m.startswith("build failed") for m in messages)
    finally:
        server.stop()
    assert not any(
        t.name.startswith("serve") for t in threading.enumerate() if t.is_alive() and t.daemon is False
    )


# --- GitHub workflows and pre-commit ---------------------------------------------------------


def load_workflow(name: str) -> dict:
    doc = yaml.safe_load((REPO / ".github/workflows" / name).read_text())
    doc["on"] = doc.pop(True, doc.get("on"))  # YAML 1.1 reads the key 'on' as true
    return doc


def steps_text(doc: dict) -> str:
    return "\n".join(
        str(step.get("run", "")) + str(step.get("uses", ""))
        for job in doc["jobs"].values()
        for step in job["steps"]
    )


def test_pull_request_workflow_checks_annotates_summarises_and_builds() -> None:
    doc = load_workflow("check.yml")
    assert "pull_request" in doc["on"]
    text = steps_text(doc)
    assert "actions/checkout" in text and "actions/setup-python" in text
    for command in [
        "dossier check content --format github",
        'dossier check content --format markdown >> "$GITHUB_STEP_SUMMARY"',
        "make site",
        "make test",
    ]:
        assert command in text, command


def test_pages_workflow_publishes_site_from_main() -> None:
    doc = load_workflow("pages.yml")
    assert doc["on"]["push"]["branches"] == ["main"]
    text = steps_text(doc)
    assert "make site" in text
    assert "actions/upload-pages-artifact" in text and "actions/deploy-pages" in text
    assert doc["permissions"]["pages"] == "write" and doc["permissions"]["id-token"] == "write"


def test_pre_commit_hooks_run_dossier_check() -> None:
    hooks = yaml.safe_load((REPO / ".pre-commit-hooks.yaml").read_text())
    [hook] = [h for h in hooks if h["id"] == "dossier-check"]
    assert hook["entry"] == "dossier check" and hook["pass_filenames"] is False
    config = yaml.safe_load((REPO / ".pre-commit-config.yaml").read_text())
    ids = {h["id"] for repo in config["repos"] for h in repo["hooks"]}
    assert {"ruff", "mypy", "dossier-check"} <= ids


@pytest.mark.parametrize("signum", ["SIGINT", "SIGTERM", "SIGHUP"])
def test_serve_command_stops_cleanly_on_ctrl_c_or_when_told_to_terminate(tmp_path: Path, signum: str) -> None:
    import os
    import signal
    import subprocess
    import sys

    if not hasattr(signal, signum):
        pytest.skip(f"no {signum} here")

    content = make_content(tmp_path / "content")
    (tmp_path / "tmp").mkdir()  # where it builds: left empty
    env = dict(os.environ, PYTHONUNBUFFERED="1", TMPDIR=str(tmp_path / "tmp"))
    proc = subprocess.Popen(
        [sys.executable, "-m", "dossier", "serve", str(content), "--port", "0"],
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )
    try:
        assert proc.stderr is not None
        line = ""
        deadline = time.monotonic() + 30
        while "serving" not in line and time.monotonic() < deadline:
            line = proc.stderr.readline()
        port = re.search(r"127\.0\.0\.1:(\d+)/", line)
        assert port, line
        status, page = fetch(f"http://127.0.0.1:{port.group(1)}/index.html")
        assert status == 200 and "Test dossier" in page
        proc.send_signal(getattr(signal, signum))
        assert proc.wait(timeout=10) == 0
        assert "stopped" in proc.stderr.read()
        assert list((tmp_path / "tmp").iterdir()) == []
    finally:
        if proc.poll() is None:
            proc.kill()


def test_a_second_edit_to_a_card_too_recent_to_vouch_for_still_looks_changed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from dossier import check
    from dossier import survey as surveys

    monkeypatch.setattr(surveys, "RACY_NS", 1_000_000_000)
    content = make_content(tmp_path / "content")
    time.sleep(1.1)  # the rest settled; the card, written now, is not
    write(content, "facts/gift.yaml", CARD.replace("Putin gave Kim a car.", "Putin gave Kim a new car."))
    first = check.survey(content, strict=False)
    write(content, "facts/gift.yaml", CARD.replace("Putin gave Kim a car.", "Putin handed Kim a car."))
    second = check.survey(content, strict=False)
    assert first is not None and second is not None
    shown = next(iter(second.cards))
    assert first.cards == second.cards == {shown: None}  # neither vouched for: both recent
    assert first.looks() != second.looks()  # but what the watcher compares differs
    assert second.looks() == check.survey(content, strict=False).looks()  # (and nothing else does)


def test_serve_hands_the_build_the_survey_it_watched_by(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A rebuild after an edit does not look at every card again: the watcher just did."""
    from dossier import build as build_module
    from dossier import check, publish
    from dossier import survey as survey_module

    monkeypatch.setattr(survey_module, "RACY_NS", 0)  # (every file settled at once)
    content = make_content(tmp_path / "content")
    surveys: list[str] = []
    handed: list[object] = []
    real_survey, real_build = check.survey, build_module.build

    def counting(root: Path, strict: bool) -> object:
        surveys.append("build")
        return real_survey(root, strict)

    def building(*args: object, **kwargs: object) -> object:
        handed.append(kwargs.get("surveyed"))
        return real_build(*args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(build_module, "survey", counting)
    monkeypatch.setattr("dossier.serve.build", building)
    messages: list[str] = []
    server = DevServer(content, tmp_path / "site", 0, messages.append, interval=0.05)
    server.start()
    try:
        spare = publish.spare_path(tmp_path / "site")  # given one at once: the first edit writes into it
        assert (spare / "index.html").stat().st_ino == (tmp_path / "site/index.html").stat().st_ino
        write(content, "facts/gift.yaml", CARD.replace("Putin gave Kim a car.", "Putin handed Kim a car."))
        wait_for(lambda: "Putin handed Kim" in (tmp_path / "site/facts/gift.html").read_text())
    finally:
        server.stop()
    frozen = gc.get_freeze_count()
    for _ in range(3):
        assert isinstance(server.look()[1], survey_module.Survey)
    assert gc.get_freeze_count() == frozen  # looking freezes nothing (it may build nothing)
    assert len(handed) >= 2 and all(isinstance(s, survey_module.Survey) for s in handed)
    assert surveys == []  # the builds took the watcher's
    assert server.updated is True  # and the rebuild was an update
