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


def test_operation_ids_are_camel_case_verbs_and_unique():
    doc = json.loads(Path("openapi/openapi.json").read_text())
    ids = [op["operationId"] for item in doc["paths"].values() for op in item.values()]
    assert len(ids) == len(set(ids))
    verbs = (
        "get",
        "list",
        "create",
        "add",
        "change",
        "correct",
        "delete",
        "deactivate",
        "assess",
        "route",
        "offer",
        "close",
        "merge",
        "withdraw",
        "record",
        "accept",
        "decline",
        "report",
        "simulate",
        "rotate",
        "replay",
        "confirm",
        "end",
        "set",
        "reopen",
        "export",
        "put",
        "mark",
        "update",
        "submit",
        "show",
    )
    for op_id in ids:
        assert op_id[0].islower() and "_" not in op_id, op_id
        assert op_id.startswith(verbs), f"{op_id} does not start with a verb; add it to OPERATION_IDS in app/openapi.py"


def test_request_fields_with_a_default_are_optional_in_every_generator():
    doc = json.loads(Path("openapi/openapi.json").read_text())
    for name, schema in doc["components"]["schemas"].items():
        required = set(schema.get("required", []))
        for prop_name, prop in schema.get("properties", {}).items():
            assert "default" not in prop or prop_name in required, f"{name}.{prop_name}"


async def test_token_endpoint_is_documented_and_served_under_the_base_path(client):
    doc = json.loads(Path("openapi/openapi.json").read_text())
    operation = doc["paths"]["/oauth/token"]["post"]
    assert "application/x-www-form-urlencoded" in operation["requestBody"]["content"]
    assert {"200", "400", "401"} <= set(operation["responses"])
    assert doc["components"]["securitySchemes"]["oauth2"]["flows"]["clientCredentials"]["tokenUrl"]
    answer = await client.post(
        "/api/v1/oauth/token", data={"grant_type": "client_credentials", "client_id": "nobody", "client_secret": "x"}
    )
    assert answer.status_code == 401
    assert answer.json()["error"] == "invalid_client"


def test_every_object_in_the_document_is_typed():
    """Generated clients need every object's properties: no free-form objects anywhere."""
    doc = json.loads(Path("openapi/openapi.json").read_text())
    untyped = []

    def walk(node, path):
        if isinstance(node, dict):
            free_form = node.get("additionalProperties") in (None, True, {})
            if node.get("type") == "object" and "properties" not in node and free_form:
                untyped.append(path)
            for key, value in node.items():
                walk(value, f"{path}/{key}")
        elif isinstance(node, list):
            for i, value in enumerate(node):
                walk(value, f"{path}/{i}")

    walk(doc, "#")
    assert untyped == []


def test_every_example_in_the_document_is_valid_against_its_schema():
    from jsonschema import Draft202012Validator
    from referencing import Registry
    from referencing.jsonschema import DRAFT202012

    doc = json.loads(Path("openapi/openapi.json").read_text())
    registry = Registry().with_resource("urn:doc", DRAFT202012.create_resource(doc))
    checked = []

    def check(schema, example, where):
        wrapped = {"$ref": "urn:doc" + where}
        errors = list(Draft202012Validator(wrapped, registry=registry).iter_errors(example))
        assert not errors, f"{where}: {example!r}: {errors[0].message}"
        checked.append(where)

    def walk(node, path):
        if isinstance(node, dict):
            if "schema" in node and isinstance(node.get("example"), dict | list | str | int):
                check(node["schema"], node["example"], f"{path}/schema")
            if isinstance(node.get("examples"), list) and ("type" in node or "$ref" in node or "anyOf" in node):
                for example in node["examples"]:
                    check(node, example, path)
            for key, value in node.items():
                walk(value, f"{path}/{key.replace('~', '~0').replace('/', '~1')}")
        elif isinstance(node, list):
            for i, value in enumerate(node):
                walk(value, f"{path}/{i}")

    walk(doc, "#")
    assert checked


def test_case_file_details_name_their_vocabularies():
    """A generated client gets an enum, not a bare string, for every coded value in a case-file
    entry (`source` stays text: it is the intake's, the legal basis's or the involvement's)."""
    doc = json.loads(Path("openapi/openapi.json").read_text())
    props = doc["components"]["schemas"]["TimelineDetails"]["properties"]
    expected = {
        "referrerRole": "ReferrerRole",
        "legalBasis": "LegalBasis",
        "channel": "ContactChannel",
        "location": "AssessmentLocation",
        "scope": "ConsentScope",
        "method": "ConsentMethod",
        "basis": "LegalBasis",
        "role": "InvolvementRole",
        "closeReason": "CloseReason",
        "phase": "DeadlinePhase",
    }
    refs = {name: json.dumps(props[name]) for name in expected}
    wrong = {name: refs[name] for name, enum in expected.items() if f"#/components/schemas/{enum}" not in refs[name]}
    assert not wrong, wrong
