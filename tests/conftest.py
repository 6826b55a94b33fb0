"""Shared fixtures: a seeded generator, and one strict build of the book per test run."""

import shutil
import subprocess
import sys
import venv
from pathlib import Path

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parents[1]
NOT_PART_OF_A_CLEAN_COPY = shutil.ignore_patterns(
    "_build",
    ".venv*",
    "venv",
    ".git",
    "__pycache__",
    "*.egg-info",
    ".ipynb_checkpoints",
    ".pytest_cache",
    ".ruff_cache",
    ".jupyter_cache",
)


@pytest.fixture
def close_figures():
    """Close every matplotlib figure a test opened (the figure tests use it for each test)."""
    yield
    import matplotlib.pyplot as plt

    plt.close("all")


@pytest.fixture
def rng() -> np.random.Generator:
    """A generator seeded the same way in every test, so failures reproduce."""
    return np.random.default_rng(20261122)


def plant_virtual_environment(book: Path) -> None:
    """Put a virtual environment inside ``book``, where the README's commands put `.venv`.

    A real one (no pip, so it takes a moment), with what installed packages bring along and
    Sphinx would read as pages if the book did not exclude it: a README, a licence and a
    notebook. `venv/`, the other usual name, gets the same files.
    """
    for name in (".venv", "venv"):
        environment = book / name
        venv.create(environment, with_pip=False, symlinks=True)
        package = next(environment.glob("lib/python*/site-packages")) / "some_package"
        package.mkdir()
        (package / "README.md").write_text("# Some package\n\nNot part of the book.\n")
        (package / "LICENSE.md").write_text("# Licence\n\nNot part of the book.\n")
        shutil.copy(ROOT / "chapters" / "01_chain_rule.ipynb", package / "tutorial.ipynb")


@pytest.fixture(scope="session")
def strict_build(tmp_path_factory):
    """Build the book as a reader does, once: in place, with a `.venv` inside the tree.

    The copy leaves out everything git ignores, as a fresh clone would; then a virtual
    environment is planted in it and `jupyter-book build -W -n --keep-going .` runs in its
    top folder. Returns the HTML folder and the finished process (its output is the log).
    """
    copy = tmp_path_factory.mktemp("book") / "book"
    shutil.copytree(ROOT, copy, ignore=NOT_PART_OF_A_CLEAN_COPY)
    plant_virtual_environment(copy)
    jupyter_book = Path(sys.executable).parent / "jupyter-book"
    result = subprocess.run(
        [str(jupyter_book), "build", "-W", "-n", "--keep-going", "."],
        cwd=copy,
        capture_output=True,
        text=True,
        timeout=900,
    )
    return copy / "_build" / "html", result


@pytest.fixture(scope="session")
def built_html(strict_build) -> Path:
    """The HTML folder of the strict build; fails (not skips) if the build failed."""
    html, result = strict_build
    if result.returncode != 0:
        pytest.fail("the book did not build:\n" + (result.stdout + result.stderr)[-3000:])
    return html
