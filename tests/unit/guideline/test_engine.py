"""The entry point as a whole: the worked examples, citations to real sections, and JSON round trips."""

from services.pathway.domain.guideline import EpisodeFacts, GuidelineAssessment, ReasonCode, evaluate
from services.pathway.domain.guideline.facts import EXAMPLE_ACUTE_NORMAL, EXAMPLE_CHRONIC_DEVIATING
from services.pathway.domain.guideline.references import KNGF_LRP_2003_DOCUMENT

from .builders import all_decisions

# Section numbers as they appear in seed 004 (the KNGF 2003 text).
KNGF_SECTIONS = {"Inleiding", "I.I", "I.II", "I.III", "I.IV", "I.V", "II.I", "II.II", "II.III", "II.IV", "D"}


def test_chronic_deviating_example_escalates_and_proposes_disciplines() -> None:
    assessment = evaluate(EpisodeFacts.model_validate(EXAMPLE_CHRONIC_DEVIATING))
    assert assessment.referrer_contact.reasons == (
        ReasonCode.HINDERING_FACTORS_NOT_ONLY_PHYSIOTHERAPY,
        ReasonCode.EVALUATION_NO_EFFECT_ESCALATE,
    )
    assert [p.hulpverlener.value for p in assessment.consults] == ["apotheker", "poh_ggz", "bedrijfsarts"]
    assert assessment.graded_activity is not None
    assert assessment.graded_activity.progress[0].status.value == "as_agreed"


def test_every_guideline_citation_points_at_a_real_section_of_the_2003_text() -> None:
    for example in (EXAMPLE_ACUTE_NORMAL, EXAMPLE_CHRONIC_DEVIATING):
        for decision in all_decisions(evaluate(EpisodeFacts.model_validate(example))):
            assert decision.reason_nl and decision.reason_en
            if decision.reference.document == KNGF_LRP_2003_DOCUMENT:
                assert decision.reference.section in KNGF_SECTIONS


def test_assessment_survives_a_json_round_trip() -> None:
    assessment = evaluate(EpisodeFacts.model_validate(EXAMPLE_CHRONIC_DEVIATING))
    assert GuidelineAssessment.model_validate_json(assessment.model_dump_json()) == assessment


def test_facts_schema_carries_descriptions_and_examples() -> None:
    schema = EpisodeFacts.model_json_schema()
    assert schema["examples"] == [EXAMPLE_ACUTE_NORMAL, EXAMPLE_CHRONIC_DEVIATING]
    assert "never reads a clock" in schema["properties"]["decision_date"]["description"]
