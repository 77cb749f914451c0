"""Who writes to whom about whom: the sender, the addressee, the patient line, the salutation and the signature
of a letter, as lines of Dutch text every rendering (HTML, PDF, MEDVRI) sets the same way. Pure: no I/O.

`personal` is what intake returns for the episode when the letter is shown, or None when the patient's data
was erased; `parties` is the register's entry for the practice, the responsible physiotherapist and the
verwijzer. A party the register does not hold is named by its AGB code and said to be missing."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from services.reporting.domain.letters.wording import iso_to_d
from shared.practice_register import LetterParties

SALUTATION = "Geachte collega,"
CLOSING = "Met collegiale groet,"
ERASED = "persoonsgegevens gewist op verzoek van de patiënt (AVG art. 17); dit verslag noemt de patiënt daarom niet."


@dataclass(frozen=True)
class Letterhead:
    sender: list[str]
    addressee: list[str]
    patient: list[str]
    signature: list[str]
    notices: list[str] = field(default_factory=list)
    patient_name: str | None = None
    patient_birth_date: str | None = None  # dd-mm-yyyy
    patient_bsn: str | None = None


def letterhead(parties: LetterParties, personal: dict[str, Any] | None) -> Letterhead:
    notices = []
    if parties.practice is not None:
        p = parties.practice
        sender = [p.name, *p.address.lines(), f"Telefoon {p.phone}"]
        if p.email:
            sender.append(p.email)
        sender.append(f"AGB praktijk {parties.practice_agb}")
    else:
        sender = [f"Fysiotherapiepraktijk, AGB {parties.practice_agb}"]
        notices.append(
            f"De praktijk met AGB-code {parties.practice_agb} staat niet in het praktijkregister: naam, adres en "
            "contactgegevens van de afzender ontbreken."
        )
    if parties.therapist is not None:
        t = parties.therapist
        signature = [t.name, "fysiotherapeut", f"BIG {t.big} · AGB {t.agb}"]
    elif parties.therapist_agb:
        signature = [f"Fysiotherapeut met AGB {parties.therapist_agb}"]
        notices.append(f"De fysiotherapeut met AGB-code {parties.therapist_agb} staat niet in het praktijkregister.")
    else:
        signature = ["De behandelend fysiotherapeut"]
        notices.append("Voor deze episode is geen behandelend fysiotherapeut vastgelegd.")
    if parties.practice is not None:
        signature.append(parties.practice.name)
    if parties.referrer is not None:
        r = parties.referrer
        addressee = [r.name, r.practice_name, *r.address.lines(), f"AGB {parties.referrer_agb}"]
    elif parties.referrer_agb:
        addressee = [f"Verwijzer met AGB {parties.referrer_agb}"]
        notices.append(
            f"De verwijzer met AGB-code {parties.referrer_agb} staat niet in het register: naam en adres ontbreken."
        )
    else:
        addressee = ["Huisarts van de patiënt (directe toegang, geen verwijzer)"]
    if personal is None:
        return Letterhead(sender, addressee, [ERASED], signature, notices)
    patient = personal.get("patient", {})
    name, born, bsn = patient.get("name"), iso_to_d(patient.get("birth_date")), patient.get("bsn")
    line = f"{name}, geboren {born}" + (f", BSN {bsn}" if bsn else "")
    return Letterhead(sender, addressee, [line], signature, notices, name, born, bsn)
