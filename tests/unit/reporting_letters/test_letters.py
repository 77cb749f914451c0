"""Letters to the GP: when each falls due, in which order, and what it says in Dutch — every statement checked
against the episode's whole history."""

from __future__ import annotations

from datetime import timedelta

from services.reporting.domain.letters.content import LetterFacts, compose, fold, letters_due, personalised
from services.reporting.domain.letters.episode import LetterEpisode
from shared.events.intake import EpisodeClosed, ReportObjectionRecorded, SessionRecorded
from shared.events.pathway import EscalationReason
from tests.unit.reporting_letters.episodes import (
    DAY,
    PERSONAL,
    escalation,
    folded,
    intake_events,
    plan_events,
    treatment_events,
    whole_episode,
)


def text(letter, personal=PERSONAL) -> str:
    return "\n".join(
        [p for s in personalised(letter, personal) for p in [s.heading, *s.paragraphs]]
        + [" | ".join(row) for s in letter.sections for row in (s.table or [])]
    )


def test_fold_leaves_the_facts_it_was_given_as_they_were():
    facts = LetterFacts()
    for event in [*whole_episode(), escalation()]:
        before = facts.model_dump()
        after = fold(facts, event)
        assert facts.model_dump() == before, type(event).__name__  # a list changed in place would show here
        facts = after
    assert facts.measurements and facts.evaluations and facts.escalations and facts.graded[0].logged


def test_the_start_letter_waits_for_the_plan_not_the_referral():
    agreed, proposed, _ = plan_events()
    assert letters_due(folded(intake_events()), set()) == []
    # agreed by intake, the guideline's proposal of the same day not in yet: the letter would say "no plan"
    assert letters_due(folded([*intake_events(), agreed]), set()) == []
    assert letters_due(folded([*intake_events(), agreed, proposed]), set()) == [("start", "start")]
    assert letters_due(folded([*intake_events(), proposed, agreed]), set()) == [("start", "start")]
    # the first session, recorded with the plan while the pathway is still deciding, does not hurry it
    first = SessionRecorded(session_on=DAY, session_number=1)
    assert letters_due(folded([*intake_events(), agreed, first]), set()) == []
    assert letters_due(folded([*intake_events(), first, proposed]), set()) == [("start", "start")]
    # the guideline's decision may be an escalation instead of a plan
    assert letters_due(folded([*intake_events(), first, escalation()]), set())[0] == ("start", "start")


def test_the_start_letter_restates_the_hulpvraag_findings_measurements_and_plan():
    letter = compose("start", "start", folded([*intake_events(), *plan_events()]), DAY)
    said = text(letter)
    assert letter.title == "Startbericht fysiotherapie bij lage rugpijn"
    assert "Hulpvraag van de patiënt: Weer kunnen fietsen naar het werk zonder pijn." in said
    assert "Duur van de episode bij de intake: subacuut (7–12 weken); klachten sinds 20-09-2026." in said
    assert "Beloop bij de intake (23-11-2026): afwijkend." in said and "I.IV Beloop" in said
    assert "Rode vlaggen: geen algemene ziekteverschijnselen (koorts, gewichtsverlies)." in said
    assert "Radiculaire verschijnselen: niet aanwezig." in said
    assert (
        "Belemmerende factoren: angst om te bewegen (door fysiotherapie te beïnvloeden); "
        "werksituatie (niet door fysiotherapie te beïnvloeden)." in said
    )
    assert "QBPDS 60 van 100 (beperkingen in dagelijkse activiteiten" in said
    assert "NPRS 6 van 10 (pijnintensiteit" in said and "PSK gemiddeld 7 van 10" in said
    assert "Met de patiënt afgesproken doelen: Weer een uur wandelen; weer 10 km fietsen." in said
    assert "tijdcontingente opbouw van activiteiten (graded activity)" in said
    assert "Verwacht aantal behandelingen: 9." in said
    assert "Eerste evaluatie: 14-12-2026 (na drie weken behandeling)." in said
    assert "geen behandelplan" not in said


def test_the_final_letter_shows_the_goals_and_whether_they_were_met():
    letter = compose("final", "final", folded(whole_episode()), DAY + timedelta(days=63))
    goals = next(s for s in personalised(letter, PERSONAL) if s.heading == "Doelen en resultaat")
    assert goals.paragraphs == [
        "Met de patiënt afgesproken doelen: Weer een uur wandelen; weer 10 km fietsen.",
        "De doelen zijn bereikt.",
    ]
    none_agreed = next(s for s in personalised(letter, dict(PERSONAL, goals=None)) if s.fill == "goals")
    assert none_agreed.paragraphs[0] == "Met de patiënt afgesproken doelen: niet vastgelegd."
    assert "staan hieronder" not in text(letter)  # no promise of goals that are not there


def test_the_final_letter_numbers_evaluations_in_its_text_as_in_its_table():
    letter = compose("final", "final", folded(whole_episode()), DAY + timedelta(days=63))
    said = text(letter)
    table = next(s.table for s in letter.sections if s.heading == "Metingen")
    assert [row[0] for row in table[1:]] == ["Intake", "Evaluatie 1", "Evaluatie 2", "Evaluatie 3"]
    assert [row[5] for row in table[1:]] == ["–", "toegenomen", "toegenomen", "–"]
    for n, values in ((1, "QBPDS 40, NPRS 4, PSK 5"), (2, "QBPDS 20, NPRS 2, PSK 3"), (3, "QBPDS 0, NPRS 0, PSK 1")):
        assert f"Evaluatie {n} (" in said and values in said
    assert "Evaluatie 3 (25-01-2027): QBPDS 0, NPRS 0, PSK 1; niet meer door de richtlijn beoordeeld" in said


def test_a_recovered_patient_reads_the_course_at_intake_and_the_outcome_at_the_end():
    said = text(compose("final", "final", folded(whole_episode()), DAY + timedelta(days=63)))
    assert "Beloop bij de intake (23-11-2026): afwijkend." in said
    assert "Beloop bij de laatste beoordeling (14-12-2026): normaal." in said
    assert (
        "QBPDS: van 60 bij de intake naar 0 aan het einde, verbeterd met 60 punten; "
        "de minimaal klinisch relevante verbetering is bereikt" in said
    )
    assert "NPRS: van 6 bij de intake naar 0 aan het einde" in said
    assert "Reden van afsluiten (25-01-2027): de afgesproken doelen zijn bereikt." in said
    assert "8 behandelingen" in said and "Gegeven advies: informatie en advies over rugpijn" in said


def test_a_change_below_the_minimal_important_change_is_called_so():
    events = [*intake_events(), *plan_events(), *treatment_events()[:8]]  # up to evaluation 1: QBPDS 60 → 40
    events.append(EpisodeClosed(closed_on=DAY + timedelta(days=22), reason="patient_stops"))
    said = text(compose("final", "final", folded(events), DAY))
    assert "QBPDS: van 60 bij de intake naar 40 aan het einde, verbeterd met 20 punten; de minimaal" in said
    assert "NPRS: van 6 bij de intake naar 4 aan het einde, verbeterd met 2 punten; de minimaal" in said
    assert "De doelen zijn niet (alle) bereikt: de patiënt stopte eerder." in said


def test_a_duration_class_that_changes_over_time_is_explained():
    said = text(compose("final", "final", folded(whole_episode()), DAY))
    assert "Duur van de episode bij de intake: subacuut (7–12 weken)" in said
    assert (
        "Door het verstrijken van de tijd is de episode op 14-12-2026 chronisch (> 12 weken): "
        "de duur wordt geteld vanaf het begin van de klachten." in said
    )


def test_an_escalated_episode_has_its_interim_letter_before_its_final_one():
    closed = EpisodeClosed(closed_on=DAY + timedelta(days=21), reason="escalated_to_verwijzer")
    episode = LetterEpisode()
    composed = []
    # the practice closes the episode before the pathway's escalation arrives
    for event in [*intake_events(), *plan_events(), closed, escalation()]:
        composed += [key for key, _ in episode.follow(event, DAY)]
    assert composed == ["start", "interim:no_progress_after_three_weeks", "final"]


def test_the_interim_letter_gives_the_reason_the_measurements_and_asks_the_verwijzer():
    facts = folded([*intake_events(), *plan_events(), *treatment_events()[:8], escalation()])
    letter = compose("interim", "interim:no_progress_after_three_weeks", facts, DAY)
    said = text(letter)
    assert [s.heading for s in letter.sections][:3] == ["Reden van contact", "Onze vraag aan u", "Metingen tot nu toe"]
    assert "Na drie weken behandeling zijn de activiteiten en de participatie van de patiënt niet toegenomen" in said
    assert "Toelichting: Na drie weken behandeling zijn activiteiten en participatie niet toegenomen." in said
    assert "Wilt u beoordelen of aanvullend onderzoek of een andere behandeling nodig is" in said
    assert "Laatste meting (Evaluatie 1, 14-12-2026):" in said and "QBPDS 40 van 100" in said
    radicular = folded([*intake_events(), escalation(EscalationReason.RADICULAR_SIGNS)])
    asked = text(compose("interim", "interim:radicular_signs", radicular, DAY))
    assert "Wilt u de patiënt beoordelen op een radiculair syndroom?" in asked


def test_an_objection_blocks_every_letter():
    events = whole_episode()
    objected = folded([events[0], ReportObjectionRecorded(on=DAY), *events[1:]])
    assert letters_due(objected, set()) == []


def test_without_intakes_free_text_the_letter_says_why():
    letter = compose("start", "start", folded([*intake_events(), *plan_events()]), DAY)
    said = text(letter, personal=None)
    assert "Hulpvraag van de patiënt: niet te tonen, de persoonsgegevens zijn gewist." in said
    assert "Weer kunnen fietsen" not in said
