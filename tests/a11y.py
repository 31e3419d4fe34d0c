"""WCAG 2.x arithmetic for the tests that hold pages to it: contrast between two colours,
and the colours a stylesheet draws focus rings with."""

from __future__ import annotations

import re

_FOCUS_RULE = re.compile(r"[^{}]*:focus(?:-visible)?[^{}]*\{([^}]*)\}")
_HEX = re.compile(r"#([0-9a-fA-F]{6}|[0-9a-fA-F]{3})\b")


def _luminance(colour: str) -> float:
    digits = colour.lstrip("#")
    if len(digits) == 3:
        digits = "".join(c * 2 for c in digits)
    channels = [int(digits[i : i + 2], 16) / 255 for i in (0, 2, 4)]
    linear = [c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4 for c in channels]
    return 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2]


def contrast(foreground: str, background: str) -> float:
    """The WCAG contrast ratio of two ``#rrggbb`` (or ``#rgb``) colours, 1 to 21."""
    lighter, darker = sorted((_luminance(foreground), _luminance(background)), reverse=True)
    return (lighter + 0.05) / (darker + 0.05)


def focus_ring_colours(css: str) -> list[str]:
    """Every colour named in the declarations of ``:focus`` / ``:focus-visible`` rules."""
    colours = []
    for declarations in _FOCUS_RULE.findall(css):
        colours += [f"#{found}" for found in _HEX.findall(declarations)]
    return colours
