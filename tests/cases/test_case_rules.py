"""The case's pure rules (app.cases.rules), table-driven, without I/O."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime, timedelta

import pytest

from app.cases import rules
from app.cases.rules import Actor, CoordinatorRight, Entry, HandoffFacts, ReferrerFacts
from app.cases.vocab import InvolvementSource, TimelineType
from app.vocab import InvolvementRole

T0 = datetime(2026, 11, 20, 9, 0, tzinfo=UTC)
ORG, OTHER = uuid.uuid4(), uuid.uuid4()


@pytest.mark.parametrize(
    ("is_staff", "states", "expected"),
    [
        (True, [], CoordinatorRight.STAFF),
        (True, ["offered"], CoordinatorRight.STAFF),
        (False, ["offered"], CoordinatorRight.NOT_ACCEPTED),
        (False, ["declined", "offered"], CoordinatorRight.NOT_ACCEPTED),
        (False, ["accepted"], CoordinatorRight.TAKE_OVER),
        (False, ["first_contact"], CoordinatorRight.TAKE_OVER),
        (False, ["support_started"], CoordinatorRight.TAKE_OVER),
        (False, ["revoked", "ended"], CoordinatorRight.NOT_ACCEPTED),
    ],
)
def test_coordinator_right(is_staff: bool, states: list[str], expected: CoordinatorRight) -> None:
    assert rules.coordinator_right(is_staff, states) is expected


def handoff(
    status: str, *, started: bool = False, ended: datetime | None = None, kind: str = "programme"
) -> HandoffFacts:
    return HandoffFacts(
        id=uuid.uuid4(),
        programme="voorzorg",
        programme_name="VoorZorg",
        organisation="jgz-voorzorg",
        organisation_kind=kind,
        status=status,
        offered_at=T0,
        support_started_at=T0 if started else None,
        ended_at=ended,
    )


@pytest.mark.parametrize(
    ("facts", "involved", "until"),
    [
        (handoff("offered"), True, None),
        (handoff("accepted"), True, None),
        (handoff("first_contact"), True, None),
        (handoff("support_started", started=True), True, None),
        (handoff("declined", ended=T0), False, None),
        (handoff("revoked", ended=T0), False, None),
        (handoff("revoked", started=True, ended=T0 + timedelta(days=9)), True, T0 + timedelta(days=9)),
        (handoff("ended", started=True, ended=T0 + timedelta(days=90)), True, T0 + timedelta(days=90)),
    ],
)
def test_handoffs_make_involvements_while_live_or_once_started(
    facts: HandoffFacts, involved: bool, until: datetime | None
) -> None:
    items = rules.derive_involvements([], [facts])
    assert bool(items) is involved
    if items:
        assert items[0].source is InvolvementSource.HANDOFF and items[0].until == until
        assert items[0].role is InvolvementRole.PROGRAMME
        assert items[0].id == rules.derived_id(InvolvementSource.HANDOFF, facts.id)  # stable between reads


def test_a_wijkteam_handoff_is_a_wijkteam_involvement() -> None:
    assert rules.derive_involvements([], [handoff("offered", kind="wijkteam")])[0].role is InvolvementRole.WIJKTEAM


@pytest.mark.parametrize(
    ("role", "expected"),
    [
        ("midwife", InvolvementRole.MIDWIFE),
        ("gp", InvolvementRole.GP),
        ("hospital", InvolvementRole.GYNAECOLOGIST),
        ("jgz", InvolvementRole.JGZ),
        ("community_organisation", InvolvementRole.OTHER),
    ],
)
def test_every_referrer_is_involved_with_its_role(role: str, expected: InvolvementRole) -> None:
    own = ReferrerFacts(uuid.uuid4(), T0, "verloskundigen-zuid", "Verloskundigen Zuid", {"role": role, "phone": "+31"})
    merged = ReferrerFacts(uuid.uuid4(), T0, "huisartsen-noord", "Huisartsen Noord", {"role": "gp"})
    selfreg = ReferrerFacts(uuid.uuid4(), T0, None, None, None)
    items = rules.derive_involvements([own, merged, selfreg], [])
    assert [i.role for i in items] == [expected, InvolvementRole.GP]
    assert items[0].phone == "+31" and all(i.source is InvolvementSource.REFERRAL for i in items)


@pytest.mark.parametrize(
    ("source", "until", "may"),
    [
        (InvolvementSource.STAFF, None, True),
        (InvolvementSource.ASSESSMENT, None, True),
        (InvolvementSource.STAFF, T0, False),
        (InvolvementSource.REFERRAL, None, False),
        (InvolvementSource.HANDOFF, None, False),
    ],
)
def test_which_involvements_may_end(source: InvolvementSource, until: datetime | None, may: bool) -> None:
    assert rules.involvement_may_end(source, until) is may


@pytest.mark.parametrize(
    ("due", "done", "today", "overdue"),
    [
        (date(2026, 12, 1), False, date(2026, 12, 1), False),  # due today: not yet
        (date(2026, 12, 1), False, date(2026, 12, 2), True),
        (date(2026, 12, 1), True, date(2026, 12, 9), False),
    ],
)
def test_agreement_overdue(due: date, done: bool, today: date, overdue: bool) -> None:
    assert rules.agreement_overdue(due, done, today) is overdue


def entry(kind: TimelineType, minutes: int, org: uuid.UUID | None = None, key: str = "") -> Entry:
    return Entry(T0 + timedelta(minutes=minutes), kind, Actor("x", "c"), "", {}, key or kind.value, org)


@pytest.mark.parametrize(
    ("kind", "org", "sees"),
    [
        (TimelineType.HANDOFF_ACCEPTED, ORG, True),
        (TimelineType.HANDOFF_DECLINED, OTHER, False),
        (TimelineType.HANDOFF_OFFERED, OTHER, False),
        (TimelineType.COORDINATOR_CHANGED, None, True),
        (TimelineType.INVOLVEMENT_ADDED, None, True),
        (TimelineType.INVOLVEMENT_ENDED, None, True),
        *(
            (t, None, False)
            for t in TimelineType
            if t.value.split("_")[0] not in ("handoff", "coordinator", "involvement")
        ),
    ],
)
def test_what_a_programme_sees(kind: TimelineType, org: uuid.UUID | None, sees: bool) -> None:
    assert rules.programme_sees(entry(kind, 0, org), ORG) is sees


def test_order_and_pages_cover_everything_once() -> None:
    entries = rules.ordered(
        [entry(TimelineType.NOTE, 5, key="b"), entry(TimelineType.NOTE, 5, key="a"), entry(TimelineType.RECEIVED, 0)]
    )
    assert [e.key for e in entries] == ["received", "a", "b"]
    key = lambda e: (e.at, e.key)  # noqa: E731
    assert rules.after(entries, key, None) == entries
    assert [e.key for e in rules.after(entries, key, key(entries[1]))] == ["b"]
    assert rules.after(entries, key, key(entries[-1])) == []


@pytest.mark.parametrize(
    ("event", "programme", "referrer"),
    [
        ("intake.coordinator_changed", True, True),  # the usual audience rule
        ("intake.involvement_added", False, False),  # the case's working events: aanmeldpunt only
        ("intake.involvement_ended", False, False),
        ("intake.case_meeting_recorded", False, False),
        ("intake.note_added", False, False),
        ("agreement.done", False, False),
        ("agreement.overdue", False, False),
    ],
)
def test_who_hears_the_case_events(event: str, programme: bool, referrer: bool) -> None:
    from app.consent.audience import Audience, may_hear
    from tests.consent.test_audience_rules import ALL_SCOPES, PROGRAMME, REFERRER

    audience = Audience(REFERRER, "consent", ALL_SCOPES, frozenset({PROGRAMME}))
    assert may_hear(event, "aanmeldpunt", uuid.uuid4(), audience)
    assert may_hear(event, "programme", PROGRAMME, audience) is programme
    assert may_hear(event, "referrer", REFERRER, audience) is referrer
