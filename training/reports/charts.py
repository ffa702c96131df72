"""Charts: server-rendered SVG with plain numbers; each sits beside a data table with the same
figures, which is what screen readers use."""

import textwrap

CHART_WIDTH = 640

BAR_HEIGHT = 28

# A module's whole title, in lines short enough for the label column at 13 px (about 7 px a
# character), so none is cut off ("Modern slavery and human traf…") or runs off the left edge.
LABEL_WIDTH = 250
LABEL_CHARS = 32
LINE_HEIGHT = 15


def bar_chart(rows) -> dict:
    """Bar geometry for each module's compliance rate, its title wrapped onto lines."""
    span = CHART_WIDTH - LABEL_WIDTH - 60
    bars = []
    y = 0
    for row in rows:
        rate = row.rate or 0
        lines = textwrap.wrap(row.module_title, LABEL_CHARS) or [""]
        height = max(BAR_HEIGHT, len(lines) * LINE_HEIGHT + 10)
        middle = y + height / 2
        first_line_y = middle - (len(lines) - 1) * LINE_HEIGHT / 2 + 4.5
        bars.append(
            {
                "label": row.module_title,
                "lines": [
                    {"text": text, "y": round(first_line_y + n * LINE_HEIGHT, 1)}
                    for n, text in enumerate(lines)
                ],
                "rate": None if row.rate is None else round(row.rate),
                "y": round(middle - 10, 1),
                "text_y": round(middle + 4.5, 1),
                "x": LABEL_WIDTH,
                "width": round(span * rate / 100, 1),
                "value_x": LABEL_WIDTH + round(span * rate / 100, 1) + 6,
            }
        )
        y += height
    return {
        "bars": bars,
        "width": CHART_WIDTH,
        "height": max(y, BAR_HEIGHT),
        "label_x": LABEL_WIDTH - 8,
    }


def line_chart(points) -> dict:
    """The weekly rate as line segments, with axis ticks at 0, 50 and 100 %.

    A week with nobody to count (rate None) is a gap between segments, not a point at 0%. A
    week standing alone between gaps is a segment from the point to itself, which the round
    line caps draw as a dot."""
    height, left, top, bottom = 200, 40, 10, 30
    plot_height = height - top - bottom
    step = (CHART_WIDTH - left - 10) / max(len(points) - 1, 1)
    runs: list[list[tuple[float, float]]] = [[]]
    for i, p in enumerate(points):
        if p.rate is None:
            runs.append([])
        else:
            runs[-1].append((left + i * step, top + plot_height * (1 - p.rate / 100)))
    segments = [
        " ".join(f"{x:.1f},{y:.1f}" for x, y in (run * 2 if len(run) == 1 else run))
        for run in runs
        if run
    ]
    ticks = [{"label": f"{v}%", "y": top + plot_height * (1 - v / 100)} for v in (0, 50, 100)]
    first, last = (points[0], points[-1]) if points else (None, None)
    return {
        "segments": segments,
        "width": CHART_WIDTH,
        "height": height,
        "left": left,
        "ticks": ticks,
        "axis_y": height - bottom + 16,
        "first": first,
        "last": last,
        "right": CHART_WIDTH - 10,
    }
