"""The register of practices, their physiotherapists and the verwijzers, as intake keeps it and serves it:
who writes a letter and to whom. Intake validates what it stores with these models; reporting reads the
parties of a letter with them. Names and addresses of care providers, not of patients."""

from __future__ import annotations

from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, field_validator

Agb = Annotated[str, Field(pattern=r"^\d{8}$", description="AGB code: 8 digits")]
Big = Annotated[str, Field(pattern=r"^\d{11}$", description="BIG registration number: 11 digits")]
Text = Annotated[str, Field(min_length=1, max_length=100)]
Phone = Annotated[str, Field(pattern=r"^\+?[0-9][0-9 -]{7,18}$", description="e.g. 020-1234567")]
Email = Annotated[str, Field(pattern=r"^[^@\s]+@[^@\s]+\.[a-z]{2,}$", max_length=100)]


class Address(BaseModel):
    model_config = ConfigDict(extra="forbid")

    street: Text
    house_number: Annotated[str, Field(min_length=1, max_length=10)]
    postcode: Annotated[str, Field(pattern=r"^[1-9][0-9]{3} ?[A-Z]{2}$", description="Dutch postcode, 1234 AB")]
    city: Text

    def lines(self) -> list[str]:
        postcode = self.postcode if " " in self.postcode else f"{self.postcode[:4]} {self.postcode[4:]}"
        return [f"{self.street} {self.house_number}", f"{postcode} {self.city}"]


class Physiotherapist(BaseModel):
    model_config = ConfigDict(extra="forbid")

    agb: Agb
    big: Big
    name: Text


class PracticeEntry(BaseModel):
    """A physiotherapy practice as letters name it."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "name": "Fysiotherapie De Linde",
                    "address": {"street": "Lindelaan", "house_number": "12", "postcode": "3511 AB", "city": "Utrecht"},
                    "phone": "030-1234567",
                    "email": "info@delinde.example.nl",
                    "physiotherapists": [{"agb": "04999001", "big": "19012345601", "name": "M. de Boer"}],
                }
            ]
        },
    )

    name: Text
    address: Address
    phone: Phone
    email: Email | None = None
    physiotherapists: list[Physiotherapist] = Field(default_factory=list, max_length=200)

    @field_validator("physiotherapists")
    @classmethod
    def _one_entry_per_therapist(cls, therapists: list[Physiotherapist]) -> list[Physiotherapist]:
        agbs = [t.agb for t in therapists]
        if len(agbs) != len(set(agbs)):
            raise ValueError("each physiotherapist's AGB code appears once")
        return therapists


class ReferrerEntry(BaseModel):
    """A verwijzer (a GP, huisarts) and their practice."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "name": "A. Jansen",
                    "practice_name": "Huisartsenpraktijk Oudwijk",
                    "address": {"street": "Oudwijk", "house_number": "3", "postcode": "3581 TA", "city": "Utrecht"},
                    "phone": "030-7654321",
                }
            ]
        },
    )

    name: Text
    practice_name: Text
    address: Address
    phone: Phone | None = None


class TherapistAssignment(BaseModel):
    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [{"therapist_agb": "04999001"}]})

    therapist_agb: Agb


class LetterParties(BaseModel):
    """Who writes the episode's letters and to whom; an entry is None when the register does not hold it."""

    practice_agb: str
    practice: PracticeEntry | None
    therapist_agb: str | None
    therapist: Physiotherapist | None
    referrer_agb: str | None
    referrer: ReferrerEntry | None
