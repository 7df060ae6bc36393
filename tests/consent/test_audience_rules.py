"""The one audience rule (app/consent/audience.py), pure: no database."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta

from app.consent.audience import Audience, is_notice, may_hear, programme_may_read

T0 = datetime(2026, 11, 1, tzinfo=UTC)
PROGRAMME, REFERRER, OTHER = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()


@dataclass(frozen=True)
class C:
    scope: str
    given: bool
    recorded_at: datetime


ALL_SCOPES = [C(s, True, T0) for s in ("processing", "share_with_programme", "feedback_to_referrer")]


def facts(**changes: object) -> Audience:
    base = Audience(REFERRER, "consent", ALL_SCOPES, frozenset({PROGRAMME}))
    return replace(base, **changes)  # type: ignore[arg-type]


def withdrawn(scope: str) -> list[C]:
    return [*ALL_SCOPES, C(scope, False, T0 + timedelta(days=1))]


def test_programme_reads_only_while_live_open_and_shared() -> None:
    assert programme_may_read(facts(), PROGRAMME)
    assert not programme_may_read(facts(), OTHER)
    assert not programme_may_read(facts(closed=True), PROGRAMME)
    assert not programme_may_read(facts(handoff_organisations=frozenset()), PROGRAMME)
    assert not programme_may_read(facts(consents=withdrawn("share_with_programme")), PROGRAMME)
    # The confirmed meldcode basis stands in for sharing consent.
    assert programme_may_read(facts(consents=withdrawn("share_with_programme"), legal_basis="meldcode"), PROGRAMME)


def test_referrer_hears_only_under_feedback_consent_never_on_meldcode() -> None:
    assert may_hear("intake.contacted", "referrer", REFERRER, facts())
    no_feedback = facts(consents=withdrawn("feedback_to_referrer"))
    for event in ("intake.contacted", "handoff.declined", "consent.withdrawn", "intake.closed"):
        assert not may_hear(event, "referrer", REFERRER, no_feedback)
    assert not may_hear("intake.contacted", "referrer", REFERRER, replace(no_feedback, legal_basis="meldcode"))


def test_a_notice_goes_only_to_the_organisation_marked_for_it() -> None:
    lost = facts(handoff_organisations=frozenset(), extra_organisations=frozenset({PROGRAMME}))
    assert is_notice("handoff.revoked", PROGRAMME, lost)
    assert not is_notice("handoff.revoked", REFERRER, lost)
    assert not is_notice("intake.contacted", PROGRAMME, lost)
    assert may_hear("handoff.revoked", "programme", PROGRAMME, lost, notice=True)
    assert not may_hear("handoff.revoked", "programme", PROGRAMME, lost, notice=False)
    # The notice mark only covers notice types.
    assert not may_hear("intake.contacted", "programme", PROGRAMME, lost, notice=True)


def test_after_close_a_live_programme_hears_only_the_close() -> None:
    closed = facts(closed=True)
    assert may_hear("intake.closed", "programme", PROGRAMME, closed)
    assert not may_hear("intake.contacted", "programme", PROGRAMME, closed)


def test_aanmeldpunt_hears_everything_others_nothing_without_an_intake() -> None:
    assert may_hear("endpoint.disabled", "aanmeldpunt", OTHER, None)
    assert not may_hear("endpoint.disabled", "programme", PROGRAMME, None)
    assert not may_hear("intake.contacted", "programme", OTHER, facts())


def test_referrer_hears_the_steps_of_its_view_including_first_contact_and_coordinator() -> None:
    for event in ("handoff.first_contact", "intake.coordinator_changed", "intake.reopened", "intake.support_started"):
        assert may_hear(event, "referrer", REFERRER, facts()), event
        assert not may_hear(event, "referrer", REFERRER, facts(consents=withdrawn("feedback_to_referrer"))), event
    # Not the aanmeldpunt's internal work, nor offers its view does not list.
    for event in ("deadline.breached", "handoff.declined", "handoff.revoked", "intake.legal_basis_changed"):
        assert not may_hear(event, "referrer", REFERRER, facts()), event


def test_a_merged_referrer_follows_the_case_under_its_consents() -> None:
    merged = facts(merged_referrers=frozenset({OTHER}))
    assert may_hear("handoff.first_contact", "referrer", OTHER, merged)
    assert not may_hear("handoff.first_contact", "referrer", OTHER, facts())
    assert not may_hear(
        "intake.contacted", "referrer", OTHER, replace(merged, consents=withdrawn("feedback_to_referrer"))
    )
