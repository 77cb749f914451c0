"""KNGF low-back-pain guideline engine: episode facts in, every decision out, each with its reason and rule.

Pure: standard library and pydantic only; no I/O and no clock reads (the decision date is a fact).

Entry points: ``evaluate(facts, version=CURRENT)`` returns a ``GuidelineAssessment``;
``compare(facts, version_a, version_b)`` lists the ``DecisionDifference``s between two rule versions.
Rule versions live in a ``RuleRegistry``; ``KNGF_LRP_2003`` ("kngf-lrp-2003") is the first.

Terms: identifiers are English. Where users speak a Dutch term it is kept as-is, as enum name and values:
``Beloop.NORMAAL`` / ``Beloop.AFWIJKEND``, ``Verwijzer.HUISARTS`` / ``Verwijzer.MEDISCH_SPECIALIST`` and
``Hulpverlener`` (huisarts, apotheker, dietist, poh_ggz, bedrijfsarts); fields that refer to the referrer
say ``verwijzer``. Every other enum is English with English values.
"""

from .assessment import DecisionDifference, GuidelineAssessment, ReferrerContactDecision
from .decisions import Decision
from .engine import compare, evaluate
from .facts import EpisodeFacts
from .reason_codes import ReasonCode
from .references import Reference
from .versions import CURRENT, DEFAULT_REGISTRY, KNGF_LRP_2003, RuleRegistry, RuleSet, UnknownRuleVersion
from .vocabulary import Beloop, DurationClass, Hulpverlener, Verwijzer

__all__ = [
    "CURRENT",
    "DEFAULT_REGISTRY",
    "KNGF_LRP_2003",
    "Beloop",
    "Decision",
    "DecisionDifference",
    "DurationClass",
    "EpisodeFacts",
    "GuidelineAssessment",
    "Hulpverlener",
    "ReasonCode",
    "Reference",
    "ReferrerContactDecision",
    "RuleRegistry",
    "RuleSet",
    "UnknownRuleVersion",
    "Verwijzer",
    "compare",
    "evaluate",
]
