"""Versioned rule sets and the registry that maps a version id to its rules.

A rule set holds every number and citation a decision depends on. The decision functions read only from
the rule set they are given, so a later revision of the guideline is a second ``RuleSet`` beside the first,
and a recorded episode can be re-run under either.
"""

from collections.abc import Iterable, Mapping
from types import MappingProxyType

from pydantic import BaseModel, ConfigDict, Field, field_validator

from shared import outcome_measures
from shared.outcome_measures import OutcomeMeasures

from .references import KNGF_2003_SECTIONS, Sections
from .vocabulary import Modality, ModalityAdvice

CURRENT = "kngf-lrp-2003"


class RuleSet(BaseModel):
    """All parameters and citations of one version of the rules."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    version: str = Field(min_length=1, description="Version id, part of every decision.")
    title: str = Field(description="What this version implements.")

    # Inleiding, Afbakening: acuut 0-6 weken, subacuut 7-12 weken, chronisch > 12 weken.
    acute_max_days: int = 6 * 7
    subacute_max_days: int = 12 * 7

    # "binnen een jaar meer dan twee rugpijnepisodes ... én de totale duur ... korter dan zes maanden".
    recurrence_min_episodes: int = 3
    recurrence_window_years: int = 1
    # Six months as half a mean Gregorian year, so "korter dan zes maanden" is total days < 182.625.
    recurrence_total_limit_days: float = 365.25 / 2

    # Consensus rule: deviating when no increase "binnen drie weken".
    course_observation_days: int = 21
    # II.III: no effect after three weeks of treatment -> contact the verwijzer.
    no_effect_escalation_days: int = 21
    # Not in the source: evaluations are scheduled at the same three-week rhythm as the escalation rule.
    evaluation_interval_days: int = 21
    # II.II: "Indien bedrust noodzakelijk is ... maximaal twee dagen".
    bed_rest_max_days: int = 2
    # II.I: one session; "met uitzondering van een eventuele controleafspraak".
    normal_course_max_sessions: int = 2

    # How the instruments are scored (QBPDS proration, minimal important change): shared with reporting,
    # which scores the same measurements, so both read one versioned source (`shared.outcome_measures`).
    outcome_measures: OutcomeMeasures = Field(description="The outcome measures' scoring this version applies.")

    # Hill et al. 2008.
    start_back_low_max_total: int = 3
    start_back_high_min_psychosocial: int = 4

    # Engine convention (the source only says "lower" and "smaller"): with fear of movement the start
    # level is this fraction of the baseline, each daily step this fraction of the ordinary step, and
    # each more threatening activity starts this many days after the previous one ("later").
    fearful_start_fraction: float = Field(default=0.8, gt=0, lt=1)
    fearful_step_fraction: float = Field(default=0.5, gt=0, lt=1)
    fearful_stagger_days: int = Field(default=7, ge=0)

    modality_advice: Mapping[Modality, ModalityAdvice]
    sections: Sections

    # By identity, so that decisions under it can be memoised (`memo`): its read-only mapping does not hash.
    def __hash__(self) -> int:
        return id(self)

    # The model is frozen, but a plain dict inside it would still let a caller rewrite the shipped rules.
    @field_validator("modality_advice")
    @classmethod
    def _read_only(cls, advice: Mapping[Modality, ModalityAdvice]) -> Mapping[Modality, ModalityAdvice]:
        missing = [m.value for m in Modality if m not in advice]
        if missing:
            raise ValueError(f"modality_advice lacks {', '.join(missing)}")
        return MappingProxyType(dict(advice))


KNGF_LRP_2003 = RuleSet(
    version=CURRENT,
    title="KNGF-richtlijn Lage-rugpijn (2003), first version of the rules",
    outcome_measures=outcome_measures.VERSIONS[CURRENT],
    modality_advice={
        Modality.INFORMATION_ADVICE: ModalityAdvice.RECOMMENDED,
        Modality.PRACTISING_FUNCTIONS_ACTIVITIES: ModalityAdvice.RECOMMENDED,
        Modality.GRADED_ACTIVITY: ModalityAdvice.RECOMMENDED,
        Modality.EXERCISE_THERAPY: ModalityAdvice.CHRONIC_ONLY,
        Modality.EXERCISE_IN_WATER: ModalityAdvice.CHRONIC_ONLY,
        Modality.TRACTION: ModalityAdvice.NOT_ADVISED,
        Modality.BIOFEEDBACK: ModalityAdvice.NOT_ADVISED,
        Modality.MASSAGE: ModalityAdvice.EFFECT_UNKNOWN,
        Modality.ELECTROTHERAPY: ModalityAdvice.EFFECT_UNKNOWN,
        Modality.TENS: ModalityAdvice.EFFECT_UNKNOWN,
        Modality.ULTRASOUND: ModalityAdvice.EFFECT_UNKNOWN,
        Modality.LASER: ModalityAdvice.EFFECT_UNKNOWN,
        Modality.MANUAL_THERAPY: ModalityAdvice.NOT_COVERED,
    },
    sections=KNGF_2003_SECTIONS,
)


class UnknownRuleVersion(LookupError):
    """Asked for a rule version the registry does not hold."""

    def __init__(self, version: str, known: Iterable[str]) -> None:
        self.version = version
        self.known = tuple(known)
        super().__init__(f"unknown rule version {version!r}; known versions: {', '.join(self.known)}")


class RuleRegistry:
    """Immutable map of version id -> rule set; adding a version gives a new registry."""

    def __init__(self, rule_sets: Iterable[RuleSet]) -> None:
        by_version: dict[str, RuleSet] = {}
        for rule_set in rule_sets:
            if rule_set.version in by_version:
                raise ValueError(f"rule version {rule_set.version!r} registered twice")
            by_version[rule_set.version] = rule_set
        self._by_version: Mapping[str, RuleSet] = MappingProxyType(by_version)

    def get(self, version: str) -> RuleSet:
        try:
            return self._by_version[version]
        except KeyError:
            raise UnknownRuleVersion(version, self._by_version) from None

    def versions(self) -> tuple[str, ...]:
        return tuple(self._by_version)

    def with_rule_set(self, rule_set: RuleSet) -> "RuleRegistry":
        return RuleRegistry([*self._by_version.values(), rule_set])


DEFAULT_REGISTRY = RuleRegistry([KNGF_LRP_2003])
