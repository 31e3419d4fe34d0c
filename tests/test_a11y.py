"""The WCAG arithmetic the page tests rely on, checked against known values."""

from __future__ import annotations

import pytest
from a11y import contrast, focus_ring_colours


@pytest.mark.parametrize(
    ("one", "two", "ratio"),
    [("#000", "#fff", 21.0), ("#ffffff", "#ffffff", 1.0), ("#777777", "#ffffff", 4.48)],
)
def test_contrast_matches_wcags_reference_values(one, two, ratio):
    assert contrast(one, two) == pytest.approx(ratio, abs=0.01)
    assert contrast(two, one) == pytest.approx(ratio, abs=0.01)


def test_focus_ring_colours_come_only_from_focus_rules():
    css = "a { color: #123456 } a:focus-visible, b:focus { outline: 3px solid #abc }"

    assert focus_ring_colours(css) == ["#abc"]
