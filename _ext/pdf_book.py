"""The whole book as one A4 PDF, printed by Debian's Chromium, linked from every page.

After the HTML build, when Playwright and Chromium are installed, this extension:

1. builds the same sources once more with Sphinx's ``singlehtml`` builder (a subprocess of
   Jupyter Book, into ``_build/singlehtml/``): every page of ``_toc.yml`` in reading order on
   one page, so a link between chapters becomes a link inside the PDF. The notebooks are not
   executed again (Jupyter Book's cache);
2. opens that page in Chromium (``/usr/bin/chromium``, or ``BACKPROP_BOOK_CHROMIUM``; never a
   browser Playwright downloads) with every request that is not a local file blocked, waits
   for MathJax, prepares the page for paper (see ``PREPARE``) and prints it with
   ``_static/print.css`` to ``_build/html/backprop-book.pdf``: A4, bookmarks from the headings,
   tagged, page numbers in the footer.

Every page of the HTML book gets a "book (PDF)" entry in its download menu, but only
when the PDF is going to be built: without Playwright or Chromium the build logs one line and
no page links to a PDF. If the PDF was due and could not be made, the build fails (a link to a
missing file is never left behind). The PDF adds one to one and a half minutes to a build on
a 2-core machine; ``BACKPROP_BOOK_PDF=0`` in the environment (or ``pdf_book = False`` in the
Sphinx config) leaves it out, with its link.
"""

from __future__ import annotations

import logging as python_logging
import os
import re
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

from sphinx.application import Sphinx
from sphinx.config import Config
from sphinx.errors import ExtensionError
from sphinx.util import logging

logger = logging.getLogger(__name__)

PDF_NAME = "backprop-book.pdf"
CHROMIUM = os.environ.get("BACKPROP_BOOK_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_FLAGS = [
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
TIMEOUT_MS = 300_000  # MathJax typesets the whole book in one page: allow for a slow machine
FOOTER = (
    '<div style="font-size: 8pt; width: 100%; text-align: center; color: #555;">'
    '<span class="pageNumber"></span> / <span class="totalPages"></span></div>'
)

# Run in the single page before printing. Returns what it changed, for the log.
# - Each part of _toc.yml is one toctree: its caption (kept only in the page's printed table of
#   contents) becomes an <h1> before the part's chapters, so the bookmarks go part > chapter >
#   section.
# - Links to "thispage.html#anchor" become "#anchor": Chromium turns only those into links
#   inside the PDF (the others would open the HTML file).
# - The "#" permalinks go (their text would end every bookmark); folded solutions are shown
#   (a PDF cannot unfold them: the solution cells, folded <details>, and the solution
#   admonitions that sphinx-togglebutton folds); images load now, not lazily.
PREPARE = """() => {
    const captions = Array.from(document.querySelectorAll('#jb-print-toc p.caption'))
        .map(caption => caption.textContent.trim());
    const parts = document.querySelectorAll('article.bd-article div.toctree-wrapper');
    if (captions.length !== parts.length) {
        throw new Error(`${captions.length} part captions but ${parts.length} toctrees`);
    }
    parts.forEach((part, i) => {
        const heading = document.createElement('h1');
        heading.className = 'pdf-book-part';
        heading.textContent = captions[i];
        part.before(heading);
    });
    const here = location.href.split('#')[0];
    let links = 0;
    for (const a of document.querySelectorAll('a[href]')) {
        const url = new URL(a.href);
        if (url.hash && url.href.split('#')[0] === here) {
            a.setAttribute('href', url.hash);
            links += 1;
        }
    }
    // The printed table of contents lists the parts again: not as headings (bookmarks).
    document.querySelectorAll('#jb-print-toc p.caption').forEach(p => p.removeAttribute('role'));
    document.querySelectorAll('a.headerlink').forEach(a => a.remove());
    document.querySelectorAll('.toggle-hidden').forEach(e => e.classList.remove('toggle-hidden'));
    document.querySelectorAll('details').forEach(details => { details.open = true; });
    document.querySelectorAll('img[loading]').forEach(img => img.removeAttribute('loading'));
    const title = (heading, math) => {
        const copy = heading.cloneNode(true);
        copy.querySelectorAll('mjx-container').forEach(container => {
            const mathml = container.querySelector('mjx-assistive-mml');
            container.replaceWith(math && mathml ? mathml.textContent : '');
        });
        return copy.textContent.replace(/\\s+/g, ' ').trim();
    };
    const titles = {};
    for (const heading of document.querySelectorAll('h1, h2, h3, h4, h5, h6')) {
        titles[title(heading, false).replace(/\\s/g, '')] = title(heading, true);
    }
    return {parts: parts.length, links, titles};
}"""
IMAGES_LOADED = "() => Array.from(document.images).every(img => img.complete)"


def missing_printer() -> str | None:
    """Say what is missing to print the PDF (Playwright, Chromium), or None if nothing is."""
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        return "Playwright is not installed (pip install -r requirements-browser.txt)"
    try:
        import pypdf  # noqa: F401
    except ImportError:
        return "pypdf is not installed (pip install -r requirements-browser.txt)"
    if not (Path(CHROMIUM).is_file() or shutil.which(CHROMIUM)):
        return f"no Chromium at {CHROMIUM} (apt-get install chromium)"
    return None


def build_single_page(book: Path, build: Path) -> tuple[Path, list[str]]:
    """Build ``book`` with the singlehtml builder into ``build/singlehtml``.

    Returns the page and the warnings of that build.

    Raises
    ------
    sphinx.errors.ExtensionError
        If the build fails.
    """
    command = [
        sys.executable,
        "-c",
        "from jupyter_book.cli.main import main; main()",
        "build",
        "--builder",
        "singlehtml",
        "-n",
        "--keep-going",
        "--path-output",
        str(build.parent),
        str(book),
    ]
    result = subprocess.run(command, capture_output=True, text=True, timeout=900)
    log = result.stdout + result.stderr
    if result.returncode != 0:
        raise ExtensionError(f"the single-page build for the PDF failed:\n{log[-3000:]}")
    warnings = [line for line in log.splitlines() if re.search(r"\bWARNING: ", line)]
    pages = [build / "singlehtml" / "index.html", *sorted((build / "singlehtml").glob("*.html"))]
    # index.html only redirects to the root page; the book is the one large page.
    page = max(pages, key=lambda path: path.stat().st_size)
    return page, warnings


def local_files_only(route) -> None:
    """Let a request through only if it reads a local file: the book prints offline."""
    if route.request.url.startswith("file:"):
        route.continue_()
    else:
        route.abort()


def print_pdf(page: Path, pdf: Path) -> dict:
    """Print the single ``page`` of the book to ``pdf`` with Chromium; return PREPARE's report."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_FLAGS)
        try:
            context = browser.new_context()
            context.route("**/*", local_files_only)
            tab = context.new_page()
            tab.set_default_timeout(TIMEOUT_MS)
            tab.goto(page.as_uri(), wait_until="load")
            tab.wait_for_function(
                "() => window.MathJax && MathJax.startup && MathJax.startup.promise"
            )
            tab.evaluate("() => MathJax.startup.promise")
            report = tab.evaluate(PREPARE)
            tab.wait_for_function(IMAGES_LOADED)
            tab.pdf(
                path=str(pdf),
                format="A4",
                margin={"top": "16mm", "bottom": "16mm", "left": "15mm", "right": "15mm"},
                print_background=True,
                outline=True,
                tagged=True,
                display_header_footer=True,
                header_template="<span></span>",
                footer_template=FOOTER,
            )
        finally:
            browser.close()
    return report


def outline_items(node) -> Iterator:
    """Yield every bookmark under the outline ``node`` (a PDF dictionary), depth first."""
    child = node.get("/First")
    while child is not None:
        child = child.get_object()
        yield child
        yield from outline_items(child)
        child = child.get("/Next")


def retitle_bookmarks(pdf: Path, titles: dict[str, str]) -> int:
    """Give the bookmarks of ``pdf`` their headings' full text; return how many changed.

    Chromium names a bookmark after the text of its heading as laid out: where the heading
    wraps, the space between two words is lost, and an equation in it is left out.
    ``titles`` maps each heading's text without spaces and equations to its full text, with
    equations as the characters of their MathML.
    """
    from pypdf import PdfWriter
    from pypdf.generic import NameObject, TextStringObject

    # pypdf notes, harmlessly, that Chromium's trailer undercounts the objects: not for the log.
    python_logging.getLogger("pypdf").setLevel(python_logging.ERROR)
    writer = PdfWriter(clone_from=str(pdf))
    changed = 0
    for item in outline_items(writer.root_object["/Outlines"].get_object()):
        title = str(item["/Title"])
        better = titles.get(re.sub(r"\s", "", title))
        if better and better != title:
            item[NameObject("/Title")] = TextStringObject(better)
            changed += 1
    with pdf.open("wb") as file:
        writer.write(file)
    return changed


def why_no_pdf(config: Config) -> str | None:
    """Say why this build makes no PDF, or None if it makes one."""
    if not config.pdf_book:
        return "pdf_book = False"
    if os.environ.get("BACKPROP_BOOK_PDF") == "0":
        return "BACKPROP_BOOK_PDF=0"
    return missing_printer()


def decide_link(app: Sphinx, config: Config) -> None:
    """Record whether pages link to the PDF, as a config value that rewrites every page.

    The HTML builder rewrites all pages when an "html" config value changes, so a book built
    once with Chromium and then without it keeps no page that links to a PDF, and the reverse.
    """
    config.pdf_book_link = why_no_pdf(config) is None


def plan_pdf(app: Sphinx) -> None:
    """Say, once per HTML build, when it makes no PDF; remove a PDF left by an earlier build."""
    if app.builder.name != "html" or app.config.pdf_book_link:
        return
    logger.info(f"pdf_book: no PDF of the book and no link to one: {why_no_pdf(app.config)}")
    (Path(app.outdir) / PDF_NAME).unlink(missing_ok=True)


def pdf_due(app: Sphinx) -> bool:
    """Whether this build writes the PDF (and its pages link to it)."""
    return app.builder.name == "html" and app.config.pdf_book_link


def add_pdf_button(app: Sphinx, pagename: str, templatename: str, context: dict, doctree) -> None:
    """Add "book (PDF)" to the page's download menu (sphinx-book-theme's buttons)."""
    if not pdf_due(app):
        return
    button = {
        "type": "link",
        "url": context["pathto"](PDF_NAME, 1),
        "text": "book (PDF)",
        "tooltip": "Download the whole book as one PDF",
        "icon": "fas fa-book",
        "label": "download-book-pdf-button",
    }
    for group in context.get("header_buttons", []):
        if group.get("label") == "download-buttons":
            group["buttons"].append(button)
            return
    context.setdefault("header_buttons", []).append(button)


def make_pdf(app: Sphinx, exception: Exception | None) -> None:
    """After a successful HTML build, build the single page and print it to the PDF."""
    if exception is not None or not pdf_due(app):
        return
    start = time.perf_counter()
    html = Path(app.outdir)
    page, warnings = build_single_page(Path(app.srcdir), html.parent)
    for warning in warnings:
        logger.warning(f"pdf_book (singlehtml build): {warning}")
    pdf = html / PDF_NAME
    try:
        report = print_pdf(page, pdf)
        retitled = retitle_bookmarks(pdf, report["titles"])
    except Exception as error:
        pdf.unlink(missing_ok=True)
        raise ExtensionError(
            f"pages link to {PDF_NAME}, but printing it failed: {error}"
        ) from error
    size = pdf.stat().st_size / 1e6
    seconds = time.perf_counter() - start
    logger.info(
        f"pdf_book: wrote {PDF_NAME} ({size:.1f} MB, {report['parts']} parts, "
        f"{report['links']} internal links, {retitled} bookmarks retitled) in {seconds:.0f} s"
    )


def setup(app: Sphinx) -> dict[str, object]:
    """Register the extension with Sphinx."""
    app.add_config_value("pdf_book", True, "html")
    app.add_config_value("pdf_book_link", False, "html")  # set by decide_link, not by hand
    app.connect("config-inited", decide_link)
    app.connect("builder-inited", plan_pdf)
    # After sphinx-book-theme has made its buttons (it adds them at priority 501).
    app.connect("html-page-context", add_pdf_button, priority=900)
    app.connect("build-finished", make_pdf)
    return {"version": "1.0", "parallel_read_safe": True, "parallel_write_safe": True}
