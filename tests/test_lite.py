"""Every chapter runs in the browser: JupyterLite, opened from the chapter's launch button.

The built book is served on 127.0.0.1 by Python's plain static server (what the README tells
a reader to run). For every chapter, headless Chromium opens the chapter's page, follows its
JupyterLite launch button, waits for the Pyodide kernel, runs all cells and checks: no cell
raised, every code cell ran, as many images as the stored notebook has, and no request left
127.0.0.1 (any other is aborted and recorded; Chromium also cannot resolve any other host).
When the kernel is ready, before the run, it also reads what jupyterlab-myst rendered: the
equation numbers (the book's, label for label), the admonitions, and no KaTeX error.

Two chapters run at a time (each kernel is one busy thread; CI has two cores), the longest
first (by the run time the stored notebook recorded), each in its own tab and with its own
kernel, so that no chapter leans on what another defined. All tabs share one browser context,
so its HTTP cache holds the site's files (Pyodide, its WebAssembly, the packages: about 100 MB)
after the first chapters and the others do not fetch them again; each tab still starts its own
Pyodide and unpacks the packages it imports.
The time to a ready kernel and the time each chapter takes are printed (`pytest -s`) and kept
in `_build/lite-times.json`.

Without Chromium or Playwright the tests are skipped with the reason; with
BACKPROP_BOOK_REQUIRE_BROWSER=1 (CI) that is a failure. BACKPROP_BOOK_SITE=path/to/_build/html
tests an existing build instead of the strict build of the session.
"""

from __future__ import annotations

import functools
import json
import os
import re
import threading
import time
from datetime import datetime
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import urljoin, urlsplit

import pytest
import yaml
from test_book import inside, stored_figures
from test_browser import CHROMIUM, CHROMIUM_FLAGS, REQUIRED, missing_browser
from toc import ROOT, chapter_pages

pytestmark = [pytest.mark.lite, pytest.mark.book]

AT_ONCE = 2  # chapters running at the same time
KERNEL_TIMEOUT = 120  # seconds from opening the site to an idle kernel
RUN_TIMEOUT = 300  # seconds for one chapter's "run all"
TIMES = ROOT / "_build" / "lite-times.json"
VIEWPORT = {"width": 1280, "height": 900}

OPENED = """() => {
    const panel = window.jupyterapp && window.jupyterapp.shell.currentWidget;
    return panel && panel.context ? panel.context.path : null;
}"""
KERNEL_STATUS = """() => {
    const panel = window.jupyterapp && window.jupyterapp.shell.currentWidget;
    const session = panel && panel.sessionContext && panel.sessionContext.session;
    return session && session.kernel ? session.kernel.status : null;
}"""
START_RUN_ALL = """() => {
    window.bookRun = {done: false};
    window.jupyterapp.commands.execute('notebook:run-all-cells').then(
        ok => { window.bookRun = {done: true, ok: ok}; },
        error => { window.bookRun = {done: true, ok: false, error: String(error)}; });
}"""
# What jupyterlab-myst rendered: equation numbers by label (MyST's own ids for unlabelled
# ones), admonitions, and KaTeX's error marks (math it could not typeset).
RENDERED_MYST = """() => {
    const equations = {};
    for (const link of document.querySelectorAll('a[title="Link to this Equation"]')) {
        equations[link.getAttribute('href').slice(1)] = link.textContent.trim().slice(1, -1);
    }
    const count = selector => document.querySelectorAll('.jp-MarkdownCell ' + selector).length;
    return {equations: equations, admonitions: count('.myst-admonition'),
            katex_errors: count('.katex-error')};
}"""
# JupyterLab renders only the cells in view: a tall viewport shows all, once they rendered.
TALL = {"width": 1280, "height": 40000}
ALL_MARKDOWN_RENDERED = """() => {
    const cells = [...document.querySelectorAll('.jp-MarkdownCell')];
    const model = window.jupyterapp.shell.currentWidget.content.model.cells;
    let markdown = 0;
    for (let i = 0; i < model.length; i++) markdown += model.get(i).type === 'markdown';
    return cells.length === markdown && cells.every(cell => cell.querySelector('.myst'));
}"""
RUN_FINISHED = "() => window.bookRun.done && (" + KERNEL_STATUS + ")() === 'idle'"
CODE_CELLS = """() => {
    const cells = window.jupyterapp.shell.currentWidget.content.model.cells;
    const found = [];
    for (let i = 0; i < cells.length; i++) {
        const cell = cells.get(i);
        if (cell.type === 'code') {
            found.push({count: cell.executionCount, outputs: cell.outputs.toJSON()});
        }
    }
    return found;
}"""


class QuietHandler(SimpleHTTPRequestHandler):
    """Python's static file server (as `python -m http.server`), without a log line per file."""

    def log_message(self, format, *args):  # noqa: A002
        pass


@pytest.fixture(scope="module")
def site_html(request) -> Path:
    """The built book's HTML folder: BACKPROP_BOOK_SITE, or the session's strict build."""
    html = os.environ.get("BACKPROP_BOOK_SITE")
    return Path(html) if html else request.getfixturevalue("built_html")


@pytest.fixture(scope="module")
def site(site_html):
    """The built book, served on 127.0.0.1; yields its base URL."""
    html = site_html
    assert (html / "lite" / "jupyter-lite.json").is_file(), f"no JupyterLite site in {html}"
    server = ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(QuietHandler, directory=html))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/"
    server.shutdown()
    server.server_close()


def recorded_seconds(notebook: Path) -> float:
    """How long the stored notebook's cells took when it was executed (0 if not recorded)."""
    total = 0.0
    for cell in json.loads(notebook.read_text(encoding="utf-8"))["cells"]:
        times = cell.get("metadata", {}).get("execution", {})
        if "iopub.execute_input" in times and "shell.execute_reply" in times:
            began, ended = (
                datetime.fromisoformat(times[key].replace("Z", "+00:00"))
                for key in ("iopub.execute_input", "shell.execute_reply")
            )
            total += (ended - began).total_seconds()
    return total


def longest_first(pages: list[str]) -> list[str]:
    """The chapter pages, the longest to run first: the last one started is a short one."""
    return sorted(
        pages, key=lambda page: -recorded_seconds(ROOT / Path(page).with_suffix(".ipynb"))
    )


class SharedContext:
    """One browser context for all chapters: one HTTP cache, every request outside 127.0.0.1
    aborted and charged to the chapter whose tab sent it (to every running one if unknown)."""

    def __init__(self, browser) -> None:
        self.context = browser.new_context(viewport=VIEWPORT)
        self.active: dict = {}  # page -> ChapterRun
        self.context.route("**/*", self._localhost_only)

    def _localhost_only(self, route) -> None:
        url = route.request.url
        if urlsplit(url).hostname == "127.0.0.1" or url.startswith(("data:", "blob:")):
            route.continue_()
            return
        try:
            runs = [self.active[route.request.frame.page]]
        except Exception:  # a service worker's request has no frame
            runs = list(self.active.values())
        for run in runs:
            run.left_localhost.append(url)
        route.abort()


class ChapterRun:
    """One chapter in its own tab: its book page, the launch button's target, the kernel and
    "run all"."""

    def __init__(self, shared: SharedContext, base: str, page_path: str) -> None:
        self.page_path = page_path
        self.left_localhost: list[str] = []
        self.console_errors: list[str] = []
        self.shared = shared
        self.page = shared.context.new_page()
        shared.active[self.page] = self
        self.page.on("console", self._console)
        self.page.goto(urljoin(base, page_path), wait_until="load")
        buttons = self.page.eval_on_selector_all(
            ".article-header-buttons a", "links => links.map(a => a.getAttribute('href'))"
        )
        self.launch = [href for href in buttons if "lite/" in href]
        self.started = time.perf_counter()
        self.opened: str | None = None
        self.kernel_ready: float | None = None
        self.ran: float | None = None
        self.rendered: dict | None = None
        if len(self.launch) == 1:
            self.page.goto(urljoin(self.page.url, self.launch[0]), wait_until="domcontentloaded")

    def _console(self, message) -> None:
        if message.type == "error":
            self.console_errors.append(message.text)

    def _rendered_myst(self) -> dict | None:
        """What jupyterlab-myst made of every Markdown cell (None if they did not render)."""
        from playwright.sync_api import TimeoutError as PlaywrightTimeout

        self.page.set_viewport_size(TALL)
        try:
            self.page.wait_for_function(ALL_MARKDOWN_RENDERED, timeout=30_000)
            return self.page.evaluate(RENDERED_MYST)
        except PlaywrightTimeout:
            return None
        finally:
            self.page.set_viewport_size(VIEWPORT)

    def step(self) -> bool:
        """Advance as far as the page allows without waiting; True once finished."""
        elapsed = time.perf_counter() - self.started
        if self.kernel_ready is None:
            if len(self.launch) != 1:
                return True
            if self.page.evaluate(KERNEL_STATUS) == "idle":
                self.kernel_ready = elapsed
                self.opened = self.page.evaluate(OPENED)
                self.rendered = self._rendered_myst()
                self.page.evaluate(START_RUN_ALL)
            elif elapsed > KERNEL_TIMEOUT:
                return True
            return False
        if self.page.evaluate(RUN_FINISHED):
            self.ran = elapsed - self.kernel_ready
            return True
        return elapsed - self.kernel_ready > RUN_TIMEOUT

    def result(self) -> dict:
        """What the checks need, then the tab (and with it its kernel) is closed."""
        cells = self.page.evaluate(CODE_CELLS) if self.ran is not None else []
        outputs = [output for cell in cells for output in cell["outputs"]]
        self.page.close()
        del self.shared.active[self.page]
        return {
            "launch": self.launch,
            "opened": self.opened,
            "kernel_ready_s": self.kernel_ready,
            "run_all_s": self.ran,
            "unexecuted": sum(cell["count"] is None for cell in cells),
            "code_cells": len(cells),
            "errors": [
                f"{o['ename']}: {o['evalue']}" for o in outputs if o["output_type"] == "error"
            ],
            "images": sum("image/png" in o.get("data", {}) for o in outputs),
            "rendered": self.rendered,
            "left_localhost": self.left_localhost,
            "console_errors": self.console_errors,
        }


@pytest.fixture(scope="module")
def runs(site) -> dict[str, dict]:
    """Run every chapter in JupyterLite, AT_ONCE at a time; map page path to its result."""
    reason = missing_browser()
    if reason:
        if REQUIRED:
            pytest.fail(f"BACKPROP_BOOK_REQUIRE_BROWSER=1 but {reason}")
        pytest.skip(reason)
    from playwright.sync_api import sync_playwright

    # Any host but 127.0.0.1 fails to resolve, workers' requests included.
    flags = [*CHROMIUM_FLAGS, "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1"]
    waiting, active, results = longest_first(chapter_pages()), [], {}
    started = time.perf_counter()
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=flags)
        try:
            shared = SharedContext(browser)
            while waiting or active:
                while waiting and len(active) < AT_ONCE:
                    active.append(ChapterRun(shared, site, waiting.pop(0)))
                for run in [run for run in active if run.step()]:
                    results[run.page_path] = run.result()
                    active.remove(run)
                time.sleep(0.5)
        finally:
            browser.close()
    TIMES.parent.mkdir(exist_ok=True)
    TIMES.write_text(json.dumps(results, indent=1), encoding="utf-8")
    for page, result in results.items():
        print(f"{page}: kernel ready {result['kernel_ready_s']} s, ran {result['run_all_s']} s")
    print(f"all chapters: {time.perf_counter() - started:.0f} s")
    return results


@pytest.mark.parametrize("page", chapter_pages())
def test_chapter_runs_in_the_browser(runs, page, site_html):
    result = runs[page]
    notebook = Path(page).with_suffix(".ipynb").as_posix()
    assert result["launch"] == [f"../lite/notebooks/index.html?path={notebook}"]
    assert result["kernel_ready_s"] is not None, "the kernel was not ready in time"
    assert result["opened"] == notebook, "the tab shows another notebook than the button's"
    assert result["run_all_s"] is not None, "run all did not finish in time"
    assert result["errors"] == []
    assert result["unexecuted"] == 0 and result["code_cells"] > 0
    assert result["images"] == stored_figures(ROOT / notebook)
    assert result["left_localhost"] == []
    # The MyST rendered: equations numbered as in the book (the same labels, no unlabelled
    # equation numbered, the same numbers), every admonition, no math KaTeX refused.
    rendered = result["rendered"]
    assert rendered is not None, f"not every Markdown cell rendered in a {TALL} viewport"
    book = dict(BOOK_EQUATION.findall((site_html / page).read_text(encoding="utf-8")))
    assert rendered["equations"] == book
    markdown = "\n".join(
        "".join(cell["source"])
        for cell in site_cells(site_html, page)
        if cell["cell_type"] == "markdown"
    )
    assert rendered["admonitions"] == len(ADMONITION.findall(markdown))
    assert rendered["katex_errors"] == 0


def test_the_launch_button_is_on_every_chapter_page_of_the_build(site):
    """Every chapter's button leads to the site, and the site holds that very notebook."""
    html = Path(os.environ.get("BACKPROP_BOOK_SITE") or "")
    if not html.name:
        pytest.skip("checked in test_book.py on the strict build")
    for page in chapter_pages():
        links = inside(html / page, "article-header-buttons").links
        notebook = Path(page).with_suffix(".ipynb").as_posix()
        assert f"../lite/notebooks/index.html?path={notebook}" in links
        assert (html / "lite" / "files" / notebook).is_file()


BOOK_FIGURE = re.compile(
    r'<figure[^>]*id="([^"]+)">.*?<span class="caption-number">([^<]+)</span>', re.S
)
BOOK_EQUATION = re.compile(r'id="equation-([^"]+)">\s*<span class="eqno">\(([^)]+)\)')
ADMONITION = re.compile(
    r"^(?::{3,}|`{3,})\{(admonition|note|tip|hint|important|warning|caution|attention|danger"
    r"|error|seealso)\}",
    re.M,
)
# What jupyterlab-myst cannot resolve inside one notebook (an {eq} may stay: checked apart).
UNRESOLVABLE = re.compile(r"\{(numref|ref|term|doc|cite(:[a-z]+)?)\}`")


def site_cells(html: Path, page: str) -> list[dict]:
    """The cells of a chapter as the site serves it."""
    notebook = html / "lite" / "files" / Path(page).with_suffix(".ipynb")
    return json.loads(notebook.read_text(encoding="utf-8"))["cells"]


def test_the_site_chapters_print_the_books_references_and_figure_numbers(site_html):
    """In the site each chapter is alone: every reference into the rest of the book, to a
    figure (whose label jupyterlab-myst cannot see), a term or a citation is written out, and
    every figure is followed by its caption, numbered as on the book's own page."""
    html = site_html
    for page in chapter_pages():
        cells = site_cells(html, page)
        markdown = "\n".join("".join(c["source"]) for c in cells if c["cell_type"] == "markdown")
        assert not UNRESOLVABLE.findall(markdown), page
        defined = set(re.findall(r"^\$\$ *\(([\w-]+)\)", markdown, re.M))
        assert set(re.findall(r"\{eq\}`([^`]+)`", markdown)) <= defined, page
        book = dict(BOOK_FIGURE.findall((html / page).read_text(encoding="utf-8")))
        captions = {}
        for cell, after in zip(cells, cells[1:], strict=False):
            name = cell["metadata"].get("mystnb", {}).get("figure", {}).get("name")
            if name:
                assert after["cell_type"] == "markdown", f"{page}: no caption after {name}"
                captions[name] = re.match(r"\*\*(Fig\. [\d.]+)\*\* ", after["source"]).group(1)
        assert captions == {name: number.strip() for name, number in book.items()}, page


def test_the_site_chapters_have_the_book_macros_and_open_with_solutions_folded(site_html):
    """jupyterlab-myst typesets with KaTeX: the book's macros must reach it as MyST frontmatter
    (a \\newcommand block is local to its cell, and KaTeX refuses to redefine its own \\R),
    and the cells the book folds (tag hide-cell) must open folded in the site too."""
    html = site_html
    config = yaml.safe_load((ROOT / "_config.yml").read_text(encoding="utf-8"))
    macros = config["sphinx"]["config"]["mathjax3_config"]["tex"]["macros"]
    expected = {
        f"\\{name}": body if isinstance(body, str) else body[0] for name, body in macros.items()
    }
    for page in chapter_pages():
        notebook = Path(page).with_suffix(".ipynb").as_posix()
        cells = json.loads((html / "lite" / "files" / notebook).read_text(encoding="utf-8"))[
            "cells"
        ]
        markdown = ["".join(cell["source"]) for cell in cells if cell["cell_type"] == "markdown"]
        assert markdown[0].startswith("---\n"), f"{notebook}: no frontmatter in its first cell"
        frontmatter = yaml.safe_load(markdown[0].split("---\n")[1])
        assert frontmatter["math"] == expected, notebook
        assert not any("\\newcommand" in source for source in markdown), notebook
        folded = [cell for cell in cells if "hide-cell" in cell["metadata"].get("tags", [])]
        assert folded, f"{notebook}: no solution cell (tag hide-cell)"
        for cell in folded:
            assert cell["metadata"]["jupyter"] == {"source_hidden": True, "outputs_hidden": True}
