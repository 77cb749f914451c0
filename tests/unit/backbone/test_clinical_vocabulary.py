"""The clinical values intake's events carry are exactly the guideline engine's vocabulary."""

from __future__ import annotations

import typing

import pytest

from services.pathway.domain.guideline import vocabulary
from shared.events import clinical


@pytest.mark.parametrize(
    ("contract", "engine"),
    [
        (clinical.Trend, vocabulary.Trend),
        (clinical.AnalgesicUse, vocabulary.AnalgesicUse),
        (clinical.GeneralIllnessSign, vocabulary.GeneralIllnessSign),
        (clinical.FactorKind, vocabulary.FactorKind),
        (clinical.PhysiotherapyInfluence, vocabulary.PhysiotherapyInfluence),
        (clinical.Coping, vocabulary.Coping),
        (clinical.Modality, vocabulary.Modality),
        (clinical.PskScale, vocabulary.PskScale),
        (clinical.Bothersomeness, vocabulary.Bothersomeness),
        (clinical.ClosingReason, vocabulary.ClosingReason),
    ],
    ids=lambda v: getattr(v, "__name__", None),
)
def test_event_values_equal_the_engine_vocabulary(contract, engine):
    assert set(typing.get_args(contract)) == {member.value for member in engine}


def test_event_fields_cover_the_engine_facts_they_feed():
    from services.pathway.domain.guideline import facts

    for event_model, fact_model in [
        (clinical.CourseObservations, facts.CourseObservations),
        (clinical.CareContext, facts.CareContext),
        (clinical.ScopeFindings, facts.ScopeFindings),
        (clinical.NeurologicalExam, facts.NeurologicalExam),
        (clinical.Measurement, facts.Measurement),
        (clinical.LoggedDay, facts.LoggedDay),
        (clinical.GradedActivity, facts.GradedActivity),
    ]:
        assert set(event_model.model_fields) == set(fact_model.model_fields), event_model.__name__
