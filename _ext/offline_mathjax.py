r"""Serve MathJax 3 from the built book itself, so formulas typeset with no network.

Sphinx loads MathJax from a CDN by default: offline, every formula stays raw LaTeX. This
extension copies the part of MathJax 3 the book needs from an installed package
(``sphinx-mathjax-offline``, a PyPI distribution that carries MathJax 3.2.2; requirements.txt
installs it) into ``_build/html/_static/mathjax/`` and points ``mathjax_path`` at it. Nothing
of MathJax is committed to this repository.

Only the subset the book uses is copied (about 3 MB instead of the package's 24 MB):

- ``tex-mml-chtml.js``: the combined component Sphinx loads by default (TeX and MathML input,
  CommonHTML output, the menu and the assistive MathML);
- ``input/tex/extensions/``: TeX packages MathJax loads on demand. Keep it: a macro from an
  autoloaded package (``\boldsymbol``, ``\cancel``) must find its file, or MathJax stops
  typesetting the whole page;
- ``output/chtml/fonts/woff-v2/``: the fonts CommonHTML output draws the glyphs with;
- ``a11y/`` and ``ui/``: accessibility components the MathJax menu can switch on.

The files are copied into the output folder when the builder starts, before any page is
written, so Sphinx can add its usual cache-busting checksum to the script tag. A file is
copied only when missing or changed, so incremental builds stay fast.
"""

from __future__ import annotations

import filecmp
import shutil
from importlib.metadata import PackageNotFoundError, distribution
from pathlib import Path

from sphinx.application import Sphinx
from sphinx.config import Config
from sphinx.errors import ExtensionError

DISTRIBUTION = "sphinx-mathjax-offline"
PACKAGE_FOLDER = "sphinx-mathjax-offline/static/mathjax"
ENTRY_POINT = "tex-mml-chtml.js"
SUBSET = (ENTRY_POINT, "input/tex/extensions", "output/chtml/fonts/woff-v2", "a11y", "ui")
TARGET = "mathjax"  # under _static/ in the output folder


def mathjax_source() -> Path:
    """Return the folder of MathJax 3 inside the installed distribution.

    Raises
    ------
    sphinx.errors.ExtensionError
        If the distribution is not installed or does not hold MathJax where expected.
    """
    try:
        dist = distribution(DISTRIBUTION)
    except PackageNotFoundError as error:
        raise ExtensionError(
            f"offline MathJax needs the {DISTRIBUTION!r} distribution; "
            "install it with `pip install -r requirements.txt`"
        ) from error
    folder = Path(str(dist.locate_file(PACKAGE_FOLDER)))
    if not (folder / ENTRY_POINT).is_file():
        raise ExtensionError(f"expected MathJax's {ENTRY_POINT} in {folder}, found none")
    return folder


def copy_if_changed(source: Path, target: Path) -> None:
    """Copy one file unless an identical copy is already there."""
    if target.exists() and filecmp.cmp(source, target, shallow=False):
        return
    target.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(source, target)


def copy_subset(source: Path, target: Path) -> int:
    """Copy the files of SUBSET from ``source`` to ``target``; return how many there are."""
    count = 0
    for entry in SUBSET:
        path = source / entry
        files = sorted(path.rglob("*")) if path.is_dir() else [path]
        for file in files:
            if file.is_file():
                copy_if_changed(file, target / file.relative_to(source))
                count += 1
    return count


def use_local_mathjax(app: Sphinx, config: Config) -> None:
    """Point ``mathjax_path`` (relative to ``_static``) at the local copy."""
    config.mathjax_path = f"{TARGET}/{ENTRY_POINT}"


def install_mathjax(app: Sphinx) -> None:
    """Copy the MathJax subset into the HTML output before pages are written."""
    if app.builder.format != "html":
        return
    copy_subset(mathjax_source(), Path(app.outdir) / "_static" / TARGET)


def setup(app: Sphinx) -> dict[str, object]:
    """Register the extension with Sphinx."""
    app.connect("config-inited", use_local_mathjax)
    app.connect("builder-inited", install_mathjax)
    return {"version": "1.0", "parallel_read_safe": True, "parallel_write_safe": True}
