"""`aanmeldpunt report`: the figures of `GET /statistics` as a self-contained HTML report in
Dutch: tables, and charts drawn by matplotlib as inline SVG (no scripts, fonts or images from
anywhere else). Suppressed cells stay suppressed: shown as `*` in tables, left out of charts."""

from __future__ import annotations

import io
import re
from collections.abc import Mapping, Sequence
from datetime import datetime
from pathlib import Path
from typing import Any

import jinja2
import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt

from app import clock
from app.statistics.schemas import FigureCell, Statistics

TEMPLATES = Path(__file__).parent / "templates"

CONCERNS_NL = {
    "insufficient_income": "Onvoldoende inkomen",
    "debts": "Schulden",
    "no_baby_supplies": "Geen babyuitzet",
    "housing_problem": "Huisvestingsprobleem",
    "homeless": "Dakloos",
    "low_education": "Lage opleiding",
    "no_daytime_activity": "Geen dagbesteding",
    "relationship_problems": "Relatieproblemen",
    "domestic_violence": "Huiselijk geweld",
    "stress": "Stress",
    "mental_health": "Psychische problemen",
    "substance_use": "Middelengebruik",
    "physical_health": "Lichamelijke gezondheid",
    "late_prenatal_care": "Late start verloskundige zorg",
    "social_isolation": "Sociaal isolement",
    "language_barrier": "Taalbarrière",
    "newcomer": "Nieuwkomer",
    "no_health_insurance": "Geen zorgverzekering",
    "intellectual_disability": "Licht verstandelijke beperking",
    "justice": "Justitie",
    "parenting_concerns": "Zorgen over opvoeding",
    "no_maternity_care": "Geen kraamzorg",
}
LABELS_NL = {
    "referral": "Verwijzing",
    "self_registration": "Zelfaanmelding",
    "midwife": "Verloskundige",
    "gp": "Huisarts",
    "gynaecologist": "Gynaecoloog",
    "hospital": "Ziekenhuis",
    "jgz": "JGZ",
    "kraamzorg": "Kraamzorg",
    "wijkteam": "Wijkteam",
    "community_organisation": "Maatschappelijke organisatie",
    "other": "Anders",
    "unknown": "Onbekend",
    "potentially_vulnerable": "Mogelijk kwetsbaar",
    "vulnerable": "Kwetsbaar",
    "very_vulnerable": "Zeer kwetsbaar",
    "support_started": "Ondersteuning gestart",
    "declined_by_client": "Afgezien door cliënt",
    "unreachable": "Onbereikbaar",
    "moved_away": "Verhuisd",
    "no_support_needed": "Geen ondersteuning nodig",
    "referred_elsewhere": "Elders naartoe verwezen",
    "consent_withdrawn": "Toestemming ingetrokken",
    "duplicate": "Dubbele aanmelding",
    "open": "Nog lopend",
    "response": "Eerste contact",
    "intake": "Intakegesprek",
    "support_start": "Start ondersteuning",
    "<12": "< 12 weken",
    "12-19": "12–19 weken",
    "20-27": "20–27 weken",
    ">=28": "28 weken of meer",
    "<20": "jonger dan 20",
    "20-24": "20–24 jaar",
    "25-29": "25–29 jaar",
    "30-34": "30–34 jaar",
    ">=35": "35 jaar of ouder",
}
MONTHS_NL = ("jan", "feb", "mrt", "apr", "mei", "jun", "jul", "aug", "sep", "okt", "nov", "dec")
STAGES_NL = {
    "recommended": "Aanbevolen",
    "decided": "Besloten",
    "offered": "Aangeboden",
    "accepted": "Geaccepteerd",
    "declined": "Afgewezen",
    "supportStarted": "Gestart",
}
BLUE, ORANGE = "#01689b", "#e17000"  # Rijkshuisstijl hemelblauw and oranje


def label(code: str) -> str:
    if re.fullmatch(r"\d{4}-\d{2}", code):
        return f"{MONTHS_NL[int(code[5:]) - 1]} {code[:4]}"
    return LABELS_NL.get(code) or CONCERNS_NL.get(code) or code


def count_text(cell: FigureCell) -> str:
    return "*" if cell.suppressed else str(cell.count)


def share_text(cell: FigureCell) -> str:
    return "" if cell.share is None else f"{cell.share * 100:.0f}%".replace(".", ",")


def number_text(value: float | None, unit: str = "") -> str:
    if value is None:
        return "*"
    text = f"{value:g}".replace(".", ",")
    return f"{text} {unit}".strip()


def _svg(figure: Any) -> str:
    buffer = io.StringIO()
    figure.savefig(buffer, format="svg", bbox_inches="tight", metadata={"Date": None, "Creator": None})
    plt.close(figure)
    text = buffer.getvalue()
    text = text[text.index("<svg") :]  # drop the XML declaration and doctype: inline SVG
    return re.sub(r"<metadata>.*?</metadata>", "", text, flags=re.DOTALL)


def bar_chart(title: str, cells: Mapping[str, FigureCell], *, horizontal: bool = False, as_share: bool = False) -> str:
    """Bars of the published cells; suppressed ones are named in the axis label with `*`."""
    names = [label(code) + (" *" if cell.suppressed else "") for code, cell in cells.items()]
    values = [
        0.0 if cell.suppressed or cell.count is None else (100 * (cell.share or 0.0) if as_share else cell.count)
        for cell in cells.values()
    ]
    height = max(2.4, 0.32 * len(names) + 1) if horizontal else 3.2
    figure, axes = plt.subplots(figsize=(7.5, height))
    positions = range(len(names))
    if horizontal:
        axes.barh(positions, values, color=BLUE)
        axes.set_yticks(list(positions), names)
        axes.invert_yaxis()
    else:
        axes.bar(positions, values, color=BLUE)
        axes.set_xticks(
            list(positions), names, rotation=45 if len(names) > 6 else 0, ha="right" if len(names) > 6 else "center"
        )
    axes.set_title(title, loc="left", fontsize=11)
    for side in ("top", "right"):
        axes.spines[side].set_visible(False)
    (axes.set_xlabel if horizontal else axes.set_ylabel)("procent" if as_share else "aantal")
    return _svg(figure)


def paired_chart(title: str, rows: Sequence[tuple[str, float | None, float | None]], legend: tuple[str, str]) -> str:
    """Two bars per row (e.g. a concern at registration and after the home intake), in percent."""
    figure, axes = plt.subplots(figsize=(7.5, max(2.4, 0.42 * len(rows) + 1)))
    positions = list(range(len(rows)))
    first = [100 * (a or 0.0) for _, a, _ in rows]
    second = [100 * (b or 0.0) for _, _, b in rows]
    axes.barh([p - 0.2 for p in positions], first, height=0.4, color=BLUE, label=legend[0])
    axes.barh([p + 0.2 for p in positions], second, height=0.4, color=ORANGE, label=legend[1])
    axes.set_yticks(positions, [name for name, _, _ in rows])
    axes.invert_yaxis()
    axes.set_xlabel("procent")
    axes.legend(frameon=False, fontsize=9)
    axes.set_title(title, loc="left", fontsize=11)
    for side in ("top", "right"):
        axes.spines[side].set_visible(False)
    return _svg(figure)


def render(stats: Statistics, region_name: str, programme_names: Mapping[str, str], now: datetime | None = None) -> str:
    environment = jinja2.Environment(
        loader=jinja2.FileSystemLoader(TEMPLATES), autoescape=jinja2.select_autoescape(["html", "j2"])
    )
    environment.filters.update(count=count_text, share=share_text, number=number_text, label=label)
    concern_rows = sorted(
        stats.concerns.items(),
        key=lambda item: -(item[1].at_registration.count or 0),
    )
    shown = [
        (label(code), figures.at_registration.share, figures.after_assessment.share)
        for code, figures in concern_rows
        if not figures.at_registration.suppressed and (figures.at_registration.count or 0) > 0
    ]
    charts = {
        "months": bar_chart("Aanmeldingen per maand", stats.registrations.by_month),
        "sources": bar_chart("Aanmeldingen naar bron", stats.registrations.by_source),
        "weeks": bar_chart("Zwangerschapsduur bij aanmelding", stats.pregnancy.weeks_at_registration),
        "concerns": paired_chart(
            "Problemen bij aanmelding en na het huisbezoek (procent)",
            shown,
            ("bij aanmelding", "na intake thuis"),
        ),
        "decided": bar_chart(
            "Besloten programma",
            {programme_names.get(p, p): f.decided for p, f in stats.routing.items()},
            horizontal=True,
        ),
        "onTime": bar_chart(
            "Termijn gehaald (procent)",
            {phase: lead.met_on_time for phase, lead in stats.lead_times.items()},
            as_share=True,
        ),
    }
    template = environment.get_template("report.html.j2")
    return template.render(
        stats=stats,
        region_name=region_name,
        programme_names=programme_names,
        concern_rows=concern_rows,
        concern_names=CONCERNS_NL,
        stages=STAGES_NL,
        charts=charts,
        generated=(now or clock.now()).astimezone(clock.AMSTERDAM).strftime("%d-%m-%Y %H:%M"),
    )
