"""Region files, REGIONS, GET /regions, programmes per region, self-registrations per region,
create-client --region and the demo (every region, a client per role)."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from app.config import Settings
from app.regions.config import REGIONS_DIR, RegionFileError, load_region, load_regions
from tests.support.helpers import seed_programmes, self_registration

SHIPPED = ("rotterdam", "zuid-limburg", "utrecht")


@pytest.fixture
def settings(database_url: str) -> Settings:
    return Settings(
        database_url=database_url,
        regions=",".join(SHIPPED),
        run_workers=False,
        self_registration_rate=1000,
        token_rate=1000,
        public_base_url="http://testserver",
    )


def test_shipped_region_files_are_valid_and_name_their_source() -> None:
    regions = load_regions(list(SHIPPED))
    assert list(regions) == list(SHIPPED)
    for config in regions.values():
        assert config.residence.postcode_ranges and "CBS" in config.residence.source
    assert regions["zuid-limburg"].municipalities == ("Kerkrade", "Landgraaf", "Vaals")
    assert regions["utrecht"].municipalities == ("Utrecht", "Amersfoort")
    codes = {code: {p.code for p in c.programmes} for code, c in regions.items()}
    assert codes["zuid-limburg"] == {
        "voorzorg",
        "stevig-ouderschap",
        "kraamzorg-steun-op-maat",
        "centering-zwangerschap",
        "nu-niet-zwanger",
        "wijkteam",
    }
    assert codes["utrecht"] == {"voorzorg", "stevig-ouderschap", "buurtteam", "mamaatje"}
    assert all("moeders-van-rotterdam" not in c for r, c in codes.items() if r != "rotterdam")


def _broken(tmp_path: Path, change) -> Path:
    raw = yaml.safe_load((REGIONS_DIR / "zuid-limburg.yaml").read_text())
    change(raw)
    (tmp_path / "zuid-limburg.yaml").write_text(yaml.safe_dump(raw, allow_unicode=True))
    return tmp_path


@pytest.mark.parametrize(
    ("change", "field", "words"),
    [
        (lambda r: r["policy"]["deadlines"]["rows"].pop(), "policy.deadlines", "not_pregnant"),
        (lambda r: r["policy"]["deadlines"]["rows"][0].update(response=-1), "policy.deadlines.rows.0.response", ""),
        (
            lambda r: r["policy"]["routing"]["rules"][0].update(programme="moeders-van-rotterdam"),
            "routing.rules.0.programme",
            "moeders-van-rotterdam",
        ),
        (lambda r: r["policy"]["residence"].update(source=""), "policy.residence", "source"),
        (
            lambda r: r["policy"]["residence"].update(postcode_ranges=[[6470, 6460]]),
            "policy.residence.postcode_ranges",
            "low ≤ high",
        ),
        (
            lambda r: r["policy"]["routing"]["rules"][5]["when"].update(any_concern=["sadness"]),
            "any_concern",
            "sadness",
        ),
        (lambda r: r["policy"].update(colour="blue"), "policy.colour", "Extra inputs"),
        (lambda r: r.update(region="limburg"), "region", "file name"),
    ],
)
def test_a_bad_region_file_names_the_file_and_the_field(tmp_path, change, field, words) -> None:
    folder = _broken(tmp_path, change)
    with pytest.raises(RegionFileError) as caught:
        load_region.__wrapped__("zuid-limburg", str(folder))
    message = str(caught.value)
    assert str(folder / "zuid-limburg.yaml") in message
    assert field in message and words in message, message


def test_two_regions_may_not_share_a_programme_organisation(tmp_path) -> None:
    for code in ("rotterdam", "utrecht"):
        shutil.copy(REGIONS_DIR / f"{code}.yaml", tmp_path / f"{code}.yaml")
    raw = yaml.safe_load((tmp_path / "utrecht.yaml").read_text())
    raw["programmes"][0]["organisation"] = "jgz-voorzorg"  # Rotterdam's
    (tmp_path / "utrecht.yaml").write_text(yaml.safe_dump(raw, allow_unicode=True))
    with pytest.raises(
        RegionFileError, match=r"programmes.0.organisation: organisation 'jgz-voorzorg' already belongs"
    ):
        load_regions(["rotterdam", "utrecht"], str(tmp_path))


def test_serve_stops_on_a_bad_region_and_says_which() -> None:
    env = {**os.environ, "REGIONS": "rotterdam,atlantis", "DATABASE_URL": "postgresql://unused@127.0.0.1:1/x"}
    done = subprocess.run(
        [sys.executable, "-m", "app.cli", "serve"], env=env, capture_output=True, text=True, timeout=60, check=False
    )
    assert done.returncode == 2
    assert "atlantis" in done.stderr and "atlantis.yaml does not exist" in done.stderr
    assert "Traceback" not in done.stderr


def test_region_setting_and_its_deprecated_alias() -> None:
    assert Settings(_env_file=None).region_codes == ["rotterdam"]
    assert Settings(_env_file=None, region="utrecht").region_codes == ["utrecht"]
    assert Settings(_env_file=None, regions="zuid-limburg, utrecht").region_codes == ["zuid-limburg", "utrecht"]


async def test_regions_and_programmes_per_region(client) -> None:
    await seed_programmes(*SHIPPED)
    r = await client.get("/api/v1/regions")
    assert r.status_code == 200
    assert r.json()["items"][1] == {
        "code": "zuid-limburg",
        "name": "Knooppunt Kansrijke Start Zuid-Limburg",
        "municipalities": ["Kerkrade", "Landgraaf", "Vaals"],
    }
    missing = await client.get("/api/v1/programmes")
    assert missing.status_code == 400 and missing.json()["invalidParams"][0]["name"] == "region"
    unknown = await client.get("/api/v1/programmes", params={"region": "atlantis"})
    assert unknown.status_code == 400 and unknown.json()["invalidParams"][0]["name"] == "region"
    utrecht = await client.get("/api/v1/programmes", params={"region": "utrecht"})
    assert [p["code"] for p in utrecht.json()["items"]] == ["buurtteam", "mamaatje", "stevig-ouderschap", "voorzorg"]


async def test_self_registration_carries_its_region(client, db) -> None:
    from sqlalchemy import select

    from app.intakes.models import Intake

    await seed_programmes(*SHIPPED)
    body = self_registration()
    none = await client.post("/api/v1/self-registrations", json=body)
    assert none.status_code == 400 and "region" in [p["name"] for p in none.json()["invalidParams"]]
    late = {**body["pregnancy"], "dueDate": "2099-01-01"}
    both = await client.post("/api/v1/self-registrations", json={**body, "region": "atlantis", "pregnancy": late})
    assert both.status_code == 400
    assert {p["name"] for p in both.json()["invalidParams"]} == {"region", "pregnancy.dueDate"}, both.text
    ok = await client.post("/api/v1/self-registrations", json={**body, "region": "zuid-limburg"})
    assert ok.status_code == 202, ok.text
    region = await db.scalar(select(Intake.region).where(Intake.reference == ok.json()["reference"]))
    assert region == "zuid-limburg"


def test_create_client_with_region_and_demo_of_every_region(database_url) -> None:
    env = {**os.environ, "DATABASE_URL": database_url, "REGIONS": ",".join(SHIPPED)}
    run = [sys.executable, "-m", "app.cli"]
    made = subprocess.run(
        [
            *run,
            "create-client",
            "--organisation",
            "aanmeldpunt-kerkrade",
            "--region",
            "zuid-limburg",
            "--scopes",
            "admin",
            "--json",
        ],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    assert json.loads(made.stdout)["region"] == "zuid-limburg"
    wrong = subprocess.run(
        [*run, "create-client", "--organisation", "x-org", "--region", "atlantis", "--scopes", "admin", "--json"],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert wrong.returncode == 2 and "atlantis" in wrong.stderr
    demo = subprocess.run([*run, "demo"], env=env, capture_output=True, text=True, timeout=180, check=True)
    out = json.loads(demo.stdout)
    assert out["admin"]["region"] == "rotterdam"  # the README walk-through's keys: the first region
    assert set(out["regions"]) == set(SHIPPED)
    for code in SHIPPED:
        clients = out["regions"][code]
        assert {"admin", "staff", "referrer"} <= set(clients)
        assert all(c["region"] == code for c in clients.values())
    assert "programme:mamaatje" in out["regions"]["utrecht"]
