"""Names as stored and matched, pure: one Unicode form, no invisible characters.

"Jansen", "Jan\u200bsen" and "Jansen" with a right-to-left override look alike on a worklist
but are different strings: without this, an invisible character defeats duplicate matching
and bidi controls can make a name display as something else (Trojan Source)."""

from __future__ import annotations

import re
import unicodedata

# Zero-width and other invisible format characters, and every bidirectional control.
INVISIBLE = frozenset(
    "\u200b"  # zero width space
    "\u200c"  # zero width non-joiner
    "\u200d"  # zero width joiner
    "\u2060"  # word joiner
    "\ufeff"  # zero width no-break space (BOM)
    "\u180e"  # mongolian vowel separator
    "\u00ad"  # soft hyphen
    "\u034f"  # combining grapheme joiner
    "\u2061\u2062\u2063\u2064"  # invisible function application, times, separator, plus
    "\u200e\u200f\u061c"  # LRM, RLM, ALM
    "\u202a\u202b\u202c\u202d\u202e"  # LRE, RLE, PDF, LRO, RLO
    "\u2066\u2067\u2068\u2069"  # LRI, RLI, FSI, PDI
)
_REMOVE = {ord(c): None for c in INVISIBLE}
_SPACES = re.compile(r"\s+")


def normalise_name(value: str) -> str:
    """NFC, invisible and bidi control characters removed, runs of white space one space,
    trimmed. Applied before a name is stored, so what is shown is what is matched."""
    cleaned = unicodedata.normalize("NFC", value).translate(_REMOVE)
    return _SPACES.sub(" ", unicodedata.normalize("NFC", cleaned)).strip()


def match_key(value: str) -> str:
    """The key duplicate matching compares: the normalised name in lower case."""
    return normalise_name(value).lower()


def checked_name(value: str) -> str:
    """A pydantic validator: the normalised name, refused when nothing visible is left."""
    normal = normalise_name(value)
    if not normal:
        raise ValueError("A name with at least one visible character.")
    return normal
