"""The message catalogue: every text a citizen (or a form built for her) can get back from a
validation error, in English and in Dutch at language level B1. Validators only name a
stable `code` (and arguments); the words live here and nowhere else.

`docs/error-codes.md` is generated from this module (`python -m app.i18n.messages`) and a
test fails when it differs, so the documented list cannot drift from the code."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from app.i18n.language import Lang


@dataclass(frozen=True)
class Msg:
    en: str
    nl: str
    rule: str = ""  # where the rule comes from (DOMAIN.md "Validation", the schema, …), for the docs

    def text(self, lang: Lang, args: dict[str, Any]) -> str:
        template = self.nl if lang == Lang.NL else self.en
        try:
            return template.format(**args)
        except (KeyError, IndexError, ValueError):
            return template


DOMAIN = 'DOMAIN.md "Validation"'

# code -> message. Codes are stable: clients may switch on them; never rename one.
CODES: dict[str, Msg] = {
    # The rules of DOMAIN.md "Validation".
    "bsn.elfproef": Msg(
        "A BSN has 9 digits and must pass the eleven test (elfproef). Check the number.",
        "Een BSN heeft 9 cijfers en moet kloppen volgens de elfproef. Kijk het nummer na.",
        DOMAIN + ": BSN",
    ),
    "postcode.format": Msg(
        "Write a Dutch postcode as 4 digits and 2 letters, for example 3073 AB.",
        "Schrijf een Nederlandse postcode als 4 cijfers en 2 letters, bijvoorbeeld 3073 AB.",
        DOMAIN + ": postcode (four digits, first not 0, two letters, not SA/SD/SS)",
    ),
    "dueDate.range": Msg(
        "The due date must be between 30 days ago and 300 days from today. Check the date.",
        "De uitgerekende datum moet tussen 30 dagen geleden en 300 dagen na vandaag liggen. Kijk de datum na.",
        DOMAIN + ": due date",
    ),
    "phone.format": Msg(
        "This phone number is not right. Write it like this: 06 12345678 or +31 6 12345678.",
        "Dit telefoonnummer klopt niet. Schrijf het zo: 06 12345678 of +31 6 12345678.",
        DOMAIN + ": phone (Dutch or international)",
    ),
    "email.format": Msg(
        "This e-mail address is not right. Write it like this: name@example.nl.",
        "Dit e-mailadres klopt niet. Schrijf het zo: naam@voorbeeld.nl.",
        DOMAIN + ": e-mail (syntax)",
    ),
    "text.tooLong": Msg(
        "This text is too long. Use at most {max} characters.",
        "Deze tekst is te lang. Gebruik niet meer dan {max} tekens.",
        DOMAIN + ": free text at most 4,000 characters, names at most 200",
    ),
    # Rules between fields and against today (app/intakes/validation.py).
    "dueDate.required": Msg(
        "Fill in your due date: the day your baby is expected.",
        "Vul de uitgerekende datum in: de dag dat uw baby verwacht wordt.",
        "a pregnancy has a due date",
    ),
    "dueDate.notPregnant": Msg(
        "A due date only fits when you are pregnant. Leave it empty, or choose 'yes' for pregnant.",
        "Een uitgerekende datum past alleen als u zwanger bent. Laat de datum leeg, of kies 'ja' bij zwanger.",
        "only a pregnancy has a due date",
    ),
    "birthDate.past": Msg(
        "A birth date must be in the past. Check the date.",
        "Een geboortedatum moet in het verleden liggen. Kijk de datum na.",
        "birth dates are in the past (after 1900)",
    ),
    "childBirthDate.range": Msg(
        "A child's birth date must be within the past 18 years. Check the date.",
        "De geboortedatum van een kind moet in de afgelopen 18 jaar liggen. Kijk de datum na.",
        "children are under 18",
    ),
    "contact.required": Msg(
        "Give a phone number, an e-mail address or an address, so that we can reach you.",
        "Geef een telefoonnummer, een e-mailadres of een adres. Dan kunnen wij u bereiken.",
        "at least one way to reach her",
    ),
    "consent.required": Msg(
        "We can only help you when you agree that we use your details. Tick the box to agree.",
        "Wij kunnen u alleen helpen als u toestemming geeft om uw gegevens te gebruiken. "
        "Zet een vinkje om ja te zeggen.",
        "a self-registration needs her consent",
    ),
    "consent.processing": Msg(
        "Consent must include 'processing': agreeing that we use your details.",
        "De toestemming moet 'processing' bevatten: dat wij uw gegevens mogen gebruiken.",
        "consent always includes processing",
    ),
    "consent.referral": Msg(
        "A referral needs the client's consent, unless the legal basis is the meldcode.",
        "Een aanmelding door een professional heeft toestemming van de cliënt nodig, "
        "behalve met de meldcode als grondslag.",
        "referrals: consent or the meldcode",
    ),
    "consent.obtainedAt.future": Msg(
        "The moment consent was given cannot be in the future.",
        "Het moment van de toestemming kan niet in de toekomst liggen.",
        "consent was given before it is recorded",
    ),
    "justification.required": Msg(
        "The meldcode basis needs a written justification of at least 20 characters.",
        "De meldcode als grondslag heeft een geschreven onderbouwing van minstens 20 tekens nodig.",
        "meldcode: a justification",
    ),
    "safetyConcern.required": Msg(
        "The meldcode basis applies only with a safety concern.",
        "De meldcode geldt alleen als er zorgen zijn over de veiligheid.",
        "meldcode: a safety concern",
    ),
    "region.required": Msg(
        "Choose the region where you live: one of {options}.",
        "Kies de regio waar u woont: een van {options}.",
        "several regions: she chooses one",
    ),
    "region.unknown": Msg(
        "We do not know this region. Choose one of {options}.",
        "Deze regio kennen wij niet. Kies een van {options}.",
        "a configured region",
    ),
    # Unknown fields: said in plain words; a BSN sent by mistake gets its own.
    "field.unknown": Msg(
        "We do not ask for '{field}'. Leave it out.",
        "Wij vragen niet naar '{field}'. Laat het weg.",
        "only the fields of the contract",
    ),
    "bsn.notAsked": Msg(
        "You do not have to give your BSN (citizen service number) here. Leave it out; we do not need it to help you.",
        "U hoeft hier geen BSN (burgerservicenummer) te geven. Laat het weg; wij hebben het niet nodig om u te helpen.",
        "a self-registration never asks for the BSN",
    ),
    # The shape of the input.
    "field.required": Msg("Fill this in.", "Vul dit in.", "required fields"),
    "field.boolean": Msg("Choose yes or no.", "Kies ja of nee.", "yes/no fields"),
    "field.choice": Msg(
        "Choose one of the options: {options}.", "Kies een van de mogelijkheden: {options}.", "fixed lists"
    ),
    "field.format": Msg(
        "This is not written in the right way.", "Dit is niet op de goede manier geschreven.", "patterns"
    ),
    "field.type": Msg("This value is of the wrong kind.", "Deze waarde is van de verkeerde soort.", "JSON types"),
    "field.invalid": Msg("This value is not valid.", "Deze waarde klopt niet.", "anything else"),
    "houseNumber.format": Msg(
        "Write the house number in digits only, for example 12. A letter or other addition goes in 'addition'.",
        "Schrijf het huisnummer alleen in cijfers, bijvoorbeeld 12. Een letter of toevoeging hoort bij 'toevoeging'.",
        "house number: 1 to 5 digits",
    ),
    "date.format": Msg(
        "We cannot read this date. Write it like this: {example}.",
        "Deze datum kunnen wij niet lezen. Schrijf hem zo: {example}.",
        "dates",
    ),
    "list.tooLong": Msg("At most {max} items.", "Niet meer dan {max} keuzes.", "lists"),
    "text.nul": Msg(
        "This text contains a character that is not allowed (NUL).",
        "Deze tekst bevat een teken dat niet mag (NUL).",
        "text cannot hold NUL",
    ),
    "body.json": Msg("The body is not valid JSON.", "De inhoud is geen geldige JSON.", "the body"),
    "body.required": Msg("A JSON body is required.", "Er is een JSON-inhoud nodig.", "the body"),
}

# `field.required` said per field, where a specific sentence helps (GOV.UK: say what to do).
REQUIRED: dict[str, Msg] = {
    "client.givenName": Msg("Fill in your first name.", "Vul uw voornaam in."),
    "client.familyName": Msg("Fill in your last name.", "Vul uw achternaam in."),
    "client.birthDate": Msg("Fill in your date of birth.", "Vul uw geboortedatum in."),
    "pregnancy.pregnant": Msg("Choose whether you are pregnant.", "Kies of u zwanger bent."),
    "consent.clientConsented": Msg("Say whether you agree.", "Zeg of u toestemming geeft."),
}

# Texts of whole answers a citizen can meet.
TEXTS: dict[str, Msg] = {
    "invalid-input.title": Msg("Invalid input", "Niet goed ingevuld"),
    "invalid-input.detail": Msg("One or more fields are invalid.", "Een of meer velden zijn niet goed ingevuld."),
    "rate-limited.title": Msg("Too Many Requests", "Te veel aanvragen"),
    "rate-limited.detail": Msg(
        "Too many requests from this address; try again later.",
        "Te veel aanvragen vanaf dit adres. Probeer het later opnieuw.",
    ),
    "self-registration.received": Msg(
        "Thank you. We have received your registration and will contact you as soon as possible.",
        "Dank je wel. We hebben je aanmelding ontvangen en nemen zo snel mogelijk contact met je op.",
    ),
}

_RESERVED = ("name", "code", "reason")


def reason(code: str, lang: Lang, name: str = "", **args: Any) -> str:
    if code == "field.required" and name in REQUIRED:
        return REQUIRED[name].text(lang, args)
    return CODES[code].text(lang, args)


def render(params: list[dict[str, str]], lang: Lang) -> list[dict[str, str]]:
    """Internal invalid-param dicts ({name, code, args…} or a bare {name, reason}) as the API
    answers them: {name, code, reason}. A code of the catalogue is said in `lang`; a reason
    without a known code (administrative checks, English) is passed on as `field.invalid`."""
    out: list[dict[str, str]] = []
    for param in params:
        code = param.get("code", "field.invalid")
        args = {k: v for k, v in param.items() if k not in _RESERVED}
        if code in CODES and not (code == "field.invalid" and "reason" in param):
            text = reason(code, lang, param["name"], **args)
        else:
            text = param.get("reason") or CODES["field.invalid"].text(lang, args)
        out.append({"name": param["name"], "code": code, "reason": text})
    return out


def text(key: str, lang: Lang) -> str:
    return TEXTS[key].text(lang, {})


def document() -> str:
    """docs/error-codes.md: the list of codes with both texts."""
    lines = [
        "# Validation error codes",
        "",
        "Generated from `app/i18n/messages.py` by `python -m app.i18n.messages > docs/error-codes.md`;",
        "`tests/i18n/test_error_messages.py` fails when this file differs from the catalogue.",
        "",
        "Every item of `invalidParams[]` in a 400 problem has `name` (the field, a dotted camelCase",
        "path), a stable `code` from this list and `reason`: Dutch when `Accept-Language` prefers",
        "`nl` (q-values count), English otherwise. Codes never change meaning; switch on the code,",
        "show the reason. Reasons of administrative checks (region policies, webhooks) are English",
        "only and come with `field.invalid`. `{…}` is filled in per error.",
        "",
        "| code | rule | English | Nederlands |",
        "|---|---|---|---|",
    ]
    for code, msg in CODES.items():
        lines.append(f"| `{code}` | {msg.rule} | {msg.en} | {msg.nl} |")
    lines += [
        "",
        "`field.required` is said per field where that helps:",
        "",
        "| field | English | Nederlands |",
        "|---|---|---|",
    ]
    for name, msg in REQUIRED.items():
        lines.append(f"| `{name}` | {msg.en} | {msg.nl} |")
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    print(document(), end="")
