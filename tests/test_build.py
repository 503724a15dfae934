"""`dossier build`: output, determinism, atomic and incremental publishing, safety."""

from __future__ import annotations

import json
import os
import re
from html.parser import HTMLParser
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

import markupsafe
import pytest
from click.testing import CliRunner
from hypothesis import given
from hypothesis import strategies as st

from dossier import publish, render
from dossier.build import build
from dossier.cli import main
from dossier.publish import MARKER

from .conftest import CARD, make_content, write

REPO = Path(__file__).resolve().parent.parent


def run(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(main, list(args))
    return result.exit_code, result.stdout, result.stderr


def tree(root: Path) -> dict[str, bytes]:
    return {str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


def test_build_writes_every_page(tmp_path: Path) -> None:
    content = make_content(tmp_path / "content")
    status, _, err = run("build", str(content), "--out", str(tmp_path / "site"))
    assert status == 0, err
    files = set(tree(tmp_path / "site"))
    for name in [
        "index.html",
        "facts/gift.html",
        "sources/wire.html",
        "timeline.html",
        "entities.html",
        "disputed.html",
        "sources.html",
        "404.html",
        "dossier.json",
        "search-index.js",
        "static/style.css",
        MARKER,
    ]:
        assert name in files, name
    assert "sitemap.xml" not in files  # no base_url
    assert "built 8 pages" in err


def test_errors_write_nothing_and_keep_the_previous_site(tmp_path: Path) -> None:
    content = make_content(tmp_path / "content")
    out = tmp_path / "site"
    assert run("build", str(content), "--out", str(out))[0] == 0
    before = tree(out)
    write(content, "facts/gift.yaml", CARD.replace("Russian-made car", "Russian-made tank"))
    status, stdout, err = run("build", str(content), "--out", str(out))
    assert status == 1
    assert "error[quote-not-found]" in stdout
    assert "left as it was" in err
    assert tree(out) == before
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == []


def test_two_builds_are_byte_identical(tmp_path: Path) -> None:
    build(REPO / "content", tmp_path / "a")
    build(REPO / "content", tmp_path / "b")
    assert tree(tmp_path / "a") == tree(tmp_path / "b")


def test_unchanged_files_keep_their_mtime(tmp_path: Path) -> None:
    content = make_content(tmp_path / "content")
    out = tmp_path / "site"
    build(content, out)
    old = {name: (out / name).stat().st_mtime_ns for name in tree(out)}
    for name in old:  # make any rewrite visible
        os.utime(out / name, ns=(1, 1))
    write(content, "facts/other.yaml", CARD.replace("Putin gave Kim a car.", "Another claim."))
    result = build(content, out)
    assert result.published is not None
    assert (out / "facts/other.html").exists()
    assert (out / "static/style.css").stat().st_mtime_ns == 1  # untouched
    assert (out / "sources/wire.html").stat().st_mtime_ns != 1  # cites the new card
    assert result.published.kept > 0


def test_failure_on_the_last_page_leaves_the_old_site(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    content = make_content(tmp_path / "content")
    out = tmp_path / "site"
    build(content, out)
    before = tree(out)
    write(content, "facts/other.yaml", CARD.replace("Putin gave Kim a car.", "Another claim."))
    original = render.Renderer.render
    calls = {"n": 0}

    def failing(self: render.Renderer, template: str, page: str, **context: object) -> bytes:
        calls["n"] += 1
        if page == "sources/wire.html":  # the last page rendered
            raise OSError(28, "No space left on device")
        return original(self, template, page, **context)

    monkeypatch.setattr(render.Renderer, "render", failing)
    status, _, err = run("build", str(content), "--out", str(out))
    assert status == 1
    assert "No space left on device" in err and "internal error" not in err and "left as it was" in err
    assert tree(out) == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["content", "site"]


def test_publish_failure_while_writing_cleans_up(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    content = make_content(tmp_path / "content")
    out = tmp_path / "site"
    build(content, out)
    before = tree(out)
    write(content, "facts/other.yaml", CARD.replace("Putin gave Kim a car.", "Another claim."))
    real_write = publish._write

    def full_disk(folder: int | None, name: str, data: list[bytes]) -> os.stat_result:
        if name == "other.html":
            raise OSError(28, "No space left on device")
        return real_write(folder, name, data)

    monkeypatch.setattr(publish, "_write", full_disk)
    with pytest.raises(OSError):
        build(content, out)
    assert tree(out) == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["content", "site"]


@pytest.mark.parametrize("target", ["content", ".", "foreign", "content/sub"])
def test_refuses_an_out_it_did_not_write(tmp_path: Path, target: str, in_tmp: Path) -> None:
    make_content(in_tmp / "content")
    write(in_tmp, "foreign/keep.txt", "precious")
    status, _, err = run("build", "content", "--out", target)
    assert status == 2, err
    assert (in_tmp / "foreign/keep.txt").read_text() == "precious"
    assert not (in_tmp / "content" / "index.html").exists()


def test_empty_out_folder_is_fine(tmp_path: Path) -> None:
    content = make_content(tmp_path / "content")
    (tmp_path / "site").mkdir()
    assert run("build", str(content), "--out", str(tmp_path / "site"))[0] == 0


def test_symlink_in_previous_site_is_never_written_through(tmp_path: Path) -> None:
    content = make_content(tmp_path / "content")
    out = tmp_path / "site"
    build(content, out)
    victim = tmp_path / "victim.txt"
    victim.write_text("untouched")
    (out / "index.html").unlink()
    (out / "index.html").symlink_to(victim)
    build(content, out)
    assert victim.read_text() == "untouched"
    assert not (out / "index.html").is_symlink()


def test_sitemap_canonical_and_og_only_with_base_url(tmp_path: Path) -> None:
    content = make_content(tmp_path / "content")
    write(content, "dossier.yaml", "title: T\nbase_url: https://example.org/briefing/\n")
    write(content, "facts/gift.yaml", CARD.replace("section: gift\n", ""))
    build(content, tmp_path / "site")
    sitemap = (tmp_path / "site/sitemap.xml").read_text()
    assert "<loc>https://example.org/briefing/facts/gift.html</loc>" in sitemap
    assert "404.html" not in sitemap
    page = (tmp_path / "site/facts/gift.html").read_text()
    assert '<link rel="canonical" href="https://example.org/briefing/facts/gift.html">' in page
    assert 'property="og:title"' in page


def test_card_text_is_escaped_and_markdown_has_no_raw_html(tmp_path: Path) -> None:
    card = (
        CARD.replace(
            "Putin gave Kim a car.", "Putin <script>alert(1)</script> {{ 7*7 }} [x](javascript:alert(1))"
        )
        + "notes: |\n  <img src=x onerror=alert(1)> [y](JaVaScRiPt:alert(1)) [z](data:text/html;base64,xx)"
        + " [v](vbscript:x) {% raw %}\n"
    )
    content = make_content(tmp_path / "content", {"gift.yaml": card})
    build(content, tmp_path / "site")
    for name in ["facts/gift.html", "index.html", "search-index.js"]:
        text = (tmp_path / "site" / name).read_text()
        assert "<script>alert" not in text
        assert "<img" not in text
        assert not re.search(r"href=\"(?i:javascript|vbscript|data):", text)
    page = (tmp_path / "site/facts/gift.html").read_text()
    assert "{{ 7*7 }}" in page and "49" not in page
    assert "{% raw %}" in page
    assert "&lt;script&gt;" in page


def test_dossier_json_holds_every_fact_and_anchor(tmp_path: Path) -> None:
    build(REPO / "content", tmp_path / "site")
    doc = json.loads((tmp_path / "site/dossier.json").read_text())
    facts = list((REPO / "content/facts").rglob("*.yaml"))
    assert len(doc["facts"]) == len(facts)
    source_text = {s["id"]: (REPO / "content/sources" / f"{s['id']}.txt").read_text() for s in doc["sources"]}
    for fact in doc["facts"]:
        for ev in fact["evidence"]:
            assert ev["anchor"].startswith(f"sources/{ev['source']}.html#q-{fact['id']}-")
            start, end = ev["spans"][0]
            assert " ".join(source_text[ev["source"]][start:end].split()) in ev["passage"]
            assert ev["line"] == source_text[ev["source"]].count("\n", 0, start) + 1
            assert ev["start"] < ev["end"]


class _Links(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.ids: set[str] = set()
        self.refs: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        for name, value in attrs:
            if name == "id" and value:
                self.ids.add(value)
            if name in ("href", "src") and value:
                self.refs.append(value)


def test_every_internal_link_and_anchor_resolves(tmp_path: Path) -> None:
    out = tmp_path / "site"
    build(REPO / "content", out)
    pages: dict[Path, _Links] = {}
    for page in out.rglob("*.html"):
        parser = _Links()
        parser.feed(page.read_text())
        pages[page.resolve()] = parser
    checked = 0
    for page, parser in pages.items():
        for ref in parser.refs:
            parts = urlsplit(ref)
            if parts.scheme or ref.startswith("//"):
                assert parts.scheme in ("http", "https"), ref
                continue
            assert not ref.startswith("/"), f"absolute link {ref} in {page}"
            target = (page.parent / unquote(parts.path)).resolve() if parts.path else page
            assert target.is_file(), f"{page.relative_to(out.resolve())}: {ref} leads nowhere"
            assert target.is_relative_to(out.resolve())
            if parts.fragment:
                assert parts.fragment in pages[target].ids, f"{page}: #{parts.fragment} missing in {target}"
            checked += 1
    assert checked > 500


def test_every_quote_is_highlighted_on_its_source_page(tmp_path: Path) -> None:
    build(REPO / "content", tmp_path / "site")
    doc = json.loads((tmp_path / "site/dossier.json").read_text())
    for fact in doc["facts"]:
        for ev in fact["evidence"]:
            page = (tmp_path / "site" / ev["anchor"].split("#")[0]).read_text()
            anchor = ev["anchor"].split("#")[1]
            assert re.search(
                rf'<span class="anchor" id="{anchor}"></span>(<span class="anchor"[^>]*></span>)*<mark', page
            )
            assert re.search(rf'<mark data-q="[^"]*\b{re.escape(anchor)}\b', page)


def test_templates_beside_content_override_by_name(tmp_path: Path) -> None:
    content = make_content(tmp_path / "content")
    write(
        tmp_path, "templates/404.html", "{% extends 'base.html' %}{% block main %}<h1>Lost</h1>{% endblock %}"
    )
    build(content, tmp_path / "site")
    assert "<h1>Lost</h1>" in (tmp_path / "site/404.html").read_text()
    assert "Page not found" not in (tmp_path / "site/404.html").read_text()
    assert "<h1>" in (tmp_path / "site/index.html").read_text()


def test_template_error_is_reported_plainly(tmp_path: Path) -> None:
    content = make_content(tmp_path / "content")
    write(tmp_path, "templates/404.html", "{% extends 'base.html' %}{% block main %}{{ nope }}{% endblock %}")
    status, _, err = run("build", str(content), "--out", str(tmp_path / "site"))
    assert status == 1
    assert "error[template]" in err and "nope" in err
    assert not (tmp_path / "site").exists()


def test_source_date_epoch_is_the_only_clock(tmp_path: Path) -> None:
    content = make_content(tmp_path / "content")
    write(
        content,
        "dossier.yaml",
        "title: T\nbase_url: https://example.org/\nsections: [{id: gift, title: G}]\n",
    )
    result = CliRunner(env={"SOURCE_DATE_EPOCH": "1700000000"}).invoke(
        main, ["build", str(content), "--out", str(tmp_path / "a")]
    )
    assert result.exit_code == 0, result.output
    assert json.loads((tmp_path / "a/dossier.json").read_text())["built"] == "2023-11-14T22:13:20+00:00"
    assert "<lastmod>2023-11-14</lastmod>" in (tmp_path / "a/sitemap.xml").read_text()
    result = CliRunner(env={"SOURCE_DATE_EPOCH": None}).invoke(
        main, ["build", str(content), "--out", str(tmp_path / "b")]
    )
    assert json.loads((tmp_path / "b/dossier.json").read_text())["built"] is None
    assert "lastmod" not in (tmp_path / "b/sitemap.xml").read_text()


@pytest.mark.parametrize("value", ["abc", "-5", "1.5", "99999999999999999999"])
def test_malformed_source_date_epoch_is_a_clean_error(tmp_path: Path, value: str) -> None:
    content = make_content(tmp_path / "content")
    result = CliRunner(env={"SOURCE_DATE_EPOCH": value}).invoke(
        main, ["build", str(content), "--out", str(tmp_path / "s")]
    )
    assert result.exit_code == 2
    assert "SOURCE_DATE_EPOCH" in result.stderr
    assert "Traceback" not in result.output
    assert not (tmp_path / "s").exists()


def _rendering_in_two(monkeypatch: pytest.MonkeyPatch) -> None:
    """A build's pages, claims and quotes' placements set to be made by two processes,
    however few (the pages seven to a chunk)."""
    from dossier import build as build_module
    from dossier import generators
    from dossier import render as render_module

    monkeypatch.setattr(build_module, "PARALLEL_PAGES", 1)
    monkeypatch.setattr(build_module, "_CHUNK", 7)
    monkeypatch.setattr(render_module, "PARALLEL_CLAIMS", 1)  # claims rendered in two
    monkeypatch.setattr(render_module, "plain_claim", lambda text: None)  # (by markdown-it, all)
    monkeypatch.setattr(generators, "PARALLEL_PLACE", 1)  # quotes placed in two


def test_two_process_rendering_gives_the_same_site(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from dossier import build as build_module
    from dossier import parallel

    build(REPO / "content", tmp_path / "one")
    _rendering_in_two(monkeypatch)
    forks: list[object] = []
    real = parallel.each_in_two

    def counting(fn: object, items: object) -> object:
        forks.append(fn)
        return real(fn, items)  # type: ignore[arg-type]

    monkeypatch.setattr(parallel, "each_in_two", counting)  # (in_two calls it too)
    real_ahead = parallel.ahead

    def counting_ahead(*fns: Any) -> Any:
        forks.append(fns)
        return real_ahead(*fns)

    monkeypatch.setattr(parallel, "ahead", counting_ahead)
    real_claimed = parallel.each_claimed

    def counting_claimed(fn: Any, items: Any, across: Any = None, *, here: bool = False) -> Any:
        forks.append(fn)
        return real_claimed(fn, items, across, here=here)

    monkeypatch.setattr(parallel, "each_claimed", counting_claimed)
    monkeypatch.setattr(build_module, "PARALLEL_DIGESTS", 1)  # half the pages' digests in a child
    if not hasattr(os, "fork"):
        pytest.skip("this system cannot fork")
    monkeypatch.setattr(parallel, "usable", lambda: True)  # (one core is enough to fork)
    build(REPO / "content", tmp_path / "two")
    assert len(forks) == 4  # placements, claims, digests, pages
    assert tree(tmp_path / "one") == tree(tmp_path / "two")


@pytest.mark.parametrize("how", ["no process can be forked", "every child dies"])
def test_a_build_whose_helpers_fail_makes_everything_itself(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, how: str
) -> None:
    """Every step that shares its work with forked processes (cards parsed and quotes
    searched, placed and rendered, pages' digests, pages, data files), where none can be
    forked (a limit on processes) or each dies before it sent anything: the build does
    the work itself, and gives the same site and the same problems (it once failed: the
    refused fork as 'cannot write the site', the dead child as an internal error)."""
    import errno

    from dossier import build as build_module
    from dossier import check, data, parallel, readers

    if not hasattr(os, "fork"):
        pytest.skip("this system cannot fork")
    facts = {f"f{i}.yaml": CARD.replace("Putin gave Kim a car.", f"Claim {i}.") for i in range(6)}
    # (a comment after a value: outside the plain cards' dialect, for the general reader)
    facts["g.yaml"] = CARD.replace("entities: [putin]", "entities: [putin]  # the giver")
    content = make_content(tmp_path / "content", facts)
    alone = build(content, tmp_path / "alone")
    _rendering_in_two(monkeypatch)
    for module, name in [
        (readers, "PARALLEL_CARDS"),
        (check, "PARALLEL_MIN"),
        (check, "PARALLEL_READ"),
        (build_module, "PARALLEL_DIGESTS"),
        (data, "PARALLEL_ENTRIES"),
    ]:
        monkeypatch.setattr(module, name, 1)
    monkeypatch.setattr(parallel, "usable", lambda: True)
    tried: list[int] = []
    if how == "no process can be forked":

        def refused() -> int:
            tried.append(1)
            raise OSError(errno.EAGAIN, "Resource temporarily unavailable")

        monkeypatch.setattr(os, "fork", refused)
    else:
        parent, real = os.getpid(), os.fork

        def dying(fd: int, data: bytes) -> None:  # (only a child sends)
            assert os.getpid() != parent
            os._exit(9)

        def counted() -> int:
            tried.append(1)
            return real()

        monkeypatch.setattr(parallel, "_send", dying)
        monkeypatch.setattr(os, "fork", counted)
    here = build(content, tmp_path / "here")
    # forks asked for: the sources read (one child), the cards parsed (one, sharing them),
    # quotes searched (two), placed (two), claims (two), the pages' digests, the pages (two),
    # the data files' entries (two)
    assert len(tried) == 13
    assert here.check.problems == alone.check.problems
    assert tree(tmp_path / "alone") == tree(tmp_path / "here")
    result = CliRunner().invoke(main, ["build", str(content), "--out", str(tmp_path / "cli")])
    assert result.exit_code == 0, result.output
    assert tree(tmp_path / "alone") == tree(tmp_path / "cli")


def _shared_entries(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A dossier of six facts built into ``alone``, and the data files' entries set to be
    shared with a child from one entry on (in three runs)."""
    from dossier import data, parallel

    if not hasattr(os, "fork"):
        pytest.skip("this system cannot fork")
    facts = {f"f{i}.yaml": CARD.replace("Putin gave Kim a car.", f"Claim {i}.") for i in range(6)}
    content = make_content(tmp_path / "content", facts)
    build(content, tmp_path / "alone")
    monkeypatch.setattr(data, "PARALLEL_ENTRIES", 1)
    monkeypatch.setattr(data, "ENTRY_RUNS", 3)
    monkeypatch.setattr(parallel, "usable", lambda: True)
    return content


def test_data_files_made_in_runs_shared_with_a_child_are_the_same(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """dossier.json and the search index with their entries made in runs, every other one
    by a forked process: the same files, from nothing, and in a full build that takes the
    unchanged facts' entries from the last build's files and makes the edited one's."""
    import time

    from dossier import build as build_module
    from dossier import cache as cache_module
    from dossier import parallel

    content = _shared_entries(tmp_path, monkeypatch)
    shared: list[object] = []
    real = parallel.each_shared
    monkeypatch.setattr(parallel, "each_shared", lambda fn, items: shared.append(items) or real(fn, items))
    build(content, tmp_path / "shared")
    assert tree(tmp_path / "alone") == tree(tmp_path / "shared")
    assert len(shared) == 2  # (the two data files)
    # A full build (no update: UPDATE_MAX 0) after an edit: the other entries taken.
    store = cache_module.Cache()
    build(content, tmp_path / "kept", cache=store)
    time.sleep(0.01)
    write(content / "facts", "f3.yaml", CARD.replace("Putin gave Kim a car.", "Claim three, edited."))
    monkeypatch.setattr(build_module, "UPDATE_MAX", -1)
    shared.clear()
    build(content, tmp_path / "kept", cache=store)
    assert [len(items) for items in shared] == [1, 1]  # (one entry to make in each, one run)
    build(content, tmp_path / "fresh")
    assert tree(tmp_path / "kept") == tree(tmp_path / "fresh")


@pytest.mark.parametrize("how", ["the fork fails", "the child dies"])
def test_data_files_are_made_here_when_their_child_cannot_make_them(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, how: str
) -> None:
    """No process to share the entries with (a fork refused: too many processes), or one
    that dies: the build makes them itself, the same files."""
    import errno

    from dossier import data

    content = _shared_entries(tmp_path, monkeypatch)
    if how == "the fork fails":

        def refused() -> int:
            raise OSError(errno.EAGAIN, "Resource temporarily unavailable")

        monkeypatch.setattr(os, "fork", refused)
    else:
        parent, real = os.getpid(), data._encoded

        def dying(*args: Any) -> bytes:
            if os.getpid() != parent:
                os._exit(9)
            return real(*args)

        monkeypatch.setattr(data, "_encoded", dying)
    build(content, tmp_path / "here")
    assert tree(tmp_path / "alone") == tree(tmp_path / "here")


def test_an_entry_asked_for_out_of_turn_is_made_there_and_then(monkeypatch: pytest.MonkeyPatch) -> None:
    from dossier import data, parallel

    if not hasattr(os, "fork"):
        pytest.skip("this system cannot fork")
    monkeypatch.setattr(data, "PARALLEL_ENTRIES", 1)
    monkeypatch.setattr(parallel, "usable", lambda: True)
    views = {fid: fid for fid in "abcde"}
    made = lambda v: f"<{v}@{os.getpid()}>"  # noqa: E731
    ahead = data._Ahead(tuple("abcde"), str, {"b": 0}, made, views)  # type: ignore[arg-type]  # (b: held)
    try:
        got = [ahead.entry(fid).decode() for fid in "abcde"]
    finally:
        ahead.close()
    assert [g[1] for g in got] == list("abcde")
    assert got[1] == f"<b@{os.getpid()}>"  # (not one of those made ahead)


def test_placements_kept_are_looked_up_once_each(monkeypatch: pytest.MonkeyPatch) -> None:
    """A build that has every quote's placement kept asks the kept ones once a quote (where
    two processes could place new ones, it asks whether each is new; the view then finds
    it where that look put it), and makes the same views as a build placing them anew."""
    from dossier import generators, parallel
    from dossier.check import check
    from dossier.shards import Shards

    result = check(REPO / "content")
    placed = generators.generate(result)
    asked: list[object] = []

    class Counted(Shards):
        def get(self, key: object, default: object = None) -> object:
            asked.append(key)
            return super().get(key, default)

    monkeypatch.setattr(parallel, "usable", lambda: True)  # (place_new looks first)
    again = generators.generate(result, Counted(placed.placements.items()))
    assert len(asked) == len(set(asked)) == len(placed.placements)
    assert again.facts == placed.facts and again.sources == placed.sources


class _Inputs:
    """What ``build._digests`` asks of a page maker: each page's digest, here its name and
    the process that made it; in a child, optionally dying instead."""

    def __init__(self, die_in_a_child: bool = False) -> None:
        self.parent, self.die = os.getpid(), die_in_a_child

    def inputs(self, kind: str, index: int) -> str:
        if self.die and os.getpid() != self.parent:
            os._exit(3)
        return f"{kind}{index}@{os.getpid()}"


@pytest.mark.parametrize("how", ["forked", "no fork", "the child dies"])
def test_page_digests_made_half_in_a_child_come_in_order(monkeypatch: pytest.MonkeyPatch, how: str) -> None:
    from contextlib import contextmanager

    from dossier import build as build_module
    from dossier import parallel

    if not hasattr(os, "fork"):
        pytest.skip("this system cannot fork")
    monkeypatch.setattr(build_module, "PARALLEL_DIGESTS", 1)
    monkeypatch.setattr(parallel, "usable", lambda: True)
    if how == "no fork":

        @contextmanager
        def cannot(*fns: Any) -> Any:
            yield None

        monkeypatch.setattr(parallel, "ahead", cannot)
    items = [("list", 0), *(("fact", i) for i in range(7)), ("source", 0), ("source", 1)]
    maker = _Inputs(die_in_a_child=how == "the child dies")
    got = build_module._digests(maker, items)  # type: ignore[arg-type]
    assert [g.split("@")[0] for g in got] == [f"{kind}{i}" for kind, i in items]
    ours, theirs = ({g.split("@")[1] for g in half} for half in (got[::2], got[1::2]))
    me = str(os.getpid())
    assert ours == {me}
    assert (me not in theirs) if how == "forked" else (theirs == {me})  # (else made here)


class _Html:
    """An object that says it is HTML already."""

    def __html__(self) -> str:
        return "<b>kept</b>"


class _Str(str):
    """A string subclass (not a plain str: escaped as markupsafe escapes it)."""

    def __html__(self) -> str:
        return "<i>own</i>"


@given(st.one_of(st.text(), st.integers(), st.floats(allow_nan=False), st.none(), st.booleans()))
def test_the_templates_escape_is_markupsafes(value: object) -> None:
    import markupsafe

    got = render.AUTOESCAPE(value)
    assert type(got) is markupsafe.Markup
    assert got == markupsafe.escape(value)


class _Int(int):
    """An int subclass that prints as markup would (its own text is escaped)."""

    def __str__(self) -> str:
        return "<b>7</b>"


def test_the_templates_escape_is_markupsafes_for_markup_and_html_objects() -> None:
    import markupsafe

    class _Markup(markupsafe.Markup):
        def __html__(self) -> str:
            return "<s>own</s>"

    values = [markupsafe.Markup("<b>x</b>"), _Html(), _Str("<u>x</u>"), _Str("plain"), _Markup("<i>x</i>")]
    for value in [*values, _Int(7), -12, 0, True]:
        got = render.AUTOESCAPE(value)
        assert type(got) is markupsafe.Markup and got == markupsafe.escape(value), value
    assert render.AUTOESCAPE(_Int(7)) == "&lt;b&gt;7&lt;/b&gt;"
    assert render.AUTOESCAPE(_Markup("<i>x</i>")) == "<s>own</s>"


def test_compiled_templates_call_the_fast_escape(tmp_path: Path) -> None:
    renderer = render.Renderer([tmp_path])
    (tmp_path / "t.html").write_text(
        "{{ a }}|{{ b }}|{% macro m(x) %}{{ x }}{% endmacro %}{{ m(a) }}|{{ c }}"
    )
    template = renderer.env.get_template("t.html")
    assert template.root_render_func.__globals__["escape"] is render.AUTOESCAPE
    out = renderer.render("t.html", "t.html", a="<a&'\">", b=3, c=_Html())
    assert out == b"&lt;a&amp;&#39;&#34;&gt;|3|&lt;a&amp;&#39;&#34;&gt;|<b>kept</b>"


#: Templates that give out text and values in every way Jinja's code does: blocks of a
#: template that extends another (and output outside them, which is dropped), loops with
#: ``loop``, conditions, ``set`` and ``filter`` blocks, macros with ``caller``, includes,
#: whitespace control, and a value that is Markup, an int, None.
_CODEGEN_THEME = {
    "base.html": "<t>{% block title %}T {{ x }}{% endblock %}</t>\n{% block main %}{% endblock %}"
    "|{{ page }}\n",
    "child.html": (
        '{% extends "base.html" %}{% from "m.html" import m %}outside {{ x }}\n'
        "{% block title %}[{{ super() }}]{% endblock %}"
        "{% block main %}{% for i in xs %}<{{ i }}>{{ loop.index }}/{{ loop.length }}"
        "{% if i is even %}e{{ i }}{% else %}o{% endif %} {%- endfor %}\n"
        "{% set y %}s{{ x }}{{ n }}s{% endset %}{{ y }}{{ y | length }}"
        "{% call m(x) %}c{{ x }}{{ h }}{% endcall %}{% include 'part.html' %}"
        "{% filter upper %}a{{ x }}b{{ none }}{% endfilter %}{% endblock %}"
    ),
    "m.html": "{% macro m(v) %}[{{ v }} {{ caller() }} {{ v }}]{% endmacro %}",
    "part.html": "p{{ x }}{{ n + 1 }}q\n",
}


def test_templates_give_out_what_jinjas_own_code_does(tmp_path: Path) -> None:
    """The code generator that joins each run of text and values into one ``yield``
    (``render._CodeGenerator``) renders every template, the shipped theme's pages too, to
    the bytes Jinja's own generated code gives; and it is the one in use (fewer yields)."""
    import jinja2.compiler

    for name, text in _CODEGEN_THEME.items():
        (tmp_path / name).write_text(text)
    ours, jinjas = render.Renderer([tmp_path]), render.Renderer([tmp_path])
    jinjas.env.code_generator_class = jinja2.compiler.CodeGenerator
    values = {"x": "<&>", "xs": [1, 2, 3], "n": 7, "h": markupsafe.Markup("<b>h</b>"), "none": None}
    got = ours.render("child.html", "a/child.html", **values)
    assert got == jinjas.render("child.html", "a/child.html", **values)
    assert b"outside" not in got and b"[T &lt;&amp;&gt;]" in got and b"<b>h</b>" in got
    source = (tmp_path / "child.html").read_text()
    yields = [r.env.compile(source, raw=True).count("yield") for r in (ours, jinjas)]
    assert yields[0] < yields[1]
    build(REPO / "content", tmp_path / "ours")
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(render._Environment, "code_generator_class", jinja2.compiler.CodeGenerator)
        build(REPO / "content", tmp_path / "jinjas")
    assert tree(tmp_path / "ours") == tree(tmp_path / "jinjas")


def test_a_template_failing_inside_a_run_of_output_names_its_line(tmp_path: Path) -> None:
    """A value that fails in the middle of a run of text and values (one ``yield`` now)
    is reported at its own line of the template."""
    (tmp_path / "t.html").write_text("a {{ x }}\nb {{ x }}\nc {{ 1 // zero }} d {{ x }}\n")
    with pytest.raises(render.TemplateRenderError) as caught:
        render.Renderer([tmp_path]).render("t.html", "t.html", x=1, zero=0)
    assert caught.value.lineno == 3 and "ZeroDivisionError" in str(caught.value)


def test_a_link_in_a_claim_is_never_a_link_in_a_link(tmp_path: Path) -> None:
    """Lists link each claim to its page: a link the claim holds shows as its words there
    (a link in a link is not HTML); on the fact's own page it stays a link."""
    from html.parser import HTMLParser

    from .conftest import CARD, make_content

    claim = "Putin gave Kim a car, [said](https://example.org/said) the agency."
    related = CARD.replace("Putin gave Kim a car.", '"Another claim."') + "related: [gift]\n"
    gift = CARD.replace("Putin gave Kim a car.", f'"{claim}"')
    content = make_content(tmp_path / "content", {"gift.yaml": gift, "other.yaml": related})
    assert build(content, tmp_path / "site").published is not None

    class Nesting(HTMLParser):
        def __init__(self) -> None:
            super().__init__()
            self.depth = self.deepest = 0

        def handle_starttag(self, tag: str, attrs: object) -> None:
            if tag == "a":
                self.depth += 1
                self.deepest = max(self.deepest, self.depth)

        def handle_endtag(self, tag: str) -> None:
            if tag == "a":
                self.depth -= 1

    for page in sorted((tmp_path / "site").rglob("*.html")):
        parser = Nesting()
        parser.feed(page.read_text())
        assert parser.deepest <= 1, page.name
    assert 'href="https://example.org/said"' in (tmp_path / "site/facts/gift.html").read_text()
    assert "said</a> the agency" not in (tmp_path / "site/index.html").read_text()


def test_ids_made_from_the_content_never_meet_the_pages_own(tmp_path: Path) -> None:
    """A section or entity may have any valid id: it never takes the id of the page's own
    parts (the search box, the main content, the contents), nor of another's heading."""
    from html.parser import HTMLParser

    from .conftest import CARD, make_content, write

    card = CARD.replace("section: gift", "section: search")
    content = make_content(tmp_path / "content", {"gift.yaml": card})
    ids = ("main", "search", "search-input", "search-status", "search-results")
    ids += ("toc-h", "other-facts", "summary-h")
    sections = "".join(f"  - id: {i}\n    title: Section {i}\n" for i in ids)
    write(content, "dossier.yaml", "title: Test dossier\nsections:\n" + sections)
    write(content, "entities.yaml", "putin:\n  name: Vladimir Putin\na:\n  name: A\na-h:\n  name: A H\n")
    assert build(content, tmp_path / "site").published is not None

    class Ids(HTMLParser):
        def __init__(self) -> None:
            super().__init__()
            self.seen: list[str] = []

        def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
            self.seen += [v for k, v in attrs if k == "id" and v is not None]

    for page in sorted((tmp_path / "site").rglob("*.html")):
        parser = Ids()
        parser.feed(page.read_text())
        assert len(parser.seen) == len(set(parser.seen)), (page.name, sorted(parser.seen))
