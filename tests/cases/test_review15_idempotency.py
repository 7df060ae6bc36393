"""Review of issue 15: an `Idempotency-Key` is the caller's key for ONE request to ONE resource.
Reused with the same body on another intake, it replayed the first intake's answer, and the
note (involvement, case meeting) was never recorded on the second."""

from __future__ import annotations

from tests.cases.test_cases import actors, new_case  # noqa: F401


async def test_the_same_key_on_another_intake_is_another_request(client, db, actors) -> None:  # noqa: F811
    staff = actors["staff"]
    first = f"/api/v1/intakes/{await new_case(client, actors)}"
    second = f"/api/v1/intakes/{await new_case(client, actors, **{'client.bsn': '111222333'})}"
    key = {**staff, "Idempotency-Key": "note-1"}
    a = await client.post(f"{first}/notes", json={"text": "Gebeld, geen gehoor."}, headers=key)
    assert a.status_code == 201, a.text
    # A retry on the same intake is a replay: the same note, not a second one.
    again = await client.post(f"{first}/notes", json={"text": "Gebeld, geen gehoor."}, headers=key)
    assert again.status_code == 201 and again.json()["id"] == a.json()["id"]
    b = await client.post(f"{second}/notes", json={"text": "Gebeld, geen gehoor."}, headers=key)
    assert b.status_code == 201, b.text
    assert b.json()["id"] != a.json()["id"]
    notes = [i for i in (await client.get(f"{second}/timeline", headers=staff)).json()["items"] if i["type"] == "note"]
    assert len(notes) == 1
    notes = [i for i in (await client.get(f"{first}/timeline", headers=staff)).json()["items"] if i["type"] == "note"]
    assert len(notes) == 1
