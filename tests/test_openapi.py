"""The committed OpenAPI document is the served one."""

from __future__ import annotations

import json
from pathlib import Path


async def test_served_document_equals_committed(client):
    served = await client.get("/api/v1/openapi.json")
    assert served.status_code == 200
    committed = json.loads(Path("openapi/openapi.json").read_text())
    assert served.json() == committed, "run `make openapi` and commit openapi/openapi.json"
    assert committed["servers"][0]["url"] == "/api/v1"
