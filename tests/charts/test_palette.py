"""Red, amber and green stay three levels in greyscale and to a colour-blind reader, every fill
keeps its symbol and word, and text on every fill reads at 4.5:1.

The lightness and contrast are computed here from the hex codes (CIE L* and WCAG's formula), not
taken from the palette's own helpers, so a wrong helper cannot pass its own test."""

from __future__ import annotations

import numpy as np
import pytest

from charts import palette
from charts.palette import AMBER, GREEN, RED, SEVERITY_COLOUR, SEVERITY_SYMBOL, SEVERITY_WORD, text_on
from charts.tables import LEVEL_COLOUR

# Machado, Oliveira and Fernandes (2009), full severity, on linear RGB
SIMULATED = {
    "seen by most": np.eye(3),
    "protanopia": np.array([[0.152286, 1.052583, -0.204868], [0.114503, 0.786281, 0.099216],
                            [-0.003882, -0.048116, 1.051998]]),
    "deuteranopia": np.array([[0.367322, 0.860646, -0.227968], [0.280085, 0.672501, 0.047413],
                              [-0.011820, 0.042940, 0.968881]]),
    "tritanopia": np.array([[1.255528, -0.076749, -0.178779], [-0.078411, 0.930809, 0.147602],
                            [0.004733, 0.691367, 0.303900]]),
}


def linear(colour: str) -> np.ndarray:
    srgb = np.array([int(colour[i:i + 2], 16) for i in (1, 3, 5)]) / 255
    return np.where(srgb <= 0.04045, srgb / 12.92, ((srgb + 0.055) / 1.055) ** 2.4)


def relative_luminance(rgb: np.ndarray) -> float:
    return float(np.clip(rgb, 0, 1) @ [0.2126, 0.7152, 0.0722])


def lightness(rgb: np.ndarray) -> float:
    """CIE L*, 0 (black) to 100 (white)."""
    y = relative_luminance(rgb)
    return 116 * y ** (1 / 3) - 16 if y > (6 / 29) ** 3 else y * (29 / 3) ** 3


def wcag(one: str, other: str) -> float:
    dark, light = sorted(relative_luminance(linear(c)) for c in (one, other))
    return (light + 0.05) / (dark + 0.05)


def test_the_formulas_here_are_right():
    assert lightness(linear("#FFFFFF")) == pytest.approx(100) and lightness(linear("#000000")) == 0
    assert lightness(linear("#777777")) == pytest.approx(50.0, abs=0.3)
    assert wcag("#FFFFFF", "#000000") == pytest.approx(21) and wcag("#767676", "#FFFFFF") == pytest.approx(4.54, abs=0.01)


@pytest.mark.parametrize("vision", SIMULATED)
def test_green_is_light_amber_mid_red_dark_each_20_apart(vision):
    """In greyscale (L*) and as each kind of colour blindness sees them: green lightest, red
    darkest, each pair at least 20 L* apart."""
    green, amber, red = (lightness(SIMULATED[vision] @ linear(c)) for c in (GREEN, AMBER, RED))
    assert green > amber > red, (vision, green, amber, red)
    assert amber - red >= 20 and green - amber >= 20, (vision, green, amber, red)


def test_the_heatmap_fills_are_the_palettes_red_amber_and_green():
    assert (SEVERITY_COLOUR["red"], SEVERITY_COLOUR["amber"], SEVERITY_COLOUR["clear"]) == (RED, AMBER, GREEN)
    assert (LEVEL_COLOUR["red"], LEVEL_COLOUR["amber"], LEVEL_COLOUR["clear"]) == (RED, AMBER, GREEN)


def test_every_fill_keeps_its_own_symbol_and_word():
    assert set(SEVERITY_SYMBOL) == set(SEVERITY_WORD) == set(SEVERITY_COLOUR)
    assert len(set(SEVERITY_SYMBOL.values())) == len(SEVERITY_SYMBOL)
    assert len(set(SEVERITY_WORD.values())) == len(SEVERITY_WORD)
    assert all(s.strip() and w.strip() for s, w in zip(SEVERITY_SYMBOL.values(), SEVERITY_WORD.values()))


@pytest.mark.parametrize("fill", sorted(set(SEVERITY_COLOUR.values()) | set(LEVEL_COLOUR.values())))
def test_text_on_every_fill_reads_at_4_5_to_1(fill):
    assert wcag(text_on(fill), fill) >= 4.5, (fill, text_on(fill))


def test_text_on_takes_the_better_of_ink_and_white():
    assert text_on("#000000") == palette.WHITE and text_on("#FFFFFF") == palette.INK
    assert text_on(RED) == palette.WHITE and text_on(GREEN) == palette.INK


def test_a_light_green_mark_on_white_paper_has_a_dark_outline():
    """A marker is a graphic: 3:1 against the paper, which the light green fill alone is not."""
    assert wcag(GREEN, "#FFFFFF") < 3 <= wcag(palette.GREEN_EDGE, "#FFFFFF")
    assert wcag(RED, "#FFFFFF") >= 3 and wcag(AMBER, "#FFFFFF") >= 3
