"""A letter as an archival PDF (PDF/A-2b) for the 20-year record (WGBO): ReportLab sets the pages with the
Bitstream Vera fonts ReportLab ships (every font embedded, so no machine's fonts are needed to read it), the
charts beside the tables they illustrate, a running footer with the patient and "pagina x van y"; pikepdf
then adds what PDF/A asks beyond that: XMP metadata with the PDF/A identification, the document's language
and an sRGB output intent (the ICC profile made by Pillow's LittleCMS)."""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any
from xml.sax.saxutils import escape

import reportlab
from reportlab.graphics.charts.legends import Legend
from reportlab.graphics.charts.lineplots import LinePlot
from reportlab.graphics.shapes import STATE_DEFAULTS, Drawing, Group, String
from reportlab.graphics.widgets.markers import makeMarker
from reportlab.lib import colors
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont
from reportlab.pdfgen import canvas
from reportlab.platypus import KeepTogether, Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle

from services.reporting.documents.letters.letterhead import CLOSING, SALUTATION, Letterhead, letterhead
from services.reporting.domain.letters.content import (
    GradedActivityLine,
    LetterContent,
    Measured,
    activity_names,
    personalised,
)
from shared.practice_register import LetterParties

FONT, BOLD = "Vera", "VeraBd"
_FONTS = Path(reportlab.__file__).parent / "fonts"
pdfmetrics.registerFont(TTFont(FONT, str(_FONTS / "Vera.ttf")))
pdfmetrics.registerFont(TTFont(BOLD, str(_FONTS / "VeraBd.ttf")))
pdfmetrics.registerFontFamily(FONT, normal=FONT, bold=BOLD, italic=FONT, boldItalic=BOLD)
# A drawing starts every chart in this font (ReportLab's default, Helvetica, would be the one font not embedded).
STATE_DEFAULTS["fontName"] = FONT

BLUE, RED, GREEN, GREY = (colors.HexColor(c) for c in ("#2f5d8a", "#b5443a", "#3f8a3f", "#666666"))
BODY = ParagraphStyle("body", fontName=FONT, fontSize=9.5, leading=13, spaceAfter=2)
SMALL = ParagraphStyle("small", parent=BODY, fontSize=8.5, leading=11)
TITLE = ParagraphStyle("title", parent=BODY, fontName=BOLD, fontSize=14, leading=18, textColor=BLUE, spaceBefore=8)
HEADING = ParagraphStyle("heading", parent=BODY, fontName=BOLD, fontSize=11, leading=14, textColor=BLUE, spaceBefore=8)
NOTICE = ParagraphStyle("notice", parent=BODY, textColor=colors.HexColor("#8a4b00"))
LANGUAGE = "nl-NL"


def _p(text: str, style: ParagraphStyle = BODY) -> Paragraph:
    return Paragraph(escape(text), style)


def _running_canvas(footer: str) -> type[canvas.Canvas]:
    """A canvas that writes, on every page, the patient line and "pagina x van y" once the page count is known."""

    class RunningCanvas(canvas.Canvas):
        def __init__(self, *args: Any, **kwargs: Any) -> None:
            kwargs["initialFontName"] = FONT  # else every page starts in Helvetica, which is never embedded
            super().__init__(*args, **kwargs)
            self._pages: list[dict[str, Any]] = []

        def showPage(self) -> None:  # noqa: N802 — ReportLab's name
            self._pages.append(dict(self.__dict__))
            self._startPage()

        def save(self) -> None:
            total = len(self._pages)
            for state in self._pages:
                self.__dict__.update(state)
                self.setFont(FONT, 7.5)
                self.setFillColor(GREY)
                self.drawString(20 * mm, 10 * mm, footer)
                self.drawRightString(A4[0] - 20 * mm, 10 * mm, f"pagina {self._pageNumber} van {total}")
                super().showPage()
            super().save()

    return RunningCanvas


def _axis_fonts(plot: LinePlot) -> None:
    for axis in (plot.xValueAxis, plot.yValueAxis):
        axis.labels.fontName, axis.labels.fontSize = FONT, 7


def _titled(plot: LinePlot, drawing: Drawing, x_title: str, y_title: str) -> None:
    drawing.add(String(plot.x + plot.width / 2, plot.y - 22, x_title, fontName=FONT, fontSize=7.5, textAnchor="middle"))
    vertical = Group(String(0, 0, y_title, fontName=FONT, fontSize=7.5, textAnchor="middle"))
    vertical.rotate(90)
    vertical.translate(plot.y + plot.height / 2, -(plot.x - 24))
    drawing.add(vertical)


def _legend(drawing: Drawing, x: float, y: float, pairs: list[tuple[Any, str]]) -> None:
    legend = Legend()
    legend.x, legend.y = x, y
    legend.fontName, legend.fontSize = FONT, 7.5
    legend.alignment = "right"
    legend.columnMaximum = 1
    legend.dx, legend.dy, legend.deltax = 8, 8, 90
    legend.colorNamePairs = pairs
    drawing.add(legend)


def _instrument_plot(
    measurements: list[Measured], pick: str, top: float, colour: Any, x: float, name: str, unit: str
) -> tuple[LinePlot, list[Any]]:
    start = measurements[0].taken_on
    points = [((m.taken_on - start).days, getattr(m, pick)) for m in measurements if getattr(m, pick) is not None]
    plot = LinePlot()
    plot.x, plot.y, plot.width, plot.height = x, 36, 170, 88
    plot.data = [points or [(0, 0)]]
    plot.lines[0].strokeColor, plot.lines[0].strokeWidth = colour, 1.5
    plot.lines[0].symbol = makeMarker("FilledCircle", size=4, fillColor=colour)
    plot.yValueAxis.valueMin, plot.yValueAxis.valueMax = 0, top
    plot.yValueAxis.valueStep = top / 5
    plot.xValueAxis.valueMin = 0
    last = max(p[0] for p in plot.data[0])
    plot.xValueAxis.valueMax = max(last, 7)
    _axis_fonts(plot)
    return plot, [colour, f"{name} ({unit})"]


def measurement_chart(measurements: list[Measured]) -> Drawing:
    """QBPDS and NPRS each on its own scale, side by side: days since the intake against the score."""
    drawing = Drawing(460, 145)
    charts = [
        ("qbpds", 100, BLUE, 45, "QBPDS", "0–100, lager = beter"),
        ("nprs", 10, RED, 285, "NPRS", "0–10, lager = beter"),
    ]
    for pick, top, colour, x, name, unit in charts:
        plot, pair = _instrument_plot(measurements, pick, top, colour, x, name, unit)
        drawing.add(plot)
        _titled(plot, drawing, "dagen sinds de intake", f"{name}-score")
        _legend(drawing, x + 10, 138, [tuple(pair)])
    return drawing


def graded_chart(line: GradedActivityLine, activity: str) -> Drawing:
    drawing = Drawing(460, 180)
    plot = LinePlot()
    plot.x, plot.y, plot.width, plot.height = 45, 42, 400, 105
    planned = [(0, line.baseline_minutes), (line.days_to_goal, line.goal_minutes)]
    done = [((day - line.start_date).days, minutes) for day, minutes in line.logged]
    plot.data = [planned, done or [(0, line.baseline_minutes)]]
    plot.lines[0].strokeColor, plot.lines[0].strokeDashArray = BLUE, (3, 2)
    plot.lines[1].strokeColor = GREEN
    plot.lines[1].symbol = makeMarker("FilledCircle", size=4, fillColor=GREEN)  # a single logged day still shows
    plot.yValueAxis.valueMin = 0
    plot.xValueAxis.valueMin = 0
    _axis_fonts(plot)
    drawing.add(plot)
    _titled(plot, drawing, "dagen sinds de start van het programma", "minuten per keer")
    _legend(
        drawing,
        55,
        170,
        [(BLUE, f"gepland: {activity}"), (GREEN, "gedaan (dagboek van de patiënt)")],
    )
    return drawing


def _table(rows: list[list[str]]) -> Table:
    table = Table([[_p(c, SMALL) for c in row] for row in rows], hAlign="LEFT", repeatRows=1)
    table.setStyle(
        TableStyle(
            [
                ("GRID", (0, 0), (-1, -1), 0.4, colors.grey),
                ("BACKGROUND", (0, 0), (-1, 0), colors.HexColor("#eef2f7")),
                ("FONTNAME", (0, 0), (-1, -1), FONT),
                ("VALIGN", (0, 0), (-1, -1), "TOP"),
            ]
        )
    )
    return table


def _head(head: Letterhead, content: LetterContent, corrects: str | None) -> list[Any]:
    addressee = [_p(line) for line in head.addressee]
    sender = [_p(line, ParagraphStyle("s", parent=SMALL, alignment=2)) for line in head.sender]
    top = Table([[addressee, sender]], colWidths=[85 * mm, 85 * mm], hAlign="LEFT")
    top.setStyle(
        TableStyle(
            [
                ("VALIGN", (0, 0), (-1, -1), "TOP"),
                ("LEFTPADDING", (0, 0), (-1, -1), 0),
                ("FONTNAME", (0, 0), (-1, -1), FONT),
            ]
        )
    )
    story: list[Any] = [top, Spacer(1, 6 * mm), _p(f"Datum: {content.composed_on:%d-%m-%Y}")]
    story.append(Paragraph("Betreft: " + "".join(f"<b>{escape(line)}</b>" for line in head.patient), BODY))
    story += [_p(n, NOTICE) for n in head.notices]
    if corrects:
        story.append(_p(f"Dit verslag vervangt verslag {corrects}.", NOTICE))
    story += [_p(content.title, TITLE), Spacer(1, 2 * mm), _p(SALUTATION)]
    return story


def render_pdf(
    content: LetterContent, personal: dict[str, Any] | None, parties: LetterParties, *, corrects: str | None = None
) -> bytes:
    head = letterhead(parties, personal)
    story = _head(head, content, corrects)
    for section in personalised(content, personal):
        block: list[Any] = [_p(section.heading, HEADING), *(_p(p) for p in section.paragraphs)]
        if section.table:
            block.append(_table(section.table))
        if section.chart == "measurements" and len(content.measurements) > 1:
            block += [Spacer(1, 3 * mm), measurement_chart(content.measurements)]
        # the heading, its text, its table and its chart stay on one page: a chart never sits alone
        story.append(KeepTogether(block))
        if section.chart == "graded":
            named = activity_names(personal)
            story += [KeepTogether([graded_chart(line, named(line.activity))]) for line in content.graded]
    # the closing and the whole signature on one page: never a practice name alone on the last page
    story += [Spacer(1, 5 * mm), KeepTogether([_p(CLOSING), Spacer(1, 7 * mm), *(_p(line) for line in head.signature)])]
    who = head.patient_name or "patiënt (persoonsgegevens gewist)"
    footer = f"{content.title} · {who}" + (f", geboren {head.patient_birth_date}" if head.patient_birth_date else "")
    author = parties.therapist.name if parties.therapist else (head.sender[0] if head.sender else "fysiotherapeut")
    subject = f"Verslag aan de verwijzer, {content.composed_on:%d-%m-%Y}"
    buffer = io.BytesIO()
    SimpleDocTemplate(
        buffer,
        pagesize=A4,
        leftMargin=20 * mm,
        rightMargin=20 * mm,
        topMargin=18 * mm,
        bottomMargin=18 * mm,
        title=content.title,
        author=author,
        subject=subject,
        creator="Ruggengraat",
        lang=LANGUAGE,
    ).build(story, canvasmaker=_running_canvas(footer))
    return archival(buffer.getvalue(), title=content.title, author=author, subject=subject)


def archival(raw: bytes, *, title: str, author: str, subject: str) -> bytes:
    """The PDF as PDF/A-2b: XMP with the PDF/A identification, title, author and language; an sRGB output
    intent; /Lang in the catalog."""
    import pikepdf
    from PIL import ImageCms

    pdf = pikepdf.open(io.BytesIO(raw))
    if "/Trapped" in pdf.docinfo:  # every Info entry must have its XMP twin in PDF/A; this one we do not need
        del pdf.docinfo["/Trapped"]
    with pdf.open_metadata(set_pikepdf_as_editor=False) as meta:
        meta["dc:title"] = title
        meta["dc:description"] = subject
        meta["xmp:CreatorTool"] = "Ruggengraat"
        meta["dc:creator"] = [author]
        meta["dc:language"] = [LANGUAGE]
        meta["pdfaid:part"] = "2"
        meta["pdfaid:conformance"] = "B"
    profile = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()
    icc = pikepdf.Stream(pdf, profile)
    icc["/N"] = 3
    pdf.Root.OutputIntents = pikepdf.Array(
        [
            pikepdf.Dictionary(
                Type=pikepdf.Name.OutputIntent,
                S=pikepdf.Name.GTS_PDFA1,
                OutputConditionIdentifier=pikepdf.String("sRGB IEC61966-2.1"),
                Info=pikepdf.String("sRGB IEC61966-2.1"),
                DestOutputProfile=icc,
            )
        ]
    )
    pdf.Root.Lang = pikepdf.String(LANGUAGE)
    out = io.BytesIO()
    pdf.save(out)
    return out.getvalue()
