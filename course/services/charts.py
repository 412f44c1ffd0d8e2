"""What a stacked bar draws and says, worked out in Python once per bar.

The misconceptions page draws one bar per item (hundreds on a page). Computing each
segment's geometry, class and numbers in nested Jinja macro calls made that page cost
5-7x a lesson page; here the template only writes out ready strings, one loop per bar.
No Flask here: plain values in, plain values out.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

BAR_WIDTH = 300
BAR_HEIGHT = 22
WRONG_COLOURS = 5  # chart-seg-1 .. chart-seg-5 in the stylesheet, used in turn


def percent(share: float | None) -> str:
    """0.875 -> '88%'; None (not graded yet) -> an en dash."""
    return "\u2013" if share is None else f"{round(share * 100)}%"


class _Segment(Protocol):
    @property
    def label(self) -> str: ...
    @property
    def count(self) -> int: ...
    @property
    def right(self) -> bool: ...


@dataclass(frozen=True)
class StackedBar:
    """A bar of how `answered` attempts split across segments, as the page writes it.

    `rects` are the drawn segments (class, x, width), leaving out those with no attempts;
    `rows` the table beside it, one per segment (class, label, right, numbers), the right
    answer's label capitalised. A segment's class gives its look, the right answer hatched
    and wrong ones coloured in turn, the same in the bar and its row's swatch. `spoken`
    lists every segment for the chart's accessible name. Plain tuples, which the template
    unpacks in its loops, cheaper there than attribute look-ups.
    """

    rects: tuple[tuple[str, str, str], ...]
    rows: tuple[tuple[str, str, bool, str], ...]
    spoken: str
    width: int = BAR_WIDTH
    height: int = BAR_HEIGHT


def stacked_bar(segments: Sequence[_Segment], total: int, answered: int) -> StackedBar:
    """Lay `segments` end to end over a bar standing for `total` (at least `answered`,
    more when one attempt counts in several segments); shares are of `answered`."""
    rects = []
    rows = []
    x: float = 0
    for index, s in enumerate(segments):
        css = ("chart-seg chart-seg-right" if s.right
               else f"chart-seg chart-seg-{(index - 1) % WRONG_COLOURS + 1}")
        share = percent(s.count / answered) if answered else "\u2013"
        rows.append((css, s.label.capitalize() if s.right else s.label, s.right,
                     f"{s.count:,} ({share})"))
        if s.count:
            width: float = round(BAR_WIDTH * s.count / total, 2) if total else 0
            rects.append((css, str(x), str(width)))
            x += width
    spoken = "; ".join(f"{s.label}{' (right)' if s.right else ''} {s.count} of {answered}"
                       for s in segments)
    return StackedBar(tuple(rects), tuple(rows), spoken)
