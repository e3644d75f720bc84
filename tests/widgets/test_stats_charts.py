"""widgets/stats_charts.py: bars scale and stay inert whatever their labels say."""

from __future__ import annotations

import pytest

from tests.hostile import HOSTILE_INPUTS
from widgets.stats_charts import BAR_WIDTH, EMPTY, FULL, Bar, BarChart


def test_bars_scale_to_the_largest_or_to_the_given_scale() -> None:
    chart = BarChart()
    lines = chart.render_bars([Bar("a", 10, "10"), Bar("b", 5, "5"), Bar("c", 0, "0")]).plain
    a, b, c = lines.split("\n")
    assert a.count(FULL) == BAR_WIDTH and b.count(FULL) == BAR_WIDTH // 2 and FULL not in c
    shares = BarChart(scale=1.0).render_bars([Bar("x", 0.25, "25%"), Bar("y", 3.0, "300%")])
    x, y = shares.plain.split("\n")
    assert x.count(FULL) == round(BAR_WIDTH / 4) and x.count(EMPTY) == BAR_WIDTH - x.count(FULL)
    assert y.count(FULL) == BAR_WIDTH  # clipped, never wider than the chart
    assert BarChart(empty="nothing").render_bars([]).plain == "nothing"


@pytest.mark.parametrize(("name", "text"), HOSTILE_INPUTS)
def test_hostile_labels_are_inert(name: str, text: str) -> None:
    out = BarChart(label_width=20).render_bars([Bar(text, 1, "1")])
    plain = out.plain
    assert "\x1b" not in plain and "\x9b" not in plain and "\r" not in plain
    assert "\n" not in plain  # one bar, one line
    assert plain.endswith(" 1")
