"""Reading content: YAML pitfalls, paths and sources, through the core functions."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from dossier.check import check
from dossier.problems import Problem
from dossier.readers import MAX_CARD_BYTES, read_content, read_content_prepared

from .conftest import CARD, SOURCE_TEXT, make_content, write


def problems_for(root: Path) -> list[Problem]:
    return check(root).problems


def codes(root: Path) -> list[tuple[str, int, int, str]]:
    return [(Path(p.pos.file).name, p.pos.line, p.pos.column, p.code) for p in problems_for(root)]


def card_case(tmp_path: Path, text: str | bytes) -> list[tuple[str, int, int, str]]:
    content = make_content(tmp_path / "content", facts={})
    write(content, "facts/a.yaml", text)
    return codes(content)


def test_valid_content_reads_into_typed_records(content: Path) -> None:
    model, problems = read_content(content)
    assert problems == []
    assert model is not None
    fact = model.facts["gift"]
    assert fact.status == "confirmed"
    assert fact.evidence[0].stance == "supports"
    assert fact.evidence[0].quote_pos.line == 7
    assert model.sources["wire"].text == SOURCE_TEXT
    with pytest.raises(AttributeError):
        fact.status = "refuted"  # type: ignore[misc]


@pytest.mark.parametrize(
    ("yaml_text", "expected"),
    [
        ("status: no", ("a.yaml", 2, 9, "invalid-value")),  # YAML 1.1 would read False
        ("status: off", ("a.yaml", 2, 9, "invalid-value")),
        ("date: 2024-02-30", ("a.yaml", 8, 7, "invalid-value")),
        ("date: 2024-13", ("a.yaml", 8, 7, "invalid-value")),
        ("date: 24-02-18", ("a.yaml", 8, 7, "invalid-value")),
        ("date: 1:30", ("a.yaml", 8, 7, "invalid-value")),  # sexagesimal in YAML 1.1
        ("tags: yes", ("a.yaml", 8, 7, "invalid-value")),
        ("section: 0o17", ("a.yaml", 3, 10, "invalid-value")),
    ],
)
def test_yaml_1_1_surprises_are_clean_errors(tmp_path: Path, yaml_text: str, expected: tuple) -> None:
    key = yaml_text.split(":")[0]
    lines = [ln for ln in CARD.splitlines() if not ln.startswith(f"{key}:")]
    if key in ("status", "section"):
        idx = 1 if key == "status" else 2
        lines.insert(idx, yaml_text)
    else:
        lines.append(yaml_text)
    assert expected in card_case(tmp_path, "\n".join(lines) + "\n")


def test_yaml_1_1_values_in_text_fields_stay_text(tmp_path: Path) -> None:
    content = make_content(tmp_path / "content", facts={})
    write(content, "facts/a.yaml", CARD + "tags: [yes, no, 010, 1:30, 2024-02-18]\n")
    model, problems = read_content(content)
    assert problems == []
    assert model is not None
    assert model.facts["a"].tags == ("yes", "no", "010", "1:30", "2024-02-18")


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("", ("a.yaml", 1, 1, "missing-field")),
        ("- claim: x\n", ("a.yaml", 1, 1, "invalid-value")),
        ("just a string\n", ("a.yaml", 1, 1, "invalid-value")),
        (CARD + "---\nclaim: again\n", ("a.yaml", 8, 1, "yaml-syntax")),
        ("claim: " + "[" * 60 + "]" * 60 + "\n", ("a.yaml", 1, 57, "yaml-syntax")),
        (CARD.replace("status", "\tstatus"), ("a.yaml", 2, 1, "yaml-syntax")),
        (CARD + "notes: a\0b\n", ("a.yaml", 8, 9, "yaml-syntax")),
        (CARD + "notes: &a x\n", ("a.yaml", 8, 8, "yaml-anchor")),
        (CARD + "x: !!python/name:os.system ''\n", ("a.yaml", 8, 4, "yaml-tag")),
        (b"\xef\xbb\xbf" + CARD.encode(), None),  # a BOM is fine
        (CARD.replace("\n", "\r\n").encode(), None),  # so are CRLF line ends
    ],
)
def test_yaml_shapes(tmp_path: Path, text: str | bytes, expected: tuple | None) -> None:
    found = card_case(tmp_path, text)
    if expected is None:
        assert found == []
    else:
        assert expected in found, found


def test_alias_bomb_is_refused_fast(tmp_path: Path) -> None:
    bomb = 'a: &a ["x","x"]\nb: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a]\nc: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b]\n'
    assert ("a.yaml", 1, 4, "yaml-anchor") in card_case(tmp_path, bomb)


def test_card_over_the_size_limit(tmp_path: Path) -> None:
    text = CARD + "notes: " + "x" * MAX_CARD_BYTES + "\n"
    assert ("a.yaml", 1, 1, "file-too-large") in card_case(tmp_path, text)


@pytest.mark.parametrize("grown", [10, MAX_CARD_BYTES])
def test_a_card_that_grows_once_its_size_is_taken_is_read_whole(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, grown: int
) -> None:
    """A file is read by the size ``fstat`` gave it; one that has grown since is read on,
    to the limit, and one grown past it is refused as too large."""
    text = CARD + "notes: " + "x" * grown + "\n"
    real = os.fstat

    def earlier(fd: int) -> os.stat_result:  # the size the card had a moment before
        st = real(fd)
        return os.stat_result((*st[:6], len(CARD), *st[7:]))

    monkeypatch.setattr(os, "fstat", earlier)
    content = make_content(tmp_path / "content", facts={})
    write(content, "facts/a.yaml", text)
    model, problems = read_content(content)
    if grown < MAX_CARD_BYTES:
        assert problems == []
        assert model is not None and model.facts["a"].notes == "x" * grown
    else:
        assert [(p.code, p.message) for p in problems] == [
            ("file-too-large", f"the file is larger than {MAX_CARD_BYTES:,} bytes")
        ]


def test_a_short_read_is_read_on(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A read that gives fewer bytes than ``fstat`` promised is not taken for the end."""
    real = os.read

    def short(fd: int, n: int) -> bytes:
        return real(fd, max(1, n // 3))

    monkeypatch.setattr(os, "read", short)
    content = make_content(tmp_path / "content")
    model, problems = read_content(content)
    assert problems == [] and model is not None
    assert model.sources["wire"].text == SOURCE_TEXT and model.facts["gift"].claim == "Putin gave Kim a car."


def _troubled(root: Path) -> Path:
    """A dossier with problems in its sources and its cards, for readers to agree on."""
    make_content(root, {"gift.yaml": CARD, "b.yaml": CARD.replace("wire", "nowhere"), "Bad.yaml": CARD})
    write(root, "sources/lonely.txt", "text")
    write(root, "sources/wire.md", "other text")
    write(root, "sources/odd.txt", "An odd text.\n")
    write(root, "sources/odd.yaml", "title: [1, 2]\n")
    write(root, "facts/c.yaml", "claim: [unclosed\n")
    write(root, "entities.yaml", "putin:\n  name: Vladimir Putin\n  kind: person\nrobot:\n  kind: droid\n")
    return root


@pytest.mark.parametrize("forked", [True, False])
def test_sources_read_beside_the_cards_are_read_the_same(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, forked: bool
) -> None:
    """``read_content_prepared``: the content and problems ``read_content`` gives, and each
    source's text prepared, whether a child read the sources or (none forked) this process."""
    if not forked:
        monkeypatch.setattr(os, "fork", lambda: (_ for _ in ()).throw(OSError(11, "no more processes")))
    root = _troubled(tmp_path / "content")
    model, problems = read_content(root)
    got, got_problems, prepared = read_content_prepared(root, lambda text: (text.upper(), os.getpid()))
    assert model is not None and got == model
    assert sorted(got_problems, key=Problem.sort_key) == sorted(problems, key=Problem.sort_key)
    assert {p.code for p in problems} >= {"missing-file", "duplicate-id", "invalid-value", "unknown-source"}
    assert any(p.pos.file.endswith("entities.yaml") for p in problems)
    assert {sid: text for sid, (text, _) in prepared.items()} == {
        sid: s.text.upper() for sid, s in model.sources.items()
    }
    made_by = {pid for _, pid in prepared.values()}
    assert made_by == ({os.getpid()} if not forked else made_by - {os.getpid()}) and made_by


def test_what_a_child_reads_is_as_safe_as_what_is_read_here(tmp_path: Path) -> None:
    """The sources read by a child: a link leading outside is refused unread, one leading
    inside is followed, a FIFO does not hang it, and each says so as reading here does."""
    root = make_content(tmp_path / "content", pin=False)
    secret = tmp_path / "secret.txt"
    secret.write_text("Putin gave Kim Jong Un a Russian-made car, the secret said.")
    write(root, "sources/leak.yaml", "title: Leak\n")
    (root / "sources/leak.txt").symlink_to(secret)
    write(root, "kept.txt", "Kept inside, and quoted from nowhere.\n")
    write(root, "sources/kept.yaml", "title: Kept\n")
    (root / "sources/kept.txt").symlink_to(root / "kept.txt")
    os.mkfifo(root / "sources/pipe.txt")
    write(root, "sources/pipe.yaml", "title: Pipe\n")
    model, problems = read_content(root)
    got, got_problems, prepared = read_content_prepared(root, lambda text: os.getpid())
    assert got == model
    assert sorted(got_problems, key=Problem.sort_key) == sorted(problems, key=Problem.sort_key)
    assert {(Path(p.pos.file).name, p.code) for p in problems} == {
        ("leak.txt", "unsafe-path"),
        ("pipe.txt", "source-unreadable"),
    }
    assert model is not None and set(model.sources) == {"wire", "kept"}
    assert set(prepared) == {"wire", "kept"} and os.getpid() not in prepared.values()


def test_sources_read_beside_fill_a_cache_as_reading_them_here_does(tmp_path: Path) -> None:
    """What a child reading the sources adds to a cache (their metadata, the texts of an
    HTML and a PDF) and marks as used is what reading them here adds and marks, into an
    empty cache and into one that knows them all."""
    from dossier import cache

    from .test_sources import HTML, PDF, add_source

    root = _troubled(tmp_path / "content")
    add_source(root, "notice", "html", HTML)
    add_source(root, "report", "pdf", PDF)
    here, beside = cache.Cache(), cache.Cache()
    for _ in range(2):  # (empty, then warm)
        read_content(root, here)
        _, _, prepared = read_content_prepared(root, lambda text: os.getpid(), beside)
        assert os.getpid() not in prepared.values()  # (a child's, not made here)
        fields = ("cards", "extracted", "used_cards", "used_extracted", "changed", "cheap", "costly")
        assert [getattr(beside, f) for f in fields] == [getattr(here, f) for f in fields]
        assert beside.extracted and beside.used_extracted and len(beside.cards) > 3
        here, beside = cache.load_bytes(cache.dump(here)), cache.load_bytes(cache.dump(beside))


def test_invalid_utf8_names_the_byte(tmp_path: Path) -> None:
    content = make_content(tmp_path / "content")
    write(content, "sources/wire.txt", SOURCE_TEXT.encode() + b"caf\xe9\n")
    write(content, "sources/wire.yaml", "title: Wire\n")
    [problem] = [p for p in problems_for(content) if p.code == "source-unreadable"]  # (SPEC §4's code)
    assert (problem.pos.line, problem.pos.column) == (4, 4)
    assert f"byte 0xe9 at offset {len(SOURCE_TEXT.encode()) + 3}" in problem.message


def test_sha256_pins_the_source(content: Path) -> None:
    (content / "sources/wire.txt").write_text(SOURCE_TEXT.replace("Feb.", "Jan."))
    assert ("wire.yaml", 3, 9, "source-changed") in codes(content)


def test_symlinked_source_outside_content_is_refused(tmp_path: Path) -> None:
    content = make_content(tmp_path / "content", pin=False)
    secret = tmp_path / "secret.txt"
    secret.write_text("Putin gave Kim Jong Un a Russian-made car, the secret said.")
    (content / "sources/wire.txt").unlink()
    (content / "sources/wire.txt").symlink_to(secret)
    found = codes(content)
    assert ("wire.txt", 1, 1, "unsafe-path") in found


def test_symlink_inside_content_is_fine(tmp_path: Path) -> None:
    content = make_content(tmp_path / "content", pin=False)
    os.rename(content / "sources/wire.txt", content / "wire-original.txt")
    (content / "sources/wire.txt").symlink_to(content / "wire-original.txt")
    assert codes(content) == []


def test_symlinked_fact_folder_is_not_followed(tmp_path: Path) -> None:
    content = make_content(tmp_path / "content")
    outside = tmp_path / "elsewhere"
    write(outside, "x.yaml", CARD)
    (content / "facts/linked").symlink_to(outside)
    assert ("linked", 1, 1, "unsafe-path") in codes(content)


def test_directory_where_a_file_is_expected(tmp_path: Path) -> None:
    content = make_content(tmp_path / "content")
    (content / "facts/dir.yaml").mkdir()
    write(content, "facts/dir.yaml/inner.txt", "x")
    found = codes(content)
    assert found == [] or all(code != "internal" for *_, code in found)
    (content / "dossier.yaml").unlink()
    (content / "dossier.yaml").mkdir()
    assert ("dossier.yaml", 1, 1, "yaml-unreadable") in codes(content)


def test_bad_file_names_are_invalid_ids(tmp_path: Path) -> None:
    content = make_content(tmp_path / "content")
    write(content, "facts/Gift.yaml", CARD)
    write(content, "facts/..yaml", CARD)  # (its suffix is .yaml, as Path has it: a card)
    found = codes(content)
    assert ("Gift.yaml", 1, 1, "invalid-value") in found and ("..yaml", 1, 1, "invalid-value") in found


def test_source_text_without_metadata_and_two_texts_for_one_id(tmp_path: Path) -> None:
    content = make_content(tmp_path / "content")
    write(content, "sources/lonely.txt", "text")
    write(content, "sources/wire.md", "other text")
    found = codes(content)
    assert ("lonely.txt", 1, 1, "missing-file") in found
    assert ("wire.txt", 1, 1, "duplicate-id") in found or ("wire.md", 1, 1, "duplicate-id") in found


def test_duplicate_section_ids(tmp_path: Path) -> None:
    content = make_content(tmp_path / "content")
    write(
        content,
        "dossier.yaml",
        "title: T\nsections:\n  - id: gift\n    title: A\n  - id: gift\n    title: B\n",
    )
    assert ("dossier.yaml", 5, 9, "duplicate-id") in codes(content)


def test_quote_settings_apply(tmp_path: Path) -> None:
    content = make_content(tmp_path / "content")
    write(content, "dossier.yaml", "title: T\nsections: [{id: gift, title: G}]\nquotes:\n  min_words: 12\n")
    assert ("gift.yaml", 7, 12, "quote-too-short") in codes(content)
    write(content, "dossier.yaml", "title: T\nquotes:\n  min_words: -1\n  max_omision: 3\n")
    found = codes(content)
    assert ("dossier.yaml", 3, 14, "invalid-value") in found
    assert ("dossier.yaml", 4, 3, "unknown-field") in found


def test_fast_and_event_paths_build_the_same_tree() -> None:
    from dossier.yamlread import _parse_events, _parse_fast

    repo = Path(__file__).resolve().parent.parent
    files = sorted((repo / "content").rglob("*.yaml")) + sorted((repo / "tests/fixtures").rglob("*.yaml"))
    extra = [CARD + "status: again\n", "a: [1, {b: c}]\nd: |\n  block\n  text\ne: 'q''s'\n", "x: y # c\n"]
    texts = [f.read_text() for f in files] + extra
    assert len(texts) > 40
    for text in texts:
        assert repr(_parse_fast(text, "f")) == repr(_parse_events(text, "f"))  # repr names the node types


def test_a_fifo_in_sources_does_not_hang(tmp_path: Path) -> None:
    content = make_content(tmp_path / "content")
    os.mkfifo(content / "sources/pipe.txt")
    write(content, "sources/pipe.yaml", "title: Pipe\n")
    assert ("pipe.txt", 1, 1, "source-unreadable") in codes(content)
