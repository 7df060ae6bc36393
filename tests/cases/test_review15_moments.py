"""Review of issue 15: a reported moment in year 1 (with or without an offset) was accepted or
overflowed (500), and once stored broke every later read of the case file (500). Now 400."""

from __future__ import annotations

import pytest

from tests.cases.test_cases import actors, new_case  # noqa: F401

PARTICIPANT = {"role": "midwife", "organisationName": "Wijkteam Noord"}


@pytest.mark.parametrize("at", ["0001-01-01T00:00:00+14:00", "0001-01-01T00:00:00Z", "1899-12-31T23:00:00Z"])
async def test_ancient_moments_are_400_and_the_case_file_stays_readable(client, db, actors, at: str) -> None:  # noqa: F811
    staff = actors["staff"]
    base = f"/api/v1/intakes/{await new_case(client, actors)}"
    for path, body, field in [
        ("case-meetings", {"at": at, "participants": [PARTICIPANT]}, "at"),
        ("involvements", {**PARTICIPANT, "since": at}, "since"),
        ("contacts", {"at": at, "channel": "phone", "reached": False}, "at"),
    ]:
        r = await client.post(f"{base}/{path}", json=body, headers=staff)
        assert r.status_code == 400, (path, r.text)
        assert r.headers["content-type"].startswith("application/problem+json")
        assert [p["name"] for p in r.json()["invalidParams"]] == [field]
    for path in ("timeline", "involvements", "case-meetings"):
        assert (await client.get(f"{base}/{path}", headers=staff)).status_code == 200, path
