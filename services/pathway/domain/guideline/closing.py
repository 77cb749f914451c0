"""The closing rule: why treatment ends, and what the final report to the referrer and GP must contain."""

from datetime import date

from pydantic import Field

from .course import CourseDecision
from .decisions import Decision
from .facts import EpisodeFacts
from .reason_codes import ReasonCode
from .versions import RuleSet
from .vocabulary import Beloop, ClosingReason, ReportConsent, ReportContent, Verwijzer

_CLOSING_TEXT = {
    ClosingReason.GOALS_MET: (
        ReasonCode.CLOSED_GOALS_MET,
        "Behandeling afgesloten: de behandeldoelen zijn bereikt.",
        "Treatment closed: the treatment goals are met.",
    ),
    ClosingReason.PATIENT_STOPS: (
        ReasonCode.CLOSED_PATIENT_STOPS,
        "Behandeling afgesloten: de patiënt stopt.",
        "Treatment closed: the patient stops.",
    ),
    ClosingReason.ESCALATED_TO_VERWIJZER: (
        ReasonCode.CLOSED_ESCALATED,
        "Behandeling afgesloten na overleg met de verwijzer.",
        "Treatment closed after contacting the referrer.",
    ),
}


class FinalReport(Decision):
    """Whether a final report goes out, to whom, and what it must contain."""

    send: bool = Field(description="false when the patient objected; the objection is recorded instead.")
    recipients: tuple[Verwijzer, ...] = Field(description="Who receives the report.")
    contents: tuple[ReportContent, ...] = Field(description="What the report must contain (at least).")
    objection_recorded: bool = Field(description="The patient's objection must be recorded in the file.")


class ClosingDecision(Decision):
    """The closing of the treatment."""

    reason: ClosingReason = Field(description="Why treatment ended.")
    closed_on: date = Field(description="Last day of treatment.")
    report: FinalReport = Field(description="The final report.")


def decide_closing(facts: EpisodeFacts, course: CourseDecision, rules: RuleSet) -> ClosingDecision | None:
    closing = facts.closing
    if closing is None:
        return None
    code, nl, en = _CLOSING_TEXT[closing.reason]
    contents = [
        ReportContent.INDIVIDUAL_GOALS,
        ReportContent.TREATMENT_PROCESS,
        ReportContent.TREATMENT_RESULTS,
        ReportContent.CLOSING_REASON,
    ]
    if course.beloop is Beloop.NORMAAL:
        # II.I: with a normal course the referrer hears the findings of the diagnostic process and the advice.
        contents += [ReportContent.DIAGNOSTIC_FINDINGS, ReportContent.ADVICE_GIVEN]
    if closing.reason is ClosingReason.ESCALATED_TO_VERWIJZER:
        contents.append(ReportContent.ESCALATION_REASON)
    verwijzer = facts.referral.verwijzer
    # II.IV: the referrer is informed, and the final report goes to the GP; a specialist referral means two.
    recipients = (verwijzer,) if verwijzer is Verwijzer.HUISARTS else (verwijzer, Verwijzer.HUISARTS)
    if closing.gp_report_consent is ReportConsent.OBJECTED:
        report = FinalReport(
            code=ReasonCode.REPORT_WITHHELD_PATIENT_OBJECTED,
            reason_nl=(
                "De patiënt maakt bezwaar tegen het verslag: er wordt geen verslag verstuurd; leg het bezwaar vast."
            ),
            reason_en="The patient objects to the report: no report is sent; record the objection.",
            reference=rules.sections.gp_report_consent_leaflet,
            rule_version=rules.version,
            send=False,
            recipients=(),
            contents=tuple(contents),
            objection_recorded=True,
        )
    else:
        names = ", ".join(item.value for item in contents)
        report = FinalReport(
            code=ReasonCode.REPORT_TO_BE_SENT,
            reason_nl=(
                f"Eindverslag met toestemming van de patiënt aan {', '.join(r.value for r in recipients)}, "
                f"conform de KNGF-richtlijn Informatieverstrekking huisarts; inhoud onder andere: {names}."
            ),
            reason_en=(
                f"Final report, with the patient's consent, to {', '.join(r.value for r in recipients)}, "
                f"following the KNGF guideline on informing the GP; contents include: {names}."
            ),
            reference=rules.sections.closing,
            rule_version=rules.version,
            send=True,
            recipients=recipients,
            contents=tuple(contents),
            objection_recorded=False,
        )
    return ClosingDecision(
        code=code,
        reason_nl=nl,
        reason_en=en,
        reference=rules.sections.closing,
        rule_version=rules.version,
        reason=closing.reason,
        closed_on=closing.closed_on,
        report=report,
    )
