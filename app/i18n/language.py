"""Which of our languages a caller prefers: RFC 9110 Accept-Language with q-values."""

from __future__ import annotations

from enum import StrEnum


class Lang(StrEnum):
    NL = "nl"
    EN = "en"


def _quality(params: list[str]) -> float:
    for param in params:
        key, _, value = param.strip().partition("=")
        if key.strip().lower() == "q":
            try:
                q = float(value.strip())
            except ValueError:
                return 0.0
            return q if 0.0 <= q <= 1.0 else 0.0
    return 1.0


def preferred(header: str | None, default: Lang = Lang.EN) -> Lang:
    """The supported language with the highest q (the earlier listed wins a tie). A language
    tag matches on its primary subtag (`nl-BE` is `nl`); `*` gives its q to every language
    not named; `q=0` means "not this one". Nothing acceptable, or no header: the default."""
    if not header:
        return default
    named: dict[Lang, tuple[float, int]] = {}
    star: tuple[float, int] | None = None
    for position, item in enumerate(header[:1000].split(",")):
        tag, *params = item.strip().split(";")
        primary = tag.strip().lower().split("-")[0]
        q = _quality(params)
        if primary == "*":
            star = star or (q, position)
            continue
        for lang in Lang:
            if lang.value == primary and (lang not in named or q > named[lang][0]):
                named[lang] = (q, position)
    ranked: list[tuple[float, int, int, Lang]] = []
    for lang in Lang:
        q, position = named.get(lang) or star or (0.0, 0)
        if q > 0:
            # Higher q, then earlier in the header, then the default before the others.
            ranked.append((-q, position, 0 if lang == default else 1, lang))
    return min(ranked)[3] if ranked else default
