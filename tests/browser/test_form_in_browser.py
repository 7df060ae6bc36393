"""The form at /aanmelden in a real browser (Debian's chromium, driven by Playwright):
mistakes, corrections and a registration that arrives with the right facts and consents;
axe-core at WCAG 2.2 AA on every page state; keyboard only; a 360 px wide phone screen.

Without a browser these tests fail and say so (BROWSER_TESTS=skip turns that into a skip
with the same message); `.ci/run` installs chromium, `make test` installs axe-core."""

from __future__ import annotations

import os
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.support.helpers import today
from tests.support.live import LiveServer

CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")
AXE = Path(__file__).parent / "node_modules" / "axe-core" / "axe.min.js"
WCAG_22_AA = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa"]
PHONE = {"width": 360, "height": 740}
DESKTOP = {"width": 1280, "height": 900}


def need_browser() -> None:
    if not Path(CHROMIUM).exists():
        message = (
            f"NO BROWSER: {CHROMIUM} is missing, so the browser tests of /aanmelden cannot run. "
            "Install it with `apt-get install -y chromium` (.ci/run does), or set CHROMIUM."
        )
        if os.environ.get("BROWSER_TESTS") == "skip":
            pytest.skip(message)
        pytest.fail(message)
    if not AXE.exists():
        pytest.fail("axe-core is missing: run `npm ci` in tests/browser (`make test` does)")


@pytest.fixture
async def browser() -> Any:
    need_browser()
    from playwright.async_api import async_playwright

    async with async_playwright() as playwright:
        # --no-sandbox: CI runs as root in a container, where chromium's sandbox cannot start.
        launched = await playwright.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        yield launched
        await launched.close()


@pytest.fixture
def server(database_url: str) -> Any:
    live = LiveServer(database_url, env={"REGIONS": "rotterdam,utrecht"}).start()
    yield live
    live.stop()


async def check_page(page: Any, state: str) -> None:
    """axe-core (WCAG 2.2 AA tags) finds nothing, and nothing scrolls sideways."""
    await page.add_script_tag(path=str(AXE))
    result = await page.evaluate(
        "async (tags) => await axe.run(document, {runOnly: {type: 'tag', values: tags}})", WCAG_22_AA
    )
    violations = [(v["id"], v["impact"], [n["target"] for n in v["nodes"]][:3]) for v in result["violations"]]
    assert violations == [], f"{state}: {violations}"
    assert result["passes"], f"{state}: axe checked nothing"
    scroll, client = await page.evaluate(
        "() => [document.documentElement.scrollWidth, document.documentElement.clientWidth]"
    )
    assert scroll <= client, f"{state}: {scroll} px wide in a {client} px window"


def dutch(day: Any) -> str:
    return day.strftime("%d-%m-%Y")


async def test_mistakes_corrected_and_registered_on_a_phone(browser: Any, server: LiveServer) -> None:
    tokens = server.demo_tokens()
    context = await browser.new_context(viewport=PHONE, bypass_csp=True)  # axe is injected; the app's CSP forbids it
    page = await context.new_page()
    await page.goto(f"{server.base}/aanmelden")
    await check_page(page, "region choice")
    await page.click("text=Ik woon in de regio Rotterdam")
    assert page.url.endswith("/aanmelden?region=rotterdam")
    await check_page(page, "empty form")

    # Mistakes: no last name, an impossible date, a wrong phone number, no due date, no consent.
    await page.fill("#givenName", "  Samira ")
    await page.fill("#birthDate", "31-02-2003")
    await page.fill("#phone", "12")
    await page.fill("#postcode", "3073ab")
    await page.fill("#houseNumber", "12")
    await page.check("#pregnant")
    await page.check("#concern-debts")
    response_waiter = page.expect_response(lambda r: r.request.method == "POST")
    async with response_waiter as info:
        await page.click("button[type=submit]")
    assert (await info.value).status == 400
    assert (await page.title()).startswith("Fout: ")
    summary = page.locator(".error-summary")
    assert await summary.is_visible()
    links = await summary.locator("a").evaluate_all("links => links.map(a => [a.getAttribute('href'), a.innerText])")
    assert [href for href, _ in links] == ["#familyName", "#birthDate", "#dueDate", "#phone", "#consent"], links
    assert "Vul uw achternaam in." in links[0][1]
    for href, _ in links:
        assert await page.locator(href).count() == 1, href
        assert await page.locator(href).get_attribute("aria-invalid") == "true" or href == "#consent"
    # What she typed is still there.
    assert await page.input_value("#givenName") == "  Samira "
    assert await page.input_value("#birthDate") == "31-02-2003"
    assert await page.input_value("#postcode") == "3073ab"
    assert await page.is_checked("#pregnant") and await page.is_checked("#concern-debts")
    await check_page(page, "form with errors")
    await summary.locator("a[href='#phone']").click()
    assert await page.evaluate("() => document.activeElement.id") == "phone", "the link takes her to the field"

    # Corrected.
    due = today() + timedelta(days=150)
    await page.fill("#familyName", "El Amrani")
    await page.fill("#birthDate", "02-04-2003")
    await page.fill("#phone", "06 1234 5678")
    await page.fill("#dueDate", dutch(due))
    await page.check("#contactPreference")  # phone
    await page.check("#concern-stress")
    await page.check("#consent")
    await page.check("#shareWithProgramme")
    await page.click("button[type=submit]")
    reference = (await page.inner_text("#reference")).strip()
    assert reference.startswith("AMP-")
    steps = await page.inner_text("#next-who")
    assert "belt u binnen" in steps and "werkdag" in steps, steps
    await check_page(page, "confirmation")

    # It arrived, with her facts as she meant them and exactly the consents she gave.
    staff = {"Authorization": f"Bearer {tokens['staff']}"}
    async with httpx.AsyncClient(base_url=server.base, headers=staff) as api:
        items = (await api.get("/api/v1/intakes", params={"source": "self_registration"})).json()["items"]
        found = [item for item in items if item["reference"] == reference]
        assert len(found) == 1
        intake = (await api.get(f"/api/v1/intakes/{found[0]['id']}")).json()
    assert intake["source"] == "self_registration" and intake["contactPreference"] == "phone"
    client = intake["client"]
    assert (client["givenName"], client["familyName"]) == ("Samira", "El Amrani")
    assert client["birthDate"] == "2003-04-02" and client["phone"] == "+31612345678"
    assert client["address"]["postcode"] == "3073 AB" and client["address"]["houseNumber"] == "12"
    assert client["bsn"] is None
    assert intake["pregnancy"]["pregnant"] is True and intake["pregnancy"]["dueDate"] == due.isoformat()
    assert {c["code"] for c in intake["concerns"]} == {"debts", "stress"}
    assert {c["scope"] for c in intake["consents"] if c["given"]} == {"processing", "share_with_programme"}
    assert all(c["method"] == "digital" for c in intake["consents"])

    await page.goto(f"{server.base}/aanmelden/privacy?region=rotterdam")
    await check_page(page, "privacy statement")

    # The checks can fail: a field without its label, and a page wider than the phone.
    await page.goto(f"{server.base}/aanmelden?region=rotterdam")
    await page.evaluate("() => document.querySelector('label[for=givenName]').remove()")
    with pytest.raises(AssertionError, match="label"):
        await check_page(page, "a field without its label")
    await page.reload()
    await page.evaluate("() => { document.querySelector('main').style.minWidth = '900px' }")
    with pytest.raises(AssertionError, match="px wide"):
        await check_page(page, "wider than the phone")
    await context.close()


async def tab_to(page: Any, element_id: str, limit: int = 80) -> None:
    for _ in range(limit):
        if await page.evaluate("() => document.activeElement && document.activeElement.id") == element_id:
            return
        await page.keyboard.press("Tab")
    raise AssertionError(f"#{element_id} cannot be reached with Tab")


async def test_keyboard_only_in_english(browser: Any, server: LiveServer) -> None:
    server.demo_tokens()  # the programmes of the region
    context = await browser.new_context(viewport=DESKTOP, bypass_csp=True)
    page = await context.new_page()
    await page.goto(f"{server.base}/aanmelden?region=rotterdam&lang=en")
    assert await page.get_attribute("html", "lang") == "en"
    await check_page(page, "empty form, English")
    await page.keyboard.press("Tab")
    assert await page.evaluate("() => document.activeElement.className") == "skip-link"
    await page.keyboard.press("Enter")  # skip to the content
    typed = {
        "givenName": "Hanna",
        "familyName": "Tesfay",
        "birthDate": "14-09-2001",
        "youngestChild": dutch(today() - timedelta(days=200)),
        "email": "hanna@example.org",
    }
    for element_id, value in typed.items():
        if element_id == "youngestChild":
            await tab_to(page, "pregnant")  # Tab enters the radio group on its first option ...
            await page.keyboard.press("ArrowDown")  # ... and an arrow key chooses the next: "No"
            assert await page.is_checked("#pregnant-no")
        await tab_to(page, element_id)
        await page.keyboard.type(value)
    await tab_to(page, "contactPreference")
    await page.keyboard.press("ArrowDown")
    await page.keyboard.press("ArrowDown")
    assert await page.is_checked("#contactPreference-email")
    await tab_to(page, "interpreterNeeded")
    await page.keyboard.press("Space")
    await tab_to(page, "submit")
    await page.keyboard.press("Enter")  # no consent yet: the error summary
    await page.wait_for_selector(".error-summary")
    assert await page.evaluate("() => document.activeElement.classList.contains('error-summary')")
    await check_page(page, "errors, English")
    await page.keyboard.press("Tab")  # the summary's link
    assert await page.evaluate("() => document.activeElement.getAttribute('href')") == "#consent"
    await page.keyboard.press("Enter")
    assert await page.evaluate("() => document.activeElement.id") == "consent"
    await page.keyboard.press("Space")
    await tab_to(page, "submit")
    await page.keyboard.press("Enter")
    await page.wait_for_selector("#reference")
    assert "Your registration has been sent" in await page.inner_text("h1")
    assert "e-mail you within" in await page.inner_text("#next-who")
    await check_page(page, "confirmation, English")
    assert await page.is_visible("text=Call 112")
    await context.close()
