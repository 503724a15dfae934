"""The last check's verdict: reused only while the content folder is exactly as it was."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from dossier import cache, check
from dossier import survey as surveys
from dossier.cli import main

from .conftest import CARD, make_content, write


@pytest.fixture
def settled(monkeypatch: pytest.MonkeyPatch) -> None:
    """Files written by the test count as settled (no clock tick to wait out)."""
    monkeypatch.setattr(surveys, "RACY_NS", 0)


def run(in_tmp: Path, *args: str) -> Result:
    runner = CliRunner(env={"DOSSIER_CACHE_DIR": str(in_tmp / "cache")})
    return runner.invoke(main, ["check", "content", *args])


def refuse_to_read(monkeypatch: pytest.MonkeyPatch) -> None:
    def boom(*args: object, **kwargs: object) -> None:
        raise AssertionError("the content was read again")

    monkeypatch.setattr(check, "read_content", boom)


def test_an_unchanged_folder_is_answered_without_reading_it(
    in_tmp: Path, settled: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    make_content(in_tmp / "content", {"bad.yaml": CARD.replace("wire", "nope")})
    first = run(in_tmp, "--format", "json")
    assert first.exit_code == 1 and "unknown-source" in first.stdout
    refuse_to_read(monkeypatch)
    for fmt in ("json", "text", "github"):
        again = run(in_tmp, "--format", fmt)
        assert again.exit_code == 1, again.output
    assert run(in_tmp, "--format", "json").stdout == first.stdout


def test_the_verdict_matches_a_fresh_check_in_every_format(in_tmp: Path, settled: None) -> None:
    make_content(in_tmp / "content", {"b.yaml": CARD.replace("status: confirmed", "status: maybe")})
    for fmt in ("text", "json", "github", "markdown"):
        fresh = run(in_tmp, "--format", fmt, "--no-cache")
        run(in_tmp, "--format", fmt)  # stores the verdict
        recalled = run(in_tmp, "--format", fmt)
        assert (recalled.exit_code, recalled.output) == (fresh.exit_code, fresh.output), fmt


@pytest.mark.parametrize(
    "change",
    ["edit-keeping-size-and-mtime", "new-card", "removed-card", "source-edited", "renamed-card", "link"],
)
def test_any_change_to_the_folder_is_checked_afresh(in_tmp: Path, settled: None, change: str) -> None:
    content = make_content(in_tmp / "content", {"a.yaml": CARD, "b.yaml": CARD + "related: [a]\n"})
    assert run(in_tmp).exit_code == 0
    card = content / "facts/b.yaml"
    if change == "edit-keeping-size-and-mtime":
        st = card.stat()
        card.write_text(card.read_text().replace("status: confirmed", "status: confirmex"))
        os.utime(card, ns=(st.st_atime_ns, st.st_mtime_ns))
        assert card.stat().st_size == st.st_size
    elif change == "new-card":
        write(content, "facts/sub/c.yaml", CARD.replace("wire", "nope"))
    elif change == "removed-card":
        (content / "facts/a.yaml").unlink()
    elif change == "source-edited":
        path = content / "sources/wire.txt"
        path.write_text(path.read_text().replace("car", "cat"))
    elif change == "renamed-card":
        card.rename(content / "facts/B.yaml")  # not a valid id
    elif change == "link":
        card.unlink()
        card.symlink_to(in_tmp / "outside.yaml")
        (in_tmp / "outside.yaml").write_text(CARD)
    result = run(in_tmp)
    assert result.exit_code == 1, (change, result.output)


def test_strict_and_the_working_directory_have_verdicts_of_their_own(in_tmp: Path, settled: None) -> None:
    make_content(in_tmp / "content", {"b.yaml": CARD.replace("wire", "nope")})
    absolute = str(in_tmp / "content")
    runner = CliRunner(env={"DOSSIER_CACHE_DIR": str(in_tmp / "cache")})
    here = runner.invoke(main, ["check", absolute])
    assert here.exit_code == 1 and "\ncontent/facts/b.yaml:" in "\n" + here.stdout
    assert runner.invoke(main, ["check", absolute, "--strict"]).exit_code == 1
    os.mkdir(in_tmp / "elsewhere")
    os.chdir(in_tmp / "elsewhere")
    moved = runner.invoke(main, ["check", absolute])
    assert moved.exit_code == 1 and "\n../content/facts/b.yaml:" in "\n" + moved.stdout
    assert len(list((in_tmp / "cache").glob("check-*"))) == 1  # one verdict a folder: the last


def test_a_warning_is_an_error_only_under_strict(in_tmp: Path, settled: None) -> None:
    source = "The car was a gift. It was not new, and it cost 300 dollars, they said at the time.\n"
    quote = "The car was a gift ... they said at the time"
    card = CARD.split("evidence:")[0] + f'evidence:\n  - source: wire\n    quote: "{quote}"\n'
    content = make_content(in_tmp / "content", {"b.yaml": card}, pin=False)
    write(content, "sources/wire.txt", source)
    assert run(in_tmp).exit_code == 0
    assert run(in_tmp, "--strict").exit_code == 1
    assert run(in_tmp).exit_code == 0  # recalled, not the strict verdict
    assert run(in_tmp, "--strict").exit_code == 1


def test_a_freshly_written_folder_gets_no_verdict(in_tmp: Path) -> None:
    """A file written within the clock's resolution could change again unseen: no verdict."""
    make_content(in_tmp / "content")
    assert run(in_tmp).exit_code == 0
    assert not list((in_tmp / "cache").glob("check-*"))


def test_no_cache_neither_reads_nor_stores_a_verdict(
    in_tmp: Path, settled: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    make_content(in_tmp / "content")
    assert run(in_tmp, "--no-cache").exit_code == 0
    assert not (in_tmp / "cache").exists()
    assert run(in_tmp).exit_code == 0
    assert list((in_tmp / "cache").glob("check-*"))
    calls: list[object] = []
    monkeypatch.setattr(cache, "load_verdict", lambda path: calls.append(path))
    assert run(in_tmp, "--no-cache").exit_code == 0
    assert calls == []


def test_a_damaged_verdict_is_ignored(in_tmp: Path, settled: None) -> None:
    make_content(in_tmp / "content", {"b.yaml": CARD.replace("wire", "nope")})
    first = run(in_tmp)
    [stored] = (in_tmp / "cache").glob("check-*")
    stored.write_bytes(b"\x00garbage")
    assert cache.load_verdict(stored) is None
    again = run(in_tmp)
    assert (again.exit_code, again.output) == (first.exit_code, first.output) == (1, first.output)


# --- a few edited cards are checked on their own ------------------------------------------


def spy_on_reading(monkeypatch: pytest.MonkeyPatch) -> list[set[str] | None]:
    """The ``only`` of every read of the content folder (None: everything was read)."""
    calls: list[set[str] | None] = []
    real = check.read_content

    def spying(root: Path, cache: object = None, *, only: set[str] | None = None, **more: object) -> object:
        calls.append(only)
        return real(root, cache, only=only, **more)  # type: ignore[arg-type]

    monkeypatch.setattr(check, "read_content", spying)
    return calls


def agrees_with_a_full_check(in_tmp: Path, calls: list[set[str] | None]) -> list[set[str] | None]:
    """Check (recalled as far as it can be), then check afresh: the two must agree. Returns
    the reads the first check made."""
    recalled = run(in_tmp, "--format", "json")
    made = list(calls)
    fresh = run(in_tmp, "--format", "json", "--no-cache")
    assert (recalled.exit_code, recalled.stdout) == (fresh.exit_code, fresh.stdout)
    return made


OTHER = CARD.replace("Putin gave Kim a car.", "Another claim.")
EDITS = [
    ("b", OTHER.replace("status: confirmed", "status: maybe")),  # invalid value
    ("b", OTHER.replace("made car", "made bus")),  # back to valid, but the quote is not found
    ("c", OTHER.replace("entities: [putin]", "entities: [putin, nobody]\nstatus: again")),
    ("a", CARD + "related: [zz, b]\n"),  # an unknown fact, with a hint
    ("a", CARD),  # and fixed again
    ("d", "claim: [unclosed\n"),  # YAML that does not parse
    ("d", OTHER + "notes: fine now\n"),
]


def test_edited_cards_are_rechecked_alone_and_agree_with_a_full_check(
    in_tmp: Path, settled: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    cards = {"a.yaml": CARD, "b.yaml": OTHER, "c.yaml": OTHER, "sub/d.yaml": OTHER + "related: [a]\n"}
    content = make_content(in_tmp / "content", cards)
    assert run(in_tmp).exit_code == 0
    calls = spy_on_reading(monkeypatch)
    for card, text in EDITS:
        path = next((content / "facts").rglob(f"{card}.yaml"))
        path.write_text(text)
        calls.clear()
        recalled = run(in_tmp, "--format", "json")
        assert calls == [{f"content/facts/{path.relative_to(content / 'facts')}"}], (card, calls)
        fresh = run(in_tmp, "--format", "json", "--no-cache")
        assert (recalled.exit_code, recalled.stdout) == (fresh.exit_code, fresh.stdout), (card, text)
        again = run(in_tmp, "--format", "json")  # the rechecked verdict was stored
        assert again.stdout == fresh.stdout
    assert calls[-1] is None  # the last --no-cache run


def test_two_cards_edited_at_once(in_tmp: Path, settled: None, monkeypatch: pytest.MonkeyPatch) -> None:
    content = make_content(in_tmp / "content", {"a.yaml": CARD, "b.yaml": OTHER})
    assert run(in_tmp).exit_code == 0
    calls = spy_on_reading(monkeypatch)
    write(content, "facts/a.yaml", CARD.replace("wire", "nope"))
    write(content, "facts/b.yaml", OTHER.replace("made car", "made bus"))
    assert agrees_with_a_full_check(in_tmp, calls) == [{"content/facts/a.yaml", "content/facts/b.yaml"}]


def test_cards_added_or_removed_are_checked_with_those_they_name(
    in_tmp: Path, settled: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A card added is checked alone, with the cards that name a fact not there (it may be
    now, and the hint names the closest id there is); a card removed, with the cards that
    relate to it. Each time the verdict agrees with a full check."""
    content = make_content(in_tmp / "content", {"a.yaml": CARD, "c.yaml": OTHER, "sub/d.yaml": OTHER})
    assert run(in_tmp).exit_code == 0
    calls = spy_on_reading(monkeypatch)
    facts = "content/facts"
    steps: list[tuple[object, set[str] | None]] = [
        (lambda: write(content, "facts/b.yaml", OTHER), {f"{facts}/b.yaml"}),
        (lambda: write(content, "facts/c.yaml", OTHER + "related: [b, zz]\n"), {f"{facts}/c.yaml"}),
        # zz comes: c (which names it) is checked again, and its problem goes
        (lambda: write(content, "facts/sub/zz.yaml", OTHER), {f"{facts}/sub/zz.yaml", f"{facts}/c.yaml"}),
        # b goes: c relates to it, and now names a fact not there
        (lambda: (content / "facts/b.yaml").unlink(), {f"{facts}/c.yaml"}),
        # a card with problems of its own goes, and they with it
        (lambda: write(content, "facts/sub/d.yaml", "claim: [unclosed\n"), {f"{facts}/sub/d.yaml"}),
        (lambda: (content / "facts/sub/d.yaml").unlink(), {f"{facts}/c.yaml"}),
        # bb comes, whose id is close to the b that c names: the hint names it
        (lambda: write(content, "facts/bb.yaml", OTHER), {f"{facts}/bb.yaml", f"{facts}/c.yaml"}),
        # a card in a new folder: the folder is more than a card (everything is read)
        (lambda: write(content, "facts/new/e.yaml", OTHER), None),
    ]
    for step, read in steps:
        calls.clear()
        step()  # type: ignore[operator]
        assert agrees_with_a_full_check(in_tmp, calls) == [read], read
    assert "did you mean 'bb'" in run(in_tmp).stdout


@pytest.mark.parametrize("bad", [{"Bad.yaml": CARD}, {"a.yaml": CARD, "sub/a.yaml": OTHER}])
def test_the_cards_of_an_unclean_verdict_removed(in_tmp: Path, settled: None, bad: dict[str, str]) -> None:
    """A verdict whose cards' problems cannot be told apart (an id that is no id, or two
    cards of one id) keeps no cards: removing those cards is more than a verdict to keep."""
    content = make_content(in_tmp / "content", bad)  # (the last cards: none left after)
    assert run(in_tmp).exit_code == 1
    for name in bad:
        (content / "facts" / name).unlink()
    recalled = run(in_tmp, "--format", "json")
    fresh = run(in_tmp, "--format", "json", "--no-cache")
    assert (recalled.exit_code, recalled.stdout) == (fresh.exit_code, fresh.stdout) == (0, fresh.stdout)


def test_a_card_replaced_by_a_link_to_a_folder(in_tmp: Path, settled: None) -> None:
    """A link to a folder is no card, whatever its name: the fact it replaces is gone, and
    a card relating to it has an unknown fact (and back again)."""
    content = make_content(in_tmp / "content", {"a.yaml": CARD, "b.yaml": OTHER + "related: [a]\n"})
    (content / "facts/sub").mkdir()
    assert run(in_tmp).exit_code == 0
    (content / "facts/a.yaml").unlink()
    (content / "facts/a.yaml").symlink_to("sub")
    for _ in range(2):
        recalled = run(in_tmp, "--format", "json")
        fresh = run(in_tmp, "--format", "json", "--no-cache")
        assert (recalled.exit_code, recalled.stdout) == (fresh.exit_code, fresh.stdout)
        assert "no fact has the id 'a'" in fresh.stdout
        (content / "facts/a.yaml").unlink()
        write(content, "facts/a.yaml", CARD)
        recalled = run(in_tmp, "--format", "json")
        fresh = run(in_tmp, "--format", "json", "--no-cache")
        assert (recalled.exit_code, recalled.stdout) == (fresh.exit_code, fresh.stdout) == (0, fresh.stdout)
        (content / "facts/a.yaml").unlink()
        (content / "facts/a.yaml").symlink_to("sub")


@pytest.mark.parametrize("change", ["source-edited", "entities-edited"])
def test_a_change_beyond_the_cards_checks_everything(
    in_tmp: Path, settled: None, monkeypatch: pytest.MonkeyPatch, change: str
) -> None:
    content = make_content(in_tmp / "content", {"a.yaml": CARD})
    assert run(in_tmp).exit_code == 0
    calls = spy_on_reading(monkeypatch)
    if change == "source-edited":
        write(content, "sources/wire.yaml", "title: Changed\n")
    else:
        write(content, "entities.yaml", "kim:\n  name: Kim\n")
    assert agrees_with_a_full_check(in_tmp, calls) == [None]


def test_cards_sharing_an_id_are_never_rechecked_alone(
    in_tmp: Path, settled: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    content = make_content(in_tmp / "content", {"a.yaml": CARD, "sub/a.yaml": OTHER})
    first = run(in_tmp)
    assert first.exit_code == 1 and "duplicate-id" in first.stdout
    calls = spy_on_reading(monkeypatch)
    write(content, "facts/sub/a.yaml", OTHER.replace("status: confirmed", "status: maybe"))
    assert agrees_with_a_full_check(in_tmp, calls) == [None]


def test_an_editors_swap_file_beside_a_card_changes_nothing(
    in_tmp: Path, settled: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    content = make_content(in_tmp / "content", {"a.yaml": CARD, "b.yaml": OTHER})
    assert run(in_tmp).exit_code == 0
    calls = spy_on_reading(monkeypatch)
    write(content, "facts/.b.yaml.swp", b"\x00vim swap")
    write(content, "facts/b.yaml~", OTHER)
    assert run(in_tmp).exit_code == 0
    assert calls == []
    write(content, "facts/b.yaml", OTHER.replace("status: confirmed", "status: maybe"))
    recalled = run(in_tmp, "--format", "json")
    assert calls == [{"content/facts/b.yaml"}]
    assert recalled.stdout == run(in_tmp, "--format", "json", "--no-cache").stdout


@pytest.mark.parametrize(
    ("linked", "old", "new"),
    [
        ("dossier.yaml", "id: gift", "id: other"),  # the card's section is gone
        ("sources/wire.txt", "car", "cat"),  # the pinned hash no longer holds
        ("facts/a.yaml", "status: confirmed", "status: x"),
    ],
)
def test_an_edit_behind_a_link_shows(in_tmp: Path, settled: None, linked: str, old: str, new: str) -> None:
    content = make_content(in_tmp / "content", {"a.yaml": CARD})
    real = content / "kept" / Path(linked).name
    real.parent.mkdir()
    os.rename(content / linked, real)
    (content / linked).symlink_to(real)
    assert run(in_tmp).exit_code == 0
    real.write_text(real.read_text().replace(old, new))
    assert run(in_tmp).exit_code == 1
    assert run(in_tmp, "--format", "json").stdout == run(in_tmp, "--format", "json", "--no-cache").stdout


def test_the_content_folder_given_as_dot(
    in_tmp: Path, settled: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Cards are named alike by the survey and the reader, whatever the folder is called."""
    content = make_content(in_tmp / "content", {"a.yaml": CARD, "b.yaml": OTHER})
    os.chdir(content)
    runner = CliRunner(env={"DOSSIER_CACHE_DIR": str(in_tmp / "cache")})
    assert runner.invoke(main, ["check", "."]).exit_code == 0
    calls = spy_on_reading(monkeypatch)
    write(content, "facts/b.yaml", OTHER.replace("made car", "made bus"))
    recalled = runner.invoke(main, ["check", ".", "--format", "json"])
    assert calls == [{"facts/b.yaml"}]
    fresh = runner.invoke(main, ["check", ".", "--format", "json", "--no-cache"])
    assert (recalled.exit_code, recalled.stdout) == (fresh.exit_code, fresh.stdout) == (1, fresh.stdout)
    write(content, "facts/b.yaml", OTHER)  # and fixed: the old error must not linger
    recalled = runner.invoke(main, ["check", ".", "--format", "json"])
    fresh = runner.invoke(main, ["check", ".", "--format", "json", "--no-cache"])
    assert (recalled.exit_code, recalled.stdout) == (fresh.exit_code, fresh.stdout) == (0, fresh.stdout)


@pytest.mark.parametrize(
    "case", ["link-to-folder-in-facts", "facts-is-a-link", "sources-is-a-link", "facts-file"]
)
def test_folders_that_are_links_or_files(in_tmp: Path, settled: None, case: str) -> None:
    content = make_content(in_tmp / "content", {"a.yaml": CARD})
    if case == "link-to-folder-in-facts":
        (in_tmp / "elsewhere").mkdir()
        (content / "facts/more").symlink_to(in_tmp / "elsewhere")
    elif case in ("facts-is-a-link", "sources-is-a-link"):
        folder = "facts" if case == "facts-is-a-link" else "sources"
        os.rename(content / folder, content / "kept")
        (content / folder).symlink_to(content / "kept")
    else:
        (content / "facts/a.yaml").unlink()
        (content / "facts").rmdir()
        (content / "facts").write_text("not a folder\n")
    for step in range(3):
        recalled = run(in_tmp, "--format", "json")
        fresh = run(in_tmp, "--format", "json", "--no-cache")
        assert (recalled.exit_code, recalled.stdout) == (fresh.exit_code, fresh.stdout), (case, step)
        if step == 0 and case in ("facts-is-a-link", "sources-is-a-link"):
            kept = content / "kept" / ("a.yaml" if case == "facts-is-a-link" else "wire.txt")
            kept.write_text(kept.read_text().replace("car", "cat").replace("confirmed", "x"))
        elif step == 0 and case == "facts-file":
            (content / "facts").unlink()
        elif step == 0:
            (content / "facts/more").unlink()


# --- a build with nothing to do does nothing -----------------------------------------------


def build_cli(in_tmp: Path, *args: str, env: dict[str, str] | None = None) -> Result:
    runner = CliRunner(env={"DOSSIER_CACHE_DIR": str(in_tmp / "cache"), **(env or {})})
    return runner.invoke(main, ["build", "content", "--out", "site", *args])


def refuse_to_render(monkeypatch: pytest.MonkeyPatch) -> None:
    from dossier import build as build_module

    def boom(*args: object, **kwargs: object) -> None:
        raise AssertionError("rendered again")

    monkeypatch.setattr(build_module, "render_files", boom)
    monkeypatch.setattr(check, "read_content", boom)


def test_a_build_with_nothing_changed_reads_and_writes_nothing(
    in_tmp: Path, settled: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    skips_a_date = '"The car was handed over ... the agency reported on Tuesday"'
    warns = CARD.replace('"Putin gave Kim Jong Un a Russian-made car"', skips_a_date)
    make_content(in_tmp / "content", {"a.yaml": CARD, "b.yaml": warns})
    first = build_cli(in_tmp)
    assert first.exit_code == 0 and "warning[" in first.output, first.output
    before = {p: p.stat().st_mtime_ns for p in (in_tmp / "site").rglob("*")}
    with monkeypatch.context() as m:
        refuse_to_render(m)
        again = build_cli(in_tmp)
        assert again.exit_code == 0, again.output
        assert again.stdout == first.stdout  # the same warnings
        assert "(0 files written" in again.stderr
        assert run(in_tmp).exit_code == 0  # and the check is recalled from the build's verdict
    assert {p: p.stat().st_mtime_ns for p in (in_tmp / "site").rglob("*")} == before


@pytest.mark.parametrize(
    "change",
    [
        "card",
        "template",
        "build-date",
        "page-edited",
        "page-deleted",
        "markdown-it-upgraded",
        "dossier-edited",
        "no-cache",
    ],
)
def test_a_build_whose_inputs_or_output_changed_builds(
    in_tmp: Path, settled: None, change: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    from dossier import build as build_module

    content = make_content(in_tmp / "content", {"a.yaml": CARD})
    assert build_cli(in_tmp).exit_code == 0
    rendered: list[object] = []
    real = build_module.render_files

    def counting(*args: object, **kwargs: object) -> object:
        rendered.append(args)
        return real(*args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(build_module, "render_files", counting)
    env: dict[str, str] = {}
    args: list[str] = []
    if change == "card":
        write(content, "facts/a.yaml", CARD.replace("Putin gave Kim a car.", "Putin gave Kim a limousine."))
    elif change == "template":
        write(in_tmp, "templates/404.html", "{% extends 'base.html' %}{% block main %}Lost.{% endblock %}\n")
    elif change == "build-date":
        env = {"SOURCE_DATE_EPOCH": "86400"}
    elif change == "page-edited":
        (in_tmp / "site/facts/a.html").write_text("vandalised")
    elif change == "page-deleted":
        (in_tmp / "site/index.html").unlink()
    elif change == "markdown-it-upgraded":
        upgraded = build_module.markdown_it_version() + ".1"  # (read from its metadata)
        monkeypatch.setattr(build_module, "markdown_it_version", lambda: upgraded)
    elif change == "dossier-edited":  # a checkout's code changed, its version did not
        edited = build_module.code_digest() + "-edited"
        monkeypatch.setattr(build_module, "code_digest", lambda: edited)
    else:
        args = ["--no-cache"]
    build_module.render_digest.cache_clear()  # made once a process: as in a new one
    try:
        again = build_cli(in_tmp, *args, env=env)
    finally:
        build_module.render_digest.cache_clear()
    assert again.exit_code == 0, again.output
    assert len(rendered) == 1, change
    fresh = CliRunner(env=env).invoke(main, ["build", "content", "--out", "fresh", "--no-cache"])
    assert fresh.exit_code == 0
    made = {p.relative_to(in_tmp / "fresh") for p in (in_tmp / "fresh").rglob("*")}
    assert made == {p.relative_to(in_tmp / "site") for p in (in_tmp / "site").rglob("*")}, change
    for page in (in_tmp / "fresh").rglob("*.html"):
        assert page.read_bytes() == (in_tmp / "site" / page.relative_to(in_tmp / "fresh")).read_bytes()


def test_a_build_that_did_nothing_keeps_the_cache_of_cards_and_quotes(
    in_tmp: Path, settled: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    from dossier import plaincard, quotes

    content = make_content(in_tmp / "content", {"a.yaml": CARD, "b.yaml": OTHER, "c.yaml": OTHER})
    assert build_cli(in_tmp).exit_code == 0
    assert "(0 files written" in build_cli(in_tmp).stderr  # did nothing
    parsed: list[str] = []
    searched: list[str] = []
    real_parse, real_verify = plaincard.read, quotes.verify  # (each card parsed is offered it first)
    monkeypatch.setattr(
        plaincard, "read", lambda text, shown, fid: parsed.append(fid) or real_parse(text, shown, fid)
    )
    monkeypatch.setattr(quotes, "verify", lambda q, s, o: searched.append(q) or real_verify(q, s, o))
    write(content, "facts/b.yaml", OTHER.replace("Another claim.", "Another claim, edited."))
    assert build_cli(in_tmp).exit_code == 0
    assert parsed == ["b"]  # the other cards, and every quote, came from the cache
    assert searched == []
