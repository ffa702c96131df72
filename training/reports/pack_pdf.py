"""The audit-committee pack as an A4 PDF (reportlab): real text, a title and a language, charts
drawn here with the figures written on them, and each chart followed by the table of its
figures. Red/amber/green is always written as a word too, never colour alone."""

import io
from datetime import datetime
from html import escape

from django.utils import timezone
from reportlab.graphics.shapes import Drawing, Line, PolyLine, Rect, String
from reportlab.lib import colors
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle, getSampleStyleSheet
from reportlab.lib.units import mm
from reportlab.lib.utils import simpleSplit
from reportlab.platypus import Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle

from training.reports.charts import line_chart
from training.reports.pack import (
    TOO_FEW,
    PackFigures,
    PackTable,
    change,
    pack_figures,
    percent,
    suppressed_rate,
)

RAG_COLOURS = {
    "Green": colors.HexColor("#00703c"),
    "Amber": colors.HexColor("#f47738"),
    "Red": colors.HexColor("#d4351c"),
}
TEXT = colors.HexColor("#0b0c0c")
GREY = colors.HexColor("#505a5f")
WIDTH = A4[0] - 40 * mm  # the text column

styles = getSampleStyleSheet()
BODY = ParagraphStyle("body", parent=styles["BodyText"], fontSize=10, leading=14, textColor=TEXT)
H1 = ParagraphStyle("h1", parent=styles["Heading1"], fontSize=20, leading=24, textColor=TEXT)
H2 = ParagraphStyle("h2", parent=styles["Heading2"], fontSize=14, leading=18, textColor=TEXT)
CELL = ParagraphStyle("cell", parent=BODY, fontSize=8.5, leading=11)


def _table(table: PackTable, widths: list[float] | None = None) -> Table:
    if not table.rows:
        return Paragraph("None.", BODY)
    data = [[Paragraph(f"<b>{h}</b>", CELL) for h in table.headings]]
    data += [[Paragraph(escape(str(v)), CELL) for v in row] for row in table.rows]
    flowable = Table(data, colWidths=widths, repeatRows=1, hAlign="LEFT")
    flowable.setStyle(
        TableStyle(
            [
                ("LINEBELOW", (0, 0), (-1, -1), 0.5, colors.HexColor("#b1b4b6")),
                ("VALIGN", (0, 0), (-1, -1), "TOP"),
                ("TOPPADDING", (0, 0), (-1, -1), 3),
                ("BOTTOMPADDING", (0, 0), (-1, -1), 3),
            ]
        )
    )
    return flowable


def directorate_chart(figures: PackFigures) -> Drawing:
    """A bar per directorate, coloured and labelled with its mark, and the target as a line."""
    label_width, value_width, row = 170, 90, 26
    span = WIDTH - label_width - value_width
    rows = figures.directorates
    height = max(len(rows), 1) * row + 24
    drawing = Drawing(WIDTH, height)
    for i, (name, total, mark) in enumerate(rows):
        y = height - 24 - (i + 1) * row + 6
        lines = simpleSplit(name, "Helvetica", 8, label_width - 8)[:2]
        for n, text in enumerate(lines):
            drawing.add(String(label_width - 8, y + 8 - n * 9, text, fontSize=8, textAnchor="end"))
        if mark == TOO_FEW:  # suppressed: no bar, as no rate
            drawing.add(String(label_width + 4, y + 4, mark, fontSize=8, fillColor=GREY))
            continue
        rate = total.rate or 0
        drawing.add(
            Rect(
                label_width,
                y,
                span * rate / 100,
                row - 10,
                fillColor=RAG_COLOURS.get(mark, GREY),
                strokeColor=None,
            )
        )
        drawing.add(
            String(
                label_width + span * rate / 100 + 4,
                y + 4,
                f"{percent(total.rate)} {mark}",
                fontSize=8,
                fillColor=TEXT,
            )
        )
    x = label_width + span * figures.target / 100
    drawing.add(Line(x, 4, x, height - 14, strokeColor=TEXT, strokeDashArray=[3, 2]))
    target = f"Target {figures.target}%"
    drawing.add(String(x, height - 10, target, fontSize=8, textAnchor="middle"))
    return drawing


def trend_chart(figures: PackFigures) -> Drawing:
    """The weekly rate over the year (the report page's line geometry), with the target."""
    geometry = line_chart(figures.trend)
    scale = WIDTH / geometry["width"]
    height = geometry["height"]
    drawing = Drawing(WIDTH, height * scale)

    def point(x: float, y: float) -> tuple[float, float]:
        return x * scale, (height - y) * scale  # SVG measures down, PDF up

    for tick in geometry["ticks"]:
        x0, y = point(geometry["left"], tick["y"])
        drawing.add(Line(x0, y, WIDTH, y, strokeColor=colors.HexColor("#b1b4b6"), strokeWidth=0.5))
        drawing.add(String(x0 - 4, y - 3, tick["label"], fontSize=8, textAnchor="end"))
    plot_top, plot_bottom = geometry["ticks"][2]["y"], geometry["ticks"][0]["y"]
    target_y = plot_bottom + (plot_top - plot_bottom) * figures.target / 100
    x0, y = point(geometry["left"], target_y)
    drawing.add(Line(x0, y, WIDTH, y, strokeColor=TEXT, strokeDashArray=[3, 2]))
    drawing.add(String(WIDTH, y + 3, f"Target {figures.target}%", fontSize=8, textAnchor="end"))
    for segment in geometry["segments"]:
        points = []
        for pair in segment.split():
            px, py = (float(v) for v in pair.split(","))
            points.extend(point(px, py))
        drawing.add(PolyLine(points, strokeColor=colors.HexColor("#1d70b8"), strokeWidth=2))
    if geometry["first"] is not None:
        _x, axis = point(0, geometry["axis_y"])
        drawing.add(String(x0, axis, f"{geometry['first'].week_ending:%d %b %Y}", fontSize=8))
        drawing.add(
            String(
                WIDTH,
                axis,
                f"{geometry['last'].week_ending:%d %b %Y}",
                fontSize=8,
                textAnchor="end",
            )
        )
    return drawing


def pack_pdf_render(figures: PackFigures) -> bytes:
    """The pack's pages, from figures already computed (training.reports.pack.pack_figures)."""
    output = io.BytesIO()
    day = timezone.localdate(figures.made_at)
    title = f"Training compliance: audit committee pack, {day:%d %B %Y}"
    document = SimpleDocTemplate(
        output,
        pagesize=A4,
        leftMargin=20 * mm,
        rightMargin=20 * mm,
        topMargin=18 * mm,
        bottomMargin=18 * mm,
        title=title,
        author=figures.council_name or "Aware",
        subject="Completion of fraud and organised crime awareness training",
        lang="en-GB",
    )
    headline = figures.headline
    mark = figures.rag(headline.rate)
    counted = timezone.localtime(figures.counted_at)
    story = [
        Paragraph(escape(figures.council_name), BODY),
        Paragraph("Training compliance: audit committee pack", H1),
        Paragraph(
            f"Figures as at {counted:%d %B %Y, %H:%M}. Made by Aware for the audit committee.",
            BODY,
        ),
        Spacer(0, 4 * mm),
        Paragraph(
            f"<b>{percent(headline.rate)}</b> of the training people must complete is complete "
            f"and valid, against the council's target of <b>{figures.target}%</b>: "
            f"<b>{mark}</b>. {headline.compliant} of {headline.must_comply} completed; "
            f"{headline.overdue} overdue.",
            BODY,
        ),
        Paragraph(
            f"Change since last month: {change(headline.rate, figures.month_ago)}. "
            f"Change since last year: {change(headline.rate, figures.year_ago)}.",
            BODY,
        ),
        Paragraph(
            f"Marks: <b>Green</b> at or above the target ({figures.target}%); <b>Amber</b> from "
            f"{figures.amber_from}% to below the target; <b>Red</b> below {figures.amber_from}%. "
            'Groups of fewer than 5 people are shown as "Too few to show" or "&lt;5".',
            BODY,
        ),
        Paragraph("Completion rate by directorate", H2),
        directorate_chart(figures),
        Spacer(0, 2 * mm),
        _table(figures.tables["directorates"], [70 * mm, 25 * mm, 27 * mm, 28 * mm, 20 * mm]),
        Paragraph("Completion rate over the last year", H2),
        trend_chart(figures),
        Spacer(0, 2 * mm),
        _table(_every_fourth_week(figures.tables["trend"])),
        Paragraph("Councillors", H2),
        Paragraph(f"Councillors' completion rate: {suppressed_rate(figures.councillors)}.", BODY),
        _table(figures.tables["councillors"], [80 * mm, 30 * mm, 30 * mm, 30 * mm]),
        Paragraph("Where overdue training is", H2),
        Paragraph("The departments and services with the most overdue training.", BODY),
        _table(figures.tables["overdue"], [80 * mm, 25 * mm, 30 * mm, 35 * mm]),
        Paragraph("Content in force", H2),
        _table(figures.tables["versions"], [100 * mm, 25 * mm, 45 * mm]),
        Paragraph("Reminder activity", H2),
        _table(figures.tables["reminders"], [120 * mm, 50 * mm]),
        Paragraph("Evidence checkpoint", H2),
        _checkpoint(figures),
    ]
    document.build(story)
    return output.getvalue()


def _every_fourth_week(table: PackTable) -> PackTable:
    """The trend table at four-weekly steps ending today (every week is in the XLSX)."""
    rows = table.rows[::-4][::-1]
    return PackTable(f"{table.title} (every four weeks)", table.headings, rows)


def _checkpoint(figures: PackFigures) -> Paragraph:
    point = figures.checkpoint
    if point is None:
        return Paragraph("No signed checkpoint of the completion records has been taken yet.", BODY)
    when = "today" if point["today"] else "not today: check the daily checkpoint job"
    return Paragraph(
        f"The latest signed checkpoint of the completion records was taken at "
        f"{point['taken_at']} ({when}). It covers {point['count']} records; the last record's "
        f"hash is <font face='Courier'>{point['last_hash'] or 'none'}</font>. An auditor can "
        "check that no record has been removed or changed since with "
        "<font face='Courier'>manage.py verify_records</font>.",
        BODY,
    )


def pack_pdf(*, now: datetime) -> bytes:
    """The audit-committee pack as of `now`, as a PDF."""
    return pack_pdf_render(pack_figures(now=now))
