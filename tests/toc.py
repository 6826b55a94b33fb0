"""The book's table of contents, read from `_toc.yml`, for the tests of the built book."""

from __future__ import annotations

from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]

# Pages Sphinx writes for every book besides the table of contents' own: the redirect from
# index.html to the root page, the general and module indices, and the search page.
SPHINX_PAGES = ("index.html", "genindex.html", "py-modindex.html", "search.html")


def toc_pages() -> list[str]:
    """The pages of `_toc.yml`, in reading order, as paths of built HTML files."""
    toc = yaml.safe_load((ROOT / "_toc.yml").read_text(encoding="utf-8"))
    files = [toc["root"]]
    files += [entry["file"] for part in toc["parts"] for entry in part["chapters"]]
    return [f"{name}.html" for name in files]


def chapter_pages() -> list[str]:
    """The chapters among :func:`toc_pages` (the pages built from notebooks)."""
    return [page for page in toc_pages() if page.startswith("chapters/")]
