"""The built book in a real browser, with no network: math typeset, images loaded, search works.

Every page listed in `_toc.yml` is opened in headless Chromium (Debian's `chromium`, driven by
Playwright with `executable_path`; Playwright's own browser download is never used). Every
request that is not a local file is blocked, as on a machine with no network. A full-page
screenshot of every page is saved under `_build/screenshots/` for people to look at.

Without Chromium or Playwright the tests are skipped with the reason, so a reader's machine
needs neither. CI installs both (`.ci/run`) and sets BACKPROP_BOOK_REQUIRE_BROWSER=1, which
turns that skip into a failure.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest
from toc import toc_pages

ROOT = Path(__file__).resolve().parents[1]
CHROMIUM = os.environ.get("BACKPROP_BOOK_CHROMIUM", "/usr/bin/chromium")
REQUIRED = os.environ.get("BACKPROP_BOOK_REQUIRE_BROWSER") == "1"
SCREENSHOTS = ROOT / "_build" / "screenshots"

# The only console errors allowed: every Jupyter Book 1 page emits these two.
# 1. The page declares THEBE_JS_URL in two inline scripts (sphinx-thebe and sphinx-book-theme's
#    launch buttons), so the second declaration throws.
# 2. pydata-sphinx-theme reads the light/dark mode from localStorage; on a first visit it is
#    empty, and the theme logs an error before falling back to "auto".
KNOWN_CONSOLE_ERRORS = (
    "Identifier 'THEBE_JS_URL' has already been declared",
    "Got invalid theme mode: . Resetting to auto.",
)
# Keep Chromium from reaching for the network on its own (updates, sync, field trials).
CHROMIUM_FLAGS = [
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-quic",
    "--no-first-run",
]


def missing_browser() -> str | None:
    """Say what is missing for the browser tests, or None if both are there."""
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        return "Playwright is not installed (pip install -r requirements-browser.txt)"
    if not (Path(CHROMIUM).is_file() or shutil.which(CHROMIUM)):
        return f"no Chromium at {CHROMIUM} (apt-get install chromium)"
    return None


@pytest.fixture(scope="module")
def browser():
    reason = missing_browser()
    if reason:
        if REQUIRED:
            pytest.fail(f"BACKPROP_BOOK_REQUIRE_BROWSER=1 but {reason}")
        pytest.skip(reason)
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_FLAGS)
        yield chromium
        chromium.close()


class PageVisit:
    """One page opened with the network cut off, and everything it reported while loading."""

    def __init__(self, browser, url: str, viewport: tuple[int, int] = (1280, 900)) -> None:
        width, height = viewport
        self.context = browser.new_context(viewport={"width": width, "height": height})
        self.blocked: list[str] = []
        self.failed: list[str] = []
        self.errors: list[str] = []
        self.context.route("**/*", self._local_files_only)
        self.page = self.context.new_page()
        self.page.on("console", self._console)
        self.page.on("pageerror", lambda error: self.errors.append(str(error)))
        self.page.on("requestfailed", lambda r: self.failed.append(f"{r.url} ({r.failure})"))
        self.page.goto(url, wait_until="load")

    def _local_files_only(self, route) -> None:
        if route.request.url.startswith("file:"):
            route.continue_()
        else:
            self.blocked.append(route.request.url)
            route.abort()

    def _console(self, message) -> None:
        if message.type == "error":
            self.errors.append(message.text)

    def close(self) -> None:
        self.context.close()


def math_report(page) -> dict[str, int]:
    """Wait for MathJax (if the page has math) and count math elements and typeset ones."""
    count_math = "() => document.querySelectorAll('div.math, span.math').length"
    if page.evaluate(count_math):
        page.wait_for_function("() => window.MathJax && MathJax.startup && MathJax.startup.promise")
        page.evaluate("() => MathJax.startup.promise")
    return page.evaluate(
        """() => {
            const math = Array.from(document.querySelectorAll('div.math, span.math'));
            return {
                math: math.length,
                typeset: math.filter(m => m.querySelectorAll('mjx-container').length === 1).length,
                containers: document.querySelectorAll('mjx-container').length,
                errors: document.querySelectorAll('mjx-merror').length,
            };
        }"""
    )


def broken_images(page) -> list[str]:
    """Scroll through the page (so lazy images load) and return images that did not load."""
    page.evaluate("() => window.scrollTo(0, document.body.scrollHeight)")
    page.wait_for_load_state("load")
    return page.evaluate(
        """() => Array.from(document.images)
            .filter(img => !(img.complete && img.naturalWidth > 0))
            .map(img => img.getAttribute('src'))"""
    )


@pytest.mark.book
@pytest.mark.parametrize("page_path", toc_pages())
def test_page_renders_offline(browser, built_html, page_path):
    visit = PageVisit(browser, (built_html / page_path).as_uri())
    try:
        math = math_report(visit.page)
        images = broken_images(visit.page)
        visit.page.evaluate("() => window.scrollTo(0, 0)")  # sidebars are sticky at the top
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        name = page_path.replace("/", "__").removesuffix(".html")
        visit.page.screenshot(path=str(SCREENSHOTS / f"{name}.png"), full_page=True)
    finally:
        visit.close()
    assert math["errors"] == 0, "MathJax reported a TeX error"
    assert math["typeset"] == math["math"] == math["containers"], math
    if page_path.startswith("chapters/"):
        assert math["containers"] > 20, "a chapter without math: the check above is vacuous"
    assert images == []
    assert visit.failed == [], "local files that failed to load"
    assert visit.blocked == [], "the page asked for the network"
    assert [e for e in visit.errors if e not in KNOWN_CONSOLE_ERRORS] == []


def chapters_mentioning(word: str) -> set[str]:
    """Titles of the chapters whose text mentions ``word`` (case-insensitive)."""
    found = set()
    for page_path in toc_pages():
        if not page_path.startswith("chapters/"):
            continue
        source = (ROOT / page_path).with_suffix(".ipynb").read_text(encoding="utf-8")
        if word in source.lower():
            found.add(Path(page_path).stem)
    return found


@pytest.mark.book
def test_search_works_offline(browser, built_html):
    expected = chapters_mentioning("sigmoid")
    assert expected, "some chapter mentions the sigmoid"
    visit = PageVisit(browser, (built_html / "search.html").as_uri() + "?q=sigmoid")
    try:
        visit.page.wait_for_function(
            """() => {
                const summary = document.querySelector('#search-results .search-summary');
                return summary && summary.textContent.includes('found');
            }"""
        )
        hrefs = visit.page.eval_on_selector_all(
            "#search-results ul.search li a", "links => links.map(a => a.getAttribute('href'))"
        )
    finally:
        visit.close()
    found = {Path(href.split("?")[0].split("#")[0]).stem for href in hrefs}
    assert expected <= found, f"search for 'sigmoid' found {sorted(found)}"
    assert visit.blocked == []


# A laptop and a phone, in CSS pixels. The book's narrowest laptop layout is at 1200-1280 px
# (both sidebars shown); below 1200 px the right-hand sidebar folds away.
VIEWPORTS = {"laptop": (1280, 800), "phone": (390, 844)}

# What is wider than the box it sits in. `fits` is false for a display equation wider
# than its own box; `scrolls` says whether that box scrolls sideways (overflow-x auto or
# scroll) instead of cutting the equation off. `inColumn` is false for a box that reaches
# past the article's column. A code box is a <pre> (code cells and their printed output).
MEASURE_LAYOUT = """() => {
    const column = document.querySelector('article.bd-article').getBoundingClientRect();
    const scrolls = box => ['auto', 'scroll'].includes(getComputedStyle(box).overflowX);
    const inColumn = box => {
        const r = box.getBoundingClientRect();
        return r.left >= column.left - 1 && r.right <= column.right + 1;
    };
    const equations = Array.from(document.querySelectorAll('mjx-container[display="true"]'))
        .map(box => ({
            text: box.closest('.math').textContent.trim().slice(0, 60),
            width: Math.round(box.querySelector('mjx-math').getBoundingClientRect().width),
            box: box.clientWidth,
            fits: box.scrollWidth <= box.clientWidth + 1,
            scrolls: scrolls(box),
            inColumn: inColumn(box),
        }));
    const code = Array.from(document.querySelectorAll('article.bd-article pre'))
        .map(box => ({
            text: box.textContent.split('\\n').reduce((a, b) => a.length >= b.length ? a : b)
                .slice(0, 60),
            width: box.scrollWidth,
            box: box.clientWidth,
            fits: box.scrollWidth <= box.clientWidth + 1,
            scrolls: scrolls(box),
            inColumn: inColumn(box),
        }));
    const page = document.documentElement;
    return {pageOverflow: page.scrollWidth - page.clientWidth, equations, code};
}"""


@pytest.mark.book
@pytest.mark.parametrize("viewport", VIEWPORTS)
@pytest.mark.parametrize("page_path", toc_pages())
def test_nothing_is_wider_than_its_column(browser, built_html, page_path, viewport):
    """No sideways scrolling of the page; equations and code stay inside the column.

    At a laptop's width every display equation and every line of code fits its box. At a
    phone's width a long equation or code line may scroll sideways inside its own box,
    never past the column and never cut off.
    """
    visit = PageVisit(browser, (built_html / page_path).as_uri(), VIEWPORTS[viewport])
    try:
        math_report(visit.page)  # waits until MathJax has typeset the page
        layout = visit.page.evaluate(MEASURE_LAYOUT)
    finally:
        visit.close()
    assert layout["pageOverflow"] <= 0, "the page scrolls sideways"
    boxes = layout["equations"] + layout["code"]
    assert [box for box in boxes if not box["inColumn"]] == []
    if viewport == "laptop":
        assert [box for box in boxes if not box["fits"]] == []
    else:
        assert [box for box in boxes if not (box["fits"] or box["scrolls"])] == []
