"""Splicing list pages: after an edit, a list page whose layout did not change is the
previous copy with the edited rows put in anew, byte for byte what rendering gives."""

from __future__ import annotations

import marshal
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import jinja2
import pytest
from hypothesis import given
from hypothesis import strategies as st

from dossier import build as build_module
from dossier import publish as publish_module
from dossier import render as render_module
from dossier import splice
from dossier.generators import Entry, Lists, SourceEntry
from dossier.publish import Stretch

from .conftest import write
from .test_update import Builds, built_once, card, make, same_as_full, settled  # noqa: F401 (racy cards: none)


def entry(fid: str, claim: str = "A claim.", date: str | None = None) -> Entry:
    return Entry(fid, claim, "confirmed", "Confirmed", date, date, None, (), 1, 0, 0, 1, 1, False, (0,))  # type: ignore[arg-type]


def lists(*entries: Entry, sources: tuple[SourceEntry, ...] = ()) -> Lists:
    return Lists(entries, (), tuple(e for e in entries if e.date), (), (), sources, len(entries))


def source_entry(sid: str, title: str = "A source", publisher: str | None = None) -> SourceEntry:
    return SourceEntry(
        sid, title, publisher, None, None, None, None, None, "0" * 64, 1, 1, 0.5, None, "txt", None
    )


def render(template: str, ls: Lists) -> tuple[str, splice.Watch]:
    watch = splice.Watch()
    env = jinja2.Environment(undefined=jinja2.StrictUndefined)
    return env.from_string(template).render(site=watch.lists(ls)), watch


@pytest.mark.parametrize(
    "template, facts",
    [
        ("{% for v in site.facts %}{{ v.id }}{% endfor %}", ("id",)),
        ("{{ site.facts | length }}", ()),
        (
            "{% for v in site.timeline %}{{ loop.previtem.date_label if loop.previtem is defined }}"
            "{% endfor %}",
            ("date_label",),
        ),
        ("{{ site.facts | map(attribute='claim') | join }}", ("claim",)),
        ("{% for d, vs in site.facts | groupby('status') %}{{ d }}{% endfor %}", ("status",)),
        ("{{ site.facts | selectattr('contested') | list | length }}", ("contested",)),
        ("{{ site.facts | sort(attribute='claim') | first | attr('id') }}", ("claim", "id")),
    ],
)
def test_the_fields_a_page_reads_are_noted(template: str, facts: tuple[str, ...]) -> None:
    _, watch = render(template, lists(entry("a", date="2024"), entry("b", date="2025")))
    assert watch.fields() == (facts, ())


@pytest.mark.parametrize(
    "template",
    [
        "{% for v in site.facts %}{{ v }}{% endfor %}",
        "{{ site.facts[0] == site.facts[1] }}",
        "{{ site.facts[1] in site.timeline }}",  # (found: by identity, which the ids hold)
        "{{ site.facts | unique | list | length }}",
        "{{ '%s' | format(site.facts[0]) }}",
    ],
)
def test_a_page_that_uses_an_entry_whole_cannot_be_spliced(template: str) -> None:
    _, watch = render(template, lists(entry("a", date="2024"), entry("b")))
    assert watch.fields() is None


def test_a_watched_entry_renders_as_the_entry() -> None:
    template = "{{ site.facts[0].__class__.__name__ }} {{ site.facts[0].claim }}"
    assert render(template, lists(entry("a")))[0] == "Entry A claim."


def test_the_layout_holds_the_fields_read_and_every_list_in_order() -> None:
    a, b = entry("a", date="2024"), entry("b")
    fields: tuple[tuple[str, ...], tuple[str, ...]] = (("date_label",), ())
    base = splice.layout(lists(a, b), fields)
    assert splice.layout(lists(entry("a", claim="Edited.", date="2024"), b), fields) == base
    assert splice.layout(lists(entry("a", date="2025"), b), fields) != base
    assert splice.layout(lists(b, a), fields) != base
    assert splice.layout(lists(a, b), (("claim", "date_label"), ())) != base


def test_an_unchanged_layout_is_told_from_the_arrangement_and_the_entries_made_anew() -> None:
    """``same_layout`` answers as comparing ``layout`` digests would, for an update's lists
    (every entry but those made anew the one the skeleton's build had)."""
    a, b = entry("a", date="2024"), entry("b")
    fields: tuple[tuple[str, ...], tuple[str, ...]] = (("date_label",), ())
    was = lists(a, b)
    rec = splice.Recorder()
    rec.row("m", (), "a", 0, 1)
    rec.row("m", (), "b", 1, 1)
    skeleton = rec.made(splice.layout(was, fields) or b"", 2, fields, splice.arrangement(was))
    assert skeleton is not None
    for now_a, now in [
        (entry("a", claim="Edited.", date="2024"), None),  # a field the page did not read
        (entry("a", date="2025"), None),  # one it read
        (a, lists(b, a)),  # the same entries, in another order
    ]:
        now = now or lists(now_a, b)
        told = splice.same_layout(skeleton, splice.arrangement(now), {"a": (a, now_a)}, {})
        assert told == (splice.layout(now, fields) == skeleton.layout)
    # A source's fields, as a page of sources reads them: the same, for source pairs.
    s1, s2 = source_entry("s1"), source_entry("s2")
    sfields: tuple[tuple[str, ...], tuple[str, ...]] = ((), ("title",))
    swas = lists(a, b, sources=(s1, s2))
    srec = splice.Recorder()
    srec.row("m", (), "a", 0, 1)
    sskeleton = srec.made(splice.layout(swas, sfields) or b"", 2, sfields, splice.arrangement(swas))
    assert sskeleton is not None
    for now_s1, snow in [
        (source_entry("s1", publisher="Elsewhere"), None),  # a field the page did not read
        (source_entry("s1", title="Retitled"), None),  # one it read
        (s1, lists(a, b, sources=(s2, s1))),  # the same sources, in another order
    ]:
        snow = snow or lists(a, b, sources=(now_s1, s2))
        told = splice.same_layout(sskeleton, splice.arrangement(snow), {}, {"s1": (s1, now_s1)})
        assert told == (splice.layout(snow, sfields) == sskeleton.layout)
    unknown = rec.made(skeleton.layout, 2, fields)  # one that does not say how its lists were arranged
    assert unknown is not None and splice.same_layout(unknown, splice.arrangement(was), {}, {}) is False


rows = st.lists(st.tuples(st.sampled_from("abcd"), st.binary(max_size=5), st.binary(max_size=5)), max_size=8)


@given(
    rows=rows,
    tail=st.binary(max_size=5),
    changed=st.sets(st.sampled_from("abcd")),
    new=st.binary(max_size=6),
    part=st.sampled_from([splice.PART, 1, 2, 7]),
    searched=st.sampled_from([splice.SEARCHED, 0, 1]),
)
def test_splicing_is_putting_the_page_together_with_the_new_rows(
    rows: list[tuple[str, bytes, bytes]], tail: bytes, changed: set[str], new: bytes, part: int, searched: int
) -> None:
    """Rows: (fact, literal before it, its bytes); the changed facts' rows become ``new``+id.
    ``part``: the size from which a stretch of the old file is passed on as it was read
    (tiny ones too, so that every way of parting the page is tried); ``searched``: up to
    how many changed facts their rows are searched for, not found in one pass (both ways)."""
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(splice, "PART", part)
        mp.setattr(splice, "SEARCHED", searched)
        _splice_and_compare(rows, tail, changed, lambda fid: new + fid.encode())


small = st.binary(max_size=3).map(lambda b: bytes(97 + x % 2 for x in b))  # of a and b only


@given(
    rows=st.lists(st.tuples(st.sampled_from("abcd"), small, small), max_size=8),
    tail=small,
    made=st.fixed_dictionaries({fid: small for fid in "abcd"}),
    copied=st.sampled_from([splice.COPIED, 0, 1, 2, 4]),
    part=st.sampled_from([splice.PART, 1, 3]),
)
def test_a_splice_says_whether_the_page_is_the_old_file_byte_for_byte(
    rows: list[tuple[str, bytes, bytes]], tail: bytes, made: dict[str, bytes], copied: int, part: int
) -> None:
    """Rows and new rows of two letters, so that a row is often made as it was, and changes
    cancel out (``xb|b|b`` spliced to ``x|b|bb``): ``same`` is exactly whether the page is
    the old file. ``copied``: from which length a stretch is a ``Stretch`` (never read)."""
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(splice, "COPIED", copied)
        mp.setattr(splice, "PART", part)
        _splice_and_compare(rows, tail, set("abcd"), made.__getitem__)


def test_rows_whose_changes_cancel_out_leave_the_page_the_same() -> None:
    rows = [("a", b"", b"xb"), ("c", b"b", b"b"), ("d", b"", b"z")]
    assert _splice_and_compare(rows, b"", {"a", "c"}, {"a": b"x", "c": b"bb"}.__getitem__) is True
    assert _splice_and_compare(rows, b"", {"a", "c"}, {"a": b"x", "c": b"ba"}.__getitem__) is False
    assert _splice_and_compare(rows, b"", {"a"}, {"a": b"xb"}.__getitem__) is True


@given(ids=st.lists(st.sampled_from("abcde"), max_size=12), changed=st.sets(st.sampled_from("abcdef")))
def test_the_rows_of_the_changed_facts_are_found_both_ways(ids: list[str], changed: set[str]) -> None:
    expected = [i for i, fid in enumerate(ids) if fid in changed]
    with pytest.MonkeyPatch.context() as mp:
        for searched in (0, 10):
            mp.setattr(splice, "SEARCHED", searched)
            assert splice.rows_of(tuple(ids), changed) == expected


def test_a_row_made_anew_at_its_own_length_is_not_read_around() -> None:
    """A fact's rows at both ends of a long page, each made anew at its length: the page
    changed where the row stands, so only the rows are read back, not the page between."""
    rec = splice.Recorder()
    rows = [("a", b"", b"xx"), ("b", b"y" * 200_000, b"zz"), ("a", b"", b"xx")]
    old = b""
    for fid, before, row in rows:
        old += before
        rec.row("m", (), fid, len(old), len(row))
        old += row
    skeleton = rec.skeleton(splice.Watch(), lists(), len(old))
    assert skeleton is not None
    read: list[int] = []

    def reading(at: int, n: int) -> bytes:
        read.append(n)
        return old[at : at + n]

    parts, _, same = splice.splice(
        skeleton, reading, {"a"}, lambda k, fid: b"qq", lambda at, n: Stretch(-1, at, n)
    )
    assert same is False and sum(read) <= 8
    assert any(isinstance(p, Stretch) and p.length >= 200_000 for p in parts)


def _splice_and_compare(
    rows: list[tuple[str, bytes, bytes]], tail: bytes, changed: set[str], made: Callable[[str], bytes]
) -> bool:
    """Splice the page of ``rows``, the ``changed`` facts' rows ``made(fact)``; check the
    page, its skeleton and ``same`` against the page put together; return ``same``."""
    rec = splice.Recorder()
    old = b""
    for fid, before, row in rows:
        old += before
        rec.row("m", (), fid, len(old), len(row))
        old += row
    old += tail
    recorded = rec.skeleton(splice.Watch(), lists(), len(old))
    assert recorded is not None
    # as the cache keeps it
    skeleton = splice.Skeleton.from_record(marshal.loads(marshal.dumps(recorded.record())))
    assert skeleton == recorded
    parts, after, same = splice.splice(
        skeleton,
        lambda at, n: old[at : at + n],
        changed,
        lambda k, fid: made(fid),
        lambda at, n: Stretch(-1, at, n),
    )
    expected = b"".join(before + (made(fid) if fid in changed else row) for fid, before, row in rows) + tail
    for p in parts:  # a stretch is never shorter than asked for, nor read
        assert isinstance(p, bytes) or p.length >= splice.COPIED
    page = b"".join(p if isinstance(p, bytes) else old[p.offset : p.offset + p.length] for p in parts)
    assert page == expected
    assert same is (page == old)
    assert after.size == len(page)
    for (fid, _, row), at, n in zip(rows, after.offsets, after.lengths, strict=True):
        assert page[at : at + n] == (made(fid) if fid in changed else row)
    return same


def _spliced_pages(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    done: list[str] = []
    real = build_module._Pages._spliced

    def spy(self: build_module._Pages, name: str) -> build_module.Page | None:
        page = real(self, name)
        if page is not None:
            done.append(name)
        return page

    monkeypatch.setattr(build_module._Pages, "_spliced", spy)
    return done


def test_a_claim_edited_splices_every_list_page(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    content = make(tmp_path / "content")
    builds = Builds(content, tmp_path / "site")
    builds()
    builds()  # (nothing changed)
    done = _spliced_pages(monkeypatch)
    write(content, "facts/f2.yaml", card(2, claim="Claim two, edited.", related=(3,), quote=("talks", 0)))
    assert builds().recalled is not None
    assert sorted(done) == sorted(build_module.LIST_PAGES)
    assert "Claim two, edited." in (tmp_path / "site/index.html").read_text()
    same_as_full(content, tmp_path / "site", tmp_path)


def test_a_date_edited_renders_the_timeline_again(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    content = make(tmp_path / "content")
    write(content, "facts/f1.yaml", card(1, date="2024-02-18", related=(2,), quote=("wire", 1)))
    write(content, "facts/f3.yaml", card(3, date="2024-03-01", related=(4,), quote=("wire", 1)))
    builds = Builds(content, tmp_path / "site")
    builds()
    done = _spliced_pages(monkeypatch)
    write(content, "facts/f3.yaml", card(3, date="2024-03-02", related=(4,), quote=("wire", 1)))  # order kept
    assert builds().recalled is not None
    assert "timeline.html" not in done and "index.html" in done
    same_as_full(content, tmp_path / "site", tmp_path)


def test_a_page_spliced_before_gives_its_rows_to_the_next_rendering(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A spliced page's spans are not kept; when a later build renders the page (its layout
    changed), they are made from its skeleton and the ledger's keys, and every row that did
    not change is still taken from the file."""
    from dossier.pieces import Assembly

    content = make(tmp_path / "content")
    write(content, "facts/f1.yaml", card(1, date="2024-02-18", related=(2,), quote=("wire", 1)))
    write(content, "facts/f3.yaml", card(3, date="2024-03-01", related=(4,), quote=("wire", 1)))
    builds = Builds(content, tmp_path / "site")
    builds()
    write(content, "facts/f2.yaml", card(2, claim="Claim two, edited.", related=(3,), quote=("talks", 0)))
    assert builds().recalled is not None  # every list page spliced: no spans kept of them
    assert not set(build_module.LIST_PAGES) & set(builds.store.pieces[str((tmp_path / "site").resolve())])
    made: list[tuple[str, str]] = []
    real = Assembly.made

    def counted(self: Assembly, key: str, data: bytes, kind: str = "") -> None:
        made.append((kind, key))
        real(self, key, data, kind)

    monkeypatch.setattr(Assembly, "made", counted)
    write(content, "facts/f3.yaml", card(3, date="2024-01-02", related=(4,), quote=("wire", 1)))  # moves
    assert builds().recalled is not None
    timeline_rows = [k for k in made if k[0].startswith("timeline_item")]
    assert len(timeline_rows) == 1  # only the edited fact's row on the timeline (rendered again)
    same_as_full(content, tmp_path / "site", tmp_path)


def _themed(tmp_path: Path, around: str) -> tuple[Path, Builds]:
    """A content folder whose theme's disputed page shows ``around`` before its rows, built once."""
    content = make(tmp_path / "content")
    write(
        tmp_path,
        "templates/disputed.html",
        '{% extends "base.html" %}{% block main %}' + around + "<ul>{% for view in site.facts %}"
        '{{ view | row("fact_item") }}{% endfor %}</ul>{% endblock %}',
    )
    builds = Builds(content, tmp_path / "site")
    builds()
    return content, builds


@pytest.mark.parametrize(
    "around",
    [
        "{% for v in site.facts %}<i>{{ v.claim }}</i>{% endfor %}",  # a field outside the rows
        "{% for v in site.facts %}{{ v }}{% endfor %}",  # an entry whole
    ],
)
def test_a_theme_reading_claims_around_the_rows_is_never_stale(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, around: str
) -> None:
    content, builds = _themed(tmp_path, around)
    done = _spliced_pages(monkeypatch)
    write(content, "facts/f2.yaml", card(2, claim="Claim two, edited.", related=(3,), quote=("talks", 0)))
    assert builds().recalled is not None
    assert "disputed.html" not in done and "index.html" in done
    if "claim" in around:
        assert (tmp_path / "site/disputed.html").read_text().count("<i>Claim two, edited.</i>") == 1
    same_as_full(content, tmp_path / "site", tmp_path)


@pytest.mark.parametrize(
    "around",
    [
        "{% for v in site.facts %}{{ v.subtitle if v.subtitle is defined else '' }}{% endfor %}",
        "{% for v in site.facts %}{{ v._fields | length }}{% endfor %}",  # private: whole
        "{% for v in site.facts %}{{ v.__class__.__name__ }}{% endfor %}",
    ],
)
def test_themes_asking_odd_things_of_entries_build_and_are_never_stale(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, around: str
) -> None:
    content, builds = _themed(tmp_path, around)
    write(content, "facts/f2.yaml", card(2, claim="Claim two, edited.", related=(3,), quote=("talks", 0)))
    assert builds().recalled is not None
    same_as_full(content, tmp_path / "site", tmp_path)


def test_a_row_argument_marshal_cannot_keep_leaves_the_page_unspliced(tmp_path: Path) -> None:
    """Markup (a str subclass) as a row's argument: the build, and the cache, still work."""
    from .test_hardening import invoke

    content = make(tmp_path / "content")
    write(content, "facts/f1.yaml", card(1, date="2024-02-18", related=(2,), quote=("wire", 1)))
    timeline = (render_module.default_theme() / "timeline.html").read_text()
    assert 'row("timeline_item", same)' in timeline
    write(tmp_path, "templates/timeline.html", timeline.replace(", same)", ', "" | safe)'))
    out = tmp_path / "site"
    for claim in ("First.", "Second."):
        write(content, "facts/f2.yaml", card(2, claim=claim, related=(3,), quote=("talks", 0)))
        result = invoke("build", str(content), "--out", str(out))
        assert result.exit_code == 0, result.stdout + result.stderr
    assert "Second." in (out / "index.html").read_text()
    same_as_full(content, out, tmp_path)


def test_an_update_splices_the_data_files_while_they_are_laid_out_as_before(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from dossier import data

    content, builds = built_once(tmp_path)
    heads: list[bytes] = []
    real = data.splice

    def spy(skeleton: splice.Skeleton, read: Any, changed: set[str], make_row: Any, copy: Any) -> Any:
        heads.append(read(0, 8))
        return real(skeleton, read, changed, make_row, copy)

    monkeypatch.setattr(data, "splice", spy)
    write(content, "facts/f2.yaml", card(2, claim="Claim two, edited.", related=(3,), quote=("talks", 0)))
    assert builds().recalled is not None
    assert sorted(heads) == [b"window.D", b'{"built"']
    assert b"Claim two, edited." in (tmp_path / "site/dossier.json").read_bytes()
    same_as_full(content, tmp_path / "site", tmp_path)
    heads.clear()  # a quote of another passage: the source's share cited, in dossier.json's tail, changes
    write(content, "facts/f2.yaml", card(2, claim="Claim two, edited.", related=(3,), quote=("talks", 1)))
    assert builds().recalled is not None
    assert heads == [b"window.D"]
    same_as_full(content, tmp_path / "site", tmp_path)


def test_an_update_keeps_a_file_its_splice_leaves_as_it_was_and_copies_the_rest(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A date edited (the order kept) changes dossier.json, not the search index: the index
    is kept as it is (not written), dossier.json is written from stretches of its previous
    copy (its digest then not known), and a full build after it that makes dossier.json
    byte for byte again compares the bytes and keeps it, mtime and all."""
    content = make(tmp_path / "content")
    write(content, "facts/f1.yaml", card(1, date="2024-02-18", related=(2,), quote=("wire", 1)))
    write(content, "facts/f3.yaml", card(3, date="2024-03-01", related=(4,), quote=("wire", 1)))
    out = tmp_path / "site"
    builds = Builds(content, out)
    builds()
    copied: list[str] = []
    real_write = publish_module._write

    def spy(folder: int | None, name: str, parts: Any) -> Any:
        parts = list(parts)
        if any(isinstance(p, publish_module.Stretch) for p in parts):
            copied.append(name)
        return real_write(folder, name, parts)

    monkeypatch.setattr(publish_module, "_write", spy)
    monkeypatch.setattr(splice, "COPIED", 1)  # (a small site: every stretch copied)
    was = {name: os.stat(out / name) for name in ("search-index.js", "dossier.json")}
    write(content, "facts/f3.yaml", card(3, date="2024-03-02", related=(4,), quote=("wire", 1)))
    result = builds()
    assert result.recalled is not None and result.published is not None
    now = {name: os.stat(out / name) for name in was}
    index = (now["search-index.js"].st_ino, now["search-index.js"].st_mtime_ns)
    assert index == (was["search-index.js"].st_ino, was["search-index.js"].st_mtime_ns)
    assert now["dossier.json"].st_ino != was["dossier.json"].st_ino
    assert "dossier.json" in copied and "search-index.js" not in copied
    assert b"2024-03-02" in (out / "dossier.json").read_bytes()
    assert result.published.manifest["dossier.json"][0] == ""
    same_as_full(content, out, tmp_path)
    base = (Path(__file__).resolve().parent.parent / "templates/base.html").read_text()
    write(tmp_path, "templates/base.html", base.replace("<body>", '<body class="x">'))
    full = builds()
    assert full.recalled is None and full.published is not None
    after = os.stat(out / "dossier.json")
    assert (after.st_ino, after.st_mtime_ns) == (now["dossier.json"].st_ino, now["dossier.json"].st_mtime_ns)
    assert full.published.manifest["dossier.json"][0] != ""
    assert 'class="x"' in (out / "index.html").read_text()


@pytest.mark.parametrize("where", ["around", "row"])
@pytest.mark.parametrize("name", ["index", "count"])
def test_an_entry_has_only_its_fields_and_properties(tmp_path: Path, where: str, name: str) -> None:
    """An entry is a NamedTuple, but a template asking it for a tuple's method gets
    nothing (a template error), never the method, whose text would hold an address."""
    content = make(tmp_path / "content")
    ask = "{{ view." + name + " }}"
    if where == "around":
        page = (
            '{% extends "base.html" %}{% block main %}{% for view in site.facts %}'
            + ask
            + "{% endfor %}{% endblock %}"
        )
        write(tmp_path, "templates/disputed.html", page)
    else:
        macros = (render_module.default_theme() / "_macros.html").read_text()
        assert '<li class="fact">' in macros
        write(
            tmp_path,
            "templates/_macros.html",
            macros.replace('<li class="fact">', '<li class="fact">' + ask, 1),
        )
    with pytest.raises(render_module.TemplateRenderError, match=f"UndefinedError: .*{name}"):
        Builds(content, tmp_path / "site")()
    assert not (tmp_path / "site").exists()


def test_rows_whose_arguments_are_equal_but_of_other_types_are_kinds_of_their_own() -> None:
    rec = splice.Recorder()
    for i, args in enumerate([(1,), (True,), (1.0,), (1,)]):
        rec.row("m", args, f"f{i}", i, 1)
    skeleton = rec.made(b"", 4)
    assert skeleton is not None
    assert [skeleton.kinds[k] for k in skeleton.kind] == [
        ("m", (1,)),
        ("m", (True,)),
        ("m", (1.0,)),
        ("m", (1,)),
    ]
    assert [type(skeleton.kinds[k][1][0]) for k in skeleton.kind] == [int, bool, float, int]


def test_a_skeleton_kept_in_another_form_is_not_taken() -> None:
    rec = splice.Recorder()
    for i, fid in enumerate(["a", "b", "c"]):
        rec.row("m", (), fid, 10 * i, 5)
    made = rec.skeleton(splice.Watch(), lists(), 30)
    assert made is not None
    good = made.record()
    assert splice.Skeleton.from_record(good) == made
    *head, kind, offsets, lengths, size, order, arranged = good
    assert isinstance(offsets, bytes) and isinstance(arranged, bytes) and arranged
    other = "q8" + ("big" if order.endswith("little") else "little")
    for bad in [
        (*head, kind, offsets, lengths, size, other, arranged),
        (*head, kind, offsets[:-1], lengths, size, order, arranged),  # not whole numbers
        (*head, kind, offsets[:-8], lengths, size, order, arranged),  # a number short
        (*head, kind, tuple(made.offsets), lengths, size, order, arranged),  # ints, not their bytes
        (*head, kind, offsets, lengths, size, order, None),  # no arrangement
        (*head, kind, offsets, lengths, size, order),  # an older form
        None,
    ]:
        assert splice.Skeleton.from_record(bad) is None
