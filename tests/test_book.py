"""The book builds from a clean copy with warnings as errors, as a reader's first command does."""

import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SKIP = shutil.ignore_patterns(
    "_build",
    ".venv",
    ".git",
    "__pycache__",
    "*.egg-info",
    ".ipynb_checkpoints",
    ".pytest_cache",
    ".ruff_cache",
)


@pytest.fixture(scope="session")
def strict_build(tmp_path_factory):
    """Build a clean copy of the book with `jupyter-book build -W -n --keep-going`."""
    copy = tmp_path_factory.mktemp("book") / "book"
    shutil.copytree(ROOT, copy, ignore=SKIP)
    jupyter_book = Path(sys.executable).parent / "jupyter-book"
    result = subprocess.run(
        [str(jupyter_book), "build", "-W", "-n", "--keep-going", str(copy)],
        capture_output=True,
        text=True,
        timeout=900,
    )
    return copy / "_build" / "html", result


@pytest.mark.book
def test_strict_build_has_no_warnings(strict_build):
    _, result = strict_build
    log = result.stdout + result.stderr
    assert result.returncode == 0, log[-5000:]
    sphinx_warnings = [line for line in log.splitlines() if re.search(r"\bWARNING: ", line)]
    assert not sphinx_warnings, "\n".join(sphinx_warnings)


@pytest.mark.book
def test_built_pages_show_numbered_chapters_math_figures_and_outputs(strict_build):
    html, _ = strict_build
    index = (html / "intro.html").read_text(encoding="utf-8")
    assert "1. The chain rule" in index and "2. Computational graphs and gates" in index
    for page in ["chapters/01_chain_rule.html", "chapters/02_graphs_and_gates.html"]:
        text = (html / page).read_text(encoding="utf-8")
        assert 'class="math notranslate nohighlight"' in text  # display maths
        assert "<img" in text and "data:image" not in text  # figures as files
        assert 'class="cell_output' in text  # stored code outputs
        assert "remove-cell" not in text and "\\newcommand" not in text
    assert (html / "index.html").exists()
    assert (html / "_sources" / "chapters" / "01_chain_rule.ipynb").exists()  # download button
