"""Names as stored and matched, pure: one Unicode form, no invisible characters.

"Jansen", "Jan\u200bsen" and "Jansen" with a right-to-left override look alike on a worklist
but are different strings: without this, an invisible character defeats duplicate matching
and bidi controls can make a name display as something else (Trojan Source).

What is removed is decided by Unicode properties rather than a hand list of examples: every
format (Cf), control (Cc) and surrogate (Cs) character, every Default_Ignorable_Code_Point
(which also covers invisible letters such as the Hangul fillers and the variation selectors),
and the braille blank. Every kind of white space becomes one ordinary space."""

from __future__ import annotations

import re
import unicodedata

# Default_Ignorable_Code_Point (Unicode DerivedCoreProperties.txt, 15.1), as ranges; most are
# also Cf, but not the invisible letters and marks (Lo, Mn) nor the unassigned (Cn) ones,
# which unicodedata cannot tell apart from other letters and marks.
DEFAULT_IGNORABLE: tuple[tuple[int, int], ...] = (
    (0x00AD, 0x00AD),  # soft hyphen
    (0x034F, 0x034F),  # combining grapheme joiner
    (0x061C, 0x061C),  # Arabic letter mark
    (0x115F, 0x1160),  # Hangul choseong and jungseong fillers
    (0x17B4, 0x17B5),  # Khmer inherent vowels
    (0x180B, 0x180F),  # Mongolian free variation selectors, vowel separator
    (0x200B, 0x200F),  # zero width space, (non-)joiner, LRM, RLM
    (0x202A, 0x202E),  # bidi embeddings and overrides
    (0x2060, 0x206F),  # word joiner, invisible operators, bidi isolates, deprecated formats
    (0x3164, 0x3164),  # Hangul filler
    (0xFE00, 0xFE0F),  # variation selectors
    (0xFEFF, 0xFEFF),  # zero width no-break space (BOM)
    (0xFFA0, 0xFFA0),  # halfwidth Hangul filler
    (0xFFF0, 0xFFF8),  # unassigned specials
    (0x1BCA0, 0x1BCA3),  # shorthand format controls
    (0x1D173, 0x1D17A),  # musical symbol format controls
    (0xE0000, 0xE0FFF),  # tag characters, variation selectors supplement, reserved
)
# Invisible, but neither a format character nor default-ignorable.
EXTRA_INVISIBLE = frozenset({0x2800})  # braille pattern blank
REMOVED_CATEGORIES = frozenset({"Cf", "Cc", "Cs"})
SPACE_CATEGORIES = frozenset({"Zs", "Zl", "Zp"})  # no-break, en/em/thin, ideographic... spaces


def is_default_ignorable(code_point: int) -> bool:
    return any(low <= code_point <= high for low, high in DEFAULT_IGNORABLE)


def is_space(char: str) -> bool:
    """White space of any kind (tab and new line included): shown as a gap, stored as ' '."""
    return char.isspace() or unicodedata.category(char) in SPACE_CATEGORIES


def is_invisible(char: str) -> bool:
    """A character that shows nothing (or changes how others show) and is removed."""
    code_point = ord(char)
    return (
        unicodedata.category(char) in REMOVED_CATEGORIES
        or is_default_ignorable(code_point)
        or code_point in EXTRA_INVISIBLE
    )


def _cleaned(char: str) -> str:
    # Space first: tab, new line and the like are controls (Cc) too, but they separate words.
    if is_space(char):
        return " "
    return "" if is_invisible(char) else char


_SPACES = re.compile(r" {2,}")


def _tidy(value: str) -> str:
    return _SPACES.sub(" ", value).strip()


def normalise_name(value: str) -> str:
    """Invisible characters removed, every kind of white space one space, runs collapsed,
    trimmed, then NFC (after the removal, so "e", ZWSP, combining acute becomes "é").
    Applied before a name is stored, so what is shown is what is matched."""
    cleaned = "".join(_cleaned(char) for char in value)
    return _tidy(unicodedata.normalize("NFC", cleaned))


def match_key(value: str) -> str:
    """The key duplicate matching compares (`Intake.family_name_key`): the normalised name
    in NFKC, case-folded, so full-width, ligature and compatibility forms ("Ｊａｎｓｅｎ",
    "ﬀ") and case ("ß"/"SS") do not make the same woman look like another."""
    folded = unicodedata.normalize("NFKC", normalise_name(value)).casefold()
    # NFKC again: case folding can leave a string that is not normalised; compatibility
    # forms can also decompose to a space or an ignorable character, so clean once more.
    return normalise_name(unicodedata.normalize("NFKC", folded))


# More combining marks on one letter than any written language uses ("Zalgo" text).
MAX_MARKS_PER_LETTER = 3


def checked_name(value: str) -> str:
    """A pydantic validator: the normalised name, refused when nothing visible is left, when it
    has no letter or digit (only marks or punctuation), or when marks pile up on one letter."""
    normal = normalise_name(value)
    if not normal:
        raise ValueError("A name with at least one visible character.")
    if not any(unicodedata.category(char)[0] in "LN" for char in normal):
        raise ValueError("A name with at least one letter.")
    marks = 0
    for char in unicodedata.normalize("NFD", normal):
        marks = marks + 1 if unicodedata.category(char).startswith("M") else 0
        if marks > MAX_MARKS_PER_LETTER:
            raise ValueError(f"At most {MAX_MARKS_PER_LETTER} accents on one letter.")
    return normal
