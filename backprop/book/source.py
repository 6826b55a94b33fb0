"""The package's own code, shown in the book with docstrings folded (chapters 4-8).

Chapters print the functions they teach from the package (the single source of truth)
instead of re-typing them; the docstring, already on the API page, is replaced by ``...``.
"""

from __future__ import annotations

import ast
import inspect
import textwrap
from collections.abc import Callable


def source_without_docstring(function: Callable) -> str:
    """Return the source of ``function`` with its docstring replaced by ``...``.

    Raises
    ------
    TypeError
        If ``function`` is not a Python function (a builtin has no source to show).
    """
    if not inspect.isfunction(function):
        raise TypeError(f"expected a Python function, got {type(function).__name__}")
    source = textwrap.dedent(inspect.getsource(function))
    body = ast.parse(source).body[0].body
    if not (
        body
        and isinstance(body[0], ast.Expr)
        and isinstance(body[0].value, ast.Constant)
        and isinstance(body[0].value.value, str)
    ):
        return source
    lines = source.splitlines(keepends=True)
    docstring = body[0]
    indent = lines[docstring.lineno - 1][: docstring.col_offset]
    folded = lines[: docstring.lineno - 1] + [indent + "...\n"] + lines[docstring.end_lineno :]
    return "".join(folded)


def show(function: Callable) -> None:
    """Print :func:`source_without_docstring` of ``function``."""
    print(source_without_docstring(function).rstrip("\n"))
