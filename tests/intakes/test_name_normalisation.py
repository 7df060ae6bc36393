"""Issue 13 point 1: every invisible character, not only zero-width and bidi controls, is
removed from a name before it is stored, every kind of space is one ordinary space, and
duplicate matching compares NFKC + case-folded keys. A table per class of character, a sweep
over all of Unicode, and the duplicate match through the API."""

from __future__ import annotations

import asyncio
import sys
import unicodedata

import asyncpg
import pytest
from alembic import command

from app.migrate import alembic_config
from app.names import checked_name, match_key, normalise_name
from tests.support.helpers import auth_for, referral


def _span(low: int, high: int) -> list[str]:
    return [chr(c) for c in range(low, high + 1)]


# Each class the attacker review found passing through, every code point of it.
REMOVED: dict[str, list[str]] = {
    "tag characters": _span(0xE0000, 0xE007F),
    "deprecated format controls": _span(0x206A, 0x206F),
    "interlinear annotation": _span(0xFFF9, 0xFFFB),
    "Arabic number signs": _span(0x0600, 0x0605),
    "Arabic letter mark": ["\u061c"],
    "Mongolian vowel separator": ["\u180e"],
    "soft hyphen": ["\u00ad"],
    "Hangul fillers": ["\u115f", "\u1160", "\u3164", "\uffa0"],
    "braille blank": ["\u2800"],
    "variation selectors": _span(0xFE00, 0xFE0F),
    "variation selectors supplement": _span(0xE0100, 0xE01EF),
    "Mongolian free variation selectors": _span(0x180B, 0x180F),
    "C0 controls": [c for c in _span(0x00, 0x1F) if not c.isspace()],
    "DEL and C1 controls": [c for c in _span(0x7F, 0x9F) if not c.isspace()],
    "zero width and bidi": ["\u200b", "\u200c", "\u200d", "\u2060", "\ufeff", "\u202e", "\u2067"],
    "lone surrogate": ["\ud800"],
}
SPACES: dict[str, list[str]] = {
    "no-break space": ["\u00a0"],
    "en quad to hair space": _span(0x2000, 0x200A),
    "narrow no-break space": ["\u202f"],
    "medium mathematical space": ["\u205f"],
    "ideographic space": ["\u3000"],
    "tab, new line and friends": ["\t", "\n", "\r", "\x0b", "\x0c", "\x85"],
    "line and paragraph separators": ["\u2028", "\u2029"],
}


@pytest.mark.parametrize("kind", sorted(REMOVED))
def test_invisible_characters_are_removed(kind: str) -> None:
    for char in REMOVED[kind]:
        name = f"{char}Jan{char}sen{char}"
        assert normalise_name(name) == "Jansen", f"U+{ord(char):04X} ({kind})"
        assert match_key(name) == match_key("Jansen"), f"U+{ord(char):04X} ({kind})"
        with pytest.raises(ValueError, match="visible"):
            checked_name(char * 3)


@pytest.mark.parametrize("kind", sorted(SPACES))
def test_every_space_is_one_ordinary_space(kind: str) -> None:
    for char in SPACES[kind]:
        name = f"{char}De{char}{char} Vries{char}"
        assert normalise_name(name) == "De Vries", f"U+{ord(char):04X} ({kind})"
        assert match_key(name) == match_key("de vries")


def test_no_format_control_or_space_character_anywhere_in_unicode_survives() -> None:
    """The property over every code point: what remains of "A?B" is "AB" or "A B"."""
    for code_point in range(sys.maxunicode + 1):
        char = chr(code_point)
        category = unicodedata.category(char)
        if category in {"Cf", "Cc", "Cs"}:
            assert normalise_name(f"A{char}B") in {"AB", "A B"}, f"U+{code_point:04X}"
        elif category in {"Zs", "Zl", "Zp"}:
            assert normalise_name(f"A{char}B") == "A B", f"U+{code_point:04X}"


@pytest.mark.parametrize(
    ("raw", "stored"),
    [
        ("Jose\u0301", "Jos\u00e9"),  # NFC
        ("Jose\u200b\u0301", "Jos\u00e9"),  # NFC after the removal: the accent joins the e
        ("\uff2a\uff41\uff4e\uff53\uff45\uff4e", "\uff2a\uff41\uff4e\uff53\uff45\uff4e"),  # stored as typed
        ("Stra\u00dfer", "Stra\u00dfer"),
        ("\u0645\u062d\u0645\u062f", "\u0645\u062d\u0645\u062f"),  # Arabic letters stay
        ("\uc548\ub155", "\uc548\ub155"),  # Hangul syllables stay
        ("Nguy\u1ec5n", "Nguy\u1ec5n"),
    ],
)
def test_visible_letters_are_kept_and_stored_in_nfc(raw: str, stored: str) -> None:
    assert normalise_name(raw) == stored
    assert normalise_name(stored) == stored  # idempotent


@pytest.mark.parametrize(
    ("one", "other"),
    [
        ("\uff2a\uff41\uff4e\uff53\uff45\uff4e", "Jansen"),  # full-width letters (NFKC)
        ("Ja\ufb00en", "Jaffen"),  # ligature (NFKC)
        ("STRASSER", "Stra\u00dfer"),  # case folding, not lower()
        ("Jan\U000e0041\U000e0042sen", "jansen"),  # tag characters
        ("Jan\u3164sen", "JANSEN"),  # Hangul filler
        ("De\u00a0Vries", "de vries"),
    ],
)
def test_match_keys_of_the_same_name_are_equal(one: str, other: str) -> None:
    assert match_key(one) == match_key(other)
    assert match_key(match_key(one)) == match_key(one)


@pytest.mark.parametrize(
    "family_name",
    [
        "Jan\U000e0020sen\U000e007f",  # tag space and cancel tag
        "Jan\u3164sen",  # Hangul filler
        "Janse\ufe0fn",  # variation selector
        "Jan\u2800sen",  # braille blank
        "Jan\u00adsen\u180b",  # soft hyphen, Mongolian FVS
        "\uff2a\uff41\uff4e\uff53\uff45\uff4e",  # full-width: stored as typed, matched by NFKC
        "JANSEN",
    ],
)
async def test_an_invisible_character_does_not_defeat_duplicate_matching(client, family_name: str) -> None:
    staff, referrer = await auth_for(client, "staff"), await auth_for(client, "referrer")
    first = await client.post("/api/v1/referrals", json=referral(**{"client.bsn": None}), headers=referrer)
    assert first.status_code == 201, first.text
    look_alike = referral(**{"client.bsn": None, "client.familyName": family_name})
    second = await client.post("/api/v1/referrals", json=look_alike, headers=referrer)
    assert second.status_code == 201, second.text
    intake = (await client.get(f"/api/v1/intakes/{second.json()['id']}", headers=staff)).json()
    assert intake["client"]["familyName"] == normalise_name(family_name)
    assert not any(c in intake["client"]["familyName"] for c in "\U000e0020\u3164\ufe0f\u2800\u00ad")
    assert first.json()["id"] in intake["possibleDuplicates"]


async def test_the_migration_recomputes_keys_written_before(client, database_url: str) -> None:
    """0011: a key of the old form (lower case, tag characters kept) becomes today's key."""
    referrer = await auth_for(client, "referrer")
    made = await client.post("/api/v1/referrals", json=referral(), headers=referrer)
    assert made.status_code == 201, made.text
    conn = await asyncpg.connect(database_url)
    try:
        await conn.execute("UPDATE intakes SET family_name_key = $1", "\uff4aan\U000e0041sen")
        await asyncio.to_thread(command.downgrade, alembic_config(database_url), "0010_keyed_access_log")
        await asyncio.to_thread(command.upgrade, alembic_config(database_url), "head")
        assert await conn.fetchval("SELECT family_name_key FROM intakes") == match_key("Jansen") == "jansen"
    finally:
        await conn.close()


async def test_the_partners_name_is_normalised_too(client) -> None:
    """Red-team finding: the partner's names (shown to staff next to hers) skipped the
    normalisation, so a bidi override or an invisible character was stored as sent."""
    staff, referrer = await auth_for(client, "staff"), await auth_for(client, "referrer")
    partner = {"givenName": "You\u202essef\u200b", "familyName": "\u2067Bak\U000e0041kali", "involved": True}
    made = await client.post("/api/v1/referrals", json=referral(partner=partner), headers=referrer)
    assert made.status_code == 201, made.text
    stored = (await client.get(f"/api/v1/intakes/{made.json()['id']}", headers=staff)).json()["partner"]
    assert (stored["givenName"], stored["familyName"]) == ("Youssef", "Bakkali")
    invisible = await client.post(
        "/api/v1/referrals", json=referral(partner={**partner, "givenName": "\u200b\u202e"}), headers=referrer
    )
    assert invisible.status_code == 400, invisible.text
    assert [p["name"] for p in invisible.json()["invalidParams"]] == ["partner.givenName"]


@pytest.mark.parametrize(
    ("raw", "why"),
    [
        ("\u0301", "letter"),  # only a combining mark: renders as nothing or a lone accent
        ("\u0301\u0308\u0327", "letter"),
        ("-'.", "letter"),
        ("Z\u0301\u0308\u0327\u0303\u0306a", "accents"),  # Zalgo: marks piled on one letter
    ],
)
def test_a_name_needs_a_letter_and_no_pile_of_accents(raw: str, why: str) -> None:
    """Attacker review: a name of only combining marks passed as 'visible'."""
    with pytest.raises(ValueError, match=why):
        checked_name(raw)


@pytest.mark.parametrize("name", ["Nguyễn", "Ða\u0323\u0302ng", "O'Brien", "Zoë", "Jean-Luc", "X Æ"])
def test_real_names_with_accents_pass(name: str) -> None:
    assert checked_name(name)
