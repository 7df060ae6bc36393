"""`make screenshots`: the form at /aanmelden in Debian's chromium, empty, with errors and
confirmed, at phone width (360 px) and on a desktop, written to docs/screenshots/.

Runs a real server against a fresh database on the test PostgreSQL (127.0.0.1:5432 when it
answers, else the embedded one) and drops the database afterwards."""

from __future__ import annotations

import asyncio
import sys
import uuid
from datetime import timedelta
from pathlib import Path

import asyncpg

from app import clock
from tests.browser.test_form_in_browser import CHROMIUM, DESKTOP, PHONE
from tests.conftest import _server_url, db_url
from tests.support.live import LiveServer

OUT = Path(__file__).resolve().parents[2] / "docs" / "screenshots"


async def _admin(server: str, sql: str) -> None:
    conn = await asyncpg.connect(db_url(server, "postgres"))
    try:
        await conn.execute(sql)
    finally:
        await conn.close()


async def shoot(base: str) -> list[Path]:
    from playwright.async_api import async_playwright

    due = (clock.today_local().date() + timedelta(days=150)).strftime("%d-%m-%Y")
    written: list[Path] = []
    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        for device, viewport in (("phone", PHONE), ("desktop", DESKTOP)):
            page = await (await browser.new_context(viewport=viewport)).new_page()

            async def save(state: str, page=page, device=device) -> None:
                path = OUT / f"{state}-{device}.png"
                await page.screenshot(path=str(path), full_page=True)
                written.append(path)

            await page.goto(f"{base}/aanmelden")
            await save("empty")
            await page.fill("#givenName", "Samira")
            await page.fill("#birthDate", "31-02-2003")
            await page.fill("#phone", "12")
            await page.check("#pregnant")
            await page.click("#submit")
            await save("errors")
            await page.fill("#familyName", "El Amrani")
            await page.fill("#birthDate", "02-04-2003")
            await page.fill("#phone", "06 1234 5678")
            await page.fill("#dueDate", due)
            await page.check("#contactPreference")
            await page.check("#consent")
            await page.check("#shareWithProgramme")
            await page.click("#submit")
            await page.wait_for_selector("#reference")
            await save("confirmation")
        await browser.close()
    return written


def main() -> int:
    if not Path(CHROMIUM).exists():
        print(f"NO BROWSER: {CHROMIUM} is missing; install it with `apt-get install -y chromium`.", file=sys.stderr)
        return 1
    OUT.mkdir(parents=True, exist_ok=True)
    server = _server_url()
    name = f"amp_screens_{uuid.uuid4().hex[:8]}"
    asyncio.run(_admin(server, f'CREATE DATABASE "{name}"'))
    live = LiveServer(db_url(server, name))
    try:
        live.start()
        live.demo_tokens()  # the region's programmes
        for path in asyncio.run(shoot(live.base)):
            print(path.relative_to(OUT.parents[1]))
    finally:
        live.stop()
        asyncio.run(_admin(server, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
