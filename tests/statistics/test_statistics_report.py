"""The HTML report: self-contained (no scripts, no external resources), in Dutch, suppression
applied; `aanmeldpunt report` writes it from the database; headless Chromium shows its charts."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from datetime import UTC, date, datetime
from pathlib import Path

import pytest

from app.statistics.figures import FactRow, compute
from app.statistics.report import render
from app.statistics.schemas import Statistics
from tests.support.helpers import auth_for, referral, seed_programmes, today

NAMES = {"moeders-van-rotterdam": "Moeders van Rotterdam", "wijkteam": "Wijkteam"}


def sample() -> Statistics:
    rows = []
    for i in range(120):
        rows.append(
            FactRow(
                counted_on=date(2025, 1 + i % 12, 10),
                source="self" if i % 3 == 0 else "referral",
                referrer_role=None if i % 3 == 0 else ("midwife" if i % 5 else "hospital" if i < 10 else "gp"),
                age_years=19 + i % 17,
                pregnant=i % 9 != 0,
                weeks_pregnant=None if i % 9 == 0 else 6 + i % 30,
                concerns_at_registration=("stress",) + (("domestic_violence",) if i % 12 == 0 else ()),
                concerns=("stress",) + (("domestic_violence",) if i % 8 == 0 else ()),
                vulnerability="vulnerable",
                contacted=True,
                assessed=i % 2 == 0,
                assessed_at_home=i % 2 == 0,
                programme_recommended="moeders-van-rotterdam",
                programmes_decided=("wijkteam",) if i % 4 == 0 else (),
                phases={"response": {"state": "met_on_time", "workingDays": 1 + i % 3}},
                close_reason="moved_away" if i == 7 else None,
            )
        )
    figures = compute(rows, date(2025, 1, 1), date(2025, 12, 31), 5, list(NAMES), datetime(2026, 1, 1, tzinfo=UTC))
    return Statistics.model_validate({**figures, "region": "rotterdam"})


def test_report_is_self_contained_dutch_and_suppressed() -> None:
    stats = sample()
    html = render(stats, "Rotterdam", NAMES)
    assert html.startswith("<!DOCTYPE html>") and '<html lang="nl">' in html
    assert "<script" not in html.lower()
    # No resource from anywhere else: only SVG/XLink namespace names mention http.
    without_namespaces = re.sub(r'xmlns(:\w+)?="http://www\.w3\.org/[^"]+"', "", html)
    assert "http://" not in without_namespaces and "https://" not in without_namespaces
    assert not re.search(r"(src|href)\s*=\s*[\"'](?!#)", without_namespaces)
    assert "@import" not in html and "url(" not in html.replace("url(#", "")
    assert html.count("<svg") == 6
    assert "Aanmeldingen per maand" in html and "Zelfaanmelding" in html and "Huiselijk geweld" in html
    # The 4 hospital referrals and the 1 moved away are suppressed: shown as *, never as a number.
    assert stats.registrations.by_referrer_role["hospital"].suppressed
    assert re.search(r"<td>Ziekenhuis</td><td class=\"n\">\*</td>", html)
    assert re.search(r"<td>Verhuisd</td><td class=\"n\">\*</td>", html)


def chromium() -> str | None:
    return shutil.which("chromium") or shutil.which("chromium-browser") or shutil.which("google-chrome")


MEASURE = """<script>
document.addEventListener('DOMContentLoaded', () => {
  const sizes = [...document.querySelectorAll('figure > svg')].map(s => {
    const r = s.getBoundingClientRect();
    return {w: r.width, h: r.height, bars: s.querySelectorAll('path, rect, use').length};
  });
  const out = document.createElement('pre'); out.id = 'measured'; out.textContent = JSON.stringify(sizes);
  document.body.appendChild(out);
});
</script>"""


def measure_in_browser(html: str, tmp_path: Path) -> list[dict[str, float]]:
    """Open the report in headless Chromium and read back each chart's rendered size. The
    measuring script is added to a copy: the report itself carries no script."""
    browser = chromium()
    if browser is None:
        pytest.skip("chromium is not installed (apt-get install chromium); the report's browser check needs it")
    page = tmp_path / "measured.html"
    page.write_text(
        html.replace("</body>", MEASURE + "</body>").replace(
            "default-src 'none'", "default-src 'none'; script-src 'unsafe-inline'"
        )
    )
    result = subprocess.run(
        [browser, "--headless", "--no-sandbox", "--disable-gpu", "--window-size=1200,900", "--dump-dom", page.as_uri()],
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    found = re.search(r'<pre id="measured">(.*?)</pre>', result.stdout, re.DOTALL)
    assert found, result.stdout[-2000:] + result.stderr[-2000:]
    return list(json.loads(found.group(1).replace("&quot;", '"')))


def test_report_charts_are_visible_in_a_real_browser(tmp_path: Path) -> None:
    sizes = measure_in_browser(render(sample(), "Rotterdam", NAMES), tmp_path)
    assert len(sizes) == 6
    for chart in sizes:
        assert chart["w"] > 200 and chart["h"] > 100 and chart["bars"] > 5, chart


async def test_report_command_writes_the_file(client, database_url: str, tmp_path: Path) -> None:
    await seed_programmes()
    referrer = await auth_for(client, "referrer")
    for _ in range(6):
        assert (await client.post("/api/v1/referrals", json=referral(), headers=referrer)).status_code == 201
    output = tmp_path / "report.html"
    day = today().isoformat()
    result = subprocess.run(
        [
            str(Path(sys.executable).parent / "aanmeldpunt"),
            "report",
            "--region",
            "rotterdam",
            "--from",
            day,
            "--to",
            day,
            "--output",
            str(output),
        ],
        capture_output=True,
        text=True,
        timeout=300,
        env={**os.environ, "DATABASE_URL": database_url},
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    html = output.read_text()
    assert "<script" not in html and "Centraal Aanmeldpunt Rotterdam" in html
    assert re.search(r"<strong>6</strong>aanmeldingen", html)
    assert "Samira" not in html and "Jansen" not in html
    if chromium():
        assert all(chart["w"] > 0 and chart["h"] > 0 for chart in measure_in_browser(html, tmp_path))
