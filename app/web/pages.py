"""The reference self-registration form at /aanmelden: server-rendered HTML that works
without JavaScript. A plain POST goes through the same code as `POST /api/v1/self-registrations`
(app/intakes/self_registration.py): the same model, rules, rate limit and transaction.

Not part of the API: these routes are left out of the OpenAPI document (and so of the
authorization and region-isolation matrices, which enumerate it); they need no token."""

from __future__ import annotations

import secrets
from datetime import date
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlencode

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response
from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape
from pydantic import ValidationError

from app import clock
from app.db import Db
from app.deadlines.policy import DeadlinePhase, working_days
from app.http.problems import Problem, validation_params
from app.i18n import messages
from app.i18n.language import Lang
from app.intakes import self_registration
from app.intakes.schemas import SelfRegistrationIn
from app.intakes.service import IntakeBundle, deadline_facts
from app.regions.config import RegionConfig
from app.regions.tenancy import Tenancy, tenancy
from app.web import csrf
from app.web import form as fields
from app.web.texts import CONCERNS, LANGUAGES, MONTHS, WEEKDAYS, texts

router = APIRouter(include_in_schema=False)
_HERE = Path(__file__).parent
_TEMPLATES = Environment(
    loader=FileSystemLoader(_HERE / "templates"),
    autoescape=select_autoescape(["html"]),
    undefined=StrictUndefined,
    trim_blocks=True,
    lstrip_blocks=True,
)
_CSS = (_HERE / "static" / "form.css").read_bytes()
# No script at all, styles only from our own file, the form posts only to us.
CSP = (
    "default-src 'none'; style-src 'self'; img-src 'self'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'"
)
FORM_DATE_EXAMPLE = "15-03-1998"


def _lang(request: Request) -> Lang:
    # Dutch unless she chose English: the form's readers are in the Netherlands.
    return Lang.EN if request.query_params.get("lang") == Lang.EN else Lang.NL


def _key(request: Request) -> bytes:
    secret = request.app.state.settings.form_secret
    if secret is not None:
        return str(secret.get_secret_value()).encode()
    state = request.app.state
    if not hasattr(state, "form_key"):
        state.form_key = secrets.token_bytes(32)  # one process: FORM_SECRET for several
    key: bytes = state.form_key
    return key


def _region(request: Request) -> str | None:
    """The region of this form: the only one, or `?region=CODE` when there are several."""
    regions: Tenancy = tenancy(request)
    code = request.query_params.get("region")
    if code is not None and regions.knows(code):
        return code
    if len(regions.codes) == 1 and code is None:
        return regions.first
    return None


def _query(lang: Lang, region: str | None, **more: str) -> str:
    params = {**({"region": region} if region else {}), **({"lang": "en"} if lang == Lang.EN else {}), **more}
    return "?" + urlencode(params) if params else ""


def _page(
    request: Request, template: str, lang: Lang, region: str | None, status: int = 200, **context: Any
) -> HTMLResponse:
    regions = tenancy(request)
    other = Lang.NL if lang == Lang.EN else Lang.EN
    path = request.url.path
    html = _TEMPLATES.get_template(template).render(
        lang=lang.value,
        t=texts(lang),
        region_name=regions.file(region).name if region else "",
        other_url=path + _query(other, region),
        privacy_url="/aanmelden/privacy" + _query(lang, region),
        form_url="/aanmelden" + _query(lang, region),
        **context,
    )
    return HTMLResponse(html, status_code=status, headers={"Content-Security-Policy": CSP})


def _with_token(request: Request, response: Response, token: str) -> Response:
    response.set_cookie(
        csrf.COOKIE,
        token,
        httponly=True,
        samesite="strict",
        secure=request.url.scheme == "https",
        path="/aanmelden",
    )
    return response


def _form(
    request: Request,
    lang: Lang,
    region: str,
    *,
    sub: fields.Submission | None = None,
    errors: list[fields.FieldError] | None = None,
    status: int = 200,
    fresh_token: bool = False,
) -> Response:
    key = _key(request)
    cookie = request.cookies.get(csrf.COOKIE)
    token = cookie if cookie and not fresh_token and csrf.valid(key, cookie, cookie) else csrf.new_token(key)
    sub = sub or fields.Submission({}, [])
    errors = errors or []
    response = _page(
        request,
        "form.html",
        lang,
        region,
        status,
        values=sub.values,
        chosen_concerns=set(sub.concerns),
        checked=sub.checked,
        errors=fields.by_field(errors),
        summary=errors,
        csrf_field=csrf.FIELD,
        csrf_token=token,
        languages=[(code, nl if lang == Lang.NL else en) for code, nl, en in LANGUAGES],
        concerns=[(code, nl if lang == Lang.NL else en) for code, nl, en in CONCERNS],
    )
    return _with_token(request, response, token)


def _regions_page(request: Request, lang: Lang) -> Response:
    regions = tenancy(request)
    choices = [(regions.file(code).name, "/aanmelden" + _query(lang, code)) for code in regions.codes]
    return _page(request, "regions.html", lang, None, choices=choices)


@router.get("/aanmelden")
async def show_form(request: Request) -> Response:
    lang = _lang(request)
    region = _region(request)
    if region is None:
        return _regions_page(request, lang)
    return _form(request, lang, region)


def _long_date(day: date, lang: Lang) -> str:
    return f"{WEEKDAYS[lang][day.weekday()]} {day.day} {MONTHS[lang][day.month - 1]} {day.year}"


def _next_steps(bundle: IntakeBundle, region: RegionConfig, lang: Lang) -> str:
    """Who contacts her, how, and within how many working days (the region's response deadline)."""
    t = texts(lang)
    intake = bundle.intake
    received_on = intake.received_at.astimezone(clock.AMSTERDAM).date()
    days = working_days(region.policy.deadlines, deadline_facts(intake), received_on)["response"]
    due = next(d.due_at for d in bundle.deadlines if d.phase == DeadlinePhase.RESPONSE)
    how = t.get(f"how_{intake.contact_preference}", t["how_any"])
    return t["next_who"].format(
        region=region.name,
        how=how,
        days=days,
        days_word=t["working_day"] if days == 1 else t["working_days"],
        date=_long_date(due.astimezone(clock.AMSTERDAM).date(), lang),
    )


def _problems(request: Request, payload: dict[str, Any]) -> tuple[SelfRegistrationIn | None, list[dict[str, str]]]:
    try:
        body = SelfRegistrationIn.model_validate(payload)
    except ValidationError as exc:
        return None, validation_params(exc.errors()) + self_registration.partial_problems(payload)
    return body, self_registration.problems(request, body)


@router.post("/aanmelden")
async def submit_form(request: Request, db: Db) -> Response:
    lang = _lang(request)
    region = _region(request)
    if region is None:
        return _regions_page(request, lang)
    try:
        pairs = parse_qsl((await request.body()).decode("utf-8", "replace"), keep_blank_values=True, max_num_fields=200)
    except ValueError:
        pairs = []
    sub = fields.read(pairs)
    t = texts(lang)
    submitted = next((value for name, value in pairs if name == csrf.FIELD), None)
    if not csrf.valid(_key(request), request.cookies.get(csrf.COOKIE), submitted):
        return _form(
            request, lang, region, sub=sub, errors=[fields.FieldError("", t["expired"])], status=403, fresh_token=True
        )
    body, params = _problems(request, fields.body(sub, region))
    if body is None or params:
        for param in params:
            if param.get("code") == "date.format":
                param["example"] = FORM_DATE_EXAMPLE  # the form asks day-month-year
        errors = fields.errors_by_field(messages.render(params, lang))
        return _form(request, lang, region, sub=sub, errors=errors, status=400)
    try:
        await self_registration.enforce_rate(request)
    except Problem as exc:
        if exc.status != 429:
            raise
        page = _page(request, "message.html", lang, region, 429, heading=t["too_many_title"], text=t["too_many"])
        page.headers.update(exc.headers)
        return page
    bundle = await self_registration.register(db, request, body)
    steps = _next_steps(bundle, self_registration.region_of(request, body), lang)
    page = _page(request, "done.html", lang, region, reference=bundle.intake.reference, next_who=steps)
    # A new token: sending the same page again (back, reload) cannot register her twice.
    return _with_token(request, page, csrf.new_token(_key(request)))


@router.get("/aanmelden/privacy")
async def privacy(request: Request) -> Response:
    lang = _lang(request)
    region = _region(request)
    regions = tenancy(request)
    config = regions.policy(region or regions.first)
    return _page(request, "privacy.html", lang, region, years=max(1, round(config.retention_days / 365)))


@router.get("/aanmelden/form.css")
async def stylesheet() -> Response:
    return Response(_CSS, media_type="text/css", headers={"Content-Security-Policy": CSP})
