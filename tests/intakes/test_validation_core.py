"""The cross-field rules of app/intakes/validation.py, directly (pure: body, now, today in;
problems naming a catalogue code out). Field-by-field checks are pydantic's."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from app.intakes.schemas import ConsentGiven, Pregnancy, ReferralIn, SelfRegistrationIn
from app.intakes.validation import (
    pregnancy_problems,
    referral_problems,
    self_consent_problems,
    self_registration_problems,
)

TODAY = date(2026, 11, 24)
NOW = datetime(2026, 11, 24, 9, 0, tzinfo=UTC)


def codes(problems: list[dict[str, str]]) -> set[tuple[str, str]]:
    return {(p["name"], p["code"]) for p in problems}


def referral(**changes: object) -> ReferralIn:
    body: dict[str, object] = {
        "client": {"givenName": "Sanne", "familyName": "Jansen", "birthDate": "1998-03-02", "phone": "0612345678"},
        "pregnancy": {"pregnant": True, "dueDate": "2027-04-01"},
        "referrer": {"professionalName": "A. de Vries", "role": "midwife"},
        "consent": {"clientConsented": True, "scopes": ["processing"]},
    }
    body.update(changes)
    return ReferralIn.model_validate(body)


def test_a_complete_referral_has_no_problems() -> None:
    assert referral_problems(referral(), NOW, TODAY) == []


def test_pregnant_needs_a_due_date_and_not_pregnant_has_none() -> None:
    assert codes(pregnancy_problems(Pregnancy(pregnant=True), TODAY)) == {("pregnancy.dueDate", "dueDate.required")}
    not_pregnant = Pregnancy(pregnant=False, due_date=date(2027, 1, 1))
    assert ("pregnancy.dueDate", "dueDate.notPregnant") in codes(pregnancy_problems(not_pregnant, TODAY))


def test_due_date_window_is_30_days_back_to_300_ahead() -> None:
    for days, ok in ((-30, True), (-31, False), (300, True), (301, False)):
        found = pregnancy_problems(Pregnancy(pregnant=True, due_date=TODAY + timedelta(days=days)), TODAY)
        assert (found == []) is ok, days


def test_no_way_to_reach_her_and_a_child_born_tomorrow_are_both_named() -> None:
    body = referral(
        client={"givenName": "Sanne", "familyName": "Jansen", "birthDate": "1998-03-02"},
        children=[{"birthDate": "2020-01-01"}, {"birthDate": (TODAY + timedelta(days=1)).isoformat()}],
    )
    assert codes(referral_problems(body, NOW, TODAY)) == {
        ("client", "contact.required"),
        ("children[1].birthDate", "childBirthDate.range"),
    }


def test_consent_obtained_in_the_future_beyond_the_skew() -> None:
    later = ConsentGiven(client_consented=True, scopes=["processing"], obtained_at=NOW + timedelta(minutes=6))
    assert codes(self_consent_problems(later, NOW)) == {("consent.obtainedAt", "consent.obtainedAt.future")}
    skew = ConsentGiven(client_consented=True, scopes=["processing"], obtained_at=NOW + timedelta(minutes=4))
    assert self_consent_problems(skew, NOW) == []


def test_her_own_consent_must_be_given_and_cover_processing() -> None:
    assert codes(self_consent_problems(ConsentGiven(client_consented=False), NOW)) == {
        ("consent.clientConsented", "consent.required")
    }
    research_only = ConsentGiven(client_consented=True, scopes=["research"])
    assert codes(self_consent_problems(research_only, NOW)) == {("consent.scopes", "consent.processing")}


def test_self_registration_combines_the_rules() -> None:
    body = SelfRegistrationIn.model_validate(
        {
            "client": {"givenName": "Sanne", "familyName": "Jansen", "birthDate": "1998-03-02"},
            "pregnancy": {"pregnant": True},
            "consent": {"clientConsented": False},
        }
    )
    assert codes(self_registration_problems(body, NOW, TODAY)) == {
        ("client", "contact.required"),
        ("pregnancy.dueDate", "dueDate.required"),
        ("consent.clientConsented", "consent.required"),
    }
