"""Rendering a composed letter: HTML (Jinja2), PDF with charts (ReportLab) and a FHIR R4 Composition.

`personal` is what intake returns for the episode when the letter is shown (the patient's name, date of
birth and goals) or None once erased; it is merged in here and never stored by reporting.
"""

from __future__ import annotations

import io
from datetime import datetime
from typing import Any

from jinja2 import Environment, PackageLoader, select_autoescape

from services.reporting.letters.content import LetterContent

_templates = Environment(
    loader=PackageLoader("services.reporting.letters", "templates"), autoescape=select_autoescape(["html", "j2"])
)

LOINC = {
    "start": ("11488-4", "Consult note"),
    "interim": ("11506-3", "Progress note"),
    "final": ("18842-5", "Discharge summary"),
}


def render_html(
    content: LetterContent,
    personal: dict[str, Any] | None,
    *,
    practice_agb: str | None,
    referrer_agb: str | None,
    corrects: str | None,
) -> str:
    return _templates.get_template("letter.html.j2").render(
        content=content,
        personal=personal,
        composed_on=content.composed_on.strftime("%d-%m-%Y"),
        practice_agb=practice_agb,
        referrer_agb=referrer_agb,
        corrects=corrects,
    )


def render_pdf(content: LetterContent, personal: dict[str, Any] | None) -> bytes:
    from reportlab.graphics.charts.legends import Legend
    from reportlab.graphics.charts.lineplots import LinePlot
    from reportlab.graphics.shapes import Drawing, String
    from reportlab.graphics.widgets.markers import makeMarker
    from reportlab.lib import colors
    from reportlab.lib.pagesizes import A4
    from reportlab.lib.styles import getSampleStyleSheet
    from reportlab.platypus import PageBreak, Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle

    styles = getSampleStyleSheet()
    story: list[Any] = [Paragraph(content.title, styles["Title"])]
    who = (
        f"Betreft: {personal['patient']['name']}, geboren {personal['patient']['birth_date']}"
        if personal
        else "Betreft: persoonsgegevens gewist op verzoek van de patiënt."
    )
    story += [Paragraph(who, styles["Normal"]), Paragraph(f"Datum: {content.composed_on:%d-%m-%Y}", styles["Normal"])]
    for section in content.sections:
        story.append(Paragraph(section.heading, styles["Heading2"]))
        paragraphs = (
            [personal["goals"]]
            if section.heading == "Individuele doelen" and personal and personal.get("goals")
            else section.paragraphs
        )
        story += [Paragraph(p, styles["Normal"]) for p in paragraphs]
        if section.table:
            table = Table(section.table)
            table.setStyle(TableStyle([("GRID", (0, 0), (-1, -1), 0.5, colors.grey)]))
            story.append(table)
    if content.kind == "final" and (len(content.measurements) > 1 or content.graded):
        story.append(PageBreak())
        story.append(Paragraph("Verloop in grafieken", styles["Heading2"]))
        if len(content.measurements) > 1:
            start = content.measurements[0].taken_on
            drawing = Drawing(460, 200)
            plot = LinePlot()
            plot.x, plot.y, plot.width, plot.height = 40, 40, 380, 140
            series = [
                [((m.taken_on - start).days, m.qbpds) for m in content.measurements if m.qbpds is not None],
                [((m.taken_on - start).days, m.nprs * 10) for m in content.measurements if m.nprs is not None],
            ]
            plot.data = [s for s in series if s] or [[(0, 0)]]
            plot.lines[0].strokeColor = colors.HexColor("#2f5d8a")
            plot.lines[1].strokeColor = colors.HexColor("#c0504d")
            plot.lines[0].symbol = makeMarker("FilledCircle")
            plot.lines[1].symbol = makeMarker("FilledSquare")
            plot.yValueAxis.valueMin, plot.yValueAxis.valueMax = 0, 100
            drawing.add(plot)
            drawing.add(String(40, 185, "QBPDS (blauw) en NPRS × 10 (rood), per dag sinds de intake", fontSize=9))
            story += [drawing, Spacer(1, 12)]
        for line in content.graded:
            drawing = Drawing(460, 200)
            plot = LinePlot()
            plot.x, plot.y, plot.width, plot.height = 40, 40, 380, 140
            planned = [(0, line.baseline_minutes), (line.days_to_goal, line.goal_minutes)]
            done = [((day - line.start_date).days, minutes) for day, minutes in line.logged] or [(0, 0)]
            plot.data = [planned, done]
            plot.lines[0].strokeColor = colors.HexColor("#2f5d8a")
            plot.lines[1].strokeColor = colors.HexColor("#4f9a4f")
            plot.lines[1].symbol = makeMarker("FilledCircle")  # a single logged day still shows
            drawing.add(plot)
            legend = Legend()
            legend.x, legend.y = 330, 190
            legend.colorNamePairs = [(colors.HexColor("#2f5d8a"), "gepland"), (colors.HexColor("#4f9a4f"), "gedaan")]
            drawing.add(legend)
            drawing.add(String(40, 185, f"Graded activity: {line.activity} (minuten per keer)", fontSize=9))
            story += [drawing, Spacer(1, 12)]
    buffer = io.BytesIO()
    SimpleDocTemplate(buffer, pagesize=A4, title=content.title).build(story)
    return buffer.getvalue()


def render_fhir(
    content: LetterContent,
    *,
    letter_id: str,
    episode_id: str,
    practice_agb: str | None,
    referrer_agb: str | None,
    composed_at: datetime,
    corrects: str | None,
) -> dict[str, Any]:
    """The letter as a FHIR R4 Composition, validated with `fhir.resources` (R4B models)."""
    from fhir.resources.R4B.composition import Composition
    from markupsafe import escape

    code, display = LOINC[content.kind]
    sections = []
    for section in content.sections:
        paragraphs = "".join(f"<p>{escape(p)}</p>" for p in section.paragraphs)
        if section.table:
            rows = "".join("<tr>" + "".join(f"<td>{escape(c)}</td>" for c in row) + "</tr>" for row in section.table)
            paragraphs += f"<table>{rows}</table>"
        sections.append(
            {
                "title": section.heading,
                "text": {
                    "status": "generated",
                    "div": f'<div xmlns="http://www.w3.org/1999/xhtml">{paragraphs or "<p>-</p>"}</div>',
                },
            }
        )
    document: dict[str, Any] = {
        "resourceType": "Composition",
        "id": letter_id,
        "status": "final",
        "type": {"coding": [{"system": "http://loinc.org", "code": code, "display": display}]},
        "subject": {"identifier": {"system": "urn:ruggengraat:episode", "value": episode_id}},
        "date": composed_at.isoformat(),
        "author": [{"identifier": {"system": "http://fhir.nl/fhir/NamingSystem/agb-z", "value": practice_agb or "0"}}],
        "title": content.title,
        "section": sections,
    }
    if referrer_agb:
        document["extension"] = [{"url": "urn:ruggengraat:fhir:recipient-agb", "valueString": referrer_agb}]
    if corrects:
        document["relatesTo"] = [{"code": "replaces", "targetReference": {"reference": f"Composition/{corrects}"}}]
    return Composition.model_validate(document).model_dump(mode="json", exclude_none=True)
