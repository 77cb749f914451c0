"""A letter as an Edifact MEDVRI interchange: the free-text message Dutch GP systems receive physiotherapy letters
in (through ZorgMail). Pure: no I/O.

The segment layout follows the public MEDVRI writer in mmerlijn/msg-edifact (MIT; `src/Edifact.php`, its
default MEDVRI segments, and `src/segments/*.php`), which follows Nictiz's "Specificatie berichten
3i-project": UNA, UNB (syntax UNOA:1, sender and receiver AGB, date yymmdd:HHMM, reference), UNH (reference,
MEDVRI:1), GGA (sender: short name, department, name, street:number::city:postcode, phone), DET:1 (date and
time of the letter), PID (birth date YYYY:MM:DD, sex, name, BSN prefixed "BSN"), PAD (patient address), TXT:n
(the letter, at most 70 characters a line, numbered), GGO (addressee, as GGA), UNT (segments from UNH to UNT,
reference), UNZ (1 message, reference). The code is our own.

Where we have less than the layout asks, we say so instead of guessing: intake does not pass the patient's
sex or address to reporting, so PID carries "O" (onbekend) and PAD is empty; the name is not split into
family name, prefix and initials, so PID's name component is the name as registered. UNOA is the character
set ZorgMail asks for; letters outside ASCII are written without their accents (é → e)."""

from __future__ import annotations

import textwrap
import unicodedata
import warnings
from datetime import datetime
from typing import Any

from services.reporting.documents.letters.letterhead import CLOSING, SALUTATION, letterhead
from services.reporting.domain.letters.content import LetterContent, personalised
from shared.practice_register import Address, LetterParties

LINE = 70
UNA = "UNA:+.? '"
_ASCII = str.maketrans({"–": "-", "—": "-", "…": "...", "·": "-", "×": "x", "’": "'", "‘": "'", "“": '"', "”": '"'})


def ascii_text(text: str) -> str:
    """Text in the UNOA repertoire as GP systems read it: accents dropped, dashes and quotes plain."""
    decomposed = unicodedata.normalize("NFKD", text.translate(_ASCII))
    return "".join(c for c in decomposed if not unicodedata.combining(c) and 32 <= ord(c) < 127)


def escaped(value: str) -> str:
    """A data value with Edifact's release character before every separator."""
    out = ascii_text(value)
    for special in "?+:'":
        out = out.replace(special, "?" + special)
    return out


def segment(tag: str, *elements: str | list[str]) -> str:
    parts = [tag]
    for element in elements:
        parts.append(":".join(escaped(c) for c in element) if isinstance(element, list) else escaped(element))
    return "+".join(parts) + "'"


def _address(address: Address | None) -> list[str]:
    if address is None:
        return ["", "", "", "", ""]
    return [address.street, address.house_number, "", address.city, address.postcode.replace(" ", "")]


def text_lines(content: LetterContent, personal: dict[str, Any] | None, parties: LetterParties) -> list[str]:
    """The letter as lines of at most 70 characters (before escaping), as the GP's system shows TXT."""
    head = letterhead(parties, personal)
    paragraphs: list[str] = [content.title.upper(), f"Datum: {content.composed_on:%d-%m-%Y}", *head.notices, SALUTATION]
    for section in personalised(content, personal):
        paragraphs += [section.heading.upper(), *section.paragraphs]  # capitals set a heading apart
        for row in section.table or []:
            paragraphs.append(" | ".join(row))
    paragraphs += [CLOSING, *head.signature]
    lines: list[str] = []
    for paragraph in paragraphs:
        lines += textwrap.wrap(ascii_text(paragraph), LINE, break_long_words=True)
    return lines


def render_medvri(
    content: LetterContent,
    personal: dict[str, Any] | None,
    parties: LetterParties,
    *,
    letter_id: str,
    composed_at: datetime,
) -> str:
    reference = letter_id.replace("-", "")[:14].upper()
    sender_name = parties.practice.name if parties.practice else f"Fysiotherapie AGB {parties.practice_agb}"
    body = [
        segment("UNH", reference, ["MEDVRI", "1"]),
        segment(
            "GGA",
            sender_name[:35],
            parties.therapist.name if parties.therapist else "",
            sender_name,
            _address(parties.practice.address if parties.practice else None),
            parties.practice.phone if parties.practice else "",
        ),
        segment(
            "DET:1",
            [f"{composed_at:%y}", f"{composed_at:%m}", f"{composed_at:%d}"],
            [f"{composed_at:%H}", f"{composed_at:%M}"],
        ),
    ]
    patient = (personal or {}).get("patient") or {}
    born = patient.get("birth_date") or ""
    body.append(
        segment(
            "PID",
            born.split("-") if born else ["", "", ""],
            "O" if personal else "",
            [patient.get("name") or "gegevens gewist", "", "", "", "", ""],
            "",
            f"BSN{patient['bsn']}" if patient.get("bsn") else "",
        )
    )
    body.append(segment("PAD", ["", "", "", "", ""], ""))
    body += [segment(f"TXT:{n}", line) for n, line in enumerate(text_lines(content, personal, parties), start=1)]
    referrer = parties.referrer
    body.append(
        segment(
            "GGO",
            referrer.name if referrer else f"Verwijzer AGB {parties.referrer_agb or 'onbekend'}",
            referrer.practice_name if referrer else "",
            "",
            _address(referrer.address if referrer else None),
            (referrer.phone or "") if referrer else "",
        )
    )
    body.append(segment("UNT", str(len(body) + 1), reference))
    head = segment(
        "UNB",
        ["UNOA", "1"],
        parties.practice_agb,
        parties.referrer_agb or "",
        [f"{composed_at:%y%m%d}", f"{composed_at:%H%M}"],
        reference,
    )
    return "\r\n".join([UNA, head, *body, segment("UNZ", "1", reference)]) + "\r\n"


def parse_medvri(text: str) -> Any:
    """The interchange parsed back with pydifact. pydifact takes a segment tag with a counter (`TXT:1`,
    `DET:1`) for a composite and refuses it ("Invalid segment name"); this parser keeps the tag, and the
    counter as the segment's `counter`, before pydifact builds the segment."""
    from pydifact.exceptions import MissingImplementationWarning
    from pydifact.parser import Parser
    from pydifact.segmentcollection import Interchange

    class CountedTagParser(Parser):
        def convert_raw_segment_to_segment(self, raw_segment: list[Any], *args: Any, **kwargs: Any) -> Any:
            name = raw_segment[0]
            if not isinstance(name, list):
                return super().convert_raw_segment_to_segment(raw_segment, *args, **kwargs)
            tag, *counter = name
            built = super().convert_raw_segment_to_segment([tag, *raw_segment[1:]], *args, **kwargs)
            built.counter = counter  # type: ignore[attr-defined]  # pydifact's Segment has no field for it
            return built

    with warnings.catch_warnings():  # pydifact has no segment directory for MEDVRI's Dutch segments
        warnings.simplefilter("ignore", MissingImplementationWarning)
        return Interchange.from_str(text.replace("\r\n", ""), parser=CountedTagParser())
