"""Who may see or act on what at intake (`domain.access`): pure decisions of the caller and the resource."""

from __future__ import annotations

from services.intake.domain import access
from shared.auth import Caller, Role

PRACTICE, OTHER_PRACTICE, GP = "04123456", "04999999", "01234567"


def caller(role: Role, org: str) -> Caller:
    return Caller("someone", role, org)


def test_a_practice_refers_for_itself_and_a_verwijzer_under_its_own_agb():
    assert access.may_refer(caller(Role.PRACTICE, PRACTICE), PRACTICE, None)
    assert access.may_refer(caller(Role.REFERRER, GP), OTHER_PRACTICE, GP)
    assert not access.may_refer(caller(Role.PRACTICE, OTHER_PRACTICE), PRACTICE, GP)
    assert not access.may_refer(caller(Role.REFERRER, GP), PRACTICE, None)


def test_an_episode_is_seen_by_its_practice_and_verwijzer_and_recorded_in_by_its_practice_only():
    assert access.may_see_episode(caller(Role.PRACTICE, PRACTICE), PRACTICE, GP)
    assert access.may_see_episode(caller(Role.REFERRER, GP), PRACTICE, GP)
    assert not access.may_see_episode(caller(Role.REFERRER, GP), PRACTICE, None)
    assert not access.may_see_episode(caller(Role.NETWORK, PRACTICE), PRACTICE, GP)
    assert access.may_act_on_episode(caller(Role.PRACTICE, PRACTICE), PRACTICE)
    assert not access.may_act_on_episode(caller(Role.REFERRER, GP), GP)
    assert access.command_scope(caller(Role.PRACTICE, PRACTICE)) == PRACTICE


def test_a_patient_is_their_practices_and_an_unknown_one_nobodys():
    assert access.owns_patient(caller(Role.PRACTICE, PRACTICE), PRACTICE)
    assert not access.owns_patient(caller(Role.PRACTICE, PRACTICE), OTHER_PRACTICE)
    assert not access.owns_patient(caller(Role.PRACTICE, PRACTICE), None)


def test_a_register_entry_is_kept_by_its_own_party_or_an_operator():
    assert access.may_keep_entry(caller(Role.PRACTICE, PRACTICE), Role.PRACTICE, PRACTICE)
    assert not access.may_keep_entry(caller(Role.PRACTICE, PRACTICE), Role.PRACTICE, OTHER_PRACTICE)
    assert not access.may_keep_entry(caller(Role.PRACTICE, GP), Role.REFERRER, GP)
    assert access.may_keep_entry(caller(Role.OPERATOR, "ops"), Role.REFERRER, GP)
