"""Imports every model so metadata (and Alembic) sees all tables."""

from app.audit.models import AccessLogEntry, AdminTrailEntry
from app.auth.models import ApiClient, Organisation, SigningKey
from app.cases.models import (
    Agreement,
    CaseMeeting,
    CaseNote,
    CoordinatorAssignment,
    FactCorrection,
    Involvement,
)
from app.consent.models import ConsentRecord, LegalBasisRecord
from app.db import Base
from app.deadlines.models import Deadline
from app.handoffs.models import Handoff
from app.http.models import IdempotencyRecord, RateWindow
from app.intakes.models import Assessment, Contact, Intake, Reopening
from app.regions.models import RegionPolicyVersion
from app.routing.models import Programme
from app.statistics.models import IntakeFacts
from app.webhooks.models import Delivery, DeliveryAttempt, Event, Subscription

__all__ = [
    "AccessLogEntry",
    "AdminTrailEntry",
    "Agreement",
    "ApiClient",
    "Assessment",
    "Base",
    "CaseMeeting",
    "CaseNote",
    "ConsentRecord",
    "Contact",
    "CoordinatorAssignment",
    "Deadline",
    "Delivery",
    "DeliveryAttempt",
    "Event",
    "FactCorrection",
    "Handoff",
    "IdempotencyRecord",
    "Intake",
    "IntakeFacts",
    "Involvement",
    "LegalBasisRecord",
    "Organisation",
    "Programme",
    "RateWindow",
    "RegionPolicyVersion",
    "Reopening",
    "SigningKey",
    "Subscription",
]
