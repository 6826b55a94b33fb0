"""backprop.book.source: the package's functions as the chapters print them."""

import inspect

import pytest

from backprop.book.network import forward_pass
from backprop.book.source import show, source_without_docstring
from backprop.nn import Linear


def no_docstring(x):
    return x + 1


def test_the_docstring_is_folded_and_the_code_kept():
    text = source_without_docstring(forward_pass)
    assert text.startswith("def forward_pass(")
    assert "\n    ...\n" in text
    assert forward_pass.__doc__.strip().splitlines()[0] not in text
    assert "Z[l] = A[l - 1] @ W[l].T + b[l]" in text
    body = inspect.getsource(forward_pass).split('"""')[-1]
    assert text.endswith(body)  # everything after the docstring, unchanged


def test_a_method_is_dedented():
    text = source_without_docstring(Linear.forward)
    assert text.startswith("def forward(self")
    assert "\n    ...\n" in text


def test_a_function_without_docstring_is_unchanged():
    assert source_without_docstring(no_docstring) == inspect.getsource(no_docstring)


def test_show_prints_it(capsys):
    show(no_docstring)
    assert capsys.readouterr().out == inspect.getsource(no_docstring)


def test_a_builtin_is_refused():
    with pytest.raises(TypeError, match="expected a Python function, got builtin_function"):
        source_without_docstring(len)
