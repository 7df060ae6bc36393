"""The admin trail, read by administrators of the region: who changed what, when."""

from __future__ import annotations

from datetime import datetime

from fastapi import APIRouter
from pydantic import Field, JsonValue
from sqlalchemy import or_, select

from app.audit.models import ALL_REGIONS, AdminAction, AdminTrailEntry
from app.auth.deps import Admin
from app.db import Db
from app.http.openapi_docs import LIST
from app.http.pagination import Keyset, PageParams
from app.http.schemas import OutModel, Page, SequenceNumber

router = APIRouter(tags=["Beheer"])
BY_SEQ = Keyset(SequenceNumber)  # newest first


class FieldChange(OutModel):
    path: str = Field(description="The field that changed (dotted path for nested values).")
    from_: JsonValue = Field(alias="from", description="The value before (null: there was none).")
    to: JsonValue = Field(description="The value after (null: removed).")


class AdminTrailEntryOut(OutModel):
    seq: int = Field(description="Position in the trail; newer is higher.")
    at: datetime
    region: str = Field(description=f"The region concerned; `{ALL_REGIONS}`: the whole deployment (keys).")
    client_id: str = Field(description="The API client that made the change (`system` for the command line).")
    organisation: str
    user_id: str | None = None
    action: AdminAction
    target: str = Field(description="What was changed, e.g. `client amp_…`.")
    changes: list[FieldChange]


class AdminTrailPage(Page[AdminTrailEntryOut]):
    pass


@router.get(
    "/admin-trail",
    response_model=AdminTrailPage,
    responses=LIST,
    summary="Administrative changes in your region, newest first",
)
async def list_admin_trail(principal: Admin, db: Db, page: PageParams) -> AdminTrailPage:
    query = select(AdminTrailEntry).where(
        or_(AdminTrailEntry.region == principal.region, AdminTrailEntry.region == ALL_REGIONS)
    )
    if (before := page.after(BY_SEQ)) is not None:
        query = query.where(AdminTrailEntry.seq < before[0])
    found = list((await db.scalars(query.order_by(AdminTrailEntry.seq.desc()).limit(page.fetch))).all())
    rows, next_cursor = page.cut(found, BY_SEQ, lambda r: (r.seq,))
    return AdminTrailPage(
        items=[
            AdminTrailEntryOut(
                seq=r.seq,
                at=r.at,
                region=r.region,
                client_id=r.client_id,
                organisation=r.organisation,
                user_id=r.user_id,
                action=AdminAction(r.action),
                target=r.target,
                changes=[FieldChange.model_validate(change) for change in r.changes],
            )
            for r in rows
        ],
        next_cursor=next_cursor,
    )
