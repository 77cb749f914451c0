"""The network's quality report as CSV: one line per practice and month, per practice over the period, and the
network, with headings in Dutch or English; the same figures as the JSON and the page (all from the rounded
table)."""

from __future__ import annotations

import csv
import io

from services.reporting.domain.network.figures import SHOWN_COUNTS, Block, QualityReport
from services.reporting.domain.network.indicators import INDICATORS
from services.reporting.domain.network.words import COURSE, DURATION, INDICATOR, REASON, TERMS


def count_heading(name: str, language: str) -> str:
    kind, _, code = name.partition(":")
    if kind == "duration":
        return DURATION[language][code]
    if kind == "course":
        return COURSE[language][code]
    if kind == "reason":
        return f"{TERMS[language]['escalated']}: {REASON[language][code]}"
    words = {
        "nl": {
            "episodes": "episodes",
            "escalated": "terugverwezen",
            "intake_measured": "gemeten bij intake",
            "treated": "behandeld",
            "evaluations_due": "evaluaties aan de beurt",
            "evaluations_measured": "evaluaties gemeten",
            "on_time": "evaluaties op tijd",
            "overdue": "evaluaties te laat",
            "pending": "evaluaties nog open",
        },
        "en": {
            "episodes": "episodes",
            "escalated": "referred back",
            "intake_measured": "measured at intake",
            "treated": "treated",
            "evaluations_due": "evaluations due",
            "evaluations_measured": "evaluations measured",
            "on_time": "evaluations on time",
            "overdue": "evaluations overdue",
            "pending": "evaluations still open",
        },
    }
    return words[language][name]


def csv_columns(language: str = "nl") -> list[str]:
    head = {"nl": ["niveau", "praktijk (AGB)", "maand"], "en": ["level", "practice (AGB)", "month"]}[language]
    head += [count_heading(c, language) for c in SHOWN_COUNTS]
    for i in INDICATORS:
        label = INDICATOR[language][i.key][0]
        head += [
            f"{label} ({'%' if i.kind == 'share' else language == 'nl' and 'gemiddelde' or 'mean'})",
            f"{label}: {'noemer' if language == 'nl' else 'denominator'}",
        ]
    return head


def _csv_line(level: str, practice: str, month: str, block: Block, language: str) -> list[str]:
    hidden = {"nl": "afgeschermd", "en": "suppressed"}[language]
    values: list[object] = [level, practice, month]
    values += [block.counts[c] for c in SHOWN_COUNTS]
    for i in INDICATORS:
        f = block.figures[i.key]
        values += [hidden if f.suppressed else ("" if f.value is None else f.value), f.denominator]
    return ["" if v is None else str(v) for v in values]


def to_csv(report: QualityReport, language: str = "nl") -> str:
    """One line per practice and month, per practice over the period, and the network: the same figures
    as the JSON and the page (all from the rounded table)."""
    level = {"nl": ("maand", "periode", "netwerk"), "en": ("month", "period", "network")}[language]
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(csv_columns(language))
    for row in report.rows:
        writer.writerow(_csv_line(level[0], row.practice_agb, row.month, row, language))
    span = f"{report.months[0]}..{report.months[-1]}" if report.months else ""
    for total in report.practices:
        writer.writerow(_csv_line(level[1], total.practice_agb, span, total, language))
    writer.writerow(_csv_line(level[2], "", span, report.network, language))
    return buffer.getvalue()
