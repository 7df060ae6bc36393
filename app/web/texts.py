"""Every word of the form pages, Dutch at language level B1 and English, in one place.
Error messages come from the API's catalogue (app/i18n/messages.py), so the form and the
JSON endpoint say the same thing."""

from __future__ import annotations

from app.i18n.language import Lang

# key -> (Dutch, English)
_TEXTS: dict[str, tuple[str, str]] = {
    "service": ("Centraal Aanmeldpunt", "Central Registration Point"),
    "skip": ("Naar de inhoud", "Skip to content"),
    "other_language": ("English", "Nederlands"),
    "other_language_code": ("en", "nl"),
    "title": ("Meld u aan voor hulp", "Register for support"),
    "intro": (
        "Bent u zwanger, of heeft u een baby of een jong kind? En wilt u hulp of iemand om mee te praten? "
        "Meld u dan hier aan. Het is gratis.",
        "Are you pregnant, or do you have a baby or a young child? And would you like support or someone "
        "to talk to? Then register here. It is free.",
    ),
    "intro_call": (
        "Na uw aanmelding neemt een medewerker contact met u op. Samen kijken we welke hulp bij u past.",
        "After you register, someone from our team will contact you. Together we look at what support fits you.",
    ),
    "region_label": ("Regio", "Region"),
    "optional": ("(niet verplicht)", "(optional)"),
    "error_prefix": ("Fout:", "Error:"),
    "error_title_prefix": ("Fout: ", "Error: "),
    "error_summary": ("Er is iets niet goed ingevuld", "There is a problem"),
    "error_summary_intro": (
        "Kijk de volgende punten na. Klik op een punt om naar het veld te gaan.",
        "Check the following. Select an item to go to the field.",
    ),
    # About you
    "about_you": ("Over u", "About you"),
    "given_name": ("Voornaam", "First name"),
    "family_name": ("Achternaam", "Last name"),
    "birth_date": ("Geboortedatum", "Date of birth"),
    "date_hint": ("Bijvoorbeeld 15-03-1998 (dag-maand-jaar)", "For example 15-03-1998 (day-month-year)"),
    # Pregnancy and children
    "pregnancy": ("Zwangerschap en kinderen", "Pregnancy and children"),
    "pregnant": ("Bent u zwanger?", "Are you pregnant?"),
    "yes": ("Ja", "Yes"),
    "no": ("Nee", "No"),
    "due_date": ("Uitgerekende datum", "Due date"),
    "due_date_hint": (
        "Alleen als u zwanger bent. De dag dat uw baby verwacht wordt, bijvoorbeeld 15-08-2027.",
        "Only if you are pregnant. The day your baby is expected, for example 15-08-2027.",
    ),
    "first_child": ("Wordt dit uw eerste kind?", "Will this be your first child?"),
    "youngest_child": ("Geboortedatum van uw jongste kind", "Date of birth of your youngest child"),
    "youngest_child_hint": (
        "Alleen als u al kinderen heeft. Bijvoorbeeld 02-11-2025.",
        "Only if you already have children. For example 02-11-2025.",
    ),
    # Contact
    "contact": ("Hoe kunnen wij u bereiken?", "How can we reach you?"),
    "contact_hint": (
        "Vul minstens één ding in: een telefoonnummer, een e-mailadres of uw adres.",
        "Fill in at least one: a phone number, an e-mail address or your address.",
    ),
    "phone": ("Telefoonnummer", "Phone number"),
    "phone_hint": ("Bijvoorbeeld 06 12345678", "For example 06 12345678 or +31 6 12345678"),
    "email": ("E-mailadres", "E-mail address"),
    "contact_preference": ("Hoe wilt u dat wij contact opnemen?", "How would you like us to contact you?"),
    "pref_phone": ("Bellen", "Phone call"),
    "pref_whatsapp": ("WhatsApp", "WhatsApp"),
    "pref_email": ("E-mail", "E-mail"),
    "language": ("Welke taal spreekt u het liefst?", "Which language do you prefer to speak?"),
    "language_none": ("Geen voorkeur", "No preference"),
    "interpreter": ("Ik wil graag een tolk", "I would like an interpreter"),
    # Address
    "address": ("Uw adres", "Your address"),
    "address_hint": (
        "Wij komen soms bij u thuis. Aan uw adres zien wij ook welke hulp er in uw buurt is.",
        "We sometimes visit you at home. Your address also tells us which support there is near you.",
    ),
    "postcode": ("Postcode", "Postcode"),
    "postcode_hint": ("Bijvoorbeeld 3073 AB", "For example 3073 AB"),
    "house_number": ("Huisnummer", "House number"),
    "house_number_suffix": ("Toevoeging", "Addition"),
    "house_number_suffix_hint": ("Bijvoorbeeld a of 2-hoog", "For example a or 2nd floor"),
    "city": ("Woonplaats", "Town or city"),
    # Help
    "concerns": ("Waar wilt u hulp bij?", "What would you like help with?"),
    "concerns_hint": ("Kies wat bij u past. U mag ook niets kiezen.", "Choose what fits you. You may choose nothing."),
    "message": ("Wilt u nog iets vertellen?", "Is there anything else you want to tell us?"),
    "message_hint": ("Schrijf het hier, in uw eigen woorden.", "Write it here, in your own words."),
    # Consent
    "consent": ("Toestemming", "Consent"),
    "consent_intro": (
        "Wij gebruiken uw gegevens alleen als u dat goed vindt. U kunt uw toestemming altijd weer intrekken.",
        "We only use your details if you agree. You can always take your consent back.",
    ),
    "consent_processing": (
        "Ja, het Centraal Aanmeldpunt mag mijn gegevens gebruiken om mij te helpen.",
        "Yes, the Central Registration Point may use my details to help me.",
    ),
    "consent_processing_hint": (
        "Dit is nodig. Zonder deze toestemming kunnen wij u niet helpen.",
        "This is needed. Without this consent we cannot help you.",
    ),
    "consent_share": (
        "Ja, het Aanmeldpunt mag mijn gegevens doorgeven aan de organisatie die mij gaat helpen, "
        "bijvoorbeeld een verpleegkundige of het wijkteam.",
        "Yes, the Registration Point may pass my details on to the organisation that will help me, "
        "for example a nurse or the neighbourhood team.",
    ),
    "consent_research": (
        "Ja, mijn gegevens mogen zonder mijn naam gebruikt worden voor onderzoek naar betere hulp.",
        "Yes, my details may be used without my name for research into better support.",
    ),
    "privacy_link": ("Lees hoe wij met uw gegevens omgaan", "Read how we handle your details"),
    "submit": ("Verstuur aanmelding", "Send registration"),
    # Regions
    "choose_region": ("Waar woont u?", "Where do you live?"),
    "choose_region_intro": (
        "Kies de regio waar u woont. Dan komt uw aanmelding bij de goede medewerkers.",
        "Choose the region where you live, so your registration reaches the right team.",
    ),
    "region_link": ("Ik woon in de regio {name}", "I live in the {name} region"),
    # Confirmation
    "done_title": ("Uw aanmelding is verstuurd", "Your registration has been sent"),
    "reference": ("Uw kenmerk", "Your reference"),
    "reference_hint": (
        "Schrijf dit kenmerk op. Noem het als u ons belt of mailt.",
        "Write this reference down. Mention it when you call or e-mail us.",
    ),
    "next": ("Wat gebeurt er nu?", "What happens next?"),
    "next_who": (
        "Een medewerker van het aanmeldpunt van {region} {how} binnen {days} {days_word}, uiterlijk op {date}.",
        "Someone from the registration point of {region} will {how} within {days} {days_word}, "
        "by {date} at the latest.",
    ),
    "how_phone": ("belt u", "call you"),
    "how_email": ("mailt u", "e-mail you"),
    "how_whatsapp": ("stuurt u een WhatsApp-bericht", "send you a WhatsApp message"),
    "how_any": ("neemt contact met u op", "contact you"),
    "working_day": ("werkdag", "working day"),
    "working_days": ("werkdagen", "working days"),
    "next_talk": (
        "In dat gesprek vragen wij wat u nodig heeft. Daarna zoeken wij samen met u de hulp die bij u past.",
        "In that conversation we ask what you need. Then we look, together with you, for the support that fits you.",
    ),
    "next_free": ("De hulp is gratis.", "The support is free."),
    "urgent_title": ("Is het dringend?", "Is it urgent?"),
    "urgent": (
        "Bent u of uw kind in direct gevaar? Bel 112. Wilt u praten over geweld thuis? "
        "Bel Veilig Thuis: 0800 2000. Dat is gratis, dag en nacht.",
        "Are you or your child in immediate danger? Call 112. Want to talk about violence at home? "
        "Call Veilig Thuis: 0800 2000. It is free, day and night.",
    ),
    # Errors
    "expired": (
        "Dit formulier is verlopen of al verstuurd. Kijk uw gegevens na en verstuur het opnieuw.",
        "This form has expired or was already sent. Check your details and send it again.",
    ),
    "too_many_title": ("Te veel aanmeldingen", "Too many registrations"),
    "too_many": (
        "Er zijn te veel aanmeldingen verstuurd vanaf dit internetadres. Probeer het over een uur opnieuw, of bel ons.",
        "Too many registrations were sent from this internet address. Try again in an hour, or call us.",
    ),
    "back_to_form": ("Terug naar het formulier", "Back to the form"),
    # Privacy
    "privacy_title": ("Privacy: wat wij met uw gegevens doen", "Privacy: what we do with your details"),
}

# The languages she can choose for the conversation (ISO 639 codes the API accepts).
LANGUAGES: list[tuple[str, str, str]] = [
    ("nl", "Nederlands", "Dutch"),
    ("en", "Engels", "English"),
    ("ar", "Arabisch", "Arabic"),
    ("tr", "Turks", "Turkish"),
    ("pl", "Pools", "Polish"),
    ("uk", "Oekraïens", "Ukrainian"),
    ("ti", "Tigrinya", "Tigrinya"),
    ("so", "Somalisch", "Somali"),
    ("fa", "Perzisch (Farsi)", "Persian (Farsi)"),
    ("pap", "Papiaments", "Papiamento"),
    ("es", "Spaans", "Spanish"),
    ("fr", "Frans", "French"),
]

# Concerns she can name herself, in her words (codes of DOMAIN.md).
CONCERNS: list[tuple[str, str, str]] = [
    ("debts", "Ik heb schulden of geldzorgen", "I have debts or money worries"),
    ("no_baby_supplies", "Ik heb nog geen spullen voor de baby", "I do not have things for the baby yet"),
    ("housing_problem", "Ik heb geen goede woonplek", "I do not have a good place to live"),
    ("stress", "Ik voel me vaak gestrest of somber", "I often feel stressed or low"),
    ("social_isolation", "Ik sta er alleen voor", "I have no one to help me"),
    ("relationship_problems", "Ik heb problemen in mijn relatie", "I have problems in my relationship"),
    ("language_barrier", "Ik spreek nog weinig Nederlands", "I speak little Dutch"),
    ("newcomer", "Ik woon nog maar kort in Nederland", "I have not lived in the Netherlands for long"),
    ("no_health_insurance", "Ik heb geen zorgverzekering", "I have no health insurance"),
    ("late_prenatal_care", "Ik heb nog geen verloskundige", "I do not have a midwife yet"),
]

MONTHS = {
    Lang.NL: "januari februari maart april mei juni juli augustus september oktober november december".split(),
    Lang.EN: "January February March April May June July August September October November December".split(),
}
WEEKDAYS = {
    Lang.NL: "maandag dinsdag woensdag donderdag vrijdag zaterdag zondag".split(),
    Lang.EN: "Monday Tuesday Wednesday Thursday Friday Saturday Sunday".split(),
}


def texts(lang: Lang) -> dict[str, str]:
    index = 0 if lang == Lang.NL else 1
    return {key: pair[index] for key, pair in _TEXTS.items()}
