"""The form's fields and the JSON self-registration body they make: the form asks in its own
way (dates as day-month-year, yes/no as radios) and hands the API's model the same body a
JSON client would send, so every rule is judged once, by the same code."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from typing import Any

# Field names of the form (HTML `name` and `id`).
TEXT_FIELDS = (
    "givenName",
    "familyName",
    "birthDate",
    "phone",
    "email",
    "postcode",
    "houseNumber",
    "houseNumberSuffix",
    "city",
    "pregnant",
    "dueDate",
    "firstChild",
    "youngestChild",
    "message",
    "contactPreference",
    "preferredLanguage",
)
CHECKBOXES = ("interpreterNeeded", "consent", "shareWithProgramme", "research")
MAX_FIELD = 4000  # free text; anything longer is cut and then refused by the API's rule

# The API's field (invalidParams[].name) -> the form field that shows its error.
FIELD_OF_PARAM = {
    "client.givenName": "givenName",
    "client.familyName": "familyName",
    "client.birthDate": "birthDate",
    "client.phone": "phone",
    "client.email": "email",
    "client": "phone",  # "at least one way to reach you": the first of the three
    "client.address.postcode": "postcode",
    "client.address.houseNumber": "houseNumber",
    "client.address.houseNumberSuffix": "houseNumberSuffix",
    "client.address.city": "city",
    "client.preferredLanguage": "preferredLanguage",
    "pregnancy.pregnant": "pregnant",
    "pregnancy.dueDate": "dueDate",
    "pregnancy.firstChild": "firstChild",
    "children[0].birthDate": "youngestChild",
    "message": "message",
    "contactPreference": "contactPreference",
    "consent.clientConsented": "consent",
    "consent.scopes": "consent",
}
# Radio groups: an error links to the first option, whose id is the field name.
DATE_FIELDS = {"birthDate", "dueDate", "youngestChild"}
_DATE = re.compile(r"^\s*(\d{1,2})\s*[-/. ]\s*(\d{1,2})\s*[-/. ]\s*(\d{4})\s*$")
_ISO = re.compile(r"^\s*(\d{4})-(\d{1,2})-(\d{1,2})\s*$")


@dataclass
class Submission:
    """What she typed (to show again) and the body for the API's model."""

    values: dict[str, str]
    concerns: list[str]
    checked: set[str] = field(default_factory=set)


def read(pairs: list[tuple[str, str]]) -> Submission:
    values: dict[str, str] = {}
    concerns: list[str] = []
    checked: set[str] = set()
    for key, value in pairs:
        if key in TEXT_FIELDS:
            values[key] = value[: MAX_FIELD + 1]
        elif key == "concerns":
            concerns.append(value[:64])
        elif key in CHECKBOXES and value:
            checked.add(key)
    return Submission(values, concerns[:30], checked)


def iso_date(raw: str) -> str:
    """`15-03-1998`, `15/3/1998`, `15.03.1998` or `1998-03-15` -> `1998-03-15`; anything
    else is passed on as typed, for the API's model to refuse with `date.format`."""
    if match := _DATE.match(raw):
        day, month, year = (int(g) for g in match.groups())
    elif match := _ISO.match(raw):
        year, month, day = (int(g) for g in match.groups())
    else:
        return raw
    try:
        return date(year, month, day).isoformat()
    except ValueError:
        return raw


def _yes_no(raw: str | None) -> bool | str | None:
    if raw in (None, ""):
        return None
    return {"yes": True, "no": False}.get(raw, raw)


def body(sub: Submission, region: str | None) -> dict[str, Any]:
    """The JSON self-registration body (camelCase, as API.md), empty fields left out."""
    v = {k: val for k, val in sub.values.items() if val.strip()}

    def date_of(name: str) -> str | None:
        return iso_date(v[name]) if name in v else None

    client: dict[str, Any] = {
        "givenName": v.get("givenName", ""),
        "familyName": v.get("familyName", ""),
        "interpreterNeeded": "interpreterNeeded" in sub.checked,
    }
    if "birthDate" in v:
        client["birthDate"] = date_of("birthDate")
    for name in ("phone", "email", "preferredLanguage"):
        if name in v:
            client[name] = v[name]
    address = {k: v[k] for k in ("postcode", "houseNumber", "houseNumberSuffix", "city") if k in v}
    if address:
        client["address"] = address
    pregnancy: dict[str, Any] = {}
    if (pregnant := _yes_no(v.get("pregnant"))) is not None:
        pregnancy["pregnant"] = pregnant
    if "dueDate" in v:
        pregnancy["dueDate"] = date_of("dueDate")
    if (first := _yes_no(v.get("firstChild"))) is not None:
        pregnancy["firstChild"] = first
    out: dict[str, Any] = {"client": client, "pregnancy": pregnancy}
    if region is not None:
        out["region"] = region
    if "youngestChild" in v:
        out["children"] = [{"birthDate": date_of("youngestChild")}]
    if sub.concerns:
        out["concerns"] = list(dict.fromkeys(sub.concerns))
    if "message" in v:
        out["message"] = v["message"]
    if "contactPreference" in v:
        out["contactPreference"] = v["contactPreference"]
    consented = "consent" in sub.checked
    scopes = ["processing"] if consented else []
    if consented and "shareWithProgramme" in sub.checked:
        scopes.append("share_with_programme")
    if consented and "research" in sub.checked:
        scopes.append("research")
    out["consent"] = {"clientConsented": consented, "scopes": scopes}
    return out


@dataclass(frozen=True)
class FieldError:
    field: str  # the form field (its id), or "" when no field of the form shows it
    message: str


# The fields in the order the page shows them: the error summary follows it (GOV.UK).
PAGE_ORDER = (
    "givenName familyName birthDate pregnant dueDate firstChild youngestChild phone email contactPreference "
    "preferredLanguage interpreterNeeded postcode houseNumber houseNumberSuffix city concerns message consent"
).split()


def errors_by_field(rendered: list[dict[str, str]]) -> list[FieldError]:
    """The API's invalid params (already in her language) on the form's fields: the first
    per field, in the order of the page; what no field shows comes last."""
    seen: set[str] = set()
    out: list[FieldError] = []
    for param in rendered:
        name = FIELD_OF_PARAM.get(param["name"], "")
        if name and name in seen:
            continue
        seen.add(name)
        out.append(FieldError(name, param["reason"]))
    return sorted(out, key=lambda e: PAGE_ORDER.index(e.field) if e.field in PAGE_ORDER else len(PAGE_ORDER))


def by_field(errors: list[FieldError]) -> Mapping[str, str]:
    return {e.field: e.message for e in errors if e.field}
