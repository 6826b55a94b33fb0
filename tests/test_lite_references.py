"""The text rewrites of the JupyterLite site's notebooks (`_ext/lite_references.py`), unit by unit.

What the whole site shows (every chapter's references written out, captions numbered as in
the book, equations numbered as in the book) is checked on the built site in test_lite.py.
"""

from __future__ import annotations

import pytest
from test_book import load_extension

lite_references = load_extension("lite_references")


def test_an_unlabelled_block_becomes_an_unnumbered_math_directive():
    source = "Before\n\n$$\na = b\n\\\\ c = d\n$$\n\nafter."
    expected = "Before\n\n```{math}\n:enumerated: false\na = b\n\\\\ c = d\n```\n\nafter."
    assert lite_references.unnumbered_math(source) == expected


def test_a_labelled_block_and_inline_math_stay_as_they_are():
    source = "$x$ and $$y$$ inline\n\n$$\nz = 1\n$$ (ch1-z)\n\nend"
    assert lite_references.unnumbered_math(source) == source


def test_blocks_are_taken_one_at_a_time():
    """A labelled block followed by an unlabelled one: only the second changes."""
    source = "$$\na\n$$ (lab)\n\n$$\nb\n$$"
    expected = "$$\na\n$$ (lab)\n\n```{math}\n:enumerated: false\nb\n```"
    assert lite_references.unnumbered_math(source) == expected


def test_an_unclosed_block_is_left_alone():
    source = "text\n$$\na = b"
    assert lite_references.unnumbered_math(source) == source


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        ("chain rule", (None, "chain rule")),
        ("loss <loss function>", ("loss", "loss function")),
        ("The backpropagation equations\n<ch4-bp-equations>", (
            "The backpropagation equations", "ch4-bp-equations")),
    ],
)  # fmt: skip
def test_a_reference_splits_into_its_text_and_its_target(content, expected):
    assert lite_references.split_target(content) == expected


def test_figure_and_equation_numbers_are_dotted():
    assert lite_references.number((3, 1)) == "3.1"
    assert lite_references.number((12,)) == "12"
