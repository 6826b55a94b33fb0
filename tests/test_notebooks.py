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
    *parts, appendices = chapter_parts
    assert all(part.get("numbered") and part.get("caption") for part in parts)
    # appendices come after every part, unnumbered, so that new chapters do not renumber them
    assert appendices["caption"] == "Appendices" and not appendices.get("numbered")
    assert all(ch["file"].startswith("chapters/appendix_") for ch in appendices["chapters"])
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
        for output in cell["outputs"]:
            data = output.get("data", {})
            shown = "".join(data.get("text/plain", ""))
            lost = shown.startswith("<Figure size") and "image/png" not in data
            assert not lost, f"a figure saved without its image: {shown}"


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


# The widest line a code box shows without scrolling at a laptop width (1280 px): the box is
# 684 px wide there and _static/book.css sets code in 13 px type, about 7.8 px a character.
# tests/test_browser.py measures the rendered pages; this is the quick check on the files.
CODE_WIDTH = 79


def text_outputs(cell) -> str:
    """The text a code cell prints or returns (what the book shows in a box under it)."""
    parts = []
    for output in cell["outputs"]:
        if output["output_type"] == "stream":
            parts.append("".join(output["text"]))
        elif "image/png" not in output.get("data", {}):
            parts.append("".join(output.get("data", {}).get("text/plain", "")))
    return "\n".join(parts)


@pytest.mark.parametrize("path", CHAPTERS, ids=[p.stem for p in CHAPTERS])
def test_code_and_its_output_fit_the_page(path):
    """Lines longer than CODE_WIDTH characters scroll sideways at a laptop's width."""
    long_lines = [
        line
        for cell in code_cells(load(path))
        for text in ("".join(cell["source"]), text_outputs(cell))
        for line in text.splitlines()
        if len(line) > CODE_WIDTH
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


@pytest.mark.parametrize("path", CHAPTERS, ids=[p.stem for p in CHAPTERS])
def test_exercises_run_and_check_themselves(path):
    """Solutions are folded code cells that nbval runs, and one exercise checks the reader.

    A folded solution is a code cell tagged `hide-cell` whose first line starts with
    `# Solution`; a "fill in this function" exercise calls `check_answer` (from
    backprop.book.exercises) on the reader's function. Code inside a text block never runs,
    so no solution may hide there.
    """
    nb = load(path)
    solutions = [
        cell
        for cell in code_cells(nb)
        if "hide-cell" in cell["metadata"].get("tags", [])
        and "".join(cell["source"]).startswith("# Solution")
    ]
    assert solutions, "no folded solution cell"
    sources = ["".join(cell["source"]) for cell in code_cells(nb)]
    assert any("check_answer(" in source for source in sources), "no self-checking exercise"
    for cell in nb["cells"]:
        text = "".join(cell["source"])
        if cell["cell_type"] == "markdown" and "```python" in text:
            assert "Solution" not in text and "dropdown" not in text, "a solution in a text block"
