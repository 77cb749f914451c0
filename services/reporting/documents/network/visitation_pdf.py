"""The yearly visitation report as PDF (ReportLab): the practice's figures beside the network's, funnel
plots, the months of the year and the make-up of its episodes, in Dutch (or English)."""

from __future__ import annotations

import io
from typing import Any

from reportlab.graphics.charts.lineplots import LinePlot
from reportlab.graphics.shapes import Drawing, Line, String
from reportlab.graphics.widgets.markers import makeMarker
from reportlab.lib import colors
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle, getSampleStyleSheet
from reportlab.lib.units import mm
from reportlab.platypus import KeepTogether, Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle

from services.reporting.domain.network.facts import COURSES, DURATION_CLASSES, ESCALATION_REASONS
from services.reporting.domain.network.figures import FigureOut, Funnel, TrendPoint
from services.reporting.domain.network.indicators import BY_KEY
from services.reporting.domain.network.visitation import Visitation

PRACTICE_COLOUR = colors.HexColor("#c0504d")
NETWORK_COLOUR = colors.HexColor("#2f5d8a")
OTHER_COLOUR = colors.HexColor("#5f6b78")
LIMIT_COLOURS = {"95": colors.HexColor("#d38b1f"), "99.8": colors.HexColor("#7f7f7f")}
FUNNELS = ("intake_measured", "evaluations_measured", "evaluations_on_time", "escalated", "mcic_qbpds", "mcic_nprs")
TRENDS = ("intake_measured", "evaluations_on_time", "mcic_qbpds", "escalated")
MONTHS = {
    "nl": ["jan", "feb", "mrt", "apr", "mei", "jun", "jul", "aug", "sep", "okt", "nov", "dec"],
    "en": ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"],
}
TEXT = {
    "nl": {
        "title": "Visitatierapport {year}",
        "subtitle": "Praktijk (AGB) {agb} · regionaal rugnetwerk · {n} praktijken in het netwerk",
        "intro": "Dit rapport zet de cijfers van de praktijk over de episodes verwezen in {year} naast die van"
        " het hele netwerk, als basis voor het visitatiegesprek. Er staat geen patiënt in.",
        "key": "Kerncijfers {year}",
        "adherence": "Protocoltrouw",
        "figure": "Cijfer",
        "practice": "Praktijk",
        "network": "Netwerk",
        "denominator": "Noemer (praktijk)",
        "position": "Trechterdiagram",
        "funnels": "Trechterdiagrammen: de praktijk tussen alle praktijken",
        "funnels_intro": "Elke stip is een praktijk (de andere praktijken zonder naam); rood is deze praktijk."
        " Horizontaal het aantal gevallen, verticaal het percentage. Binnen de trechter (95 % en 99,8 %"
        " controlegrenzen rond het netwerkgemiddelde) valt een verschil binnen het toeval.",
        "trends": "Verloop per maand van verwijzing",
        "trends_intro": "Rood de praktijk, blauw het netwerk. Een maand met minder dan 10 gevallen staat er"
        " niet in en is op de as gemarkeerd met ×.",
        "makeup": "Samenstelling van de episodes",
        "count": "Aantal",
        "of": "van",
        "none": "Geen episodes in {year}.",
        "cases": "gevallen",
        "mean": "netwerkgemiddelde",
        "limit": "{name} %-grens",
        "no_funnel": "Te weinig gevallen voor een trechterdiagram.",
        "within": "binnen de grenzen",
        "above_95": "boven de 95 %-grens",
        "below_95": "onder de 95 %-grens",
        "above_99.8": "boven de 99,8 %-grens",
        "below_99.8": "onder de 99,8 %-grens",
        "suppressed_month": "× minder dan 10 gevallen",
        "suppressed": "afgeschermd*",
        "suppressed_note": "* afgeschermd: minder dan 10 gevallen (afgerond), te weinig voor een cijfer.",
        "episodes": "episodes",
        "duration": "Duur van de klachten",
        "course": "Beloop",
        "reasons": "Terugverwezen naar de verwijzer, naar reden",
    },
    "en": {
        "title": "Visitation report {year}",
        "subtitle": "Practice (AGB) {agb} · regional back network · {n} practices in the network",
        "intro": "This report sets the practice's figures for episodes referred in {year} beside those of the"
        " whole network, as the basis of the visitation. It holds no patient.",
        "key": "Key figures {year}",
        "adherence": "Protocol adherence",
        "figure": "Figure",
        "practice": "Practice",
        "network": "Network",
        "denominator": "Denominator (practice)",
        "position": "Funnel plot",
        "funnels": "Funnel plots: the practice among all practices",
        "funnels_intro": "Each dot is a practice (the others unnamed); red is this practice. Across: the number"
        " of cases; up: the share. Within the funnel (95 % and 99.8 % control limits around the network's"
        " mean) a difference is within chance.",
        "trends": "Month by month of referral",
        "trends_intro": "Red the practice, blue the network. A month with fewer than 10 cases is left out and"
        " marked × on the axis.",
        "makeup": "Make-up of the episodes",
        "count": "Count",
        "of": "of",
        "none": "No episodes in {year}.",
        "cases": "cases",
        "mean": "network mean",
        "limit": "{name} % limit",
        "no_funnel": "Too few cases for a funnel plot.",
        "within": "within the limits",
        "above_95": "above the 95 % limit",
        "below_95": "below the 95 % limit",
        "above_99.8": "above the 99.8 % limit",
        "below_99.8": "below the 99.8 % limit",
        "suppressed_month": "× fewer than 10 cases",
        "suppressed": "suppressed*",
        "suppressed_note": "* suppressed: fewer than 10 cases (rounded), too few for a figure.",
        "episodes": "episodes",
        "duration": "Duration of complaints",
        "course": "Course",
        "reasons": "Referred back to the referrer, by reason",
    },
}


def _number(value: float | None, language: str) -> str:
    text = f"{value:.1f}"
    return text.replace(".", ",") if language == "nl" else text


def _value(figure: FigureOut, unit: str, language: str) -> str:
    if figure.value is None:
        return TEXT[language]["suppressed"] if figure.suppressed else "–"
    return f"{_number(figure.value, language)}{' %' if unit == '%' else ''}"


def _figures_table(report: Visitation, keys: list[str], language: str, styles: Any) -> Table:
    text, words = TEXT[language], report.labels[language]
    cell = ParagraphStyle("cell", parent=styles["BodyText"], fontSize=8.5, leading=10)
    rows: list[list[Any]] = [[text["figure"], text["practice"], text["network"], text["denominator"], text["position"]]]
    for comparison in report.indicators:
        if comparison.key not in keys:
            continue
        label = words["indicator"][comparison.key]
        unit = BY_KEY[comparison.key].unit
        title = label["label"]
        rows.append(
            [
                Paragraph(f"{title}<br/><font size=7 color='#4a5866'>{text['of']} {label['denominator']}</font>", cell),
                _value(comparison.practice, unit, language),
                _value(comparison.network, unit, language),
                str(comparison.practice.denominator),
                text[comparison.position] if comparison.position else "–",
            ]
        )
    table = Table(rows, colWidths=[60 * mm, 24 * mm, 24 * mm, 28 * mm, 40 * mm], repeatRows=1)
    table.setStyle(
        TableStyle(
            [
                ("FONT", (0, 0), (-1, 0), "Helvetica-Bold", 8.5),
                ("FONT", (1, 1), (-1, -1), "Helvetica", 8.5),
                ("BACKGROUND", (0, 0), (-1, 0), colors.HexColor("#eef2f6")),
                ("GRID", (0, 0), (-1, -1), 0.4, colors.HexColor("#c5ced8")),
                ("ALIGN", (1, 1), (3, -1), "RIGHT"),
                ("VALIGN", (0, 0), (-1, -1), "MIDDLE"),
            ]
        )
    )
    return table


def _funnel_drawing(key: str, funnel: Funnel, report: Visitation, language: str) -> Drawing:
    text, words = TEXT[language], report.labels[language]
    drawing = Drawing(85 * mm, 62 * mm)
    drawing.add(String(2, 62 * mm - 10, words["indicator"][key]["label"], fontName="Helvetica-Bold", fontSize=8))
    if funnel.mean is None or not funnel.points:
        drawing.add(String(2, 30 * mm, text["no_funnel"], fontName="Helvetica", fontSize=8))
        return drawing
    plot = LinePlot()
    plot.x, plot.y, plot.width, plot.height = 28, 32, 85 * mm - 40, 62 * mm - 60
    lines: list[list[tuple[float, float]]] = [
        [(limit.n, funnel.mean) for limit in funnel.limits] or [(p.n, funnel.mean) for p in funnel.points]
    ]
    styles: list[tuple[Any, float, tuple[int, int] | None]] = [(NETWORK_COLOUR, 1.0, None)]
    for name in ("95", "99.8"):
        for side in ("lower", "upper"):
            lines.append([(limit.n, getattr(limit, side)[name]) for limit in funnel.limits])
            styles.append((LIMIT_COLOURS[name], 0.8, (2, 2) if name == "95" else (4, 2)))
    others: list[tuple[float, float]] = [(p.n, p.value) for p in funnel.points if not p.selected]
    own: list[tuple[float, float]] = [(p.n, p.value) for p in funnel.points if p.selected]
    lines += [
        others or [(funnel.points[0].n, funnel.points[0].value)],
        own or [(funnel.points[0].n, funnel.points[0].value)],
    ]
    plot.data = [line for line in lines if line]
    for i, (colour, width, dash) in enumerate(styles):
        plot.lines[i].strokeColor = colour
        plot.lines[i].strokeWidth = width
        if dash:
            plot.lines[i].strokeDashArray = dash
    for index, (colour, size, shown) in (
        (len(styles), (OTHER_COLOUR, 4, bool(others))),
        (len(styles) + 1, (PRACTICE_COLOUR, 6, bool(own))),
    ):
        plot.lines[index].strokeColor = None
        plot.lines[index].strokeWidth = 0
        plot.lines[index].symbol = makeMarker(
            "FilledCircle", size=size if shown else 0, fillColor=colour, strokeColor=colour
        )
    plot.yValueAxis.valueMin, plot.yValueAxis.valueMax = 0, 100
    plot.yValueAxis.valueStep = 25
    plot.xValueAxis.valueMin = 0
    plot.xValueAxis.valueMax = max(p.n for p in funnel.points) * 1.1
    for axis in (plot.xValueAxis, plot.yValueAxis):
        axis.labels.fontName, axis.labels.fontSize = "Helvetica", 7
    drawing.add(plot)
    drawing.add(
        String(
            plot.x + plot.width / 2,
            12,
            f"{words['indicator'][key]['denominator']} ({text['cases']})",
            fontName="Helvetica",
            fontSize=6.5,
            textAnchor="middle",
        )
    )
    drawing.add(String(2, plot.y + plot.height + 4, "%", fontName="Helvetica", fontSize=7))
    x = plot.x
    for label, colour, dash in (
        (text["mean"], NETWORK_COLOUR, None),
        (text["limit"].format(name="95"), LIMIT_COLOURS["95"], (2, 2)),
        (text["limit"].format(name="99,8" if language == "nl" else "99.8"), LIMIT_COLOURS["99.8"], (4, 2)),
    ):
        drawing.add(Line(x, 1, x + 10, 1, strokeColor=colour, strokeWidth=1, strokeDashArray=dash))
        drawing.add(String(x + 12, -1.5, label, fontName="Helvetica", fontSize=6))
        x += 14 + len(label) * 3.0
    return drawing


def _trend_drawing(key: str, points: list[TrendPoint], report: Visitation, language: str) -> Drawing:
    text, words = TEXT[language], report.labels[language]
    drawing = Drawing(85 * mm, 55 * mm)
    drawing.add(
        String(2, 55 * mm - 10, words["indicator"][key]["label"] + " (%)", fontName="Helvetica-Bold", fontSize=8)
    )
    plot = LinePlot()
    plot.x, plot.y, plot.width, plot.height = 28, 24, 85 * mm - 40, 55 * mm - 46
    own = _segments([p.practice.value if p.practice else None for p in points])
    network = _segments([p.network.value for p in points])
    data, colours = [], []
    for segments, colour in ((network, NETWORK_COLOUR), (own, PRACTICE_COLOUR)):
        for segment in segments:  # a month without a figure breaks the line: nothing is drawn across it
            data.append(segment)
            colours.append(colour)
    if data:
        plot.data = data
        for i, colour in enumerate(colours):
            plot.lines[i].strokeColor = colour
            plot.lines[i].strokeWidth = 1.4
            plot.lines[i].symbol = makeMarker("FilledCircle", size=3, fillColor=colour, strokeColor=colour)
    else:
        plot.data = [[(1, 0)]]
        plot.lines[0].strokeColor = None
    plot.xValueAxis.valueMin, plot.xValueAxis.valueMax, plot.xValueAxis.valueStep = 0.5, 12.5, 1
    plot.xValueAxis.labelTextFormat = lambda v: MONTHS[language][int(v) - 1] if 1 <= v <= 12 and v == int(v) else ""
    plot.yValueAxis.valueMin, plot.yValueAxis.valueMax, plot.yValueAxis.valueStep = 0, 100, 25
    for axis in (plot.xValueAxis, plot.yValueAxis):
        axis.labels.fontName, axis.labels.fontSize = "Helvetica", 6.5
    drawing.add(plot)
    step = plot.width / 12
    for i, p in enumerate(points):
        if p.practice is None or p.practice.value is None:
            x = plot.x + (i + 0.5) * step
            drawing.add(
                String(
                    x,
                    plot.y + 3,
                    "×",
                    fontName="Helvetica-Bold",
                    fontSize=8,
                    fillColor=PRACTICE_COLOUR,
                    textAnchor="middle",
                )
            )
    drawing.add(Line(plot.x, 6, plot.x + 10, 6, strokeColor=PRACTICE_COLOUR, strokeWidth=1.4))
    drawing.add(String(plot.x + 13, 4, text["practice"], fontName="Helvetica", fontSize=6.5))
    drawing.add(Line(plot.x + 55, 6, plot.x + 65, 6, strokeColor=NETWORK_COLOUR, strokeWidth=1.4))
    drawing.add(String(plot.x + 68, 4, text["network"], fontName="Helvetica", fontSize=6.5))
    drawing.add(
        String(plot.x + 110, 4, text["suppressed_month"], fontName="Helvetica", fontSize=6.5, fillColor=PRACTICE_COLOUR)
    )
    return drawing


def _segments(values: list[float | None]) -> list[list[tuple[float, float]]]:
    """Runs of consecutive months (1-based x) that have a value."""
    segments: list[list[tuple[float, float]]] = []
    current: list[tuple[float, float]] = []
    for i, value in enumerate(values):
        if value is None:
            if current:
                segments.append(current)
            current = []
        else:
            current.append((i + 1, value))
    if current:
        segments.append(current)
    return segments


def _pairs(flowables: list[Any]) -> Table:
    rows = [flowables[i : i + 2] + [""] * (2 - len(flowables[i : i + 2])) for i in range(0, len(flowables), 2)]
    table = Table(rows, colWidths=[88 * mm, 88 * mm])
    table.setStyle(TableStyle([("VALIGN", (0, 0), (-1, -1), "TOP"), ("LEFTPADDING", (0, 0), (-1, -1), 0)]))
    return table


def _makeup_table(report: Visitation, language: str) -> Table:
    text, words = TEXT[language], report.labels[language]
    rows: list[list[Any]] = [["", text["practice"], text["network"]]]
    groups = (
        (text["duration"], [(words["duration"][c], f"duration:{c}") for c in DURATION_CLASSES]),
        (text["course"], [(words["course"][c], f"course:{c}") for c in COURSES]),
        (text["reasons"], [(words["reason"][r], f"reason:{r}") for r in ESCALATION_REASONS]),
    )
    spans = []
    rows.append([text["episodes"], str(report.practice.counts["episodes"]), str(report.network.counts["episodes"])])
    for title, items in groups:
        spans.append(len(rows))
        rows.append([title, "", ""])
        for label, name in items:
            rows.append(["   " + label, str(report.practice.counts[name]), str(report.network.counts[name])])
    table = Table(rows, colWidths=[90 * mm, 30 * mm, 30 * mm])
    style = [
        ("FONT", (0, 0), (-1, -1), "Helvetica", 8.5),
        ("FONT", (0, 0), (-1, 0), "Helvetica-Bold", 8.5),
        ("ALIGN", (1, 0), (-1, -1), "RIGHT"),
        ("LINEBELOW", (0, 0), (-1, 0), 0.5, colors.HexColor("#c5ced8")),
    ]
    style += [("FONT", (0, r), (0, r), "Helvetica-Bold", 8.5) for r in spans]
    table.setStyle(TableStyle(style))
    return table


def render_visitation_pdf(report: Visitation, language: str = "nl") -> bytes:
    text, words = TEXT[language], report.labels[language]
    styles = getSampleStyleSheet()
    small = ParagraphStyle(
        "small", parent=styles["BodyText"], fontSize=8.5, leading=11, textColor=colors.HexColor("#4a5866")
    )
    fill = {"year": report.year, "agb": report.practice_agb, "n": report.practices_in_network}
    story: list[Any] = [
        Paragraph(text["title"].format(**fill), styles["Title"]),
        Paragraph(text["subtitle"].format(**fill), styles["Heading4"]),
        Paragraph(text["intro"].format(**fill), styles["BodyText"]),
        Paragraph(str(words["terms"]["method"]), small),
        Spacer(1, 4 * mm),
    ]
    if report.practice.counts["episodes"] == 0:
        story.append(Paragraph(text["none"].format(**fill), styles["Heading3"]))
    story += [
        Paragraph(text["adherence"], styles["Heading2"]),
        _figures_table(report, report.adherence, language, styles),
        Paragraph(text["key"].format(**fill), styles["Heading2"]),
        _figures_table(report, [c.key for c in report.indicators if c.key not in report.adherence], language, styles),
        Spacer(1, 2 * mm),
        Paragraph(text["suppressed_note"], small),
    ]
    funnels = [_funnel_drawing(k, report.funnels[k], report, language) for k in FUNNELS]
    story += [
        KeepTogether(
            [
                Paragraph(text["funnels"], styles["Heading2"]),
                Paragraph(text["funnels_intro"], small),
                _pairs(funnels[:2]),
            ]
        ),
        _pairs(funnels[2:]),
    ]
    trends = [_trend_drawing(k, report.trends[k], report, language) for k in TRENDS]
    story += [
        KeepTogether(
            [Paragraph(text["trends"], styles["Heading2"]), Paragraph(text["trends_intro"], small), _pairs(trends)]
        ),
        KeepTogether([Paragraph(text["makeup"], styles["Heading2"]), _makeup_table(report, language)]),
    ]
    buffer = io.BytesIO()
    document = SimpleDocTemplate(
        buffer,
        pagesize=A4,
        leftMargin=16 * mm,
        rightMargin=16 * mm,
        topMargin=14 * mm,
        bottomMargin=14 * mm,
        title=text["title"].format(**fill),
        author="Ruggengraat",
    )
    document.build(story)
    return buffer.getvalue()
