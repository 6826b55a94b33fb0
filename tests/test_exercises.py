"""backprop.book.exercises.check_answer: it tells an unwritten, a wrong and a right answer apart."""

import pytest

from backprop.book.exercises import check_answer
from backprop.gradcheck import derivative

CASES = [(2.0, 3.0, 1.0), (-1.5, 0.5, 2.0), (4.0, -2.0, -0.5)]


def expected(x, y, upstream):
    """dC/dx and dC/dy for q = x / y, by central differences."""
    return (
        upstream * derivative(lambda t: t / y, x),
        upstream * derivative(lambda t: x / t, y),
    )


def right(x, y, upstream):
    return upstream / y, -upstream * x / y**2


def wrong(x, y, upstream):
    return upstream / y, upstream * x / y**2  # the sign of dq/dy lost


def unwritten(x, y, upstream):
    return None


def test_an_unwritten_answer_is_reported_not_failed(capsys):
    assert check_answer(unwritten, expected, CASES) is False
    assert "unwritten: not answered yet" in capsys.readouterr().out


def test_a_right_answer_passes_every_case(capsys):
    assert check_answer(right, expected, CASES) is True
    assert capsys.readouterr().out == "right: right on all 3 cases\n"


def test_a_wrong_answer_raises_with_both_values():
    with pytest.raises(AssertionError, match=r"wrong\(2.0, 3.0, 1.0\) gave .* right value is"):
        check_answer(wrong, expected, CASES)


def test_a_wrong_shape_or_length_is_wrong():
    with pytest.raises(AssertionError):
        check_answer(lambda x, y, g: (g / y,), expected, CASES)
