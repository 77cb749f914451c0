"""Rendering a composed letter as HTML (Jinja2). The PDF is in `pdf.py`, the FHIR document in `fhir_document.py`,
the Edifact MEDVRI message in `medvri.py`.

`personal` is what intake returns for the episode when the letter is shown (the patient's name, date of
birth, BSN, hulpvraag and goals) or None once erased; it is merged in here and never stored by reporting.
"""

from __future__ import annotations

from typing import Any

from jinja2 import Environment, PackageLoader, select_autoescape

from services.reporting.documents.letters.letterhead import CLOSING, SALUTATION, letterhead
from services.reporting.domain.letters.content import LetterContent, personalised
from shared.practice_register import LetterParties

_templates = Environment(
    loader=PackageLoader("services.reporting.documents.letters", "templates"),
    autoescape=select_autoescape(["html", "j2"]),
)


def render_html(
    content: LetterContent, personal: dict[str, Any] | None, parties: LetterParties, *, corrects: str | None
) -> str:
    return _templates.get_template("letter.html.j2").render(
        content=content,
        sections=personalised(content, personal),
        personal=personal,
        head=letterhead(parties, personal),
        salutation=SALUTATION,
        closing=CLOSING,
        composed_on=content.composed_on.strftime("%d-%m-%Y"),
        corrects=corrects,
    )
