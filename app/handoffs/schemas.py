"""The handoff as its organisation sees it."""

from __future__ import annotations

from fastapi.responses import JSONResponse
from sqlalchemy.ext.asyncio import AsyncSession

from app.handoffs.models import Handoff
from app.intakes.schemas import HandoffOut
from app.intakes.service import handoff_view, organisation_codes

__all__ = ["HandoffOut", "handoff_response"]


async def handoff_response(db: AsyncSession, handoff: Handoff, status_code: int = 200) -> JSONResponse:
    orgs = await organisation_codes(db, {handoff.organisation_id})
    view = HandoffOut.model_validate({**handoff_view(handoff, orgs), "intakeId": handoff.intake_id})
    headers = {"Location": f"/api/v1/handoffs/{handoff.id}"} if status_code == 201 else {}
    return JSONResponse(view.model_dump(mode="json", by_alias=True), status_code=status_code, headers=headers)
