"""The server-drawn SVG charts (issue 15): well-formed XML, a title and a description, no inline
style (the CSP allows none), bars proportional to the figures, hostile labels escaped."""
from __future__ import annotations

from xml.etree import ElementTree

from portal.documents.charts import columns, stacked_bars

NS = "{http://www.w3.org/2000/svg}"


def test_stacked_bars_are_proportional_and_labelled():
    svg = ElementTree.fromstring(str(stacked_bars("标题", ["甲", "乙"], ["A", "B"], [[2, 2], [1, 0]])))
    assert svg.get("role") == "img" and svg.find(f"{NS}title").text == "标题"
    assert svg.find(f"{NS}desc").text == "甲 4；乙 1"
    bars = [r for r in svg.iter(f"{NS}rect") if float(r.get("height")) > 12]  # not the legend swatches
    widths = [float(r.get("width")) for r in bars]
    assert len(widths) == 3 and widths[0] == widths[1] == 2 * widths[2]  # 2 of a peak of 4, and 1
    assert all(el.get("style") is None for el in svg.iter())


def test_labels_are_escaped_and_shortened():
    hostile = "<script>alert(1)</script>很长很长很长很长很长的单位名称"
    out = str(stacked_bars("<b>x</b>", [hostile], ["n"], [[1]]))
    assert "<script>" not in out and "<b>" not in out
    svg = ElementTree.fromstring(out)
    label = [t.text for t in svg.iter(f"{NS}text") if t.text and t.text.startswith("<script")][0]
    assert len(label) == 14 and label.endswith("…")


def test_columns_and_empty_charts():
    svg = ElementTree.fromstring(str(columns("每日", ["2026-01-01", "2026-01-02", "2026-01-03"], [0, 3, 6])))
    heights = [float(r.get("height")) for r in svg.iter(f"{NS}rect")]
    assert len(heights) == 2 and heights[1] == 2 * heights[0]
    empty = ElementTree.fromstring(str(stacked_bars("空", [], ["n"], [])))
    assert "本期间没有数据" in "".join(empty.itertext())
