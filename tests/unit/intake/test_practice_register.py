"""The practice register: what it accepts, and who may sign an episode's letters."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from services.intake.domain.register import NotInRegister, check_assignment
from shared.practice_register import Address, PracticeEntry

ADDRESS = {"street": "Lindelaan", "house_number": "12", "postcode": "3511AB", "city": "Utrecht"}
ENTRY = {
    "name": "Fysiotherapie De Linde",
    "address": ADDRESS,
    "phone": "030-1234567",
    "physiotherapists": [{"agb": "04999001", "big": "19012345601", "name": "M. de Boer"}],
}


def test_an_address_is_written_as_dutch_letters_write_it():
    assert Address(**ADDRESS).lines() == ["Lindelaan 12", "3511 AB Utrecht"]


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"physiotherapists": [{"agb": "4999001", "big": "19012345601", "name": "x"}]}, ("physiotherapists", 0, "agb")),
        ({"physiotherapists": [{"agb": "04999001", "big": "1901234560", "name": "x"}]}, ("physiotherapists", 0, "big")),
        ({"address": {**ADDRESS, "postcode": "0511AB"}}, ("address", "postcode")),
        ({"phone": "bel maar"}, ("phone",)),
        ({"name": ""}, ("name",)),
        ({"physiotherapists": ENTRY["physiotherapists"] * 2}, ("physiotherapists",)),
    ],
)
def test_the_register_refuses_what_a_letter_could_not_use_naming_the_field(change, field):
    with pytest.raises(ValidationError) as refused:
        PracticeEntry.model_validate({**ENTRY, **change})
    assert refused.value.errors()[0]["loc"] == field


def test_only_a_physiotherapist_of_the_episodes_practice_signs_its_letters():
    entry = PracticeEntry.model_validate(ENTRY)
    check_assignment("04123456", entry, "04999001")
    with pytest.raises(NotInRegister, match="not registered with practice 04123456") as other:
        check_assignment("04123456", entry, "04999002")
    assert other.value.field == "therapist_agb"
    with pytest.raises(NotInRegister, match="not in the register"):
        check_assignment("04123456", None, "04999001")
