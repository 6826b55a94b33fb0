"""The chapters as files: saved after one clean run, seeded, listed in the table of contents.

`pytest --nbval` re-runs the notebooks and compares outputs; these tests check what nbval
cannot: how the notebooks were saved, and that the book and the notebooks agree.
"""

import json
import re
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]
CHAPTERS = sorted((ROOT / "chapters").glob("*.ipynb"))


def load(path):
    return json.loads(path.read_text(encoding="utf-8"))


def code_cells(nb):
    return [c for c in nb["cells"] if c["cell_type"] == "code"]


def test_every_chapter_is_in_the_table_of_contents_and_back():
    toc = yaml.safe_load((ROOT / "_toc.yml").read_text())
    chapter_parts = [p for p in toc["parts"] if p["chapters"][0]["file"].startswith("chapters/")]
    listed = [ch["file"] for part in chapter_parts for ch in part["chapters"]]
    assert listed == [f"chapters/{p.stem}" for p in CHAPTERS]
    assert all(part.get("numbered") and part.get("caption") for part in chapter_parts)
    reference = toc["parts"][-1]
    assert reference["caption"] == "Reference" and not reference.get("numbered")
    for page in reference["chapters"]:
        assert (ROOT / f"{page['file']}.md").is_file(), page


@pytest.mark.parametrize("path", CHAPTERS, ids=[p.stem for p in CHAPTERS])
def test_saved_after_one_clean_run(path):
    cells = code_cells(load(path))
    assert [c["execution_count"] for c in cells] == list(range(1, len(cells) + 1))
    for cell in cells:
        assert all(o["output_type"] != "error" for o in cell["outputs"])
        text = json.dumps(cell["outputs"])
        assert not re.search(r" at 0x[0-9a-f]{6,}", text), "memory address in an output"
        assert not re.search(r"/(work|tmp|root|home)/", text), "machine path in an output"


@pytest.mark.parametrize("path", CHAPTERS, ids=[p.stem for p in CHAPTERS])
def test_first_code_cell_imports_and_seeds(path):
    first = "".join(code_cells(load(path))[0]["source"])
    assert "import backprop" in first or "from backprop" in first
    assert "np.random.default_rng(seed=" in first
    rest = "".join("".join(c["source"]) for c in code_cells(load(path))[1:])
    assert "default_rng(" not in rest, "seed once, in the first code cell"
    assert "np.random.seed" not in rest and "!pip" not in rest


@pytest.mark.parametrize("path", CHAPTERS, ids=[p.stem for p in CHAPTERS])
def test_chapter_shape(path):
    nb = load(path)
    markdown = "\n".join("".join(c["source"]) for c in nb["cells"] if c["cell_type"] == "markdown")
    assert "After this chapter you will be able to" in markdown
    assert "## Summary" in markdown
    assert "## Exercises" in markdown
    assert ":class: dropdown" in markdown  # solutions folded away
    labels = set(re.findall(r"\$\$ \(([\w-]+)\)", markdown))
    assert labels, "numbered equations"
    for ref in re.findall(r"\{eq\}`([\w-]+)`", markdown):
        assert ref in labels or any(ref in load(p).__repr__() for p in CHAPTERS), ref


@pytest.mark.parametrize("path", CHAPTERS, ids=[p.stem for p in CHAPTERS])
def test_notebook_macros_match_the_book(path):
    """Notebooks define the book's MathJax macros in a cell the book removes; keep them equal."""
    config = yaml.safe_load((ROOT / "_config.yml").read_text())
    macros = config["sphinx"]["config"]["mathjax3_config"]["tex"]["macros"]
    hidden = [c for c in load(path)["cells"] if "remove-cell" in c["metadata"].get("tags", [])]
    assert len(hidden) == 1
    defined = {}
    for name, args, body in re.findall(
        r"\\newcommand\{\\(\w+)\}(?:\[(\d)\])?\{(.*)\}\n", "".join(hidden[0]["source"])
    ):
        defined[name] = [body, int(args)] if args else body
    assert defined == macros


@pytest.mark.parametrize("path", CHAPTERS, ids=[p.stem for p in CHAPTERS])
def test_code_fits_the_page(path):
    """Code lines longer than 88 characters scroll sideways at book width."""
    long_lines = [
        line
        for cell in code_cells(load(path))
        for line in "".join(cell["source"]).splitlines()
        if len(line) > 88
    ]
    assert long_lines == []


@pytest.mark.parametrize("path", CHAPTERS, ids=[p.stem for p in CHAPTERS])
def test_nbval_markers_are_lines_of_their_own(path):
    """nbval only honours `# NBVAL_IGNORE_OUTPUT` alone on its line; the next line says why."""
    for cell in code_cells(load(path)):
        lines = "".join(cell["source"]).splitlines()
        for number, line in enumerate(lines):
            if "NBVAL_" in line:
                assert line.strip() == "# NBVAL_IGNORE_OUTPUT", line
                assert lines[number + 1].startswith("# "), "say why the output may differ"
