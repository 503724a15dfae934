"""The quote cache: reused only while the quote, the source's bytes and the settings match."""

from __future__ import annotations

import marshal
import os
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from dossier import cache, readers, render
from dossier import survey as surveys
from dossier.build import build
from dossier.check import check
from dossier.cli import main

from .conftest import CARD, SOURCE_TEXT, make_content, write


def test_second_check_is_answered_from_the_cache(content: Path) -> None:
    store = cache.Cache()
    first = check(content, cache=store)
    assert store.hits == 0 and len(store.entries) == 1
    again = cache.load_bytes(cache.dump(store))
    second = check(content, cache=again)
    assert again.hits == 1
    assert second.matches == first.matches
    assert second.problems == first.problems == []


def test_changing_a_source_reverifies_the_quotes_from_it(tmp_path: Path) -> None:
    content = make_content(tmp_path / "content", pin=False)
    store = cache.Cache()
    check(content, cache=store)
    write(content, "sources/wire.txt", SOURCE_TEXT.replace("Russian\u2011made car", "Russian-built car"))
    store.hits = 0
    result = check(content, cache=store)
    assert store.hits == 0
    assert [p.code for p in result.errors] == ["quote-not-found"]


def test_changing_the_settings_reverifies(tmp_path: Path) -> None:
    content = make_content(tmp_path / "content")
    store = cache.Cache()
    assert check(content, cache=store).errors == []
    write(content, "dossier.yaml", "title: T\nsections: [{id: gift, title: G}]\nquotes: {min_words: 20}\n")
    store.hits = 0
    assert [p.code for p in check(content, cache=store).errors] == ["quote-too-short"]
    assert store.hits == 0


def test_a_moved_span_is_not_taken_from_the_cache(tmp_path: Path) -> None:
    content = make_content(tmp_path / "content", pin=False)
    store = cache.Cache()
    first = check(content, cache=store)
    write(content, "sources/wire.txt", "Preface.\n\n" + SOURCE_TEXT)
    second = check(content, cache=store)
    assert second.matches[("gift", 0)].start == first.matches[("gift", 0)].start + len("Preface.\n\n")


def test_a_stored_part_is_read_mapped_and_decoded_as_its_bytes(tmp_path: Path) -> None:
    path = tmp_path / "part.marshal"
    assert cache.read_bytes(path) is None  # missing
    path.write_bytes(b"")
    assert cache.read_bytes(path) == b""  # (an empty file cannot be mapped)
    value = ("stamp", {"a": (1, 2.5, b"x")}, list(range(1000)))
    path.write_bytes(marshal.dumps(value))
    mapped = cache.read_bytes(path)
    assert mapped is not None and marshal.loads(mapped) == value
    path.unlink()
    path.mkdir()
    assert cache.read_bytes(path) is None  # a folder where the file goes
    assert cache.load(path, path) == cache.Cache()
    assert cache.load_verdict(path) is None


def test_a_part_on_a_file_system_that_cannot_map_is_read(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import errno
    import mmap

    def cannot(*args: object, **kwargs: object) -> None:
        raise OSError(errno.ENODEV, "No such device")

    path = tmp_path / "part.marshal"
    path.write_bytes(marshal.dumps(("stamp", 1)))
    monkeypatch.setattr(mmap, "mmap", cannot)
    assert cache.read_bytes(path) == marshal.dumps(("stamp", 1))


def test_a_cache_of_mapped_folder_parts_dumps_whole(content: Path, tmp_path: Path) -> None:
    store = cache.Cache()
    build(content, tmp_path / "site", cache=store)
    parts = marshal.loads(cache.dump(store))[2]
    assert parts
    for key, data in parts.items():
        (tmp_path / f"{len(key)}.marshal").write_bytes(data)
    again = cache.load_bytes(cache.dump(store))
    again.read_folder = lambda key: cache.read_bytes(tmp_path / f"{len(key)}.marshal")
    assert marshal.loads(cache.dump(again))[2] == parts  # (marshal writes a mapping as its bytes)


def test_unreadable_or_stale_cache_is_ignored(content: Path, tmp_path: Path) -> None:
    store = cache.Cache()
    build(content, tmp_path / "site", cache=store)
    check_part, build_part = cache.dump_parts(store, always=True)
    path, build_path = tmp_path / "c.marshal", tmp_path / "b.marshal"
    path.write_bytes(check_part or b"")
    build_path.write_bytes(build_part)
    loaded = cache.load(path, build_path)
    assert loaded.entries and loaded.cards and loaded.placements and loaded.folders  # sound
    path.write_bytes(b"\x00garbage")
    build_path.write_bytes(build_part[:-7])
    assert cache.load(path, build_path) == cache.Cache()
    from dossier import __version__

    stale = __version__.encode() + b"-older"
    path.write_bytes((check_part or b"").replace(__version__.encode(), stale))
    build_path.write_bytes(build_part.replace(__version__.encode(), stale))
    assert cache.load(path, build_path) == cache.Cache()
    assert cache.load(tmp_path / "missing", tmp_path / "missing too") == cache.Cache()


def test_the_check_part_is_written_only_when_it_changed(content: Path) -> None:
    store = cache.Cache()
    check(content, cache=store)
    first, _ = cache.dump_parts(store)
    assert first is not None
    again = cache.load_bytes(cache.dump(store))
    check(content, cache=again)
    assert cache.dump_parts(again)[0] is None  # nothing new, nothing dropped
    write(content, "facts/gift.yaml", CARD.replace("Putin gave Kim a car.", "Another claim."))
    check(content, cache=again)
    assert cache.dump_parts(again)[0] is not None


def test_cli_keeps_the_cache_in_the_cache_folder(in_tmp: Path, monkeypatch: object) -> None:
    make_content(in_tmp / "content")
    folder = in_tmp / "cache-here"
    runner = CliRunner(env={"DOSSIER_CACHE_DIR": str(folder)})
    assert runner.invoke(main, ["check", "content"]).exit_code == 0
    [stored] = folder.glob("quotes-*")
    assert len(cache.load(stored).entries) == 1
    assert runner.invoke(main, ["check", "content", "--no-cache"]).exit_code == 0
    assert not (in_tmp / "content" / ".dossier-cache").exists()


def test_deleted_card_disappears_from_every_page(tmp_path: Path) -> None:
    content = make_content(
        tmp_path / "content",
        {"gift.yaml": CARD, "other.yaml": CARD.replace("claim: Putin gave", "claim: Vlad gave")},
    )
    store = cache.Cache()
    build(content, tmp_path / "site", cache=store)
    assert "Vlad gave" in (tmp_path / "site/index.html").read_text()
    (content / "facts/other.yaml").unlink()
    build(content, tmp_path / "site", cache=store)
    assert not (tmp_path / "site/facts/other.html").exists()
    for page in (tmp_path / "site").rglob("*"):
        if page.is_file():
            assert "Vlad gave" not in page.read_text(errors="replace") and "other.html" not in page.read_text(
                errors="replace"
            ), page


def test_changing_a_template_rerenders_every_page(tmp_path: Path) -> None:
    content = make_content(tmp_path / "content")
    store = cache.Cache()
    build(content, tmp_path / "site", cache=store)
    theme = tmp_path / "templates"
    base = (Path(__file__).resolve().parent.parent / "templates/base.html").read_text()
    write(theme, "base.html", base.replace("<body>", '<body data-theme="custom">'))
    build(content, tmp_path / "site", cache=store)
    pages = list((tmp_path / "site").rglob("*.html"))
    assert pages and all('data-theme="custom"' in p.read_text() for p in pages)


def test_two_process_verification_gives_the_same_result(tmp_path: Path, monkeypatch: object) -> None:
    import pytest

    from dossier import check as check_module
    from dossier import parallel

    repo = Path(__file__).resolve().parent.parent
    alone = check(repo / "content")
    mp = pytest.MonkeyPatch()
    split: list[list[list[int]]] = []
    real = parallel.each_claimed

    def counted(fn: Any, runs: Any, across: Any = None, *, here: bool = False) -> Any:
        split.append(runs)
        return real(fn, runs, across, here=here)

    beside: list[object] = []
    real_beside = parallel.beside

    def counted_beside(fn: Any) -> Any:
        beside.append(fn)
        return real_beside(fn)

    try:
        mp.setattr(check_module, "PARALLEL_MIN", 1)
        mp.setattr(check_module, "PARALLEL_READ", 1)  # (all but the cards read in a child)
        mp.setattr(parallel, "usable", _forkable)  # (one core is enough to fork)
        mp.setattr(parallel, "each_claimed", counted)
        mp.setattr(parallel, "beside", counted_beside)
        both = check(repo / "content")
    finally:
        mp.undo()
    [runs] = split  # the quotes searched by two children, in runs each claims when free
    assert len(runs) > 2 and all(runs)
    assert sorted(n for run in runs for n in run) == list(range(both.quote_count))  # each once
    assert len(beside) == 1
    assert both.matches == alone.matches
    assert both.problems == alone.problems
    # With the cards known to a cache and its quotes not, the sources are normalised by the
    # children searching them: the runs then take the quotes by source.
    store = cache.Cache()
    check(repo / "content", cache=store)
    store.entries = type(store.entries)()
    split.clear()
    try:
        mp.setattr(check_module, "PARALLEL_MIN", 1)
        mp.setattr(parallel, "usable", _forkable)
        mp.setattr(parallel, "each_claimed", counted)
        warm = check(repo / "content", cache=store)
    finally:
        mp.undo()
    [runs] = split
    assert warm.content is not None and warm.matches == alone.matches and warm.problems == alone.problems
    quoted = [ev.source.id for f in warm.content.facts.values() for ev in f.evidence]
    by_source = [quoted[n] for run in runs for n in run]
    assert by_source == sorted(by_source)
    # The keys were made by the children (the cache knew no quote): the same entries as
    # those one process makes.
    one = cache.Cache()
    check(repo / "content", cache=one)
    assert dict(store.entries.items()) == dict(one.entries.items()) and len(one.entries) > 0
    content = make_content(
        tmp_path / "content", {"a.yaml": CARD.replace("Russian-made car", "Russian-made tank")}
    )
    mp.setattr(check_module, "PARALLEL_MIN", 1)
    try:
        [problem] = check(content).errors
    finally:
        mp.undo()
    assert problem.code == "quote-not-found" and problem.nearest


def test_cards_come_back_from_the_cache_exactly(tmp_path: Path) -> None:
    repo = Path(__file__).resolve().parent.parent
    fresh = check(repo / "content")
    store = cache.Cache()
    check(repo / "content", cache=store)
    assert fresh.content is not None
    # every card, every source's metadata beside them, and dossier.yaml's and entities.yaml's trees
    assert len(store.cards) == len(fresh.content.facts) + len(fresh.content.sources) + 2
    again = cache.load_bytes(cache.dump(store))
    cached = check(repo / "content", cache=again)
    assert cached.content is not None and fresh.content is not None
    assert cached.content.facts == fresh.content.facts
    assert cached.problems == fresh.problems


def test_a_broken_card_is_cached_with_its_problems(tmp_path: Path) -> None:
    content = make_content(
        tmp_path / "content", {"a.yaml": CARD.replace("status: confirmed", "status: maybe")}
    )
    store = cache.Cache()
    first = check(content, cache=store)
    second = check(content, cache=cache.load_bytes(cache.dump(store)))
    assert [p.code for p in first.errors] == [p.code for p in second.errors] == ["invalid-value"]
    assert first.problems == second.problems
    write(content, "facts/a.yaml", CARD)
    assert check(content, cache=store).errors == []


def test_unchanged_pages_are_recognised_from_the_manifest_without_reading(
    tmp_path: Path, monkeypatch: object
) -> None:
    import pytest

    from dossier import publish

    content = make_content(tmp_path / "content")
    out = tmp_path / "site"
    store = cache.Cache()
    first = build(content, out, cache=store)
    assert first.published is not None and first.published.kept == 0
    mp = pytest.MonkeyPatch()

    def never(path: Path, *args: object) -> bool:
        raise AssertionError(f"read back {path}")

    mp.setattr(publish, "_same", never)
    try:
        second = build(content, out, cache=store)
    finally:
        mp.undo()
    assert second.published is not None
    assert second.published.written == 0 and second.published.kept == first.published.written
    # A page changed by hand (same size) is noticed: its mtime differs from the manifest's.
    page = out / "facts/gift.html"
    text = page.read_text()
    page.write_text(text.replace("Putin", "Pudin"))
    third = build(content, out, cache=store)
    assert third.published is not None and third.published.written == 1
    assert page.read_text() == text


def test_an_edit_that_keeps_size_and_mtime_is_still_seen(tmp_path: Path) -> None:
    import os

    content = make_content(tmp_path / "content")
    card = content / "facts/gift.yaml"
    store = cache.Cache()
    assert check(content, cache=store).errors == []
    st = card.stat()
    card.write_text(CARD.replace("status: confirmed", "status: confirmex"))  # same size
    os.utime(card, ns=(st.st_atime_ns, st.st_mtime_ns))  # and the same mtime
    assert card.stat().st_size == st.st_size and card.stat().st_mtime_ns == st.st_mtime_ns
    assert [p.code for p in check(content, cache=store).errors] == ["invalid-value"]


def test_unchanged_cards_are_not_read_again(tmp_path: Path, monkeypatch: object) -> None:
    import pytest

    from dossier import readers

    mp = pytest.MonkeyPatch()
    mp.setattr(surveys, "RACY_NS", 0)  # (settled at once: see the next test)
    content = make_content(tmp_path / "content")
    store = cache.Cache()
    check(content, cache=store)
    store = cache.load_bytes(cache.dump(store))
    reads: list[str] = []
    original = readers._Reader.read_bytes

    def counting(self: readers._Reader, path: Path, limit: int, *args: Any, **kwargs: Any) -> bytes | None:
        reads.append(path.name)
        return original(self, path, limit, *args, **kwargs)

    mp.setattr(readers._Reader, "read_bytes", counting)
    try:
        assert check(content, cache=store).errors == []
    finally:
        mp.undo()
    assert "gift.yaml" not in reads


def test_a_card_too_recent_to_vouch_for_is_read_again(tmp_path: Path) -> None:
    """Its stat is not kept while it could still change without its stat changing (a
    rewrite of the same size in the same tick of the clock): it is read until it settles."""
    import pytest

    from dossier import readers

    content = make_content(tmp_path / "content")
    card = content / "facts" / "gift.yaml"
    assert readers._stat_key(card) is None  # just written
    store = cache.Cache()
    check(content, cache=store)
    assert store.card_stats.get(surveys.display(card)) is None
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(surveys, "RACY_NS", 0)  # settled
        assert readers._stat_key(card) is not None
        check(content, cache=store)
        assert store.card_stats.get(surveys.display(card)) is not None


def test_a_cards_kept_stat_is_its_own_and_a_links_is_none(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The stat kept for a card read is the one its path's ``lstat`` gives (taken from the
    open file, before its bytes are read); a card that is a link gets none (the survey's
    ``lstat`` sees the link, not what it leads to), and is read again each time."""
    from dossier import readers

    content = make_content(tmp_path / "content")
    write(content, "elsewhere/linked.yaml", CARD.replace("Putin gave Kim a car.", "Linked."))
    (content / "facts" / "linked.yaml").symlink_to(content / "elsewhere" / "linked.yaml")
    monkeypatch.setattr(surveys, "RACY_NS", 0)  # (settled: vouched for)
    store = cache.Cache()
    result = check(content, cache=store)
    assert result.content is not None and set(result.content.facts) == {"gift", "linked"}
    plain, linked = (content / "facts" / name for name in ("gift.yaml", "linked.yaml"))
    assert tuple(store.card_stats.get(surveys.display(plain))[:-1]) == readers._stat_key(str(plain))
    assert store.card_stats.get(surveys.display(linked)) is None


def test_a_card_replaced_between_its_open_and_its_read_is_read_again(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The stat kept is the opened file's: a card replaced by another file once opened (the
    bytes read are the old one's) is not vouched for by the new file's stat, and the next
    check reads the new card."""
    content = make_content(tmp_path / "content")
    card = content / "facts" / "gift.yaml"
    monkeypatch.setattr(surveys, "RACY_NS", 0)  # (settled: vouched for)
    old_inode = card.stat().st_ino
    real_read, swapped = os.read, []

    def read(fd: int, n: int) -> bytes:
        if not swapped and os.fstat(fd).st_ino == old_inode:
            swapped.append(1)
            write(content, "facts/replacement.tmp", CARD.replace("Putin gave Kim a car.", "Replaced."))
            os.replace(content / "facts" / "replacement.tmp", card)
        return real_read(fd, n)

    store = cache.Cache()
    with monkeypatch.context() as mp:
        mp.setattr(os, "read", read)
        first = check(content, cache=store)
    assert swapped and first.content is not None
    assert first.content.facts["gift"].claim == "Putin gave Kim a car."  # (the bytes opened)
    kept = store.card_stats.get(surveys.display(card))
    assert kept is not None and kept[3] == old_inode
    again = check(content, cache=store)
    assert again.content is not None and again.content.facts["gift"].claim == "Replaced."


def test_unchanged_pages_are_not_rendered_again_but_every_dependent_page_is(
    tmp_path: Path, monkeypatch: object
) -> None:
    import pytest

    from dossier import render

    other = CARD.replace("claim: Putin gave Kim a car.", "claim: Another claim.") + "related: [gift]\n"
    content = make_content(tmp_path / "content", {"gift.yaml": CARD, "other.yaml": other})
    out = tmp_path / "site"
    store = cache.Cache()
    build(content, out, cache=store)
    rendered: list[str] = []
    original = render.Renderer.render

    def counting(self: render.Renderer, template: str, page: str, **context: object) -> bytes:
        rendered.append(page)
        return original(self, template, page, **context)

    mp = pytest.MonkeyPatch()
    mp.setattr(render.Renderer, "render", counting)
    try:
        build(content, out, cache=store)
        assert not [p for p in rendered if p.startswith(("facts/", "sources/"))]  # all kept
        rendered.clear()
        write(
            content, "facts/gift.yaml", CARD.replace("Putin gave Kim a car.", "Putin gave Kim a limousine.")
        )
        build(content, out, cache=store)
    finally:
        mp.undo()
    # The changed card and the card that shows it as related; the source page shows no
    # claims, so it stays. The comparison with a fresh build below proves nothing is stale.
    assert sorted(p for p in rendered if p.startswith(("facts/", "sources/"))) == [
        "facts/gift.html",
        "facts/other.html",
    ]
    assert "Putin gave Kim a limousine." in (out / "facts/other.html").read_text()
    fresh = tmp_path / "fresh"
    build(content, fresh)
    files = sorted(p.relative_to(fresh) for p in fresh.rglob("*") if p.is_file())
    assert files == sorted(p.relative_to(out) for p in out.rglob("*") if p.is_file())
    assert Path("dossier.json") in files and Path("search-index.js") in files
    for name in files:  # pages, dossier.json and the search index: nothing stale
        assert (fresh / name).read_bytes() == (out / name).read_bytes(), name


def test_manifests_are_kept_for_the_last_two_output_folders(tmp_path: Path) -> None:
    content = make_content(tmp_path / "content")
    store = cache.Cache()
    for name in ("a", "b", "c", "b"):
        build(content, tmp_path / name, cache=store)
    assert list(store.folders) == [str((tmp_path / n).resolve()) for n in ("c", "b")]
    assert set(store.sites) == set(store.folders)
    loaded = cache.load_bytes(cache.dump(store))
    assert not loaded.sites  # each is made into objects only when its folder is built
    for key in loaded.folders:
        loaded.open_site(key)
    assert loaded.sites == store.sites and loaded.ledgers == store.ledgers


def test_source_metadata_comes_back_from_the_cache_exactly(tmp_path: Path, monkeypatch: object) -> None:
    import pytest

    from dossier import readers

    content = make_content(tmp_path / "content", pin=False)
    write(
        content,
        "sources/wire.yaml",
        "title: Wire report\nurl: https://example.org/wire\npublished: 2024-02-20T08:21:00+08:00\n"
        "retrieved: 2024-02-21\nlanguage: en\nnotes: Saved *as is*.\nbogus: field\n",
    )
    store = cache.Cache()
    first = check(content, cache=store)
    assert [p.code for p in first.problems] == ["unknown-field"]
    again = cache.load_bytes(cache.dump(store))
    mp = pytest.MonkeyPatch()
    mp.setattr(readers._Reader, "record_of", lambda *a: (_ for _ in ()).throw(AssertionError("parsed")))
    try:
        second = check(content, cache=again)
    finally:
        mp.undo()
    assert second.problems == first.problems
    assert first.content is not None and second.content is not None
    assert second.content.sources == first.content.sources
    write(content, "sources/wire.yaml", "title: Wire report, renamed\n")  # new bytes: read again
    third = check(content, cache=again)
    assert third.content is not None and third.content.sources["wire"].title == "Wire report, renamed"


@pytest.mark.parametrize(
    "dossier_yaml, entities_yaml",
    [
        ("title: Test\nsections:\n  - id: gift\n    title: The gift\n", "putin: {name: Vladimir Putin}\n"),
        # problems of each kind the two files can have come back with their trees
        ("title: Test dossier\ntitle: Again\nbogus: 1\nquotes: {min_words: 3}\n", "putin:\n  name: [1\n"),
        ("", "putin:\n  name: Vladimir Putin\n  nmae: typo\n"),
        ("title: \"bad escape \\q\"\n", ""),
        ("title: Test\n", "\ufeffputin:\n  name: Vladimir Putin\n"),
    ],
)
def test_dossier_and_entities_come_back_from_the_cache_exactly(
    tmp_path: Path, dossier_yaml: str, entities_yaml: str
) -> None:
    content = make_content(tmp_path / "content")
    write(content, "dossier.yaml", dossier_yaml)
    write(content, "entities.yaml", entities_yaml)
    fresh = check(content)
    store = cache.Cache()
    assert check(content, cache=store).problems == fresh.problems
    again = cache.load_bytes(cache.dump(store))
    mp = pytest.MonkeyPatch()  # with the trees kept, no YAML is composed but the card's
    mp.setattr(readers, "parse", lambda *a: (_ for _ in ()).throw(AssertionError("composed")))
    try:
        second = check(content, cache=again)
    finally:
        mp.undo()
    assert second.problems == fresh.problems
    if fresh.content is None:
        assert second.content is None
    else:
        assert second.content is not None
        assert second.content.dossier == fresh.content.dossier
        assert second.content.entities == fresh.content.entities
    write(content, "dossier.yaml", "title: Renamed\n")  # new bytes: composed again
    third = check(content, cache=again)
    assert third.content is not None and third.content.dossier.title == "Renamed"


def test_a_tree_comes_back_from_its_record_exactly() -> None:
    from dossier import yamlread

    fixtures = Path(__file__).resolve().parent / "fixtures"
    repo = fixtures.parent.parent
    files = sorted([*fixtures.rglob("*.yaml"), *(repo / "content").rglob("*.yaml")])
    trees = 0
    for path in files:
        text, _ = yamlread.decode(path.read_bytes(), str(path))
        node, _ = yamlread.parse(text or "", str(path), allow_anchors=True)
        if node is None:
            continue
        record = yamlread.node_record(node)
        again = yamlread.node_from_record(marshal.loads(marshal.dumps(record)))
        assert repr(again) == repr(node), path  # (repr: the named tuples' types too)
        trees += 1
    assert trees > 50


def test_each_output_folder_is_kept_in_a_file_of_its_own(in_tmp: Path, monkeypatch: object) -> None:
    import pytest

    from dossier import build as build_module

    mp = pytest.MonkeyPatch()
    mp.setattr(surveys, "RACY_NS", 0)
    content = make_content(in_tmp / "content")
    runner = CliRunner(env={"DOSSIER_CACHE_DIR": str(in_tmp / "cache")})
    try:
        for name in ("a", "b", "c"):
            assert runner.invoke(main, ["build", "content", "--out", name]).exit_code == 0
        kept = {p.name for p in (in_tmp / "cache").glob("site-*.marshal")}
        assert kept == {cache.folder_path_for(content, str((in_tmp / n).resolve())).name for n in ("b", "c")}

        def full(*args: object, **kwargs: object) -> None:
            raise AssertionError("a full check ran")

        write(content, "facts/gift.yaml", CARD.replace("Putin gave Kim a car.", "Putin gave Kim a bus."))
        mp.setattr(build_module, "check", full)
        result = runner.invoke(main, ["build", "content", "--out", "b"])  # b's part, read from its file
        assert result.exit_code == 0, result.output
        assert "Kim a bus." in (in_tmp / "b/index.html").read_text()
    finally:
        mp.undo()


def test_a_build_that_did_nothing_does_not_write_its_folders_part(in_tmp: Path) -> None:
    import os

    import pytest


    mp = pytest.MonkeyPatch()
    mp.setattr(surveys, "RACY_NS", 0)
    make_content(in_tmp / "content")
    runner = CliRunner(env={"DOSSIER_CACHE_DIR": str(in_tmp / "cache")})
    try:
        assert runner.invoke(main, ["build", "content", "--out", "site"]).exit_code == 0
        (part,) = (in_tmp / "cache").glob("site-*.marshal")
        os.utime(part, ns=(1, 1))
        result = runner.invoke(main, ["build", "content", "--out", "site"])
        assert result.exit_code == 0 and "(0 files written" in result.stderr
        assert part.stat().st_mtime_ns == 1
    finally:
        mp.undo()


def test_a_build_that_did_nothing_leaves_the_check_part_undecoded(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """What is stored still stands, and is not decoded shard by shard to say so."""
    from dossier.shards import Shards

    monkeypatch.setattr(surveys, "RACY_NS", 0)
    content, out = make_content(tmp_path / "content"), tmp_path / "site"
    first = build(content, out, cache=(store := cache.Cache()))
    known = first.check.verdict(first.survey)
    store = cache.load_bytes(cache.dump(store))
    opened: list[int] = []
    real = Shards._shard

    def spy(self: Shards, i: int) -> dict[Any, Any]:
        opened.append(i)
        return real(self, i)

    monkeypatch.setattr(Shards, "_shard", spy)
    assert build(content, out, cache=store, known=known).unchanged is not None
    assert cache.dump_parts(store)[0] is None
    assert cache.parts_stand(store) is (store.build_cheap is not None)  # (the part's as loaded)
    assert opened == []
    assert cache.dump_parts(store, always=True)[0] is not None  # (and the spy sees decoding)
    assert opened


def _compiled_templates(monkeypatch: pytest.MonkeyPatch) -> list[str | None]:
    """The names of the templates Jinja compiles from now on."""
    import jinja2

    compiled: list[str | None] = []
    real = jinja2.Environment.compile

    def spy(self: jinja2.Environment, source: Any, name: str | None = None, *a: Any, **k: Any) -> Any:
        compiled.append(name)
        return real(self, source, name, *a, **k)

    monkeypatch.setattr(jinja2.Environment, "compile", spy)
    return compiled


def _built_once(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, forked: bool = False
) -> tuple[Path, Any, list[str | None]]:
    """A content folder built once with a cache (``forked``: its pages rendered by two
    processes); the templates compiled from then on."""
    from .test_update import Builds, make

    monkeypatch.setattr(surveys, "RACY_NS", 0)
    content = make(tmp_path / "content")
    builds = Builds(content, tmp_path / "site")
    with pytest.MonkeyPatch.context() as mp:
        if forked:
            forked_rendering(mp)
        builds()
    assert builds.store.templates  # kept in the build part
    return content, builds, _compiled_templates(monkeypatch)


def forked_rendering(monkeypatch: pytest.MonkeyPatch) -> None:
    """Pages rendered by two forked processes, however few."""
    import multiprocessing

    from dossier import build as build_module
    from dossier import parallel

    if "fork" not in multiprocessing.get_all_start_methods():
        pytest.skip("this system cannot fork")
    monkeypatch.setattr(build_module, "PARALLEL_PAGES", 1)
    monkeypatch.setattr(build_module, "_CHUNK", 3)
    monkeypatch.setattr(parallel, "usable", lambda: True)


@pytest.mark.parametrize("forked", [False, True])
def test_templates_compiled_once_are_kept_and_an_edited_one_is_compiled_again(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, forked: bool
) -> None:
    """Forked: the full build compiled every template in the process that keeps them,
    not only in the children that rendered the pages (and let them go)."""
    from .test_update import card

    content, builds, compiled = _built_once(tmp_path, monkeypatch, forked)
    write(content, "facts/f2.yaml", card(2, claim="Claim two, edited.", related=(3,), quote=("talks", 0)))
    assert builds().recalled is not None
    assert compiled == []
    assert builds.store.build_cheap is not None  # an update that compiled nothing: a few made anew
    shipped = (render.default_theme() / "404.html").read_text()
    edited = shipped.replace("<h1>Page not found</h1>", "<h1>Edited theme.</h1>")
    write(tmp_path, "templates/404.html", edited)
    assert builds().recalled is None  # a full build: the build part is written
    assert "404.html" in compiled
    assert builds.store.build_cheap is None
    assert "Edited theme." in (tmp_path / "site/404.html").read_text()


#: Templates Jinja cannot compile, each in its own way.
BROKEN_TEMPLATES = {
    "a syntax error": b"{% if %}",
    "not UTF-8": "<p>caf\u00e9</p>\n<p>{{ x }}</p>".encode("latin-1"),
    "an integer past Python's digits limit": b"{{ " + b"1" * 5000 + b" }}",
    "nesting past Python's recursion limit": b"{{ " + b"(" * 3000 + b"1" + b")" * 3000 + b" }}",
}


@pytest.mark.parametrize("how", BROKEN_TEMPLATES)
def test_a_template_no_page_uses_may_be_broken(tmp_path: Path, how: str) -> None:
    """Every template is compiled ahead of a full build's pages; one that does not
    compile is left to a page that uses it, and none does. One a page uses is the
    theme's error, with its file, never dossier's own."""
    content = make_content(tmp_path / "content")
    (tmp_path / "templates").mkdir()
    (tmp_path / "templates/notes.html").write_bytes(BROKEN_TEMPLATES[how])
    result = CliRunner().invoke(main, ["build", str(content), "--out", str(tmp_path / "site")])
    assert result.exit_code == 0, result.output
    (tmp_path / "templates/404.html").write_bytes(BROKEN_TEMPLATES[how])
    result = CliRunner().invoke(main, ["build", str(content), "--out", str(tmp_path / "site")])
    assert result.exit_code == 1
    assert f"{tmp_path / 'templates/404.html'}:1: error[template]" in result.output, result.output
    assert "internal error" not in result.output and "Traceback" not in result.output


@pytest.mark.parametrize(
    ("body", "said"),
    [
        ("<p>{{ 1 / 0 }}</p>", "ZeroDivisionError: division by zero"),
        ('<p>{{ "%d" % "x" }}</p>', "TypeError"),
        ('{% include "nope.html" %}', "TemplateNotFound: 'nope.html' not found"),
        ("{% macro m() %}{{ m() }}{% endmacro %}{{ m() }}", "RecursionError"),
    ],
)
def test_a_template_failing_as_it_renders_is_the_themes_error(tmp_path: Path, body: str, said: str) -> None:
    """Not "a bug in dossier", nor "cannot write the site": a template error, with its
    file and line where Jinja knows them; the previous site stays as it was."""
    content = make_content(tmp_path / "content")
    site = tmp_path / "site"
    assert CliRunner().invoke(main, ["build", str(content), "--out", str(site)]).exit_code == 0
    before = (site / "index.html").read_bytes()
    write(tmp_path, "templates/404.html", "\n" + body)
    result = CliRunner().invoke(main, ["build", str(content), "--out", str(site)])
    assert result.exit_code == 1, result.output
    assert "error[template]" in result.output and said in result.output, result.output
    assert "internal error" not in result.output and "cannot write" not in result.output
    if "include" not in body and "macro" not in body:
        assert f"{tmp_path / 'templates/404.html'}:2: error[template]" in result.output, result.output
    assert (site / "index.html").read_bytes() == before


@pytest.mark.parametrize("name", [b"notes-\xff.txt", b"notes-\xff.html"])
def test_a_theme_file_whose_name_is_not_utf8_is_part_of_the_theme(tmp_path: Path, name: bytes) -> None:
    import os

    content = make_content(tmp_path / "content")
    (tmp_path / "templates").mkdir()
    odd = tmp_path / "templates" / os.fsdecode(name)
    odd.write_text("<p>One.</p>")
    runner = CliRunner(env={"DOSSIER_CACHE_DIR": str(tmp_path / "cache")})
    result = runner.invoke(main, ["build", str(content), "--out", str(tmp_path / "site")])
    assert result.exit_code == 0, result.output
    from dossier.build import theme_digest

    before = theme_digest([tmp_path / "templates"])
    odd.write_text("<p>Two.</p>")  # a change of the theme (its pages' bytes stay the same)
    assert theme_digest([tmp_path / "templates"]) != before
    result = runner.invoke(main, ["build", str(content), "--out", str(tmp_path / "site")])
    assert result.exit_code == 0, result.output


def test_templates_compiled_by_other_code_are_compiled_again(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from dossier import build as build_module

    _, builds, compiled = _built_once(tmp_path, monkeypatch)
    monkeypatch.setattr(build_module, "render_digest", lambda: "another jinja2")
    builds()
    assert "base.html" in compiled
    assert list(builds.store.templates) == ["another jinja2"]


@pytest.mark.parametrize("defer", [True, False])
def test_an_update_leaves_its_few_new_results_to_the_next_run(
    in_tmp: Path, monkeypatch: pytest.MonkeyPatch, defer: bool
) -> None:
    """After an edit the check part of the cache (every quote found: 14 MB at 10,000 cards)
    is not written again for the edited card's few results, nor the build part for its
    claim and placements: the next run makes them again. Past ``DEFER_MAX`` of them each
    is written."""
    import os

    monkeypatch.setattr(surveys, "RACY_NS", 0)
    if not defer:
        monkeypatch.setattr(cache, "DEFER_MAX", 0)

    def card(claim: str) -> str:
        return CARD.replace("Putin gave Kim a car.", claim)

    content = make_content(in_tmp / "content", {f"f{i}.yaml": card(f"Claim {i}.") for i in range(3)})
    runner = CliRunner(env={"DOSSIER_CACHE_DIR": str(in_tmp / "cache")})
    assert runner.invoke(main, ["build", "content", "--out", "site"]).exit_code == 0
    part = cache.path_for(content, in_tmp / "cache")
    build_part = cache.build_path_for(content, in_tmp / "cache")  # (its claims and placements)
    os.utime(part, ns=(1, 1))
    os.utime(build_part, ns=(1, 1))
    for claim in ("Claim one, edited.", "Claim one, edited again."):
        write(content, "facts/f1.yaml", card(claim))
        result = runner.invoke(main, ["build", "content", "--out", "site"])
        assert result.exit_code == 0 and "(0 files written" not in result.stderr, result.output
        assert (part.stat().st_mtime_ns == 1) is defer
        assert (build_part.stat().st_mtime_ns == 1) is defer
        assert claim in (in_tmp / "site/index.html").read_text()
    assert runner.invoke(main, ["build", "content", "--out", "fresh", "--no-cache"]).exit_code == 0
    for page in (in_tmp / "fresh").rglob("*"):
        if page.is_file() and page.name != ".dossier-build":
            assert page.read_bytes() == (in_tmp / "site" / page.relative_to(in_tmp / "fresh")).read_bytes()


def test_the_build_part_is_left_as_stored_only_while_updates_alone_ran_since_it_was_loaded(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """One cache through several builds (as a tool, or a long-running process, might):
    after a full build the build part is written, whatever updates follow; the updates'
    claims and placements made anew add up towards ``DEFER_MAX``."""
    from .test_update import Builds, card, make

    monkeypatch.setattr(surveys, "RACY_NS", 0)
    content = make(tmp_path / "content")
    builds = Builds(content, tmp_path / "site")
    builds()
    write(content, "facts/f2.yaml", card(2, claim="Claim two, edited."))
    assert builds().recalled is not None  # from the stored bytes: only this update since
    made = builds.store.build_cheap
    assert made is not None and made > 0
    assert cache.dump_parts(builds.store) == (None, None)
    assert cache.parts_stand(builds.store)  # (so the command line lets nothing go)
    monkeypatch.setattr(cache, "DEFER_MAX", made)
    write(content, "facts/f3.yaml", card(3, claim="Claim three, edited."))  # the same cache
    assert build(content, tmp_path / "site", cache=builds.store, known=builds.known).recalled is not None
    assert builds.store.build_cheap is not None and builds.store.build_cheap > made
    assert cache.dump_parts(builds.store)[1] is not None  # past DEFER_MAX, added up
    assert not cache.parts_stand(builds.store)
    write(content, "facts/f9.yaml", card(9))  # a card added: a full build
    assert build(content, tmp_path / "site", cache=builds.store).recalled is None
    write(content, "facts/f3.yaml", card(3, claim="Claim three, edited again."))
    build(content, tmp_path / "site", cache=builds.store)
    assert builds.store.build_cheap is None
    assert cache.dump_parts(builds.store)[1] is not None
    assert not cache.parts_stand(builds.store)


def test_a_build_part_whose_placements_are_lost_is_written_again() -> None:
    store = cache.Cache.of(None, marshal.dumps((cache._stamp(), "not shards", {}, {}, {})))
    assert store.build_loaded is None and store.build_cheap is None
    assert cache.dump_parts(store)[1] is not None


def _forkable() -> bool:
    import multiprocessing as mp

    if "fork" not in mp.get_all_start_methods():
        pytest.skip("this system cannot fork")
    return True


def test_two_process_card_reading_gives_the_same_result(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Cards parsed in two processes (every other run by a child, plain cards and those
    for the general reader alike): the same facts in the same order, the same problems
    and the same cache as in one; with some cards known to the cache and some not, and
    cards that are broken in several ways."""
    cards = {f"c{i:02d}.yaml": CARD.replace("Putin gave Kim a car.", f"Claim {i}.") for i in range(9)}
    cards["bad-field.yaml"] = CARD.replace("status:", "stauts:")
    cards["bad-yaml.yaml"] = "claim: [unclosed\n"
    cards["empty.yaml"] = ""
    cards["bad-quote.yaml"] = CARD.replace("Russian-made car", "Russian-made tank")
    content = make_content(tmp_path / "content", cards)
    (content / "facts" / "folder.yaml").mkdir()  # unreadable: a folder

    from dossier import parallel

    forks: list[object] = []
    real, real_each, real_shared = parallel.in_two, parallel.each_in_two, parallel.each_shared
    real_claimed = parallel.each_claimed

    def counted_claimed(fn: Any, runs: Any, across: Any = None, *, here: bool = False) -> Any:
        forks.append(fn)
        return real_claimed(fn, runs, across, here=here)

    def counted(fn: Any, halves: Any) -> Any:
        forks.append(fn)
        return real(fn, halves)

    def counted_each(fn: Any, runs: Any) -> Any:
        forks.append(fn)
        return real_each(fn, runs)

    def counted_shared(fn: Any, runs: Any, across: Any = None) -> Any:
        forks.append(fn)
        return real_shared(fn, runs, across)

    crossed: list[int] = []  # the runs of cards a child sent, read back here
    real_cards = readers._cards

    def counted_cards(sent: bytes) -> Any:
        got = real_cards(sent)
        crossed.append(len(got))
        return got

    def read(parallel_from: int, store: cache.Cache | None) -> Any:
        forks.clear()
        crossed.clear()
        with monkeypatch.context() as mp:
            mp.setattr(readers, "_cards", counted_cards)
            mp.setattr(readers, "PARALLEL_CARDS", parallel_from)
            mp.setattr(readers, "CARD_RUNS", 3)  # (runs of several cards, and one shorter)
            mp.setattr(parallel, "in_two", counted)
            mp.setattr(parallel, "each_in_two", counted_each)
            mp.setattr(parallel, "each_shared", counted_shared)
            mp.setattr(parallel, "each_claimed", counted_claimed)
            mp.setattr(parallel, "usable", _forkable)  # (one core is enough to fork)
            result = check(content, cache=store)
        assert result.content is not None
        assert len(forks) == (parallel_from == 1)  # (the quotes: too few to verify in two)
        assert (sum(crossed) > 0) == (parallel_from == 1)  # some cards parsed by the child
        return list(result.content.facts.items()), result.problems

    alone, both = cache.Cache(), cache.Cache()
    assert read(10**6, None) == read(1, None)
    assert read(10**6, alone) == read(1, both)
    assert dict(alone.cards.items()) == dict(both.cards.items())
    assert dict(alone.card_stats.items()) == dict(both.card_stats.items())
    write(content / "facts", "c03.yaml", CARD.replace("Putin gave Kim a car.", "Claim three, edited.  # ok"))
    write(content / "facts", "new.yaml", CARD.replace("Putin gave Kim a car.", "A new claim.  # new"))
    assert read(10**6, alone) == read(1, both)  # the rest known to the cache, in its order
    assert dict(alone.cards.items()) == dict(both.cards.items())


def test_what_a_check_reads_is_left_out_of_later_collections() -> None:
    """The content a check read lives as long as the command: frozen, so that the first
    collection after reading does not scan all of it again (see ``pause``)."""
    import gc

    repo = Path(__file__).resolve().parent.parent
    gc.unfreeze()
    try:
        result = check(repo / "content")
        assert result.content is not None
        assert gc.get_freeze_count() > 0
        frozen = gc.get_freeze_count()
        gc.unfreeze()
        assert gc.get_freeze_count() == 0 < frozen
    finally:
        gc.unfreeze()


def test_a_check_leaves_no_reference_cycles(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """What a check makes is frozen for the collector when it ends (see ``pause``): any
    cycle in it would be kept for good, so reading makes none, broken cards included."""
    import gc

    from dossier import check as check_module
    from dossier import parallel

    cards = {f"c{i}.yaml": CARD.replace("Putin gave Kim a car.", f"Claim {i}.") for i in range(3)}
    cards["bad.yaml"] = CARD.replace("status:", "stauts:") + "tags: [a, a\n"
    cards["dup.yaml"] = CARD + "claim: twice\n"
    content = make_content(tmp_path / "content", cards)
    monkeypatch.setattr(parallel, "usable", lambda: False)  # everything read in this process
    gc.collect()
    was = gc.isenabled()
    gc.disable()
    try:
        result = check_module._check(content, False, cache.Cache())
        assert result.problems
        assert gc.collect() == 0
    finally:
        if was:
            gc.enable()


def test_a_card_rewritten_as_it_is_read_is_read_again_next_time(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The stat kept for a card is taken before its bytes are read: a card rewritten just
    after being read is not vouched for by a stat of bytes never read."""
    content = make_content(tmp_path / "content", {"a.yaml": CARD})
    card = content / "facts" / "a.yaml"
    real = readers._Reader.read_bytes
    rewrites = []

    def read_then_rewrite(self: Any, path: Path | str, limit: int, *args: Any, **kwargs: Any) -> Any:
        data = real(self, path, limit, *args, **kwargs)
        if os.path.basename(path) == "a.yaml" and not rewrites:
            rewrites.append(path)
            card.write_text(CARD.replace("Putin gave Kim a car.", "A claim written meanwhile."))
        return data

    store = cache.Cache()
    with monkeypatch.context() as mp:
        mp.setattr(readers._Reader, "read_bytes", read_then_rewrite)
        first = check(content, cache=store)
    assert rewrites and first.content is not None
    assert first.content.facts["a"].claim == "Putin gave Kim a car."
    again = check(content, cache=store)
    assert again.content is not None
    assert again.content.facts["a"].claim == "A claim written meanwhile."


def test_the_same_bytes_read_as_another_kind_of_source_are_checked_again(tmp_path: Path) -> None:
    """A quote found in a source's bytes read as text is not found in them read as HTML
    (where it stands in a comment), though the bytes, and so their sha256, are the same."""
    html = "<p>Putin gave Kim a car.</p>\n<!-- Putin gave Kim a tank. -->\n"
    card = CARD.replace("Putin gave Kim Jong Un a Russian-made car", "Putin gave Kim a tank")
    content = make_content(tmp_path / "content", {"gift.yaml": card}, pin=False)
    (content / "sources/wire.txt").write_text(html)
    store = cache.Cache()
    assert not check(content, cache=store).errors
    (content / "sources/wire.txt").rename(content / "sources/wire.html")
    again = cache.load_bytes(cache.dump(store))
    assert [p.code for p in check(content, cache=again).errors] == ["quote-not-found"]
    assert [p.code for p in check(content).errors] == ["quote-not-found"]


def test_ranges_cut_a_run_into_parts_in_order() -> None:
    from dossier import parallel

    for n in range(0, 40):
        for parts in range(1, 20):
            runs = parallel.ranges(n, parts)
            assert [i for r in runs for i in r] == list(range(n))
            assert len(runs) == max(1, min(parts, n))
            assert max(map(len, runs)) - min(map(len, runs)) <= 1
