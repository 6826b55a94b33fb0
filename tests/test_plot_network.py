"""backprop.book.plot_network: three significant figures, a circle per unit, text in place."""

import math

import matplotlib

matplotlib.use("Agg")

import pytest  # noqa: E402
from matplotlib.patches import Circle, FancyArrowPatch  # noqa: E402

from backprop.book.plot_network import (  # noqa: E402
    draw_network,
    format_number,
    unit_positions,
)

pytestmark = [pytest.mark.ch03, pytest.mark.usefixtures("close_figures")]


@pytest.mark.parametrize(
    ("value", "shown"),
    [
        (-0.00095343, "−0.000953"),  # three significant figures, not three decimals
        (0.000544, "0.000544"),
        (0.1, "0.100"),  # trailing zeros kept: the reader sees three figures
        (1.8448, "1.84"),
        (-2.0832, "−2.08"),
        (0.98201, "0.982"),
        (4.0, "4"),  # whole numbers exactly
        (-2.0, "−2"),
        (0.0, "0"),
        (123.456, "123"),
        (1234.5, "1.23e+03"),
        (2.5e-7, "2.50e−07"),
    ],
)
def test_format_number_gives_three_significant_figures_and_a_true_minus(value, shown):
    assert format_number(value) == shown


def test_format_number_takes_other_precisions_and_refuses_none():
    assert format_number(-0.123456, digits=5) == "−0.12346"
    with pytest.raises(ValueError, match="at least one significant digit, got 0"):
        format_number(1.5, digits=0)


def circles(ax):
    return [p for p in ax.patches if isinstance(p, Circle)]


def arrows(ax):
    return [p for p in ax.patches if isinstance(p, FancyArrowPatch)]


def test_one_circle_per_unit_one_arrow_per_weight_and_the_texts_given():
    ax = draw_network(
        [2, 3, 1],
        unit_text={(0, 0): "x₁ = 1", (2, 0): "z = 4"},
        edge_text={(1, 2, 1): "w = −2"},
    )
    assert len(circles(ax)) == 6
    assert len(arrows(ax)) == 2 * 3 + 3 * 1
    shown = [t.get_text() for t in ax.texts]
    assert sorted(shown) == sorted(["x₁ = 1", "z = 4", "w = −2"])


def test_output_text_adds_an_arrow_and_its_text_beyond_the_last_layer():
    ax = draw_network([2, 2], output_text={0: "∂C/∂a₁ = −0.136", 1: "∂C/∂a₂ = 0.111"}, reverse=True)
    assert len(arrows(ax)) == 4 + 2
    last_layer_x = unit_positions([2, 2])[(1, 0)][0]
    outside = {t.get_text(): t.get_position() for t in ax.texts}
    for text in ("∂C/∂a₁ = −0.136", "∂C/∂a₂ = 0.111"):
        assert outside[text][0] > last_layer_x  # to the right of the output units
    assert ax.get_xlim()[1] > max(x for x, _ in outside.values())


def test_output_text_must_name_a_unit_of_the_last_layer():
    with pytest.raises(ValueError, match=r"output_text names units \[2\], but the last layer"):
        draw_network([2, 2], output_text={2: "too far"})


def test_layer_titles_sit_above_their_layers_and_must_match_them():
    ax = draw_network([2, 2, 2], layer_titles=["inputs", "hidden layer", "output layer"])
    positions = unit_positions([2, 2, 2])
    top_unit = max(y for _, y in positions.values())
    for layer, title in enumerate(["inputs", "hidden layer", "output layer"]):
        (text,) = [t for t in ax.texts if t.get_text() == title]
        x, y = text.get_position()
        assert x == positions[(layer, 0)][0] and y > top_unit
    with pytest.raises(ValueError, match=r"one title per layer \(3\), got 2"):
        draw_network([2, 2, 2], layer_titles=["inputs", "output"])


@pytest.mark.parametrize("radius", [0.45, 0.72])
@pytest.mark.parametrize("reverse", [False, True])
def test_edge_labels_stay_outside_every_unit(radius, reverse):
    """A label sits on the visible part of its edge, even with large circles."""
    sizes = [2, 2, 2]
    edge_text = {
        (layer, k, j): f"{layer}{k}{j}" for layer in (1, 2) for k in range(2) for j in range(2)
    }
    ax = draw_network(sizes, edge_text=edge_text, radius=radius, reverse=reverse)
    centres = unit_positions(sizes).values()
    for text in ax.texts:
        tx, ty = text.get_position()
        assert all(math.dist((tx, ty), centre) > radius for centre in centres), text.get_text()


def test_bad_sizes_and_radii_are_refused():
    with pytest.raises(ValueError, match="at least two positive sizes"):
        draw_network([3])
    with pytest.raises(ValueError, match="radius must lie between 0 and 0.75, got 0.8"):
        draw_network([2, 2], radius=0.8)


def test_inputs_are_drawn_apart_unless_the_drawing_starts_inside_the_network():
    def fills(**kwargs):
        ax = draw_network([2, 2], **kwargs)
        return {c.get_facecolor() for c in circles(ax)[:2]}, {
            c.get_facecolor() for c in circles(ax)[2:]
        }

    inputs, units = fills()
    assert inputs.isdisjoint(units)
    first, rest = fills(input_layer=False)
    assert first == rest == units
