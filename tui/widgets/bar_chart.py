"""A horizontal stacked bar chart in Unicode blocks: A/R by aging bucket, no plotting library.

Bar lengths are a drawing scale only: each bar's cells are its share of the widest bar,
computed here for display; every figure printed beside a bar is the read model's own.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from rich.text import Text
from textual.widget import Widget

FULL = "█"
SHADE = "▒"
PARTIALS = " ▏▎▍▌▋▊▉"  # eighths of a cell


@dataclass(frozen=True)
class Bar:
    label: str
    first: int   # e.g. insurance cents, drawn solid
    second: int  # e.g. patient cents, drawn shaded
    figure: str  # printed after the bar: the read model's figure, already formatted


def cells(value: int, widest: int, width: int) -> tuple[int, int]:
    """Whole cells and remaining eighths for `value` on a `width`-cell scale of `widest`."""
    if widest <= 0 or value <= 0 or width <= 0:
        return 0, 0
    # A balance that exists shows at least a sliver, however small beside the widest.
    eighths = max(1, value * width * 8 // widest)
    return divmod(eighths, 8)


class BarChart(Widget):
    """Stacked bars, one a line: `label ████▒▒▒ $1,234.00`."""

    DEFAULT_CSS: ClassVar[str] = """
    BarChart {
        height: auto;
    }
    BarChart .legend {
        color: $text-muted;
    }
    """

    LABEL_WIDTH = 7
    FIGURE_WIDTH = 13

    def __init__(self, title: str = "", legend: tuple[str, str] = ("insurance", "patient"),
                 **kwargs: str) -> None:
        super().__init__(**kwargs)  # type: ignore[arg-type]
        self.title = title
        self.legend = legend
        self.bars: list[Bar] = []

    def set_bars(self, bars: list[Bar]) -> None:
        self.bars = bars
        self.refresh(layout=True)

    def get_content_height(self, container: object, viewport: object, width: int) -> int:
        return len(self.bars) + 2

    def render(self) -> Text:
        figures = any(bar.figure for bar in self.bars)
        width = max(1, self.size.width - self.LABEL_WIDTH - 2
                    - (self.FIGURE_WIDTH if figures else 0))
        widest = max((max(bar.first, 0) + max(bar.second, 0) for bar in self.bars), default=0)
        text = Text()
        if self.title:
            text.append(self.title + "\n", style="bold")
        for bar in self.bars:
            text.append(bar.label.ljust(self.LABEL_WIDTH)[: self.LABEL_WIDTH] + " ")
            whole_a, part_a = cells(max(bar.first, 0), widest, width)
            whole_b, _ = cells(max(bar.second, 0), widest, width)
            text.append(FULL * whole_a + (PARTIALS[part_a] if part_a else ""), style="cyan")
            text.append(SHADE * whole_b, style="yellow")
            drawn = whole_a + (1 if part_a else 0) + whole_b
            if figures:
                text.append(" " * max(0, width - drawn) + " ")
                text.append(bar.figure.rjust(self.FIGURE_WIDTH))
            text.append("\n")
        text.append(f"{FULL} {self.legend[0]}  ", style="cyan")
        text.append(f"{SHADE} {self.legend[1]}", style="yellow")
        return text
