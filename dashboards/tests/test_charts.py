"""The server-rendered SVG charts: labels escaped, gaps kept as gaps, nothing to draw handled."""

from dashboards.charts import Point, Series, line_chart, sparkline, stacked_bars


def test_it_escapes_every_label():
    svg = line_chart([Point("<b>", 1.0, "<script>x</script>")], label='"quoted"')
    assert "<script>" not in svg and "&lt;script&gt;" in svg and "&lt;b&gt;" in svg
    svg = stacked_bars(["<i>"], [Series("<img src=x>", "#000", [3])])
    assert "<img" not in svg and "&lt;img" in svg


def test_it_breaks_the_line_where_a_day_has_no_data():
    svg = line_chart([Point("a", 1), Point("b", None), Point("c", 2), Point("d", 3)])
    assert svg.count("<polyline") == 1  # a single point is drawn as a dot, the run c to d as a line
    assert svg.count("<circle") == 3 + 1


def test_it_draws_nothing_for_no_data():
    assert "<polyline" not in sparkline([])
    assert "<polyline" not in sparkline([None, None])
    assert "<rect" not in stacked_bars([], [])


def test_it_scales_percentages_to_a_hundred():
    svg = line_chart([Point("a", 50.0), Point("b", 100.0)], unit="%")
    assert ">100%</text>" in svg and ">50%</text>" in svg
