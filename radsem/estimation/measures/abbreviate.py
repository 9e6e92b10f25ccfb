"""R's ``abbreviate()`` (``use.classes = TRUE``), as lavaan uses it to print names and labels.

lavaan's ``print`` of parameter tables fits a name and its label into 14 characters:
labels are abbreviated to 4 characters (``.p25.`` prints as ``.25.``) and names to the room
left (strictly). The steps follow R's ``stripchars``: trailing lower-case vowels of a word,
then lower-case vowels not starting a word, then trailing lower-case letters, then
lower-case letters not starting a word, then any character not starting a word, each pass
from the right until the string is short enough.
"""

from __future__ import annotations

__all__ = ["abbreviate"]

_VOWELS = set("aeiou")


def _first(s: str, i: int) -> bool:
    return i == 0 or s[i - 1].isspace()


def _last(s: str, i: int) -> bool:
    return not s[i - 1].isspace() and (i + 1 == len(s) or s[i + 1].isspace())


def abbreviate(text: str, minlength: int, strict: bool = False) -> str:
    """``abbreviate(text, minlength, strict = strict)`` of R for one string."""
    s = text.strip()
    if len(s) <= minlength:
        return s
    passes = (
        lambda c, i, t: c in _VOWELS and _last(t, i),
        lambda c, i, t: c in _VOWELS and not _first(t, i),
        lambda c, i, t: c.islower() and _last(t, i),
        lambda c, i, t: c.islower() and not _first(t, i),
        lambda c, i, t: not _first(t, i) and not c.isspace(),
    )
    nspace = sum(c.isspace() for c in s)
    for drop in passes:
        i = len(s) - 1
        while i > 0:
            if i < len(s) and drop(s[i], i, s):
                s = s[:i] + s[i + 1 :]
            if len(s) - nspace <= minlength:
                return _finish(s, minlength, strict)
            i -= 1
    return _finish(s, minlength, strict)


def _finish(s: str, minlength: int, strict: bool) -> str:
    s = "".join(s.split())
    return s[:minlength] if strict else s
