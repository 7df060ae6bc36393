"""The thinnest FastAPI + asyncpg service: validate a small JSON body, one INSERT … RETURNING,
reply. The benchmark's yardstick: same machine, database, server and load generator."""

from __future__ import annotations

import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import asyncpg
from fastapi import FastAPI
from pydantic import BaseModel, Field

DSN = os.environ["DATABASE_URL"].replace("postgresql+asyncpg://", "postgresql://")
pool: asyncpg.Pool | None = None


@asynccontextmanager
async def lifespan(_: FastAPI) -> AsyncIterator[None]:
    global pool
    pool = await asyncpg.create_pool(DSN, min_size=2, max_size=10)
    async with pool.acquire() as conn:
        await conn.execute(
            "CREATE TABLE IF NOT EXISTS baseline_items (id bigserial PRIMARY KEY, name text NOT NULL, "
            "value integer NOT NULL, created_at timestamptz NOT NULL DEFAULT now())"
        )
    yield
    await pool.close()


app = FastAPI(lifespan=lifespan)


class Item(BaseModel):
    name: str = Field(min_length=1, max_length=200)
    value: int


@app.post("/items", status_code=201)
async def create(item: Item) -> dict[str, Any]:
    assert pool is not None
    row = await pool.fetchrow(
        "INSERT INTO baseline_items (name, value) VALUES ($1, $2) RETURNING id, created_at", item.name, item.value
    )
    return {"id": row["id"], "name": item.name, "value": item.value, "createdAt": row["created_at"].isoformat()}


@app.get("/healthz")
async def healthz() -> dict[str, str]:
    return {"status": "ok"}
