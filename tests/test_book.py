"""The book as a reader's first command builds it: in place, strict, exactly its pages.

The build itself is the session fixture `strict_build` in conftest.py (a clean copy with a
virtual environment planted inside, built in place), shared with the link check and the
browser test.
"""

import importlib.util
import json
import re
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import urlsplit

import pytest
import yaml
from toc import ROOT, SPHINX_PAGES, chapter_pages, toc_pages


@pytest.mark.book
def test_strict_build_has_no_warnings(strict_build):
    _, result = strict_build
    log = result.stdout + result.stderr
    assert result.returncode == 0, log[-5000:]
    sphinx_warnings = [line for line in log.splitlines() if re.search(r"\bWARNING: ", line)]
    assert not sphinx_warnings, "\n".join(sphinx_warnings)


@pytest.mark.book
def test_the_book_has_exactly_the_pages_of_its_table_of_contents(built_html):
    """Nothing else becomes a page: not the planted `.venv`, not README.md, not a test."""
    pages = {
        page.relative_to(built_html).as_posix()
        for page in built_html.rglob("*.html")
        # _static: theme templates; lite: the JupyterLite site (tests/test_lite.py)
        if page.relative_to(built_html).parts[0] not in ("_static", "lite")
    }
    assert pages == set(toc_pages()) | set(SPHINX_PAGES)
    sources = {
        page.relative_to(built_html / "_sources").as_posix()
        for page in (built_html / "_sources").rglob("*")
        if page.is_file()
    }
    assert {Path(source).with_suffix(".html").as_posix() for source in sources} == set(toc_pages())
    leaked = [str(path) for path in built_html.rglob("*") if "some_package" in str(path)]
    assert leaked == [], "files from the planted virtual environment"


@pytest.mark.book
def test_built_pages_show_numbered_chapters_math_and_outputs(built_html):
    html = built_html
    index = (html / "intro.html").read_text(encoding="utf-8")
    assert "1. The chain rule" in index and "2. Computational graphs and gates" in index
    for page in ["chapters/01_chain_rule.html", "chapters/02_graphs_and_gates.html"]:
        text = (html / page).read_text(encoding="utf-8")
        assert 'class="math notranslate nohighlight"' in text  # display maths
        assert "data:image" not in text  # figures as files
        assert 'class="cell_output' in text  # stored code outputs
        assert "remove-cell" not in text and "\\newcommand" not in text
        assert '<script defer="defer" src="../_static/mathjax/tex-mml-chtml.js' in text
        assert "cdn.jsdelivr.net" not in text, "MathJax must not come from a CDN"
    assert (html / "index.html").exists()
    assert (html / "_sources" / "chapters" / "01_chain_rule.ipynb").exists()  # download button


class ElementContents(HTMLParser):
    """Collect the images and link targets inside every element that has a given class."""

    def __init__(self, css_class: str) -> None:
        super().__init__()
        self.css_class = css_class
        self.depth = 0  # open elements since the outermost one with the class (0: outside)
        self.images: list[str] = []
        self.links: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = dict(attrs)
        if self.depth == 0 and self.css_class in (values.get("class") or "").split():
            self.depth = 1
            return
        if self.depth == 0:
            return
        if tag == "img":
            self.images.append(values.get("src") or "")
        elif tag not in VOID_ELEMENTS:
            self.depth += 1
        if tag == "a" and values.get("href"):
            self.links.append(values["href"])

    def handle_endtag(self, tag: str) -> None:
        if self.depth and tag not in VOID_ELEMENTS:  # `<img ... />` reports an end tag too
            self.depth -= 1


VOID_ELEMENTS = {"img", "br", "hr", "input", "meta", "link", "source", "wbr", "area", "col"}


def inside(page: Path, css_class: str) -> ElementContents:
    parser = ElementContents(css_class)
    parser.feed(page.read_text(encoding="utf-8"))
    return parser


def stored_figures(notebook: Path) -> int:
    """How many image outputs the notebook stores (what the reader saw when it was saved)."""
    cells = json.loads(notebook.read_text(encoding="utf-8"))["cells"]
    return sum(
        "image/png" in output.get("data", {})
        for cell in cells
        if cell["cell_type"] == "code"
        for output in cell["outputs"]
    )


def test_the_figure_counter_sees_nested_outputs(tmp_path):
    page = tmp_path / "page.html"
    page.write_text(
        '<div class="cell_output docutils"><div><img src="a.png"><p>text</p></div>'
        '<img src="b.png" /></div><img src="logo.png"><div class="cell_output">'
        "<pre>&lt;Figure size 640x480 with 1 Axes&gt;</pre></div>"
    )
    assert inside(page, "cell_output").images == ["a.png", "b.png"]


@pytest.mark.book
@pytest.mark.parametrize("page", chapter_pages())
def test_every_figure_the_notebook_stores_is_on_the_built_page(built_html, page):
    """The build runs each notebook again: a figure lost to a library version shows here.

    (nbval cannot see it: it does not compare images, and a lost figure leaves behind only
    the text ``<Figure size ... with 2 Axes>``.)
    """
    notebook = ROOT / Path(page).with_suffix(".ipynb")
    figures = inside(built_html / page, "cell_output").images
    assert len(figures) == stored_figures(notebook)
    assert all((built_html / page).parent.joinpath(src).is_file() for src in figures)


@pytest.mark.book
def test_reference_pages(built_html):
    html = built_html
    glossary = (html / "reference" / "glossary.html").read_text(encoding="utf-8")
    for english, chinese in [
        ("backpropagation", "反向传播"),
        ("chain rule", "链式法则"),
        ("forward pass", "前向传播"),
        ("error term", "误差项"),
        ("denominator layout", "分母布局"),
    ]:
        anchor = "term-" + english.replace(" ", "-")
        assert f'id="{anchor}"' in glossary, english
        assert chinese in glossary, chinese
    api = (html / "reference" / "api.html").read_text(encoding="utf-8")
    for name in ["backprop.scalar.Value", "backprop.gradcheck.check_gradient"]:
        assert f'id="{name}"' in api, f"autodoc did not document {name}"
    bibliography = (html / "reference" / "bibliography.html").read_text(encoding="utf-8")
    assert "Rumelhart" in bibliography and "Linnainmaa" in bibliography
    chapter_1 = (html / "chapters" / "01_chain_rule.html").read_text(encoding="utf-8")
    assert 'href="../reference/glossary.html#term-backpropagation"' in chapter_1
    notation = (html / "reference" / "notation.html").read_text(encoding="utf-8")
    assert "denominator layout" in notation.lower()


# Hosts that a repository or launch button sends the reader to. None of them may appear
# while `repository.url` in _config.yml is empty: there is no repository for them to open.
REPOSITORY_HOSTS = ("github.com/backprop-book", "mybinder.org", "colab.research.google.com")


@pytest.mark.book
@pytest.mark.parametrize("page", toc_pages())
def test_no_button_leads_out_of_the_book(built_html, page):
    """The header buttons download, print, search, switch modes or open the chapter in the
    book's own JupyterLite site: all within the book."""
    buttons = inside(built_html / page, "article-header-buttons")
    assert buttons.links == [link for link in buttons.links if not urlsplit(link).scheme]
    text = (built_html / page).read_text(encoding="utf-8")
    assert [host for host in REPOSITORY_HOSTS if host in text] == []
    if page.startswith("chapters/"):
        notebook = Path(page).with_suffix(".ipynb").as_posix()
        launch = f"../lite/notebooks/index.html?path={notebook}"
        pdf = "../backprop-book.pdf"  # the whole book, when it was built (tests/test_links.py)
        links = [link for link in buttons.links if link != pdf]
        assert links == [f"../_sources/{notebook}", launch], "download, JupyterLite"
        assert (built_html / "lite" / "notebooks" / "index.html").is_file()
        assert (built_html / "lite" / "files" / notebook).is_file(), "the site has the chapter"


def test_repository_buttons_follow_the_one_setting():
    buttons = load_extension("repository_buttons")
    configured = {
        "use_repository_button": True,
        "use_issues_button": True,
        "use_source_button": True,
        "use_download_button": True,
        "launch_buttons": {
            "notebook_interface": "jupyterlab",
            "binderhub_url": "https://mybinder.org",
            "colab_url": "https://colab.research.google.com",
        },
    }
    without = buttons.without_repository_buttons({**configured, "repository_url": ""})
    assert not any(without[name] for name in buttons.REPOSITORY_BUTTONS)
    assert without["launch_buttons"] == {"notebook_interface": "jupyterlab"}
    assert without["use_download_button"] is True
    url = "https://github.com/someone/backprop-book"
    assert buttons.without_repository_buttons({**configured, "repository_url": url}) == {
        **configured,
        "repository_url": url,
    }
    config = yaml.safe_load((ROOT / "_config.yml").read_text(encoding="utf-8"))
    assert config["repository"]["url"] == "", "publish the repository, then update this test"


def load_extension(name: str):
    """Import one of the book's local Sphinx extensions from `_ext/`."""
    spec = importlib.util.spec_from_file_location(name, ROOT / "_ext" / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module
