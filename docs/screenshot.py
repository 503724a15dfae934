"""Take the README's screenshot of the briefing: `make screenshot` (needs Chromium).

Uses the browser tests' tooling (Playwright driving Debian's Chromium) on a fresh build
of the default dossier, 1280 px wide, light scheme.
"""

from __future__ import annotations

import os
import sys
import tempfile
from pathlib import Path

from playwright.sync_api import sync_playwright

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
from dossier.build import build  # noqa: E402

CHROMIUM = os.environ.get("DOSSIER_CHROMIUM", "/usr/bin/chromium")
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update"]


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        site = Path(tmp) / "site"
        result = build(REPO / "content", site)
        if result.published is None:
            raise SystemExit("the default dossier has errors: run make check")
        with sync_playwright() as pw:
            browser = pw.chromium.launch(executable_path=CHROMIUM, args=ARGS)
            page = browser.new_page(viewport={"width": 1280, "height": 1500}, color_scheme="light")
            page.goto((site / "index.html").as_uri())
            page.screenshot(path=str(REPO / "docs" / "briefing.png"))
            browser.close()
    print("docs/briefing.png written")


if __name__ == "__main__":
    main()
