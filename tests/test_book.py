"""The book builds from a clean copy with warnings as errors, as a reader's first command does.

The build itself is the session fixture `strict_build` in conftest.py, shared with the link
check and the browser test.
"""

import re

import pytest


@pytest.mark.book
def test_strict_build_has_no_warnings(strict_build):
    _, result = strict_build
    log = result.stdout + result.stderr
    assert result.returncode == 0, log[-5000:]
    sphinx_warnings = [line for line in log.splitlines() if re.search(r"\bWARNING: ", line)]
    assert not sphinx_warnings, "\n".join(sphinx_warnings)


@pytest.mark.book
def test_built_pages_show_numbered_chapters_math_figures_and_outputs(built_html):
    html = built_html
    index = (html / "intro.html").read_text(encoding="utf-8")
    assert "1. The chain rule" in index and "2. Computational graphs and gates" in index
    for page in ["chapters/01_chain_rule.html", "chapters/02_graphs_and_gates.html"]:
        text = (html / page).read_text(encoding="utf-8")
        assert 'class="math notranslate nohighlight"' in text  # display maths
        assert "<img" in text and "data:image" not in text  # figures as files
        assert 'class="cell_output' in text  # stored code outputs
        assert "remove-cell" not in text and "\\newcommand" not in text
        assert '<script defer="defer" src="../_static/mathjax/tex-mml-chtml.js' in text
        assert "cdn.jsdelivr.net" not in text, "MathJax must not come from a CDN"
    assert (html / "index.html").exists()
    assert (html / "_sources" / "chapters" / "01_chain_rule.ipynb").exists()  # download button


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


@pytest.mark.book
def test_chapters_have_launch_download_and_source_buttons(built_html):
    repository = "backprop-book/backprop-book"
    for page in sorted((built_html / "chapters").glob("*.html")):
        text = page.read_text(encoding="utf-8")
        notebook = f"chapters/{page.stem}.ipynb"
        assert f'href="../_sources/{notebook}"' in text, "download button"
        assert f"mybinder.org/v2/gh/{repository}/main?urlpath=lab/tree/{notebook}" in text
        assert f"colab.research.google.com/github/{repository}/blob/main/{notebook}" in text
        assert f"github.com/{repository}/blob/main/{notebook}" in text, "view source"
