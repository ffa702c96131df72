"""Charts: server-rendered SVG with plain numbers; each sits beside a data table with the same
figures, which is what screen readers use."""

CHART_WIDTH = 640

BAR_HEIGHT = 28


def bar_chart(rows) -> dict:
    """Bar geometry for each module's compliance rate."""
    label_width = 220
    span = CHART_WIDTH - label_width - 60
    bars = []
    for i, row in enumerate(rows):
        rate = row.rate or 0
        bars.append(
            {
                "label": row.module_title,
                "rate": None if row.rate is None else round(row.rate),
                "y": i * BAR_HEIGHT,
                "text_y": i * BAR_HEIGHT + BAR_HEIGHT * 0.65,
                "x": label_width,
                "width": round(span * rate / 100, 1),
                "value_x": label_width + round(span * rate / 100, 1) + 6,
            }
        )
    return {
        "bars": bars,
        "width": CHART_WIDTH,
        "height": max(len(bars), 1) * BAR_HEIGHT,
        "label_x": label_width - 8,
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
