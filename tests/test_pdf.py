"""The whole book as one PDF (`_ext/pdf_book.py`): bookmarks, pages, figures, links, text, code.

The PDF is made by the strict build (the `strict_build` fixture) when Playwright, pypdf and
Debian's Chromium are installed; it is read here with pypdf. Without them the tests are
skipped with the reason, and BACKPROP_BOOK_REQUIRE_BROWSER=1 (CI) turns the skip into a
failure, as in tests/test_browser.py.
"""

from __future__ import annotations

import json
import os
import re
from dataclasses import dataclass, field
from pathlib import Path

import pytest
import yaml
from test_book import load_extension, stored_figures
from toc import ROOT, chapter_pages, toc_pages

pytestmark = [pytest.mark.pdf, pytest.mark.book]

REQUIRED = os.environ.get("BACKPROP_BOOK_REQUIRE_BROWSER") == "1"
pdf_book = load_extension("pdf_book")

# The page count measured when the PDF was first built: 383 A4 pages (the API reference alone
# is about 90 of them). The range allows for the book to grow or shrink by about a fifth;
# far below it, pages are missing (a part, the API reference); far above it, the print
# layout has broken (code one word per line, a figure per page).
PAGES = range(300, 450)
MM = 72 / 25.4  # PDF points per millimetre
RIGHT_MARGIN = 15 * MM  # the margin pdf_book.print_pdf asks Chromium for
MONOSPACE_ADVANCE = 0.602  # DejaVu Sans Mono's advance width, in ems (1233 / 2048)
FOOTER = re.compile(r"\s*\d+ / \d+\s*$")  # the page number pdf_book prints at the foot


@pytest.fixture(scope="module")
def pdf_path(built_html) -> Path:
    missing = pdf_book.missing_printer()
    if missing:
        if REQUIRED:
            pytest.fail(f"BACKPROP_BOOK_REQUIRE_BROWSER=1 but {missing}")
        pytest.skip(missing)
    path = built_html / pdf_book.PDF_NAME
    assert path.is_file(), f"the build had Chromium but wrote no {pdf_book.PDF_NAME}"
    return path


@pytest.fixture(scope="module")
def pdf(pdf_path):
    from pypdf import PdfReader

    return PdfReader(pdf_path)


@dataclass
class Run:
    """One piece of text as drawn on a page: where it starts and, for code, where it ends."""

    text: str
    left: float
    right: float | None  # known for the monospace font only


@dataclass
class PageText:
    text: str
    runs: list[Run] = field(default_factory=list)


def page_text(page) -> PageText:
    """Extract a page's text and the position of every piece of it (in points)."""
    result = PageText("")

    def visit(text, cm, tm, font, size) -> None:
        if not text.strip():
            return
        left = cm[0] * tm[4] + cm[2] * tm[5] + cm[4]
        right = None
        if font and "Mono" in str(font.get("/BaseFont", "")):
            right = left + cm[0] * tm[0] * size * MONOSPACE_ADVANCE * len(text.rstrip("\n"))
        result.runs.append(Run(text, left, right))

    result.text = FOOTER.sub("", page.extract_text(visitor_text=visit))
    return result


@pytest.fixture(scope="module")
def texts(pdf) -> list[PageText]:
    return [page_text(page) for page in pdf.pages]


def outline_tree(pdf, items=None) -> list[tuple[str, int, list]]:
    """The bookmarks as (title, page index, children), in order."""
    items = pdf.outline if items is None else items
    tree = []
    for item in items:
        if isinstance(item, list):
            tree[-1][2].extend(outline_tree(pdf, item))
        else:
            tree.append((item.title, pdf.get_destination_page_number(item), []))
    return tree


def squeeze(text: str) -> str:
    """Text without whitespace and MyST's inline markup (backticks), for comparisons."""
    return re.sub(r"[\s`]", "", text)


def source_title_and_sections(page: str) -> tuple[str, int]:
    """A page's title (its `# ` heading) and how many `## ` sections its source has."""
    source = ROOT / Path(page).with_suffix(".ipynb")
    if source.exists():
        cells = json.loads(source.read_text(encoding="utf-8"))["cells"]
        markdown = "\n".join("".join(c["source"]) for c in cells if c["cell_type"] == "markdown")
    else:
        markdown = (ROOT / Path(page).with_suffix(".md")).read_text(encoding="utf-8")
    markdown = re.sub(r"^(```|~~~).*?^\1", "", markdown, flags=re.S | re.M)  # not in fences
    title = re.search(r"^# (.+)$", markdown, re.M).group(1)
    return title, len(re.findall(r"^## ", markdown, re.M))


def test_a4_and_a_sane_number_of_pages(pdf):
    assert len(pdf.pages) in PAGES
    width, height = (float(v) for v in pdf.pages[0].mediabox[2:])
    assert (round(width / MM), round(height / MM)) == (210, 297)


def test_bookmarks_follow_the_table_of_contents(pdf):
    """Parts, then their chapters (in _toc.yml's order), then a bookmark per section."""
    toc = yaml.safe_load((ROOT / "_toc.yml").read_text(encoding="utf-8"))
    tree = outline_tree(pdf)
    landing, parts = tree[0], tree[1:]
    title, _ = source_title_and_sections(toc_pages()[0])
    assert squeeze(landing[0]) == squeeze(title)
    assert [squeeze(part[0]) for part in parts] == [squeeze(p["caption"]) for p in toc["parts"]]
    for part, entry in zip(parts, toc["parts"], strict=True):
        chapters = [c["file"] + ".html" for c in entry["chapters"]]
        assert len(part[2]) == len(chapters), part[0]
        for (bookmark, first_page, sections), page in zip(part[2], chapters, strict=True):
            title, count = source_title_and_sections(page)
            assert squeeze(bookmark).endswith(squeeze(title)), (bookmark, title)
            assert len(sections) == count, f"{bookmark}: {len(sections)} of {count} sections"
            assert part[1] < first_page, "a chapter starts after its part's title page"
    starts = [chapter[1] for part in parts for chapter in part[2]]
    assert starts == sorted(starts), "the chapters are in reading order"


def test_bookmarks_have_their_headings_words(pdf):
    """No words run together where a heading wrapped; an equation in a heading is kept."""
    titles = [title for title, _, _ in outline_tree(pdf)]
    titles += [t for _, _, kids in outline_tree(pdf) for t, _, _ in kids]
    assert "Part V: Beyond the multilayer perceptron" in titles
    sections = [t for _, _, kids in outline_tree(pdf) for _, _, s in kids for t, _, _ in s]
    assert "5.5. Softmax with cross-entropy: ∂C∂z=a−y" in sections


def image_names(resources, seen: set) -> None:
    """Collect the images drawn by a page's (or a form's) resources, by object number."""
    xobjects = resources.get("/XObject") if resources else None
    for reference in (xobjects.get_object() if xobjects else {}).values():
        xobject = reference.get_object()
        if xobject["/Subtype"] == "/Image":
            seen.add(reference.idnum)
        elif xobject["/Subtype"] == "/Form":
            image_names(xobject.get("/Resources"), seen)


def test_every_figure_is_in_the_pdf(pdf):
    images: set[int] = set()
    for page in pdf.pages:
        image_names(page.get("/Resources"), images)
    figures = sum(stored_figures(ROOT / Path(p).with_suffix(".ipynb")) for p in chapter_pages())
    assert figures > 40, "the notebooks store their figures"
    assert len(images) >= figures


def links(pdf):
    for page in pdf.pages:
        for annotation in page.get("/Annots") or []:
            annotation = annotation.get_object()
            if annotation.get("/Subtype") == "/Link":
                yield annotation


def test_internal_links_point_inside_the_document(pdf):
    destinations = pdf.named_destinations
    internal = [str(link["/Dest"]) for link in links(pdf) if "/Dest" in link]
    external = [str(link["/A"].get("/URI", "")) for link in links(pdf) if "/Dest" not in link]
    assert len(internal) > 500, "cross-references, equations, glossary terms, citations"
    assert [name for name in internal if name not in destinations] == []
    assert all(0 <= pdf.get_destination_page_number(destinations[n]) for n in set(internal))
    assert [uri for uri in external if not uri.startswith(("https://", "http://"))] == []


def test_the_glossary_chinese_terms_are_text(pdf, texts):
    chapters = [(title, first) for _, _, kids in outline_tree(pdf) for title, first, _ in kids]
    first = next(page for title, page in chapters if title == "Glossary")
    end = min(page for _, page in chapters if page > first)
    text = "".join(page.text for page in texts[first:end])
    for term in ["反向传播", "链式法则", "前向传播", "误差项", "分母布局"]:
        assert term in text


def printed_code_lines() -> list[str]:
    """The lines of every code cell the PDF shows (all but `remove-*` cells), not blank."""
    lines = []
    for page in chapter_pages():
        cells = json.loads((ROOT / Path(page).with_suffix(".ipynb")).read_text("utf-8"))["cells"]
        for cell in cells:
            tags = cell.get("metadata", {}).get("tags", [])
            if cell["cell_type"] != "code" or {"remove-cell", "remove-input"} & set(tags):
                continue
            lines += [line for line in "".join(cell["source"]).splitlines() if line.strip()]
    return lines


def missing(lines: list[str], pages: list[PageText]) -> list[str]:
    """The lines whose text is not in the PDF (Chromium leaves out what a box cuts off)."""
    text = squeeze("".join(page.text for page in pages))
    return [line for line in lines if squeeze(line) not in text]


def test_every_code_line_is_printed_whole(texts):
    lines = printed_code_lines()
    assert len(lines) > 1000
    assert missing(lines, texts) == []


def cut_off(pages: list[PageText], width: float) -> list[str]:
    """Code that reaches past the right margin: a line that runs on instead of wrapping.

    Only code (the monospace font) is measured: its width is exact, and older pypdf misplaces
    some of MathJax's stretched brackets.
    """
    edge = width - RIGHT_MARGIN + 1  # one point for rounding
    return [
        f"page {number}: {run.text!r}"
        for number, page in enumerate(pages, start=1)
        for run in page.runs
        if run.right is not None and run.right > edge
    ]


def test_no_code_runs_past_the_right_margin(pdf, texts):
    assert sum(run.right is not None for page in texts for run in page.runs) > 1000, "code"
    assert cut_off(texts, float(pdf.pages[0].mediabox[2])) == []


@pytest.mark.parametrize("overflow", ["hidden", "visible"])
def test_the_checks_find_a_code_line_that_does_not_fit(pdf_path, tmp_path, overflow):
    """The book's printer on a page whose code box does not wrap a long line.

    If the box cuts the line off, its end is missing from the text; if the line runs on
    past the box, it runs past the margin.
    """
    from pypdf import PdfReader

    page = tmp_path / "long_line.html"
    line = "cut_here = " + " + ".join(f"term_{i}" for i in range(40))
    # What pdf_book.PREPARE expects of the book's page: MathJax, the printed table of
    # contents with a part caption, and the article with that part's toctree.
    page.write_text(
        "<script>window.MathJax = {startup: {promise: Promise.resolve()}};</script>"
        "<div id='jb-print-toc'><p class='caption'>Part</p></div>"
        "<article class='bd-article'><div class='toctree-wrapper'>"
        f"<pre style='overflow: {overflow}; white-space: pre; font-family: DejaVu Sans Mono'>"
        f"{line}</pre></div></article>",
        encoding="utf-8",
    )
    pdf = tmp_path / "long_line.pdf"
    pdf_book.print_pdf(page, pdf)
    reader = PdfReader(pdf)
    pages = [page_text(p) for p in reader.pages]
    if overflow == "hidden":
        assert missing([line], pages) == [line]
    else:
        assert cut_off(pages, float(reader.pages[0].mediabox[2])) != []
