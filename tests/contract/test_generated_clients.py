"""Integrators generate clients from the committed OpenAPI document. Generate a Python client
with openapi-python-client (default options) and run the README's walk-through through it
against a real server process. (The TypeScript client is type-checked by `make contract-ts`.)"""

from __future__ import annotations

import importlib
import json
import os
import subprocess
import sys
import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from tests.support.live import LiveServer

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def generated(tmp_path_factory: pytest.TempPathFactory) -> Any:
    out = tmp_path_factory.mktemp("generated")
    bin_dir = Path(sys.executable).parent
    env = {**os.environ, "PATH": f"{bin_dir}{os.pathsep}{os.environ.get('PATH', '')}"}
    result = subprocess.run(
        [
            str(bin_dir / "openapi-python-client"),
            "generate",
            "--path",
            str(ROOT / "openapi/openapi.json"),
            "--output-path",
            str(out / "amp_client"),
            "--meta",
            "none",
        ],
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "Warning" not in result.stdout + result.stderr, result.stdout + result.stderr
    sys.path.insert(0, str(out))
    try:
        yield importlib.import_module("amp_client")
    finally:
        sys.path.remove(str(out))
        for name in [m for m in sys.modules if m == "amp_client" or m.startswith("amp_client.")]:
            del sys.modules[name]


def _api(name: str) -> Any:
    for package in Path(sys.modules["amp_client"].__file__ or "").parent.joinpath("api").iterdir():
        if (package / f"{name}.py").exists():
            return importlib.import_module(f"amp_client.api.{package.name}.{name}")
    raise AssertionError(f"no generated operation {name}")


def _model(name: str) -> Any:
    return getattr(importlib.import_module("amp_client.models"), name)


def _now() -> str:
    return datetime.now(UTC).isoformat()


@pytest.fixture
def live(database_url: str) -> Any:
    server = LiveServer(database_url).start()
    try:
        yield server
    finally:
        server.stop()


def _demo(server: LiveServer) -> dict[str, Any]:
    out = subprocess.run(
        [sys.executable, "-m", "app.cli", "demo"], env=server.environment(), check=True, capture_output=True
    ).stdout
    return dict(json.loads(out))


def test_readme_walk_through_with_the_generated_python_client(generated: Any, live: LiveServer) -> None:
    demo = _demo(live)
    anonymous = generated.Client(base_url=f"{live.base}/api/v1", raise_on_unexpected_status=True)

    def token(client_id: str, secret: str) -> Any:
        body = _model("TokenRequest")(
            grant_type=_model("TokenRequestGrantType")("client_credentials"), client_id=client_id, client_secret=secret
        )
        answer = _api("get_token").sync(client=anonymous, body=body)
        assert type(answer).__name__ == "TokenResponse", answer
        return generated.AuthenticatedClient(
            base_url=f"{live.base}/api/v1", token=answer.access_token, raise_on_unexpected_status=True
        )

    admin = token(demo["admin"]["clientId"], demo["admin"]["clientSecret"])
    created = _api("create_client").sync(
        client=admin,
        body=_model("ClientIn").from_dict(
            {
                "organisation": "verloskundigen-zuid",
                "name": "Praktijk Zuid",
                "scopes": ["referrals:write", "referrals:read"],
            }
        ),
    )
    referrer = token(created.client_id, created.client_secret)

    example = json.loads((ROOT / "docs/example-referral.json").read_text())
    referral_in = _model("ReferralIn").from_dict(example)
    key = str(uuid.uuid4())
    referral = _api("create_referral").sync(client=referrer, body=referral_in, idempotency_key=key)
    assert type(referral).__name__ == "ReferralView", referral
    again = _api("create_referral").sync(client=referrer, body=referral_in, idempotency_key=key)
    assert again.id == referral.id  # the retry is safe: same key, same answer
    fetched = _api("get_referral").sync(referral.id, client=referrer)
    assert fetched.id == referral.id

    self_in = _model("SelfRegistrationIn").from_dict(
        json.loads((ROOT / "docs/example-self-registration.json").read_text())
    )
    accepted = _api("create_self_registration").sync(client=anonymous, body=self_in)
    assert accepted.reference.startswith("AMP-")

    staff = token(demo["staff"]["clientId"], demo["staff"]["clientSecret"])
    worklist = _api("list_intakes").sync(client=staff)
    assert referral.id in [item.id for item in worklist.items]

    intake_id = referral.id
    _api("add_contact").sync(
        intake_id, client=staff, body=_model("ContactIn").from_dict({"at": _now(), "channel": "phone", "reached": True})
    )
    _api("assess_intake").sync(
        intake_id,
        client=staff,
        body=_model("AssessmentIn").from_dict(
            {"visitedAt": _now(), "location": "home", "concerns": ["social_isolation"]}
        ),
    )
    recommended = _api("route_intake").sync(intake_id, client=staff, body=_model("RoutingIn").from_dict({}))
    programme = recommended.routing.recommendation.programme
    _api("route_intake").sync(intake_id, client=staff, body=_model("RoutingIn").from_dict({"programme": programme}))
    handoff = _api("offer_handoff").sync(intake_id, client=staff)

    coach = token(demo[f"programme:{programme}"]["clientId"], demo[f"programme:{programme}"]["clientSecret"])
    moment = _model("MomentIn").from_dict({"at": _now()})
    assert _api("accept_handoff").sync(handoff.id, client=coach).status == "accepted"
    assert _api("report_first_contact").sync(handoff.id, client=coach, body=moment).status in (
        "accepted",
        "first_contact",
    )
    _api("report_support_started").sync(handoff.id, client=coach, body=moment)
    final = _api("get_intake").sync(intake_id, client=staff)
    assert final.status == "support_started"
