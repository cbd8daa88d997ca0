"""Names the user typed against the names the input defines: "did you mean", and letters that only
look like the ones meant (a Cyrillic 'а' in 'Lynаs', a full-width letter, an invisible character).

Owns the matching of names for messages; it never changes a name.
"""

from __future__ import annotations

import difflib
import unicodedata
from collections.abc import Iterable

#: Letters of other scripts that are drawn like a Latin letter (the common cases of Unicode's confusables).
_LOOKALIKES = {
    **dict(zip("аеорсухіјѕԁԛԝһӏ", "aeopcyxijsdqwhl")),            # Cyrillic small
    **dict(zip("АВЕКМНОРСТХІЈЅҮ", "ABEKMHOPCTXIJSY")),             # Cyrillic capital
    **dict(zip("ονρκιτυχ", "ovpkitux")),                          # Greek small
    **dict(zip("ΑΒΕΖΗΙΚΜΝΟΡΤΥΧ", "ABEZHIKMNOPTYX")),               # Greek capital
    "ı": "i", "ℓ": "l", "–": "-", "—": "-", "‐": "-", "‑": "-", "−": "-", "’": "'", "‘": "'",
}


def _is_invisible(character: str) -> bool:
    return unicodedata.category(character) == "Cf" or character in "\u00a0\u2007\u202f\u3000"


def skeleton(text: str) -> str:
    """What a name looks like on screen: look-alike letters and full-width forms as the plain letter,
    invisible characters dropped, no-break spaces as spaces, letter case folded."""
    out = []
    for character in str(text):
        if _is_invisible(character):
            if character in "\u00a0\u2007\u202f\u3000":
                out.append(" ")
            continue
        folded = unicodedata.normalize("NFKC", character)
        out.append("".join(_LOOKALIKES.get(c, c) for c in folded))
    return "".join(out).casefold()


def lookalikes(text: str) -> list[str]:
    """Phrases naming each character of text that looks like a plain one but is not, e.g.
    "a Cyrillic 'а' that looks like a Latin 'a'"; empty when every character is what it seems."""
    found: dict[str, str] = {}
    for character in str(text):
        if character.isascii() or character in found:
            continue
        if _is_invisible(character):
            found[character] = f"an invisible character (U+{ord(character):04X} {unicodedata.name(character, '')})".replace(" )", ")")
            continue
        plain = "".join(_LOOKALIKES.get(c, c) for c in unicodedata.normalize("NFKC", character))
        if plain != character and plain.isascii():
            script = unicodedata.name(character, "").split(" ")[0].title() or "non-Latin"
            if script in ("Fullwidth", "Halfwidth"):
                found[character] = f"a full-width '{character}' that looks like '{plain}'"
            elif script == "Latin":
                found[character] = f"'{character}' that looks like '{plain}'"
            else:
                found[character] = f"a {script} '{character}' that looks like a Latin '{plain}'"
    return list(found.values())


def mixes_lookalikes(text: str) -> bool:
    """A name written in Latin letters that also holds a look-alike or invisible character: a typo the eye
    cannot see (a name wholly in another script is not flagged)."""
    text = str(text)
    has_latin = any(c.isascii() and c.isalpha() for c in text)
    return bool(lookalikes(text)) and (has_latin or any(_is_invisible(c) for c in text))


def suggestion(value: str, names: Iterable[str], spelling: bool = True) -> str:
    """' (did you mean 'X'?)', saying why when X only looks alike; '' when nothing is close.

    spelling: also suggest a name spelt nearly alike (difflib); off for labels such as periods, where
    '2029Q1' is not a misspelling of '2028Q1'."""
    names = sorted(set(names))
    if not names:
        return ""
    value = str(value)
    same = [n for n in names if skeleton(n) == skeleton(value)]
    if same:
        signs = lookalikes(value)
        why = f" {describe_text(value)} has " + " and ".join(signs) if signs else ""
        return f" (did you mean '{same[0]}'?{why})"
    if not spelling:
        return ""
    by_skeleton = {skeleton(n): n for n in names}
    close = difflib.get_close_matches(skeleton(value), list(by_skeleton), n=1, cutoff=0.75)
    if close:
        return f" (did you mean '{by_skeleton[close[0]]}'?)"
    return ""


def describe_text(text: str, limit: int = 60) -> str:
    """A text quoted for a message, cut to `limit` characters."""
    text = str(text)
    if len(text) > limit:
        text = text[: limit - 1] + "…"
    return repr(text)
