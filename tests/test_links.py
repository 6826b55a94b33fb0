"""Every internal link and #anchor in the built book points at something that exists.

External links (https://...) are not followed: the tests run offline. Everything else, the
links between pages, to figures, scripts, stylesheets, downloads and anchors within pages,
is resolved against the built files.
"""

from __future__ import annotations

from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import unquote, urlsplit

import pytest
from toc import toc_pages

LINK_ATTRIBUTES = {"a": "href", "link": "href", "img": "src", "script": "src"}


class PageLinks(HTMLParser):
    """Collect a page's link targets and the ids (anchors) it defines."""

    def __init__(self) -> None:
        super().__init__()
        self.links: list[str] = []
        self.anchors: set[str] = set()

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = dict(attrs)
        for name in ("id", "name"):
            if values.get(name):
                self.anchors.add(values[name])
        target = values.get(LINK_ATTRIBUTES.get(tag, ""))
        if target:
            self.links.append(target)


def parse(path: Path) -> PageLinks:
    parser = PageLinks()
    parser.feed(path.read_text(encoding="utf-8"))
    return parser


def broken_links(html: Path) -> list[str]:
    """Return 'page -> link (reason)' for every internal link that does not resolve."""
    # _static/ holds the themes' Jinja macro files (*.html but not pages): not checked.
    pages = {
        path: parse(path)
        for path in sorted(html.rglob("*.html"))
        if "_static" not in path.relative_to(html).parts
    }
    problems = []
    for page, parsed in pages.items():
        for link in parsed.links:
            parts = urlsplit(link)
            if parts.scheme or link.startswith("//"):
                continue  # external (https:, mailto:, data:): not checked offline
            target = (page.parent / unquote(parts.path)).resolve() if parts.path else page
            if target.is_dir():
                target = target / "index.html"
            where = f"{page.relative_to(html)} -> {link}"
            if not target.is_file():
                problems.append(f"{where} (no such file)")
            elif parts.fragment and target.suffix == ".html":
                anchors = pages[target].anchors if target in pages else parse(target).anchors
                if unquote(parts.fragment) not in anchors:
                    problems.append(f"{where} (no such anchor)")
    return problems


@pytest.mark.book
def test_no_broken_internal_links_or_anchors(built_html):
    assert broken_links(built_html) == []


def test_the_checker_finds_a_broken_file_and_a_broken_anchor(tmp_path):
    (tmp_path / "a.html").write_text(
        '<p id="here"><a href="#here">ok</a> <a href="b.html#there">ok</a>'
        ' <a href="missing.html">bad</a> <a href="b.html#nowhere">bad</a>'
        ' <img src="fig.png"> <a href="https://example.org/x#y">external</a></p>'
    )
    (tmp_path / "b.html").write_text('<h1 id="there">B</h1><a href="a.html#here">back</a>')
    assert broken_links(tmp_path) == [
        "a.html -> missing.html (no such file)",
        "a.html -> b.html#nowhere (no such anchor)",
        "a.html -> fig.png (no such file)",
    ]


PDF_NAME = "backprop-book.pdf"  # the whole book, written by _ext/pdf_book.py


@pytest.mark.book
def test_every_page_links_to_the_pdf_exactly_when_it_was_built(built_html):
    """With the PDF, every page's download menu links to it; without it, no page does."""
    pdf = built_html / PDF_NAME
    for page_path in toc_pages():
        page = built_html / page_path
        targets = [
            (page.parent / unquote(urlsplit(link).path)).resolve()
            for link in parse(page).links
            if urlsplit(link).path.endswith(PDF_NAME)
        ]
        assert targets == ([pdf.resolve()] if pdf.is_file() else []), page_path
