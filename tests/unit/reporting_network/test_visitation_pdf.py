"""The visitation report as a reader gets it: the PDF's text in Dutch (and English) without raw codes, and its
pages rendered to .run/visitation-pages/ for a person to look at."""

from __future__ import annotations

import random
import re
import subprocess
from datetime import date
from pathlib import Path

from services.reporting.documents.network.visitation_pdf import render_visitation_pdf
from services.reporting.domain.network.counts import published_cells
from services.reporting.domain.network.facts import COURSES, DURATION_CLASSES, ESCALATION_REASONS, EpisodeSummary
from services.reporting.domain.network.visitation import visitation
from services.reporting.domain.outcomes import NPRS_MCIC_POINTS, QBPDS_MCIC_POINTS, change

PAGES = Path(__file__).resolve().parents[3] / ".run" / "visitation-pages"
PRACTICES = ("04000001", "04000002", "04000003", "04000004", "04000005")
RAW_CODES = re.compile(r"\b[a-z]+_[a-z_]+\b")


def network_year(seed: int = 11, size: int = 600) -> list[EpisodeSummary]:
    """A year of a network of five practices of different sizes."""
    rng = random.Random(seed)
    episodes = []
    for _ in range(size):
        due = rng.randint(0, 3)
        on_time = rng.randint(0, due)
        measured = rng.random() < 0.9
        episodes.append(
            EpisodeSummary(
                practice_agb=rng.choices(PRACTICES, [6, 4, 3, 2, 1])[0],
                referral_month=date(2026, rng.randint(1, 12), 1),
                duration_class=rng.choice(DURATION_CLASSES),
                course=rng.choice(COURSES),
                escalation_reasons=tuple(rng.sample(ESCALATION_REASONS, rng.choice([0, 0, 0, 1]))),
                evaluations_due=due,
                evaluations_on_time=on_time,
                evaluations_overdue=rng.randint(0, due - on_time),
                sessions=rng.randint(0, 9),
                measured_at_intake=measured,
                evaluations_measured=rng.randint(0, due),
                days_to_first_session=rng.randint(0, 30),
                qbpds=change(rng.randint(20, 80), rng.randint(0, 80), QBPDS_MCIC_POINTS) if measured else None,
                nprs=change(rng.randint(3, 9), rng.randint(0, 9), NPRS_MCIC_POINTS) if measured else None,
            )
        )
    return episodes


def pdf_text(pdf: bytes, tmp_path: Path) -> str:
    path = tmp_path / "report.pdf"
    path.write_bytes(pdf)
    return subprocess.run(["pdftotext", "-layout", str(path), "-"], check=True, capture_output=True, text=True).stdout


def test_the_visitation_report_reads_in_dutch_or_english_without_a_raw_code(tmp_path):
    cells = published_cells(network_year())
    report = visitation(cells, "04000004", 2026)
    dutch = pdf_text(render_visitation_pdf(report, "nl"), tmp_path)
    for heading in (
        "Visitatierapport 2026",
        "Protocoltrouw",
        "Kerncijfers 2026",
        "Trechterdiagrammen",
        "Verloop per maand van verwijzing",
        "Samenstelling van de episodes",
        "netwerkgemiddelde",
        "99,8 %-grens",
        "afgerond op vijftallen",
        "beloop nog niet te classificeren",
    ):
        assert heading in dutch, heading
    assert "afgeschermd" in dutch  # PSK is never measured here: fewer than 10 cases
    assert not RAW_CODES.findall(dutch), RAW_CODES.findall(dutch)[:5]
    english = pdf_text(render_visitation_pdf(report, "en"), tmp_path)
    assert "Visitation report 2026" in english and "Protocol adherence" in english and "Kerncijfers" not in english
    assert not RAW_CODES.findall(english)


def test_the_visitation_pages_are_rendered_for_a_person_to_look_at():
    """Writes .run/visitation-pages/visitatie-<page>.png (pdftoppm, 80 dpi)."""
    PAGES.mkdir(parents=True, exist_ok=True)
    for old in PAGES.glob("visitatie-*.png"):
        old.unlink()
    pdf = render_visitation_pdf(visitation(published_cells(network_year()), "04000002", 2026))
    (PAGES / "visitatie.pdf").write_bytes(pdf)
    subprocess.run(["pdftoppm", "-r", "80", "-png", str(PAGES / "visitatie.pdf"), str(PAGES / "visitatie")], check=True)
    assert len(list(PAGES.glob("visitatie-*.png"))) >= 3
