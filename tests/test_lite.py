"""Every chapter runs in the browser: JupyterLite, opened from the chapter's launch button.

The built book is served on 127.0.0.1 by Python's plain static server (what the README tells
a reader to run). For every chapter, headless Chromium opens the chapter's page, follows its
JupyterLite launch button, waits for the Pyodide kernel, runs all cells and checks: no cell
raised, every code cell ran, as many images as the stored notebook has, and no request left
127.0.0.1 (any other is aborted and recorded; Chromium also cannot resolve any other host).

Two chapters run at a time (each kernel is one busy thread; CI has two cores). The time to a
ready kernel and the time each chapter takes are printed (`pytest -s`) and kept in
`_build/lite-times.json`.

Without Chromium or Playwright the tests are skipped with the reason; with
BACKPROP_BOOK_REQUIRE_BROWSER=1 (CI) that is a failure. BACKPROP_BOOK_SITE=path/to/_build/html
tests an existing build instead of the strict build of the session.
"""

from __future__ import annotations

import functools
import json
import os
import threading
import time
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import urljoin, urlsplit

import pytest
from test_book import inside, stored_figures
from test_browser import CHROMIUM, CHROMIUM_FLAGS, REQUIRED, missing_browser
from toc import ROOT, chapter_pages

pytestmark = [pytest.mark.lite, pytest.mark.book]

AT_ONCE = 2  # chapters running at the same time
KERNEL_TIMEOUT = 120  # seconds from opening the site to an idle kernel
RUN_TIMEOUT = 300  # seconds for one chapter's "run all"
TIMES = ROOT / "_build" / "lite-times.json"

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
def site(request):
    """The built book, served on 127.0.0.1; yields its base URL."""
    html = os.environ.get("BACKPROP_BOOK_SITE")
    html = Path(html) if html else request.getfixturevalue("built_html")
    assert (html / "lite" / "jupyter-lite.json").is_file(), f"no JupyterLite site in {html}"
    server = ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(QuietHandler, directory=html))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/"
    server.shutdown()
    server.server_close()


class ChapterRun:
    """One chapter: its book page, the launch button's target, the kernel and "run all"."""

    def __init__(self, browser, base: str, page_path: str) -> None:
        self.page_path = page_path
        self.left_localhost: list[str] = []
        self.console_errors: list[str] = []
        self.context = browser.new_context(viewport={"width": 1280, "height": 900})
        self.context.route("**/*", self._localhost_only)
        self.page = self.context.new_page()
        self.page.on("console", self._console)
        self.page.goto(urljoin(base, page_path), wait_until="load")
        buttons = self.page.eval_on_selector_all(
            ".article-header-buttons a", "links => links.map(a => a.getAttribute('href'))"
        )
        self.launch = [href for href in buttons if "lite/" in href]
        self.started = time.perf_counter()
        self.kernel_ready: float | None = None
        self.ran: float | None = None
        if len(self.launch) == 1:
            self.page.goto(urljoin(self.page.url, self.launch[0]), wait_until="domcontentloaded")

    def _localhost_only(self, route) -> None:
        url = route.request.url
        if urlsplit(url).hostname == "127.0.0.1" or url.startswith(("data:", "blob:")):
            route.continue_()
        else:
            self.left_localhost.append(url)
            route.abort()

    def _console(self, message) -> None:
        if message.type == "error":
            self.console_errors.append(message.text)

    def step(self) -> bool:
        """Advance as far as the page allows without waiting; True once finished."""
        elapsed = time.perf_counter() - self.started
        if self.kernel_ready is None:
            if len(self.launch) != 1:
                return True
            if self.page.evaluate(KERNEL_STATUS) == "idle":
                self.kernel_ready = elapsed
                self.page.evaluate(START_RUN_ALL)
            elif elapsed > KERNEL_TIMEOUT:
                return True
            return False
        if self.page.evaluate(RUN_FINISHED):
            self.ran = elapsed - self.kernel_ready
            return True
        return elapsed - self.kernel_ready > RUN_TIMEOUT

    def result(self) -> dict:
        """What the checks need, then the browser context is closed."""
        cells = self.page.evaluate(CODE_CELLS) if self.ran is not None else []
        outputs = [output for cell in cells for output in cell["outputs"]]
        self.context.close()
        return {
            "launch": self.launch,
            "kernel_ready_s": self.kernel_ready,
            "run_all_s": self.ran,
            "unexecuted": sum(cell["count"] is None for cell in cells),
            "code_cells": len(cells),
            "errors": [
                f"{o['ename']}: {o['evalue']}" for o in outputs if o["output_type"] == "error"
            ],
            "images": sum("image/png" in o.get("data", {}) for o in outputs),
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
    waiting, active, results = list(chapter_pages()), [], {}
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=flags)
        try:
            while waiting or active:
                while waiting and len(active) < AT_ONCE:
                    active.append(ChapterRun(browser, site, waiting.pop(0)))
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
    return results


@pytest.mark.parametrize("page", chapter_pages())
def test_chapter_runs_in_the_browser(runs, page):
    result = runs[page]
    notebook = Path(page).with_suffix(".ipynb").as_posix()
    assert result["launch"] == [f"../lite/notebooks/index.html?path={notebook}"]
    assert result["kernel_ready_s"] is not None, "the kernel was not ready in time"
    assert result["run_all_s"] is not None, "run all did not finish in time"
    assert result["errors"] == []
    assert result["unexecuted"] == 0 and result["code_cells"] > 0
    assert result["images"] == stored_figures(ROOT / notebook)
    assert result["left_localhost"] == []


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
