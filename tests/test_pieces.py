"""Files assembled from pieces: a piece is taken from the previous build's file only under
the same key, and the file always comes out as if every piece had been made afresh."""

from __future__ import annotations

import errno
import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from dossier import cache, data, pieces
from dossier.build import build
from dossier.pieces import Assembly, Old
from dossier.publish import PublishError
from dossier.render import TemplateRenderError

from .conftest import CARD, make_content, write

# --- the assembly, on files made by hand ----------------------------------------------

Op = tuple[str, str, bytes]  # ("text", "", bytes) or ("piece", key, bytes)


@pytest.fixture
def old_file(tmp_path: Path) -> Iterator[object]:
    fds: list[int] = []

    def make(ops: list[Op]) -> Old:
        """The old file those ops give, opened, with its spans."""
        asm = Assembly()
        _apply(asm, ops)
        path = tmp_path / f"old-{len(fds)}"
        path.write_bytes(b"".join(asm.done()))
        fd = os.open(path, os.O_RDONLY)
        fds.append(fd)
        return Old(fd, path.stat().st_size, asm.spans)

    yield make
    for fd in fds:
        os.close(fd)


def _apply(asm: Assembly, ops: list[Op], made: list[str] | None = None) -> None:
    for kind, key, value in ops:
        if kind == "text":
            asm.text(value)
        else:

            def make(key: str = key, value: bytes = value) -> bytes:
                if made is not None:
                    made.append(key)
                return value

            asm.piece(key, make)


def _plain(ops: list[Op]) -> bytes:
    return b"".join(value for _, _, value in ops)


def _list(keys: str, sep: bytes = b",", values: dict[str, bytes] | None = None) -> list[Op]:
    ops: list[Op] = [("text", "", b"[")]
    for i, k in enumerate(keys):
        if i:
            ops.append(("text", "", sep))
        ops.append(("piece", k, (values or {}).get(k, k.encode() * 3)))
    return [*ops, ("text", "", b"]\n")]


CASES = {
    # name: (old ops, new ops, pieces made anew, reads of the old file)
    "all kept, read in one go": (_list("abc"), _list("abc"), [], 1),
    "a new piece between kept ones": (_list("ac"), _list("abc"), ["b"], 2),
    "a piece gone": (_list("abc"), _list("ac"), [], 2),
    "new order": (_list("abc"), _list("cab"), [], 2),
    "the separator changed": (_list("abc"), _list("abc", b";"), [], 1),
    "no old copy of any piece": (_list("xy"), _list("ab"), ["a", "b"], 0),
}


@pytest.mark.parametrize("case", CASES, ids=list(CASES))
def test_an_assembly_is_the_plain_join_of_its_ops(
    case: str, old_file: object, monkeypatch: pytest.MonkeyPatch
) -> None:
    before, after, want_made, want_reads = CASES[case]
    old = old_file(before)  # type: ignore[operator]
    reads: list[int] = []
    real = os.pread

    def counting(fd: int, n: int, at: int) -> bytes:
        reads.append(n)
        return real(fd, n, at)

    monkeypatch.setattr(pieces.os, "pread", counting)
    asm = Assembly(old)
    made: list[str] = []
    _apply(asm, after, made)
    assert b"".join(asm.done()) == _plain(after)
    assert made == want_made
    assert len(reads) == want_reads
    assert asm.size == len(_plain(after))


def test_the_spans_say_where_each_piece_stands() -> None:
    asm = Assembly()
    _apply(asm, _list("ab"))
    out = b"".join(asm.done())
    spans = {k: pieces.unpack(packed) for k, packed in asm.spans[""].items()}
    assert {k: out[s : s + n] for k, (s, n) in spans.items()} == {"a": b"aaa", "b": b"bbb"}


def test_a_span_past_the_end_of_the_old_file_is_made_again(old_file: object) -> None:
    old = old_file(_list("ab"))  # type: ignore[operator]
    bad = Old(old.fd, old.size, {"": {"a": pieces.pack(old.size - 1, 10), "b": -1}})
    asm = Assembly(bad)
    made: list[str] = []
    _apply(asm, _list("ab"), made)
    assert b"".join(asm.done()) == _plain(_list("ab")) and made == ["a", "b"]


def test_an_old_file_cut_short_after_it_was_vouched_for_stops_the_build(old_file: object) -> None:
    old = old_file(_list("abc"))  # type: ignore[operator]
    os.ftruncate(os.open(f"/proc/self/fd/{old.fd}", os.O_WRONLY), 3)
    asm = Assembly(old)
    _apply(asm, _list("abc"))
    with pytest.raises(PublishError, match="changed during the build"):
        asm.done()


keys = st.lists(st.sampled_from("abcdefgh"), unique=True, max_size=8)
seps = st.sampled_from([b",", b", ", b";", b""])


@settings(max_examples=300, deadline=None)
@given(
    before=keys,
    after=keys,
    sep_before=seps,
    sep_after=seps,
    changed=st.sets(st.sampled_from("abcdefgh")),
    part=st.sampled_from([pieces.PART, 1, 4, 9]),
)
def test_any_assembly_from_any_old_file_is_the_plain_join(
    tmp_path_factory: pytest.TempPathFactory,
    before: list[str],
    after: list[str],
    sep_before: bytes,
    sep_after: bytes,
    changed: set[str],
    part: int,
) -> None:
    """Pieces whose bytes changed get new keys (as build's keys do); everything else may
    be taken from the old file in any order, with any separators. ``part``: the size of a
    part, tiny ones too; no stretch of the old file read at once is longer than a part and
    one piece (a file kept whole is never read whole)."""
    path = tmp_path_factory.mktemp("old") / "file"
    first = Assembly()
    _apply(first, _list("".join(before), sep_before))
    path.write_bytes(b"".join(first.done()))
    new_values = {k: k.encode() * (5 if k in changed else 3) for k in after}
    ops = _list("".join(after), sep_after, new_values)
    ops = [(kind, key + "!" if key in changed else key, value) for kind, key, value in ops]
    fd = os.open(path, os.O_RDONLY)
    reads: list[int] = []
    real = os.pread

    def counting(fd: int, n: int, at: int) -> bytes:
        reads.append(n)
        return real(fd, n, at)

    try:
        with pytest.MonkeyPatch.context() as mp:
            mp.setattr(pieces, "PART", part)
            mp.setattr(pieces.os, "pread", counting)
            asm = Assembly(Old(fd, path.stat().st_size, first.spans))
            _apply(asm, ops)
            assert b"".join(asm.done()) == _plain(ops)
    finally:
        os.close(fd)
    longest = max((len(value) for _, _, value in ops), default=0) + max(len(sep_before), len(sep_after))
    assert all(n < part + longest for n in reads)


# --- in a build ---------------------------------------------------------------------------


def _cards(n: int) -> dict[str, str]:
    return {
        f"f{i}.yaml": CARD.replace("claim: Putin gave Kim a car.", f"claim: Claim {i}.")
        + (f"date: 2024-02-1{i}\n" if i % 2 else "")
        for i in range(n)
    }


def _built(tmp_path: Path, n: int) -> tuple[Path, Path, cache.Cache]:
    """A dossier of ``n`` cards, built once with a cache: (content, site, cache)."""
    content = make_content(tmp_path / "content", _cards(n))
    out = tmp_path / "site"
    store = cache.Cache()
    build(content, out, cache=store)
    return content, out, store


def _same_as_fresh(content: Path, out: Path, tmp_path: Path) -> None:
    fresh = tmp_path / "fresh"
    build(content, fresh)
    names = sorted(p.relative_to(fresh) for p in fresh.rglob("*") if p.is_file())
    assert names == sorted(p.relative_to(out) for p in out.rglob("*") if p.is_file())
    for name in names:
        assert (fresh / name).read_bytes() == (out / name).read_bytes(), name


def _count_entries(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The facts whose entry in dossier.json is made from here on."""
    entries: list[str] = []
    real = data.fact_entry
    monkeypatch.setattr(data, "fact_entry", lambda v: entries.append(v.id) or real(v))
    return entries


def _count_made(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    made: list[str] = []
    real = Assembly.made

    def counted(self: Assembly, key: str, data: bytes, kind: str = "") -> None:
        made.append(kind)
        real(self, key, data, kind)

    monkeypatch.setattr(Assembly, "made", counted)
    return made


def test_after_one_card_changed_only_its_rows_and_entries_are_made(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    content = make_content(tmp_path / "content", _cards(6))
    out = tmp_path / "site"
    store = cache.Cache()
    build(content, out, cache=store)
    assert {"index.html", "timeline.html", "entities.html", "dossier.json", "search-index.js"} <= set(
        store.pieces[str(out.resolve())]
    )
    write(content, "facts/f3.yaml", _cards(6)["f3.yaml"].replace("Claim 3.", "Claim three."))
    entries = _count_entries(monkeypatch)
    made = _count_made(monkeypatch)
    build(content, out, cache=store)
    assert entries == ["f3"]
    # f3's entry in dossier.json and the search index, its row on the briefing, the
    # timeline and the entity's list: nothing of the five others
    assert len(made) == 5, made
    assert "Claim three." in (out / "timeline.html").read_text()
    monkeypatch.undo()
    _same_as_fresh(content, out, tmp_path)


def test_a_site_file_edited_by_hand_is_not_taken_apart(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    content, out, store = _built(tmp_path, 3)
    for name in ("index.html", "dossier.json"):
        page = out / name
        page.write_bytes(page.read_bytes().replace(b"Claim 1.", b"Claim 1!"))
    write(content, "facts/f0.yaml", _cards(3)["f0.yaml"].replace("Claim 0.", "Claim zero."))
    entries = _count_entries(monkeypatch)
    made = _count_made(monkeypatch)
    build(content, out, cache=store)
    assert made.count("fact_item()") == 3  # all of the edited page's rows
    assert sorted(entries) == ["f0", "f1", "f2"]  # and of the edited dossier.json
    monkeypatch.undo()
    _same_as_fresh(content, out, tmp_path)


def test_a_new_row_macro_remakes_every_row(tmp_path: Path) -> None:
    content, out, store = _built(tmp_path, 3)
    macros = (Path(__file__).resolve().parent.parent / "templates/_macros.html").read_text()
    write(tmp_path, "templates/_macros.html", macros.replace('<li class="fact">', '<li class="fact mine">'))
    build(content, out, cache=store)
    assert (out / "index.html").read_text().count('<li class="fact mine">') == 3
    _same_as_fresh(content, out, tmp_path)


def test_a_data_file_made_again_with_the_same_bytes_keeps_its_mtime(tmp_path: Path) -> None:
    content, out, store = _built(tmp_path, 3)
    before = {name: os.stat(out / name) for name in ("dossier.json", "search-index.js")}
    base = (Path(__file__).resolve().parent.parent / "templates/base.html").read_text()
    write(tmp_path, "templates/base.html", base.replace("<body>", '<body class="x">'))
    result = build(content, out, cache=store)  # every key new, every entry made again
    assert result.published is not None
    for name, was in before.items():
        now = os.stat(out / name)
        assert (now.st_ino, now.st_mtime_ns) == (was.st_ino, was.st_mtime_ns), name
    assert 'class="x"' in (out / "index.html").read_text()


def test_a_data_file_that_fails_halfway_leaves_the_previous_site(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    content = make_content(tmp_path / "content", _cards(3))
    out = tmp_path / "site"
    build(content, out)
    before = {p: p.read_bytes() for p in out.rglob("*") if p.is_file()}

    def broken(v: object) -> dict[str, object]:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(data, "fact_entry", broken)
    write(content, "facts/f0.yaml", _cards(3)["f0.yaml"].replace("Claim 0.", "Claim zero."))
    with pytest.raises(OSError):
        build(content, out)
    assert {p: p.read_bytes() for p in out.rglob("*") if p.is_file()} == before
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".site")] == []


def test_without_a_cache_an_unchanged_data_file_keeps_its_mtime(tmp_path: Path) -> None:
    content = make_content(tmp_path / "content", _cards(3))
    out = tmp_path / "site"
    build(content, out)
    before = {name: os.stat(out / name) for name in ("dossier.json", "search-index.js")}
    result = build(content, out)  # no manifest: the bytes are compared
    assert result.published is not None and result.published.written == 0
    for name, was in before.items():
        now = os.stat(out / name)
        assert (now.st_ino, now.st_mtime_ns) == (was.st_ino, was.st_mtime_ns), name


def test_a_row_macro_may_not_use_what_its_key_does_not_hold(tmp_path: Path) -> None:
    content, out, store = _built(tmp_path, 3)
    before = {p: p.read_bytes() for p in out.rglob("*") if p.is_file()}
    macros = (Path(__file__).resolve().parent.parent / "templates/_macros.html").read_text()
    mine = macros.replace('<li class="fact">', '<li class="fact" data-n="{{ site.facts | length }}">')
    write(tmp_path, "templates/_macros.html", mine)
    # (reported where it failed: a template error of its file and line)
    with pytest.raises(TemplateRenderError, match="UndefinedError: 'site'"):  # it would be kept stale
        build(content, out, cache=store)
    assert {p: p.read_bytes() for p in out.rglob("*") if p.is_file()} == before


def test_a_kept_page_changed_before_it_is_linked_stops_the_publish(tmp_path: Path) -> None:
    from dossier import publish

    content, out, store = _built(tmp_path, 3)
    manifest = store.sites[str(out.resolve())]
    page = out / "facts/f1.html"

    def files() -> Iterator[publish.File]:
        yield publish.File("facts/f0.html", None, manifest["facts/f0.html"][4])
        page.write_text("edited after the build looked at it")
        yield publish.File("facts/f1.html", None, manifest["facts/f1.html"][4])

    with pytest.raises(PublishError, match=r"f1\.html changed during the build"):
        publish.publish(files(), out, content, manifest)
    assert page.read_text() == "edited after the build looked at it"
    assert (out / "facts/f0.html").is_file()
    assert [p for p in tmp_path.iterdir() if p.name.startswith(".site")] == []


# --- stretches: bytes of the previous copy, copied by the system ------------------------


def _source(tmp_path: Path, data: bytes) -> int:
    path = tmp_path / "previous-copy"
    path.write_bytes(data)
    return os.open(path, os.O_RDONLY)


COPY_REFUSED = {
    "copied": None,
    "another file system": OSError(errno.EXDEV, "Invalid cross-device link"),
    "no such call": OSError(errno.ENOSYS, "Function not implemented"),
    "not on this file system": OSError(errno.EOPNOTSUPP, "Operation not supported"),
    "not in this sandbox": OSError(errno.EPERM, "Operation not permitted"),
    "nothing copied": 0,
    "not there at all": AttributeError,
}


@pytest.mark.parametrize("how", COPY_REFUSED, ids=list(COPY_REFUSED))
def test_stretches_of_the_previous_copy_are_written_as_they_stand_there(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, how: str
) -> None:
    """Stretches (long ones, past what one copy or read moves) and bytes, in order, make
    the file, copied by the system or, where it refuses, read and written; its digest is
    not known, and a later publish of the same bytes compares them and keeps the file."""
    from dossier import publish

    data = bytes(range(256)) * 9000  # 2.3 MB: more than a read of 1 MB
    fd = _source(tmp_path, data)
    refused = COPY_REFUSED[how]
    asked: list[int] = []
    if refused is AttributeError:
        monkeypatch.delattr(os, "copy_file_range")
    elif refused is not None:
        real = os.copy_file_range

        def copy(src: int, dst: int, count: int, offset_src: int | None = None) -> int:
            asked.append(count)
            if isinstance(refused, OSError):
                raise refused
            return 0 if refused == 0 else real(src, dst, count, offset_src)

        monkeypatch.setattr(os, "copy_file_range", copy)
    content = make_content(tmp_path / "content", _cards(1))
    out = tmp_path / "site"
    parts: list[publish.Part] = [
        b"<head>", publish.Stretch(fd, 10, 2_000_000), b"middle", publish.Stretch(fd, 0, 5), b"",
    ]
    try:
        done = publish.publish([publish.File("big.bin", parts)], out, content)
    finally:
        os.close(fd)
    assert (out / "big.bin").read_bytes() == b"<head>" + data[10:2_000_010] + b"middle" + data[:5]
    assert done.written == 1 and done.manifest["big.bin"][0] == ""  # (not known)
    if refused is None or refused is AttributeError:
        assert asked == []
    else:  # refused once, it is not asked again for the file; copying nothing is no refusal
        assert len(asked) == (1 if isinstance(refused, OSError) else 2)
    was = os.stat(out / "big.bin")
    same = [publish.File("big.bin", [(out / "big.bin").read_bytes()])]
    again = publish.publish(same, out, content, done.manifest)
    now = os.stat(out / "big.bin")
    assert again.kept == 1 and (now.st_ino, now.st_mtime_ns) == (was.st_ino, was.st_mtime_ns)
    assert again.manifest["big.bin"][0] != ""  # known again
    other = publish.publish([publish.File("big.bin", [b"other"])], out, content, again.manifest)
    assert other.written == 1 and (out / "big.bin").read_bytes() == b"other"


def _full(*args: object) -> int:
    raise OSError(errno.ENOSPC, "No space left on device")


STRETCH_FAILS = {
    # the copy cut short after it was vouched for: it changed
    "past the end": (b"short", None, PublishError, "changed during the build"),
    # a full disk while copying is not a refusal to copy: a failure to write
    "a full disk": (b"0123456789", _full, OSError, "No space left"),
}


@pytest.mark.parametrize("how", STRETCH_FAILS, ids=list(STRETCH_FAILS))
def test_a_stretch_that_cannot_be_copied_stops_the_publish(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, how: str
) -> None:
    """Nothing is published, and nothing is left behind."""
    from dossier import publish

    data, copy, raised, said = STRETCH_FAILS[how]
    content = make_content(tmp_path / "content", _cards(1))
    out = tmp_path / "site"
    publish.publish([publish.File("a.txt", b"as it was")], out, content)
    if copy is not None:
        monkeypatch.setattr(os, "copy_file_range", copy)
    fd = _source(tmp_path, data)
    try:
        with pytest.raises(raised, match=said):
            publish.publish([publish.File("a.txt", [publish.Stretch(fd, 2, 8)])], out, content)
    finally:
        os.close(fd)
    assert (out / "a.txt").read_bytes() == b"as it was"
    assert [p for p in tmp_path.iterdir() if p.name.startswith(".site")] == []
