"""An update: after some cards were edited, a build makes only what the edits touched and
lists the rest from the last build's ledger, and its site is byte for byte the site a
full build makes."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from dossier import build as build_module
from dossier import cache, publish, readers
from dossier import survey as surveys
from dossier.build import BuildResult, build
from dossier.problems import Verdict
from dossier.serve import DevServer, snapshot

from .conftest import SOURCE_TEXT, write

SECOND = "The talks in Vladivostok lasted two days.\n\nBoth sides signed a deal on rail links.\n"

QUOTES = {
    "wire": ["Putin gave Kim Jong Un a Russian-made car", "The car was handed over on Feb. 18"],
    "talks": ["The talks in Vladivostok lasted two days", "Both sides signed a deal on rail links"],
}


def card(i: int, *, claim: str = "", status: str = "confirmed", date: str | None = None,
         section: str = "gift", related: tuple[int, ...] = (), quote: tuple[str, int] = ("wire", 0),
         entities: tuple[str, ...] = ("putin",)) -> str:  # fmt: skip
    source, which = quote
    text = (
        f"claim: {claim or f'Claim {i}.'}\nstatus: {status}\nsection: {section}\n"
        f"entities: [{', '.join(entities)}]\n"
        f'evidence:\n  - source: {source}\n    quote: "{QUOTES[source][which]}"\n'
    )
    if date:
        text += f"date: {date}\n"
    if related:
        text += f"related: [{', '.join(f'f{r}' for r in related)}]\n"
    return text


def make(root: Path, n: int = 6) -> Path:
    write(
        root,
        "dossier.yaml",
        "title: Test\nsections:\n  - id: gift\n    title: The gift\n  - id: talks\n    title: Talks\n",
    )
    write(root, "entities.yaml", "putin:\n  name: Vladimir Putin\nkim:\n  name: Kim Jong Un\n")
    for sid, text in (("wire", SOURCE_TEXT), ("talks", SECOND)):
        write(root, f"sources/{sid}.txt", text)
        write(root, f"sources/{sid}.yaml", f"title: {sid.title()} report\nurl: https://example.org/{sid}\n")
    for i in range(n):
        write(
            root,
            f"facts/f{i}.yaml",
            card(i, related=((i + 1) % n,), quote=("wire" if i % 2 else "talks", i % 2)),
        )
    return root


@pytest.fixture(autouse=True)
def settled(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(surveys, "RACY_NS", 0)


def verdict(r: BuildResult) -> Verdict:
    return r.unchanged or r.recalled or r.check.verdict(r.survey)


class Builds:
    """Builds of one content folder into one site with one cache, as the CLI runs them."""

    def __init__(self, content: Path, out: Path) -> None:
        self.content, self.out, self.store = content, out, cache.Cache()
        self.known: Verdict | None = None
        self.stored: bytes | None = None

    def __call__(self) -> BuildResult:
        # The cache as a new process would find it: through its stored bytes, a part the
        # last run left as it was stored (``cache.dump_parts``) as it was.
        self.stored = cache.dump(self.store, self.stored)
        self.store = cache.load_bytes(self.stored)
        result = build(self.content, self.out, cache=self.store, known=self.known)
        self.known = verdict(result)
        return result


def spy_on_pages(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The names of the pages rendered from now on, as they are rendered."""
    rendered: list[str] = []
    real = build_module._Pages.one

    def one(self: build_module._Pages, kind: str, index: int) -> build_module.Page:
        page = real(self, kind, index)
        rendered.append(page[0])
        return page

    monkeypatch.setattr(build_module._Pages, "one", one)
    return rendered


def built_once(tmp_path: Path, n: int = 6) -> tuple[Path, Builds]:
    """A content folder of ``n`` cards, built once into ``tmp_path / "site"``."""
    content = make(tmp_path / "content", n)
    builds = Builds(content, tmp_path / "site")
    builds()
    return content, builds


def same_as_full(content: Path, out: Path, tmp: Path) -> None:
    fresh = tmp / "fresh"
    store = cache.Cache()
    build(content, fresh, cache=store)
    names = sorted(str(p.relative_to(fresh)) for p in fresh.rglob("*") if p.is_file())
    assert names == sorted(str(p.relative_to(out)) for p in out.rglob("*") if p.is_file())
    for name in names:
        assert (fresh / name).read_bytes() == (out / name).read_bytes(), name


def test_an_edit_is_an_update_and_gives_the_site_a_full_build_gives(tmp_path: Path) -> None:
    content = make(tmp_path / "content")
    builds = Builds(content, tmp_path / "site")
    assert builds().recalled is None  # the first build makes everything
    write(content, "facts/f2.yaml", card(2, claim="Claim two, edited.", status="disputed", related=(3,)))
    result = builds()
    assert result.recalled is not None and result.published is not None
    assert "Claim two, edited." in (tmp_path / "site/facts/f1.html").read_text()  # f1 relates to f2
    assert "Claim two, edited." in (tmp_path / "site/disputed.html").read_text()
    same_as_full(content, tmp_path / "site", tmp_path)


def test_an_update_reads_only_the_cards_the_edit_touches(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    content = make(tmp_path / "content", 12)
    builds = Builds(content, tmp_path / "site")
    builds()
    rendered = spy_on_pages(monkeypatch)
    write(content, "facts/f4.yaml", card(4, claim="Four, edited.", related=(5,), quote=("talks", 1)))
    assert builds().recalled is not None
    facts = sorted(p for p in rendered if p.startswith("facts/"))
    # f4 itself and f3, which relates to it; the source f4 now quotes elsewhere: every
    # other page is kept
    assert facts == ["facts/f3.html", "facts/f4.html"]
    assert sorted(p for p in rendered if p.startswith("sources/")) == ["sources/talks.html"]
    monkeypatch.undo()
    same_as_full(content, tmp_path / "site", tmp_path)


def test_an_edit_that_quotes_another_source_remakes_both_sources(tmp_path: Path) -> None:
    content = make(tmp_path / "content")
    builds = Builds(content, tmp_path / "site")
    builds()
    before = (tmp_path / "site/sources/wire.html").read_text()
    write(content, "facts/f1.yaml", card(1, related=(2,), quote=("talks", 1)))  # was wire
    assert builds().recalled is not None
    assert (tmp_path / "site/sources/wire.html").read_text() != before
    same_as_full(content, tmp_path / "site", tmp_path)


@pytest.mark.parametrize(
    "change",
    [
        "card-renamed-its-id-kept",
        "card-added-in-a-new-folder",
        "source-edited",
        "page-edited-by-hand",
        "data-file-removed",
        "theme-edited",
    ],
)
def test_what_an_update_cannot_vouch_for_makes_a_full_build(tmp_path: Path, change: str) -> None:
    content = make(tmp_path / "content")
    out = tmp_path / "site"
    builds = Builds(content, out)
    builds()
    write(content, "facts/f2.yaml", card(2, claim="Claim two, edited.", related=(3,)))
    if change == "card-renamed-its-id-kept":
        (content / "facts/f5.yaml").rename(content / "facts/f5.yml")
    elif change == "card-added-in-a-new-folder":
        write(content, "facts/more/f9.yaml", card(9))
    elif change == "source-edited":
        write(content, "sources/talks.yaml", "title: Talks, retitled\nurl: https://example.org/talks\n")
    elif change == "page-edited-by-hand":
        (out / "facts/f0.html").write_text("edited")
    elif change == "data-file-removed":
        (out / "dossier.json").unlink()
    elif change == "theme-edited":
        macros = (Path(build_module.__file__).parent.parent / "templates/_macros.html").read_text()
        write(tmp_path, "templates/_macros.html", macros.replace('class="fact"', 'class="fact mine"'))
    result = builds()
    assert result.recalled is None and result.published is not None
    same_as_full(content, out, tmp_path)


@pytest.mark.parametrize("how", ["added", "removed", "added-and-removed", "added-relating-to-an-edited-one"])
def test_a_card_added_or_removed_is_an_update_and_gives_the_site_a_full_build_gives(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, how: str
) -> None:
    content = make(tmp_path / "content", 12)
    out = tmp_path / "site"
    builds = Builds(content, out)
    builds()
    before = (out / "sources/talks.html").read_text()
    if how.startswith("added"):
        write(content, "facts/g1.yaml", card(20, claim="An added claim.", status="disputed", related=(3,),
                                             quote=("talks", 1), date="2024-02-18"))  # fmt: skip
    if how.endswith("removed"):
        (content / "facts/f5.yaml").unlink()  # f4 related to it, and quoted wire
        write(content, "facts/f4.yaml", card(4, related=(6,)))
    if how == "added-relating-to-an-edited-one":
        write(content, "facts/f7.yaml", card(7, claim="Seven, edited.", related=(8,), quote=("wire", 1)))
    with monkeypatch.context() as m:  # (``settled`` stays)
        rendered = spy_on_pages(m)
        result = builds()
    assert result.recalled is not None, [p.message for p in result.check.errors]
    facts = {p for p in rendered if p.startswith("facts/")}
    if how.startswith("added"):
        assert "facts/g1.html" in facts and "An added claim." in (out / "disputed.html").read_text()
        assert (out / "sources/talks.html").read_text() != before  # it quotes talks
    if how.endswith("removed"):
        assert not (out / "facts/f5.html").exists()
        assert "Claim 5." not in (out / "index.html").read_text()
        assert "facts/f5.html" not in (out / "dossier.json").read_text()
        assert "sources/wire.html" in rendered  # f5 quoted it
    assert len(facts) <= 3  # every other fact's page is kept
    same_as_full(content, out, tmp_path)
    # and the next build, an edit, is an update from what this one kept
    write(content, "facts/f0.yaml", card(0, claim="Zero, edited.", related=(1,)))
    assert builds().recalled is not None
    same_as_full(content, out, tmp_path)


@pytest.mark.parametrize("how", ["edited", "added", "removed"])
def test_list_pages_an_update_cannot_splice_are_weighed_whole(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, how: str
) -> None:
    """An edit splices the list pages (a few rows each: made in this process); a card added
    or removed moves every list's arrangement, so each list page is rendered whole, and
    weighed so: at scale they go to two processes. The site is the full build's either way."""
    import os

    from dossier import parallel

    content, builds = built_once(tmp_path, 12)
    if how == "edited":
        write(content, "facts/f3.yaml", card(3, claim="Three, edited.", related=(4,)))
    elif how == "added":
        write(content, "facts/g1.yaml", card(20, claim="An added claim."))
    else:
        (content / "facts/f5.yaml").unlink()
        write(content, "facts/f4.yaml", card(4, related=(6,)))  # (it related to f5)
    weighed: dict[str, int] = {}
    real = build_module._Pages.weight

    def weight(self: build_module._Pages, kind: str, index: int) -> int:
        w = real(self, kind, index)
        if kind == "list":
            weighed[build_module.LIST_PAGES[index]] = w
        return w

    forks: list[object] = []
    real_two = parallel.each_in_two

    def counting(fn: object, items: object) -> object:
        forks.append(fn)
        return real_two(fn, items)  # type: ignore[arg-type]

    if not hasattr(os, "fork"):
        pytest.skip("this system cannot fork")
    with monkeypatch.context() as m:
        m.setattr(build_module._Pages, "weight", weight)
        m.setattr(build_module, "PARALLEL_PAGES", 40)  # (five list pages weighed whole: over it)
        m.setattr(parallel, "each_in_two", counting)
        m.setattr(parallel, "usable", lambda: True)
        rendered = spy_on_pages(m)
        result = builds()
    assert result.recalled is not None
    assert set(weighed) == set(build_module.LIST_PAGES)
    whole = len(list((content / "facts").glob("*.yaml"))) + 2  # every fact and source
    if how == "edited":
        # a few rows made on each page that lists facts, no more (and nothing forked)
        assert max(weighed[p] for p in ("index.html", "timeline.html", "entities.html")) <= 5 < whole
        assert forks == []
        assert set(build_module.LIST_PAGES) <= set(rendered)  # (spliced, in this process)
    else:
        assert set(weighed.values()) == {whole} and len(forks) == 1
    same_as_full(content, tmp_path / "site", tmp_path)


def test_two_sites_of_one_folder_share_a_verdict_through_cards_added_and_removed(tmp_path: Path) -> None:
    """One cache and one verdict (as the CLI keeps them) for two output folders, built in
    turn: each site's update starts from its own ledger, whatever the other built since."""
    content = make(tmp_path / "content")
    store, known = cache.Cache(), None
    sites = [tmp_path / "one", tmp_path / "two"]

    def built(out: Path) -> BuildResult:
        nonlocal store, known
        store = cache.load_bytes(cache.dump(store))
        result = build(content, out, cache=store, known=known)
        known = verdict(result)
        return result

    for out in sites:
        built(out)
    steps = [
        lambda: write(content, "facts/f9.yaml", card(9, related=(2,))),
        lambda: (content / "facts/f3.yaml").unlink(),  # f2 relates to it: an error
        lambda: write(content, "facts/f2.yaml", card(2, related=(9,))),
        lambda: (content / "facts/f9.yaml").unlink(),  # f2 relates to it now
        lambda: write(content, "facts/f2.yaml", card(2)),
    ]
    for i, step in enumerate(steps):
        step()
        for out in sites if i % 2 else reversed(sites):
            result = built(out)
            if result.check.errors:
                assert {p.code for p in result.check.errors} == {"unknown-fact"} and result.published is None
                continue
            assert result.recalled is not None
            same_as_full(content, out, tmp_path)


def test_a_card_removed_that_another_relates_to_is_an_error_and_nothing_is_written(tmp_path: Path) -> None:
    content, builds = built_once(tmp_path)
    site = {p: p.read_bytes() for p in (tmp_path / "site").rglob("*") if p.is_file()}
    (content / "facts/f3.yaml").unlink()  # f2 relates to it
    result = builds()
    assert [p.code for p in result.check.errors] == ["unknown-fact"] and result.published is None
    assert {p: p.read_bytes() for p in (tmp_path / "site").rglob("*") if p.is_file()} == site
    write(content, "facts/f2.yaml", card(2, related=(4,)))  # the relation dropped: it builds
    assert builds().recalled is not None
    same_as_full(content, tmp_path / "site", tmp_path)


@pytest.mark.parametrize("how", ["rewritten", "replaced"])
def test_a_kept_page_edited_by_hand_is_made_again(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, how: str
) -> None:
    """An update does not look at the pages it keeps: publish does, once each, as it
    keeps them. One rewritten by hand (the spare tree's copy is the same file) stops that
    publish, nothing written, and the build makes everything instead; one replaced by
    another file is put back from the spare tree's copy, as the last build left it."""
    content = make(tmp_path / "content")
    out = tmp_path / "site"
    builds = Builds(content, out)
    builds()
    write(content, "facts/f2.yaml", card(2, claim="Claim two, edited.", related=(3,)))
    builds()  # an update: from now on the spare tree is the one it replaced
    looked: list[str] = []
    real = publish.Previous.intact
    monkeypatch.setattr(
        publish.Previous, "intact", lambda self, name, entry: looked.append(name) or real(self, name, entry)
    )
    updates = []
    real_update = build_module._update
    monkeypatch.setattr(
        build_module, "_update", lambda *a, **k: updates.append(real_update(*a, **k)) or updates[-1]
    )
    page = out / "facts/f0.html"
    if how == "rewritten":
        page.write_text("edited by hand")  # in place: the spare's copy is this file too
    else:
        page.unlink()
        page.write_text("edited by hand")
    write(content, "facts/f2.yaml", card(2, claim="Claim two, edited again.", related=(3,)))
    result = builds()
    assert updates and updates[0] is not None  # planned as an update
    assert result.published is not None
    if how == "rewritten":  # made as a full build, which looks at every page it keeps
        assert result.recalled is None
        assert "facts/f0.html" in looked and "facts/f4.html" in looked
        assert not builds.store.kept_all  # it read every card: what it did not use goes
    else:
        assert result.recalled is not None and looked == ["dossier.json", "search-index.js"]
    assert page.read_bytes() != b"edited by hand"
    same_as_full(content, out, tmp_path)
    assert sorted(p.name for p in tmp_path.iterdir() if p.name.startswith(".")) == [".site.spare"]


def test_an_update_looks_at_the_pages_it_keeps_only_as_it_publishes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    content, builds = built_once(tmp_path)
    looked: list[str] = []
    real = publish.Previous.intact
    monkeypatch.setattr(
        publish.Previous, "intact", lambda self, name, entry: looked.append(name) or real(self, name, entry)
    )
    write(content, "facts/f2.yaml", card(2, claim="Claim two, edited.", related=(3,)))
    assert builds().recalled is not None
    assert sorted(looked) == ["dossier.json", "search-index.js"]


def test_a_process_building_again_decodes_only_what_each_update_made(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """One cache kept in memory (as ``serve`` keeps it): the ledger an update reads is the
    one the last update left, its new facts decoded, and never the whole record again."""
    content = make(tmp_path / "content", 8)
    out = tmp_path / "site"
    store = cache.Cache()
    known = verdict(build(content, out, cache=store))
    decoded: list[int] = []
    real = build_module.ledger_from_record
    monkeypatch.setattr(
        build_module, "ledger_from_record", lambda raw: decoded.append(len(raw[1])) or real(raw)
    )
    for n, (i, claim) in enumerate([(2, "Two, edited."), (5, "Five, edited."), (2, "Two, again.")]):
        write(content, f"facts/f{i}.yaml", card(i, claim=claim, related=((i + 1) % 8,)))
        result = build(content, out, cache=store, known=known)
        known = verdict(result)
        assert result.recalled is not None
        assert decoded[0] == 8 if n == 0 else decoded[0] < 8, decoded  # (the first: all of it)
        assert all(size < 8 for size in decoded[1:]), decoded
        decoded.clear()
        same_as_full(content, out, tmp_path / f"fresh-{n}")
    write(content, "sources/talks.yaml", "title: Talks, retitled\nurl: https://example.org/talks\n")
    assert build(content, out, cache=store, known=known).recalled is None  # a full build:
    assert str(out.resolve()) not in store.decoded  # the ledger the updates carried is let go


def test_an_edit_with_an_error_is_reported_and_nothing_is_written(tmp_path: Path) -> None:
    content = make(tmp_path / "content")
    out = tmp_path / "site"
    builds = Builds(content, out)
    builds()
    before = {p: p.read_bytes() for p in out.rglob("*") if p.is_file()}
    write(content, "facts/f2.yaml", card(2, related=(7,)))  # no such fact
    result = builds()
    assert result.published is None and any(p.code == "unknown-fact" for p in result.check.errors)
    assert {p: p.read_bytes() for p in out.rglob("*") if p.is_file()} == before


def test_an_update_keeps_the_cache_of_every_card(tmp_path: Path) -> None:
    content = make(tmp_path / "content")
    builds = Builds(content, tmp_path / "site")
    builds()
    cards = len(builds.store.cards)
    write(content, "facts/f2.yaml", card(2, claim="Claim two, edited.", related=(3,)))
    assert builds().recalled is not None
    stored = cache.load_bytes(cache.dump(builds.store))
    assert len(stored.cards) == cards + 1  # the edited card's new bytes beside the old


EDITS = st.tuples(
    st.integers(0, 5),
    st.fixed_dictionaries(
        {
            "claim": st.sampled_from(["", "A new claim.", "Another *claim*."]),
            "status": st.sampled_from(["confirmed", "disputed", "unverified"]),
            "date": st.sampled_from([None, "2024-02", "2024-02-18", "2023"]),
            "section": st.sampled_from(["gift", "talks"]),
            "related": st.sampled_from([(), (0,), (1, 4), (5,)]),
            "quote": st.sampled_from([("wire", 0), ("wire", 1), ("talks", 0), ("talks", 1)]),
            "entities": st.sampled_from([("putin",), ("kim",), ("putin", "kim")]),
        }
    ),
)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(edits=st.lists(st.lists(EDITS, min_size=1, max_size=3), min_size=1, max_size=3))
def test_any_edits_give_the_site_a_full_build_gives(
    tmp_path_factory: pytest.TempPathFactory, edits: list[list[tuple[int, dict[str, object]]]]
) -> None:
    tmp = tmp_path_factory.mktemp("update")
    content = make(tmp / "content")
    builds = Builds(content, tmp / "site")
    builds()
    for round_ in edits:
        for i, fields in round_:
            related = tuple(r for r in fields["related"] if r != i)  # type: ignore[attr-defined]
            write(content, f"facts/f{i}.yaml", card(i, **{**fields, "related": related}))  # type: ignore[arg-type]
        result = builds()
        assert result.recalled is not None, [p.message for p in result.check.errors]
        same_as_full(content, tmp / "site", tmp)


CHANGES = st.one_of(
    EDITS.map(lambda e: ("write", *e)),  # an edit
    st.tuples(st.just("write"), st.integers(6, 8), EDITS.map(lambda e: e[1])),  # (an addition)
    st.tuples(st.just("remove"), st.integers(0, 8), st.just({})),
)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(rounds=st.lists(st.lists(CHANGES, min_size=1, max_size=3), min_size=1, max_size=3))
def test_any_cards_edited_added_and_removed_give_the_site_a_full_build_gives(
    tmp_path_factory: pytest.TempPathFactory, rounds: list[list[tuple[str, int, dict[str, object]]]]
) -> None:
    """An update after cards edited, added and removed; one that leaves a card relating to
    a fact that is gone fails and writes nothing, and the next clean build is an update
    from the last build that was written."""
    tmp = tmp_path_factory.mktemp("update")
    content = make(tmp / "content")
    out = tmp / "site"
    builds = Builds(content, out)
    builds()
    for round_ in rounds:
        for what, i, fields in round_:
            path = content / f"facts/f{i}.yaml"
            if what == "remove":
                path.unlink(missing_ok=True)
                continue
            related = tuple(r for r in fields["related"] if r != i)  # type: ignore[attr-defined]
            write(content, f"facts/f{i}.yaml", card(i, **{**fields, "related": related}))  # type: ignore[arg-type]
        site = {p: p.read_bytes() for p in out.rglob("*") if p.is_file()}
        result = builds()
        if result.check.errors:
            assert {p.code for p in result.check.errors} == {"unknown-fact"}
            assert result.published is None
            assert {p: p.read_bytes() for p in out.rglob("*") if p.is_file()} == site
            continue
        assert result.recalled is not None or result.unchanged is not None
        same_as_full(content, out, tmp)


def test_the_cli_updates_after_an_edit(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from click.testing import CliRunner

    from dossier.cli import main

    content = make(tmp_path / "content")
    runner = CliRunner(env={"DOSSIER_CACHE_DIR": str(tmp_path / "cache")})
    args = ["build", str(content), "--out", str(tmp_path / "site")]
    assert runner.invoke(main, args).exit_code == 0

    def full(*args: object, **kwargs: object) -> None:
        raise AssertionError("a full check ran")

    monkeypatch.setattr(build_module, "check", full)
    write(content, "facts/f2.yaml", card(2, claim="Claim two, edited.", related=(3,)))
    result = runner.invoke(main, args)
    assert result.exit_code == 0, result.output
    assert "checked 6 fact cards and 6 quotes" in result.stderr
    monkeypatch.undo()
    same_as_full(content, tmp_path / "site", tmp_path)


def test_an_update_given_an_older_verdict_still_reports_every_card(tmp_path: Path) -> None:
    content = make(tmp_path / "content", 12)
    builds = Builds(content, tmp_path / "site")
    builds()
    old = builds.known
    write(content, "facts/f2.yaml", card(2, related=(3,), quote=("wire", 1)) + "notes: first\n")
    assert builds().recalled is not None
    write(content, "facts/f8.yaml", card(8, related=(9,)))
    builds.known = old  # from before f2's edit: f2 is not among what f8's edit touches
    result = builds()
    assert result.recalled is not None
    fresh = build(content, tmp_path / "fresh")
    assert result.recalled.problems == fresh.check.problems
    assert (result.recalled.facts, result.recalled.quotes) == (12, 12)


def test_a_data_file_replaced_during_an_update_stops_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from dossier.publish import PublishError

    content = make(tmp_path / "content")
    out = tmp_path / "site"
    builds = Builds(content, out)
    builds()
    real = build_module._update

    def then_replaced(*args: object, **kwargs: object) -> object:
        planned = real(*args, **kwargs)  # type: ignore[arg-type]
        data = (out / "dossier.json").read_bytes()
        (out / "dossier.json").unlink()
        (out / "dossier.json").write_bytes(data)  # the same bytes, another file
        return planned

    monkeypatch.setattr(build_module, "_update", then_replaced)
    write(content, "facts/f2.yaml", card(2, claim="Claim two, edited.", related=(3,)))
    before = {p: p.read_bytes() for p in out.rglob("*") if p.is_file()}
    with pytest.raises(PublishError, match="changed during the build"):
        builds()
    assert {p: p.read_bytes() for p in out.rglob("*") if p.is_file()} == before


def test_an_update_does_not_list_the_cards_again(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The survey just listed every card: the update's reading takes its list."""
    content, builds = built_once(tmp_path, 8)
    listed: list[str] = []
    real = readers._listing

    def spy(r: readers._Reader, folder: Path) -> list[Path]:
        listed.append(folder.name)
        return real(r, folder)

    monkeypatch.setattr(readers, "_listing", spy)
    write(content, "facts/f3.yaml", card(3, claim="Claim three, edited.", related=(4,), quote=("wire", 1)))
    assert builds().recalled is not None
    assert "facts" not in listed
    assert "Claim three, edited." in (tmp_path / "site/index.html").read_text()
    same_as_full(content, tmp_path / "site", tmp_path)


def test_a_site_removed_is_built_anew_without_the_last_build_held(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """What was kept of a folder whose files are gone is let go before the build."""
    import shutil

    content, builds = built_once(tmp_path)
    shutil.rmtree(tmp_path / "site")
    held: list[int] = []
    real = build_module.render_files

    def spy(*args: object, **kwargs: object) -> object:
        store = args[5]
        assert isinstance(store, cache.Cache)
        held.append(len(store.sites) + len(store.pieces) + len(store.skeletons) + len(store.ledgers))
        return real(*args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(build_module, "render_files", spy)
    result = builds()
    assert held == [0]
    assert result.published is not None and result.published.kept == 0
    same_as_full(content, tmp_path / "site", tmp_path)


@pytest.mark.parametrize("quote_moves", [False, True])
def test_an_edit_whose_quotes_stand_where_they_stood_reads_no_fact_for_its_sources(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, quote_moves: bool
) -> None:
    """A new claim: the edited card and the facts it relates to are read, not the facts
    quoting its source (nothing of the source's page changes); a quote moved: those too."""
    content, builds = built_once(tmp_path, 12)
    read: list[set[str]] = []
    real = build_module.check_only

    def spy(root: Path, cards: set[str], *args: object, **kwargs: object) -> object:
        read.append({Path(c).stem for c in cards})
        return real(root, cards, *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(build_module, "check_only", spy)
    # f4 quoted talks[0]; talks[0] is quoted by f0, f2, f6, f8 and f10 too
    edited = card(4, claim="Four, edited.", related=(5,), quote=("talks", int(quote_moves)))
    write(content, "facts/f4.yaml", edited)
    assert builds().recalled is not None
    co_citing = {"f0", "f2", "f6", "f8", "f10"}
    assert read[0] == {"f3", "f4", "f5"}  # itself, f3 (relates to it), f5 (it relates to)
    assert bool(co_citing & read[-1]) == quote_moves
    monkeypatch.undo()
    same_as_full(content, tmp_path / "site", tmp_path)


# --- dossier serve: the same updates, the cache kept in memory --------------------------------


def test_serve_rebuilds_an_edit_as_an_update_and_gives_the_full_build(tmp_path: Path) -> None:
    content = make(tmp_path / "content")
    server = DevServer(content, tmp_path / "site", 0, [].append)
    try:
        server.rebuild()
        assert server.updated is False  # the first build makes everything
        write(content, "facts/f2.yaml", card(2, claim="Claim two, edited.", related=(3,)))
        server.rebuild()
        assert server.updated is True  # an update: the cache was kept
        assert server.error_page is None
        same_as_full(content, tmp_path / "site", tmp_path)
    finally:
        server.stop()


def test_serve_drops_its_cache_when_a_build_fails(tmp_path: Path) -> None:
    content = make(tmp_path / "content")
    messages: list[str] = []
    server = DevServer(content, tmp_path / "site", 0, messages.append)
    broken = tmp_path / "templates" / "fact.html"  # the content's theme, beside it
    try:
        server.rebuild()
        kept = server.cache
        write(content, "facts/f1.yaml", card(1, claim="Claim one, edited.", related=(2,)))
        broken.parent.mkdir()
        broken.write_text("{% if %}\n")
        server.rebuild()
        assert server.error_page is not None and b"TemplateSyntaxError" in server.error_page
        assert server.cache is not kept and server.known is None  # nothing half-made is reused
        broken.unlink()
        server.rebuild()
        assert server.error_page is None
        same_as_full(content, tmp_path / "site", tmp_path)
        assert messages[-1].startswith("built ") and messages[-1].endswith(" s")
    finally:
        server.stop()


def test_serve_watches_files_and_links_and_never_loops(tmp_path: Path) -> None:
    (tmp_path / "a" / "b").mkdir(parents=True)
    (tmp_path / "a" / "b" / "card.yaml").write_text("x")
    (tmp_path / "a" / "loop").symlink_to(tmp_path / "a")  # a folder that holds itself
    (tmp_path / "target.txt").write_text("one")
    (tmp_path / "a" / "link.txt").symlink_to(tmp_path / "target.txt")
    before = snapshot([tmp_path / "a", tmp_path / "missing"])
    assert set(before) == {str(tmp_path / "a" / n) for n in ("b/card.yaml", "loop", "link.txt")}
    (tmp_path / "target.txt").write_text("three")  # behind the link
    assert snapshot([tmp_path / "a"]) != before


def test_serve_shows_a_bug_in_a_build_drops_its_cache_and_goes_on(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    content = make(tmp_path / "content")
    server = DevServer(content, tmp_path / "site", 0, [].append)
    try:
        server.rebuild()
        kept = server.cache

        def broken(*args: object, **kwargs: object) -> None:
            raise ValueError("a bug")

        monkeypatch.setattr("dossier.serve.build", broken)
        server.rebuild()
        assert server.error_page is not None and b"error[internal] ValueError: a bug" in server.error_page
        assert server.cache is not kept and server.known is None and server.updated is None
        monkeypatch.undo()
        server.rebuild()
        assert server.error_page is None and server.updated is False
    finally:
        server.stop()


def test_serve_sees_an_edit_made_during_its_first_build_and_stops_after_a_build(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    content = make(tmp_path / "content")
    server = DevServer(content, tmp_path / "site", 0, [].append, interval=0.02)
    real = build_module.build

    def edited_meanwhile(*args: object, **kwargs: object) -> BuildResult:
        if server.builds == 1:  # the first build: an edit lands while it runs
            write(content, "facts/f3.yaml", card(3, claim="Claim three, edited.", related=(4,)))
        return real(*args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr("dossier.serve.build", edited_meanwhile)
    server.start()
    try:
        deadline = time.monotonic() + 20
        while server.builds < 2 and time.monotonic() < deadline:
            time.sleep(0.02)
        assert server.builds >= 2  # the watcher saw the edit the first build may have missed
    finally:
        server.stop()
    assert server._watcher is not None and not server._watcher.is_alive()  # stop waits for it
    assert "Claim three, edited." in (tmp_path / "site" / "facts" / "f3.html").read_text()


def test_serve_keeps_only_what_its_last_full_build_used(tmp_path: Path) -> None:
    content = make(tmp_path / "content")
    server = DevServer(content, tmp_path / "site", 0, [].append)
    try:
        server.rebuild()
        quotes, read = len(server.cache.entries), len(server.cache.cards)
        assert quotes == 2  # the two quotes the cards use, one of each source
        assert read == 10  # the six cards, the two sources' metadata, dossier.yaml and entities.yaml
        for i in range(3):  # each edit of a source: a full build, every quote of it matched anew
            write(content, "sources/talks.txt", SECOND + f"Edit {i}.\n")
            server.rebuild()
            assert server.updated is False and server.error_page is None
            assert len(server.cache.entries) == quotes  # the old versions' matches let go
            assert len(server.cache.cards) == read
        write(content, "facts/f2.yaml", card(2, claim="Claim two, edited.", related=(3,), quote=("talks", 0)))
        server.rebuild()  # an update keeps what it did not read
        assert server.updated is True and len(server.cache.entries) == quotes
        same_as_full(content, tmp_path / "site", tmp_path)
    finally:
        server.stop()


def _own_theme(tmp_path: Path) -> None:
    """A theme of one's own beside the content, showing more of the pages' views than the
    shipped one: each quote's stance, words and note on its source's page, and each
    related fact's date and tags on a fact's page."""
    shipped = Path(build_module.__file__).resolve().parent.parent / "templates"
    source = (shipped / "source.html").read_text()
    cite = "title=\"Cited by: {{ q.fact_id }}{% if q.stance != 'supports' %} ({{ q.stance }}){% endif %}\""
    assert cite in source
    shown = 'title="{{ q.fact_id }} {{ q.stance }}: {{ q.quote }} ({{ q.note }})"'
    write(tmp_path, "templates/source.html", source.replace(cite, shown))
    fact = (shipped / "fact.html").read_text()
    status = "{{ f.status | capitalize }}</span>"
    assert status in fact
    more = " {{ f.date.iso() if f.date }} {{ f.tags | join(',') }}"
    write(tmp_path, "templates/fact.html", fact.replace(status, status + more))


def test_a_quotes_stance_and_note_edited_in_place_remake_its_sources_page(tmp_path: Path) -> None:
    """The quote stands where it stood (its source's page is not made again for a move),
    but that page shows its stance and note."""
    _own_theme(tmp_path)
    content, builds = built_once(tmp_path)
    text = card(2, quote=("talks", 0)) + "    stance: context\n    note: Seen on the day.\n"
    write(content, "facts/f2.yaml", text + "related: [f3]\n")
    assert builds().recalled is not None
    assert "f2 context: The talks" in (tmp_path / "site/sources/talks.html").read_text()
    same_as_full(content, tmp_path / "site", tmp_path)


def test_a_related_facts_date_edited_remakes_the_pages_relating_to_it_in_a_full_build(
    tmp_path: Path,
) -> None:
    """A page kept by its key in a full build (a card added in a new folder) holds every
    related fact's fields in that key, not only the shipped theme's claim and status."""
    _own_theme(tmp_path)
    content, builds = built_once(tmp_path)
    write(content, "facts/f2.yaml", card(2, related=(3,), quote=("talks", 0), date="2024-02-18"))
    write(content, "facts/more/f9.yaml", card(9))  # a folder added: a full build
    assert builds().recalled is None
    assert "2024-02-18" in (tmp_path / "site/facts/f1.html").read_text()  # f1 relates to f2
    same_as_full(content, tmp_path / "site", tmp_path)


def test_a_template_behind_a_linked_folder_is_part_of_the_theme(tmp_path: Path) -> None:
    """Jinja reads templates through a linked folder: an edit there is an edit of the
    theme (every page made again), and the watcher sees it; a link that loops is entered
    once."""
    shipped = Path(build_module.__file__).resolve().parent.parent / "templates"
    fact = (shipped / "fact.html").read_text()
    article = '<article class="fact-page">'
    included = article + '{% include "parts/extra.html" %}'
    write(tmp_path, "templates/fact.html", fact.replace(article, included))
    write(tmp_path, "elsewhere/extra.html", "<p>First words.</p>")
    (tmp_path / "templates/parts").symlink_to(tmp_path / "elsewhere", target_is_directory=True)
    (tmp_path / "elsewhere/loop").symlink_to(tmp_path / "elsewhere", target_is_directory=True)
    content, builds = built_once(tmp_path)
    assert "First words." in (tmp_path / "site/facts/f1.html").read_text()
    watched = snapshot([tmp_path / "templates"])
    write(tmp_path, "elsewhere/extra.html", "<p>Other words, as long.</p>")
    assert snapshot([tmp_path / "templates"]) != watched
    assert builds().recalled is None  # the theme changed: everything is made
    assert "Other words, as long." in (tmp_path / "site/facts/f1.html").read_text()
    same_as_full(content, tmp_path / "site", tmp_path)
