"""The immutable base shapes shared by all facts and decisions: frozen models and the Decision value."""

from pydantic import BaseModel, ConfigDict, Field

from .reason_codes import ReasonCode
from .references import Reference


class FrozenModel(BaseModel):
    """Base for every model of the engine: immutable, and unknown keys are an error, never ignored."""

    model_config = ConfigDict(frozen=True, extra="forbid")


class Decision(FrozenModel):
    """One decision of the engine: what was decided, why (machine and human), and on which rule."""

    code: ReasonCode = Field(description="Machine-readable reason code.", examples=["duration.acute"])
    reason_nl: str = Field(description="Reason in Dutch, for the physiotherapist.")
    reason_en: str = Field(description="Reason in English.")
    reference: Reference = Field(description="The guideline section (or other source) the rule rests on.")
    rule_version: str = Field(description="Rule version that made the decision.", examples=["kngf-lrp-2003"])
