"""Shared fixtures: a seeded generator, and one strict build of the book per test run."""

import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parents[1]
NOT_PART_OF_A_CLEAN_COPY = shutil.ignore_patterns(
    "_build",
    ".venv",
    ".git",
    "__pycache__",
    "*.egg-info",
    ".ipynb_checkpoints",
    ".pytest_cache",
    ".ruff_cache",
    ".jupyter_cache",
)


@pytest.fixture
def rng() -> np.random.Generator:
    """A generator seeded the same way in every test, so failures reproduce."""
    return np.random.default_rng(20261122)


@pytest.fixture(scope="session")
def strict_build(tmp_path_factory):
    """Build a clean copy of the book with `jupyter-book build -W -n --keep-going`, once.

    Returns the HTML folder and the finished process (its output is the build log). The
    copy leaves out everything git ignores, as a fresh clone would.
    """
    copy = tmp_path_factory.mktemp("book") / "book"
    shutil.copytree(ROOT, copy, ignore=NOT_PART_OF_A_CLEAN_COPY)
    jupyter_book = Path(sys.executable).parent / "jupyter-book"
    result = subprocess.run(
        [str(jupyter_book), "build", "-W", "-n", "--keep-going", str(copy)],
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
